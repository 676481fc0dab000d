//! Replays the committed cargo-fuzz corpora of `atis_ias_decode` and `atis_laes_decode`
//! (`fuzz/corpus/`) with the property each fuzz target checks.

use std::path::{Path, PathBuf};

use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::IasCcApdu;
use li_asn1::atis::ias_opt::IasOptionalProtocol;
use li_asn1::atis::laes::LaesProtocol;

/// Runs `check` (which returns how many decoders accepted the input) on every file of the
/// target's corpus; requires at least `min` files and `min` accepted decodings.
fn replay(target: &str, min: usize, check: impl Fn(&Path, &[u8]) -> usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no fuzz/ directory beside the crate (published package): nothing to replay");
        return;
    };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= min, "the committed corpus has gone missing");
    let decoded: usize = files
        .iter()
        .map(|path| check(path, &std::fs::read(path).unwrap()))
        .sum();
    assert!(decoded >= min, "the seed messages no longer decode");
}

/// Decodes with `decode`; if that succeeds, the re-encoding decodes to the same value and is
/// a fixed point. Returns 1 when `data` decoded.
fn fixed_point<T: PartialEq + std::fmt::Debug>(
    path: &Path,
    data: &[u8],
    decode: impl Fn(&[u8]) -> li_asn1::Result<T>,
    encode: impl Fn(&T) -> Vec<u8>,
) -> usize {
    let Ok(value) = decode(data) else { return 0 };
    let octets = encode(&value);
    let again = decode(&octets).unwrap();
    assert_eq!(again, value, "{}", path.display());
    assert_eq!(encode(&again), octets, "{}", path.display());
    1
}

#[test]
fn atis_ias_decode_corpus() {
    replay("atis_ias_decode", 5, |path, data| {
        fixed_point(path, data, IasProtocol::decode, IasProtocol::encode)
            + fixed_point(
                path,
                data,
                IasOptionalProtocol::decode,
                IasOptionalProtocol::encode,
            )
            + fixed_point(path, data, IasCcApdu::decode, IasCcApdu::encode)
    });
}

/// ATIS-1000678 LAESProtocol and CC-APDU (the IAS-CC-APDU model).
#[test]
fn atis_laes_decode_corpus() {
    replay("atis_laes_decode", 24, |path, data| {
        fixed_point(path, data, LaesProtocol::decode, LaesProtocol::encode)
            + fixed_point(path, data, IasCcApdu::decode, IasCcApdu::encode)
    });
}
