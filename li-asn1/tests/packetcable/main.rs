//! Tests of the PacketCable codecs (`li_asn1::packetcable`), built as one binary:
//! pycrate-made vectors, proptest round trips of every message kind, hostile input, the CCC
//! framing, the committed fuzz corpus.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod ccc;
mod fuzz_corpus;
mod hostile;
mod roundtrip;
mod strategies;
mod vectors;
