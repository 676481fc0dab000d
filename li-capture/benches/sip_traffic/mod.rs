//! SIP traffic the benches share: about 900-octet INVITEs between subscribers, 1 in 64
//! concerning one of 1,000 targets (990 SIP URIs, 10 E.164 numbers).

use li_capture::sip::SipTargets;

/// INVITEs in a batch.
pub(crate) const MESSAGES: usize = 1024;
/// Targets in the set.
pub(crate) const TARGETS: usize = 1000;

/// The `i`-th INVITE: between two subscribers, to a target when `i` is a multiple of 64;
/// two Vias, P-Asserted-Identity, Allow, Supported and an SDP body with audio and video.
pub(crate) fn invite(i: usize) -> Vec<u8> {
    let caller = format!("user{:05}", i * 7 % 50_000);
    let callee = if i.is_multiple_of(64) {
        format!("target{:04}", i % TARGETS)
    } else {
        format!("user{:05}", (i * 13 + 1) % 50_000)
    };
    let sdp = format!(
        "v=0\r\n\
         o={caller} 2890844526 2890844527 IN IP4 198.51.100.{h}\r\n\
         s=-\r\n\
         c=IN IP4 198.51.100.{h}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=sendrecv\r\n\
         m=video {vport} RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\n",
        h = i % 250 + 1,
        port = 10_000 + 2 * (i % 20_000),
        vport = 30_000 + 2 * (i % 10_000),
    );
    format!(
        "INVITE sip:{callee}@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK{i:08x}a\r\n\
         Via: SIP/2.0/UDP 198.51.100.{h}:5060;received=198.51.100.{h};branch=z9hG4bK{i:08x}b\r\n\
         Max-Forwards: 69\r\n\
         From: \"{caller}\" <sip:{caller}@example.com>;tag={i:x}1928301774\r\n\
         To: <sip:{callee}@example.com>\r\n\
         Call-ID: {i:x}a84b4c76e66710@198.51.100.{h}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:{caller}@198.51.100.{h}:5060>\r\n\
         P-Asserted-Identity: <sip:{caller}@example.com>\r\n\
         Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY\r\n\
         Supported: 100rel, timer, replaces\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        h = i % 250 + 1,
    )
    .into_bytes()
}

/// The 1,000 targets.
pub(crate) fn targets() -> SipTargets {
    let mut set = SipTargets::new();
    for i in 0..TARGETS - 10 {
        set.insert(format!("sip:target{i:04}@example.com").parse().unwrap())
            .unwrap();
    }
    for i in 0..10 {
        set.insert(format!("tel:+4930555{i:04}").parse().unwrap())
            .unwrap();
    }
    set
}
