//! ATIS-1000678 decoders (LAESProtocol, CC-APDU) on arbitrary input: no panic, and whatever
//! decodes re-encodes to something that decodes to the same value, whose encoding is a fixed
//! point.
#![no_main]

use li_asn1::atis::laes::LaesProtocol;
use li_asn1::atis::laes_cc::CcApdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = LaesProtocol::decode(data) {
        let octets = p.encode();
        let again = LaesProtocol::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, p);
        assert_eq!(again.encode(), octets);
    }
    if let Ok(a) = CcApdu::decode(data) {
        let octets = a.encode();
        let again = CcApdu::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, a);
        assert_eq!(again.encode(), octets);
    }
});
