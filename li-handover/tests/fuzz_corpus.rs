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

/// Replays `fuzz/corpus/x1_decode` with the property of the `x1_decode` target: decoding never
/// panics, and what decodes re-encodes to a document decoding to the same value.
#[test]
fn x1_decode_corpus() {
    use li_handover::x1::{X1Request, X1Response};

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/x1_decode");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    let (mut files, mut requests, mut responses) = (0, 0, 0);
    for entry in entries {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        if let Ok(request) = X1Request::from_xml(&data) {
            requests += 1;
            let xml = request.to_xml().unwrap();
            assert_eq!(X1Request::from_xml(&xml).unwrap(), request);
        }
        if let Ok(response) = X1Response::from_xml(&data) {
            responses += 1;
            let xml = response.to_xml().unwrap();
            assert_eq!(X1Response::from_xml(&xml).unwrap(), response);
        }
    }
    assert!(files >= 9, "the committed corpus has gone missing");
    assert!(requests >= 5, "the seed requests no longer decode");
    assert!(responses >= 4, "the seed responses no longer decode");
}
