//! Conditional attributes (ETSI TS 103 221-2 clause 5.3): the type-length-value fields between
//! the 40-octet fixed header and the payload.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::BufMut;

use super::error::{Error, Result};

/// One conditional attribute field (TS 103 221-2 clause 5.3): `Type` (u16), `Length` (u16),
/// `Value`.
///
/// Attributes whose value the standard defines get a typed variant and are checked on decode
/// (a sequence number must be 4 octets, a string UTF-8, ...). Opaque attributes keep their
/// octets. An attribute type this codec does not know decodes to [`Attribute::Unknown`] and is
/// encoded back unchanged, so a mediator can relay PDUs from a newer POI without loss.
///
/// Encoding writes the attributes in the order of [`Pdu::attributes`](super::Pdu::attributes);
/// decoding keeps the order of the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attribute {
    /// Type 1, ETSI TS 102 232-1 Defined Attribute: opaque (BER per TS 102 232-1).
    Etsi102232Attribute(Vec<u8>),
    /// Type 2, 3GPP TS 33.128 Defined Attribute: opaque.
    Tgpp33128Attribute(Vec<u8>),
    /// Type 3, 3GPP TS 33.108 Defined Attribute: opaque.
    Tgpp33108Attribute(Vec<u8>),
    /// Type 4, Proprietary Attribute: opaque.
    ProprietaryAttribute(Vec<u8>),
    /// Type 5, Domain ID (DID): opaque octets (X1's DId is a UUID).
    DomainId(Vec<u8>),
    /// Type 6, Network Function ID (NFID): octets, usually text.
    NetworkFunctionId(Vec<u8>),
    /// Type 7, Interception Point ID (IPID): octets, usually text.
    InterceptionPointId(Vec<u8>),
    /// Type 8, Sequence Number: u32, wrapping at 2^32 (clause 5.3.9).
    SequenceNumber(u32),
    /// Type 9, Timestamp: u32 seconds since 1970-01-01 then u32 nanoseconds.
    Timestamp(PduTimestamp),
    /// Type 10, Source IPv4 Address: 4 octets.
    SourceIpv4(Ipv4Addr),
    /// Type 11, Destination IPv4 Address: 4 octets.
    DestinationIpv4(Ipv4Addr),
    /// Type 12, Source IPv6 Address: 16 octets.
    SourceIpv6(Ipv6Addr),
    /// Type 13, Destination IPv6 Address: 16 octets.
    DestinationIpv6(Ipv6Addr),
    /// Type 14, Source Port: u16.
    SourcePort(u16),
    /// Type 15, Destination Port: u16.
    DestinationPort(u16),
    /// Type 16, IP Protocol: u8 (IANA protocol number).
    IpProtocol(u8),
    /// Type 17, Matched Target Identifier: UTF-8 (for example a SIP URI).
    MatchedTargetIdentifier(String),
    /// Type 18, Other Target Identifier: UTF-8.
    OtherTargetIdentifier(String),
    /// Type 19, MIME Content Type: UTF-8.
    MimeContentType(String),
    /// Type 20, MIME Content Transfer Encoding: UTF-8.
    MimeContentTransferEncoding(String),
    /// Type 21, Additional XID Related Information: opaque.
    AdditionalXidRelatedInformation(Vec<u8>),
    /// Type 22, SDP Session Description: UTF-8.
    SdpSessionDescription(String),
    /// Any other type (0, or one added after the registry this codec knows), kept as is.
    ///
    /// Decoding never produces `Unknown` for types 1..=22; a value built by hand with such a
    /// type is still encoded as given.
    Unknown {
        /// The attribute type.
        attr_type: u16,
        /// The value octets.
        value: Vec<u8>,
    },
}

/// The value of the Timestamp attribute (type 9, TS 103 221-2 clause 5.3): seconds since
/// 1970-01-01T00:00:00Z and nanoseconds, two successive big-endian u32.
///
/// Kept exactly as on the wire: decoding does not reject `nanos >= 1_000_000_000`, so a PDU
/// relays unchanged; [`PduTimestamp::to_core`] is where such a value is refused.
///
/// ```
/// use li_core::Timestamp;
/// use li_handover::x2x3::PduTimestamp;
///
/// let t = Timestamp::from_secs_micros(1_704_164_645, 123_456)?;
/// let wire = PduTimestamp::from_core(t).expect("before 2106");
/// assert_eq!(wire, PduTimestamp::new(1_704_164_645, 123_456_000));
/// assert_eq!(wire.to_core(), Some(t));
/// # Ok::<(), li_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PduTimestamp {
    /// Seconds since the Unix epoch (u32: good until 2106-02-07).
    pub secs: u32,
    /// Nanoseconds within the second, `0..1_000_000_000` when valid.
    pub nanos: u32,
}

impl PduTimestamp {
    /// The timestamp `secs` seconds and `nanos` nanoseconds after the Unix epoch, unchecked.
    pub const fn new(secs: u32, nanos: u32) -> Self {
        Self { secs, nanos }
    }

    /// The wire form of a [`li_core::Timestamp`]; `None` after 2106-02-07T06:28:15Z, which
    /// the 32-bit seconds cannot say.
    pub fn from_core(ts: li_core::Timestamp) -> Option<Self> {
        let secs = u32::try_from(ts.unix_secs()).ok()?;
        Some(Self {
            secs,
            nanos: ts.subsec_micros().saturating_mul(1_000),
        })
    }

    /// The [`li_core::Timestamp`] (microsecond precision: nanoseconds are truncated); `None`
    /// when `nanos` is not below one second.
    pub fn to_core(self) -> Option<li_core::Timestamp> {
        if self.nanos >= 1_000_000_000 {
            return None;
        }
        li_core::Timestamp::from_secs_micros(u64::from(self.secs), self.nanos / 1_000).ok()
    }
}

impl Attribute {
    /// The "original length" Proprietary Attribute of an IP packet cut by the capture, of
    /// `original_len` octets as its IP header declares ([`super::ORIGINAL_LENGTH_MAGIC`]).
    pub fn original_length_attribute(original_len: u32) -> Self {
        let mut value = super::cc::ORIGINAL_LENGTH_MAGIC.to_vec();
        value.extend_from_slice(&original_len.to_be_bytes());
        Self::ProprietaryAttribute(value)
    }

    /// The length in an "original length" Proprietary Attribute (8 octets: `LIOL`, then a
    /// big-endian `u32`, [`super::ORIGINAL_LENGTH_MAGIC`]); `None` for any other attribute.
    pub fn original_length(&self) -> Option<u32> {
        self.proprietary(&super::cc::ORIGINAL_LENGTH_MAGIC)
            .and_then(|len| <[u8; 4]>::try_from(len).ok())
            .map(u32::from_be_bytes)
    }

    /// The value after `magic` of a Proprietary Attribute that starts with it (this suite's
    /// attributes: a 4-octet magic, then the value); `None` for any other attribute.
    pub fn proprietary(&self, magic: &[u8; 4]) -> Option<&[u8]> {
        match self {
            Self::ProprietaryAttribute(value) => value.strip_prefix(magic.as_slice()),
            _ => None,
        }
    }

    /// The attribute type code of clause 5.3.
    pub fn attr_type(&self) -> u16 {
        match self {
            Self::Etsi102232Attribute(_) => 1,
            Self::Tgpp33128Attribute(_) => 2,
            Self::Tgpp33108Attribute(_) => 3,
            Self::ProprietaryAttribute(_) => 4,
            Self::DomainId(_) => 5,
            Self::NetworkFunctionId(_) => 6,
            Self::InterceptionPointId(_) => 7,
            Self::SequenceNumber(_) => 8,
            Self::Timestamp(_) => 9,
            Self::SourceIpv4(_) => 10,
            Self::DestinationIpv4(_) => 11,
            Self::SourceIpv6(_) => 12,
            Self::DestinationIpv6(_) => 13,
            Self::SourcePort(_) => 14,
            Self::DestinationPort(_) => 15,
            Self::IpProtocol(_) => 16,
            Self::MatchedTargetIdentifier(_) => 17,
            Self::OtherTargetIdentifier(_) => 18,
            Self::MimeContentType(_) => 19,
            Self::MimeContentTransferEncoding(_) => 20,
            Self::AdditionalXidRelatedInformation(_) => 21,
            Self::SdpSessionDescription(_) => 22,
            Self::Unknown { attr_type, .. } => *attr_type,
        }
    }

    /// The attribute's name in clause 5.3 (`"Unknown"` for types outside 1..=22).
    pub fn name(&self) -> &'static str {
        type_name(self.attr_type())
    }

    /// The size of the value in octets (what the Length field says).
    pub fn value_len(&self) -> usize {
        match self {
            Self::Etsi102232Attribute(v)
            | Self::Tgpp33128Attribute(v)
            | Self::Tgpp33108Attribute(v)
            | Self::ProprietaryAttribute(v)
            | Self::DomainId(v)
            | Self::NetworkFunctionId(v)
            | Self::InterceptionPointId(v)
            | Self::AdditionalXidRelatedInformation(v)
            | Self::Unknown { value: v, .. } => v.len(),
            Self::MatchedTargetIdentifier(s)
            | Self::OtherTargetIdentifier(s)
            | Self::MimeContentType(s)
            | Self::MimeContentTransferEncoding(s)
            | Self::SdpSessionDescription(s) => s.len(),
            Self::SequenceNumber(_) | Self::SourceIpv4(_) | Self::DestinationIpv4(_) => 4,
            Self::Timestamp(_) => 8,
            Self::SourceIpv6(_) | Self::DestinationIpv6(_) => 16,
            Self::SourcePort(_) | Self::DestinationPort(_) => 2,
            Self::IpProtocol(_) => 1,
        }
    }

    /// The size of the whole field: 4 octets of type and length, then the value.
    pub fn encoded_len(&self) -> usize {
        4 + self.value_len()
    }

    /// Decodes one attribute value of type `attr_type`; `offset` is where the attribute's
    /// type field sits in the PDU, for errors.
    pub fn decode(attr_type: u16, value: &[u8], offset: usize) -> Result<Self> {
        let opaque = || value.to_vec();
        Ok(match attr_type {
            1 => Self::Etsi102232Attribute(opaque()),
            2 => Self::Tgpp33128Attribute(opaque()),
            3 => Self::Tgpp33108Attribute(opaque()),
            4 => Self::ProprietaryAttribute(opaque()),
            5 => Self::DomainId(opaque()),
            6 => Self::NetworkFunctionId(opaque()),
            7 => Self::InterceptionPointId(opaque()),
            8 => Self::SequenceNumber(u32::from_be_bytes(fixed(attr_type, value, offset)?)),
            9 => {
                let [s0, s1, s2, s3, n0, n1, n2, n3] = fixed(attr_type, value, offset)?;
                Self::Timestamp(PduTimestamp {
                    secs: u32::from_be_bytes([s0, s1, s2, s3]),
                    nanos: u32::from_be_bytes([n0, n1, n2, n3]),
                })
            }
            10 => Self::SourceIpv4(Ipv4Addr::from(fixed::<4>(attr_type, value, offset)?)),
            11 => Self::DestinationIpv4(Ipv4Addr::from(fixed::<4>(attr_type, value, offset)?)),
            12 => Self::SourceIpv6(Ipv6Addr::from(fixed::<16>(attr_type, value, offset)?)),
            13 => Self::DestinationIpv6(Ipv6Addr::from(fixed::<16>(attr_type, value, offset)?)),
            14 => Self::SourcePort(u16::from_be_bytes(fixed(attr_type, value, offset)?)),
            15 => Self::DestinationPort(u16::from_be_bytes(fixed(attr_type, value, offset)?)),
            16 => Self::IpProtocol(u8::from_be_bytes(fixed(attr_type, value, offset)?)),
            17 => Self::MatchedTargetIdentifier(text(attr_type, value, offset)?),
            18 => Self::OtherTargetIdentifier(text(attr_type, value, offset)?),
            19 => Self::MimeContentType(text(attr_type, value, offset)?),
            20 => Self::MimeContentTransferEncoding(text(attr_type, value, offset)?),
            21 => Self::AdditionalXidRelatedInformation(opaque()),
            22 => Self::SdpSessionDescription(text(attr_type, value, offset)?),
            _ => Self::Unknown {
                attr_type,
                value: opaque(),
            },
        })
    }

    /// Writes type, length and value. Fails with [`Error::AttributeTooLong`] (writing nothing)
    /// when the value does not fit the 16-bit Length.
    pub fn encode_into<B: BufMut>(&self, out: &mut B) -> Result<()> {
        let len = self.checked_value_len()?;
        if out.remaining_mut() < 4 + usize::from(len) {
            return Err(Error::BufferTooSmall {
                needed: 4 + usize::from(len),
                available: out.remaining_mut(),
            });
        }
        out.put_u16(self.attr_type());
        out.put_u16(len);
        self.put_value(out);
        Ok(())
    }

    /// The value length as the 16-bit Length field, or [`Error::AttributeTooLong`].
    pub(crate) fn checked_value_len(&self) -> Result<u16> {
        let len = self.value_len();
        u16::try_from(len).map_err(|_| Error::AttributeTooLong {
            attr_type: self.attr_type(),
            len,
        })
    }

    /// Writes the value only; the caller has checked the length and the room in `out`.
    pub(crate) fn put_value<B: BufMut>(&self, out: &mut B) {
        match self {
            Self::Etsi102232Attribute(v)
            | Self::Tgpp33128Attribute(v)
            | Self::Tgpp33108Attribute(v)
            | Self::ProprietaryAttribute(v)
            | Self::DomainId(v)
            | Self::NetworkFunctionId(v)
            | Self::InterceptionPointId(v)
            | Self::AdditionalXidRelatedInformation(v)
            | Self::Unknown { value: v, .. } => out.put_slice(v),
            Self::MatchedTargetIdentifier(s)
            | Self::OtherTargetIdentifier(s)
            | Self::MimeContentType(s)
            | Self::MimeContentTransferEncoding(s)
            | Self::SdpSessionDescription(s) => out.put_slice(s.as_bytes()),
            Self::SequenceNumber(n) => out.put_u32(*n),
            Self::Timestamp(t) => {
                out.put_u32(t.secs);
                out.put_u32(t.nanos);
            }
            Self::SourceIpv4(a) | Self::DestinationIpv4(a) => out.put_slice(&a.octets()),
            Self::SourceIpv6(a) | Self::DestinationIpv6(a) => out.put_slice(&a.octets()),
            Self::SourcePort(p) | Self::DestinationPort(p) => out.put_u16(*p),
            Self::IpProtocol(p) => out.put_u8(*p),
        }
    }
}

/// Decodes the attribute area `area` (the octets from 40 up to the Header Length); `base` is
/// the offset of `area` in the PDU.
pub(crate) fn decode_attributes(area: &[u8], base: usize) -> Result<Vec<Attribute>> {
    let mut attributes = Vec::new();
    let mut rest = area;
    let mut offset = base;
    while !rest.is_empty() {
        let (Some(&[t0, t1, l0, l1]), Some(after)) = (rest.first_chunk::<4>(), rest.get(4..))
        else {
            return Err(Error::AttributeHeaderTruncated {
                offset,
                remaining: rest.len(),
            });
        };
        let attr_type = u16::from_be_bytes([t0, t1]);
        let length = u16::from_be_bytes([l0, l1]);
        let Some((value, next)) = after.split_at_checked(usize::from(length)) else {
            return Err(Error::AttributeOverrun {
                attr_type,
                offset,
                length,
                available: after.len(),
            });
        };
        attributes.push(Attribute::decode(attr_type, value, offset)?);
        offset += 4 + usize::from(length);
        rest = next;
    }
    Ok(attributes)
}

/// The clause 5.3 name of attribute type `attr_type`.
pub(crate) fn type_name(attr_type: u16) -> &'static str {
    match attr_type {
        1 => "ETSI TS 102 232-1 Defined Attribute",
        2 => "3GPP TS 33.128 Defined Attribute",
        3 => "3GPP TS 33.108 Defined Attribute",
        4 => "Proprietary Attribute",
        5 => "Domain ID",
        6 => "Network Function ID",
        7 => "Interception Point ID",
        8 => "Sequence Number",
        9 => "Timestamp",
        10 => "Source IPv4 Address",
        11 => "Destination IPv4 Address",
        12 => "Source IPv6 Address",
        13 => "Destination IPv6 Address",
        14 => "Source Port",
        15 => "Destination Port",
        16 => "IP Protocol",
        17 => "Matched Target Identifier",
        18 => "Other Target Identifier",
        19 => "MIME Content Type",
        20 => "MIME Content Transfer Encoding",
        21 => "Additional XID Related Information",
        22 => "SDP Session Description",
        _ => "Unknown",
    }
}

/// A fixed-size value, or [`Error::AttributeValueLength`].
fn fixed<const N: usize>(attr_type: u16, value: &[u8], offset: usize) -> Result<[u8; N]> {
    <[u8; N]>::try_from(value).map_err(|_| Error::AttributeValueLength {
        attr_type,
        name: type_name(attr_type),
        offset,
        expected: N,
        found: value.len(),
    })
}

/// A UTF-8 value, or [`Error::AttributeNotUtf8`].
fn text(attr_type: u16, value: &[u8], offset: usize) -> Result<String> {
    String::from_utf8(value.to_vec()).map_err(|_| Error::AttributeNotUtf8 {
        attr_type,
        name: type_name(attr_type),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_decodes_to_its_variant_and_back() {
        for attr_type in 1..=22u16 {
            let value: Vec<u8> = match attr_type {
                8 | 10 | 11 => vec![1, 2, 3, 4],
                9 => vec![0x65, 0x93, 0x7d, 0x25, 0x07, 0x5b, 0xcd, 0x15],
                12 | 13 => (1..=16).collect(),
                14 | 15 => vec![0x13, 0xc4],
                16 => vec![17],
                _ => b"text".to_vec(),
            };
            let a = Attribute::decode(attr_type, &value, 40).unwrap();
            assert_eq!(a.attr_type(), attr_type);
            assert!(!matches!(a, Attribute::Unknown { .. }), "type {attr_type}");
            assert_ne!(a.name(), "Unknown");
            assert_eq!(a.value_len(), value.len());
            let mut out = Vec::new();
            a.encode_into(&mut out).unwrap();
            assert_eq!(out.len(), a.encoded_len());
            assert_eq!(&out[..2], &attr_type.to_be_bytes());
            assert_eq!(&out[2..4], &(value.len() as u16).to_be_bytes());
            assert_eq!(&out[4..], &value[..]);
        }
    }

    #[test]
    fn unknown_types_are_kept() {
        for attr_type in [0u16, 23, 0xffff] {
            let a = Attribute::decode(attr_type, b"\x01\x02", 44).unwrap();
            assert_eq!(
                a,
                Attribute::Unknown {
                    attr_type,
                    value: vec![1, 2]
                }
            );
            assert_eq!(a.name(), "Unknown");
        }
    }

    #[test]
    fn typed_values_of_the_wrong_size_name_type_and_offset() {
        for (attr_type, expected) in [
            (8u16, 4usize),
            (9, 8),
            (10, 4),
            (11, 4),
            (12, 16),
            (13, 16),
            (14, 2),
            (15, 2),
            (16, 1),
        ] {
            for found in [0, expected - 1, expected + 1] {
                let err = Attribute::decode(attr_type, &vec![0; found], 52).unwrap_err();
                assert_eq!(
                    err,
                    Error::AttributeValueLength {
                        attr_type,
                        name: type_name(attr_type),
                        offset: 52,
                        expected,
                        found,
                    }
                );
                let text = err.to_string();
                assert!(text.contains(&format!("type {attr_type}")), "{text}");
                assert!(text.contains("offset 52"), "{text}");
            }
        }
    }

    #[test]
    fn strings_must_be_utf8() {
        for attr_type in [17u16, 18, 19, 20, 22] {
            let err = Attribute::decode(attr_type, b"sip:\xff", 60).unwrap_err();
            assert!(
                matches!(err, Error::AttributeNotUtf8 { attr_type: t, offset: 60, .. } if t == attr_type)
            );
        }
        // opaque identifiers take any octets
        assert_eq!(
            Attribute::decode(6, b"\xff", 60).unwrap(),
            Attribute::NetworkFunctionId(vec![0xff])
        );
    }

    #[test]
    fn attribute_area_must_be_filled_exactly() {
        // 3 stray octets after a complete attribute
        let area = [0, 16, 0, 1, 6, 0, 8, 0];
        assert_eq!(
            decode_attributes(&area, 40),
            Err(Error::AttributeHeaderTruncated {
                offset: 45,
                remaining: 3
            })
        );
        // value runs past the area
        let area = [0, 17, 0, 9, b'a', b'b'];
        assert_eq!(
            decode_attributes(&area, 40),
            Err(Error::AttributeOverrun {
                attr_type: 17,
                offset: 40,
                length: 9,
                available: 2
            })
        );
        assert_eq!(decode_attributes(&[], 40), Ok(vec![]));
    }

    #[test]
    fn too_long_values_are_refused_before_writing() {
        let a = Attribute::SdpSessionDescription("x".repeat(65_536));
        let mut out = Vec::new();
        assert_eq!(
            a.encode_into(&mut out),
            Err(Error::AttributeTooLong {
                attr_type: 22,
                len: 65_536
            })
        );
        assert!(out.is_empty());
        let a = Attribute::Unknown {
            attr_type: 99,
            value: vec![0; 65_535],
        };
        a.encode_into(&mut out).unwrap();
        assert_eq!(out.len(), 65_539);
    }

    #[test]
    fn timestamp_conversions() {
        let t = li_core::Timestamp::from_secs_micros(1_704_164_645, 123_456).unwrap();
        let w = PduTimestamp::from_core(t).unwrap();
        assert_eq!(w, PduTimestamp::new(1_704_164_645, 123_456_000));
        assert_eq!(w.to_core(), Some(t));
        // nanoseconds below a microsecond are truncated
        assert_eq!(
            PduTimestamp::new(1_704_164_645, 123_456_789).to_core(),
            Some(t)
        );
        assert_eq!(PduTimestamp::new(0, 1_000_000_000).to_core(), None);
        assert_eq!(
            PduTimestamp::new(u32::MAX, 999_999_999)
                .to_core()
                .map(|t| t.unix_secs()),
            Some(u64::from(u32::MAX))
        );
        let late = li_core::Timestamp::from_secs_micros(u64::from(u32::MAX) + 1, 0).unwrap();
        assert_eq!(PduTimestamp::from_core(late), None);
    }
}
