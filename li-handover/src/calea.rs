//! US CALEA call data from intercepted SIP: the messages a US VoIP agency gets for the SIP
//! messages of a target's calls (the same records an ETSI agency gets as TS 102 232-5
//! IPMMIRI), in ATIS-1000678 (T1.678, [`LaesCalls`]) or PacketCable PCESP version 3
//! ([`PcespCalls`], mapping in [`pcesp`]).
//!
//! Both are renderers of one family-neutral call state machine (a private module): it reads
//! each SIP message of a call and decides the call events it stands for (origination or
//! termination attempt, answer, media change, redirection, release, content opened, changed
//! and closed, registration, anything else), keeping the call's state once (begun, answered,
//! content open, released, which party the target is) under the rules below; each family
//! only turns events into its messages. The two families therefore agree on when a call is
//! answered, released, and when its content opens and closes.
//!
//! [`LaesCalls`] is a sans-IO state machine per (task, destination): it takes each SIP message
//! of a call (its CIN, time, IRI type and the message verbatim) and appends the
//! `LAESProtocol` messages it stands for. Each carries the SIP verbatim in `signalingMsg`
//! (`signalingProt` `SIP`), and the call's identity `callId` `main` = the CIN in decimal:
//!
//! | SIP | messages |
//! |---|---|
//! | a call's first INVITE | `Origination` (the target calls) or `TerminationAttempt` (the target is called); `DirectSignalReporting` when the side is not known |
//! | the first 2xx to an INVITE | `Answer`, then `CCOpen` when the task takes content |
//! | a 18x to the INVITE with an SDP (early media), when the task takes content and content is not open yet | the message's own report, then `CCOpen` |
//! | any later message of a call answered before the task took content (scope widened mid-call) | its own report, then `CCOpen` |
//! | a re-INVITE, an UPDATE, a later 2xx to an INVITE | `MediaAndAddressReporting`, then `CCChange` when content is open |
//! | a 3xx to an INVITE | `Redirection` |
//! | BYE; a 4xx-6xx to an unanswered INVITE that ends the call (its IRI-End: not a 401/407 challenge, not one fork's failure) | `Release` (with the status line as `cause`), then `CCClose` when content is open |
//! | CANCEL | `DirectSignalReporting` (it may cross the 200: the call's IRI-End releases it) |
//! | REGISTER and its responses | `ServingSystem` |
//! | any other IRI-Report (a message outside a call) | `DirectSignalReporting`: it opens nothing |
//! | anything else (ACK, PRACK, INFO, 1xx, MESSAGE ...) or unreadable | `DirectSignalReporting` (`correlationID` = the CIN) |
//! | the call's IRI-End, when no `Release` went before | `Release` (and `CCClose`) after the message's own |
//!
//! Every `CCOpen` is followed by a `CCClose` by the call's IRI-End. A `Begin` starts a call
//! afresh, whatever its CIN carried before.
//!
//! Content is announced by `CCOpen` with `contentIdentifier` `callID` = the call's identity,
//! `deliveryIdentifier` `combCCC` = the CIN, `ccDeliveryFormat` the CC-APDU module's OID:
//! every `CC-APDU` of the call repeats that content identifier ([`content_identifier`]).
//!
//! The mediator uses it for `atis-1000678:2` destinations, with [`target_side`] telling
//! `Origination` from `TerminationAttempt` and [`link_test`] as the link's keep-alive (see
//! `docs/HANDOVER-ATIS.md`).

use li_asn1::GeneralizedTime;
use li_asn1::ObjectIdentifier;
use li_asn1::atis::ias::CccIdentity;
pub use li_asn1::atis::laes::SurveillanceStatusEventType;
use li_asn1::atis::laes::{
    Answer, CcChange, CcClose, CcOpen, ConnectionTest, CurrentSurveillanceStatus,
    DirectSignalReporting, LaesHeader, LaesMessage, LaesProtocol, MediaAndAddressReporting,
    Origination, Redirection, Release, ServingSystem, SurveillanceStatus, TerminationAttempt,
};
use li_asn1::atis::laes_cc::{CallIdentity, ContentIdentifier};
use li_asn1::atis::laes_party::{
    Cause, CcDeliveryFormat, DeliveryIdentifier, EncapsulatedSignalingMessage, Input, InputValue,
    MediaCharacteristics, MediaInformation, ParameterFormat, PartyIdentity,
};
use li_asn1::atis::{CaseIdentity, laes_cc_oid};
use li_core::{Cin, IriType, TargetIdentifier, Timestamp};

mod call;
pub mod pcesp;
mod sdp;
mod sip_body;

use call::{CallEvent, Calls, Render, Signal};
pub use pcesp::{CccPair, PcespCalls, PcespSettings, PcespSettingsError, pcesp_call_id};
use sdp::CallSdps;

use crate::lemf::sip;

/// Which party of a call the target is, as the probe matched it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetSide {
    /// The target placed the call.
    Caller,
    /// The target was called.
    Callee,
    /// Not known: the first INVITE is reported as it is.
    #[default]
    Unknown,
}

/// The identifiers of one (task, destination).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaesSettings {
    /// `caseId`: the task's LIID.
    pub case_id: CaseIdentity,
    /// `iAPSystemId`.
    pub iap_system_id: Option<String>,
    /// The module OID of the `enhancedProtocol` form; `None` sends the plain `laesMessage`.
    pub protocol_identifier: Option<ObjectIdentifier>,
}

/// The call-data state machine of one (task, destination) (see the [module docs](self)).
#[derive(Debug)]
pub struct LaesCalls {
    settings: LaesSettings,
    calls: Calls<CallSdps>,
    /// The octets of SDP kept for the calls (at most [`pcesp::MAX_SDP_BYTES`]).
    sdp_bytes: usize,
}

/// The `callId` of call `cin`: `main` is the CIN in decimal.
pub fn call_identity(cin: Cin) -> CallIdentity {
    CallIdentity {
        main: cin.value().to_string(),
        leg: None,
    }
}

/// The `contentIdentifier` of call `cin`, in `CCOpen`/`CCChange`/`CCClose` and every
/// `CC-APDU` of the call.
pub fn content_identifier(cin: Cin) -> ContentIdentifier {
    ContentIdentifier::CallId(call_identity(cin))
}

/// The URI of a `From`/`To` value (`"Alice" <sip:alice@a.example>;tag=1` → `sip:alice@a.example`).
fn uri_of(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => value
            .get(open + 1..close)
            .unwrap_or_default()
            .trim()
            .to_owned(),
        _ => value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// A party known by the URI of a `From`/`To` value.
fn party(value: Option<&str>) -> Option<PartyIdentity> {
    value.map(|v| PartyIdentity::from_uris([uri_of(v)]))
}

impl LaesCalls {
    /// No call yet.
    pub fn new(settings: LaesSettings) -> Self {
        Self {
            settings,
            calls: Calls::default(),
            sdp_bytes: 0,
        }
    }

    /// How many calls have state.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call has state.
    pub fn is_empty(&self) -> bool {
        self.calls.len() == 0
    }

    /// The octets of SDP kept for the calls (at most [`pcesp::MAX_SDP_BYTES`]).
    pub fn sdp_bytes(&self) -> usize {
        self.sdp_bytes
    }

    /// Appends the call-data messages of one SIP message of call `cin` (see the
    /// [module docs](self)). `with_content`: the task takes the call's content, so content
    /// delivery is opened, changed and closed. An IRI-End forgets the call.
    #[allow(clippy::too_many_arguments)]
    pub fn on_sip(
        &mut self,
        cin: Cin,
        time: Timestamp,
        iri_type: IriType,
        message: &[u8],
        side: TargetSide,
        with_content: bool,
        out: &mut Vec<LaesProtocol>,
    ) {
        let mut render = LaesRender {
            settings: &self.settings,
            sdp_bytes: &mut self.sdp_bytes,
        };
        self.calls.on_sip(
            &mut render,
            cin,
            time,
            iri_type,
            message,
            side,
            with_content,
            out,
        );
    }

    /// Appends, for every call still open, its `Release` (when not released yet) and its
    /// `CCClose` (when content is open), at `time`, and forgets every call: for a task
    /// deactivated while calls are open. In CIN order.
    pub fn close_all(&mut self, time: Timestamp, out: &mut Vec<LaesProtocol>) {
        let mut render = LaesRender {
            settings: &self.settings,
            sdp_bytes: &mut self.sdp_bytes,
        };
        self.calls.close_all(&mut render, time, out);
    }
}

/// The ATIS-1000678 renderer of the call events.
struct LaesRender<'a> {
    settings: &'a LaesSettings,
    sdp_bytes: &'a mut usize,
}

/// A party's media: its SDP.
fn media(sdp: Option<&String>) -> Option<MediaInformation> {
    sdp.map(|sdp| MediaInformation {
        characteristics: Some(MediaCharacteristics::Sdp(sdp.clone())),
        ..MediaInformation::default()
    })
}

impl Render for LaesRender<'_> {
    type Call = CallSdps;
    type Out = LaesProtocol;

    fn on_message(&mut self, call: &mut CallSdps, signal: &Signal<'_>) {
        call.observe(signal, self.sdp_bytes);
    }

    fn forget(&mut self, call: CallSdps) {
        call.release(self.sdp_bytes);
    }

    fn on_event(
        &mut self,
        call: &mut CallSdps,
        s: &Signal<'_>,
        event: CallEvent<'_>,
        out: &mut Vec<LaesProtocol>,
    ) {
        let (cin, time) = (s.cin, s.time);
        let signaling = || {
            Some(vec![EncapsulatedSignalingMessage {
                signaling_prot: "SIP".into(),
                sig_msg: s.message.to_vec(),
            }])
        };
        let message = match event {
            CallEvent::Origination {
                calling,
                called,
                request_uri,
            } => LaesMessage::Origination(Origination {
                header: self.header(time),
                call_id: call_identity(cin),
                calling: party(calling),
                called: party(called),
                input: Input::UserInput(InputValue::Generic(
                    request_uri
                        .chars()
                        .filter(|c| (' '..='~').contains(c))
                        .collect(),
                )),
                location: None,
                transit_carrier_id: None,
                subject_media: media(call.target.as_ref()),
                origination_cause: "SIP INVITE".into(),
                protocol_specific_parameters: None,
                signaling_msg: signaling(),
                forked_calls: None,
            }),
            CallEvent::TerminationAttempt { calling, called } => {
                LaesMessage::TermAttempt(TerminationAttempt {
                    header: self.header(time),
                    call_id: call_identity(cin),
                    calling: party(calling).unwrap_or_default(),
                    called: party(called),
                    location: None,
                    associate_media: media(call.associate.as_ref()),
                    redirected_from_info: None,
                    protocol_specific_parameters: None,
                    signaling_msg: signaling(),
                })
            }
            CallEvent::Answer { answering } => LaesMessage::Answer(Answer {
                header: self.header(time),
                call_id: call_identity(cin),
                answering: party(answering),
                location: None,
                // The answering party is the one called.
                answering_media: media(match s.side {
                    TargetSide::Callee => call.target.as_ref(),
                    _ => call.associate.as_ref(),
                }),
                protocol_specific_parameters: None,
                signaling_msg: signaling(),
            }),
            CallEvent::CcOpen => LaesMessage::CcOpen(CcOpen {
                header: self.header(time),
                content_identifier: content_identifier(cin),
                delivery_identifier: delivery_identifier(cin),
                cc_delivery_format: CcDeliveryFormat::CcApdu(laes_cc_oid()),
                subject_media: media(call.target.as_ref()),
                associate_media: media(call.associate.as_ref()),
                protocol_specific_parameters: None,
                signaling_msg: None,
            }),
            CallEvent::MediaChange => {
                LaesMessage::MediaAndAddressReporting(MediaAndAddressReporting {
                    header: self.header(time),
                    call_id: call_identity(cin),
                    subject_media: media(call.target.as_ref()),
                    associate_media: media(call.associate.as_ref()).map(|m| vec![m]),
                    redirected_to_party_media: None,
                    subject_contact_addresses: None,
                    associate_contact_addresses: None,
                    redirected_to_party_contact_addresses: None,
                    protocol_specific_parameters: None,
                    signaling_msg: signaling(),
                })
            }
            CallEvent::CcChange => LaesMessage::CcChange(CcChange {
                header: self.header(time),
                content_identifier: content_identifier(cin),
                delivery_identifier: delivery_identifier(cin),
                subject_media: media(call.target.as_ref()),
                associate_media: media(call.associate.as_ref()),
                protocol_specific_parameters: None,
                signaling_msg: None,
            }),
            CallEvent::Redirection { redirected_from } => LaesMessage::Redirection(Redirection {
                header: self.header(time),
                call_id: call_identity(cin),
                new_call_id: None,
                redirected_from: party(redirected_from),
                redirected_to: None,
                transit_carrier_id: None,
                subject_media: None,
                associate_media: None,
                visited_system_identity: None,
                protocol_specific_parameters: None,
                signaling_msg: signaling(),
            }),
            CallEvent::Release { cause, signaled } => LaesMessage::Release(Release {
                header: self.header(time),
                call_id: call_identity(cin),
                location: None,
                cause: cause.map(|(code, reason)| Cause {
                    signaling_type: "SIP".into(),
                    cause: Some(ParameterFormat::Sip(vec![format!(
                        "SIP/2.0 {code} {reason}"
                    )])),
                }),
                contact_addresses: None,
                protocol_specific_parameters: None,
                signaling_msg: if signaled { signaling() } else { None },
            }),
            CallEvent::CcClose => LaesMessage::CcClose(CcClose {
                header: self.header(time),
                content_identifier: content_identifier(cin),
                delivery_identifier: delivery_identifier(cin),
                protocol_specific_parameters: None,
                signaling_msg: None,
            }),
            CallEvent::Registration { registering } => LaesMessage::ServingSystem(ServingSystem {
                header: self.header(time),
                system_identity: None,
                network_address: None,
                request_id: None,
                registration_type: None,
                registering: party(registering),
                requesting: None,
                registrar: None,
                request_address_info: None,
                response_address_info: None,
                failure_reason: None,
                expiration_period: None,
                protocol_specific_parameters: None,
                signaling_msg: signaling(),
            }),
            CallEvent::Other => LaesMessage::DirectSignalReporting(DirectSignalReporting {
                header: self.header(time),
                correlation_id: cin.value().to_string().into_bytes(),
                protocol_specific_parameters: None,
                signaling_msg: signaling().unwrap_or_default(),
            }),
        };
        out.push(self.wrap(message));
    }
}

impl LaesRender<'_> {
    fn header(&self, time: Timestamp) -> LaesHeader {
        LaesHeader {
            case_id: self.settings.case_id.clone(),
            iap_system_id: self.settings.iap_system_id.clone(),
            timestamp: GeneralizedTime::from_timestamp(time),
        }
    }

    fn wrap(&self, message: LaesMessage) -> LaesProtocol {
        match &self.settings.protocol_identifier {
            Some(oid) => LaesProtocol::Enhanced {
                protocol_identifier: oid.clone(),
                message,
            },
            None => LaesProtocol::Plain(message),
        }
    }
}

/// The version of ATIS-1000678 these messages follow, as a destination's format names it
/// (`atis-1000678:2`: ATIS-PP-1000678.2006, the text the rebuilt module follows; public
/// provisioning material numbers 2006 as 2, .a.2007 as 3, .b.2010 as 4).
pub const VERSION: u16 = 2;

/// Which side of a call's first INVITE the task's targets are: `Caller` when the `From` URI
/// is a target, `Callee` when the `To` URI is, else `Unknown`. URIs are compared by scheme
/// (`sips` as `sip`), user and host, case-insensitively, parameters ignored; an E.164 target
/// by the digits of the URI's user part. A simpler comparison than the probe's RFC 3261
/// matching: it only chooses between `Origination` and `TerminationAttempt`, never what is
/// intercepted.
pub fn target_side(targets: &[TargetIdentifier], message: &[u8]) -> TargetSide {
    let Ok(head) = sip::parse(message) else {
        return TargetSide::Unknown;
    };
    let is_target = |value: Option<&String>| {
        let Some(uri) = value.map(|v| uri_of(v)) else {
            return false;
        };
        let key = uri_key(&uri);
        targets.iter().any(|t| match t {
            TargetIdentifier::SipUri(u) => uri_key(u.as_str()) == key,
            TargetIdentifier::E164Number(n) => {
                let user = key.split_once(':').map_or("", |(_, rest)| rest);
                let user = user.split('@').next().unwrap_or_default();
                let digits: String = user.chars().filter(char::is_ascii_digit).collect();
                !digits.is_empty() && digits == n.digits()
            }
            _ => false,
        })
    };
    if is_target(head.from.as_ref()) {
        TargetSide::Caller
    } else if is_target(head.to.as_ref()) {
        TargetSide::Callee
    } else {
        TargetSide::Unknown
    }
}

/// `scheme:user@host` of a URI, lower case, `sips` as `sip`, parameters and headers cut.
fn uri_key(uri: &str) -> String {
    let cut = uri
        .split([';', '?'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match cut.strip_prefix("sips:") {
        Some(rest) => format!("sip:{rest}"),
        None => cut,
    }
}

/// The keep-alive of an ATIS-1000678 link: `ConnectionTest` with `memo` `link test <n>` under
/// the keep-alive caseId; the agency sends it back unchanged ([`link_test_answer`]).
pub fn link_test(
    case_id: &CaseIdentity,
    iap_system_id: Option<&str>,
    counter: u32,
    time: Timestamp,
) -> LaesProtocol {
    LaesProtocol::Plain(LaesMessage::ConnTest(ConnectionTest {
        case_id: Some(case_id.clone()),
        iap_system_id: iap_system_id.map(str::to_owned),
        timestamp: GeneralizedTime::from_timestamp(time),
        memo: Some(format!("{LINK_TEST}{counter}")),
    }))
}

const LINK_TEST: &str = "link test ";

/// The counter of a link test the agency sent back ([`link_test`]).
///
/// # Errors
///
/// What the message is otherwise.
pub fn link_test_answer(frame: &[u8]) -> Result<u32, String> {
    let p = LaesProtocol::decode(frame)
        .map_err(|e| format!("not an ATIS-1000678 link test answer: {e}"))?;
    match p.message() {
        LaesMessage::ConnTest(ConnectionTest {
            memo: Some(memo), ..
        }) => memo
            .strip_prefix(LINK_TEST)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("connTest from the agency is not a link test answer: {memo:?}")),
        other => Err(format!(
            "unexpected ATIS-1000678 message from the agency ({})",
            other.asn1_name().unwrap_or("unknown alternative")
        )),
    }
}

/// `SurveillanceStatus` of a task towards its ATIS-1000678 agency: `fullyActive` for every
/// event but `deactivation` (`inactive`). The mediator sends it when the task is activated and
/// when it is deactivated; `reportingSystemId` is the IAP system id.
pub fn surveillance_status(
    case_id: &CaseIdentity,
    iap_system_id: Option<&str>,
    event: SurveillanceStatusEventType,
    time: Timestamp,
) -> LaesProtocol {
    let current_status = match event {
        SurveillanceStatusEventType::Deactivation => CurrentSurveillanceStatus::Inactive,
        _ => CurrentSurveillanceStatus::FullyActive,
    };
    LaesProtocol::Plain(LaesMessage::SurveillanceStatus(SurveillanceStatus {
        header: LaesHeader {
            case_id: case_id.clone(),
            iap_system_id: iap_system_id.map(str::to_owned),
            timestamp: GeneralizedTime::from_timestamp(time),
        },
        status_event_type: event,
        current_status,
    }))
}

/// `deliveryIdentifier` of call `cin`: one combined content channel named by the CIN.
fn delivery_identifier(cin: Cin) -> DeliveryIdentifier {
    DeliveryIdentifier::CccId(CccIdentity::CombCcc(cin.value().to_string()))
}

#[cfg(test)]
mod tests;
