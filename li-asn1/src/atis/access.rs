//! ATIS-1000013 CmII from the neutral access records of `li-core`: what an agency taking the
//! US format receives for the same [`AccessEvent`] an ETSI agency gets as TS 102 232-3
//! `IPIRIContents` ([`crate::ip_iri_contents`]).
//!
//! [`IasMapper::messages`] turns one record into the messages of the CmII module and of its
//! optional-messages module ([`IasPdu`]), in the order they are sent:
//!
//! | access event | messages |
//! |---|---|
//! | access attempt | `Access-Attempt` |
//! | access accept | `Access-Accepted`, then `Packet-Data-Session-Start` (when an address is known) |
//! | access reject / failed | `Access-Rejected` / `Access-Failed` |
//! | interim update | `Access-Signaling-Message-Report` (the AAA message, or a summary) |
//! | interception starts on a running session | `SurveillanceActivation`, then `Packet-Data-Session-Already-Established` |
//! | access end | `Packet-Data-Session-End` (when an address is known), then `Access-Session-End` |
//! | interception ends on a running session | `SurveillanceDeActivation` |
//! | session start / end (TS 102 232-3 before version 4) | `Packet-Data-Session-Start` / `-End`; `Access-Signaling-Message-Report` without an address |
//! | unknown | `Access-Signaling-Message-Report` (the AAA message, or a summary) |
//!
//! Every record gives at least one message.
//!
//! Correlation: the session's CIN is the `packetDataSessionID` (an integer), the
//! `accessSessionID` when the record has no accounting session of its own, and, as decimal
//! text, the `contentIdentifier` (`correlationID`) that `Packet-Data-Session-Start` announces
//! in its `deliveryInformation` and that every `IAS-CC-APDU` of the session repeats
//! ([`IasMapper::content_identifier`]). So an agency ties content to its session by caseId and
//! that identifier, as an ETSI agency does by LIID and CIN.
//!
//! What the public material does not settle, and what this mapping does about it: the text
//! form of a binary RADIUS message in `InterceptedSignalingMessage.message` (a UTF8String):
//! lowercase hexadecimal; the optional-messages module's OID: a per-destination setting whose
//! default, [`optional_oid`], is a guess (see there); the `deliveryIdentifier`: the CIN as a
//! combined content channel, the transport being the destination's own.

use li_core::{
    AccessEvent, AccessEventType, Cin, EndReason, InternetAccessType, IpPrefix, Liid, Timestamp,
};

use super::ias::{
    AccessAccepted, AccessAttempt, AccessFailed, AccessMethod, AccessRejected, AccessSessionEnd,
    AccessSignalingMessageReport, AccessType, AllocationMethod, CcDeliveryFormat, CccIdentity,
    DeliveryIdentifier, IasMessage, IasProtocol, InterceptedSignalingMessage, IpAddress,
    IpAddressInfo, LeaCmcDelivery, MessageType, PacketDataSessionAlreadyEstablished,
    PacketDataSessionEnd, PacketDataSessionStart, Value,
};
use super::ias_cc::ContentIdentifier;
use super::ias_opt::{
    IasOptionalMessage, IasOptionalProtocol, SurveillanceActivation, SurveillanceContinuation,
    SurveillanceDeActivation,
};
use super::{CaseIdentity, IasHeader, InvalidCaseIdentity, cmcc_oid, cmii_oid};
use crate::types::{GeneralizedTime, ObjectIdentifier};

/// The version of ATIS-1000013 these messages follow, as a destination's format names it
/// (`atis-1000013:1`): the 2007 text, as rebuilt from public generated code. A later text
/// would be version 2.
pub const VERSION: u16 = 1;

/// A guess at the optional-messages module's OID, `{1 2 840 113737 2 1 1 0 1}`: the CmII
/// module's example OID ([`cmii_oid`]) with its last arc 1. Neither the standard's value nor
/// an example is public; an agency's real value goes in [`IasMapper::optional_oid`].
pub fn optional_oid() -> ObjectIdentifier {
    ObjectIdentifier::new(&[1, 2, 840, 113_737, 2, 1, 1, 0, 1]).unwrap_or_else(cmii_oid)
}

/// Why a task cannot be delivered in ATIS-1000013.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IasSettingsError {
    /// The LIID, sent as `caseId`, is not 1..25 VisibleString characters.
    #[error("LIID {liid} cannot be an ATIS caseId: {source}")]
    CaseId {
        /// The LIID, as text.
        liid: String,
        /// What is wrong with it.
        #[source]
        source: InvalidCaseIdentity,
    },
    /// The intercept access point's identifier is not 1..15 VisibleString characters.
    #[error("IAP system id {id:?} is invalid: {reason} (a VisibleString of 1 to 15 characters)")]
    IapSystemId {
        /// The identifier as configured.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Whether `text` is a VisibleString of `1..=max` characters; the reason when not.
fn visible_within(text: &[u8], max: usize) -> Result<(), &'static str> {
    if text.is_empty() {
        Err("empty")
    } else if text.len() > max {
        Err("too long")
    } else if !text.iter().all(|b| (0x20..=0x7e).contains(b)) {
        Err("a character outside VisibleString")
    } else {
        Ok(())
    }
}

/// The ATIS `caseId` of `liid`, if it can be one (1..25 VisibleString characters,
/// [`CaseIdentity`]): the check provisioning makes for a task with an ATIS destination.
///
/// # Errors
///
/// [`IasSettingsError::CaseId`], naming the LIID and what is wrong.
pub fn check_case_id(liid: &Liid) -> Result<CaseIdentity, IasSettingsError> {
    let bytes = liid.as_bytes();
    let text = std::str::from_utf8(bytes).map_err(|e| InvalidCaseIdentity::Character {
        position: e.valid_up_to(),
    });
    text.and_then(CaseIdentity::new)
        .map_err(|source| IasSettingsError::CaseId {
            liid: liid.to_string(),
            source,
        })
}

/// Checks an intercept access point's identifier (`iAPSystemId`, 1..15 VisibleString
/// characters: the optional-messages module's constraint, the stricter of the two).
///
/// # Errors
///
/// [`IasSettingsError::IapSystemId`], naming the identifier and what is wrong.
pub fn check_iap_system_id(id: &str) -> Result<(), IasSettingsError> {
    visible_within(id.as_bytes(), 15).map_err(|reason| IasSettingsError::IapSystemId {
        id: id.to_owned(),
        reason,
    })
}

/// One message for an ATIS-1000013 agency: of the CmII module or of its optional-messages
/// module (each has its own `IasProtocol` and OID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IasPdu {
    /// A CmII message.
    Cmii(IasProtocol),
    /// An optional message.
    Optional(IasOptionalProtocol),
}

impl IasPdu {
    /// Appends the BER encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Self::Cmii(p) => p.encode_into(out),
            Self::Optional(p) => p.encode_into(out),
        }
    }

    /// The message's name in its module (`access-Accepted`, `surveillanceActivation`).
    pub fn asn1_name(&self) -> Option<&'static str> {
        match self {
            Self::Cmii(p) => p.message.asn1_name(),
            Self::Optional(p) => p.message.asn1_name(),
        }
    }
}

/// The per-(task, destination) settings of ATIS-1000013 CmII, checked once: everything a
/// message needs but the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IasMapper {
    case_id: String,
    iap_system_id: String,
    /// `protocolIdentifier` of CmII messages ([`cmii_oid`] by default).
    pub cmii_oid: ObjectIdentifier,
    /// `protocolIdentifier` of optional messages ([`optional_oid`] by default).
    pub optional_oid: ObjectIdentifier,
}

impl IasMapper {
    /// The settings for the task `liid` (its `caseId`) seen at the access point
    /// `iap_system_id`, with the default module OIDs.
    ///
    /// # Errors
    ///
    /// [`IasSettingsError`] when either identifier breaks its constraint.
    pub fn new(liid: &Liid, iap_system_id: &str) -> Result<Self, IasSettingsError> {
        let case_id = check_case_id(liid)?;
        check_iap_system_id(iap_system_id)?;
        Ok(Self {
            case_id: case_id.as_str().to_owned(),
            iap_system_id: iap_system_id.to_owned(),
            cmii_oid: cmii_oid(),
            optional_oid: optional_oid(),
        })
    }

    /// As [`IasMapper::new`], but made to fit rather than refused: characters outside
    /// VisibleString become `?`, the identifiers are cut to 25 and 15 characters, an empty
    /// one is `-`. For a caller whose identifiers were checked before (a provisioned task)
    /// and that must not fail.
    pub fn fitted(liid: &Liid, iap_system_id: &str) -> Self {
        let fit = |text: &[u8], max: usize| {
            let s: String = text
                .iter()
                .take(max)
                .map(|&b| {
                    if (0x20..=0x7e).contains(&b) {
                        char::from(b)
                    } else {
                        '?'
                    }
                })
                .collect();
            if s.is_empty() { "-".to_owned() } else { s }
        };
        Self {
            case_id: fit(liid.as_bytes(), 25),
            iap_system_id: fit(iap_system_id.as_bytes(), 15),
            cmii_oid: cmii_oid(),
            optional_oid: optional_oid(),
        }
    }

    /// The `caseId` (the LIID).
    pub fn case_id(&self) -> &str {
        &self.case_id
    }

    /// The `iAPSystemId`.
    pub fn iap_system_id(&self) -> &str {
        &self.iap_system_id
    }

    /// The `contentIdentifier` of the session `cin`: its decimal text as `correlationID`,
    /// in `Packet-Data-Session-Start` and in every `IAS-CC-APDU` of the session.
    pub fn content_identifier(cin: Cin) -> ContentIdentifier {
        ContentIdentifier::CorrelationId(cin.value().to_string().into_bytes())
    }

    fn header(&self, time: Timestamp) -> IasHeader {
        IasHeader {
            case_id: self.case_id.clone(),
            iap_system_id: self.iap_system_id.clone(),
            timestamp: GeneralizedTime::from_timestamp(time),
        }
    }

    fn cmii(&self, message: IasMessage) -> IasPdu {
        IasPdu::Cmii(IasProtocol {
            protocol_identifier: self.cmii_oid.clone(),
            message,
        })
    }

    fn optional(&self, message: IasOptionalMessage) -> IasPdu {
        IasPdu::Optional(IasOptionalProtocol {
            protocol_identifier: self.optional_oid.clone(),
            message,
        })
    }

    /// Appends the messages of the access record `event` of session `cin` at `time` to
    /// `out` (see the [module docs](self) for which). `with_content`: the task includes
    /// content, so a session's start announces where it goes (`deliveryInformation`).
    pub fn messages(
        &self,
        cin: Cin,
        time: Timestamp,
        event: &AccessEvent,
        with_content: bool,
        out: &mut Vec<IasPdu>,
    ) {
        let header = || self.header(time);
        let subscriber = subscriber_identity(event);
        let address = event.addresses.first().map(ip_address_info);
        let access_session = || match &event.session_id {
            Some(id) if !id.is_empty() => Value::StringUtf8(id.clone()),
            _ => Value::Integer(i64::from(cin.value())),
        };
        let data_session = Value::Integer(i64::from(cin.value()));
        let delivery = with_content.then(|| LeaCmcDelivery {
            content_identifier: Self::content_identifier(cin),
            delivery_identifier: DeliveryIdentifier::CccId(CccIdentity::CombCcc(
                cin.value().to_string(),
            )),
            cc_delivery_format: CcDeliveryFormat::Atis678Asn1(cmcc_oid()),
        });
        let reason = event.end_reason.map(reason_for_termination);
        let session_start = |address: IpAddressInfo| PacketDataSessionStart {
            header: header(),
            subscriber_identity: subscriber.clone(),
            access_session_id: Some(access_session()),
            packet_data_session_id: data_session.clone(),
            ip_address: address,
            access_session_characteristics: None,
            location: None,
            delivery_information: delivery.clone(),
        };
        match event.event_type {
            AccessEventType::AccessAttempt => {
                out.push(self.cmii(IasMessage::AccessAttempt(AccessAttempt {
                    header: header(),
                    subscriber_identity: subscriber.clone(),
                    access_method: access_method(event),
                    network_access_node_identity: access_node(event),
                    protocol_signal: None,
                })));
            }
            AccessEventType::AccessAccept => {
                out.push(self.cmii(IasMessage::AccessAccepted(AccessAccepted {
                    header: header(),
                    subscriber_identity: subscriber.clone(),
                    access_method: access_method(event),
                    network_access_node_identity: access_node(event),
                    ip_address: address.clone(),
                    access_session_id: access_session(),
                    access_session_characteristics: None,
                    location: None,
                    protocol_signal: None,
                })));
                if let Some(address) = address {
                    out.push(self.cmii(IasMessage::SessionStart(session_start(address))));
                }
            }
            AccessEventType::SessionStart => match address {
                Some(address) => {
                    out.push(self.cmii(IasMessage::SessionStart(session_start(address))));
                }
                // A packet data session needs its address: without one, reported as is.
                None => out.push(self.signalling_report(header(), access_session(), event)),
            },
            AccessEventType::AccessReject => {
                out.push(self.cmii(IasMessage::AccessRejected(AccessRejected {
                    header: header(),
                    subscriber_identity: subscriber.clone(),
                    ip_address: address,
                    reason_for_termination: reason,
                    protocol_signal: None,
                })));
            }
            AccessEventType::AccessFailed => {
                out.push(self.cmii(IasMessage::AccessFailed(AccessFailed {
                    header: header(),
                    subscriber_identity: subscriber.clone(),
                    ip_address: address,
                    reason_for_termination: reason,
                    protocol_signal: None,
                })));
            }
            AccessEventType::InterimUpdate => {
                out.push(self.signalling_report(header(), access_session(), event));
            }
            AccessEventType::StartOfInterceptionWithSessionActive => {
                out.push(self.optional(IasOptionalMessage::SurveillanceActivation(
                    SurveillanceActivation {
                        header: header(),
                        surveillance_status: "activated on an established access session".into(),
                    },
                )));
                if let Some(address) = address {
                    let s = session_start(address);
                    out.push(self.cmii(IasMessage::SessionAlreadyEstablished(
                        PacketDataSessionAlreadyEstablished {
                            header: s.header,
                            subscriber_identity: s.subscriber_identity,
                            access_session_id: s.access_session_id,
                            packet_data_session_id: s.packet_data_session_id,
                            ip_address: s.ip_address,
                            access_session_characteristics: None,
                            location: None,
                            delivery_information: s.delivery_information,
                        },
                    )));
                }
            }
            AccessEventType::AccessEnd | AccessEventType::SessionEnd => {
                if let Some(address) = address.clone() {
                    out.push(self.cmii(IasMessage::SessionEnd(PacketDataSessionEnd {
                        header: header(),
                        subscriber_identity: subscriber.clone(),
                        access_session_id: Some(access_session()),
                        packet_data_session_id: data_session.clone(),
                        ip_address: address,
                        reason_for_termination: reason.clone(),
                    })));
                }
                if event.event_type == AccessEventType::SessionEnd && address.is_none() {
                    out.push(self.signalling_report(header(), access_session(), event));
                }
                if event.event_type == AccessEventType::AccessEnd {
                    out.push(self.cmii(IasMessage::AccessSessionEnd(AccessSessionEnd {
                        header: header(),
                        subscriber_identity: subscriber.clone(),
                        ip_address: address,
                        access_session_id: access_session(),
                        reason_for_termination: reason,
                        protocol_signal: None,
                    })));
                }
            }
            AccessEventType::EndOfInterceptionWithSessionActive => {
                out.push(self.optional(IasOptionalMessage::SurveillanceDeActivation(
                    SurveillanceDeActivation {
                        header: header(),
                        surveillance_status: "deactivated on an established access session".into(),
                    },
                )));
            }
            _ => out.push(self.signalling_report(header(), access_session(), event)),
        }
    }

    /// The keep-alive of an ATIS-1000013 link: `SurveillanceContinuation` (optional
    /// messages) whose `surveillanceStatus` is `link test <counter>`. ATIS-1000013 defines no
    /// link test; the suite's transport (`docs/HANDOVER-ATIS.md`) uses this message, which
    /// says that surveillance goes on, and the agency answers by sending it back unchanged
    /// ([`link_test_answer`]).
    pub fn link_test(&self, counter: u32, time: Timestamp) -> IasPdu {
        self.optional(IasOptionalMessage::SurveillanceContinuation(
            SurveillanceContinuation {
                header: self.header(time),
                surveillance_status: format!("{LINK_TEST}{counter}"),
            },
        ))
    }

    /// `Access-Signaling-Message-Report` of `event`: its AAA message in hexadecimal, or,
    /// without one, a text summary of what the record says.
    fn signalling_report(&self, header: IasHeader, session: Value, event: &AccessEvent) -> IasPdu {
        let message = match &event.raw_aaa {
            Some(raw) => InterceptedSignalingMessage {
                message_type: MessageType::Radius,
                message: hex(raw),
            },
            None => {
                let mut text = String::from(match event.event_type {
                    AccessEventType::InterimUpdate => "interim update",
                    AccessEventType::SessionStart => "session start without an address",
                    AccessEventType::SessionEnd => "session end without an address",
                    _ => "access event of unknown type",
                });
                if let Some(n) = event.octets_received {
                    text.push_str(&format!("; octets received {n}"));
                }
                if let Some(n) = event.octets_transmitted {
                    text.push_str(&format!("; octets transmitted {n}"));
                }
                InterceptedSignalingMessage {
                    message_type: MessageType::Other,
                    message: text,
                }
            }
        };
        self.cmii(IasMessage::AccessSignalingMessageReport(
            AccessSignalingMessageReport {
                header,
                access_session_id: Some(session),
                signaling_msg: vec![message],
            },
        ))
    }
}

/// The `surveillanceStatus` prefix of a link test.
const LINK_TEST: &str = "link test ";

/// The counter of a link test the agency sent back ([`IasMapper::link_test`]); an error
/// naming what the message is otherwise.
///
/// # Errors
///
/// The reason, when `frame` is not one BER optional-messages `IasProtocol` carrying a
/// `SurveillanceContinuation` whose status is `link test <counter>`.
pub fn link_test_answer(frame: &[u8]) -> Result<u32, String> {
    let protocol = IasOptionalProtocol::decode(frame)
        .map_err(|e| format!("not an ATIS-1000013 link test answer: {e}"))?;
    let IasOptionalMessage::SurveillanceContinuation(m) = &protocol.message else {
        return Err(format!(
            "unexpected ATIS-1000013 message from the agency ({})",
            protocol
                .message
                .asn1_name()
                .unwrap_or("unknown alternative")
        ));
    };
    m.surveillance_status
        .strip_prefix(LINK_TEST)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            format!(
                "surveillanceContinuation from the agency is not a link test answer: {:?}",
                m.surveillance_status
            )
        })
}

/// `subscriberIdentity`: the access username, else the network identifier (a MAC address,
/// `Calling-Station-Id`), else the first address; `unknown` when the record has none.
fn subscriber_identity(event: &AccessEvent) -> Value {
    if !event.username.is_empty() {
        return match std::str::from_utf8(&event.username) {
            Ok(text) => Value::StringUtf8(text.to_owned()),
            Err(_) => Value::Octets(event.username.clone()),
        };
    }
    if let Some(id) = event.network_id.as_ref().filter(|id| !id.is_empty()) {
        return Value::StringUtf8(id.clone());
    }
    match event.addresses.first() {
        Some(p) => Value::StringVs(p.addr().to_string()),
        None => Value::StringVs("unknown".into()),
    }
}

/// `accessMethod`: the access technology and the customer equipment, when either is known.
fn access_method(event: &AccessEvent) -> Option<AccessMethod> {
    let access_type = match event.access_type {
        InternetAccessType::DialUp => Some(AccessType::DialUp),
        InternetAccessType::Xdsl => Some(AccessType::Dsl),
        InternetAccessType::CableModem => Some(AccessType::Cable),
        InternetAccessType::Lan => Some(AccessType::Lan),
        InternetAccessType::WirelessLan => Some(AccessType::WiFi),
        InternetAccessType::Wimax => Some(AccessType::WiMax),
        InternetAccessType::Fttx => Some(AccessType::Other("FTTx".into())),
        InternetAccessType::Satellite => Some(AccessType::Other("satellite".into())),
        InternetAccessType::WirelessOther => Some(AccessType::Other("wireless".into())),
        _ => None,
    };
    let equipment = event.cpe_id.clone().filter(|id| !id.is_empty());
    (access_type.is_some() || equipment.is_some()).then_some(AccessMethod {
        access_type,
        access_equipment_id: equipment,
        part_of_multiple_login: false,
    })
}

/// `networkAccessNodeIdentity`: the point of presence's name, else its address.
fn access_node(event: &AccessEvent) -> Option<Value> {
    match (&event.pop_identifier, event.pop_ip_address) {
        (Some(name), _) if !name.is_empty() => Some(Value::StringUtf8(name.clone())),
        (_, Some(addr)) => Some(Value::StringVs(addr.to_string())),
        _ => None,
    }
}

/// `IPAddress` of a prefix: the address, `dynamic` (it came from an AAA or DHCP exchange),
/// and its prefix length unless it is a single host.
fn ip_address_info(prefix: &IpPrefix) -> IpAddressInfo {
    let host = if prefix.addr().is_ipv4() { 32 } else { 128 };
    IpAddressInfo {
        address: IpAddress::from_ip_addr(prefix.addr()),
        allocation_method: AllocationMethod::Dynamic,
        ipv6_flow_label: None,
        prefix_len: (prefix.prefix_len() != host).then(|| i64::from(prefix.prefix_len())),
    }
}

/// `reasonForTermination`: the TS 102 232-3 `endReason` name.
fn reason_for_termination(reason: EndReason) -> Value {
    Value::StringVs(
        match reason {
            EndReason::RegularLogoff => "regularLogoff",
            EndReason::ConnectionLoss => "connectionLoss",
            EndReason::ConnectionTimeout => "connectionTimeout",
            EndReason::LeaseExpired => "leaseExpired",
            _ => "undefined",
        }
        .into(),
    )
}

fn hex(octets: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(octets.len() * 2);
    for b in octets {
        for nibble in [b >> 4, b & 0x0f] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests;
