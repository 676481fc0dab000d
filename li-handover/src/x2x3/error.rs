//! The one error type of the X2/X3 codec.

/// Result alias of the X2/X3 codec.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why an X2/X3 PDU (ETSI TS 103 221-2 clause 5) could not be decoded, framed or encoded.
///
/// Decoding variants carry the byte `offset` from the start of the PDU (the first octet of the
/// slice given to [`Pdu::decode`](super::Pdu::decode)) and, for attributes, the attribute type
/// of clause 5.3, so a bad PDU can be reported without re-parsing it. Values (identifiers,
/// addresses) are never copied into an error: messages may end up in ordinary logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the PDU does: the 40-octet fixed header, or the header length
    /// plus payload length it announces, is longer than the input.
    #[error("truncated X2/X3 PDU: {needed} octet(s) needed from offset 0, {available} available")]
    Truncated {
        /// Octets the PDU needs (40 while the fixed header is incomplete, else header length
        /// plus payload length).
        needed: u64,
        /// Octets given.
        available: usize,
    },
    /// The Header Length field (offset 4, clause 5.2.3) is below the 40 octets of the fixed
    /// header.
    #[error("X2/X3 header length {header_length} at offset 4 is below the minimum of 40")]
    HeaderLengthTooSmall {
        /// The Header Length field's value.
        header_length: u32,
    },
    /// Header length plus payload length exceed the receiver's limit (see
    /// [`frame_len`](super::frame_len)).
    #[error(
        "X2/X3 PDU of {len} octets (header + payload length at offset 4) exceeds the limit of {limit}"
    )]
    TooLarge {
        /// Header length plus payload length.
        len: u64,
        /// The limit in force.
        limit: usize,
    },
    /// Fewer than the 4 octets of an attribute's type and length remain in the header area
    /// (clause 5.3: attributes must fill the header area exactly).
    #[error(
        "X2/X3 conditional attribute at offset {offset}: only {remaining} octet(s) left in the header area, 4 needed for type and length"
    )]
    AttributeHeaderTruncated {
        /// Offset where the attribute would start.
        offset: usize,
        /// Octets left before the end of the header area.
        remaining: usize,
    },
    /// An attribute's Length runs past the end of the header area (Header Length).
    #[error(
        "X2/X3 conditional attribute type {attr_type} at offset {offset}: length {length} runs past the header area ({available} octet(s) left)"
    )]
    AttributeOverrun {
        /// The attribute type.
        attr_type: u16,
        /// Offset of the attribute's type field.
        offset: usize,
        /// The attribute's Length field.
        length: u16,
        /// Octets left in the header area after the type and length fields.
        available: usize,
    },
    /// A typed attribute (sequence number, timestamp, address, port, protocol) has a value of
    /// the wrong size.
    #[error(
        "X2/X3 conditional attribute {name} (type {attr_type}) at offset {offset}: value of {found} octet(s), expected {expected}"
    )]
    AttributeValueLength {
        /// The attribute type.
        attr_type: u16,
        /// The attribute's name in clause 5.3.
        name: &'static str,
        /// Offset of the attribute's type field.
        offset: usize,
        /// The value size the type requires.
        expected: usize,
        /// The value size found.
        found: usize,
    },
    /// A string attribute (target identifiers, MIME fields, SDP) is not UTF-8.
    #[error(
        "X2/X3 conditional attribute {name} (type {attr_type}) at offset {offset}: value is not UTF-8"
    )]
    AttributeNotUtf8 {
        /// The attribute type.
        attr_type: u16,
        /// The attribute's name in clause 5.3.
        name: &'static str,
        /// Offset of the attribute's type field.
        offset: usize,
    },
    /// Encoding: an attribute value longer than the 65535 octets its Length field can say.
    #[error(
        "X2/X3 conditional attribute type {attr_type}: value of {len} octets does not fit the 16-bit length"
    )]
    AttributeTooLong {
        /// The attribute type.
        attr_type: u16,
        /// The value's length.
        len: usize,
    },
    /// Encoding: the header (40 octets plus attributes) or the payload is longer than the
    /// 32-bit Header Length or Payload Length field can say.
    #[error("X2/X3 {field} of {len} octets does not fit its 32-bit length field")]
    LengthOverflow {
        /// `"header"` or `"payload"`.
        field: &'static str,
        /// The length.
        len: usize,
    },
    /// Encoding: the output buffer cannot take the PDU (only a fixed-size
    /// [`BufMut`](bytes::BufMut) such as `&mut [u8]` runs out; `Vec<u8>` and `BytesMut` grow).
    /// Nothing was written.
    #[error("output buffer has room for {available} octet(s), the X2/X3 encoding needs {needed}")]
    BufferTooSmall {
        /// Octets the encoding needs.
        needed: usize,
        /// Octets the buffer can still take.
        available: usize,
    },
    /// A media encoder's header (X3MediaEncoder) would not start with Sequence Number and
    /// Timestamp, or is longer than the largest media header
    /// ([`X3_MEDIA_MAX_HEADER_LEN`](super::X3_MEDIA_MAX_HEADER_LEN)).
    #[error(
        "X3 media header of {header_len} octets does not start its attributes with Sequence Number and Timestamp or exceeds the media header limit"
    )]
    MediaTemplate {
        /// The header's length.
        header_len: usize,
    },
    /// A Network Function ID attribute for a pre-encoded header that is empty or longer than
    /// [`super::MAX_NETWORK_FUNCTION_ID_LEN`] octets.
    #[error("a Network Function ID of {len} octets: a pre-encoded header takes 1 to 64 octets")]
    NetworkFunctionId {
        /// Its length.
        len: usize,
    },
    /// Encoding an IP packet: the first octet's version nibble is neither 4 nor 6 (or the
    /// packet is empty), so neither IPv4 Packet nor IPv6 Packet format applies.
    #[error("X3 IP packet: version nibble {version} is neither 4 nor 6")]
    NotAnIpPacket {
        /// The version nibble found (0 for an empty packet).
        version: u8,
    },
}
