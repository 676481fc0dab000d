//! Target identifiers: what a task intercepts (ETSI TS 103 221-1 clause 6.2.1.2
//! `TargetIdentifier`, reduced to the kinds IP access and VoIP need).
//!
//! # Text form
//!
//! [`TargetIdentifier`] parses from and displays as `kind:value`:
//!
//! | text | kind | value |
//! |---|---|---|
//! | `ipv4:192.0.2.1` | [`TargetKind::Ipv4Address`] | dotted quad |
//! | `ipv6:2001:db8::1` | [`TargetKind::Ipv6Address`] | RFC 4291 text (displayed as RFC 5952) |
//! | `ipv4-prefix:192.0.2.0/24` | [`TargetKind::Ipv4Prefix`] | address `/` length 0..=32, no host bits |
//! | `ipv6-prefix:2001:db8::/48` | [`TargetKind::Ipv6Prefix`] | address `/` length 0..=128, no host bits |
//! | `username:alice@isp.example` | [`TargetKind::Username`] | 1..=253 octets of UTF-8, no control characters |
//! | `mac:00:11:22:33:44:55` | [`TargetKind::MacAddress`] | six hex pairs separated by `:` or `-` (displayed with `:`) |
//! | `sip:alice@example.com`, `sips:...` | [`TargetKind::SipUri`] | the whole SIP URI (RFC 3261 clause 19.1) |
//! | `tel:+4930123456` | [`TargetKind::E164Number`] | `+` then 1..=15 digits (ITU-T E.164) |
//!
//! The kind is matched case-insensitively. Display then parse always gives back the same
//! value.

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result, excerpt};

/// A target identifier (TS 103 221-1 clause 6.2.1.2 `TargetIdentifier`).
///
/// ```
/// use std::net::IpAddr;
///
/// use li_core::{TargetIdentifier, TargetKind};
///
/// let target: TargetIdentifier = "ipv4-prefix:192.0.2.0/24".parse()?;
/// assert_eq!(target.kind(), TargetKind::Ipv4Prefix);
/// assert!(target.matches_ip("192.0.2.77".parse::<IpAddr>()?));
/// assert_eq!(target.to_string(), "ipv4-prefix:192.0.2.0/24");
///
/// let user: TargetIdentifier = "username:alice@isp.example".parse()?;
/// assert_eq!(user.kind(), TargetKind::Username);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TargetIdentifier {
    /// One IPv4 address (TS 103 221-1 `ipv4Address`).
    Ipv4Address(Ipv4Addr),
    /// One IPv6 address (TS 103 221-1 `ipv6Address`).
    Ipv6Address(Ipv6Addr),
    /// An IPv4 or IPv6 prefix (TS 103 221-1 `ipv4Cidr` / `ipv6Cidr`).
    IpPrefix(IpPrefix),
    /// A username or Network Access Identifier (RFC 7542; TS 103 221-1 `nai`), as seen in
    /// RADIUS `User-Name` or Diameter.
    Username(Username),
    /// A MAC address (TS 103 221-1 `macAddress`).
    MacAddress(MacAddress),
    /// A SIP or SIPS URI (TS 103 221-1 `sipUri`).
    SipUri(SipUri),
    /// An international E.164 number, written as a `tel:` URI (TS 103 221-1 `e164Number`).
    E164Number(E164Number),
}

/// The kind of a [`TargetIdentifier`], as written before the `:` in its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TargetKind {
    /// `ipv4`.
    Ipv4Address,
    /// `ipv6`.
    Ipv6Address,
    /// `ipv4-prefix`.
    Ipv4Prefix,
    /// `ipv6-prefix`.
    Ipv6Prefix,
    /// `username`.
    Username,
    /// `mac`.
    MacAddress,
    /// `sip` or `sips`.
    SipUri,
    /// `tel`.
    E164Number,
}

impl TargetIdentifier {
    /// A single IPv4 address.
    pub const fn ipv4(addr: Ipv4Addr) -> Self {
        Self::Ipv4Address(addr)
    }

    /// A single IPv6 address.
    pub const fn ipv6(addr: Ipv6Addr) -> Self {
        Self::Ipv6Address(addr)
    }

    /// An IP prefix; see [`IpPrefix::new`].
    pub fn ip_prefix(addr: IpAddr, prefix_len: u8) -> Result<Self> {
        IpPrefix::new(addr, prefix_len).map(Self::IpPrefix)
    }

    /// A username or NAI; see [`Username::new`].
    pub fn username(name: &str) -> Result<Self> {
        Username::new(name).map(Self::Username)
    }

    /// A MAC address.
    pub const fn mac(octets: [u8; 6]) -> Self {
        Self::MacAddress(MacAddress::new(octets))
    }

    /// A SIP or SIPS URI; see [`SipUri::new`].
    pub fn sip_uri(uri: &str) -> Result<Self> {
        SipUri::new(uri).map(Self::SipUri)
    }

    /// An E.164 number; see [`E164Number::new`].
    pub fn e164(number: &str) -> Result<Self> {
        E164Number::new(number).map(Self::E164Number)
    }

    /// The kind of identifier.
    pub fn kind(&self) -> TargetKind {
        match self {
            Self::Ipv4Address(_) => TargetKind::Ipv4Address,
            Self::Ipv6Address(_) => TargetKind::Ipv6Address,
            Self::IpPrefix(p) if p.addr().is_ipv4() => TargetKind::Ipv4Prefix,
            Self::IpPrefix(_) => TargetKind::Ipv6Prefix,
            Self::Username(_) => TargetKind::Username,
            Self::MacAddress(_) => TargetKind::MacAddress,
            Self::SipUri(_) => TargetKind::SipUri,
            Self::E164Number(_) => TargetKind::E164Number,
        }
    }

    /// Whether traffic from or to `ip` belongs to this target: equal to an address target,
    /// or inside a prefix target. Always `false` for non-IP identifiers. An IPv4-mapped IPv6
    /// address does not match an IPv4 target (classifiers normalise first if they need to).
    pub fn matches_ip(&self, ip: IpAddr) -> bool {
        match self {
            Self::Ipv4Address(a) => ip == IpAddr::V4(*a),
            Self::Ipv6Address(a) => ip == IpAddr::V6(*a),
            Self::IpPrefix(p) => p.contains(ip),
            _ => false,
        }
    }
}

impl FromStr for TargetIdentifier {
    type Err = Error;

    /// Parses the [`kind:value` text form](self).
    fn from_str(s: &str) -> Result<Self> {
        let (kind, value) = s.split_once(':').ok_or(Error::MissingTargetKind)?;
        let kind_lower = kind.to_ascii_lowercase();
        let invalid = |kind, reason| Error::InvalidTarget { kind, reason };
        match kind_lower.as_str() {
            "ipv4" => value
                .parse()
                .map(Self::Ipv4Address)
                .map_err(|_| invalid(TargetKind::Ipv4Address, "not an IPv4 address")),
            "ipv6" => value
                .parse()
                .map(Self::Ipv6Address)
                .map_err(|_| invalid(TargetKind::Ipv6Address, "not an IPv6 address")),
            "ipv4-prefix" | "ipv6-prefix" => {
                let expected = if kind_lower == "ipv4-prefix" {
                    TargetKind::Ipv4Prefix
                } else {
                    TargetKind::Ipv6Prefix
                };
                let prefix = value.parse::<IpPrefix>().map_err(|e| match e {
                    Error::InvalidPrefix { reason } => invalid(expected, reason),
                    other => other,
                })?;
                let target = Self::IpPrefix(prefix);
                if target.kind() == expected {
                    Ok(target)
                } else {
                    Err(invalid(expected, "address family does not match the kind"))
                }
            }
            "username" => Self::username(value),
            "mac" => value.parse().map(Self::MacAddress),
            // The scheme is part of the URI: hand over the whole text.
            "sip" | "sips" => Self::sip_uri(s),
            "tel" => Self::e164(value),
            _ => Err(Error::UnknownTargetKind {
                kind: excerpt(kind),
            }),
        }
    }
}

impl fmt::Display for TargetIdentifier {
    /// Writes the [`kind:value` text form](self).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ipv4Address(a) => write!(f, "ipv4:{a}"),
            Self::Ipv6Address(a) => write!(f, "ipv6:{a}"),
            Self::IpPrefix(p) => write!(f, "{}:{p}", self.kind()),
            Self::Username(u) => write!(f, "username:{u}"),
            Self::MacAddress(m) => write!(f, "mac:{m}"),
            Self::SipUri(u) => write!(f, "{u}"),
            Self::E164Number(n) => write!(f, "{n}"),
        }
    }
}

impl TargetKind {
    /// Every kind, in the order of the [text form table](self): the one list the tools
    /// show when a kind is unknown (`sip` also accepts the `sips` scheme).
    pub const ALL: [Self; 8] = [
        Self::Ipv4Address,
        Self::Ipv6Address,
        Self::Ipv4Prefix,
        Self::Ipv6Prefix,
        Self::Username,
        Self::MacAddress,
        Self::SipUri,
        Self::E164Number,
    ];

    /// The kind as written in the text form (`"ipv4"`, `"ipv6-prefix"`, `"sip"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4Address => "ipv4",
            Self::Ipv6Address => "ipv6",
            Self::Ipv4Prefix => "ipv4-prefix",
            Self::Ipv6Prefix => "ipv6-prefix",
            Self::Username => "username",
            Self::MacAddress => "mac",
            Self::SipUri => "sip",
            Self::E164Number => "tel",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IPv4 or IPv6 prefix (CIDR block): an address with the bits after the prefix length
/// all zero.
///
/// ```
/// use std::net::IpAddr;
///
/// use li_core::{Error, IpPrefix};
///
/// let p = IpPrefix::new("2001:db8::".parse()?, 48)?;
/// assert!(p.contains("2001:db8:0:ffff::1".parse()?));
/// assert!(!p.contains("2001:db9::1".parse()?));
/// assert_eq!(
///     IpPrefix::new("192.0.2.1".parse()?, 24),
///     Err(Error::PrefixHostBits { len: 24 })
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// The prefix `addr/prefix_len`.
    ///
    /// Fails with [`Error::PrefixLength`] if `prefix_len` exceeds 32 (IPv4) or 128 (IPv6),
    /// and with [`Error::PrefixHostBits`] if `addr` has bits set after the prefix (write
    /// `192.0.2.0/24`, not `192.0.2.1/24`).
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(Error::PrefixLength {
                len: prefix_len,
                max,
            });
        }
        if mask_addr(addr, prefix_len) != addr {
            return Err(Error::PrefixHostBits { len: prefix_len });
        }
        Ok(Self {
            addr,
            len: prefix_len,
        })
    }

    /// The prefix holding only `addr` (`/32` or `/128`).
    pub const fn host(addr: IpAddr) -> Self {
        let len = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        Self { addr, len }
    }

    /// The network address (host bits zero).
    pub const fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `ip` lies inside the prefix; `false` for an address of the other family.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask_addr(ip, self.len) == self.addr
    }
}

impl FromStr for IpPrefix {
    type Err = Error;

    /// Parses `address/length`.
    fn from_str(s: &str) -> Result<Self> {
        let (addr, len) = s.split_once('/').ok_or(Error::InvalidPrefix {
            reason: "expected address/length",
        })?;
        let addr = addr.parse().map_err(|_| Error::InvalidPrefix {
            reason: "not an IP address before '/'",
        })?;
        // u8::from_str accepts a leading '+'; the text form does not.
        let len = Some(len)
            .filter(|l| l.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|l| l.parse().ok())
            .ok_or(Error::InvalidPrefix {
                reason: "not a decimal prefix length after '/'",
            })?;
        Self::new(addr, len)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A username or Network Access Identifier (RFC 7542): 1..=253 octets of UTF-8 without
/// control characters. Compared exactly (case-sensitive, no normalisation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// The maximum length in octets (RFC 7542 clause 2.2).
    pub const MAX_LEN: usize = 253;

    /// The username `name`; fails with [`Error::InvalidTarget`] if it is empty, longer than
    /// 253 octets or contains a control character.
    pub fn new(name: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidTarget {
            kind: TargetKind::Username,
            reason,
        };
        if name.is_empty() {
            return Err(invalid("username is empty"));
        }
        if name.len() > Self::MAX_LEN {
            return Err(invalid("username is longer than 253 octets"));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid("username contains a control character"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 48-bit IEEE 802 MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress([u8; 6]);

impl MacAddress {
    /// The MAC address with these octets.
    pub const fn new(octets: [u8; 6]) -> Self {
        Self(octets)
    }

    /// The six octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Parses a MAC address in any of the forms devices write: six hex pairs separated all
    /// by `:` or all by `-` (the [`FromStr`] form), three groups of four hex digits separated
    /// by `.` (`0011.2233.4455`), or twelve hex digits (`001122334455`); hex digits in either
    /// case. `None` for anything else.
    pub fn parse_lenient(text: &[u8]) -> Option<Self> {
        // The separator, and the number of hex digits between two separators.
        let (separator, group) = match (text.len(), text.get(2)) {
            (12, _) => (None, 12),
            (14, _) => (Some(b'.'), 4),
            (17, Some(&separator @ (b':' | b'-'))) => (Some(separator), 2),
            _ => return None,
        };
        // With these lengths, groups of `group` digits fill exactly twelve.
        let mut digits = [0u8; 12];
        let mut filled = 0;
        for piece in text.split(|&c| Some(c) == separator) {
            if piece.len() != group {
                return None;
            }
            digits
                .get_mut(filled..filled + group)?
                .copy_from_slice(piece);
            filled += group;
        }
        let mut octets = [0u8; 6];
        for (octet, pair) in octets.iter_mut().zip(digits.chunks_exact(2)) {
            let &[h, l] = pair else { return None };
            *octet = hex_pair(h, l)?;
        }
        Some(Self(octets))
    }
}

impl FromStr for MacAddress {
    type Err = Error;

    /// Parses six pairs of hexadecimal digits separated all by `:` or all by `-`.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = Error::InvalidTarget {
            kind: TargetKind::MacAddress,
            reason: "expected six hex pairs separated by ':' or '-'",
        };
        let text = s.as_bytes();
        if text.len() != 17 {
            return Err(invalid);
        }
        let separator = text.get(2).copied().filter(|&c| c == b':' || c == b'-');
        let separator = separator.ok_or_else(|| invalid.clone())?;
        let mut octets = [0u8; 6];
        for (octet, chunk) in octets.iter_mut().zip(text.chunks(3)) {
            let value = match *chunk {
                [h, l, sep] if sep == separator => hex_pair(h, l),
                [h, l] => hex_pair(h, l),
                _ => None,
            };
            *octet = value.ok_or_else(|| invalid.clone())?;
        }
        Ok(Self(octets))
    }
}

impl fmt::Display for MacAddress {
    /// Writes lowercase hex pairs separated by `:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A SIP or SIPS URI (RFC 3261 clause 19.1), stored whole with the scheme in lowercase.
///
/// Checked: the scheme is `sip` or `sips` (either case), the URI has a non-empty host part,
/// a user part if present (before `@`) is non-empty, there are no spaces or control
/// characters and the URI is at most 1024 octets. Parameters and headers are kept but not
/// interpreted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SipUri(String);

impl SipUri {
    /// The maximum length of a SIP URI target in octets (a local limit).
    pub const MAX_LEN: usize = 1024;

    /// The SIP URI `uri` (with its `sip:` or `sips:` scheme); fails with
    /// [`Error::InvalidTarget`] if the checks above fail.
    pub fn new(uri: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidTarget {
            kind: TargetKind::SipUri,
            reason,
        };
        let (scheme, rest) = uri.split_once(':').ok_or(invalid("missing sip: scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "sip" && scheme != "sips" {
            return Err(invalid("scheme is not sip or sips"));
        }
        if uri.len() > Self::MAX_LEN {
            return Err(invalid("URI is longer than 1024 octets"));
        }
        if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("URI contains whitespace or a control character"));
        }
        let host_part = match rest.split_once('@') {
            Some(("", _)) => return Err(invalid("user part before '@' is empty")),
            Some((_, host)) => host,
            None => rest,
        };
        let host_port = host_part
            .split([';', '?'])
            .next()
            .filter(|h| !h.is_empty())
            .ok_or(invalid("host part is empty"))?;
        let host_chars_ok = host_port
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
        if !host_chars_ok || host_port.starts_with(':') {
            return Err(invalid("host part is not a host name or address"));
        }
        Ok(Self(format!("{scheme}:{rest}")))
    }

    /// The whole URI.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the scheme is `sips`.
    pub fn is_sips(&self) -> bool {
        self.0.starts_with("sips:")
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An international ITU-T E.164 number (TS 103 280 `InternationalE164`): 1..=15 digits,
/// country code first. Stored without the `+`; displayed as a `tel:` URI (RFC 3966 global
/// number without visual separators).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164Number(String);

impl E164Number {
    /// The number `+digits`. Visual separators (`-`, `.`, spaces, parentheses) are not
    /// accepted. Fails with [`Error::InvalidTarget`].
    pub fn new(number: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidTarget {
            kind: TargetKind::E164Number,
            reason,
        };
        let digits = number
            .strip_prefix('+')
            .ok_or(invalid("E.164 number must start with '+'"))?;
        if digits.is_empty() || digits.len() > 15 {
            return Err(invalid("E.164 number must have 1..=15 digits"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("E.164 number must be digits only after '+'"));
        }
        Ok(Self(digits.to_owned()))
    }

    /// The digits, without `+`.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164Number {
    /// Writes `tel:+digits`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:+{}", self.0)
    }
}

/// `addr` with the bits after `prefix_len` cleared (`prefix_len` at most the width).
fn mask_addr(addr: IpAddr, prefix_len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix_len.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix_len.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// The octet written as two hexadecimal digits `h`, `l`.
fn hex_pair(h: u8, l: u8) -> Option<u8> {
    let hex = |c: u8| char::from(c).to_digit(16);
    let value = hex(h)? << 4 | hex(l)?;
    u8::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(s: &str) -> TargetIdentifier {
        s.parse()
            .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn invalid(s: &str) -> (TargetKind, &'static str) {
        match s.parse::<TargetIdentifier>() {
            Err(Error::InvalidTarget { kind, reason }) => (kind, reason),
            other => panic!("{s:?}: expected InvalidTarget, got {other:?}"),
        }
    }

    #[test]
    fn every_listed_kind_is_parsed_as_that_kind() {
        // One sample per listed kind: a kind added to the list without one does not build.
        let samples: [&str; TargetKind::ALL.len()] = [
            "ipv4:192.0.2.1",
            "ipv6:2001:db8::1",
            "ipv4-prefix:192.0.2.0/24",
            "ipv6-prefix:2001:db8::/48",
            "username:alice",
            "mac:00:11:22:33:44:55",
            "sip:alice@example.com",
            "tel:+4930123456",
        ];
        for (kind, sample) in TargetKind::ALL.iter().zip(samples) {
            assert!(sample.starts_with(&format!("{kind}:")), "{sample}");
            assert_eq!(parse(sample).kind(), *kind);
        }
    }

    #[test]
    fn parses_every_kind() {
        assert_eq!(
            parse("ipv4:192.0.2.1"),
            TargetIdentifier::ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert_eq!(
            parse("IPv6:2001:DB8::1"),
            TargetIdentifier::ipv6("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse("ipv4-prefix:192.0.2.0/24"),
            TargetIdentifier::ip_prefix("192.0.2.0".parse().unwrap(), 24).unwrap()
        );
        assert_eq!(
            parse("ipv6-prefix:2001:db8::/48").kind(),
            TargetKind::Ipv6Prefix
        );
        assert_eq!(
            parse("username:alice@isp.example"),
            TargetIdentifier::username("alice@isp.example").unwrap()
        );
        assert_eq!(
            parse("mac:00:11:22:33:44:55"),
            TargetIdentifier::mac([0, 0x11, 0x22, 0x33, 0x44, 0x55])
        );
        assert_eq!(
            parse("mac:AA-bb-CC-dd-EE-ff"),
            TargetIdentifier::mac([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        let sip = parse("sip:alice@example.com");
        assert_eq!(sip.kind(), TargetKind::SipUri);
        assert_eq!(sip.to_string(), "sip:alice@example.com");
        let TargetIdentifier::SipUri(sips) = parse("SIPS:bob@example.com:5061;transport=tcp")
        else {
            panic!("expected a SIP URI");
        };
        assert!(sips.is_sips());
        assert_eq!(sips.as_str(), "sips:bob@example.com:5061;transport=tcp");
        let TargetIdentifier::E164Number(tel) = parse("tel:+4930123456") else {
            panic!("expected an E.164 number");
        };
        assert_eq!(tel.digits(), "4930123456");
    }

    #[test]
    fn lenient_mac_forms() {
        const MAC: [u8; 6] = [0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E];
        for text in [
            "00-1A-2B-3C-4D-5E",
            "00-1a-2b-3c-4d-5e",
            "00:1a:2B:3c:4D:5e",
            "001A2B3C4D5E",
            "001a.2b3c.4d5e",
            "001A.2B3C.4D5E",
        ] {
            let mac = MacAddress::parse_lenient(text.as_bytes());
            assert_eq!(mac, Some(MacAddress::new(MAC)), "{text}");
        }
        for text in [
            "",
            "+4930123456789",
            "00-1A-2B-3C-4D",
            "00-1A-2B-3C-4D-5E-6F",
            "00-1A:2B-3C-4D-5E",
            "00_1A_2B_3C_4D_5E",
            "00-1A-2B-3C-4D-5G",
            "001a.2b3c:4d5e",
            "001a2b.3c4d5e",
            "00.1a2b.3c4d5e",
            "001a2b3c4d5",
            "001a2b3c4d5g",
            "0-01A-2B-3C-4D-5E",
            "00-1A-2B-3C-4D-5E:eduroam",
            " 00-1A-2B-3C-4D-5",
        ] {
            assert_eq!(MacAddress::parse_lenient(text.as_bytes()), None, "{text}");
        }
        // The strict form parses to the same address.
        let strict: MacAddress = "00:1a:2b:3c:4d:5e".parse().unwrap();
        assert_eq!(MacAddress::parse_lenient(b"001a2b3c4d5e"), Some(strict));
    }

    #[test]
    fn display_forms() {
        for text in [
            "ipv4:192.0.2.1",
            "ipv6:2001:db8::1",
            "ipv4-prefix:0.0.0.0/0",
            "ipv6-prefix:2001:db8::/48",
            "username:alice@isp.example",
            "mac:00:11:22:33:44:55",
            "sip:alice@example.com",
            "sips:[2001:db8::1]:5061",
            "tel:+4930123456",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
        assert_eq!(
            parse("mac:00-11-22-33-44-55").to_string(),
            "mac:00:11:22:33:44:55"
        );
        assert_eq!(
            parse("ipv6:2001:0db8:0:0::1").to_string(),
            "ipv6:2001:db8::1"
        );
    }

    #[test]
    fn kind_errors() {
        assert_eq!(
            "192.0.2.1".parse::<TargetIdentifier>(),
            Err(Error::MissingTargetKind)
        );
        assert_eq!(
            "imsi:262011234567890".parse::<TargetIdentifier>(),
            Err(Error::UnknownTargetKind {
                kind: "imsi".into()
            })
        );
    }

    #[test]
    fn value_errors() {
        use TargetKind as K;
        let cases = [
            ("ipv4:192.0.2.256", K::Ipv4Address, "not an IPv4 address"),
            ("ipv4:192.0.2.1/32", K::Ipv4Address, "not an IPv4 address"),
            ("ipv4:2001:db8::1", K::Ipv4Address, "not an IPv4 address"),
            ("ipv6:192.0.2.1", K::Ipv6Address, "not an IPv6 address"),
            (
                "ipv4-prefix:192.0.2.0",
                K::Ipv4Prefix,
                "expected address/length",
            ),
            (
                "ipv4-prefix:x/24",
                K::Ipv4Prefix,
                "not an IP address before '/'",
            ),
            (
                "ipv4-prefix:192.0.2.0/+24",
                K::Ipv4Prefix,
                "not a decimal prefix length after '/'",
            ),
            (
                "ipv4-prefix:2001:db8::/48",
                K::Ipv4Prefix,
                "address family does not match the kind",
            ),
            (
                "ipv6-prefix:192.0.2.0/24",
                K::Ipv6Prefix,
                "address family does not match the kind",
            ),
            ("username:", K::Username, "username is empty"),
            (
                "username:a\tb",
                K::Username,
                "username contains a control character",
            ),
            (
                "mac:00:11:22:33:44",
                K::MacAddress,
                "expected six hex pairs separated by ':' or '-'",
            ),
            (
                "mac:00:11:22-33:44:55",
                K::MacAddress,
                "expected six hex pairs separated by ':' or '-'",
            ),
            (
                "mac:00:11:22:33:44:5g",
                K::MacAddress,
                "expected six hex pairs separated by ':' or '-'",
            ),
            (
                "mac:00.11.22.33.44.55",
                K::MacAddress,
                "expected six hex pairs separated by ':' or '-'",
            ),
            ("sip:", K::SipUri, "host part is empty"),
            (
                "sip:@example.com",
                K::SipUri,
                "user part before '@' is empty",
            ),
            ("sip:alice@", K::SipUri, "host part is empty"),
            ("sip:alice@;transport=tcp", K::SipUri, "host part is empty"),
            (
                "sip:alice@exa mple.com",
                K::SipUri,
                "URI contains whitespace or a control character",
            ),
            (
                "sip:alice@exa/mple.com",
                K::SipUri,
                "host part is not a host name or address",
            ),
            (
                "tel:4930123456",
                K::E164Number,
                "E.164 number must start with '+'",
            ),
            (
                "tel:+",
                K::E164Number,
                "E.164 number must have 1..=15 digits",
            ),
            (
                "tel:+1234567890123456",
                K::E164Number,
                "E.164 number must have 1..=15 digits",
            ),
            (
                "tel:+49-30-123456",
                K::E164Number,
                "E.164 number must be digits only after '+'",
            ),
        ];
        for (text, kind, reason) in cases {
            assert_eq!(invalid(text), (kind, reason), "{text:?}");
        }
        let long = format!("username:{}", "a".repeat(254));
        assert_eq!(
            invalid(&long),
            (K::Username, "username is longer than 253 octets")
        );
        assert!(TargetIdentifier::username(&"a".repeat(253)).is_ok());
        assert_eq!(
            TargetIdentifier::sip_uri("tel:+491234"),
            Err(Error::InvalidTarget {
                kind: K::SipUri,
                reason: "scheme is not sip or sips"
            })
        );
        assert_eq!(
            TargetIdentifier::e164("+999999999999999").map(|t| t.to_string()),
            Ok("tel:+999999999999999".into())
        );
    }

    #[test]
    fn prefix_checks() {
        let v4: IpAddr = "192.0.2.0".parse().unwrap();
        assert_eq!(
            IpPrefix::new(v4, 33),
            Err(Error::PrefixLength { len: 33, max: 32 })
        );
        assert_eq!(
            IpPrefix::new("2001:db8::".parse().unwrap(), 129),
            Err(Error::PrefixLength { len: 129, max: 128 })
        );
        assert_eq!(
            IpPrefix::new("192.0.2.128".parse().unwrap(), 24),
            Err(Error::PrefixHostBits { len: 24 })
        );
        assert_eq!(
            "ipv6-prefix:2001:db8::1/64".parse::<TargetIdentifier>(),
            Err(Error::PrefixHostBits { len: 64 })
        );
        assert_eq!(
            "ipv4-prefix:192.0.2.0/33".parse::<TargetIdentifier>(),
            Err(Error::PrefixLength { len: 33, max: 32 })
        );
        let p = IpPrefix::new(v4, 25).unwrap();
        assert!(p.contains("192.0.2.0".parse().unwrap()));
        assert!(p.contains("192.0.2.127".parse().unwrap()));
        assert!(!p.contains("192.0.2.128".parse().unwrap()));
        assert!(!p.contains("::ffff:192.0.2.1".parse().unwrap()));
        let all = IpPrefix::new("0.0.0.0".parse().unwrap(), 0).unwrap();
        assert!(all.contains("255.255.255.255".parse().unwrap()));
        assert!(!all.contains("::".parse().unwrap()));
        let host = IpPrefix::host("2001:db8::7".parse().unwrap());
        assert_eq!(host.prefix_len(), 128);
        assert!(host.contains("2001:db8::7".parse().unwrap()));
        assert!(!host.contains("2001:db8::6".parse().unwrap()));
    }

    #[test]
    fn matches_ip() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(parse("ipv4:192.0.2.1").matches_ip(ip));
        assert!(!parse("ipv4:192.0.2.2").matches_ip(ip));
        assert!(!parse("ipv6:::ffff:192.0.2.1").matches_ip(ip));
        assert!(parse("ipv4-prefix:192.0.0.0/16").matches_ip(ip));
        assert!(!parse("username:192.0.2.1").matches_ip(ip));
    }

    fn any_target() -> impl Strategy<Value = TargetIdentifier> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|o| TargetIdentifier::ipv4(o.into())),
            any::<[u8; 16]>().prop_map(|o| TargetIdentifier::ipv6(o.into())),
            (any::<u32>(), 0u8..=32).prop_map(|(a, len)| {
                let addr = mask_addr(IpAddr::V4(a.into()), len);
                TargetIdentifier::ip_prefix(addr, len).unwrap()
            }),
            (any::<u128>(), 0u8..=128).prop_map(|(a, len)| {
                let addr = mask_addr(IpAddr::V6(a.into()), len);
                TargetIdentifier::ip_prefix(addr, len).unwrap()
            }),
            "[^\\p{Cc}]{1,60}".prop_map(|u| TargetIdentifier::username(&u).unwrap()),
            any::<[u8; 6]>().prop_map(TargetIdentifier::mac),
            "sips?:([a-z0-9+.!~*'()%-]{1,20}@)?[a-z0-9.-]{1,30}(:[0-9]{1,5})?(;[a-z]+=[a-z0-9]+)?"
                .prop_map(|u| TargetIdentifier::sip_uri(&u).unwrap()),
            "\\+[0-9]{1,15}".prop_map(|n| TargetIdentifier::e164(&n).unwrap()),
        ]
    }

    proptest! {
        #[test]
        fn target_text_round_trip(target in any_target()) {
            let text = target.to_string();
            prop_assert!(text.starts_with(target.kind().as_str()));
            prop_assert_eq!(text.parse::<TargetIdentifier>(), Ok(target));
        }

        #[test]
        fn target_parse_never_panics(text in "\\PC{0,80}") {
            if let Ok(target) = text.parse::<TargetIdentifier>() {
                let again = target.to_string().parse::<TargetIdentifier>();
                prop_assert_eq!(again, Ok(target));
            }
        }

        #[test]
        fn target_parse_near_misses_never_panic(
            kind in "(ipv4|ipv6|ipv4-prefix|ipv6-prefix|username|mac|sip|sips|tel)",
            value in "[0-9a-fA-F:./@+;-]{0,40}",
        ) {
            let text = format!("{kind}:{value}");
            if let Ok(target) = text.parse::<TargetIdentifier>() {
                prop_assert_eq!(target.to_string().parse::<TargetIdentifier>(), Ok(target));
            }
        }

        #[test]
        fn prefix_contains_agrees_with_masking(a in any::<u32>(), b in any::<u32>(), len in 0u8..=32) {
            let net = mask_addr(IpAddr::V4(a.into()), len);
            let prefix = IpPrefix::new(net, len).unwrap();
            let shift = 32 - u32::from(len);
            let same = a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0);
            prop_assert_eq!(prefix.contains(IpAddr::V4(b.into())), same);
            prop_assert!(prefix.contains(IpAddr::V4(a.into())));
        }
    }
}
