//! Decoding of pycrate's encodings (tests/data/packetcable, made by gen_vectors.py there):
//! every message kind decodes to the values pycrate was given, with no alternative left
//! unknown, and our re-encoding is byte-identical to pycrate's.

use std::path::PathBuf;

use li_asn1::packetcable::*;

fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/packetcable")
        .join(format!("{name}.ber"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a vector, checks the header pycrate was given and the byte-identical
/// re-encoding, and returns the message.
fn pdu(name: &str, alternative: &str, time: &str) -> Message {
    let data = vector(name);
    let p = CdcPdu::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(p.protocol_version, ProtocolVersion::Io3);
    assert_eq!(p.message.asn1_name(), Some(alternative), "{name}");
    assert!(!format!("{p:?}").contains("Unknown("), "{name}: {p:?}");
    assert_eq!(
        p.encode(),
        data,
        "{name}: re-encoding differs from pycrate's"
    );
    let h = p.message.header().unwrap();
    assert_eq!(h.case_id.as_str(), "CASE-PC-0001");
    assert_eq!(h.accessing_element_id.as_str(), "CMS-12");
    assert_eq!(h.event_time.as_str(), format!("202401020304{time}Z"));
    p.message
}

fn call() -> CallId {
    CallId::from_billing_correlation_id(1_704_164_645, 7, "CMS-12").unwrap()
}

fn call2() -> CallId {
    CallId::from_billing_correlation_id(1_704_164_700, 8, "CMS-12").unwrap()
}

fn alice() -> PartyId {
    PartyId {
        dn: Some("13035550100".into()),
        ip_address: Some("192.0.2.10".into()),
        context: Some("sip:alice@example.com".into()),
        ..PartyId::default()
    }
}

fn bob() -> PartyId {
    PartyId {
        dn: Some("13035550199".into()),
        user_provided: Some("13035550198".into()),
        generic_name: Some("Bob Smith".into()),
        ..PartyId::default()
    }
}

fn carol() -> PartyId {
    PartyId {
        trunk_id: Some("T-42".into()),
        generic_address: Some("carol@example.net".into()),
        generic_digits: Some("5550123".into()),
        port: Some("5060".into()),
        ..PartyId::default()
    }
}

const SDP_A: &str =
    "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\nc=IN IP4 192.0.2.10\r\nm=audio 49170 RTP/AVP 0\r\n";
const SDP_B: &str =
    "v=0\r\no=bob 2 2 IN IP4 198.51.100.1\r\nc=IN IP4 198.51.100.1\r\nm=audio 3456 RTP/AVP 0\r\n";

#[test]
fn call_messages() {
    let Message::Answer(m) = pdu("answer", "answer", "01.25") else {
        unreachable!()
    };
    assert_eq!(m.call_id, call());
    assert_eq!(m.call_id.sequence_number, "1704164645,7");
    assert_eq!(m.answering, Some(bob()));

    let Message::Origination(m) = pdu("origination", "origination", "05.25") else {
        unreachable!()
    };
    assert_eq!(
        (m.call_id, m.calling, m.called),
        (call(), alice(), Some(bob()))
    );
    assert_eq!(m.input, OriginationInput::UserInput("5550199".into()));
    assert_eq!(m.transit_carrier_id.as_deref(), Some("0288"));

    let Message::Origination(m) = pdu("origination-translation", "origination", "06.25") else {
        unreachable!()
    };
    assert_eq!(
        m.input,
        OriginationInput::TranslationInput("+13035550199".into())
    );
    assert_eq!((m.called, m.transit_carrier_id), (None, None));

    let Message::Redirection(m) = pdu("redirection", "redirection", "07.25") else {
        unreachable!()
    };
    assert_eq!((m.old, m.redirected_to), (call(), carol()));
    assert_eq!(m.transit_carrier_id.as_deref(), Some("0333"));
    assert_eq!((m.new, m.redirected_from), (Some(call2()), Some(bob())));

    let Message::Release(m) = pdu("release", "release", "08.25") else {
        unreachable!()
    };
    assert_eq!(m.call_id, call());

    let Message::TerminationAttempt(m) = pdu("terminationattempt", "terminationattempt", "09.25")
    else {
        unreachable!()
    };
    assert_eq!((m.calling, m.called), (Some(bob()), Some(alice())));
    let info = m.redirected_from_info.unwrap();
    assert_eq!(info.last_redirecting, Some(carol()));
    assert_eq!(
        info.original_called.unwrap().dn.as_deref(),
        Some("13035550111")
    );
    assert_eq!(info.num_redirections, Some(2));

    let Message::ServiceInstance(m) = pdu("serviceinstance", "serviceinstance", "14.25") else {
        unreachable!()
    };
    assert_eq!((m.call_id, m.related_call_id), (call(), Some(call2())));
    assert_eq!(m.service_name, "Three-Way Calling");
    assert_eq!(
        (
            m.first_call_calling,
            m.second_call_calling,
            m.called,
            m.calling
        ),
        (Some(alice()), Some(bob()), Some(carol()), Some(alice()))
    );
}

#[test]
fn content_messages() {
    let Message::CcOpen(m) = pdu("ccopen", "ccopen", "03.25") else {
        unreachable!()
    };
    assert_eq!(
        m.cc_open_option,
        CcOpenOption::CcOpenTime(vec![call(), call2()])
    );
    assert_eq!(m.ccc_id, CccId::comb(0x0102_00ab));
    assert_eq!(m.ccc_id.identifiers(), Some((0x0102_00ab, None)));
    assert_eq!(
        (m.subject.as_deref(), m.associate.as_deref()),
        (Some(SDP_A), Some(SDP_B))
    );
    assert_eq!(m.flow_direction, FlowDirection::DownstreamAndUpstream);

    let Message::CcOpen(m) = pdu("ccopen-sep-reserved", "ccopen", "04") else {
        unreachable!()
    };
    assert_eq!(m.cc_open_option, CcOpenOption::Reserved0);
    assert_eq!(m.ccc_id, CccId::sep(0xabcd, 0xabce));
    assert_eq!(m.ccc_id.identifiers(), Some((0xabcd, Some(0xabce))));
    assert_eq!((m.subject, m.associate), (None, None));
    assert_eq!(m.flow_direction, FlowDirection::Upstream);

    let Message::CcChange(m) = pdu("ccchange", "ccchange", "10.25") else {
        unreachable!()
    };
    assert_eq!((m.call_id, m.ccc_id), (call(), CccId::comb(0x0102_00ac)));
    assert_eq!(m.flow_direction, FlowDirection::Downstream);
    assert_eq!(m.resource_state, Some(ResourceState::Committed));
    assert_eq!(m.subject.as_deref(), Some(SDP_A));

    let Message::CcClose(m) = pdu("ccclose", "ccclose", "02.25") else {
        unreachable!()
    };
    assert_eq!(m.ccc_id, CccId::CombCcc("010200AB".into()));
    assert_eq!(m.flow_direction, FlowDirection::DownstreamAndUpstream);

    let Message::MediaReport(m) = pdu("mediareport", "mediareport", "13.25") else {
        unreachable!()
    };
    assert_eq!(
        (m.subject.as_deref(), m.associate.as_deref()),
        (Some(SDP_A), Some(SDP_B))
    );
}

#[test]
fn signal_messages() {
    let Message::NetworkSignal(m) = pdu("networksignal", "networksignal", "11.25") else {
        unreachable!()
    };
    assert_eq!(m.alerting_signal, Some(AlertingSignal::CallWaitingPattern1));
    assert_eq!(m.subject_audible_signal, Some(AudibleSignal::RingbackTone));
    let d = m.terminal_display_info.unwrap();
    assert_eq!(d.general_display.as_deref(), Some("Incoming call"));
    assert_eq!(d.calling_number.as_deref(), Some("13035550199"));
    assert_eq!(d.calling_name.as_deref(), Some("Bob Smith"));
    assert_eq!(d.message_waiting_notif.as_deref(), Some("2 new"));
    assert_eq!(d.called_number, None);
    assert_eq!(m.other.as_deref(), Some("custom-signal"));

    let Message::SubjectSignal(m) = pdu("subjectsignal", "subjectsignal", "12.25") else {
        unreachable!()
    };
    assert_eq!(m.call_id, Some(call()));
    assert_eq!(m.signal.switchhook_flash.as_deref(), Some("flash"));
    assert_eq!(m.signal.dialed_digits.as_deref(), Some("*69"));
    assert_eq!(m.signal.feature_key, None);
    assert_eq!(
        m.signal.other_signaling_information.as_deref(),
        Some("hookflash-2")
    );
}
