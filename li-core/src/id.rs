//! Identifiers: LIID, XID, CIN, network identifiers, country codes and destination ids.
//!
//! Every identifier is built through a checked constructor and is then valid by
//! construction. The octet-string identifiers ([`Liid`], [`OperatorId`],
//! [`NetworkElementId`]) are stored inline and are `Copy`.
//!
//! # Text form of octet-string identifiers
//!
//! Octet-string identifiers are usually printable text, but the standards allow any octets.
//! Their text form ([`Display`](fmt::Display) and [`FromStr`]) is therefore:
//!
//! * the octets themselves when all are printable ASCII (`0x20..=0x7e`) and the text does not
//!   start with `hex:`;
//! * otherwise `hex:` followed by two lowercase hexadecimal digits per octet.
//!
//! Parsing accepts both forms (hexadecimal digits in either case), so the text form always
//! round-trips.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use crate::error::{Error, Result, excerpt};

/// Lawful Interception IDentifier (ETSI TS 103 280 clause 6.1 `LIID`; carried in
/// `PSHeader.lawfulInterceptionIdentifier`, TS 102 232-1 clause 5.2.2).
///
/// `OCTET STRING (SIZE(1..25))`, stored inline.
///
/// ```
/// use li_core::Liid;
///
/// let liid: Liid = "LIID-0001".parse()?;
/// assert_eq!(liid.as_bytes(), b"LIID-0001");
/// assert_eq!(Liid::new(&[0x01, 0xff])?.to_string(), "hex:01ff");
/// assert!(Liid::new(&[0; 26]).is_err());
/// # Ok::<(), li_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Liid(Octets<25>);

impl Liid {
    /// The maximum length of a LIID in octets.
    pub const MAX_LEN: usize = 25;

    /// A LIID holding `bytes`; fails with [`Error::LiidLength`] unless 1..=25 octets.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        Octets::new(bytes)
            .map(Self)
            .ok_or(Error::LiidLength { len: bytes.len() })
    }

    /// The octets of the LIID.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl FromStr for Liid {
    type Err = Error;

    /// Parses the [text form](self#text-form-of-octet-string-identifiers).
    fn from_str(s: &str) -> Result<Self> {
        parse_octets(s, "LIID", |len| Error::LiidLength { len }).map(Self)
    }
}

impl fmt::Display for Liid {
    /// Writes the [text form](self#text-form-of-octet-string-identifiers).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_octets(self.as_bytes(), f)
    }
}

impl fmt::Debug for Liid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Liid({self})")
    }
}

/// Operator identifier (TS 102 232-1 clause 5.2.4 `NetworkIdentifier.operatorIdentifier`).
///
/// `OCTET STRING (SIZE(1..16))`, stored inline; text form as for [`Liid`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperatorId(Octets<16>);

impl OperatorId {
    /// The maximum length of an operator identifier in octets.
    pub const MAX_LEN: usize = 16;

    /// An operator identifier holding `bytes`; fails with [`Error::OperatorIdLength`] unless
    /// 1..=16 octets.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        Octets::new(bytes)
            .map(Self)
            .ok_or(Error::OperatorIdLength { len: bytes.len() })
    }

    /// The octets of the identifier.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl FromStr for OperatorId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        parse_octets(s, "operator identifier", |len| Error::OperatorIdLength {
            len,
        })
        .map(Self)
    }
}

impl fmt::Display for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_octets(self.as_bytes(), f)
    }
}

impl fmt::Debug for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OperatorId({self})")
    }
}

/// Network element identifier (TS 102 232-1 clause 5.2.4
/// `NetworkIdentifier.networkElementIdentifier`).
///
/// `OCTET STRING (SIZE(1..16))`, stored inline; text form as for [`Liid`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetworkElementId(Octets<16>);

impl NetworkElementId {
    /// The maximum length of a network element identifier in octets.
    pub const MAX_LEN: usize = 16;

    /// A network element identifier holding `bytes`; fails with
    /// [`Error::NetworkElementIdLength`] unless 1..=16 octets.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        Octets::new(bytes)
            .map(Self)
            .ok_or(Error::NetworkElementIdLength { len: bytes.len() })
    }

    /// The octets of the identifier.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl FromStr for NetworkElementId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        parse_octets(s, "network element identifier", |len| {
            Error::NetworkElementIdLength { len }
        })
        .map(Self)
    }
}

impl fmt::Display for NetworkElementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_octets(self.as_bytes(), f)
    }
}

impl fmt::Debug for NetworkElementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetworkElementId({self})")
    }
}

macro_rules! uuid_identifier {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// The nil UUID (all zero), which TS 103 221-1 does not allow as an identifier
            /// but which is handy as a placeholder in tests.
            pub const NIL: Self = Self([0; 16]);

            /// The identifier with these 16 octets (network byte order, as on the wire).
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// A random (version 4, RFC 9562 clause 5.4) identifier made from 16 random octets
            /// supplied by the caller; the version and variant bits are overwritten. `li-core`
            /// has no random number generator of its own.
            pub const fn new_v4_from_random(mut random: [u8; 16]) -> Self {
                random[6] = (random[6] & 0x0f) | 0x40;
                random[8] = (random[8] & 0x3f) | 0x80;
                Self(random)
            }

            /// The 16 octets (network byte order).
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// The UUID version number (the high nibble of octet 6); 4 for random UUIDs.
            pub const fn version(&self) -> u8 {
                self.0[6] >> 4
            }
        }

        impl FromStr for $name {
            type Err = Error;

            /// Parses the canonical `8-4-4-4-12` hexadecimal form, in either case.
            fn from_str(s: &str) -> Result<Self> {
                parse_uuid(s).map(Self).map_err(|reason| Error::InvalidUuid {
                    field: $field,
                    input: excerpt(s),
                    reason,
                })
            }
        }

        impl fmt::Display for $name {
            /// Writes the canonical lowercase `8-4-4-4-12` form.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_uuid(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }
    };
}

uuid_identifier! {
    /// Task identifier, the `XId` of ETSI TS 103 221-1 clause 5.1: a UUID naming one task
    /// (one warrant as executed for one LIID) across X1, X2 and X3.
    ///
    /// ```
    /// use li_core::Xid;
    ///
    /// let xid: Xid = "6BA7B810-9DAD-11D1-80B4-00C04FD430C8".parse()?;
    /// assert_eq!(xid.to_string(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    /// assert_eq!(Xid::new_v4_from_random([0xff; 16]).version(), 4);
    /// # Ok::<(), li_core::Error>(())
    /// ```
    Xid, "XID"
}

uuid_identifier! {
    /// Destination identifier, the `DId` of ETSI TS 103 221-1 clause 5.2: a UUID naming one
    /// delivery destination (an agency's HI2/HI3 endpoint pair).
    DestinationId, "DID"
}

/// Communication Identity Number (TS 102 232-1 clause 5.2.4 `communicationIdentifier`
/// `CIN`): identifies one communication session of a target within a LIID,
/// `INTEGER (0..4294967295)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cin(u32);

impl Cin {
    /// The CIN with this value (every `u32` is valid).
    pub const fn new(value: u32) -> Self {
        Self(value)
    }

    /// The numeric value.
    pub const fn value(self) -> u32 {
        self.0
    }
}

impl From<u32> for Cin {
    fn from(value: u32) -> Self {
        Self(value)
    }
}

impl From<Cin> for u32 {
    fn from(cin: Cin) -> Self {
        cin.0
    }
}

impl FromStr for Cin {
    type Err = Error;

    /// Parses a decimal number in `0..=4294967295`.
    fn from_str(s: &str) -> Result<Self> {
        s.parse::<u32>()
            .map(Self)
            .map_err(|_| Error::InvalidCin { input: excerpt(s) })
    }
}

impl fmt::Display for Cin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Country code, ISO 3166-1 alpha-2 (TS 102 232-1 clauses 5.2.3 `authorizationCountryCode`
/// and 5.2.4 `deliveryCountryCode`, `PrintableString (SIZE(2))`; TS 103 280 `ISOCountryCode`).
///
/// Stored as two uppercase ASCII letters. Whether the code is assigned by ISO is not
/// checked.
///
/// ```
/// use li_core::CountryCode;
///
/// assert_eq!(CountryCode::new("de")?.as_str(), "DE");
/// assert!(CountryCode::new("D1").is_err());
/// # Ok::<(), li_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The country code spelled `code`: two ASCII letters in either case, normalised to
    /// uppercase; anything else fails with [`Error::InvalidCountryCode`].
    pub fn new(code: &str) -> Result<Self> {
        match *code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(Error::InvalidCountryCode {
                input: excerpt(code),
            }),
        }
    }

    /// The two uppercase letters.
    pub fn as_str(&self) -> &str {
        // Always ASCII by construction; the fallback is unreachable.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The two uppercase letters as octets (the `PrintableString` content).
    pub const fn as_bytes(&self) -> &[u8; 2] {
        &self.0
    }
}

impl FromStr for CountryCode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

/// Prefix marking the hexadecimal text form of an octet-string identifier.
const HEX_PREFIX: &str = "hex:";

/// 1..=N octets stored inline; unused octets are kept zero.
#[derive(Clone, Copy)]
struct Octets<const N: usize> {
    buf: [u8; N],
    len: u8,
}

impl<const N: usize> Octets<N> {
    /// `None` unless `bytes` is 1..=N octets long.
    fn new(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return None;
        }
        let mut buf = [0; N];
        buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
        let len = u8::try_from(bytes.len()).ok()?;
        Some(Self { buf, len })
    }

    fn as_bytes(&self) -> &[u8] {
        // `len <= N` by construction; the fallback is unreachable.
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl<const N: usize> PartialEq for Octets<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> Eq for Octets<N> {}

impl<const N: usize> PartialOrd for Octets<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for Octets<N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl<const N: usize> Hash for Octets<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

/// Parses the text form of an octet-string identifier of at most `N` octets.
fn parse_octets<const N: usize>(
    s: &str,
    field: &'static str,
    length_error: impl Fn(usize) -> Error,
) -> Result<Octets<N>> {
    let Some(hex) = s.strip_prefix(HEX_PREFIX) else {
        return Octets::new(s.as_bytes()).ok_or_else(|| length_error(s.len()));
    };
    let digits = hex.as_bytes();
    if digits.len() % 2 != 0 {
        return Err(Error::InvalidHexEscape { field });
    }
    let len = digits.len() / 2;
    let mut buf = [0u8; N];
    let out = buf.get_mut(..len).ok_or_else(|| length_error(len))?;
    for (octet, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) else {
            return Err(Error::InvalidHexEscape { field });
        };
        *octet = hi << 4 | lo;
    }
    Octets::new(buf.get(..len).unwrap_or(&[])).ok_or_else(|| length_error(len))
}

/// Writes the text form of an octet-string identifier.
fn fmt_octets(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let printable = bytes.iter().all(|b| (0x20..=0x7e).contains(b));
    match core::str::from_utf8(bytes) {
        Ok(text) if printable && !text.starts_with(HEX_PREFIX) => f.write_str(text),
        _ => {
            f.write_str(HEX_PREFIX)?;
            bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
}

/// Parses the canonical `8-4-4-4-12` UUID text form.
fn parse_uuid(s: &str) -> core::result::Result<[u8; 16], &'static str> {
    let text = s.as_bytes();
    if text.len() != 36 {
        return Err("expected 36 characters in the form 8-4-4-4-12");
    }
    let mut out = [0u8; 16];
    let mut slots = out.iter_mut();
    let mut high: Option<u8> = None;
    for (i, &c) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return Err("expected '-' after hex digit groups of 8, 4, 4 and 4");
            }
            continue;
        }
        let nibble = hex_value(c).ok_or("expected a hexadecimal digit")?;
        match high.take() {
            None => high = Some(nibble),
            Some(h) => *slots.next().ok_or("too many hexadecimal digits")? = h << 4 | nibble,
        }
    }
    Ok(out)
}

/// Writes the canonical lowercase `8-4-4-4-12` UUID text form.
fn fmt_uuid(bytes: &[u8; 16], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            f.write_str("-")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// The value of one hexadecimal digit.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn liid_length_bounds() {
        assert_eq!(Liid::new(b""), Err(Error::LiidLength { len: 0 }));
        assert_eq!(Liid::new(&[b'a'; 26]), Err(Error::LiidLength { len: 26 }));
        assert_eq!(Liid::new(&[b'a'; 25]).unwrap().as_bytes(), &[b'a'; 25]);
        assert_eq!(Liid::new(b"x").unwrap().as_bytes(), b"x");
        assert_eq!("".parse::<Liid>(), Err(Error::LiidLength { len: 0 }));
        assert_eq!(
            "hex:".parse::<Liid>(),
            Err(Error::LiidLength { len: 0 }),
            "an empty hex form is an empty LIID"
        );
        let long = format!("hex:{}", "00".repeat(26));
        assert_eq!(long.parse::<Liid>(), Err(Error::LiidLength { len: 26 }));
    }

    #[test]
    fn liid_text_forms() {
        let printable: Liid = "LIID 0001".parse().unwrap();
        assert_eq!(printable.to_string(), "LIID 0001");
        assert_eq!(format!("{printable:?}"), "Liid(LIID 0001)");

        let binary = Liid::new(&[0x00, 0xAB, 0x7f]).unwrap();
        assert_eq!(binary.to_string(), "hex:00ab7f");
        assert_eq!("hex:00AB7F".parse::<Liid>().unwrap(), binary);

        // Printable text that looks like the escape is itself escaped.
        let tricky = Liid::new(b"hex:41").unwrap();
        assert_eq!(tricky.to_string(), "hex:6865783a3431");
        assert_eq!(tricky.to_string().parse::<Liid>().unwrap(), tricky);

        assert_eq!(
            "hex:0".parse::<Liid>(),
            Err(Error::InvalidHexEscape { field: "LIID" })
        );
        assert_eq!(
            "hex:zz".parse::<Liid>(),
            Err(Error::InvalidHexEscape { field: "LIID" })
        );
    }

    #[test]
    fn liid_equality_ordering_and_hash_ignore_padding() {
        let a = Liid::new(b"A").unwrap();
        let a0 = Liid::new(b"A\0").unwrap();
        let b = Liid::new(b"B").unwrap();
        assert_ne!(a, a0);
        assert!(a < a0 && a0 < b);
        let set: HashSet<Liid> = [a, a0, b, Liid::new(b"A").unwrap()].into_iter().collect();
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn network_identifier_lengths() {
        assert_eq!(
            OperatorId::new(&[1; 17]),
            Err(Error::OperatorIdLength { len: 17 })
        );
        assert_eq!(
            OperatorId::new(b""),
            Err(Error::OperatorIdLength { len: 0 })
        );
        assert_eq!(OperatorId::new(&[1; 16]).unwrap().as_bytes(), &[1; 16]);
        assert_eq!(
            NetworkElementId::new(&[1; 17]),
            Err(Error::NetworkElementIdLength { len: 17 })
        );
        assert_eq!(
            "ne-1".parse::<NetworkElementId>().unwrap().as_bytes(),
            b"ne-1"
        );
        assert_eq!(
            "hex:zz".parse::<OperatorId>(),
            Err(Error::InvalidHexEscape {
                field: "operator identifier"
            })
        );
    }

    #[test]
    fn xid_parse_and_format() {
        let xid: Xid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8".parse().unwrap();
        assert_eq!(
            xid.as_bytes(),
            &[
                0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
                0x30, 0xc8
            ]
        );
        assert_eq!(xid.version(), 1);
        assert_eq!(xid.to_string(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(
            format!("{xid:?}"),
            "Xid(6ba7b810-9dad-11d1-80b4-00c04fd430c8)"
        );
        assert_eq!(
            "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"
                .parse::<Xid>()
                .unwrap(),
            xid
        );
    }

    #[test]
    fn xid_rejections() {
        for bad in [
            "",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c80",
            "6ba7b8109dad-11d1-80b4-00c04fd430c8-",
            "6ba7b810-9dad-11d1-80b4_00c04fd430c8",
            "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
            "{ba7b810-9dad-11d1-80b4-00c04fd430c}",
            "6ba7b810-9dad-11d1-80b4-00c04fd430\u{e9}",
        ] {
            let err = bad.parse::<Xid>().unwrap_err();
            assert!(
                matches!(err, Error::InvalidUuid { field: "XID", .. }),
                "{bad:?} gave {err:?}"
            );
        }
        assert!(matches!(
            "x".parse::<DestinationId>(),
            Err(Error::InvalidUuid { field: "DID", .. })
        ));
    }

    #[test]
    fn v4_from_random_sets_version_and_variant() {
        let zero = Xid::new_v4_from_random([0; 16]);
        assert_eq!(zero.to_string(), "00000000-0000-4000-8000-000000000000");
        let ones = DestinationId::new_v4_from_random([0xff; 16]);
        assert_eq!(ones.to_string(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(ones.version(), 4);
    }

    #[test]
    fn cin_text() {
        assert_eq!("4294967295".parse::<Cin>().unwrap(), Cin::new(u32::MAX));
        assert_eq!(Cin::new(7).to_string(), "7");
        assert_eq!(u32::from(Cin::from(9)), 9);
        assert_eq!(
            "4294967296".parse::<Cin>(),
            Err(Error::InvalidCin {
                input: "4294967296".into()
            })
        );
        assert!("-1".parse::<Cin>().is_err());
    }

    #[test]
    fn country_codes() {
        let de = CountryCode::new("de").unwrap();
        assert_eq!(de, "DE".parse().unwrap());
        assert_eq!(de.as_bytes(), b"DE");
        assert_eq!(de.to_string(), "DE");
        for bad in ["", "D", "DEU", "D1", "\u{c4}", "  "] {
            assert_eq!(
                CountryCode::new(bad),
                Err(Error::InvalidCountryCode { input: bad.into() })
            );
        }
    }

    #[test]
    fn error_input_is_bounded() {
        let long = "9".repeat(1000);
        let Err(Error::InvalidCin { input }) = long.parse::<Cin>() else {
            panic!("expected InvalidCin");
        };
        assert_eq!(input.len(), 64);
    }

    proptest! {
        #[test]
        fn liid_text_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..=25)) {
            let liid = Liid::new(&bytes).unwrap();
            let text = liid.to_string();
            let back: Liid = text.parse().unwrap();
            prop_assert_eq!(back, liid);
            prop_assert_eq!(back.as_bytes(), &bytes[..]);
        }

        #[test]
        fn liid_printable_text_is_verbatim(text in "[ -~]{1,25}") {
            prop_assume!(!text.starts_with(HEX_PREFIX));
            let liid: Liid = text.parse().unwrap();
            prop_assert_eq!(liid.to_string(), text);
        }

        #[test]
        fn octet_identifiers_parse_arbitrary_text_without_panic(text in "\\PC{0,40}") {
            let _ = text.parse::<Liid>();
            let _ = text.parse::<OperatorId>();
            let _ = text.parse::<NetworkElementId>();
            let _ = text.parse::<CountryCode>();
            let _ = text.parse::<Cin>();
        }

        #[test]
        fn xid_text_round_trip(bytes in any::<[u8; 16]>()) {
            let xid = Xid::from_bytes(bytes);
            let text = xid.to_string();
            prop_assert_eq!(text.len(), 36);
            prop_assert_eq!(text.parse::<Xid>().unwrap(), xid);
            prop_assert_eq!(text.to_uppercase().parse::<Xid>().unwrap(), xid);
            let did = DestinationId::from_bytes(bytes);
            prop_assert_eq!(did.to_string().parse::<DestinationId>().unwrap(), did);
        }

        #[test]
        fn xid_parse_arbitrary_text_without_panic(text in "[-0-9a-fA-Fx]{30,40}|\\PC{0,40}") {
            if let Ok(xid) = text.parse::<Xid>() {
                prop_assert_eq!(xid.to_string(), text.to_lowercase());
            }
        }
    }
}
