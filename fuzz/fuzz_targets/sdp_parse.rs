//! Any SDP body: the parser never panics and its resolved streams are consistent.
#![no_main]

use li_capture::sip::Sdp;
use li_capture::sip::sdp::MAX_MEDIA;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = Sdp::parse(data) else {
        return;
    };
    let _ = (
        sdp.origin(),
        sdp.connection(),
        sdp.session_attributes().count(),
    );
    assert!(sdp.media().len() <= MAX_MEDIA);
    for m in sdp.media() {
        let _ = (m.rtpmaps().count(), m.attributes().count());
    }
    for s in sdp.streams() {
        assert_eq!(s.rtp.is_none(), s.rtcp.is_none());
        assert!(s.rtp.is_none() || s.enabled());
    }
});
