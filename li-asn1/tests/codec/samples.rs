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
