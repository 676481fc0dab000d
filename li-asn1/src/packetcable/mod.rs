//! PacketCable Electronic Surveillance (PCESP): the call-data `CdcPdu` of the PCESP module,
//! version 3 (`{1 3 6 1 4 1 4491 2 2 5 1 3}`), and the framing of call content ([`ccc`]).
//!
//! PCESP belongs to the J-STD-025 family, like ATIS-1000678, but it is a module of its own: the
//! tags of the messages it shares with T1.678 agree, others differ (12 is `ccchange` here,
//! `confPartyChange` there) and so do the headers (`accessingElementId` and `eventTime` here).
//! A receiver must know from its configuration which family a stream carries.
//!
//! `CdcPdu ::= SEQUENCE { protocolVersion [0] ProtocolVersion, message [1] Message, ... }`
//! with every [`Message`] a SEQUENCE starting with the [`CdcHeader`] components `caseId [0]`,
//! `accessingElementId [1]`, `eventTime [2]`. Under the module's IMPLICIT TAGS the CHOICE
//! types (`Message`, `CCCId`) sit inside an explicit tag.
//!
//! The decoders share the ETSI and ATIS codecs' BER core and tolerance: indefinite and
//! long-form lengths, constructed strings, components in any order, unknown components (the
//! SEQUENCEs are extensible) skipped, unknown `Message` and `CCCId` alternatives (the
//! module's reserved NULL alternatives among them) kept as an [`crate::UnknownAlternative`];
//! a duplicate or missing mandatory component, a wrong tag or a character outside
//! VisibleString is an [`crate::Error`] naming the field (`Answer.callId`) and the offset.
//!
//! Size constraints: [`CaseId`] (1..25) and [`AccessingElementId`] (1..15), the identifiers an
//! agency correlates on, are checked when they are made and when they are decoded. The other
//! VisibleStrings have extensible size constraints (`SIZE(1..32, ...)`): a decoder accepts any
//! value from the constraint's minimum up, since a later version may send a longer one, and
//! the encoder writes what it is given. The reserved NULL components that the module leaves mandatory
//! (`Origination.reserved0`, `Redirection.reserved0/1`, `TerminationAttempt.reserved0`) are
//! always encoded and never required on decode: they carry nothing.
//!
//! ```
//! use li_asn1::GeneralizedTime;
//! use li_asn1::packetcable::{
//!     AccessingElementId, CallId, CaseId, CccId, CcClose, CdcHeader, CdcPdu, FlowDirection,
//!     Message,
//! };
//!
//! let header = CdcHeader {
//!     case_id: CaseId::new("CASE-1")?,
//!     accessing_element_id: AccessingElementId::new("CMS-7")?,
//!     event_time: GeneralizedTime::parse("20240102030405.678Z").ok_or("time")?,
//! };
//! let close = CdcPdu::new(Message::CcClose(CcClose {
//!     header,
//!     ccc_id: CccId::comb(0x0102_00ab),
//!     flow_direction: FlowDirection::DownstreamAndUpstream,
//! }));
//! let decoded = CdcPdu::decode(&close.encode())?;
//! assert_eq!(decoded, close);
//! let Message::CcClose(m) = decoded.message else { unreachable!() };
//! assert_eq!(m.ccc_id, CccId::CombCcc("010200AB".into()));
//! assert_eq!(m.ccc_id.identifiers(), Some((0x0102_00ab, None)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ccc;
mod messages;
mod types;

pub use messages::{
    Answer, CcChange, CcClose, CcOpen, MediaReport, NetworkSignal, Origination, Redirection,
    Release, ServiceInstance, SubjectSignal, TerminationAttempt,
};
pub use types::{
    AccessingElementId, AlertingSignal, AudibleSignal, CallId, CaseId, CcOpenOption, CccId,
    FlowDirection, OriginationInput, PartyId, ProtocolVersion, RedirectedFromInfo, ResourceState,
    SubjectSignalInfo, TerminalDisplayInfo, ValueError,
};

use crate::ber::{Reader, Tag, Tlv, Writer};
use crate::error::{Error, Result};
use crate::types::{GeneralizedTime, ObjectIdentifier, UnknownAlternative, put, required};

/// The PCESP module's object identifier, version 3: `{iso(1) identified-organization(3)
/// dod(6) internet(1) private(4) enterprise(1) cable-Television-Laboratories-Inc(4491)
/// clabProject(2) clabProjPacketCable(2) pktcLawfulIntercept(5) pcesp(1) version-3(3)}`.
/// `CdcPdu` does not carry it (the version travels as [`ProtocolVersion`]); it names the
/// module in documentation and configuration.
pub fn pcesp_oid() -> ObjectIdentifier {
    ObjectIdentifier::new(&[1, 3, 6, 1, 4, 1, 4491, 2, 2, 5, 1, 3])
        .unwrap_or_else(|| ObjectIdentifier::li_ps_domain_id(0))
}

/// `CdcPdu`: one call-data message with the protocol version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdcPdu {
    /// `protocolVersion [0]`.
    pub protocol_version: ProtocolVersion,
    /// `message [1]`.
    pub message: Message,
}

impl CdcPdu {
    /// `message` under protocol version `io3`, the version of this module.
    pub fn new(message: Message) -> Self {
        Self {
            protocol_version: ProtocolVersion::Io3,
            message,
        }
    }

    /// The BER encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the BER encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut w = Writer::from_vec(core::mem::take(out));
        w.constructed(Tag::SEQUENCE, |w| {
            w.i64(Tag::context(0), self.protocol_version.value());
            w.constructed(Tag::context_constructed(1), |w| self.message.encode(w));
        });
        *out = w.into_vec();
    }

    /// Decodes exactly one `CdcPdu`; trailing octets are an error.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let (pdu, used) = Self::decode_prefix(data)?;
        if used < data.len() {
            return Err(Error::TrailingData {
                offset: used,
                count: data.len() - used,
            });
        }
        Ok(pdu)
    }

    /// Decodes the first `CdcPdu` of `data` (messages back to back on a stream), returning it
    /// and the octets it took.
    pub fn decode_prefix(data: &[u8]) -> Result<(Self, usize)> {
        const NAME: &str = "CdcPdu";
        const VERSION: &str = "CdcPdu.protocolVersion";
        const MESSAGE: &str = "CdcPdu.message";
        let tlv = Reader::new(data).read()?;
        if tlv.tag != Tag::SEQUENCE {
            return Err(tlv.unexpected(NAME, "a SEQUENCE"));
        }
        let (mut version, mut message) = (None, None);
        let mut r = tlv.children(NAME)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut version,
                    ProtocolVersion::from_value(f.enumerated(VERSION)?),
                    VERSION,
                    &f,
                )?,
                Some(1) => put(
                    &mut message,
                    Message::decode(&f.single_child(MESSAGE)?)?,
                    MESSAGE,
                    &f,
                )?,
                _ => {}
            }
        }
        Ok((
            Self {
                protocol_version: required(version, VERSION, &tlv)?,
                message: required(message, MESSAGE, &tlv)?,
            },
            tlv.encoded_len,
        ))
    }
}

/// `Message`: the CHOICE of call-data messages.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Message {
    /// `answer [1]`: the call is answered.
    Answer(Answer),
    /// `ccclose [2]`: a call content stream ends.
    CcClose(CcClose),
    /// `ccopen [3]`: a call content stream starts, with its CCC identifier.
    CcOpen(CcOpen),
    /// `origination [5]`: the subject places a call.
    Origination(Origination),
    /// `redirection [7]`: the call is forwarded.
    Redirection(Redirection),
    /// `release [8]`: the call ends.
    Release(Release),
    /// `terminationattempt [10]`: a call to the subject.
    TerminationAttempt(TerminationAttempt),
    /// `ccchange [12]`: a call content stream changes (media, direction).
    CcChange(CcChange),
    /// `networksignal [16]`: a signal the network applies to the subject.
    NetworkSignal(NetworkSignal),
    /// `subjectsignal [17]`: dialling and signalling by the subject.
    SubjectSignal(SubjectSignal),
    /// `mediareport [18]`: the media description of a call changes.
    MediaReport(MediaReport),
    /// `serviceinstance [19]`: a feature (call waiting, three-way call ...) is used.
    ServiceInstance(ServiceInstance),
    /// An alternative this version does not model: a reserved NULL (`[4]`, `[6]`, `[9]`,
    /// `[11]`, `[13]`..`[15]`) or one a later version adds, kept as received.
    Unknown(UnknownAlternative),
}

impl Message {
    /// The alternative's name in the module (`answer`, `ccopen`, ...), or `None` for
    /// [`Message::Unknown`].
    pub fn asn1_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::Answer(_) => "answer",
            Self::CcClose(_) => "ccclose",
            Self::CcOpen(_) => "ccopen",
            Self::Origination(_) => "origination",
            Self::Redirection(_) => "redirection",
            Self::Release(_) => "release",
            Self::TerminationAttempt(_) => "terminationattempt",
            Self::CcChange(_) => "ccchange",
            Self::NetworkSignal(_) => "networksignal",
            Self::SubjectSignal(_) => "subjectsignal",
            Self::MediaReport(_) => "mediareport",
            Self::ServiceInstance(_) => "serviceinstance",
            Self::Unknown(_) => return None,
        })
    }

    /// The message's header, or `None` for [`Message::Unknown`].
    pub fn header(&self) -> Option<&CdcHeader> {
        Some(match self {
            Self::Answer(m) => &m.header,
            Self::CcClose(m) => &m.header,
            Self::CcOpen(m) => &m.header,
            Self::Origination(m) => &m.header,
            Self::Redirection(m) => &m.header,
            Self::Release(m) => &m.header,
            Self::TerminationAttempt(m) => &m.header,
            Self::CcChange(m) => &m.header,
            Self::NetworkSignal(m) => &m.header,
            Self::SubjectSignal(m) => &m.header,
            Self::MediaReport(m) => &m.header,
            Self::ServiceInstance(m) => &m.header,
            Self::Unknown(_) => return None,
        })
    }

    fn encode(&self, w: &mut Writer) {
        let t = Tag::context_constructed;
        match self {
            Self::Answer(m) => m.encode(w, t(1)),
            Self::CcClose(m) => m.encode(w, t(2)),
            Self::CcOpen(m) => m.encode(w, t(3)),
            Self::Origination(m) => m.encode(w, t(5)),
            Self::Redirection(m) => m.encode(w, t(7)),
            Self::Release(m) => m.encode(w, t(8)),
            Self::TerminationAttempt(m) => m.encode(w, t(10)),
            Self::CcChange(m) => m.encode(w, t(12)),
            Self::NetworkSignal(m) => m.encode(w, t(16)),
            Self::SubjectSignal(m) => m.encode(w, t(17)),
            Self::MediaReport(m) => m.encode(w, t(18)),
            Self::ServiceInstance(m) => m.encode(w, t(19)),
            Self::Unknown(u) => u.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(1) => Self::Answer(Answer::decode(tlv)?),
            Some(2) => Self::CcClose(CcClose::decode(tlv)?),
            Some(3) => Self::CcOpen(CcOpen::decode(tlv)?),
            Some(5) => Self::Origination(Origination::decode(tlv)?),
            Some(7) => Self::Redirection(Redirection::decode(tlv)?),
            Some(8) => Self::Release(Release::decode(tlv)?),
            Some(10) => Self::TerminationAttempt(TerminationAttempt::decode(tlv)?),
            Some(12) => Self::CcChange(CcChange::decode(tlv)?),
            Some(16) => Self::NetworkSignal(NetworkSignal::decode(tlv)?),
            Some(17) => Self::SubjectSignal(SubjectSignal::decode(tlv)?),
            Some(18) => Self::MediaReport(MediaReport::decode(tlv)?),
            Some(19) => Self::ServiceInstance(ServiceInstance::decode(tlv)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, "Message")?),
        })
    }
}

/// The three components every message starts with: `caseId [0]`, `accessingElementId [1]`,
/// `eventTime [2]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdcHeader {
    /// `caseId`: the intercept's identity as agreed with the agency.
    pub case_id: CaseId,
    /// `accessingElementId`: the statically configured number of the element (CMS, MGC)
    /// that reports.
    pub accessing_element_id: AccessingElementId,
    /// `eventTime`: GeneralizedTime of the event.
    pub event_time: GeneralizedTime,
}

impl CdcHeader {
    fn encode(&self, w: &mut Writer) {
        w.primitive(Tag::context(0), self.case_id.as_str().as_bytes());
        w.primitive(
            Tag::context(1),
            self.accessing_element_id.as_str().as_bytes(),
        );
        self.event_time.encode(w, Tag::context(2));
    }
}

/// The header's slots while a message's components are read.
#[derive(Default)]
struct HeaderSlots {
    case_id: Option<CaseId>,
    accessing_element_id: Option<AccessingElementId>,
    event_time: Option<GeneralizedTime>,
}

impl HeaderSlots {
    /// Takes component `f` if it is one of the header's (`names` are the message's `caseId`,
    /// `accessingElementId`, `eventTime`); returns false otherwise.
    fn take(&mut self, f: &Tlv<'_>, names: &[&'static str; 3]) -> Result<bool> {
        let [case, element, time] = *names;
        match f.tag.context_number() {
            Some(0) => put(&mut self.case_id, CaseId::decode(f, case)?, case, f)?,
            Some(1) => put(
                &mut self.accessing_element_id,
                AccessingElementId::decode(f, element)?,
                element,
                f,
            )?,
            Some(2) => put(
                &mut self.event_time,
                GeneralizedTime::decode(f, time)?,
                time,
                f,
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(self, names: &[&'static str; 3], parent: &Tlv<'_>) -> Result<CdcHeader> {
        let [case, element, time] = *names;
        Ok(CdcHeader {
            case_id: required(self.case_id, case, parent)?,
            accessing_element_id: required(self.accessing_element_id, element, parent)?,
            event_time: required(self.event_time, time, parent)?,
        })
    }
}

/// A component's codec under a context tag `[n]`: implicit for SEQUENCEs, strings and
/// ENUMERATEDs, explicit for CHOICE types; an untagged CHOICE component (`CCOpen.ccOpenOption`,
/// `Origination.input`) writes its alternative's own tag and ignores `tag`.
pub(crate) trait PcField: Sized {
    fn encode_field(&self, w: &mut Writer, tag: u32);
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self>;
}

/// SDP and other UTF8String components.
impl PcField for String {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.primitive(Tag::context(tag), self.as_bytes());
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        tlv.utf8(field)
    }
}

/// INTEGER components (`numRedirections`).
impl PcField for i64 {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.i64(Tag::context(tag), *self);
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        tlv.i64(field)
    }
}

/// A VisibleString with an extensible size constraint: at least `min` characters, any
/// number above (see the module documentation).
pub(crate) fn visible_ext(tlv: &Tlv<'_>, field: &'static str, min: usize) -> Result<String> {
    crate::atis::visible(tlv, field, min, usize::MAX)
}

/// Defines a message: a SEQUENCE starting with the [`CdcHeader`] components `[0]..[2]`, then
/// the listed components, with its encoder and its decoder (components in any order, unknown
/// ones skipped, duplicates and missing mandatory ones named errors). A component's kind is
/// `vs(MIN)` (a VisibleString of at least MIN characters) or `typed` (a [`PcField`]);
/// `reserved = [..]` lists the mandatory reserved NULL components, written in tag order and
/// ignored on decode.
macro_rules! pcesp_message {
    (
        $(#[$meta:meta])*
        $name:ident, $asn:literal, reserved = [$($reserved:literal),*], {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty =
               [$tag:literal $(| $alt:literal)*] $fasn:literal $kind:ident $(($min:literal))? $presence:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            /// `caseId [0]`, `accessingElementId [1]`, `eventTime [2]`.
            pub header: $crate::packetcable::CdcHeader,
            $( $(#[$fmeta])* pub $field: $crate::packetcable::pcesp_message!(@ty $presence $fty), )*
        }

        impl $name {
            const HEADER_NAMES: [&'static str; 3] = [
                concat!($asn, ".caseId"),
                concat!($asn, ".accessingElementId"),
                concat!($asn, ".eventTime"),
            ];
            const RESERVED: &'static [u32] = &[$($reserved),*];

            pub(crate) fn encode(&self, w: &mut $crate::ber::Writer, tag: $crate::ber::Tag) {
                w.constructed(tag, |w| {
                    self.header.encode(w);
                    let mut reserved = Self::RESERVED.iter().copied().peekable();
                    $(
                        while let Some(r) = reserved.next_if(|&r| r < $tag) {
                            w.null($crate::ber::Tag::context(r));
                        }
                        $crate::packetcable::pcesp_message!(
                            @enc $presence $kind w, self.$field, $tag
                        );
                    )*
                    for r in reserved {
                        w.null($crate::ber::Tag::context(r));
                    }
                });
            }

            pub(crate) fn decode(tlv: &$crate::ber::Tlv<'_>) -> $crate::error::Result<Self> {
                let mut header = $crate::packetcable::HeaderSlots::default();
                $( let mut $field: Option<$fty> = None; )*
                let mut r = tlv.children($asn)?;
                while let Some(f) = r.next_tlv()? {
                    if header.take(&f, &Self::HEADER_NAMES)? {
                        continue;
                    }
                    match f.tag.context_number() {
                        $( Some($tag $(| $alt)*) => {
                            const N: &str = concat!($asn, ".", $fasn);
                            $crate::types::put(
                                &mut $field,
                                $crate::packetcable::pcesp_message!(
                                    @dec $kind $(($min))? $fty, f, N
                                ),
                                N,
                                &f,
                            )?;
                        } )*
                        _ => {}
                    }
                }
                Ok(Self {
                    header: header.finish(&Self::HEADER_NAMES, tlv)?,
                    $( $field: $crate::packetcable::pcesp_message!(
                        @fin $presence $field, concat!($asn, ".", $fasn), tlv
                    ), )*
                })
            }
        }
    };
    (@ty required $t:ty) => { $t };
    (@ty optional $t:ty) => { Option<$t> };
    (@enc required vs $w:ident, $v:expr, $tag:literal) => {
        $w.primitive($crate::ber::Tag::context($tag), $v.as_bytes())
    };
    (@enc optional vs $w:ident, $v:expr, $tag:literal) => {
        if let Some(v) = &$v {
            $w.primitive($crate::ber::Tag::context($tag), v.as_bytes());
        }
    };
    (@enc required typed $w:ident, $v:expr, $tag:literal) => {
        $crate::packetcable::PcField::encode_field(&$v, $w, $tag)
    };
    (@enc optional typed $w:ident, $v:expr, $tag:literal) => {
        if let Some(v) = &$v {
            $crate::packetcable::PcField::encode_field(v, $w, $tag);
        }
    };
    (@dec vs ($min:literal) $t:ty, $f:ident, $n:expr) => {
        $crate::packetcable::visible_ext(&$f, $n, $min)?
    };
    (@dec typed $t:ty, $f:ident, $n:expr) => {
        <$t as $crate::packetcable::PcField>::decode_field(&$f, $n)?
    };
    (@fin required $slot:ident, $n:expr, $tlv:ident) => {
        $crate::types::required($slot, $n, $tlv)?
    };
    (@fin optional $slot:ident, $n:expr, $tlv:ident) => { $slot };
}
pub(crate) use pcesp_message;
