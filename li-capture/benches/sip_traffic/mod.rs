//! SIP traffic the benches share: about 900-octet INVITEs between subscribers, 1 in 64
//! concerning one of 1,000 targets (990 SIP URIs, 10 E.164 numbers), and whole calls
//! of the same shape.

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

/// The seven messages of a whole call as a proxy sees them, the `i`-th of `round` (its own
/// Call-ID): the INVITE as [`invite`] (to a target when `i` is a multiple of 64), 100
/// Trying, 180 Ringing, 200 OK with the SDP answer, ACK, BYE, 200 OK.
#[allow(dead_code)] // not every bench including this module uses it
pub(crate) fn call(i: usize, round: usize) -> Vec<Vec<u8>> {
    let mut invite = String::from_utf8(invite(i)).unwrap();
    let call_id = format!("{i:x}a84b4c76e66710@198.51.100.{}", i % 250 + 1);
    let new_id = format!("r{round}-{call_id}");
    invite = invite.replace(&call_id, &new_id);
    let head = |line: &str| {
        invite
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap()
            .to_owned()
    };
    let (vias, from, to) = (
        format!(
            "{}\r\n{}",
            head("Via: SIP/2.0/UDP proxy1"),
            head("Via: SIP/2.0/UDP 198")
        ),
        head("From:"),
        head("To:"),
    );
    let callee = to
        .trim_start_matches("To: <sip:")
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    let to_tagged = format!("{to};tag={i:x}314159");
    let h = i % 250 + 1;
    let contact = format!("Contact: <sip:{callee}@203.0.113.{h}:5060>");
    let answer = format!(
        "v=0\r\n\
         o={callee} 4858949 4858950 IN IP4 203.0.113.{h}\r\n\
         s=-\r\n\
         c=IN IP4 203.0.113.{h}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=sendrecv\r\n\
         m=video 0 RTP/AVP 96\r\n",
        port = 50_000 + 2 * (i % 7_000),
    );
    let response = |status: &str, to: &str, cseq: &str, extra: &str, body: &str| {
        let ctype = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "SIP/2.0 {status}\r\n{vias}\r\n{from}\r\n{to}\r\nCall-ID: {new_id}\r\n\
             CSeq: {cseq}\r\n{extra}{ctype}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let request = |method: &str, cseq: &str| {
        format!(
            "{method} sip:{callee}@203.0.113.{h}:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK{round}{i:08x}{method}\r\n\
             Max-Forwards: 70\r\n{from}\r\n{to_tagged}\r\nCall-ID: {new_id}\r\n\
             CSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    vec![
        invite.into_bytes(),
        response("100 Trying", &to, "1 INVITE", "", ""),
        response(
            "180 Ringing",
            &to_tagged,
            "1 INVITE",
            &format!("{contact}\r\n"),
            "",
        ),
        response(
            "200 OK",
            &to_tagged,
            "1 INVITE",
            &format!("{contact}\r\n"),
            &answer,
        ),
        request("ACK", "1 ACK"),
        request("BYE", "2 BYE"),
        response("200 OK", &to_tagged, "2 BYE", "", ""),
    ]
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
