//! probe (work in progress).
