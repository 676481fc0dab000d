//! Whatever decodes re-encodes to something that decodes to the same value, and that second
//! encoding is a fixed point.
#![no_main]

use li_asn1::PsPdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pdu) = PsPdu::decode(data) {
        let octets = pdu.encode();
        let again = PsPdu::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, pdu);
        assert_eq!(again.encode(), octets);
    }
});
