//! The unit tests of the `chain` benchmark (`benches/chain`): cargo runs no `#[test]` of a
//! `harness = false` bench target, so its modules are compiled here too, and their tests
//! run with `cargo test --workspace`.

#[allow(dead_code)]
#[path = "../benches/chain/main.rs"]
mod chain;
