//! US CALEA handover formats of the ATIS family: ATIS-1000013 (formerly T1.IAS, "LAES for
//! Internet Access and Services") and ATIS-1000678 (formerly T1.678, "LAES for Voice over
//! Packet Technologies in Wireline Telecommunications Networks").
//!
//! - [`ias`]: the CmII `IasProtocol` (communications-identifying information: access
//!   attempts, sessions, packet data sessions, header and summary reports);
//! - [`ias_opt`]: the optional CmII messages (`IasOptionalMessage`: service change, VPN
//!   security, surveillance activation/continuation/change/deactivation), which the standard
//!   puts in a module of their own with its own `IasProtocol`;
//! - [`ias_cc`]: the CmC delivery header `IAS-CC-APDU` and its hot-path encoder
//!   [`ias_cc::IasCcEncoder`]. The ATIS-1000678 content header `CC-APDU` has exactly the same
//!   shape, so [`laes_cc`] names the same model rather than a second copy;
//! - [`laes`]: the ATIS-1000678 call data `LAESProtocol` (both the plain `laesMessage` and the
//!   `enhancedProtocol` form carrying the module's OID) with its 24 `LaesMessage` alternatives;
//! - [`laes_party`]: the ATIS-1000678 structures the messages share (`PartyIdentity`,
//!   `MediaInformation`, `ProtocolSpecificParameters`, the encapsulated signalling ...);
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
pub mod laes;
pub mod laes_cc;
pub mod laes_party;

use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::types::Opaque;
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

/// OpenCALEA's example OID of the ATIS-1000678 call-data module
/// (`T1S1-LAES-VoP-Abstract-Syntax-Module`), `{1 2 840 113737 2 1 0 0 0 1}`, carried in
/// `EnhancedProtocol.protocolIdentifier` (unverified: the standard's own value is not public).
pub fn laes_oid() -> ObjectIdentifier {
    ObjectIdentifier::new(&[1, 2, 840, 113_737, 2, 1, 0, 0, 0, 1]).unwrap_or_else(unreachable_oid)
}

/// OpenCALEA's example OID of the ATIS-1000678 `CCDeliveryHeaderModule`,
/// `{1 2 840 113737 2 1 0 1 1}`, named by `CCOpen.ccDeliveryFormat cc-APDU` (unverified).
pub fn laes_cc_oid() -> ObjectIdentifier {
    ObjectIdentifier::new(&[1, 2, 840, 113_737, 2, 1, 0, 1, 1]).unwrap_or_else(unreachable_oid)
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

/// Defines an `IasProtocol` wrapper (`SEQUENCE { protocolIdentifier OBJECT IDENTIFIER,
/// iasMessage }`, both untagged) around a message CHOICE with `encode(w)` and `decode(tlv)`:
/// the CmII module and the optional-messages module each define one, with their own message
/// type and OID.
macro_rules! ias_protocol {
    ($(#[$meta:meta])* $name:ident, $msg:ty, $oid_doc:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            #[doc = $oid_doc]
            pub protocol_identifier: $crate::types::ObjectIdentifier,
            /// `iasMessage`.
            pub message: $msg,
        }

        impl $name {
            /// The BER encoding.
            pub fn encode(&self) -> Vec<u8> {
                let mut out = Vec::new();
                self.encode_into(&mut out);
                out
            }

            /// Appends the BER encoding to `out`.
            pub fn encode_into(&self, out: &mut Vec<u8>) {
                $crate::atis::encode_protocol(&self.protocol_identifier, out, |w| {
                    self.message.encode(w)
                });
            }

            /// Decodes exactly one message; trailing octets are an error.
            pub fn decode(data: &[u8]) -> $crate::error::Result<Self> {
                $crate::atis::decode_exactly(data, Self::decode_prefix)
            }

            /// Decodes the first message of `data` (messages back to back on a stream),
            /// returning it and the octets it took.
            pub fn decode_prefix(data: &[u8]) -> $crate::error::Result<(Self, usize)> {
                let (protocol_identifier, message, used) =
                    $crate::atis::decode_protocol(data, "IasProtocol", <$msg>::decode)?;
                Ok((
                    Self {
                        protocol_identifier,
                        message,
                    },
                    used,
                ))
            }
        }
    };
}
pub(crate) use ias_protocol;

/// Decodes exactly one value with `prefix` (a `decode_prefix`); trailing octets are an error.
pub(crate) fn decode_exactly<T>(
    data: &[u8],
    prefix: impl FnOnce(&[u8]) -> Result<(T, usize)>,
) -> Result<T> {
    let (value, used) = prefix(data)?;
    if used < data.len() {
        return Err(crate::Error::TrailingData {
            offset: used,
            count: data.len() - used,
        });
    }
    Ok(value)
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

/// `CaseIdentity ::= VisibleString (SIZE(1..25))`: the intercept's identity in every
/// ATIS-1000678 message (the warrant's LIID for the suite).
///
/// Checked when it is made, so a message holding one always encodes inside the module's
/// constraint: an agency decoder built from the module would reject a 26-character caseId,
/// and the suite must refuse it at provisioning rather than on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CaseIdentity(String);

impl CaseIdentity {
    /// The identity, if `id` is 1 to 25 visible ASCII characters (space included).
    pub fn new(id: &str) -> core::result::Result<Self, InvalidCaseIdentity> {
        if id.is_empty() || id.len() > 25 {
            return Err(InvalidCaseIdentity::Length(id.len()));
        }
        if let Some(position) = id.bytes().position(|b| !(0x20..=0x7e).contains(&b)) {
            return Err(InvalidCaseIdentity::Character { position });
        }
        Ok(Self(id.to_owned()))
    }

    /// The identity as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        visible(tlv, field, 1, 25).map(Self)
    }
}

impl core::fmt::Display for CaseIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text is not a [`CaseIdentity`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidCaseIdentity {
    /// `CaseIdentity` is 1 to 25 characters.
    #[error("caseId is {0} octets; ATIS CaseIdentity allows 1 to 25")]
    Length(usize),
    /// `CaseIdentity` is a VisibleString: ASCII 0x20..0x7E.
    #[error("caseId has a character outside VisibleString at octet {position}")]
    Character {
        /// Octet index of the first offending character.
        position: usize,
    },
}

impl Field for CaseIdentity {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.primitive(Tag::context(tag), self.0.as_bytes());
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Self::decode(tlv, field)
    }
}

/// GeneralizedTime.
impl Field for GeneralizedTime {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        self.encode(w, Tag::context(tag));
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Self::decode(tlv, field)
    }
}

/// OCTET STRING (primitive or segmented on input, primitive on output).
impl Field for Vec<u8> {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.primitive(Tag::context(tag), self);
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(tlv.octets(field)?.into_owned())
    }
}

/// OCTET STRING as a SET OF component (UNIVERSAL 4).
impl Element for Vec<u8> {
    fn encode_element(&self, w: &mut Writer) {
        w.primitive(Tag::OCTET_STRING, self);
    }
    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        if !tlv.tag.same_type(Tag::OCTET_STRING) {
            return Err(tlv.unexpected(field, "an OCTET STRING"));
        }
        Ok(tlv.octets(field)?.into_owned())
    }
}

/// A value kept as its encoding under the field's tag (H.323 structures this crate does not
/// model).
impl Field for Opaque {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        self.encode(w, Tag::context(tag));
    }
    fn decode_field(tlv: &Tlv<'_>, _field: &'static str) -> Result<Self> {
        Ok(Self::decode(tlv))
    }
}

/// NULL: present or absent (`Option<()>` in a message).
impl Field for () {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.null(Tag::context(tag));
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        tlv.null(field)
    }
}

/// Implements [`Field`] for an `asn1_enum!` ENUMERATED type (implicitly tagged).
macro_rules! enum_field {
    ($t:ty) => {
        impl $crate::atis::Field for $t {
            fn encode_field(&self, w: &mut $crate::ber::Writer, tag: u32) {
                self.encode(w, $crate::ber::Tag::context(tag));
            }
            fn decode_field(
                tlv: &$crate::ber::Tlv<'_>,
                _field: &'static str,
            ) -> $crate::error::Result<Self> {
                Self::decode(tlv)
            }
        }
    };
}
pub(crate) use enum_field;

/// Defines a SEQUENCE (or SET: the decoder takes components in any order either way) whose
/// components are all context-tagged: the struct, its [`Field`] impl (implicit `[n]`), its
/// [`Element`] impl (UNIVERSAL SEQUENCE, for SEQUENCE OF / SET OF) and, for a message, a
/// leading header (a [`MessageHeader`] type, its components `[0]..[2]`, with the ASN.1 name
/// of its system-id component).
///
/// Each component is `name: Type = KIND [tags] "asnName" PRESENCE (via decode_fn)?` where
/// KIND is `tagged` (the type is written under `[tag]` by its [`Field`] impl) or `untagged`
/// (an untagged CHOICE whose alternatives carry the listed tags, through [`Element`]);
/// PRESENCE is `required` or `optional`; `via` names a decoder used instead of the type's
/// own (for constrained strings). Decoders skip unknown components and name duplicated or
/// missing ones.
macro_rules! atis_sequence {
    (
        $(#[$meta:meta])*
        $name:ident, $asn:literal, $( header $hty:ty [$hiap:literal], )? {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty =
                $kind:ident [$($tag:literal),+] $fasn:literal $presence:ident $(via $dec:expr)?, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            $( #[doc = "The common components `[0]..[2]`."] pub header: $hty, )?
            $( $(#[$fmeta])* pub $field: $crate::atis::atis_sequence!(@ty $presence $fty), )*
        }

        impl $name {
            pub(crate) fn encode_tagged(&self, w: &mut $crate::ber::Writer, tag: $crate::ber::Tag) {
                w.constructed(tag, |w| {
                    $( <$hty as $crate::atis::MessageHeader>::encode_header(&self.header, w); )?
                    $( $crate::atis::atis_sequence!(@enc $presence $kind w, self.$field, [$($tag),+]); )*
                });
            }

            pub(crate) fn decode_tagged(tlv: &$crate::ber::Tlv<'_>) -> $crate::error::Result<Self> {
                $( let mut header = <$hty as $crate::atis::MessageHeader>::slots([
                    concat!($asn, ".caseId"),
                    concat!($asn, ".", $hiap),
                    concat!($asn, ".timestamp"),
                ]); )?
                $( let mut $field: Option<$fty> = None; )*
                let mut r = tlv.children($asn)?;
                while let Some(f) = r.next_tlv()? {
                    $( if <$hty as $crate::atis::MessageHeader>::take(&mut header, &f)? {
                        continue;
                    } )?
                    match f.tag.context_number() {
                        $( Some($($tag)|+) => {
                            const N: &str = concat!($asn, ".", $fasn);
                            $crate::types::put(
                                &mut $field,
                                $crate::atis::atis_sequence!(@dec $kind [$($dec)?] $fty, &f, N)?,
                                N,
                                &f,
                            )?;
                        } )*
                        _ => {}
                    }
                }
                Ok(Self {
                    $( header: <$hty as $crate::atis::MessageHeader>::finish(header, tlv)?, )?
                    $( $field: $crate::atis::atis_sequence!(
                        @fin $presence $field, concat!($asn, ".", $fasn), tlv
                    ), )*
                })
            }
        }

        impl $crate::atis::Field for $name {
            fn encode_field(&self, w: &mut $crate::ber::Writer, tag: u32) {
                self.encode_tagged(w, $crate::ber::Tag::context_constructed(tag));
            }
            fn decode_field(
                tlv: &$crate::ber::Tlv<'_>,
                field: &'static str,
            ) -> $crate::error::Result<Self> {
                if !tlv.tag.constructed {
                    return Err(tlv.invalid(field, "expected the constructed form"));
                }
                Self::decode_tagged(tlv)
            }
        }

        impl $crate::atis::Element for $name {
            fn encode_element(&self, w: &mut $crate::ber::Writer) {
                self.encode_tagged(w, $crate::ber::Tag::SEQUENCE);
            }
            fn decode_element(
                tlv: &$crate::ber::Tlv<'_>,
                field: &'static str,
            ) -> $crate::error::Result<Self> {
                if tlv.tag != $crate::ber::Tag::SEQUENCE {
                    return Err(tlv.unexpected(field, "a SEQUENCE"));
                }
                Self::decode_tagged(tlv)
            }
        }
    };
    (@ty required $t:ty) => { $t };
    (@ty optional $t:ty) => { Option<$t> };
    (@enc required tagged $w:ident, $v:expr, [$tag:literal]) => {
        $crate::atis::Field::encode_field(&$v, $w, $tag)
    };
    (@enc optional tagged $w:ident, $v:expr, [$tag:literal]) => {
        if let Some(v) = &$v {
            $crate::atis::Field::encode_field(v, $w, $tag);
        }
    };
    (@enc required untagged $w:ident, $v:expr, [$($tag:literal),+]) => {
        $crate::atis::Element::encode_element(&$v, $w)
    };
    (@enc optional untagged $w:ident, $v:expr, [$($tag:literal),+]) => {
        if let Some(v) = &$v {
            $crate::atis::Element::encode_element(v, $w);
        }
    };
    (@dec tagged [] $t:ty, $f:expr, $n:expr) => {
        <$t as $crate::atis::Field>::decode_field($f, $n)
    };
    (@dec untagged [] $t:ty, $f:expr, $n:expr) => {
        <$t as $crate::atis::Element>::decode_element($f, $n)
    };
    (@dec $kind:ident [$d:expr] $t:ty, $f:expr, $n:expr) => { ($d)($f, $n) };
    (@fin required $slot:ident, $n:expr, $tlv:ident) => {
        $crate::types::required($slot, $n, $tlv)?
    };
    (@fin optional $slot:ident, $n:expr, $tlv:ident) => { $slot };
}
pub(crate) use atis_sequence;

/// The common leading components of a message defined with [`atis_sequence!`]: how to
/// write them, and slots that collect them while the message's components are read.
pub(crate) trait MessageHeader: Sized {
    /// The components read so far, with the message's field names.
    type Slots;
    fn encode_header(&self, w: &mut Writer);
    /// Empty slots; `names` are the message's `caseId`, system id and `timestamp` fields.
    fn slots(names: [&'static str; 3]) -> Self::Slots;
    /// Takes component `f` if it is one of the header's; returns false otherwise.
    fn take(slots: &mut Self::Slots, f: &Tlv<'_>) -> Result<bool>;
    fn finish(slots: Self::Slots, parent: &Tlv<'_>) -> Result<Self>;
}

/// Defines a CHOICE whose alternatives are all context-tagged, each a type with a [`Field`]
/// impl (or a `via` decoder), plus `Unknown` for an alternative a later version may add; with
/// `encode_choice` / `decode_choice`, its [`Field`] and [`Element`] impls and `asn1_name`.
macro_rules! atis_choice {
    (
        $(#[$meta:meta])*
        $name:ident, $asn:literal, {
            $( $(#[$vmeta:meta])* $v:ident($t:ty) = [$tag:literal] $vasn:literal $(via $dec:expr)?, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vmeta])* $v($t), )+
            /// An alternative a later version may add, kept as received.
            Unknown($crate::types::UnknownAlternative),
        }

        impl $name {
            /// The alternative's name in the module, or `None` for an unknown one.
            pub fn asn1_name(&self) -> Option<&'static str> {
                match self {
                    $( Self::$v(_) => Some($vasn), )+
                    Self::Unknown(_) => None,
                }
            }

            pub(crate) fn encode_choice(&self, w: &mut $crate::ber::Writer) {
                match self {
                    $( Self::$v(x) => $crate::atis::Field::encode_field(x, w, $tag), )+
                    Self::Unknown(u) => u.encode(w),
                }
            }

            pub(crate) fn decode_choice(
                tlv: &$crate::ber::Tlv<'_>,
                field: &'static str,
            ) -> $crate::error::Result<Self> {
                Ok(match tlv.tag.context_number() {
                    $( Some($tag) => Self::$v($crate::atis::atis_sequence!(
                        @dec tagged [$($dec)?] $t, tlv, concat!($asn, ".", $vasn)
                    )?), )+
                    _ => Self::Unknown($crate::types::UnknownAlternative::decode(tlv, field)?),
                })
            }
        }

        $crate::atis::choice_field!($name);
    };
}
pub(crate) use atis_choice;

/// A VisibleString of `MIN..=MAX` characters (a `via` decoder of [`atis_sequence!`]).
pub(crate) fn vs<const MIN: usize, const MAX: usize>(
    tlv: &Tlv<'_>,
    field: &'static str,
) -> Result<String> {
    visible(tlv, field, MIN, MAX)
}

/// An OCTET STRING of `MIN..=MAX` octets (a `via` decoder of [`atis_sequence!`]).
pub(crate) fn octs<const MIN: usize, const MAX: usize>(
    tlv: &Tlv<'_>,
    field: &'static str,
) -> Result<Vec<u8>> {
    tlv.octets_sized(field, MIN, MAX)
}

/// An INTEGER in `MIN..=MAX` (a `via` decoder of [`atis_sequence!`]).
pub(crate) fn int<const MIN: i64, const MAX: i64>(
    tlv: &Tlv<'_>,
    field: &'static str,
) -> Result<i64> {
    let v = tlv.i64(field)?;
    if !(MIN..=MAX).contains(&v) {
        return Err(tlv.invalid(field, "value outside the constraint"));
    }
    Ok(v)
}
