//! Call tracker tests, on SIP texts built here.

use std::net::SocketAddr;
use std::time::Duration;

use li_core::{IriType, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::sip::{SipMessage, SipTargets};

const BOB: &str = "sip:bob@biloxi.example.com";
const ALICE: &str = "sip:alice@atlanta.example.com";
const CAROL: &str = "sip:carol@chicago.example.com";
const ALICE_SIP: &str = "192.0.2.101:5060";
const BOB_SIP: &str = "198.51.100.20:5060";
const ALICE_RTP: &str = "192.0.2.101:49170";
const ALICE_RTCP: &str = "192.0.2.101:49171";
const BOB_RTP: &str = "198.51.100.20:3456";
const BOB_RTCP: &str = "198.51.100.20:3457";
const STRANGER: &str = "203.0.113.99:40000";

fn t(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_700_000_000 + secs, 0).unwrap()
}

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An SDP body: origin user and sess-id, connection address, and `m=` lines given as
/// (media, port, extra attribute lines).
fn sdp(user: &str, sess: &str, ip: &str, streams: &[(&str, u16, &str)]) -> String {
    let mut s =
        format!("v=0\r\no={user} {sess} 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n");
    for (media, port, attrs) in streams {
        s.push_str(&format!("m={media} {port} RTP/AVP 0\r\n"));
        for attr in attrs.split('|').filter(|a| !a.is_empty()) {
            s.push_str(&format!("a={attr}\r\n"));
        }
    }
    s
}

fn alice_sdp() -> String {
    sdp(
        "alice",
        "2890844526",
        "192.0.2.101",
        &[("audio", 49170, "")],
    )
}

fn bob_sdp() -> String {
    sdp("bob", "2808844564", "198.51.100.20", &[("audio", 3456, "")])
}

/// One dialog's identifiers, to write its messages.
#[derive(Clone)]
struct Dlg {
    call_id: String,
    caller: String,
    callee: String,
    from_tag: String,
    to_tag: Option<String>,
}

impl Dlg {
    fn new(call_id: &str, caller: &str, callee: &str) -> Self {
        Self {
            call_id: call_id.into(),
            caller: caller.into(),
            callee: callee.into(),
            from_tag: "1928301774".into(),
            to_tag: None,
        }
    }

    fn tagged(&self, tag: &str) -> Self {
        Self {
            to_tag: Some(tag.into()),
            ..self.clone()
        }
    }

    fn to_header(&self, uri: &str, tag: Option<&str>) -> String {
        match tag {
            Some(tag) => format!("<{uri}>;tag={tag}"),
            None => format!("<{uri}>"),
        }
    }

    fn message(
        start: &str,
        from: &str,
        to: &str,
        call_id: &str,
        cseq: &str,
        body: Option<&str>,
    ) -> Vec<u8> {
        let mut m = format!(
            "{start}\r\nVia: SIP/2.0/UDP host.example.com;branch=z9hG4bK776\r\nFrom: {from}\r\n\
             To: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n"
        );
        match body {
            Some(b) => m.push_str(&format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )),
            None => m.push_str("Content-Length: 0\r\n\r\n"),
        }
        m.into_bytes()
    }

    /// A request from the caller.
    fn req(&self, method: &str, cseq: u32, body: Option<&str>) -> Vec<u8> {
        Self::message(
            &format!("{method} {} SIP/2.0", self.callee),
            &self.to_header(&self.caller, Some(&self.from_tag)),
            &self.to_header(&self.callee, self.to_tag.as_deref()),
            &self.call_id,
            &format!("{cseq} {method}"),
            body,
        )
    }

    /// A request from the callee (From and To swapped).
    fn req_from_callee(&self, method: &str, cseq: u32, body: Option<&str>) -> Vec<u8> {
        Self::message(
            &format!("{method} {} SIP/2.0", self.caller),
            &self.to_header(&self.callee, self.to_tag.as_deref()),
            &self.to_header(&self.caller, Some(&self.from_tag)),
            &self.call_id,
            &format!("{cseq} {method}"),
            body,
        )
    }

    /// A response from the callee to a request of the caller.
    fn resp(&self, status: u16, cseq: u32, method: &str, body: Option<&str>) -> Vec<u8> {
        Self::message(
            &format!("SIP/2.0 {status} Reason"),
            &self.to_header(&self.caller, Some(&self.from_tag)),
            &self.to_header(&self.callee, self.to_tag.as_deref()),
            &self.call_id,
            &format!("{cseq} {method}"),
            body,
        )
    }

    /// A response from the caller to a request of the callee.
    fn resp_from_caller(
        &self,
        status: u16,
        cseq: u32,
        method: &str,
        body: Option<&str>,
    ) -> Vec<u8> {
        Self::message(
            &format!("SIP/2.0 {status} Reason"),
            &self.to_header(&self.callee, self.to_tag.as_deref()),
            &self.to_header(&self.caller, Some(&self.from_tag)),
            &self.call_id,
            &format!("{cseq} {method}"),
            body,
        )
    }
}

struct Harness {
    tracker: CallTracker,
    targets: SipTargets,
}

impl Harness {
    fn new() -> Self {
        Self::with(CallConfig::default())
    }

    fn with(config: CallConfig) -> Self {
        let mut targets = SipTargets::new();
        targets.insert(BOB.parse().unwrap()).unwrap();
        Self {
            tracker: CallTracker::new(config),
            targets,
        }
    }

    fn sip(&mut self, bytes: &[u8], src: &str, now: Timestamp) -> Vec<CallEvent> {
        let msg = SipMessage::parse(bytes).unwrap();
        let mut matches = Vec::new();
        self.targets.match_message(&msg, &mut matches);
        let mut out = Vec::new();
        self.tracker.on_sip(&msg, a(src), now, &matches, &mut out);
        out
    }

    fn media(&mut self, src: &str, dst: &str, now: Timestamp) -> Option<MediaMatch> {
        self.tracker.on_media(a(src), a(dst), now)
    }

    fn timer(&mut self, now: Timestamp) -> Vec<CallEvent> {
        let mut out = Vec::new();
        self.tracker.on_timer(now, &mut out);
        out
    }

    /// Alice calls Bob (the target), Bob answers: the call's handle.
    fn established(&mut self, d: &Dlg) -> CallHandle {
        let ev = self.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0));
        let call = begun(&ev);
        let b = d.tagged("a6c85cf");
        self.sip(&b.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(1));
        self.sip(&b.req("ACK", 1, None), ALICE_SIP, t(1));
        call
    }
}

/// The call the first `Sip` event begins (events of an evicted call may come before).
fn begun(events: &[CallEvent]) -> CallHandle {
    match events.iter().find(|e| matches!(e, CallEvent::Sip { .. })) {
        Some(CallEvent::Sip {
            call,
            iri: IriType::Begin,
        }) => *call,
        other => panic!("expected IRI-Begin first, got {other:?} in {events:?}"),
    }
}

fn iri(events: &[CallEvent]) -> Option<IriType> {
    events.iter().find_map(|e| match e {
        CallEvent::Sip { iri, .. } => Some(*iri),
        _ => None,
    })
}

fn bound(events: &[CallEvent]) -> Vec<(SocketAddr, Party, MediaProtocol)> {
    let mut v: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            CallEvent::MediaBound { flow, .. } => Some((flow.addr, flow.party, flow.kind)),
            _ => None,
        })
        .collect();
    v.sort_by_key(|f| f.0);
    v
}

fn released(events: &[CallEvent]) -> Vec<SocketAddr> {
    let mut v: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            CallEvent::MediaReleased { flow, .. } => Some(flow.addr),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn end_reason(events: &[CallEvent]) -> Option<CallEndReason> {
    events.iter().find_map(|e| match e {
        CallEvent::End { reason, .. } => Some(*reason),
        _ => None,
    })
}

#[test]
fn a_call_from_invite_to_bye() {
    let mut h = Harness::new();
    let d = Dlg::new("a84b4c76e66710", ALICE, BOB);
    let ev = h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0));
    let call = begun(&ev);
    assert_eq!(
        bound(&ev),
        [
            (a(ALICE_RTP), Party::Caller, MediaProtocol::Rtp),
            (a(ALICE_RTCP), Party::Caller, MediaProtocol::Rtcp)
        ]
    );
    let info = h.tracker.call(call).unwrap();
    assert!(info.target_is_callee && !info.target_is_caller);
    assert!(!info.answered);

    let ev = h.sip(&d.resp(100, 1, "INVITE", None), BOB_SIP, t(0));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    let b = d.tagged("a6c85cf");
    let ev = h.sip(&b.resp(180, 1, "INVITE", None), BOB_SIP, t(1));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    let ev = h.sip(&b.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(2));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(
        bound(&ev),
        [
            (a(BOB_RTP), Party::Callee, MediaProtocol::Rtp),
            (a(BOB_RTCP), Party::Callee, MediaProtocol::Rtcp)
        ]
    );
    assert!(h.tracker.call(call).unwrap().answered);
    let ev = h.sip(&b.req("ACK", 1, None), ALICE_SIP, t(2));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );

    // Media both ways, RTP and RTCP, and who sent it.
    let m = h.media(ALICE_RTP, BOB_RTP, t(3)).unwrap();
    assert_eq!(
        (m.call, m.sender, m.kind, m.stream),
        (call, Party::Caller, MediaProtocol::Rtp, 0)
    );
    let m = h.media(BOB_RTP, ALICE_RTP, t(3)).unwrap();
    assert_eq!((m.call, m.sender), (call, Party::Callee));
    let m = h.media(BOB_RTCP, ALICE_RTCP, t(3)).unwrap();
    assert_eq!((m.sender, m.kind), (Party::Callee, MediaProtocol::Rtcp));
    // A packet with neither end bound is nobody's.
    assert_eq!(h.media(STRANGER, "192.0.2.101:49172", t(3)), None);
    assert_eq!(h.tracker.stats().bound_flows, 4);

    // BYE: media released at once; its 200 is the IRI-End.
    let ev = h.sip(&b.req("BYE", 2, None), ALICE_SIP, t(60));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(
        released(&ev),
        [a(ALICE_RTP), a(ALICE_RTCP), a(BOB_RTP), a(BOB_RTCP)]
    );
    assert_eq!(h.media(ALICE_RTP, BOB_RTP, t(60)), None);
    let ev = h.sip(&b.resp(200, 2, "BYE", None), BOB_SIP, t(60));
    assert_eq!(
        ev,
        [
            CallEvent::Sip {
                call,
                iri: IriType::End
            },
            CallEvent::End {
                call,
                reason: CallEndReason::Bye
            }
        ]
    );
    assert!(CallEndReason::Bye.with_message());
    assert_eq!(h.tracker.call(call), None);
    // A retransmitted 200 to the BYE is no new call: a target's message outside any call,
    // reported.
    assert_eq!(
        h.sip(&b.resp(200, 2, "BYE", None), BOB_SIP, t(61)),
        [CallEvent::Report {
            kind: ReportKind::Other,
            late_of: Some(call)
        }]
    );
    let s = h.tracker.stats();
    assert_eq!(
        (s.active_calls, s.bound_flows, s.calls_begun, s.calls_ended),
        (0, 0, 1, 1)
    );
    assert_eq!(s.late_messages, 1);
    // After the linger time the Call-ID is forgotten.
    assert!(h.timer(t(60 + 33)).is_empty());
    assert_eq!(h.tracker.call_by_id("a84b4c76e66710"), None);
    // A Report of no call now.
    assert_eq!(
        h.sip(&b.resp(200, 2, "BYE", None), BOB_SIP, t(100)),
        [CallEvent::Report {
            kind: ReportKind::Other,
            late_of: None
        }]
    );
}

#[test]
fn a_bye_from_the_callee_ends_the_call_too() {
    let mut h = Harness::new();
    let d = Dlg::new("callee-hangs-up", ALICE, BOB);
    let call = h.established(&d);
    let b = d.tagged("a6c85cf");
    let ev = h.sip(&b.req_from_callee("BYE", 7, None), BOB_SIP, t(30));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(released(&ev).len(), 4);
    let ev = h.sip(&b.resp_from_caller(200, 7, "BYE", None), ALICE_SIP, t(30));
    assert_eq!(end_reason(&ev), Some(CallEndReason::Bye));
    assert_eq!(iri(&ev), Some(IriType::End));
    assert_eq!(h.tracker.call(call), None);
}

#[test]
fn cancelled_and_busy_calls_end_with_their_final_response() {
    let mut h = Harness::new();
    let d = Dlg::new("cancelled", ALICE, BOB);
    let call = begun(&h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0)));
    let b = d.tagged("x1");
    h.sip(&b.resp(180, 1, "INVITE", None), BOB_SIP, t(1));
    let ev = h.sip(&d.req("CANCEL", 1, None), ALICE_SIP, t(5));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    let ev = h.sip(&d.resp(200, 1, "CANCEL", None), BOB_SIP, t(5));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    let ev = h.sip(&b.resp(487, 1, "INVITE", None), BOB_SIP, t(5));
    assert_eq!(iri(&ev), Some(IriType::End));
    assert_eq!(released(&ev), [a(ALICE_RTP), a(ALICE_RTCP)]);
    assert_eq!(end_reason(&ev), Some(CallEndReason::Cancelled));
    // The ACK to the 487 is a late message of the ended call: no new call, but still a
    // target's message, reported.
    assert_eq!(
        h.sip(&b.req("ACK", 1, None), ALICE_SIP, t(5)),
        [CallEvent::Report {
            kind: ReportKind::Other,
            late_of: Some(call)
        }]
    );

    let d = Dlg::new("busy", ALICE, BOB);
    let call = begun(&h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(10)));
    let ev = h.sip(&d.tagged("y").resp(486, 1, "INVITE", None), BOB_SIP, t(11));
    assert_eq!(
        ev.first(),
        Some(&CallEvent::Sip {
            call,
            iri: IriType::End
        })
    );
    assert_eq!(
        end_reason(&ev),
        Some(CallEndReason::Rejected { status: 486 })
    );
    assert_eq!(h.tracker.stats().bound_flows, 0);
}

#[test]
fn an_authentication_challenge_does_not_end_the_call() {
    let mut h = Harness::new();
    let d = Dlg::new("challenged", ALICE, BOB);
    let call = begun(&h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0)));
    let ev = h.sip(
        &d.tagged("p").resp(407, 1, "INVITE", None),
        "192.0.2.1:5060",
        t(0),
    );
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    // The INVITE again, with credentials and CSeq 2: the same call, no second Begin.
    let ev = h.sip(&d.req("INVITE", 2, Some(&alice_sdp())), ALICE_SIP, t(1));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    let ev = h.sip(
        &d.tagged("q").resp(200, 2, "INVITE", Some(&bob_sdp())),
        BOB_SIP,
        t(2),
    );
    assert_eq!(bound(&ev).len(), 2);
    assert_eq!(h.tracker.stats().calls_begun, 1);
}

#[test]
fn a_retransmitted_invite_is_the_same_call_with_its_media_bound() {
    let mut h = Harness::new();
    let d = Dlg::new("retrans", ALICE, BOB);
    let invite = d.req("INVITE", 1, Some(&alice_sdp()));
    let call = begun(&h.sip(&invite, ALICE_SIP, t(0)));
    // Retransmitted at T1, 2*T1: Continue, nothing bound twice.
    for _ in 0..2 {
        let ev = h.sip(&invite, ALICE_SIP, t(1));
        assert_eq!(
            ev,
            [CallEvent::Sip {
                call,
                iri: IriType::Continue
            }]
        );
    }
    assert_eq!(h.tracker.stats().retransmissions, 2);
    assert_eq!(h.tracker.stats().calls_begun, 1);
    assert_eq!(
        h.media(BOB_RTP, ALICE_RTP, t(2)).map(|m| m.call),
        Some(call)
    );
}

#[test]
fn hold_and_resume_by_re_invite() {
    let mut h = Harness::new();
    let d = Dlg::new("hold", ALICE, BOB);
    let call = h.established(&d);
    let b = d.tagged("a6c85cf");
    // Alice holds with sendonly: she receives no RTP, her RTCP stays.
    let held = sdp(
        "alice",
        "2890844526",
        "192.0.2.101",
        &[("audio", 49170, "sendonly")],
    );
    let ev = h.sip(&b.req("INVITE", 2, Some(&held)), ALICE_SIP, t(10));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(released(&ev), [a(ALICE_RTP)]);
    assert!(bound(&ev).is_empty());
    assert_eq!(h.media(STRANGER, ALICE_RTP, t(11)), None);
    let recv = sdp(
        "bob",
        "2808844564",
        "198.51.100.20",
        &[("audio", 3456, "recvonly")],
    );
    let ev = h.sip(&b.resp(200, 2, "INVITE", Some(&recv)), BOB_SIP, t(11));
    assert!(released(&ev).is_empty() && bound(&ev).is_empty());
    // Music on hold from Alice to Bob is still the call's.
    assert_eq!(
        h.media(ALICE_RTP, BOB_RTP, t(12)).map(|m| m.call),
        Some(call)
    );

    // Then inactive on both sides: no RTP bound, RTCP goes on (RFC 3264 clause 5.1).
    let inactive = sdp(
        "alice",
        "2890844526",
        "192.0.2.101",
        &[("audio", 49170, "inactive")],
    );
    let ev = h.sip(&b.req("INVITE", 3, Some(&inactive)), ALICE_SIP, t(20));
    assert!(released(&ev).is_empty(), "{ev:?}");
    let inactive = sdp(
        "bob",
        "2808844564",
        "198.51.100.20",
        &[("audio", 3456, "inactive")],
    );
    let ev = h.sip(&b.resp(200, 3, "INVITE", Some(&inactive)), BOB_SIP, t(20));
    assert_eq!(released(&ev), [a(BOB_RTP)]);
    assert_eq!(h.tracker.stats().bound_flows, 2);
    assert_eq!(h.media(BOB_RTP, ALICE_RTP, t(21)), None);
    assert_eq!(
        h.media(BOB_RTCP, ALICE_RTCP, t(21)).map(|m| m.call),
        Some(call)
    );

    // Resume.
    let ev = h.sip(&b.req("INVITE", 4, Some(&alice_sdp())), ALICE_SIP, t(30));
    assert_eq!(bound(&ev).len(), 1);
    let ev = h.sip(&b.resp(200, 4, "INVITE", Some(&bob_sdp())), BOB_SIP, t(30));
    assert_eq!(
        bound(&ev),
        [(a(BOB_RTP), Party::Callee, MediaProtocol::Rtp)],
        "RTCP stayed bound through the hold"
    );
    assert_eq!(
        h.media(BOB_RTP, ALICE_RTP, t(31)).map(|m| m.call),
        Some(call)
    );
}

#[test]
fn media_moved_by_update_releases_the_old_port() {
    let mut h = Harness::new();
    let d = Dlg::new("moved", ALICE, BOB);
    let call = h.established(&d);
    let b = d.tagged("a6c85cf");
    let moved = sdp("bob", "2808844564", "198.51.100.21", &[("audio", 5000, "")]);
    let ev = h.sip(
        &b.req_from_callee("UPDATE", 9, Some(&moved)),
        BOB_SIP,
        t(10),
    );
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(released(&ev), [a(BOB_RTP), a(BOB_RTCP)]);
    assert_eq!(
        bound(&ev),
        [
            (a("198.51.100.21:5000"), Party::Callee, MediaProtocol::Rtp),
            (a("198.51.100.21:5001"), Party::Callee, MediaProtocol::Rtcp)
        ]
    );
    // Another flow on Bob's old port is not this call's; the new one is, whoever sends to
    // it (Bob is the target: what reaches his media address is his).
    assert_eq!(h.media(STRANGER, BOB_RTP, t(11)), None);
    assert_eq!(
        h.media(STRANGER, "198.51.100.21:5000", t(11))
            .map(|m| m.call),
        Some(call)
    );
    // Alice (not a target) talking with a third host from her port: not the call's.
    assert_eq!(h.media(ALICE_RTP, STRANGER, t(11)), None);
    assert_eq!(h.media(STRANGER, ALICE_RTP, t(11)), None);
    assert_eq!(
        h.media("198.51.100.21:5000", ALICE_RTP, t(11))
            .map(|m| m.call),
        Some(call)
    );
    assert_eq!(h.tracker.stats().media_foreign, 2);
    // The 200 to the UPDATE, from Alice, with her unchanged SDP: nothing changes.
    let ev = h.sip(
        &b.resp_from_caller(200, 9, "UPDATE", Some(&alice_sdp())),
        ALICE_SIP,
        t(10),
    );
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
}

#[test]
fn forking_keeps_the_answered_dialog_only() {
    let mut h = Harness::new();
    let d = Dlg::new("forked", ALICE, BOB);
    let call = begun(&h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0)));
    let desk = sdp("bob", "111111", "198.51.100.30", &[("audio", 7000, "")]);
    let mobile = sdp("bob", "222222", "198.51.100.40", &[("audio", 8000, "")]);
    let ev = h.sip(
        &d.tagged("desk").resp(183, 1, "INVITE", Some(&desk)),
        BOB_SIP,
        t(1),
    );
    assert_eq!(bound(&ev).len(), 2);
    let ev = h.sip(
        &d.tagged("mobile").resp(183, 1, "INVITE", Some(&mobile)),
        BOB_SIP,
        t(1),
    );
    assert_eq!(bound(&ev).len(), 2);
    // Early media from both forks are the call's.
    assert!(h.media("198.51.100.30:7000", ALICE_RTP, t(2)).is_some());
    assert!(h.media("198.51.100.40:8000", ALICE_RTP, t(2)).is_some());
    // The mobile answers: the desk phone's early dialog and media go.
    let ev = h.sip(
        &d.tagged("mobile").resp(200, 1, "INVITE", Some(&mobile)),
        BOB_SIP,
        t(3),
    );
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(
        released(&ev),
        [a("198.51.100.30:7000"), a("198.51.100.30:7001")]
    );
    assert!(bound(&ev).is_empty());
    assert_eq!(h.media("198.51.100.30:7000", STRANGER, t(4)), None);
    assert_eq!(
        h.media("198.51.100.40:8000", STRANGER, t(4))
            .map(|m| m.call),
        Some(call)
    );
    assert_eq!(h.tracker.stats().bound_flows, 4);
}

#[test]
fn a_call_without_bye_times_out() {
    let config = CallConfig {
        inactivity_timeout: Duration::from_secs(60),
        ..CallConfig::default()
    };
    let mut h = Harness::with(config);
    let d = Dlg::new("no-bye", ALICE, BOB);
    let call = h.established(&d);
    assert!(h.tracker.next_timeout().is_some_and(|n| n <= t(61)));
    // Media keep it alive.
    for s in (10..100).step_by(10) {
        assert!(h.media(ALICE_RTP, BOB_RTP, t(s)).is_some());
        assert!(h.timer(t(s)).is_empty());
    }
    assert!(h.timer(t(90 + 59)).is_empty());
    assert!(h.tracker.call(call).is_some());
    let ev = h.timer(t(90 + 60));
    assert_eq!(released(&ev).len(), 4);
    assert_eq!(
        ev.last(),
        Some(&CallEvent::End {
            call,
            reason: CallEndReason::Timeout
        })
    );
    assert!(!CallEndReason::Timeout.with_message());
    assert!(!ev.iter().any(|e| matches!(e, CallEvent::Sip { .. })));
    assert_eq!(h.media(ALICE_RTP, BOB_RTP, t(151)), None);
    let s = h.tracker.stats();
    assert_eq!((s.timed_out, s.active_calls, s.bound_flows), (1, 0, 0));
}

#[test]
fn an_unanswered_bye_ends_the_call_after_the_linger_time() {
    let mut h = Harness::new();
    let d = Dlg::new("bye-lost", ALICE, BOB);
    let call = h.established(&d);
    h.sip(&d.tagged("a6c85cf").req("BYE", 2, None), ALICE_SIP, t(10));
    assert!(h.timer(t(41)).is_empty());
    let ev = h.timer(t(42));
    assert_eq!(
        ev,
        [CallEvent::End {
            call,
            reason: CallEndReason::ByeUnanswered
        }]
    );
}

#[test]
fn streams_rtcp_and_disabled_media() {
    let mut h = Harness::new();
    let d = Dlg::new("av", ALICE, BOB);
    let body = sdp(
        "alice",
        "2890844526",
        "192.0.2.101",
        &[
            ("audio", 49170, "rtcp:53020"),
            ("video", 51372, ""),
            ("text", 0, ""),
            ("video", 52000, "rtcp-mux"),
        ],
    );
    let ev = h.sip(&d.req("INVITE", 1, Some(&body)), ALICE_SIP, t(0));
    let streams: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            CallEvent::MediaBound { flow, .. } => Some((flow.addr.port(), flow.stream, flow.kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        streams,
        [
            (49170, 0, MediaProtocol::Rtp),
            (53020, 0, MediaProtocol::Rtcp),
            (51372, 1, MediaProtocol::Rtp),
            (51373, 1, MediaProtocol::Rtcp),
            (52000, 3, MediaProtocol::Rtp),
        ]
    );
    // RTP port + 1 of the muxed stream is not bound (another call's RTP may use it).
    assert_eq!(h.media(STRANGER, "192.0.2.101:52001", t(1)), None);
    assert_eq!(
        h.media(STRANGER, "192.0.2.101:51373", t(1))
            .map(|m| m.stream),
        Some(1)
    );
}

#[test]
fn nat_binds_the_signalling_source_with_the_sdp_ports() {
    let mut h = Harness::new();
    let d = Dlg::new("natted", ALICE, BOB);
    let private = sdp(
        "alice",
        "2890844526",
        "192.168.1.10",
        &[("audio", 4000, "")],
    );
    let ev = h.sip(
        &d.req("INVITE", 1, Some(&private)),
        "203.0.113.5:5060",
        t(0),
    );
    let call = begun(&ev);
    let flows: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            CallEvent::MediaBound { flow, .. } => Some((flow.addr, flow.source)),
            _ => None,
        })
        .collect();
    assert_eq!(
        flows,
        [
            (a("192.168.1.10:4000"), FlowSource::Sdp),
            (a("192.168.1.10:4001"), FlowSource::Sdp),
            (a("203.0.113.5:4000"), FlowSource::SignallingPeer),
            (a("203.0.113.5:4001"), FlowSource::SignallingPeer),
        ]
    );
    // Media from the public address to Bob's (not yet known) address: Alice's.
    let m = h.media("203.0.113.5:4000", BOB_RTP, t(1)).unwrap();
    assert_eq!((m.call, m.sender), (call, Party::Caller));

    // A public SDP address gets no extra binding, nor without the option.
    let d = Dlg::new("public", ALICE, BOB);
    let ev = h.sip(
        &d.req("INVITE", 1, Some(&alice_sdp())),
        "203.0.113.6:5060",
        t(0),
    );
    assert_eq!(bound(&ev).len(), 2);
    let mut h = Harness::with(CallConfig {
        bind_signalling_source: false,
        ..CallConfig::default()
    });
    let d = Dlg::new("natted", ALICE, BOB);
    let ev = h.sip(
        &d.req("INVITE", 1, Some(&private)),
        "203.0.113.5:5060",
        t(0),
    );
    assert_eq!(bound(&ev).len(), 2);
}

#[test]
fn ports_reused_by_a_call_between_non_targets_are_not_intercepted() {
    let mut h = Harness::new();
    let d = Dlg::new("target-call", ALICE, BOB);
    h.established(&d);
    let b = d.tagged("a6c85cf");
    h.sip(&b.req("BYE", 2, None), ALICE_SIP, t(10));
    h.sip(&b.resp(200, 2, "BYE", None), BOB_SIP, t(10));
    // Alice calls Carol from the same host and ports; Carol's phone is at Bob's old address.
    let other = Dlg::new("other-call", ALICE, CAROL);
    let carol_sdp = sdp("carol", "99999999", "198.51.100.20", &[("audio", 3456, "")]);
    assert!(
        h.sip(
            &other.req("INVITE", 1, Some(&alice_sdp())),
            ALICE_SIP,
            t(20)
        )
        .is_empty()
    );
    let o = other.tagged("c1");
    assert!(
        h.sip(&o.resp(200, 1, "INVITE", Some(&carol_sdp)), BOB_SIP, t(20))
            .is_empty()
    );
    assert!(h.sip(&o.req("ACK", 1, None), ALICE_SIP, t(20)).is_empty());
    assert_eq!(h.media(ALICE_RTP, BOB_RTP, t(21)), None);
    assert_eq!(h.media(BOB_RTCP, ALICE_RTCP, t(21)), None);
    let s = h.tracker.stats();
    assert_eq!((s.active_calls, s.bound_flows, s.ignored), (0, 0, 3));
}

#[test]
fn a_bye_naming_no_target_ends_the_targets_call_by_call_id() {
    let mut h = Harness::new();
    // Bob is named only in P-Asserted-Identity of the INVITE (a network-asserted caller).
    let d = Dlg::new("pai", "sip:anon@anonymous.invalid", CAROL);
    let mut invite = String::from_utf8(d.req("INVITE", 1, Some(&alice_sdp()))).unwrap();
    invite = invite.replacen(
        "CSeq:",
        &format!("P-Asserted-Identity: <{BOB}>\r\nCSeq:"),
        1,
    );
    let call = begun(&h.sip(invite.as_bytes(), ALICE_SIP, t(0)));
    let info = h.tracker.call(call).unwrap();
    assert!(info.target_is_caller && !info.target_is_callee);
    let c = d.tagged("c");
    h.sip(&c.resp(200, 1, "INVITE", None), "198.51.100.50:5060", t(1));
    let ev = h.sip(&c.req("BYE", 2, None), ALICE_SIP, t(5));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    let ev = h.sip(&c.resp(200, 2, "BYE", None), "198.51.100.50:5060", t(5));
    assert_eq!(end_reason(&ev), Some(CallEndReason::Bye));
}

#[test]
fn a_call_first_seen_mid_call_begins_at_its_next_message() {
    let mut h = Harness::new();
    let d = Dlg::new("mid-call", ALICE, BOB).tagged("b");
    let ev = h.sip(&d.req("INVITE", 5, Some(&alice_sdp())), ALICE_SIP, t(0));
    let call = begun(&ev);
    assert_eq!(bound(&ev).len(), 2);
    assert!(h.tracker.call(call).unwrap().answered);
    h.sip(&d.resp(200, 5, "INVITE", Some(&bob_sdp())), BOB_SIP, t(0));
    h.sip(&d.req("BYE", 6, None), ALICE_SIP, t(1));
    let ev = h.sip(&d.resp(200, 6, "BYE", None), BOB_SIP, t(1));
    assert_eq!(end_reason(&ev), Some(CallEndReason::Bye));

    // A mid-call BYE alone: Begin, then the End with its 200.
    let d = Dlg::new("mid-call-bye", ALICE, BOB).tagged("b");
    let call = begun(&h.sip(&d.req("BYE", 9, None), ALICE_SIP, t(2)));
    let ev = h.sip(&d.resp(200, 9, "BYE", None), BOB_SIP, t(2));
    assert_eq!(
        ev.last(),
        Some(&CallEvent::End {
            call,
            reason: CallEndReason::Bye
        })
    );
}

#[test]
fn legs_through_a_proxy_are_one_call_by_sdp_origin() {
    let mut h = Harness::new();
    let leg1 = Dlg::new("leg-one", ALICE, BOB);
    let proxy = "192.0.2.1:5060";
    let call = begun(&h.sip(&leg1.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0)));
    // The proxy's leg towards Bob's device: another Call-ID, a contact URI that is not the
    // target, the same SDP.
    let leg2 = Dlg::new(
        "leg-two",
        "sip:gw@proxy.example.com",
        "sip:device17@10.0.0.5",
    );
    let ev = h.sip(&leg2.req("INVITE", 1, Some(&alice_sdp())), proxy, t(0));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    assert_eq!(h.tracker.call_by_id("leg-two"), Some(call));
    let l2 = leg2.tagged("dev");
    let ev = h.sip(&l2.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(1));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(bound(&ev).len(), 2);
    let l1 = leg1.tagged("prx");
    h.sip(&l1.resp(200, 1, "INVITE", Some(&bob_sdp())), proxy, t(1));
    assert_eq!(h.tracker.call(call).unwrap().legs, 2);
    assert_eq!(h.tracker.stats().legs_correlated, 1);
    // Leg one ends first: the call goes on on leg two.
    h.sip(&l1.req("BYE", 2, None), ALICE_SIP, t(10));
    let ev = h.sip(&l1.resp(200, 2, "BYE", None), proxy, t(10));
    assert_eq!(
        ev.first(),
        Some(&CallEvent::Sip {
            call,
            iri: IriType::Continue
        })
    );
    assert_eq!(end_reason(&ev), None);
    h.sip(&l2.req("BYE", 2, None), proxy, t(10));
    let ev = h.sip(&l2.resp(200, 2, "BYE", None), BOB_SIP, t(10));
    assert_eq!(
        ev.first(),
        Some(&CallEvent::Sip {
            call,
            iri: IriType::End
        })
    );
    assert_eq!(end_reason(&ev), Some(CallEndReason::Bye));
    assert_eq!(h.tracker.stats().bound_flows, 0);
}

#[test]
fn an_origin_that_cannot_be_unique_ties_no_legs() {
    let mut h = Harness::new();
    let weak = sdp("-", "0", "0.0.0.0", &[("audio", 49170, "")]);
    let d = Dlg::new("weak-one", ALICE, BOB);
    begun(&h.sip(&d.req("INVITE", 1, Some(&weak)), ALICE_SIP, t(0)));
    let other = Dlg::new("weak-two", "sip:x@example.net", "sip:y@example.net");
    let weak2 = sdp("-", "0", "0.0.0.0", &[("audio", 6000, "")]);
    assert!(
        h.sip(
            &other.req("INVITE", 1, Some(&weak2)),
            "203.0.113.7:5060",
            t(0)
        )
        .is_empty()
    );
    assert_eq!(h.tracker.stats().legs_correlated, 0);
}

#[test]
fn party_of_tells_which_side_an_identity_names() {
    let mut h = Harness::new();
    let d = Dlg::new("sides", ALICE, BOB);
    let invite = d.req("INVITE", 1, Some(&alice_sdp()));
    let call = begun(&h.sip(&invite, ALICE_SIP, t(0)));
    let party = |h: &Harness, bytes: &[u8], source| {
        h.tracker
            .party_of(call, &SipMessage::parse(bytes).unwrap(), source)
    };
    use IdentitySource as S;
    // The caller's request: From and its own identities are the caller.
    for (source, want) in [
        (S::From, Party::Caller),
        (S::ProxyAuthorization, Party::Caller),
        (S::PAssertedIdentity, Party::Caller),
        (S::RequestUri, Party::Callee),
        (S::To, Party::Callee),
        (S::Diversion, Party::Callee),
    ] {
        assert_eq!(party(&h, &invite, source), Some(want), "{source:?}");
    }
    // A response: its P-Asserted-Identity is the answering party's.
    let d = d.tagged("b0b");
    let ok = d.resp(200, 1, "INVITE", Some(&bob_sdp()));
    h.sip(&ok, BOB_SIP, t(1));
    assert_eq!(party(&h, &ok, S::PAssertedIdentity), Some(Party::Callee));
    assert_eq!(party(&h, &ok, S::From), Some(Party::Caller));
    // The callee's BYE: From is the callee now.
    let bye = d.req_from_callee("BYE", 1, None);
    h.sip(&bye, BOB_SIP, t(2));
    assert_eq!(party(&h, &bye, S::From), Some(Party::Callee));
    assert_eq!(party(&h, &bye, S::To), Some(Party::Caller));
    // Another call: not known.
    let other = CallHandle(call.get() + 100);
    let msg = SipMessage::parse(&bye).unwrap();
    assert_eq!(h.tracker.party_of(other, &msg, S::From), None);
}

#[test]
fn register_is_a_report_and_keeps_no_state() {
    let mut h = Harness::new();
    let register = format!(
        "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n\
         From: Bob <{BOB}>;tag=456248\r\nTo: Bob <{BOB}>\r\nCall-ID: 843817637684230@998sdasdh09\r\n\
         CSeq: 1826 REGISTER\r\nContact: <sip:bob@192.0.2.4>\r\nExpires: 7200\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let ev = h.sip(register.as_bytes(), "192.0.2.4:5060", t(0));
    assert_eq!(
        ev,
        [CallEvent::Report {
            kind: ReportKind::Registration,
            late_of: None
        }]
    );
    let ok = register
        .replacen(
            "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
            "SIP/2.0 200 OK",
            1,
        )
        .replacen(
            "To: Bob <sip:bob@biloxi.example.com>",
            "To: Bob <sip:bob@biloxi.example.com>;tag=2493k59kd",
            1,
        );
    let ev = h.sip(ok.as_bytes(), "192.0.2.2:5060", t(0));
    assert_eq!(
        ev,
        [CallEvent::Report {
            kind: ReportKind::Registration,
            late_of: None
        }]
    );
    let s = h.tracker.stats();
    assert_eq!((s.reports, s.active_calls, s.calls_begun), (2, 0, 0));
    assert_eq!(h.tracker.call_by_id("843817637684230@998sdasdh09"), None);
    // Someone else's REGISTER: nothing.
    let carol = register.replace(BOB, CAROL);
    assert!(h.sip(carol.as_bytes(), "192.0.2.5:5060", t(0)).is_empty());
}

#[test]
fn a_full_tracker_evicts_the_quietest_call() {
    let mut h = Harness::with(CallConfig {
        max_calls: 2,
        ..CallConfig::default()
    });
    let mut calls = Vec::new();
    for (i, port) in [(0u64, 10_000u16), (1, 10_002), (2, 10_004)] {
        let d = Dlg::new(&format!("call-{i}"), ALICE, BOB);
        let body = sdp(
            "alice",
            &format!("1000{i}"),
            "192.0.2.101",
            &[("audio", port, "")],
        );
        let ev = h.sip(&d.req("INVITE", 1, Some(&body)), ALICE_SIP, t(i));
        calls.push((begun(&ev), ev));
    }
    let (first, _) = calls[0];
    let (_, third_events) = &calls[2];
    assert_eq!(
        third_events
            .iter()
            .find(|e| matches!(e, CallEvent::End { .. })),
        Some(&CallEvent::End {
            call: first,
            reason: CallEndReason::Evicted
        })
    );
    assert_eq!(
        released(third_events),
        [a("192.0.2.101:10000"), a("192.0.2.101:10001")]
    );
    assert_eq!(h.media(STRANGER, "192.0.2.101:10000", t(3)), None);
    let s = h.tracker.stats();
    assert_eq!((s.evicted, s.active_calls, s.bound_flows), (1, 2, 4));
}

#[test]
fn flows_beyond_the_limit_are_refused_and_counted() {
    let mut h = Harness::with(CallConfig {
        max_flows: 2,
        ..CallConfig::default()
    });
    let d = Dlg::new("limited", ALICE, BOB);
    let ev = h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0));
    assert_eq!(bound(&ev).len(), 2);
    let ev = h.sip(
        &d.tagged("b").resp(200, 1, "INVITE", Some(&bob_sdp())),
        BOB_SIP,
        t(0),
    );
    assert!(bound(&ev).is_empty());
    let s = h.tracker.stats();
    assert_eq!((s.flows_refused, s.bound_flows), (2, 2));
}

#[test]
fn a_new_intercepted_call_takes_over_a_stale_binding() {
    let mut h = Harness::new();
    let first = begun(&h.sip(
        &Dlg::new("first", ALICE, BOB).req("INVITE", 1, Some(&alice_sdp())),
        ALICE_SIP,
        t(0),
    ));
    // A second call of the target whose caller now uses the same address and ports.
    let other = sdp("dave", "5555555", "192.0.2.101", &[("audio", 49170, "")]);
    let ev = h.sip(
        &Dlg::new("second", "sip:dave@example.org", BOB).req("INVITE", 1, Some(&other)),
        ALICE_SIP,
        t(5),
    );
    let second = begun(&ev);
    assert!(ev.contains(&CallEvent::MediaReleased {
        call: first,
        flow: MediaFlow {
            addr: a(ALICE_RTP),
            party: Party::Caller,
            stream: 0,
            kind: MediaProtocol::Rtp,
            source: FlowSource::Sdp
        }
    }));
    assert_eq!(
        h.media(STRANGER, ALICE_RTP, t(6)).map(|m| m.call),
        Some(second)
    );
    assert!(h.tracker.call(first).unwrap().flows.is_empty());
}

#[test]
fn messages_without_call_id_or_target_are_ignored() {
    let mut h = Harness::new();
    let msg =
        SipMessage::parse(b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")
            .unwrap();
    let mut out = Vec::new();
    h.tracker.on_sip(&msg, a(ALICE_SIP), t(0), &[], &mut out);
    assert!(out.is_empty());
    assert_eq!(h.tracker.stats().ignored, 1);
    // An OPTIONS to the target with a Call-ID: a Report.
    let d = Dlg::new("opt", ALICE, BOB);
    assert_eq!(
        h.sip(&d.req("OPTIONS", 1, None), ALICE_SIP, t(0)),
        [CallEvent::Report {
            kind: ReportKind::Other,
            late_of: None
        }]
    );
}

/// Messages a fuzzer-like sequence is drawn from.
fn arbitrary_message(kind: u8, call: u8, tag: u8, cseq: u8, port: u16) -> Vec<u8> {
    let callee = if call.is_multiple_of(3) { CAROL } else { BOB };
    let d = Dlg::new(&format!("c{}", call % 4), ALICE, callee);
    let tagged = d.tagged(&format!("t{}", tag % 3));
    let body = sdp(
        "u",
        &format!("{}", 1000 + u32::from(call % 4)),
        "10.0.0.1",
        &[("audio", port, "")],
    );
    let cseq = u32::from(cseq % 4);
    match kind % 12 {
        0 => d.req("INVITE", cseq, Some(&body)),
        1 => tagged.resp(180, cseq, "INVITE", None),
        2 => tagged.resp(183, cseq, "INVITE", Some(&body)),
        3 => tagged.resp(200, cseq, "INVITE", Some(&body)),
        4 => tagged.req("ACK", cseq, None),
        5 => tagged.req("BYE", cseq, None),
        6 => tagged.resp(200, cseq, "BYE", None),
        7 => d.req("CANCEL", cseq, None),
        8 => tagged.resp(487, cseq, "INVITE", None),
        9 => tagged.req("INVITE", cseq, Some(&body)),
        10 => tagged.req_from_callee("UPDATE", cseq, Some(&body)),
        _ => tagged.resp(407, cseq, "INVITE", None),
    }
}

proptest! {
    /// Whatever the order of messages, media and timers: no panic, every call begins
    /// once and ends at most once, the bound flows are exactly those bound and not
    /// released, and after every timeout nothing is left.
    #[test]
    fn any_sequence_keeps_the_books_straight(
        steps in proptest::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), 1000u16..1004, 0u8..4), 1..60),
        max_calls in 1usize..4,
    ) {
        let mut h = Harness::with(CallConfig { max_calls, max_flows: 6, ..CallConfig::default() });
        let mut events = Vec::new();
        let mut now = 0;
        for (kind, call, tag, cseq, port, action) in steps {
            now += u64::from(action);
            match action {
                0 => events.extend(h.timer(t(now * 20))),
                1 => { h.media(&format!("10.0.0.1:{port}"), STRANGER, t(now * 20)); }
                _ => events.extend(h.sip(&arbitrary_message(kind, call, tag, cseq, port), ALICE_SIP, t(now * 20))),
            }
        }
        events.extend(h.timer(t(now * 20 + 100_000)));
        events.extend(h.timer(t(now * 20 + 200_000)));
        let mut begun = std::collections::HashSet::new();
        let mut ended = std::collections::HashSet::new();
        let mut flows = std::collections::HashSet::new();
        for e in &events {
            match *e {
                CallEvent::Sip { call, iri: IriType::Begin } => prop_assert!(begun.insert(call)),
                CallEvent::Sip { call, .. } => {
                    prop_assert!(begun.contains(&call) && !ended.contains(&call));
                }
                CallEvent::End { call, .. } => prop_assert!(begun.contains(&call) && ended.insert(call)),
                CallEvent::MediaBound { call, flow } => prop_assert!(flows.insert((call, flow.addr))),
                CallEvent::MediaReleased { call, flow } => prop_assert!(flows.remove(&(call, flow.addr))),
                CallEvent::Report { .. } => {}
            }
        }
        prop_assert_eq!(&begun, &ended);
        prop_assert!(flows.is_empty());
        let s = h.tracker.stats();
        prop_assert_eq!((s.active_calls, s.bound_flows), (0, 0));
        prop_assert!(h.tracker.calls.is_empty() && h.tracker.by_call_id.is_empty());
        prop_assert!(h.tracker.by_origin.is_empty());
    }

    /// Arbitrary bytes parsed as SIP, then fed with an arbitrary match: never a panic.
    #[test]
    fn arbitrary_sip_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut h = Harness::new();
        if let Ok(msg) = SipMessage::parse(&data) {
            let mut out = Vec::new();
            let target: li_core::TargetIdentifier = BOB.parse().unwrap();
            let m = [TargetMatch { target: &target, source: IdentitySource::To }];
            h.tracker.on_sip(&msg, a(ALICE_SIP), t(0), &m, &mut out);
            h.tracker.on_timer(t(1_000), &mut out);
        }
    }
}

#[test]
fn ipv6_media_is_bound_and_matched() {
    let mut h = Harness::new();
    let d = Dlg::new("v6", ALICE, BOB);
    let body = "v=0\r\no=alice 2890844526 1 IN IP6 2001:db8::101\r\ns=-\r\n\
                c=IN IP6 2001:db8::101\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";
    let ev = h.sip(
        &d.req("INVITE", 1, Some(body)),
        "[2001:db8::101]:5060",
        t(0),
    );
    let call = begun(&ev);
    assert_eq!(
        bound(&ev),
        [
            (
                a("[2001:db8::101]:49170"),
                Party::Caller,
                MediaProtocol::Rtp
            ),
            (
                a("[2001:db8::101]:49171"),
                Party::Caller,
                MediaProtocol::Rtcp
            )
        ]
    );
    let m = h
        .media("[2001:db8::7]:3000", "[2001:db8::101]:49170", t(1))
        .unwrap();
    assert_eq!((m.call, m.sender), (call, Party::Callee));
    // The same port on the IPv4-mapped form of another address is not it.
    assert_eq!(h.media(STRANGER, "192.0.2.101:49170", t(1)), None);
    // A unique local address behind a NAT66: bound at the signalling source too.
    let d = Dlg::new("v6-ula", ALICE, BOB);
    let body = body.replace("2001:db8::101", "fd00::5");
    let ev = h.sip(
        &d.req("INVITE", 1, Some(&body)),
        "[2001:db8::77]:5060",
        t(2),
    );
    assert!(bound(&ev).contains(&(a("[2001:db8::77]:49170"), Party::Caller, MediaProtocol::Rtp)));
}

#[test]
fn a_cancel_crossing_the_answer_leaves_the_call_up() {
    let mut h = Harness::new();
    let d = Dlg::new("crossed", ALICE, BOB);
    let call = begun(&h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0)));
    h.sip(&d.req("CANCEL", 1, None), ALICE_SIP, t(5));
    let b = d.tagged("b");
    h.sip(&b.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(5));
    h.sip(&d.resp(200, 1, "CANCEL", None), BOB_SIP, t(5));
    h.sip(&b.req("ACK", 1, None), ALICE_SIP, t(5));
    // Well past the linger time, with media flowing: still up.
    assert!(h.media(ALICE_RTP, BOB_RTP, t(60)).is_some());
    assert!(h.timer(t(100)).is_empty());
    assert!(h.tracker.call(call).is_some());
}

/// `bytes` with its Via header replaced by `vias` (topmost first), as a proxy's hop or a
/// fork of it would carry them.
fn via(bytes: &[u8], vias: &[&str]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: String = vias
        .iter()
        .map(|b| format!("Via: SIP/2.0/UDP {b}.example.com;branch=z9hG4bK{b}\r\n"))
        .collect();
    text.replacen(
        "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK776\r\n",
        &lines,
        1,
    )
    .into_bytes()
}

#[test]
fn a_failed_re_invite_restores_the_media_before_its_offer() {
    let mut h = Harness::new();
    let d = Dlg::new("refused", ALICE, BOB);
    let call = h.established(&d);
    let b = d.tagged("a6c85cf");
    let moved = sdp("alice", "2890844526", "192.0.2.101", &[("audio", 6000, "")]);
    let ev = h.sip(&b.req("INVITE", 2, Some(&moved)), ALICE_SIP, t(10));
    assert_eq!(released(&ev), [a(ALICE_RTP), a(ALICE_RTCP)]);
    // Retransmitted: the media before the offer are still those to restore.
    let ev = h.sip(&b.req("INVITE", 2, Some(&moved)), ALICE_SIP, t(10));
    assert!(released(&ev).is_empty() && bound(&ev).is_empty());
    let ev = h.sip(&b.resp(488, 2, "INVITE", None), BOB_SIP, t(11));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(
        released(&ev),
        [a("192.0.2.101:6000"), a("192.0.2.101:6001")]
    );
    assert_eq!(
        bound(&ev),
        [
            (a(ALICE_RTP), Party::Caller, MediaProtocol::Rtp),
            (a(ALICE_RTCP), Party::Caller, MediaProtocol::Rtcp)
        ]
    );
    assert_eq!(h.media(STRANGER, "192.0.2.101:6000", t(12)), None);
    assert_eq!(
        h.media(BOB_RTP, ALICE_RTP, t(12)).map(|m| m.call),
        Some(call)
    );
    // The ACK of the failure changes nothing.
    let ev = h.sip(&b.req("ACK", 2, None), ALICE_SIP, t(12));
    assert!(released(&ev).is_empty() && bound(&ev).is_empty());

    // Glare: Bob's offer refused with 491 by Alice; his media go back too.
    let bob_moved = sdp("bob", "2808844564", "198.51.100.20", &[("audio", 7000, "")]);
    let ev = h.sip(
        &b.req_from_callee("INVITE", 20, Some(&bob_moved)),
        BOB_SIP,
        t(13),
    );
    assert_eq!(released(&ev), [a(BOB_RTP), a(BOB_RTCP)]);
    let ev = h.sip(
        &b.resp_from_caller(491, 20, "INVITE", None),
        ALICE_SIP,
        t(13),
    );
    assert_eq!(
        released(&ev),
        [a("198.51.100.20:7000"), a("198.51.100.20:7001")]
    );
    assert_eq!(bound(&ev).len(), 2);
    assert_eq!(
        h.media(STRANGER, BOB_RTP, t(14)).map(|m| m.call),
        Some(call)
    );

    // An UPDATE refused likewise; then an accepted offer stays.
    let ev = h.sip(&b.req("UPDATE", 3, Some(&moved)), ALICE_SIP, t(15));
    assert_eq!(bound(&ev).len(), 2);
    let ev = h.sip(&b.resp(488, 3, "UPDATE", None), BOB_SIP, t(15));
    assert_eq!(
        released(&ev),
        [a("192.0.2.101:6000"), a("192.0.2.101:6001")]
    );
    h.sip(&b.req("INVITE", 4, Some(&moved)), ALICE_SIP, t(16));
    let ev = h.sip(&b.resp(200, 4, "INVITE", Some(&bob_sdp())), BOB_SIP, t(16));
    assert!(released(&ev).is_empty() && bound(&ev).is_empty());
    // A stray failure of the answered offer's CSeq later restores nothing.
    let ev = h.sip(&b.resp(500, 4, "INVITE", None), BOB_SIP, t(17));
    assert!(released(&ev).is_empty() && bound(&ev).is_empty());
    // (From Bob's address, another port: asymmetric RTP.)
    assert!(
        h.media("198.51.100.20:9999", "192.0.2.101:6000", t(17))
            .is_some()
    );
    assert_eq!(h.media("198.51.100.20:9999", ALICE_RTP, t(17)), None);
}

#[test]
fn a_failed_fork_leaves_the_call_to_the_final_response() {
    let mut h = Harness::new();
    let d = Dlg::new("forks", ALICE, BOB);
    let proxy = "192.0.2.1:5060";
    let call = begun(&h.sip(
        &via(&d.req("INVITE", 1, Some(&alice_sdp())), &["alice"]),
        ALICE_SIP,
        t(0),
    ));
    // The proxy forks to two devices: a branch each, Alice's Via below.
    for fork in ["p1", "p2"] {
        let ev = h.sip(
            &via(&d.req("INVITE", 1, Some(&alice_sdp())), &[fork, "alice"]),
            proxy,
            t(0),
        );
        assert_eq!(iri(&ev), Some(IriType::Continue));
    }
    assert_eq!(h.tracker.stats().retransmissions, 0);
    let desk = sdp("bob", "111111", "198.51.100.30", &[("audio", 7000, "")]);
    let mobile = sdp("bob", "222222", "198.51.100.40", &[("audio", 8000, "")]);
    let (dd, dm) = (d.tagged("desk"), d.tagged("mobile"));
    h.sip(
        &via(&dd.resp(183, 1, "INVITE", Some(&desk)), &["p1", "alice"]),
        BOB_SIP,
        t(1),
    );
    h.sip(
        &via(&dm.resp(180, 1, "INVITE", Some(&mobile)), &["p2", "alice"]),
        BOB_SIP,
        t(1),
    );
    // The desk phone declines: its fork and early media end, the call does not.
    let ev = h.sip(
        &via(&dd.resp(480, 1, "INVITE", None), &["p1", "alice"]),
        BOB_SIP,
        t(2),
    );
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert_eq!(end_reason(&ev), None);
    assert_eq!(
        released(&ev),
        [a("198.51.100.30:7000"), a("198.51.100.30:7001")]
    );
    assert!(h.tracker.call(call).is_some());
    // The mobile still rings and answers; the proxy passes the 200 on.
    let ev = h.sip(
        &via(&dm.resp(200, 1, "INVITE", Some(&mobile)), &["p2", "alice"]),
        BOB_SIP,
        t(5),
    );
    assert_eq!(iri(&ev), Some(IriType::Continue));
    h.sip(
        &via(&dm.resp(200, 1, "INVITE", Some(&mobile)), &["alice"]),
        proxy,
        t(5),
    );
    assert!(h.tracker.call(call).unwrap().answered);
    assert_eq!(
        h.media("198.51.100.40:8000", ALICE_RTP, t(6))
            .map(|m| m.call),
        Some(call)
    );

    // Both forks fail: only the proxy's final response to Alice ends the call. (Another
    // session of Alice's: the same origin would be a leg of the first call.)
    let other_sdp = sdp("alice", "987654321", "192.0.2.101", &[("audio", 49180, "")]);
    let d = Dlg::new("forks-fail", ALICE, BOB);
    let call = begun(&h.sip(
        &via(&d.req("INVITE", 1, Some(&other_sdp)), &["alice"]),
        ALICE_SIP,
        t(10),
    ));
    for fork in ["p1", "p2"] {
        h.sip(
            &via(&d.req("INVITE", 1, Some(&other_sdp)), &[fork, "alice"]),
            proxy,
            t(10),
        );
    }
    for (fork, tag, status) in [("p1", "desk", 480), ("p2", "mobile", 486)] {
        let ev = h.sip(
            &via(
                &d.tagged(tag).resp(status, 1, "INVITE", None),
                &[fork, "alice"],
            ),
            BOB_SIP,
            t(11),
        );
        assert_eq!((iri(&ev), end_reason(&ev)), (Some(IriType::Continue), None));
    }
    let ev = h.sip(
        &via(&d.tagged("mobile").resp(486, 1, "INVITE", None), &["alice"]),
        proxy,
        t(11),
    );
    assert_eq!(iri(&ev), Some(IriType::End));
    assert_eq!(
        end_reason(&ev),
        Some(CallEndReason::Rejected { status: 486 })
    );
    assert!(h.tracker.call(call).is_none());

    // Seen only past the proxy (no INVITE with fewer Vias): the last fork's failure ends it.
    let d = Dlg::new("forks-downstream", ALICE, BOB);
    begun(&h.sip(
        &via(&d.req("INVITE", 1, Some(&other_sdp)), &["p1", "alice"]),
        proxy,
        t(20),
    ));
    h.sip(
        &via(&d.req("INVITE", 1, Some(&other_sdp)), &["p2", "alice"]),
        proxy,
        t(20),
    );
    let ev = h.sip(
        &via(
            &d.tagged("desk").resp(480, 1, "INVITE", None),
            &["p1", "alice"],
        ),
        BOB_SIP,
        t(21),
    );
    assert_eq!(end_reason(&ev), None);
    let ev = h.sip(
        &via(
            &d.tagged("mobile").resp(603, 1, "INVITE", None),
            &["p2", "alice"],
        ),
        BOB_SIP,
        t(21),
    );
    assert_eq!(
        end_reason(&ev),
        Some(CallEndReason::Rejected { status: 603 })
    );
}

#[test]
fn a_proxy_leg_seen_before_the_targets_leg_joins_the_call_from_then_on() {
    let mut h = Harness::new();
    let proxy = "192.0.2.1:5060";
    // Alice calls an alias that is not the target; the proxy's leg to Bob (the target)
    // comes second, with her SDP.
    let leg1 = Dlg::new("alias-leg", ALICE, "sip:sales@biloxi.example.com");
    let ev = h.sip(&leg1.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0));
    assert!(ev.is_empty(), "not a target's when seen: {ev:?}");
    assert_eq!(h.media(BOB_RTP, ALICE_RTP, t(0)), None);
    let leg2 = Dlg::new("target-leg", "sip:gw@proxy.example.com", BOB);
    let ev = h.sip(&leg2.req("INVITE", 1, Some(&alice_sdp())), proxy, t(0));
    let call = begun(&ev);
    assert_eq!(h.tracker.call_by_id("alias-leg"), Some(call));
    assert_eq!(h.tracker.call(call).unwrap().legs, 2);
    assert_eq!(h.tracker.stats().legs_correlated, 1);
    // From then on leg one is the call's: its 180 and 200 (the proxy's media), its BYE.
    let l1 = leg1.tagged("prx");
    let ev = h.sip(&l1.resp(180, 1, "INVITE", None), proxy, t(1));
    assert_eq!(
        ev,
        [CallEvent::Sip {
            call,
            iri: IriType::Continue
        }]
    );
    let anchored = sdp("proxy", "55555555", "192.0.2.1", &[("audio", 20000, "")]);
    let ev = h.sip(&l1.resp(200, 1, "INVITE", Some(&anchored)), proxy, t(2));
    assert_eq!(bound(&ev).len(), 2);
    assert_eq!(
        h.media(ALICE_RTP, "192.0.2.1:20000", t(3)).map(|m| m.call),
        Some(call)
    );
    let l2 = leg2.tagged("bob");
    h.sip(&l2.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(2));
    h.sip(&l1.req("BYE", 2, None), ALICE_SIP, t(10));
    let ev = h.sip(&l1.resp(200, 2, "BYE", None), proxy, t(10));
    assert_eq!((iri(&ev), end_reason(&ev)), (Some(IriType::Continue), None));
    h.sip(&l2.req("BYE", 2, None), proxy, t(10));
    let ev = h.sip(&l2.resp(200, 2, "BYE", None), BOB_SIP, t(10));
    assert_eq!(end_reason(&ev), Some(CallEndReason::Bye));
    assert_eq!(h.tracker.stats().bound_flows, 0);

    // An untracked INVITE is remembered only for a while, and a bounded number of them.
    let mut h = Harness::with(CallConfig {
        max_pending_legs: 1,
        ..CallConfig::default()
    });
    let carol = sdp("carol", "77777777", "192.0.2.77", &[("audio", 9000, "")]);
    let c1 = Dlg::new("carol-leg", CAROL, "sip:sales@biloxi.example.com");
    assert!(
        h.sip(&c1.req("INVITE", 1, Some(&carol)), "192.0.2.77:5060", t(0))
            .is_empty()
    );
    assert!(
        h.sip(&leg1.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0))
            .is_empty()
    );
    assert_eq!(h.tracker.stats().pending_legs_evicted, 1);
    let c2 = Dlg::new("carol-target", "sip:gw@proxy.example.com", BOB);
    let call = begun(&h.sip(&c2.req("INVITE", 1, Some(&carol)), proxy, t(1)));
    assert_eq!(
        (
            h.tracker.call(call).unwrap().legs,
            h.tracker.call_by_id("carol-leg")
        ),
        (1, None)
    );
    // Alice's leg, still remembered, but past its time when the target's leg comes.
    let late = CallConfig::default().pending_leg_ttl + Duration::from_secs(1);
    let late = t(0).checked_add(late).unwrap();
    let call = begun(&h.sip(&leg2.req("INVITE", 1, Some(&alice_sdp())), proxy, late));
    assert_eq!(h.tracker.call(call).unwrap().legs, 1);
    assert_eq!(h.tracker.call_by_id("alias-leg"), None);
}

#[test]
fn nat_changing_ports_latches_the_first_media_toward_the_other_party() {
    let mut h = Harness::new();
    let d = Dlg::new("napt", ALICE, BOB);
    let private = sdp(
        "alice",
        "2890844526",
        "192.168.1.10",
        &[("audio", 4000, "")],
    );
    let call = begun(&h.sip(
        &d.req("INVITE", 1, Some(&private)),
        "203.0.113.5:5060",
        t(0),
    ));
    let b = d.tagged("bob");
    h.sip(&b.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(1));
    // Bob sends from another port than he receives on (not symmetric), to the port the
    // NAT chose for Alice: before Alice's first packet, nobody's.
    let bob_out = "198.51.100.20:3500";
    assert_eq!(h.media(bob_out, "203.0.113.5:61000", t(1)), None);
    // From Alice's public address, another port, to Bob's bound RTP: the call's, and latched.
    let m = h.media("203.0.113.5:61000", BOB_RTP, t(2)).unwrap();
    assert_eq!((m.call, m.sender), (call, Party::Caller));
    let m = h.media(bob_out, "203.0.113.5:61000", t(2)).unwrap();
    assert_eq!(
        (m.call, m.sender, m.kind),
        (call, Party::Callee, MediaProtocol::Rtp)
    );
    assert_eq!(h.tracker.stats().latched, 1);
    // Announced at the next call of the tracker.
    let ev = h.timer(t(2));
    assert_eq!(
        ev,
        [CallEvent::MediaBound {
            call,
            flow: MediaFlow {
                addr: a("203.0.113.5:61000"),
                party: Party::Caller,
                stream: 0,
                kind: MediaProtocol::Rtp,
                source: FlowSource::Latched,
            }
        }]
    );
    // Only the first: another port of that address is not latched, and other addresses
    // never are.
    assert!(h.media("203.0.113.5:62000", BOB_RTP, t(3)).is_some());
    assert_eq!(h.media(bob_out, "203.0.113.5:62000", t(3)), None);
    assert!(h.media("203.0.113.77:61000", BOB_RTP, t(3)).is_some());
    assert_eq!(h.media(bob_out, "203.0.113.77:61000", t(3)), None);
    // RTCP latches on its own, toward Bob's RTCP.
    assert!(h.media("203.0.113.5:61001", BOB_RTCP, t(3)).is_some());
    let m = h
        .media("198.51.100.20:3501", "203.0.113.5:61001", t(3))
        .unwrap();
    assert_eq!(m.kind, MediaProtocol::Rtcp);
    assert_eq!(h.tracker.stats().latched, 2);
    // A new offer from Alice moves her media: the latches go with the old ones.
    let moved = sdp(
        "alice",
        "2890844526",
        "192.168.1.10",
        &[("audio", 4100, "")],
    );
    let ev = h.sip(&b.req("INVITE", 2, Some(&moved)), "203.0.113.5:5060", t(4));
    let mut gone = released(&ev);
    gone.retain(|g| g.port() > 60000);
    assert_eq!(gone, [a("203.0.113.5:61000"), a("203.0.113.5:61001")]);
    assert_eq!(h.media(bob_out, "203.0.113.5:61000", t(4)), None);
    // The call's end releases every flow, latched ones included.
    h.sip(&b.resp(200, 2, "INVITE", Some(&bob_sdp())), BOB_SIP, t(4));
    assert!(h.media("203.0.113.5:63000", BOB_RTP, t(5)).is_some());
    h.sip(&b.req("BYE", 3, None), "203.0.113.5:5060", t(6));
    h.sip(&b.resp(200, 3, "BYE", None), BOB_SIP, t(6));
    assert_eq!(h.tracker.stats().bound_flows, 0);
    assert_eq!(h.media(bob_out, "203.0.113.5:63000", t(7)), None);

    // Without NAT (a public SDP address), nothing is ever latched.
    let d = Dlg::new("no-nat", ALICE, BOB);
    h.established(&d);
    assert!(h.media("192.0.2.101:50000", BOB_RTP, t(8)).is_some());
    assert_eq!(h.media(bob_out, "192.0.2.101:50000", t(8)), None);
    assert_eq!(h.tracker.stats().latched, 3);
}

#[test]
fn a_remembered_invite_of_the_same_call_id_is_no_second_leg() {
    let mut h = Harness::new();
    // Not a target's at first; the INVITE after the challenge is asserted as Bob's.
    let d = Dlg::new("asserted-later", ALICE, CAROL);
    assert!(
        h.sip(&d.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(0))
            .is_empty()
    );
    assert_eq!(h.tracker.stats().pending_legs, 1);
    let mut again = String::from_utf8(d.req("INVITE", 2, Some(&alice_sdp()))).unwrap();
    again = again.replacen(
        "CSeq:",
        &format!("P-Asserted-Identity: <{BOB}>\r\nCSeq:"),
        1,
    );
    let call = begun(&h.sip(again.as_bytes(), ALICE_SIP, t(1)));
    assert_eq!(h.tracker.call(call).unwrap().legs, 1);
    let s = h.tracker.stats();
    assert_eq!((s.legs_correlated, s.pending_legs), (0, 0));
}

#[test]
fn a_latch_needs_the_nat_option_and_takes_no_other_calls_binding() {
    let private = sdp(
        "alice",
        "2890844526",
        "192.168.1.10",
        &[("audio", 4000, "")],
    );
    let mut h = Harness::with(CallConfig {
        bind_signalling_source: false,
        ..CallConfig::default()
    });
    let d = Dlg::new("napt-off", ALICE, BOB);
    h.sip(
        &d.req("INVITE", 1, Some(&private)),
        "203.0.113.5:5060",
        t(0),
    );
    let b = d.tagged("bob");
    h.sip(&b.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(1));
    assert!(h.media("203.0.113.5:61000", BOB_RTP, t(2)).is_some());
    assert_eq!(
        h.media("198.51.100.20:3500", "203.0.113.5:61000", t(2)),
        None
    );
    assert_eq!(h.tracker.stats().latched, 0);

    // With it: the NAT's port is another intercepted call's already; it stays that call's.
    let mut h = Harness::new();
    let other = Dlg::new("holder", ALICE, BOB);
    let holder_sdp = sdp("carol", "31313131", "203.0.113.5", &[("audio", 61000, "")]);
    let holder = begun(&h.sip(
        &other.req("INVITE", 1, Some(&holder_sdp)),
        "203.0.113.5:5070",
        t(0),
    ));
    let call = begun(&h.sip(
        &d.req("INVITE", 1, Some(&private)),
        "203.0.113.5:5060",
        t(0),
    ));
    h.sip(&b.resp(200, 1, "INVITE", Some(&bob_sdp())), BOB_SIP, t(1));
    let m = h.media("203.0.113.5:61000", BOB_RTP, t(2)).unwrap();
    assert_eq!(m.call, call);
    assert_eq!(
        h.media("198.51.100.20:3500", "203.0.113.5:61000", t(2))
            .map(|m| m.call),
        Some(holder)
    );
    assert_eq!(h.tracker.stats().latched, 0);
}

#[test]
fn a_party_found_to_be_a_target_mid_call_has_all_its_media_taken() {
    let mut h = Harness::new();
    let d = Dlg::new("late-target", ALICE, BOB);
    let call = h.established(&d);
    // Alice is not a target: a third host at her port is not the call.
    assert_eq!(h.media(STRANGER, ALICE_RTP, t(2)), None);
    // A warrant on Alice too; her next message (no media change) names her.
    h.targets.insert(ALICE.parse().unwrap()).unwrap();
    let b = d.tagged("a6c85cf");
    let ev = h.sip(&b.req("INFO", 2, None), ALICE_SIP, t(3));
    assert_eq!(iri(&ev), Some(IriType::Continue));
    assert!(h.tracker.call(call).unwrap().target_is_caller);
    // What reaches her media address is now hers, from whoever.
    assert_eq!(
        h.media(STRANGER, ALICE_RTP, t(4)).map(|m| m.call),
        Some(call)
    );
}

#[test]
fn a_target_with_many_media_addresses_is_the_peer_of_each_of_them() {
    let mut h = Harness::new();
    let d = Dlg::new("many-addresses", ALICE, BOB);
    let offer = sdp(
        "alice",
        "2890844526",
        "192.0.2.101",
        &[
            ("audio", 49170, ""),
            ("video", 49180, ""),
            ("audio", 49190, ""),
        ],
    );
    let call = begun(&h.sip(&d.req("INVITE", 1, Some(&offer)), ALICE_SIP, t(0)));
    // Bob answers each stream from another address (media-level c= lines).
    let answer = "v=0\r\no=bob 2808844564 1 IN IP4 198.51.100.20\r\ns=-\r\n\
        c=IN IP4 198.51.100.20\r\nt=0 0\r\n\
        m=audio 3456 RTP/AVP 0\r\n\
        m=video 3460 RTP/AVP 0\r\nc=IN IP4 198.51.100.21\r\n\
        m=audio 3470 RTP/AVP 0\r\nc=IN IP4 198.51.100.22\r\n";
    let b = d.tagged("a6c85cf");
    let ev = h.sip(&b.resp(200, 1, "INVITE", Some(answer)), BOB_SIP, t(1));
    assert_eq!(bound(&ev).len(), 6, "{ev:?}");
    // Each of Bob's addresses, any port, talking with Alice's (non-target) port is the
    // call; a third host is not.
    for bob in [
        "198.51.100.20:9",
        "198.51.100.21:3460",
        "198.51.100.22:7777",
    ] {
        assert_eq!(h.media(bob, ALICE_RTP, t(2)).map(|m| m.call), Some(call));
        assert_eq!(h.media(ALICE_RTP, bob, t(2)).map(|m| m.call), Some(call));
    }
    assert_eq!(h.media(STRANGER, ALICE_RTP, t(2)), None);
    assert_eq!(h.media(ALICE_RTP, STRANGER, t(2)), None);
    assert_eq!(h.tracker.stats().media_foreign, 2);
}

/// A flow entry keeps a flow's address only as its key: the flow it gives back is the one
/// bound, in the form it was written (IPv4, IPv6, or IPv4 written as mapped IPv6).
#[test]
fn a_flow_entry_gives_back_the_flow_bound() {
    for addr in [
        "192.0.2.1:49170",
        "[2001:db8::7]:5004",
        "[::ffff:192.0.2.1]:49170",
    ] {
        let flow = MediaFlow {
            addr: addr.parse().unwrap(),
            party: Party::Callee,
            stream: 3,
            kind: MediaProtocol::Rtcp,
            source: FlowSource::SignallingPeer,
        };
        let key = super::FlowKey::of(flow.addr);
        let bound = super::BoundFlow::of(&flow);
        assert_eq!(bound.media_flow(key), flow, "{addr}");
        assert!(bound.is(&flow));
        let other_party = MediaFlow {
            party: Party::Caller,
            ..flow
        };
        assert!(!bound.is(&other_party));
    }
    // An IPv4 address and its mapped form share a key, but are different flows.
    let v4: std::net::SocketAddr = "192.0.2.1:49170".parse().unwrap();
    let mapped: std::net::SocketAddr = "[::ffff:192.0.2.1]:49170".parse().unwrap();
    assert_eq!(super::FlowKey::of(v4), super::FlowKey::of(mapped));
}

/// A forgotten call's slot goes to the next call, under a handle never given before; a
/// stale handle finds nothing, and media of the new call name the new handle.
#[test]
fn a_forgotten_calls_slot_is_reused_under_a_new_handle() {
    let mut h = Harness::new();
    let d = Dlg::new("first-call", ALICE, BOB);
    let first = h.established(&d);
    let b = d.tagged("a6c85cf");
    h.sip(&b.req("BYE", 2, None), ALICE_SIP, t(60));
    h.sip(&b.resp(200, 2, "BYE", None), BOB_SIP, t(60));
    assert!(h.timer(t(60 + 33)).is_empty());
    assert_eq!(h.tracker.call_by_id("first-call"), None);

    let d2 = Dlg::new("second-call", ALICE, BOB);
    let ev = h.sip(&d2.req("INVITE", 1, Some(&alice_sdp())), ALICE_SIP, t(100));
    let second = begun(&ev);
    assert_eq!(second.slot(), first.slot());
    assert_ne!(second, first);
    assert_eq!(h.tracker.call(first), None);
    assert!(h.tracker.call(second).is_some());
    let hit = h.media(BOB_RTP, ALICE_RTP, t(101)).unwrap();
    assert_eq!(hit.call, second);
    // Two calls at once hold two slots.
    let d3 = Dlg::new("third-call", CAROL, BOB);
    let third = begun(&h.sip(&d3.req("INVITE", 1, None), "203.0.113.5:5060", t(102)));
    assert_ne!(third.slot(), second.slot());
    assert!(third.slot() < 2);
}

/// Slots: the last freed is taken first with the next generation; a stale handle frees
/// nothing; a slot whose generation is exhausted is retired.
#[test]
fn slots_never_give_a_handle_twice() {
    let mut s = super::Slots::default();
    let (a, b) = (s.allocate(), s.allocate());
    assert_eq!((a as u32, b as u32), (0, 1));
    s.release(a);
    let c = s.allocate();
    assert_eq!(c as u32, 0);
    assert_ne!(c, a);
    s.release(a); // stale: slot 0 holds `c`
    assert_eq!(s.allocate() as u32, 2);

    let mut s = super::Slots::default();
    let first = s.allocate();
    s.generations[0] = u32::MAX - 1;
    s.release((first & 0xffff_ffff) | (u64::from(u32::MAX - 1) << 32));
    let last = s.allocate();
    assert_eq!(last, u64::from(u32::MAX) << 32, "slot 0, last generation");
    s.release(last);
    assert_eq!(s.allocate() as u32, 1, "slot 0 retired");
}
