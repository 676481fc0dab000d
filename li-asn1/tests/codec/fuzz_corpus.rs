//! Replays the committed cargo-fuzz corpus (`fuzz/corpus/`) with the same properties the
//! fuzz targets check, so every `cargo test` covers what fuzzing found.

use std::path::PathBuf;

use li_asn1::PsPdu;
use li_asn1::ber::frame_len;

fn corpus(target: &str) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).ok()?;
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    files.sort();
    Some(files)
}

#[test]
fn ps_pdu_decode_corpus() {
    let Some(files) = corpus("ps_pdu_decode") else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    assert!(files.len() >= 10, "the committed corpus has gone missing");
    for (path, data) in files {
        let mut rest = &data[..];
        while !rest.is_empty() {
            match frame_len(rest, 1 << 16) {
                Ok(Some(n)) => {
                    if let Err(e) = PsPdu::decode(&rest[..n]) {
                        assert!(e.offset() <= n, "{}: {e}", path.display());
                    }
                    rest = &rest[n..];
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
}

#[test]
fn ps_pdu_roundtrip_corpus() {
    let Some(files) = corpus("ps_pdu_roundtrip") else {
        return;
    };
    assert!(files.len() >= 10, "the committed corpus has gone missing");
    let mut decoded = 0;
    for (path, data) in files {
        if let Ok(pdu) = PsPdu::decode(&data) {
            decoded += 1;
            let octets = pdu.encode();
            let again =
                PsPdu::decode(&octets).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(again, pdu, "{}", path.display());
            assert_eq!(again.encode(), octets, "{}", path.display());
        }
    }
    assert!(decoded >= 5, "the seed PDUs no longer decode");
}
