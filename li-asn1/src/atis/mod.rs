//! US CALEA handover formats of the ATIS family, starting with ATIS-1000013 (formerly T1.IAS,
//! "LAES for Internet Access and Services").
//!
//! - [`ias`]: the CmII `IasProtocol` (communications-identifying information: access
//!   attempts, sessions, packet data sessions, header and summary reports);
//! - [`ias_opt`]: the optional CmII messages (`IasOptionalMessage`: service change, VPN
//!   security, surveillance activation/continuation/change/deactivation), which the standard
//!   puts in a module of their own with its own `IasProtocol`;
//! - [`ias_cc`]: the CmC delivery header `IAS-CC-APDU` and its hot-path encoder
//!   [`ias_cc::IasCcEncoder`].
//! - [`access`]: the CmII messages of `li-core`'s access records ([`access::IasMapper`]),
//!   the mapping an ATIS-1000013 destination of the mediator uses.
//!
//! The ASN.1 of ATIS-1000013 is sold, not published. These codecs follow the modules the
//! project rebuilt from public generated code of the 2007 draft (see
//! `shared/standards/atis/README.md`): names, tags, OPTIONAL and constraints are exact as far
//! as that code shows, IMPLICIT TAGS is inferred, and the module object identifiers are
//! OpenCALEA's example values ([`cmii_oid`], [`cmcc_oid`]), unverified. Anything the
//! reconstruction cannot tell is kept as it was received: an unknown CHOICE alternative as
//! an [`crate::UnknownAlternative`], unknown SEQUENCE components skipped, as for the ETSI codecs.
//!
//! The decoders share the ETSI codecs' BER core and tolerance: indefinite and long-form
//! lengths, constructed strings, unknown components; a duplicate or missing mandatory field,
//! a wrong tag or a value outside its constraint is an [`crate::Error`] naming the field
//! (`Access-Attempt.caseId`) and the offset.

pub mod access;
pub mod ias;
pub mod ias_cc;
pub mod ias_opt;

use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::types::{GeneralizedTime, ObjectIdentifier, put, required};

/// OpenCALEA's example OID of the CmII module, `{1 2 840 113737 2 1 1 0 0}` (unverified:
/// the standard's own value is not public). A later text slots in as another OID.
pub fn cmii_oid() -> ObjectIdentifier {
    ObjectIdentifier::new(&[1, 2, 840, 113_737, 2, 1, 1, 0, 0]).unwrap_or_else(unreachable_oid)
}

/// OpenCALEA's example OID of the CmCC module, `{1 2 840 113737 2 1 1 1 0}`
/// (`IAS-CCDeliveryFormat.atis-678-ASN1`), unverified.
pub fn cmcc_oid() -> ObjectIdentifier {
    ObjectIdentifier::new(&[1, 2, 840, 113_737, 2, 1, 1, 1, 0]).unwrap_or_else(unreachable_oid)
}

/// The arcs above always pass [`ObjectIdentifier::new`]; this keeps the functions total
/// without a panic path.
fn unreachable_oid() -> ObjectIdentifier {
    ObjectIdentifier::li_ps_domain_id(0)
}

/// A field's codec under a context tag `[n]`: implicit for SEQUENCEs and simple types,
/// explicit (a constructed `[n]` around the alternative) for CHOICE types, as X.680 31.2.7
/// requires under IMPLICIT TAGS.
pub(crate) trait Field: Sized {
    fn encode_field(&self, w: &mut Writer, tag: u32);
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self>;
}

/// A component of a SET OF / SEQUENCE OF, with its own (universal or CHOICE) tag.
pub(crate) trait Element: Sized {
    fn encode_element(&self, w: &mut Writer);
    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self>;
}

/// UTF8String.
impl Field for String {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.primitive(Tag::context(tag), self.as_bytes());
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        tlv.utf8(field)
    }
}

/// UTF8String as a SET OF component (UNIVERSAL 12).
impl Element for String {
    fn encode_element(&self, w: &mut Writer) {
        w.primitive(UTF8_STRING, self.as_bytes());
    }
    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        if !tlv.tag.same_type(UTF8_STRING) {
            return Err(tlv.unexpected(field, "a UTF8String"));
        }
        tlv.utf8(field)
    }
}

/// INTEGER (unconstrained in the modules; this crate keeps the `i64` range).
impl Field for i64 {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.i64(Tag::context(tag), *self);
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        tlv.i64(field)
    }
}

/// OBJECT IDENTIFIER.
impl Field for ObjectIdentifier {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        self.encode(w, Tag::context(tag));
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Self::decode(tlv, field)
    }
}

/// `SET OF T` under an implicit context tag.
impl<T: Element> Field for Vec<T> {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            for item in self {
                item.encode_element(w);
            }
        });
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let mut out = Vec::new();
        let mut r = tlv.children(field)?;
        while let Some(item) = r.next_tlv()? {
            out.push(T::decode_element(&item, field)?);
        }
        Ok(out)
    }
}

/// Implements [`Field`] for a CHOICE type (explicit tag around the alternative) and
/// [`Element`] (the alternative alone), from its `encode_choice` / `decode_choice`.
macro_rules! choice_field {
    ($t:ty) => {
        impl $crate::atis::Field for $t {
            fn encode_field(&self, w: &mut $crate::ber::Writer, tag: u32) {
                w.constructed($crate::ber::Tag::context_constructed(tag), |w| {
                    self.encode_choice(w)
                });
            }
            fn decode_field(
                tlv: &$crate::ber::Tlv<'_>,
                field: &'static str,
            ) -> $crate::error::Result<Self> {
                Self::decode_choice(&tlv.single_child(field)?, field)
            }
        }

        impl $crate::atis::Element for $t {
            fn encode_element(&self, w: &mut $crate::ber::Writer) {
                self.encode_choice(w);
            }
            fn decode_element(
                tlv: &$crate::ber::Tlv<'_>,
                field: &'static str,
            ) -> $crate::error::Result<Self> {
                Self::decode_choice(tlv, field)
            }
        }
    };
}
pub(crate) use choice_field;

pub(crate) const UTF8_STRING: Tag = Tag::universal(12);

/// A VisibleString (ISO 646 graphic characters and space) whose length lies in `min..=max`.
pub(crate) fn visible(
    tlv: &Tlv<'_>,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<String> {
    let octets = tlv.octets(field)?;
    if !octets.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(tlv.invalid(field, "character outside VisibleString"));
    }
    if octets.len() < min || octets.len() > max {
        return Err(tlv.invalid(field, "size outside the constraint"));
    }
    String::from_utf8(octets.into_owned()).map_err(|_| tlv.invalid(field, "not ASCII"))
}

/// The three components every CmII message starts with: `caseId [0]`, `iAPSystemId [1]`,
/// `timestamp [2]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IasHeader {
    /// `caseId`: VisibleString (1..25), the intercept's identity as agreed with the agency.
    pub case_id: String,
    /// `iAPSystemId`: VisibleString naming the intercept access point (no size constraint in
    /// the CmII module, 1..15 in the optional-messages module).
    pub iap_system_id: String,
    /// `timestamp`: GeneralizedTime.
    pub timestamp: GeneralizedTime,
}

impl IasHeader {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.primitive(Tag::context(0), self.case_id.as_bytes());
        w.primitive(Tag::context(1), self.iap_system_id.as_bytes());
        self.timestamp.encode(w, Tag::context(2));
    }
}

/// The header's slots while a message's components are read.
#[derive(Default)]
pub(crate) struct HeaderSlots {
    case_id: Option<String>,
    iap_system_id: Option<String>,
    timestamp: Option<GeneralizedTime>,
}

impl HeaderSlots {
    /// Takes component `f` if it is one of the header's (`names` are the message's
    /// `caseId`, `iAPSystemId`, `timestamp`); returns false otherwise.
    pub(crate) fn take(
        &mut self,
        f: &Tlv<'_>,
        names: &[&'static str; 3],
        (iap_min, iap_max): (usize, usize),
    ) -> Result<bool> {
        let [case, iap, time] = *names;
        match f.tag.context_number() {
            Some(0) => put(&mut self.case_id, visible(f, case, 1, 25)?, case, f)?,
            Some(1) => put(
                &mut self.iap_system_id,
                visible(f, iap, iap_min, iap_max)?,
                iap,
                f,
            )?,
            Some(2) => put(
                &mut self.timestamp,
                GeneralizedTime::decode(f, time)?,
                time,
                f,
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(crate) fn finish(self, names: &[&'static str; 3], parent: &Tlv<'_>) -> Result<IasHeader> {
        let [case, iap, time] = *names;
        Ok(IasHeader {
            case_id: required(self.case_id, case, parent)?,
            iap_system_id: required(self.iap_system_id, iap, parent)?,
            timestamp: required(self.timestamp, time, parent)?,
        })
    }
}

/// Defines a CmII message: a SEQUENCE starting with the [`IasHeader`] components `[0]..[2]`,
/// then the listed components, with its encoder and its decoder (components in any order,
/// unknown ones skipped, duplicates and missing mandatory ones named errors).
macro_rules! ias_message {
    (
        $(#[$meta:meta])*
        $name:ident, $asn:literal, iap_size = ($iap_min:expr, $iap_max:expr), {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty = [$tag:literal] $fasn:literal $presence:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            /// `caseId [0]`, `iAPSystemId [1]`, `timestamp [2]`.
            pub header: $crate::atis::IasHeader,
            $( $(#[$fmeta])* pub $field: $crate::atis::ias_message!(@ty $presence $fty), )*
        }

        impl $name {
            const HEADER_NAMES: [&'static str; 3] = [
                concat!($asn, ".caseId"),
                concat!($asn, ".iAPSystemId"),
                concat!($asn, ".timestamp"),
            ];

            pub(crate) fn encode(&self, w: &mut $crate::ber::Writer, tag: $crate::ber::Tag) {
                w.constructed(tag, |w| {
                    self.header.encode(w);
                    $( $crate::atis::ias_message!(@enc $presence w, self.$field, $tag); )*
                });
            }

            pub(crate) fn decode(tlv: &$crate::ber::Tlv<'_>) -> $crate::error::Result<Self> {
                let mut header = $crate::atis::HeaderSlots::default();
                $( let mut $field: Option<$fty> = None; )*
                let mut r = tlv.children($asn)?;
                while let Some(f) = r.next_tlv()? {
                    if header.take(&f, &Self::HEADER_NAMES, ($iap_min, $iap_max))? {
                        continue;
                    }
                    match f.tag.context_number() {
                        $( Some($tag) => {
                            const N: &str = concat!($asn, ".", $fasn);
                            $crate::types::put(
                                &mut $field,
                                <$fty as $crate::atis::Field>::decode_field(&f, N)?,
                                N,
                                &f,
                            )?;
                        } )*
                        _ => {}
                    }
                }
                Ok(Self {
                    header: header.finish(&Self::HEADER_NAMES, tlv)?,
                    $( $field: $crate::atis::ias_message!(
                        @fin $presence $field, concat!($asn, ".", $fasn), tlv
                    ), )*
                })
            }
        }
    };
    (@ty required $t:ty) => { $t };
    (@ty optional $t:ty) => { Option<$t> };
    (@enc required $w:ident, $v:expr, $tag:literal) => {
        $crate::atis::Field::encode_field(&$v, $w, $tag)
    };
    (@enc optional $w:ident, $v:expr, $tag:literal) => {
        if let Some(v) = &$v {
            $crate::atis::Field::encode_field(v, $w, $tag);
        }
    };
    (@fin required $slot:ident, $n:expr, $tlv:ident) => {
        $crate::types::required($slot, $n, $tlv)?
    };
    (@fin optional $slot:ident, $n:expr, $tlv:ident) => { $slot };
}
pub(crate) use ias_message;

/// Writes `IasProtocol ::= SEQUENCE { protocolIdentifier OBJECT IDENTIFIER, iasMessage }`.
pub(crate) fn encode_protocol(
    oid: &ObjectIdentifier,
    out: &mut Vec<u8>,
    message: impl FnOnce(&mut Writer),
) {
    let mut w = Writer::from_vec(core::mem::take(out));
    w.constructed(Tag::SEQUENCE, |w| {
        oid.encode(w, Tag::OBJECT_IDENTIFIER);
        message(w);
    });
    *out = w.into_vec();
}

/// Reads `IasProtocol` from the first element of `data`: the protocol identifier and the
/// message's tagged element, handed to `message`. Returns the value and the octets used.
pub(crate) fn decode_protocol<T>(
    data: &[u8],
    name: &'static str,
    message: impl FnOnce(&Tlv<'_>) -> Result<T>,
) -> Result<(ObjectIdentifier, T, usize)> {
    let mut r = crate::ber::Reader::new(data);
    let tlv = r.read()?;
    if tlv.tag != Tag::SEQUENCE {
        return Err(tlv.unexpected(name, "a SEQUENCE"));
    }
    const OID: &str = "IasProtocol.protocolIdentifier";
    const MSG: &str = "IasProtocol.iasMessage";
    let (mut oid, mut msg) = (None, None);
    let mut inner = tlv.children(name)?;
    let mut message = Some(message);
    while let Some(f) = inner.next_tlv()? {
        if f.tag == Tag::OBJECT_IDENTIFIER {
            put(&mut oid, ObjectIdentifier::decode(&f, OID)?, OID, &f)?;
        } else if f.tag.context_number().is_some() {
            let decode = message.take().ok_or(crate::Error::DuplicateField {
                field: MSG,
                offset: f.offset,
            })?;
            msg = Some(decode(&f)?);
        }
    }
    Ok((
        required(oid, OID, &tlv)?,
        required(msg, MSG, &tlv)?,
        tlv.encoded_len,
    ))
}
