//! SIP messages (RFC 3261 clause 7): start line, header index and body, borrowed from the
//! input.
//!
//! [`SipMessage::parse`] reads one message from a UDP datagram or from a frame the
//! [`StreamFramer`](super::StreamFramer) cut out of a TCP stream. It checks the start line,
//! indexes up to [`MAX_HEADERS`] header fields in a fixed array (name, compact form resolved,
//! value slice; folded lines kept in the value) and delimits the body by Content-Length. Header
//! values are interpreted only when asked, by the accessors ([`SipMessage::call_id`],
//! [`SipMessage::cseq`], [`SipMessage::from`], ...), so a message costs one pass over its
//! head and no allocation.
//!
//! Tolerated as peers send them (RFC 3261 clause 7.5 and common practice): CRLFs before the
//! start line, bare LF line ends, whitespace before the colon, a missing Content-Length on a
//! datagram (the body runs to its end), octets after the Content-Length on a datagram
//! (ignored), a missing empty line at the end of a datagram without body.

use std::fmt;

use super::error::{Result, SipError};
use super::multipart;
use super::sdp::Sdp;
pub(crate) use super::uri::find_byte;
use super::uri::{Uri, param_value, split_byte, split_list, trim_lws};

/// How many header fields [`SipMessage`] indexes; a message with more is rejected with
/// [`SipError::TooManyHeaders`] (a local bound: a typical INVITE has 10 to 25).
pub const MAX_HEADERS: usize = 64;

/// A parsed SIP message, borrowing from the input.
///
/// ```
/// use li_capture::sip::{Method, SipMessage};
///
/// let data = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
///     v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
///     f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
///     t: Bob <sip:bob@biloxi.example.com>\r\n\
///     i: a84b4c76e66710@pc33.atlanta.example.com\r\n\
///     CSeq: 314159 INVITE\r\n\
///     l: 0\r\n\r\n";
/// let msg = SipMessage::parse(data)?;
/// assert_eq!(msg.method(), Some(Method::Invite));
/// assert_eq!(msg.call_id(), Some("a84b4c76e66710@pc33.atlanta.example.com"));
/// assert_eq!(msg.from().and_then(|f| f.tag()), Some("1928301774"));
/// assert_eq!(msg.via_branch(), Some("z9hG4bK776asdhds"));
/// assert_eq!(msg.cseq().map(|c| c.number), Some(314159));
/// # Ok::<(), li_capture::sip::SipError>(())
/// ```
#[derive(Clone)]
pub struct SipMessage<'a> {
    start_line: StartLine<'a>,
    /// The input from the start line on: what the slots' offsets count from.
    head: &'a str,
    /// Octets skipped before the start line (leading CRLFs).
    skipped: usize,
    /// The header index: compact slots (16 octets each, so that a parsed message stays
    /// small to build and move; a message is moved by value on every parse).
    headers: [Slot; MAX_HEADERS],
    header_count: usize,
    body: &'a [u8],
    body_offset: usize,
    len: usize,
}

/// The first line of a SIP message (RFC 3261 clauses 7.1 and 7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A Request-Line.
    Request {
        /// The method.
        method: Method<'a>,
        /// The Request-URI, as written.
        uri: &'a str,
    },
    /// A Status-Line.
    Response {
        /// The Status-Code, 100..=699.
        code: u16,
        /// The Reason-Phrase (may be empty).
        reason: &'a str,
    },
}

/// A SIP method (RFC 3261 clause 7.1 and the extensions that define the others). Method
/// names are case-sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method<'a> {
    /// `INVITE` (RFC 3261).
    Invite,
    /// `ACK` (RFC 3261).
    Ack,
    /// `BYE` (RFC 3261).
    Bye,
    /// `CANCEL` (RFC 3261).
    Cancel,
    /// `REGISTER` (RFC 3261).
    Register,
    /// `OPTIONS` (RFC 3261).
    Options,
    /// `PRACK` (RFC 3262).
    Prack,
    /// `SUBSCRIBE` (RFC 6665).
    Subscribe,
    /// `NOTIFY` (RFC 6665).
    Notify,
    /// `PUBLISH` (RFC 3903).
    Publish,
    /// `INFO` (RFC 6086).
    Info,
    /// `REFER` (RFC 3515).
    Refer,
    /// `MESSAGE` (RFC 3428).
    Message,
    /// `UPDATE` (RFC 3311).
    Update,
    /// Any other extension method (a token).
    Other(&'a str),
}

impl<'a> Method<'a> {
    /// The method for a token.
    pub fn from_token(token: &'a str) -> Self {
        match token {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "REGISTER" => Self::Register,
            "OPTIONS" => Self::Options,
            "PRACK" => Self::Prack,
            "SUBSCRIBE" => Self::Subscribe,
            "NOTIFY" => Self::Notify,
            "PUBLISH" => Self::Publish,
            "INFO" => Self::Info,
            "REFER" => Self::Refer,
            "MESSAGE" => Self::Message,
            "UPDATE" => Self::Update,
            other => Self::Other(other),
        }
    }

    /// The method name.
    pub fn as_str(&self) -> &'a str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Register => "REGISTER",
            Self::Options => "OPTIONS",
            Self::Prack => "PRACK",
            Self::Subscribe => "SUBSCRIBE",
            Self::Notify => "NOTIFY",
            Self::Publish => "PUBLISH",
            Self::Info => "INFO",
            Self::Refer => "REFER",
            Self::Message => "MESSAGE",
            Self::Update => "UPDATE",
            Self::Other(token) => token,
        }
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The header fields this crate interprets, with their compact forms (RFC 3261 clause 7.3.3
/// and the IANA "Header Fields" registry). Names are matched case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderName {
    /// `Via` (`v`).
    Via,
    /// `From` (`f`).
    From,
    /// `To` (`t`).
    To,
    /// `Call-ID` (`i`).
    CallId,
    /// `CSeq`.
    CSeq,
    /// `Contact` (`m`).
    Contact,
    /// `Content-Length` (`l`).
    ContentLength,
    /// `Content-Type` (`c`).
    ContentType,
    /// `Content-Encoding` (`e`).
    ContentEncoding,
    /// `Supported` (`k`).
    Supported,
    /// `Subject` (`s`).
    Subject,
    /// `Event` (`o`, RFC 6665).
    Event,
    /// `Refer-To` (`r`, RFC 3515).
    ReferTo,
    /// `Referred-By` (`b`, RFC 3892).
    ReferredBy,
    /// `Allow-Events` (`u`, RFC 6665).
    AllowEvents,
    /// `Accept-Contact` (`a`, RFC 3841).
    AcceptContact,
    /// `Reject-Contact` (`j`, RFC 3841).
    RejectContact,
    /// `Request-Disposition` (`d`, RFC 3841).
    RequestDisposition,
    /// `Session-Expires` (`x`, RFC 4028).
    SessionExpires,
    /// `Identity` (`y`, RFC 8224).
    Identity,
    /// `Max-Forwards`.
    MaxForwards,
    /// `Route`.
    Route,
    /// `Record-Route`.
    RecordRoute,
    /// `Expires`.
    Expires,
    /// `P-Asserted-Identity` (RFC 3325).
    PAssertedIdentity,
    /// `P-Preferred-Identity` (RFC 3325).
    PPreferredIdentity,
    /// `Diversion` (RFC 5806).
    Diversion,
    /// `History-Info` (RFC 7044).
    HistoryInfo,
    /// `Authorization`.
    Authorization,
    /// `Proxy-Authorization`.
    ProxyAuthorization,
    /// Any other header; compare [`Header::name`] to find it.
    Other,
}

impl HeaderName {
    /// The header a field name stands for, full or compact form, in any case; `Other` for
    /// names this crate does not interpret.
    pub fn from_name(name: &str) -> Self {
        let bytes = name.as_bytes();
        if let [single] = bytes {
            return match single.to_ascii_lowercase() {
                b'v' => Self::Via,
                b'f' => Self::From,
                b't' => Self::To,
                b'i' => Self::CallId,
                b'm' => Self::Contact,
                b'l' => Self::ContentLength,
                b'c' => Self::ContentType,
                b'e' => Self::ContentEncoding,
                b'k' => Self::Supported,
                b's' => Self::Subject,
                b'o' => Self::Event,
                b'r' => Self::ReferTo,
                b'b' => Self::ReferredBy,
                b'u' => Self::AllowEvents,
                b'a' => Self::AcceptContact,
                b'j' => Self::RejectContact,
                b'd' => Self::RequestDisposition,
                b'x' => Self::SessionExpires,
                b'y' => Self::Identity,
                _ => Self::Other,
            };
        }
        // One candidate by length and first letter (a second letter where two share
        // them), then one comparison, word by word.
        let lower = |i: usize| bytes.get(i).map_or(0, u8::to_ascii_lowercase);
        macro_rules! folded {
            ($name:ident) => {
                (Self::$name, const { &FoldedName::of(Self::$name) })
            };
        }
        let (candidate, folded) = match (bytes.len(), lower(0)) {
            (2, b't') => folded!(To),
            (3, b'v') => folded!(Via),
            (4, b'f') => folded!(From),
            (4, b'c') => folded!(CSeq),
            (5, b'e') => folded!(Event),
            (5, b'r') => folded!(Route),
            (7, b'c') if lower(1) == b'a' => folded!(CallId),
            (7, b'c') => folded!(Contact),
            (7, b's') => folded!(Subject),
            (7, b'e') => folded!(Expires),
            (8, b'r') => folded!(ReferTo),
            (8, b'i') => folded!(Identity),
            (9, b's') => folded!(Supported),
            (9, b'd') => folded!(Diversion),
            (11, b'r') => folded!(ReferredBy),
            (12, b'c') => folded!(ContentType),
            (12, b'a') => folded!(AllowEvents),
            (12, b'm') => folded!(MaxForwards),
            (12, b'r') => folded!(RecordRoute),
            (12, b'h') => folded!(HistoryInfo),
            (13, b'a') => folded!(Authorization),
            (14, b'c') => folded!(ContentLength),
            (14, b'a') => folded!(AcceptContact),
            (14, b'r') => folded!(RejectContact),
            (15, b's') => folded!(SessionExpires),
            (16, b'c') => folded!(ContentEncoding),
            (19, b'r') => folded!(RequestDisposition),
            (19, b'p') if lower(1) == b'-' => folded!(PAssertedIdentity),
            (19, b'p') => folded!(ProxyAuthorization),
            (20, b'p') => folded!(PPreferredIdentity),
            _ => return Self::Other,
        };
        if folded.matches(bytes) {
            candidate
        } else {
            Self::Other
        }
    }

    /// The full name (`"Call-ID"`); `"Other"` for [`HeaderName::Other`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Via => "Via",
            Self::From => "From",
            Self::To => "To",
            Self::CallId => "Call-ID",
            Self::CSeq => "CSeq",
            Self::Contact => "Contact",
            Self::ContentLength => "Content-Length",
            Self::ContentType => "Content-Type",
            Self::ContentEncoding => "Content-Encoding",
            Self::Supported => "Supported",
            Self::Subject => "Subject",
            Self::Event => "Event",
            Self::ReferTo => "Refer-To",
            Self::ReferredBy => "Referred-By",
            Self::AllowEvents => "Allow-Events",
            Self::AcceptContact => "Accept-Contact",
            Self::RejectContact => "Reject-Contact",
            Self::RequestDisposition => "Request-Disposition",
            Self::SessionExpires => "Session-Expires",
            Self::Identity => "Identity",
            Self::MaxForwards => "Max-Forwards",
            Self::Route => "Route",
            Self::RecordRoute => "Record-Route",
            Self::Expires => "Expires",
            Self::PAssertedIdentity => "P-Asserted-Identity",
            Self::PPreferredIdentity => "P-Preferred-Identity",
            Self::Diversion => "Diversion",
            Self::HistoryInfo => "History-Info",
            Self::Authorization => "Authorization",
            Self::ProxyAuthorization => "Proxy-Authorization",
            Self::Other => "Other",
        }
    }
}

/// A full header name folded for a case-insensitive comparison a word at a time: three
/// words of its octets in lower case, and per octet 0x20 where it is a letter. OR-ed into
/// the input's words, those bits turn a letter of either case into the lower one; every
/// other octet must be equal as it is, so the comparison is exact for any input.
///
/// The words are read straight from the input, overlapping (see [`FoldedName::words_at`]):
/// no copy into a buffer, whose narrow stores a wide load would wait for.
struct FoldedName {
    len: usize,
    lower: [u64; 3],
    letters: [u64; 3],
}

impl FoldedName {
    const fn of(name: HeaderName) -> Self {
        let bytes = name.as_str().as_bytes();
        let (at, width) = Self::words_at(bytes.len());
        let mut folded = Self {
            len: bytes.len(),
            lower: [0; 3],
            letters: [0; 3],
        };
        let mut w = 0;
        while w < 3 {
            let mut k = 0;
            while k < width {
                #[allow(clippy::indexing_slicing)] // const evaluation: a bad index fails the build
                {
                    let b = bytes[at[w] + k];
                    folded.lower[w] |= (b.to_ascii_lowercase() as u64) << (8 * k);
                    if b.is_ascii_alphabetic() {
                        folded.letters[w] |= 0x20 << (8 * k);
                    }
                }
                k += 1;
            }
            w += 1;
        }
        folded
    }

    /// Where the three words of a name of `len` (2 to 24) octets start, and their width:
    /// 8 octets from 8 on, 4 from 4, else 2; the first at 0, the last ending at `len`, the
    /// middle one after the first or as far as it goes. Every octet is in one of them.
    const fn words_at(len: usize) -> ([usize; 3], usize) {
        let width = if len >= 8 {
            8
        } else if len >= 4 {
            4
        } else {
            2
        };
        let last = len.saturating_sub(width);
        let middle = if last < width { last } else { width };
        ([0, middle, last], width)
    }

    /// Whether `name` is this name in any case.
    #[inline]
    fn matches(&self, name: &[u8]) -> bool {
        if name.len() != self.len {
            return false;
        }
        let (at, width) = Self::words_at(name.len());
        let word =
            |at: usize| -> u64 {
                let part = name.get(at..at + width).unwrap_or_default();
                match width {
                    8 => <[u8; 8]>::try_from(part).map_or(u64::MAX, u64::from_le_bytes),
                    4 => <[u8; 4]>::try_from(part)
                        .map_or(u64::MAX, |w| u64::from(u32::from_le_bytes(w))),
                    _ => <[u8; 2]>::try_from(part)
                        .map_or(u64::MAX, |w| u64::from(u16::from_le_bytes(w))),
                }
            };
        at.iter()
            .zip(self.lower.iter().zip(&self.letters))
            .all(|(&at, (&lower, &letters))| word(at) | letters == lower)
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field of a [`SipMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    name: HeaderName,
    raw_name: &'a str,
    value: &'a str,
    offset: usize,
}

/// A header field in the message's index: offsets into the head, from which
/// [`SipMessage::headers`] builds each [`Header`].
#[derive(Clone, Copy, Debug)]
struct Slot {
    name: HeaderName,
    /// Length of the field name as written (it starts its line).
    name_len: u16,
    /// Where the header's line starts in the head.
    line: u32,
    /// Where the (trimmed) value starts in the head, and its length.
    value_start: u32,
    value_len: u32,
}

impl Slot {
    const EMPTY: Self = Self {
        name: HeaderName::Other,
        name_len: 0,
        line: 0,
        value_start: 0,
        value_len: 0,
    };

    fn header<'a>(&self, head: &'a str, skipped: usize) -> Header<'a> {
        let line = self.line as usize;
        let value = self.value_start as usize;
        Header {
            name: self.name,
            raw_name: head
                .get(line..line + usize::from(self.name_len))
                .unwrap_or_default(),
            value: head
                .get(value..value + self.value_len as usize)
                .unwrap_or_default(),
            offset: skipped + line,
        }
    }

    fn value<'a>(&self, head: &'a str) -> &'a str {
        let value = self.value_start as usize;
        head.get(value..value + self.value_len as usize)
            .unwrap_or_default()
    }
}

/// Where `part`, a subslice of `head`, starts in it.
fn start_in(head: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(head.as_ptr() as usize)
}

impl<'a> Header<'a> {
    /// The header, compact forms resolved.
    pub fn name(&self) -> HeaderName {
        self.name
    }

    /// The field name as written (`"f"`, `"FROM"`, `"X-Custom"`).
    pub fn raw_name(&self) -> &'a str {
        self.raw_name
    }

    /// The value, leading and trailing whitespace removed. A folded value keeps its line
    /// breaks and the whitespace starting each continuation line (RFC 3261 clause 7.3.1:
    /// they are equivalent to one space); the accessors treat them as whitespace.
    pub fn value(&self) -> &'a str {
        self.value
    }

    /// Offset of the header line from the start of the parsed input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether this field has the name `name` (full or compact form, any case); works for
    /// headers outside [`HeaderName`] too.
    pub fn is_named(&self, name: &str) -> bool {
        match HeaderName::from_name(name) {
            HeaderName::Other => self.raw_name.eq_ignore_ascii_case(name),
            known => known == self.name,
        }
    }
}

impl<'a> SipMessage<'a> {
    /// Parses one SIP message from a datagram or from a frame cut by the
    /// [`StreamFramer`](super::StreamFramer).
    ///
    /// The body is delimited by Content-Length; without it, the body runs to the end of the
    /// input (RFC 3261 clause 18.3 for UDP; a framed stream message without Content-Length
    /// has nothing after its head). Octets after the body are ignored; [`SipMessage::len`]
    /// says where the message ended.
    ///
    /// Errors: [`SipError::Empty`], [`SipError::NotUtf8`], [`SipError::StartLine`],
    /// [`SipError::HeaderLine`], [`SipError::TooManyHeaders`], [`SipError::ContentLength`],
    /// [`SipError::BodyTruncated`].
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        // RFC 3261 clause 7.5: CRLFs before the start line are ignored.
        let skipped = data
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .ok_or(SipError::Empty)?;
        let rest = data.get(skipped..).unwrap_or_default();
        // The index keeps 32-bit offsets.
        if rest.len() > u32::MAX as usize {
            return Err(SipError::HeaderLine {
                offset: skipped,
                reason: "message longer than 4 GiB",
            });
        }
        // The head is UTF-8, the body need not be: validate once, and read the head from
        // the valid prefix (one pass over the lines, which stops at the empty line).
        let (text, all_valid) = match std::str::from_utf8(rest) {
            Ok(text) => (text, true),
            Err(e) => (
                rest.get(..e.valid_up_to())
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or_default(),
                false,
            ),
        };
        let not_utf8 = SipError::NotUtf8 {
            offset: skipped + text.len(),
        };
        let mut lines = HeadLines {
            text,
            pos: 0,
            base: skipped,
            all_valid,
            body_start: None,
            not_utf8: false,
        };
        let Some((start_offset, first)) = lines.next() else {
            return Err(if lines.not_utf8 {
                not_utf8
            } else {
                SipError::Empty
            });
        };
        let start_line = parse_start_line(first, start_offset)?;
        let head = text;

        let mut headers = [Slot::EMPTY; MAX_HEADERS];
        let mut count = 0;
        // The slot of the header being read, to extend with continuation lines.
        let mut current: Option<&mut Slot> = None;
        let mut content_length: Option<(usize, usize)> = None;
        let mut slots = headers.iter_mut();
        for (offset, line) in lines.by_ref() {
            if line.starts_with([' ', '\t']) {
                let Some(header) = current.as_deref_mut() else {
                    return Err(SipError::HeaderLine {
                        offset,
                        reason: "continuation line before any header",
                    });
                };
                // The value now runs from where it started to the end of this line.
                let start = header_value_start(head, header);
                let end = offset - skipped + line.len();
                let value = trim_lws(head.get(start..end).unwrap_or_default());
                header.value_start = start_in(head, value) as u32;
                header.value_len = value.len() as u32;
                continue;
            }
            // One pass over the name: token octets, optional blanks, the colon.
            let bytes = line.as_bytes();
            let name_end = bytes
                .iter()
                .position(|&b| !is_token_byte(b))
                .unwrap_or(bytes.len());
            let colon = bytes
                .iter()
                .skip(name_end)
                .position(|&b| b != b' ' && b != b'\t')
                .map(|p| name_end + p)
                .filter(|&c| bytes.get(c) == Some(&b':'));
            let (Some(colon), Some(name)) = (colon, line.get(..name_end)) else {
                return Err(SipError::HeaderLine {
                    offset,
                    reason: if bytes.contains(&b':') {
                        "header name is not a token"
                    } else {
                        "no ':' after the header name"
                    },
                });
            };
            if name.is_empty() {
                return Err(SipError::HeaderLine {
                    offset,
                    reason: "header name is not a token",
                });
            }
            let value = line.get(colon + 1..).unwrap_or_default();
            let Ok(name_len) = u16::try_from(name.len()) else {
                return Err(SipError::HeaderLine {
                    offset,
                    reason: "header name longer than 65,535 octets",
                });
            };
            let value = trim_lws(value);
            let header = Slot {
                name: HeaderName::from_name(name),
                name_len,
                line: (offset - skipped) as u32,
                value_start: start_in(head, value) as u32,
                value_len: value.len() as u32,
            };
            if header.name == HeaderName::ContentLength {
                let n = parse_content_length(value).ok_or(SipError::ContentLength {
                    offset,
                    reason: "not a decimal number of octets",
                })?;
                match content_length {
                    Some((seen, _)) if seen != n => {
                        return Err(SipError::ContentLength {
                            offset,
                            reason: "two Content-Length headers disagree",
                        });
                    }
                    _ => content_length = Some((n, offset)),
                }
            }
            let slot = slots.next().ok_or(SipError::TooManyHeaders {
                max: MAX_HEADERS,
                offset,
            })?;
            *slot = header;
            count += 1;
            current = Some(slot);
        }
        if lines.not_utf8 {
            return Err(not_utf8);
        }
        // Without the empty line (a datagram without body), the head runs to the end.
        let body_start = lines.body_start.unwrap_or(rest.len());

        let available = rest.len().saturating_sub(body_start);
        let body_len = match content_length {
            None => available,
            Some((n, _)) if n <= available => n,
            Some((n, _)) => {
                return Err(SipError::BodyTruncated {
                    content_length: n,
                    available,
                    offset: skipped + body_start,
                });
            }
        };
        let body = rest
            .get(body_start..body_start + body_len)
            .unwrap_or_default();
        Ok(Self {
            start_line,
            head,
            skipped,
            headers,
            header_count: count,
            body,
            body_offset: skipped + body_start,
            len: skipped + body_start + body_len,
        })
    }

    /// The start line.
    pub fn start_line(&self) -> StartLine<'a> {
        self.start_line
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start_line, StartLine::Request { .. })
    }

    /// The method: the Request-Line's for a request, the CSeq's for a response (RFC 3261
    /// clause 8.2.6.2: a response carries the request's CSeq).
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start_line {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => self.cseq().map(|c| c.method),
        }
    }

    /// The Request-URI of a request.
    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start_line {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The Status-Code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start_line {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The header fields in message order.
    pub fn headers(&self) -> impl ExactSizeIterator<Item = Header<'a>> + Clone + '_ {
        let (head, skipped) = (self.head, self.skipped);
        self.slots().iter().map(move |s| s.header(head, skipped))
    }

    /// The `index`th header field (0 is the first after the start line).
    pub fn header_at(&self, index: usize) -> Option<Header<'a>> {
        self.slots()
            .get(index)
            .map(|s| s.header(self.head, self.skipped))
    }

    fn slots(&self) -> &[Slot] {
        self.headers.get(..self.header_count).unwrap_or_default()
    }

    /// The value of the first `name` header.
    pub fn header(&self, name: HeaderName) -> Option<&'a str> {
        self.headers_named(name).next()
    }

    /// The values of every `name` header, in order. A header with a comma-separated list is
    /// one value here; split it with [`split_list`].
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &'a str> + '_ {
        let head = self.head;
        self.slots()
            .iter()
            .filter(move |h| h.name == name)
            .map(move |h| h.value(head))
    }

    /// The Call-ID (RFC 3261 clause 20.8).
    pub fn call_id(&self) -> Option<&'a str> {
        self.header(HeaderName::CallId).filter(|v| !v.is_empty())
    }

    /// The CSeq (RFC 3261 clause 20.16); `None` if absent or malformed.
    pub fn cseq(&self) -> Option<CSeq<'a>> {
        self.header(HeaderName::CSeq)
            .and_then(|v| CSeq::parse(v).ok())
    }

    /// The From header (RFC 3261 clause 20.20); `None` if absent or malformed (see
    /// [`NameAddr::parse`] for the error).
    pub fn from(&self) -> Option<NameAddr<'a>> {
        self.header(HeaderName::From)
            .and_then(|v| NameAddr::parse(v).ok())
    }

    /// The To header (RFC 3261 clause 20.39); `None` if absent or malformed.
    pub fn to(&self) -> Option<NameAddr<'a>> {
        self.header(HeaderName::To)
            .and_then(|v| NameAddr::parse(v).ok())
    }

    /// Every Via value, topmost first, lists split (RFC 3261 clause 20.42); malformed
    /// values are skipped.
    pub fn vias(&self) -> impl Iterator<Item = Via<'a>> + '_ {
        self.headers_named(HeaderName::Via)
            .flat_map(split_list)
            .filter_map(|v| Via::parse(v).ok())
    }

    /// The branch parameter of the topmost Via (RFC 3261 clause 8.1.1.7): with the
    /// CSeq method it identifies the transaction.
    pub fn via_branch(&self) -> Option<&'a str> {
        self.headers_named(HeaderName::Via)
            .flat_map(split_list)
            .next()
            .and_then(|v| Via::parse(v).ok())
            .and_then(|v| v.branch())
    }

    /// Every Contact value, lists split (RFC 3261 clause 20.10); malformed values are
    /// skipped. `Contact: *` (a REGISTER removing all bindings) gives a [`NameAddr`] whose
    /// URI is `*`.
    pub fn contacts(&self) -> impl Iterator<Item = NameAddr<'a>> + '_ {
        self.headers_named(HeaderName::Contact)
            .flat_map(split_list)
            .filter_map(|v| NameAddr::parse(v).ok())
    }

    /// The Content-Type (RFC 3261 clause 20.15); `None` if absent or malformed.
    pub fn content_type(&self) -> Option<ContentType<'a>> {
        self.header(HeaderName::ContentType)
            .and_then(|v| ContentType::parse(v).ok())
    }

    /// The body (empty if none).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Offset of the body from the start of the parsed input.
    pub fn body_offset(&self) -> usize {
        self.body_offset
    }

    /// Octets of the input this message occupies (leading CRLFs, head, empty line, body).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message occupies no octets (never true for a parsed message).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The SDP body: the whole body if its Content-Type is `application/sdp`, else the
    /// first `application/sdp` part of a `multipart/*` body (see [`multipart::find_sdp`]).
    /// `None` if there is none (also without Content-Type or with a content encoding other
    /// than `identity`, such as `gzip`);
    /// `Some(Err(_))` if there is one and it does not parse.
    pub fn sdp(&self) -> Option<Result<Sdp<'a>>> {
        self.sdp_body().map(|r| r.and_then(Sdp::parse))
    }

    /// The octets [`SipMessage::sdp`] parses: `None` if there are none, `Some(Err(_))` if
    /// the multipart body holding them does not parse.
    pub fn sdp_body(&self) -> Option<Result<&'a [u8]>> {
        let encoded = || {
            self.headers_named(HeaderName::ContentEncoding)
                .any(|e| !e.eq_ignore_ascii_case("identity"))
        };
        if self.body.is_empty() || encoded() {
            return None;
        }
        let content_type = self.content_type()?;
        multipart::find_sdp(content_type, self.body)
    }
}

impl fmt::Debug for SipMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipMessage")
            .field("start_line", &self.start_line)
            .field("headers", &self.headers().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .field("len", &self.len)
            .finish()
    }
}

/// The CSeq header value: a sequence number and a method (RFC 3261 clause 20.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (less than 2**31 per RFC 3261; any u32 accepted).
    pub number: u32,
    /// The method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses `number LWS method`.
    pub fn parse(value: &'a str) -> Result<Self> {
        let bad = |reason| SipError::HeaderValue {
            header: HeaderName::CSeq,
            reason,
        };
        let mut parts = value.split_ascii_whitespace();
        let number = parts
            .next()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse().ok())
            .ok_or(bad("sequence number is not a 32-bit decimal number"))?;
        let method = parts
            .next()
            .filter(|m| m.bytes().all(is_token_byte))
            .ok_or(bad("method missing or not a token"))?;
        if parts.next().is_some() {
            return Err(bad("more than a number and a method"));
        }
        Ok(Self {
            number,
            method: Method::from_token(method),
        })
    }
}

/// A `name-addr` or `addr-spec` with header parameters: the value of From, To, Contact,
/// P-Asserted-Identity, Diversion, ... (RFC 3261 clauses 20.10, 20.20, 25.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name, quotes removed (escapes left as written); `None` if absent.
    pub display_name: Option<&'a str>,
    /// The URI, without the angle brackets.
    pub uri: &'a str,
    /// The header parameters after the URI, without the first `;` (`tag=...;...`); empty if
    /// none.
    pub params: &'a str,
}

impl<'a> NameAddr<'a> {
    /// Parses one `name-addr` (`"Alice" <sip:alice@a.example>;tag=1`) or `addr-spec`
    /// (`sip:alice@a.example;tag=1`, where every parameter is a header parameter).
    pub fn parse(value: &'a str) -> Result<Self> {
        let bad = |reason| SipError::NameAddr { reason };
        let value = trim_lws(value);
        let (display_name, rest) = if value.starts_with('"') {
            let (quoted, rest) = split_quoted(value).ok_or(bad("display name quote not closed"))?;
            let rest = trim_lws(rest);
            if !rest.starts_with('<') {
                return Err(bad("no '<' after a quoted display name"));
            }
            (Some(quoted), rest)
        } else if let Some((before, after)) = split_byte(value, b'<') {
            let name = trim_lws(before);
            // Keep the '<' with the rest.
            let rest = value
                .get(value.len() - after.len() - 1..)
                .unwrap_or_default();
            ((!name.is_empty()).then_some(name), rest)
        } else {
            (None, value)
        };
        let (uri, params) = if let Some(inner) = rest.strip_prefix('<') {
            let (uri, after) = split_byte(inner, b'>').ok_or(bad("'<' without '>'"))?;
            let after = trim_lws(after);
            let params = match after.strip_prefix(';') {
                Some(p) => trim_lws(p),
                None if after.is_empty() => "",
                None => return Err(bad("text after '>' that is not a parameter")),
            };
            (trim_lws(uri), params)
        } else {
            match split_byte(rest, b';') {
                Some((uri, params)) => (trim_lws(uri), trim_lws(params)),
                None => (rest, ""),
            }
        };
        if uri.is_empty() {
            return Err(bad("empty URI"));
        }
        Ok(Self {
            display_name,
            uri,
            params,
        })
    }

    /// The `tag` parameter (RFC 3261 clause 19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.param("tag")
    }

    /// The value of header parameter `name` (case-insensitive name; quotes removed); `Some("")`
    /// for a parameter without value.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        param_value(self.params, name)
    }

    /// The URI, parsed.
    pub fn parsed_uri(&self) -> Result<Uri<'a>> {
        Uri::parse(self.uri)
    }
}

/// One Via value (RFC 3261 clause 20.42): `SIP/2.0/UDP host:port;branch=...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// The transport (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...).
    pub transport: &'a str,
    /// `sent-by`: host and optional port.
    pub sent_by: &'a str,
    /// The parameters after `sent-by`, without the first `;`.
    pub params: &'a str,
}

impl<'a> Via<'a> {
    /// Parses one Via value.
    pub fn parse(value: &'a str) -> Result<Self> {
        let bad = |reason| SipError::HeaderValue {
            header: HeaderName::Via,
            reason,
        };
        let value = trim_lws(value);
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport, with optional
        // whitespace around each SLASH (RFC 3261 clause 25.1), then LWS and sent-by.
        let mut parts = value.splitn(3, '/').map(trim_lws);
        let (name, version, last) = (parts.next(), parts.next(), parts.next());
        let (transport, rest) = match (name, version, last) {
            (Some(n), Some(v), Some(last)) if n.eq_ignore_ascii_case("SIP") && !v.is_empty() => {
                last.split_once(|c: char| c.is_ascii_whitespace())
                    .ok_or(bad("no sent-by after the protocol"))?
            }
            _ => return Err(bad("protocol is not SIP/version/transport")),
        };
        if transport.is_empty() || !transport.bytes().all(is_token_byte) {
            return Err(bad("transport is not a token"));
        }
        let (sent_by, params) = match split_byte(rest, b';') {
            Some((s, p)) => (trim_lws(s), trim_lws(p)),
            None => (trim_lws(rest), ""),
        };
        if sent_by.is_empty() {
            return Err(bad("empty sent-by"));
        }
        Ok(Self {
            transport,
            sent_by,
            params,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        param_value(self.params, "branch").filter(|b| !b.is_empty())
    }

    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        param_value(self.params, name)
    }
}

/// A media type with parameters, as in Content-Type (RFC 3261 clause 20.15, RFC 2045).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// The type (`application`).
    pub media_type: &'a str,
    /// The subtype (`sdp`).
    pub subtype: &'a str,
    /// The parameters, without the first `;`.
    pub params: &'a str,
}

impl<'a> ContentType<'a> {
    /// Parses `type/subtype *(;param)`.
    pub fn parse(value: &'a str) -> Result<Self> {
        let value = trim_lws(value);
        let (essence, params) = match split_byte(value, b';') {
            Some((e, p)) => (trim_lws(e), trim_lws(p)),
            None => (value, ""),
        };
        let (media_type, subtype) = essence
            .split_once('/')
            .map(|(t, s)| (trim_lws(t), trim_lws(s)))
            .filter(|(t, s)| !t.is_empty() && !s.is_empty())
            .ok_or(SipError::HeaderValue {
                header: HeaderName::ContentType,
                reason: "not type/subtype",
            })?;
        Ok(Self {
            media_type,
            subtype,
            params,
        })
    }

    /// Whether this is `media_type/subtype` (case-insensitive).
    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type)
            && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// The value of parameter `name` (case-insensitive name, quotes removed).
    pub fn param(&self, name: &str) -> Option<&'a str> {
        param_value(self.params, name)
    }

    /// The `boundary` parameter of a multipart type (RFC 2046 clause 5.1.1).
    pub fn boundary(&self) -> Option<&'a str> {
        self.param("boundary").filter(|b| !b.is_empty())
    }
}

/// Where the head ends in `data`: (head length without its final line break, offset of the
/// body). The head ends at the first empty line (CRLF CRLF, or bare LF tolerated).
pub(crate) fn head_end(data: &[u8]) -> Option<(usize, usize)> {
    head_end_from(data, 0)
}

/// [`head_end`], looking only at line breaks at or after `from`.
pub(crate) fn head_end_from(data: &[u8], mut from: usize) -> Option<(usize, usize)> {
    while let Some(pos) = find_byte(data.get(from..)?, b'\n') {
        let nl = from + pos;
        match data.get(nl + 1..) {
            Some([b'\n', ..]) => return Some((head_len_before(data, nl), nl + 2)),
            Some([b'\r', b'\n', ..]) => return Some((head_len_before(data, nl), nl + 3)),
            _ => from = nl + 1,
        }
    }
    None
}

/// Length of the head whose last line break is the LF at `nl` (drops a CR before it).
fn head_len_before(data: &[u8], nl: usize) -> usize {
    if nl > 0 && data.get(nl - 1) == Some(&b'\r') {
        nl - 1
    } else {
        nl
    }
}

/// The lines of a message head with their offsets (CRLF or LF separated, CR removed), up
/// to the empty line that ends it.
struct HeadLines<'a> {
    /// The input from the start line on, as far as it is UTF-8.
    text: &'a str,
    /// Offset in `text` of the next line.
    pos: usize,
    /// Offset of `text` in the input.
    base: usize,
    /// Whether `text` is the whole input (else invalid UTF-8 follows it).
    all_valid: bool,
    /// Offset in `text` after the empty line, once found.
    body_start: Option<usize>,
    /// Set when the head runs into octets that are not UTF-8.
    not_utf8: bool,
}

impl<'a> Iterator for HeadLines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.body_start.is_some() || self.not_utf8 {
            return None;
        }
        let rest = self.text.get(self.pos..).filter(|r| !r.is_empty());
        let Some(rest) = rest else {
            // The end of the input, or of its valid prefix, without an empty line.
            self.not_utf8 = !self.all_valid;
            return None;
        };
        let offset = self.pos;
        let line = match find_byte(rest.as_bytes(), b'\n') {
            Some(end) => {
                self.pos += end + 1;
                rest.get(..end).unwrap_or_default()
            }
            None if self.all_valid => {
                self.pos = self.text.len();
                rest
            }
            None => {
                self.not_utf8 = true;
                return None;
            }
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            self.body_start = Some(self.pos);
            return None;
        }
        Some((self.base + offset, line))
    }
}

/// Offset in `head` where `header`'s value begins (after its colon, whitespace skipped).
fn header_value_start(head: &str, header: &Slot) -> usize {
    let line_start = header.line as usize;
    let line = head.get(line_start..).unwrap_or_default();
    let colon = find_byte(line.as_bytes(), b':').map_or(0, |c| c + 1);
    let after = line.get(colon..).unwrap_or_default();
    let ws = after.len() - after.trim_start_matches([' ', '\t']).len();
    line_start + colon + ws
}

fn parse_start_line(line: &str, offset: usize) -> Result<StartLine<'_>> {
    let bad = |reason| SipError::StartLine { offset, reason };
    if let Some(rest) = strip_prefix_ignore_case(line, "SIP/") {
        let (version, rest) = split_byte(rest, b' ').ok_or(bad("no Status-Code"))?;
        if version != "2.0" {
            return Err(bad("SIP version is not 2.0"));
        }
        let rest = rest.trim_start_matches(' ');
        let (code, reason) = split_byte(rest, b' ').unwrap_or((rest, ""));
        let code = Some(code)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (100..=699).contains(c))
            .ok_or(bad("Status-Code is not three digits 100..=699"))?;
        return Ok(StartLine::Response { code, reason });
    }
    let (method, rest) = split_byte(line, b' ').ok_or(bad("not a Request-Line"))?;
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(bad("method is not a token"));
    }
    let rest = rest.trim_matches(' ');
    let (uri, version) = rest.rsplit_once(' ').ok_or(bad("no SIP version"))?;
    let version = strip_prefix_ignore_case(version, "SIP/").ok_or(bad("no SIP version"))?;
    if version != "2.0" {
        return Err(bad("SIP version is not 2.0"));
    }
    let uri = uri.trim_end_matches(' ');
    if uri.is_empty() || uri.contains(' ') {
        return Err(bad("Request-URI empty or with spaces"));
    }
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri,
    })
}

/// Whether `line` looks like a SIP start line (used by the framer to resynchronise).
pub(crate) fn is_start_line(line: &[u8]) -> bool {
    std::str::from_utf8(line)
        .ok()
        .is_some_and(|l| parse_start_line(l.strip_suffix('\r').unwrap_or(l), 0).is_ok())
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// The decimal value of a Content-Length, bounded to what fits a `usize`.
pub(crate) fn parse_content_length(value: &str) -> Option<usize> {
    let value = trim_lws(value);
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// A quoted string at the start of `s`: (inner text, rest after the closing quote).
fn split_quoted(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some((inner.get(..i)?, inner.get(i + 1..)?)),
            _ => {}
        }
    }
    None
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES.get(usize::from(b)).copied().unwrap_or(false)
}

/// RFC 3261 clause 25.1 `token` characters, by octet.
// Built at compile time: an index out of range would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
static TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::collection::vec;

    #[test]
    fn token_bytes_are_rfc_3261s() {
        for b in 0..=255u8 {
            let token = b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b);
            assert_eq!(is_token_byte(b), token, "{b:#04x}");
        }
    }
    use proptest::prelude::*;

    /// (full name, compact form, header) for every named [`HeaderName`], from RFC 3261
    /// clause 7.3.3 and the IANA registry, to check `from_name` and `as_str` against.
    const HEADER_NAMES: [(&str, Option<u8>, HeaderName); 30] = [
        ("Via", Some(b'v'), HeaderName::Via),
        ("From", Some(b'f'), HeaderName::From),
        ("To", Some(b't'), HeaderName::To),
        ("Call-ID", Some(b'i'), HeaderName::CallId),
        ("CSeq", None, HeaderName::CSeq),
        ("Contact", Some(b'm'), HeaderName::Contact),
        ("Content-Length", Some(b'l'), HeaderName::ContentLength),
        ("Content-Type", Some(b'c'), HeaderName::ContentType),
        ("Content-Encoding", Some(b'e'), HeaderName::ContentEncoding),
        ("Supported", Some(b'k'), HeaderName::Supported),
        ("Subject", Some(b's'), HeaderName::Subject),
        ("Event", Some(b'o'), HeaderName::Event),
        ("Refer-To", Some(b'r'), HeaderName::ReferTo),
        ("Referred-By", Some(b'b'), HeaderName::ReferredBy),
        ("Allow-Events", Some(b'u'), HeaderName::AllowEvents),
        ("Accept-Contact", Some(b'a'), HeaderName::AcceptContact),
        ("Reject-Contact", Some(b'j'), HeaderName::RejectContact),
        (
            "Request-Disposition",
            Some(b'd'),
            HeaderName::RequestDisposition,
        ),
        ("Session-Expires", Some(b'x'), HeaderName::SessionExpires),
        ("Identity", Some(b'y'), HeaderName::Identity),
        ("Max-Forwards", None, HeaderName::MaxForwards),
        ("Route", None, HeaderName::Route),
        ("Record-Route", None, HeaderName::RecordRoute),
        ("Expires", None, HeaderName::Expires),
        ("P-Asserted-Identity", None, HeaderName::PAssertedIdentity),
        ("P-Preferred-Identity", None, HeaderName::PPreferredIdentity),
        ("Diversion", None, HeaderName::Diversion),
        ("History-Info", None, HeaderName::HistoryInfo),
        ("Authorization", None, HeaderName::Authorization),
        ("Proxy-Authorization", None, HeaderName::ProxyAuthorization),
    ];

    /// An INVITE in the style of RFC 3665 / RFC 4475, with an SDP body.
    pub(crate) const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
        Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n\
        Max-Forwards: 70\r\n\
        From: \"Alice, A.\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
        To: Bob <sip:bob@biloxi.example.com>\r\n\
        Call-ID: 3848276298220188511@atlanta.example.com\r\n\
        CSeq: 1 INVITE\r\n\
        Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n\
        Content-Type: application/sdp\r\n\
        Content-Length: 151\r\n\
        \r\n\
        v=0\r\n\
        o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n\
        s=-\r\n\
        c=IN IP4 192.0.2.101\r\n\
        t=0 0\r\n\
        m=audio 49172 RTP/AVP 0\r\n\
        a=rtpmap:0 PCMU/8000\r\n";

    #[test]
    fn invite_fields() {
        let msg = SipMessage::parse(INVITE.as_bytes()).unwrap();
        assert_eq!(
            msg.start_line(),
            StartLine::Request {
                method: Method::Invite,
                uri: "sip:bob@biloxi.example.com"
            }
        );
        assert!(msg.is_request());
        assert_eq!(msg.status(), None);
        assert_eq!(msg.request_uri(), Some("sip:bob@biloxi.example.com"));
        assert_eq!(
            msg.call_id(),
            Some("3848276298220188511@atlanta.example.com")
        );
        assert_eq!(
            msg.cseq(),
            Some(CSeq {
                number: 1,
                method: Method::Invite
            })
        );
        let from = msg.from().unwrap();
        assert_eq!(from.display_name, Some("Alice, A."));
        assert_eq!(from.uri, "sip:alice@atlanta.example.com");
        assert_eq!(from.tag(), Some("9fxced76sl"));
        let to = msg.to().unwrap();
        assert_eq!((to.display_name, to.tag()), (Some("Bob"), None));
        assert_eq!(msg.via_branch(), Some("z9hG4bK74bf9"));
        let via = msg.vias().next().unwrap();
        assert_eq!(
            (via.transport, via.sent_by),
            ("TCP", "client.atlanta.example.com:5060")
        );
        let contacts: Vec<_> = msg.contacts().map(|c| c.uri).collect();
        assert_eq!(
            contacts,
            ["sip:alice@client.atlanta.example.com;transport=tcp"]
        );
        assert!(msg.content_type().unwrap().is("APPLICATION", "SDP"));
        assert_eq!(msg.body().len(), 151);
        assert!(msg.body().starts_with(b"v=0\r\n"));
        assert_eq!(msg.body_offset() + 151, INVITE.len());
        assert_eq!(msg.len(), INVITE.len());
        assert_eq!(msg.header(HeaderName::MaxForwards), Some("70"));
        assert_eq!(msg.headers().len(), 9);
        assert!(msg.sdp().unwrap().is_ok());
    }

    #[test]
    fn response_takes_its_method_from_cseq() {
        let msg = SipMessage::parse(
            b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 7 INVITE\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            msg.start_line(),
            StartLine::Response {
                code: 180,
                reason: "Ringing"
            }
        );
        assert_eq!(msg.status(), Some(180));
        assert_eq!(msg.method(), Some(Method::Invite));
        assert_eq!(msg.request_uri(), None);
        // An empty reason phrase is allowed.
        let msg = SipMessage::parse(b"SIP/2.0 200 \r\n\r\n").unwrap();
        assert_eq!(msg.status(), Some(200));
        assert_eq!(msg.method(), None);
    }

    #[test]
    fn compact_forms_and_any_case() {
        let msg = SipMessage::parse(
            b"MESSAGE sip:b@x SIP/2.0\r\n\
              v: SIP/2.0/UDP h;branch=z9hG4bKc\r\n\
              F: <sip:a@x>;tag=1\r\n\
              t: <sip:b@x>\r\n\
              I: cid-1\r\n\
              cseq: 2 MESSAGE\r\n\
              m: <sip:a@h>\r\n\
              k: 100rel\r\n\
              s: hello\r\n\
              o: presence\r\n\
              r: <sip:c@x>\r\n\
              u: talk\r\n\
              e: gzip\r\n\
              C: text/plain\r\n\
              CONTENT-length: 2\r\n\r\nhi",
        )
        .unwrap();
        assert_eq!(msg.call_id(), Some("cid-1"));
        assert_eq!(msg.from().unwrap().tag(), Some("1"));
        assert_eq!(msg.to().unwrap().uri, "sip:b@x");
        assert_eq!(msg.cseq().unwrap().method, Method::Message);
        assert_eq!(msg.contacts().count(), 1);
        assert_eq!(msg.header(HeaderName::Supported), Some("100rel"));
        assert_eq!(msg.header(HeaderName::Subject), Some("hello"));
        assert_eq!(msg.header(HeaderName::Event), Some("presence"));
        assert_eq!(msg.header(HeaderName::ReferTo), Some("<sip:c@x>"));
        assert_eq!(msg.header(HeaderName::AllowEvents), Some("talk"));
        assert_eq!(msg.header(HeaderName::ContentEncoding), Some("gzip"));
        assert!(msg.content_type().unwrap().is("text", "plain"));
        assert_eq!(msg.body(), b"hi");
        assert!(msg.sdp().is_none());
        let names: Vec<_> = msg.headers().map(|h| h.raw_name()).collect();
        assert_eq!(names.first(), Some(&"v"));
        assert!(msg.headers().any(|h| h.is_named("Call-ID")));
        assert!(msg.headers().any(|h| h.is_named("i")));
    }

    #[test]
    fn sdp_only_when_not_content_encoded() {
        let sdp = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
        let with = |encoding: &str| {
            format!(
                "INVITE sip:b@x SIP/2.0\r\nc: application/sdp\r\n{encoding}l: {}\r\n\r\n{sdp}",
                sdp.len()
            )
        };
        for (encoding, has_sdp) in [
            ("", true),
            ("e: identity\r\n", true),
            ("Content-Encoding: gzip\r\n", false),
        ] {
            let data = with(encoding);
            let msg = SipMessage::parse(data.as_bytes()).unwrap();
            assert_eq!(msg.sdp().is_some(), has_sdp, "{encoding}");
        }
        // No Content-Type: the body is not guessed at.
        let data = format!("INVITE sip:b@x SIP/2.0\r\n\r\n{sdp}");
        assert!(SipMessage::parse(data.as_bytes()).unwrap().sdp().is_none());
        // An SDP body that does not parse is reported.
        let msg = SipMessage::parse(b"INVITE sip:b@x SIP/2.0\r\nc: application/sdp\r\n\r\nhello")
            .unwrap();
        assert!(matches!(
            msg.sdp(),
            Some(Err(SipError::SdpLine { offset: 0, .. }))
        ));
    }

    #[test]
    fn header_names_resolve_full_and_compact() {
        for (full, compact, name) in HEADER_NAMES {
            assert_eq!(HeaderName::from_name(full), name);
            assert_eq!(HeaderName::from_name(&full.to_uppercase()), name);
            assert_eq!(name.as_str(), full);
            if let Some(c) = compact {
                assert_eq!(HeaderName::from_name(&char::from(c).to_string()), name);
                let upper = char::from(c).to_ascii_uppercase().to_string();
                assert_eq!(HeaderName::from_name(&upper), name);
            }
        }
        assert_eq!(HeaderName::from_name("X-Custom"), HeaderName::Other);
        assert_eq!(HeaderName::from_name("z"), HeaderName::Other);
        assert_eq!(HeaderName::from_name(""), HeaderName::Other);
    }

    /// The word-at-a-time comparison is exact: every name with one octet changed to any
    /// other value resolves as `eq_ignore_ascii_case` says (a case change keeps the name,
    /// `-` to CR or `[` to `{` does not), mixed case resolves.
    #[test]
    fn header_names_with_one_octet_changed() {
        for (full, _, name) in HEADER_NAMES {
            for i in 0..full.len() {
                for b in 0..=u8::MAX {
                    let mut changed = full.as_bytes().to_vec();
                    changed[i] = b;
                    let Ok(text) = std::str::from_utf8(&changed) else {
                        continue;
                    };
                    if text.eq_ignore_ascii_case(full) {
                        assert_eq!(HeaderName::from_name(text), name, "{text:?}");
                    } else {
                        assert_ne!(HeaderName::from_name(text), name, "{text:?}");
                    }
                }
            }
            let mixed: String = full
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            assert_eq!(HeaderName::from_name(&mixed), name, "{mixed}");
        }
    }

    #[test]
    fn folded_headers_are_one_value() {
        let msg = SipMessage::parse(
            b"OPTIONS sip:b@x SIP/2.0\r\n\
              Subject: I know you're there,\r\n\
              \x20    pick up the phone\r\n\
              \t and talk to me!\r\n\
              From: Alice\r\n <sip:alice@x>\r\n\t;tag=42\r\n\
              Via: SIP/2.0/UDP a;branch=z9hG4bK1,\r\n SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
              Call-ID: c\r\n\r\n",
        )
        .unwrap();
        let subject = msg.header(HeaderName::Subject).unwrap();
        assert!(subject.starts_with("I know you're there,"));
        assert!(subject.ends_with("and talk to me!"));
        let from = msg.from().unwrap();
        assert_eq!(
            (from.display_name, from.uri, from.tag()),
            (Some("Alice"), "sip:alice@x", Some("42"))
        );
        let branches: Vec<_> = msg.vias().map(|v| v.branch().unwrap()).collect();
        assert_eq!(branches, ["z9hG4bK1", "z9hG4bK2"]);
        assert_eq!(msg.call_id(), Some("c"));
        assert_eq!(msg.headers().len(), 4);
    }

    #[test]
    fn via_and_contact_lists_across_headers() {
        let msg = SipMessage::parse(
            b"REGISTER sip:registrar.x SIP/2.0\r\n\
              Via: SIP/2.0/UDP p1;branch=z9hG4bKtop, SIP/2.0/TCP p2:5070;branch=z9hG4bK2\r\n\
              Via: SIP/2.0/UDP p3;received=192.0.2.1;branch=z9hG4bK3\r\n\
              Contact: <sip:a@h1>;expires=60, \"Al, B\" <sip:a@h2;lr>\r\n\
              Contact: sip:a@h3;q=0.5\r\n\r\n",
        )
        .unwrap();
        let vias: Vec<_> = msg.vias().map(|v| (v.sent_by, v.branch())).collect();
        assert_eq!(
            vias,
            [
                ("p1", Some("z9hG4bKtop")),
                ("p2:5070", Some("z9hG4bK2")),
                ("p3", Some("z9hG4bK3"))
            ]
        );
        assert_eq!(msg.via_branch(), Some("z9hG4bKtop"));
        assert_eq!(
            msg.vias().nth(2).unwrap().param("received"),
            Some("192.0.2.1")
        );
        let contacts: Vec<_> = msg.contacts().map(|c| (c.uri, c.params)).collect();
        assert_eq!(
            contacts,
            [
                ("sip:a@h1", "expires=60"),
                ("sip:a@h2;lr", ""),
                ("sip:a@h3", "q=0.5")
            ]
        );
        // Whitespace around the slashes of the protocol (RFC 3261 clause 25.1).
        let via = Via::parse("SIP / 2.0 / TCP [2001:db8::1]:5070 ; branch=z9hG4bKx").unwrap();
        assert_eq!(
            (via.transport, via.sent_by, via.branch()),
            ("TCP", "[2001:db8::1]:5070", Some("z9hG4bKx"))
        );
        for bad in [
            "SIP/2.0/UDP",
            "SIP/2.0 host",
            "HTTP/1.1/TCP host",
            "SIP//UDP h",
            "SIP/2.0/ h",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
        let star = SipMessage::parse(b"REGISTER sip:r SIP/2.0\r\nContact: *\r\n\r\n").unwrap();
        assert_eq!(star.contacts().next().unwrap().uri, "*");
    }

    #[test]
    fn datagram_body_framing() {
        // No Content-Length on UDP: the body runs to the end of the datagram.
        let msg = SipMessage::parse(b"MESSAGE sip:b@x SIP/2.0\r\nCall-ID: c\r\n\r\nhello").unwrap();
        assert_eq!(msg.body(), b"hello");
        // Content-Length shorter than the data: the rest is ignored.
        let data = b"MESSAGE sip:b@x SIP/2.0\r\nl: 3\r\n\r\nhello";
        let msg = SipMessage::parse(data).unwrap();
        assert_eq!(msg.body(), b"hel");
        assert_eq!(msg.len(), data.len() - 2);
        // Content-Length larger than the data: a truncated datagram.
        assert_eq!(
            SipMessage::parse(b"MESSAGE sip:b@x SIP/2.0\r\nl: 9\r\n\r\nhello").unwrap_err(),
            SipError::BodyTruncated {
                content_length: 9,
                available: 5,
                offset: 33
            }
        );
        // Twice the same Content-Length is fine; two different ones are not.
        assert!(
            SipMessage::parse(b"ACK sip:b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx").is_ok()
        );
        assert_eq!(
            SipMessage::parse(b"ACK sip:b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nxy")
                .unwrap_err(),
            SipError::ContentLength {
                offset: 25,
                reason: "two Content-Length headers disagree"
            }
        );
        for bad in ["-1", "1x", "", "99999999999"] {
            let data = format!("ACK sip:b SIP/2.0\r\nContent-Length: {bad}\r\n\r\n");
            assert!(
                matches!(
                    SipMessage::parse(data.as_bytes()),
                    Err(SipError::ContentLength { offset: 19, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn tolerated_forms() {
        // CRLFs before the start line, bare LF, whitespace before the colon, no empty line.
        let data = b"\r\n\r\nBYE sip:b@x SIP/2.0\nCall-ID : c1\nCSeq:  3   BYE  \n";
        let msg = SipMessage::parse(data).unwrap();
        assert_eq!(msg.method(), Some(Method::Bye));
        assert_eq!(msg.call_id(), Some("c1"));
        assert_eq!(msg.cseq().unwrap().number, 3);
        assert_eq!(msg.header_at(0).unwrap().offset(), 24);
        assert!(msg.body().is_empty());
        // Bare LF head with a body.
        let msg = SipMessage::parse(b"INFO sip:b SIP/2.0\nl: 2\n\nok").unwrap();
        assert_eq!(msg.body(), b"ok");
        // Extension methods are kept.
        let msg = SipMessage::parse(b"FOO sip:b SIP/2.0\r\n\r\n").unwrap();
        assert_eq!(msg.method(), Some(Method::Other("FOO")));
        assert_eq!(msg.method().unwrap().to_string(), "FOO");
    }

    #[test]
    fn malformed_messages_are_errors_with_offsets() {
        let cases: [(&[u8], SipError); 12] = [
            (b"", SipError::Empty),
            (b"\r\n\r\n", SipError::Empty),
            (
                b"INVITE sip:b SIP/3.0\r\n\r\n",
                SipError::StartLine {
                    offset: 0,
                    reason: "SIP version is not 2.0",
                },
            ),
            (
                b"SIP/2.0 99 Low\r\n\r\n",
                SipError::StartLine {
                    offset: 0,
                    reason: "Status-Code is not three digits 100..=699",
                },
            ),
            (
                b"\r\nHELLO\r\n\r\n",
                SipError::StartLine {
                    offset: 2,
                    reason: "not a Request-Line",
                },
            ),
            (
                b"INV(TE sip:b SIP/2.0\r\n\r\n",
                SipError::StartLine {
                    offset: 0,
                    reason: "method is not a token",
                },
            ),
            (
                b"ACK sip:b SIP/2.0\r\nno colon here\r\n\r\n",
                SipError::HeaderLine {
                    offset: 19,
                    reason: "no ':' after the header name",
                },
            ),
            (
                b"ACK sip:b SIP/2.0\r\n folded: first\r\n\r\n",
                SipError::HeaderLine {
                    offset: 19,
                    reason: "continuation line before any header",
                },
            ),
            (
                b"ACK sip:b SIP/2.0\r\nBad Name: x\r\n\r\n",
                SipError::HeaderLine {
                    offset: 19,
                    reason: "header name is not a token",
                },
            ),
            (
                b"ACK sip:b SIP/2.0\r\n: x\r\n\r\n",
                SipError::HeaderLine {
                    offset: 19,
                    reason: "header name is not a token",
                },
            ),
            (
                b"ACK sip:b SIP/2.0\r\nTo \t: <sip:b@x>\r\nName\r\n\r\n",
                SipError::HeaderLine {
                    offset: 36,
                    reason: "no ':' after the header name",
                },
            ),
            (
                b"ACK sip:b SIP/2.0\r\nX: \xff\r\n\r\n",
                SipError::NotUtf8 { offset: 22 },
            ),
        ];
        // Blanks between a name and its colon are allowed (RFC 3261 clause 7.3.1).
        let msg = SipMessage::parse(b"ACK sip:b SIP/2.0\r\nTo \t: <sip:b@x>\r\n\r\n").unwrap();
        assert_eq!(msg.header(HeaderName::To), Some("<sip:b@x>"));
        for (data, expected) in cases {
            assert_eq!(
                SipMessage::parse(data).unwrap_err(),
                expected,
                "{}",
                String::from_utf8_lossy(data)
            );
        }
        // A non-UTF-8 body is fine.
        assert!(SipMessage::parse(b"ACK sip:b SIP/2.0\r\n\r\n\xff\xfe").is_ok());
    }

    #[test]
    fn header_index_is_bounded() {
        let mut data = String::from("OPTIONS sip:b SIP/2.0\r\n");
        for i in 0..MAX_HEADERS {
            data.push_str(&format!("X-{i}: v\r\n"));
        }
        assert_eq!(
            SipMessage::parse(format!("{data}\r\n").as_bytes())
                .unwrap()
                .headers()
                .len(),
            MAX_HEADERS
        );
        let offset = data.len();
        data.push_str("X-last: v\r\n\r\n");
        assert_eq!(
            SipMessage::parse(data.as_bytes()).unwrap_err(),
            SipError::TooManyHeaders {
                max: MAX_HEADERS,
                offset
            }
        );
    }

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(r#" "A \"quoted\" <name>" <sip:a@x;lr>;tag=7 ; foo"#).unwrap();
        assert_eq!(a.display_name, Some(r#"A \"quoted\" <name>"#));
        assert_eq!(a.uri, "sip:a@x;lr");
        assert_eq!((a.tag(), a.param("FOO")), (Some("7"), Some("")));
        let b = NameAddr::parse("sip:b@y;tag=8").unwrap();
        assert_eq!(
            (b.display_name, b.uri, b.tag()),
            (None, "sip:b@y", Some("8"))
        );
        let c = NameAddr::parse("Bob Smith <tel:+1-555>").unwrap();
        assert_eq!((c.display_name, c.uri), (Some("Bob Smith"), "tel:+1-555"));
        assert!(matches!(c.parsed_uri(), Ok(Uri::Tel(_))));
        for bad in [
            "\"unterminated <sip:a@x>",
            "<sip:a@x",
            "<>",
            "",
            "\"x\" sip:a@x",
            "<sip:a@x> junk",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cseq_and_content_type_values() {
        assert_eq!(
            CSeq::parse("4711 REGISTER").unwrap(),
            CSeq {
                number: 4711,
                method: Method::Register
            }
        );
        for bad in [
            "",
            "x INVITE",
            "1",
            "1 INVITE extra",
            "99999999999 INVITE",
            "-1 BYE",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad}");
        }
        let ct = ContentType::parse(r#"multipart/mixed ; boundary="unique-boundary-1""#).unwrap();
        assert!(ct.is("Multipart", "MIXED"));
        assert_eq!(ct.boundary(), Some("unique-boundary-1"));
        assert!(ContentType::parse("application").is_err());
        assert!(ContentType::parse("/sdp").is_err());
    }

    #[test]
    fn find_byte_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut hay = vec![b'a'; len];
                hay[at] = b'\n';
                if at + 3 < len {
                    hay[at + 3] = b'\n';
                }
                assert_eq!(find_byte(&hay, b'\n'), Some(at), "{len} {at}");
                // Octets that differ from the needle only in the high bit are no match.
                hay[at] = b'\n' | 0x80;
                let expected = (at + 3 < len).then_some(at + 3);
                assert_eq!(find_byte(&hay, b'\n'), expected, "{len} {at}");
            }
            assert_eq!(find_byte(&vec![0xff; len], b'\n'), None);
        }
    }

    #[test]
    fn start_line_detection_for_resync() {
        assert!(is_start_line(b"INVITE sip:a@b SIP/2.0\r"));
        assert!(is_start_line(b"SIP/2.0 200 OK"));
        assert!(!is_start_line(b"v=0"));
        assert!(!is_start_line(b"Via: SIP/2.0/UDP x"));
        assert!(!is_start_line(b"\xff\xfe"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..1024)) {
            if let Ok(msg) = SipMessage::parse(&data) {
                exercise(&msg);
                prop_assert!(msg.len() <= data.len());
            }
        }

        #[test]
        fn mutated_invites_never_panic(
            mutations in vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut data = INVITE.as_bytes().to_vec();
            for (at, byte) in mutations {
                let i = at.index(data.len());
                data[i] = byte;
            }
            data.truncate(cut.index(data.len() + 1));
            if let Ok(msg) = SipMessage::parse(&data) {
                exercise(&msg);
                let end = msg.body_offset() + msg.body().len();
                prop_assert!(end == msg.len() && end <= data.len());
            }
        }
    }

    /// Calls every accessor (they must not panic on whatever parsed).
    pub(crate) fn exercise(msg: &SipMessage<'_>) {
        let _ = (msg.method(), msg.status(), msg.call_id(), msg.cseq());
        let _ = (
            msg.from().map(|f| f.tag()),
            msg.to().map(|t| t.parsed_uri()),
        );
        let _ = (msg.via_branch(), msg.vias().count(), msg.contacts().count());
        let _ = (
            msg.content_type().map(|c| c.boundary()),
            msg.identities().count(),
        );
        if let Some(Ok(sdp)) = msg.sdp() {
            let _ = sdp.streams().count();
        }
        for h in msg.headers() {
            let _ = (h.name(), h.is_named("Via"), split_list(h.value()).count());
        }
    }
}
