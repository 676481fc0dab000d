//! Any input: decoding a PS-PDU stream and framing it never panics, and every error names an
//! offset inside the input.
#![no_main]

use li_asn1::PsPdu;
use li_asn1::ber::frame_len;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while !rest.is_empty() {
        match frame_len(rest, 1 << 16) {
            Ok(Some(n)) => {
                if let Err(e) = PsPdu::decode(&rest[..n]) {
                    assert!(e.offset() <= n, "{e}");
                }
                rest = &rest[n..];
            }
            Ok(None) | Err(_) => break,
        }
    }
});
