//! Byte-level frame builders: Ethernet (with an optional 802.1Q tag and padding to the
//! 60-octet minimum), IPv4 and IPv6 with TCP, UDP, ICMP and ICMPv6 and their checksums, ARP,
//! DNS, and RADIUS accounting (RFC 2866, authenticators with MD5).
//!
//! Each builder returns the bytes of its layer with the layer above as payload; checksums
//! that depend on the layer below (the transport's pseudo-header) are filled in by
//! [`ip_packet`], which therefore takes the transport segment with a zero checksum.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! use li_capture::LinkType;
//! use li_capture::decode::{DecodeConfig, decode};
//! use li_capture::synth::packet::{self, IpParams, PROTO_UDP};
//!
//! let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 7));
//! let params = IpParams { ttl: 64, id: 1, df: false };
//! let udp = packet::udp(40_000, 53, b"query");
//! let ip = packet::ip_packet(src.into(), dst.into(), PROTO_UDP, params, udp);
//! let (dst_mac, src_mac) = ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
//! let (frame, ip_offset) = packet::ethernet(dst_mac, src_mac, Some(60), 0x0800, &ip);
//! assert_eq!((frame.len(), ip_offset), (60, 18)); // padded to the Ethernet minimum
//!
//! let decoded = decode(LinkType::Ethernet, &frame, &DecodeConfig::default())?.expect("IPv4");
//! assert_eq!((decoded.src, decoded.dst), (IpAddr::V4(src), IpAddr::V4(dst)));
//! assert_eq!(decoded.ip, ip.as_slice());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Ethernet minimum frame length without the FCS: shorter frames are padded.
const ETH_MIN: usize = 60;

/// TCP flag FIN.
pub const FIN: u8 = 0x01;
/// TCP flag SYN.
pub const SYN: u8 = 0x02;
/// TCP flag RST.
pub const RST: u8 = 0x04;
/// TCP flag PSH.
pub const PSH: u8 = 0x08;
/// TCP flag ACK.
pub const ACK: u8 = 0x10;

/// SplitMix64: a fixed-seed generator, so the sample is the same on every machine.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `lo..hi` (`lo` if the range is empty).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo)
        }
    }

    /// An index below `len` (0 if `len` is 0).
    pub(crate) fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.range(0, len as u64)).unwrap_or(0)
    }

    pub(crate) fn u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }

    pub(crate) fn u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 56) as u8).collect()
    }

    /// One of `items` (`None` if empty).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.index(items.len()))
    }
}

/// A MAC address.
pub type Mac = [u8; 6];

/// A locally administered MAC derived from a host address (`02:00` and the address's last
/// four octets).
pub fn host_mac(addr: IpAddr) -> Mac {
    let tail = match addr {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, tail[0], tail[1], tail[2], tail[3]]
}

/// An Ethernet II frame (without FCS): `vlan` inserts an 802.1Q tag (priority 0, the VLAN id's
/// low 12 bits); padded with zeros to 60 octets.
/// Returns the frame and the offset of the payload (the IP header).
pub fn ethernet(
    dst: Mac,
    src: Mac,
    vlan: Option<u16>,
    ethertype: u16,
    payload: &[u8],
) -> (Vec<u8>, usize) {
    let mut f = Vec::with_capacity(payload.len() + 18);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    if let Some(v) = vlan {
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&(v & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    let offset = f.len();
    f.extend_from_slice(payload);
    if f.len() < ETH_MIN {
        f.resize(ETH_MIN, 0);
    }
    (f, offset)
}

/// Writes `v` big-endian at `at`, if it fits.
fn put16(buf: &mut [u8], at: usize, v: u16) {
    if let Some(b) = buf.get_mut(at..at + 2) {
        b.copy_from_slice(&v.to_be_bytes());
    }
}

/// The ones' complement sum of `data` after `acc` (odd length padded with a zero octet),
/// folded: [`li_core::checksum::ones_complement_sum`].
fn sum16(acc: u32, data: &[u8]) -> u32 {
    li_core::checksum::ones_complement_sum(acc, data)
}

/// The Internet checksum (RFC 1071) of `data` with `initial` already summed (a pseudo-header
/// sum; 0 for an IPv4 header or ICMP). Over data that holds its correct checksum the result
/// is 0. The same as [`li_core::checksum::internet_checksum`].
pub fn checksum(initial: u32, data: &[u8]) -> u16 {
    li_core::checksum::internet_checksum(initial, data)
}

/// The sum of the IPv4 or IPv6 pseudo-header.
fn pseudo_sum(src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> u32 {
    let mut acc = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = sum16(acc, &s.octets());
            acc = sum16(acc, &d.octets());
        }
        _ => {
            acc = sum16(acc, &v6_of(src).octets());
            acc = sum16(acc, &v6_of(dst).octets());
        }
    }
    sum16(acc + u32::from(protocol), &(len as u32).to_be_bytes())
}

fn v6_of(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// IP protocol number (next header) of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// Per-packet IP header values.
#[derive(Clone, Copy, Debug)]
pub struct IpParams {
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub id: u16,
    /// IPv4 Don't Fragment.
    pub df: bool,
}

/// An IP packet carrying `l4` (whose checksum field, if any, is zero and gets filled in):
/// IPv4 (20-octet header, checksummed) if both addresses are IPv4, otherwise IPv6 (an IPv4
/// address is then taken IPv4-mapped). The checksum of a TCP, UDP, ICMP or ICMPv6 `l4` is
/// computed (a UDP checksum of zero is sent as `0xffff`); other protocols' are left alone.
pub fn ip_packet(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    params: IpParams,
    mut l4: Vec<u8>,
) -> Vec<u8> {
    let csum_at = match protocol {
        PROTO_TCP => Some(16),
        PROTO_UDP => Some(6),
        PROTO_ICMP | PROTO_ICMPV6 => Some(2),
        _ => None,
    };
    if let Some(at) = csum_at {
        let initial = if protocol == PROTO_ICMP {
            0
        } else {
            pseudo_sum(src, dst, protocol, l4.len())
        };
        let mut c = checksum(initial, &l4);
        if protocol == PROTO_UDP && c == 0 {
            c = 0xffff;
        }
        put16(&mut l4, at, c);
    }
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4_header(s, d, protocol, params, l4),
        _ => ipv6_header(v6_of(src), v6_of(dst), protocol, params.ttl, l4),
    }
}

fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, p: IpParams, l4: Vec<u8>) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let mut h = Vec::with_capacity(20 + l4.len());
    h.extend_from_slice(&[0x45, 0x00]);
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&p.id.to_be_bytes());
    h.extend_from_slice(&(if p.df { 0x4000u16 } else { 0 }).to_be_bytes());
    h.extend_from_slice(&[p.ttl, protocol, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = checksum(0, &h);
    put16(&mut h, 10, c);
    h.extend_from_slice(&l4);
    h
}

/// Sets the identification of the IPv4 header at `offset` in `frame` and recomputes the
/// header checksum (the transport checksum does not cover it).
pub fn set_ipv4_id(frame: &mut [u8], offset: usize, id: u16) {
    let Some(header) = frame.get_mut(offset..offset + 20) else {
        return;
    };
    put16(header, 4, id);
    put16(header, 10, 0);
    let c = checksum(0, header);
    put16(header, 10, c);
}

fn ipv6_header(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hop_limit: u8, l4: Vec<u8>) -> Vec<u8> {
    let mut h = Vec::with_capacity(40 + l4.len());
    h.extend_from_slice(&[0x60, 0, 0, 0]);
    h.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, hop_limit]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h.extend_from_slice(&l4);
    h
}

/// A TCP segment without options (checksum zero, for [`ip_packet`]); `ack` is written only
/// with the [`ACK`] flag.
pub fn tcp(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    payload: &[u8],
) -> Vec<u8> {
    tcp_with_options(sport, dport, (seq, ack), flags, window, &[], payload)
}

/// A SYN (`ack` None) or SYN-ACK with MSS `mss`, SACK permitted and window scale 7
/// (checksum zero, for [`ip_packet`]).
pub fn tcp_syn(sport: u16, dport: u16, seq: u32, ack: Option<u32>, mss: u16) -> Vec<u8> {
    let [m0, m1] = mss.to_be_bytes();
    let options = [2, 4, m0, m1, 1, 3, 3, 7, 4, 2, 1, 1];
    let (flags, window) = match ack {
        Some(_) => (SYN | ACK, 65_160),
        None => (SYN, 64_240),
    };
    let seq_ack = (seq, ack.unwrap_or(0));
    tcp_with_options(sport, dport, seq_ack, flags, window, &options, &[])
}

fn tcp_with_options(
    sport: u16,
    dport: u16,
    (seq, ack): (u32, u32),
    flags: u8,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let offset = ((20 + options.len()) / 4) as u8;
    let mut s = Vec::with_capacity(20 + options.len() + payload.len());
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&(if flags & ACK != 0 { ack } else { 0 }).to_be_bytes());
    s.extend_from_slice(&[offset << 4, flags]);
    s.extend_from_slice(&window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(options);
    s.extend_from_slice(payload);
    s
}

/// A UDP datagram (checksum zero, for [`ip_packet`]).
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(8 + payload.len());
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    s
}

/// An ICMP (IPv4) or ICMPv6 echo request or reply (checksum zero, for [`ip_packet`]) with a
/// ping-like 56-octet payload starting with `stamp`.
pub fn echo(v6: bool, request: bool, ident: u16, seq: u16, stamp: u64) -> Vec<u8> {
    let kind = match (v6, request) {
        (false, true) => 8,
        (false, false) => 0,
        (true, true) => 128,
        (true, false) => 129,
    };
    let mut s = vec![kind, 0, 0, 0];
    s.extend_from_slice(&ident.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&stamp.to_le_bytes());
    s.extend((0x10u8..0x40).take(48));
    s
}

/// A whole Ethernet frame with an ARP request (`reply` false, broadcast) or reply (to `tha`),
/// padded: `sha`/`spa` the sender's MAC and address, `tha`/`tpa` the target's.
pub fn arp(reply: bool, sha: Mac, spa: Ipv4Addr, tha: Mac, tpa: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 0x08, 0x00, 6, 4, 0, if reply { 2 } else { 1 }];
    a.extend_from_slice(&sha);
    a.extend_from_slice(&spa.octets());
    a.extend_from_slice(&if reply { tha } else { [0; 6] });
    a.extend_from_slice(&tpa.octets());
    let dst = if reply { tha } else { [0xff; 6] };
    ethernet(dst, sha, None, 0x0806, &a).0
}

/// A DNS message (the UDP payload): a query for `name` (`answer` None) or its response with
/// one A or AAAA record (`v6_record`: the question asks for AAAA).
pub fn dns(id: u16, name: &str, v6_record: bool, answer: Option<IpAddr>) -> Vec<u8> {
    let qtype: u16 = if v6_record { 28 } else { 1 };
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&id.to_be_bytes());
    let flags: u16 = if answer.is_some() { 0x8180 } else { 0x0100 };
    m.extend_from_slice(&flags.to_be_bytes());
    let ancount: u16 = answer.is_some().into();
    for n in [1, ancount, 0, 0] {
        m.extend_from_slice(&n.to_be_bytes());
    }
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    if let Some(addr) = answer {
        m.extend_from_slice(&[0xc0, 0x0c]); // the name in the question
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&300u32.to_be_bytes());
        match addr {
            IpAddr::V4(a) => {
                m.extend_from_slice(&4u16.to_be_bytes());
                m.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                m.extend_from_slice(&16u16.to_be_bytes());
                m.extend_from_slice(&a.octets());
            }
        }
    }
    m
}

/// RADIUS attribute types used in accounting (RFC 2865 §5, RFC 2866 §5).
pub mod attr {
    /// User-Name.
    pub const USER_NAME: u8 = 1;
    /// NAS-IP-Address.
    pub const NAS_IP_ADDRESS: u8 = 4;
    /// NAS-Port.
    pub const NAS_PORT: u8 = 5;
    /// Service-Type.
    pub const SERVICE_TYPE: u8 = 6;
    /// Framed-Protocol.
    pub const FRAMED_PROTOCOL: u8 = 7;
    /// Framed-IP-Address.
    pub const FRAMED_IP_ADDRESS: u8 = 8;
    /// Calling-Station-Id.
    pub const CALLING_STATION_ID: u8 = 31;
    /// NAS-Identifier.
    pub const NAS_IDENTIFIER: u8 = 32;
    /// Acct-Status-Type.
    pub const ACCT_STATUS_TYPE: u8 = 40;
    /// Acct-Delay-Time.
    pub const ACCT_DELAY_TIME: u8 = 41;
    /// Acct-Input-Octets.
    pub const ACCT_INPUT_OCTETS: u8 = 42;
    /// Acct-Output-Octets.
    pub const ACCT_OUTPUT_OCTETS: u8 = 43;
    /// Acct-Session-Id.
    pub const ACCT_SESSION_ID: u8 = 44;
    /// Acct-Session-Time.
    pub const ACCT_SESSION_TIME: u8 = 46;
    /// Acct-Input-Packets.
    pub const ACCT_INPUT_PACKETS: u8 = 47;
    /// Acct-Output-Packets.
    pub const ACCT_OUTPUT_PACKETS: u8 = 48;
    /// Acct-Terminate-Cause.
    pub const ACCT_TERMINATE_CAUSE: u8 = 49;
    /// Event-Timestamp.
    pub const EVENT_TIMESTAMP: u8 = 55;
    /// NAS-Port-Type.
    pub const NAS_PORT_TYPE: u8 = 61;
}

/// RADIUS attributes being assembled, in order (type, length, value).
#[derive(Clone, Debug, Default)]
pub struct Attrs(Vec<u8>);

impl Attrs {
    /// Appends an attribute with value `v` (at most 253 octets).
    pub fn bytes(&mut self, t: u8, v: &[u8]) -> &mut Self {
        self.0.push(t);
        self.0.push((v.len() + 2) as u8);
        self.0.extend_from_slice(v);
        self
    }

    /// Appends an attribute whose value is a 32-bit integer.
    pub fn int(&mut self, t: u8, v: u32) -> &mut Self {
        self.bytes(t, &v.to_be_bytes())
    }
}

/// An Accounting-Request (code 4) with its Request Authenticator, RFC 2866 §3:
/// MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret).
pub fn accounting_request(id: u8, attrs: &Attrs, secret: &[u8]) -> Vec<u8> {
    let mut p = radius_header(4, id, attrs.0.len());
    p.extend_from_slice(&[0; 16]);
    p.extend_from_slice(&attrs.0);
    let auth = md5(&[p.as_slice(), secret].concat());
    if let Some(a) = p.get_mut(4..20) {
        a.copy_from_slice(&auth);
    }
    p
}

/// The Accounting-Response (code 5, no attributes) to `request`, RFC 2866 §3:
/// MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret).
pub fn accounting_response(request: &[u8], secret: &[u8]) -> Vec<u8> {
    let id = request.get(1).copied().unwrap_or(0);
    let mut p = radius_header(5, id, 0);
    p.extend_from_slice(request.get(4..20).unwrap_or(&[0; 16]));
    let auth = md5(&[p.as_slice(), secret].concat());
    if let Some(a) = p.get_mut(4..20) {
        a.copy_from_slice(&auth);
    }
    p
}

fn radius_header(code: u8, id: u8, attrs_len: usize) -> Vec<u8> {
    let mut p = vec![code, id];
    p.extend_from_slice(&((20 + attrs_len) as u16).to_be_bytes());
    p
}

/// MD5 (RFC 1321), for RADIUS authenticators only.
pub(crate) fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(abs(sin(i + 1)) * 2^32), written out (no floating point).
    const K: [u32; 64] = [
        0xd76a_a478,
        0xe8c7_b756,
        0x2420_70db,
        0xc1bd_ceee,
        0xf57c_0faf,
        0x4787_c62a,
        0xa830_4613,
        0xfd46_9501,
        0x6980_98d8,
        0x8b44_f7af,
        0xffff_5bb1,
        0x895c_d7be,
        0x6b90_1122,
        0xfd98_7193,
        0xa679_438e,
        0x49b4_0821,
        0xf61e_2562,
        0xc040_b340,
        0x265e_5a51,
        0xe9b6_c7aa,
        0xd62f_105d,
        0x0244_1453,
        0xd8a1_e681,
        0xe7d3_fbc8,
        0x21e1_cde6,
        0xc337_07d6,
        0xf4d5_0d87,
        0x455a_14ed,
        0xa9e3_e905,
        0xfcef_a3f8,
        0x676f_02d9,
        0x8d2a_4c8a,
        0xfffa_3942,
        0x8771_f681,
        0x6d9d_6122,
        0xfde5_380c,
        0xa4be_ea44,
        0x4bde_cfa9,
        0xf6bb_4b60,
        0xbebf_bc70,
        0x289b_7ec6,
        0xeaa1_27fa,
        0xd4ef_3085,
        0x0488_1d05,
        0xd9d4_d039,
        0xe6db_99e5,
        0x1fa2_7cf8,
        0xc4ac_5665,
        0xf429_2244,
        0x432a_ff97,
        0xab94_23a7,
        0xfc93_a039,
        0x655b_59c3,
        0x8f0c_cc92,
        0xffef_f47d,
        0x8584_5dd1,
        0x6fa8_7e4f,
        0xfe2c_e6e0,
        0xa301_4314,
        0x4e08_11a1,
        0xf753_7e82,
        0xbd3a_f235,
        0x2ad7_d2bb,
        0xeb86_d391,
    ];
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in msg.chunks_exact(64) {
        let m: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| {
                w.iter()
                    .rev()
                    .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
            })
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for (i, (&ki, &si)) in K.iter().zip(S.iter()).enumerate() {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let mg = m.get(g).copied().unwrap_or(0);
            let f = f.wrapping_add(a).wrapping_add(ki).wrapping_add(mg);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(si));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (o, v) in out
        .chunks_exact_mut(4)
        .zip(state.iter().map(|s| s.to_le_bytes()))
    {
        o.copy_from_slice(&v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn md5_matches_rfc_1321_test_suite() {
        for (input, digest) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            assert_eq!(hex(&md5(input.as_bytes())), digest, "{input:?}");
        }
    }

    #[test]
    fn checksums_verify_to_zero() {
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        let dst: IpAddr = "198.51.100.7".parse().unwrap();
        let p = ip_packet(
            src,
            dst,
            PROTO_UDP,
            IpParams {
                ttl: 64,
                id: 7,
                df: false,
            },
            udp(1000, 53, b"odd"),
        );
        assert_eq!(checksum(0, &p[..20]), 0);
        assert_eq!(checksum(pseudo_sum(src, dst, PROTO_UDP, 11), &p[20..]), 0);
        assert_ne!(p[26..28], [0, 0]);
    }
}
