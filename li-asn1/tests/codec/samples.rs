//! Vectors produced by other encoders.

use li_asn1::ipaccess::IpCcContents;
use li_asn1::{CcContents, Payload, PayloadDirection, PsPdu};

#[test]
fn pycrate_ipcc_sample_decodes_and_reencodes_identically() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ps-pdu-ipcc.ber"
    ))
    .unwrap();
    let pdu = PsPdu::decode(&data).unwrap();
    let h = &pdu.header;
    assert_eq!(h.li_ps_domain_id.arcs(), &[0, 4, 0, 2, 2, 5, 1, 43]);
    assert_eq!(h.lawful_interception_identifier.as_bytes(), b"LIID-0001");
    assert_eq!(h.authorization_country_code.as_deref(), Some("DE"));
    let ci = &h.communication_identifier;
    assert_eq!(ci.network_identifier.operator_identifier, b"OPERATOR");
    assert_eq!(
        ci.network_identifier.network_element_identifier.as_deref(),
        Some(&b"NE-1"[..])
    );
    assert_eq!(ci.communication_identity_number, Some(42));
    assert_eq!(ci.delivery_country_code.as_deref(), Some("DE"));
    assert_eq!(h.sequence_number, 7);
    let ts = h.time_stamp.as_ref().unwrap();
    assert_eq!(ts.as_str(), "20240102030405.678Z");
    assert_eq!(
        ts.timestamp().to_micro_second_time_stamp(),
        (1_704_164_645, 678_000)
    );
    let Payload::CcPayloadSequence(cc) = &pdu.payload else {
        panic!("{:?}", pdu.payload)
    };
    assert_eq!(cc.len(), 1);
    assert_eq!(cc[0].payload_direction, Some(PayloadDirection::FromTarget));
    let CcContents::IpCc(ipcc) = &cc[0].cc_contents else {
        panic!()
    };
    assert_eq!(ipcc.obj_id.arcs(), &[5, 3, 18, 2]);
    let IpCcContents::IpPackets(p) = &ipcc.contents else {
        panic!()
    };
    assert_eq!(p.len(), 32);
    assert_eq!(&p[..2], &[0x45, 0x00]);
    assert_eq!(pdu.encode(), data);
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn pycrate_ipmm_sip_iri_decodes_typed_and_reencodes_identically() {
    use li_asn1::ipmm::{AdditionalSignalling, IpmmIriContents};
    use li_asn1::pdu::IpValue;
    use li_asn1::{IriContents, IriType};

    let data = data("ps-pdu-ipmmiri-sip.ber");
    let pdu = PsPdu::decode(&data).unwrap();
    assert_eq!(pdu.header.sequence_number, 300);
    let Payload::IriPayloadSequence(iri) = &pdu.payload else {
        panic!("{:?}", pdu.payload)
    };
    assert_eq!(iri[0].iri_type, Some(IriType::Begin));
    let IriContents::IpmmIri(ipmm) = &iri[0].iri_contents else {
        panic!("not typed: {:?}", iri[0].iri_contents)
    };
    assert_eq!(ipmm.obj_id.arcs(), &[5, 5, 14, 1]);
    let IpmmIriContents::SipMessage(sip) = &ipmm.contents else {
        panic!("{:?}", ipmm.contents)
    };
    assert_eq!(
        sip.ip_source_address.ip_value,
        IpValue::Binary(vec![192, 0, 2, 10])
    );
    assert_eq!(
        sip.ip_destination_address.ip_value,
        IpValue::Binary(vec![198, 51, 100, 1])
    );
    assert!(
        sip.sip_content
            .starts_with(b"INVITE sip:bob@example.net SIP/2.0\r\n")
    );
    assert!(sip.sip_content.ends_with(b"Content-Length: 0\r\n\r\n"));
    assert_eq!(
        ipmm.additional_signalling,
        Some(vec![AdditionalSignalling::SipHeaderLine(
            b"Contact: tel:+123456789".to_vec()
        )])
    );
    assert_eq!(pdu.encode(), data);
}

#[test]
fn pycrate_ipmm_rtp_cc_decodes_typed_and_reencodes_identically() {
    use li_asn1::ipmm::{FrameType, MmccProtocol};

    let data = data("ps-pdu-ipmmcc-rtp.ber");
    let pdu = PsPdu::decode(&data).unwrap();
    assert_eq!(pdu.header.sequence_number, 304);
    let Payload::CcPayloadSequence(cc) = &pdu.payload else {
        panic!("{:?}", pdu.payload)
    };
    assert_eq!(cc[0].payload_direction, Some(PayloadDirection::FromTarget));
    let CcContents::IpmmCc(ipmm) = &cc[0].cc_contents else {
        panic!("not typed: {:?}", cc[0].cc_contents)
    };
    assert_eq!(ipmm.obj_id.arcs(), &[5, 5, 14, 2]);
    assert_eq!(ipmm.contents.len(), 12 + 160);
    assert_eq!(&ipmm.contents[..4], &[0x80, 0x00, 0x00, 0x01]);
    assert_eq!(ipmm.frame_type, Some(FrameType::RtpFrame));
    assert_eq!(
        ipmm.stream_identifier.as_deref(),
        Some(&b"m=audio 49170 RTP/AVP 0"[..])
    );
    assert_eq!(ipmm.protocol, Some(MmccProtocol::Rtp));
    assert_eq!(pdu.encode(), data);
}
