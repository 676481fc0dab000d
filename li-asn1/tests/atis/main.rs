//! Tests of the ATIS-1000013 and ATIS-1000678 codecs (`li_asn1::atis`), built as one binary: pycrate-made
//! vectors, proptest round trips of every message kind, hostile input.
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
mod laes_hostile;
mod laes_roundtrip;
mod laes_samples;
mod laes_strategies;
mod laes_vectors;
mod roundtrip;
mod strategies;
mod vectors;
