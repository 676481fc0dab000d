//! ETSI TS 102 232-1 (LI-PS-PDU, module version 43): the PS-PDU that carries HI2 and HI3
//! over the handover interface, with its PSHeader, Payload and TRI payloads.

use li_core::{Liid, Timestamp};

use crate::ber::{Reader, Tag, Tlv, Writer};
use crate::error::{Error, Result};
use crate::ipaccess::{IpCc, IpIri};
use crate::ipmm::{IpmmCc, IpmmIri};
use crate::types::{
    GeneralizedTime, ObjectIdentifier, Opaque, UnknownAlternative, asn1_enum, put, required,
};

/// The LI-PS-PDU module version this crate implements (TS 102 232-1 clause A.2).
pub const LI_PS_PDU_VERSION: u16 = 43;

/// `PS-PDU ::= SEQUENCE { pSHeader [1] PSHeader, payload [2] Payload }` (TS 102 232-1 clause 5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsPdu {
    /// `pSHeader [1]`.
    pub header: PsHeader,
    /// `payload [2]`.
    pub payload: Payload,
}

impl PsPdu {
    /// Encodes the PDU with definite, minimal lengths.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.into_vec()
    }

    /// Appends the encoding to `buf`.
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        let mut w = Writer::from_vec(core::mem::take(buf));
        self.encode_to(&mut w);
        *buf = w.into_vec();
    }

    fn encode_to(&self, w: &mut Writer) {
        w.constructed(Tag::SEQUENCE, |w| {
            self.header.encode(w, Tag::context_constructed(1));
            w.constructed(Tag::context_constructed(2), |w| self.payload.encode(w));
        });
    }

    /// Decodes exactly one PDU; trailing octets are an error.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let mut r = Reader::new(data);
        let pdu = Self::decode_tlv(&r.read()?)?;
        r.finish()?;
        Ok(pdu)
    }

    /// Decodes the first PDU of a stream and returns it with the number of octets it used.
    pub fn decode_prefix(data: &[u8]) -> Result<(Self, usize)> {
        let tlv = Reader::new(data).read()?;
        Ok((Self::decode_tlv(&tlv)?, tlv.encoded_len))
    }

    /// Decodes a PDU from an element already read.
    pub fn decode_tlv(tlv: &Tlv<'_>) -> Result<Self> {
        const F: &str = "PS-PDU";
        if !tlv.tag.same_type(Tag::SEQUENCE) {
            return Err(tlv.unexpected(F, "a SEQUENCE"));
        }
        let (mut header, mut payload) = (None, None);
        let mut r = tlv.children(F)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(1) => put(&mut header, PsHeader::decode(&f)?, "PS-PDU.pSHeader", &f)?,
                Some(2) => put(
                    &mut payload,
                    Payload::decode(&f.single_child("PS-PDU.payload")?)?,
                    "PS-PDU.payload",
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            header: required(header, "PS-PDU.pSHeader", tlv)?,
            payload: required(payload, "PS-PDU.payload", tlv)?,
        })
    }
}

/// `PSHeader` (TS 102 232-1 clause 5.2), every field of version 43.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsHeader {
    /// `li-psDomainId [0]`: the LI-PS-PDU module OID `{0 4 0 2 2 5 1 version}` (clause 5.2.1).
    pub li_ps_domain_id: ObjectIdentifier,
    /// `lawfulInterceptionIdentifier [1]`: the LIID (TS 103 280, 1..25 octets; clause 5.2.2).
    pub lawful_interception_identifier: Liid,
    /// `authorizationCountryCode [2]`: ISO 3166-1 alpha-2 (clause 5.2.3).
    pub authorization_country_code: Option<String>,
    /// `communicationIdentifier [3]` (clause 5.2.4).
    pub communication_identifier: CommunicationIdentifier,
    /// `sequenceNumber [4]` (clause 5.2.5).
    pub sequence_number: u32,
    /// `timeStamp [5]` (clause 5.2.6).
    pub time_stamp: Option<GeneralizedTime>,
    /// `interceptionPointID [6]`: PrintableString of 1..8 characters (clause 5.2.11).
    pub interception_point_id: Option<String>,
    /// `microSecondTimeStamp [7]`.
    pub micro_second_time_stamp: Option<MicroSecondTimeStamp>,
    /// `timeStampQualifier [8]`.
    pub time_stamp_qualifier: Option<TimeStampQualifier>,
    /// `extendedInterceptionPointID [9]`: 1..65535 octets (clause 5.2.13).
    pub extended_interception_point_id: Option<Vec<u8>>,
    /// `networkFunctionIdentifier [10]`: 1..65535 octets (clause 5.2.14).
    pub network_function_identifier: Option<Vec<u8>>,
    /// Optional fields received with a value their type does not allow, kept as received
    /// instead of losing the PDU (empty in anything this crate builds), in tag order. Encoding
    /// writes them back at their place, so a PDU passes through unchanged; a receiver should
    /// report them.
    pub invalid_fields: Vec<InvalidField>,
}

/// An optional field whose value did not decode: its context tag number, its encoding as
/// received and why it was not accepted.
///
/// Tolerance for peers: an agency-side implementation that writes, say, a malformed
/// `authorizationCountryCode` in its keep-alive answers must not lose those answers. Only an
/// element that is whole (its tag and length frame it) is kept this way; a PDU whose framing is
/// broken still fails to decode.
///
/// Two invalid fields are equal when their tag and value are: the error's offset depends on
/// where the PDU was read from, not on what it holds.
#[derive(Clone, Debug)]
pub struct InvalidField {
    /// The field's context-specific tag number in its SEQUENCE.
    pub tag_number: u32,
    /// The element's content octets and form, as received.
    pub value: Opaque,
    /// Why the value was refused: names the field and its offset in the input.
    pub error: Error,
}

impl PartialEq for InvalidField {
    fn eq(&self, other: &Self) -> bool {
        self.tag_number == other.tag_number && self.value == other.value
    }
}

impl Eq for InvalidField {}

impl InvalidField {
    fn encode_if(fields: &[Self], tag_number: u32, w: &mut Writer) {
        for field in fields.iter().filter(|f| f.tag_number == tag_number) {
            field.value.encode(w, Tag::context(tag_number));
        }
    }

    /// Keeps the field `tag_number` (`tlv`) raw when `decoded` failed, refusing a second
    /// occurrence of the field, valid or not.
    fn keep<T>(
        decoded: Result<T>,
        slot: &mut Option<T>,
        invalid: &mut Vec<Self>,
        (field, tag_number): (&'static str, u32),
        tlv: &Tlv<'_>,
    ) -> Result<()> {
        if invalid.iter().any(|f| f.tag_number == tag_number) {
            return Err(Error::DuplicateField {
                field,
                offset: tlv.offset,
            });
        }
        match decoded {
            Ok(value) => put(slot, value, field, tlv),
            Err(error) if slot.is_none() => {
                invalid.push(Self {
                    tag_number,
                    value: Opaque::decode(tlv),
                    error,
                });
                Ok(())
            }
            Err(_) => Err(Error::DuplicateField {
                field,
                offset: tlv.offset,
            }),
        }
    }
}

impl PsHeader {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        let invalid = self.invalid_fields.as_slice();
        w.constructed(tag, |w| {
            self.li_ps_domain_id.encode(w, Tag::context(0));
            w.primitive(
                Tag::context(1),
                self.lawful_interception_identifier.as_bytes(),
            );
            if let Some(cc) = &self.authorization_country_code {
                w.primitive(Tag::context(2), cc.as_bytes());
            }
            InvalidField::encode_if(invalid, 2, w);
            self.communication_identifier
                .encode(w, Tag::context_constructed(3));
            w.u64(Tag::context(4), u64::from(self.sequence_number));
            if let Some(t) = &self.time_stamp {
                t.encode(w, Tag::context(5));
            }
            InvalidField::encode_if(invalid, 5, w);
            if let Some(id) = &self.interception_point_id {
                w.primitive(Tag::context(6), id.as_bytes());
            }
            InvalidField::encode_if(invalid, 6, w);
            if let Some(t) = &self.micro_second_time_stamp {
                t.encode(w, Tag::context_constructed(7));
            }
            InvalidField::encode_if(invalid, 7, w);
            if let Some(q) = self.time_stamp_qualifier {
                q.encode(w, Tag::context(8));
            }
            InvalidField::encode_if(invalid, 8, w);
            if let Some(id) = &self.extended_interception_point_id {
                w.primitive(Tag::context(9), id);
            }
            InvalidField::encode_if(invalid, 9, w);
            if let Some(id) = &self.network_function_identifier {
                w.primitive(Tag::context(10), id);
            }
            InvalidField::encode_if(invalid, 10, w);
        });
    }

    /// Decodes a PSHeader. The mandatory fields must be valid; an optional field that does
    /// not decode is kept in [`PsHeader::invalid_fields`] (see [`InvalidField`]).
    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let mut domain = None;
        let mut liid = None;
        let mut auth_cc = None;
        let mut comm_id = None;
        let mut seq = None;
        let mut ts = None;
        let mut ipid = None;
        let mut usec = None;
        let mut tsq = None;
        let mut ext_ipid = None;
        let mut nfid = None;
        let mut invalid = Vec::new();
        let mut r = tlv.children("PSHeader")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "PSHeader.li-psDomainId";
                    put(&mut domain, ObjectIdentifier::decode(&f, N)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "PSHeader.lawfulInterceptionIdentifier";
                    let v = Liid::new(&f.octets(N)?)
                        .map_err(|_| f.invalid(N, "LIID must be 1..25 octets"))?;
                    put(&mut liid, v, N, &f)?;
                }
                Some(2) => {
                    const N: &str = "PSHeader.authorizationCountryCode";
                    let v = f.printable(N, 2, 2);
                    InvalidField::keep(v, &mut auth_cc, &mut invalid, (N, 2), &f)?;
                }
                Some(3) => {
                    const N: &str = "PSHeader.communicationIdentifier";
                    put(&mut comm_id, CommunicationIdentifier::decode(&f)?, N, &f)?;
                }
                Some(4) => {
                    const N: &str = "PSHeader.sequenceNumber";
                    put(&mut seq, f.u32(N)?, N, &f)?;
                }
                Some(5) => {
                    const N: &str = "PSHeader.timeStamp";
                    let v = GeneralizedTime::decode(&f, N);
                    InvalidField::keep(v, &mut ts, &mut invalid, (N, 5), &f)?;
                }
                Some(6) => {
                    const N: &str = "PSHeader.interceptionPointID";
                    let v = f.printable(N, 1, 8);
                    InvalidField::keep(v, &mut ipid, &mut invalid, (N, 6), &f)?;
                }
                Some(7) => {
                    const N: &str = "PSHeader.microSecondTimeStamp";
                    let v = MicroSecondTimeStamp::decode(&f, N);
                    InvalidField::keep(v, &mut usec, &mut invalid, (N, 7), &f)?;
                }
                Some(8) => {
                    const N: &str = "PSHeader.timeStampQualifier";
                    let v = TimeStampQualifier::decode(&f);
                    InvalidField::keep(v, &mut tsq, &mut invalid, (N, 8), &f)?;
                }
                Some(9) => {
                    const N: &str = "PSHeader.extendedInterceptionPointID";
                    let v = f.octets_sized(N, 1, 65535);
                    InvalidField::keep(v, &mut ext_ipid, &mut invalid, (N, 9), &f)?;
                }
                Some(10) => {
                    const N: &str = "PSHeader.networkFunctionIdentifier";
                    let v = f.octets_sized(N, 1, 65535);
                    InvalidField::keep(v, &mut nfid, &mut invalid, (N, 10), &f)?;
                }
                _ => {}
            }
        }
        // In tag order, the order they are written back in: a PDU and its re-encoding
        // decode to the same value whatever order the peer used.
        invalid.sort_by_key(|field| field.tag_number);
        Ok(Self {
            li_ps_domain_id: required(domain, "PSHeader.li-psDomainId", tlv)?,
            lawful_interception_identifier: required(
                liid,
                "PSHeader.lawfulInterceptionIdentifier",
                tlv,
            )?,
            authorization_country_code: auth_cc,
            communication_identifier: required(comm_id, "PSHeader.communicationIdentifier", tlv)?,
            sequence_number: required(seq, "PSHeader.sequenceNumber", tlv)?,
            time_stamp: ts,
            interception_point_id: ipid,
            micro_second_time_stamp: usec,
            time_stamp_qualifier: tsq,
            extended_interception_point_id: ext_ipid,
            network_function_identifier: nfid,
            invalid_fields: invalid,
        })
    }
}

/// `CommunicationIdentifier` (TS 102 232-1 clause 5.2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommunicationIdentifier {
    /// `networkIdentifier [0]`.
    pub network_identifier: NetworkIdentifier,
    /// `communicationIdentityNumber [1]`: the CIN correlating IRI and CC of one session.
    pub communication_identity_number: Option<u32>,
    /// `deliveryCountryCode [2]`.
    pub delivery_country_code: Option<String>,
    /// `cINExtension [3]`: a `UmtsHI2Operations.CorrelationValues` (3GPP module, not public
    /// here), carried through unchanged.
    pub cin_extension: Option<Opaque>,
}

impl CommunicationIdentifier {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.network_identifier
                .encode(w, Tag::context_constructed(0));
            if let Some(cin) = self.communication_identity_number {
                w.u64(Tag::context(1), u64::from(cin));
            }
            if let Some(cc) = &self.delivery_country_code {
                w.primitive(Tag::context(2), cc.as_bytes());
            }
            if let Some(ext) = &self.cin_extension {
                ext.encode(w, Tag::context(3));
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut ni, mut cin, mut dcc, mut ext) = (None, None, None, None);
        let mut r = tlv.children("CommunicationIdentifier")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "CommunicationIdentifier.networkIdentifier";
                    put(&mut ni, NetworkIdentifier::decode(&f)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "CommunicationIdentifier.communicationIdentityNumber";
                    put(&mut cin, f.u32(N)?, N, &f)?;
                }
                Some(2) => {
                    const N: &str = "CommunicationIdentifier.deliveryCountryCode";
                    put(&mut dcc, f.printable(N, 2, 2)?, N, &f)?;
                }
                Some(3) => {
                    const N: &str = "CommunicationIdentifier.cINExtension";
                    put(&mut ext, Opaque::decode(&f), N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            network_identifier: required(ni, "CommunicationIdentifier.networkIdentifier", tlv)?,
            communication_identity_number: cin,
            delivery_country_code: dcc,
            cin_extension: ext,
        })
    }
}

/// `NetworkIdentifier` (TS 102 232-1 clause 5.2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkIdentifier {
    /// `operatorIdentifier [0]`: 1..16 octets.
    pub operator_identifier: Vec<u8>,
    /// `networkElementIdentifier [1]`: 1..16 octets.
    pub network_element_identifier: Option<Vec<u8>>,
    /// `eTSI671NEID [2]`: a `HI2Operations.Network-Element-Identifier`, carried unchanged.
    pub etsi671_neid: Option<Opaque>,
}

impl NetworkIdentifier {
    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            w.primitive(Tag::context(0), &self.operator_identifier);
            if let Some(ne) = &self.network_element_identifier {
                w.primitive(Tag::context(1), ne);
            }
            if let Some(ne) = &self.etsi671_neid {
                ne.encode(w, Tag::context(2));
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut op, mut ne, mut ne671) = (None, None, None);
        let mut r = tlv.children("NetworkIdentifier")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "NetworkIdentifier.operatorIdentifier";
                    put(&mut op, f.octets_sized(N, 1, 16)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "NetworkIdentifier.networkElementIdentifier";
                    put(&mut ne, f.octets_sized(N, 1, 16)?, N, &f)?;
                }
                Some(2) => {
                    const N: &str = "NetworkIdentifier.eTSI671NEID";
                    put(&mut ne671, Opaque::decode(&f), N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            operator_identifier: required(op, "NetworkIdentifier.operatorIdentifier", tlv)?,
            network_element_identifier: ne,
            etsi671_neid: ne671,
        })
    }
}

/// `MicroSecondTimeStamp`: seconds since the Unix epoch and microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MicroSecondTimeStamp {
    /// `seconds [0]`.
    pub seconds: u64,
    /// `microSeconds [1]`: 0..999999.
    pub micro_seconds: u32,
}

impl MicroSecondTimeStamp {
    /// The form of `instant`.
    pub fn from_timestamp(instant: Timestamp) -> Self {
        let (seconds, micro_seconds) = instant.to_micro_second_time_stamp();
        Self {
            seconds,
            micro_seconds,
        }
    }

    /// The instant, if it lies in the range [`Timestamp`] supports.
    pub fn to_timestamp(self) -> Option<Timestamp> {
        Timestamp::from_micro_second_time_stamp(self.seconds, self.micro_seconds).ok()
    }

    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            w.u64(Tag::context(0), self.seconds);
            w.u64(Tag::context(1), u64::from(self.micro_seconds));
        });
    }

    pub(crate) fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let (mut s, mut us) = (None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "MicroSecondTimeStamp.seconds";
                    put(&mut s, f.u64(N)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "MicroSecondTimeStamp.microSeconds";
                    let v = f.u32(N)?;
                    if v > 999_999 {
                        return Err(f.invalid(N, "microSeconds over 999999"));
                    }
                    put(&mut us, v, N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            seconds: required(s, "MicroSecondTimeStamp.seconds", tlv)?,
            micro_seconds: required(us, "MicroSecondTimeStamp.microSeconds", tlv)?,
        })
    }
}

asn1_enum! {
    /// `TimeStampQualifier`.
    TimeStampQualifier, "TimeStampQualifier", extensible {
        /// `unknown(0)`.
        Unknown = 0 => "unknown",
        /// `timeOfInterception(1)`.
        TimeOfInterception = 1 => "timeOfInterception",
        /// `timeOfMediation(2)`.
        TimeOfMediation = 2 => "timeOfMediation",
        /// `timeOfAggregation(3)`.
        TimeOfAggregation = 3 => "timeOfAggregation",
    }
}

asn1_enum! {
    /// `PayloadDirection` (TS 102 232-1 clause 6.2.2).
    PayloadDirection, "PayloadDirection", extensible {
        /// `fromTarget(0)`.
        FromTarget = 0 => "fromTarget",
        /// `toTarget(1)`.
        ToTarget = 1 => "toTarget",
        /// `indeterminate(2)`.
        Indeterminate = 2 => "indeterminate",
        /// `combined(3)`.
        Combined = 3 => "combined",
        /// `notapplicable(4)`.
        NotApplicable = 4 => "notapplicable",
    }
}

asn1_enum! {
    /// `IRIType` (TS 102 232-1 clause 5.2.10): begin, end, continue or report.
    IriType, "IRIPayload.iRIType", closed {
        /// `iRI-Begin(1)`: the first IRI of a communication session.
        Begin = 1 => "iRI-Begin",
        /// `iRI-End(2)`: the last IRI of a communication session.
        End = 2 => "iRI-End",
        /// `iRI-Continue(3)`: an IRI inside a session.
        Continue = 3 => "iRI-Continue",
        /// `iRI-Report(4)`: an IRI outside any session.
        Report = 4 => "iRI-Report",
    }
}

/// `Payload` (TS 102 232-1 clause 5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// `iRIPayloadSequence [0]`: HI2.
    IriPayloadSequence(Vec<IriPayload>),
    /// `cCPayloadSequence [1]`: HI3.
    CcPayloadSequence(Vec<CcPayload>),
    /// `tRIPayload [2]`: keep-alives and other transport information.
    TriPayload(TriPayload),
    /// An alternative after the extension marker this crate does not model (`hI1-Operation`,
    /// `encryptionContainer`, `hI4Payload`, ...), carried unchanged.
    Other(UnknownAlternative),
}

impl Payload {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::IriPayloadSequence(items) => {
                w.constructed(Tag::context_constructed(0), |w| {
                    for item in items {
                        item.encode(w, Tag::SEQUENCE);
                    }
                });
            }
            Self::CcPayloadSequence(items) => {
                w.constructed(Tag::context_constructed(1), |w| {
                    for item in items {
                        item.encode(w, Tag::SEQUENCE);
                    }
                });
            }
            Self::TriPayload(tri) => {
                w.constructed(Tag::context_constructed(2), |w| tri.encode(w));
            }
            Self::Other(alt) => alt.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        match tlv.tag.context_number() {
            Some(0) => {
                let mut items = Vec::new();
                let mut r = tlv.children("Payload.iRIPayloadSequence")?;
                while let Some(item) = r.next_tlv()? {
                    items.push(IriPayload::decode(&item)?);
                }
                Ok(Self::IriPayloadSequence(items))
            }
            Some(1) => {
                let mut items = Vec::new();
                let mut r = tlv.children("Payload.cCPayloadSequence")?;
                while let Some(item) = r.next_tlv()? {
                    items.push(CcPayload::decode(&item)?);
                }
                Ok(Self::CcPayloadSequence(items))
            }
            Some(2) => Ok(Self::TriPayload(TriPayload::decode(
                &tlv.single_child("Payload.tRIPayload")?,
            )?)),
            _ => Ok(Self::Other(UnknownAlternative::decode(tlv, "Payload")?)),
        }
    }
}

/// `CCPayload` (TS 102 232-1 clause 6.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CcPayload {
    /// `payloadDirection [0]`.
    pub payload_direction: Option<PayloadDirection>,
    /// `timeStamp [1]`: for aggregated payloads (clause 6.2.3).
    pub time_stamp: Option<GeneralizedTime>,
    /// `cCContents [2]`.
    pub cc_contents: CcContents,
    /// `microSecondTimeStamp [3]`.
    pub micro_second_time_stamp: Option<MicroSecondTimeStamp>,
    /// `timeStampQualifier [4]`.
    pub time_stamp_qualifier: Option<TimeStampQualifier>,
}

impl CcPayload {
    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            if let Some(d) = self.payload_direction {
                d.encode(w, Tag::context(0));
            }
            if let Some(t) = &self.time_stamp {
                t.encode(w, Tag::context(1));
            }
            w.constructed(Tag::context_constructed(2), |w| self.cc_contents.encode(w));
            if let Some(t) = &self.micro_second_time_stamp {
                t.encode(w, Tag::context_constructed(3));
            }
            if let Some(q) = self.time_stamp_qualifier {
                q.encode(w, Tag::context(4));
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut dir, mut ts, mut contents, mut usec, mut tsq) = (None, None, None, None, None);
        let mut r = tlv.children("CCPayload")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut dir,
                    PayloadDirection::decode(&f)?,
                    "CCPayload.payloadDirection",
                    &f,
                )?,
                Some(1) => {
                    const N: &str = "CCPayload.timeStamp";
                    put(&mut ts, GeneralizedTime::decode(&f, N)?, N, &f)?;
                }
                Some(2) => {
                    const N: &str = "CCPayload.cCContents";
                    put(
                        &mut contents,
                        CcContents::decode(&f.single_child(N)?)?,
                        N,
                        &f,
                    )?;
                }
                Some(3) => {
                    const N: &str = "CCPayload.microSecondTimeStamp";
                    put(&mut usec, MicroSecondTimeStamp::decode(&f, N)?, N, &f)?;
                }
                Some(4) => put(
                    &mut tsq,
                    TimeStampQualifier::decode(&f)?,
                    "CCPayload.timeStampQualifier",
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            payload_direction: dir,
            time_stamp: ts,
            cc_contents: required(contents, "CCPayload.cCContents", tlv)?,
            micro_second_time_stamp: usec,
            time_stamp_qualifier: tsq,
        })
    }
}

/// `CCContents`: the service-specific content.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CcContents {
    /// `iPCC [2]`: IP access content (TS 102 232-3).
    IpCc(IpCc),
    /// `iPMMCC [12]`: IP multimedia content, one media packet (TS 102 232-5).
    IpmmCc(IpmmCc),
    /// Another alternative (email, PSTN/ISDN, 3GPP ...), carried unchanged.
    Other(UnknownAlternative),
}

impl CcContents {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::IpCc(cc) => cc.encode(w, Tag::context_constructed(2)),
            Self::IpmmCc(cc) => cc.encode(w, Tag::context_constructed(12)),
            Self::Other(alt) => alt.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        match tlv.tag.context_number() {
            Some(2) => Ok(Self::IpCc(IpCc::decode(tlv)?)),
            Some(12) => Ok(Self::IpmmCc(IpmmCc::decode(tlv)?)),
            _ => Ok(Self::Other(UnknownAlternative::decode(tlv, "CCContents")?)),
        }
    }
}

/// `IRIPayload` (TS 102 232-1 clause 6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IriPayload {
    /// `iRIType [0]`.
    pub iri_type: Option<IriType>,
    /// `timeStamp [1]`.
    pub time_stamp: Option<GeneralizedTime>,
    /// `iRIContents [2]`.
    pub iri_contents: IriContents,
    /// `microSecondTimeStamp [3]`.
    pub micro_second_time_stamp: Option<MicroSecondTimeStamp>,
    /// `timeStampQualifier [4]`.
    pub time_stamp_qualifier: Option<TimeStampQualifier>,
    /// `sessionDirection [5]`.
    pub session_direction: Option<PayloadDirection>,
    /// `payloadDirection [6]`.
    pub payload_direction: Option<PayloadDirection>,
}

impl IriPayload {
    /// Encodes the payload on its own, as a universal SEQUENCE: the form an X2 PDU
    /// (TS 103 221-2) carries in the "ETSI TS 102 232-1 Defined Payload" format, from which
    /// the mediator builds the HI2 PS-PDU with its own header.
    pub fn to_ber(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode(&mut w, Tag::SEQUENCE);
        w.into_vec()
    }

    /// Decodes exactly one payload encoded by [`IriPayload::to_ber`] (any BER form);
    /// trailing octets are an error.
    pub fn from_ber(data: &[u8]) -> Result<Self> {
        let mut r = Reader::new(data);
        let tlv = r.read()?;
        if !tlv.tag.same_type(Tag::SEQUENCE) {
            return Err(tlv.unexpected("IRIPayload", "a SEQUENCE"));
        }
        let payload = Self::decode(&tlv)?;
        r.finish()?;
        Ok(payload)
    }

    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            if let Some(t) = self.iri_type {
                t.encode(w, Tag::context(0));
            }
            if let Some(t) = &self.time_stamp {
                t.encode(w, Tag::context(1));
            }
            w.constructed(Tag::context_constructed(2), |w| self.iri_contents.encode(w));
            if let Some(t) = &self.micro_second_time_stamp {
                t.encode(w, Tag::context_constructed(3));
            }
            if let Some(q) = self.time_stamp_qualifier {
                q.encode(w, Tag::context(4));
            }
            if let Some(d) = self.session_direction {
                d.encode(w, Tag::context(5));
            }
            if let Some(d) = self.payload_direction {
                d.encode(w, Tag::context(6));
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut ty, mut ts, mut contents, mut usec) = (None, None, None, None);
        let (mut tsq, mut sdir, mut pdir) = (None, None, None);
        let mut r = tlv.children("IRIPayload")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut ty, IriType::decode(&f)?, "IRIPayload.iRIType", &f)?,
                Some(1) => {
                    const N: &str = "IRIPayload.timeStamp";
                    put(&mut ts, GeneralizedTime::decode(&f, N)?, N, &f)?;
                }
                Some(2) => {
                    const N: &str = "IRIPayload.iRIContents";
                    put(
                        &mut contents,
                        IriContents::decode(&f.single_child(N)?)?,
                        N,
                        &f,
                    )?;
                }
                Some(3) => {
                    const N: &str = "IRIPayload.microSecondTimeStamp";
                    put(&mut usec, MicroSecondTimeStamp::decode(&f, N)?, N, &f)?;
                }
                Some(4) => put(
                    &mut tsq,
                    TimeStampQualifier::decode(&f)?,
                    "IRIPayload.timeStampQualifier",
                    &f,
                )?,
                Some(5) => put(
                    &mut sdir,
                    PayloadDirection::decode(&f)?,
                    "IRIPayload.sessionDirection",
                    &f,
                )?,
                Some(6) => put(
                    &mut pdir,
                    PayloadDirection::decode(&f)?,
                    "IRIPayload.payloadDirection",
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            iri_type: ty,
            time_stamp: ts,
            iri_contents: required(contents, "IRIPayload.iRIContents", tlv)?,
            micro_second_time_stamp: usec,
            time_stamp_qualifier: tsq,
            session_direction: sdir,
            payload_direction: pdir,
        })
    }
}

/// `IRIContents`: the service-specific IRI.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IriContents {
    /// `iPIRI [2]`: IP access IRI (TS 102 232-3).
    IpIri(Box<IpIri>),
    /// `iPMMIRI [11]`: IP multimedia IRI, e.g. a SIP message (TS 102 232-5).
    IpmmIri(Box<IpmmIri>),
    /// Another alternative, carried unchanged.
    Other(UnknownAlternative),
}

impl IriContents {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::IpIri(iri) => iri.encode(w, Tag::context_constructed(2)),
            Self::IpmmIri(iri) => iri.encode(w, Tag::context_constructed(11)),
            Self::Other(alt) => alt.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        match tlv.tag.context_number() {
            Some(2) => Ok(Self::IpIri(Box::new(IpIri::decode(tlv)?))),
            Some(11) => Ok(Self::IpmmIri(Box::new(IpmmIri::decode(tlv)?))),
            _ => Ok(Self::Other(UnknownAlternative::decode(tlv, "IRIContents")?)),
        }
    }
}

/// `TRIPayload` (TS 102 232-1 clause 5.3 and annex F): transport information.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TriPayload {
    /// `integrityCheck [0]`.
    IntegrityCheck(IntegrityCheck),
    /// `testPDU [1]`.
    TestPdu,
    /// `paddingPDU [2]`: discarded by the receiver.
    PaddingPdu(Vec<u8>),
    /// `keep-alive [3]`.
    KeepAlive,
    /// `keep-aliveResponse [4]`.
    KeepAliveResponse,
    /// `firstSegmentFlag [5]`.
    FirstSegmentFlag,
    /// `lastSegmentFlag [6]`.
    LastSegmentFlag,
    /// `cINReset [7]`.
    CinReset,
    /// `operatorLeaMessage [8]`.
    OperatorLeaMessage(OperatorLeaMessage),
    /// `optionRequest [9]`.
    OptionRequest(Vec<PduOption>),
    /// `optionResponse [10]`: accepted and declined options.
    OptionResponse {
        /// `acceptedOptions [0]`.
        accepted: Vec<PduOption>,
        /// `declinedOptions [1]`.
        declined: Vec<PduOption>,
    },
    /// `optionComplete [11]`.
    OptionComplete,
    /// `pDUAcknowledgementRequest [12]`.
    PduAcknowledgementRequest,
    /// `pDUAcknowledgementResponse [13]`.
    PduAcknowledgementResponse,
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

impl TriPayload {
    fn encode(&self, w: &mut Writer) {
        let null = |w: &mut Writer, n| w.null(Tag::context(n));
        match self {
            Self::IntegrityCheck(ic) => ic.encode(w, Tag::context_constructed(0)),
            Self::TestPdu => null(w, 1),
            Self::PaddingPdu(p) => w.primitive(Tag::context(2), p),
            Self::KeepAlive => null(w, 3),
            Self::KeepAliveResponse => null(w, 4),
            Self::FirstSegmentFlag => null(w, 5),
            Self::LastSegmentFlag => null(w, 6),
            Self::CinReset => null(w, 7),
            Self::OperatorLeaMessage(m) => m.encode(w, Tag::context_constructed(8)),
            Self::OptionRequest(opts) => w.constructed(Tag::context_constructed(9), |w| {
                PduOption::encode_list(opts, w, 0);
            }),
            Self::OptionResponse { accepted, declined } => {
                w.constructed(Tag::context_constructed(10), |w| {
                    PduOption::encode_list(accepted, w, 0);
                    PduOption::encode_list(declined, w, 1);
                });
            }
            Self::OptionComplete => null(w, 11),
            Self::PduAcknowledgementRequest => null(w, 12),
            Self::PduAcknowledgementResponse => null(w, 13),
            Self::Other(alt) => alt.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        const F: &str = "TRIPayload";
        let null = |v: Self| tlv.null(F).map(|()| v);
        match tlv.tag.context_number() {
            Some(0) => Ok(Self::IntegrityCheck(IntegrityCheck::decode(tlv)?)),
            Some(1) => null(Self::TestPdu),
            Some(2) => Ok(Self::PaddingPdu(
                tlv.octets("TRIPayload.paddingPDU")?.into_owned(),
            )),
            Some(3) => null(Self::KeepAlive),
            Some(4) => null(Self::KeepAliveResponse),
            Some(5) => null(Self::FirstSegmentFlag),
            Some(6) => null(Self::LastSegmentFlag),
            Some(7) => null(Self::CinReset),
            Some(8) => Ok(Self::OperatorLeaMessage(OperatorLeaMessage::decode(tlv)?)),
            Some(9) => {
                let mut requested = None;
                let mut r = tlv.children("OptionRequest")?;
                while let Some(f) = r.next_tlv()? {
                    if f.tag.context_number() == Some(0) {
                        const N: &str = "OptionRequest.requestedOptions";
                        put(&mut requested, PduOption::decode_list(&f, N)?, N, &f)?;
                    }
                }
                Ok(Self::OptionRequest(required(
                    requested,
                    "OptionRequest.requestedOptions",
                    tlv,
                )?))
            }
            Some(10) => {
                let (mut accepted, mut declined) = (None, None);
                let mut r = tlv.children("OptionResponse")?;
                while let Some(f) = r.next_tlv()? {
                    match f.tag.context_number() {
                        Some(0) => {
                            const N: &str = "OptionResponse.acceptedOptions";
                            put(&mut accepted, PduOption::decode_list(&f, N)?, N, &f)?;
                        }
                        Some(1) => {
                            const N: &str = "OptionResponse.declinedOptions";
                            put(&mut declined, PduOption::decode_list(&f, N)?, N, &f)?;
                        }
                        _ => {}
                    }
                }
                Ok(Self::OptionResponse {
                    accepted: required(accepted, "OptionResponse.acceptedOptions", tlv)?,
                    declined: required(declined, "OptionResponse.declinedOptions", tlv)?,
                })
            }
            Some(11) => null(Self::OptionComplete),
            Some(12) => null(Self::PduAcknowledgementRequest),
            Some(13) => null(Self::PduAcknowledgementResponse),
            _ => Ok(Self::Other(UnknownAlternative::decode(tlv, F)?)),
        }
    }
}

/// `Option` of the TRI option negotiation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PduOption {
    /// `pDUAcknowledgement [0]`.
    PduAcknowledgement,
    /// A later option, carried unchanged.
    Other(UnknownAlternative),
}

impl PduOption {
    fn encode_list(opts: &[Self], w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            for opt in opts {
                match opt {
                    Self::PduAcknowledgement => w.null(Tag::context(0)),
                    Self::Other(alt) => alt.encode(w),
                }
            }
        });
    }

    fn decode_list(tlv: &Tlv<'_>, field: &'static str) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            out.push(match f.tag.context_number() {
                Some(0) => {
                    f.null(field)?;
                    Self::PduAcknowledgement
                }
                _ => Self::Other(UnknownAlternative::decode(&f, field)?),
            });
        }
        Ok(out)
    }
}

/// `IntegrityCheck` (TS 102 232-1 clause 7.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrityCheck {
    /// `includedSequenceNumbers [0]`: the PDUs covered, in processing order.
    pub included_sequence_numbers: Vec<u32>,
    /// `checkType [1]`.
    pub check_type: CheckType,
    /// `dataType [2]`.
    pub data_type: Option<DataType>,
    /// `checkValue [3]`: hash or signature, network byte order.
    pub check_value: Vec<u8>,
    /// `hashAlgorithm [4]`.
    pub hash_algorithm: Option<HashAlgorithm>,
    /// `signatureAlgorithm [5]`.
    pub signature_algorithm: Option<SignatureAlgorithm>,
}

impl IntegrityCheck {
    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            w.constructed(Tag::context_constructed(0), |w| {
                for n in &self.included_sequence_numbers {
                    w.u64(Tag::INTEGER, u64::from(*n));
                }
            });
            self.check_type.encode(w, Tag::context(1));
            if let Some(d) = self.data_type {
                d.encode(w, Tag::context(2));
            }
            w.primitive(Tag::context(3), &self.check_value);
            if let Some(h) = self.hash_algorithm {
                h.encode(w, Tag::context(4));
            }
            if let Some(s) = self.signature_algorithm {
                s.encode(w, Tag::context(5));
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut seqs, mut ct, mut dt, mut cv, mut ha, mut sa) =
            (None, None, None, None, None, None);
        let mut r = tlv.children("IntegrityCheck")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "IntegrityCheck.includedSequenceNumbers";
                    let mut list = Vec::new();
                    let mut items = f.children(N)?;
                    while let Some(i) = items.next_tlv()? {
                        list.push(i.u32(N)?);
                    }
                    put(&mut seqs, list, N, &f)?;
                }
                Some(1) => put(
                    &mut ct,
                    CheckType::decode(&f)?,
                    "IntegrityCheck.checkType",
                    &f,
                )?,
                Some(2) => put(
                    &mut dt,
                    DataType::decode(&f)?,
                    "IntegrityCheck.dataType",
                    &f,
                )?,
                Some(3) => {
                    const N: &str = "IntegrityCheck.checkValue";
                    put(&mut cv, f.octets(N)?.into_owned(), N, &f)?;
                }
                Some(4) => put(
                    &mut ha,
                    HashAlgorithm::decode(&f)?,
                    "IntegrityCheck.hashAlgorithm",
                    &f,
                )?,
                Some(5) => put(
                    &mut sa,
                    SignatureAlgorithm::decode(&f)?,
                    "IntegrityCheck.signatureAlgorithm",
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            included_sequence_numbers: required(
                seqs,
                "IntegrityCheck.includedSequenceNumbers",
                tlv,
            )?,
            check_type: required(ct, "IntegrityCheck.checkType", tlv)?,
            data_type: dt,
            check_value: required(cv, "IntegrityCheck.checkValue", tlv)?,
            hash_algorithm: ha,
            signature_algorithm: sa,
        })
    }
}

asn1_enum! {
    /// `CheckType`.
    CheckType, "IntegrityCheck.checkType", extensible {
        /// `hash(1)`.
        Hash = 1 => "hash",
        /// `signature(2)`.
        Signature = 2 => "signature",
    }
}

asn1_enum! {
    /// `DataType`.
    DataType, "IntegrityCheck.dataType", extensible {
        /// `iRI(1)`.
        Iri = 1 => "iRI",
        /// `cC(2)`.
        Cc = 2 => "cC",
        /// `iLHI(3)`.
        Ilhi = 3 => "iLHI",
    }
}

asn1_enum! {
    /// `HashAlgorithm`.
    HashAlgorithm, "IntegrityCheck.hashAlgorithm", extensible {
        /// `sHA-1(1)`: legacy only.
        Sha1 = 1 => "sHA-1",
        /// `sHA-256(2)`.
        Sha256 = 2 => "sHA-256",
        /// `sHA-384(3)`.
        Sha384 = 3 => "sHA-384",
        /// `sHA-512(4)`.
        Sha512 = 4 => "sHA-512",
    }
}

asn1_enum! {
    /// `SignatureAlgorithm`.
    SignatureAlgorithm, "IntegrityCheck.signatureAlgorithm", extensible {
        /// `dSA(1)`: legacy only.
        Dsa = 1 => "dSA",
        /// `eCDSA(2)`.
        Ecdsa = 2 => "eCDSA",
        /// `edDSA(3)`.
        EdDsa = 3 => "edDSA",
    }
}

/// `OperatorLeaMessage`: a free-text message from the operator to the agency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorLeaMessage {
    /// `messagePriority [0]`.
    pub message_priority: OperatorLeaMessagePriority,
    /// `message [1]`: 1..255 octets.
    pub message: Vec<u8>,
}

impl OperatorLeaMessage {
    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.message_priority.encode(w, Tag::context(0));
            w.primitive(Tag::context(1), &self.message);
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut p, mut m) = (None, None);
        let mut r = tlv.children("OperatorLeaMessage")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut p,
                    OperatorLeaMessagePriority::decode(&f)?,
                    "OperatorLeaMessage.messagePriority",
                    &f,
                )?,
                Some(1) => {
                    const N: &str = "OperatorLeaMessage.message";
                    put(&mut m, f.octets_sized(N, 1, 255)?, N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            message_priority: required(p, "OperatorLeaMessage.messagePriority", tlv)?,
            message: required(m, "OperatorLeaMessage.message", tlv)?,
        })
    }
}

asn1_enum! {
    /// `OperatorLeaMessagePriority`.
    OperatorLeaMessagePriority, "OperatorLeaMessage.messagePriority", extensible {
        /// `error(1)`.
        Error = 1 => "error",
        /// `informational(2)`.
        Informational = 2 => "informational",
    }
}

/// `IPAddress` of LI-PS-PDU (used by TS 102 232-3 IPIRI).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAddress {
    /// `iP-type [1]`.
    pub ip_type: IpType,
    /// `iP-value [2]`.
    pub ip_value: IpValue,
    /// `iP-assignment [3]`.
    pub ip_assignment: Option<IpAssignment>,
    /// `iPv6PrefixLength [4]`: 1..128.
    pub ipv6_prefix_length: Option<u8>,
    /// `iPv4SubnetMask [5]`.
    pub ipv4_subnet_mask: Option<[u8; 4]>,
    /// `iP-NAT-translated [6]`.
    pub ip_nat_translated: Option<bool>,
}

impl IpAddress {
    /// A binary IPv4 or IPv6 address; an IPv6 one carries `iPv6PrefixLength` 128, which the
    /// module makes mandatory for a binary IPv6 value.
    pub fn from_ip(addr: std::net::IpAddr) -> Self {
        let (ip_type, octets, prefix) = match addr {
            std::net::IpAddr::V4(a) => (IpType::Ipv4, a.octets().to_vec(), None),
            std::net::IpAddr::V6(a) => (IpType::Ipv6, a.octets().to_vec(), Some(128)),
        };
        Self {
            ip_type,
            ip_value: IpValue::Binary(octets),
            ip_assignment: None,
            ipv6_prefix_length: prefix,
            ipv4_subnet_mask: None,
            ip_nat_translated: None,
        }
    }

    /// The address: a binary value of 4 or 16 octets, or a text value that parses as an
    /// address; `None` for anything else.
    pub fn to_ip(&self) -> Option<std::net::IpAddr> {
        match &self.ip_value {
            IpValue::Binary(b) => match b.len() {
                4 => <[u8; 4]>::try_from(b.as_slice()).ok().map(Into::into),
                16 => <[u8; 16]>::try_from(b.as_slice()).ok().map(Into::into),
                _ => None,
            },
            IpValue::Text(t) => t.parse().ok(),
            IpValue::Other(_) => None,
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.ip_type.encode(w, Tag::context(1));
            w.constructed(Tag::context_constructed(2), |w| match &self.ip_value {
                IpValue::Binary(b) => w.primitive(Tag::context(1), b),
                IpValue::Text(t) => w.primitive(Tag::context(2), t.as_bytes()),
                IpValue::Other(alt) => alt.encode(w),
            });
            if let Some(a) = self.ip_assignment {
                a.encode(w, Tag::context(3));
            }
            if let Some(len) = self.ipv6_prefix_length {
                w.u64(Tag::context(4), u64::from(len));
            }
            if let Some(mask) = &self.ipv4_subnet_mask {
                w.primitive(Tag::context(5), mask);
            }
            if let Some(nat) = self.ip_nat_translated {
                w.boolean(Tag::context(6), nat);
            }
        });
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut ty, mut val, mut asg, mut plen, mut mask, mut nat) =
            (None, None, None, None, None, None);
        let mut r = tlv.children("IPAddress")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(1) => put(&mut ty, IpType::decode(&f)?, "IPAddress.iP-type", &f)?,
                Some(2) => {
                    const N: &str = "IPAddress.iP-value";
                    let alt = f.single_child(N)?;
                    let v = match alt.tag.context_number() {
                        Some(1) => {
                            IpValue::Binary(alt.octets_sized("IP-value.iPBinaryAddress", 4, 16)?)
                        }
                        Some(2) => IpValue::Text(alt.ia5("IP-value.iPTextAddress", 7, 45)?),
                        _ => IpValue::Other(UnknownAlternative::decode(&alt, N)?),
                    };
                    put(&mut val, v, N, &f)?;
                }
                Some(3) => put(
                    &mut asg,
                    IpAssignment::decode(&f)?,
                    "IPAddress.iP-assignment",
                    &f,
                )?,
                Some(4) => {
                    const N: &str = "IPAddress.iPv6PrefixLength";
                    let v = f.u64(N)?;
                    let v = u8::try_from(v)
                        .ok()
                        .filter(|v| (1..=128).contains(v))
                        .ok_or(f.invalid(N, "prefix length outside 1..128"))?;
                    put(&mut plen, v, N, &f)?;
                }
                Some(5) => {
                    const N: &str = "IPAddress.iPv4SubnetMask";
                    let v = f.octets(N)?;
                    let v: [u8; 4] = v
                        .as_ref()
                        .try_into()
                        .map_err(|_| f.invalid(N, "subnet mask must be 4 octets"))?;
                    put(&mut mask, v, N, &f)?;
                }
                Some(6) => {
                    const N: &str = "IPAddress.iP-NAT-translated";
                    put(&mut nat, f.boolean(N)?, N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            ip_type: required(ty, "IPAddress.iP-type", tlv)?,
            ip_value: required(val, "IPAddress.iP-value", tlv)?,
            ip_assignment: asg,
            ipv6_prefix_length: plen,
            ipv4_subnet_mask: mask,
            ip_nat_translated: nat,
        })
    }
}

/// `IP-value`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpValue {
    /// `iPBinaryAddress [1]`: 4..16 octets.
    Binary(Vec<u8>),
    /// `iPTextAddress [2]`: IA5String of 7..45 characters.
    Text(String),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

asn1_enum! {
    /// `IPAddress.iP-type`.
    IpType, "IPAddress.iP-type", extensible {
        /// `iPV4(0)`.
        Ipv4 = 0 => "iPV4",
        /// `iPV6(1)`.
        Ipv6 = 1 => "iPV6",
    }
}

asn1_enum! {
    /// `IPAddress.iP-assignment`.
    IpAssignment, "IPAddress.iP-assignment", extensible {
        /// `static(1)`.
        Static = 1 => "static",
        /// `dynamic(2)`.
        Dynamic = 2 => "dynamic",
        /// `notKnown(3)`.
        NotKnown = 3 => "notKnown",
    }
}
