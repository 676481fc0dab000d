//! Replays the committed cargo-fuzz corpus of `x2x3_decode` (`fuzz/corpus/`) with the
//! property the target checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;

use li_handover::x2x3::{Pdu, frame_len};

#[test]
fn x2x3_decode_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/x2x3_decode");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    let mut decoded = 0;
    let mut files = 0;
    for entry in entries {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        let mut rest = &data[..];
        while let Ok(Some(n)) = frame_len(rest, 1 << 16) {
            let frame = &rest[..n];
            if let Ok((pdu, used)) = Pdu::decode(frame) {
                decoded += 1;
                assert_eq!(used, n);
                let mut again = Vec::new();
                pdu.encode_into(&mut again).unwrap();
                assert_eq!(again, frame);
            }
            rest = &rest[n..];
        }
    }
    assert!(files >= 3, "the committed corpus has gone missing");
    assert!(decoded >= 3, "the seed PDUs no longer decode");
}
