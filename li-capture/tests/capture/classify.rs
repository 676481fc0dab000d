//! The classifier: each test asserts exactly which records were emitted for which task.

use li_capture::LinkType;
use li_capture::classify::{Classifier, ClassifierConfig};
use li_core::{
    AccessEventType, Cin, DeliveryAddress, Destination, DestinationId, HandoverFormat,
    InterceptRecord, InterceptScope, IpPrefix, IriEvent, IriType, Liid, PayloadDirection,
    TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
};

use crate::build::*;

fn xid(n: u8) -> Xid {
    Xid::from_bytes([n; 16])
}

fn task(n: u8, targets: &[&str], scope: InterceptScope, window: ValidityWindow) -> Task {
    let dest = Destination::new(
        DestinationId::from_bytes([n; 16]),
        DeliveryAddress::new("lemf.example", 5000, true),
        Some(DeliveryAddress::new("lemf.example", 5001, true)),
        HandoverFormat::etsi_default(),
    );
    Task::new(
        Liid::new(format!("LIID-{n}").as_bytes()).unwrap(),
        xid(n),
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

fn always() -> ValidityWindow {
    ValidityWindow::new(t(0), None).unwrap()
}

/// A record in a comparable form.
#[derive(Debug, PartialEq, Eq)]
enum R {
    Cc {
        task: u8,
        cin: u32,
        dir: PayloadDirection,
        ip: Vec<u8>,
    },
    Iri {
        task: u8,
        cin: u32,
        kind: IriType,
        event: AccessEventType,
        at: Timestamp,
    },
}

fn task_no(x: Xid) -> u8 {
    x.as_bytes()[0]
}

fn simplify(out: &mut Vec<InterceptRecord>) -> Vec<R> {
    out.drain(..)
        .map(|r| match r {
            InterceptRecord::Cc(c) => R::Cc {
                task: task_no(c.xid),
                cin: c.cin.value(),
                dir: c.direction,
                ip: c.payload.to_vec(),
            },
            InterceptRecord::Iri(i) => {
                let IriEvent::Access(e) = &i.event else {
                    panic!()
                };
                R::Iri {
                    task: task_no(i.xid),
                    cin: i.cin.value(),
                    kind: i.iri_type,
                    event: e.event_type,
                    at: i.timestamp,
                }
            }
        })
        .collect()
}

fn cc(task: u8, cin: u32, dir: PayloadDirection, frame: &[u8]) -> R {
    R::Cc {
        task,
        cin,
        dir,
        ip: ip_of(frame).to_vec(),
    }
}

fn iri(task: u8, cin: u32, kind: IriType, event: AccessEventType, at: Timestamp) -> R {
    R::Iri {
        task,
        cin,
        kind,
        event,
        at,
    }
}

fn cin_of(records: &[R], task_n: u8) -> u32 {
    records
        .iter()
        .find_map(|r| match r {
            R::Iri { task, cin, .. } | R::Cc { task, cin, .. } if *task == task_n => Some(*cin),
            _ => None,
        })
        .unwrap()
}

use AccessEventType as E;
use PayloadDirection::{FromTarget, ToTarget};

#[test]
fn static_targets_emit_exactly_their_packets() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task(1, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, always()),
        t(1),
        &mut out,
    );
    c.activate(
        task(
            2,
            &["ipv4-prefix:198.51.100.0/24"],
            InterceptScope::IriOnly,
            always(),
        ),
        t(1),
        &mut out,
    );
    c.activate(
        task(
            3,
            &["ipv6-prefix:2001:db8:7::/48"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(1),
        &mut out,
    );
    let begins = simplify(&mut out);
    let (c1, c2, c3) = (cin_of(&begins, 1), cin_of(&begins, 2), cin_of(&begins, 3));
    assert_eq!(
        begins,
        vec![
            iri(
                1,
                c1,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(1)
            ),
            iri(
                2,
                c2,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(1)
            ),
            iri(
                3,
                c3,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(1)
            ),
        ]
    );
    assert!(c1 != c2 && c2 != c3 && c1 != c3, "one CIN per task");

    let from = udp("192.0.2.7", "203.0.113.1", 1000, 53, b"query");
    let to = tcp("203.0.113.1", "192.0.2.7", b"response");
    let iri_only = udp("198.51.100.9", "203.0.113.1", 1, 2, b"x");
    let v6 = udp("2001:db8:7:1::5", "2001:db8:99::1", 3, 4, b"six");
    let near = udp("192.0.2.8", "203.0.113.1", 1, 2, b"neighbour");
    let other = udp("203.0.113.5", "203.0.113.6", 1, 2, b"background");
    for (i, f) in [&from, &to, &iri_only, &v6, &near, &other]
        .into_iter()
        .enumerate()
    {
        c.classify(t(2 + i as u64), LinkType::Ethernet, f, &mut out);
    }
    assert_eq!(
        simplify(&mut out),
        vec![
            cc(1, c1, FromTarget, &from),
            cc(1, c1, ToTarget, &to),
            cc(3, c3, FromTarget, &v6)
        ]
    );
    let stats = c.stats();
    assert_eq!((stats.frames, stats.matched, stats.cc_records), (6, 3, 3));
}

#[test]
fn one_packet_is_emitted_once_per_task() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    // Two warrants on one address, and one task whose two targets talk to each other.
    c.activate(
        task(1, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, always()),
        t(0),
        &mut out,
    );
    c.activate(
        task(
            2,
            &["ipv4-prefix:192.0.2.0/24"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    c.activate(
        task(
            3,
            &["ipv4:192.0.2.7", "ipv4:192.0.2.9"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    let begins = simplify(&mut out);
    let (c1, c2, c3) = (cin_of(&begins, 1), cin_of(&begins, 2), cin_of(&begins, 3));
    let f = udp("192.0.2.7", "192.0.2.9", 1, 2, b"between targets");
    c.classify(t(1), LinkType::Ethernet, &f, &mut out);
    let mut got = simplify(&mut out);
    got.sort_by_key(|r| match r {
        R::Cc { task, .. } | R::Iri { task, .. } => *task,
    });
    assert_eq!(
        got,
        vec![
            cc(1, c1, FromTarget, &f),
            cc(2, c2, FromTarget, &f),
            cc(3, c3, FromTarget, &f)
        ]
    );
    // The CC payload is shared, not copied per task.
}

#[test]
fn validity_window_bounds_everything() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    let window = ValidityWindow::new(t(10), Some(t(20))).unwrap();
    c.activate(
        task(1, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, window),
        t(0),
        &mut out,
    );
    assert!(out.is_empty(), "nothing before the window opens");
    let frames: Vec<Vec<u8>> = (0..4)
        .map(|i| udp("192.0.2.7", "203.0.113.1", 1, 2, &[i]))
        .collect();
    c.classify(t(5), LinkType::Ethernet, &frames[0], &mut out);
    assert!(out.is_empty());
    c.classify(t(12), LinkType::Ethernet, &frames[1], &mut out);
    c.classify(t(19), LinkType::Ethernet, &frames[2], &mut out);
    c.classify(t(25), LinkType::Ethernet, &frames[3], &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(
                1,
                cin,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(10)
            ),
            cc(1, cin, FromTarget, &frames[1]),
            cc(1, cin, FromTarget, &frames[2]),
            iri(
                1,
                cin,
                IriType::End,
                E::EndOfInterceptionWithSessionActive,
                t(20)
            ),
        ]
    );
}

#[test]
fn deactivation_stops_output_from_the_next_packet() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task(1, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, always()),
        t(0),
        &mut out,
    );
    let f = udp("203.0.113.1", "192.0.2.7", 1, 2, b"in");
    c.classify(t(1), LinkType::Ethernet, &f, &mut out);
    assert!(c.deactivate(xid(1), t(2), &mut out));
    c.classify(t(3), LinkType::Ethernet, &f, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(
                1,
                cin,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(0)
            ),
            cc(1, cin, ToTarget, &f),
            iri(
                1,
                cin,
                IriType::End,
                E::EndOfInterceptionWithSessionActive,
                t(2)
            ),
        ]
    );
    assert!(!c.deactivate(xid(1), t(4), &mut out));
    assert_eq!(c.tasks().count(), 0);
}

/// A classifier with task 1 (IRI and CC, always) on username alice@isp.example, activated
/// at t(0), and its (empty) output.
fn watching_alice() -> (Classifier, Vec<InterceptRecord>) {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task(
            1,
            &["username:alice@isp.example"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    (c, out)
}

fn alice_start() -> Acct<'static> {
    Acct {
        status: START,
        user: Some("alice@isp.example"),
        session_id: "sess-1",
        framed_ip: Some(v4("10.0.0.5")),
        nas_id: "bras-1",
        calling_station: Some("00:11:22:33:44:55"),
        ..Acct::default()
    }
}

#[test]
fn radius_session_binds_username_for_its_life() {
    let (mut c, mut out) = watching_alice();
    assert!(out.is_empty(), "no session yet, no IRI");
    let pkt = udp("10.0.0.5", "203.0.113.1", 1, 2, b"web");
    c.classify(t(1), LinkType::Ethernet, &pkt, &mut out);
    assert!(out.is_empty(), "the address is not alice's yet");

    c.classify(t(2), LinkType::Ethernet, &alice_start().frame(), &mut out);
    c.classify(t(3), LinkType::Ethernet, &pkt, &mut out);
    let interim = Acct {
        status: INTERIM,
        input_octets: Some(100),
        output_octets: Some(200),
        ..alice_start()
    };
    c.classify(t(4), LinkType::Ethernet, &interim.frame(), &mut out);
    let stop = Acct {
        status: STOP,
        input_octets: Some(150),
        output_octets: Some(900),
        terminate_cause: Some(1),
        ..alice_start()
    };
    c.classify(t(5), LinkType::Ethernet, &stop.frame(), &mut out);
    c.classify(t(6), LinkType::Ethernet, &pkt, &mut out);

    // Bob gets the address next: not intercepted.
    let bob = Acct {
        user: Some("bob@isp.example"),
        session_id: "sess-2",
        ..alice_start()
    };
    c.classify(t(7), LinkType::Ethernet, &bob.frame(), &mut out);
    c.classify(t(8), LinkType::Ethernet, &pkt, &mut out);

    let records: Vec<InterceptRecord> = out.clone();
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(2)),
            cc(1, cin, FromTarget, &pkt),
            iri(1, cin, IriType::Continue, E::InterimUpdate, t(4)),
            iri(1, cin, IriType::End, E::AccessEnd, t(5)),
        ]
    );
    // The IRI carries the access details.
    let InterceptRecord::Iri(end) = &records[3] else {
        panic!()
    };
    let IriEvent::Access(e) = &end.event else {
        panic!()
    };
    assert_eq!(e.username, b"alice@isp.example");
    assert_eq!(
        e.addresses,
        vec![IpPrefix::host("10.0.0.5".parse().unwrap())]
    );
    assert_eq!(e.network_id.as_deref(), Some("00:11:22:33:44:55"));
    assert_eq!(e.pop_identifier.as_deref(), Some("bras-1"));
    assert_eq!(
        (e.octets_transmitted, e.octets_received),
        (Some(150), Some(900))
    );
    assert_eq!(e.end_reason, Some(li_core::EndReason::RegularLogoff));
    assert!(
        e.raw_aaa.as_ref().is_some_and(|r| r[0] == 4),
        "raw RADIUS kept"
    );
    assert_eq!(c.stats().radius_requests, 4);
}

#[test]
fn task_activated_during_a_session_starts_with_session_active() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out);
    assert!(out.is_empty());
    c.activate(
        task(
            1,
            &["username:alice@isp.example"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(2),
        &mut out,
    );
    // A second agency, IRI only, on the same user.
    c.activate(
        task(
            2,
            &["username:alice@isp.example"],
            InterceptScope::IriOnly,
            always(),
        ),
        t(2),
        &mut out,
    );
    let pkt = udp("203.0.113.1", "10.0.0.5", 1, 2, b"down");
    c.classify(t(3), LinkType::Ethernet, &pkt, &mut out);
    c.deactivate(xid(1), t(4), &mut out);
    c.classify(t(5), LinkType::Ethernet, &pkt, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(cin, cin_of(&got, 2), "one session, one CIN");
    assert_eq!(
        got,
        vec![
            iri(
                1,
                cin,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(2)
            ),
            iri(
                2,
                cin,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(2)
            ),
            cc(1, cin, ToTarget, &pkt),
            iri(
                1,
                cin,
                IriType::End,
                E::EndOfInterceptionWithSessionActive,
                t(4)
            ),
        ]
    );
}

#[test]
fn address_taken_over_without_stop_ends_the_old_session() {
    let (mut c, mut out) = watching_alice();
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out);
    // The Stop was lost; bob's Start reuses the address.
    let bob = Acct {
        user: Some("bob@isp.example"),
        session_id: "sess-9",
        ..alice_start()
    };
    c.classify(t(2), LinkType::Ethernet, &bob.frame(), &mut out);
    let pkt = udp("10.0.0.5", "203.0.113.1", 1, 2, b"bob's");
    c.classify(t(3), LinkType::Ethernet, &pkt, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(1)),
            iri(1, cin, IriType::End, E::AccessEnd, t(2)),
        ]
    );
}

#[test]
fn framed_ipv6_prefix_is_bound() {
    let (mut c, mut out) = watching_alice();
    let start = Acct {
        framed_ip: None,
        framed_ipv6_prefix: Some(("2001:db8:aa:bb::".parse().unwrap(), 64)),
        ..alice_start()
    };
    c.classify(t(1), LinkType::Ethernet, &start.frame(), &mut out);
    let inside = udp("2001:db8:aa:bb::1234", "2001:db8:ff::1", 1, 2, b"in prefix");
    let outside = udp("2001:db8:aa:bc::1", "2001:db8:ff::1", 1, 2, b"next prefix");
    c.classify(t(2), LinkType::Ethernet, &inside, &mut out);
    c.classify(t(3), LinkType::Ethernet, &outside, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(1)),
            cc(1, cin, FromTarget, &inside)
        ]
    );
}

#[test]
fn dhcp_binds_mac_targets_until_release_or_lease_end() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task(
            1,
            &["mac:02:00:00:00:00:aa"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    let mac = [2, 0, 0, 0, 0, 0xaa];
    let addr = v4("10.1.0.9");
    let unspecified = v4("0.0.0.0");
    let pkt = udp("10.1.0.9", "203.0.113.1", 1, 2, b"dhcp client");
    c.classify(
        t(1),
        LinkType::Ethernet,
        &dhcp(5, mac, addr, unspecified, Some(3600)),
        &mut out,
    );
    c.classify(t(2), LinkType::Ethernet, &pkt, &mut out);
    c.classify(
        t(3),
        LinkType::Ethernet,
        &dhcp(7, mac, unspecified, addr, None),
        &mut out,
    );
    c.classify(t(4), LinkType::Ethernet, &pkt, &mut out);
    // A new lease of 10 s that is not renewed.
    c.classify(
        t(5),
        LinkType::Ethernet,
        &dhcp(5, mac, addr, unspecified, Some(10)),
        &mut out,
    );
    c.classify(t(6), LinkType::Ethernet, &pkt, &mut out);
    c.classify(t(20), LinkType::Ethernet, &pkt, &mut out);
    let got = simplify(&mut out);
    let cin1 = cin_of(&got, 1);
    let R::Iri { cin: cin2, .. } = got[3] else {
        panic!("{:?}", got[3])
    };
    assert_ne!(cin1, cin2, "a new lease is a new session");
    assert_eq!(
        got,
        vec![
            iri(1, cin1, IriType::Begin, E::AccessAccept, t(1)),
            cc(1, cin1, FromTarget, &pkt),
            iri(1, cin1, IriType::End, E::AccessEnd, t(3)),
            iri(1, cin2, IriType::Begin, E::AccessAccept, t(5)),
            cc(1, cin2, FromTarget, &pkt),
            iri(1, cin2, IriType::End, E::AccessEnd, t(15)),
        ]
    );
    let _ = Cin::new(0);
}

/// The records of one frame seen at `t(time)`.
fn records_of(c: &mut Classifier, time: u64, frame: &[u8]) -> Vec<R> {
    let mut out = Vec::new();
    c.classify(t(time), LinkType::Ethernet, frame, &mut out);
    simplify(&mut out)
}

/// An Accounting-Request from NAS `ap-1` with session `s1`, `status`, Framed-IP-Address
/// 192.0.2.1 and the Calling-Station-Id.
fn mac_accounting(status: u32, calling_station: Option<&str>) -> Vec<u8> {
    Acct {
        status,
        session_id: "s1",
        framed_ip: Some(v4("192.0.2.1")),
        nas_id: "ap-1",
        calling_station,
        ..Acct::default()
    }
    .frame()
}

/// A classifier with `tasks` (IRI and CC, always) activated at t(0); their output dropped.
fn classifier_of(tasks: &[(u8, &[&str])]) -> Classifier {
    let mut c = Classifier::new(ClassifierConfig::default());
    let tasks = tasks
        .iter()
        .map(|&(n, targets)| task(n, targets, InterceptScope::IriAndCc, always()))
        .collect::<Vec<_>>();
    c.activate_all(tasks, t(0), &mut Vec::new());
    c
}

#[test]
fn radius_calling_station_mac_binds_mac_targets_until_stop() {
    // The target's traffic to 192.0.2.1, the Framed-IP-Address.
    let traffic = tcp("203.0.113.5", "192.0.2.1", b"x");
    for id in [
        "00-11-22-33-44-55",
        "00:11:22:33:44:55",
        "001122334455",
        "0011.2233.4455",
        "00:1a:2B:3c:4D:5e",
    ] {
        let target = match id {
            "00:1a:2B:3c:4D:5e" => "mac:00:1a:2b:3c:4d:5e",
            _ => "mac:00:11:22:33:44:55",
        };
        let mut c = classifier_of(&[(1, &[target]), (2, &["mac:02:00:00:00:00:99"])]);
        assert_eq!(
            records_of(&mut c, 1, &traffic),
            vec![],
            "{id}: not bound yet"
        );
        let begin = records_of(&mut c, 2, &mac_accounting(START, Some(id)));
        let cin = cin_of(&begin, 1);
        assert_eq!(
            begin,
            vec![iri(1, cin, IriType::Begin, E::AccessAccept, t(2))],
            "{id}"
        );
        assert_eq!(
            records_of(&mut c, 3, &traffic),
            vec![cc(1, cin, ToTarget, &traffic)],
            "{id}"
        );
        // An Interim-Update without Calling-Station-Id keeps the session and the binding.
        assert_eq!(
            records_of(&mut c, 4, &mac_accounting(INTERIM, None)),
            vec![iri(1, cin, IriType::Continue, E::InterimUpdate, t(4))],
            "{id}"
        );
        assert_eq!(
            records_of(&mut c, 5, &traffic),
            vec![cc(1, cin, ToTarget, &traffic)],
            "{id}"
        );
        assert_eq!(
            records_of(&mut c, 6, &mac_accounting(STOP, Some(id))),
            vec![iri(1, cin, IriType::End, E::AccessEnd, t(6))],
            "{id}"
        );
        assert_eq!(records_of(&mut c, 7, &traffic), vec![], "{id}: released");
    }
}

#[test]
fn radius_calling_station_that_is_not_a_mac_binds_nothing() {
    let traffic = udp("192.0.2.1", "203.0.113.5", 1, 2, b"x");
    let targets: &[&str] = &["mac:00:11:22:33:44:55", "mac:49:17:01:23:45:67"];
    for id in [
        "+49 30 1234567",
        "+4930123456789",
        "491701234567", // twelve digits, an odd first pair: a group address
        "00-11-22-33-44",
        "00-11-22-33-44-55-66",
        "00-11:22-33-44-55",
        "00-11-22-33-44-5g",
        "0011.2233-4455",
        "00112233445",
        "00-11-22-33-44-55:SSID",
        "",
    ] {
        let mut c = classifier_of(&[(1, targets)]);
        let calling = (!id.is_empty()).then_some(id);
        assert_eq!(
            records_of(&mut c, 1, &mac_accounting(START, calling)),
            vec![],
            "{id}"
        );
        assert_eq!(records_of(&mut c, 2, &traffic), vec![], "{id}");
        assert_eq!(c.stats().radius_requests, 1, "{id}: the request was read");
    }
    // The same packets with the target's MAC address do bind (the test can fail).
    let mut c = classifier_of(&[(1, &["mac:00:11:22:33:44:55"])]);
    records_of(&mut c, 1, &mac_accounting(START, Some("00-11-22-33-44-55")));
    assert_eq!(records_of(&mut c, 2, &traffic).len(), 1);
}

// ---- review scenarios: over-collection and loss ----------------------------------------

#[test]
fn same_radius_key_for_another_user_ends_the_old_session() {
    let (mut c, mut out) = watching_alice();
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out);
    // The NAS restarted its counter (Accounting-On lost): bob's Start reuses the key.
    let bob = Acct {
        user: Some("bob@isp.example"),
        framed_ip: Some(v4("10.0.0.6")),
        ..alice_start()
    };
    c.classify(t(2), LinkType::Ethernet, &bob.frame(), &mut out);
    let bobs = udp("10.0.0.6", "203.0.113.1", 1, 2, b"bob");
    c.classify(t(3), LinkType::Ethernet, &bobs, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(1)),
            iri(1, cin, IriType::End, E::AccessEnd, t(2))
        ]
    );
}

#[test]
fn activation_opens_its_window_even_with_a_later_transition_pending() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    // Task 1's window closes at 100: a transition is scheduled then.
    let w = ValidityWindow::new(t(0), Some(t(100))).unwrap();
    c.activate(
        task(1, &["ipv4:192.0.2.1"], InterceptScope::IriAndCc, w),
        t(0),
        &mut out,
    );
    c.activate(
        task(2, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, always()),
        t(10),
        &mut out,
    );
    let f = udp("192.0.2.7", "203.0.113.1", 1, 2, b"x");
    c.classify(t(11), LinkType::Ethernet, &f, &mut out);
    let got = simplify(&mut out);
    let (c1, c2) = (cin_of(&got, 1), cin_of(&got, 2));
    assert_eq!(
        got,
        vec![
            iri(
                1,
                c1,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(0)
            ),
            iri(
                2,
                c2,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(10)
            ),
            cc(2, c2, FromTarget, &f),
        ]
    );
}

#[test]
fn placeholder_addresses_are_never_bound() {
    let (mut c, mut out) = watching_alice();
    let start = Acct {
        framed_ip: Some(v4("0.0.0.0")),
        ..alice_start()
    };
    c.classify(t(1), LinkType::Ethernet, &start.frame(), &mut out);
    // Another client's DHCPDISCOVER from 0.0.0.0 must not become alice's CC.
    let discover = udp("0.0.0.0", "255.255.255.255", 68, 67, b"not dhcp enough");
    c.classify(t(2), LinkType::Ethernet, &discover, &mut out);
    let got = simplify(&mut out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(matches!(
        got[0],
        R::Iri {
            kind: IriType::Begin,
            ..
        }
    ));
}

#[test]
fn radius_and_dhcp_sessions_of_one_subscriber_coexist() {
    let (mut c, mut out) = watching_alice();
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out);
    // The BNG relays DHCP for the same subscriber and address.
    c.classify(
        t(2),
        LinkType::Ethernet,
        &dhcp(5, MAC_A, v4("10.0.0.5"), v4("0.0.0.0"), Some(3600)),
        &mut out,
    );
    let pkt = udp("10.0.0.5", "203.0.113.1", 1, 2, b"still alice");
    c.classify(t(3), LinkType::Ethernet, &pkt, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(1)),
            cc(1, cin, FromTarget, &pkt)
        ]
    );
}

#[test]
fn interim_without_addresses_keeps_the_binding() {
    let (mut c, mut out) = watching_alice();
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out);
    let interim = Acct {
        status: INTERIM,
        framed_ip: None,
        ..alice_start()
    };
    c.classify(t(2), LinkType::Ethernet, &interim.frame(), &mut out);
    let pkt = udp("203.0.113.1", "10.0.0.5", 1, 2, b"down");
    c.classify(t(3), LinkType::Ethernet, &pkt, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(1)),
            iri(1, cin, IriType::Continue, E::InterimUpdate, t(2)),
            cc(1, cin, ToTarget, &pkt),
        ]
    );
}

#[test]
fn accounting_on_without_session_id_ends_the_nas_sessions() {
    let (mut c, mut out) = watching_alice();
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out);
    // Accounting-On (7) with no user and no Acct-Session-Id.
    let on = Acct {
        status: 7,
        user: None,
        session_id: "",
        framed_ip: None,
        calling_station: None,
        ..alice_start()
    };
    let mut frame = on.encode();
    // drop the empty Acct-Session-Id attribute the builder wrote (type 44, length 2)
    let at = frame.windows(2).position(|w| w == [44, 2]).unwrap();
    frame.drain(at..at + 2);
    let len = frame.len() as u16;
    frame[2..4].copy_from_slice(&len.to_be_bytes());
    c.classify(
        t(2),
        LinkType::Ethernet,
        &udp("192.0.2.250", "192.0.2.251", 50_000, 1813, &frame),
        &mut out,
    );
    let pkt = udp("10.0.0.5", "203.0.113.1", 1, 2, b"after reboot");
    c.classify(t(3), LinkType::Ethernet, &pkt, &mut out);
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(1, cin, IriType::Begin, E::AccessAccept, t(1)),
            iri(1, cin, IriType::End, E::AccessEnd, t(2))
        ]
    );
}

#[test]
fn a_client_cannot_forge_a_dhcp_ack() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task(
            1,
            &["mac:02:00:00:00:00:aa"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    let mac = [2, 0, 0, 0, 0, 0xaa];
    // An ACK sent from the client port (68 -> 67) binding the target MAC to a victim's address.
    let mut forged = dhcp(5, mac, v4("10.9.9.9"), v4("0.0.0.0"), Some(60));
    forged[34..36].copy_from_slice(&68u16.to_be_bytes());
    forged[36..38].copy_from_slice(&67u16.to_be_bytes());
    c.classify(t(1), LinkType::Ethernet, &forged, &mut out);
    c.classify(
        t(2),
        LinkType::Ethernet,
        &udp("10.9.9.9", "203.0.113.1", 1, 2, b"victim"),
        &mut out,
    );
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn aaa_from_unlisted_hosts_is_ignored() {
    let config = ClassifierConfig {
        aaa_sources: Some(vec!["192.0.2.99".parse().unwrap()]),
        ..ClassifierConfig::default()
    };
    let mut c = Classifier::new(config);
    let mut out = Vec::new();
    c.activate(
        task(
            1,
            &["username:alice@isp.example"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    c.classify(t(1), LinkType::Ethernet, &alice_start().frame(), &mut out); // from 192.0.2.250
    c.classify(
        t(2),
        LinkType::Ethernet,
        &udp("10.0.0.5", "203.0.113.1", 1, 2, b"x"),
        &mut out,
    );
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(c.stats().radius_requests, 0);
}

#[test]
fn lease_end_and_window_events_are_ordered_in_time() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    let mac = [2, 0, 0, 0, 0, 0xaa];
    // A 10 s lease from 1 ends at 11; the window opens at 15: no begin for the dead session.
    let w = ValidityWindow::new(t(15), Some(t(30))).unwrap();
    c.activate(
        task(1, &["mac:02:00:00:00:00:aa"], InterceptScope::IriAndCc, w),
        t(0),
        &mut out,
    );
    c.classify(
        t(1),
        LinkType::Ethernet,
        &dhcp(5, mac, v4("10.1.0.9"), v4("0.0.0.0"), Some(10)),
        &mut out,
    );
    c.classify(
        t(40),
        LinkType::Ethernet,
        &udp("10.1.0.9", "203.0.113.1", 1, 2, b"late"),
        &mut out,
    );
    assert!(out.is_empty(), "{out:?}");

    // A session up across a window that opens and closes between two packets.
    let mut c = Classifier::new(ClassifierConfig::default());
    let w = ValidityWindow::new(t(10), Some(t(20))).unwrap();
    c.activate(
        task(2, &["mac:02:00:00:00:00:aa"], InterceptScope::IriAndCc, w),
        t(0),
        &mut out,
    );
    c.classify(
        t(1),
        LinkType::Ethernet,
        &dhcp(5, mac, v4("10.1.0.9"), v4("0.0.0.0"), Some(3600)),
        &mut out,
    );
    c.classify(
        t(25),
        LinkType::Ethernet,
        &udp("10.1.0.9", "203.0.113.1", 1, 2, b"after"),
        &mut out,
    );
    let got = simplify(&mut out);
    let cin = cin_of(&got, 2);
    assert_eq!(
        got,
        vec![
            iri(
                2,
                cin,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(10)
            ),
            iri(
                2,
                cin,
                IriType::End,
                E::EndOfInterceptionWithSessionActive,
                t(20)
            ),
        ]
    );
}

#[test]
fn a_late_stamped_packet_after_the_window_closed_is_not_delivered() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    let w = ValidityWindow::new(t(0), Some(t(100))).unwrap();
    c.activate(
        task(1, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, w),
        t(0),
        &mut out,
    );
    let f = udp("192.0.2.7", "203.0.113.1", 1, 2, b"x");
    c.classify(t(101), LinkType::Ethernet, &f, &mut out); // closes the window at 100
    c.classify(t(99), LinkType::Ethernet, &f, &mut out); // merged from another interface
    let got = simplify(&mut out);
    let cin = cin_of(&got, 1);
    assert_eq!(
        got,
        vec![
            iri(
                1,
                cin,
                IriType::Begin,
                E::StartOfInterceptionWithSessionActive,
                t(0)
            ),
            iri(
                1,
                cin,
                IriType::End,
                E::EndOfInterceptionWithSessionActive,
                t(100)
            ),
        ]
    );
}

#[test]
fn a_hundred_thousand_targets_provisioned_at_once() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    // 100,000 /32 targets in 100 tasks of 1,000, provisioned in one call.
    let tasks: Vec<Task> = (0..100u32)
        .map(|n| {
            let targets: Vec<String> = (0..1000u32)
                .map(|i| {
                    format!(
                        "ipv4:{}",
                        std::net::Ipv4Addr::from(0x6440_0000 + n * 1000 + i)
                    )
                })
                .collect();
            let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
            let mut t = task(1, &refs, InterceptScope::IriOnly, always());
            let id = {
                let mut b = [0u8; 16];
                b[0] = 1;
                b[12..].copy_from_slice(&n.to_be_bytes());
                b
            };
            t = Task::new(
                t.liid(),
                Xid::from_bytes(id),
                t.targets().to_vec(),
                InterceptScope::IriAndCc,
                always(),
                t.destinations().to_vec(),
            )
            .unwrap();
            t
        })
        .collect();
    c.activate_all(tasks, t(0), &mut out);
    assert_eq!(out.len(), 100, "one begin per task");
    out.clear();
    let hit = udp("100.64.134.159", "203.0.113.1", 1, 2, b"target 34_463"); // 0x6440_0000 + 34_463
    let miss = udp("100.65.134.160", "203.0.113.1", 1, 2, b"not a target");
    c.classify(t(1), LinkType::Ethernet, &hit, &mut out);
    c.classify(t(2), LinkType::Ethernet, &miss, &mut out);
    assert_eq!(out.len(), 1);
    let InterceptRecord::Cc(cc) = &out[0] else {
        panic!()
    };
    assert_eq!(cc.xid.as_bytes()[12..], 34u32.to_be_bytes());
}

#[test]
fn cins_count_from_the_configured_start() {
    let config = ClassifierConfig {
        first_cin: 4_000_000_000,
        ..ClassifierConfig::default()
    };
    let mut c = Classifier::new(config);
    let mut out = Vec::new();
    c.activate(
        task(
            1,
            &["ipv4:198.51.100.1", "ipv4:198.51.100.2"],
            InterceptScope::IriAndCc,
            always(),
        ),
        t(0),
        &mut out,
    );
    let cins: std::collections::BTreeSet<u32> = out
        .iter()
        .filter_map(|r| match r {
            li_core::InterceptRecord::Iri(iri) => Some(iri.cin.value()),
            _ => None,
        })
        .collect();
    assert!(!cins.is_empty());
    assert!(cins.iter().all(|c| *c >= 4_000_000_000), "{cins:?}");
}

/// A target's packet cut by the snapshot length is delivered with its declared IP length; a
/// packet whose PPPoE length is shorter than its IPv4 total length is delivered as the bytes
/// present, counted; a non-target's cut packet yields nothing.
#[test]
fn truncated_and_length_mismatch_packets_are_delivered() {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(
        task(1, &["ipv4:192.0.2.7"], InterceptScope::IriAndCc, always()),
        t(1),
        &mut out,
    );
    out.clear();
    // 1000 octets of payload, 128 captured of a 1054-octet frame.
    let frame = tcp("192.0.2.7", "203.0.113.9", &[0xab; 1000]);
    let wire = u32::try_from(frame.len()).unwrap();
    c.classify_captured(t(2), LinkType::Ethernet, &frame[..128], wire, &mut out);
    assert_eq!(out.len(), 1);
    let InterceptRecord::Cc(cc) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(&cc.payload[..], &frame[14..128]);
    assert_eq!(cc.original_len, Some(1040));
    assert_eq!(cc.direction, PayloadDirection::FromTarget);
    out.clear();

    // The same cut bytes given as a whole frame: the IP length disagrees with the frame.
    c.classify(t(3), LinkType::Ethernet, &frame[..128], &mut out);
    let InterceptRecord::Cc(cc) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!((&cc.payload[..], cc.original_len), (&frame[14..128], None));
    out.clear();

    // PPPoE whose length is 20 octets short of the IPv4 packet it carries.
    let ip = &frame[14..];
    let ppp_len = u16::try_from(ip.len() + 2 - 20).unwrap();
    let session = [
        &[0x11, 0, 0x12, 0x34][..],
        &ppp_len.to_be_bytes(),
        &[0x00, 0x21],
        ip,
    ]
    .concat();
    let pppoe = eth(0x8864, &session);
    c.classify(t(4), LinkType::Ethernet, &pppoe, &mut out);
    let InterceptRecord::Cc(cc) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        (&cc.payload[..], cc.original_len),
        (&ip[..ip.len() - 20], None)
    );
    out.clear();

    // Not a target: nothing, and nothing counted.
    let other = tcp("192.0.2.8", "203.0.113.9", &[0xab; 1000]);
    c.classify_captured(t(5), LinkType::Ethernet, &other[..128], wire, &mut out);
    assert!(out.is_empty());
    let stats = c.stats();
    assert_eq!((stats.truncated, stats.length_mismatch), (1, 2));
    assert_eq!((stats.matched, stats.malformed), (3, 0));
}
