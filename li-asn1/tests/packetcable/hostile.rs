//! Hostile and malformed input: errors that name the field and the place, never a panic;
//! tolerance where the module allows it.

use li_asn1::Error;
use li_asn1::ber::{Tag, Writer};
use li_asn1::packetcable::{AccessingElementId, CaseId, CdcPdu, Message, ValueError};
use proptest::prelude::*;

use crate::strategies::cdc_pdu;

fn decode_checked(data: &[u8]) {
    if let Err(e) = CdcPdu::decode(data) {
        assert!(e.offset() <= data.len(), "{e} beyond {}", data.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_checked(&data);
    }

    #[test]
    fn corrupted_messages_never_panic(
        p in cdc_pdu(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut data = p.encode();
        for (i, b) in &flips {
            let i = i.index(data.len());
            data[i] ^= b | 1;
        }
        decode_checked(&data);
    }

    #[test]
    fn truncated_messages_are_errors(p in cdc_pdu(), cut in any::<prop::sample::Index>()) {
        let data = p.encode();
        prop_assert!(CdcPdu::decode(&data[..cut.index(data.len())]).is_err());
    }
}

/// A `CdcPdu` whose message `[tag]` has the given components (written raw).
fn pdu_with(tag: u32, components: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    w.constructed(Tag::SEQUENCE, |w| {
        w.i64(Tag::context(0), 3);
        w.constructed(Tag::context_constructed(1), |w| {
            w.constructed(Tag::context_constructed(tag), components);
        });
    });
    w.into_vec()
}

fn header(w: &mut Writer, case: &[u8]) {
    w.primitive(Tag::context(0), case);
    w.primitive(Tag::context(1), b"CMS-1");
    w.primitive(Tag::context(2), b"20240102030405Z");
}

fn call_id(w: &mut Writer, tag: u32) {
    w.constructed(Tag::context_constructed(tag), |w| {
        w.primitive(Tag::context(0), b"1,2");
        w.primitive(Tag::context(1), b"CMS-1");
    });
}

#[test]
fn a_release_decodes() {
    let data = pdu_with(8, |w| {
        header(w, b"CASE-1");
        call_id(w, 3);
    });
    let p = CdcPdu::decode(&data).unwrap();
    assert_eq!(p.message.asn1_name(), Some("release"));
    assert_eq!(p.encode(), data);
}

#[test]
fn missing_mandatory_component_is_named() {
    let data = pdu_with(8, |w| header(w, b"CASE-1"));
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingField {
                field: "Release.callId",
                ..
            }
        ),
        "{e}"
    );

    let data = pdu_with(1, |w| {
        w.primitive(Tag::context(1), b"CMS-1");
        w.primitive(Tag::context(2), b"20240102030405Z");
        call_id(w, 3);
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingField {
                field: "Answer.caseId",
                ..
            }
        ),
        "{e}"
    );

    let data = pdu_with(8, |w| {
        header(w, b"CASE-1");
        w.constructed(Tag::context_constructed(3), |w| {
            w.primitive(Tag::context(0), b"1,2")
        });
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingField {
                field: "CallId.systemidentity",
                ..
            }
        ),
        "{e}"
    );

    // no message at all
    let mut w = Writer::new();
    w.constructed(Tag::SEQUENCE, |w| w.i64(Tag::context(0), 3));
    let e = CdcPdu::decode(&w.into_vec()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingField {
                field: "CdcPdu.message",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn duplicate_component_is_named() {
    let data = pdu_with(8, |w| {
        header(w, b"CASE-1");
        call_id(w, 3);
        call_id(w, 3);
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DuplicateField {
                field: "Release.callId",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("Release.callId"), "{e}");
}

#[test]
fn case_id_outside_its_constraint_is_named() {
    let data = pdu_with(8, |w| {
        header(w, b"CASE-0123456789-0123456789"); // 26 characters
        call_id(w, 3);
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidValue {
                field: "Release.caseId",
                ..
            }
        ),
        "{e}"
    );
    let data = pdu_with(8, |w| {
        header(w, b"");
        call_id(w, 3);
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidValue {
                field: "Release.caseId",
                ..
            }
        ),
        "{e}"
    );

    // and the same constraint when a value is made for encoding
    assert!(CaseId::new(&"C".repeat(25)).is_ok());
    assert_eq!(
        CaseId::new(&"C".repeat(26)),
        Err(ValueError {
            field: "CaseId",
            reason: "size outside the constraint"
        })
    );
    assert!(CaseId::new("").is_err());
    assert!(CaseId::new("caf\u{e9}").is_err());
    assert!(AccessingElementId::new(&"E".repeat(16)).is_err());
}

#[test]
fn character_outside_visible_string_is_named() {
    let data = pdu_with(1, |w| {
        header(w, b"CASE-1");
        call_id(w, 3);
        w.constructed(Tag::context_constructed(4), |w| {
            w.primitive(Tag::context(6), b"555\n0100")
        });
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidValue {
                field: "PartyId.dn",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn wrong_forms_are_errors() {
    // CdcPdu not a SEQUENCE
    let e = CdcPdu::decode(&[0x04, 0x00]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnexpectedTag {
                field: "CdcPdu",
                ..
            }
        ),
        "{e}"
    );
    // cCCId not explicit (the alternative directly under [3])
    let data = pdu_with(2, |w| {
        header(w, b"CASE-1");
        w.primitive(Tag::context(3), b"010200AB");
        w.i64(Tag::context(4), 3);
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidValue {
                field: "CCClose.cCCId",
                ..
            }
        ),
        "{e}"
    );
    // a bad time
    let data = pdu_with(8, |w| {
        w.primitive(Tag::context(0), b"CASE-1");
        w.primitive(Tag::context(1), b"CMS-1");
        w.primitive(Tag::context(2), b"2024-01-02");
        call_id(w, 3);
    });
    let e = CdcPdu::decode(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidValue {
                field: "Release.eventTime",
                ..
            }
        ),
        "{e}"
    );
    // trailing octets
    let mut data = pdu_with(8, |w| {
        header(w, b"CASE-1");
        call_id(w, 3);
    });
    data.push(0);
    assert!(matches!(
        CdcPdu::decode(&data),
        Err(Error::TrailingData { count: 1, .. })
    ));
}

#[test]
fn tolerated_forms() {
    // unknown components skipped, reserved NULLs absent, a reserved Message alternative kept
    let data = pdu_with(5, |w| {
        header(w, b"CASE-1");
        call_id(w, 3);
        w.constructed(Tag::context_constructed(4), |w| {
            w.primitive(Tag::context(6), b"5550100")
        });
        w.primitive(Tag::context(6), b"5550199");
        w.primitive(Tag::context(30), b"later");
    });
    let p = CdcPdu::decode(&data).unwrap();
    let Message::Origination(m) = &p.message else {
        panic!("{p:?}")
    };
    assert_eq!(m.calling.dn.as_deref(), Some("5550100"));
    // re-encoded with the mandatory reserved0 [8] NULL
    let again = CdcPdu::decode(&p.encode()).unwrap();
    assert_eq!(again, p);
    assert!(p.encode().windows(2).any(|x| x == [0x88, 0x00]));

    let data = pdu_with(9, |w| w.null(Tag::context(0)));
    // [9] is reserved: kept opaque, not decoded as a message
    let p = CdcPdu::decode(&data).unwrap();
    assert!(matches!(&p.message, Message::Unknown(u) if u.tag_number == 9));
    assert_eq!(p.encode(), data);

    // indefinite lengths
    let definite = pdu_with(8, |w| {
        header(w, b"CASE-1");
        call_id(w, 3);
    });
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend_from_slice(&definite[2..]);
    indefinite.extend_from_slice(&[0, 0]);
    assert_eq!(
        CdcPdu::decode(&indefinite).unwrap(),
        CdcPdu::decode(&definite).unwrap()
    );
}
