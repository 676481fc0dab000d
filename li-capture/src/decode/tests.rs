//! Whole-decoder tests: every path's frames cut at every length, and property tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::testutil::*;
use super::{DecodeConfig, DecodeError, Packet, Transport, Truncation, decode};
use crate::LinkType;

const LINK_TYPES: [LinkType; 6] = [
    LinkType::Ethernet,
    LinkType::RawIp,
    LinkType::LinuxSll,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::LinuxSll2,
];

/// One valid frame for every decode path, each ending exactly with its innermost IP packet.
fn corpus() -> Vec<(LinkType, Vec<u8>)> {
    let ip4 = ipv4_udp(b"corpus");
    let ip6 = ipv6_tcp(b"corpus");
    let inner = eth_ipv4_tcp(b"inner");
    let erspan2 = [0x10, 0x64, 0x00, 0x01, 0, 0, 0, 0];
    let erspan3 = [
        0x20, 0x64, 0x00, 0x01, 1, 2, 3, 4, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9,
    ];
    let gre = |payload: &[u8]| eth(0x0800, &ipv4_between(OUTER_SRC, OUTER_DST, 47, payload));
    vec![
        (LinkType::Ethernet, eth_ipv4_tcp(b"plain")),
        (LinkType::Ethernet, eth(0x86DD, &ip6)),
        (LinkType::Ethernet, eth(0x8100, &vlan_tag(10, 0x0800, &ip4))),
        (
            LinkType::Ethernet,
            eth(0x88A8, &vlan_tag(20, 0x8100, &vlan_tag(10, 0x86DD, &ip6))),
        ),
        (
            LinkType::Ethernet,
            eth(
                0x8847,
                &[mpls(1, false), mpls(2, true), ip4.clone()].concat(),
            ),
        ),
        (
            LinkType::Ethernet,
            eth(0x8847, &[mpls(1, true), vec![0; 4], inner.clone()].concat()),
        ),
        (LinkType::Ethernet, eth(0x8864, &pppoe(0x0057, &ip6))),
        (LinkType::RawIp, ip4.clone()),
        (LinkType::Ipv4, ip4.clone()),
        (LinkType::Ipv6, ip6.clone()),
        (LinkType::LinuxSll, [sll(0x0800), ip4.clone()].concat()),
        (LinkType::LinuxSll2, [sll2(0x86DD), ip6.clone()].concat()),
        (
            LinkType::Ipv6,
            ipv6(
                0,
                &[
                    ext_header(43, 8),
                    ext_header(44, 16),
                    frag_header(51, 0, true, 1),
                    ah_header(60, 16),
                    ext_header(6, 8),
                    tcp_header(1, 2, 0x10, b"x"),
                ]
                .concat(),
            ),
        ),
        (
            LinkType::Ipv6,
            ipv6(44, &[frag_header(17, 8, false, 2), vec![0; 8]].concat()),
        ),
        (
            LinkType::Ethernet,
            eth(0x0800, &ipv4(1, &[0, 0, 0, 0, 0, 1, 0, 1])),
        ),
        (
            LinkType::Ethernet,
            eth(0x86DD, &ipv6(58, &[128, 0, 0, 0, 0, 1, 0, 1])),
        ),
        (
            LinkType::Ethernet,
            gre(&[gre_header(true, true, true, 0x0800), ip4.clone()].concat()),
        ),
        (
            LinkType::Ethernet,
            gre(&[gre_header(false, false, false, 0x6558), inner.clone()].concat()),
        ),
        (
            LinkType::Ethernet,
            gre(&[
                gre_header(false, false, true, 0x88BE),
                erspan2.to_vec(),
                inner.clone(),
            ]
            .concat()),
        ),
        (
            LinkType::Ethernet,
            gre(&[
                gre_header(false, false, true, 0x22EB),
                erspan3.to_vec(),
                inner.clone(),
            ]
            .concat()),
        ),
        (LinkType::Ethernet, vxlan_frame(4789, &inner)),
        (
            LinkType::Ethernet,
            gre(&pptp_gre(Some(1), Some(2), &ppp(true, false, 0x0021, &ip4))),
        ),
        (
            LinkType::Ethernet,
            gre(&pptp_gre(Some(1), None, &ppp(false, true, 0x0057, &ip6))),
        ),
        (LinkType::Ipv4, ipv4_between(OUTER_SRC, OUTER_DST, 41, &ip6)),
        (
            LinkType::Ipv6,
            ipv6_between(
                OUTER6_SRC,
                OUTER6_DST,
                43,
                &[srh(4, &[OUTER6_DST, V6_DST]), ip4.clone()].concat(),
            ),
        ),
        (LinkType::Ethernet, vxlan_gpe_frame(4790, 1, &ip4)),
        (LinkType::Ethernet, vxlan_gpe_frame(4790, 3, &inner)),
    ]
}

#[test]
fn corpus_decodes() {
    let cfg = DecodeConfig::default();
    for (i, (link, frame)) in corpus().into_iter().enumerate() {
        let packet = decode(link, &frame, &cfg)
            .unwrap_or_else(|e| panic!("frame {i}: {e}"))
            .unwrap_or_else(|| panic!("frame {i}: no packet"));
        check_packet(&frame, &packet, &cfg);
        assert_eq!(
            packet.ip.as_ptr_range().end,
            frame.as_ptr_range().end,
            "frame {i}: innermost packet ends the frame"
        );
    }
}

/// Every frame cut at every length: an error while the innermost IP header (up to its
/// addresses) is incomplete, the innermost packet's bytes present once it is whole, marked as
/// cut with the frame; a tunnel cut in its own header gives the outer packet, marked.
#[test]
fn every_prefix_is_truncated() {
    let cfg = DecodeConfig::default();
    for (i, (link, frame)) in corpus().into_iter().enumerate() {
        let whole = decode(link, &frame, &cfg).unwrap().unwrap();
        let ip_at = whole.ip.as_ptr() as usize - frame.as_ptr() as usize;
        let header = if whole.src.is_ipv4() { 20 } else { 40 };
        let ip_len = u32::try_from(whole.ip.len()).unwrap();
        for len in 0..frame.len() {
            let cut = &frame[..len];
            match decode(link, cut, &cfg) {
                Err(DecodeError::Truncated { offset, .. }) => {
                    assert!(offset <= len, "frame {i} cut at {len}: offset {offset}");
                    assert!(len < ip_at + header, "frame {i} cut at {len}: an error");
                }
                Ok(Some(p)) => {
                    check_packet(cut, &p, &cfg);
                    assert_eq!(p.ip.as_ptr_range().end, cut.as_ptr_range().end);
                    assert!(
                        matches!(p.truncated, Some(Truncation::Frame { .. })),
                        "frame {i} cut at {len}: {:?}",
                        p.truncated
                    );
                    if len >= ip_at + header {
                        assert_eq!((p.src, p.dst), (whole.src, whole.dst), "frame {i}");
                        assert_eq!(p.ip, &frame[ip_at..len], "frame {i} cut at {len}");
                        assert_eq!(p.truncated, Some(Truncation::Frame { ip_len }));
                    } else {
                        assert!(p.encapsulation_depth < whole.encapsulation_depth);
                    }
                }
                other => panic!("frame {i} cut at {len}: {other:?}"),
            }
        }
    }
}

/// A frame cut by the snapshot length inside the TCP payload: the packet, with its
/// addresses, ports and the payload present, marked with the declared IP length.
#[test]
fn snaplen_cut_ipv4_tcp_is_a_truncated_packet() {
    let frame = eth_ipv4_tcp(&[0x5a; 1000]);
    let cut = &frame[..96]; // Ethernet 14 + IPv4 20 + TCP 20 + 42 octets of payload
    let p = decode(LinkType::Ethernet, cut, &DecodeConfig::default())
        .unwrap()
        .unwrap();
    assert_eq!((p.src, p.dst), (IpAddr::from(V4_SRC), IpAddr::from(V4_DST)));
    assert_eq!(p.ip, &frame[14..96]);
    assert_eq!(p.truncated, Some(Truncation::Frame { ip_len: 1040 }));
    assert_eq!(p.truncated.map(Truncation::ip_len), Some(1040));
    assert_eq!(
        p.transport,
        Transport::Tcp {
            src_port: 1234,
            dst_port: 80,
            seq: 1000, // eth_ipv4_tcp's sequence number
            flags: 0x18,
            payload: &[0x5a; 42]
        }
    );
    // Cut inside the TCP header: addresses kept, transport unread.
    let p = decode(LinkType::Ethernet, &frame[..44], &DecodeConfig::default())
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.src, p.transport),
        (IpAddr::from(V4_SRC), Transport::Other)
    );
    assert_eq!(p.truncated, Some(Truncation::Frame { ip_len: 1040 }));
    // Cut inside the IPv4 addresses: still an error, nothing to match on.
    assert_eq!(
        decode(LinkType::Ethernet, &frame[..33], &DecodeConfig::default()),
        Err(DecodeError::Truncated {
            layer: "IPv4",
            offset: 14
        })
    );
    // Not cut: no mark.
    let p = decode(LinkType::Ethernet, &frame, &DecodeConfig::default())
        .unwrap()
        .unwrap();
    assert_eq!(p.truncated, None);
}

/// IPv6 cut by the snapshot length, directly and behind extension headers cut off.
#[test]
fn snaplen_cut_ipv6_is_a_truncated_packet() {
    let cfg = DecodeConfig::default();
    let frame = eth(0x86DD, &ipv6_tcp(&[7; 500]));
    let p = decode(LinkType::Ethernet, &frame[..80], &cfg)
        .unwrap()
        .unwrap();
    assert_eq!((p.src, p.dst), (IpAddr::from(V6_SRC), IpAddr::from(V6_DST)));
    assert_eq!(p.ip, &frame[14..80]);
    assert_eq!(p.truncated, Some(Truncation::Frame { ip_len: 560 }));
    assert!(matches!(
        p.transport,
        Transport::Tcp {
            src_port: 1234,
            dst_port: 443,
            ..
        }
    ));
    // A destination options header of 64 octets cut at 16: the walk stops there.
    let packet = ipv6(60, &[ext_header(6, 64), tcp_header(1, 2, 0, b"x")].concat());
    let p = decode(LinkType::Ipv6, &packet[..56], &cfg)
        .unwrap()
        .unwrap();
    assert_eq!((p.dst, p.protocol), (IpAddr::from(V6_DST), 60));
    assert_eq!(p.transport, Transport::Other);
    assert_eq!(
        p.truncated,
        Some(Truncation::Frame {
            ip_len: u32::try_from(packet.len()).unwrap()
        })
    );
    // The fixed header cut: an error.
    assert!(matches!(
        decode(LinkType::Ipv6, &packet[..39], &cfg),
        Err(DecodeError::Truncated { layer: "IPv6", .. })
    ));
}

/// Outer lengths shorter than the inner IP length, the frame holding more: the bytes within
/// the outer length, marked as such (not as cut by the capture).
#[test]
fn outer_length_shorter_than_ip_length() {
    let cfg = DecodeConfig::default();
    // PPPoE carrying IPv6, its length 10 octets short; the frame has the whole packet.
    let ip6 = ipv6_tcp(b"pppoe-v6-payload");
    let mut session = pppoe(0x0057, &ip6);
    session[5] -= 10;
    let frame = eth(0x8864, &session);
    let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
    assert_eq!(p.ip, &ip6[..ip6.len() - 10]);
    assert_eq!(p.dst, IpAddr::from(V6_DST));
    assert_eq!(
        p.truncated,
        Some(Truncation::Enclosing {
            ip_len: u32::try_from(ip6.len()).unwrap()
        })
    );
    // VXLAN whose UDP length ends 4 octets into the inner packet's TCP payload.
    let inner = eth_ipv4_tcp(b"inner-payload");
    let mut frame = vxlan_frame(4789, &inner);
    let udp_len_at = 14 + 20 + 4;
    let udp_len = u16::from_be_bytes([frame[udp_len_at], frame[udp_len_at + 1]]);
    frame[udp_len_at..udp_len_at + 2].copy_from_slice(&(udp_len - 9).to_be_bytes());
    let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
    assert_eq!((p.src, p.encapsulation_depth), (IpAddr::from(V4_SRC), 1));
    assert_eq!(p.ip, &inner[14..inner.len() - 9]);
    assert_eq!(p.truncated, Some(Truncation::Enclosing { ip_len: 53 }));
    assert!(matches!(
        p.transport,
        Transport::Tcp {
            payload: b"inne",
            ..
        }
    ));
}

#[test]
fn config_defaults() {
    let cfg = DecodeConfig::default();
    assert!(cfg.decapsulate_gre && cfg.decapsulate_vxlan && cfg.decapsulate_ip_in_ip);
    assert_eq!(
        (cfg.vxlan_ports, cfg.max_encapsulation_depth),
        (vec![4789, 4790], 4)
    );
}

#[test]
fn errors_name_layer_and_offset() {
    let e = DecodeError::Truncated {
        layer: "IPv4",
        offset: 14,
    };
    assert_eq!(e.to_string(), "IPv4: truncated, layer starts at offset 14");
    let e = DecodeError::Malformed {
        layer: "TCP",
        offset: 34,
        reason: "data offset below 5",
    };
    assert_eq!(e.to_string(), "TCP at offset 34: data offset below 5");
}

/// The invariants of any decoded packet: `ip` lies in the frame, the addresses are the octets
/// at the header positions, transport payloads lie in `ip`.
fn check_packet(frame: &[u8], packet: &Packet<'_>, cfg: &DecodeConfig) {
    let frame_range = frame.as_ptr_range();
    let ip_range = packet.ip.as_ptr_range();
    assert!(frame_range.start <= ip_range.start && ip_range.end <= frame_range.end);
    let at = ip_range.start as usize - frame_range.start as usize;
    let header = &frame[at..];
    match (packet.src, packet.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            assert!(packet.ip.len() >= 20);
            assert_eq!(header[0] >> 4, 4);
            assert_eq!(
                src,
                Ipv4Addr::from(<[u8; 4]>::try_from(&header[12..16]).unwrap())
            );
            assert_eq!(
                dst,
                Ipv4Addr::from(<[u8; 4]>::try_from(&header[16..20]).unwrap())
            );
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            assert!(packet.ip.len() >= 40);
            assert_eq!(header[0] >> 4, 6);
            assert_eq!(
                src,
                Ipv6Addr::from(<[u8; 16]>::try_from(&header[8..24]).unwrap())
            );
            assert_eq!(
                dst,
                Ipv6Addr::from(<[u8; 16]>::try_from(&header[24..40]).unwrap())
            );
        }
        _ => panic!("mixed address families"),
    }
    if let Transport::Tcp { payload, .. } | Transport::Udp { payload, .. } = packet.transport {
        let payload_range = payload.as_ptr_range();
        assert!(ip_range.start <= payload_range.start && payload_range.end <= ip_range.end);
    }
    assert!(packet.encapsulation_depth <= cfg.max_encapsulation_depth);
    assert!(packet.vlan.is_none_or(|vid| vid < 4096));
    // A truncated packet holds fewer octets than its header declares.
    if let Some(truncation) = packet.truncated {
        assert!(u32::try_from(packet.ip.len()).unwrap() < truncation.ip_len());
    }
}

fn check_any(frame: &[u8], cfg: &DecodeConfig) {
    for link in LINK_TYPES {
        match decode(link, frame, cfg) {
            Ok(Some(packet)) => check_packet(frame, &packet, cfg),
            Ok(None) => {}
            Err(DecodeError::Truncated { offset, .. } | DecodeError::Malformed { offset, .. }) => {
                assert!(offset <= frame.len());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..256)) {
        check_any(&frame, &DecodeConfig::default());
    }

    #[test]
    fn mutated_frames_never_panic(
        index in any::<proptest::sample::Index>(),
        mutations in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<proptest::sample::Index>(),
        depth in 0u8..6,
    ) {
        let corpus = corpus();
        let (_, frame) = &corpus[index.index(corpus.len())];
        let mut frame = frame.clone();
        for (at, byte) in mutations {
            let at = at.index(frame.len());
            frame[at] = byte;
        }
        frame.truncate(frame.len() - cut.index(frame.len() / 4 + 1));
        let cfg = DecodeConfig { max_encapsulation_depth: depth, ..DecodeConfig::default() };
        check_any(&frame, &cfg);
    }
}
