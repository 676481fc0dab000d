//! admf (work in progress).
