//! The ATIS-1000013 mapping: which messages each access record becomes, their fields, and the
//! identifier checks. Every message is encoded and decoded again before it is looked at.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use li_core::{
    AccessEvent, AccessEventType, Cin, EndReason, InternetAccessType, IpPrefix, Liid, Timestamp,
};

use super::*;
use crate::atis::ias_opt::IasOptionalProtocol;

const CIN: Cin = Cin::new(4711);

fn time() -> Timestamp {
    Timestamp::from_secs_micros(1_704_164_645, 678_000).unwrap()
}

fn mapper() -> IasMapper {
    IasMapper::new(&Liid::new(b"CASE-0001").unwrap(), "BNG-7").unwrap()
}

fn accept() -> AccessEvent {
    let mut e = AccessEvent::new(AccessEventType::AccessAccept);
    e.username = b"alice@isp.example".to_vec();
    e.access_type = InternetAccessType::Fttx;
    e.addresses = vec![IpPrefix::host(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)))];
    e.session_id = Some("acct-9".into());
    e.pop_identifier = Some("bng-7.pop1".into());
    e
}

/// The messages of `event`, each encoded and decoded back.
fn messages(event: &AccessEvent, with_content: bool) -> Vec<IasPdu> {
    let mut out = Vec::new();
    mapper().messages(CIN, time(), event, with_content, &mut out);
    out.into_iter()
        .map(|pdu| {
            let mut octets = Vec::new();
            pdu.encode_into(&mut octets);
            let back = match &pdu {
                IasPdu::Cmii(_) => IasPdu::Cmii(IasProtocol::decode(&octets).unwrap()),
                IasPdu::Optional(_) => {
                    IasPdu::Optional(IasOptionalProtocol::decode(&octets).unwrap())
                }
            };
            assert_eq!(back, pdu);
            back
        })
        .collect()
}

fn names(event: &AccessEvent) -> Vec<&'static str> {
    messages(event, true)
        .iter()
        .map(|m| m.asn1_name().unwrap())
        .collect()
}

fn cmii(pdu: &IasPdu) -> &IasMessage {
    match pdu {
        IasPdu::Cmii(p) => &p.message,
        IasPdu::Optional(p) => panic!("expected CmII, got {p:?}"),
    }
}

#[test]
fn each_access_event_becomes_the_messages_of_its_function() {
    let with = |t: AccessEventType| {
        let mut e = accept();
        e.event_type = t;
        e.raw_aaa = Some(vec![1, 2, 3]);
        e
    };
    let cases: [(AccessEventType, &[&str]); 11] = [
        (AccessEventType::AccessAttempt, &["access-Attempt"]),
        (
            AccessEventType::AccessAccept,
            &["access-Accepted", "session-Start"],
        ),
        (AccessEventType::AccessReject, &["access-Rejected"]),
        (AccessEventType::AccessFailed, &["access-Failed"]),
        (AccessEventType::SessionStart, &["session-Start"]),
        (AccessEventType::SessionEnd, &["session-End"]),
        (
            AccessEventType::InterimUpdate,
            &["access-Signaling-Message-Report"],
        ),
        (
            AccessEventType::StartOfInterceptionWithSessionActive,
            &["surveillanceActivation", "session-Already-Established"],
        ),
        (
            AccessEventType::AccessEnd,
            &["session-End", "access-Session-End"],
        ),
        (
            AccessEventType::EndOfInterceptionWithSessionActive,
            &["surveillanceDeActivation"],
        ),
        (
            AccessEventType::Unknown,
            &["access-Signaling-Message-Report"],
        ),
    ];
    for (t, expected) in cases {
        assert_eq!(names(&with(t)), expected, "{t:?}");
    }
}

#[test]
fn without_an_address_no_packet_data_session_is_reported() {
    let mut e = accept();
    e.addresses.clear();
    assert_eq!(names(&e), ["access-Accepted"]);
    e.event_type = AccessEventType::AccessEnd;
    assert_eq!(names(&e), ["access-Session-End"]);
    e.event_type = AccessEventType::StartOfInterceptionWithSessionActive;
    assert_eq!(names(&e), ["surveillanceActivation"]);
    // An unknown event without its AAA message is still reported, and so are the older
    // session events without the address their messages need: every record gives a message.
    for t in [
        AccessEventType::Unknown,
        AccessEventType::SessionStart,
        AccessEventType::SessionEnd,
    ] {
        e.event_type = t;
        assert_eq!(names(&e), ["access-Signaling-Message-Report"], "{t:?}");
    }
}

#[test]
fn an_accepted_session_carries_its_identities_and_announces_its_content() {
    let m = messages(&accept(), true);
    let IasMessage::AccessAccepted(accepted) = cmii(&m[0]) else {
        panic!("{m:?}")
    };
    assert_eq!(accepted.header.case_id, "CASE-0001");
    assert_eq!(accepted.header.iap_system_id, "BNG-7");
    assert_eq!(accepted.header.timestamp.timestamp(), time());
    assert_eq!(
        accepted.subscriber_identity,
        Value::StringUtf8("alice@isp.example".into())
    );
    assert_eq!(
        accepted.access_session_id,
        Value::StringUtf8("acct-9".into())
    );
    assert_eq!(
        accepted.network_access_node_identity,
        Some(Value::StringUtf8("bng-7.pop1".into()))
    );
    assert_eq!(
        accepted
            .access_method
            .as_ref()
            .and_then(|a| a.access_type.clone()),
        Some(AccessType::Other("FTTx".into()))
    );
    let IasMessage::SessionStart(start) = cmii(&m[1]) else {
        panic!("{m:?}")
    };
    assert_eq!(start.packet_data_session_id, Value::Integer(4711));
    assert_eq!(
        start.ip_address.address.to_ip_addr(),
        Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)))
    );
    assert_eq!(
        start.ip_address.prefix_len, None,
        "a host address has no prefix length"
    );
    let delivery = start.delivery_information.as_ref().unwrap();
    assert_eq!(
        delivery.content_identifier,
        ContentIdentifier::CorrelationId(b"4711".to_vec())
    );
    assert_eq!(
        delivery.content_identifier,
        IasMapper::content_identifier(CIN)
    );
    assert_eq!(
        delivery.cc_delivery_format,
        CcDeliveryFormat::Atis678Asn1(cmcc_oid())
    );

    // An IRI-only task's session announces no content.
    let m = messages(&accept(), false);
    let IasMessage::SessionStart(start) = cmii(&m[1]) else {
        panic!("{m:?}")
    };
    assert_eq!(start.delivery_information, None);
}

#[test]
fn the_cin_stands_in_for_a_missing_accounting_session_and_a_prefix_keeps_its_length() {
    let mut e = accept();
    e.session_id = None;
    e.username.clear();
    e.network_id = Some("00:11:22:33:44:55".into());
    e.addresses = vec![
        IpPrefix::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, 0, 0, 0, 0, 0)),
            56,
        )
        .unwrap(),
    ];
    e.event_type = AccessEventType::AccessEnd;
    e.end_reason = Some(EndReason::LeaseExpired);
    let m = messages(&e, true);
    let IasMessage::SessionEnd(end) = cmii(&m[0]) else {
        panic!("{m:?}")
    };
    assert_eq!(end.access_session_id, Some(Value::Integer(4711)));
    assert_eq!(
        end.subscriber_identity,
        Value::StringUtf8("00:11:22:33:44:55".into())
    );
    assert_eq!(end.ip_address.prefix_len, Some(56));
    assert_eq!(
        end.reason_for_termination,
        Some(Value::StringVs("leaseExpired".into()))
    );
    let IasMessage::AccessSessionEnd(access_end) = cmii(&m[1]) else {
        panic!("{m:?}")
    };
    assert_eq!(access_end.access_session_id, Value::Integer(4711));
}

#[test]
fn an_interim_update_reports_its_aaa_message_or_a_summary() {
    let mut e = accept();
    e.event_type = AccessEventType::InterimUpdate;
    e.raw_aaa = Some(vec![0x04, 0x2a, 0x00, 0xff]);
    let m = messages(&e, true);
    let IasMessage::AccessSignalingMessageReport(report) = cmii(&m[0]) else {
        panic!("{m:?}")
    };
    assert_eq!(report.signaling_msg.len(), 1);
    assert_eq!(report.signaling_msg[0].message_type, MessageType::Radius);
    assert_eq!(report.signaling_msg[0].message, "042a00ff");
    assert_eq!(
        report.access_session_id,
        Some(Value::StringUtf8("acct-9".into()))
    );

    e.raw_aaa = None;
    e.octets_received = Some(1000);
    let m = messages(&e, true);
    let IasMessage::AccessSignalingMessageReport(report) = cmii(&m[0]) else {
        panic!("{m:?}")
    };
    assert_eq!(report.signaling_msg[0].message_type, MessageType::Other);
    assert_eq!(
        report.signaling_msg[0].message,
        "interim update; octets received 1000"
    );
}

#[test]
fn surveillance_status_messages_use_the_optional_module_oid() {
    let mut e = accept();
    e.event_type = AccessEventType::StartOfInterceptionWithSessionActive;
    let m = messages(&e, true);
    let IasPdu::Optional(p) = &m[0] else {
        panic!("{m:?}")
    };
    assert_eq!(p.protocol_identifier, optional_oid());
    assert_ne!(optional_oid(), cmii_oid());
    let IasPdu::Cmii(established) = &m[1] else {
        panic!("{m:?}")
    };
    assert_eq!(established.protocol_identifier, cmii_oid());
}

#[test]
fn case_ids_and_iap_ids_are_checked_against_the_module_constraints() {
    let liid = |s: &str| Liid::new(s.as_bytes()).unwrap();
    assert!(check_case_id(&liid(&"A".repeat(25))).is_ok());
    // An LIID may hold octets a VisibleString cannot.
    let err = IasMapper::new(&Liid::new(b"CASE\x01").unwrap(), "IAP").unwrap_err();
    assert!(
        matches!(err, IasSettingsError::CaseId { ref source, .. } if source.to_string().contains("VisibleString"))
    );
    assert!(err.to_string().contains("caseId"), "{err}");
    let err = IasMapper::new(&liid("CASE-1"), &"I".repeat(16)).unwrap_err();
    assert!(matches!(
        err,
        IasSettingsError::IapSystemId {
            reason: "too long",
            ..
        }
    ));
    assert!(IasMapper::new(&liid("CASE-1"), "").is_err());
    assert!(IasMapper::new(&liid("CASE-1"), &"I".repeat(15)).is_ok());
    // Made to fit where a failure is not an option.
    let fitted = IasMapper::fitted(&Liid::new(b"CASE\x01").unwrap(), &"I".repeat(20));
    assert_eq!(fitted.case_id(), "CASE?");
    assert_eq!(fitted.iap_system_id(), "I".repeat(15));
    assert_eq!(IasMapper::fitted(&liid("C"), "").iap_system_id(), "-");
}

#[test]
fn a_link_test_sent_back_answers_its_counter_and_nothing_else_does() {
    let mut octets = Vec::new();
    mapper().link_test(41, time()).encode_into(&mut octets);
    assert_eq!(link_test_answer(&octets), Ok(41));
    // A CmII message, another optional message, or garbage is no answer.
    let mut accepted = Vec::new();
    messages(&accept(), true)[0].encode_into(&mut accepted);
    assert!(link_test_answer(&accepted).is_err());
    let mut e = accept();
    e.event_type = AccessEventType::EndOfInterceptionWithSessionActive;
    let mut status = Vec::new();
    messages(&e, true)[0].encode_into(&mut status);
    let err = link_test_answer(&status).unwrap_err();
    assert!(err.contains("surveillanceDeActivation"), "{err}");
    assert!(link_test_answer(&[0x30, 0x03, 0x02]).is_err());
}
