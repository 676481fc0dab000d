//! The crate's error type.
//!
//! Every checked constructor in `li-core` returns [`Error`]. Variants name the field that was
//! rejected and carry the offending length or value, so a configuration or wire error can be
//! reported precisely without re-parsing.
//!
//! Target identities (usernames, addresses, URIs) are deliberately *not* copied into errors:
//! an error message may end up in an ordinary log, and a target's identity must not.

use crate::id::DestinationId;
use crate::target::TargetKind;
use crate::time::Timestamp;

/// The result type of `li-core`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Errors from the checked constructors and parsers of `li-core`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A LIID must be 1..=25 octets (TS 103 280 `LIID`, TS 102 232-1 clause 5.2.2).
    #[error("LIID must be 1..=25 octets, got {len}")]
    LiidLength {
        /// The rejected length in octets.
        len: usize,
    },
    /// An operator identifier must be 1..=16 octets (TS 102 232-1 clause 5.2.4
    /// `NetworkIdentifier.operatorIdentifier`).
    #[error("operator identifier must be 1..=16 octets, got {len}")]
    OperatorIdLength {
        /// The rejected length in octets.
        len: usize,
    },
    /// A network element identifier must be 1..=16 octets (TS 102 232-1 clause 5.2.4
    /// `NetworkIdentifier.networkElementIdentifier`).
    #[error("network element identifier must be 1..=16 octets, got {len}")]
    NetworkElementIdLength {
        /// The rejected length in octets.
        len: usize,
    },
    /// The `hex:` text form of an octet-string identifier held something other than pairs of
    /// hexadecimal digits.
    #[error("{field}: text after `hex:` must be pairs of hexadecimal digits")]
    InvalidHexEscape {
        /// The identifier being parsed (`"LIID"`, `"operator identifier"`, ...).
        field: &'static str,
    },
    /// A UUID-backed identifier (XID, DID) was not in the canonical `8-4-4-4-12` text form.
    #[error("{field} {input:?} is not a UUID: {reason}")]
    InvalidUuid {
        /// The identifier being parsed (`"XID"` or `"DID"`).
        field: &'static str,
        /// The rejected text (at most 64 characters of it).
        input: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A CIN was not a decimal number in `0..=4294967295` (TS 102 232-1 clause 5.2.4).
    #[error("CIN {input:?} is not a decimal number in 0..=4294967295")]
    InvalidCin {
        /// The rejected text (at most 64 characters of it).
        input: String,
    },
    /// A country code was not two ASCII letters (ISO 3166-1 alpha-2).
    #[error("country code {input:?} is not two ASCII letters (ISO 3166-1 alpha-2)")]
    InvalidCountryCode {
        /// The rejected text (at most 64 characters of it).
        input: String,
    },
    /// A target identifier text had no `kind:` prefix.
    #[error("target identifier has no `kind:` prefix (e.g. `ipv4:192.0.2.1`)")]
    MissingTargetKind,
    /// A target identifier text had a `kind:` prefix that is not supported.
    #[error("unknown target identifier kind {kind:?}")]
    UnknownTargetKind {
        /// The rejected kind (at most 64 characters of it).
        kind: String,
    },
    /// A target identifier value was malformed for its kind.
    #[error("invalid {kind} target identifier: {reason}")]
    InvalidTarget {
        /// The kind of identifier that was being built.
        kind: TargetKind,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// An IP prefix length exceeded the address width.
    #[error("prefix length /{len} exceeds the maximum /{max}")]
    PrefixLength {
        /// The rejected prefix length.
        len: u8,
        /// The maximum for the address family (32 or 128).
        max: u8,
    },
    /// An IP prefix had bits set after the prefix length.
    #[error("prefix address has host bits set beyond /{len}")]
    PrefixHostBits {
        /// The prefix length.
        len: u8,
    },
    /// An IP prefix text was not `address/length`.
    #[error("invalid IP prefix text: {reason}")]
    InvalidPrefix {
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A timestamp lies outside 1970-01-01T00:00:00Z..=9999-12-31T23:59:59.999999Z.
    #[error("timestamp {seconds} s after the Unix epoch is after 9999-12-31T23:59:59.999999Z")]
    TimestampOutOfRange {
        /// The rejected number of whole seconds since the Unix epoch.
        seconds: u64,
    },
    /// A microsecond count was not below 1 000 000 (TS 102 232-1 `MicroSecondTimeStamp`).
    #[error("microseconds must be below 1000000, got {micros}")]
    MicrosecondsOutOfRange {
        /// The rejected microsecond count.
        micros: u32,
    },
    /// A calendar or clock field was out of range.
    #[error("{field} {value} is out of range")]
    DateTimeField {
        /// The field (`"year"`, `"month"`, `"day"`, `"hour"`, `"minute"`, `"second"`,
        /// `"microsecond"`).
        field: &'static str,
        /// The rejected value.
        value: u32,
    },
    /// A time text (GeneralizedTime or ISO 8601) could not be parsed.
    #[error("invalid time {input:?}: {reason}")]
    InvalidTime {
        /// The rejected text (at most 64 characters of it).
        input: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A validity window's end was not after its start.
    #[error("validity window end {end} is not after its start {start}")]
    InvalidValidityWindow {
        /// The start of the window.
        start: Timestamp,
        /// The rejected end.
        end: Timestamp,
    },
    /// A task must have at least one target identifier.
    #[error("task has no target identifiers")]
    NoTargets,
    /// A task listed the same target identifier twice.
    #[error("task lists target identifier #{index} twice")]
    DuplicateTarget {
        /// The position of the second occurrence in the target list.
        index: usize,
    },
    /// A task must have at least one delivery destination.
    #[error("task has no delivery destinations")]
    NoDestinations,
    /// A task listed the same destination identifier twice.
    #[error("task lists destination {id} twice")]
    DuplicateDestination {
        /// The repeated destination identifier.
        id: DestinationId,
    },
    /// A task whose scope includes content of communication has a destination without a
    /// HI3 address.
    #[error("task delivers CC but destination {destination} has no HI3 address")]
    MissingHi3 {
        /// The destination lacking a HI3 address.
        destination: DestinationId,
    },
    /// A destination's name was empty or held a control character.
    #[error("destination {destination}: name is empty or contains control characters")]
    InvalidDestinationName {
        /// The destination so named.
        destination: DestinationId,
    },
    /// A delivery address was unusable.
    #[error("destination {destination}: invalid delivery address: {reason}")]
    InvalidDeliveryAddress {
        /// The destination the address belongs to.
        destination: DestinationId,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A handover format text was not `etsi-102232:<ps-pdu>:<ip-access>[:<ip-multimedia>]`,
    /// `atis-1000013:<v>`, `atis-1000678:<v>` or `packetcable:<v>` (versions 0..=65535).
    #[error(
        "handover format {input:?} is not \
         etsi-102232:<ps-pdu version>:<ip-access version>[:<ip-multimedia version>], \
         atis-1000013:<version>, atis-1000678:<version> or packetcable:<version>"
    )]
    InvalidHandoverFormat {
        /// The rejected text (at most 64 characters of it).
        input: String,
    },
}

/// At most 64 characters of `input`, for error values: bounds what a hostile input can make
/// an error allocate.
pub(crate) fn excerpt(input: &str) -> String {
    input.chars().take(64).collect()
}
