//! Replays the committed cargo-fuzz corpus of `pcesp_decode` (`fuzz/corpus/`) with the
//! property the fuzz target checks.

use std::path::PathBuf;

use li_asn1::packetcable::CdcPdu;
use li_asn1::packetcable::ccc::{CccForm, decode};

#[test]
fn pcesp_decode_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/pcesp_decode");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 12, "the committed corpus has gone missing");
    let mut decoded = 0;
    for path in files {
        let data = std::fs::read(&path).unwrap();
        if let Ok(p) = CdcPdu::decode(&data) {
            decoded += 1;
            assert_eq!(
                CdcPdu::decode(&p.encode()).unwrap(),
                p,
                "{}",
                path.display()
            );
        }
        for form in [CccForm::Id, CccForm::IdTimestamp] {
            if let Ok(d) = decode(&data, form) {
                assert_eq!(d.payload.len() + form.header_len(), data.len());
            }
        }
    }
    assert!(decoded >= 12, "the seed messages no longer decode");
}
