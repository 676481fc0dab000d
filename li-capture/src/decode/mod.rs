//! Frame decoding: from a captured link-layer frame to the IP packet a warrant is about.
//!
//! [`decode`] walks a frame once, front to back, without copying or allocating:
//!
//! - link layers: Ethernet II, IEEE 802.1Q VLAN tags and 802.1ad/QinQ stacks (0x8100, 0x88A8,
//!   0x9100), MPLS label stacks (RFC 3032) including Ethernet pseudowires (RFC 4385/4448),
//!   PPPoE sessions (RFC 2516), Linux cooked captures v1 and v2, raw IPv4/IPv6;
//! - network layer: IPv4 (RFC 791) with options and fragments, IPv6 (RFC 8200) with its
//!   extension headers and fragments;
//! - transport layer: TCP, UDP, ICMP, ICMPv6 (ports, flags, types, payload);
//! - tunnels, as [`DecodeConfig`] says: GRE (RFC 2784/2890) carrying IP, MPLS, transparent
//!   Ethernet bridging or ERSPAN types I, II and III; enhanced GRE (version 1, PPTP,
//!   RFC 2637) carrying PPP with IPv4 or IPv6; IP in IP (IPv4 or IPv6 in IPv4 or IPv6, IP
//!   protocols 4 and 41, SRv6 included: RFC 8754's Segment Routing Header is walked as a
//!   routing header); VXLAN (RFC 7348) and VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe) carrying
//!   Ethernet, IPv4, IPv6 or MPLS.
//!
//! Tunnels are removed and the innermost IP packet is returned, so a warrant on an address
//! matches whether its traffic is seen directly, on a VLAN trunk, in an MPLS core or in a
//! mirror session. The outermost IP packet of a removed tunnel is kept in
//! [`Packet::outer`], so a warrant on a tunnel endpoint matches too.
//!
//! Every length read from the wire is checked against the bytes available to its layer
//! before use. A layer that runs out of bytes gives [`DecodeError::Truncated`], except the
//! innermost IP packet: once its header up to the addresses is there (20 octets of IPv4, 40
//! of IPv6), a total or payload length reaching past the bytes available is delivered as the
//! bytes present, marked with a [`Truncation`] (a target's packet cut by the snapshot length,
//! or whose PPPoE, tunnel or UDP length is shorter than its IP length, is not lost); a field
//! that contradicts the standard or an enclosing length gives [`DecodeError::Malformed`];
//! a frame that simply does not carry IP (ARP, LLDP, STP, IEEE 802.3 length frames, ...)
//! gives `Ok(None)`. Checksums are not verified: capture on a sending host sees them
//! before NIC offload fills them in, and the interception duty does not depend on them.
//!
//! # Example
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! use li_capture::LinkType;
//! use li_capture::decode::{DecodeConfig, Transport, decode};
//!
//! let frame: &[u8] = &[
//!     // Ethernet: destination, source, EtherType IPv4
//!     2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
//!     // IPv4: IHL 5, total length 31, protocol UDP, 192.0.2.1 -> 198.51.100.7
//!     0x45, 0, 0, 31, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
//!     // UDP: 5060 -> 5060, length 11, then "SIP"
//!     0x13, 0xc4, 0x13, 0xc4, 0, 11, 0, 0, b'S', b'I', b'P',
//!     // Ethernet padding, trimmed by the IPv4 total length
//!     0, 0, 0,
//! ];
//! let packet = decode(LinkType::Ethernet, frame, &DecodeConfig::default())?
//!     .expect("an IP packet");
//! assert_eq!(packet.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
//! assert_eq!(packet.ip.len(), 31);
//! assert_eq!(
//!     packet.transport,
//!     Transport::Udp { src_port: 5060, dst_port: 5060, payload: b"SIP" }
//! );
//! # Ok::<(), li_capture::decode::DecodeError>(())
//! ```

mod ip;
mod link;
mod transport;
mod tunnel;

use std::net::IpAddr;

pub use tunnel::OuterIp;

use crate::LinkType;

/// Which tunnels [`decode`] removes, and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeConfig {
    /// Remove GRE (IP protocol 47, RFC 2784/2890), including ERSPAN mirror sessions carried
    /// in it. Default `true`.
    pub decapsulate_gre: bool,
    /// Remove VXLAN (RFC 7348) from UDP datagrams sent to one of [`Self::vxlan_ports`].
    /// Default `true`.
    pub decapsulate_vxlan: bool,
    /// UDP destination ports that carry VXLAN. Default `[4789, 4790]`, the IANA ports of
    /// VXLAN (RFC 7348 §5) and VXLAN-GPE. On 4790 a header with the P bit is read as
    /// VXLAN-GPE, any other as VXLAN.
    pub vxlan_ports: Vec<u16>,
    /// Remove IP in IP: IPv4 (IP protocol 4, RFC 2003) or IPv6 (41, RFC 4213) carried in
    /// IPv4 or IPv6, SRv6 (RFC 8754) included. Default `true`.
    pub decapsulate_ip_in_ip: bool,
    /// The most tunnel layers (GRE, VXLAN, IP in IP, MPLS Ethernet pseudowire) removed from
    /// one frame; a deeper frame is [`DecodeError::Malformed`]. Default 4.
    pub max_encapsulation_depth: u8,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            decapsulate_gre: true,
            decapsulate_vxlan: true,
            vxlan_ports: vec![4789, 4790],
            decapsulate_ip_in_ip: true,
            max_encapsulation_depth: 4,
        }
    }
}

/// Decodes a captured `frame` of link type `link` down to its innermost IP packet.
///
/// Returns `Ok(None)` for a well-formed frame that carries no IP packet (ARP, LLDP, STP,
/// IEEE 802.3 length frames, an unknown EtherType or MPLS payload): these are to be counted,
/// not reported as errors. The returned [`Packet`] borrows from `frame`.
///
/// A capture cut short by its snapshot length is [`DecodeError::Truncated`] at the link layer
/// or IP header that runs out of bytes; cut after the IP addresses, it is a [`Packet`] with
/// [`Packet::truncated`] set. Error offsets are byte offsets in `frame`, at most
/// `frame.len()`.
pub fn decode<'a>(
    link: LinkType,
    frame: &'a [u8],
    config: &DecodeConfig,
) -> Result<Option<Packet<'a>>, DecodeError> {
    let decoder = Decoder {
        data: frame,
        frame_len: frame.len(),
        config,
        vlan: None,
        depth: 0,
        outer: None,
        truncated: None,
    };
    let first = match link {
        LinkType::Ethernet => Layer::Ethernet(0),
        LinkType::RawIp => Layer::Ip(0),
        LinkType::Ipv4 => Layer::Ipv4(0),
        LinkType::Ipv6 => Layer::Ipv6(0),
        LinkType::LinuxSll => decoder.linux_sll()?,
        LinkType::LinuxSll2 => decoder.linux_sll2()?,
        LinkType::Null | LinkType::Loop => decoder.loopback()?,
    };
    decoder.run(first)
}

/// An IP packet found in a frame, with the fields a classifier matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The innermost IP packet after decapsulation, from the first octet of its header to its
    /// total length (IPv4) or the end of its payload length (IPv6); Ethernet padding and
    /// trailers are trimmed.
    pub ip: &'a [u8],
    /// Source address (RFC 791 §3.1, RFC 8200 §3).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol number (IANA "Assigned Internet Protocol Numbers"): for IPv6 the
    /// Next Header after the extension headers that were walked; 50 (ESP) and 59 (No Next
    /// Header) stop the walk. For a non-first IPv6 fragment, the fragment header's Next Header.
    pub protocol: u8,
    /// Fragmentation fields when the packet is a fragment (IPv4 MF set or offset non-zero;
    /// IPv6 with a Fragment header, RFC 8200 §4.5).
    pub fragment: Option<Fragment>,
    /// The transport header, when `protocol` is one [`decode`] reads.
    pub transport: Transport<'a>,
    /// The VLAN identifier of the first (outermost) IEEE 802.1Q tag seen in frame order, C-tag
    /// or S-tag; an inner frame's tag when the outer frame had none.
    pub vlan: Option<u16>,
    /// How many tunnel layers (GRE, VXLAN, IP in IP, MPLS Ethernet pseudowire) were removed.
    pub encapsulation_depth: u8,
    /// The outermost IP packet when an IP tunnel (GRE, VXLAN, IP in IP) was removed, so the
    /// tunnel's endpoints can be matched as well as `src` and `dst`; `None` otherwise.
    pub outer: Option<OuterIp<'a>>,
    /// `Some` when the IP length declares more than [`Self::ip`] holds: `ip` is then the
    /// bytes present, and the transport fields what they hold (ports when the transport
    /// header is there, else [`Transport::Other`]).
    pub truncated: Option<Truncation>,
}

/// Why a [`Packet`] holds fewer bytes than its IP header declares.
///
/// The decoder cannot tell a frame cut by the capture's snapshot length from one whose IP
/// length lies: the caller, which knows the frame's original length, decides (the
/// classifier reports [`Truncation::Frame`] of a frame captured shorter than it was on the
/// wire as a truncated packet, TS 102 232-3 `iPTruncatedPacket`, and every other truncation as
/// a length mismatch, delivered as the bytes present).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Truncation {
    /// The captured frame ends before the IP length: [`Packet::ip`] runs to the end of the
    /// frame.
    Frame {
        /// The IP packet's length as its header declares it (IPv4 total length; IPv6 40
        /// plus the payload length).
        ip_len: u32,
    },
    /// An enclosing layer's length (PPPoE, the outer IP or UDP length of a tunnel) ends
    /// before the IP length, inside the frame: [`Packet::ip`] runs to the end of that layer.
    Enclosing {
        /// The IP packet's length as its header declares it.
        ip_len: u32,
    },
}

impl Truncation {
    /// The IP packet's length as its header declares it.
    pub fn ip_len(self) -> u32 {
        match self {
            Self::Frame { ip_len } | Self::Enclosing { ip_len } => ip_len,
        }
    }
}

/// The fragmentation fields of an IPv4 (RFC 791 §3.1) or IPv6 (RFC 8200 §4.5) fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Identification: 16 bits for IPv4, 32 bits for IPv6.
    pub id: u32,
    /// Fragment offset in octets (the wire field times 8).
    pub offset: u16,
    /// More Fragments flag.
    pub more: bool,
}

/// The transport header of a [`Packet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// TCP (RFC 9293 §3.1).
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number: the stream offset of the first octet of `payload` (plus the
        /// initial sequence number), so that a stream reassembler can tell a retransmitted
        /// or overlapping segment from new data.
        seq: u32,
        /// Control bits CWR ECE URG ACK PSH RST SYN FIN, as the 14th header octet.
        flags: u8,
        /// Segment data after the header and its options.
        payload: &'a [u8],
    },
    /// UDP (RFC 768).
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Datagram data, bounded by the UDP length (and, in a first fragment, by the
        /// fragment).
        payload: &'a [u8],
    },
    /// ICMP for IPv4 (RFC 792).
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
    },
    /// ICMPv6 (RFC 4443 §2.1).
    Icmpv6 {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
    },
    /// Any other protocol, an IPv6 packet whose walk stopped at ESP or No Next Header, a
    /// tunnel left in place, or a first fragment too short to hold its transport header.
    Other,
    /// A fragment with a non-zero offset: the transport header is in the first fragment.
    NotFirstFragment,
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A header, or a length it declares, runs past the bytes available to its layer: the
    /// end of the captured frame or of the enclosing packet.
    #[error("{layer}: truncated, layer starts at offset {offset}")]
    Truncated {
        /// The layer that ran out of bytes.
        layer: &'static str,
        /// Offset in the frame where that layer starts.
        offset: usize,
    },
    /// A field contradicts its standard or an enclosing length.
    #[error("{layer} at offset {offset}: {reason}")]
    Malformed {
        /// The layer holding the field.
        layer: &'static str,
        /// Offset in the frame where that layer starts.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

type Result<T, E = DecodeError> = std::result::Result<T, E>;

/// The decoding state of one frame.
///
/// The functions on the common path (`ipv4`, `ipv6`, `network`, `tcp`, `udp`) are
/// `#[inline(always)]`: inlined, the packet is built in place instead of being moved through
/// nested `Result<Step>` returns, which measured 19 -> 13 ns for Ethernet/IPv4/TCP.
struct Decoder<'a, 'c> {
    /// The frame, cut down to the end of the innermost length-delimited layer reached so far
    /// (IP total length, UDP length, PPPoE length). All offsets index into it, so they are
    /// offsets in the frame.
    data: &'a [u8],
    /// The length of the whole captured frame: `data` shorter than it was cut by an enclosing
    /// length.
    frame_len: usize,
    config: &'c DecodeConfig,
    vlan: Option<u16>,
    depth: u8,
    /// The outermost IP packet a tunnel was removed from.
    outer: Option<OuterIp<'a>>,
    /// Set by the IP layer last decoded: its length reaches past `data`.
    truncated: Option<Truncation>,
}

/// The next layer to decode, at an offset in the frame.
#[derive(Clone, Copy, Debug)]
enum Layer {
    Ethernet(usize),
    /// The payload of an EtherType (or Linux SLL protocol, or GRE protocol type); `tags`
    /// counts the VLAN tags already read in this link header.
    EtherType {
        ethertype: u16,
        offset: usize,
        tags: u8,
    },
    Mpls(usize),
    /// IPv4 or IPv6, by the version nibble.
    Ip(usize),
    Ipv4(usize),
    Ipv6(usize),
}

/// What a layer leads to.
enum Step<'a> {
    Next(Layer),
    Done(Option<Packet<'a>>),
}

impl<'a> Decoder<'a, '_> {
    /// Decodes layer after layer. Terminates: every step either moves forward in the frame
    /// within a bounded header stack, or removes a tunnel, bounded by the depth limit.
    fn run(mut self, mut layer: Layer) -> Result<Option<Packet<'a>>> {
        loop {
            let step = match layer {
                Layer::Ethernet(offset) => self.ethernet(offset)?,
                Layer::EtherType {
                    ethertype,
                    offset,
                    tags,
                } => self.ethertype(ethertype, offset, tags)?,
                Layer::Mpls(offset) => self.mpls(offset)?,
                Layer::Ip(offset) => self.ip(offset)?,
                Layer::Ipv4(offset) => self.ipv4(offset)?,
                Layer::Ipv6(offset) => self.ipv6(offset)?,
            };
            match step {
                Step::Next(next) => layer = next,
                Step::Done(packet) => return Ok(packet),
            }
        }
    }

    /// The `N` octets at `offset`, or [`DecodeError::Truncated`] for `layer`.
    #[inline]
    fn read<const N: usize>(&self, offset: usize, layer: &'static str) -> Result<&'a [u8; N]> {
        self.data
            .get(offset..)
            .and_then(<[u8]>::first_chunk)
            .ok_or(DecodeError::Truncated { layer, offset })
    }

    /// Limits the data to `end`, the end of a length-delimited layer starting at `offset`.
    #[inline]
    fn limit(&mut self, end: usize, layer: &'static str, offset: usize) -> Result<()> {
        self.data = self
            .data
            .get(..end)
            .ok_or(DecodeError::Truncated { layer, offset })?;
        Ok(())
    }

    /// The truncation of an IP packet declaring `ip_len` octets, when `data` ends before them.
    #[cold]
    fn truncation(&self, ip_len: usize) -> Truncation {
        let ip_len = u32::try_from(ip_len).unwrap_or(u32::MAX);
        if self.data.len() < self.frame_len {
            Truncation::Enclosing { ip_len }
        } else {
            Truncation::Frame { ip_len }
        }
    }

    /// Counts one more tunnel layer, within [`DecodeConfig::max_encapsulation_depth`].
    fn enter_tunnel(&mut self, layer: &'static str, offset: usize) -> Result<()> {
        if self.depth >= self.config.max_encapsulation_depth {
            return Err(DecodeError::Malformed {
                layer,
                offset,
                reason: "encapsulation deeper than max_encapsulation_depth",
            });
        }
        self.depth += 1;
        Ok(())
    }
}

/// A big-endian `u16` from two octets.
#[inline]
fn be16(high: u8, low: u8) -> u16 {
    u16::from_be_bytes([high, low])
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests;
