//! Link layers: Ethernet II, VLAN tags, MPLS, PPPoE sessions, Linux cooked captures.

use super::{DecodeError, Decoder, Layer, Result, Step, be16};

/// EtherType of IPv4 (IEEE Registration Authority EtherType list).
pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub(super) const ETHERTYPE_IPV6: u16 = 0x86DD;
/// EtherType of an IEEE 802.1Q customer VLAN tag (C-tag).
const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType of an IEEE 802.1ad service VLAN tag (S-tag).
const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Pre-standard QinQ S-tag EtherType still sent by some switches.
const ETHERTYPE_QINQ_9100: u16 = 0x9100;
/// EtherType of MPLS unicast (RFC 5332 §3).
pub(super) const ETHERTYPE_MPLS: u16 = 0x8847;
/// EtherType of MPLS multicast (RFC 5332 §3).
pub(super) const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// EtherType of a PPPoE session stage (RFC 2516 §4).
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// PPP protocol numbers of IPv4 (RFC 1332) and IPv6 (RFC 5072).
pub(super) const PPP_IPV4: u16 = 0x0021;
pub(super) const PPP_IPV6: u16 = 0x0057;

/// The most VLAN tags read from one link header; more is [`DecodeError::Malformed`].
const MAX_VLAN_TAGS: u8 = 8;
/// The most MPLS label stack entries read; more is [`DecodeError::Malformed`].
const MAX_MPLS_LABELS: usize = 16;

impl Decoder<'_, '_> {
    /// An Ethernet II header (IEEE 802.3 clause 3.2): destination, source, EtherType.
    ///
    /// A Length/Type value below 0x0600 is an IEEE 802.3 length (LLC frames: STP, ...) and
    /// leads to `Ok(None)` through [`Self::ethertype`]. A trailing FCS, if captured, is trimmed
    /// with the padding by the IP length.
    pub(super) fn ethernet<'a>(&mut self, offset: usize) -> Result<Step<'a>> {
        let header = self.read::<14>(offset, "Ethernet")?;
        Ok(Step::Next(Layer::EtherType {
            ethertype: be16(header[12], header[13]),
            offset: offset + 14,
            tags: 0,
        }))
    }

    /// The payload of `ethertype` at `offset`, after `tags` VLAN tags.
    ///
    /// VLAN tags (IEEE 802.1Q clause 9.3: TPID, then PCP, DEI and a 12-bit VID, then the next
    /// EtherType) stack to any depth up to [`MAX_VLAN_TAGS`]; the first VID seen in the frame
    /// becomes [`super::Packet::vlan`]. EtherTypes other than IP, VLAN, MPLS and PPPoE session
    /// carry no IP packet: `Ok(None)`.
    pub(super) fn ethertype<'a>(
        &mut self,
        ethertype: u16,
        offset: usize,
        tags: u8,
    ) -> Result<Step<'a>> {
        Ok(Step::Next(match ethertype {
            ETHERTYPE_IPV4 => Layer::Ipv4(offset),
            ETHERTYPE_IPV6 => Layer::Ipv6(offset),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_9100 => {
                if tags >= MAX_VLAN_TAGS {
                    return Err(DecodeError::Malformed {
                        layer: "802.1Q",
                        offset,
                        reason: "more than 8 stacked VLAN tags",
                    });
                }
                let tag = self.read::<4>(offset, "802.1Q")?;
                self.vlan.get_or_insert(be16(tag[0], tag[1]) & 0x0FFF);
                Layer::EtherType {
                    ethertype: be16(tag[2], tag[3]),
                    offset: offset + 4,
                    tags: tags + 1,
                }
            }
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => Layer::Mpls(offset),
            ETHERTYPE_PPPOE_SESSION => return self.pppoe_session(offset),
            _ => return Ok(Step::Done(None)),
        }))
    }

    /// An MPLS label stack (RFC 3032 §2.1): 4-octet entries (label 20 bits, TC 3, S 1, TTL 8)
    /// up to the one with the bottom-of-stack bit S, at most [`MAX_MPLS_LABELS`].
    ///
    /// MPLS does not say what follows the stack; like common dissectors, the first nibble
    /// decides (RFC 4385 §2 keeps the values 4 and 6 from pseudowire payloads for that reason):
    /// - 4: IPv4; 6: IPv6;
    /// - 0: an RFC 4385 pseudowire control word (4 octets, not interpreted) followed by an
    ///   Ethernet frame (RFC 4448 Ethernet pseudowire), counted as one tunnel layer. An
    ///   Ethernet pseudowire without control word whose destination MAC starts with nibble 0
    ///   is misread by 4 octets (it usually ends as `Ok(None)` or an error); one whose MAC
    ///   starts with 4 or 6 is misread as IP, as in any decoder without configuration;
    /// - anything else (1: associated channel, RFC 4385 §3; other payloads): `Ok(None)`.
    pub(super) fn mpls<'a>(&mut self, offset: usize) -> Result<Step<'a>> {
        let mut entry = offset;
        for _ in 0..MAX_MPLS_LABELS {
            let label = self.read::<4>(entry, "MPLS")?;
            entry += 4;
            if label[2] & 0x01 != 0 {
                let [first] = *self.read::<1>(entry, "MPLS payload")?;
                return Ok(match first >> 4 {
                    4 => Step::Next(Layer::Ipv4(entry)),
                    6 => Step::Next(Layer::Ipv6(entry)),
                    0 => {
                        self.read::<4>(entry, "pseudowire control word")?;
                        self.enter_tunnel("pseudowire control word", entry)?;
                        Step::Next(Layer::Ethernet(entry + 4))
                    }
                    _ => Step::Done(None),
                });
            }
        }
        Err(DecodeError::Malformed {
            layer: "MPLS",
            offset,
            reason: "label stack of more than 16 entries",
        })
    }

    /// A PPPoE session header (RFC 2516 §4: version and type 0x11, code 0, session id,
    /// length) and the PPP protocol field (RFC 1661 §2): 0x0021 IPv4 (RFC 1332), 0x0057 IPv6
    /// (RFC 5072); other protocols (LCP, IPCP, ...) are `Ok(None)`. The PPPoE length bounds
    /// the payload, as far as the frame goes.
    fn pppoe_session<'a>(&mut self, offset: usize) -> Result<Step<'a>> {
        const LAYER: &str = "PPPoE";
        let header = self.read::<8>(offset, LAYER)?;
        if header[0] != 0x11 || header[1] != 0 {
            return Err(DecodeError::Malformed {
                layer: LAYER,
                offset,
                reason: "version/type is not 0x11 or code is not 0 in a session packet",
            });
        }
        let length = usize::from(be16(header[4], header[5]));
        if length < 2 {
            return Err(DecodeError::Malformed {
                layer: LAYER,
                offset,
                reason: "length shorter than the PPP protocol field",
            });
        }
        // A length past the frame (cut by the snapshot length) leaves the frame's end: the
        // IP packet inside is then marked truncated, not lost.
        let end = (offset + 6 + length).min(self.data.len());
        self.limit(end, LAYER, offset)?;
        Ok(match be16(header[6], header[7]) {
            PPP_IPV4 => Step::Next(Layer::Ipv4(offset + 8)),
            PPP_IPV6 => Step::Next(Layer::Ipv6(offset + 8)),
            _ => Step::Done(None),
        })
    }

    /// A Linux cooked capture v1 header (tcpdump.org LINKTYPE_LINUX_SLL, 16 octets): packet
    /// type, ARPHRD type, address length, 8 octets of address, protocol at 14. The protocol
    /// is an EtherType for the usual devices; the Linux-specific values (1 Novell 802.3,
    /// 4 802.2 LLC, ...) are below 0x0600 and give `Ok(None)`.
    pub(super) fn linux_sll(&self) -> Result<Layer> {
        let header = self.read::<16>(0, "Linux SLL")?;
        Ok(Layer::EtherType {
            ethertype: be16(header[14], header[15]),
            offset: 16,
            tags: 0,
        })
    }

    /// A Linux cooked capture v2 header (tcpdump.org LINKTYPE_LINUX_SLL2, 20 octets):
    /// protocol at 0, reserved, interface index, ARPHRD type, packet type, address length,
    /// 8 octets of address.
    pub(super) fn linux_sll2(&self) -> Result<Layer> {
        let header = self.read::<20>(0, "Linux SLL2")?;
        Ok(Layer::EtherType {
            ethertype: be16(header[0], header[1]),
            offset: 20,
            tags: 0,
        })
    }

    /// A BSD loopback header (LINKTYPE_NULL, LINKTYPE_LOOP): the 4-octet address family,
    /// read in either byte order (NULL's is the capturing host's, which the file does not
    /// say): AF_INET (2) is IPv4; AF_INET6 (10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30
    /// macOS) IPv6; anything else is not IP.
    pub(super) fn loopback(&self) -> Result<Layer> {
        let family = *self.read::<4>(0, "loopback")?;
        let values = [u32::from_le_bytes(family), u32::from_be_bytes(family)];
        let ethertype = if values.contains(&2) {
            ETHERTYPE_IPV4
        } else if values.iter().any(|v| matches!(v, 10 | 24 | 28 | 30)) {
            ETHERTYPE_IPV6
        } else {
            0
        };
        Ok(Layer::EtherType {
            ethertype,
            offset: 4,
            tags: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::LinkType;
    use crate::decode::testutil::*;
    use crate::decode::{DecodeConfig, DecodeError, Transport, Truncation, decode};

    #[test]
    fn bsd_loopback_in_either_byte_order() {
        let cfg = DecodeConfig::default();
        let v4 = ipv4_udp(b"lo");
        let v6 = ipv6_tcp(b"lo");
        let (null, lo) = (LinkType::Null, LinkType::Loop);
        let cases = [
            (null, 2u32.to_le_bytes(), false),
            (null, 2u32.to_be_bytes(), false),
            (lo, 2u32.to_be_bytes(), false),
            (null, 30u32.to_le_bytes(), true),
            (null, 24u32.to_le_bytes(), true),
            (lo, 24u32.to_be_bytes(), true),
        ];
        for (link, family, ipv6) in cases {
            let (packet, src) = if ipv6 {
                (&v6, IpAddr::from(V6_SRC))
            } else {
                (&v4, IpAddr::from(V4_SRC))
            };
            let frame = [&family[..], packet].concat();
            let p = decode(link, &frame, &cfg).unwrap().unwrap();
            assert_eq!((p.ip, p.src), (&packet[..], src), "{link:?} {family:?}");
        }
        // Another family: not IP. Shorter than the header: truncated.
        let other = [&7u32.to_le_bytes()[..], &v4].concat();
        assert_eq!(decode(LinkType::Null, &other, &cfg), Ok(None));
        assert!(matches!(
            decode(LinkType::Loop, &[0, 0], &cfg),
            Err(DecodeError::Truncated {
                layer: "loopback",
                offset: 0
            })
        ));
        // A pcap file of link type NULL opens and its frames decode (it was refused at open).
        let mut writer = crate::source::PcapWriter::new(Vec::new(), LinkType::Null, false).unwrap();
        let frame = [&2u32.to_le_bytes()[..], &v4].concat();
        writer
            .write_frame(li_core::Timestamp::UNIX_EPOCH, &frame)
            .unwrap();
        let file = writer.into_inner();
        let mut reader = crate::source::FileReader::new(&file[..]).unwrap();
        let read = reader.next_frame().unwrap().unwrap();
        assert_eq!(read.link, LinkType::Null);
        let p = decode(read.link, read.data, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &v4[..]);
        assert_eq!(LinkType::from_linktype(0), Some(LinkType::Null));
        assert_eq!(LinkType::from_linktype(108), Some(LinkType::Loop));
        assert_eq!(
            (LinkType::Null.to_linktype(), LinkType::Loop.to_linktype()),
            (0, 108)
        );
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let frame = eth_ipv4_tcp(b"hello");
        let p = decode(LinkType::Ethernet, &frame, &DecodeConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(p.src, IpAddr::from(V4_SRC));
        assert_eq!(p.dst, IpAddr::from(V4_DST));
        assert_eq!(p.protocol, 6);
        assert_eq!(p.ip, &frame[14..]);
        assert_eq!(p.vlan, None);
        assert_eq!(p.encapsulation_depth, 0);
        assert!(matches!(
            p.transport,
            Transport::Tcp {
                src_port: 1234,
                dst_port: 80,
                payload: b"hello",
                ..
            }
        ));
    }

    #[test]
    fn ethernet_padding_is_trimmed() {
        let mut frame = eth_ipv4_udp(b"x");
        let ip_len = frame.len() - 14;
        frame.extend_from_slice(&[0; 17]);
        let p = decode(LinkType::Ethernet, &frame, &DecodeConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(p.ip.len(), ip_len);
        assert!(matches!(p.transport, Transport::Udp { payload: b"x", .. }));
    }

    #[test]
    fn non_ip_is_none() {
        let cfg = DecodeConfig::default();
        // ARP
        let arp = eth(0x0806, &[0; 28]);
        assert_eq!(decode(LinkType::Ethernet, &arp, &cfg), Ok(None));
        // LLDP
        let lldp = eth(0x88CC, &[0; 20]);
        assert_eq!(decode(LinkType::Ethernet, &lldp, &cfg), Ok(None));
        // IEEE 802.3 length frame with LLC (STP)
        let stp = eth(38, &[0x42, 0x42, 0x03, 0, 0]);
        assert_eq!(decode(LinkType::Ethernet, &stp, &cfg), Ok(None));
        // ARP behind a VLAN tag
        let tagged = eth(0x8100, &vlan_tag(7, 0x0806, &[0; 28]));
        assert_eq!(decode(LinkType::Ethernet, &tagged, &cfg), Ok(None));
    }

    #[test]
    fn vlan_8021q() {
        let ip = ipv4_udp(b"v");
        let frame = eth(0x8100, &vlan_tag(0x2064, 0x0800, &ip)); // PCP 1, VID 100
        let p = decode(LinkType::Ethernet, &frame, &DecodeConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(p.vlan, Some(100));
        assert_eq!(p.ip, &ip[..]);
    }

    #[test]
    fn vlan_etherparse_single_and_double() {
        let cfg = DecodeConfig::default();
        let single = etherparse::PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
            .single_vlan(etherparse::VlanId::try_new(42).unwrap())
            .ipv4(V4_SRC, V4_DST, 64)
            .udp(53, 53);
        let mut frame = Vec::new();
        single.write(&mut frame, b"q").unwrap();
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.vlan, Some(42));

        let double = etherparse::PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
            .double_vlan(
                etherparse::VlanId::try_new(300).unwrap(),
                etherparse::VlanId::try_new(42).unwrap(),
            )
            .ipv6(V6_SRC, V6_DST, 64)
            .tcp(1, 2, 3, 4);
        let mut frame = Vec::new();
        double.write(&mut frame, b"").unwrap();
        assert_eq!(&frame[12..14], &[0x88, 0xA8]);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.vlan, Some(300));
        assert_eq!(p.src, IpAddr::from(V6_SRC));
    }

    #[test]
    fn qinq_stacks_and_bound() {
        let cfg = DecodeConfig::default();
        let ip = ipv4_udp(b"q");
        for tpid in [0x88A8, 0x9100, 0x8100] {
            // Eight tags: the limit.
            let mut payload = vlan_tag(8, 0x0800, &ip);
            for vid in (1..8).rev() {
                payload = vlan_tag(vid, 0x8100, &payload);
            }
            let frame = eth(tpid, &payload);
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(p.vlan, Some(1));
            assert_eq!(p.ip, &ip[..]);
            // Nine tags: one too many.
            let frame = eth(tpid, &vlan_tag(9, tpid, &payload));
            assert!(matches!(
                decode(LinkType::Ethernet, &frame, &cfg),
                Err(DecodeError::Malformed {
                    layer: "802.1Q",
                    offset: 46,
                    ..
                })
            ));
        }
    }

    #[test]
    fn mpls_ipv4_and_ipv6() {
        let cfg = DecodeConfig::default();
        let ip = ipv4_udp(b"m");
        let frame = eth(
            0x8847,
            &[mpls(100, false), mpls(200, true), ip.clone()].concat(),
        );
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip[..]);
        assert_eq!(p.encapsulation_depth, 0);

        let ip6 = ipv6_tcp(b"six");
        let frame = eth(0x8848, &[mpls(3, true), ip6.clone()].concat());
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip6[..]);
        assert_eq!(p.src, IpAddr::from(V6_SRC));

        // VLAN, then MPLS
        let frame = eth(
            0x8100,
            &vlan_tag(5, 0x8847, &[mpls(1, true), ip.clone()].concat()),
        );
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.vlan, p.ip), (Some(5), &ip[..]));
    }

    #[test]
    fn mpls_pseudowire_ethernet() {
        let cfg = DecodeConfig::default();
        let inner = eth_ipv4_tcp(b"pw");
        let frame = eth(
            0x8847,
            &[
                mpls(16, false),
                mpls(17, true),
                vec![0, 0, 0, 1],
                inner.clone(),
            ]
            .concat(),
        );
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &inner[14..]);
        assert_eq!(p.encapsulation_depth, 1);

        let shallow = DecodeConfig {
            max_encapsulation_depth: 0,
            ..cfg
        };
        assert!(matches!(
            decode(LinkType::Ethernet, &frame, &shallow),
            Err(DecodeError::Malformed { offset: 22, .. })
        ));
    }

    #[test]
    fn mpls_other_payload_and_bound() {
        let cfg = DecodeConfig::default();
        // Associated channel (first nibble 1)
        let frame = eth(
            0x8847,
            &[mpls(13, true), vec![0x10, 0, 0, 0x21, 0, 0]].concat(),
        );
        assert_eq!(decode(LinkType::Ethernet, &frame, &cfg), Ok(None));
        // Seventeen labels
        let mut payload: Vec<u8> = (0..16).flat_map(|l| mpls(l, false)).collect();
        payload.extend(mpls(16, true));
        payload.extend(ipv4_udp(b""));
        let frame = eth(0x8847, &payload);
        assert!(matches!(
            decode(LinkType::Ethernet, &frame, &cfg),
            Err(DecodeError::Malformed {
                layer: "MPLS",
                offset: 14,
                ..
            })
        ));
        // No bottom of stack before the end
        let frame = eth(0x8847, &[mpls(1, false), mpls(2, false)].concat());
        assert_eq!(
            decode(LinkType::Ethernet, &frame, &cfg),
            Err(DecodeError::Truncated {
                layer: "MPLS",
                offset: 22
            })
        );
    }

    #[test]
    fn pppoe_session() {
        let cfg = DecodeConfig::default();
        let ip = ipv4_udp(b"dsl");
        let frame = eth(0x8864, &pppoe(0x0021, &ip));
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip[..]);
        let ip6 = ipv6_tcp(b"");
        let frame = eth(0x8864, &pppoe(0x0057, &ip6));
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip6[..]);
        // LCP
        let frame = eth(0x8864, &pppoe(0xC021, &[1, 1, 0, 4]));
        assert_eq!(decode(LinkType::Ethernet, &frame, &cfg), Ok(None));
        // PPPoE length shorter than the IP packet: the bytes within the PPPoE length, marked.
        let mut short = pppoe(0x0021, &ip);
        short[5] -= 1;
        let frame = eth(0x8864, &short);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip[..ip.len() - 1]);
        assert_eq!(
            p.truncated,
            Some(Truncation::Enclosing {
                ip_len: u32::try_from(ip.len()).unwrap()
            })
        );
    }

    #[test]
    fn linux_sll_and_sll2() {
        let cfg = DecodeConfig::default();
        let ip = ipv4_udp(b"sll");
        let frame = [sll(0x0800), ip.clone()].concat();
        let p = decode(LinkType::LinuxSll, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip[..]);

        let ip6 = ipv6_tcp(b"sll2");
        let frame = [sll2(0x86DD), ip6.clone()].concat();
        let p = decode(LinkType::LinuxSll2, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &ip6[..]);

        // A VLAN tag put back by libpcap
        let frame = [sll2(0x8100), vlan_tag(12, 0x0800, &ip)].concat();
        let p = decode(LinkType::LinuxSll2, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.vlan, p.ip), (Some(12), &ip[..]));

        // 802.2 LLC
        let frame = [sll(0x0004), vec![0x42; 10]].concat();
        assert_eq!(decode(LinkType::LinuxSll, &frame, &cfg), Ok(None));
    }

    #[test]
    fn linux_sll_etherparse() {
        let builder = etherparse::PacketBuilder::linux_sll(
            etherparse::LinuxSllPacketType::OUTGOING,
            6,
            [1, 2, 3, 4, 5, 6, 0, 0],
        )
        .ipv4(V4_SRC, V4_DST, 64)
        .tcp(1234, 80, 1, 1000);
        let mut frame = Vec::new();
        builder.write(&mut frame, b"hi").unwrap();
        let p = decode(LinkType::LinuxSll, &frame, &DecodeConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(p.ip, &frame[16..]);
        assert!(matches!(p.transport, Transport::Tcp { payload: b"hi", .. }));
    }
}
