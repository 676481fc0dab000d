//! What the call data needs of a SIP message beyond its dialogue headers: the SDP body and
//! the first Contact. The receiver-side reader (`lemf::sip`) does not read bodies; this one
//! is as tolerant (LF or CRLF, compact header names) and bounded (at most [`MAX_HEADERS`]
//! header lines), and never panics.

/// Header lines looked at, at most.
const MAX_HEADERS: usize = 256;

/// The parts of a message.
#[derive(Debug, Default)]
pub(crate) struct Extras<'a> {
    /// The body, when it is an SDP.
    pub(crate) sdp: Option<&'a [u8]>,
    /// The first Contact value (`m` in compact form).
    pub(crate) contact: Option<&'a str>,
}

/// Reads the headers up to the blank line (LF or CRLF) and the body after it.
pub(crate) fn read(message: &[u8]) -> Extras<'_> {
    let mut out = Extras::default();
    let mut content_type: Option<&[u8]> = None;
    // Past the start line.
    let Some(mut rest) = next_line(message).map(|(_, rest)| rest) else {
        return out;
    };
    for _ in 0..MAX_HEADERS {
        let Some((line, after)) = next_line(rest) else {
            return out;
        };
        if line.is_empty() {
            let is_sdp = match content_type {
                Some(t) => {
                    let media = t.split(|&b| b == b';').next().unwrap_or_default();
                    media.trim_ascii().eq_ignore_ascii_case(b"application/sdp")
                }
                None => false,
            };
            if !after.is_empty() && (is_sdp || after.starts_with(b"v=")) {
                out.sdp = Some(after);
            }
            return out;
        }
        if let Some((name, value)) = split_header(line) {
            if name.eq_ignore_ascii_case(b"content-type") || name.eq_ignore_ascii_case(b"c") {
                content_type = Some(value);
            } else if (name.eq_ignore_ascii_case(b"contact") || name.eq_ignore_ascii_case(b"m"))
                && out.contact.is_none()
            {
                out.contact = std::str::from_utf8(value).ok().and_then(first_contact);
            }
        }
        rest = after;
    }
    out
}

/// The line before the first LF (its CR cut) and what follows the LF.
fn next_line(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = text.iter().position(|&b| b == b'\n')?;
    let (line, rest) = text.split_at_checked(end)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, rest.get(1..).unwrap_or_default()))
}

fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at_checked(colon)?;
    Some((
        name.trim_ascii(),
        value.get(1..).unwrap_or_default().trim_ascii(),
    ))
}

/// The first entry of a Contact list (commas inside `<...>` or quotes do not split).
fn first_contact(value: &str) -> Option<&str> {
    let (mut angle, mut quoted) = (false, false);
    let end = value
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '"' if !angle => quoted = !quoted,
                '<' if !quoted => angle = true,
                '>' if !quoted => angle = false,
                ',' if !angle && !quoted => return true,
                _ => {}
            }
            false
        })
        .map_or(value.len(), |(i, _)| i);
    let first = value.get(..end)?.trim();
    (!first.is_empty() && first != "*").then_some(first)
}
