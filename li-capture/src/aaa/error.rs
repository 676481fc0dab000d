//! The error type of the AAA parsers.
//!
//! Every variant names the protocol element that was rejected (a RADIUS attribute type, a DHCP
//! option code) and the byte offset of that element from the start of the UDP payload, so a
//! malformed message can be located in a capture without re-parsing. Attribute *values* are
//! never copied into an error: a User-Name or a hostname is a target's identity and an error
//! message may end up in an ordinary log.

use super::dhcp::OptionCode;
use super::radius::AttributeType;

/// The result type of the AAA parsers.
pub type Result<T, E = AaaError> = core::result::Result<T, E>;

/// Errors from [`parse_accounting`](super::radius::parse_accounting),
/// [`RadiusPacket::parse`](super::radius::RadiusPacket::parse) and
/// [`parse_dhcpv4`](super::dhcp::parse_dhcpv4).
///
/// Offsets count octets from the first octet of the UDP payload handed to the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AaaError {
    /// The payload is shorter than the 20-octet RADIUS header (RFC 2865 section 3).
    #[error("RADIUS packet of {len} octets is shorter than the 20-octet header")]
    RadiusShortHeader {
        /// The payload length in octets.
        len: usize,
    },
    /// The RADIUS Length field is below 20, above 4096, or larger than the payload received
    /// (RFC 2865 section 3: such a packet MUST be silently discarded).
    #[error(
        "RADIUS Length field {length} is invalid: must be 20..=4096 and at most the {available} \
         octets received"
    )]
    RadiusLength {
        /// The Length field.
        length: u16,
        /// The octets available in the payload.
        available: usize,
    },
    /// Only the Type octet of an attribute fits before the end of the packet; its Length octet
    /// is missing (RFC 2865 section 5).
    #[error("RADIUS attribute {attr_type} at offset {offset}: Length octet missing")]
    RadiusAttributeTruncated {
        /// The attribute's Type.
        attr_type: AttributeType,
        /// Offset of the attribute's Type octet.
        offset: usize,
    },
    /// An attribute's Length is 0 or 1; it counts the Type and Length octets, so it is at least
    /// 2 (RFC 2865 section 5).
    #[error("RADIUS attribute {attr_type} at offset {offset}: Length {length} is below 2")]
    RadiusAttributeTooShort {
        /// The attribute's Type.
        attr_type: AttributeType,
        /// Offset of the attribute's Type octet.
        offset: usize,
        /// The Length octet.
        length: u8,
    },
    /// An attribute's Length runs past the end of the packet as given by the header's Length
    /// field (RFC 2865 section 5).
    #[error(
        "RADIUS attribute {attr_type} at offset {offset}: Length {length} runs past the end of \
         the packet ({available} octets left)"
    )]
    RadiusAttributeOverrun {
        /// The attribute's Type.
        attr_type: AttributeType,
        /// Offset of the attribute's Type octet.
        offset: usize,
        /// The Length octet.
        length: u8,
        /// Octets left in the packet from `offset`.
        available: usize,
    },
    /// An attribute's value has the wrong size for its data type (RFC 8044: `integer` and
    /// `ipv4addr` are 4 octets, `ipv6addr` 16, `ipv6prefix` 2..=18).
    #[error(
        "RADIUS attribute {attr_type} at offset {offset}: value of {len} octets, expected \
         {expected}"
    )]
    RadiusAttributeValueLength {
        /// The attribute's Type.
        attr_type: AttributeType,
        /// Offset of the attribute's Type octet.
        offset: usize,
        /// The value length in octets.
        len: usize,
        /// The lengths the data type allows, in words ("4", "16", "2 to 18").
        expected: &'static str,
    },
    /// An `ipv6prefix` attribute (Framed-IPv6-Prefix, RFC 3162 section 2.3; Delegated-IPv6-Prefix,
    /// RFC 4818 section 3) has a Prefix-Length above 128 or longer than the prefix octets sent.
    #[error(
        "RADIUS attribute {attr_type} at offset {offset}: Prefix-Length {prefix_len} exceeds \
         128 or the {prefix_octets} prefix octets sent"
    )]
    RadiusIpv6PrefixLength {
        /// The attribute's Type.
        attr_type: AttributeType,
        /// Offset of the attribute's Type octet.
        offset: usize,
        /// The Prefix-Length octet.
        prefix_len: u8,
        /// The number of Prefix octets in the attribute.
        prefix_octets: usize,
    },
    /// A required attribute is absent: an Accounting-Request without Acct-Status-Type
    /// (RFC 2866 section 5.1).
    #[error("RADIUS attribute {attr_type} is required but absent")]
    RadiusMissingAttribute {
        /// The missing attribute's Type.
        attr_type: AttributeType,
    },
    /// The payload is shorter than the 236-octet BOOTP/DHCP fixed header plus the 4-octet magic
    /// cookie (RFC 2131 section 2, RFC 2132 section 2).
    #[error("DHCP message of {len} octets is shorter than the 240-octet header and magic cookie")]
    DhcpTruncated {
        /// The payload length in octets.
        len: usize,
    },
    /// The `op` field is neither BOOTREQUEST (1) nor BOOTREPLY (2) (RFC 2131 section 2).
    #[error("DHCP op {op} at offset 0 is neither BOOTREQUEST (1) nor BOOTREPLY (2)")]
    DhcpOp {
        /// The `op` octet.
        op: u8,
    },
    /// The four octets at offset 236 are not the magic cookie 99.130.83.99 (RFC 2131 section 3,
    /// RFC 2132 section 2).
    #[error("DHCP magic cookie at offset 236 is {found:#010x}, expected 0x63825363")]
    DhcpMagicCookie {
        /// The four octets found, big-endian.
        found: u32,
    },
    /// Only the code octet of an option fits before the end of the payload; its length octet is
    /// missing (RFC 2132 section 2).
    #[error("DHCP option {code} at offset {offset}: length octet missing")]
    DhcpOptionTruncated {
        /// The option code.
        code: OptionCode,
        /// Offset of the option's code octet.
        offset: usize,
    },
    /// An option's length runs past the end of the payload (RFC 2132 section 2).
    #[error(
        "DHCP option {code} at offset {offset}: length {length} runs past the end of the \
         message ({available} octets left after the length octet)"
    )]
    DhcpOptionOverrun {
        /// The option code.
        code: OptionCode,
        /// Offset of the option's code octet.
        offset: usize,
        /// The length octet.
        length: u8,
        /// Octets left in the payload after the length octet.
        available: usize,
    },
    /// An option's value has the wrong size: message type (53) is 1 octet, lease time (51),
    /// server identifier (54) and requested address (50) are 4 (RFC 2132 section 9). For an
    /// option split into several instances (RFC 3396), `len` is the concatenated length and
    /// `offset` is that of the first instance.
    #[error("DHCP option {code} at offset {offset}: value of {len} octets, expected {expected}")]
    DhcpOptionValueLength {
        /// The option code.
        code: OptionCode,
        /// Offset of the (first instance of the) option's code octet.
        offset: usize,
        /// The value length in octets.
        len: usize,
        /// The length the option requires in octets.
        expected: usize,
    },
    /// A sub-option of the Relay Agent Information option (82) runs past the end of the option
    /// (RFC 3046 section 2.0).
    #[error(
        "DHCP relay agent sub-option {sub_code} at octet {sub_offset} of option 82 (offset \
         {offset}) runs past the end of the option"
    )]
    DhcpRelaySubOptionOverrun {
        /// The sub-option code.
        sub_code: u8,
        /// Offset of the (first instance of the) option 82 code octet.
        offset: usize,
        /// Offset of the sub-option's code octet within the option's value.
        sub_offset: usize,
    },
}
