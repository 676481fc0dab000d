//! li-admf (work in progress).

fn main() {}
