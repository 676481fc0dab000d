//! Network layer: IPv4 with options and fragments, IPv6 with extension headers and fragments.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{DecodeError, Decoder, Fragment, Result, Step, be16};

/// An IP header, read; the transport layer or a tunnel comes next.
pub(super) struct Network<'a> {
    /// From the first octet of the IP header to the end of the packet.
    pub(super) ip: &'a [u8],
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) protocol: u8,
    pub(super) fragment: Option<Fragment>,
    /// Offset in the frame of the upper-layer header.
    pub(super) payload: usize,
    pub(super) v6: bool,
}

impl<'a> Decoder<'a, '_> {
    /// IPv4 or IPv6, by the version nibble (LINKTYPE_RAW, ERSPAN type III IP frames).
    pub(super) fn ip(&mut self, offset: usize) -> Result<Step<'a>> {
        let [first] = *self.read::<1>(offset, "IP")?;
        match first >> 4 {
            4 => self.ipv4(offset),
            6 => self.ipv6(offset),
            _ => Err(DecodeError::Malformed {
                layer: "IP",
                offset,
                reason: "version is neither 4 nor 6",
            }),
        }
    }

    /// An IPv4 header (RFC 791 §3.1).
    ///
    /// The IHL must be at least 5 and the options it covers are skipped unread. The total
    /// length bounds the packet (trimming Ethernet padding); one past the bytes available
    /// gives the bytes present, marked with a [`super::Truncation`] (the 20-octet header with
    /// the addresses must be there; options cut off leave the transport unread). A total
    /// length of 0 is taken as "the rest of the frame", as Wireshark does for segmentation
    /// offload seen on a sending host. MF or a non-zero fragment offset makes a [`Fragment`].
    /// The header checksum is not verified.
    #[inline(always)]
    pub(super) fn ipv4(&mut self, offset: usize) -> Result<Step<'a>> {
        const LAYER: &str = "IPv4";
        let malformed = |reason| DecodeError::Malformed {
            layer: LAYER,
            offset,
            reason,
        };
        let header = self.read::<20>(offset, LAYER)?;
        if header[0] >> 4 != 4 {
            return Err(malformed("version is not 4"));
        }
        let header_len = usize::from(header[0] & 0x0F) * 4;
        if header_len < 20 {
            return Err(malformed("IHL below 5"));
        }
        let available = self.data.len().saturating_sub(offset);
        let total = usize::from(be16(header[2], header[3]));
        self.truncated = None;
        let len = if total == 0 {
            if available < header_len {
                return Err(DecodeError::Truncated {
                    layer: LAYER,
                    offset,
                });
            }
            available
        } else if total < header_len {
            return Err(malformed("total length below the header length"));
        } else if total > available {
            self.truncated = Some(self.truncation(total));
            available
        } else {
            total
        };
        self.limit(offset + len, LAYER, offset)?;
        let frag = be16(header[6], header[7]);
        let more = frag & 0x2000 != 0;
        let frag_offset = (frag & 0x1FFF) * 8;
        self.network(Network {
            ip: self.data.get(offset..).unwrap_or_default(),
            src: Ipv4Addr::new(header[12], header[13], header[14], header[15]).into(),
            dst: Ipv4Addr::new(header[16], header[17], header[18], header[19]).into(),
            protocol: header[9],
            fragment: (more || frag_offset != 0).then_some(Fragment {
                id: u32::from(be16(header[4], header[5])),
                offset: frag_offset,
                more,
            }),
            payload: offset + header_len,
            v6: false,
        })
    }

    /// An IPv6 header (RFC 8200 §3) and its extension headers (§4).
    ///
    /// The payload length bounds the packet; past the bytes available it gives the bytes
    /// present, marked with a [`super::Truncation`] (the 40-octet header must be there; the
    /// extension header walk stops at the first header cut off, leaving the transport
    /// unread). A payload length of 0 (jumbogram, RFC 2675, or offload on a
    /// sending host) is taken as "the rest of the frame" unless Next Header is 59.
    ///
    /// Walked, each within the packet: Hop-by-Hop Options (0), Routing (43) and Destination
    /// Options (60), (length + 1) × 8 octets; Authentication Header (51, RFC 4302 §2.2),
    /// (length + 2) × 4 octets; Fragment (44, §4.5), 8 octets, giving a [`Fragment`] and, when
    /// its offset is not zero, ending the walk. Any other value is the upper-layer protocol:
    /// ESP (50) and No Next Header (59) included, they end the walk.
    #[inline(always)]
    pub(super) fn ipv6(&mut self, offset: usize) -> Result<Step<'a>> {
        const LAYER: &str = "IPv6";
        let header = self.read::<40>(offset, LAYER)?;
        let (version, mut next) = (header[0], header[6]);
        // Within the 40 octets just read: these cannot fail.
        let src = *self.read::<16>(offset + 8, LAYER)?;
        let dst = *self.read::<16>(offset + 24, LAYER)?;
        if version >> 4 != 6 {
            return Err(DecodeError::Malformed {
                layer: LAYER,
                offset,
                reason: "version is not 6",
            });
        }
        let available = self.data.len().saturating_sub(offset + 40);
        self.truncated = None;
        let len = match usize::from(be16(header[4], header[5])) {
            0 if next != 59 => available,
            len if len > available => {
                self.truncated = Some(self.truncation(40 + len));
                available
            }
            len => len,
        };
        self.limit(offset + 40 + len, LAYER, offset)?;

        let mut at = offset + 40;
        let mut fragment = None;
        // However many extension headers there are (a target must not hide behind a long
        // chain): each is at least 8 octets and must lie within the packet, so the walk is
        // bounded by the packet's length.
        loop {
            let layer = match next {
                0 => "IPv6 hop-by-hop options",
                43 => "IPv6 routing header",
                60 => "IPv6 destination options",
                51 => "IPv6 authentication header",
                44 => "IPv6 fragment header",
                _ => break,
            };
            // In a truncated packet, a header cut off ends the walk: `next` is then the
            // protocol, the transport is unread.
            let Ok(&[following, length]) = self.read::<2>(at, layer) else {
                self.cut_off(layer, at)?;
                break;
            };
            let header_len = match next {
                44 => {
                    let Ok(&[_, _, offset_0, offset_1, i0, i1, i2, i3]) = self.read::<8>(at, layer)
                    else {
                        self.cut_off(layer, at)?;
                        break;
                    };
                    let field = be16(offset_0, offset_1);
                    let frag = Fragment {
                        id: u32::from_be_bytes([i0, i1, i2, i3]),
                        offset: field & 0xFFF8,
                        more: field & 0x0001 != 0,
                    };
                    fragment = Some(frag);
                    if frag.offset != 0 {
                        next = following;
                        at += 8;
                        break;
                    }
                    8
                }
                51 => (usize::from(length) + 2) * 4,
                _ => (usize::from(length) + 1) * 8,
            };
            if self.data.len() < at + header_len {
                self.cut_off(layer, at)?;
                break;
            }
            next = following;
            at += header_len;
        }
        self.network(Network {
            ip: self.data.get(offset..).unwrap_or_default(),
            src: Ipv6Addr::from(src).into(),
            dst: Ipv6Addr::from(dst).into(),
            protocol: next,
            fragment,
            payload: at,
            v6: true,
        })
    }

    /// An IPv6 extension header `layer` at `at` runs past the data: fine in a truncated
    /// packet (the walk ends there), else [`DecodeError::Truncated`].
    fn cut_off(&self, layer: &'static str, at: usize) -> Result<()> {
        if self.truncated.is_some() {
            Ok(())
        } else {
            Err(DecodeError::Truncated { layer, offset: at })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::LinkType;
    use crate::decode::testutil::*;
    use crate::decode::{DecodeConfig, DecodeError, Fragment, Transport, Truncation, decode};

    fn decode_ok(link: LinkType, frame: &[u8]) -> crate::decode::Packet<'_> {
        decode(link, frame, &DecodeConfig::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn raw_ip_by_version() {
        let v4 = ipv4_udp(b"raw");
        let p = decode_ok(LinkType::RawIp, &v4);
        assert_eq!((p.ip, p.src), (&v4[..], IpAddr::from(V4_SRC)));
        let p = decode_ok(LinkType::Ipv4, &v4);
        assert_eq!(p.ip, &v4[..]);
        let v6 = ipv6_tcp(b"raw");
        let p = decode_ok(LinkType::RawIp, &v6);
        assert_eq!((p.ip, p.dst), (&v6[..], IpAddr::from(V6_DST)));
        let p = decode_ok(LinkType::Ipv6, &v6);
        assert_eq!(p.ip, &v6[..]);
        let cfg = DecodeConfig::default();
        assert!(matches!(
            decode(LinkType::Ipv4, &v6, &cfg),
            Err(DecodeError::Malformed {
                layer: "IPv4",
                offset: 0,
                ..
            })
        ));
        assert!(matches!(
            decode(LinkType::Ipv6, &ipv4_udp(&[0; 20]), &cfg),
            Err(DecodeError::Malformed {
                layer: "IPv6",
                offset: 0,
                ..
            })
        ));
        assert!(matches!(
            decode(LinkType::RawIp, &[0x50; 40], &cfg),
            Err(DecodeError::Malformed {
                layer: "IP",
                offset: 0,
                ..
            })
        ));
        assert_eq!(
            decode(LinkType::RawIp, &[], &cfg),
            Err(DecodeError::Truncated {
                layer: "IP",
                offset: 0
            })
        );
    }

    #[test]
    fn ipv4_options_skipped() {
        let header = etherparse::Ipv4Header {
            source: V4_SRC,
            destination: V4_DST,
            time_to_live: 9,
            options: [1u8, 1, 1, 0, 0x94, 4, 0, 0].into(), // NOP NOP NOP EOL, Router Alert
            ..Default::default()
        };
        let frame = build(
            etherparse::PacketBuilder::ip(etherparse::IpHeaders::Ipv4(header, Default::default()))
                .udp(7, 9),
            b"opt",
        );
        assert_eq!(frame[0], 0x47);
        let p = decode_ok(LinkType::RawIp, &frame);
        assert!(matches!(
            p.transport,
            Transport::Udp {
                src_port: 7,
                dst_port: 9,
                payload: b"opt"
            }
        ));
    }

    #[test]
    fn ipv4_bad_lengths() {
        let cfg = DecodeConfig::default();
        let good = ipv4_udp(b"abc");
        let mut ihl4 = good.clone();
        ihl4[0] = 0x44;
        assert!(matches!(
            decode(LinkType::RawIp, &ihl4, &cfg),
            Err(DecodeError::Malformed {
                reason: "IHL below 5",
                ..
            })
        ));
        let mut short_total = good.clone();
        short_total[3] = 19;
        assert!(matches!(
            decode(LinkType::RawIp, &short_total, &cfg),
            Err(DecodeError::Malformed { layer: "IPv4", .. })
        ));
        // A total length one past the frame: the bytes present, marked.
        let mut long_total = good.clone();
        long_total[3] += 1;
        let p = decode_ok(LinkType::RawIp, &long_total);
        assert_eq!(p.ip, &long_total[..]);
        assert_eq!(
            p.truncated,
            Some(Truncation::Frame {
                ip_len: u32::try_from(good.len() + 1).unwrap()
            })
        );
        // IHL beyond the total length (and the frame)
        let mut long_ihl = good.clone();
        long_ihl[0] = 0x4F;
        assert!(matches!(
            decode(LinkType::RawIp, &long_ihl, &cfg),
            Err(DecodeError::Malformed { layer: "IPv4", .. })
        ));
        // Total length 0: segmentation offload, the rest of the frame.
        let mut tso = eth_ipv4_tcp(b"offloaded");
        tso[16] = 0;
        tso[17] = 0;
        let p = decode(LinkType::Ethernet, &tso, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &tso[14..]);
        assert!(matches!(
            p.transport,
            Transport::Tcp {
                payload: b"offloaded",
                ..
            }
        ));
    }

    #[test]
    fn ipv4_fragments() {
        let mut header = etherparse::Ipv4Header {
            source: V4_SRC,
            destination: V4_DST,
            identification: 0xBEEF,
            more_fragments: true,
            ..Default::default()
        };
        // First fragment: UDP length covers the whole datagram, the fragment only 16 octets.
        let mut udp = vec![0x30, 0x39, 0x00, 0x35, 0, 40, 0, 0];
        udp.extend_from_slice(&[7; 8]);
        let first = build_ip(
            etherparse::PacketBuilder::ip(etherparse::IpHeaders::Ipv4(
                header.clone(),
                Default::default(),
            )),
            17,
            &udp,
        );
        let p = decode_ok(LinkType::Ipv4, &first);
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 0xBEEF,
                offset: 0,
                more: true
            })
        );
        assert_eq!(
            p.transport,
            Transport::Udp {
                src_port: 12345,
                dst_port: 53,
                payload: &[7; 8]
            }
        );

        header.more_fragments = false;
        header.fragment_offset = etherparse::IpFragOffset::try_new(2).unwrap();
        let last = build_ip(
            etherparse::PacketBuilder::ip(etherparse::IpHeaders::Ipv4(header, Default::default())),
            17,
            &[9; 24],
        );
        let p = decode_ok(LinkType::Ipv4, &last);
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 0xBEEF,
                offset: 16,
                more: false
            })
        );
        assert_eq!(p.protocol, 17);
        assert_eq!(p.transport, Transport::NotFirstFragment);

        // A first fragment too short for its TCP header is kept, transport unknown.
        let mut tiny = ipv4(6, &[0x04, 0xD2, 0x00]);
        tiny[6] = 0x20; // MF
        let p = decode_ok(LinkType::Ipv4, &tiny);
        assert_eq!(p.transport, Transport::Other);
        assert!(p.fragment.is_some());
    }

    #[test]
    fn ipv6_extension_headers() {
        let cfg = DecodeConfig::default();
        let tcp = tcp_header(1234, 443, 0x18, b"ext");
        // HBH (8) -> routing (24) -> destination options (16) -> AH (24) -> TCP
        let exts = [
            ext_header(43, 8),
            ext_header(60, 24),
            ext_header(51, 16),
            ah_header(6, 24),
        ]
        .concat();
        let packet = ipv6(0, &[exts.clone(), tcp.clone()].concat());
        let p = decode(LinkType::Ipv6, &packet, &cfg).unwrap().unwrap();
        assert_eq!(p.protocol, 6);
        assert_eq!(p.fragment, None);
        assert!(matches!(
            p.transport,
            Transport::Tcp {
                src_port: 1234,
                dst_port: 443,
                seq: 0,
                flags: 0x18,
                payload: b"ext"
            }
        ));

        // ESP and No Next Header stop the walk.
        let esp = ipv6(0, &[ext_header(50, 8), vec![0; 16]].concat());
        let p = decode(LinkType::Ipv6, &esp, &cfg).unwrap().unwrap();
        assert_eq!((p.protocol, p.transport), (50, Transport::Other));
        let none = ipv6(60, &ext_header(59, 8));
        let p = decode(LinkType::Ipv6, &none, &cfg).unwrap().unwrap();
        assert_eq!((p.protocol, p.transport), (59, Transport::Other));

        // An extension header longer than the packet.
        let mut long = packet.clone();
        long[41] = 200;
        assert_eq!(
            decode(LinkType::Ipv6, &long, &cfg),
            Err(DecodeError::Truncated {
                layer: "IPv6 hop-by-hop options",
                offset: 40
            })
        );

        // A long chain (500 destination options headers, more than RFC 8200 expects):
        // walked to the end, the target's packet is not lost behind it.
        let mut chain: Vec<u8> = (0..499).flat_map(|_| ext_header(60, 8)).collect();
        chain.extend(ext_header(6, 8));
        let many = ipv6(60, &[chain, tcp].concat());
        let p = decode(LinkType::Ipv6, &many, &cfg).unwrap().unwrap();
        assert_eq!((p.protocol, p.dst), (6, IpAddr::from(V6_DST)));
        assert!(matches!(
            p.transport,
            Transport::Tcp {
                dst_port: 443,
                payload: b"ext",
                ..
            }
        ));
    }

    #[test]
    fn ipv6_fragments() {
        let cfg = DecodeConfig::default();
        let udp = udp_header(5000, 6000, 100, &[1; 8]); // UDP length covers the datagram
        let first = ipv6(44, &[frag_header(17, 0, true, 0xDEAD_BEEF), udp].concat());
        let p = decode(LinkType::Ipv6, &first, &cfg).unwrap().unwrap();
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 0xDEAD_BEEF,
                offset: 0,
                more: true
            })
        );
        assert_eq!(p.protocol, 17);
        assert_eq!(
            p.transport,
            Transport::Udp {
                src_port: 5000,
                dst_port: 6000,
                payload: &[1; 8]
            }
        );

        let rest = ipv6(
            0,
            &[
                ext_header(44, 8),
                frag_header(17, 16, false, 7),
                vec![2; 84],
            ]
            .concat(),
        );
        let p = decode(LinkType::Ipv6, &rest, &cfg).unwrap().unwrap();
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 7,
                offset: 16,
                more: false
            })
        );
        assert_eq!((p.protocol, p.transport), (17, Transport::NotFirstFragment));

        // Atomic fragment (RFC 6946): a whole datagram with a fragment header.
        let atomic = ipv6(
            44,
            &[frag_header(58, 0, false, 1), vec![128, 0, 0, 0]].concat(),
        );
        let p = decode(LinkType::Ipv6, &atomic, &cfg).unwrap().unwrap();
        assert_eq!(
            p.transport,
            Transport::Icmpv6 {
                icmp_type: 128,
                code: 0
            }
        );
    }

    #[test]
    fn ipv6_payload_length() {
        let cfg = DecodeConfig::default();
        let good = ipv6_tcp(b"abc");
        let mut long = good.clone();
        long[5] += 1;
        let p = decode(LinkType::Ipv6, &long, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &long[..]);
        assert_eq!(
            p.truncated,
            Some(Truncation::Frame {
                ip_len: u32::try_from(good.len() + 1).unwrap()
            })
        );
        // Payload length 0 with a TCP header: the rest of the frame (offload).
        let mut zero = good.clone();
        zero[4] = 0;
        zero[5] = 0;
        let p = decode(LinkType::Ipv6, &zero, &cfg).unwrap().unwrap();
        assert!(matches!(
            p.transport,
            Transport::Tcp {
                payload: b"abc",
                ..
            }
        ));
        // Padding after a real length is trimmed.
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 6]);
        let p = decode(LinkType::Ipv6, &padded, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &good[..]);
    }
}
