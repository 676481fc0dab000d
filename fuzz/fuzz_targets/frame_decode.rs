//! Any frame, any link type and decoder configuration: decoding never panics, the IP packet
//! found lies inside the frame, and the tunnel depth stays within the limit.
#![no_main]

use li_capture::LinkType;
use li_capture::decode::{DecodeConfig, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let links = [
        LinkType::Ethernet,
        LinkType::RawIp,
        LinkType::LinuxSll,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll2,
    ];
    let link = links[usize::from(sel % 6)];
    let config = DecodeConfig {
        decapsulate_gre: sel & 8 == 0,
        decapsulate_vxlan: sel & 16 == 0,
        max_encapsulation_depth: sel >> 5,
        ..DecodeConfig::default()
    };
    match decode(link, frame, &config) {
        Ok(Some(p)) => {
            let (f, ip) = (frame.as_ptr_range(), p.ip.as_ptr_range());
            assert!(f.start <= ip.start && ip.end <= f.end);
            assert!(p.encapsulation_depth <= config.max_encapsulation_depth);
        }
        Ok(None) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
