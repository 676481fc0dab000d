//! ATIS-1000678 (formerly T1.678) call data (CDC): `LAESProtocol` of
//! T1S1-LAES-VoP-Abstract-Syntax-Module, the call-identifying information of a VoIP
//! intercept.
//!
//! `LAESProtocol ::= CHOICE { enhancedProtocol [0] EnhancedProtocol, laesMessage [1]
//! LaesMessage }` with `EnhancedProtocol ::= SEQUENCE { protocolIdentifier [0] OBJECT
//! IDENTIFIER, laesMessage [1] LaesMessage }`: the enhanced form names the module (its version)
//! by OID, the plain form does not. [`LaesMessage`] has the 24 alternatives of the 2006 text
//! (tags continue J-STD-025's numbering); every message starts with the [`LaesHeader`]
//! components (except `ConnectionTest`, whose caseId is OPTIONAL). The suite produces
//! Origination, TerminationAttempt, Answer, Redirection, Release, ServingSystem,
//! MediaAndAddressReporting, CCOpen / CCChange / CCClose, SurveillanceStatus, ConnectionTest,
//! DirectSignalReporting and CCUnavailable; the others are typed as far as the module goes,
//! with H.323-specific parts opaque (see [`crate::atis::laes_party`]).
//!
//! ```
//! use li_asn1::GeneralizedTime;
//! use li_asn1::atis::{CaseIdentity, laes_oid};
//! use li_asn1::atis::laes::{Answer, LaesHeader, LaesMessage, LaesProtocol};
//! use li_asn1::atis::laes_cc::CallIdentity;
//! use li_asn1::atis::laes_party::PartyIdentity;
//!
//! let answer = LaesProtocol::Enhanced {
//!     protocol_identifier: laes_oid(),
//!     message: LaesMessage::Answer(Answer {
//!         header: LaesHeader {
//!             case_id: CaseIdentity::new("CASE-0001")?,
//!             iap_system_id: Some("IAP-1".into()),
//!             timestamp: GeneralizedTime::parse("20240102030407.678Z").ok_or("time")?,
//!         },
//!         call_id: CallIdentity { main: "a84b4c76e66710@pc33.example.com".into(), leg: Some("1".into()) },
//!         answering: Some(PartyIdentity::from_uris(["sip:bob@example.net"])),
//!         location: None,
//!         answering_media: None,
//!         protocol_specific_parameters: None,
//!         signaling_msg: None,
//!     }),
//! };
//! assert_eq!(LaesProtocol::decode(&answer.encode())?, answer);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::atis::laes_cc::{CallIdentity, ContentIdentifier};
use crate::atis::laes_party::*;
use crate::atis::{
    CaseIdentity, MessageHeader, atis_choice, atis_sequence, enum_field, visible, vs,
};
use crate::ber::{Reader, Tag, Tlv, Writer};
use crate::error::Result;
use crate::types::{GeneralizedTime, ObjectIdentifier, asn1_enum, put, required};

/// `LAESProtocol`: one call-data message, with or without the module's OID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaesProtocol {
    /// `enhancedProtocol [0]`: the message under the module's OID (a per-destination
    /// setting, [`crate::atis::laes_oid`] by default).
    Enhanced {
        /// `protocolIdentifier [0]`.
        protocol_identifier: ObjectIdentifier,
        /// `laesMessage [1]`.
        message: LaesMessage,
    },
    /// `laesMessage [1]`: the plain form.
    Plain(LaesMessage),
}

impl LaesProtocol {
    /// The message, whichever the form.
    pub fn message(&self) -> &LaesMessage {
        match self {
            Self::Enhanced { message, .. } | Self::Plain(message) => message,
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
        match self {
            Self::Enhanced {
                protocol_identifier,
                message,
            } => w.constructed(Tag::context_constructed(0), |w| {
                protocol_identifier.encode(w, Tag::context(0));
                w.constructed(Tag::context_constructed(1), |w| message.encode_choice(w));
            }),
            Self::Plain(message) => {
                w.constructed(Tag::context_constructed(1), |w| message.encode_choice(w));
            }
        }
        *out = w.into_vec();
    }

    /// Decodes exactly one message; trailing octets are an error.
    pub fn decode(data: &[u8]) -> Result<Self> {
        crate::atis::decode_exactly(data, Self::decode_prefix)
    }

    /// Decodes the first message of `data` (messages back to back on a stream), returning it
    /// and the octets it took.
    pub fn decode_prefix(data: &[u8]) -> Result<(Self, usize)> {
        const NAME: &str = "LAESProtocol";
        const OID: &str = "EnhancedProtocol.protocolIdentifier";
        const MSG: &str = "EnhancedProtocol.laesMessage";
        let tlv = Reader::new(data).read()?;
        let value = match (tlv.tag.context_number(), tlv.tag.constructed) {
            (Some(0), true) => {
                let (mut oid, mut msg) = (None, None);
                let mut r = tlv.children("EnhancedProtocol")?;
                while let Some(f) = r.next_tlv()? {
                    match f.tag.context_number() {
                        Some(0) => put(&mut oid, ObjectIdentifier::decode(&f, OID)?, OID, &f)?,
                        Some(1) => put(
                            &mut msg,
                            LaesMessage::decode_choice(&f.single_child(MSG)?, MSG)?,
                            MSG,
                            &f,
                        )?,
                        _ => {}
                    }
                }
                Self::Enhanced {
                    protocol_identifier: required(oid, OID, &tlv)?,
                    message: required(msg, MSG, &tlv)?,
                }
            }
            (Some(1), true) => {
                const PLAIN: &str = "LAESProtocol.laesMessage";
                Self::Plain(LaesMessage::decode_choice(
                    &tlv.single_child(PLAIN)?,
                    PLAIN,
                )?)
            }
            _ => {
                return Err(
                    tlv.unexpected(NAME, "enhancedProtocol [0] or laesMessage [1], constructed")
                );
            }
        };
        Ok((value, tlv.encoded_len))
    }
}

/// The components every message but `ConnectionTest` starts with: `caseId [0]`,
/// `iAPSystemId [1]` (`reportingSystemId` in `SurveillanceStatus`), `timestamp [2]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaesHeader {
    /// `caseId`: the intercept's identity, checked 1..25 visible characters.
    pub case_id: CaseIdentity,
    /// `iAPSystemId`: VisibleString (SIZE(1..15)), the intercept access point.
    pub iap_system_id: Option<String>,
    /// `timestamp`: GeneralizedTime.
    pub timestamp: GeneralizedTime,
}

/// [`LaesHeader`]'s components while a message is read.
pub(crate) struct LaesHeaderSlots {
    names: [&'static str; 3],
    case_id: Option<CaseIdentity>,
    iap_system_id: Option<String>,
    timestamp: Option<GeneralizedTime>,
}

impl MessageHeader for LaesHeader {
    type Slots = LaesHeaderSlots;

    fn encode_header(&self, w: &mut Writer) {
        w.primitive(Tag::context(0), self.case_id.as_str().as_bytes());
        if let Some(iap) = &self.iap_system_id {
            w.primitive(Tag::context(1), iap.as_bytes());
        }
        self.timestamp.encode(w, Tag::context(2));
    }

    fn slots(names: [&'static str; 3]) -> LaesHeaderSlots {
        LaesHeaderSlots {
            names,
            case_id: None,
            iap_system_id: None,
            timestamp: None,
        }
    }

    fn take(s: &mut LaesHeaderSlots, f: &Tlv<'_>) -> Result<bool> {
        let [case, iap, time] = s.names;
        match f.tag.context_number() {
            Some(0) => put(&mut s.case_id, CaseIdentity::decode(f, case)?, case, f)?,
            Some(1) => put(&mut s.iap_system_id, visible(f, iap, 1, 15)?, iap, f)?,
            Some(2) => put(&mut s.timestamp, GeneralizedTime::decode(f, time)?, time, f)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(s: LaesHeaderSlots, parent: &Tlv<'_>) -> Result<Self> {
        let [case, _, time] = s.names;
        Ok(Self {
            case_id: required(s.case_id, case, parent)?,
            iap_system_id: s.iap_system_id,
            timestamp: required(s.timestamp, time, parent)?,
        })
    }
}

atis_choice! {
    /// `LaesMessage`: the CHOICE of call-data messages, tags `[1]..[24]`.
    #[allow(clippy::large_enum_variant)]
    LaesMessage, "LaesMessage", {
        /// `answer [1]`: the call was answered.
        Answer(Answer) = [1] "answer",
        /// `ccClose [2]`: content delivery for the call ends.
        CcClose(CcClose) = [2] "ccClose",
        /// `ccOpen [3]`: content delivery starts; announces the content identifier.
        CcOpen(CcOpen) = [3] "ccOpen",
        /// `change [4]`: call identities merged or split.
        Change(Change) = [4] "change",
        /// `origination [5]`: the subject places a call.
        Origination(Origination) = [5] "origination",
        /// `null-6 [6]`: a NULL placeholder (no message).
        Null6(()) = [6] "null-6",
        /// `redirection [7]`: a call redirected (forwarded).
        Redirection(Redirection) = [7] "redirection",
        /// `release [8]`: a call released.
        Release(Release) = [8] "release",
        /// `servingSystem [9]`: registration.
        ServingSystem(ServingSystem) = [9] "servingSystem",
        /// `termAttempt [10]`: a call toward the subject.
        TermAttempt(TerminationAttempt) = [10] "termAttempt",
        /// `connTest [11]`: a link test (the suite's keepalive).
        ConnTest(ConnectionTest) = [11] "connTest",
        /// `confPartyChange [12]`.
        ConfPartyChange(ConfPartyChange) = [12] "confPartyChange",
        /// `connection [13]`.
        Connection(Connection) = [13] "connection",
        /// `connectionBreak [14]`.
        ConnectionBreak(ConnectionBreak) = [14] "connectionBreak",
        /// `dialedDgtExtrn [15]`: digits dialled after cut-through.
        DialedDgtExtrn(DialedDigitExtraction) = [15] "dialedDgtExtrn",
        /// `networkSignal [16]`.
        NetworkSignal(NetworkSignal) = [16] "networkSignal",
        /// `subjectSignal [17]`.
        SubjectSignal(SubjectSignal) = [17] "subjectSignal",
        /// `directSignalReporting [18]`: a signalling message reported as is.
        DirectSignalReporting(DirectSignalReporting) = [18] "directSignalReporting",
        /// `mediaAndAddressReporting [19]`: media or contact addresses changed.
        MediaAndAddressReporting(MediaAndAddressReporting) = [19] "mediaAndAddressReporting",
        /// `ccChange [20]`: content delivery changed.
        CcChange(CcChange) = [20] "ccChange",
        /// `ccUnavailable [21]`: content cannot be delivered.
        CcUnavailable(CcUnavailable) = [21] "ccUnavailable",
        /// `surveillanceStatus [22]`: the intercept's status.
        SurveillanceStatus(SurveillanceStatus) = [22] "surveillanceStatus",
        /// `featureManagement [23]`.
        FeatureManagement(FeatureManagement) = [23] "featureManagement",
        /// `uuContent [24]`: user-to-user content.
        UuContent(UuContent) = [24] "uuContent",
    }
}

impl LaesMessage {
    /// The message's header; `None` for `null-6`, an unknown alternative, and a
    /// `ConnectionTest` (whose components are not a full header).
    pub fn header(&self) -> Option<&LaesHeader> {
        Some(match self {
            Self::Answer(m) => &m.header,
            Self::CcClose(m) => &m.header,
            Self::CcOpen(m) => &m.header,
            Self::Change(m) => &m.header,
            Self::Origination(m) => &m.header,
            Self::Redirection(m) => &m.header,
            Self::Release(m) => &m.header,
            Self::ServingSystem(m) => &m.header,
            Self::TermAttempt(m) => &m.header,
            Self::ConfPartyChange(m) => &m.header,
            Self::Connection(m) => &m.header,
            Self::ConnectionBreak(m) => &m.header,
            Self::DialedDgtExtrn(m) => &m.header,
            Self::NetworkSignal(m) => &m.header,
            Self::SubjectSignal(m) => &m.header,
            Self::DirectSignalReporting(m) => &m.header,
            Self::MediaAndAddressReporting(m) => &m.header,
            Self::CcChange(m) => &m.header,
            Self::CcUnavailable(m) => &m.header,
            Self::SurveillanceStatus(m) => &m.header,
            Self::FeatureManagement(m) => &m.header,
            Self::UuContent(m) => &m.header,
            Self::Null6(()) | Self::ConnTest(_) | Self::Unknown(_) => return None,
        })
    }
}

atis_sequence! {
    /// `Answer`: the call was answered.
    Answer, "Answer", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `answering [4]`: who answered.
        answering: PartyIdentity = tagged [4] "answering" optional,
        /// `location [5]`.
        location: Location = tagged [5] "location" optional,
        /// `answeringMedia [6]`.
        answering_media: MediaInformation = tagged [6] "answeringMedia" optional,
        /// `protocolSpecificParameters [7]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [7] "protocolSpecificParameters" optional,
        /// `signalingMsg [8]`: the intercepted signalling, verbatim.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [8] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `CCChange`: the content delivery of a call changed (media renegotiated ...).
    CcChange, "CCChange", header LaesHeader ["iAPSystemId"], {
        /// `contentIdentifier [3]`.
        content_identifier: ContentIdentifier = tagged [3] "contentIdentifier" required,
        /// `deliveryIdentifier [4]`.
        delivery_identifier: DeliveryIdentifier = tagged [4] "deliveryIdentifier" required,
        /// `subjectMedia [5]`.
        subject_media: MediaInformation = tagged [5] "subjectMedia" optional,
        /// `associateMedia [6]`.
        associate_media: MediaInformation = tagged [6] "associateMedia" optional,
        /// `protocolSpecificParameters [7]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [7] "protocolSpecificParameters" optional,
        /// `signalingMsg [8]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [8] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `CCClose`: content delivery for a call ends.
    CcClose, "CCClose", header LaesHeader ["iAPSystemId"], {
        /// `contentIdentifier [3]`.
        content_identifier: ContentIdentifier = tagged [3] "contentIdentifier" required,
        /// `deliveryIdentifier [4]`.
        delivery_identifier: DeliveryIdentifier = tagged [4] "deliveryIdentifier" required,
        /// `protocolSpecificParameters [5]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [5] "protocolSpecificParameters" optional,
        /// `signalingMsg [6]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [6] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `CCOpen`: content delivery for a call starts. `contentIdentifier` is repeated in every
    /// `CC-APDU` of the call.
    CcOpen, "CCOpen", header LaesHeader ["iAPSystemId"], {
        /// `contentIdentifier [3]`.
        content_identifier: ContentIdentifier = tagged [3] "contentIdentifier" required,
        /// `deliveryIdentifier [4]`.
        delivery_identifier: DeliveryIdentifier = tagged [4] "deliveryIdentifier" required,
        /// `ccDeliveryFormat [5]`.
        cc_delivery_format: CcDeliveryFormat = tagged [5] "ccDeliveryFormat" required,
        /// `subjectMedia [6]`.
        subject_media: MediaInformation = tagged [6] "subjectMedia" optional,
        /// `associateMedia [7]`.
        associate_media: MediaInformation = tagged [7] "associateMedia" optional,
        /// `protocolSpecificParameters [8]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [8] "protocolSpecificParameters" optional,
        /// `signalingMsg [9]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [9] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `CCUnavailable`: the call's content cannot be delivered.
    CcUnavailable, "CCUnavailable", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `unavailabilityReason [4]`: VisibleString.
        unavailability_reason: String =
            tagged [4] "unavailabilityReason" optional via vs::<0, { usize::MAX }>,
        /// `protocolSpecificParameters [5]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [5] "protocolSpecificParameters" optional,
        /// `signalingMsg [6]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [6] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `Change`: call identities merged or split.
    Change, "Change", header LaesHeader ["iAPSystemId"], {
        /// `previous [3]`.
        previous: ChangePrevious = tagged [3] "previous" required,
        /// `resulting [4]`.
        resulting: ChangeResulting = tagged [4] "resulting" required,
        /// `protocolSpecificParameters [5]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [5] "protocolSpecificParameters" optional,
        /// `signalingMsg [6]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [6] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `Change.previous ::= SEQUENCE { call-identities [0] SEQUENCE OF CallIdentity }`.
    ChangePrevious, "Change.previous", {
        /// `call-identities [0]`.
        call_identities: Vec<CallIdentity> = tagged [0] "call-identities" required,
    }
}

atis_sequence! {
    /// `Change.resulting ::= SEQUENCE { call-identities [0] SEQUENCE OF CallIdentity,
    /// deliveryIdentifier [1] OPTIONAL }`.
    ChangeResulting, "Change.resulting", {
        /// `call-identities [0]`.
        call_identities: Vec<CallIdentity> = tagged [0] "call-identities" required,
        /// `deliveryIdentifier [1]`.
        delivery_identifier: DeliveryIdentifier = tagged [1] "deliveryIdentifier" optional,
    }
}

atis_sequence! {
    /// `Connection`: parties connected.
    Connection, "Connection", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`: SEQUENCE OF CallIdentity.
        call_id: Vec<CallIdentity> = tagged [3] "callId" required,
        /// `connectedParties [4]`.
        connected_parties: Vec<PartyIdentity> = tagged [4] "connectedParties" optional,
        /// `newParties [5]`.
        new_parties: Vec<PartyIdentity> = tagged [5] "newParties" optional,
        /// `connectedMedia [6]`.
        connected_media: MediaInformation = tagged [6] "connectedMedia" optional,
        /// `protocolSpecificParameters [7]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [7] "protocolSpecificParameters" optional,
        /// `signalingMsg [8]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [8] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `ConnectionBreak`: parties disconnected or held.
    ConnectionBreak, "ConnectionBreak", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`: SEQUENCE OF CallIdentity.
        call_id: Vec<CallIdentity> = tagged [3] "callId" required,
        /// `removedParties [4]`.
        removed_parties: Vec<PartyIdentity> = tagged [4] "removedParties" optional,
        /// `remainingParties [5]`.
        remaining_parties: Vec<PartyIdentity> = tagged [5] "remainingParties" optional,
        /// `droppedParties [6]`.
        dropped_parties: Vec<PartyIdentity> = tagged [6] "droppedParties" optional,
        /// `suspendedMedia [7]`.
        suspended_media: MediaInformation = tagged [7] "suspendedMedia" optional,
        /// `protocolSpecificParameters [8]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [8] "protocolSpecificParameters" optional,
        /// `signalingMsg [9]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [9] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `ConfPartyChange`: a conference's parties changed.
    ConfPartyChange, "ConfPartyChange", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`: SEQUENCE OF CallIdentity.
        call_id: Vec<CallIdentity> = tagged [3] "callId" required,
        /// `communicatingParties [4]`.
        communicating_parties: Vec<PartyIdentity> = tagged [4] "communicatingParties" optional,
        /// `removedParties [5]`.
        removed_parties: Vec<PartyIdentity> = tagged [5] "removedParties" optional,
        /// `joinedParties [6]`.
        joined_parties: Vec<PartyIdentity> = tagged [6] "joinedParties" optional,
        /// `protocolSpecificParameters [7]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [7] "protocolSpecificParameters" optional,
        /// `signalingMsg [8]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [8] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `DialedDigitExtraction`: digits dialled after the call was cut through.
    DialedDigitExtraction, "DialedDigitExtraction", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `digits [4]`: VisibleString (SIZE(1..32)).
        digits: String = tagged [4] "digits" required via vs::<1, 32>,
        /// `protocolSpecificParameters [5]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [5] "protocolSpecificParameters" optional,
    }
}

atis_sequence! {
    /// `DirectSignalReporting`: signalling reported as it was, tied to a call by
    /// `correlationID`.
    DirectSignalReporting, "DirectSignalReporting", header LaesHeader ["iAPSystemId"], {
        /// `correlationID [3]`: OCTET STRING.
        correlation_id: Vec<u8> = tagged [3] "correlationID" required,
        /// `protocolSpecificParameters [4]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [4] "protocolSpecificParameters" optional,
        /// `signalingMsg [5]` (mandatory here).
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [5] "signalingMsg" required,
    }
}

atis_sequence! {
    /// `MediaAndAddressReporting`: a party's media or contact addresses changed.
    MediaAndAddressReporting, "MediaAndAddressReporting", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `subjectMedia [4]`.
        subject_media: MediaInformation = tagged [4] "subjectMedia" optional,
        /// `associateMedia [5]`: SET OF MediaInformation.
        associate_media: Vec<MediaInformation> = tagged [5] "associateMedia" optional,
        /// `redirectedToPartyMedia [6]`.
        redirected_to_party_media: MediaInformation =
            tagged [6] "redirectedToPartyMedia" optional,
        /// `subjectContactAddresses [7]`.
        subject_contact_addresses: PartyIdentity = tagged [7] "subjectContactAddresses" optional,
        /// `associateContactAddresses [8]`.
        associate_contact_addresses: PartyIdentity =
            tagged [8] "associateContactAddresses" optional,
        /// `redirectedToPartyContactAddresses [9]`.
        redirected_to_party_contact_addresses: PartyIdentity =
            tagged [9] "redirectedToPartyContactAddresses" optional,
        /// `protocolSpecificParameters [10]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [10] "protocolSpecificParameters" optional,
        /// `signalingMsg [11]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [11] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `NetworkSignal`: the network signalled the subject (alerting, tones, display, refer).
    NetworkSignal, "NetworkSignal", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" optional,
        /// `signaledToPartyId [4]`.
        signaled_to_party_id: PartyIdentity = tagged [4] "signaledToPartyId" optional,
        /// `subjectContactAddresses [5]`.
        subject_contact_addresses: PartyIdentity = tagged [5] "subjectContactAddresses" optional,
        /// `associateContactAddresses [6]`.
        associate_contact_addresses: PartyIdentity =
            tagged [6] "associateContactAddresses" optional,
        /// `associateMedia [7]`.
        associate_media: MediaInformation = tagged [7] "associateMedia" optional,
        /// `alertingSignal [8]`.
        alerting_signal: AlertingSignal = tagged [8] "alertingSignal" optional,
        /// `subjectAudibleSignal [9]`.
        subject_audible_signal: AudibleSignal = tagged [9] "subjectAudibleSignal" optional,
        /// `terminalDisplayInfo [10]`.
        terminal_display_info: TerminalDisplayInfo = tagged [10] "terminalDisplayInfo" optional,
        /// `other [11]`: UTF8String.
        other: String = tagged [11] "other" optional,
        /// `refer [12]`.
        refer: Refer = tagged [12] "refer" optional,
        /// `protocolSpecificParameters [13]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [13] "protocolSpecificParameters" optional,
        /// `signalingMsg [14]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [14] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `Origination`: the subject places a call.
    Origination, "Origination", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `calling [4]`.
        calling: PartyIdentity = tagged [4] "calling" optional,
        /// `called [5]`.
        called: PartyIdentity = tagged [5] "called" optional,
        /// `input`: `userInput [6]` or `translationInput [7]`.
        input: Input = untagged [6, 7] "input" required,
        /// `location [8]`.
        location: Location = tagged [8] "location" optional,
        /// `transitCarrierId [9]`: VisibleString (SIZE(3..7)).
        transit_carrier_id: String = tagged [9] "transitCarrierId" optional via vs::<3, 7>,
        /// `subjectMedia [10]`.
        subject_media: MediaInformation = tagged [10] "subjectMedia" optional,
        /// `originationCause [11]`: VisibleString.
        origination_cause: String =
            tagged [11] "originationCause" required via vs::<0, { usize::MAX }>,
        /// `protocolSpecificParameters [12]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [12] "protocolSpecificParameters" optional,
        /// `signalingMsg [13]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [13] "signalingMsg" optional,
        /// `forkedCalls [14]`: SET OF ForkedCallInformation.
        forked_calls: Vec<ForkedCallInformation> = tagged [14] "forkedCalls" optional,
    }
}

atis_sequence! {
    /// `Redirection`: a call redirected (forwarded).
    Redirection, "Redirection", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `newCallId [4]`.
        new_call_id: CallIdentity = tagged [4] "newCallId" optional,
        /// `redirectedFrom [5]`.
        redirected_from: PartyIdentity = tagged [5] "redirectedFrom" optional,
        /// `redirectedTo [6]`.
        redirected_to: PartyIdentity = tagged [6] "redirectedTo" optional,
        /// `transitCarrierId [7]`: VisibleString (SIZE(3..7)).
        transit_carrier_id: String = tagged [7] "transitCarrierId" optional via vs::<3, 7>,
        /// `subjectMedia [8]`.
        subject_media: MediaInformation = tagged [8] "subjectMedia" optional,
        /// `associateMedia [9]`.
        associate_media: MediaInformation = tagged [9] "associateMedia" optional,
        /// `visitedSystemIdentity [10]`: VisibleString.
        visited_system_identity: String =
            tagged [10] "visitedSystemIdentity" optional via vs::<0, { usize::MAX }>,
        /// `protocolSpecificParameters [11]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [11] "protocolSpecificParameters" optional,
        /// `signalingMsg [12]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [12] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `Release`: a call released.
    Release, "Release", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `location [4]`.
        location: Location = tagged [4] "location" optional,
        /// `cause [5]`.
        cause: Cause = tagged [5] "cause" optional,
        /// `contactAddresses [6]`.
        contact_addresses: PartyIdentity = tagged [6] "contactAddresses" optional,
        /// `protocolSpecificParameters [7]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [7] "protocolSpecificParameters" optional,
        /// `signalingMsg [8]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [8] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `ServingSystem`: registration (for SIP, a REGISTER and its answer).
    ServingSystem, "ServingSystem", header LaesHeader ["iAPSystemId"], {
        /// `systemIdentity [3]`: VisibleString (SIZE(1..15)).
        system_identity: String = tagged [3] "systemIdentity" optional via vs::<1, 15>,
        /// `networkAddress [4]`: VisibleString (SIZE(1..15)).
        network_address: String = tagged [4] "networkAddress" optional via vs::<1, 15>,
        /// `requestId [5]`.
        request_id: CallIdentity = tagged [5] "requestId" optional,
        /// `registrationType [6]`.
        registration_type: AddressRegistrationType = tagged [6] "registrationType" optional,
        /// `registering [7]`.
        registering: PartyIdentity = tagged [7] "registering" optional,
        /// `requesting [8]`.
        requesting: PartyIdentity = tagged [8] "requesting" optional,
        /// `registrar [9]`.
        registrar: PartyIdentity = tagged [9] "registrar" optional,
        /// `requestAddressInfo [10]`.
        request_address_info: AddressInfo = tagged [10] "requestAddressInfo" optional,
        /// `responseAddressInfo [11]`.
        response_address_info: AddressInfo = tagged [11] "responseAddressInfo" optional,
        /// `failureReason [12]`.
        failure_reason: Cause = tagged [12] "failureReason" optional,
        /// `expirationPeriod [13]`.
        expiration_period: ExpirationPeriod = tagged [13] "expirationPeriod" optional,
        /// `protocolSpecificParameters [14]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [14] "protocolSpecificParameters" optional,
        /// `signalingMsg [15]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [15] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `SubjectSignal`: the subject signalled (hook flash, digits, feature key, refer).
    SubjectSignal, "SubjectSignal", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" optional,
        /// `signalingPartyId [4]`.
        signaling_party_id: PartyIdentity = tagged [4] "signalingPartyId" optional,
        /// `signaledPartyId [5]`.
        signaled_party_id: PartyIdentity = tagged [5] "signaledPartyId" optional,
        /// `input`: `userInput [6]` or `translationInput [7]`.
        input: Input = untagged [6, 7] "input" required,
        /// `subjectMedia [8]`.
        subject_media: MediaInformation = tagged [8] "subjectMedia" optional,
        /// `signal [9]`.
        signal: Signal = tagged [9] "signal" required,
        /// `protocolSpecificParameters [10]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [10] "protocolSpecificParameters" optional,
        /// `signalingMsg [11]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [11] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `SubjectSignal.signal`: what the subject signalled, each VisibleString (SIZE(1..128)).
    #[derive(Default)]
    Signal, "SubjectSignal.signal", {
        /// `switchhookFlash [0]`.
        switchhook_flash: String = tagged [0] "switchhookFlash" optional via vs::<1, 128>,
        /// `dialedDigits [1]`.
        dialed_digits: String = tagged [1] "dialedDigits" optional via vs::<1, 128>,
        /// `featureKey [2]`.
        feature_key: String = tagged [2] "featureKey" optional via vs::<1, 128>,
        /// `otherSignalingInformation [3]`.
        other_signaling_information: String =
            tagged [3] "otherSignalingInformation" optional via vs::<1, 128>,
        /// `refer [4]`.
        refer: Refer = tagged [4] "refer" optional,
    }
}

atis_sequence! {
    /// `TerminationAttempt`: a call toward the subject.
    TerminationAttempt, "TerminationAttempt", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `calling [4]` (mandatory here).
        calling: PartyIdentity = tagged [4] "calling" required,
        /// `called [5]`.
        called: PartyIdentity = tagged [5] "called" optional,
        /// `location [6]`.
        location: Location = tagged [6] "location" optional,
        /// `associateMedia [7]`.
        associate_media: MediaInformation = tagged [7] "associateMedia" optional,
        /// `redirectedFromInfo [8]`.
        redirected_from_info: RedirectedFromInformation =
            tagged [8] "redirectedFromInfo" optional,
        /// `protocolSpecificParameters [9]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [9] "protocolSpecificParameters" optional,
        /// `signalingMsg [10]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [10] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `ConnectionTest`: a link test. Unlike every other message its `caseId` is OPTIONAL
    /// (a test of the link, not of one intercept), so its components are flat here.
    ConnectionTest, "ConnectionTest", {
        /// `caseId [0]`.
        case_id: CaseIdentity = tagged [0] "caseId" optional,
        /// `iAPSystemId [1]`: VisibleString (SIZE(1..15)).
        iap_system_id: String = tagged [1] "iAPSystemId" optional via vs::<1, 15>,
        /// `timestamp [2]`.
        timestamp: GeneralizedTime = tagged [2] "timestamp" required,
        /// `memo [3]`: VisibleString (SIZE(1..255)).
        memo: String = tagged [3] "memo" optional via vs::<1, 255>,
    }
}

atis_sequence! {
    /// `UUContent`: user-to-user content of a call.
    UuContent, "UUContent", header LaesHeader ["iAPSystemId"], {
        /// `callId [3]`.
        call_id: CallIdentity = tagged [3] "callId" required,
        /// `content [4]`.
        content: ProtocolSpecificParameters = tagged [4] "content" optional,
        /// `protocolSpecificParameters [5]`.
        protocol_specific_parameters: ProtocolSpecificParameters =
            tagged [5] "protocolSpecificParameters" optional,
        /// `signalingMsg [6]`.
        signaling_msg: Vec<EncapsulatedSignalingMessage> = tagged [6] "signalingMsg" optional,
    }
}

atis_sequence! {
    /// `SurveillanceStatus`: the intercept was activated, deactivated, changed, or reports
    /// its status on schedule.
    SurveillanceStatus, "SurveillanceStatus", header LaesHeader ["reportingSystemId"], {
        /// `statusEventType [3]`.
        status_event_type: SurveillanceStatusEventType = tagged [3] "statusEventType" required,
        /// `currentStatus [4]`.
        current_status: CurrentSurveillanceStatus = tagged [4] "currentStatus" required,
    }
}

atis_sequence! {
    /// `FeatureManagement`: the subject activated or deactivated a feature.
    FeatureManagement, "FeatureManagement", header LaesHeader ["iAPSystemId"], {
        /// `subscriberId [3]`.
        subscriber_id: PartyIdentity = tagged [3] "subscriberId" optional,
        /// `featureId [4]`: UTF8String.
        feature_id: String = tagged [4] "featureId" required,
        /// `managementType [5]`.
        management_type: FeatureManagementType = tagged [5] "managementType" required,
        /// `activationInfo [6]`: UTF8String.
        activation_info: String = tagged [6] "activationInfo" optional,
        /// `failureReason [7]`: UTF8String.
        failure_reason: String = tagged [7] "failureReason" optional,
    }
}

asn1_enum! {
    /// `AddressRegistrationType`.
    AddressRegistrationType, "ServingSystem.registrationType", closed {
        /// `unknown(0)`.
        Unknown = 0 => "unknown",
        /// `registration(1)`.
        Registration = 1 => "registration",
        /// `deregistration(2)`.
        Deregistration = 2 => "deregistration",
        /// `registrationAndDeregistration(3)`.
        RegistrationAndDeregistration = 3 => "registrationAndDeregistration",
    }
}
enum_field!(AddressRegistrationType);

asn1_enum! {
    /// `AlertingSignal`.
    AlertingSignal, "NetworkSignal.alertingSignal", closed {
        /// `notUsed(0)`.
        NotUsed = 0 => "notUsed",
        /// `alertingPattern0(1)`.
        AlertingPattern0 = 1 => "alertingPattern0",
        /// `alertingPattern1(2)`.
        AlertingPattern1 = 2 => "alertingPattern1",
        /// `alertingPattern2(3)`.
        AlertingPattern2 = 3 => "alertingPattern2",
        /// `alertingPattern3(4)`.
        AlertingPattern3 = 4 => "alertingPattern3",
        /// `alertingPattern4(5)`.
        AlertingPattern4 = 5 => "alertingPattern4",
        /// `callWaitingPattern1(6)`.
        CallWaitingPattern1 = 6 => "callWaitingPattern1",
        /// `callWaitingPattern2(7)`.
        CallWaitingPattern2 = 7 => "callWaitingPattern2",
        /// `callWaitingPattern3(8)`.
        CallWaitingPattern3 = 8 => "callWaitingPattern3",
        /// `callWaitingPattern4(9)`.
        CallWaitingPattern4 = 9 => "callWaitingPattern4",
        /// `bargeInTone(10)`.
        BargeInTone = 10 => "bargeInTone",
    }
}
enum_field!(AlertingSignal);

asn1_enum! {
    /// `AudibleSignal`.
    AudibleSignal, "NetworkSignal.subjectAudibleSignal", closed {
        /// `notUsed(0)`.
        NotUsed = 0 => "notUsed",
        /// `dialTone(1)`.
        DialTone = 1 => "dialTone",
        /// `recallDialTone(2)`.
        RecallDialTone = 2 => "recallDialTone",
        /// `ringbackTone(3)`.
        RingbackTone = 3 => "ringbackTone",
        /// `reorderTone(4)`.
        ReorderTone = 4 => "reorderTone",
        /// `busyTone(5)`.
        BusyTone = 5 => "busyTone",
        /// `confirmationTone(6)`.
        ConfirmationTone = 6 => "confirmationTone",
        /// `expensiveRouteTone(7)`.
        ExpensiveRouteTone = 7 => "expensiveRouteTone",
        /// `messageWaitingTone(8)`.
        MessageWaitingTone = 8 => "messageWaitingTone",
        /// `receiverOffHookTone(9)`.
        ReceiverOffHookTone = 9 => "receiverOffHookTone",
        /// `specialInfoTone(10)`.
        SpecialInfoTone = 10 => "specialInfoTone",
        /// `denialTone(11)`.
        DenialTone = 11 => "denialTone",
        /// `interceptTone(12)`.
        InterceptTone = 12 => "interceptTone",
        /// `answerTone(13)`.
        AnswerTone = 13 => "answerTone",
        /// `tonesOff(14)`.
        TonesOff = 14 => "tonesOff",
        /// `pipTone(15)`.
        PipTone = 15 => "pipTone",
        /// `abbreviatedIntercept(16)`.
        AbbreviatedIntercept = 16 => "abbreviatedIntercept",
        /// `abbreviatedCongestion(17)`.
        AbbreviatedCongestion = 17 => "abbreviatedCongestion",
        /// `warningTone(18)`.
        WarningTone = 18 => "warningTone",
        /// `dialToneBurst(19)`.
        DialToneBurst = 19 => "dialToneBurst",
        /// `numberUnObtainableTone(20)`.
        NumberUnObtainableTone = 20 => "numberUnObtainableTone",
        /// `authenticationFailTone(21)`.
        AuthenticationFailTone = 21 => "authenticationFailTone",
    }
}
enum_field!(AudibleSignal);

asn1_enum! {
    /// `SurveillanceStatusEventType`.
    SurveillanceStatusEventType, "SurveillanceStatus.statusEventType", closed {
        /// `activation(0)`.
        Activation = 0 => "activation",
        /// `deactivation(1)`.
        Deactivation = 1 => "deactivation",
        /// `change(2)`.
        Change = 2 => "change",
        /// `scheduledReport(3)`.
        ScheduledReport = 3 => "scheduledReport",
    }
}
enum_field!(SurveillanceStatusEventType);

asn1_enum! {
    /// `CurrentSurveillanceStatus`.
    CurrentSurveillanceStatus, "SurveillanceStatus.currentStatus", closed {
        /// `fullyActive(0)`.
        FullyActive = 0 => "fullyActive",
        /// `partiallyActive(1)`.
        PartiallyActive = 1 => "partiallyActive",
        /// `inactive(2)`.
        Inactive = 2 => "inactive",
    }
}
enum_field!(CurrentSurveillanceStatus);

asn1_enum! {
    /// `FeatureManagementType`.
    FeatureManagementType, "FeatureManagement.managementType", closed {
        /// `activation(0)`.
        Activation = 0 => "activation",
        /// `deactivation(1)`.
        Deactivation = 1 => "deactivation",
    }
}
enum_field!(FeatureManagementType);
