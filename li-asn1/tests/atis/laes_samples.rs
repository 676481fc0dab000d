//! The project's ATIS-1000678 samples (`shared/standards/samples/atis-t1678-*.ber`, copied to
//! tests/data/atis/sample-t1678-*.ber; values in samples/README.md) decode typed to the
//! values pycrate was given, and re-encode byte-identically.

use li_asn1::atis::laes::{LaesMessage, LaesProtocol};
use li_asn1::atis::laes_cc::{CallIdentity, CcApdu, ContentIdentifier, PacketDirection};
use li_asn1::atis::laes_party::{
    CcDeliveryFormat, CccIdentity, DeliveryIdentifier, Input, InputValue, MediaCharacteristics,
    MediaStatus, ParameterFormat, PartyIdentity,
};
use li_asn1::atis::{laes_cc_oid, laes_oid};

use crate::vectors::vector;

const SDP: &str = "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";

/// Decodes a sample, checks the wrapper, header and byte-identical re-encoding, returns the
/// message.
fn sample(name: &str, alternative: &str, time: &str) -> LaesMessage {
    let data = vector(&format!("sample-t1678-{name}"));
    let p = LaesProtocol::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        p.encode(),
        data,
        "{name}: re-encoding differs from pycrate's"
    );
    let LaesProtocol::Enhanced {
        protocol_identifier,
        message,
    } = p
    else {
        panic!("{name}: not the enhanced form");
    };
    assert_eq!(protocol_identifier, laes_oid());
    assert_eq!(message.asn1_name(), Some(alternative));
    assert!(!format!("{message:?}").contains("Unknown("), "{message:?}");
    let h = message.header().unwrap();
    assert_eq!(h.case_id.as_str(), "CASE-0001");
    assert_eq!(h.iap_system_id.as_deref(), Some("IAP-1"));
    assert_eq!(h.timestamp.as_str(), time);
    message
}

fn call_id() -> CallIdentity {
    CallIdentity {
        main: "a84b4c76e66710@pc33.example.com".into(),
        leg: Some("1".into()),
    }
}

#[test]
fn origination() {
    let LaesMessage::Origination(m) = sample("origination", "origination", "20240102030405.678Z")
    else {
        unreachable!()
    };
    assert_eq!(m.call_id, call_id());
    assert_eq!(
        m.calling,
        Some(PartyIdentity::from_uris(["sip:alice@example.com"]))
    );
    assert_eq!(
        m.called,
        Some(PartyIdentity::from_uris(["sip:bob@example.net"]))
    );
    assert_eq!(
        m.input,
        Input::UserInput(InputValue::Specific(PartyIdentity::from_uris([
            "sip:bob@example.net"
        ])))
    );
    assert_eq!(
        m.subject_media.unwrap().characteristics,
        Some(MediaCharacteristics::Sdp(SDP.into()))
    );
    assert_eq!(m.origination_cause, "normal");
    assert_eq!(m.signaling_msg, None);
}

#[test]
fn answer() {
    let LaesMessage::Answer(m) = sample("answer", "answer", "20240102030407.678Z") else {
        unreachable!()
    };
    assert_eq!(m.call_id, call_id());
    assert_eq!(
        m.answering,
        Some(PartyIdentity::from_uris(["sip:bob@example.net"]))
    );
    assert_eq!((m.location, m.answering_media), (None, None));
}

#[test]
fn cc_open() {
    let LaesMessage::CcOpen(m) = sample("ccopen", "ccOpen", "20240102030407.678Z") else {
        unreachable!()
    };
    assert_eq!(
        m.content_identifier,
        ContentIdentifier::CorrelationId(vec![0, 0, 0, 1])
    );
    assert_eq!(
        m.delivery_identifier,
        DeliveryIdentifier::CccId(CccIdentity::CombCcc("0000ABCD".into()))
    );
    assert_eq!(
        m.cc_delivery_format,
        CcDeliveryFormat::CcApdu(laes_cc_oid())
    );
    let media = m.subject_media.unwrap();
    assert_eq!(
        media.characteristics,
        Some(MediaCharacteristics::Sdp(SDP.into()))
    );
    assert_eq!(media.status, Some(MediaStatus::Granted));
}

#[test]
fn release() {
    let LaesMessage::Release(m) = sample("release", "release", "20240102030430.678Z") else {
        unreachable!()
    };
    assert_eq!(m.call_id, call_id());
    let cause = m.cause.unwrap();
    assert_eq!(cause.signaling_type, "SIP");
    assert_eq!(cause.cause, Some(ParameterFormat::Generic("BYE".into())));
}

#[test]
fn cc_apdu() {
    let data = vector("sample-t1678-cc-apdu");
    let apdu = CcApdu::decode(&data).unwrap();
    assert_eq!(apdu.encode(), data);
    let h = apdu.delivery_header.unwrap();
    assert_eq!(h.correlation_info.case_id.as_deref(), Some("CASE-0001"));
    assert_eq!(h.correlation_info.iap_id.as_deref(), Some("IAP-1"));
    // the CCOpen sample announced the same content identifier
    assert_eq!(
        h.correlation_info.content_identifier,
        ContentIdentifier::CorrelationId(vec![0, 0, 0, 1])
    );
    assert_eq!(h.time_stamp.unwrap().as_str(), "20240102030408.678Z");
    assert_eq!(h.packet_direction, Some(PacketDirection::FromSubject));
    assert_eq!(h.sequence_number, Some(1));
    assert_eq!(apdu.payload.len(), 44);
    // IPv4/UDP/RTP: version 2, SSRC deadbeef, payload 00112233
    assert_eq!(apdu.payload[0], 0x45);
    assert_eq!(apdu.payload[28] >> 6, 2);
    assert_eq!(&apdu.payload[36..40], &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(&apdu.payload[40..], &[0x00, 0x11, 0x22, 0x33]);
}

/// The shipped copies are the project's samples as they are now (skipped, with the reason,
/// where `shared/` is not beside the checkout).
#[test]
fn copies_match_shared_samples() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/standards/samples");
    if !dir.is_dir() {
        eprintln!(
            "skipped: {} is absent (not the project's machine)",
            dir.display()
        );
        return;
    }
    for name in ["answer", "cc-apdu", "ccopen", "origination", "release"] {
        let shared = std::fs::read(dir.join(format!("atis-t1678-{name}.ber"))).unwrap();
        assert_eq!(shared, vector(&format!("sample-t1678-{name}")), "{name}");
    }
}

/// The hot-path encoder, fed the sample's values, writes the sample's octets.
#[test]
fn cc_apdu_encoder_writes_the_sample() {
    use li_asn1::atis::CaseIdentity;
    use li_asn1::atis::laes_cc::CcApduEncoder;

    let data = vector("sample-t1678-cc-apdu");
    let apdu = CcApdu::decode(&data).unwrap();
    let h = apdu.delivery_header.as_ref().unwrap();
    let encoder = CcApduEncoder::for_case(
        &CaseIdentity::new("CASE-0001").unwrap(),
        Some("IAP-1"),
        &ContentIdentifier::CorrelationId(vec![0, 0, 0, 1]),
    );
    let mut out = Vec::new();
    encoder.encode(
        1,
        h.time_stamp.as_ref().unwrap().timestamp(),
        PacketDirection::FromSubject,
        &apdu.payload,
        &mut out,
    );
    assert_eq!(out, data);
}
