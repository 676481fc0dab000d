//! The PCESP types the messages are made of: identifiers, party and call identities, the
//! CCC identifier, the signal enumerations.

use core::fmt;

use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::packetcable::{PcField, visible_ext};
use crate::types::{UnknownAlternative, asn1_enum, put, required};

/// Why a value cannot be made: it breaks its ASN.1 constraint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ValueError {
    /// The type (`CaseId`, ...).
    pub field: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

/// Checks a VisibleString (ISO 646 graphic characters and space) of `min..=max` characters.
fn check_visible(s: &str, field: &'static str, min: usize, max: usize) -> Result<(), ValueError> {
    if !s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(ValueError {
            field,
            reason: "character outside VisibleString",
        });
    }
    if s.len() < min || s.len() > max {
        return Err(ValueError {
            field,
            reason: "size outside the constraint",
        });
    }
    Ok(())
}

/// Defines a VisibleString identifier whose size is checked on construction and decode.
macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $asn:literal, $min:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Checks the constraint: ", $min, " to ", $max, " VisibleString characters.")]
            pub fn new(value: &str) -> Result<Self, ValueError> {
                check_visible(value, $asn, $min, $max)?;
                Ok(Self(value.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub(crate) fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
                Ok(Self(crate::atis::visible(tlv, field, $min, $max)?))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_string! {
    /// `CaseId ::= VisibleString (SIZE(1..25, ...))`: the intercept's identity agreed with the
    /// agency (the warrant's LIID).
    CaseId, "CaseId", 1, 25
}

checked_string! {
    /// `AccessingElementId ::= VisibleString (SIZE(1..15, ...))`: the statically configured
    /// number of the reporting element.
    AccessingElementId, "AccessingElementId", 1, 15
}

asn1_enum! {
    /// `ProtocolVersion`: `io3(3)` for this module; versions I01 and I02 carried none.
    ProtocolVersion, "CdcPdu.protocolVersion", extensible {
        /// `io3(3)`.
        Io3 = 3 => "io3",
    }
}

/// Implements [`PcField`] for an ENUMERATED type (implicitly tagged), naming the component
/// in errors.
macro_rules! enum_field {
    ($t:ty) => {
        impl PcField for $t {
            fn encode_field(&self, w: &mut Writer, tag: u32) {
                w.i64(Tag::context(tag), self.value());
            }
            fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
                Ok(Self::from_value(tlv.enumerated(field)?))
            }
        }
    };
}

asn1_enum! {
    /// `FlowDirection`: which directions a call content stream carries.
    FlowDirection, "FlowDirection", extensible {
        /// `downstream(1)`: towards the subject.
        Downstream = 1 => "downstream",
        /// `upstream(2)`: from the subject.
        Upstream = 2 => "upstream",
        /// `downstream-and-upstream(3)`.
        DownstreamAndUpstream = 3 => "downstream-and-upstream",
    }
}
enum_field!(FlowDirection);

asn1_enum! {
    /// `ResourceState`: whether the stream's resources are reserved or committed.
    ResourceState, "ResourceState", extensible {
        /// `reserved(1)`.
        Reserved = 1 => "reserved",
        /// `committed(2)`.
        Committed = 2 => "committed",
    }
}
enum_field!(ResourceState);

asn1_enum! {
    /// `AlertingSignal`: the ringing applied towards the subject (GR-506-CORE).
    AlertingSignal, "AlertingSignal", extensible {
        /// `notUsed(0)`: reserved.
        NotUsed = 0 => "notUsed",
        /// `alertingPattern0(1)`: normal ringing.
        AlertingPattern0 = 1 => "alertingPattern0",
        /// `alertingPattern1(2)`: distinctive ringing, intergroup.
        AlertingPattern1 = 2 => "alertingPattern1",
        /// `alertingPattern2(3)`: distinctive ringing, special/priority.
        AlertingPattern2 = 3 => "alertingPattern2",
        /// `alertingPattern3(4)`: distinctive ringing, electronic key telephone service.
        AlertingPattern3 = 4 => "alertingPattern3",
        /// `alertingPattern4(5)`: ringsplash, reminder ring.
        AlertingPattern4 = 5 => "alertingPattern4",
        /// `callWaitingPattern1(6)`: normal call waiting tone.
        CallWaitingPattern1 = 6 => "callWaitingPattern1",
        /// `callWaitingPattern2(7)`: incoming additional call waiting tone.
        CallWaitingPattern2 = 7 => "callWaitingPattern2",
        /// `callWaitingPattern3(8)`: priority additional call waiting tone.
        CallWaitingPattern3 = 8 => "callWaitingPattern3",
        /// `callWaitingPattern4(9)`: distinctive call waiting tone.
        CallWaitingPattern4 = 9 => "callWaitingPattern4",
        /// `bargeInTone(10)`.
        BargeInTone = 10 => "bargeInTone",
        /// `alertingPattern5(11)`: solution specific.
        AlertingPattern5 = 11 => "alertingPattern5",
        /// `alertingPattern6(12)`: solution specific.
        AlertingPattern6 = 12 => "alertingPattern6",
        /// `alertingPattern7(13)`: solution specific.
        AlertingPattern7 = 13 => "alertingPattern7",
        /// `alertingPattern8(14)`: solution specific.
        AlertingPattern8 = 14 => "alertingPattern8",
        /// `alertingPattern9(15)`: solution specific.
        AlertingPattern9 = 15 => "alertingPattern9",
    }
}
enum_field!(AlertingSignal);

asn1_enum! {
    /// `AudibleSignal`: the tone applied towards the subject.
    AudibleSignal, "AudibleSignal", extensible {
        /// `notUsed(0)`: reserved.
        NotUsed = 0 => "notUsed",
        /// `dialTone(1)`.
        DialTone = 1 => "dialTone",
        /// `recallDialTone(2)`: stutter dial tone.
        RecallDialTone = 2 => "recallDialTone",
        /// `ringbackTone(3)`.
        RingbackTone = 3 => "ringbackTone",
        /// `reorderTone(4)`: congestion.
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
        /// `specialInfoTone(10)`: the call goes to an announcement.
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
        /// `authenticationFailureTone(21)`.
        AuthenticationFailureTone = 21 => "authenticationFailureTone",
    }
}
enum_field!(AudibleSignal);

/// `CallId ::= SEQUENCE { sequencenumber [0] VisibleString (SIZE(1..25, ...)), systemidentity
/// [1] VisibleString (SIZE(1..15, ...)) }`, built by the Delivery Function from the
/// Billing-Correlation-ID of the Event Messages ([`CallId::from_billing_correlation_id`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallId {
    /// `sequencenumber [0]`: the BCID's Timestamp and Event-Counter in decimal, comma
    /// separated.
    pub sequence_number: String,
    /// `systemidentity [1]`: the BCID's Element-ID.
    pub system_identity: String,
}

impl CallId {
    /// The module's rule: `sequencenumber` is the Timestamp and the Event-Counter (32 bits
    /// each) as ASCII decimal separated by a comma (at most 21 characters), `systemidentity`
    /// the Element-ID (checked: 1..15 VisibleString characters).
    pub fn from_billing_correlation_id(
        timestamp: u32,
        event_counter: u32,
        element_id: &str,
    ) -> Result<Self, ValueError> {
        check_visible(element_id, "CallId.systemidentity", 1, 15)?;
        Ok(Self {
            sequence_number: format!("{timestamp},{event_counter}"),
            system_identity: element_id.to_owned(),
        })
    }

    fn encode_content(&self, w: &mut Writer) {
        w.primitive(Tag::context(0), self.sequence_number.as_bytes());
        w.primitive(Tag::context(1), self.system_identity.as_bytes());
    }

    fn decode_content(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const SEQ: &str = "CallId.sequencenumber";
        const SYS: &str = "CallId.systemidentity";
        let (mut seq, mut sys) = (None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut seq, visible_ext(&f, SEQ, 1)?, SEQ, &f)?,
                Some(1) => put(&mut sys, visible_ext(&f, SYS, 1)?, SYS, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            sequence_number: required(seq, SEQ, tlv)?,
            system_identity: required(sys, SYS, tlv)?,
        })
    }
}

impl PcField for CallId {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| self.encode_content(w));
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Self::decode_content(tlv, field)
    }
}

/// `CCCId`: the call content connection(s) of a stream. The Delivery Function makes each
/// string from the 32-bit CCC identifier of the content datagrams ([`super::ccc`]) as 8
/// uppercase hexadecimal characters ([`CccId::comb`], [`CccId::sep`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CccId {
    /// `combCCC [0]`: one connection carries both directions.
    CombCcc(String),
    /// `sepCCCpair [1]`: one connection per direction.
    SepCccPair {
        /// `sepXmitCCC [0]`: the subject's transmitted content.
        xmit: String,
        /// `sepRecvCCC [1]`: the subject's received content.
        recv: String,
    },
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl CccId {
    /// `combCCC` for the CCC identifier `id`: `0x0102ABCD` is `"0102ABCD"`.
    pub fn comb(id: u32) -> Self {
        Self::CombCcc(format!("{id:08X}"))
    }

    /// `sepCCCpair` for the CCC identifiers of the transmitted and received streams.
    pub fn sep(xmit: u32, recv: u32) -> Self {
        Self::SepCccPair {
            xmit: format!("{xmit:08X}"),
            recv: format!("{recv:08X}"),
        }
    }

    /// The CCC identifiers the strings render (`(comb, None)` or `(xmit, Some(recv))`), when
    /// each is 8 hexadecimal characters as the module requires; `None` otherwise.
    pub fn identifiers(&self) -> Option<(u32, Option<u32>)> {
        match self {
            Self::CombCcc(s) => Some((parse_ccc(s)?, None)),
            Self::SepCccPair { xmit, recv } => Some((parse_ccc(xmit)?, Some(parse_ccc(recv)?))),
            Self::Unknown(_) => None,
        }
    }

    fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::CombCcc(s) => w.primitive(Tag::context(0), s.as_bytes()),
            Self::SepCccPair { xmit, recv } => w.constructed(Tag::context_constructed(1), |w| {
                w.primitive(Tag::context(0), xmit.as_bytes());
                w.primitive(Tag::context(1), recv.as_bytes());
            }),
            Self::Unknown(u) => u.encode(w),
        }
    }

    fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const XMIT: &str = "CCCId.sepCCCpair.sepXmitCCC";
        const RECV: &str = "CCCId.sepCCCpair.sepRecvCCC";
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::CombCcc(visible_ext(tlv, "CCCId.combCCC", 1)?),
            Some(1) => {
                let (mut x, mut v) = (None, None);
                let mut r = tlv.children("CCCId.sepCCCpair")?;
                while let Some(f) = r.next_tlv()? {
                    match f.tag.context_number() {
                        Some(0) => put(&mut x, visible_ext(&f, XMIT, 1)?, XMIT, &f)?,
                        Some(1) => put(&mut v, visible_ext(&f, RECV, 1)?, RECV, &f)?,
                        _ => {}
                    }
                }
                Self::SepCccPair {
                    xmit: required(x, XMIT, tlv)?,
                    recv: required(v, RECV, tlv)?,
                }
            }
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

/// Explicit: `cCCId [n] EXPLICIT CCCId`.
impl PcField for CccId {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| self.encode_choice(w));
    }
    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Self::decode_choice(&tlv.single_child(field)?, field)
    }
}

/// Eight hexadecimal characters (either case) as a CCC identifier.
fn parse_ccc(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// `PartyId`: a party's identities, each optional. The module's reserved NULL components
/// (`[0]`..`[5]`, `[8]`, `[9]`, `[11]`, `[13]`) carry nothing and are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PartyId {
    /// `dn [6]`: directory number (1..15).
    pub dn: Option<String>,
    /// `userProvided [7]` (1..15).
    pub user_provided: Option<String>,
    /// `ipAddress [10]` (1..32).
    pub ip_address: Option<String>,
    /// `trunkId [12]` (1..32).
    pub trunk_id: Option<String>,
    /// `genericAddress [14]` (1..32).
    pub generic_address: Option<String>,
    /// `genericDigits [15]` (1..32).
    pub generic_digits: Option<String>,
    /// `genericName [16]` (1..48).
    pub generic_name: Option<String>,
    /// `port [17]` (1..32).
    pub port: Option<String>,
    /// `context [18]` (1..32): for example a SIP URI's context.
    pub context: Option<String>,
}

impl PartyId {
    /// The components with their tags and names, in tag order.
    fn slots(&self) -> [(u32, &Option<String>); 9] {
        [
            (6, &self.dn),
            (7, &self.user_provided),
            (10, &self.ip_address),
            (12, &self.trunk_id),
            (14, &self.generic_address),
            (15, &self.generic_digits),
            (16, &self.generic_name),
            (17, &self.port),
            (18, &self.context),
        ]
    }
}

impl PcField for PartyId {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            for (n, v) in self.slots() {
                if let Some(v) = v {
                    w.primitive(Tag::context(n), v.as_bytes());
                }
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let mut p = Self::default();
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            let (slot, name) = match f.tag.context_number() {
                Some(6) => (&mut p.dn, "PartyId.dn"),
                Some(7) => (&mut p.user_provided, "PartyId.userProvided"),
                Some(10) => (&mut p.ip_address, "PartyId.ipAddress"),
                Some(12) => (&mut p.trunk_id, "PartyId.trunkId"),
                Some(14) => (&mut p.generic_address, "PartyId.genericAddress"),
                Some(15) => (&mut p.generic_digits, "PartyId.genericDigits"),
                Some(16) => (&mut p.generic_name, "PartyId.genericName"),
                Some(17) => (&mut p.port, "PartyId.port"),
                Some(18) => (&mut p.context, "PartyId.context"),
                _ => continue,
            };
            put(slot, visible_ext(&f, name, 1)?, name, &f)?;
        }
        Ok(p)
    }
}

/// `RedirectedFromInfo`: how a terminating call reached the subject.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RedirectedFromInfo {
    /// `lastRedirecting [0]`.
    pub last_redirecting: Option<PartyId>,
    /// `originalCalled [1]`.
    pub original_called: Option<PartyId>,
    /// `numRedirections [2]`: INTEGER (1..100, ...).
    pub num_redirections: Option<i64>,
}

impl PcField for RedirectedFromInfo {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            if let Some(p) = &self.last_redirecting {
                p.encode_field(w, 0);
            }
            if let Some(p) = &self.original_called {
                p.encode_field(w, 1);
            }
            if let Some(n) = self.num_redirections {
                n.encode_field(w, 2);
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const LAST: &str = "RedirectedFromInfo.lastRedirecting";
        const ORIGINAL: &str = "RedirectedFromInfo.originalCalled";
        const NUM: &str = "RedirectedFromInfo.numRedirections";
        let mut v = Self::default();
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut v.last_redirecting,
                    PartyId::decode_field(&f, LAST)?,
                    LAST,
                    &f,
                )?,
                Some(1) => put(
                    &mut v.original_called,
                    PartyId::decode_field(&f, ORIGINAL)?,
                    ORIGINAL,
                    &f,
                )?,
                Some(2) => put(&mut v.num_redirections, f.i64(NUM)?, NUM, &f)?,
                _ => {}
            }
        }
        Ok(v)
    }
}

/// `TerminalDisplayInfo`: what the subject's terminal displays, each 1..80 (`generalDisplay`)
/// or 1..40 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TerminalDisplayInfo {
    /// `generalDisplay [0]`.
    pub general_display: Option<String>,
    /// `calledNumber [1]`.
    pub called_number: Option<String>,
    /// `callingNumber [2]`.
    pub calling_number: Option<String>,
    /// `callingName [3]`.
    pub calling_name: Option<String>,
    /// `originalCalledNumber [4]`.
    pub original_called_number: Option<String>,
    /// `lastRedirectingNumber [5]`.
    pub last_redirecting_number: Option<String>,
    /// `redirectingName [6]`.
    pub redirecting_name: Option<String>,
    /// `redirectingReason [7]`.
    pub redirecting_reason: Option<String>,
    /// `messageWaitingNotif [8]`.
    pub message_waiting_notif: Option<String>,
}

impl PcField for TerminalDisplayInfo {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            let slots = [
                &self.general_display,
                &self.called_number,
                &self.calling_number,
                &self.calling_name,
                &self.original_called_number,
                &self.last_redirecting_number,
                &self.redirecting_name,
                &self.redirecting_reason,
                &self.message_waiting_notif,
            ];
            for (n, v) in (0u32..).zip(slots) {
                if let Some(v) = v {
                    w.primitive(Tag::context(n), v.as_bytes());
                }
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let mut v = Self::default();
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            let (slot, name) = match f.tag.context_number() {
                Some(0) => (&mut v.general_display, "TerminalDisplayInfo.generalDisplay"),
                Some(1) => (&mut v.called_number, "TerminalDisplayInfo.calledNumber"),
                Some(2) => (&mut v.calling_number, "TerminalDisplayInfo.callingNumber"),
                Some(3) => (&mut v.calling_name, "TerminalDisplayInfo.callingName"),
                Some(4) => (
                    &mut v.original_called_number,
                    "TerminalDisplayInfo.originalCalledNumber",
                ),
                Some(5) => (
                    &mut v.last_redirecting_number,
                    "TerminalDisplayInfo.lastRedirectingNumber",
                ),
                Some(6) => (
                    &mut v.redirecting_name,
                    "TerminalDisplayInfo.redirectingName",
                ),
                Some(7) => (
                    &mut v.redirecting_reason,
                    "TerminalDisplayInfo.redirectingReason",
                ),
                Some(8) => (
                    &mut v.message_waiting_notif,
                    "TerminalDisplayInfo.messageWaitingNotif",
                ),
                _ => continue,
            };
            put(slot, visible_ext(&f, name, 1)?, name, &f)?;
        }
        Ok(v)
    }
}

/// `SubjectSignal.signal`: the subject's dialling and signalling, each 1..128 characters;
/// the module asks for at least one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubjectSignalInfo {
    /// `switchhookFlash [0]`.
    pub switchhook_flash: Option<String>,
    /// `dialedDigits [1]`.
    pub dialed_digits: Option<String>,
    /// `featureKey [2]`.
    pub feature_key: Option<String>,
    /// `otherSignalingInformation [3]`.
    pub other_signaling_information: Option<String>,
}

impl PcField for SubjectSignalInfo {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            let slots = [
                &self.switchhook_flash,
                &self.dialed_digits,
                &self.feature_key,
                &self.other_signaling_information,
            ];
            for (n, v) in (0u32..).zip(slots) {
                if let Some(v) = v {
                    w.primitive(Tag::context(n), v.as_bytes());
                }
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let mut v = Self::default();
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            let (slot, name) = match f.tag.context_number() {
                Some(0) => (
                    &mut v.switchhook_flash,
                    "SubjectSignal.signal.switchhookFlash",
                ),
                Some(1) => (&mut v.dialed_digits, "SubjectSignal.signal.dialedDigits"),
                Some(2) => (&mut v.feature_key, "SubjectSignal.signal.featureKey"),
                Some(3) => (
                    &mut v.other_signaling_information,
                    "SubjectSignal.signal.otherSignalingInformation",
                ),
                _ => continue,
            };
            put(slot, visible_ext(&f, name, 1)?, name, &f)?;
        }
        Ok(v)
    }
}

/// `CCOpen.ccOpenOption`, an untagged CHOICE inside the SEQUENCE: `ccOpenTime [3] SEQUENCE
/// OF CallId` or `reserved0 [4] NULL`. Being untagged, an alternative a later version adds
/// cannot be told from a new SEQUENCE component, so none is kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CcOpenOption {
    /// `ccOpenTime [3]`: the calls whose content the stream carries.
    CcOpenTime(Vec<CallId>),
    /// `reserved0 [4]`.
    Reserved0,
}

impl PcField for CcOpenOption {
    fn encode_field(&self, w: &mut Writer, _tag: u32) {
        match self {
            Self::CcOpenTime(calls) => w.constructed(Tag::context_constructed(3), |w| {
                for c in calls {
                    w.constructed(Tag::SEQUENCE, |w| c.encode_content(w));
                }
            }),
            Self::Reserved0 => w.null(Tag::context(4)),
        }
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        if tlv.tag.context_number() == Some(4) {
            tlv.null(field)?;
            return Ok(Self::Reserved0);
        }
        const CALL: &str = "CCOpen.ccOpenOption.ccOpenTime";
        let mut calls = Vec::new();
        let mut r = tlv.children(field)?;
        while let Some(c) = r.next_tlv()? {
            if c.tag != Tag::SEQUENCE {
                return Err(c.unexpected(CALL, "a CallId SEQUENCE"));
            }
            calls.push(CallId::decode_content(&c, CALL)?);
        }
        Ok(Self::CcOpenTime(calls))
    }
}

/// `Origination.input`, an untagged CHOICE inside the SEQUENCE: the digits as the subject
/// dialled them or as translated (1..32 characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OriginationInput {
    /// `userinput [6]`.
    UserInput(String),
    /// `translationinput [7]`.
    TranslationInput(String),
}

impl PcField for OriginationInput {
    fn encode_field(&self, w: &mut Writer, _tag: u32) {
        match self {
            Self::UserInput(s) => w.primitive(Tag::context(6), s.as_bytes()),
            Self::TranslationInput(s) => w.primitive(Tag::context(7), s.as_bytes()),
        }
    }

    fn decode_field(tlv: &Tlv<'_>, _field: &'static str) -> Result<Self> {
        if tlv.tag.context_number() == Some(7) {
            const N: &str = "Origination.input.translationinput";
            return Ok(Self::TranslationInput(visible_ext(tlv, N, 1)?));
        }
        const N: &str = "Origination.input.userinput";
        Ok(Self::UserInput(visible_ext(tlv, N, 1)?))
    }
}
