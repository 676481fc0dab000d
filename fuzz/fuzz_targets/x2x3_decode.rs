//! Any stream: X2/X3 framing and decoding never panic, and whatever decodes re-encodes to the
//! very octets it came from (unknown codes and attributes included).
#![no_main]

use li_handover::x2x3::{Pdu, frame_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some(n)) = frame_len(rest, 1 << 16) {
        let Some(frame) = rest.get(..n) else { break };
        if let Ok((pdu, used)) = Pdu::decode(frame) {
            assert_eq!(used, n);
            let mut again = Vec::new();
            pdu.encode_into(&mut again)
                .expect("a decoded PDU re-encodes");
            assert_eq!(again, frame);
        }
        rest = &rest[n..];
    }
});
