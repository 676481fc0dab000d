//! Multipart bodies (RFC 2046 clause 5.1; in SIP, RFC 5621): finding the SDP among the
//! parts of `multipart/mixed`, `multipart/alternative` or `multipart/related` (an INVITE
//! with SDP and ISUP, or SDP and a PIDF-LO location).
//!
//! ```
//! use li_capture::sip::ContentType;
//! use li_capture::sip::multipart::find_sdp;
//!
//! let body = b"--b1\r\nContent-Type: application/isup\r\n\r\nISUP\r\n\
//!     --b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1--\r\n";
//! let content_type = ContentType::parse("multipart/mixed;boundary=b1")?;
//! assert_eq!(find_sdp(content_type, body), Some(Ok(&b"v=0\r\n"[..])));
//! # Ok::<(), li_capture::sip::SipError>(())
//! ```

use super::error::{Result, SipError};
use super::message::ContentType;
use super::uri::{split_byte, trim_lws};

/// How deep multiparts nested in multiparts are searched.
const MAX_DEPTH: usize = 3;

/// The longest boundary RFC 2046 allows.
const MAX_BOUNDARY_LEN: usize = 70;

/// The SDP in a body of type `content_type`: the body itself for `application/sdp`, the
/// first `application/sdp` part (searched depth-first, nested multiparts included) for
/// `multipart/*`; `None` for any other type or a multipart without SDP.
///
/// An `Err` is a multipart body that cannot be split (see [`parts`]) before an SDP part was
/// found; the caller then has no SDP, but knows why.
pub fn find_sdp<'a>(content_type: ContentType<'_>, body: &'a [u8]) -> Option<Result<&'a [u8]>> {
    find_sdp_at(content_type, body, 0)
}

fn find_sdp_at<'a>(
    content_type: ContentType<'_>,
    body: &'a [u8],
    depth: usize,
) -> Option<Result<&'a [u8]>> {
    if content_type.is("application", "sdp") {
        return Some(Ok(body));
    }
    if !content_type.media_type.eq_ignore_ascii_case("multipart") || depth >= MAX_DEPTH {
        return None;
    }
    let Some(boundary) = content_type.boundary() else {
        return Some(Err(SipError::Multipart {
            offset: 0,
            reason: "multipart Content-Type without a boundary parameter",
        }));
    };
    for part in parts(body, boundary) {
        let part = match part {
            Ok(part) => part,
            Err(e) => return Some(Err(e)),
        };
        let Some(part_type) = part.content_type() else {
            continue;
        };
        if let Some(found) = find_sdp_at(part_type, part.body, depth + 1) {
            return Some(found);
        }
    }
    None
}

/// One body part of a multipart body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyPart<'a> {
    /// The part's header lines (possibly empty), as text; `None` if they are not UTF-8.
    pub headers: Option<&'a str>,
    /// The part's body.
    pub body: &'a [u8],
    /// Offset of the part (its first header line) in the multipart body.
    pub offset: usize,
}

impl<'a> BodyPart<'a> {
    /// The part's Content-Type (`text/plain` is the default of RFC 2046 clause 5.1, and
    /// is not made up here: `None` if absent or malformed).
    pub fn content_type(&self) -> Option<ContentType<'a>> {
        self.header("Content-Type")
            .and_then(|v| ContentType::parse(v).ok())
    }

    /// The value of the part header `name` (case-insensitive; folded lines not joined).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers?.lines().find_map(|line| {
            let (n, v) = split_byte(line, b':')?;
            trim_lws(n).eq_ignore_ascii_case(name).then(|| trim_lws(v))
        })
    }
}

/// The body parts of a multipart body with boundary `boundary`: the preamble before the
/// first delimiter and the epilogue after the closing one are skipped. Each part is
/// delimited by `CRLF--boundary` (a bare LF tolerated). Yields an error, then stops, if no
/// delimiter is found or the boundary is longer than 70 characters; a missing closing
/// delimiter is tolerated (the last part runs to the end).
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Parts<'a> {
    let mut delimiter = [0u8; MAX_BOUNDARY_LEN + 2];
    let ok = boundary.len() <= MAX_BOUNDARY_LEN && !boundary.is_empty();
    if ok {
        for (slot, b) in delimiter
            .iter_mut()
            .zip(b"--".iter().chain(boundary.as_bytes()))
        {
            *slot = *b;
        }
    }
    Parts {
        body,
        delimiter,
        delimiter_len: if ok { boundary.len() + 2 } else { 0 },
        pos: None,
        done: false,
    }
}

/// Iterator over the parts of a multipart body; see [`parts`].
#[derive(Clone, Debug)]
pub struct Parts<'a> {
    body: &'a [u8],
    delimiter: [u8; MAX_BOUNDARY_LEN + 2],
    delimiter_len: usize,
    /// Offset just after the last delimiter found; `None` before the first.
    pos: Option<usize>,
    done: bool,
}

impl<'a> Parts<'a> {
    fn delimiter(&self) -> &[u8] {
        self.delimiter.get(..self.delimiter_len).unwrap_or_default()
    }

    /// The next delimiter at the start of a line at or after `from`: (start of the line
    /// break before it, or of the delimiter at offset 0; offset after the delimiter).
    fn find_delimiter(&self, from: usize) -> Option<(usize, usize)> {
        let delimiter = self.delimiter();
        let first = *delimiter.first()?;
        let mut i = from;
        while let Some(pos) = self.body.get(i..)?.iter().position(|&b| b == first) {
            let at = i + pos;
            let line_start = at == 0 || self.body.get(at - 1) == Some(&b'\n');
            if line_start && self.body.get(at..)?.starts_with(delimiter) {
                let before = if at == 0 {
                    0
                } else if at >= 2 && self.body.get(at - 2) == Some(&b'\r') {
                    at - 2
                } else {
                    at - 1
                };
                return Some((before, at + delimiter.len()));
            }
            i = at + 1;
        }
        None
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = Result<BodyPart<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.delimiter_len == 0 {
            self.done = true;
            return Some(Err(SipError::Multipart {
                offset: 0,
                reason: "boundary is empty or longer than 70 characters",
            }));
        }
        let after = match self.pos {
            Some(after) => after,
            None => match self.find_delimiter(0) {
                Some((_, after)) => after,
                None => {
                    self.done = true;
                    return Some(Err(SipError::Multipart {
                        offset: 0,
                        reason: "the boundary does not occur in the body",
                    }));
                }
            },
        };
        // "--" right after the delimiter closes the multipart.
        let rest = self.body.get(after..).unwrap_or_default();
        if rest.starts_with(b"--") {
            self.done = true;
            return None;
        }
        // The rest of the delimiter line (transport padding) is ignored.
        let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
            self.done = true;
            return None;
        };
        let start = after + eol + 1;
        let (end, next) = match self.find_delimiter(start) {
            Some(found) => found,
            None => (self.body.len(), self.body.len()),
        };
        self.pos = Some(next);
        if next == self.body.len() && end == next {
            self.done = true;
        }
        let part = self.body.get(start..end.max(start)).unwrap_or_default();
        // Part headers end at the first empty line; a part starting with one has none.
        let (headers, body) = if part.starts_with(b"\r\n") {
            (&b""[..], part.get(2..).unwrap_or_default())
        } else if part.starts_with(b"\n") {
            (&b""[..], part.get(1..).unwrap_or_default())
        } else {
            match super::message::head_end(part) {
                Some((head_len, body_start)) => (
                    part.get(..head_len).unwrap_or_default(),
                    part.get(body_start..).unwrap_or_default(),
                ),
                None => (part, &b""[..]),
            }
        };
        Some(Ok(BodyPart {
            headers: std::str::from_utf8(headers).ok(),
            body,
            offset: start,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::SipMessage;

    fn ct(text: &str) -> ContentType<'_> {
        ContentType::parse(text).unwrap()
    }

    const SDP: &[u8] = b"v=0\r\nc=IN IP4 192.0.2.9\r\nm=audio 4000 RTP/AVP 0\r\n";

    #[test]
    fn sdp_in_mixed_with_preamble_and_epilogue() {
        let body = [
            &b"preamble, ignored\r\n--sep\r\nContent-Type: application/ISUP;version=itu-t92+\r\n\
               Content-Disposition: signal;handling=optional\r\n\r\n\x01\x00\x49\r\n\
               --sep\r\ncontent-type: Application/SDP\r\n\r\n"[..],
            SDP,
            b"\r\n--sep--\r\nepilogue",
        ]
        .concat();
        let found = find_sdp(ct("multipart/mixed;boundary=\"sep\""), &body);
        assert_eq!(found, Some(Ok(SDP)));
        let all: Vec<_> = parts(&body, "sep").map(Result::unwrap).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].body, b"\x01\x00\x49");
        assert_eq!(
            all[0].header("content-disposition"),
            Some("signal;handling=optional")
        );
        assert!(all[0].content_type().unwrap().is("application", "isup"));
    }

    #[test]
    fn nested_alternative_lf_only_and_no_headers() {
        let inner = [&b"--in\nContent-Type: text/plain\n\nhello\n--in\nContent-Type: application/sdp\n\n"[..], SDP, b"\n--in--\n"].concat();
        let body = [
            &b"--out\r\n\r\nno headers at all\r\n--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n"[..],
            &inner,
            b"\r\n--out--",
        ]
        .concat();
        assert_eq!(
            find_sdp(ct("multipart/related;boundary=out"), &body),
            Some(Ok(SDP))
        );
        let first = parts(&body, "out").next().unwrap().unwrap();
        assert_eq!(
            (first.headers, first.body),
            (Some(""), &b"no headers at all"[..])
        );
        assert_eq!(first.content_type(), None);
    }

    #[test]
    fn no_sdp_and_broken_multiparts() {
        assert_eq!(find_sdp(ct("text/plain"), b"v=0"), None);
        assert_eq!(
            find_sdp(
                ct("multipart/mixed;boundary=b"),
                b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"
            ),
            None
        );
        assert_eq!(
            find_sdp(ct("multipart/mixed"), b"--b\r\n"),
            Some(Err(SipError::Multipart {
                offset: 0,
                reason: "multipart Content-Type without a boundary parameter"
            }))
        );
        assert_eq!(
            find_sdp(ct("multipart/mixed;boundary=zz"), b"--b\r\n\r\nv=0"),
            Some(Err(SipError::Multipart {
                offset: 0,
                reason: "the boundary does not occur in the body"
            }))
        );
        let long = "b".repeat(71);
        assert!(parts(b"", &long).next().unwrap().is_err());
        // The boundary must start a line: "x--b" is not a delimiter.
        assert!(parts(b"x--b\r\n", "b").next().unwrap().is_err());
        // No closing delimiter: the last part runs to the end.
        let body = [&b"--b\r\nContent-Type: application/sdp\r\n\r\n"[..], SDP].concat();
        assert_eq!(
            find_sdp(ct("multipart/mixed;boundary=b"), &body),
            Some(Ok(SDP))
        );
    }

    #[test]
    fn message_sdp_through_multipart() {
        let body = [
            &b"--x\r\nContent-Type: application/sdp\r\n\r\n"[..],
            SDP,
            b"\r\n--x--\r\n",
        ]
        .concat();
        let head = format!(
            "INVITE sip:b@x SIP/2.0\r\nContent-Type: multipart/mixed;boundary=x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let data = [head.as_bytes(), &body].concat();
        let msg = SipMessage::parse(&data).unwrap();
        let sdp = msg.sdp().unwrap().unwrap();
        assert_eq!(
            sdp.streams().next().unwrap().rtp,
            Some("192.0.2.9:4000".parse().unwrap())
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        // Level i has boundary "b" + letter i; the SDP is in the innermost.
        let boundary = |i: usize| format!("b{}", char::from(b'a' + i as u8));
        let nest = |levels: usize| {
            let mut body = [
                format!(
                    "--{}\r\nContent-Type: application/sdp\r\n\r\n",
                    boundary(levels)
                )
                .as_bytes(),
                SDP,
            ]
            .concat();
            for i in (0..levels).rev() {
                let head = format!(
                    "--{}\r\nContent-Type: multipart/mixed;boundary={}\r\n\r\n",
                    boundary(i),
                    boundary(i + 1)
                );
                body = [head.as_bytes(), &body].concat();
            }
            body
        };
        let body = nest(MAX_DEPTH - 1);
        assert_eq!(
            find_sdp(ct("multipart/mixed;boundary=ba"), &body),
            Some(Ok(SDP))
        );
        // One level deeper is not searched.
        let body = nest(MAX_DEPTH);
        assert_eq!(find_sdp(ct("multipart/mixed;boundary=ba"), &body), None);
    }
}
