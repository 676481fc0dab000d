//! Our typed PS-PDU values as JSON in the shape pycrate's `get_val()` gives (see
//! conformance/README.md): SEQUENCE -> object of present fields, CHOICE -> [name, value],
//! ENUMERATED -> name, OCTET STRING -> hex, OID -> [arcs], GeneralizedTime -> 8 text parts,
//! NULL -> 0.

use li_asn1::ipaccess::{FramedRoute, IpIriIdType, OtherTargetIdentifier};
use li_asn1::ipmm::{
    AdditionalSignalling, H323MessageContent, IpmmCc, IpmmIri, IpmmIriContents, SipMessage,
};
use li_asn1::pdu::{IntegrityCheck, IpAddress, IpValue, MicroSecondTimeStamp, PduOption};
use li_asn1::{
    CcContents, CcPayload, GeneralizedTime, IpCcContents, IpIriContents, IriContents, IriPayload,
    Opaque, Payload, PsHeader, PsPdu, TriPayload, UnknownAlternative,
};
use serde_json::{Map, Value, json};

pub fn pdu(p: &PsPdu) -> Value {
    json!({ "pSHeader": header(&p.header), "payload": payload(&p.payload) })
}

fn hex(b: &[u8]) -> Value {
    Value::String(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn opaque(o: &Opaque) -> Value {
    hex(&o.content)
}

fn unknown(u: &UnknownAlternative) -> Value {
    json!([format!("unknown-[{}]", u.tag_number), opaque(&u.value)])
}

/// An ENUMERATED's name, or its number when this version does not know it.
macro_rules! name {
    ($e:expr) => {
        match $e.asn1_name() {
            Some(n) => json!(n),
            None => json!($e.value()),
        }
    };
}

/// Splits GeneralizedTime text as pycrate does: YYYY MM DD hh [mm [ss]] [fraction] [zone].
pub fn gtime(t: &GeneralizedTime) -> Value {
    let s = t.as_str();
    let (body, zone) = match s.find(['Z', '+', '-']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let (digits, fraction) = match body.find(['.', ',']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let part = |a: usize, b: usize| digits.get(a..b).map(|p| json!(p)).unwrap_or(Value::Null);
    json!([
        part(0, 4),
        part(4, 6),
        part(6, 8),
        part(8, 10),
        part(10, 12),
        part(12, 14),
        fraction,
        zone
    ])
}

fn micro(m: &MicroSecondTimeStamp) -> Value {
    json!({ "seconds": m.seconds, "microSeconds": m.micro_seconds })
}

/// Inserts `value` under `key` when present.
fn opt(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.insert(key.to_owned(), v);
    }
}

fn header(h: &PsHeader) -> Value {
    let mut m = Map::new();
    m.insert("li-psDomainId".into(), json!(h.li_ps_domain_id.arcs()));
    m.insert(
        "lawfulInterceptionIdentifier".into(),
        hex(h.lawful_interception_identifier.as_bytes()),
    );
    opt(
        &mut m,
        "authorizationCountryCode",
        h.authorization_country_code.as_ref().map(|s| json!(s)),
    );
    let ci = &h.communication_identifier;
    let mut ni = Map::new();
    ni.insert(
        "operatorIdentifier".into(),
        hex(&ci.network_identifier.operator_identifier),
    );
    opt(
        &mut ni,
        "networkElementIdentifier",
        ci.network_identifier
            .network_element_identifier
            .as_deref()
            .map(hex),
    );
    opt(
        &mut ni,
        "eTSI671NEID",
        ci.network_identifier.etsi671_neid.as_ref().map(opaque),
    );
    let mut c = Map::new();
    c.insert("networkIdentifier".into(), Value::Object(ni));
    opt(
        &mut c,
        "communicationIdentityNumber",
        ci.communication_identity_number.map(|n| json!(n)),
    );
    opt(
        &mut c,
        "deliveryCountryCode",
        ci.delivery_country_code.as_ref().map(|s| json!(s)),
    );
    opt(
        &mut c,
        "cINExtension",
        ci.cin_extension.as_ref().map(opaque),
    );
    m.insert("communicationIdentifier".into(), Value::Object(c));
    m.insert("sequenceNumber".into(), json!(h.sequence_number));
    opt(&mut m, "timeStamp", h.time_stamp.as_ref().map(gtime));
    opt(
        &mut m,
        "interceptionPointID",
        h.interception_point_id.as_ref().map(|s| json!(s)),
    );
    opt(
        &mut m,
        "microSecondTimeStamp",
        h.micro_second_time_stamp.as_ref().map(micro),
    );
    opt(
        &mut m,
        "timeStampQualifier",
        h.time_stamp_qualifier.map(|q| name!(q)),
    );
    opt(
        &mut m,
        "extendedInterceptionPointID",
        h.extended_interception_point_id.as_deref().map(hex),
    );
    opt(
        &mut m,
        "networkFunctionIdentifier",
        h.network_function_identifier.as_deref().map(hex),
    );
    Value::Object(m)
}

fn payload(p: &Payload) -> Value {
    match p {
        Payload::IriPayloadSequence(items) => {
            json!([
                "iRIPayloadSequence",
                items.iter().map(iri_payload).collect::<Vec<_>>()
            ])
        }
        Payload::CcPayloadSequence(items) => {
            json!([
                "cCPayloadSequence",
                items.iter().map(cc_payload).collect::<Vec<_>>()
            ])
        }
        Payload::TriPayload(t) => json!(["tRIPayload", tri(t)]),
        Payload::Other(u) => unknown(u),
        _ => json!("unmodelled"),
    }
}

fn cc_payload(c: &CcPayload) -> Value {
    let mut m = Map::new();
    opt(
        &mut m,
        "payloadDirection",
        c.payload_direction.map(|d| name!(d)),
    );
    opt(&mut m, "timeStamp", c.time_stamp.as_ref().map(gtime));
    let contents = match &c.cc_contents {
        CcContents::IpCc(ipcc) => {
            let inner = match &ipcc.contents {
                IpCcContents::IpPackets(p) => json!(["iPPackets", hex(p)]),
                IpCcContents::IpTruncatedPacket {
                    truncated_packet,
                    original_length,
                } => {
                    let mut t = Map::new();
                    t.insert("truncatedPacket".into(), hex(truncated_packet));
                    opt(&mut t, "originalLength", original_length.map(|n| json!(n)));
                    json!(["iPTruncatedPacket", t])
                }
                IpCcContents::Other(u) => unknown(u),
                _ => json!("unmodelled"),
            };
            json!(["iPCC", { "iPCCObjId": ipcc.obj_id.arcs(), "iPCCContents": inner }])
        }
        CcContents::IpmmCc(cc) => json!(["iPMMCC", ipmm_cc(cc)]),
        CcContents::Other(u) => unknown(u),
        _ => json!("unmodelled"),
    };
    m.insert("cCContents".into(), contents);
    opt(
        &mut m,
        "microSecondTimeStamp",
        c.micro_second_time_stamp.as_ref().map(micro),
    );
    opt(
        &mut m,
        "timeStampQualifier",
        c.time_stamp_qualifier.map(|q| name!(q)),
    );
    Value::Object(m)
}

fn iri_payload(i: &IriPayload) -> Value {
    let mut m = Map::new();
    opt(&mut m, "iRIType", i.iri_type.map(|t| json!(t.asn1_name())));
    opt(&mut m, "timeStamp", i.time_stamp.as_ref().map(gtime));
    let contents = match &i.iri_contents {
        IriContents::IpIri(iri) => {
            json!(["iPIRI", { "iPIRIObjId": iri.obj_id.arcs(), "iPIRIContents": ipiri(&iri.contents) }])
        }
        IriContents::IpmmIri(iri) => json!(["iPMMIRI", ipmm_iri(iri)]),
        IriContents::Other(u) => unknown(u),
        _ => json!("unmodelled"),
    };
    m.insert("iRIContents".into(), contents);
    opt(
        &mut m,
        "microSecondTimeStamp",
        i.micro_second_time_stamp.as_ref().map(micro),
    );
    opt(
        &mut m,
        "timeStampQualifier",
        i.time_stamp_qualifier.map(|q| name!(q)),
    );
    opt(
        &mut m,
        "sessionDirection",
        i.session_direction.map(|d| name!(d)),
    );
    opt(
        &mut m,
        "payloadDirection",
        i.payload_direction.map(|d| name!(d)),
    );
    Value::Object(m)
}

fn ip_address(a: &IpAddress) -> Value {
    let mut m = Map::new();
    m.insert("iP-type".into(), name!(a.ip_type));
    let v = match &a.ip_value {
        IpValue::Binary(b) => json!(["iPBinaryAddress", hex(b)]),
        IpValue::Text(t) => json!(["iPTextAddress", t]),
        IpValue::Other(u) => unknown(u),
        _ => json!("unmodelled"),
    };
    m.insert("iP-value".into(), v);
    opt(&mut m, "iP-assignment", a.ip_assignment.map(|x| name!(x)));
    opt(
        &mut m,
        "iPv6PrefixLength",
        a.ipv6_prefix_length.map(|n| json!(n)),
    );
    opt(
        &mut m,
        "iPv4SubnetMask",
        a.ipv4_subnet_mask.as_ref().map(|b| hex(b)),
    );
    opt(
        &mut m,
        "iP-NAT-translated",
        a.ip_nat_translated.map(|b| json!(b)),
    );
    Value::Object(m)
}

/// TS 102 232-5 `IPMMCC`.
fn ipmm_cc(c: &IpmmCc) -> Value {
    let mut m = Map::new();
    m.insert("iPMMCCObjId".into(), json!(c.obj_id.arcs()));
    m.insert("mMCCContents".into(), hex(&c.contents));
    opt(&mut m, "frameType", c.frame_type.map(|t| name!(t)));
    opt(
        &mut m,
        "streamIdentifier",
        c.stream_identifier.as_deref().map(hex),
    );
    opt(&mut m, "mMCCprotocol", c.protocol.map(|p| name!(p)));
    Value::Object(m)
}

/// TS 102 232-5 `IPMMIRI`.
fn ipmm_iri(i: &IpmmIri) -> Value {
    let sip = |s: &SipMessage| {
        json!({
            "iPSourceAddress": ip_address(&s.ip_source_address),
            "iPDestinationAddress": ip_address(&s.ip_destination_address),
            "sIPContent": hex(&s.sip_content),
        })
    };
    let contents = match &i.contents {
        IpmmIriContents::OriginalIpmmMessage(m) => json!(["originalIPMMMessage", hex(m)]),
        IpmmIriContents::SipMessage(s) => json!(["sIPMessage", sip(s)]),
        IpmmIriContents::H323Message(h) => {
            let content = match &h.h323_content {
                H323MessageContent::H225Cs(b) => json!(["h225CSMessageContent", hex(b)]),
                H323MessageContent::H225Ras(b) => json!(["h225RASMessageContent", hex(b)]),
                H323MessageContent::H245(b) => json!(["h245MessageContent", hex(b)]),
                H323MessageContent::Generic(b) => json!(["genericMessageContent", hex(b)]),
                H323MessageContent::Other(u) => unknown(u),
                _ => json!("unmodelled"),
            };
            json!(["h323Message", {
                "iPSourceAddress": ip_address(&h.ip_source_address),
                "iPDestinationAddress": ip_address(&h.ip_destination_address),
                "h323Content": content,
            }])
        }
        IpmmIriContents::NationalIpmmIriParameters(p) => {
            json!(["nationalIPMMIRIParameters", { "countryCode": p.country_code }])
        }
        IpmmIriContents::XcapMessage(m) => json!(["xCAPMessage", hex(m)]),
        IpmmIriContents::IriOnlyOriginalIpmmMessage(m) => {
            json!(["iRIOnlyOriginalIPMMMessage", hex(m)])
        }
        IpmmIriContents::IriOnlySipMessage(s) => json!(["iRIOnlySIPMessage", sip(s)]),
        IpmmIriContents::Other(u) => unknown(u),
        _ => json!("unmodelled"),
    };
    let mut m = Map::new();
    m.insert("iPMMIRIObjId".into(), json!(i.obj_id.arcs()));
    m.insert("iPMMIRIContents".into(), contents);
    opt(
        &mut m,
        "targetLocation",
        i.target_location.as_ref().map(opaque),
    );
    opt(
        &mut m,
        "additionalSignalling",
        i.additional_signalling.as_ref().map(|items| {
            items
                .iter()
                .map(|a| match a {
                    AdditionalSignalling::SipHeaderLine(l) => json!(["sipHeaderLine", hex(l)]),
                    AdditionalSignalling::Other(u) => unknown(u),
                    _ => json!("unmodelled"),
                })
                .collect::<Vec<_>>()
                .into()
        }),
    );
    Value::Object(m)
}

fn ipiri(c: &IpIriContents) -> Value {
    let s = |v: &Option<String>| v.as_ref().map(|s| json!(s));
    let mut m = Map::new();
    m.insert("accessEventType".into(), name!(c.access_event_type));
    m.insert("targetUsername".into(), hex(&c.target_username));
    m.insert("internetAccessType".into(), name!(c.internet_access_type));
    m.insert("iPVersion".into(), name!(c.ip_version));
    opt(
        &mut m,
        "targetIPAddress",
        c.target_ip_address.as_ref().map(ip_address),
    );
    opt(&mut m, "targetNetworkID", s(&c.target_network_id));
    opt(&mut m, "targetCPEID", s(&c.target_cpe_id));
    opt(&mut m, "targetLocation", s(&c.target_location));
    opt(&mut m, "pOPPortNumber", c.pop_port_number.map(|n| json!(n)));
    opt(&mut m, "callBackNumber", s(&c.call_back_number));
    opt(&mut m, "startTime", c.start_time.as_ref().map(gtime));
    opt(&mut m, "endTime", c.end_time.as_ref().map(gtime));
    opt(&mut m, "endReason", c.end_reason.map(|r| name!(r)));
    opt(
        &mut m,
        "octetsReceived",
        c.octets_received.map(|n| json!(n)),
    );
    opt(
        &mut m,
        "octetsTransmitted",
        c.octets_transmitted.map(|n| json!(n)),
    );
    opt(&mut m, "rawAAAData", c.raw_aaa_data.as_deref().map(hex));
    opt(
        &mut m,
        "expectedEndTime",
        c.expected_end_time.as_ref().map(gtime),
    );
    opt(&mut m, "pOPPhoneNumber", s(&c.pop_phone_number));
    opt(
        &mut m,
        "pOPIdentifier",
        c.pop_identifier.as_ref().map(|p| match p {
            IpIriIdType::Printable(t) => json!(["printableIDType", t]),
            IpIriIdType::MacAddress(mac) => json!(["macAddressType", hex(mac)]),
            IpIriIdType::IpAddress(a) => json!(["ipAddressType", ip_address(a)]),
            IpIriIdType::Other(u) => unknown(u),
            _ => json!("unmodelled"),
        }),
    );
    opt(
        &mut m,
        "pOPIPAddress",
        c.pop_ip_address.as_ref().map(ip_address),
    );
    opt(
        &mut m,
        "nationalIPIRIParameters",
        c.national_ipiri_parameters
            .as_ref()
            .map(|n| json!({ "countryCode": n.country_code })),
    );
    opt(
        &mut m,
        "additionalIPAddress",
        c.additional_ip_address.as_ref().map(ip_address),
    );
    opt(
        &mut m,
        "authenticationType",
        c.authentication_type.map(|t| name!(t)),
    );
    opt(
        &mut m,
        "otherTargetIdentifiers",
        c.other_target_identifiers.as_ref().map(|ids| {
            ids.iter()
                .map(|id| match id {
                    OtherTargetIdentifier::IpAddress(a) => json!(["iPAddress", ip_address(a)]),
                    OtherTargetIdentifier::Other(u) => unknown(u),
                    _ => json!("unmodelled"),
                })
                .collect::<Vec<_>>()
                .into()
        }),
    );
    opt(&mut m, "location", c.location.as_ref().map(opaque));
    opt(&mut m, "pOPPortID", c.pop_port_id.as_deref().map(hex));
    opt(
        &mut m,
        "framedRoutes",
        c.framed_routes.as_ref().map(|rs| {
            rs.iter()
                .map(|r| match r {
                    FramedRoute::FramedRoute(b) => json!(["framedRoute", hex(b)]),
                    FramedRoute::Other(u) => unknown(u),
                    _ => json!("unmodelled"),
                })
                .collect::<Vec<_>>()
                .into()
        }),
    );
    Value::Object(m)
}

fn options(opts: &[PduOption]) -> Value {
    opts.iter()
        .map(|o| match o {
            PduOption::PduAcknowledgement => json!(["pDUAcknowledgement", 0]),
            PduOption::Other(u) => unknown(u),
            _ => json!("unmodelled"),
        })
        .collect::<Vec<_>>()
        .into()
}

fn integrity(ic: &IntegrityCheck) -> Value {
    let mut m = Map::new();
    m.insert(
        "includedSequenceNumbers".into(),
        json!(ic.included_sequence_numbers),
    );
    m.insert("checkType".into(), name!(ic.check_type));
    opt(&mut m, "dataType", ic.data_type.map(|d| name!(d)));
    m.insert("checkValue".into(), hex(&ic.check_value));
    opt(&mut m, "hashAlgorithm", ic.hash_algorithm.map(|h| name!(h)));
    opt(
        &mut m,
        "signatureAlgorithm",
        ic.signature_algorithm.map(|s| name!(s)),
    );
    Value::Object(m)
}

fn tri(t: &TriPayload) -> Value {
    match t {
        TriPayload::IntegrityCheck(ic) => json!(["integrityCheck", integrity(ic)]),
        TriPayload::TestPdu => json!(["testPDU", 0]),
        TriPayload::PaddingPdu(p) => json!(["paddingPDU", hex(p)]),
        TriPayload::KeepAlive => json!(["keep-alive", 0]),
        TriPayload::KeepAliveResponse => json!(["keep-aliveResponse", 0]),
        TriPayload::FirstSegmentFlag => json!(["firstSegmentFlag", 0]),
        TriPayload::LastSegmentFlag => json!(["lastSegmentFlag", 0]),
        TriPayload::CinReset => json!(["cINReset", 0]),
        TriPayload::OperatorLeaMessage(m) => json!([
            "operatorLeaMessage",
            { "messagePriority": name!(m.message_priority), "message": hex(&m.message) }
        ]),
        TriPayload::OptionRequest(o) => {
            json!(["optionRequest", { "requestedOptions": options(o) }])
        }
        TriPayload::OptionResponse { accepted, declined } => json!([
            "optionResponse",
            { "acceptedOptions": options(accepted), "declinedOptions": options(declined) }
        ]),
        TriPayload::OptionComplete => json!(["optionComplete", 0]),
        TriPayload::PduAcknowledgementRequest => json!(["pDUAcknowledgementRequest", 0]),
        TriPayload::PduAcknowledgementResponse => json!(["pDUAcknowledgementResponse", 0]),
        TriPayload::Other(u) => unknown(u),
        _ => json!("unmodelled"),
    }
}
