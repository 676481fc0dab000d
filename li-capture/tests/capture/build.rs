//! Frames for the tests, built with etherparse (an implementation independent of ours) and,
//! for RADIUS and DHCP, by hand from the RFC layouts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::PacketBuilder;
use li_core::Timestamp;

pub(crate) const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub(crate) const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

pub(crate) fn t(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_700_000_000 + secs, 0).unwrap()
}

pub(crate) fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// An Ethernet/IPv4 or IPv6/UDP frame, and the offset of its IP header (14).
pub(crate) fn udp(src: &str, dst: &str, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let src: IpAddr = src.parse().unwrap();
    let dst: IpAddr = dst.parse().unwrap();
    let eth = PacketBuilder::ethernet2(MAC_A, MAC_B);
    let mut out = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth
            .ipv4(s.octets(), d.octets(), 64)
            .udp(sport, dport)
            .write(&mut out, payload)
            .unwrap(),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth
            .ipv6(s.octets(), d.octets(), 64)
            .udp(sport, dport)
            .write(&mut out, payload)
            .unwrap(),
        _ => panic!("mixed families"),
    }
    out
}

/// An Ethernet/IPv4/TCP frame.
pub(crate) fn tcp(src: &str, dst: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(v4(src).octets(), v4(dst).octets(), 64)
        .tcp(40_000, 443, 1, 65_535)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// The IP packet of an Ethernet frame without VLAN tags.
pub(crate) fn ip_of(frame: &[u8]) -> &[u8] {
    &frame[14..]
}

/// RADIUS Accounting-Request (RFC 2866) attributes.
#[derive(Default)]
pub(crate) struct Acct<'a> {
    pub status: u32,
    pub user: Option<&'a str>,
    pub session_id: &'a str,
    pub framed_ip: Option<Ipv4Addr>,
    pub framed_ipv6_prefix: Option<(Ipv6Addr, u8)>,
    pub nas_id: &'a str,
    pub calling_station: Option<&'a str>,
    pub input_octets: Option<u32>,
    pub output_octets: Option<u32>,
    pub terminate_cause: Option<u32>,
}

pub(crate) const START: u32 = 1;
pub(crate) const STOP: u32 = 2;
pub(crate) const INTERIM: u32 = 3;

impl Acct<'_> {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut attrs = Vec::new();
        let mut attr = |t: u8, v: &[u8]| {
            attrs.push(t);
            attrs.push(v.len() as u8 + 2);
            attrs.extend_from_slice(v);
        };
        attr(40, &self.status.to_be_bytes());
        if let Some(u) = self.user {
            attr(1, u.as_bytes());
        }
        attr(44, self.session_id.as_bytes());
        attr(32, self.nas_id.as_bytes());
        if let Some(a) = self.framed_ip {
            attr(8, &a.octets());
        }
        if let Some((p, len)) = self.framed_ipv6_prefix {
            let mut v = vec![0, len];
            v.extend_from_slice(&p.octets()[..usize::from(len).div_ceil(8)]);
            attr(97, &v);
        }
        if let Some(c) = self.calling_station {
            attr(31, c.as_bytes());
        }
        if let Some(n) = self.input_octets {
            attr(42, &n.to_be_bytes());
        }
        if let Some(n) = self.output_octets {
            attr(43, &n.to_be_bytes());
        }
        if let Some(c) = self.terminate_cause {
            attr(49, &c.to_be_bytes());
        }
        let len = 20 + attrs.len();
        let mut p = vec![4, 7, (len >> 8) as u8, len as u8];
        p.extend_from_slice(&[0x5a; 16]);
        p.extend_from_slice(&attrs);
        p
    }

    /// The request as a frame from the NAS to the RADIUS server.
    pub(crate) fn frame(&self) -> Vec<u8> {
        udp("192.0.2.250", "192.0.2.251", 50_000, 1813, &self.encode())
    }
}

/// A DHCPv4 message (RFC 2131) of `msg_type` (5 ACK, 7 RELEASE) for `mac`.
pub(crate) fn dhcp(
    msg_type: u8,
    mac: [u8; 6],
    yiaddr: Ipv4Addr,
    ciaddr: Ipv4Addr,
    lease: Option<u32>,
) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[0] = if msg_type == 5 { 2 } else { 1 };
    p[1] = 1;
    p[2] = 6;
    p[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    p[12..16].copy_from_slice(&ciaddr.octets());
    p[16..20].copy_from_slice(&yiaddr.octets());
    p[28..34].copy_from_slice(&mac);
    p.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    p.extend_from_slice(&[53, 1, msg_type]);
    if let Some(l) = lease {
        p.extend_from_slice(&[51, 4]);
        p.extend_from_slice(&l.to_be_bytes());
    }
    // option 82, circuit id "port-7"
    p.extend_from_slice(&[82, 8, 1, 6]);
    p.extend_from_slice(b"port-7");
    p.push(255);
    let (sport, dport) = if msg_type == 5 { (67, 68) } else { (68, 67) };
    udp("192.0.2.1", "192.0.2.2", sport, dport, &p)
}

/// An Ethernet II frame carrying `payload` as `ethertype`.
pub(crate) fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = MAC_B.to_vec();
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IPv4 header and payload; `frag` is (identification, offset in 8-octet units, more).
pub(crate) fn ipv4(
    src: &str,
    dst: &str,
    protocol: u8,
    frag: (u16, u16, bool),
    payload: &[u8],
) -> Vec<u8> {
    let total = 20 + payload.len();
    let flags_offset = frag.1 | if frag.2 { 0x2000 } else { 0 };
    let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8];
    p.extend_from_slice(&frag.0.to_be_bytes());
    p.extend_from_slice(&flags_offset.to_be_bytes());
    p.extend_from_slice(&[64, protocol, 0, 0]);
    p.extend_from_slice(&v4(src).octets());
    p.extend_from_slice(&v4(dst).octets());
    p.extend_from_slice(payload);
    p
}

/// A UDP header and payload (checksum 0).
pub(crate) fn udp_segment(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut s = sport.to_be_bytes().to_vec();
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&(len as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    s
}

/// The frame with an 802.1Q tag (`tpid` 0x8100, or 0x88a8 for a QinQ service tag) inserted
/// after the MAC addresses.
pub(crate) fn tagged(frame: &[u8], tpid: u16, vlan: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&tpid.to_be_bytes());
    f.extend_from_slice(&vlan.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

/// An MPLS frame: two labels, then the IP packet.
pub(crate) fn mpls(ip: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
    p.extend_from_slice(ip);
    eth(0x8847, &p)
}

/// A mirrored frame in GRE/ERSPAN type II between two mirror endpoints.
pub(crate) fn erspan2(inner_frame: &[u8]) -> Vec<u8> {
    let mut gre = vec![0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1]; // S bit, sequence 1
    gre.extend_from_slice(&[0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]); // ver 1, VLAN 1, session 0
    gre.extend_from_slice(inner_frame);
    eth(
        0x0800,
        &ipv4("172.16.0.1", "172.16.0.2", 47, (0, 0, false), &gre),
    )
}

/// A mirrored frame in VXLAN (UDP 4789, VNI 42).
pub(crate) fn vxlan(inner_frame: &[u8]) -> Vec<u8> {
    let mut v = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    v.extend_from_slice(inner_frame);
    eth(
        0x0800,
        &ipv4(
            "172.16.0.1",
            "172.16.0.2",
            17,
            (0, 0, false),
            &udp_segment(51_000, 4789, &v),
        ),
    )
}
