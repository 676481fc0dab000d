//! ATIS-1000013 CmC delivery header: `IAS-CC-APDU` (module
//! IAS-LAES-CmCC-Abstract-Syntax-Module), the wrapper of each intercepted packet. The
//! ATIS-1000678 `CC-APDU` (CCDeliveryHeaderModule) has exactly the same components, tags and
//! constraints, so this one model serves both families ([`crate::atis::laes_cc`] names it
//! `CcApdu`); its errors name the type `CC-APDU`.
//!
//! `IAS-CC-APDU ::= SEQUENCE { ccDeliveryHeader [0] CCDeliveryHeader OPTIONAL, payload [1]
//! OCTET STRING }`. What `payload` must hold is not in the public material; like OpenCALEA,
//! this crate expects the whole intercepted IP packet. [`IasCcEncoder`] is the hot path:
//! the correlation information is encoded once per (case, session), and per packet only the
//! time stamp, direction and sequence number are written before the packet is copied.
//!
//! ```
//! use li_asn1::atis::ias_cc::{ContentIdentifier, IasCcApdu, IasCcEncoder, PacketDirection};
//! use li_core::Timestamp;
//!
//! let encoder = IasCcEncoder::new("CASE-1", Some("IAP-7"),
//!     &ContentIdentifier::CorrelationId(b"session-42".to_vec()));
//! let mut out = Vec::new();
//! let time = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
//! encoder.encode(9, time, PacketDirection::FromSubject, &[0x45, 0, 0, 20], &mut out);
//! let apdu = IasCcApdu::decode(&out)?;
//! assert_eq!(apdu.payload, [0x45, 0, 0, 20]);
//! assert_eq!(apdu.delivery_header.and_then(|h| h.sequence_number), Some(9));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use li_core::Timestamp;

use crate::atis::{CaseIdentity, Field, visible};
use crate::ber::{Reader, Tag, Tlv, Writer, int_octets, length_len, write_length, write_tag};
use crate::error::Result;
use crate::types::{
    GeneralizedTime, UnknownAlternative, asn1_enum, put, required, write_canonical,
};

/// `IAS-CC-APDU`: one content packet with its optional delivery header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IasCcApdu {
    /// `ccDeliveryHeader [0]`.
    pub delivery_header: Option<CcDeliveryHeader>,
    /// `payload [1]`: the intercepted packet.
    pub payload: Vec<u8>,
}

impl IasCcApdu {
    /// The BER encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.constructed(Tag::SEQUENCE, |w| {
            if let Some(h) = &self.delivery_header {
                h.encode(w);
            }
            w.primitive(Tag::context(1), &self.payload);
        });
        w.into_vec()
    }

    /// Decodes exactly one `IAS-CC-APDU`; trailing octets are an error.
    pub fn decode(data: &[u8]) -> Result<Self> {
        crate::atis::decode_exactly(data, Self::decode_prefix)
    }

    /// Decodes the first `IAS-CC-APDU` of `data` (back-to-back on a stream), returning it
    /// and the octets it took.
    pub fn decode_prefix(data: &[u8]) -> Result<(Self, usize)> {
        const NAME: &str = "CC-APDU";
        let tlv = Reader::new(data).read()?;
        if tlv.tag != Tag::SEQUENCE {
            return Err(tlv.unexpected(NAME, "a SEQUENCE"));
        }
        let (mut header, mut payload) = (None, None);
        let mut r = tlv.children(NAME)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut header,
                    CcDeliveryHeader::decode(&f)?,
                    "CC-APDU.ccDeliveryHeader",
                    &f,
                )?,
                Some(1) => {
                    const N: &str = "CC-APDU.payload";
                    put(&mut payload, f.octets(N)?.into_owned(), N, &f)?;
                }
                _ => {}
            }
        }
        Ok((
            Self {
                delivery_header: header,
                payload: required(payload, "CC-APDU.payload", &tlv)?,
            },
            tlv.encoded_len,
        ))
    }
}

/// `CCDeliveryHeader`: which case and session a packet belongs to, when, in which direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CcDeliveryHeader {
    /// `correlationInfo [0]`.
    pub correlation_info: CorrelationInfo,
    /// `timeStamp [1]`.
    pub time_stamp: Option<GeneralizedTime>,
    /// `packetDirection [2]`.
    pub packet_direction: Option<PacketDirection>,
    /// `sequenceNumber [3]`: INTEGER without a range in the module.
    pub sequence_number: Option<i64>,
}

impl CcDeliveryHeader {
    fn encode(&self, w: &mut Writer) {
        w.constructed(Tag::context_constructed(0), |w| {
            self.correlation_info.encode(w);
            if let Some(t) = &self.time_stamp {
                t.encode(w, Tag::context(1));
            }
            if let Some(d) = self.packet_direction {
                d.encode(w, Tag::context(2));
            }
            if let Some(n) = self.sequence_number {
                w.i64(Tag::context(3), n);
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut info, mut time, mut dir, mut seq) = (None, None, None, None);
        let mut r = tlv.children("CCDeliveryHeader")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut info,
                    CorrelationInfo::decode(&f)?,
                    "CCDeliveryHeader.correlationInfo",
                    &f,
                )?,
                Some(1) => {
                    const N: &str = "CCDeliveryHeader.timeStamp";
                    put(&mut time, GeneralizedTime::decode(&f, N)?, N, &f)?;
                }
                Some(2) => put(
                    &mut dir,
                    PacketDirection::decode(&f)?,
                    "CCDeliveryHeader.packetDirection",
                    &f,
                )?,
                Some(3) => {
                    const N: &str = "CCDeliveryHeader.sequenceNumber";
                    put(&mut seq, f.i64(N)?, N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            correlation_info: required(info, "CCDeliveryHeader.correlationInfo", tlv)?,
            time_stamp: time,
            packet_direction: dir,
            sequence_number: seq,
        })
    }
}

/// `CCDeliveryHeader.correlationInfo`: the case, the access point and the content identifier
/// the CmII announced (`LEA-CmC-Delivery.contentIdentifier`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationInfo {
    /// `caseId [0]`: VisibleString (1..25).
    pub case_id: Option<String>,
    /// `iapId [1]`: VisibleString (1..15).
    pub iap_id: Option<String>,
    /// `contentIdentifier [2]`.
    pub content_identifier: ContentIdentifier,
}

impl CorrelationInfo {
    fn encode(&self, w: &mut Writer) {
        w.constructed(Tag::context_constructed(0), |w| self.encode_content(w));
    }

    fn encode_content(&self, w: &mut Writer) {
        if let Some(c) = &self.case_id {
            w.primitive(Tag::context(0), c.as_bytes());
        }
        if let Some(i) = &self.iap_id {
            w.primitive(Tag::context(1), i.as_bytes());
        }
        self.content_identifier.encode_field(w, 2);
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        const CASE: &str = "CCDeliveryHeader.correlationInfo.caseId";
        const IAP: &str = "CCDeliveryHeader.correlationInfo.iapId";
        const CONTENT: &str = "CCDeliveryHeader.correlationInfo.contentIdentifier";
        let (mut case, mut iap, mut content) = (None, None, None);
        let mut r = tlv.children("CCDeliveryHeader.correlationInfo")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut case, visible(&f, CASE, 1, 25)?, CASE, &f)?,
                Some(1) => put(&mut iap, visible(&f, IAP, 1, 15)?, IAP, &f)?,
                Some(2) => put(
                    &mut content,
                    ContentIdentifier::decode_field(&f, CONTENT)?,
                    CONTENT,
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            case_id: case,
            iap_id: iap,
            content_identifier: required(content, CONTENT, tlv)?,
        })
    }
}

asn1_enum! {
    /// `PacketDirection`: whether the subject sent or received the packet.
    PacketDirection, "CCDeliveryHeader.packetDirection", closed {
        /// `fromSubject(0)`.
        FromSubject = 0 => "fromSubject",
        /// `toSubject(1)`.
        ToSubject = 1 => "toSubject",
    }
}

/// `ContentIdentifier ::= CHOICE { correlationID [0] OCTET STRING, callID [1] CallIdentity }`
/// (the same type in the CmII and CmCC modules): ties content to the CmII that announced it.
/// Which alternative an agency expects is not in the public material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentIdentifier {
    /// `correlationID [0]`.
    CorrelationId(Vec<u8>),
    /// `callID [1]`.
    CallId(CallIdentity),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl ContentIdentifier {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::CorrelationId(id) => w.primitive(Tag::context(0), id),
            Self::CallId(c) => c.encode(w, Tag::context_constructed(1)),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::CorrelationId(tlv.octets(field)?.into_owned()),
            Some(1) => Self::CallId(CallIdentity::decode(tlv)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

crate::atis::choice_field!(ContentIdentifier);

/// `CallIdentity ::= SEQUENCE { main [0] UTF8String, leg [1] UTF8String OPTIONAL }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallIdentity {
    /// `main [0]`.
    pub main: String,
    /// `leg [1]`.
    pub leg: Option<String>,
}

impl CallIdentity {
    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            w.primitive(Tag::context(0), self.main.as_bytes());
            if let Some(leg) = &self.leg {
                w.primitive(Tag::context(1), leg.as_bytes());
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        const MAIN: &str = "CallIdentity.main";
        const LEG: &str = "CallIdentity.leg";
        let (mut main, mut leg) = (None, None);
        let mut r = tlv.children("CallIdentity")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut main, f.utf8(MAIN)?, MAIN, &f)?,
                Some(1) => put(&mut leg, f.utf8(LEG)?, LEG, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            main: required(main, MAIN, tlv)?,
            leg,
        })
    }
}

/// Encodes `IAS-CC-APDU`s (and ATIS-1000678 `CC-APDU`s, the same encoding) for one (case,
/// content identifier), byte-identical to
/// [`IasCcApdu::encode`] of a value with every header field present.
///
/// The correlation information is encoded once; per packet only the canonical time stamp
/// (at most 22 octets, on the stack), the direction and the sequence number are written,
/// and the packet is copied once into the caller's buffer.
#[derive(Clone, Debug)]
pub struct IasCcEncoder {
    /// `correlationInfo [0]`, encoded.
    correlation: Vec<u8>,
}

impl IasCcEncoder {
    /// Pre-encodes the correlation information. `case_id` should be 1..25 and `iap_id`
    /// 1..15 visible characters (the module's constraints; provisioning checks them).
    pub fn new(
        case_id: &str,
        iap_id: Option<&str>,
        content_identifier: &ContentIdentifier,
    ) -> Self {
        let info = CorrelationInfo {
            case_id: Some(case_id.to_owned()),
            iap_id: iap_id.map(str::to_owned),
            content_identifier: content_identifier.clone(),
        };
        let mut w = Writer::new();
        info.encode(&mut w);
        Self {
            correlation: w.into_vec(),
        }
    }

    /// Pre-encodes the correlation information of an ATIS-1000678 `CC-APDU` for a checked
    /// [`CaseIdentity`] (what the call data carries), so the content cannot carry a caseId the
    /// call data could not.
    pub fn for_case(
        case_id: &CaseIdentity,
        iap_id: Option<&str>,
        content_identifier: &ContentIdentifier,
    ) -> Self {
        Self::new(case_id.as_str(), iap_id, content_identifier)
    }

    /// Appends one `IAS-CC-APDU` carrying `packet` to `out`.
    pub fn encode(
        &self,
        sequence_number: i64,
        time: Timestamp,
        direction: PacketDirection,
        packet: &[u8],
        out: &mut Vec<u8>,
    ) {
        let mut stamp = [0u8; 22];
        let stamp_len = write_canonical(time, &mut stamp);
        let stamp = stamp.get(..stamp_len).unwrap_or(&[]);
        let (seq_octets, seq_n) = int_octets(sequence_number);
        let seq = seq_octets.get(8 - seq_n..).unwrap_or(&[0]);
        // [1] timeStamp, [2] packetDirection (one octet), [3] sequenceNumber.
        let header_content = self.correlation.len() + 2 + stamp.len() + 3 + 2 + seq.len();
        let header_len = 1 + length_len(header_content) + header_content;
        let payload_len = 1 + length_len(packet.len()) + packet.len();
        let total = header_len + payload_len;
        out.reserve(1 + length_len(total) + total);
        write_tag(out, Tag::SEQUENCE);
        write_length(out, total);
        write_tag(out, Tag::context_constructed(0));
        write_length(out, header_content);
        out.extend_from_slice(&self.correlation);
        out.extend_from_slice(&[0x81, stamp.len() as u8]);
        out.extend_from_slice(stamp);
        out.extend_from_slice(&[0x82, 0x01, direction.value() as u8]);
        out.extend_from_slice(&[0x83, seq.len() as u8]);
        out.extend_from_slice(seq);
        write_tag(out, Tag::context(1));
        write_length(out, packet.len());
        out.extend_from_slice(packet);
    }
}

impl Field for CallIdentity {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        self.encode(w, Tag::context_constructed(tag));
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        if !tlv.tag.constructed {
            return Err(tlv.invalid(field, "expected the constructed form"));
        }
        Self::decode(tlv)
    }
}

/// `CallIdentity` as a SEQUENCE OF component (ATIS-1000678 `callId [3] SEQUENCE OF`).
impl crate::atis::Element for CallIdentity {
    fn encode_element(&self, w: &mut Writer) {
        self.encode(w, Tag::SEQUENCE);
    }
    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        if tlv.tag != Tag::SEQUENCE {
            return Err(tlv.unexpected(field, "a SEQUENCE"));
        }
        Self::decode(tlv)
    }
}
