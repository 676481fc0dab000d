//! ATIS-1000013 decoders (CmII, optional CmII, IAS-CC-APDU) on arbitrary input: no panic,
//! and whatever decodes re-encodes to something that decodes to the same value, whose
//! encoding is a fixed point.
#![no_main]

use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::IasCcApdu;
use li_asn1::atis::ias_opt::IasOptionalProtocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = IasProtocol::decode(data) {
        let octets = p.encode();
        let again = IasProtocol::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, p);
        assert_eq!(again.encode(), octets);
    }
    if let Ok(p) = IasOptionalProtocol::decode(data) {
        let octets = p.encode();
        let again = IasOptionalProtocol::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, p);
        assert_eq!(again.encode(), octets);
    }
    if let Ok(a) = IasCcApdu::decode(data) {
        let octets = a.encode();
        let again = IasCcApdu::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, a);
        assert_eq!(again.encode(), octets);
    }
});
