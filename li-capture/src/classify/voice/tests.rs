//! The voice path: which packets become IRI and CC of which task and call, and that
//! nothing else does. Frames are raw IP packets built with `synth::packet`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use li_core::{
    CcKind, Cin, DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptRecord,
    InterceptScope, IriEvent, IriType, Liid, MediaProtocol, PayloadDirection, TargetIdentifier,
    Task, Timestamp, ValidityWindow, Xid,
};

use super::VoiceConfig;
use crate::LinkType;
use crate::classify::{Classifier, ClassifierConfig};
use crate::sip::CallConfig;
use crate::synth::packet::{self, ACK, IpParams, PROTO_TCP, PROTO_UDP, PSH, SYN};

fn t(ms: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_700_000_000 + ms / 1000, ((ms % 1000) * 1000) as u32).unwrap()
}

fn task_with(n: u8, targets: &[&str], scope: InterceptScope, window: ValidityWindow) -> Task {
    let dest = Destination::new(
        DestinationId::from_bytes([n; 16]),
        DeliveryAddress::new("lemf.example", 5000, true),
        Some(DeliveryAddress::new("lemf.example", 5001, true)),
        HandoverFormat::etsi_default(),
    );
    Task::new(
        Liid::new(format!("LIID-{n}").as_bytes()).unwrap(),
        Xid::from_bytes([n; 16]),
        targets
            .iter()
            .map(|t| t.parse::<TargetIdentifier>().unwrap())
            .collect(),
        scope,
        window,
        vec![dest],
    )
    .unwrap()
}

fn task(n: u8, targets: &[&str]) -> Task {
    task_with(
        n,
        targets,
        InterceptScope::IriAndCc,
        ValidityWindow::new(t(0), None).unwrap(),
    )
}

fn classifier(tasks: Vec<Task>) -> Classifier {
    let config = ClassifierConfig {
        voice: VoiceConfig {
            calls: CallConfig {
                inactivity_timeout: Duration::from_secs(60),
                ..CallConfig::default()
            },
            ..VoiceConfig::default()
        },
        ..ClassifierConfig::default()
    };
    let mut c = Classifier::new(config);
    let mut out = Vec::new();
    c.activate_all(tasks, t(0), &mut out);
    assert!(out.is_empty(), "no IP target, no begin record: {out:?}");
    c
}

/// A record, reduced to what the tests assert: the task (first XID octet), the CIN, and
/// for IRI its type and the SIP start line, for CC its direction and ports.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rec {
    Iri(u8, Cin, IriType, String),
    Cc(u8, Cin, PayloadDirection, u16, u16),
}

fn reduce(records: &[InterceptRecord]) -> Vec<Rec> {
    records
        .iter()
        .map(|r| match r {
            InterceptRecord::Iri(iri) => {
                let IriEvent::Sip(sip) = &iri.event else {
                    panic!("not a SIP IRI: {iri:?}")
                };
                let text = String::from_utf8_lossy(&sip.message);
                let line = text.lines().next().unwrap_or_default().to_owned();
                Rec::Iri(iri.xid.as_bytes()[0], iri.cin, iri.iri_type, line)
            }
            InterceptRecord::Cc(cc) => {
                let CcKind::Media(flow) = cc.kind else {
                    panic!("not media: {cc:?}")
                };
                assert_eq!(flow.protocol, MediaProtocol::Rtp);
                assert_eq!(&cc.payload[..], RTP, "the RTP packet, UDP payload only");
                Rec::Cc(
                    cc.xid.as_bytes()[0],
                    cc.cin,
                    cc.direction,
                    flow.source.port(),
                    flow.destination.port(),
                )
            }
        })
        .collect()
}

const RTP: &[u8] = &[
    0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef, 0xff,
];

/// The hosts: Alice (the target, `sip:alice@example.com`) and Bob.
fn alice() -> IpAddr {
    "192.0.2.10".parse().unwrap()
}
fn bob() -> IpAddr {
    "198.51.100.20".parse().unwrap()
}
fn alice6() -> IpAddr {
    "2001:db8::10".parse().unwrap()
}
fn bob6() -> IpAddr {
    "2001:db8:1::20".parse().unwrap()
}

const PARAMS: IpParams = IpParams {
    ttl: 64,
    id: 7,
    df: false,
};

fn udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let l4 = packet::udp(src.port(), dst.port(), payload);
    packet::ip_packet(src.ip(), dst.ip(), PROTO_UDP, PARAMS, l4)
}

fn tcp(src: SocketAddr, dst: SocketAddr, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let l4 = packet::tcp(src.port(), dst.port(), seq, 1, flags, 65535, payload);
    packet::ip_packet(src.ip(), dst.ip(), PROTO_TCP, PARAMS, l4)
}

/// One SIP message. `from`/`to` are user@host; `to_tag` adds the callee's tag; `sdp`
/// the media address.
struct Msg<'a> {
    start: &'a str,
    call_id: &'a str,
    from: &'a str,
    to: &'a str,
    to_tag: bool,
    cseq: &'a str,
    sdp: Option<SocketAddr>,
}

impl Msg<'_> {
    fn bytes(&self) -> Vec<u8> {
        let body = self.sdp.map(|m| {
            let (kind, ip) = match m.ip() {
                IpAddr::V4(a) => ("IP4", a.to_string()),
                IpAddr::V6(a) => ("IP6", a.to_string()),
            };
            format!(
                "v=0\r\no=- 53655765 2353687637 IN {kind} {ip}\r\ns=-\r\nc=IN {kind} {ip}\r\n\
                 t=0 0\r\nm=audio {} RTP/AVP 0\r\n",
                m.port()
            )
        });
        let to_tag = if self.to_tag { ";tag=b0b" } else { "" };
        let mut s = format!(
            "{}\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK{}\r\nFrom: <sip:{}>;tag=a1ce\r\n\
             To: <sip:{}>{to_tag}\r\nCall-ID: {}\r\nCSeq: {}\r\nMax-Forwards: 70\r\n",
            self.start,
            self.cseq.replace(' ', ""),
            self.from,
            self.to,
            self.call_id,
            self.cseq
        );
        match body {
            Some(b) => {
                s.push_str(&format!(
                    "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
                    b.len()
                ));
            }
            None => s.push_str("Content-Length: 0\r\n\r\n"),
        }
        s.into_bytes()
    }
}

/// The messages of a call from `from` to `to` (user@host), with media at `a_media` and
/// `b_media`: INVITE, 200, ACK, BYE, 200 to the BYE.
fn call_messages(
    call_id: &str,
    from: &str,
    to: &str,
    a_media: SocketAddr,
    b_media: SocketAddr,
) -> [Vec<u8>; 5] {
    let m = |start, to_tag, cseq, sdp| {
        Msg {
            start,
            call_id,
            from,
            to,
            to_tag,
            cseq,
            sdp,
        }
        .bytes()
    };
    let invite_line = format!("INVITE sip:{to} SIP/2.0");
    let ack_line = format!("ACK sip:{to} SIP/2.0");
    let bye_line = format!("BYE sip:{to} SIP/2.0");
    [
        m(&invite_line, false, "1 INVITE", Some(a_media)),
        m("SIP/2.0 200 OK", true, "1 INVITE", Some(b_media)),
        m(&ack_line, true, "1 ACK", None),
        m(&bye_line, true, "2 BYE", None),
        m("SIP/2.0 200 OK", true, "2 BYE", None),
    ]
}

/// Feeds frames in order, one per `step` ms from `start`; returns the records of each.
fn feed(c: &mut Classifier, start: u64, frames: &[Vec<u8>]) -> Vec<Vec<Rec>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut out = Vec::new();
            c.classify(t(start + 20 * i as u64), LinkType::RawIp, f, &mut out);
            reduce(&out)
        })
        .collect()
}

fn sa(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// The frames of a whole call over UDP, Alice calling Bob, RTP both ways between answer and
/// BYE, and one more RTP packet after the BYE.
fn udp_call(a: IpAddr, b: IpAddr, call_id: &str, from: &str, to: &str) -> Vec<Vec<u8>> {
    let (a_sip, b_sip) = (sa(a, 5060), sa(b, 5060));
    let (a_rtp, b_rtp) = (sa(a, 40000), sa(b, 50000));
    let [invite, ok, ack, bye, bye_ok] = call_messages(call_id, from, to, a_rtp, b_rtp);
    vec![
        udp(a_sip, b_sip, &invite),
        udp(b_sip, a_sip, &ok),
        udp(a_sip, b_sip, &ack),
        udp(a_rtp, b_rtp, RTP),
        udp(b_rtp, a_rtp, RTP),
        udp(a_sip, b_sip, &bye),
        udp(b_sip, a_sip, &bye_ok),
        udp(a_rtp, b_rtp, RTP),
    ]
}

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.net";

fn iri(n: u8, cin: Cin, t: IriType, line: &str) -> Rec {
    Rec::Iri(n, cin, t, line.to_owned())
}

/// The records a whole target call from Alice gives task `n` under `cin`.
fn expected_call(n: u8, cin: Cin) -> Vec<Vec<Rec>> {
    use PayloadDirection::{FromTarget, ToTarget};
    vec![
        vec![iri(
            n,
            cin,
            IriType::Begin,
            "INVITE sip:bob@example.net SIP/2.0",
        )],
        vec![iri(n, cin, IriType::Continue, "SIP/2.0 200 OK")],
        vec![iri(
            n,
            cin,
            IriType::Continue,
            "ACK sip:bob@example.net SIP/2.0",
        )],
        vec![Rec::Cc(n, cin, FromTarget, 40000, 50000)],
        vec![Rec::Cc(n, cin, ToTarget, 50000, 40000)],
        vec![iri(
            n,
            cin,
            IriType::Continue,
            "BYE sip:bob@example.net SIP/2.0",
        )],
        vec![iri(n, cin, IriType::End, "SIP/2.0 200 OK")],
        vec![],
    ]
}

fn first_cin(recs: &[Vec<Rec>]) -> Cin {
    match recs.iter().flatten().next() {
        Some(Rec::Iri(_, cin, ..) | Rec::Cc(_, cin, ..)) => *cin,
        None => panic!("no record"),
    }
}

#[test]
fn a_call_from_the_target_gives_its_sip_as_iri_and_its_media_both_ways_as_cc() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice(), bob(), "call-1", ALICE, BOB),
    );
    let cin = first_cin(&got);
    assert_eq!(got, expected_call(1, cin));
    // Then a call between two others on the same hosts and ports: nothing of it.
    let other = udp_call(alice(), bob(), "call-2", "carol@example.com", BOB);
    let got = feed(&mut c, 5000, &other);
    assert!(got.iter().all(Vec::is_empty), "{got:?}");
    let s = c.stats();
    assert_eq!((s.sip_messages, s.sip_matched), (10, 5));
    assert_eq!((s.calls_tracked, s.calls_active), (1, 0));
    assert_eq!((s.media_packets, s.cc_records, s.iri_records), (2, 2, 5));
}

#[test]
fn two_tasks_on_one_call_each_get_it_under_a_cin_of_their_own() {
    let mut c = classifier(vec![
        task(1, &["sip:alice@example.com"]),
        task(2, &["sip:bob@example.net"]),
    ]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice(), bob(), "call-1", ALICE, BOB),
    );
    let cins = [task_cin(&got, 1), task_cin(&got, 2)];
    assert_ne!(cins[0], cins[1]);
    // Both parties are targets, of different tasks: each task gets the direction of its
    // own target (Bob's task sees Alice's packets as to its target, his as from it).
    let want: Vec<Vec<Rec>> = expected_call(1, cins[0])
        .into_iter()
        .zip(expected_call(2, cins[1]).into_iter().map(reversed))
        .map(|(one, two)| [one, two].concat())
        .collect();
    assert_eq!(by_task(got), want);
}

/// The CIN of task `n`'s first IRI record.
fn task_cin(got: &[Vec<Rec>], n: u8) -> Cin {
    got.iter()
        .flatten()
        .find_map(|r| match r {
            Rec::Iri(x, cin, ..) if *x == n => Some(*cin),
            _ => None,
        })
        .unwrap()
}

/// The records of each packet in task order (they come in the order its headers name
/// the tasks' targets).
fn by_task(mut got: Vec<Vec<Rec>>) -> Vec<Vec<Rec>> {
    for recs in &mut got {
        recs.sort_by_key(|r| match r {
            Rec::Iri(x, ..) | Rec::Cc(x, ..) => *x,
        });
    }
    got
}

/// The records with each media packet's direction changed by `f`.
fn redirected(recs: Vec<Rec>, f: impl Fn(PayloadDirection) -> PayloadDirection) -> Vec<Rec> {
    recs.into_iter()
        .map(|r| match r {
            Rec::Cc(x, cin, direction, s, d) => Rec::Cc(x, cin, f(direction), s, d),
            r => r,
        })
        .collect()
}

/// The records with the media's direction seen from the other party.
fn reversed(recs: Vec<Rec>) -> Vec<Rec> {
    redirected(recs, |direction| match direction {
        PayloadDirection::FromTarget => PayloadDirection::ToTarget,
        PayloadDirection::ToTarget => PayloadDirection::FromTarget,
        other => other,
    })
}

#[test]
fn both_parties_targets_of_one_task_give_indeterminate_media() {
    let mut c = classifier(vec![
        task(1, &["sip:alice@example.com", "sip:bob@example.net"]),
        task(2, &["sip:bob@example.net"]),
    ]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice(), bob(), "call-1", ALICE, BOB),
    );
    // Task 1 has both parties: indeterminate; task 2 has Bob: its own direction.
    let want: Vec<Vec<Rec>> = expected_call(1, task_cin(&got, 1))
        .into_iter()
        .map(|recs| redirected(recs, |_| PayloadDirection::Indeterminate))
        .zip(
            expected_call(2, task_cin(&got, 2))
                .into_iter()
                .map(reversed),
        )
        .map(|(one, two)| [one, two].concat())
        .collect();
    assert_eq!(by_task(got), want);
}

#[test]
fn ipv6_call() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice6(), bob6(), "call-6", ALICE, BOB),
    );
    assert_eq!(got, expected_call(1, first_cin(&got)));
}

#[test]
fn an_e164_target_named_in_a_user_phone_uri() {
    let mut c = classifier(vec![task(1, &["tel:+4930123456"])]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(
            alice(),
            bob(),
            "call-t",
            "+49-30-123456@gw.example;user=phone",
            BOB,
        ),
    );
    assert_eq!(got, expected_call(1, first_cin(&got)));
}

#[test]
fn an_iri_only_task_gets_the_sip_and_no_media() {
    let window = ValidityWindow::new(t(0), None).unwrap();
    let mut c = classifier(vec![task_with(
        1,
        &["sip:alice@example.com"],
        InterceptScope::IriOnly,
        window,
    )]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice(), bob(), "call-1", ALICE, BOB),
    );
    let mut want = expected_call(1, first_cin(&got));
    want[3].clear();
    want[4].clear();
    assert_eq!(got, want);
    // The media were seen as the call's, just not delivered.
    assert_eq!(c.stats().media_packets, 2);
}

#[test]
fn a_window_opening_and_closing_during_a_call() {
    // Frames at 1000 + 20 i ms: the window opens at 1.03 s (after the 200, before the ACK)
    // and closes at 1.09 s (after the first RTP packet... see below).
    let frames = udp_call(alice(), bob(), "call-w", ALICE, BOB);
    // Opens between the 200 OK (1.02) and the ACK (1.04): the ACK begins, media follow.
    let window = ValidityWindow::new(t(1030), Some(t(1090))).unwrap();
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task_with(
            1,
            &["sip:alice@example.com"],
            InterceptScope::IriAndCc,
            window,
        ),
        t(0),
        &mut out,
    );
    let got = feed(&mut c, 1000, &frames);
    let cin = first_cin(&got);
    use PayloadDirection::{FromTarget, ToTarget};
    // The window closes at 1.09, before the BYE (1.10): an IRI-End repeating the last message
    // the task got (the ACK) comes with the first packet after it, and nothing else.
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec![iri(
                1,
                cin,
                IriType::Begin,
                "ACK sip:bob@example.net SIP/2.0"
            )],
            vec![Rec::Cc(1, cin, FromTarget, 40000, 50000)],
            vec![Rec::Cc(1, cin, ToTarget, 50000, 40000)],
            vec![iri(1, cin, IriType::End, "ACK sip:bob@example.net SIP/2.0")],
            vec![],
            vec![],
        ]
    );
}

#[test]
fn a_task_activated_during_a_call_starts_with_its_next_message() {
    let frames = udp_call(alice(), bob(), "call-m", ALICE, BOB);
    // Another task keeps the call tracked from its INVITE.
    let mut c = classifier(vec![task(2, &["sip:bob@example.net"])]);
    let before = feed(&mut c, 1000, &frames[..4]);
    assert_eq!(before.iter().flatten().count(), 4);
    let mut out = Vec::new();
    c.activate(task(1, &["sip:alice@example.com"]), t(1070), &mut out);
    assert!(out.is_empty());
    let after = feed(&mut c, 1080, &frames[4..]);
    let only1: Vec<Vec<Rec>> = after
        .iter()
        .map(|r| {
            r.iter()
                .filter(|r| matches!(r, Rec::Iri(1, ..) | Rec::Cc(1, ..)))
                .cloned()
                .collect()
        })
        .collect();
    let cin = first_cin(&only1);
    assert!(
        !before
            .iter()
            .flatten()
            .any(|r| matches!(r, Rec::Iri(_, c, ..) | Rec::Cc(_, c, ..) if *c == cin))
    );
    // The RTP packet before its first message is not its; the BYE begins, its 200 ends.
    assert_eq!(
        only1,
        vec![
            vec![],
            vec![iri(
                1,
                cin,
                IriType::Begin,
                "BYE sip:bob@example.net SIP/2.0"
            )],
            vec![iri(1, cin, IriType::End, "SIP/2.0 200 OK")],
            vec![],
        ]
    );
    // A task activated just before the call's last message gets it as a lone IRI-Report
    // (no session of one message that would end without a Begin), under a CIN of its own.
    let mut c = classifier(vec![task(2, &["sip:bob@example.net"])]);
    feed(&mut c, 1000, &frames[..6]);
    let mut out = Vec::new();
    c.activate(task(3, &["sip:alice@example.com"]), t(1090), &mut out);
    let last = feed(&mut c, 1100, &frames[6..7]);
    let only3: Vec<&Rec> = last
        .iter()
        .flatten()
        .filter(|r| matches!(r, Rec::Iri(3, ..) | Rec::Cc(3, ..)))
        .collect();
    assert_eq!(only3.len(), 1, "{last:?}");
    assert!(
        matches!(only3[0], Rec::Iri(3, _, IriType::Report, m) if m.starts_with("SIP/2.0 200 OK")),
        "{only3:?}"
    );
    // And a task activated with no call tracked: its target's call is found mid-call too.
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let got = feed(&mut c, 1000, &frames[2..]);
    let cin = first_cin(&got);
    // Its media are bound from the next SDP: this call has none left.
    assert_eq!(
        got,
        vec![
            vec![iri(
                1,
                cin,
                IriType::Begin,
                "ACK sip:bob@example.net SIP/2.0"
            )],
            vec![],
            vec![],
            vec![iri(
                1,
                cin,
                IriType::Continue,
                "BYE sip:bob@example.net SIP/2.0"
            )],
            vec![iri(1, cin, IriType::End, "SIP/2.0 200 OK")],
            vec![],
        ]
    );
}

#[test]
fn deactivation_stops_at_once_with_an_end_repeating_the_last_message() {
    let frames = udp_call(alice(), bob(), "call-d", ALICE, BOB);
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let got = feed(&mut c, 1000, &frames[..4]);
    let cin = first_cin(&got);
    let mut out = Vec::new();
    assert!(c.deactivate(Xid::from_bytes([1; 16]), t(1070), &mut out));
    assert_eq!(
        reduce(&out),
        vec![iri(1, cin, IriType::End, "ACK sip:bob@example.net SIP/2.0")]
    );
    let got = feed(&mut c, 1080, &frames[4..]);
    assert!(got.iter().all(Vec::is_empty), "{got:?}");
}

#[test]
fn a_call_that_goes_quiet_ends_by_timeout_repeating_its_last_message() {
    let frames = udp_call(alice(), bob(), "call-q", ALICE, BOB);
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let got = feed(&mut c, 1000, &frames[..5]);
    let cin = first_cin(&got);
    // 60 s of nothing (the test's inactivity timeout): advancing the time ends the call.
    let mut out = Vec::new();
    c.advance(t(30_000), &mut out);
    assert!(out.is_empty());
    c.advance(t(62_000), &mut out);
    assert_eq!(
        reduce(&out),
        vec![iri(1, cin, IriType::End, "ACK sip:bob@example.net SIP/2.0")]
    );
    assert_eq!((c.stats().calls_timed_out, c.stats().calls_active), (1, 0));
    // Its media ports are released.
    let got = feed(&mut c, 63_000, &frames[3..5]);
    assert!(got.iter().all(Vec::is_empty), "{got:?}");
}

#[test]
fn register_of_a_target_is_a_report() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let register = Msg {
        start: "REGISTER sip:example.com SIP/2.0",
        call_id: "reg-1",
        from: ALICE,
        to: ALICE,
        to_tag: false,
        cseq: "1 REGISTER",
        sdp: None,
    }
    .bytes();
    let register = String::from_utf8(register).unwrap().replace(
        "Max-Forwards: 70\r\n",
        "Contact: <sip:alice@192.0.2.10>\r\nExpires: 3600\r\n",
    );
    let frames = vec![udp(sa(alice(), 5060), sa(bob(), 5060), register.as_bytes())];
    let got = feed(&mut c, 1000, &frames);
    let cin = first_cin(&got);
    assert_eq!(
        got,
        vec![vec![iri(
            1,
            cin,
            IriType::Report,
            "REGISTER sip:example.com SIP/2.0"
        )]]
    );
    assert_eq!(c.stats().calls_tracked, 0);
}

/// A message of Alice's registration on `call_id`, with `extra` header lines.
fn reg(start: &str, call_id: &str, cseq: &str, to_tag: bool, extra: &str) -> Vec<u8> {
    let m = Msg {
        start,
        call_id,
        from: ALICE,
        to: ALICE,
        to_tag,
        cseq,
        sdp: None,
    }
    .bytes();
    let text = String::from_utf8(m).unwrap();
    let text = text.replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: 70\r\n{extra}"),
    );
    udp(sa(alice(), 5060), sa(bob(), 5060), text.as_bytes())
}

/// The CIN and type of the single IRI of task `n` the frame gave, and nothing else.
fn one_report(c: &mut Classifier, ms: u64, frame: Vec<u8>) -> Cin {
    let got = feed(c, ms, &[frame]);
    match got.as_slice() {
        [recs] => match recs.as_slice() {
            [Rec::Iri(1, cin, IriType::Report, _)] => *cin,
            other => panic!("not one IRI-Report of task 1: {other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_messages_of_one_registration_share_a_cin_until_it_expires() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    const R: &str = "REGISTER sip:example.com SIP/2.0";
    let contact = |expires: u32| format!("Contact: <sip:alice@192.0.2.10>;expires={expires}\r\n");
    // REGISTER, its challenge, the REGISTER with credentials, its 200 granting 600 s.
    let cin = one_report(
        &mut c,
        1000,
        reg(R, "reg-1", "1 REGISTER", false, "Expires: 3600\r\n"),
    );
    let ok = "SIP/2.0 200 OK";
    let challenge = "SIP/2.0 401 Unauthorized";
    let creds = "Authorization: Digest username=\"alice\", realm=\"example.com\"\r\n";
    let exchange = [
        reg(challenge, "reg-1", "1 REGISTER", true, ""),
        reg(
            R,
            "reg-1",
            "2 REGISTER",
            false,
            &format!("{creds}Expires: 3600\r\n"),
        ),
        reg(ok, "reg-1", "2 REGISTER", true, &contact(600)),
    ];
    for (i, frame) in exchange.into_iter().enumerate() {
        assert_eq!(one_report(&mut c, 1100 + 100 * i as u64, frame), cin);
    }
    // Another registration (another Call-ID) has a CIN of its own.
    let other = one_report(&mut c, 2000, reg(R, "reg-2", "1 REGISTER", false, ""));
    assert_ne!(other, cin);
    // The refresh 500 s later, within the 600 s granted (and the linger): the same CIN.
    let refresh = reg(R, "reg-1", "3 REGISTER", false, &contact(600));
    assert_eq!(one_report(&mut c, 501_000, refresh), cin);
    let granted = reg(ok, "reg-1", "3 REGISTER", true, &contact(600));
    assert_eq!(one_report(&mut c, 501_100, granted), cin);
    // No message for longer than the 600 s granted plus the 32 s linger: a new CIN.
    let late = reg(R, "reg-1", "4 REGISTER", false, &contact(600));
    let renewed = one_report(&mut c, 501_100 + 633_000, late);
    assert!(renewed != cin && renewed != other);
    // A de-registration keeps it for the linger only.
    let bye = reg(
        R,
        "reg-1",
        "5 REGISTER",
        false,
        "Contact: *\r\nExpires: 0\r\n",
    );
    assert_eq!(one_report(&mut c, 1_135_000, bye), renewed);
    let again = reg(R, "reg-1", "6 REGISTER", false, &contact(600));
    assert_ne!(one_report(&mut c, 1_135_000 + 33_000, again), renewed);
    // An OPTIONS and its 200 share one; the transaction's linger later, another.
    let mut opt = |start, ms, tag| {
        let frame = reg(start, "opt-1", "1 OPTIONS", tag, "");
        one_report(&mut c, ms, frame)
    };
    let o = opt("OPTIONS sip:alice@example.com SIP/2.0", 1_200_000, false);
    assert_eq!(opt(ok, 1_200_100, true), o);
    assert_ne!(opt(ok, 1_200_100 + 33_000, true), o);
    assert_eq!(c.stats().sip_registrations_evicted, 0);
}

#[test]
fn registrations_remembered_are_bounded() {
    let config = ClassifierConfig {
        voice: VoiceConfig {
            max_registrations: 1,
            ..VoiceConfig::default()
        },
        ..ClassifierConfig::default()
    };
    let mut c = Classifier::new(config);
    let mut out = Vec::new();
    c.activate_all(vec![task(1, &["sip:alice@example.com"])], t(0), &mut out);
    const R: &str = "REGISTER sip:example.com SIP/2.0";
    let one = one_report(&mut c, 1000, reg(R, "reg-1", "1 REGISTER", false, ""));
    let two = one_report(&mut c, 1100, reg(R, "reg-2", "1 REGISTER", false, ""));
    assert_eq!(
        one_report(&mut c, 1200, reg(R, "reg-2", "2 REGISTER", false, "")),
        two
    );
    // reg-1 was evicted for reg-2: its next message starts afresh (and evicts reg-2).
    let three = one_report(&mut c, 1300, reg(R, "reg-1", "2 REGISTER", false, ""));
    assert!(three != one && three != two);
    let s = c.stats();
    assert_eq!((s.sip_registrations, s.sip_registrations_evicted), (1, 2));
}

#[test]
fn late_messages_of_an_ended_call_keep_its_cin_for_the_linger() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice(), bob(), "call-1", ALICE, BOB),
    );
    let cin = first_cin(&got);
    assert_eq!(got, expected_call(1, cin));
    let [.., bye_ok] = call_messages("call-1", ALICE, BOB, sa(alice(), 40000), sa(bob(), 50000));
    let again = || udp(sa(bob(), 5060), sa(alice(), 5060), &bye_ok);
    // The 200 to the BYE retransmitted within the linger: an IRI-Report of the call.
    assert_eq!(one_report(&mut c, 3000, again()), cin);
    assert_eq!(one_report(&mut c, 20_000, again()), cin);
    // After it (the tracker forgot the call too): a report of no call, under a CIN of its
    // own.
    let later = one_report(&mut c, 40_000, again());
    assert_ne!(later, cin);
    assert_eq!(c.stats().sip_ended_calls_evicted, 0);
}

#[test]
fn tcp_flows_together_hold_no_more_than_their_octet_bound() {
    let [invite, ..] = call_messages(
        "call-held",
        ALICE,
        BOB,
        sa(alice(), 40000),
        sa(bob(), 50000),
    );
    let cut = invite.len() - 10;
    let config = ClassifierConfig {
        voice: VoiceConfig {
            max_tcp_octets: invite.len() + 50,
            ..VoiceConfig::default()
        },
        ..ClassifierConfig::default()
    };
    let mut c = Classifier::new(config);
    let mut out = Vec::new();
    c.activate_all(vec![task(1, &["sip:alice@example.com"])], t(0), &mut out);
    // One flow holds most of a message; a second one's 100 octets do not fit beside it.
    let a = tcp(
        sa(alice(), 40001),
        sa(bob(), 5060),
        1,
        ACK | PSH,
        &invite[..cut],
    );
    let b = tcp(
        sa(alice(), 40002),
        sa(bob(), 5060),
        1,
        ACK | PSH,
        &invite[..100],
    );
    feed(&mut c, 1000, &[a, b]);
    assert_eq!(c.stats().sip_tcp_flows, 1);
    assert_eq!(c.stats().sip_tcp_flows_refused, 1);
    // The first flow goes on and completes its message.
    let rest = tcp(
        sa(alice(), 40001),
        sa(bob(), 5060),
        1 + cut as u32,
        ACK | PSH,
        &invite[cut..],
    );
    let got = feed(&mut c, 2000, &[rest]);
    assert!(
        matches!(got.as_slice(), [r] if matches!(r.as_slice(), [Rec::Iri(1, _, IriType::Begin, m)] if m.starts_with("INVITE"))),
        "{got:?}"
    );
}

#[test]
fn sip_over_tcp_split_across_segments_and_retransmitted() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let (a_sip, b_sip) = (sa(alice(), 40123), sa(bob(), 5060));
    let (a_rtp, b_rtp) = (sa(alice(), 40000), sa(bob(), 50000));
    let [invite, ok, ack, bye, bye_ok] = call_messages("call-tcp", ALICE, BOB, a_rtp, b_rtp);
    let (i1, i2) = invite.split_at(100);
    let len = |b: &[u8]| b.len() as u32;
    let a_seq = 1000u32;
    let b_seq = 9000u32;
    // ACK and BYE in one segment.
    let ack_bye = [ack.clone(), bye.clone()].concat();
    let frames = vec![
        tcp(a_sip, b_sip, a_seq - 1, SYN, b""),
        tcp(a_sip, b_sip, a_seq, ACK | PSH, i1),
        // The first part again (a retransmission): nothing new.
        tcp(a_sip, b_sip, a_seq, ACK | PSH, i1),
        tcp(a_sip, b_sip, a_seq + len(i1), ACK | PSH, i2),
        tcp(b_sip, a_sip, b_seq, ACK | PSH, &ok),
        udp(a_rtp, b_rtp, RTP),
        tcp(a_sip, b_sip, a_seq + len(&invite), ACK | PSH, &ack_bye),
        tcp(b_sip, a_sip, b_seq + len(&ok), ACK | PSH, &bye_ok),
    ];
    let got = feed(&mut c, 1000, &frames);
    let cin = first_cin(&got);
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec![],
            vec![iri(
                1,
                cin,
                IriType::Begin,
                "INVITE sip:bob@example.net SIP/2.0"
            )],
            vec![iri(1, cin, IriType::Continue, "SIP/2.0 200 OK")],
            vec![Rec::Cc(1, cin, PayloadDirection::FromTarget, 40000, 50000)],
            vec![
                iri(1, cin, IriType::Continue, "ACK sip:bob@example.net SIP/2.0"),
                iri(1, cin, IriType::Continue, "BYE sip:bob@example.net SIP/2.0"),
            ],
            vec![iri(1, cin, IriType::End, "SIP/2.0 200 OK")],
        ]
    );
    let s = c.stats();
    assert_eq!(
        (s.sip_messages, s.sip_tcp_duplicates, s.sip_tcp_flows),
        (5, 1, 2)
    );
}

/// An IPv4 packet cut into two fragments at `cut` (a multiple of 8) of its payload.
fn fragment_v4(ip: &[u8], cut: usize) -> (Vec<u8>, Vec<u8>) {
    let (header, payload) = ip.split_at(20);
    let (p1, p2) = payload.split_at(cut);
    let frag = |flags_offset: u16, data: &[u8]| {
        let mut h = header.to_vec();
        h[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        h[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let c = packet::checksum(0, &h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        [h, data.to_vec()].concat()
    };
    (frag(0x2000, p1), frag((cut / 8) as u16, p2))
}

#[test]
fn a_fragmented_invite_is_reassembled() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let mut frames = udp_call(alice(), bob(), "call-f", ALICE, BOB);
    let (f1, f2) = fragment_v4(&frames[0], 200);
    // The second fragment first: reassembly takes them in any order.
    frames.splice(0..1, [f2, f1]);
    let got = feed(&mut c, 1000, &frames);
    let cin = first_cin(&got);
    let mut want = expected_call(1, cin);
    want.insert(0, vec![]);
    assert_eq!(got, want);
    assert_eq!(c.stats().sip_fragments_reassembled, 1);
}

#[test]
fn a_fragmented_media_packet_of_a_call_is_its_cc_whole() {
    let mut c = classifier(vec![task(1, &["sip:alice@example.com"])]);
    let frames = udp_call(alice(), bob(), "call-fm", ALICE, BOB);
    let got = feed(&mut c, 1000, &frames[..3]);
    let cin = first_cin(&got);
    // A 3,000-octet media datagram (a video frame, say) from Alice to Bob, in two fragments,
    // the second first; and one between two strangers, fragmented too: not the call's.
    let (a_rtp, b_rtp) = (sa(alice(), 40000), sa(bob(), 50000));
    let big: Vec<u8> = RTP.iter().copied().cycle().take(3_000).collect();
    let (f1, f2) = fragment_v4(&udp(a_rtp, b_rtp, &big), 1_480);
    let other = "192.0.2.77".parse().unwrap();
    let (g1, g2) = fragment_v4(&udp(sa(other, 40000), sa(other, 50000), &big), 1_480);
    let mut out = Vec::new();
    for (i, f) in [f2, f1, g1, g2].iter().enumerate() {
        c.classify(t(1100 + i as u64), LinkType::RawIp, f, &mut out);
    }
    let cc: Vec<&li_core::CcRecord> = out
        .iter()
        .filter_map(|r| match r {
            InterceptRecord::Cc(cc) => Some(cc),
            InterceptRecord::Iri(_) => None,
        })
        .collect();
    assert_eq!(cc.len(), 1, "{out:?}");
    assert_eq!((cc[0].cin, &cc[0].payload[..]), (cin, &big[..]));
    assert!(matches!(cc[0].kind, CcKind::Media(f) if f.source == a_rtp && f.destination == b_rtp));
}

#[test]
fn only_the_configured_sip_ports_are_signalling() {
    let config = ClassifierConfig {
        voice: VoiceConfig {
            sip_ports: vec![5080],
            ..VoiceConfig::default()
        },
        ..ClassifierConfig::default()
    };
    let mut c = Classifier::new(config);
    let mut out = Vec::new();
    c.activate(task(1, &["sip:alice@example.com"]), t(0), &mut out);
    // On 5060: not SIP here, nothing.
    let got = feed(
        &mut c,
        1000,
        &udp_call(alice(), bob(), "call-p", ALICE, BOB),
    );
    assert!(got.iter().all(Vec::is_empty), "{got:?}");
    assert_eq!(c.stats().sip_messages, 0);
    // The same call on 5080.
    let moved: Vec<Vec<u8>> = udp_call(alice(), bob(), "call-p2", ALICE, BOB)
        .into_iter()
        .map(|mut ip| {
            // Rewrite SIP's 5060 to 5080 in the UDP header (checksum zeroed: optional in IPv4).
            for at in [20, 22] {
                if ip[at..at + 2] == 5060u16.to_be_bytes() {
                    ip[at..at + 2].copy_from_slice(&5080u16.to_be_bytes());
                }
            }
            ip[26..28].copy_from_slice(&[0, 0]);
            ip
        })
        .collect();
    let got = feed(&mut c, 5000, &moved);
    assert_eq!(got, expected_call(1, first_cin(&got)));
}

#[test]
fn a_username_target_is_found_in_the_credentials_of_its_call() {
    let mut c = classifier(vec![task(1, &["username:alice.sub"])]);
    let mut frames = udp_call(alice(), bob(), "call-u", "anon@example.com", BOB);
    // The INVITE carries the caller's credentials; nothing else names the target.
    let invite = String::from_utf8(frames[0][28..].to_vec())
        .unwrap()
        .replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nProxy-Authorization: Digest username=\"alice.sub\", \
         realm=\"example.com\", nonce=\"n\", uri=\"sip:bob@example.net\", response=\"r\"\r\n",
        );
    frames[0] = udp(sa(alice(), 5060), sa(bob(), 5060), invite.as_bytes());
    let got = feed(&mut c, 1000, &frames);
    let cin = first_cin(&got);
    assert_eq!(got, expected_call(1, cin));
}
