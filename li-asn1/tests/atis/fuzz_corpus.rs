//! Replays the committed cargo-fuzz corpora of `atis_ias_decode` and `atis_laes_decode`
//! (`fuzz/corpus/`) with the property the fuzz target checks.

use std::path::PathBuf;

use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::IasCcApdu;
use li_asn1::atis::ias_opt::IasOptionalProtocol;

#[test]
fn atis_ias_decode_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/atis_ias_decode");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 5, "the committed corpus has gone missing");
    let mut decoded = 0;
    for path in files {
        let data = std::fs::read(&path).unwrap();
        if let Ok(p) = IasProtocol::decode(&data) {
            decoded += 1;
            assert_eq!(
                IasProtocol::decode(&p.encode()).unwrap(),
                p,
                "{}",
                path.display()
            );
        }
        if let Ok(p) = IasOptionalProtocol::decode(&data) {
            decoded += 1;
            assert_eq!(
                IasOptionalProtocol::decode(&p.encode()).unwrap(),
                p,
                "{}",
                path.display()
            );
        }
        if let Ok(a) = IasCcApdu::decode(&data) {
            decoded += 1;
            assert_eq!(
                IasCcApdu::decode(&a.encode()).unwrap(),
                a,
                "{}",
                path.display()
            );
        }
    }
    assert!(decoded >= 5, "the seed messages no longer decode");
}

/// The same for `atis_laes_decode` (ATIS-1000678 LAESProtocol and CC-APDU).
#[test]
fn atis_laes_decode_corpus() {
    use li_asn1::atis::laes::LaesProtocol;
    use li_asn1::atis::laes_cc::CcApdu;

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/atis_laes_decode");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 24, "the committed corpus has gone missing");
    let mut decoded = 0;
    for path in files {
        let data = std::fs::read(&path).unwrap();
        if let Ok(p) = LaesProtocol::decode(&data) {
            decoded += 1;
            let octets = p.encode();
            let again = LaesProtocol::decode(&octets).unwrap();
            assert_eq!(again, p, "{}", path.display());
            assert_eq!(again.encode(), octets, "{}", path.display());
        }
        if let Ok(a) = CcApdu::decode(&data) {
            decoded += 1;
            assert_eq!(
                CcApdu::decode(&a.encode()).unwrap(),
                a,
                "{}",
                path.display()
            );
        }
    }
    assert!(decoded >= 24, "the seed messages no longer decode");
}
