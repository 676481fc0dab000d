//! Decoding of pycrate's encodings (tests/data/atis, made by gen_vectors.py there): every
//! message kind decodes to the values pycrate was given, with no alternative left unknown,
//! and our re-encoding is byte-identical to pycrate's.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use li_asn1::atis::ias::{
    AccessType, AllocationMethod, CcDeliveryFormat, CccIdentity, DeliveryIdentifier, IasMessage,
    IasProtocol, MessageType, Protocol, Value,
};
use li_asn1::atis::ias_cc::{CallIdentity, ContentIdentifier, IasCcApdu, PacketDirection};
use li_asn1::atis::ias_opt::{IasOptionalMessage, IasOptionalProtocol};
use li_asn1::atis::{cmcc_oid, cmii_oid};

pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/atis")
        .join(format!("{name}.ber"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a CmII vector, checks the header pycrate was given and the byte-identical
/// re-encoding, and returns the message.
fn cmii(name: &str, alternative: &str, second: &str) -> IasMessage {
    let data = vector(name);
    let p = IasProtocol::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(p.protocol_identifier, cmii_oid());
    assert_eq!(p.message.asn1_name(), Some(alternative), "{name}");
    assert!(!format!("{p:?}").contains("Unknown("), "{name}: {p:?}");
    assert_eq!(
        p.encode(),
        data,
        "{name}: re-encoding differs from pycrate's"
    );
    let debug = format!("{:?}", p.message);
    assert!(debug.contains("case_id: \"CASE-0002\""), "{debug}");
    assert!(debug.contains("iap_system_id: \"BRAS-EAST-7\""), "{debug}");
    assert!(
        debug.contains(&format!("text: \"20240102030{second}")),
        "{debug}"
    );
    p.message
}

fn opt(name: &str, alternative: &str) -> IasOptionalMessage {
    let data = vector(name);
    let p = IasOptionalProtocol::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        p.protocol_identifier.arcs(),
        [1, 2, 840, 113_737, 2, 1, 1, 0, 1]
    );
    assert_eq!(p.message.asn1_name(), Some(alternative), "{name}");
    assert!(!format!("{p:?}").contains("Unknown("), "{name}: {p:?}");
    assert_eq!(
        p.encode(),
        data,
        "{name}: re-encoding differs from pycrate's"
    );
    p.message
}

const SUB: &str = "subscriber@isp.example";

#[test]
fn access_messages() {
    let IasMessage::AccessAttempt(m) = cmii("access-attempt", "access-Attempt", "401.678Z") else {
        unreachable!()
    };
    assert_eq!(m.subscriber_identity, Value::StringUtf8(SUB.into()));
    let method = m.access_method.unwrap();
    assert_eq!(method.access_type, Some(AccessType::Dsl));
    assert_eq!(method.access_equipment_id.as_deref(), Some("dslam-12/3/4"));
    assert!(method.part_of_multiple_login);
    assert_eq!(
        m.network_access_node_identity,
        Some(Value::Numeric("0042".into()))
    );
    let signal = m.protocol_signal.unwrap();
    assert_eq!(signal.protocol, Protocol::Radius);
    assert_eq!(
        signal.signal,
        [
            Value::Octets(b"\x01\x07alice".to_vec()),
            Value::Integer(1812)
        ]
    );

    let IasMessage::AccessAccepted(m) = cmii("access-accepted", "access-Accepted", "402.678Z")
    else {
        unreachable!()
    };
    assert_eq!(
        m.access_method.unwrap().access_type,
        Some(AccessType::Other("fibre".into()))
    );
    let ip = m.ip_address.unwrap();
    assert_eq!(
        ip.address.to_ip_addr(),
        Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)))
    );
    assert_eq!(ip.allocation_method, AllocationMethod::Dynamic);
    assert_eq!(m.access_session_id, Value::Octets(vec![0x12, 0x34]));
    assert_eq!(m.location.unwrap().location, "1 Main St");
    assert_eq!(
        m.protocol_signal.unwrap().protocol,
        Protocol::Other("DHCP".into())
    );

    let IasMessage::AccessFailed(m) = cmii("access-failed", "access-Failed", "403.678Z") else {
        unreachable!()
    };
    assert_eq!(m.subscriber_identity, Value::Integer(-5));
    let ip = m.ip_address.unwrap();
    assert_eq!(
        ip.address.to_ip_addr(),
        Some("2001:db8::10".parse().unwrap())
    );
    assert_eq!(ip.allocation_method, AllocationMethod::Static);
    assert_eq!(ip.ipv6_flow_label.as_deref(), Some("12345"));
    assert_eq!(ip.prefix_len, Some(64));
    assert_eq!(
        m.reason_for_termination,
        Some(Value::StringVs("Auth-Failure".into()))
    );

    let IasMessage::AccessSessionEnd(m) = cmii("access-session-end", "access-Session-End", "404Z")
    else {
        unreachable!()
    };
    assert_eq!(m.access_session_id, Value::Integer(300));

    let IasMessage::AccessRejected(m) = cmii("access-rejected", "access-Rejected", "405.678Z")
    else {
        unreachable!()
    };
    assert_eq!(
        (m.ip_address, m.reason_for_termination, m.protocol_signal),
        (None, None, None)
    );

    let IasMessage::AccessSignalingMessageReport(m) = cmii(
        "access-signaling-message-report",
        "access-Signaling-Message-Report",
        "406.678Z",
    ) else {
        unreachable!()
    };
    assert_eq!(m.signaling_msg.len(), 2);
    assert_eq!(m.signaling_msg[0].message_type, MessageType::Radius);
    assert_eq!(
        m.signaling_msg[0].message,
        "Accounting-Request Interim-Update"
    );
    assert_eq!(m.signaling_msg[1].message_type, MessageType::Diameter);
}

#[test]
fn packet_data_session_messages() {
    let IasMessage::SessionStart(m) = cmii("session-start", "session-Start", "407.678Z") else {
        unreachable!()
    };
    assert_eq!(m.packet_data_session_id, Value::Integer(7));
    assert_eq!(
        m.access_session_characteristics,
        Some(Value::Numeric("1 2".into()))
    );
    let d = m.delivery_information.unwrap();
    assert_eq!(
        d.content_identifier,
        ContentIdentifier::CorrelationId(vec![0, 0, 0, 2])
    );
    let DeliveryIdentifier::CcAddress {
        lea_ip_address,
        lea_port_number,
    } = d.delivery_identifier
    else {
        unreachable!()
    };
    assert_eq!(
        lea_ip_address.to_ip_addr(),
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
    );
    assert_eq!(lea_port_number, "50000");
    assert_eq!(
        d.cc_delivery_format,
        CcDeliveryFormat::Atis678Asn1(cmcc_oid())
    );

    let IasMessage::SessionFailed(m) = cmii("session-failed", "session-Failed", "408.678Z") else {
        unreachable!()
    };
    assert_eq!(
        m.reason_for_termination,
        Some(Value::StringUtf8("no address".into()))
    );

    let IasMessage::SessionEnd(m) = cmii("session-end", "session-End", "409.678Z") else {
        unreachable!()
    };
    assert_eq!(m.access_session_id, None);
    assert_eq!(
        m.reason_for_termination,
        Some(Value::StringVs("Lease-Expired".into()))
    );

    let IasMessage::SessionAlreadyEstablished(m) = cmii(
        "session-already-established",
        "session-Already-Established",
        "410.678Z",
    ) else {
        unreachable!()
    };
    let d = m.delivery_information.unwrap();
    assert_eq!(
        d.delivery_identifier,
        DeliveryIdentifier::CccId(CccIdentity::SepCccPair {
            xmit: "0000ABCD".into(),
            recv: "0000ABCE".into()
        })
    );
    assert_eq!(d.cc_delivery_format, CcDeliveryFormat::IasDatagram);
}

#[test]
fn report_messages() {
    let IasMessage::DataHeaderReport(m) =
        cmii("data-header-report", "data-Header-Report", "411.678Z")
    else {
        unreachable!()
    };
    assert_eq!(
        m.content_identifier,
        ContentIdentifier::CallId(CallIdentity {
            main: "sess-7".into(),
            leg: Some("1".into())
        })
    );
    assert_eq!(m.header_set.stream_id, Value::Integer(1));
    assert_eq!(m.header_set.source_port_number.as_deref(), Some("1234"));
    assert_eq!(
        m.header_set.destination_port_number.as_deref(),
        Some("5678")
    );
    assert_eq!(m.header_set.destination_ip_address.prefix_len, Some(64));

    let IasMessage::DataSummaryReport(m) =
        cmii("data-summary-report", "data-Summary-Report", "412.678Z")
    else {
        unreachable!()
    };
    assert_eq!(m.stream_set.packet_count, 123_456_789);
    assert_eq!(m.stream_set.source_port_number, None);
    assert_eq!(m.stream_set.destination_port_number.as_deref(), Some("53"));
}

#[test]
fn optional_messages() {
    let IasOptionalMessage::ServiceChange(m) = opt("opt-service-change", "serviceChange") else {
        unreachable!()
    };
    assert_eq!(m.subscriber, SUB);
    assert_eq!(
        m.primary_account_subscriber.as_deref(),
        Some("family@isp.example")
    );
    assert_eq!(m.changes_attempted, "add alias");
    assert_eq!(m.result_of_change_attempt, "accepted");
    let IasOptionalMessage::VpnSecurityEstablishment(m) =
        opt("opt-vpn-security-establishment", "vpnSecurityEstablishment")
    else {
        unreachable!()
    };
    assert_eq!(m.vpn_security_association_protocols, ["ESP", "IKEv2"]);
    assert_eq!(m.remote_vpn_encryption_keys, ["44556677", "8899aabb"]);
    assert_eq!(
        m.remote_vpn_endpoint_ip_address.to_ip_addr(),
        Some("2001:db8::10".parse().unwrap())
    );
    let IasOptionalMessage::VpnSecurityRelease(m) =
        opt("opt-vpn-security-release", "vpnSecurityRelease")
    else {
        unreachable!()
    };
    assert_eq!(m.vpn_termination_cause, "rekey");
    assert_eq!(m.session_id, None);
    for (name, alt, status) in [
        (
            "opt-surveillance-activation",
            "surveillanceActivation",
            "active",
        ),
        (
            "opt-surveillance-continuation",
            "surveillanceContinuation",
            "continuing",
        ),
        (
            "opt-surveillance-change",
            "surveillanceChange",
            "content added",
        ),
        (
            "opt-surveillance-deactivation",
            "surveillanceDeActivation",
            "inactive",
        ),
    ] {
        let s = match opt(name, alt) {
            IasOptionalMessage::SurveillanceActivation(m) => m.surveillance_status,
            IasOptionalMessage::SurveillanceContinuation(m) => m.surveillance_status,
            IasOptionalMessage::SurveillanceChange(m) => m.surveillance_status,
            IasOptionalMessage::SurveillanceDeActivation(m) => m.surveillance_status,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(s, status);
    }
}

#[test]
fn cc_apdu() {
    let data = vector("cc-apdu");
    let apdu = IasCcApdu::decode(&data).unwrap();
    assert_eq!(apdu.encode(), data);
    let h = apdu.delivery_header.unwrap();
    assert_eq!(h.correlation_info.case_id.as_deref(), Some("CASE-0002"));
    assert_eq!(h.correlation_info.iap_id.as_deref(), Some("BRAS-EAST-7"));
    assert_eq!(
        h.correlation_info.content_identifier,
        ContentIdentifier::CorrelationId(vec![0, 0, 0, 2])
    );
    assert_eq!(h.time_stamp.unwrap().as_str(), "20240102030420.5Z");
    assert_eq!(h.packet_direction, Some(PacketDirection::ToSubject));
    assert_eq!(h.sequence_number, Some(1 << 32));
    assert_eq!(apdu.payload.len(), 28);
    assert_eq!(apdu.payload[0], 0x45);

    let data = vector("cc-apdu-bare");
    let apdu = IasCcApdu::decode(&data).unwrap();
    assert_eq!(apdu.encode(), data);
    assert_eq!(apdu.delivery_header, None);
    assert_eq!(apdu.payload.len(), 28);
}
