//! Classifier tests of tunnels (inner and outer addresses), on frames built by the decoder's
//! test utilities.

use li_core::{
    DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptRecord, InterceptScope,
    Liid, PayloadDirection, TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
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
