//! Integration tests of li-capture, built as one binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    clippy::vec_init_then_push
)]

mod build;
mod call_corpus;
mod call_driver;
mod classify;
mod fuzz_corpus;
mod pipeline;
mod sip_corpus;
