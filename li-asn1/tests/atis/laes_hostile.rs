//! ATIS-1000678 hostile and malformed input: errors that name the field and the place, never
//! a panic; a caseId outside 1..25 visible characters cannot be built for encoding.

use li_asn1::Error;
use li_asn1::atis::laes::{LaesMessage, LaesProtocol};
use li_asn1::atis::laes_cc::CcApdu;
use li_asn1::atis::{CaseIdentity, InvalidCaseIdentity};
use li_asn1::ber::{Tag, Writer};
use proptest::prelude::*;

use crate::laes_strategies::laes_protocol;
use crate::strategies::cc_apdu;

fn decode_all(data: &[u8]) {
    for r in [
        LaesProtocol::decode(data).map(drop),
        CcApdu::decode(data).map(drop),
    ] {
        if let Err(e) = r {
            assert!(e.offset() <= data.len(), "{e} beyond {}", data.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn laes_arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&data);
    }

    /// Arbitrary bytes inside a valid plain/enhanced wrapper reach the message decoders.
    #[test]
    fn laes_arbitrary_message_bodies_never_panic(
        tag in 0u32..30,
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut w = Writer::new();
        w.constructed(Tag::context_constructed(1), |w| {
            w.primitive(Tag::context_constructed(tag), &body);
        });
        decode_all(w.as_slice());
    }

    #[test]
    fn laes_corrupted_messages_never_panic(
        p in laes_protocol(),
        a in cc_apdu(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        for mut data in [p.encode(), a.encode()] {
            for (i, b) in &flips {
                let i = i.index(data.len());
                data[i] ^= b | 1;
            }
            decode_all(&data);
        }
    }

    #[test]
    fn laes_truncated_messages_are_errors(p in laes_protocol(), cut in any::<prop::sample::Index>()) {
        let data = p.encode();
        prop_assert!(LaesProtocol::decode(&data[..cut.index(data.len())]).is_err());
    }
}

/// `LAESProtocol laesMessage [1] { answer [1] { fields } }` written by hand.
fn answer(fields: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    w.constructed(Tag::context_constructed(1), |w| {
        w.constructed(Tag::context_constructed(1), fields);
    });
    w.into_vec()
}

fn header(w: &mut Writer, case: &[u8]) {
    w.primitive(Tag::context(0), case);
    w.primitive(Tag::context(2), b"20240102030405Z");
}

fn call_id(w: &mut Writer) {
    w.constructed(Tag::context_constructed(3), |w| {
        w.primitive(Tag::context(0), b"call-1");
    });
}

#[test]
fn hand_made_answer_decodes_skipping_unknown_components() {
    let data = answer(|w| {
        header(w, b"CASE");
        call_id(w);
        w.primitive(Tag::context(30), b"future");
    });
    let p = LaesProtocol::decode(&data).unwrap();
    let LaesProtocol::Plain(LaesMessage::Answer(m)) = p else {
        panic!("{p:?}")
    };
    assert_eq!(m.header.case_id.as_str(), "CASE");
    assert_eq!(m.header.iap_system_id, None);
    assert_eq!(m.call_id.main, "call-1");
}

#[test]
fn case_id_of_26_characters_is_refused_both_ways() {
    let long = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    assert_eq!(
        CaseIdentity::new(long),
        Err(InvalidCaseIdentity::Length(26))
    );
    assert_eq!(CaseIdentity::new(""), Err(InvalidCaseIdentity::Length(0)));
    assert_eq!(
        CaseIdentity::new("CASE\u{7}"),
        Err(InvalidCaseIdentity::Character { position: 4 })
    );
    assert_eq!(
        CaseIdentity::new(&long[..25]).unwrap().as_str(),
        &long[..25]
    );
    let data = answer(|w| {
        header(w, long.as_bytes());
        call_id(w);
    });
    let err = LaesProtocol::decode(&data).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidValue {
            field: "Answer.caseId",
            offset: 4,
            reason: "size outside the constraint"
        }
    );
}

#[test]
fn missing_and_duplicate_fields_are_named() {
    let data = answer(|w| header(w, b"CASE"));
    assert_eq!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::MissingField {
            field: "Answer.callId",
            offset: 2
        }
    );
    let data = answer(|w| {
        w.primitive(Tag::context(2), b"20240102030405Z");
        call_id(w);
    });
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::MissingField {
            field: "Answer.caseId",
            ..
        }
    ));
    let data = answer(|w| {
        header(w, b"CASE");
        call_id(w);
        call_id(w);
    });
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::DuplicateField {
            field: "Answer.callId",
            ..
        }
    ));
    // the iAPSystemId of SurveillanceStatus is named reportingSystemId
    let mut w = Writer::new();
    w.constructed(Tag::context_constructed(1), |w| {
        w.constructed(Tag::context_constructed(22), |w| {
            header(w, b"CASE");
            w.primitive(Tag::context(1), b"SYSTEM-NAME-LONGER-THAN-15");
        });
    });
    assert!(matches!(
        LaesProtocol::decode(w.as_slice()).unwrap_err(),
        Error::InvalidValue {
            field: "SurveillanceStatus.reportingSystemId",
            ..
        }
    ));
}

#[test]
fn wrong_tags_are_named() {
    // neither enhancedProtocol [0] nor laesMessage [1]
    let err = LaesProtocol::decode(&[0x30, 0x00]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedTag {
                field: "LAESProtocol",
                offset: 0,
                ..
            }
        ),
        "{err}"
    );
    // callId [3] primitive: a SEQUENCE needs the constructed form
    let data = answer(|w| {
        header(w, b"CASE");
        w.primitive(Tag::context(3), b"call-1");
    });
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::InvalidValue {
            field: "Answer.callId",
            reason: "expected the constructed form",
            ..
        }
    ));
    // Origination without its untagged input CHOICE
    let mut w = Writer::new();
    w.constructed(Tag::context_constructed(1), |w| {
        w.constructed(Tag::context_constructed(5), |w| {
            header(w, b"CASE");
            call_id(w);
            w.primitive(Tag::context(11), b"normal");
        });
    });
    assert!(matches!(
        LaesProtocol::decode(w.as_slice()).unwrap_err(),
        Error::MissingField {
            field: "Origination.input",
            ..
        }
    ));
    // an enhancedProtocol without its OID
    let mut w = Writer::new();
    w.constructed(Tag::context_constructed(0), |w| {
        w.constructed(Tag::context_constructed(1), |w| {
            w.constructed(Tag::context_constructed(1), |w| {
                header(w, b"CASE");
                call_id(w);
            });
        });
    });
    assert!(matches!(
        LaesProtocol::decode(w.as_slice()).unwrap_err(),
        Error::MissingField {
            field: "EnhancedProtocol.protocolIdentifier",
            ..
        }
    ));
}

#[test]
fn huge_lengths_and_truncation_are_errors() {
    // laesMessage [1] claiming 2^56 octets
    let data = [0xa1, 0x88, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xa1, 0x00];
    decode_all(&data);
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::Truncated { offset: 0, .. }
    ));
    // a caseId claiming more than its message holds
    let data = answer(|w| w.raw(&[0x80, 0x84, 0x7f, 0xff, 0xff, 0xff]));
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::InvalidLength { offset: 4, .. }
    ));
    // every strict prefix of a good message is an error
    let data = answer(|w| {
        header(w, b"CASE");
        call_id(w);
    });
    for cut in 0..data.len() {
        assert!(LaesProtocol::decode(&data[..cut]).is_err(), "cut {cut}");
    }
    // trailing octets
    let mut long = data.clone();
    long.push(0);
    assert_eq!(
        LaesProtocol::decode(&long).unwrap_err(),
        Error::TrailingData {
            offset: data.len(),
            count: 1
        }
    );
}

#[test]
fn nested_constraint_violations_name_the_inner_field() {
    // a PartyIdentity dn [6] of 16 characters (1..15) inside answering [4]
    let data = answer(|w| {
        header(w, b"CASE");
        call_id(w);
        w.constructed(Tag::context_constructed(4), |w| {
            w.primitive(Tag::context(6), b"1234567890123456");
        });
    });
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::InvalidValue {
            field: "PartyIdentity.dn",
            reason: "size outside the constraint",
            ..
        }
    ));
    // a MediaInformation status outside the ENUMERATED
    let data = answer(|w| {
        header(w, b"CASE");
        call_id(w);
        w.constructed(Tag::context_constructed(6), |w| {
            w.primitive(Tag::context(2), &[9]);
        });
    });
    assert!(matches!(
        LaesProtocol::decode(&data).unwrap_err(),
        Error::InvalidValue {
            field: "MediaInformation.status",
            ..
        }
    ));
}

#[test]
fn unknown_message_alternative_is_kept_as_received() {
    // laesMessage [1] { [30] { caseId "CASE" } }: a later version's message
    let mut w = Writer::new();
    w.constructed(Tag::context_constructed(1), |w| {
        w.constructed(Tag::context_constructed(30), |w| {
            w.primitive(Tag::context(0), b"CASE")
        });
    });
    let data = w.into_vec();
    let p = LaesProtocol::decode(&data).unwrap();
    let LaesProtocol::Plain(LaesMessage::Unknown(u)) = &p else {
        panic!("{p:?}")
    };
    assert_eq!(u.tag_number, 30);
    assert!(u.value.constructed);
    assert_eq!(u.value.content, [0x80, 4, b'C', b'A', b'S', b'E']);
    assert_eq!(p.message().header(), None);
    assert_eq!(p.encode(), data);
}
