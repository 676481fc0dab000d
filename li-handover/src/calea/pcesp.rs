//! PacketCable (PCESP version 3) call data from intercepted SIP: the `CdcPdu`s a PacketCable
//! agency gets for the SIP messages of a target's calls, from the same call events as the
//! ATIS-1000678 messages ([`super::LaesCalls`]).
//!
//! [`PcespCalls`] is a sans-IO state machine per (task, destination). PCESP carries no SIP:
//! it carries the parties, the call's identity and the session descriptions (SDP) of the
//! subject and of the other party (the *associate*). Per SIP message of a call:
//!
//! | SIP | messages |
//! |---|---|
//! | a call's first INVITE | `Origination` when the target calls (`calling` = From, `called` = To, `input` `userinput` = the Request-URI), `TerminationAttempt` when it is called (`calling` = From, `called` = To); nothing when the side is not known |
//! | the first 2xx to an INVITE | `Answer` (`answering` = To), then, when the task takes content, `CCOpen` (`ccOpenTime` = the call, `cCCId` `sepCCCpair` = the call's [`CccPair`], `subject` and `associate` = the SDPs known then, `flowDirection` `downstream-and-upstream`) |
//! | a 18x to the INVITE with an SDP (early media), when the task takes content and content is not open yet | `CCOpen` (the 18x itself gives nothing) |
//! | any later message of a call answered before the task took content (scope widened mid-call) | `CCOpen` |
//! | a re-INVITE, an UPDATE, a later 2xx to an INVITE | `MediaReport` with the SDPs known then, then `CCChange` (same SDPs) when content is open |
//! | a 3xx to an INVITE | `Redirection` (`old` = the call, `redirectedfrom` = To, `redirectedto` = the first Contact) |
//! | BYE; a 4xx-6xx to an unanswered INVITE at the call's IRI-End; the call's IRI-End when no release went before | `Release`, then `CCClose` when content is open |
//! | REGISTER, CANCEL, ACK, PRACK, INFO, MESSAGE, 1xx, other responses, unreadable messages, any IRI-Report | nothing |
//!
//! What is left out, and why: PCESP has no message that reports a signalling message as it is
//! (ATIS-1000678's `DirectSignalReporting`) nor a registration message (`ServingSystem`), so
//! REGISTER, CANCEL (the call's IRI-End releases it), ACK, 1xx and the other messages give
//! nothing; their SDP, if any, still updates the call's media. A first INVITE whose side is
//! not known gives no `Origination` or `TerminationAttempt` (which one is not known), and
//! the SDPs of such a call are attributed to nobody. A failure's status line has no place
//! in `Release` (it has no cause). After the call's `Release` nothing more is sent for it
//! (but the `CCClose` of the same message): a retransmitted BYE, a late re-INVITE.
//!
//! Every `CCOpen` is followed by a `CCClose` by the call's IRI-End; a `Begin` starts a call
//! afresh, releasing (and closing the content of) what the CIN carried before. These rules
//! and the call's state are the ones of the family-neutral call machine that
//! [`super::LaesCalls`] uses too.
//!
//! Identifiers: `caseId` = the task's LIID; `accessingElementId` = the IAP system id
//! ([`PcespSettings::new`]); `callId` = [`pcesp_call_id`]: PCESP builds it from the
//! Billing-Correlation-ID of the PacketCable event messages, which SIP interception does not
//! have, so the CIN (in decimal) plays that role, under the accessingElementId. `cCCId`
//! renders the two CCC identifiers the mediator allocated for the call's content datagrams
//! (`sepXmitCCC` for what the subject sends, `sepRecvCCC` for what it receives), kept from
//! the `CCOpen` to the `CCClose`. A party is `dn` = the digits of an E.164 number (a `tel:`
//! URI, or a SIP URI whose user part starts with `+` or has `user=phone`) of 1 to 15
//! digits, else `genericAddress` = the URI (its visible characters).
//!
//! The SDPs: a message's body is an SDP when its `Content-Type` is `application/sdp` or the
//! body starts with `v=`. The target's SDP is the one in the messages the target sent (the
//! INVITE it sent as the caller, the 2xx it sent as the callee, and its later offers and
//! answers), the associate's the one in the other party's; a request is sent by its `From`
//! party, a response by its `To` party. Each is kept up to [`MAX_SDP`] octets (cut at its
//! last whole line), only while the call has state, and all the calls of one
//! [`PcespCalls`] keep at most [`MAX_SDP_BYTES`]: beyond, a new SDP is not kept and the
//! reports carry none for that party.

use li_asn1::GeneralizedTime;
use li_asn1::packetcable::{
    AccessingElementId, Answer, CallId, CaseId, CcChange, CcClose, CcOpen, CcOpenOption, CccId,
    CdcHeader, CdcPdu, FlowDirection, MediaReport, Message, Origination, OriginationInput, PartyId,
    Redirection, Release, TerminationAttempt, ValueError,
};
use li_core::{Cin, IriType, Timestamp};

use super::call::{CallEvent, Calls, Render, Signal};
use super::{TargetSide, uri_of};

use super::sdp::CallSdps;
pub use super::sdp::{MAX_SDP, MAX_SDP_BYTES};

/// The two CCC identifiers of a call's content, allocated by the mediator: each content
/// datagram carries one of them (`li_asn1::packetcable::ccc`), and `CCOpen`/`CCChange`/
/// `CCClose` name both as `sepCCCpair`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CccPair {
    /// The subject's transmitted content (packets from the target): `sepXmitCCC`.
    pub xmit: u32,
    /// The subject's received content (packets to the target): `sepRecvCCC`.
    pub recv: u32,
}

impl CccPair {
    /// `cCCId` `sepCCCpair` of the pair.
    pub fn ccc_id(self) -> CccId {
        CccId::sep(self.xmit, self.recv)
    }
}

/// The identifiers of one (task, destination) in every `CdcPdu`'s header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcespSettings {
    /// `caseId`: the task's LIID.
    pub case_id: CaseId,
    /// `accessingElementId`: the IAP system id.
    pub accessing_element_id: AccessingElementId,
}

/// Why [`PcespSettings::new`] cannot make the identifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcespSettingsError {
    /// The LIID breaks `CaseId`'s constraint (1..25 visible characters).
    #[error("LIID {liid:?} is not a PacketCable caseId: {source}")]
    CaseId {
        /// The LIID.
        liid: String,
        /// What is wrong.
        source: ValueError,
    },
    /// The IAP system id has no visible character.
    #[error(
        "IAP system id {iap_system_id:?} has no visible character for a PacketCable accessingElementId"
    )]
    AccessingElementId {
        /// The IAP system id.
        iap_system_id: String,
    },
}

impl PcespSettings {
    /// `caseId` = `liid`, which must be 1..25 visible characters (an agency correlates on
    /// it: it is refused, not cut). `accessingElementId` = `iap_system_id`, fitted to
    /// `AccessingElementId`'s 1..15 characters by keeping its first 15 visible characters
    /// (characters outside VisibleString are left out): a longer IAP system id is cut, so
    /// two ids alike in their first 15 characters look the same to the agency.
    ///
    /// # Errors
    ///
    /// A LIID outside `CaseId`'s constraint, an IAP system id without a visible character.
    pub fn new(liid: &str, iap_system_id: &str) -> Result<Self, PcespSettingsError> {
        let case_id = CaseId::new(liid).map_err(|source| PcespSettingsError::CaseId {
            liid: liid.to_owned(),
            source,
        })?;
        let fitted: String = iap_system_id
            .chars()
            .filter(|c| (' '..='~').contains(c))
            .take(15)
            .collect();
        let accessing_element_id = AccessingElementId::new(&fitted).map_err(|_| {
            PcespSettingsError::AccessingElementId {
                iap_system_id: iap_system_id.to_owned(),
            }
        })?;
        Ok(Self {
            case_id,
            accessing_element_id,
        })
    }
}

/// The `callId` of call `cin`: `sequencenumber` = the CIN in decimal, `systemidentity` =
/// the accessingElementId (see the [module docs](self) for why not the
/// Billing-Correlation-ID).
pub fn pcesp_call_id(cin: Cin, accessing_element_id: &AccessingElementId) -> CallId {
    CallId {
        sequence_number: cin.value().to_string(),
        system_identity: accessing_element_id.as_str().to_owned(),
    }
}

/// The PacketCable call-data state machine of one (task, destination) (see the
/// [module docs](self)).
#[derive(Debug)]
pub struct PcespCalls {
    settings: PcespSettings,
    calls: Calls<PcespCall>,
    /// The octets of SDP kept over all calls.
    sdp_bytes: usize,
}

impl PcespCalls {
    /// No call yet.
    pub fn new(settings: PcespSettings) -> Self {
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

    /// The octets of SDP kept for the calls (at most [`MAX_SDP_BYTES`]).
    pub fn sdp_bytes(&self) -> usize {
        self.sdp_bytes
    }

    /// Appends the `CdcPdu`s of one SIP message of call `cin` (see the [module docs](self)).
    /// `ccc`: the call's CCC identifiers, named by the `CCOpen` (and kept for its `CCChange`
    /// and `CCClose`). `side`: which party the target is, read on the call's first INVITE.
    /// `with_content`: the task takes the call's content, so content delivery is opened,
    /// changed and closed. An IRI-End forgets the call.
    #[allow(clippy::too_many_arguments)]
    pub fn on_sip(
        &mut self,
        cin: Cin,
        ccc: CccPair,
        time: Timestamp,
        iri_type: IriType,
        message: &[u8],
        side: TargetSide,
        with_content: bool,
        out: &mut Vec<CdcPdu>,
    ) {
        let mut render = PcespRender {
            settings: &self.settings,
            sdp_bytes: &mut self.sdp_bytes,
            ccc,
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
    /// `CCClose` under the pair its `CCOpen` named (when content is open), at `time`, and
    /// forgets every call: for a task deactivated while calls are open. In CIN order.
    pub fn close_all(&mut self, time: Timestamp, out: &mut Vec<CdcPdu>) {
        let mut render = PcespRender {
            settings: &self.settings,
            sdp_bytes: &mut self.sdp_bytes,
            // Not used: a call's content was opened under the pair it keeps.
            ccc: CccPair { xmit: 0, recv: 0 },
        };
        self.calls.close_all(&mut render, time, out);
    }
}

/// What PCESP keeps of a call beside the shared state.
#[derive(Debug, Default)]
struct PcespCall {
    /// The parties' latest SDPs.
    sdps: CallSdps,
    /// The CCC identifiers named by the call's `CCOpen`.
    ccc: Option<CccPair>,
}

/// The PCESP renderer of the call events, for one SIP message.
struct PcespRender<'a> {
    settings: &'a PcespSettings,
    sdp_bytes: &'a mut usize,
    ccc: CccPair,
}

impl Render for PcespRender<'_> {
    type Call = PcespCall;
    type Out = CdcPdu;

    fn on_message(&mut self, call: &mut PcespCall, signal: &Signal<'_>) {
        call.sdps.observe(signal, self.sdp_bytes);
    }

    fn on_event(
        &mut self,
        call: &mut PcespCall,
        s: &Signal<'_>,
        event: CallEvent<'_>,
        out: &mut Vec<CdcPdu>,
    ) {
        // Nothing for a call after its release (the release's own CCClose comes with it). No
        // PCESP message reports a registration or another message as it is (see the
        // module docs).
        if s.released || matches!(event, CallEvent::Registration { .. } | CallEvent::Other) {
            return;
        }
        let header = self.header(s.time);
        let call_id = || pcesp_call_id(s.cin, &self.settings.accessing_element_id);
        let message = match event {
            CallEvent::Origination {
                calling,
                called,
                request_uri,
            } => {
                let mut input = visible(request_uri);
                if input.is_empty() {
                    input = "unknown".into();
                }
                Message::Origination(Origination {
                    header,
                    call_id: call_id(),
                    calling: party_id(calling).unwrap_or_default(),
                    called: party_id(called),
                    input: OriginationInput::UserInput(input),
                    transit_carrier_id: None,
                })
            }
            CallEvent::TerminationAttempt { calling, called } => {
                Message::TerminationAttempt(TerminationAttempt {
                    header,
                    call_id: call_id(),
                    calling: party_id(calling),
                    called: party_id(called),
                    redirected_from_info: None,
                })
            }
            CallEvent::Answer { answering } => Message::Answer(Answer {
                header,
                call_id: call_id(),
                answering: party_id(answering),
            }),
            CallEvent::CcOpen => {
                call.ccc = Some(self.ccc);
                Message::CcOpen(CcOpen {
                    header,
                    cc_open_option: CcOpenOption::CcOpenTime(vec![call_id()]),
                    ccc_id: self.ccc.ccc_id(),
                    subject: call.sdps.target.clone(),
                    associate: call.sdps.associate.clone(),
                    flow_direction: FlowDirection::DownstreamAndUpstream,
                })
            }
            CallEvent::MediaChange => Message::MediaReport(MediaReport {
                header,
                call_id: call_id(),
                subject: call.sdps.target.clone(),
                associate: call.sdps.associate.clone(),
            }),
            CallEvent::CcChange => Message::CcChange(CcChange {
                header,
                call_id: call_id(),
                ccc_id: call.ccc.unwrap_or(self.ccc).ccc_id(),
                subject: call.sdps.target.clone(),
                associate: call.sdps.associate.clone(),
                flow_direction: FlowDirection::DownstreamAndUpstream,
                resource_state: None,
            }),
            CallEvent::Redirection { redirected_from } => {
                let contact = s.contact();
                Message::Redirection(Redirection {
                    header,
                    old: call_id(),
                    redirected_to: contact
                        .map(|c| party_id_of_uri(&uri_of(c)))
                        .unwrap_or_default(),
                    transit_carrier_id: None,
                    new: None,
                    redirected_from: party_id(redirected_from),
                })
            }
            CallEvent::Release { .. } => Message::Release(Release {
                header,
                call_id: call_id(),
            }),
            CallEvent::CcClose => Message::CcClose(CcClose {
                header,
                ccc_id: call.ccc.take().unwrap_or(self.ccc).ccc_id(),
                flow_direction: FlowDirection::DownstreamAndUpstream,
            }),
            CallEvent::Registration { .. } | CallEvent::Other => return,
        };
        out.push(CdcPdu::new(message));
    }

    fn forget(&mut self, call: PcespCall) {
        call.sdps.release(self.sdp_bytes);
    }
}

impl PcespRender<'_> {
    fn header(&self, time: Timestamp) -> CdcHeader {
        CdcHeader {
            case_id: self.settings.case_id.clone(),
            accessing_element_id: self.settings.accessing_element_id.clone(),
            event_time: GeneralizedTime::from_timestamp(time),
        }
    }
}

/// The party of a `From`/`To` value.
fn party_id(value: Option<&str>) -> Option<PartyId> {
    value.map(|v| party_id_of_uri(&uri_of(v)))
}

/// `dn` for an E.164 number of 1..15 digits, else `genericAddress` = the URI (its visible
/// characters; nothing when none is).
fn party_id_of_uri(uri: &str) -> PartyId {
    if let Some(dn) = e164_digits(uri) {
        return PartyId {
            dn: Some(dn),
            ..PartyId::default()
        };
    }
    let text = visible(uri);
    PartyId {
        generic_address: (!text.is_empty()).then_some(text),
        ..PartyId::default()
    }
}

/// The digits of a `tel:` URI's number or of a SIP URI's user part that is a telephone
/// number (starts with `+`, or `user=phone`), visual separators (`-.()`) left out, when
/// there are 1 to 15 of them and nothing else.
fn e164_digits(uri: &str) -> Option<String> {
    let lower = uri.to_ascii_lowercase();
    let user = if let Some(rest) = lower.strip_prefix("tel:") {
        rest.split(';').next().unwrap_or_default().to_owned()
    } else {
        let rest = lower
            .strip_prefix("sip:")
            .or_else(|| lower.strip_prefix("sips:"))?;
        let (user, host) = rest.split_once('@')?;
        let user = user.split(';').next().unwrap_or_default();
        let phone = host.split(';').skip(1).any(|p| p.trim() == "user=phone");
        if !user.starts_with('+') && !phone {
            return None;
        }
        user.to_owned()
    };
    let number = user.strip_prefix('+').unwrap_or(&user);
    if !number
        .chars()
        .all(|c| c.is_ascii_digit() || "-.()".contains(c))
    {
        return None;
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    (1..=15).contains(&digits.len()).then_some(digits)
}

/// The VisibleString characters of `text`.
fn visible(text: &str) -> String {
    text.chars().filter(|c| (' '..='~').contains(c)).collect()
}

#[cfg(test)]
mod tests;
