//! Integration tests of the li-asn1 codecs, built as one binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod fuzz_corpus;
mod hostile;
mod roundtrip;
mod samples;
mod strategies;
