//! X2/X3 PDUs of ETSI TS 103 221-2 (clause 5): the binary TLV format a point of interception
//! (POI) uses to send xIRI (X2) and xCC (X3) to the mediation and delivery function (MDF).
//!
//! A PDU is a 40-octet fixed header (clause 5.2), the conditional attributes (clause 5.3,
//! [`Attribute`]) and the payload; all integers are big-endian:
//!
//! ```text
//! offset size field
//! 0      2    Version            (clause 5.2.1; we send DEFAULT_VERSION, accept any)
//! 2      2    PDU Type           (PduType: 1 X2, 2 X3, 3 Keepalive, 4 Keepalive Ack)
//! 4      4    Header Length      40 + the attribute TLVs
//! 8      4    Payload Length
//! 12     2    Payload Format     (PayloadFormat)
//! 14     2    Payload Direction  (PayloadDirection)
//! 16     16   XID                (li_core::Xid, nil in keepalives)
//! 32     8    Correlation ID
//! 40     ...  attributes: { Type u16, Length u16, Value }*, up to Header Length
//! HL     PL   payload
//! ```
//!
//! PDUs follow one another on a TCP (TLS) stream; [`frame_len`] splits the stream using the
//! two length fields and bounds what a receiver buffers. The codec is sans-IO: it takes and
//! returns bytes.
//!
//! The ETSI text was not available to this project: the layout is compiled from OpenLI,
//! sipgate li-lib-x1x2x3, lippycat and Wireshark's `packet-li5g.c` (see
//! `shared/standards/etsi/103221-2/X2X3-PDU-FORMAT.md`), and the clause numbers are those
//! these implementations cite.
//!
//! # Truncated packets
//!
//! An X3 IP packet PDU whose payload is the part captured of a longer packet (cut by the
//! capture's snapshot length) carries one Proprietary Attribute (type 4) of 8 octets: ASCII
//! `LIOL` ([`ORIGINAL_LENGTH_MAGIC`]), then the packet's length as its IP header declares it,
//! a big-endian `u32` ([`X3IpPacketEncoder::encode_truncated`], [`Pdu::original_length`]).
//! Our mediator delivers such a packet as TS 102 232-3 `iPTruncatedPacket` with that
//! `originalLength`.
//!
//! # Version
//!
//! Decoding accepts every Version and keeps it in [`Pdu::version`], so a PDU relays
//! unchanged. What we send defaults to [`DEFAULT_VERSION`], `0x0005` (major 0, minor 5, the
//! octets `00 05`), which is what OpenLI and sipgate send; set [`Pdu::version`] or
//! [`X3IpPacketEncoder::with_version`] to send another. Wireshark's heuristic dissector for
//! X2/X3 inside TLS only recognises `0x0001` (V1.1.1); decoding as `5gli` explicitly works for
//! any version.
//!
//! # Example
//!
//! ```
//! use std::net::Ipv4Addr;
//!
//! use li_core::Xid;
//! use li_handover::x2x3::{
//!     frame_len, Attribute, Pdu, PayloadDirection, PayloadFormat, PduTimestamp, PduType,
//!     DEFAULT_MAX_PDU_LEN,
//! };
//!
//! let xid: Xid = "2b36a78b-b628-416d-bd22-65e63691aeb6".parse()?;
//! let mut pdu = Pdu::new(PduType::X2, PayloadFormat::SipMessage, PayloadDirection::FromTarget, xid);
//! pdu.attributes = vec![
//!     Attribute::SequenceNumber(2),
//!     Attribute::Timestamp(PduTimestamp::new(1_704_164_645, 123_456_789)),
//!     Attribute::SourceIpv4(Ipv4Addr::new(192, 0, 2, 1)),
//! ];
//! pdu.payload = "INVITE sip:bob@example.net SIP/2.0\r\n\r\n".into();
//!
//! let mut stream = Vec::new();
//! Pdu::keepalive(7).encode_into(&mut stream)?;
//! pdu.encode_into(&mut stream)?;
//!
//! // The receiver frames the stream, then decodes each PDU.
//! let first = frame_len(&stream, DEFAULT_MAX_PDU_LEN)?.expect("a whole keepalive");
//! assert_eq!(first, 48);
//! let (decoded, used) = Pdu::decode(&stream[first..])?;
//! assert_eq!(used, stream.len() - first);
//! assert_eq!(decoded, pdu);
//! assert_eq!(decoded.version, 0x0005);
//! assert_eq!(decoded.sequence_number(), Some(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attribute;
mod cc;
pub mod contract;
mod error;
mod media;
mod template;
pub mod transport;

use std::ops::Range;

use bytes::{BufMut, Bytes};
use li_core::Xid;

pub use attribute::{Attribute, PduTimestamp};
pub use cc::{
    MAX_NETWORK_FUNCTION_ID_LEN, ORIGINAL_LENGTH_MAGIC, X3_IP_HEADER_LEN, X3IpPacketEncoder,
    encode_x3_ip_packet, ip_payload_format,
};
pub use error::{Error, Result};
pub use media::{X3_MEDIA_MAX_HEADER_LEN, X3MediaEncoder};

/// The Version we send unless told otherwise: `0x0005`, major version 0 and minor version 5
/// (clause 5.2.1), as OpenLI and sipgate li-lib-x1x2x3 send.
pub const DEFAULT_VERSION: u16 = 0x0005;

/// Size of the fixed header (clause 5.2), the smallest valid Header Length.
pub const FIXED_HEADER_LEN: usize = 40;

/// A receive limit for [`frame_len`] that takes any IP packet (64 KiB) with its attributes
/// and ordinary X2 payloads: 1 MiB. Raise it for large MIME or TS 33.128 payloads.
pub const DEFAULT_MAX_PDU_LEN: usize = 1 << 20;

/// PDU Type (clause 5.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PduType {
    /// 1, X2 PDU: xIRI.
    X2,
    /// 2, X3 PDU: xCC.
    X3,
    /// 3, Keepalive (clause 6.2.4).
    Keepalive,
    /// 4, Keepalive Acknowledgement (clause 6.2.4).
    KeepaliveAck,
    /// Any other value, kept as is. Never holds 1..=4 after decoding.
    Other(u16),
}

/// Payload Format (clause 5.2.5): how the payload is encoded. Values 0..=16; the comment says
/// on which PDU types the registry allows it (X2, X3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadFormat {
    /// 0, reserved for keepalives.
    ReservedForKeepalive,
    /// 1, ETSI TS 102 232-1 Defined Payload (X2, X3).
    Etsi102232,
    /// 2, 3GPP TS 33.128 Defined Payload: `XIRIPayload`/`CCPayload`, BER (X2, X3).
    Tgpp33128,
    /// 3, 3GPP TS 33.108 Defined Payload (X2, X3).
    Tgpp33108,
    /// 4, Proprietary Payload (X2, X3).
    Proprietary,
    /// 5, IPv4 Packet (X2, X3).
    Ipv4Packet,
    /// 6, IPv6 Packet (X2, X3).
    Ipv6Packet,
    /// 7, Ethernet Frame (X3).
    EthernetFrame,
    /// 8, RTP Packet (X3).
    RtpPacket,
    /// 9, SIP Message (X2).
    SipMessage,
    /// 10, DHCP Message (X2).
    DhcpMessage,
    /// 11, RADIUS Packet (X2).
    RadiusPacket,
    /// 12, GTP-U Message (X3).
    GtpUMessage,
    /// 13, MSRP Message (X3).
    MsrpMessage,
    /// 14, 3GPP TS 33.108 EpsIRIContent (X2).
    EpsIriContent,
    /// 15, MIME Message (X2, X3).
    MimeMessage,
    /// 16, 3GPP Unstructured PDU (X3).
    UnstructuredPdu,
    /// Any other value, kept as is. Never holds 0..=16 after decoding.
    Other(u16),
}

/// Payload Direction (clause 5.2.6), relative to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadDirection {
    /// 0, reserved for keepalives.
    ReservedForKeepalive,
    /// 1, the direction is not known to the POI.
    Unknown,
    /// 2, sent to (received by) the target.
    ToTarget,
    /// 3, sent from the target.
    FromTarget,
    /// 4, the result of data or events in more than one direction.
    MultipleDirections,
    /// 5, direction does not apply.
    NotApplicable,
    /// Any other value, kept as is. Never holds 0..=5 after decoding.
    Other(u16),
}

/// One X2/X3 PDU (clause 5): fixed header fields, conditional attributes and payload.
///
/// The two length fields are not stored: encoding computes them, decoding checks them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    /// Version (clause 5.2.1), [`DEFAULT_VERSION`] when built here; any value when decoded.
    pub version: u16,
    /// PDU Type (clause 5.2.2).
    pub pdu_type: PduType,
    /// Payload Format (clause 5.2.5).
    pub payload_format: PayloadFormat,
    /// Payload Direction (clause 5.2.6).
    pub payload_direction: PayloadDirection,
    /// XID (clause 5.2.7): the task's identifier from X1 `ActivateTask`, nil in keepalives.
    pub xid: Xid,
    /// Correlation ID (clause 5.2.8): 8 octets tying the X2 and X3 PDUs of one session.
    pub correlation_id: [u8; 8],
    /// Conditional attributes (clause 5.3), in wire order.
    pub attributes: Vec<Attribute>,
    /// The payload, in [`payload_format`](Self::payload_format).
    pub payload: Bytes,
}

impl Pdu {
    /// A PDU with [`DEFAULT_VERSION`], a zero Correlation ID, no attributes and no payload.
    pub fn new(
        pdu_type: PduType,
        payload_format: PayloadFormat,
        payload_direction: PayloadDirection,
        xid: Xid,
    ) -> Self {
        Self {
            version: DEFAULT_VERSION,
            pdu_type,
            payload_format,
            payload_direction,
            xid,
            correlation_id: [0; 8],
            attributes: Vec::new(),
            payload: Bytes::new(),
        }
    }

    /// A Keepalive (clause 6.2.4): format and direction 0, nil XID, zero Correlation ID, a
    /// Sequence Number attribute and no payload (Header Length 48).
    pub fn keepalive(sequence_number: u32) -> Self {
        Self::keepalive_kind(PduType::Keepalive, sequence_number)
    }

    /// A Keepalive Acknowledgement (clause 6.2.4) echoing the keepalive's `sequence_number`;
    /// otherwise as [`Pdu::keepalive`].
    pub fn keepalive_ack(sequence_number: u32) -> Self {
        Self::keepalive_kind(PduType::KeepaliveAck, sequence_number)
    }

    /// Decodes the PDU at the front of `input` and returns it with the number of octets it
    /// took (Header Length + Payload Length); octets after it are left alone. The payload is
    /// copied; see [`Pdu::decode_bytes`] to share it instead.
    ///
    /// Fails with [`Error::Truncated`] when `input` holds less than the PDU, and with a
    /// precise error for a Header Length below 40, attributes not filling the header area
    /// exactly, a typed attribute of the wrong size or a string attribute that is not UTF-8.
    /// A stream receiver uses [`frame_len`] first: it only needs the lengths, so it can skip
    /// a PDU that does not decode.
    pub fn decode(input: &[u8]) -> Result<(Self, usize)> {
        Self::decode_with(input, |range| {
            Bytes::copy_from_slice(input.get(range).unwrap_or_default())
        })
    }

    /// As [`Pdu::decode`], with the payload a slice of `input` (no copy).
    pub fn decode_bytes(input: &Bytes) -> Result<(Self, usize)> {
        Self::decode_with(input, |range| input.slice(range))
    }

    /// The number of octets [`Pdu::encode_into`] writes.
    pub fn encoded_len(&self) -> usize {
        self.header_len().saturating_add(self.payload.len())
    }

    /// The Header Length this PDU encodes with: 40 plus the attributes.
    pub fn header_len(&self) -> usize {
        self.attributes
            .iter()
            .fold(FIXED_HEADER_LEN, |n, a| n.saturating_add(a.encoded_len()))
    }

    /// Appends the PDU to `out`.
    ///
    /// Fails, writing nothing, with [`Error::AttributeTooLong`] for an attribute value over
    /// 65535 octets, [`Error::LengthOverflow`] for a header or payload of 4 GiB or more, and
    /// [`Error::BufferTooSmall`] when `out` cannot grow to take the PDU.
    pub fn encode_into<B: BufMut>(&self, out: &mut B) -> Result<()> {
        for a in &self.attributes {
            a.checked_value_len()?;
        }
        let header_len = self.header_len();
        let header_len_field = u32::try_from(header_len).map_err(|_| Error::LengthOverflow {
            field: "header",
            len: header_len,
        })?;
        let payload_len_field =
            u32::try_from(self.payload.len()).map_err(|_| Error::LengthOverflow {
                field: "payload",
                len: self.payload.len(),
            })?;
        let needed = self.encoded_len();
        if out.remaining_mut() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: out.remaining_mut(),
            });
        }
        out.put_u16(self.version);
        out.put_u16(self.pdu_type.into());
        out.put_u32(header_len_field);
        out.put_u32(payload_len_field);
        out.put_u16(self.payload_format.into());
        out.put_u16(self.payload_direction.into());
        out.put_slice(self.xid.as_bytes());
        out.put_slice(&self.correlation_id);
        for a in &self.attributes {
            out.put_u16(a.attr_type());
            // checked above: the value fits 16 bits
            out.put_u16(u16::try_from(a.value_len()).unwrap_or(u16::MAX));
            a.put_value(out);
        }
        out.put_slice(&self.payload);
        Ok(())
    }

    /// The encoding in a new vector; see [`Pdu::encode_into`] for the errors.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// The value of the first Sequence Number attribute.
    pub fn sequence_number(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::SequenceNumber(n) => Some(*n),
            _ => None,
        })
    }

    /// The value of the first Timestamp attribute.
    pub fn timestamp(&self) -> Option<PduTimestamp> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Timestamp(t) => Some(*t),
            _ => None,
        })
    }

    /// The original length of an IP packet cut by the capture, from the first "original
    /// length" Proprietary Attribute ([`ORIGINAL_LENGTH_MAGIC`]); `None` for a whole packet.
    pub fn original_length(&self) -> Option<u32> {
        self.attributes.iter().find_map(Attribute::original_length)
    }

    fn keepalive_kind(pdu_type: PduType, sequence_number: u32) -> Self {
        let mut pdu = Self::new(
            pdu_type,
            PayloadFormat::ReservedForKeepalive,
            PayloadDirection::ReservedForKeepalive,
            Xid::NIL,
        );
        pdu.attributes
            .push(Attribute::SequenceNumber(sequence_number));
        pdu
    }

    fn decode_with(
        input: &[u8],
        payload: impl FnOnce(Range<usize>) -> Bytes,
    ) -> Result<(Self, usize)> {
        let lengths = lengths(input)?;
        let Some(header) = input.first_chunk::<FIXED_HEADER_LEN>() else {
            let needed = lengths.map_or(FIXED_HEADER_LEN as u64, |(hl, pl)| {
                u64::from(hl) + u64::from(pl)
            });
            return Err(Error::Truncated {
                needed,
                available: input.len(),
            });
        };
        let (header_len, payload_len) = lengths.unwrap_or_default();
        let total = u64::from(header_len) + u64::from(payload_len);
        if total > input.len() as u64 {
            return Err(Error::Truncated {
                needed: total,
                available: input.len(),
            });
        }
        // Both fit: their sum is at most input.len().
        let header_len = usize::try_from(header_len).unwrap_or(usize::MAX);
        let total = usize::try_from(total).unwrap_or(usize::MAX);

        // the 16 octets of 16-bit fields (lengths included), then XID and Correlation ID
        let (words, ids) = header.split_at(16);
        let word = |i: usize| {
            words
                .get(2 * i..2 * i + 2)
                .and_then(|w| w.try_into().ok())
                .map_or(0, u16::from_be_bytes)
        };
        let (xid, correlation_id) = ids.split_at(16);
        let attribute_area = input.get(FIXED_HEADER_LEN..header_len).unwrap_or_default();
        let pdu = Self {
            version: word(0),
            pdu_type: word(1).into(),
            payload_format: word(6).into(),
            payload_direction: word(7).into(),
            xid: Xid::from_bytes(xid.try_into().unwrap_or_default()),
            correlation_id: correlation_id.try_into().unwrap_or_default(),
            attributes: attribute::decode_attributes(attribute_area, FIXED_HEADER_LEN)?,
            payload: payload(header_len..total),
        };
        Ok((pdu, total))
    }
}

/// The size of the PDU at the front of `buf`, for splitting a stream of PDUs.
///
/// `Ok(Some(n))` when the first `n` octets of `buf` are one whole PDU (Header Length +
/// Payload Length; hand them to [`Pdu::decode`]), `Ok(None)` when more octets are needed.
/// Errors as soon as the lengths are readable: [`Error::HeaderLengthTooSmall`] for a Header
/// Length below 40 and [`Error::TooLarge`] for a PDU over `max_pdu_len`, so a peer cannot make
/// the receiver buffer without bound. Either error leaves the stream unframeable: close the
/// connection. The attributes are not looked at.
pub fn frame_len(buf: &[u8], max_pdu_len: usize) -> Result<Option<usize>> {
    let Some((header_len, payload_len)) = lengths(buf)? else {
        return Ok(None);
    };
    let total = u64::from(header_len) + u64::from(payload_len);
    match usize::try_from(total) {
        Ok(total) if total <= max_pdu_len => Ok((total <= buf.len()).then_some(total)),
        _ => Err(Error::TooLarge {
            len: total,
            limit: max_pdu_len,
        }),
    }
}

/// Header Length and Payload Length once 12 octets are there (`None` before); checks the
/// Header Length as soon as its 8th octet is there.
fn lengths(buf: &[u8]) -> Result<Option<(u32, u32)>> {
    let header_len = match buf.first_chunk::<8>() {
        Some(&[_, _, _, _, h0, h1, h2, h3]) => u32::from_be_bytes([h0, h1, h2, h3]),
        None => return Ok(None),
    };
    if header_len < FIXED_HEADER_LEN as u32 {
        return Err(Error::HeaderLengthTooSmall {
            header_length: header_len,
        });
    }
    Ok(buf
        .get(8..12)
        .and_then(|p| <[u8; 4]>::try_from(p).ok())
        .map(|p| (header_len, u32::from_be_bytes(p))))
}

impl From<u16> for PduType {
    fn from(value: u16) -> Self {
        match value {
            1 => Self::X2,
            2 => Self::X3,
            3 => Self::Keepalive,
            4 => Self::KeepaliveAck,
            other => Self::Other(other),
        }
    }
}

impl From<PduType> for u16 {
    fn from(value: PduType) -> Self {
        match value {
            PduType::X2 => 1,
            PduType::X3 => 2,
            PduType::Keepalive => 3,
            PduType::KeepaliveAck => 4,
            PduType::Other(other) => other,
        }
    }
}

impl From<u16> for PayloadFormat {
    fn from(value: u16) -> Self {
        match value {
            0 => Self::ReservedForKeepalive,
            1 => Self::Etsi102232,
            2 => Self::Tgpp33128,
            3 => Self::Tgpp33108,
            4 => Self::Proprietary,
            5 => Self::Ipv4Packet,
            6 => Self::Ipv6Packet,
            7 => Self::EthernetFrame,
            8 => Self::RtpPacket,
            9 => Self::SipMessage,
            10 => Self::DhcpMessage,
            11 => Self::RadiusPacket,
            12 => Self::GtpUMessage,
            13 => Self::MsrpMessage,
            14 => Self::EpsIriContent,
            15 => Self::MimeMessage,
            16 => Self::UnstructuredPdu,
            other => Self::Other(other),
        }
    }
}

impl From<PayloadFormat> for u16 {
    fn from(value: PayloadFormat) -> Self {
        match value {
            PayloadFormat::ReservedForKeepalive => 0,
            PayloadFormat::Etsi102232 => 1,
            PayloadFormat::Tgpp33128 => 2,
            PayloadFormat::Tgpp33108 => 3,
            PayloadFormat::Proprietary => 4,
            PayloadFormat::Ipv4Packet => 5,
            PayloadFormat::Ipv6Packet => 6,
            PayloadFormat::EthernetFrame => 7,
            PayloadFormat::RtpPacket => 8,
            PayloadFormat::SipMessage => 9,
            PayloadFormat::DhcpMessage => 10,
            PayloadFormat::RadiusPacket => 11,
            PayloadFormat::GtpUMessage => 12,
            PayloadFormat::MsrpMessage => 13,
            PayloadFormat::EpsIriContent => 14,
            PayloadFormat::MimeMessage => 15,
            PayloadFormat::UnstructuredPdu => 16,
            PayloadFormat::Other(other) => other,
        }
    }
}

impl From<u16> for PayloadDirection {
    fn from(value: u16) -> Self {
        match value {
            0 => Self::ReservedForKeepalive,
            1 => Self::Unknown,
            2 => Self::ToTarget,
            3 => Self::FromTarget,
            4 => Self::MultipleDirections,
            5 => Self::NotApplicable,
            other => Self::Other(other),
        }
    }
}

impl From<PayloadDirection> for u16 {
    fn from(value: PayloadDirection) -> Self {
        match value {
            PayloadDirection::ReservedForKeepalive => 0,
            PayloadDirection::Unknown => 1,
            PayloadDirection::ToTarget => 2,
            PayloadDirection::FromTarget => 3,
            PayloadDirection::MultipleDirections => 4,
            PayloadDirection::NotApplicable => 5,
            PayloadDirection::Other(other) => other,
        }
    }
}

impl From<li_core::PayloadDirection> for PayloadDirection {
    /// The TS 103 221-2 direction of a TS 102 232-1 one: `indeterminate` is Unknown (1),
    /// `combined` is "more than one direction" (4): [`contract::x2x3_direction`].
    fn from(value: li_core::PayloadDirection) -> Self {
        contract::x2x3_direction(value)
    }
}

#[cfg(test)]
mod tests;
