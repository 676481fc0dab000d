//! Tunnels: GRE (with ERSPAN mirror sessions) and VXLAN.
//!
//! A tunnel that is recognised is removed and counted against
//! [`super::DecodeConfig::max_encapsulation_depth`]; what it carries is then decoded like a
//! captured frame (a non-IP inner frame gives `Ok(None)`). A GRE or UDP payload that is not a
//! tunnel this module knows (another GRE version or protocol type, a datagram to a VXLAN port
//! without the I flag) is left in place and the outer packet is returned.

use super::link::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTICAST};
use super::{Decoder, Layer, Result, be16};

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

/// The VXLAN I flag: the VNI is valid (RFC 7348 §5).
const VXLAN_I: u8 = 0x08;

impl Decoder<'_, '_> {
    /// A GRE header (RFC 2784 §2.1) at `offset`, with the optional checksum (C), key (K,
    /// RFC 2890 §2.1) and sequence number (S, RFC 2890 §2.2) fields, 4 octets each.
    ///
    /// Returns the layer after it for protocol types IPv4, IPv6, MPLS, transparent Ethernet
    /// bridging and ERSPAN, and `None` (the outer packet stays) for version 1 (PPTP), the
    /// RFC 1701 routing field (R), and other protocol types.
    ///
    /// ERSPAN, on GRE protocol type 0x88BE, is type I (no ERSPAN header, recognised by the
    /// absent sequence number as common dissectors do) or type II (8-octet header, version 1);
    /// on 0x22EB it is type III (12-octet header, version 2, plus an 8-octet platform-specific
    /// subheader when the O bit is set), whose frame type says Ethernet (0) or IP (2).
    pub(super) fn gre(&mut self, offset: usize) -> Result<Option<Layer>> {
        const LAYER: &str = "GRE";
        let header = self.read::<4>(offset, LAYER)?;
        let flags = be16(header[0], header[1]);
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

    /// A VXLAN header (RFC 7348 §5) at `offset`, in a datagram to a VXLAN port: flags with
    /// the I bit, reserved, 24-bit VNI, reserved; an Ethernet frame follows. Without the I
    /// bit, or shorter than 8 octets, the datagram is not taken as VXLAN: `None`.
    pub(super) fn vxlan(&mut self, offset: usize) -> Result<Option<Layer>> {
        match self.read::<8>(offset, "VXLAN") {
            Ok(header) if header[0] & VXLAN_I != 0 => {
                self.enter_tunnel("VXLAN", offset)?;
                Ok(Some(Layer::Ethernet(offset + 8)))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use crate::LinkType;
    use crate::decode::testutil::*;
    use crate::decode::{DecodeConfig, Transport, decode};

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
