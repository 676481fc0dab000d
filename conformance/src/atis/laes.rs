//! ATIS-1000678 (T1.678) vectors: `atis-laes-encode OUTDIR` writes every LaesMessage kind we
//! encode (all 24, in the enhanced and the plain form) as OUTDIR/atis-t1678/NAME.ber, and
//! CC-APDU (typed, and from the hot-path `CcApduEncoder`) as OUTDIR/atis-t1678-cc/NAME.ber,
//! each with NAME.json holding the value meant in pycrate's value shape. Step `atis_laes` of
//! run.sh. The H.323 parts the codec keeps opaque are left out: their pycrate value is typed.

use std::path::Path;

use li_asn1::atis::laes::*;
use li_asn1::atis::laes_cc::{
    CallIdentity, CcApdu, CcApduEncoder, CcDeliveryHeader, ContentIdentifier, CorrelationInfo,
    PacketDirection,
};
use li_asn1::atis::laes_party::*;
use li_asn1::atis::{CaseIdentity, laes_cc_oid, laes_oid};
use li_asn1::{GeneralizedTime, ObjectIdentifier};
use serde_json::{Map, Value as Json, json};

use super::{cc, content_id, emit, hex, ip, location, opt, unknown};
use crate::json::gtime;
use crate::time;

fn s(v: &Option<String>) -> Option<Json> {
    v.as_ref().map(|x| json!(x))
}

fn strings(v: &Option<Vec<String>>) -> Option<Json> {
    v.as_ref().map(|x| json!(x))
}

fn call(c: &CallIdentity) -> Json {
    let mut m = Map::new();
    m.insert("main".into(), json!(c.main));
    opt(&mut m, "leg", s(&c.leg));
    Json::Object(m)
}

fn calls(v: &[CallIdentity]) -> Json {
    Json::Array(v.iter().map(call).collect())
}

fn party(p: &PartyIdentity) -> Json {
    let mut m = Map::new();
    let vis = |v: &Option<Vec<VisibleString>>| {
        v.as_ref()
            .map(|x| json!(x.iter().map(|s| s.0.clone()).collect::<Vec<_>>()))
    };
    for (k, v) in [
        ("esn", s(&p.esn)),
        ("imei", s(&p.imei)),
        ("tei", s(&p.tei)),
        ("spid", s(&p.spid)),
        ("imsi", s(&p.imsi)),
        ("min", s(&p.min)),
        ("dn", s(&p.dn)),
        ("userProvided", s(&p.user_provided)),
        ("appearanceId", s(&p.appearance_id)),
        ("callingCardNum", s(&p.calling_card_num)),
        ("ipAddress", p.ip_address.as_ref().map(ip)),
        ("x121", s(&p.x121)),
        ("trunkId", s(&p.trunk_id)),
        ("subaddress", p.subaddress.as_deref().map(hex)),
        ("genericAddress", vis(&p.generic_address)),
        ("genericDigits", vis(&p.generic_digits)),
        ("genericName", strings(&p.generic_name)),
        ("port", s(&p.port)),
        ("context", s(&p.context)),
        ("isdnHighLayer", p.isdn_high_layer.as_deref().map(hex)),
        ("isdnLowLayer", p.isdn_low_layer.as_deref().map(hex)),
        ("uri", strings(&p.uri)),
        ("sipHeader", strings(&p.sip_header)),
        ("nai", s(&p.nai)),
        ("mac802", s(&p.mac802)),
        ("fqdn", s(&p.fqdn)),
    ] {
        opt(&mut m, k, v);
    }
    Json::Object(m)
}

fn parties(v: &Option<Vec<PartyIdentity>>) -> Option<Json> {
    v.as_ref()
        .map(|x| Json::Array(x.iter().map(party).collect()))
}

fn media(mi: &MediaInformation) -> Json {
    let mut m = Map::new();
    let bearer = mi.bearer_capability.as_ref().map(|b| match b {
        BearerCapability::Speech => json!(["speech", 0]),
        BearerCapability::F3100HzAudio => json!(["f3100HzAudio", 0]),
        BearerCapability::BearerCapInfoElement(o) => json!(["bearerCapInfoElement", hex(o)]),
        BearerCapability::Unknown(u) => unknown(u),
    });
    opt(&mut m, "bearerCapability", bearer);
    let ch = mi.characteristics.as_ref().map(|c| match c {
        MediaCharacteristics::Sdp(sdp) => json!(["sdp", sdp]),
        MediaCharacteristics::H323Media(h) => json!(["h323Media", {
            "h323MediaParameterType": h.parameter_type.asn1_name(),
            "h323MediaParameter": hex(&h.parameter),
        }]),
        MediaCharacteristics::Other(o) => {
            json!(["other", { "type": o.media_type.arcs(), "value": hex(&o.value) }])
        }
        MediaCharacteristics::Unknown(u) => unknown(u),
    });
    opt(&mut m, "characteristics", ch);
    opt(&mut m, "status", mi.status.map(|x| json!(x.asn1_name())));
    Json::Object(m)
}

fn psp(p: &ProtocolSpecificParameters) -> Json {
    match p {
        ProtocolSpecificParameters::Sip(sip) => {
            let mut m = Map::new();
            opt(&mut m, "sipHeader", strings(&sip.sip_header));
            opt(
                &mut m,
                "sipBody",
                sip.sip_body.as_ref().map(
                    |b| json!({ "sipBodyHeader": b.header, "sipBodyContents": hex(&b.contents) }),
                ),
            );
            json!(["sip", m])
        }
        // kept opaque by the codec; not produced by this harness
        ProtocolSpecificParameters::H323(o) => json!(["h323", hex(&o.content)]),
        ProtocolSpecificParameters::Unknown(u) => unknown(u),
    }
}

fn signaling(v: &[EncapsulatedSignalingMessage]) -> Json {
    Json::Array(
        v.iter()
            .map(|e| json!({ "signalingProt": e.signaling_prot, "sigMsg": hex(&e.sig_msg) }))
            .collect(),
    )
}

fn delivery(d: &DeliveryIdentifier) -> Json {
    match d {
        DeliveryIdentifier::CccId(c) => {
            let c = match c {
                CccIdentity::CombCcc(s) => json!(["combCCC", s]),
                CccIdentity::SepCccPair { xmit, recv } => {
                    json!(["sepCCCpair", { "sepXmitCCC": xmit, "sepRecvCCC": recv }])
                }
                CccIdentity::IndXmitCcc(s) => json!(["indXmitCCC", s]),
                CccIdentity::IndRecvCcc(s) => json!(["indRecvCCC", s]),
                CccIdentity::IndCcc(s) => json!(["indCCC", s]),
                CccIdentity::Unknown(u) => unknown(u),
            };
            json!(["cccId", c])
        }
        DeliveryIdentifier::CcAddress(a) => json!(["ccAddress", {
            "leaIPAddress": ip(&a.lea_ip_address),
            "leaPortNumber": a.lea_port_number,
        }]),
        DeliveryIdentifier::Unknown(u) => unknown(u),
    }
}

fn cause(c: &Cause) -> Json {
    let mut m = Map::new();
    m.insert("signalingType".into(), json!(c.signaling_type));
    let v = c.cause.as_ref().map(|p| match p {
        ParameterFormat::Generic(s) => json!(["generic", s]),
        ParameterFormat::Sip(h) => json!(["sip", h]),
        ParameterFormat::H323(o) => json!(["h323", hex(o)]),
        ParameterFormat::Unknown(u) => unknown(u),
    });
    opt(&mut m, "cause", v);
    Json::Object(m)
}

fn input(i: &Input) -> Json {
    let (name, v) = match i {
        Input::UserInput(v) => ("userInput", v),
        Input::TranslationInput(v) => ("translationInput", v),
    };
    let v = match v {
        InputValue::Generic(s) => json!(["generic", s]),
        InputValue::Specific(p) => json!(["specific", party(p)]),
        InputValue::Unknown(u) => unknown(u),
    };
    json!([name, v])
}

fn refer(r: &Refer) -> Json {
    match r {
        Refer::Sip(h) => json!(["sip", h]),
        Refer::H323(o) => json!(["h323", hex(o)]),
        Refer::Unknown(u) => unknown(u),
    }
}

fn address_info(a: &AddressInfo) -> Json {
    match a {
        AddressInfo::Generic(g) => json!([
            "generic",
            g.iter()
                .map(|g| json!({ "address": party(&g.address), "expirationPeriod": g.expiration_period }))
                .collect::<Vec<_>>()
        ]),
        AddressInfo::Sip(h) => json!(["sip", h]),
        AddressInfo::Unknown(u) => unknown(u),
    }
}

/// The header components, `iap` being the message's name for the system id.
fn header(h: &LaesHeader, iap: &str) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("caseId".into(), json!(h.case_id.as_str()));
    opt(&mut m, iap, s(&h.iap_system_id));
    m.insert("timestamp".into(), gtime(&h.timestamp));
    m
}

/// Adds the components every call message may end with.
fn tail(
    m: &mut Map<String, Json>,
    p: &Option<ProtocolSpecificParameters>,
    sig: &Option<Vec<EncapsulatedSignalingMessage>>,
) {
    opt(m, "protocolSpecificParameters", p.as_ref().map(psp));
    opt(m, "signalingMsg", sig.as_deref().map(signaling));
}

/// Our message in pycrate's shape: `[alternative, value]`.
pub fn message(msg: &LaesMessage) -> Json {
    let h = |h: &LaesHeader| header(h, "iAPSystemId");
    let om = |v: &Option<MediaInformation>| v.as_ref().map(media);
    let op = |v: &Option<PartyIdentity>| v.as_ref().map(party);
    let (name, body): (&str, Json) = match msg {
        LaesMessage::Answer(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "answering", op(&a.answering));
            opt(&mut m, "location", a.location.as_ref().map(location));
            opt(&mut m, "answeringMedia", om(&a.answering_media));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("answer", Json::Object(m))
        }
        LaesMessage::CcClose(a) => {
            let mut m = h(&a.header);
            m.insert(
                "contentIdentifier".into(),
                content_id(&a.content_identifier),
            );
            m.insert(
                "deliveryIdentifier".into(),
                delivery(&a.delivery_identifier),
            );
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("ccClose", Json::Object(m))
        }
        LaesMessage::CcOpen(a) => {
            let mut m = h(&a.header);
            m.insert(
                "contentIdentifier".into(),
                content_id(&a.content_identifier),
            );
            m.insert(
                "deliveryIdentifier".into(),
                delivery(&a.delivery_identifier),
            );
            let f = match &a.cc_delivery_format {
                CcDeliveryFormat::CcApdu(oid) => json!(["cc-APDU", oid.arcs()]),
                CcDeliveryFormat::Scte(s) => json!(["scte", s]),
                CcDeliveryFormat::Unknown(u) => unknown(u),
            };
            m.insert("ccDeliveryFormat".into(), f);
            opt(&mut m, "subjectMedia", om(&a.subject_media));
            opt(&mut m, "associateMedia", om(&a.associate_media));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("ccOpen", Json::Object(m))
        }
        LaesMessage::Change(a) => {
            let mut m = h(&a.header);
            m.insert(
                "previous".into(),
                json!({ "call-identities": calls(&a.previous.call_identities) }),
            );
            let mut r = Map::new();
            r.insert(
                "call-identities".into(),
                calls(&a.resulting.call_identities),
            );
            opt(
                &mut r,
                "deliveryIdentifier",
                a.resulting.delivery_identifier.as_ref().map(delivery),
            );
            m.insert("resulting".into(), Json::Object(r));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("change", Json::Object(m))
        }
        LaesMessage::Origination(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "calling", op(&a.calling));
            opt(&mut m, "called", op(&a.called));
            m.insert("input".into(), input(&a.input));
            opt(&mut m, "location", a.location.as_ref().map(location));
            opt(&mut m, "transitCarrierId", s(&a.transit_carrier_id));
            opt(&mut m, "subjectMedia", om(&a.subject_media));
            m.insert("originationCause".into(), json!(a.origination_cause));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            let forked = a.forked_calls.as_ref().map(|f| {
                Json::Array(
                    f.iter()
                        .map(|f| json!({ "forkedCallID": call(&f.forked_call_id), "calledParty": party(&f.called_party) }))
                        .collect(),
                )
            });
            opt(&mut m, "forkedCalls", forked);
            ("origination", Json::Object(m))
        }
        LaesMessage::Null6(()) => ("null-6", json!(0)),
        LaesMessage::Redirection(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "newCallId", a.new_call_id.as_ref().map(call));
            opt(&mut m, "redirectedFrom", op(&a.redirected_from));
            opt(&mut m, "redirectedTo", op(&a.redirected_to));
            opt(&mut m, "transitCarrierId", s(&a.transit_carrier_id));
            opt(&mut m, "subjectMedia", om(&a.subject_media));
            opt(&mut m, "associateMedia", om(&a.associate_media));
            opt(
                &mut m,
                "visitedSystemIdentity",
                s(&a.visited_system_identity),
            );
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("redirection", Json::Object(m))
        }
        LaesMessage::Release(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "location", a.location.as_ref().map(location));
            opt(&mut m, "cause", a.cause.as_ref().map(cause));
            opt(&mut m, "contactAddresses", op(&a.contact_addresses));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("release", Json::Object(m))
        }
        LaesMessage::ServingSystem(a) => {
            let mut m = h(&a.header);
            opt(&mut m, "systemIdentity", s(&a.system_identity));
            opt(&mut m, "networkAddress", s(&a.network_address));
            opt(&mut m, "requestId", a.request_id.as_ref().map(call));
            opt(
                &mut m,
                "registrationType",
                a.registration_type.map(|t| json!(t.asn1_name())),
            );
            opt(&mut m, "registering", op(&a.registering));
            opt(&mut m, "requesting", op(&a.requesting));
            opt(&mut m, "registrar", op(&a.registrar));
            opt(
                &mut m,
                "requestAddressInfo",
                a.request_address_info.as_ref().map(address_info),
            );
            opt(
                &mut m,
                "responseAddressInfo",
                a.response_address_info.as_ref().map(address_info),
            );
            opt(
                &mut m,
                "failureReason",
                a.failure_reason.as_ref().map(cause),
            );
            let exp = a.expiration_period.as_ref().map(|e| match e {
                ExpirationPeriod::Generic(i) => json!(["generic", i]),
                ExpirationPeriod::Sip(h) => json!(["sip", h]),
                ExpirationPeriod::Unknown(u) => unknown(u),
            });
            opt(&mut m, "expirationPeriod", exp);
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("servingSystem", Json::Object(m))
        }
        LaesMessage::TermAttempt(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            m.insert("calling".into(), party(&a.calling));
            opt(&mut m, "called", op(&a.called));
            opt(&mut m, "location", a.location.as_ref().map(location));
            opt(&mut m, "associateMedia", om(&a.associate_media));
            let r = a.redirected_from_info.as_ref().map(|r| {
                let mut x = Map::new();
                opt(&mut x, "lastRedirecting", op(&r.last_redirecting));
                opt(&mut x, "originalCalled", op(&r.original_called));
                opt(
                    &mut x,
                    "numRedirections",
                    r.num_redirections.map(|n| json!(n)),
                );
                Json::Object(x)
            });
            opt(&mut m, "redirectedFromInfo", r);
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("termAttempt", Json::Object(m))
        }
        LaesMessage::ConnTest(a) => {
            let mut m = Map::new();
            opt(
                &mut m,
                "caseId",
                a.case_id.as_ref().map(|c| json!(c.as_str())),
            );
            opt(&mut m, "iAPSystemId", s(&a.iap_system_id));
            m.insert("timestamp".into(), gtime(&a.timestamp));
            opt(&mut m, "memo", s(&a.memo));
            ("connTest", Json::Object(m))
        }
        LaesMessage::ConfPartyChange(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), calls(&a.call_id));
            opt(
                &mut m,
                "communicatingParties",
                parties(&a.communicating_parties),
            );
            opt(&mut m, "removedParties", parties(&a.removed_parties));
            opt(&mut m, "joinedParties", parties(&a.joined_parties));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("confPartyChange", Json::Object(m))
        }
        LaesMessage::Connection(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), calls(&a.call_id));
            opt(&mut m, "connectedParties", parties(&a.connected_parties));
            opt(&mut m, "newParties", parties(&a.new_parties));
            opt(&mut m, "connectedMedia", om(&a.connected_media));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("connection", Json::Object(m))
        }
        LaesMessage::ConnectionBreak(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), calls(&a.call_id));
            opt(&mut m, "removedParties", parties(&a.removed_parties));
            opt(&mut m, "remainingParties", parties(&a.remaining_parties));
            opt(&mut m, "droppedParties", parties(&a.dropped_parties));
            opt(&mut m, "suspendedMedia", om(&a.suspended_media));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("connectionBreak", Json::Object(m))
        }
        LaesMessage::DialedDgtExtrn(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            m.insert("digits".into(), json!(a.digits));
            tail(&mut m, &a.protocol_specific_parameters, &None);
            ("dialedDgtExtrn", Json::Object(m))
        }
        LaesMessage::NetworkSignal(a) => {
            let mut m = h(&a.header);
            opt(&mut m, "callId", a.call_id.as_ref().map(call));
            opt(&mut m, "signaledToPartyId", op(&a.signaled_to_party_id));
            opt(
                &mut m,
                "subjectContactAddresses",
                op(&a.subject_contact_addresses),
            );
            opt(
                &mut m,
                "associateContactAddresses",
                op(&a.associate_contact_addresses),
            );
            opt(&mut m, "associateMedia", om(&a.associate_media));
            opt(
                &mut m,
                "alertingSignal",
                a.alerting_signal.map(|x| json!(x.asn1_name())),
            );
            opt(
                &mut m,
                "subjectAudibleSignal",
                a.subject_audible_signal.map(|x| json!(x.asn1_name())),
            );
            let d = a.terminal_display_info.as_ref().map(|d| {
                let mut x = Map::new();
                for (k, v) in [
                    ("generalDisplay", &d.general_display),
                    ("calledNumber", &d.called_number),
                    ("callingNumber", &d.calling_number),
                    ("callingName", &d.calling_name),
                    ("originalCalledNumber", &d.original_called_number),
                    ("lastRedirectingNumber", &d.last_redirecting_number),
                    ("redirectingName", &d.redirecting_name),
                    ("redirectingReason", &d.redirecting_reason),
                    ("messageWaitingNotif", &d.message_waiting_notif),
                ] {
                    opt(&mut x, k, s(v));
                }
                Json::Object(x)
            });
            opt(&mut m, "terminalDisplayInfo", d);
            opt(&mut m, "other", s(&a.other));
            opt(&mut m, "refer", a.refer.as_ref().map(refer));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("networkSignal", Json::Object(m))
        }
        LaesMessage::SubjectSignal(a) => {
            let mut m = h(&a.header);
            opt(&mut m, "callId", a.call_id.as_ref().map(call));
            opt(&mut m, "signalingPartyId", op(&a.signaling_party_id));
            opt(&mut m, "signaledPartyId", op(&a.signaled_party_id));
            m.insert("input".into(), input(&a.input));
            opt(&mut m, "subjectMedia", om(&a.subject_media));
            let mut x = Map::new();
            opt(&mut x, "switchhookFlash", s(&a.signal.switchhook_flash));
            opt(&mut x, "dialedDigits", s(&a.signal.dialed_digits));
            opt(&mut x, "featureKey", s(&a.signal.feature_key));
            opt(
                &mut x,
                "otherSignalingInformation",
                s(&a.signal.other_signaling_information),
            );
            opt(&mut x, "refer", a.signal.refer.as_ref().map(refer));
            m.insert("signal".into(), Json::Object(x));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("subjectSignal", Json::Object(m))
        }
        LaesMessage::DirectSignalReporting(a) => {
            let mut m = h(&a.header);
            m.insert("correlationID".into(), hex(&a.correlation_id));
            tail(
                &mut m,
                &a.protocol_specific_parameters,
                &Some(a.signaling_msg.clone()),
            );
            ("directSignalReporting", Json::Object(m))
        }
        LaesMessage::MediaAndAddressReporting(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "subjectMedia", om(&a.subject_media));
            opt(
                &mut m,
                "associateMedia",
                a.associate_media
                    .as_ref()
                    .map(|v| Json::Array(v.iter().map(media).collect())),
            );
            opt(
                &mut m,
                "redirectedToPartyMedia",
                om(&a.redirected_to_party_media),
            );
            opt(
                &mut m,
                "subjectContactAddresses",
                op(&a.subject_contact_addresses),
            );
            opt(
                &mut m,
                "associateContactAddresses",
                op(&a.associate_contact_addresses),
            );
            opt(
                &mut m,
                "redirectedToPartyContactAddresses",
                op(&a.redirected_to_party_contact_addresses),
            );
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("mediaAndAddressReporting", Json::Object(m))
        }
        LaesMessage::CcChange(a) => {
            let mut m = h(&a.header);
            m.insert(
                "contentIdentifier".into(),
                content_id(&a.content_identifier),
            );
            m.insert(
                "deliveryIdentifier".into(),
                delivery(&a.delivery_identifier),
            );
            opt(&mut m, "subjectMedia", om(&a.subject_media));
            opt(&mut m, "associateMedia", om(&a.associate_media));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("ccChange", Json::Object(m))
        }
        LaesMessage::CcUnavailable(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "unavailabilityReason", s(&a.unavailability_reason));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("ccUnavailable", Json::Object(m))
        }
        LaesMessage::SurveillanceStatus(a) => {
            let mut m = header(&a.header, "reportingSystemId");
            m.insert(
                "statusEventType".into(),
                json!(a.status_event_type.asn1_name()),
            );
            m.insert("currentStatus".into(), json!(a.current_status.asn1_name()));
            ("surveillanceStatus", Json::Object(m))
        }
        LaesMessage::FeatureManagement(a) => {
            let mut m = h(&a.header);
            opt(&mut m, "subscriberId", op(&a.subscriber_id));
            m.insert("featureId".into(), json!(a.feature_id));
            m.insert(
                "managementType".into(),
                json!(a.management_type.asn1_name()),
            );
            opt(&mut m, "activationInfo", s(&a.activation_info));
            opt(&mut m, "failureReason", s(&a.failure_reason));
            ("featureManagement", Json::Object(m))
        }
        LaesMessage::UuContent(a) => {
            let mut m = h(&a.header);
            m.insert("callId".into(), call(&a.call_id));
            opt(&mut m, "content", a.content.as_ref().map(psp));
            tail(&mut m, &a.protocol_specific_parameters, &a.signaling_msg);
            ("uuContent", Json::Object(m))
        }
        LaesMessage::Unknown(u) => return unknown(u),
    };
    json!([name, body])
}

/// Our `LAESProtocol` in pycrate's shape.
pub fn protocol(p: &LaesProtocol) -> Json {
    match p {
        LaesProtocol::Enhanced {
            protocol_identifier,
            message: m,
        } => json!(["enhancedProtocol", {
            "protocolIdentifier": protocol_identifier.arcs(),
            "laesMessage": message(m),
        }]),
        LaesProtocol::Plain(m) => json!(["laesMessage", message(m)]),
    }
}

/// Every message kind, with most of its components, as the suite would fill them for SIP.
fn messages() -> Vec<(&'static str, LaesMessage)> {
    let case = CaseIdentity::new("LIID-0042-ABCDEFGHIJKLMNO").expect("25 characters");
    let h = |i: u32| LaesHeader {
        case_id: case.clone(),
        iap_system_id: Some("SBC-WEST-2".into()),
        timestamp: GeneralizedTime::from_timestamp(time(1_709_528_760 + u64::from(i), i * 1000)),
    };
    let id = || CallIdentity {
        main: "3c26700857f0@192.0.2.10".into(),
        leg: Some("2".into()),
    };
    let alice = || PartyIdentity {
        uri: Some(vec![
            "sip:alice@example.com".into(),
            "tel:+15551230001".into(),
        ]),
        sip_header: Some(vec!["From: <sip:alice@example.com>;tag=1928301774".into()]),
        ..PartyIdentity::default()
    };
    let bob = || PartyIdentity {
        uri: Some(vec!["sip:bob@example.net".into()]),
        dn: Some("5551230002".into()),
        ip_address: Some(li_asn1::atis::ias::IpAddress::from_ip_addr(
            [198, 51, 100, 20].into(),
        )),
        ..PartyIdentity::default()
    };
    let full = || PartyIdentity {
        esn: Some("ABCDEF01".into()),
        imei: Some("490154203237518".into()),
        tei: Some("tei-1".into()),
        spid: Some("spid-123".into()),
        imsi: Some("310150123456789".into()),
        min: Some("5551230003".into()),
        dn: Some("5551230003".into()),
        user_provided: Some("up".into()),
        appearance_id: Some("app-1".into()),
        calling_card_num: Some("4111".into()),
        ip_address: Some(li_asn1::atis::ias::IpAddress::from_ip_addr(
            "2001:db8::20".parse().expect("address"),
        )),
        x121: Some("31340".into()),
        trunk_id: Some("trunk-7".into()),
        subaddress: Some(vec![0x50, 0x01]),
        generic_address: Some(vec![VisibleString("addr-1".into())]),
        generic_digits: Some(vec![VisibleString("123".into())]),
        generic_name: Some(vec!["Zoë".into()]),
        port: Some("5060".into()),
        context: Some("ctx".into()),
        isdn_high_layer: Some(vec![0x91, 0x81]),
        isdn_low_layer: Some(vec![0x88, 0x90]),
        uri: Some(vec!["sip:carol@example.org".into()]),
        sip_header: Some(vec!["Contact: <sip:carol@192.0.2.30>".into()]),
        nai: Some("carol@example.org".into()),
        mac802: Some("00:11:22:33:44:55".into()),
        fqdn: Some("carol.example.org".into()),
        ..PartyIdentity::default()
    };
    let sdp = "v=0\r\no=bob 2 2 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\n";
    let md = || MediaInformation {
        bearer_capability: Some(BearerCapability::Speech),
        characteristics: Some(MediaCharacteristics::Sdp(sdp.into())),
        status: Some(MediaStatus::Granted),
    };
    let md2 = || MediaInformation {
        bearer_capability: Some(BearerCapability::BearerCapInfoElement(vec![0x80, 0x90])),
        characteristics: Some(MediaCharacteristics::H323Media(H323Media {
            parameter_type: H323MediaParameterType::FastStart,
            parameter: vec![1, 2, 3],
        })),
        status: Some(MediaStatus::Relayed),
    };
    let md3 = || MediaInformation {
        bearer_capability: Some(BearerCapability::F3100HzAudio),
        characteristics: Some(MediaCharacteristics::Other(OtherMedia {
            media_type: ObjectIdentifier::new(&[1, 3, 6, 1, 4, 1, 99_999, 1]).expect("oid"),
            value: vec![0xca, 0xfe],
        })),
        status: None,
    };
    let p = || {
        Some(ProtocolSpecificParameters::Sip(SipParameters {
            sip_header: Some(vec![
                "Call-ID: 3c26700857f0@192.0.2.10".into(),
                "CSeq: 1 INVITE".into(),
            ]),
            sip_body: Some(SipBody {
                header: vec!["Content-Type: application/sdp".into()],
                contents: sdp.as_bytes().to_vec(),
            }),
        }))
    };
    let sig = || {
        Some(vec![EncapsulatedSignalingMessage {
            signaling_prot: "SIP".into(),
            sig_msg: b"INVITE sip:bob@example.net SIP/2.0\r\nCall-ID: 3c26700857f0@192.0.2.10\r\nContent-Length: 0\r\n\r\n".to_vec(),
        }])
    };
    let corr = || ContentIdentifier::CorrelationId(vec![0, 0, 1, 7]);
    let ccc = |c: CccIdentity| DeliveryIdentifier::CccId(c);
    let loc = || Location {
        location_type: "civic".into(),
        location: "1 Main St".into(),
    };
    let sip_cause = |c: &str| Cause {
        signaling_type: "SIP".into(),
        cause: Some(ParameterFormat::Sip(vec![c.into()])),
    };
    vec![
        (
            "origination",
            LaesMessage::Origination(Origination {
                header: h(1),
                call_id: id(),
                calling: Some(alice()),
                called: Some(bob()),
                input: Input::UserInput(InputValue::Specific(bob())),
                location: Some(loc()),
                transit_carrier_id: Some("0288".into()),
                subject_media: Some(md()),
                origination_cause: "normal".into(),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
                forked_calls: Some(vec![ForkedCallInformation {
                    forked_call_id: CallIdentity {
                        main: "3c26700857f0@192.0.2.10".into(),
                        leg: Some("3".into()),
                    },
                    called_party: bob(),
                }]),
            }),
        ),
        (
            "term-attempt",
            LaesMessage::TermAttempt(TerminationAttempt {
                header: h(2),
                call_id: id(),
                calling: alice(),
                called: Some(bob()),
                location: Some(loc()),
                associate_media: Some(md()),
                redirected_from_info: Some(RedirectedFromInformation {
                    last_redirecting: Some(bob()),
                    original_called: Some(full()),
                    num_redirections: Some(100),
                }),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "answer",
            LaesMessage::Answer(Answer {
                header: h(3),
                call_id: id(),
                answering: Some(bob()),
                location: Some(loc()),
                answering_media: Some(md2()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "redirection",
            LaesMessage::Redirection(Redirection {
                header: h(4),
                call_id: id(),
                new_call_id: Some(CallIdentity {
                    main: "new@192.0.2.10".into(),
                    leg: None,
                }),
                redirected_from: Some(bob()),
                redirected_to: Some(PartyIdentity::from_uris(["sip:voicemail@example.net"])),
                transit_carrier_id: Some("0288123".into()),
                subject_media: Some(md()),
                associate_media: Some(md3()),
                visited_system_identity: Some("visited-1".into()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "release",
            LaesMessage::Release(Release {
                header: h(5),
                call_id: id(),
                location: Some(loc()),
                cause: Some(sip_cause("Reason: Q.850;cause=16")),
                contact_addresses: Some(alice()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "serving-system",
            LaesMessage::ServingSystem(ServingSystem {
                header: h(6),
                system_identity: Some("REG-1".into()),
                network_address: Some("192.0.2.1".into()),
                request_id: Some(CallIdentity {
                    main: "reg-1@192.0.2.10".into(),
                    leg: None,
                }),
                registration_type: Some(AddressRegistrationType::RegistrationAndDeregistration),
                registering: Some(alice()),
                requesting: Some(alice()),
                registrar: Some(PartyIdentity {
                    fqdn: Some("registrar.example.com".into()),
                    ..PartyIdentity::default()
                }),
                request_address_info: Some(AddressInfo::Sip(vec![
                    "Contact: <sip:alice@192.0.2.10>".into(),
                ])),
                response_address_info: Some(AddressInfo::Generic(vec![Generic {
                    address: alice(),
                    expiration_period: 3600,
                }])),
                failure_reason: Some(Cause {
                    signaling_type: "SIP".into(),
                    cause: Some(ParameterFormat::Generic("none".into())),
                }),
                expiration_period: Some(ExpirationPeriod::Generic(3600)),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "media-and-address-reporting",
            LaesMessage::MediaAndAddressReporting(MediaAndAddressReporting {
                header: h(7),
                call_id: id(),
                subject_media: Some(md()),
                associate_media: Some(vec![md(), md3()]),
                redirected_to_party_media: Some(md()),
                subject_contact_addresses: Some(alice()),
                associate_contact_addresses: Some(bob()),
                redirected_to_party_contact_addresses: Some(bob()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "cc-open",
            LaesMessage::CcOpen(CcOpen {
                header: h(8),
                content_identifier: corr(),
                delivery_identifier: ccc(CccIdentity::SepCccPair {
                    xmit: "00000107".into(),
                    recv: "00000108".into(),
                }),
                cc_delivery_format: CcDeliveryFormat::CcApdu(laes_cc_oid()),
                subject_media: Some(md()),
                associate_media: Some(md()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "cc-open-address",
            LaesMessage::CcOpen(CcOpen {
                header: h(9),
                content_identifier: ContentIdentifier::CallId(id()),
                delivery_identifier: DeliveryIdentifier::CcAddress(CcAddress {
                    lea_ip_address: li_asn1::atis::ias::IpAddress::from_ip_addr(
                        [203, 0, 113, 9].into(),
                    ),
                    lea_port_number: 40_000,
                }),
                cc_delivery_format: CcDeliveryFormat::Scte("SCTE-24".into()),
                subject_media: None,
                associate_media: None,
                protocol_specific_parameters: None,
                signaling_msg: None,
            }),
        ),
        (
            "cc-change",
            LaesMessage::CcChange(CcChange {
                header: h(10),
                content_identifier: corr(),
                delivery_identifier: ccc(CccIdentity::IndXmitCcc("00000109".into())),
                subject_media: Some(md()),
                associate_media: Some(md2()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "cc-close",
            LaesMessage::CcClose(CcClose {
                header: h(11),
                content_identifier: corr(),
                delivery_identifier: ccc(CccIdentity::CombCcc("00000107".into())),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "cc-close-ind",
            LaesMessage::CcClose(CcClose {
                header: h(12),
                content_identifier: corr(),
                delivery_identifier: ccc(CccIdentity::IndRecvCcc("00000110".into())),
                protocol_specific_parameters: None,
                signaling_msg: None,
            }),
        ),
        (
            "cc-unavailable",
            LaesMessage::CcUnavailable(CcUnavailable {
                header: h(13),
                call_id: id(),
                unavailability_reason: Some("media encrypted end to end".into()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "surveillance-status",
            LaesMessage::SurveillanceStatus(SurveillanceStatus {
                header: h(14),
                status_event_type: SurveillanceStatusEventType::Deactivation,
                current_status: CurrentSurveillanceStatus::Inactive,
            }),
        ),
        (
            "conn-test",
            LaesMessage::ConnTest(ConnectionTest {
                case_id: None,
                iap_system_id: Some("MEDIATOR-1".into()),
                timestamp: h(15).timestamp,
                memo: Some("keepalive 7".into()),
            }),
        ),
        (
            "conn-test-case",
            LaesMessage::ConnTest(ConnectionTest {
                case_id: Some(case.clone()),
                iap_system_id: None,
                timestamp: h(16).timestamp,
                memo: None,
            }),
        ),
        (
            "direct-signal-reporting",
            LaesMessage::DirectSignalReporting(DirectSignalReporting {
                header: h(17),
                correlation_id: vec![0, 0, 1, 7],
                protocol_specific_parameters: p(),
                signaling_msg: sig().unwrap_or_default(),
            }),
        ),
        (
            "change",
            LaesMessage::Change(Change {
                header: h(18),
                previous: ChangePrevious {
                    call_identities: vec![
                        id(),
                        CallIdentity {
                            main: "other@192.0.2.10".into(),
                            leg: None,
                        },
                    ],
                },
                resulting: ChangeResulting {
                    call_identities: vec![CallIdentity {
                        main: "merged@192.0.2.10".into(),
                        leg: None,
                    }],
                    delivery_identifier: Some(ccc(CccIdentity::IndCcc("00000111".into()))),
                },
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        ("null-6", LaesMessage::Null6(())),
        (
            "conf-party-change",
            LaesMessage::ConfPartyChange(ConfPartyChange {
                header: h(19),
                call_id: vec![id()],
                communicating_parties: Some(vec![alice(), bob()]),
                removed_parties: Some(vec![full()]),
                joined_parties: Some(vec![bob()]),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "connection",
            LaesMessage::Connection(Connection {
                header: h(20),
                call_id: vec![id()],
                connected_parties: Some(vec![alice()]),
                new_parties: Some(vec![bob()]),
                connected_media: Some(md()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "connection-break",
            LaesMessage::ConnectionBreak(ConnectionBreak {
                header: h(21),
                call_id: vec![id()],
                removed_parties: Some(vec![bob()]),
                remaining_parties: Some(vec![alice()]),
                dropped_parties: Some(vec![full()]),
                suspended_media: Some(md()),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "dialed-digit-extraction",
            LaesMessage::DialedDgtExtrn(DialedDigitExtraction {
                header: h(22),
                call_id: id(),
                digits: "1234#".into(),
                protocol_specific_parameters: p(),
            }),
        ),
        (
            "network-signal",
            LaesMessage::NetworkSignal(NetworkSignal {
                header: h(23),
                call_id: Some(id()),
                signaled_to_party_id: Some(alice()),
                subject_contact_addresses: Some(alice()),
                associate_contact_addresses: Some(bob()),
                associate_media: Some(md()),
                alerting_signal: Some(AlertingSignal::BargeInTone),
                subject_audible_signal: Some(AudibleSignal::AuthenticationFailTone),
                terminal_display_info: Some(TerminalDisplayInfo {
                    general_display: Some("Call from Bob".into()),
                    called_number: Some("5551230001".into()),
                    calling_number: Some("5551230002".into()),
                    calling_name: Some("Bob".into()),
                    original_called_number: Some("5551230009".into()),
                    last_redirecting_number: Some("5551230008".into()),
                    redirecting_name: Some("Carol".into()),
                    redirecting_reason: Some("busy".into()),
                    message_waiting_notif: Some("2 new".into()),
                }),
                other: Some("other signal".into()),
                refer: Some(Refer::Sip(vec!["Refer-To: <sip:carol@example.org>".into()])),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "subject-signal",
            LaesMessage::SubjectSignal(SubjectSignal {
                header: h(24),
                call_id: Some(id()),
                signaling_party_id: Some(alice()),
                signaled_party_id: Some(bob()),
                input: Input::TranslationInput(InputValue::Generic("*72".into())),
                subject_media: Some(md()),
                signal: Signal {
                    switchhook_flash: Some("flash".into()),
                    dialed_digits: Some("*72".into()),
                    feature_key: Some("F1".into()),
                    other_signaling_information: Some("hold".into()),
                    refer: Some(Refer::H323(vec![1, 2, 3])),
                },
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
        (
            "feature-management",
            LaesMessage::FeatureManagement(FeatureManagement {
                header: h(25),
                subscriber_id: Some(alice()),
                feature_id: "call-forward-unconditional".into(),
                management_type: FeatureManagementType::Deactivation,
                activation_info: Some("to sip:voicemail@example.net".into()),
                failure_reason: Some("none".into()),
            }),
        ),
        (
            "uu-content",
            LaesMessage::UuContent(UuContent {
                header: h(26),
                call_id: id(),
                content: Some(ProtocolSpecificParameters::Sip(SipParameters {
                    sip_header: None,
                    sip_body: Some(SipBody {
                        header: vec!["Content-Type: text/plain".into()],
                        contents: b"hello".to_vec(),
                    }),
                })),
                protocol_specific_parameters: p(),
                signaling_msg: sig(),
            }),
        ),
    ]
}

pub fn encode(dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for (i, (name, m)) in messages().into_iter().enumerate() {
        // every third message in the plain form, the others under the module's OID
        let p = if i % 3 == 2 {
            LaesProtocol::Plain(m)
        } else {
            LaesProtocol::Enhanced {
                protocol_identifier: laes_oid(),
                message: m,
            }
        };
        emit(dir, "atis-t1678", name, &p.encode(), &protocol(&p))?;
        n += 1;
    }

    let packet: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let corr = ContentIdentifier::CorrelationId(vec![0, 0, 1, 7]);
    let typed = CcApdu {
        delivery_header: Some(CcDeliveryHeader {
            correlation_info: CorrelationInfo {
                case_id: None,
                iap_id: None,
                content_identifier: ContentIdentifier::CallId(CallIdentity {
                    main: "3c26700857f0@192.0.2.10".into(),
                    leg: None,
                }),
            },
            time_stamp: None,
            packet_direction: None,
            sequence_number: None,
        }),
        payload: packet[..44].to_vec(),
    };
    emit(
        dir,
        "atis-t1678-cc",
        "cc-apdu-call-id",
        &typed.encode(),
        &cc(&typed),
    )?;
    let bare = CcApdu {
        delivery_header: None,
        payload: packet[..20].to_vec(),
    };
    emit(
        dir,
        "atis-t1678-cc",
        "cc-apdu-bare",
        &bare.encode(),
        &cc(&bare),
    )?;
    n += 2;

    let enc = CcApduEncoder::new("LIID-0042-ABCDEFGHIJKLMNO", Some("SBC-WEST-2"), &corr);
    for (i, (seq, us, dir_, len)) in [
        (0i64, 0u32, PacketDirection::FromSubject, 44usize),
        (1, 678_000, PacketDirection::ToSubject, 172),
        (70_000, 678_901, PacketDirection::FromSubject, 300),
    ]
    .into_iter()
    .enumerate()
    {
        let mut out = Vec::new();
        let t = time(1_709_528_786, us);
        enc.encode(seq, t, dir_, &packet[..len], &mut out);
        let meant = CcApdu {
            delivery_header: Some(CcDeliveryHeader {
                correlation_info: CorrelationInfo {
                    case_id: Some("LIID-0042-ABCDEFGHIJKLMNO".into()),
                    iap_id: Some("SBC-WEST-2".into()),
                    content_identifier: corr.clone(),
                },
                time_stamp: Some(GeneralizedTime::from_timestamp(t)),
                packet_direction: Some(dir_),
                sequence_number: Some(seq),
            }),
            payload: packet[..len].to_vec(),
        };
        emit(
            dir,
            "atis-t1678-cc",
            &format!("cc-apdu-encoder-{i}"),
            &out,
            &cc(&meant),
        )?;
        n += 1;
    }
    Ok(n)
}
