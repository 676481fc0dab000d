//! The one error type of this crate.

use crate::ber::Tag;

/// Result alias used throughout `li-asn1`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a BER encoding could not be decoded.
///
/// Every variant carries the absolute byte `offset` in the input where the problem was found,
/// and where it makes sense the ASN.1 field (`Type.field`, as named in the standard's module).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the TLV (or its length or tag octets) was complete.
    #[error("truncated BER at offset {offset}: {needed} more octet(s) needed")]
    Truncated {
        /// Offset of the element that could not be completed.
        offset: usize,
        /// How many more octets the element claims (at least).
        needed: usize,
    },
    /// A length field is malformed: reserved 0xFF, more than 8 length octets (lengths this
    /// reader cannot represent), an indefinite length on a primitive element, or an element
    /// running past the end of the element that contains it.
    #[error("invalid BER length at offset {offset}: {reason}")]
    InvalidLength {
        /// Offset of the length octets.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tag number does not fit 32 bits, or its first subsequent octet is 0x80.
    #[error("invalid BER tag at offset {offset}")]
    InvalidTag {
        /// Offset of the identifier octets.
        offset: usize,
    },
    /// Nested constructed elements go deeper than the reader's limit.
    #[error("BER nesting deeper than {limit} at offset {offset}")]
    DepthExceeded {
        /// Offset of the element that went too deep.
        offset: usize,
        /// The nesting limit in force.
        limit: usize,
    },
    /// An element has a tag that the type does not allow at this place.
    #[error("unexpected tag {found} at offset {offset} in {field} (expected {expected})")]
    UnexpectedTag {
        /// The field or type being decoded.
        field: &'static str,
        /// Offset of the element.
        offset: usize,
        /// The tag found.
        found: Tag,
        /// A description of what was expected.
        expected: &'static str,
    },
    /// A mandatory field of a SEQUENCE is absent.
    #[error("missing mandatory field {field} in element at offset {offset}")]
    MissingField {
        /// The missing field.
        field: &'static str,
        /// Offset of the enclosing SEQUENCE.
        offset: usize,
    },
    /// A field occurs twice in one SEQUENCE.
    #[error("duplicate field {field} at offset {offset}")]
    DuplicateField {
        /// The repeated field.
        field: &'static str,
        /// Offset of the second occurrence.
        offset: usize,
    },
    /// A value is not valid for its type or constraint (size, range, character set, ...).
    #[error("invalid value for {field} at offset {offset}: {reason}")]
    InvalidValue {
        /// The field being decoded.
        field: &'static str,
        /// Offset of the element.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An element is larger than the limit the caller set (stream framing).
    #[error("BER element at offset {offset} is {len} octets, over the limit of {limit}")]
    TooLarge {
        /// Offset of the element.
        offset: usize,
        /// The size it claims or has reached (identifier, length and content octets).
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Octets follow a complete PDU where none were expected.
    #[error("{count} trailing octet(s) after the PDU at offset {offset}")]
    TrailingData {
        /// Offset of the first trailing octet.
        offset: usize,
        /// How many octets follow.
        count: usize,
    },
}

impl Error {
    /// The absolute byte offset in the input at which the error was detected.
    pub fn offset(&self) -> usize {
        match self {
            Self::Truncated { offset, .. }
            | Self::InvalidLength { offset, .. }
            | Self::InvalidTag { offset }
            | Self::DepthExceeded { offset, .. }
            | Self::UnexpectedTag { offset, .. }
            | Self::MissingField { offset, .. }
            | Self::DuplicateField { offset, .. }
            | Self::InvalidValue { offset, .. }
            | Self::TooLarge { offset, .. }
            | Self::TrailingData { offset, .. } => *offset,
        }
    }
}
