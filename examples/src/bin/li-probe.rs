//! li-probe (work in progress).

fn main() {}
