//! The error type of the SIP, SDP and multipart parsers and of the TCP framer.
//!
//! Every variant names the element that was rejected and where: offsets count octets from the
//! first octet of the input handed to the parser (the datagram, the stream frame, the SDP
//! body, the multipart body, or the URI text for [`SipError::InvalidUri`]). Header values are
//! never copied into an error: a From or an Authorization header carries a target's identity,
//! and an error message may end up in an ordinary log.

use super::message::HeaderName;

/// The result type of the SIP parsers.
pub type Result<T, E = SipError> = core::result::Result<T, E>;

/// Errors from [`SipMessage::parse`](super::SipMessage::parse), [`Sdp::parse`](super::Sdp::parse),
/// the URI and header-value parsers, [`multipart`](super::multipart) and the
/// [`StreamFramer`](super::StreamFramer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SipError {
    /// Nothing but line breaks (or nothing at all): no start line (RFC 3261 clause 7).
    #[error("SIP message is empty")]
    Empty,
    /// The start line and headers are not UTF-8 (RFC 3261 clause 7: the message is UTF-8
    /// text apart from the body).
    #[error("SIP message head is not UTF-8 at offset {offset}")]
    NotUtf8 {
        /// Offset of the first octet that is not part of a UTF-8 sequence.
        offset: usize,
    },
    /// The start line is neither a Request-Line (`Method SP Request-URI SP SIP/2.0`) nor a
    /// Status-Line (`SIP/2.0 SP Status-Code SP Reason-Phrase`) (RFC 3261 clauses 7.1, 7.2).
    #[error("SIP start line at offset {offset}: {reason}")]
    StartLine {
        /// Offset of the start line.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header line has no `:` after its name, or its name is not a token (RFC 3261
    /// clause 7.3.1).
    #[error("SIP header line at offset {offset}: {reason}")]
    HeaderLine {
        /// Offset of the header line.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More header fields than the parser's fixed index holds
    /// ([`MAX_HEADERS`](super::MAX_HEADERS)).
    #[error("SIP message has more than {max} header fields (the one at offset {offset})")]
    TooManyHeaders {
        /// The index capacity.
        max: usize,
        /// Offset of the first header line that did not fit.
        offset: usize,
    },
    /// A Content-Length header is not a decimal number of octets, or several Content-Length
    /// headers disagree (RFC 3261 clause 20.14).
    #[error("SIP Content-Length at offset {offset} is invalid: {reason}")]
    ContentLength {
        /// Offset of the (second, for a disagreement) Content-Length header line.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The Content-Length announces more octets than the message holds (RFC 3261 clause 18.3:
    /// a datagram so truncated is discarded).
    #[error(
        "SIP body truncated: Content-Length {content_length} but {available} octets after the \
         header section at offset {offset}"
    )]
    BodyTruncated {
        /// The Content-Length value.
        content_length: usize,
        /// Octets present after the empty line ending the headers.
        available: usize,
        /// Offset of the body.
        offset: usize,
    },
    /// A header value the accessor was asked to interpret is malformed.
    #[error("SIP {header} value: {reason}")]
    HeaderValue {
        /// The header.
        header: HeaderName,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `name-addr` or `addr-spec` value (From, To, Contact, P-Asserted-Identity, ...) is
    /// malformed (RFC 3261 clause 25.1).
    #[error("SIP name-addr value: {reason}")]
    NameAddr {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A URI is malformed (RFC 3261 clause 19.1, RFC 3966).
    #[error("URI invalid at octet {offset} of the URI: {reason}")]
    InvalidUri {
        /// Offset within the URI text.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The SDP body is not UTF-8 (RFC 8866 clause 5: the SDP text is UTF-8).
    #[error("SDP is not UTF-8 at offset {offset}")]
    SdpNotUtf8 {
        /// Offset of the first octet that is not part of a UTF-8 sequence.
        offset: usize,
    },
    /// An SDP line is not `<type>=<value>` with a one-letter type, or the first line is not
    /// `v=0` (RFC 8866 clause 5).
    #[error("SDP line at offset {offset}: {reason}")]
    SdpLine {
        /// Offset of the line.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An SDP field has the wrong number of sub-fields or a bad number in it (RFC 8866
    /// clause 5; `a=rtcp` RFC 3605).
    #[error("SDP {field}= line at offset {offset}: {reason}")]
    SdpField {
        /// The line's type letter (`o`, `c`, `m`, or `a` for `a=rtcp`).
        field: char,
        /// Offset of the line.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More `m=` lines than the parser's fixed index holds
    /// ([`MAX_MEDIA`](super::sdp::MAX_MEDIA)).
    #[error("SDP has more than {max} media descriptions (the m= line at offset {offset})")]
    TooManyMedia {
        /// The index capacity.
        max: usize,
        /// Offset of the first `m=` line that did not fit.
        offset: usize,
    },
    /// A multipart body has no `boundary` parameter, its boundary never occurs, or a part
    /// runs past the end of the body (RFC 2046 clause 5.1.1).
    #[error("multipart body at offset {offset}: {reason}")]
    Multipart {
        /// Offset within the body.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A target of a kind a SIP message cannot name (an IP or MAC address) was given to
    /// [`SipTargets::insert`](super::SipTargets::insert).
    #[error("a {kind} target cannot be matched in SIP messages")]
    UnsupportedTarget {
        /// The target's kind.
        kind: li_core::TargetKind,
    },
    /// The TCP framer skipped octets that do not start a SIP message (resynchronisation).
    #[error("SIP stream: skipped {skipped} octets that do not start a SIP message")]
    StreamGarbage {
        /// Octets discarded.
        skipped: usize,
    },
    /// A message on the stream is larger than the framer's bound: it is skipped (its body by
    /// Content-Length when known, otherwise up to the next start line).
    #[error("SIP stream: message of {len} octets or more exceeds the {max}-octet bound")]
    StreamMessageTooLarge {
        /// Octets the message has at least (head seen so far, or head + Content-Length).
        len: usize,
        /// The framer's bound.
        max: usize,
    },
    /// A message head on the stream has an invalid Content-Length, so the stream cannot be
    /// framed there; the framer skips the head and resynchronises.
    #[error("SIP stream: message at stream offset {offset} has an invalid Content-Length")]
    StreamContentLength {
        /// Offset of the message from the start of the stream.
        offset: u64,
    },
}
