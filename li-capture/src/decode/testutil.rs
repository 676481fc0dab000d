//! Test frames, built with etherparse or by hand from the standards, independently of the
//! decoder.

use etherparse::{
    Icmpv4Header, Icmpv6Header, IpHeaders, IpNumber, Ipv4Header, Ipv6Header, PacketBuilder,
    PacketBuilderStep, TcpHeader, UdpHeader,
};

pub(crate) const MAC_SRC: [u8; 6] = [2, 0, 0, 0, 0, 1];
pub(crate) const MAC_DST: [u8; 6] = [2, 0, 0, 0, 0, 2];
pub(crate) const V4_SRC: [u8; 4] = [192, 0, 2, 1];
pub(crate) const V4_DST: [u8; 4] = [198, 51, 100, 7];
pub(crate) const OUTER_SRC: [u8; 4] = [10, 0, 0, 1];
pub(crate) const OUTER_DST: [u8; 4] = [10, 0, 0, 2];
pub(crate) const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub(crate) const V6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// An etherparse builder that can be written with a payload.
pub(crate) trait Build {
    fn write_with(self, out: &mut Vec<u8>, payload: &[u8]);
}

macro_rules! impl_build {
    ($($t:ty),*) => {$(
        impl Build for PacketBuilderStep<$t> {
            fn write_with(self, out: &mut Vec<u8>, payload: &[u8]) {
                self.write(out, payload).unwrap();
            }
        }
    )*};
}
impl_build!(TcpHeader, UdpHeader, Icmpv4Header, Icmpv6Header);

/// Writes an etherparse builder with `payload`.
pub(crate) fn build(builder: impl Build, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    builder.write_with(&mut out, payload);
    out
}

/// Writes an etherparse builder that ends with the IP header, with `protocol` and `payload`.
pub(crate) fn build_ip(
    builder: PacketBuilderStep<IpHeaders>,
    protocol: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    builder
        .write(&mut out, IpNumber(protocol), payload)
        .unwrap();
    out
}

/// Ethernet II header and payload.
pub(crate) fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    [&MAC_DST[..], &MAC_SRC, &ethertype.to_be_bytes(), payload].concat()
}

/// One 802.1Q tag (TCI, inner EtherType) and what follows it.
pub(crate) fn vlan_tag(tci: u16, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    [&tci.to_be_bytes()[..], &ethertype.to_be_bytes(), payload].concat()
}

/// One MPLS label stack entry, TC 0, TTL 64.
pub(crate) fn mpls(label: u32, bottom: bool) -> Vec<u8> {
    ((label << 12) | (u32::from(bottom) << 8) | 64)
        .to_be_bytes()
        .to_vec()
}

/// PPPoE session header, PPP protocol and payload.
pub(crate) fn pppoe(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    [
        &[0x11, 0, 0x12, 0x34][..],
        &len.to_be_bytes(),
        &protocol.to_be_bytes(),
        payload,
    ]
    .concat()
}

/// Linux SLL header: outgoing, ARPHRD_ETHER, 6-octet address.
pub(crate) fn sll(protocol: u16) -> Vec<u8> {
    [
        &[0, 4, 0, 1, 0, 6][..],
        &MAC_SRC,
        &[0, 0],
        &protocol.to_be_bytes(),
    ]
    .concat()
}

/// Linux SLL2 header: interface 3, ARPHRD_ETHER, incoming, 6-octet address.
pub(crate) fn sll2(protocol: u16) -> Vec<u8> {
    [
        &protocol.to_be_bytes()[..],
        &[0, 0, 0, 0, 0, 3, 0, 1, 0, 6],
        &MAC_SRC,
        &[0, 0],
    ]
    .concat()
}

/// IPv4 header (no options, checksum set) from `src` to `dst` and payload.
pub(crate) fn ipv4_between(src: [u8; 4], dst: [u8; 4], protocol: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap();
    let mut header = Ipv4Header::new(len, 64, IpNumber(protocol), src, dst).unwrap();
    header.header_checksum = header.calc_header_checksum();
    [&header.to_bytes()[..], payload].concat()
}

/// IPv4 header from [`V4_SRC`] to [`V4_DST`] and payload.
pub(crate) fn ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_between(V4_SRC, V4_DST, protocol, payload)
}

/// IPv6 header from [`V6_SRC`] to [`V6_DST`] and payload.
pub(crate) fn ipv6(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let header = Ipv6Header {
        payload_length: u16::try_from(payload.len()).unwrap(),
        next_header: IpNumber(next_header),
        hop_limit: 64,
        source: V6_SRC,
        destination: V6_DST,
        ..Default::default()
    };
    [&header.to_bytes()[..], payload].concat()
}

/// An IPv6 options or routing header of `len` octets (a multiple of 8).
pub(crate) fn ext_header(next_header: u8, len: usize) -> Vec<u8> {
    assert!(len >= 8 && len.is_multiple_of(8));
    let mut header = vec![0; len];
    header[0] = next_header;
    header[1] = u8::try_from(len / 8 - 1).unwrap();
    header
}

/// An IPv6 Authentication Header of `len` octets (a multiple of 4, at least 12).
pub(crate) fn ah_header(next_header: u8, len: usize) -> Vec<u8> {
    assert!(len >= 12 && len.is_multiple_of(4));
    let mut header = vec![0xA5; len];
    header[0] = next_header;
    header[1] = u8::try_from(len / 4 - 2).unwrap();
    header
}

/// An IPv6 Fragment header; `offset` in octets (a multiple of 8).
pub(crate) fn frag_header(next_header: u8, offset: u16, more: bool, id: u32) -> Vec<u8> {
    let field = offset | u16::from(more);
    [
        &[next_header, 0][..],
        &field.to_be_bytes(),
        &id.to_be_bytes(),
    ]
    .concat()
}

/// A TCP header without options and payload.
pub(crate) fn tcp_header(src: u16, dst: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 20];
    header[..2].copy_from_slice(&src.to_be_bytes());
    header[2..4].copy_from_slice(&dst.to_be_bytes());
    header[12] = 0x50;
    header[13] = flags;
    [&header[..], payload].concat()
}

/// A UDP header with the given length field and payload.
pub(crate) fn udp_header(src: u16, dst: u16, len: u16, payload: &[u8]) -> Vec<u8> {
    [
        &src.to_be_bytes()[..],
        &dst.to_be_bytes(),
        &len.to_be_bytes(),
        &[0, 0],
        payload,
    ]
    .concat()
}

/// A GRE header (RFC 2784/2890) with the optional fields flagged.
pub(crate) fn gre_header(checksum: bool, key: bool, sequence: bool, protocol: u16) -> Vec<u8> {
    let flags = u16::from(checksum) << 15 | u16::from(key) << 13 | u16::from(sequence) << 12;
    let mut header = [flags.to_be_bytes(), protocol.to_be_bytes()].concat();
    for (present, field) in [
        (checksum, [0, 0, 0, 0]),
        (key, [0, 0, 0, 42]),
        (sequence, [0, 0, 0, 7]),
    ] {
        if present {
            header.extend_from_slice(&field);
        }
    }
    header
}

/// Ethernet, IPv4 from [`OUTER_SRC`] to [`OUTER_DST`], UDP to `port`, VXLAN (VNI 5001), `inner`.
pub(crate) fn vxlan_frame(port: u16, inner: &[u8]) -> Vec<u8> {
    udp_tunnel_frame(port, [0x08, 0, 0, 0, 0x00, 0x13, 0x89, 0], inner)
}

/// Ethernet, IPv4 from [`OUTER_SRC`] to [`OUTER_DST`], UDP from 49152 to `port`, the 8-octet
/// tunnel `header` and `inner`.
fn udp_tunnel_frame(port: u16, header: [u8; 8], inner: &[u8]) -> Vec<u8> {
    let payload = [&header[..], inner].concat();
    let len = u16::try_from(payload.len() + 8).unwrap();
    let udp = udp_header(49152, port, len, &payload);
    eth(0x0800, &ipv4_between(OUTER_SRC, OUTER_DST, 17, &udp))
}

/// Ethernet, IPv4 from [`V4_SRC`] to [`V4_DST`], TCP 1234 -> 80 with PSH ACK, payload.
pub(crate) fn eth_ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    build(
        PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
            .ipv4(V4_SRC, V4_DST, 64)
            .tcp(1234, 80, 1000, 65535)
            .psh()
            .ack(1),
        payload,
    )
}

/// Ethernet, IPv4 from [`V4_SRC`] to [`V4_DST`], UDP 5060 -> 5060, payload.
pub(crate) fn eth_ipv4_udp(payload: &[u8]) -> Vec<u8> {
    build(
        PacketBuilder::ethernet2(MAC_SRC, MAC_DST)
            .ipv4(V4_SRC, V4_DST, 64)
            .udp(5060, 5060),
        payload,
    )
}

/// IPv4 from [`V4_SRC`] to [`V4_DST`], UDP 5060 -> 5060, payload.
pub(crate) fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    build(
        PacketBuilder::ipv4(V4_SRC, V4_DST, 64).udp(5060, 5060),
        payload,
    )
}

/// IPv6 from [`V6_SRC`] to [`V6_DST`], TCP 1234 -> 443 with SYN, payload.
pub(crate) fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    build(
        PacketBuilder::ipv6(V6_SRC, V6_DST, 64)
            .tcp(1234, 443, 1, 1000)
            .syn(),
        payload,
    )
}

/// An enhanced GRE header (RFC 2637 §4.1, PPTP): version 1, K set with the payload length
/// of `ppp` and call id 0x1234, the sequence and acknowledgment numbers when given; then
/// `ppp`.
pub(crate) fn pptp_gre(sequence: Option<u32>, ack: Option<u32>, ppp: &[u8]) -> Vec<u8> {
    let flags: u16 = 0x2001 | u16::from(sequence.is_some()) << 12 | u16::from(ack.is_some()) << 7;
    let len = u16::try_from(ppp.len()).unwrap();
    let mut header = [
        &flags.to_be_bytes()[..],
        &0x880Bu16.to_be_bytes(),
        &len.to_be_bytes(),
        &0x1234u16.to_be_bytes(),
    ]
    .concat();
    for field in [sequence, ack].into_iter().flatten() {
        header.extend_from_slice(&field.to_be_bytes());
    }
    [header, ppp.to_vec()].concat()
}

/// A PPP frame (RFC 1661): address and control 0xFF 0x03 unless compressed away, the
/// protocol in one octet when it fits and `compress_protocol`, and the payload.
pub(crate) fn ppp(
    address_control: bool,
    compress_protocol: bool,
    protocol: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut frame = Vec::new();
    if address_control {
        frame.extend_from_slice(&[0xFF, 0x03]);
    }
    match u8::try_from(protocol) {
        Ok(short) if compress_protocol => frame.push(short),
        _ => frame.extend_from_slice(&protocol.to_be_bytes()),
    }
    [frame, payload.to_vec()].concat()
}

/// Ethernet, IPv4 from [`OUTER_SRC`] to [`OUTER_DST`], UDP to `port`, a VXLAN-GPE header
/// (flags I and P, version 0, VNI 5001) with `next_protocol`, and `inner`.
pub(crate) fn vxlan_gpe_frame(port: u16, next_protocol: u8, inner: &[u8]) -> Vec<u8> {
    let header = [0x0C, 0, 0, next_protocol, 0x00, 0x13, 0x89, 0];
    udp_tunnel_frame(port, header, inner)
}

/// An IPv6 Segment Routing Header (RFC 8754 §2: routing type 4) with `segments`, the first
/// one active (Segments Left 0).
pub(crate) fn srh(next_header: u8, segments: &[[u8; 16]]) -> Vec<u8> {
    let n = u8::try_from(segments.len()).unwrap();
    let mut header = vec![next_header, 2 * n, 4, 0, n - 1, 0, 0, 0];
    for segment in segments {
        header.extend_from_slice(segment);
    }
    header
}

/// Outer IPv6 tunnel endpoints (2001:db8:ffff::1 and ::2).
pub(crate) const OUTER6_SRC: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
];
pub(crate) const OUTER6_DST: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
];

/// IPv6 header from `src` to `dst` and payload.
pub(crate) fn ipv6_between(
    src: [u8; 16],
    dst: [u8; 16],
    next_header: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut packet = ipv6(next_header, payload);
    packet[8..24].copy_from_slice(&src);
    packet[24..40].copy_from_slice(&dst);
    packet
}
