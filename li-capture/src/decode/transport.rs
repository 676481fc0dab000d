//! Transport layer: TCP, UDP, ICMP, ICMPv6, and the hand-over to tunnels.

use super::ip::Network;
use super::{DecodeError, Decoder, Packet, Result, Step, Transport, be16};

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const GRE: u8 = 47;
/// IPv4 in IP (RFC 2003) and IPv6 in IP (RFC 4213), SRv6 (RFC 8754) included.
const IPV4_IN_IP: u8 = 4;
const IPV6_IN_IP: u8 = 41;
const ICMPV6: u8 = 58;

impl<'a> Decoder<'a, '_> {
    /// After an IP header: reads the transport header, or removes a tunnel when configured.
    ///
    /// A fragment with a non-zero offset has no transport header ([`Transport::NotFirstFragment`]).
    /// A transport header that does not parse — a first fragment too short for it, a UDP
    /// length covering the whole datagram, or a broken header in a complete packet — gives
    /// [`Transport::Other`]: the IP packet is still reported by address, so a target cannot
    /// escape interception by sending malformed TCP or UDP headers. A tunnel header that does
    /// not parse leaves the outer packet, for the same reason.
    /// Tunnels are only removed from unfragmented packets: the inner packet of a fragment is
    /// incomplete, so the outer packet is returned.
    #[inline(always)]
    pub(super) fn network(&mut self, network: Network<'a>) -> Result<Step<'a>> {
        let (first, whole) = match network.fragment {
            None => (true, true),
            Some(fragment) => (fragment.offset == 0, fragment.offset == 0 && !fragment.more),
        };
        let offset = network.payload;
        let transport = if first {
            let parsed = match network.protocol {
                TCP => self.tcp(offset),
                // A truncated datagram's UDP length may reach past it, like a first fragment's.
                UDP => self.udp(offset, whole && self.truncated.is_none()),
                ICMP if !network.v6 => self
                    .icmp(offset, "ICMP")
                    .map(|(icmp_type, code)| Transport::Icmp { icmp_type, code }),
                ICMPV6 if network.v6 => self
                    .icmp(offset, "ICMPv6")
                    .map(|(icmp_type, code)| Transport::Icmpv6 { icmp_type, code }),
                GRE if whole && self.config.decapsulate_gre => {
                    if let Ok(Some(inner)) = self.gre(offset) {
                        return Ok(self.tunnel_removed(&network, inner));
                    }
                    Ok(Transport::Other)
                }
                IPV4_IN_IP | IPV6_IN_IP if whole && self.config.decapsulate_ip_in_ip => {
                    if let Ok(Some(inner)) = self.ip_in_ip(offset, network.protocol == IPV6_IN_IP) {
                        return Ok(self.tunnel_removed(&network, inner));
                    }
                    Ok(Transport::Other)
                }
                _ => Ok(Transport::Other),
            };
            parsed.unwrap_or(Transport::Other)
        } else {
            Transport::NotFirstFragment
        };
        if let Transport::Udp { dst_port, .. } = transport
            && whole
            && self.config.decapsulate_vxlan
            && self.config.vxlan_ports.contains(&dst_port)
            && let Ok(Some(inner)) = self.vxlan(offset + 8, dst_port)
        {
            return Ok(self.tunnel_removed(&network, inner));
        }
        Ok(Step::Done(Some(Packet {
            ip: network.ip,
            src: network.src,
            dst: network.dst,
            protocol: network.protocol,
            fragment: network.fragment,
            transport,
            vlan: self.vlan,
            encapsulation_depth: self.depth,
            outer: self.outer,
            truncated: self.truncated,
        })))
    }

    /// A TCP header (RFC 9293 §3.1). The data offset must be at least 5 and within the
    /// segment (in a truncated packet, options cut off leave an empty payload); options are
    /// skipped.
    #[inline(always)]
    fn tcp(&self, offset: usize) -> Result<Transport<'a>> {
        const LAYER: &str = "TCP";
        let header = self.read::<20>(offset, LAYER)?;
        let header_len = usize::from(header[12] >> 4) * 4;
        let malformed = |reason| DecodeError::Malformed {
            layer: LAYER,
            offset,
            reason,
        };
        if header_len < 20 {
            return Err(malformed("data offset below 5"));
        }
        Ok(Transport::Tcp {
            src_port: be16(header[0], header[1]),
            dst_port: be16(header[2], header[3]),
            seq: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            flags: header[13],
            payload: match self.data.get(offset + header_len..) {
                Some(payload) => payload,
                // Options cut off with the packet: the ports are still worth having; the
                // empty payload is at the end of the packet.
                None if self.truncated.is_some() => self.data.split_at(self.data.len()).1,
                None => return Err(malformed("data offset beyond the segment")),
            },
        })
    }

    /// A UDP header (RFC 768). The length must be at least 8 and bounds the payload (and the
    /// data a VXLAN header is read from). It may exceed the bytes of a first fragment; it must
    /// not exceed those of a whole packet. A length of 0 is taken as "the rest of the IP
    /// payload" (IPv6 jumbograms, RFC 2675 §4, and offload on a sending host).
    #[inline(always)]
    fn udp(&mut self, offset: usize, whole: bool) -> Result<Transport<'a>> {
        const LAYER: &str = "UDP";
        let header = self.read::<8>(offset, LAYER)?;
        let available = self.data.len().saturating_sub(offset);
        let malformed = |reason| DecodeError::Malformed {
            layer: LAYER,
            offset,
            reason,
        };
        let len = match usize::from(be16(header[4], header[5])) {
            0 => available,
            len if len < 8 => return Err(malformed("length below 8")),
            len if len <= available => len,
            _ if !whole => available,
            _ => return Err(malformed("length beyond the IP payload")),
        };
        self.limit(offset + len, LAYER, offset)?;
        Ok(Transport::Udp {
            src_port: be16(header[0], header[1]),
            dst_port: be16(header[2], header[3]),
            payload: self.data.get(offset + 8..).unwrap_or_default(),
        })
    }

    /// Type and code of an ICMP (RFC 792) or ICMPv6 (RFC 4443 §2.1) message, which has at
    /// least type, code and checksum.
    fn icmp(&self, offset: usize, layer: &'static str) -> Result<(u8, u8)> {
        let &[icmp_type, code, _, _] = self.read::<4>(offset, layer)?;
        Ok((icmp_type, code))
    }
}

#[cfg(test)]
mod tests {
    use crate::LinkType;
    use crate::decode::testutil::*;
    use crate::decode::{DecodeConfig, DecodeError, Transport, decode};

    fn transport(frame: &[u8]) -> Result<Transport<'_>, DecodeError> {
        decode(LinkType::Ethernet, frame, &DecodeConfig::default()).map(|p| p.unwrap().transport)
    }

    #[test]
    fn tcp_with_options() {
        let builder = etherparse::PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
            .ipv6(V6_SRC, V6_DST, 64)
            .tcp(40000, 443, 1, 65535)
            .syn()
            .options(&[
                etherparse::TcpOptionElement::MaximumSegmentSize(1460),
                etherparse::TcpOptionElement::Noop,
                etherparse::TcpOptionElement::WindowScale(7),
            ])
            .unwrap();
        let frame = build(builder, b"");
        assert_eq!(
            transport(&frame),
            Ok(Transport::Tcp {
                src_port: 40000,
                dst_port: 443,
                seq: 1,
                flags: 0x02,
                payload: b""
            })
        );
    }

    #[test]
    fn tcp_bad_data_offset() {
        let mut frame = eth_ipv4_tcp(b"");
        frame[46] = 0x40; // data offset 4
        // Still reported by address: a broken header must not hide the packet.
        assert_eq!(transport(&frame), Ok(Transport::Other));
        frame[46] = 0x60; // 24 octets, segment has 20
        assert_eq!(transport(&frame), Ok(Transport::Other));
        // A header cut by the IP total length.
        let frame = eth(0x0800, &ipv4(6, &[0; 12]));
        assert_eq!(transport(&frame), Ok(Transport::Other));
    }

    #[test]
    fn udp_length_bounds_payload() {
        // UDP length 10 inside an IP payload of 12: two octets of trailer are not payload.
        let frame = eth(0x0800, &ipv4(17, &udp_header(1, 2, 10, b"abcd")));
        assert_eq!(
            transport(&frame),
            Ok(Transport::Udp {
                src_port: 1,
                dst_port: 2,
                payload: b"ab"
            })
        );
        let frame = eth(0x0800, &ipv4(17, &udp_header(1, 2, 7, b"abcd")));
        assert_eq!(transport(&frame), Ok(Transport::Other));
        let frame = eth(0x0800, &ipv4(17, &udp_header(1, 2, 13, b"abcd")));
        assert_eq!(transport(&frame), Ok(Transport::Other));
        let frame = eth(0x0800, &ipv4(17, &udp_header(1, 2, 0, b"abcd")));
        assert!(matches!(
            transport(&frame),
            Ok(Transport::Udp {
                payload: b"abcd",
                ..
            })
        ));
    }

    #[test]
    fn icmp_and_icmpv6() {
        let frame = build(
            etherparse::PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
                .ipv4(V4_SRC, V4_DST, 64)
                .icmpv4_echo_request(1, 2),
            b"ping",
        );
        assert_eq!(
            transport(&frame),
            Ok(Transport::Icmp {
                icmp_type: 8,
                code: 0
            })
        );
        let frame = build(
            etherparse::PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
                .ipv6(V6_SRC, V6_DST, 64)
                .icmpv6_echo_reply(1, 2),
            b"pong",
        );
        assert_eq!(
            transport(&frame),
            Ok(Transport::Icmpv6 {
                icmp_type: 129,
                code: 0
            })
        );
        // ICMPv6's number in IPv4, ICMP's in IPv6: not read.
        let frame = eth(0x0800, &ipv4(58, &[128, 0, 0, 0]));
        assert_eq!(transport(&frame), Ok(Transport::Other));
        let frame = eth(0x86DD, &ipv6(1, &[8, 0, 0, 0]));
        assert_eq!(transport(&frame), Ok(Transport::Other));
        let frame = eth(0x0800, &ipv4(1, &[3, 1, 0]));
        assert_eq!(transport(&frame), Ok(Transport::Other));
    }

    #[test]
    fn other_protocols() {
        // SCTP and ESP
        let frame = eth(0x0800, &ipv4(132, &[0; 16]));
        assert_eq!(transport(&frame), Ok(Transport::Other));
        let frame = eth(0x0800, &ipv4(50, &[0; 16]));
        assert_eq!(transport(&frame), Ok(Transport::Other));
    }
}
