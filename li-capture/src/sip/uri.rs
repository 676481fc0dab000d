//! SIP, SIPS and tel URIs (RFC 3261 clause 19.1, RFC 3966), E.164 normalisation, and the
//! small header-value helpers (lists, parameters, quotes) the other modules share.
//!
//! Parsing borrows from the text; nothing is decoded until compared. Identity comparison
//! follows RFC 3261 clause 19.1.4 for what identifies a user, and deliberately not more:
//!
//! - the user part is compared case-sensitively after percent-decoding (`%61lice` is
//!   `alice`);
//! - the host is compared case-insensitively; an IPv6 reference is compared as an address
//!   (`[2001:DB8:0::1]` is `[2001:db8::1]`);
//! - a port is compared only if the target names one (a message's missing port is then the
//!   scheme's default, 5060 or 5061);
//! - URI parameters and headers are ignored, passwords too;
//! - `sip` and `sips` are the same identity: RFC 3261 says the URIs are never equivalent,
//!   but an interception must not be evaded by choosing TLS.
//!
//! A telephone number is a global number (`+` and 1..=15 digits, visual separators `-`, `.`,
//! `(`, `)` and spaces removed: RFC 3966 clause 5.1.1, ITU-T E.164) in a `tel:` URI or in the
//! user part of a SIP URI (`sip:+49-30-1234@host;user=phone`; `user=phone` is not required,
//! since many user agents omit it). Local numbers (no `+`) have no global meaning without
//! their context and are never numbers here.

use std::fmt;
use std::io::Write as _;
use std::net::Ipv6Addr;

use super::error::{Result, SipError};

/// A parsed URI as found in SIP headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uri<'a> {
    /// A `sip:` or `sips:` URI.
    Sip(SipUriRef<'a>),
    /// A `tel:` URI.
    Tel(TelUri<'a>),
    /// Any other scheme (`urn:`, `mailto:`, ...): kept, not interpreted.
    Other {
        /// The scheme, as written.
        scheme: &'a str,
        /// Everything after the scheme's `:`.
        rest: &'a str,
    },
}

impl<'a> Uri<'a> {
    /// Parses a URI (surrounding whitespace ignored). Fails with [`SipError::InvalidUri`]
    /// if there is no scheme or a SIP/tel URI is malformed.
    ///
    /// ```
    /// use li_capture::sip::Uri;
    ///
    /// let Uri::Sip(uri) = Uri::parse("sips:%61lice@EXAMPLE.com:5061;transport=tcp")? else {
    ///     unreachable!()
    /// };
    /// assert_eq!(uri.user(), Some("%61lice"));
    /// assert_eq!(uri.host(), "EXAMPLE.com");
    /// assert_eq!(uri.port(), Some(5061));
    /// assert_eq!(uri.param("transport"), Some("tcp"));
    ///
    /// let Uri::Tel(tel) = Uri::parse("tel:+49-30-1234;phone-context=x")? else {
    ///     unreachable!()
    /// };
    /// assert_eq!(tel.global_number().unwrap().as_str(), "49301234");
    /// # Ok::<(), li_capture::sip::SipError>(())
    /// ```
    pub fn parse(text: &'a str) -> Result<Self> {
        let text = trim_lws(text);
        let colon = find_byte(text.as_bytes(), b':').ok_or(SipError::InvalidUri {
            offset: 0,
            reason: "no scheme",
        })?;
        let scheme = text.get(..colon).unwrap_or_default();
        let rest = text.get(colon + 1..).unwrap_or_default();
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Err(SipError::InvalidUri {
                offset: 0,
                reason: "scheme is not a URI scheme",
            });
        }
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            SipUriRef::parse_rest(scheme.len() == 4, rest, colon + 1).map(Self::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_rest(rest, colon + 1).map(Self::Tel)
        } else {
            Ok(Self::Other { scheme, rest })
        }
    }

    /// The global telephone number this URI names, if any: a `tel:` URI with a global
    /// number, or a SIP URI whose user part is one (see the [module docs](self)).
    pub fn global_number(&self) -> Option<GlobalNumber> {
        match self {
            Self::Sip(sip) => sip.global_number(),
            Self::Tel(tel) => tel.global_number(),
            Self::Other { .. } => None,
        }
    }
}

/// A `sip:` or `sips:` URI (RFC 3261 clause 19.1.1), borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipUriRef<'a> {
    secure: bool,
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
    params: &'a str,
    headers: &'a str,
}

impl<'a> SipUriRef<'a> {
    /// Parses a `sip:` or `sips:` URI; any other scheme is an error.
    pub fn parse(text: &'a str) -> Result<Self> {
        match Uri::parse(text)? {
            Uri::Sip(uri) => Ok(uri),
            _ => Err(SipError::InvalidUri {
                offset: 0,
                reason: "scheme is not sip or sips",
            }),
        }
    }

    fn parse_rest(secure: bool, rest: &'a str, base: usize) -> Result<Self> {
        let bad = |offset, reason| SipError::InvalidUri { offset, reason };
        // The user part ends at the first '@' (an '@' in the user part must be escaped).
        let (userinfo, host_part, host_base) = match split_byte(rest, b'@') {
            Some((u, h)) => (Some(u), h, base + u.len() + 1),
            None => (None, rest, base),
        };
        let (user, password) = match userinfo {
            Some(u) => match split_byte(u, b':') {
                Some((u, p)) => (Some(u), Some(p)),
                None => (Some(u), None),
            },
            None => (None, None),
        };
        if user == Some("") {
            return Err(bad(base, "user part before '@' is empty"));
        }
        let (before_headers, headers) = split_byte(host_part, b'?').unwrap_or((host_part, ""));
        let (host_port, params) = split_byte(before_headers, b';').unwrap_or((before_headers, ""));
        let (host, port) = if host_port.starts_with('[') {
            let close = host_port
                .find(']')
                .ok_or(bad(host_base, "IPv6 reference without ']'"))?;
            let (host, after) = host_port
                .split_at_checked(close + 1)
                .unwrap_or((host_port, ""));
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or(bad(host_base + close + 1, "text after the IPv6 reference"))?,
                    ),
                ),
            }
        } else {
            match split_byte(host_port, b':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(bad(host_base, "empty host"));
        }
        let host_ok = host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
        });
        if !host_ok {
            return Err(bad(host_base, "host is not a host name or address"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                Some(p)
                    .filter(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or(bad(host_base + host.len() + 1, "port is not 0..=65535"))?,
            ),
        };
        Ok(Self {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// Whether the scheme is `sips`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The user part as written (percent-escapes kept), without password; `None` if the URI
    /// has no `@`.
    pub fn user(&self) -> Option<&'a str> {
        self.user
    }

    /// The password after `user:` (deprecated by RFC 3261 clause 19.1.1), if any.
    pub fn password(&self) -> Option<&'a str> {
        self.password
    }

    /// The host as written (an IPv6 reference keeps its brackets).
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// The port, if written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The URI parameters, without the first `;`.
    pub fn params(&self) -> &'a str {
        self.params
    }

    /// The headers after `?`, if any.
    pub fn headers(&self) -> &'a str {
        self.headers
    }

    /// The value of URI parameter `name` (case-insensitive name); `Some("")` for a parameter
    /// without value.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        param_value(self.params, name)
    }

    /// The global number in the user part (its `;`-parameters such as `isub` dropped), if
    /// the user part is one.
    pub fn global_number(&self) -> Option<GlobalNumber> {
        // Most users are names, not `+` numbers: no scan for a `;` then.
        let user = self.user.filter(|u| u.starts_with('+'))?;
        let number = split_byte(user, b';').map_or(user, |(n, _)| n);
        GlobalNumber::parse(number)
    }

    /// Whether `self`, as a target, names the identity `candidate` under the rules of the
    /// [module docs](self).
    ///
    /// ```
    /// use li_capture::sip::SipUriRef;
    ///
    /// let target = SipUriRef::parse("sip:alice@example.com")?;
    /// assert!(target.identifies(&SipUriRef::parse("sips:%61lice@Example.COM:5070;lr")?));
    /// assert!(!target.identifies(&SipUriRef::parse("sip:Alice@example.com")?));
    /// let with_port = SipUriRef::parse("sip:alice@example.com:5070")?;
    /// assert!(!with_port.identifies(&SipUriRef::parse("sip:alice@example.com")?));
    /// # Ok::<(), li_capture::sip::SipError>(())
    /// ```
    pub fn identifies(&self, candidate: &SipUriRef<'_>) -> bool {
        let (mut a, mut b) = (KeyBuf::new(), KeyBuf::new());
        let same = write_sip_key(self.user, self.host, &mut a)
            && write_sip_key(candidate.user, candidate.host, &mut b)
            && a.as_bytes() == b.as_bytes();
        same && self.port.is_none_or(|p| candidate.effective_port() == p)
    }

    /// The port, or the scheme's default (5060, or 5061 for `sips`).
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.secure { 5061 } else { 5060 })
    }
}

/// A `tel:` URI (RFC 3966), borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelUri<'a> {
    /// The number as written (global `+...` or local).
    pub number: &'a str,
    /// The parameters, without the first `;`.
    pub params: &'a str,
}

impl<'a> TelUri<'a> {
    fn parse_rest(rest: &'a str, base: usize) -> Result<Self> {
        let (number, params) = split_byte(rest, b';').unwrap_or((rest, ""));
        if number.is_empty() {
            return Err(SipError::InvalidUri {
                offset: base,
                reason: "empty telephone number",
            });
        }
        Ok(Self { number, params })
    }

    /// The number, if it is a global one.
    pub fn global_number(&self) -> Option<GlobalNumber> {
        GlobalNumber::parse(self.number)
    }
}

/// A global E.164 number normalised to its digits (at most 15), held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalNumber {
    digits: [u8; 15],
    len: u8,
}

impl GlobalNumber {
    /// Normalises `+` followed by 1..=15 digits and visual separators (`-`, `.`, `(`, `)`,
    /// space); `None` for anything else.
    ///
    /// ```
    /// use li_capture::sip::GlobalNumber;
    ///
    /// assert_eq!(GlobalNumber::parse("+49 (30) 123-45.6").unwrap().as_str(), "4930123456");
    /// assert!(GlobalNumber::parse("030123456").is_none()); // local: no '+'
    /// assert!(GlobalNumber::parse("+").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('+')?;
        let mut out = Self {
            digits: [0; 15],
            len: 0,
        };
        for b in rest.bytes() {
            match b {
                b'0'..=b'9' => {
                    *out.digits.get_mut(usize::from(out.len))? = b;
                    out.len += 1;
                }
                b'-' | b'.' | b'(' | b')' | b' ' => {}
                _ => return None,
            }
        }
        (out.len > 0).then_some(out)
    }

    /// The digits, without `+`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are stored.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The digits as octets.
    pub fn as_bytes(&self) -> &[u8] {
        self.digits.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl fmt::Debug for GlobalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GlobalNumber(+{})", self.as_str())
    }
}

impl fmt::Display for GlobalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.as_str())
    }
}

/// A fixed-capacity buffer for normalised identity keys (no allocation on the hot path).
pub(crate) struct KeyBuf {
    buf: [u8; KeyBuf::CAPACITY],
    len: usize,
}

impl KeyBuf {
    /// Larger than any SIP URI target (`li_core::SipUri::MAX_LEN`).
    pub(crate) const CAPACITY: usize = 1100;

    pub(crate) fn new() -> Self {
        Self {
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    #[must_use]
    pub(crate) fn push(&mut self, b: u8) -> bool {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    #[must_use]
    pub(crate) fn extend(&mut self, bytes: &[u8]) -> bool {
        self.extend_map(bytes, |b| b)
    }

    /// Appends `bytes` in ASCII lowercase.
    #[must_use]
    pub(crate) fn extend_lowercase(&mut self, bytes: &[u8]) -> bool {
        self.extend_map(bytes, |b| b.to_ascii_lowercase())
    }

    /// Appends `bytes`, each mapped by `f`.
    #[must_use]
    fn extend_map(&mut self, bytes: &[u8], f: impl Fn(u8) -> u8) -> bool {
        let Some(dest) = self.buf.get_mut(self.len..self.len + bytes.len()) else {
            return false;
        };
        for (d, &b) in dest.iter_mut().zip(bytes) {
            *d = f(b);
        }
        self.len += bytes.len();
        true
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Writes the identity key of a SIP URI: `S`, the percent-decoded user, `@`, the host in
/// lowercase (an IPv6 reference in RFC 5952 form). `false` if it does not fit.
#[must_use]
pub(crate) fn write_sip_key(user: Option<&str>, host: &str, out: &mut KeyBuf) -> bool {
    out.clear();
    if !out.push(b'S') {
        return false;
    }
    if let Some(user) = user.filter(|u| find_byte(u.as_bytes(), b'%').is_none()) {
        if !out.extend(user.as_bytes()) {
            return false;
        }
    } else if let Some(user) = user {
        let mut bytes = user.bytes();
        while let Some(b) = bytes.next() {
            let b = if b == b'%' {
                let mut ahead = bytes.clone();
                match (ahead.next().and_then(hex), ahead.next().and_then(hex)) {
                    (Some(h), Some(l)) => {
                        bytes = ahead;
                        h << 4 | l
                    }
                    _ => b,
                }
            } else {
                b
            };
            if !out.push(b) {
                return false;
            }
        }
    }
    if !out.push(b'@') {
        return false;
    }
    if let Some(v6) = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
    {
        let start = out.len;
        let mut cursor = std::io::Cursor::new(out.buf.get_mut(start..).unwrap_or_default());
        if write!(cursor, "[{v6}]").is_err() {
            return false;
        }
        out.len = start + usize::try_from(cursor.position()).unwrap_or(usize::MAX);
        return out.len <= KeyBuf::CAPACITY;
    }
    out.extend_map(host.as_bytes(), |b| b.to_ascii_lowercase())
}

/// Writes the key of a global number: `E` and the digits.
#[must_use]
pub(crate) fn write_number_key(number: &GlobalNumber, out: &mut KeyBuf) -> bool {
    out.clear();
    out.push(b'E') && out.extend(number.as_bytes())
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The position of the first `needle` in `haystack`, eight octets at a time.
#[inline]
pub(crate) fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let repeated = LO.wrapping_mul(u64::from(needle));
    // The index of the first zero octet of `x ^ repeated`: the classic "has zero byte"
    // test, whose lowest set bit is exact (a borrow only spoils the octets above a zero).
    let first = |word: [u8; 8]| {
        let x = u64::from_le_bytes(word) ^ repeated;
        let found = x.wrapping_sub(LO) & !x & HI;
        (found != 0).then_some((found.trailing_zeros() / 8) as usize)
    };
    let mut chunks = haystack.chunks_exact(8);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if let Some(i) = first(word) {
            return Some(base + i);
        }
        base += 8;
    }
    // The last octets, padded with octets that do not match.
    let mut word = [!needle; 8];
    for (w, b) in word.iter_mut().zip(chunks.remainder()) {
        *w = *b;
    }
    first(word).map(|i| base + i)
}

/// `s.split_once(c)` for an ASCII `c` (the `char` pattern is several times slower).
#[inline]
pub(crate) fn split_byte(s: &str, c: u8) -> Option<(&str, &str)> {
    let i = find_byte(s.as_bytes(), c)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Removes linear whitespace (spaces, tabs and the line breaks of folded header lines) at
/// both ends.
pub(crate) fn trim_lws(s: &str) -> &str {
    let is_lws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    let Some(start) = bytes.iter().position(|b| !is_lws(b)) else {
        return "";
    };
    let end = bytes
        .iter()
        .rposition(|b| !is_lws(b))
        .map_or(start, |e| e + 1);
    // Both ends are next to ASCII octets, so on character boundaries.
    s.get(start..end).unwrap_or_default()
}

/// Removes the surrounding double quotes of a quoted string, if any (escapes left as
/// written).
pub(crate) fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Splits a header value holding a comma-separated list (Via, Contact, P-Asserted-Identity,
/// Diversion, History-Info, ...) into its elements: commas inside quoted strings and
/// angle brackets do not split. Elements are trimmed; empty ones are skipped.
///
/// ```
/// use li_capture::sip::split_list;
///
/// let v: Vec<_> = split_list(r#""Doe, J." <sip:j@a.example;x=1,2>, <tel:+1234> "#).collect();
/// assert_eq!(v, [r#""Doe, J." <sip:j@a.example;x=1,2>"#, "<tel:+1234>"]);
/// ```
pub fn split_list(value: &str) -> ListValues<'_> {
    ListValues(Splitter::new(value, b','))
}

/// The elements of a comma-separated header value; see [`split_list`].
#[derive(Clone, Debug)]
pub struct ListValues<'a>(Splitter<'a>);

impl<'a> Iterator for ListValues<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.0.by_ref().map(trim_lws).find(|s| !s.is_empty())
    }
}

/// The value of parameter `name` in `a=1;b;c="x"` (case-insensitive names, quotes removed,
/// `Some("")` for a parameter without value).
pub(crate) fn param_value<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    Splitter::new(params, b';').find_map(|p| {
        let p = trim_lws(p);
        let (n, v) = split_byte(p, b'=').unwrap_or((p, ""));
        trim_lws(n)
            .eq_ignore_ascii_case(name)
            .then(|| unquote(trim_lws(v)))
    })
}

/// Splits on `sep` outside quoted strings and angle brackets.
#[derive(Clone, Debug)]
struct Splitter<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Splitter<'a> {
    fn new(s: &'a str, sep: u8) -> Self {
        Self { rest: Some(s), sep }
    }
}

impl<'a> Iterator for Splitter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let (mut quoted, mut escaped, mut angle) = (false, false, false);
        for (i, b) in s.bytes().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b'<' if !quoted => angle = true,
                b'>' if !quoted => angle = false,
                _ if b == self.sep && !quoted && !angle => {
                    self.rest = s.get(i + 1..);
                    return s.get(..i);
                }
                _ => {}
            }
        }
        self.rest = None;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(text: &str) -> SipUriRef<'_> {
        SipUriRef::parse(text).unwrap()
    }

    #[test]
    fn sip_uri_parts() {
        let u = sip("sips:alice:secret@[2001:DB8::1]:5061;transport=tcp;lr?subject=x%40y");
        assert!(u.is_secure());
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("secret"));
        assert_eq!(u.host(), "[2001:DB8::1]");
        assert_eq!(u.port(), Some(5061));
        assert_eq!(u.params(), "transport=tcp;lr");
        assert_eq!(
            (u.param("LR"), u.param("transport")),
            (Some(""), Some("tcp"))
        );
        assert_eq!(u.headers(), "subject=x%40y");
        let u = sip("SIP:example.com");
        assert!(!u.is_secure());
        assert_eq!((u.user(), u.host(), u.port()), (None, "example.com", None));
        assert_eq!(u.effective_port(), 5060);
        assert_eq!(sip("sips:h").effective_port(), 5061);
        // A user part may hold ';' and '?' (user-unreserved).
        let u = sip("sip:+4930123;isub=77@gw.example;user=phone");
        assert_eq!(u.user(), Some("+4930123;isub=77"));
        assert_eq!(u.global_number().unwrap().as_str(), "4930123");
    }

    #[test]
    fn malformed_uris() {
        let cases = [
            ("alice@example.com", 0, "no scheme"),
            ("1sip:a@b", 0, "scheme is not a URI scheme"),
            ("sip:@example.com", 4, "user part before '@' is empty"),
            ("sip:alice@", 10, "empty host"),
            ("sip:alice@;lr", 10, "empty host"),
            ("sip:a@[2001:db8::1", 6, "IPv6 reference without ']'"),
            ("sip:a@[::1]x", 11, "text after the IPv6 reference"),
            (
                "sip:a@exa mple.com",
                6,
                "host is not a host name or address",
            ),
            ("sip:a@h:65536", 8, "port is not 0..=65535"),
            ("sip:a@h:", 8, "port is not 0..=65535"),
            ("tel:;x=1", 4, "empty telephone number"),
        ];
        for (text, offset, reason) in cases {
            assert_eq!(
                Uri::parse(text).unwrap_err(),
                SipError::InvalidUri { offset, reason },
                "{text}"
            );
        }
        assert!(SipUriRef::parse("tel:+1").is_err());
        assert!(matches!(
            Uri::parse("urn:service:sos"),
            Ok(Uri::Other {
                scheme: "urn",
                rest: "service:sos"
            })
        ));
    }

    #[test]
    fn global_numbers() {
        let n = |t| GlobalNumber::parse(t).map(|n| n.to_string());
        assert_eq!(
            n("+49-30-1234.5(6) 7"),
            Some("+4930123456 7".replace(' ', ""))
        );
        assert_eq!(n("+123456789012345"), Some("+123456789012345".into()));
        assert_eq!(n("+1234567890123456"), None); // 16 digits
        assert_eq!(n("0301234"), None);
        assert_eq!(n("+"), None);
        assert_eq!(n("+--"), None);
        assert_eq!(n("+49a"), None);
        assert_eq!(n("+49%20"), None);
        let Ok(Uri::Tel(tel)) = Uri::parse("tel:+1-201-555-0123;phone-context=x") else {
            panic!()
        };
        assert_eq!(tel.number, "+1-201-555-0123");
        assert_eq!(tel.params, "phone-context=x");
        assert_eq!(
            Uri::Tel(tel).global_number().unwrap().as_str(),
            "12015550123"
        );
        assert!(
            Uri::parse("tel:7042;phone-context=example.com")
                .unwrap()
                .global_number()
                .is_none()
        );
        assert!(Uri::parse("sip:alice@x").unwrap().global_number().is_none());
    }

    #[test]
    fn identity_comparison_rules() {
        let target = sip("sip:alice@atlanta.example.com");
        for same in [
            "sip:alice@ATLANTA.example.COM",
            "sip:%61lice@atlanta.example.com",
            "sip:alice:pw@atlanta.example.com;transport=tcp?x=y",
            "sips:alice@atlanta.example.com",
            "sip:alice@atlanta.example.com:5090",
        ] {
            assert!(target.identifies(&sip(same)), "{same}");
        }
        for other in [
            "sip:Alice@atlanta.example.com",
            "sip:alice@biloxi.example.com",
            "sip:atlanta.example.com",
            "sip:alice%@atlanta.example.com",
        ] {
            assert!(!target.identifies(&sip(other)), "{other}");
        }
        let with_port = sip("sip:alice@h:5060");
        assert!(with_port.identifies(&sip("sip:alice@h")));
        assert!(with_port.identifies(&sip("sip:alice@h:5060")));
        assert!(!with_port.identifies(&sip("sip:alice@h:5070")));
        assert!(!with_port.identifies(&sip("sips:alice@h")));
        let v6 = sip("sip:bob@[2001:db8::1]");
        assert!(v6.identifies(&sip("sip:bob@[2001:DB8:0:0::1]:5062")));
        assert!(!v6.identifies(&sip("sip:bob@[2001:db8::2]")));
    }

    #[test]
    fn keys_do_not_overflow_the_buffer() {
        let long = format!("sip:{}@h", "u".repeat(2000));
        let mut key = KeyBuf::new();
        assert!(!write_sip_key(sip(&long).user(), "h", &mut key));
        assert!(!sip(&long).identifies(&sip(&long)));
    }

    #[test]
    fn lists_and_parameters() {
        let list: Vec<_> =
            split_list(r#"<sip:a@x>;reason="a, b", "X, Y" <sip:b@y>,,  sip:c@z "#).collect();
        assert_eq!(
            list,
            [
                r#"<sip:a@x>;reason="a, b""#,
                r#""X, Y" <sip:b@y>"#,
                "sip:c@z"
            ]
        );
        assert_eq!(split_list("").count(), 0);
        assert_eq!(param_value(r#"a=1; B = "x;y" ;c"#, "b"), Some("x;y"));
        assert_eq!(param_value("a=1;c", "C"), Some(""));
        assert_eq!(param_value("a=1", "d"), None);
        assert_eq!(trim_lws("\r\n\t x \r\n"), "x");
    }

    proptest::proptest! {
        #[test]
        fn find_byte_is_position(
            haystack in proptest::collection::vec(0u8..6, 0..40),
            needle in 0u8..6,
        ) {
            proptest::prop_assert_eq!(
                find_byte(&haystack, needle),
                haystack.iter().position(|&b| b == needle)
            );
        }
    }
}
