//! Any UDP payload: the RADIUS and DHCPv4 parsers never panic, and what they accept is
//! consistent with the input.
#![no_main]

use li_capture::aaa::radius::RadiusPacket;
use li_capture::aaa::{parse_accounting, parse_dhcpv4};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(r)) = parse_accounting(data) {
        assert!((20..=4096).contains(&r.raw_len) && r.raw_len <= data.len());
    }
    if let Ok(p) = RadiusPacket::parse(data) {
        assert_eq!(p.as_bytes().len(), p.len());
        for a in p.attributes() {
            if a.is_err() {
                break;
            }
        }
    }
    if let Ok(m) = parse_dhcpv4(data) {
        assert!(
            data.len() >= 240,
            "a message shorter than header and cookie was accepted"
        );
        let _ = m.bound_address();
    }
});
