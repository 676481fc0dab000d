//! Decoding of pycrate's ATIS-1000678 encodings (tests/data/atis/laes-*.ber, made by
//! gen_laes_vectors.py there): every one of the 24 message kinds and CC-APDU decodes to the
//! values pycrate was given, with nothing left unknown, and our re-encoding is byte-identical.

use std::collections::BTreeSet;

use li_asn1::atis::laes::*;
use li_asn1::atis::laes_cc::{CallIdentity, CcApdu, ContentIdentifier, PacketDirection};
use li_asn1::atis::laes_party::*;
use li_asn1::atis::{laes_cc_oid, laes_oid};

use crate::vectors::vector;

const NAMES: [&str; 26] = [
    "laes-origination",
    "laes-term-attempt",
    "laes-answer",
    "laes-redirection",
    "laes-release",
    "laes-serving-system",
    "laes-serving-system-generic",
    "laes-media-and-address-reporting",
    "laes-cc-open",
    "laes-cc-open-address",
    "laes-cc-change",
    "laes-cc-close",
    "laes-cc-unavailable",
    "laes-surveillance-status",
    "laes-conn-test",
    "laes-direct-signal-reporting",
    "laes-change",
    "laes-null-6",
    "laes-conf-party-change",
    "laes-connection",
    "laes-connection-break",
    "laes-dialed-digit-extraction",
    "laes-network-signal",
    "laes-subject-signal",
    "laes-feature-management",
    "laes-uu-content",
];

fn message(name: &str) -> LaesMessage {
    let data = vector(name);
    let p = LaesProtocol::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        p.encode(),
        data,
        "{name}: re-encoding differs from pycrate's"
    );
    assert!(!format!("{p:?}").contains("Unknown("), "{name}: {p:?}");
    match p {
        LaesProtocol::Enhanced {
            protocol_identifier,
            message,
        } => {
            assert_eq!(protocol_identifier, laes_oid(), "{name}");
            message
        }
        LaesProtocol::Plain(message) => message,
    }
}

fn call() -> CallIdentity {
    CallIdentity {
        main: "3c26700857f0@192.0.2.10".into(),
        leg: Some("2".into()),
    }
}

#[test]
fn every_kind_decodes_and_reencodes_identically() {
    let mut kinds = BTreeSet::new();
    for name in NAMES {
        let m = message(name);
        kinds.insert(m.asn1_name().unwrap());
        if let Some(h) = m.header() {
            assert_eq!(h.case_id.as_str(), "LIID-0042", "{name}");
            assert!(h.timestamp.as_str().starts_with("20240304050"), "{name}");
        }
    }
    assert_eq!(kinds.len(), 24, "{kinds:?}");
}

#[test]
fn call_messages() {
    let LaesMessage::Origination(m) = message("laes-origination") else {
        unreachable!()
    };
    assert_eq!(m.header.iap_system_id.as_deref(), Some("SBC-WEST-2"));
    assert_eq!(m.header.timestamp.as_str(), "20240304050601.25Z");
    assert_eq!(m.call_id, call());
    let calling = m.calling.unwrap();
    assert_eq!(
        calling.uri.unwrap(),
        ["sip:alice@example.com", "tel:+15551230001"]
    );
    assert_eq!(
        calling.sip_header.unwrap(),
        ["From: <sip:alice@example.com>;tag=1928301774"]
    );
    assert_eq!(
        m.input,
        Input::TranslationInput(InputValue::Generic("5551230002".into()))
    );
    assert_eq!(m.transit_carrier_id.as_deref(), Some("0288"));
    let media = m.subject_media.unwrap();
    assert_eq!(media.bearer_capability, Some(BearerCapability::Speech));
    assert_eq!(media.status, Some(MediaStatus::Granted));
    let Some(ProtocolSpecificParameters::Sip(sip)) = m.protocol_specific_parameters else {
        unreachable!()
    };
    assert_eq!(sip.sip_header.unwrap()[1], "CSeq: 1 INVITE");
    let body = sip.sip_body.unwrap();
    assert_eq!(body.header, ["Content-Type: application/sdp"]);
    assert!(body.contents.starts_with(b"v=0\r\n"));
    let sig = m.signaling_msg.unwrap();
    assert_eq!(sig[0].signaling_prot, "SIP");
    assert!(
        sig[0]
            .sig_msg
            .starts_with(b"INVITE sip:bob@example.net SIP/2.0\r\n")
    );
    let forked = m.forked_calls.unwrap();
    assert_eq!(forked[0].forked_call_id.leg.as_deref(), Some("3"));
    assert_eq!(forked[0].called_party.dn.as_deref(), Some("5551230002"));

    let LaesMessage::TermAttempt(m) = message("laes-term-attempt") else {
        unreachable!()
    };
    let r = m.redirected_from_info.unwrap();
    assert_eq!(r.num_redirections, Some(2));
    let full = r.original_called.unwrap();
    assert_eq!(full.esn.as_deref(), Some("ABCDEF01"));
    assert_eq!(full.subaddress.as_deref(), Some(&[0x50, 0x01][..]));
    assert_eq!(
        full.generic_address.unwrap(),
        [
            VisibleString("addr-1".into()),
            VisibleString("addr-2".into())
        ]
    );
    assert_eq!(full.generic_name.unwrap(), ["Zoë"]);
    assert_eq!(full.mac802.as_deref(), Some("00:11:22:33:44:55"));
    assert_eq!(
        full.ip_address.unwrap().to_ip_addr(),
        Some("2001:db8::20".parse().unwrap())
    );

    let LaesMessage::Answer(m) = message("laes-answer") else {
        unreachable!()
    };
    assert_eq!(m.header.iap_system_id, None);
    assert_eq!(m.call_id.leg, None);
    let media = m.answering_media.unwrap();
    assert_eq!(
        media.characteristics,
        Some(MediaCharacteristics::H323Media(H323Media {
            parameter_type: H323MediaParameterType::OpenLogicalChannel,
            parameter: vec![1, 2],
        }))
    );
    assert!(matches!(
        m.protocol_specific_parameters,
        Some(ProtocolSpecificParameters::H323(_))
    ));

    let LaesMessage::Redirection(m) = message("laes-redirection") else {
        unreachable!()
    };
    assert_eq!(m.new_call_id.unwrap().main, "new-call@192.0.2.10");
    assert_eq!(m.visited_system_identity.as_deref(), Some("visited-1"));
    let Some(MediaCharacteristics::Other(other)) = m.associate_media.unwrap().characteristics
    else {
        unreachable!()
    };
    assert_eq!(other.media_type.arcs(), [1, 3, 6, 1, 4, 1, 99999, 1]);

    let LaesMessage::Release(m) = message("laes-release") else {
        unreachable!()
    };
    assert_eq!(
        m.cause.unwrap().cause,
        Some(ParameterFormat::Sip(vec!["Reason: Q.850;cause=16".into()]))
    );
}

#[test]
fn registration_and_reports() {
    let LaesMessage::ServingSystem(m) = message("laes-serving-system") else {
        unreachable!()
    };
    assert_eq!(
        m.registration_type,
        Some(AddressRegistrationType::Registration)
    );
    assert_eq!(
        m.request_address_info,
        Some(AddressInfo::Sip(vec![
            "Contact: <sip:alice@192.0.2.10>".into()
        ]))
    );
    let Some(AddressInfo::Generic(g)) = m.response_address_info else {
        unreachable!()
    };
    assert_eq!(g[0].expiration_period, 3600);
    assert_eq!(
        m.expiration_period,
        Some(ExpirationPeriod::Sip("Expires: 3600".into()))
    );
    let LaesMessage::ServingSystem(m) = message("laes-serving-system-generic") else {
        unreachable!()
    };
    assert_eq!(m.expiration_period, Some(ExpirationPeriod::Generic(0)));
    assert_eq!(m.registering, None);

    let LaesMessage::MediaAndAddressReporting(m) = message("laes-media-and-address-reporting")
    else {
        unreachable!()
    };
    assert_eq!(m.associate_media.unwrap().len(), 2);

    let LaesMessage::SurveillanceStatus(m) = message("laes-surveillance-status") else {
        unreachable!()
    };
    assert_eq!(m.header.iap_system_id.as_deref(), Some("MEDIATOR-1"));
    assert_eq!(m.status_event_type, SurveillanceStatusEventType::Activation);
    assert_eq!(m.current_status, CurrentSurveillanceStatus::FullyActive);

    let LaesMessage::ConnTest(m) = message("laes-conn-test") else {
        unreachable!()
    };
    assert_eq!(m.case_id, None);
    assert_eq!(m.memo.as_deref(), Some("keepalive 7"));

    let LaesMessage::DirectSignalReporting(m) = message("laes-direct-signal-reporting") else {
        unreachable!()
    };
    assert_eq!(m.correlation_id, [0, 0, 1, 7]);
    assert_eq!(m.signaling_msg.len(), 2);
}

#[test]
fn content_messages() {
    let LaesMessage::CcOpen(m) = message("laes-cc-open") else {
        unreachable!()
    };
    assert_eq!(
        m.content_identifier,
        ContentIdentifier::CorrelationId(vec![0, 0, 1, 7])
    );
    assert_eq!(
        m.delivery_identifier,
        DeliveryIdentifier::CccId(CccIdentity::SepCccPair {
            xmit: "00000107".into(),
            recv: "00000108".into()
        })
    );
    assert_eq!(
        m.cc_delivery_format,
        CcDeliveryFormat::CcApdu(laes_cc_oid())
    );

    let LaesMessage::CcOpen(m) = message("laes-cc-open-address") else {
        unreachable!()
    };
    assert_eq!(m.content_identifier, ContentIdentifier::CallId(call()));
    let DeliveryIdentifier::CcAddress(a) = m.delivery_identifier else {
        unreachable!()
    };
    assert_eq!(a.lea_port_number, 40000);
    assert_eq!(
        a.lea_ip_address.to_ip_addr(),
        Some("203.0.113.9".parse().unwrap())
    );
    assert_eq!(
        m.cc_delivery_format,
        CcDeliveryFormat::Scte("SCTE-24".into())
    );

    let LaesMessage::CcChange(m) = message("laes-cc-change") else {
        unreachable!()
    };
    assert_eq!(
        m.delivery_identifier,
        DeliveryIdentifier::CccId(CccIdentity::IndCcc("00000109".into()))
    );
    let LaesMessage::CcClose(m) = message("laes-cc-close") else {
        unreachable!()
    };
    assert_eq!(
        m.delivery_identifier,
        DeliveryIdentifier::CccId(CccIdentity::CombCcc("00000107".into()))
    );
    let LaesMessage::CcUnavailable(m) = message("laes-cc-unavailable") else {
        unreachable!()
    };
    assert_eq!(
        m.unavailability_reason.as_deref(),
        Some("media encrypted end to end")
    );

    let data = vector("laes-cc-apdu");
    let apdu = CcApdu::decode(&data).unwrap();
    assert_eq!(apdu.encode(), data);
    let h = apdu.delivery_header.unwrap();
    assert_eq!(h.correlation_info.case_id.as_deref(), Some("LIID-0042"));
    assert_eq!(h.time_stamp.unwrap().as_str(), "20240304050626.000001Z");
    assert_eq!(h.packet_direction, Some(PacketDirection::ToSubject));
    assert_eq!(h.sequence_number, Some(70000));
    assert_eq!(apdu.payload.len(), 44);

    let data = vector("laes-cc-apdu-call-id");
    let apdu = CcApdu::decode(&data).unwrap();
    assert_eq!(apdu.encode(), data);
    let h = apdu.delivery_header.unwrap();
    assert_eq!(h.correlation_info.case_id, None);
    assert_eq!(
        h.correlation_info.content_identifier,
        ContentIdentifier::CallId(call())
    );
    assert_eq!(
        (h.time_stamp, h.packet_direction, h.sequence_number),
        (None, None, None)
    );
}

#[test]
fn other_messages() {
    let LaesMessage::Change(m) = message("laes-change") else {
        unreachable!()
    };
    assert_eq!(m.previous.call_identities.len(), 2);
    assert_eq!(m.resulting.call_identities[0].main, "merged@192.0.2.10");
    assert!(m.resulting.delivery_identifier.is_some());
    assert_eq!(message("laes-null-6"), LaesMessage::Null6(()));
    let LaesMessage::ConfPartyChange(m) = message("laes-conf-party-change") else {
        unreachable!()
    };
    assert_eq!(m.communicating_parties.unwrap().len(), 2);
    let LaesMessage::Connection(m) = message("laes-connection") else {
        unreachable!()
    };
    assert_eq!(m.call_id.len(), 2);
    let LaesMessage::ConnectionBreak(m) = message("laes-connection-break") else {
        unreachable!()
    };
    assert_eq!(
        m.dropped_parties.unwrap()[0].imsi.as_deref(),
        Some("310150123456789")
    );
    let LaesMessage::DialedDgtExtrn(m) = message("laes-dialed-digit-extraction") else {
        unreachable!()
    };
    assert_eq!(m.digits, "1234#");
    let LaesMessage::NetworkSignal(m) = message("laes-network-signal") else {
        unreachable!()
    };
    assert_eq!(m.alerting_signal, Some(AlertingSignal::CallWaitingPattern1));
    assert_eq!(m.subject_audible_signal, Some(AudibleSignal::RingbackTone));
    assert_eq!(
        m.terminal_display_info.unwrap().calling_name.as_deref(),
        Some("Bob")
    );
    assert_eq!(
        m.refer,
        Some(Refer::Sip(vec!["Refer-To: <sip:carol@example.org>".into()]))
    );
    let LaesMessage::SubjectSignal(m) = message("laes-subject-signal") else {
        unreachable!()
    };
    assert_eq!(m.signal.dialed_digits.as_deref(), Some("*72"));
    assert_eq!(m.signal.refer, Some(Refer::H323(vec![1, 2, 3])));
    assert!(matches!(m.input, Input::UserInput(InputValue::Specific(_))));
    let LaesMessage::FeatureManagement(m) = message("laes-feature-management") else {
        unreachable!()
    };
    assert_eq!(m.management_type, FeatureManagementType::Activation);
    assert_eq!(m.feature_id, "call-forward-unconditional");
    let LaesMessage::UuContent(m) = message("laes-uu-content") else {
        unreachable!()
    };
    let Some(ProtocolSpecificParameters::Sip(sip)) = m.content else {
        unreachable!()
    };
    assert_eq!(sip.sip_body.unwrap().contents, b"hello");
}
