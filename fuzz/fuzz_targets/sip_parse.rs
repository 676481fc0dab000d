//! Any datagram: the SIP parser never panics, what it accepts stays inside the input, and
//! every accessor, the SDP behind it and the target matcher can be run on it.
#![no_main]

use std::sync::OnceLock;

use li_capture::sip::{SipMessage, SipTargets, split_list};
use libfuzzer_sys::fuzz_target;

fn targets() -> &'static SipTargets {
    static TARGETS: OnceLock<SipTargets> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let mut set = SipTargets::new();
        for t in [
            "sip:alice@atlanta.example.com",
            "sips:bob@biloxi.example.com:5061",
            "tel:+4930123456",
            "username:alice@ims.example",
        ] {
            set.insert(t.parse().expect("a valid target"))
                .expect("a SIP target");
        }
        set
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = SipMessage::parse(data) else {
        return;
    };
    assert!(msg.len() <= data.len());
    assert_eq!(msg.body_offset() + msg.body().len(), msg.len());
    let _ = (
        msg.method(),
        msg.status(),
        msg.call_id(),
        msg.cseq(),
        msg.via_branch(),
    );
    let _ = (
        msg.from().map(|f| f.tag()),
        msg.to().map(|t| t.parsed_uri()),
    );
    let _ = (
        msg.vias().count(),
        msg.contacts().count(),
        msg.content_type(),
    );
    for h in msg.headers() {
        assert!(h.offset() < msg.body_offset().max(1));
        let _ = split_list(h.value()).count();
    }
    if let Some(Ok(sdp)) = msg.sdp() {
        assert!(sdp.streams().all(|s| s.rtp.is_none() == s.rtcp.is_none()));
    }
    let mut hits = Vec::new();
    targets().match_message(&msg, &mut hits);
    let identities = msg.identities().count();
    assert!(hits.len() <= identities * 4);
});
