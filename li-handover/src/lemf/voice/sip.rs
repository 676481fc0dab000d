//! Just enough of a SIP message for the call ladder: the start line and the `From`, `To`,
//! `Call-ID` and `CSeq` headers (RFC 3261 clauses 7 and 20).
//!
//! The agency side reads what the mediator delivered verbatim, which may be anything: the
//! reader is tolerant (LF or CRLF line ends, header names in any case, the compact forms
//! `f`, `t`, `i`, folded continuation lines) and bounded (only the first [`MAX_HEAD`]
//! octets and [`MAX_HEADERS`] header lines are looked at; a value is cut at
//! [`MAX_VALUE`] characters). It never panics, and a message whose start line is neither a
//! request nor a response is an error naming what is wrong. The body is not read. The
//! first `Via` (`v`) is kept too: `SIPMessage` carries addresses without ports, and the top
//! Via's sent-by is where the request's sender takes responses. The
//! capture side has a full SIP parser; the receiver does not depend on the capture crate.

/// Octets of a message looked at, at most.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Header lines looked at, at most.
pub(crate) const MAX_HEADERS: usize = 256;
/// Characters kept of a header value or reason phrase.
pub(crate) const MAX_VALUE: usize = 1024;

/// The start line of a SIP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StartLine {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        /// The method (`INVITE`, ...), as written.
        method: String,
        /// The Request-URI, as written.
        uri: String,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        /// The status code.
        code: u16,
        /// The reason phrase (possibly empty).
        reason: String,
    },
}

/// What the ladder shows of one SIP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SipHead {
    pub(crate) start: StartLine,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) call_id: Option<String>,
    pub(crate) cseq: Option<String>,
    /// The first `Via` header's value (the first entry of a comma-separated list included).
    pub(crate) via: Option<String>,
}

/// Why a message is not read as SIP.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SipError {
    /// The message is empty.
    #[error("empty SIP message")]
    Empty,
    /// The first line is neither a request line nor a status line.
    #[error("SIP start line is neither a request nor a status line: {line:?}")]
    StartLine {
        /// The line (cut, lossy UTF-8).
        line: String,
    },
}

/// Reads the start line and the ladder's headers of `message`.
pub(crate) fn parse(message: &[u8]) -> Result<SipHead, SipError> {
    let head = message.get(..MAX_HEAD).unwrap_or(message);
    let mut lines = head.split(|&b| b == b'\n').map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        String::from_utf8_lossy(line)
    });
    if message.is_empty() {
        return Err(SipError::Empty);
    }
    let first = lines.next().unwrap_or_default();
    let start = start_line(&first).ok_or_else(|| SipError::StartLine {
        line: cut(first.trim_end()),
    })?;
    let mut out = SipHead {
        start,
        from: None,
        to: None,
        call_id: None,
        cseq: None,
        via: None,
    };
    // The header being read: which field, and its value so far.
    let mut current: Option<(Field, String)> = None;
    for line in lines.take(MAX_HEADERS) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A folded line continues the header before it (RFC 3261 clause 7.3.1).
            if let Some((_, value)) = &mut current {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((field, value)) = current.take() {
            out.set(field, value);
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let Some(field) = Field::of(name.trim()) {
            current = Some((field, value.trim().to_owned()));
        }
    }
    if let Some((field, value)) = current.take() {
        out.set(field, value);
    }
    Ok(out)
}

fn start_line(line: &str) -> Option<StartLine> {
    let line = line.trim();
    if let Some(rest) = strip_version(line) {
        // Status-Line: SIP/2.0 200 OK
        let rest = rest.trim_start();
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let code: u16 = code.parse().ok()?;
        return Some(StartLine::Response {
            code,
            reason: cut(reason.trim()),
        });
    }
    // Request-Line: INVITE sip:bob@example.net SIP/2.0
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let method = parts.next()?;
    let uri = parts.next()?;
    let version = parts.next()?;
    let token = |c: char| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c);
    if parts.next().is_some() || strip_version(version) != Some("") || !method.chars().all(token) {
        return None;
    }
    Some(StartLine::Request {
        method: cut(method),
        uri: cut(uri),
    })
}

/// The rest of `text` after a leading `SIP/2.0` (any case).
fn strip_version(text: &str) -> Option<&str> {
    let (version, rest) = text.split_at_checked(7)?;
    version.eq_ignore_ascii_case("SIP/2.0").then_some(rest)
}

/// `text` cut at [`MAX_VALUE`] characters.
fn cut(text: &str) -> String {
    text.chars().take(MAX_VALUE).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    From,
    To,
    CallId,
    CSeq,
    Via,
}

impl Field {
    fn of(name: &str) -> Option<Self> {
        let is = |long: &str| name.eq_ignore_ascii_case(long);
        if is("from") || is("f") {
            Some(Self::From)
        } else if is("to") || is("t") {
            Some(Self::To)
        } else if is("call-id") || is("i") {
            Some(Self::CallId)
        } else if is("cseq") {
            Some(Self::CSeq)
        } else if is("via") || is("v") {
            Some(Self::Via)
        } else {
            None
        }
    }
}

impl SipHead {
    /// Keeps the first occurrence of each header.
    fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::From => &mut self.from,
            Field::To => &mut self.to,
            Field::CallId => &mut self.call_id,
            Field::CSeq => &mut self.cseq,
            Field::Via => &mut self.via,
        };
        if slot.is_none() {
            *slot = Some(cut(&value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_request_with_compact_and_folded_headers() {
        let msg = b"INVITE sip:bob@example.net SIP/2.0\r\n\
            Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n\
            f: \"Alice\" <sip:alice@example.com>;tag=1\r\n\
            TO: <sip:bob@example.net>\r\n\
            i: abc@192.0.2.10\r\n\
            cseq: 1\r\n INVITE\r\n\
            Content-Length: 0\r\n\r\nFrom: body is not read\r\n";
        let head = parse(msg).unwrap();
        assert_eq!(
            head.start,
            StartLine::Request {
                method: "INVITE".into(),
                uri: "sip:bob@example.net".into()
            }
        );
        assert_eq!(
            head.from.as_deref(),
            Some("\"Alice\" <sip:alice@example.com>;tag=1")
        );
        assert_eq!(head.to.as_deref(), Some("<sip:bob@example.net>"));
        assert_eq!(head.call_id.as_deref(), Some("abc@192.0.2.10"));
        assert_eq!(head.cseq.as_deref(), Some("1 INVITE"));
        assert_eq!(
            head.via.as_deref(),
            Some("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1")
        );
    }

    #[test]
    fn a_response_with_lf_line_ends() {
        let head = parse(b"SIP/2.0 486 Busy Here\nCall-ID: x\nCSeq: 1 INVITE\n\n").unwrap();
        assert_eq!(
            head.start,
            StartLine::Response {
                code: 486,
                reason: "Busy Here".into()
            }
        );
        assert_eq!(head.call_id.as_deref(), Some("x"));
        assert_eq!(head.from, None);
    }

    #[test]
    fn what_is_not_sip_is_named() {
        assert_eq!(parse(b""), Err(SipError::Empty));
        for bad in [
            &b"\x00\x01garbage"[..],
            b"SIP/2.0 20 OK\r\n",
            b"INVITE sip:x SIP/3.0\r\n",
            b"INVITE\r\n",
            b"IN(VITE sip:x SIP/2.0\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(SipError::StartLine { .. })),
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_values_are_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(head) = parse(&bytes) {
                for v in [&head.from, &head.to, &head.call_id, &head.cseq].into_iter().flatten() {
                    prop_assert!(v.chars().count() <= MAX_VALUE);
                }
            }
        }

        #[test]
        fn any_header_text_after_a_valid_start_line_is_read(tail in "[ -~\r\n\t]{0,300}") {
            let mut msg = b"BYE sip:x@y SIP/2.0\r\n".to_vec();
            msg.extend_from_slice(tail.as_bytes());
            prop_assert!(parse(&msg).is_ok());
        }
    }
}
