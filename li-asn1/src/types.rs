//! ASN.1 value types shared by the PDU modules: object identifiers, GeneralizedTime, opaque
//! elements, and the macro behind the ENUMERATED types.

use core::fmt;

use li_core::Timestamp;

use crate::ber::{Tag, Tlv, Writer};
use crate::error::{Error, Result};

/// An OBJECT IDENTIFIER, as its arcs (X.680 clause 32).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectIdentifier(Vec<u64>);

impl ObjectIdentifier {
    /// Checks the X.660 rules: at least two arcs, the first 0, 1 or 2, the second below 40
    /// under 0 and 1.
    pub fn new(arcs: &[u64]) -> Option<Self> {
        match arcs {
            [0 | 1, second, ..] if *second < 40 => Some(Self(arcs.to_vec())),
            [2, second, ..] if *second <= u64::MAX - 80 => Some(Self(arcs.to_vec())),
            _ => None,
        }
    }

    /// The arcs.
    pub fn arcs(&self) -> &[u64] {
        &self.0
    }

    /// The LI-PS-PDU module identifier `{0 4 0 2 2 5 1 version}` carried in
    /// `PSHeader.li-psDomainId` (TS 102 232-1 clause 5.2.1).
    pub fn li_ps_domain_id(version: u16) -> Self {
        Self(vec![0, 4, 0, 2, 2, 5, 1, u64::from(version)])
    }

    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        let (first, rest) = match self.0.as_slice() {
            [a, b, rest @ ..] => (a * 40 + b, rest),
            _ => (0, &[][..]),
        };
        w.subidentifiers(tag, core::iter::once(first).chain(rest.iter().copied()));
    }

    pub(crate) fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let subids = tlv.subidentifiers(field)?;
        let (&first, rest) = subids
            .split_first()
            .ok_or(tlv.invalid(field, "empty object identifier"))?;
        let (a, b) = match first {
            0..=39 => (0, first),
            40..=79 => (1, first - 40),
            _ => (2, first - 80),
        };
        let mut arcs = Vec::with_capacity(subids.len() + 1);
        arcs.extend([a, b]);
        arcs.extend_from_slice(rest);
        Ok(Self(arcs))
    }
}

impl fmt::Display for ObjectIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_arcs(&self.0, f)
    }
}

/// A RELATIVE-OID (X.680 clause 33): the payload object identifiers of TS 102 232 are
/// relative to `{0 4 0 2 2}` (lawfulIntercept).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelativeOid(Vec<u64>);

impl RelativeOid {
    /// A relative OID of at least one arc.
    pub fn new(arcs: &[u64]) -> Option<Self> {
        (!arcs.is_empty()).then(|| Self(arcs.to_vec()))
    }

    /// The arcs.
    pub fn arcs(&self) -> &[u64] {
        &self.0
    }

    pub(crate) fn from_vec(arcs: Vec<u64>) -> Self {
        Self(arcs)
    }

    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.subidentifiers(tag, self.0.iter().copied());
    }

    pub(crate) fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(Self(tlv.subidentifiers(field)?))
    }
}

impl fmt::Display for RelativeOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_arcs(&self.0, f)
    }
}

fn fmt_arcs(arcs: &[u64], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, arc) in arcs.iter().enumerate() {
        if i > 0 {
            f.write_str(".")?;
        }
        write!(f, "{arc}")?;
    }
    Ok(())
}

/// A GeneralizedTime value (X.680 clause 46) as it was sent, with the instant it denotes.
///
/// Decoding keeps the text so a re-encoding is faithful; [`GeneralizedTime::from_timestamp`]
/// produces the canonical UTC form with the fraction's trailing zeros removed
/// (`20240102030405.678Z`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GeneralizedTime {
    text: String,
    instant: Timestamp,
}

impl GeneralizedTime {
    /// Parses and checks a GeneralizedTime text.
    pub fn parse(text: &str) -> Option<Self> {
        let instant = Timestamp::parse_generalized_time(text).ok()?;
        Some(Self {
            text: text.to_owned(),
            instant,
        })
    }

    /// The canonical UTC form of `instant`.
    pub fn from_timestamp(instant: Timestamp) -> Self {
        let mut buf = [0u8; 22];
        let len = write_canonical(instant, &mut buf);
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or(&[])).into_owned();
        Self { text, instant }
    }

    /// The text as encoded.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant, in UTC with microsecond resolution (finer fractions are truncated).
    pub fn timestamp(&self) -> Timestamp {
        self.instant
    }

    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.primitive(tag, self.text.as_bytes());
    }

    pub(crate) fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let octets = tlv.octets(field)?;
        let text = core::str::from_utf8(&octets)
            .map_err(|_| tlv.invalid(field, "GeneralizedTime is not ASCII"))?;
        Self::parse(text).ok_or(tlv.invalid(field, "not a valid GeneralizedTime"))
    }
}

/// Writes the canonical form (`YYYYMMDDhhmmss[.f+]Z`, no trailing zeros in the fraction) of
/// `instant` into `out` and returns its length (15 to 22 octets). No allocation: hot paths
/// use it per record.
pub(crate) fn write_canonical(instant: Timestamp, out: &mut [u8; 22]) -> usize {
    instant.write_generalized_time(out);
    // out holds YYYYMMDDhhmmss.ffffffZ: drop trailing zeros, and the dot if nothing is left.
    let mut end = 21;
    while end > 15 && out.get(end - 1) == Some(&b'0') {
        end -= 1;
    }
    if end == 15 {
        end = 14;
    }
    if let Some(b) = out.get_mut(end) {
        *b = b'Z';
    }
    end + 1
}

/// An element kept as its encoding because its type is defined in a module that is not
/// public or not modelled here (for example `cINExtension`, `eTSI671NEID`, `location`).
///
/// Decoding stores the content octets of the field's element; encoding writes them back
/// under the field's tag, so the value passes through unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Opaque {
    /// True when the element was in the constructed form.
    pub constructed: bool,
    /// The content octets.
    pub content: Vec<u8>,
}

impl Opaque {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        let tag = if self.constructed {
            tag.into_constructed()
        } else {
            tag
        };
        w.primitive(tag, &self.content);
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Self {
        Self {
            constructed: tlv.tag.constructed,
            content: tlv.content.to_vec(),
        }
    }
}

/// A CHOICE alternative this crate does not model: its context tag number and value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownAlternative {
    /// The context-specific tag number of the alternative.
    pub tag_number: u32,
    /// Its encoding.
    pub value: Opaque,
}

impl UnknownAlternative {
    pub(crate) fn encode(&self, w: &mut Writer) {
        self.value.encode(w, Tag::context(self.tag_number));
    }

    pub(crate) fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let tag_number = tlv
            .tag
            .context_number()
            .ok_or(tlv.unexpected(field, "a context-specific alternative"))?;
        Ok(Self {
            tag_number,
            value: Opaque::decode(tlv),
        })
    }
}

/// Stores a decoded field, refusing a second occurrence.
pub(crate) fn put<T>(
    slot: &mut Option<T>,
    value: T,
    field: &'static str,
    tlv: &Tlv<'_>,
) -> Result<()> {
    if slot.is_some() {
        return Err(Error::DuplicateField {
            field,
            offset: tlv.offset,
        });
    }
    *slot = Some(value);
    Ok(())
}

/// Unwraps a mandatory field.
pub(crate) fn required<T>(slot: Option<T>, field: &'static str, parent: &Tlv<'_>) -> Result<T> {
    slot.ok_or(Error::MissingField {
        field,
        offset: parent.offset,
    })
}

/// Defines an ENUMERATED type: its variants with their values and ASN.1 names, and for an
/// extensible type an `Unrecognized(i64)` variant so values added by later versions survive.
macro_rules! asn1_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal, extensible {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $asn:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know (the type is extensible).
            Unrecognized(i64),
        }

        impl $name {
            /// The encoded value.
            pub fn value(self) -> i64 {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unrecognized(v) => v,
                }
            }

            /// The variant for an encoded value.
            pub fn from_value(value: i64) -> Self {
                match value {
                    $( $value => Self::$variant, )+
                    v => Self::Unrecognized(v),
                }
            }

            /// The identifier in the ASN.1 module, or `None` for an unknown value.
            pub fn asn1_name(self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => Some($asn), )+
                    Self::Unrecognized(_) => None,
                }
            }

            #[allow(dead_code)]
            pub(crate) fn encode(self, w: &mut $crate::ber::Writer, tag: $crate::ber::Tag) {
                w.i64(tag, self.value());
            }

            #[allow(dead_code)]
            pub(crate) fn decode(tlv: &$crate::ber::Tlv<'_>) -> $crate::error::Result<Self> {
                Ok(Self::from_value(tlv.enumerated($field)?))
            }
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal, closed {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $asn:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The encoded value.
            pub fn value(self) -> i64 {
                match self {
                    $( Self::$variant => $value, )+
                }
            }

            /// The variant for an encoded value, if the type defines it.
            pub fn from_value(value: i64) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The identifier in the ASN.1 module.
            pub fn asn1_name(self) -> &'static str {
                match self {
                    $( Self::$variant => $asn, )+
                }
            }

            #[allow(dead_code)]
            pub(crate) fn encode(self, w: &mut $crate::ber::Writer, tag: $crate::ber::Tag) {
                w.i64(tag, self.value());
            }

            #[allow(dead_code)]
            pub(crate) fn decode(tlv: &$crate::ber::Tlv<'_>) -> $crate::error::Result<Self> {
                Self::from_value(tlv.enumerated($field)?)
                    .ok_or(tlv.invalid($field, "value not defined by the ENUMERATED type"))
            }
        }
    };
}
pub(crate) use asn1_enum;
