//! Tunnels: GRE (with ERSPAN mirror sessions), enhanced GRE (PPTP), IP in IP, VXLAN and
//! VXLAN-GPE.
//!
//! A tunnel that is recognised is removed and counted against
//! [`super::DecodeConfig::max_encapsulation_depth`]; what it carries is then decoded like a
//! captured frame (a non-IP inner frame gives `Ok(None)`). A GRE or UDP payload that is not a
//! tunnel this module knows (another GRE version or protocol type, a datagram to a VXLAN port
//! without the I flag) is left in place and the outer packet is returned. So is a tunnel
//! whose payload is not IP although the tunnel itself is an endpoint's traffic: PPP control
//! or MPPE-encrypted PPP in PPTP, NSH in VXLAN-GPE. A warrant on the tunnel endpoint then
//! still gets that packet.
//!
//! The first IP packet a tunnel is removed from is kept as [`OuterIp`] in
//! [`super::Packet::outer`]: the addresses of intermediate tunnels (a tunnel in a tunnel) are
//! not kept.

use std::net::IpAddr;

use super::ip::Network;
use super::link::{
    ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTICAST, PPP_IPV4, PPP_IPV6,
};
use super::{Decoder, Layer, Result, Step, Truncation, be16};

/// The outermost IP packet of a frame from which a tunnel was removed: the tunnel's
/// endpoints, and the packet to deliver for a warrant on one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OuterIp<'a> {
    /// The outer IP packet, tunnel header and inner packet included, trimmed as
    /// [`super::Packet::ip`] is.
    pub ip: &'a [u8],
    /// Source address of the outer packet (a tunnel endpoint).
    pub src: IpAddr,
    /// Destination address of the outer packet (the other tunnel endpoint).
    pub dst: IpAddr,
    /// `Some` when the outer packet's IP length declares more than [`Self::ip`] holds, as
    /// [`super::Packet::truncated`] is for the inner packet.
    pub truncated: Option<Truncation>,
}

/// GRE protocol type of transparent Ethernet bridging (RFC 1701 §3.3, used by NVGRE).
const GRE_TEB: u16 = 0x6558;
/// GRE protocol type of ERSPAN types I and II (draft-foschiano-erspan-03 §4.1).
const GRE_ERSPAN_II: u16 = 0x88BE;
/// GRE protocol type of ERSPAN type III (draft-foschiano-erspan-03 §4.2).
const GRE_ERSPAN_III: u16 = 0x22EB;

/// GRE flag bits (RFC 2784 §2.1, RFC 2890 §2): checksum, routing, key, sequence number.
const GRE_C: u16 = 0x8000;
const GRE_R: u16 = 0x4000;
const GRE_K: u16 = 0x2000;
const GRE_S: u16 = 0x1000;
const GRE_VERSION: u16 = 0x0007;

/// Enhanced GRE (RFC 2637 §4.1): version 1, the acknowledgment number present (A).
const GRE_ENHANCED: u16 = 0x0001;
const GRE_A: u16 = 0x0080;
/// Flags an enhanced GRE header must not have: checksum, routing, strict source route,
/// recursion control.
const GRE_ENHANCED_ZERO: u16 = GRE_C | GRE_R | 0x0F00;
/// GRE protocol type of PPP (RFC 2637 §4.1).
const GRE_PPP: u16 = 0x880B;

/// The VXLAN I flag: the VNI is valid (RFC 7348 §5).
const VXLAN_I: u8 = 0x08;
/// The VXLAN-GPE P flag: the Next Protocol field is present (draft-ietf-nvo3-vxlan-gpe §3.2),
/// and the version bits, which must be 0.
const VXLAN_GPE_P: u8 = 0x04;
const VXLAN_GPE_VERSION: u8 = 0x30;
/// The IANA UDP port of VXLAN-GPE: only there does the P flag make a header VXLAN-GPE.
const VXLAN_GPE_PORT: u16 = 4790;

impl<'a> Decoder<'a, '_> {
    /// Counts a removed tunnel whose outer IP packet is `network`: remembers that packet as
    /// the outermost unless an enclosing one already is, and goes on with `inner`.
    #[inline]
    pub(super) fn tunnel_removed(&mut self, network: &Network<'a>, inner: Layer) -> Step<'a> {
        self.outer.get_or_insert(OuterIp {
            ip: network.ip,
            src: network.src,
            dst: network.dst,
            truncated: self.truncated,
        });
        Step::Next(inner)
    }

    /// IP in IP at `offset`: IPv4 (IP protocol 4, RFC 2003) or IPv6 (41, RFC 4213) after an
    /// IPv4 or IPv6 header, the IPv6 one possibly with a Segment Routing Header (SRv6,
    /// RFC 8754). An inner packet whose version nibble is not the protocol's is left in
    /// place: `None`.
    pub(super) fn ip_in_ip(&mut self, offset: usize, v6: bool) -> Result<Option<Layer>> {
        const LAYER: &str = "IP in IP";
        let [first] = *self.read::<1>(offset, LAYER)?;
        let layer = match (first >> 4, v6) {
            (4, false) => Layer::Ipv4(offset),
            (6, true) => Layer::Ipv6(offset),
            _ => return Ok(None),
        };
        self.enter_tunnel(LAYER, offset)?;
        Ok(Some(layer))
    }

    /// A GRE header (RFC 2784 §2.1) at `offset`, with the optional checksum (C), key (K,
    /// RFC 2890 §2.1) and sequence number (S, RFC 2890 §2.2) fields, 4 octets each.
    ///
    /// Returns the layer after it for protocol types IPv4, IPv6, MPLS, transparent Ethernet
    /// bridging and ERSPAN, and `None` (the outer packet stays) for the RFC 1701 routing
    /// field (R), versions other than 0 and 1, and other protocol types. Version 1 is
    /// enhanced GRE, read by [`Self::enhanced_gre`].
    ///
    /// ERSPAN, on GRE protocol type 0x88BE, is type I (no ERSPAN header, recognised by the
    /// absent sequence number as common dissectors do) or type II (8-octet header, version 1);
    /// on 0x22EB it is type III (12-octet header, version 2, plus an 8-octet platform-specific
    /// subheader when the O bit is set), whose frame type says Ethernet (0) or IP (2).
    pub(super) fn gre(&mut self, offset: usize) -> Result<Option<Layer>> {
        const LAYER: &str = "GRE";
        let header = self.read::<4>(offset, LAYER)?;
        let flags = be16(header[0], header[1]);
        if flags & GRE_VERSION == GRE_ENHANCED {
            return self.enhanced_gre(offset, flags, be16(header[2], header[3]));
        }
        if flags & (GRE_R | GRE_VERSION) != 0 {
            return Ok(None);
        }
        let optional = [GRE_C, GRE_K, GRE_S]
            .iter()
            .filter(|&&bit| flags & bit != 0)
            .count();
        let inner = offset + 4 + 4 * optional;
        if inner > self.data.len() {
            return Err(super::DecodeError::Truncated {
                layer: LAYER,
                offset,
            });
        }
        let layer = match be16(header[2], header[3]) {
            ethertype @ (ETHERTYPE_IPV4
            | ETHERTYPE_IPV6
            | ETHERTYPE_MPLS
            | ETHERTYPE_MPLS_MULTICAST) => Layer::EtherType {
                ethertype,
                offset: inner,
                tags: 0,
            },
            GRE_TEB => Layer::Ethernet(inner),
            GRE_ERSPAN_II if flags & GRE_S == 0 => Layer::Ethernet(inner),
            GRE_ERSPAN_II => {
                let erspan = self.read::<8>(inner, "ERSPAN")?;
                if erspan[0] >> 4 != 1 {
                    return Ok(None);
                }
                Layer::Ethernet(inner + 8)
            }
            GRE_ERSPAN_III => {
                let erspan = self.read::<12>(inner, "ERSPAN")?;
                if erspan[0] >> 4 != 2 {
                    return Ok(None);
                }
                let frame = inner + if erspan[11] & 0x01 != 0 { 20 } else { 12 };
                // The platform-specific subheader must be there too (offsets stay in the frame).
                self.read::<0>(frame, "ERSPAN")?;
                match (erspan[10] >> 2) & 0x1F {
                    0 => Layer::Ethernet(frame),
                    2 => Layer::Ip(frame),
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        self.enter_tunnel(LAYER, offset)?;
        Ok(Some(layer))
    }

    /// An enhanced GRE header (RFC 2637 §4.1, PPTP) at `offset`, whose first four octets,
    /// `flags` and `protocol`, were read: the key (K) must be present and holds the payload
    /// length and the call id; the sequence number (S) and the acknowledgment number (A)
    /// follow when flagged; C, R, s and Recur must be clear and the protocol type PPP.
    ///
    /// The payload length bounds the PPP frame: address and control (0xFF 0x03) when not
    /// compressed away, then the protocol field, one octet when compressed (RFC 1661 §6.6:
    /// an odd first octet). PPP IPv4 (0x0021) and IPv6 (0x0057) are removed; a packet
    /// without payload (an acknowledgment), other PPP protocols (LCP, CCP, MPPE-encrypted
    /// 0x00FD, ...) and headers that do not conform are left in place: `None`.
    fn enhanced_gre(&mut self, offset: usize, flags: u16, protocol: u16) -> Result<Option<Layer>> {
        const LAYER: &str = "enhanced GRE";
        if flags & GRE_K == 0 || flags & GRE_ENHANCED_ZERO != 0 || protocol != GRE_PPP {
            return Ok(None);
        }
        let key = self.read::<4>(offset + 4, LAYER)?;
        let payload_len = usize::from(be16(key[0], key[1]));
        let optional = usize::from(flags & GRE_S != 0) + usize::from(flags & GRE_A != 0);
        let ppp = offset + 8 + 4 * optional;
        if payload_len == 0 {
            return Ok(None);
        }
        // The payload must lie within the outer packet, unless that packet was cut (by the
        // snapshot length, say): then it runs to the bytes present.
        let mut end = ppp + payload_len;
        if end > self.data.len() {
            if self.truncated.is_none() {
                return Ok(None);
            }
            end = self.data.len();
        }
        self.limit(end, LAYER, offset)?;
        let at = if self.data.get(ppp..ppp + 2) == Some(&[0xFF, 0x03][..]) {
            ppp + 2
        } else {
            ppp
        };
        let [first] = *self.read::<1>(at, "PPP")?;
        let (protocol, inner) = if first & 0x01 != 0 {
            (u16::from(first), at + 1)
        } else {
            let [high, low] = *self.read::<2>(at, "PPP")?;
            (be16(high, low), at + 2)
        };
        let layer = match protocol {
            PPP_IPV4 => Layer::Ipv4(inner),
            PPP_IPV6 => Layer::Ipv6(inner),
            _ => return Ok(None),
        };
        self.enter_tunnel(LAYER, offset)?;
        Ok(Some(layer))
    }

    /// A VXLAN header (RFC 7348 §5) at `offset`, in a datagram to VXLAN port `port`: flags
    /// with the I bit, reserved, 24-bit VNI, reserved; an Ethernet frame follows. Without the
    /// I bit, or shorter than 8 octets, the datagram is not taken as VXLAN: `None`.
    ///
    /// On port 4790, the IANA port of VXLAN-GPE, a header with the P flag (reserved, and so
    /// clear, in VXLAN) is VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-12 §3.2): version 0 and the
    /// Next Protocol in the fourth octet, 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS. NSH (4) and
    /// other values, or another version, are left in place: `None`. Without the P flag a
    /// header on 4790 is VXLAN, as a VXLAN-GPE header without it carries Ethernet too.
    pub(super) fn vxlan(&mut self, offset: usize, port: u16) -> Result<Option<Layer>> {
        let header = match self.read::<8>(offset, "VXLAN") {
            Ok(header) if header[0] & VXLAN_I != 0 => header,
            _ => return Ok(None),
        };
        let inner = offset + 8;
        let layer = if port == VXLAN_GPE_PORT && header[0] & VXLAN_GPE_P != 0 {
            if header[0] & VXLAN_GPE_VERSION != 0 {
                return Ok(None);
            }
            match header[3] {
                1 => Layer::Ipv4(inner),
                2 => Layer::Ipv6(inner),
                3 => Layer::Ethernet(inner),
                5 => Layer::Mpls(inner),
                _ => return Ok(None),
            }
        } else {
            Layer::Ethernet(inner)
        };
        self.enter_tunnel("VXLAN", offset)?;
        Ok(Some(layer))
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::LinkType;
    use crate::decode::testutil::*;
    use crate::decode::{DecodeConfig, OuterIp, Transport, decode};

    fn outer_gre(gre: &[u8]) -> Vec<u8> {
        eth(0x0800, &ipv4_between(OUTER_SRC, OUTER_DST, 47, gre))
    }

    #[test]
    fn gre_ipv4_ipv6_with_optional_fields() {
        let cfg = DecodeConfig::default();
        let inner4 = ipv4_udp(b"in");
        let inner6 = ipv6_tcp(b"in6");
        for (c, k, s) in [
            (false, false, false),
            (true, true, true),
            (false, true, false),
        ] {
            let frame = outer_gre(&[gre_header(c, k, s, 0x0800), inner4.clone()].concat());
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(p.ip, &inner4[..]);
            assert_eq!(p.src, IpAddr::from(V4_SRC));
            assert_eq!(p.encapsulation_depth, 1);
            let frame = outer_gre(&[gre_header(c, k, s, 0x86DD), inner6.clone()].concat());
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(p.ip, &inner6[..]);
        }
        // GRE over IPv6, carrying MPLS.
        let gre = [
            gre_header(false, true, false, 0x8847),
            mpls(5, true),
            inner4.clone(),
        ]
        .concat();
        let frame = eth(0x86DD, &ipv6(47, &gre));
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &inner4[..]);
    }

    #[test]
    fn gre_not_configured_or_unknown_returns_outer() {
        let inner = ipv4_udp(b"in");
        let frame = outer_gre(&[gre_header(false, false, false, 0x0800), inner.clone()].concat());
        let off = DecodeConfig {
            decapsulate_gre: false,
            ..DecodeConfig::default()
        };
        let p = decode(LinkType::Ethernet, &frame, &off).unwrap().unwrap();
        assert_eq!((p.src, p.protocol), (IpAddr::from(OUTER_SRC), 47));
        assert_eq!((p.transport, p.encapsulation_depth), (Transport::Other, 0));
        assert_eq!(p.ip, &frame[14..]);

        let cfg = DecodeConfig::default();
        // PPTP (version 1), routing present, unknown protocol type (PPP).
        let mut pptp = gre_header(false, true, false, 0x880B);
        pptp[1] |= 1;
        let routed = [0x40, 0, 0x08, 0, 0, 0, 0, 0];
        for gre in [
            pptp,
            routed.to_vec(),
            gre_header(false, false, false, 0x880B),
        ] {
            let frame = outer_gre(&[gre, inner.clone()].concat());
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(p.src, IpAddr::from(OUTER_SRC));
        }
        // Header cut by the outer packet: the outer packet is reported.
        let frame = outer_gre(&[0xB0, 0, 0x08, 0, 0, 0, 0, 0]);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(
            (p.src, p.transport),
            (IpAddr::from(OUTER_SRC), Transport::Other)
        );
    }

    #[test]
    fn gre_teb_and_erspan() {
        let cfg = DecodeConfig::default();
        let inner = eth_ipv4_tcp(b"mirrored");
        let inner_ip = &inner[14..];
        let erspan2 = [0x10, 0x64, 0x00, 0x01, 0, 0, 0, 0];
        let erspan3 = |o: bool, ft: u8| {
            let mut h = vec![0x20, 0x64, 0x00, 0x01, 1, 2, 3, 4, 0, 0, ft << 2, 0];
            if o {
                h[11] |= 1;
                h.extend_from_slice(&[0xEE; 8]);
            }
            h
        };
        let cases: Vec<Vec<u8>> = vec![
            [gre_header(false, false, false, 0x6558), inner.clone()].concat(),
            [gre_header(false, false, false, 0x88BE), inner.clone()].concat(), // type I
            [
                gre_header(false, false, true, 0x88BE),
                erspan2.to_vec(),
                inner.clone(),
            ]
            .concat(),
            [
                gre_header(false, false, true, 0x22EB),
                erspan3(false, 0),
                inner.clone(),
            ]
            .concat(),
            [
                gre_header(false, false, true, 0x22EB),
                erspan3(true, 0),
                inner.clone(),
            ]
            .concat(),
            [
                gre_header(false, false, true, 0x22EB),
                erspan3(true, 2),
                inner_ip.to_vec(),
            ]
            .concat(),
        ];
        for gre in cases {
            let frame = outer_gre(&gre);
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(p.ip, inner_ip);
            assert_eq!(p.encapsulation_depth, 1);
            assert!(matches!(
                p.transport,
                Transport::Tcp {
                    payload: b"mirrored",
                    ..
                }
            ));
        }
        // Wrong ERSPAN version: the outer packet stays.
        let mut bad = erspan2;
        bad[0] = 0x20;
        let frame =
            outer_gre(&[gre_header(false, false, true, 0x88BE), bad.to_vec(), inner].concat());
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.src, p.encapsulation_depth), (IpAddr::from(OUTER_SRC), 0));
        // Mirrored ARP: not IP.
        let arp = eth(0x0806, &[0; 28]);
        let frame = outer_gre(
            &[
                gre_header(false, false, true, 0x88BE),
                erspan2.to_vec(),
                arp,
            ]
            .concat(),
        );
        assert_eq!(decode(LinkType::Ethernet, &frame, &cfg), Ok(None));
    }

    #[test]
    fn vxlan() {
        let cfg = DecodeConfig::default();
        let inner = eth_ipv4_tcp(b"overlay");
        let frame = vxlan_frame(4789, &inner);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.ip, &inner[14..]);
        assert_eq!((p.src, p.encapsulation_depth), (IpAddr::from(V4_SRC), 1));

        // Not configured, or another port: the outer UDP datagram.
        let off = DecodeConfig {
            decapsulate_vxlan: false,
            ..DecodeConfig::default()
        };
        let p = decode(LinkType::Ethernet, &frame, &off).unwrap().unwrap();
        assert_eq!(p.src, IpAddr::from(OUTER_SRC));
        assert!(matches!(p.transport, Transport::Udp { dst_port: 4789, .. }));
        let frame = vxlan_frame(8472, &inner);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.src, IpAddr::from(OUTER_SRC));
        let linux = DecodeConfig {
            vxlan_ports: vec![4789, 8472],
            ..DecodeConfig::default()
        };
        let p = decode(LinkType::Ethernet, &frame, &linux).unwrap().unwrap();
        assert_eq!(p.src, IpAddr::from(V4_SRC));

        // No I flag: not VXLAN.
        let mut no_i = vxlan_frame(4789, &inner);
        no_i[42] = 0;
        let p = decode(LinkType::Ethernet, &no_i, &cfg).unwrap().unwrap();
        assert_eq!(p.src, IpAddr::from(OUTER_SRC));
    }

    #[test]
    fn depth_limit() {
        // VXLAN in GRE in VXLAN: depth 3.
        let inner = eth_ipv4_tcp(b"deep");
        let vx = vxlan_frame(4789, &inner);
        let gre = eth(
            0x0800,
            &ipv4_between(
                OUTER_SRC,
                OUTER_DST,
                47,
                &[gre_header(false, false, false, 0x6558), vx].concat(),
            ),
        );
        let frame = vxlan_frame(4789, &gre);
        let cfg = DecodeConfig::default();
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.ip, p.encapsulation_depth), (&inner[14..], 3));
        let two = DecodeConfig {
            max_encapsulation_depth: 2,
            ..DecodeConfig::default()
        };
        // Beyond the limit the packet reached is reported, not dropped.
        let p = decode(LinkType::Ethernet, &frame, &two).unwrap().unwrap();
        assert_eq!(p.encapsulation_depth, 2);
    }

    /// The outer packet of `frame` after its Ethernet header, as [`OuterIp`] from OUTER_SRC.
    fn outer_v4(frame: &[u8]) -> Option<OuterIp<'_>> {
        Some(OuterIp {
            ip: &frame[14..],
            src: IpAddr::from(OUTER_SRC),
            dst: IpAddr::from(OUTER_DST),
            truncated: None,
        })
    }

    #[test]
    fn pptp_ppp_ipv4_and_ipv6_in_every_header_form() {
        let cfg = DecodeConfig::default();
        let inner4 = ipv4_udp(b"pptp");
        let inner6 = ipv6_tcp(b"pptp6");
        for (sequence, ack) in [
            (None, None),
            (Some(7), None),
            (None, Some(3)),
            (Some(7), Some(3)),
        ] {
            for address_control in [true, false] {
                for compressed in [true, false] {
                    for (protocol, inner) in [(0x0021, &inner4), (0x0057, &inner6)] {
                        let ppp = ppp(address_control, compressed, protocol, inner);
                        let frame = outer_gre(&pptp_gre(sequence, ack, &ppp));
                        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
                        assert_eq!(
                            p.ip,
                            &inner[..],
                            "{sequence:?} {ack:?} {address_control} {compressed}"
                        );
                        assert_eq!(p.encapsulation_depth, 1);
                        assert_eq!(p.outer, outer_v4(&frame));
                    }
                }
            }
        }
        // Padding after the payload length is not part of the inner packet.
        let ppp = ppp(true, false, 0x0021, &inner4);
        let mut gre = pptp_gre(Some(1), None, &ppp);
        gre.extend_from_slice(&[0; 5]);
        let frame = outer_gre(&gre);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.ip, p.src), (&inner4[..], IpAddr::from(V4_SRC)));
    }

    #[test]
    fn pptp_without_ip_or_nonconforming_leaves_the_outer_packet() {
        let cfg = DecodeConfig::default();
        let inner = ipv4_udp(b"pptp");
        let ip_ppp = ppp(true, false, 0x0021, &inner);
        let mut checksum = pptp_gre(Some(1), None, &ip_ppp);
        checksum[0] |= 0x80; // C is not allowed in enhanced GRE
        let mut no_key = pptp_gre(Some(1), None, &ip_ppp);
        no_key[0] &= !0x20;
        let mut not_ppp = pptp_gre(Some(1), None, &ip_ppp);
        not_ppp[3] = 0x0C;
        let mut too_long = pptp_gre(Some(1), None, &ip_ppp);
        too_long[5] += 1; // payload length one past the packet
        let cases = [
            // LCP Configure-Request, MPPE-encrypted data (CCP-negotiated, 0x00FD).
            pptp_gre(Some(1), None, &ppp(true, false, 0xC021, &[1, 1, 0, 4])),
            pptp_gre(
                Some(2),
                None,
                &ppp(false, true, 0x00FD, &[0x90, 0x01, 0xAB, 0xCD]),
            ),
            // Acknowledgment only: no payload.
            pptp_gre(None, Some(9), &[]),
            checksum,
            no_key,
            not_ppp,
            too_long,
        ];
        for (i, gre) in cases.into_iter().enumerate() {
            let frame = outer_gre(&gre);
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(
                (p.src, p.protocol),
                (IpAddr::from(OUTER_SRC), 47),
                "case {i}"
            );
            assert_eq!((p.ip, p.encapsulation_depth), (&frame[14..], 0), "case {i}");
            assert_eq!((p.transport, p.outer), (Transport::Other, None), "case {i}");
        }
        // GRE not removed: PPTP neither.
        let off = DecodeConfig {
            decapsulate_gre: false,
            ..DecodeConfig::default()
        };
        let frame = outer_gre(&pptp_gre(Some(1), None, &ip_ppp));
        let p = decode(LinkType::Ethernet, &frame, &off).unwrap().unwrap();
        assert_eq!((p.src, p.outer), (IpAddr::from(OUTER_SRC), None));
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!(p.src, IpAddr::from(V4_SRC));
    }

    #[test]
    fn ip_in_ip_every_family_and_srv6() {
        let cfg = DecodeConfig::default();
        let inner4 = ipv4_udp(b"4");
        let inner6 = ipv6_tcp(b"6");
        let outer6 = |next, payload: &[u8]| ipv6_between(OUTER6_SRC, OUTER6_DST, next, payload);
        let segments = [
            OUTER6_DST,
            [0x20, 1, 0xd, 0xb8, 0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
        ];
        let cases = [
            (
                ipv4_between(OUTER_SRC, OUTER_DST, 4, &inner4),
                &inner4,
                false,
            ),
            (
                ipv4_between(OUTER_SRC, OUTER_DST, 41, &inner6),
                &inner6,
                false,
            ),
            (outer6(4, &inner4), &inner4, true),
            (outer6(41, &inner6), &inner6, true),
            // SRv6: a Segment Routing Header, then IPv6 or IPv4.
            (
                outer6(43, &[srh(41, &segments), inner6.clone()].concat()),
                &inner6,
                true,
            ),
            (
                outer6(43, &[srh(4, &segments), inner4.clone()].concat()),
                &inner4,
                true,
            ),
            // Behind other extension headers.
            (
                outer6(
                    0,
                    &[ext_header(43, 8), srh(41, &segments), inner6.clone()].concat(),
                ),
                &inner6,
                true,
            ),
        ];
        for (i, (outer, inner, v6)) in cases.iter().enumerate() {
            let frame = eth(if *v6 { 0x86DD } else { 0x0800 }, outer);
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!((p.ip, p.encapsulation_depth), (&inner[..], 1), "case {i}");
            let (src, dst) = if *v6 {
                (IpAddr::from(OUTER6_SRC), IpAddr::from(OUTER6_DST))
            } else {
                (IpAddr::from(OUTER_SRC), IpAddr::from(OUTER_DST))
            };
            assert_eq!(
                p.outer,
                Some(OuterIp {
                    ip: &frame[14..],
                    src,
                    dst,
                    truncated: None,
                }),
                "case {i}"
            );
            assert_ne!(p.transport, Transport::Other, "case {i}");
        }

        // Switched off, or an inner packet of the wrong version: the outer packet.
        let off = DecodeConfig {
            decapsulate_ip_in_ip: false,
            ..DecodeConfig::default()
        };
        for (i, (outer, _, v6)) in cases.iter().enumerate() {
            let frame = eth(if *v6 { 0x86DD } else { 0x0800 }, outer);
            let p = decode(LinkType::Ethernet, &frame, &off).unwrap().unwrap();
            assert_eq!(
                (p.ip, p.encapsulation_depth, p.outer),
                (&frame[14..], 0, None),
                "case {i}"
            );
        }
        for wrong in [
            ipv4_between(OUTER_SRC, OUTER_DST, 4, &inner6),
            ipv4_between(OUTER_SRC, OUTER_DST, 41, &inner4),
        ] {
            let p = decode(LinkType::Ipv4, &wrong, &cfg).unwrap().unwrap();
            assert_eq!(
                (p.ip, p.transport, p.outer),
                (&wrong[..], Transport::Other, None)
            );
        }
    }

    #[test]
    fn vxlan_gpe_by_the_p_flag_on_4790() {
        let cfg = DecodeConfig::default();
        let eth_inner = eth_ipv4_tcp(b"gpe");
        let ip4 = ipv4_udp(b"gpe4");
        let ip6 = ipv6_tcp(b"gpe6");
        let mpls_ip = [mpls(16, true), ip4.clone()].concat();
        for (np, inner, expected) in [
            (1, &ip4[..], &ip4[..]),
            (2, &ip6[..], &ip6[..]),
            (3, &eth_inner[..], &eth_inner[14..]),
            (5, &mpls_ip[..], &ip4[..]),
        ] {
            let frame = vxlan_gpe_frame(4790, np, inner);
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!(
                (p.ip, p.encapsulation_depth),
                (expected, 1),
                "next protocol {np}"
            );
            assert_eq!(p.outer, outer_v4(&frame));
        }
        // Plain VXLAN on 4790 (no P flag): Ethernet.
        let frame = vxlan_frame(4790, &eth_inner);
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.ip, p.outer), (&eth_inner[14..], outer_v4(&frame)));
        // NSH, an unknown next protocol, another version: the outer datagram.
        let mut version1 = vxlan_gpe_frame(4790, 1, &ip4);
        version1[42] |= 0x10;
        for frame in [
            vxlan_gpe_frame(4790, 4, &[0; 32]),
            vxlan_gpe_frame(4790, 9, &ip4),
            version1,
        ] {
            let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
            assert_eq!((p.src, p.outer), (IpAddr::from(OUTER_SRC), None));
            assert!(matches!(p.transport, Transport::Udp { dst_port: 4790, .. }));
        }
        // On 4789 the P flag is not read: the IPv4 packet is taken as an Ethernet frame.
        let frame = vxlan_gpe_frame(4789, 1, &ip4);
        assert_eq!(decode(LinkType::Ethernet, &frame, &cfg), Ok(None));
        // VXLAN switched off: VXLAN-GPE too.
        let off = DecodeConfig {
            decapsulate_vxlan: false,
            ..DecodeConfig::default()
        };
        let frame = vxlan_gpe_frame(4790, 1, &ip4);
        let p = decode(LinkType::Ethernet, &frame, &off).unwrap().unwrap();
        assert_eq!((p.src, p.outer), (IpAddr::from(OUTER_SRC), None));
    }

    #[test]
    fn nested_tunnels_keep_the_outermost_packet_and_count_ip_in_ip() {
        let cfg = DecodeConfig::default();
        // IPv4 in IPv4 in GRE in IPv4.
        let inner = ipv4_udp(b"nested");
        let middle = ipv4_between([172, 16, 0, 1], [172, 16, 0, 2], 4, &inner);
        let frame = outer_gre(&[gre_header(false, false, false, 0x0800), middle.clone()].concat());
        let p = decode(LinkType::Ethernet, &frame, &cfg).unwrap().unwrap();
        assert_eq!((p.ip, p.encapsulation_depth), (&inner[..], 2));
        assert_eq!(p.outer, outer_v4(&frame));
        let one = DecodeConfig {
            max_encapsulation_depth: 1,
            ..DecodeConfig::default()
        };
        let p = decode(LinkType::Ethernet, &frame, &one).unwrap().unwrap();
        assert_eq!((p.ip, p.encapsulation_depth), (&middle[..], 1));
        assert_eq!(p.outer, outer_v4(&frame));
        // No tunnel, no outer packet.
        let plain = eth_ipv4_tcp(b"plain");
        let p = decode(LinkType::Ethernet, &plain, &cfg).unwrap().unwrap();
        assert_eq!(p.outer, None);
    }

    #[test]
    fn fragmented_tunnel_is_not_removed() {
        let mut frame = vxlan_frame(4789, &eth_ipv4_tcp(b"frag"));
        frame[20] = 0x20; // MF on the outer packet
        let p = decode(LinkType::Ethernet, &frame, &DecodeConfig::default())
            .unwrap()
            .unwrap();
        assert_eq!(p.src, IpAddr::from(OUTER_SRC));
        assert!(p.fragment.is_some());
    }
}
