//! Classifier tests of tunnels (inner and outer addresses) and of MAC targets bound by RADIUS
//! Calling-Station-Id, on frames built by the decoder's test utilities.

use li_core::{
    AccessEventType, DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptRecord,
    InterceptScope, IriType, Liid, PayloadDirection, TargetIdentifier, Task, Timestamp,
    ValidityWindow, Xid,
};

use super::{Classifier, ClassifierConfig};
use crate::LinkType;
use crate::decode::testutil::*;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_700_000_000 + secs, 0).unwrap()
}

/// A task `n` (XID bytes all `n`) on `targets`, IRI and CC, always valid.
fn task(n: u8, targets: &[&str]) -> Task {
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
        InterceptScope::IriAndCc,
        ValidityWindow::new(t(0), None).unwrap(),
        vec![dest],
    )
    .unwrap()
}

fn classifier(tasks: Vec<Task>) -> Classifier {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    // The begin IRI of static targets is not what these tests are about.
    c.activate_all(tasks, t(0), &mut out);
    c
}

/// A CC record as (task, direction, delivered packet).
type Cc = (u8, PayloadDirection, Vec<u8>);

/// The CC records of one frame; panics on any IRI.
fn cc_of(c: &mut Classifier, time: u64, frame: &[u8]) -> Vec<Cc> {
    let mut out = Vec::new();
    c.classify(t(time), LinkType::Ethernet, frame, &mut out);
    out.into_iter()
        .map(|r| match r {
            InterceptRecord::Cc(cc) => (cc.xid.as_bytes()[0], cc.direction, cc.payload.to_vec()),
            InterceptRecord::Iri(i) => panic!("unexpected IRI {i:?}"),
        })
        .collect()
}

/// One tunnelled frame: its inner and outer IP packets and the addresses to target.
struct Tunnelled {
    name: &'static str,
    frame: Vec<u8>,
    inner: Vec<u8>,
    inner_src: &'static str,
    outer_dst: &'static str,
    /// Offset of the outer IP header in the frame.
    outer_at: usize,
}

const INNER4: &str = "ipv4:192.0.2.1";
const INNER6: &str = "ipv6:2001:db8::1";
const OUTER4: &str = "ipv4:10.0.0.2";
const OUTER6: &str = "ipv6:2001:db8:ffff::2";

fn tunnelled() -> Vec<Tunnelled> {
    let ip4 = ipv4_udp(b"inner");
    let ip6 = ipv6_tcp(b"inner");
    let eth_inner = eth_ipv4_tcp(b"inner");
    let over4 = |protocol, payload: &[u8]| {
        eth(
            0x0800,
            &ipv4_between(OUTER_SRC, OUTER_DST, protocol, payload),
        )
    };
    let over6 =
        |next, payload: &[u8]| eth(0x86DD, &ipv6_between(OUTER6_SRC, OUTER6_DST, next, payload));
    let one = |name, frame, inner: &[u8], inner_src, outer_dst| Tunnelled {
        name,
        frame,
        inner: inner.to_vec(),
        inner_src,
        outer_dst,
        outer_at: 14,
    };
    vec![
        one(
            "GRE",
            over4(
                47,
                &[gre_header(false, true, false, 0x0800), ip4.clone()].concat(),
            ),
            &ip4,
            INNER4,
            OUTER4,
        ),
        one(
            "PPTP IPv4",
            over4(
                47,
                &pptp_gre(Some(1), Some(1), &ppp(true, false, 0x0021, &ip4)),
            ),
            &ip4,
            INNER4,
            OUTER4,
        ),
        one(
            "PPTP IPv6",
            over4(
                47,
                &pptp_gre(Some(1), None, &ppp(false, true, 0x0057, &ip6)),
            ),
            &ip6,
            INNER6,
            OUTER4,
        ),
        one("IPv4 in IPv4", over4(4, &ip4), &ip4, INNER4, OUTER4),
        one("IPv6 in IPv4", over4(41, &ip6), &ip6, INNER6, OUTER4),
        one("IPv4 in IPv6", over6(4, &ip4), &ip4, INNER4, OUTER6),
        one(
            "SRv6",
            over6(43, &[srh(41, &[OUTER6_DST, V6_DST]), ip6.clone()].concat()),
            &ip6,
            INNER6,
            OUTER6,
        ),
        one(
            "VXLAN",
            vxlan_frame(4789, &eth_inner),
            &eth_inner[14..],
            INNER4,
            OUTER4,
        ),
        one(
            "VXLAN-GPE",
            vxlan_gpe_frame(4790, 2, &ip6),
            &ip6,
            INNER6,
            OUTER4,
        ),
    ]
}

#[test]
fn tunnel_inner_and_outer_addresses_both_match() {
    for case in tunnelled() {
        let mut c = classifier(vec![
            task(1, &[case.inner_src]),
            task(2, &[case.outer_dst]),
            task(3, &["ipv4:203.0.113.9", "ipv6:2001:db8:dead::9"]),
        ]);
        let outer = case.frame[case.outer_at..].to_vec();
        assert_eq!(
            cc_of(&mut c, 1, &case.frame),
            vec![
                (1, PayloadDirection::FromTarget, case.inner.clone()),
                (2, PayloadDirection::ToTarget, outer),
            ],
            "{}",
            case.name
        );
        assert_eq!(c.stats().matched, 1, "{}", case.name);
    }
}

#[test]
fn tunnel_with_no_target_inside_or_outside_is_not_collected() {
    for case in tunnelled() {
        let mut c = classifier(vec![task(
            3,
            &["ipv4:203.0.113.9", "ipv6:2001:db8:dead::9", "ipv4:10.0.0.3"],
        )]);
        assert_eq!(cc_of(&mut c, 1, &case.frame), vec![], "{}", case.name);
        assert_eq!(c.stats().matched, 0, "{}", case.name);
    }
}

#[test]
fn task_on_both_inner_and_outer_gets_the_inner_packet_once() {
    for case in tunnelled() {
        let mut c = classifier(vec![task(1, &[case.inner_src, case.outer_dst])]);
        assert_eq!(
            cc_of(&mut c, 1, &case.frame),
            vec![(1, PayloadDirection::FromTarget, case.inner.clone())],
            "{}",
            case.name
        );
    }
}

#[test]
fn pptp_without_ip_is_delivered_whole_to_the_endpoint_target() {
    // MPPE-encrypted PPP: nothing to decode inside, but it is the tunnel endpoint's traffic.
    let gre = pptp_gre(
        Some(5),
        None,
        &ppp(false, true, 0x00FD, &[0x90, 0x05, 1, 2, 3]),
    );
    let frame = eth(0x0800, &ipv4_between(OUTER_SRC, OUTER_DST, 47, &gre));
    let mut c = classifier(vec![task(1, &["ipv4:10.0.0.1"]), task(2, &[INNER4])]);
    assert_eq!(
        cc_of(&mut c, 1, &frame),
        vec![(1, PayloadDirection::FromTarget, frame[14..].to_vec())]
    );
}

// ------------------------------------------------------------------------------------------
// RADIUS Calling-Station-Id binding MAC targets

/// An Accounting-Request (RFC 2866) from NAS `ap-1` with session `session`, `status` (1
/// Start, 2 Stop, 3 Interim-Update), Framed-IP-Address 192.0.2.1 and the Calling-Station-Id,
/// as a frame from the NAS to the accounting server.
fn accounting(status: u32, session: &str, calling_station: Option<&str>) -> Vec<u8> {
    let mut attrs = Vec::new();
    let mut attr = |kind: u8, value: &[u8]| {
        attrs.push(kind);
        attrs.push(u8::try_from(value.len() + 2).unwrap());
        attrs.extend_from_slice(value);
    };
    attr(40, &status.to_be_bytes());
    attr(44, session.as_bytes());
    attr(32, b"ap-1");
    attr(8, &V4_SRC);
    if let Some(id) = calling_station {
        attr(31, id.as_bytes());
    }
    let len = u16::try_from(20 + attrs.len()).unwrap();
    let radius = [&[4, 1][..], &len.to_be_bytes(), &[0x5A; 16], &attrs].concat();
    let udp_len = u16::try_from(radius.len() + 8).unwrap();
    let udp = udp_header(50_000, 1813, udp_len, &radius);
    eth(
        0x0800,
        &ipv4_between([192, 0, 2, 250], [192, 0, 2, 251], 17, &udp),
    )
}

/// IRI as (task, type, event), CC as (task, direction); the records of one frame.
fn records_of(c: &mut Classifier, time: u64, frame: &[u8]) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    c.classify(t(time), LinkType::Ethernet, frame, &mut out);
    out.into_iter()
        .map(|r| match r {
            InterceptRecord::Cc(cc) => (cc.xid.as_bytes()[0], format!("CC {:?}", cc.direction)),
            InterceptRecord::Iri(i) => {
                let li_core::IriEvent::Access(e) = &i.event else {
                    panic!("not an access event")
                };
                (
                    i.xid.as_bytes()[0],
                    format!("IRI {:?} {:?}", i.iri_type, e.event_type),
                )
            }
        })
        .collect()
}

#[test]
fn radius_calling_station_mac_binds_mac_targets_until_stop() {
    let begin = format!(
        "IRI {:?} {:?}",
        IriType::Begin,
        AccessEventType::AccessAccept
    );
    let end = format!("IRI {:?} {:?}", IriType::End, AccessEventType::AccessEnd);
    let interim = format!(
        "IRI {:?} {:?}",
        IriType::Continue,
        AccessEventType::InterimUpdate
    );
    let to_target = format!("CC {:?}", PayloadDirection::ToTarget);
    // The target's traffic to 192.0.2.1, the Framed-IP-Address.
    let traffic = eth(
        0x0800,
        &ipv4_between(
            [203, 0, 113, 5],
            V4_SRC,
            6,
            &tcp_header(80, 1234, 0x18, b"x"),
        ),
    );
    for id in [
        "00-11-22-33-44-55",
        "00:11:22:33:44:55",
        "001122334455",
        "0011.2233.4455",
        "00-11-22-33-44-55".to_uppercase().as_str(),
        "00:1a:2B:3c:4D:5e",
    ] {
        let target = match id {
            "00:1a:2B:3c:4D:5e" => "mac:00:1a:2b:3c:4d:5e",
            _ => "mac:00:11:22:33:44:55",
        };
        let mut c = classifier(vec![
            task(1, &[target]),
            task(2, &["mac:02:00:00:00:00:99"]),
        ]);
        assert_eq!(
            records_of(&mut c, 1, &traffic),
            vec![],
            "{id}: not bound yet"
        );
        assert_eq!(
            records_of(&mut c, 2, &accounting(1, "s1", Some(id))),
            vec![(1, begin.clone())],
            "{id}"
        );
        assert_eq!(
            records_of(&mut c, 3, &traffic),
            vec![(1, to_target.clone())],
            "{id}"
        );
        // An Interim-Update without Calling-Station-Id keeps the session and the binding.
        assert_eq!(
            records_of(&mut c, 4, &accounting(3, "s1", None)),
            vec![(1, interim.clone())],
            "{id}"
        );
        assert_eq!(
            records_of(&mut c, 5, &traffic),
            vec![(1, to_target.clone())],
            "{id}"
        );
        assert_eq!(
            records_of(&mut c, 6, &accounting(2, "s1", Some(id))),
            vec![(1, end.clone())],
            "{id}"
        );
        assert_eq!(records_of(&mut c, 7, &traffic), vec![], "{id}: released");
    }
}

#[test]
fn radius_calling_station_that_is_not_a_mac_binds_nothing() {
    let traffic = eth(
        0x0800,
        &ipv4_between(V4_SRC, [203, 0, 113, 5], 17, &udp_header(1, 2, 9, b"x")),
    );
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
        let mut c = classifier(vec![task(
            1,
            &["mac:00:11:22:33:44:55", "mac:49:17:01:23:45:67"],
        )]);
        let calling = (!id.is_empty()).then_some(id);
        assert_eq!(
            records_of(&mut c, 1, &accounting(1, "s1", calling)),
            vec![],
            "{id}"
        );
        assert_eq!(records_of(&mut c, 2, &traffic), vec![], "{id}");
        assert_eq!(c.stats().radius_requests, 1, "{id}: the request was read");
    }
    // The same packets with the target's MAC address do bind (the test can fail).
    let mut c = classifier(vec![task(1, &["mac:00:11:22:33:44:55"])]);
    records_of(&mut c, 1, &accounting(1, "s1", Some("00-11-22-33-44-55")));
    assert_eq!(records_of(&mut c, 2, &traffic).len(), 1);
}
