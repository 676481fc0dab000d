//! ATIS-1000013 (T1.IAS) vectors: `atis-ias-encode OUTDIR` writes every message kind we
//! encode, as OUTDIR/FAMILY/NAME.ber with NAME.json holding the value meant in pycrate's
//! value shape (see json.rs), FAMILY being the `etsi_asn1.py decode --family` that reads it:
//! `atis-t1ias` (the twelve CmII messages), `atis-t1ias-opt` (the seven optional messages),
//! `atis-t1ias-cc` (IAS-CC-APDU from the typed encoder and from the hot-path
//! `IasCcEncoder`). Step `atis_ias` of run.sh. [`laes`] does the same for ATIS-1000678
//! (`atis-laes-encode`, step `atis_laes`), reusing the helpers here.

pub mod laes;

use std::path::Path;

use li_asn1::atis::IasHeader;
use li_asn1::atis::cmcc_oid;
use li_asn1::atis::ias::*;
use li_asn1::atis::ias_cc::{
    CallIdentity, CcDeliveryHeader, ContentIdentifier, CorrelationInfo, IasCcApdu, IasCcEncoder,
    PacketDirection,
};
use li_asn1::atis::ias_opt::*;
use li_asn1::{GeneralizedTime, ObjectIdentifier, UnknownAlternative};
use serde_json::{Map, Value as Json, json};

use crate::json::gtime;
use crate::time;

fn hex(b: &[u8]) -> Json {
    Json::String(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn unknown(u: &UnknownAlternative) -> Json {
    json!([format!("unknown-[{}]", u.tag_number), hex(&u.value.content)])
}

fn opt(m: &mut Map<String, Json>, key: &str, v: Option<Json>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}

fn header(h: &IasHeader) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("caseId".into(), json!(h.case_id));
    m.insert("iAPSystemId".into(), json!(h.iap_system_id));
    m.insert("timestamp".into(), gtime(&h.timestamp));
    m
}

fn value(v: &Value) -> Json {
    match v {
        Value::StringVs(s) => json!(["stringVS", s]),
        Value::StringUtf8(s) => json!(["stringUTF8", s]),
        Value::Integer(i) => json!(["integer", i]),
        Value::Octets(o) => json!(["octets", hex(o)]),
        Value::Numeric(s) => json!(["numeric", s]),
        Value::Unknown(u) => unknown(u),
    }
}

fn ip(a: &IpAddress) -> Json {
    match a {
        IpAddress::IpV4(o) => json!(["ipV4", hex(o)]),
        IpAddress::IpV6(o) => json!(["ipV6", hex(o)]),
        IpAddress::Unknown(u) => unknown(u),
    }
}

fn ip_info(a: &IpAddressInfo) -> Json {
    let mut m = Map::new();
    m.insert("address".into(), ip(&a.address));
    let alloc = match &a.allocation_method {
        AllocationMethod::Static => json!(["static", 0]),
        AllocationMethod::Dynamic => json!(["dynamic", 0]),
        AllocationMethod::NotKnown => json!(["unknown", 0]),
        AllocationMethod::NotApplicable => json!(["notApplicable", 0]),
        AllocationMethod::Unknown(u) => unknown(u),
    };
    m.insert("allocationMethod".into(), alloc);
    opt(
        &mut m,
        "iPv6FlowLabel",
        a.ipv6_flow_label.as_ref().map(|s| json!(s)),
    );
    opt(&mut m, "prefixLen", a.prefix_len.map(|p| json!(p)));
    Json::Object(m)
}

fn access_method(a: &AccessMethod) -> Json {
    let mut m = Map::new();
    let t = a.access_type.as_ref().map(|t| match t {
        AccessType::DialUp => json!(["dialUp", 0]),
        AccessType::Dsl => json!(["dsl", 0]),
        AccessType::Lan => json!(["lan", 0]),
        AccessType::Cable => json!(["cable", 0]),
        AccessType::WiFi => json!(["wiFi", 0]),
        AccessType::WiMax => json!(["wiMax", 0]),
        AccessType::Other(s) => json!(["other", s]),
        AccessType::Unknown(u) => unknown(u),
    });
    opt(&mut m, "accessType", t);
    opt(
        &mut m,
        "accessEquipmentID",
        a.access_equipment_id.as_ref().map(|s| json!(s)),
    );
    opt(
        &mut m,
        "partOfMultipleLogin",
        a.part_of_multiple_login.then(|| json!(0)),
    );
    Json::Object(m)
}

fn protocol_signal(p: &ProtocolSignal) -> Json {
    let protocol = match &p.protocol {
        Protocol::Radius => json!(["radius", 0]),
        Protocol::Other(s) => json!(["other", s]),
        Protocol::Unknown(u) => unknown(u),
    };
    json!({ "protocol": protocol, "signal": p.signal.iter().map(value).collect::<Vec<_>>() })
}

fn location(l: &Location) -> Json {
    json!({ "locationType": l.location_type, "location": l.location })
}

fn content_id(c: &ContentIdentifier) -> Json {
    match c {
        ContentIdentifier::CorrelationId(o) => json!(["correlationID", hex(o)]),
        ContentIdentifier::CallId(c) => {
            let mut m = Map::new();
            m.insert("main".into(), json!(c.main));
            opt(&mut m, "leg", c.leg.as_ref().map(|s| json!(s)));
            json!(["callID", m])
        }
        ContentIdentifier::Unknown(u) => unknown(u),
    }
}

fn delivery(d: &LeaCmcDelivery) -> Json {
    let id = match &d.delivery_identifier {
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
        DeliveryIdentifier::CcAddress {
            lea_ip_address,
            lea_port_number,
        } => {
            json!(["ccAddress", { "leaIPAddress": ip(lea_ip_address), "leaPortNumber": lea_port_number }])
        }
        DeliveryIdentifier::Unknown(u) => unknown(u),
    };
    let format = match &d.cc_delivery_format {
        CcDeliveryFormat::ScteDatagram => json!(["scteDatagram", 0]),
        CcDeliveryFormat::Atis678Asn1(oid) => json!(["atis-678-ASN1", oid.arcs()]),
        CcDeliveryFormat::IasDatagram => json!(["iasDatagram", 0]),
        CcDeliveryFormat::Unknown(u) => unknown(u),
    };
    json!({
        "contentIdentifier": content_id(&d.content_identifier),
        "deliveryIdentifier": id,
        "ccDeliveryFormat": format,
    })
}

/// `HeaderSet` and `StreamSet` (`count` only in the latter).
fn stream(
    s: &Value,
    a: &IpAddressInfo,
    b: &IpAddressInfo,
    count: Option<i64>,
    sp: &Option<String>,
    dp: &Option<String>,
) -> Json {
    let mut m = Map::new();
    m.insert("streamID".into(), value(s));
    m.insert("sourceIPaddress".into(), ip_info(a));
    m.insert("destinationIPaddress".into(), ip_info(b));
    opt(&mut m, "packetCount", count.map(|c| json!(c)));
    opt(&mut m, "sourcePortNumber", sp.as_ref().map(|s| json!(s)));
    opt(
        &mut m,
        "destinationPortNumber",
        dp.as_ref().map(|s| json!(s)),
    );
    Json::Object(m)
}

/// Our CmII value in pycrate's shape.
pub fn cmii(p: &IasProtocol) -> Json {
    let v = |x: &Value| value(x);
    let ov = |x: &Option<Value>| x.as_ref().map(value);
    let (name, body) = match &p.message {
        IasMessage::AccessAttempt(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(
                &mut o,
                "accessMethod",
                m.access_method.as_ref().map(access_method),
            );
            opt(
                &mut o,
                "networkAccessNodeIdentity",
                ov(&m.network_access_node_identity),
            );
            opt(
                &mut o,
                "protocolSignal",
                m.protocol_signal.as_ref().map(protocol_signal),
            );
            ("access-Attempt", o)
        }
        IasMessage::AccessAccepted(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(
                &mut o,
                "accessMethod",
                m.access_method.as_ref().map(access_method),
            );
            opt(
                &mut o,
                "networkAccessNodeIdentity",
                ov(&m.network_access_node_identity),
            );
            opt(&mut o, "iPAddress", m.ip_address.as_ref().map(ip_info));
            o.insert("accessSessionID".into(), v(&m.access_session_id));
            opt(
                &mut o,
                "accessSessionCharacteristics",
                ov(&m.access_session_characteristics),
            );
            opt(&mut o, "location", m.location.as_ref().map(location));
            opt(
                &mut o,
                "protocolSignal",
                m.protocol_signal.as_ref().map(protocol_signal),
            );
            ("access-Accepted", o)
        }
        IasMessage::AccessFailed(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "iPAddress", m.ip_address.as_ref().map(ip_info));
            opt(
                &mut o,
                "reasonForTermination",
                ov(&m.reason_for_termination),
            );
            opt(
                &mut o,
                "protocolSignal",
                m.protocol_signal.as_ref().map(protocol_signal),
            );
            ("access-Failed", o)
        }
        IasMessage::AccessSessionEnd(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "iPAddress", m.ip_address.as_ref().map(ip_info));
            o.insert("accessSessionID".into(), v(&m.access_session_id));
            opt(
                &mut o,
                "reasonForTermination",
                ov(&m.reason_for_termination),
            );
            opt(
                &mut o,
                "protocolSignal",
                m.protocol_signal.as_ref().map(protocol_signal),
            );
            ("access-Session-End", o)
        }
        IasMessage::AccessRejected(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "iPAddress", m.ip_address.as_ref().map(ip_info));
            opt(
                &mut o,
                "reasonForTermination",
                ov(&m.reason_for_termination),
            );
            opt(
                &mut o,
                "protocolSignal",
                m.protocol_signal.as_ref().map(protocol_signal),
            );
            ("access-Rejected", o)
        }
        IasMessage::AccessSignalingMessageReport(m) => {
            let mut o = header(&m.header);
            opt(&mut o, "accessSessionID", ov(&m.access_session_id));
            let msgs: Vec<Json> = m
                .signaling_msg
                .iter()
                .map(|s| json!({ "messageType": s.message_type.asn1_name(), "message": s.message }))
                .collect();
            o.insert("signalingMsg".into(), json!(msgs));
            ("access-Signaling-Message-Report", o)
        }
        IasMessage::SessionStart(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "accessSessionID", ov(&m.access_session_id));
            o.insert("packetDataSessionID".into(), v(&m.packet_data_session_id));
            o.insert("iPAddress".into(), ip_info(&m.ip_address));
            opt(
                &mut o,
                "accessSessionCharacteristics",
                ov(&m.access_session_characteristics),
            );
            opt(&mut o, "location", m.location.as_ref().map(location));
            opt(
                &mut o,
                "deliveryInformation",
                m.delivery_information.as_ref().map(delivery),
            );
            ("session-Start", o)
        }
        IasMessage::SessionFailed(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "accessSessionID", ov(&m.access_session_id));
            opt(
                &mut o,
                "reasonForTermination",
                ov(&m.reason_for_termination),
            );
            ("session-Failed", o)
        }
        IasMessage::SessionEnd(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "accessSessionID", ov(&m.access_session_id));
            o.insert("packetDataSessionID".into(), v(&m.packet_data_session_id));
            o.insert("iPAddress".into(), ip_info(&m.ip_address));
            opt(
                &mut o,
                "reasonForTermination",
                ov(&m.reason_for_termination),
            );
            ("session-End", o)
        }
        IasMessage::SessionAlreadyEstablished(m) => {
            let mut o = header(&m.header);
            o.insert("subscriberIdentity".into(), v(&m.subscriber_identity));
            opt(&mut o, "accessSessionID", ov(&m.access_session_id));
            o.insert("packetDataSessionID".into(), v(&m.packet_data_session_id));
            o.insert("iPAddress".into(), ip_info(&m.ip_address));
            opt(
                &mut o,
                "accessSessionCharacteristics",
                ov(&m.access_session_characteristics),
            );
            opt(&mut o, "location", m.location.as_ref().map(location));
            opt(
                &mut o,
                "deliveryInformation",
                m.delivery_information.as_ref().map(delivery),
            );
            ("session-Already-Established", o)
        }
        IasMessage::DataHeaderReport(m) => {
            let mut o = header(&m.header);
            o.insert(
                "contentIdentifier".into(),
                content_id(&m.content_identifier),
            );
            let h = &m.header_set;
            let s = stream(
                &h.stream_id,
                &h.source_ip_address,
                &h.destination_ip_address,
                None,
                &h.source_port_number,
                &h.destination_port_number,
            );
            o.insert("headerSet".into(), s);
            ("data-Header-Report", o)
        }
        IasMessage::DataSummaryReport(m) => {
            let mut o = header(&m.header);
            o.insert(
                "contentIdentifier".into(),
                content_id(&m.content_identifier),
            );
            let h = &m.stream_set;
            let s = stream(
                &h.stream_id,
                &h.source_ip_address,
                &h.destination_ip_address,
                Some(h.packet_count),
                &h.source_port_number,
                &h.destination_port_number,
            );
            o.insert("streamSet".into(), s);
            ("data-Summary-Report", o)
        }
        IasMessage::Unknown(u) => return json!({"iasMessage": unknown(u)}),
    };
    json!({ "protocolIdentifier": p.protocol_identifier.arcs(), "iasMessage": [name, body] })
}

/// Our optional-CmII value in pycrate's shape.
pub fn optional(p: &IasOptionalProtocol) -> Json {
    let s = |x: &Option<String>| x.as_ref().map(|s| json!(s));
    let (name, body) = match &p.message {
        IasOptionalMessage::ServiceChange(m) => {
            let mut o = header(&m.header);
            o.insert("subscriber".into(), json!(m.subscriber));
            opt(
                &mut o,
                "primaryAccountSubscriber",
                s(&m.primary_account_subscriber),
            );
            opt(
                &mut o,
                "interceptSubjectIPAddress",
                m.intercept_subject_ip_address.as_ref().map(ip),
            );
            opt(&mut o, "serverIdentity", s(&m.server_identity));
            o.insert("changesAttempted".into(), json!(m.changes_attempted));
            o.insert(
                "resultofChangeAttempt".into(),
                json!(m.result_of_change_attempt),
            );
            ("serviceChange", o)
        }
        IasOptionalMessage::VpnSecurityEstablishment(m) => {
            let mut o = header(&m.header);
            opt(&mut o, "sessionID", s(&m.session_id));
            opt(&mut o, "subscriber", s(&m.subscriber));
            opt(
                &mut o,
                "accessSessionIPAddress",
                m.access_session_ip_address.as_ref().map(ip),
            );
            o.insert(
                "vpnSecurityAssociation".into(),
                json!(m.vpn_security_association),
            );
            o.insert(
                "vpnSecurityAssociationProtocols".into(),
                json!(m.vpn_security_association_protocols),
            );
            o.insert(
                "localVPNEndpointIPAddress".into(),
                ip(&m.local_vpn_endpoint_ip_address),
            );
            o.insert(
                "remoteVPNEndpointIPAddress".into(),
                ip(&m.remote_vpn_endpoint_ip_address),
            );
            o.insert(
                "localVPNEncryptionAlgorithms".into(),
                json!(m.local_vpn_encryption_algorithms),
            );
            o.insert(
                "remoteVPNEncryptionAlgorithms".into(),
                json!(m.remote_vpn_encryption_algorithms),
            );
            o.insert(
                "localVPNEncryptionKeys".into(),
                json!(m.local_vpn_encryption_keys),
            );
            o.insert(
                "remoteVPNEncryptionKeys".into(),
                json!(m.remote_vpn_encryption_keys),
            );
            ("vpnSecurityEstablishment", o)
        }
        IasOptionalMessage::VpnSecurityRelease(m) => {
            let mut o = header(&m.header);
            opt(&mut o, "sessionID", s(&m.session_id));
            opt(&mut o, "subscriber", s(&m.subscriber));
            opt(
                &mut o,
                "accessSessionIPAddress",
                m.access_session_ip_address.as_ref().map(ip),
            );
            o.insert(
                "vpnSecurityAssociation".into(),
                json!(m.vpn_security_association),
            );
            o.insert("vpnTerminationCause".into(), json!(m.vpn_termination_cause));
            ("vpnSecurityRelease", o)
        }
        IasOptionalMessage::SurveillanceActivation(m) => {
            let mut o = header(&m.header);
            o.insert("surveillanceStatus".into(), json!(m.surveillance_status));
            ("surveillanceActivation", o)
        }
        IasOptionalMessage::SurveillanceContinuation(m) => {
            let mut o = header(&m.header);
            o.insert("surveillanceStatus".into(), json!(m.surveillance_status));
            ("surveillanceContinuation", o)
        }
        IasOptionalMessage::SurveillanceChange(m) => {
            let mut o = header(&m.header);
            o.insert("surveillanceStatus".into(), json!(m.surveillance_status));
            ("surveillanceChange", o)
        }
        IasOptionalMessage::SurveillanceDeActivation(m) => {
            let mut o = header(&m.header);
            o.insert("surveillanceStatus".into(), json!(m.surveillance_status));
            ("surveillanceDeActivation", o)
        }
        IasOptionalMessage::Unknown(u) => return json!({"iasMessage": unknown(u)}),
    };
    json!({ "protocolIdentifier": p.protocol_identifier.arcs(), "iasMessage": [name, body] })
}

/// Our IAS-CC-APDU in pycrate's shape.
pub fn cc(a: &IasCcApdu) -> Json {
    let mut m = Map::new();
    if let Some(h) = &a.delivery_header {
        let mut ci = Map::new();
        let c = &h.correlation_info;
        opt(&mut ci, "caseId", c.case_id.as_ref().map(|s| json!(s)));
        opt(&mut ci, "iapId", c.iap_id.as_ref().map(|s| json!(s)));
        ci.insert(
            "contentIdentifier".into(),
            content_id(&c.content_identifier),
        );
        let mut hm = Map::new();
        hm.insert("correlationInfo".into(), Json::Object(ci));
        opt(&mut hm, "timeStamp", h.time_stamp.as_ref().map(gtime));
        opt(
            &mut hm,
            "packetDirection",
            h.packet_direction.map(|d| json!(d.asn1_name())),
        );
        opt(
            &mut hm,
            "sequenceNumber",
            h.sequence_number.map(|n| json!(n)),
        );
        m.insert("ccDeliveryHeader".into(), Json::Object(hm));
    }
    m.insert("payload".into(), hex(&a.payload));
    Json::Object(m)
}

fn emit(dir: &Path, family: &str, name: &str, ber: &[u8], value: &Json) -> std::io::Result<()> {
    let d = dir.join(family);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join(format!("{name}.ber")), ber)?;
    std::fs::write(d.join(format!("{name}.json")), format!("{value}\n"))
}

fn hdr(frac_us: u32, case: &str, iap: &str) -> IasHeader {
    IasHeader {
        case_id: case.into(),
        iap_system_id: iap.into(),
        timestamp: GeneralizedTime::from_timestamp(time(1_704_164_645, frac_us)),
    }
}

fn v4() -> IpAddressInfo {
    IpAddressInfo {
        address: IpAddress::from_ip_addr([198, 51, 100, 7].into()),
        allocation_method: AllocationMethod::Dynamic,
        ipv6_flow_label: None,
        prefix_len: None,
    }
}

fn v6() -> IpAddressInfo {
    IpAddressInfo {
        address: IpAddress::from_ip_addr("2001:db8::10".parse().expect("address")),
        allocation_method: AllocationMethod::Static,
        ipv6_flow_label: Some("12345".into()),
        prefix_len: Some(64),
    }
}

pub fn encode(dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    let h = |i: u32| hdr(i * 1000, "CASE-0002", "BRAS-EAST-7-WITH-A-LONG-NAME");
    let sub = || Value::StringUtf8("subscriber@isp.example".into());
    let signal = || ProtocolSignal {
        protocol: Protocol::Radius,
        signal: vec![
            Value::Octets(b"\x01\x07alice".to_vec()),
            Value::Integer(-1812),
        ],
    };
    let method = |t: AccessType| AccessMethod {
        access_type: Some(t),
        access_equipment_id: Some("dslam-12/3/4".into()),
        part_of_multiple_login: true,
    };
    let corr = ContentIdentifier::CorrelationId(vec![0, 0, 0, 2]);
    let call = ContentIdentifier::CallId(CallIdentity {
        main: "sess-7".into(),
        leg: Some("1".into()),
    });
    let delivery = |d: DeliveryIdentifier, f: CcDeliveryFormat| LeaCmcDelivery {
        content_identifier: corr.clone(),
        delivery_identifier: d,
        cc_delivery_format: f,
    };
    let ccc = |c: CccIdentity| DeliveryIdentifier::CccId(c);
    let loc = || Location {
        location_type: "civic".into(),
        location: "1 Main St".into(),
    };
    let start = |header, d| PacketDataSessionStart {
        header,
        subscriber_identity: sub(),
        access_session_id: Some(Value::StringVs("acct-42".into())),
        packet_data_session_id: Value::Integer(7),
        ip_address: v4(),
        access_session_characteristics: Some(Value::Numeric("100 20".into())),
        location: Some(loc()),
        delivery_information: d,
    };

    let cmii_msgs: Vec<(&str, IasMessage)> = vec![
        (
            "access-attempt",
            IasMessage::AccessAttempt(AccessAttempt {
                header: h(1),
                subscriber_identity: sub(),
                access_method: Some(method(AccessType::Dsl)),
                network_access_node_identity: Some(Value::Numeric("0042".into())),
                protocol_signal: Some(signal()),
            }),
        ),
        (
            "access-attempt-minimal",
            IasMessage::AccessAttempt(AccessAttempt {
                header: hdr(0, "C", "I"),
                subscriber_identity: Value::Integer(0),
                access_method: Some(AccessMethod {
                    access_type: None,
                    access_equipment_id: None,
                    part_of_multiple_login: false,
                }),
                network_access_node_identity: None,
                protocol_signal: None,
            }),
        ),
        (
            "access-accepted",
            IasMessage::AccessAccepted(AccessAccepted {
                header: h(2),
                subscriber_identity: sub(),
                access_method: Some(method(AccessType::Other("fibre".into()))),
                network_access_node_identity: Some(Value::StringVs("nas-1".into())),
                ip_address: Some(v4()),
                access_session_id: Value::Octets(vec![0x12, 0x34]),
                access_session_characteristics: Some(Value::StringUtf8("100M/20M é".into())),
                location: Some(loc()),
                protocol_signal: Some(ProtocolSignal {
                    protocol: Protocol::Other("DHCP".into()),
                    signal: vec![Value::StringVs("ack".into()), Value::Numeric("1".into())],
                }),
            }),
        ),
        (
            "access-failed",
            IasMessage::AccessFailed(AccessFailed {
                header: h(3),
                subscriber_identity: Value::Integer(-5),
                ip_address: Some(v6()),
                reason_for_termination: Some(Value::StringVs("Auth-Failure".into())),
                protocol_signal: Some(signal()),
            }),
        ),
        (
            "access-session-end",
            IasMessage::AccessSessionEnd(AccessSessionEnd {
                header: h(4),
                subscriber_identity: sub(),
                ip_address: Some(v4()),
                access_session_id: Value::Integer(300),
                reason_for_termination: Some(Value::StringVs("User-Request".into())),
                protocol_signal: Some(signal()),
            }),
        ),
        (
            "access-rejected",
            IasMessage::AccessRejected(AccessRejected {
                header: h(5),
                subscriber_identity: sub(),
                ip_address: Some(IpAddressInfo {
                    allocation_method: AllocationMethod::NotApplicable,
                    ..v4()
                }),
                reason_for_termination: Some(Value::Integer(i64::MIN)),
                protocol_signal: None,
            }),
        ),
        (
            "access-signaling-message-report",
            IasMessage::AccessSignalingMessageReport(AccessSignalingMessageReport {
                header: h(6),
                access_session_id: Some(Value::Integer(300)),
                signaling_msg: [
                    MessageType::Radius,
                    MessageType::Diameter,
                    MessageType::Xml,
                    MessageType::AsnDot1,
                    MessageType::Other,
                ]
                .into_iter()
                .map(|t| InterceptedSignalingMessage {
                    message_type: t,
                    message: format!("{} message", t.asn1_name()),
                })
                .collect(),
            }),
        ),
        (
            "session-start",
            IasMessage::SessionStart(start(
                h(7),
                Some(delivery(
                    DeliveryIdentifier::CcAddress {
                        lea_ip_address: IpAddress::from_ip_addr([192, 0, 2, 1].into()),
                        lea_port_number: "50000".into(),
                    },
                    CcDeliveryFormat::Atis678Asn1(cmcc_oid()),
                )),
            )),
        ),
        (
            "session-start-comb-ccc",
            IasMessage::SessionStart(start(
                h(70),
                Some(delivery(
                    ccc(CccIdentity::CombCcc("0000ABCD".into())),
                    CcDeliveryFormat::ScteDatagram,
                )),
            )),
        ),
        (
            "session-failed",
            IasMessage::SessionFailed(PacketDataSessionFailed {
                header: h(8),
                subscriber_identity: sub(),
                access_session_id: Some(Value::StringVs("acct-42".into())),
                reason_for_termination: Some(Value::StringUtf8("no address".into())),
            }),
        ),
        (
            "session-end",
            IasMessage::SessionEnd(PacketDataSessionEnd {
                header: h(9),
                subscriber_identity: sub(),
                access_session_id: None,
                packet_data_session_id: Value::Integer(7),
                ip_address: v6(),
                reason_for_termination: Some(Value::StringVs("Lease-Expired".into())),
            }),
        ),
        (
            "session-already-established",
            IasMessage::SessionAlreadyEstablished(PacketDataSessionAlreadyEstablished {
                header: h(10),
                subscriber_identity: sub(),
                access_session_id: None,
                packet_data_session_id: Value::Octets(vec![7]),
                ip_address: v4(),
                access_session_characteristics: None,
                location: None,
                delivery_information: Some(delivery(
                    ccc(CccIdentity::SepCccPair {
                        xmit: "0000ABCD".into(),
                        recv: "0000ABCE".into(),
                    }),
                    CcDeliveryFormat::IasDatagram,
                )),
            }),
        ),
        (
            "data-header-report",
            IasMessage::DataHeaderReport(PacketDataHeaderReport {
                header: h(11),
                content_identifier: call.clone(),
                header_set: HeaderSet {
                    stream_id: Value::Integer(1),
                    source_ip_address: v4(),
                    destination_ip_address: v6(),
                    source_port_number: Some("1234".into()),
                    destination_port_number: Some("5678".into()),
                },
            }),
        ),
        (
            "data-summary-report",
            IasMessage::DataSummaryReport(PacketDataSummaryReport {
                header: h(12),
                content_identifier: ContentIdentifier::CallId(CallIdentity {
                    main: "sess-7".into(),
                    leg: None,
                }),
                stream_set: StreamSet {
                    stream_id: Value::StringVs("s1".into()),
                    source_ip_address: v4(),
                    destination_ip_address: v4(),
                    packet_count: 123_456_789_012,
                    source_port_number: None,
                    destination_port_number: Some("53".into()),
                },
            }),
        ),
    ];
    for (ind, c) in [
        ("ind-xmit", CccIdentity::IndXmitCcc("X1".into())),
        ("ind-recv", CccIdentity::IndRecvCcc("R1".into())),
        ("ind", CccIdentity::IndCcc("B1".into())),
    ] {
        let p = IasProtocol::new(IasMessage::SessionAlreadyEstablished(
            PacketDataSessionAlreadyEstablished {
                header: h(13),
                subscriber_identity: sub(),
                access_session_id: None,
                packet_data_session_id: Value::Integer(8),
                ip_address: v6(),
                access_session_characteristics: None,
                location: None,
                delivery_information: Some(delivery(ccc(c), CcDeliveryFormat::IasDatagram)),
            },
        ));
        emit(
            dir,
            "atis-t1ias",
            &format!("session-already-established-{ind}"),
            &p.encode(),
            &cmii(&p),
        )?;
        n += 1;
    }
    for (name, m) in cmii_msgs {
        let p = IasProtocol::new(m);
        emit(dir, "atis-t1ias", name, &p.encode(), &cmii(&p))?;
        n += 1;
    }
    // access types other than dsl / other
    for (name, t) in [
        ("dial-up", AccessType::DialUp),
        ("lan", AccessType::Lan),
        ("cable", AccessType::Cable),
        ("wifi", AccessType::WiFi),
        ("wimax", AccessType::WiMax),
    ] {
        let p = IasProtocol::new(IasMessage::AccessAttempt(AccessAttempt {
            header: h(14),
            subscriber_identity: sub(),
            access_method: Some(method(t)),
            network_access_node_identity: None,
            protocol_signal: None,
        }));
        emit(
            dir,
            "atis-t1ias",
            &format!("access-attempt-{name}"),
            &p.encode(),
            &cmii(&p),
        )?;
        n += 1;
    }

    // the optional module: its OID is not public, this is a test value
    let opt_oid = ObjectIdentifier::new(&[1, 2, 840, 113_737, 2, 1, 1, 0, 1]).expect("oid");
    let oh = |i: u32| hdr(i * 1000, "CASE-0002", "BRAS-EAST-7");
    let v4a = IpAddress::from_ip_addr([198, 51, 100, 7].into());
    let v6a = IpAddress::from_ip_addr("2001:db8::10".parse().expect("address"));
    let opt_msgs: Vec<(&str, IasOptionalMessage)> = vec![
        (
            "service-change",
            IasOptionalMessage::ServiceChange(ServiceChange {
                header: oh(1),
                subscriber: "subscriber@isp.example".into(),
                primary_account_subscriber: Some("family@isp.example".into()),
                intercept_subject_ip_address: Some(v6a.clone()),
                server_identity: Some("mail.isp.example".into()),
                changes_attempted: "add alias".into(),
                result_of_change_attempt: "accepted".into(),
            }),
        ),
        (
            "vpn-security-establishment",
            IasOptionalMessage::VpnSecurityEstablishment(VpnSecurityEstablishment {
                header: oh(2),
                session_id: Some("acct-42".into()),
                subscriber: Some("subscriber@isp.example".into()),
                access_session_ip_address: Some(v4a.clone()),
                vpn_security_association: "spi-0x1234".into(),
                vpn_security_association_protocols: vec!["ESP".into(), "IKEv2".into()],
                local_vpn_endpoint_ip_address: v4a.clone(),
                remote_vpn_endpoint_ip_address: v6a.clone(),
                local_vpn_encryption_algorithms: "AES-GCM-128".into(),
                remote_vpn_encryption_algorithms: "AES-GCM-256".into(),
                local_vpn_encryption_keys: vec!["00112233".into()],
                remote_vpn_encryption_keys: vec!["44556677".into(), "8899aabb".into()],
            }),
        ),
        (
            "vpn-security-release",
            IasOptionalMessage::VpnSecurityRelease(VpnSecurityRelease {
                header: oh(3),
                session_id: Some("acct-42".into()),
                subscriber: None,
                access_session_ip_address: Some(v6a),
                vpn_security_association: "spi-0x1234".into(),
                vpn_termination_cause: "rekey".into(),
            }),
        ),
        (
            "surveillance-activation",
            IasOptionalMessage::SurveillanceActivation(SurveillanceActivation {
                header: oh(4),
                surveillance_status: "active".into(),
            }),
        ),
        (
            "surveillance-continuation",
            IasOptionalMessage::SurveillanceContinuation(SurveillanceContinuation {
                header: oh(5),
                surveillance_status: "continuing".into(),
            }),
        ),
        (
            "surveillance-change",
            IasOptionalMessage::SurveillanceChange(SurveillanceChange {
                header: oh(6),
                surveillance_status: "content added".into(),
            }),
        ),
        (
            "surveillance-deactivation",
            IasOptionalMessage::SurveillanceDeActivation(SurveillanceDeActivation {
                header: oh(7),
                surveillance_status: "inactive".into(),
            }),
        ),
    ];
    for (name, m) in opt_msgs {
        let p = IasOptionalProtocol {
            protocol_identifier: opt_oid.clone(),
            message: m,
        };
        emit(dir, "atis-t1ias-opt", name, &p.encode(), &optional(&p))?;
        n += 1;
    }

    // IAS-CC-APDU: typed, bare, and from the hot-path encoder
    let packet: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let typed = IasCcApdu {
        delivery_header: Some(CcDeliveryHeader {
            correlation_info: CorrelationInfo {
                case_id: Some("CASE-0002".into()),
                iap_id: None,
                content_identifier: call.clone(),
            },
            time_stamp: None,
            packet_direction: Some(PacketDirection::ToSubject),
            sequence_number: Some(-1),
        }),
        payload: packet.clone(),
    };
    emit(
        dir,
        "atis-t1ias-cc",
        "cc-apdu-typed",
        &typed.encode(),
        &cc(&typed),
    )?;
    let bare = IasCcApdu {
        delivery_header: None,
        payload: packet[..20].to_vec(),
    };
    emit(
        dir,
        "atis-t1ias-cc",
        "cc-apdu-bare",
        &bare.encode(),
        &cc(&bare),
    )?;
    n += 2;
    let enc = IasCcEncoder::new("CASE-0002", Some("BRAS-EAST-7"), &corr);
    for (i, (seq, us, dir_, len)) in [
        (0i64, 0u32, PacketDirection::FromSubject, 20usize),
        (1, 678_000, PacketDirection::ToSubject, 127),
        (4_294_967_296, 678_901, PacketDirection::FromSubject, 300),
    ]
    .into_iter()
    .enumerate()
    {
        let mut out = Vec::new();
        let t = time(1_704_164_645, us);
        enc.encode(seq, t, dir_, &packet[..len], &mut out);
        let meant = IasCcApdu {
            delivery_header: Some(CcDeliveryHeader {
                correlation_info: CorrelationInfo {
                    case_id: Some("CASE-0002".into()),
                    iap_id: Some("BRAS-EAST-7".into()),
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
            "atis-t1ias-cc",
            &format!("cc-apdu-encoder-{i}"),
            &out,
            &cc(&meant),
        )?;
        n += 1;
    }
    Ok(n)
}
