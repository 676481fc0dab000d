//! The ATIS-1000678 call-data state machine on SIP texts built here: which messages each
//! SIP message of a call becomes. Every message is encoded and decoded back first.

use li_asn1::atis::laes::{LaesMessage, LaesProtocol};
use li_asn1::atis::laes_party::ParameterFormat;
use li_asn1::atis::{CaseIdentity, laes_oid};
use li_core::{Cin, IriType, TargetIdentifier, Timestamp};

use super::*;

const CIN: Cin = Cin::new(4242);

fn time(ms: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_704_164_645 + ms / 1000, (ms % 1000) as u32 * 1000).unwrap()
}

fn calls(enhanced: bool) -> LaesCalls {
    LaesCalls::new(LaesSettings {
        case_id: CaseIdentity::new("CASE-VOIP-1").unwrap(),
        iap_system_id: Some("SBC-1".into()),
        protocol_identifier: enhanced.then(laes_oid),
    })
}

fn request(method: &str, cseq: u32) -> Vec<u8> {
    format!(
        "{method} sip:bob@b.example SIP/2.0\r\nFrom: \"Alice\" <sip:alice@a.example>;tag=1\r\n\
         To: <sip:bob@b.example>\r\nCall-ID: c1@a\r\nCSeq: {cseq} {method}\r\n\r\n"
    )
    .into_bytes()
}

fn response(code: u16, reason: &str, cseq: u32, method: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} {reason}\r\nFrom: \"Alice\" <sip:alice@a.example>;tag=1\r\n\
         To: <sip:bob@b.example>;tag=2\r\nCall-ID: c1@a\r\nCSeq: {cseq} {method}\r\n\r\n"
    )
    .into_bytes()
}

/// Feeds `steps` (IRI type, message) and returns, per step, the names of the messages.
fn run(
    calls: &mut LaesCalls,
    side: TargetSide,
    with_content: bool,
    steps: &[(IriType, Vec<u8>)],
) -> Vec<Vec<&'static str>> {
    steps
        .iter()
        .enumerate()
        .map(|(i, (iri, sip))| {
            let mut out = Vec::new();
            calls.on_sip(
                CIN,
                time(i as u64 * 100),
                *iri,
                sip,
                side,
                with_content,
                &mut out,
            );
            out.iter()
                .map(|m| {
                    let back = LaesProtocol::decode(&m.encode()).unwrap();
                    assert_eq!(&back, m);
                    check_common(m.message(), sip);
                    m.message().asn1_name().unwrap()
                })
                .collect()
        })
        .collect()
}

/// What every message of the call carries: the case, the IAP, the call and the SIP.
fn check_common(m: &LaesMessage, sip: &[u8]) {
    let (header, call_id, signaling) = match m {
        LaesMessage::Origination(x) => (&x.header, Some(&x.call_id), x.signaling_msg.as_ref()),
        LaesMessage::TermAttempt(x) => (&x.header, Some(&x.call_id), x.signaling_msg.as_ref()),
        LaesMessage::Answer(x) => (&x.header, Some(&x.call_id), x.signaling_msg.as_ref()),
        LaesMessage::Release(x) => (&x.header, Some(&x.call_id), x.signaling_msg.as_ref()),
        LaesMessage::Redirection(x) => (&x.header, Some(&x.call_id), x.signaling_msg.as_ref()),
        LaesMessage::MediaAndAddressReporting(x) => {
            (&x.header, Some(&x.call_id), x.signaling_msg.as_ref())
        }
        LaesMessage::ServingSystem(x) => (&x.header, None, x.signaling_msg.as_ref()),
        LaesMessage::DirectSignalReporting(x) => {
            assert_eq!(x.correlation_id, b"4242");
            (&x.header, None, Some(&x.signaling_msg))
        }
        LaesMessage::CcOpen(x) => {
            assert_eq!(x.content_identifier, content_identifier(CIN));
            return;
        }
        LaesMessage::CcChange(x) => {
            assert_eq!(x.content_identifier, content_identifier(CIN));
            return;
        }
        LaesMessage::CcClose(x) => {
            assert_eq!(x.content_identifier, content_identifier(CIN));
            return;
        }
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(header.case_id.as_str(), "CASE-VOIP-1");
    assert_eq!(header.iap_system_id.as_deref(), Some("SBC-1"));
    if let Some(call_id) = call_id {
        assert_eq!(call_id.main, "4242");
    }
    // A Release closing an earlier call under a CIN begun again has no SIP of its own.
    let Some(signaling) = signaling else {
        assert!(
            matches!(m, LaesMessage::Release(_)),
            "the SIP message verbatim in {m:?}"
        );
        return;
    };
    assert_eq!(signaling.len(), 1);
    assert_eq!(signaling[0].signaling_prot, "SIP");
    assert_eq!(signaling[0].sig_msg, sip);
}

#[test]
fn a_call_the_target_places_is_origination_answer_and_release_around_its_content() {
    let mut c = calls(true);
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Begin, request("INVITE", 1)),
            (IriType::Continue, response(180, "Ringing", 1, "INVITE")),
            (IriType::Continue, response(200, "OK", 1, "INVITE")),
            (IriType::Continue, request("ACK", 1)),
            (IriType::Continue, request("BYE", 2)),
            (IriType::End, response(200, "OK", 2, "BYE")),
        ],
    );
    assert_eq!(
        got,
        [
            vec!["origination"],
            vec!["directSignalReporting"],
            vec!["answer", "ccOpen"],
            vec!["directSignalReporting"],
            vec!["release", "ccClose"],
            vec!["directSignalReporting"],
        ]
    );
    assert!(c.is_empty(), "the IRI-End forgets the call");
}

#[test]
fn a_call_to_the_target_is_a_termination_attempt_and_an_iri_only_task_opens_no_content() {
    let mut c = calls(false);
    let got = run(
        &mut c,
        TargetSide::Callee,
        false,
        &[
            (IriType::Begin, request("INVITE", 1)),
            (IriType::Continue, response(200, "OK", 1, "INVITE")),
            (IriType::Continue, request("BYE", 2)),
            // A retransmitted BYE releases nothing twice.
            (IriType::Continue, request("BYE", 2)),
            (IriType::End, response(200, "OK", 2, "BYE")),
        ],
    );
    assert_eq!(
        got,
        [
            vec!["termAttempt"],
            vec!["answer"],
            vec!["release"],
            vec!["directSignalReporting"],
            vec!["directSignalReporting"],
        ]
    );
}

#[test]
fn a_busy_callee_releases_the_call_with_the_status_as_cause() {
    let mut c = calls(false);
    let mut out = Vec::new();
    c.on_sip(
        CIN,
        time(0),
        IriType::Begin,
        &request("INVITE", 1),
        TargetSide::Caller,
        true,
        &mut out,
    );
    out.clear();
    let busy = response(486, "Busy Here", 1, "INVITE");
    c.on_sip(
        CIN,
        time(1),
        IriType::End,
        &busy,
        TargetSide::Caller,
        true,
        &mut out,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    let LaesMessage::Release(release) = out[0].message() else {
        panic!("{out:?}")
    };
    let cause = release.cause.as_ref().unwrap();
    assert_eq!(cause.signaling_type, "SIP");
    assert_eq!(
        cause.cause,
        Some(ParameterFormat::Sip(vec!["SIP/2.0 486 Busy Here".into()]))
    );
    assert!(matches!(out[0], LaesProtocol::Plain(_)));
}

#[test]
fn hold_redirection_registration_and_a_timeout() {
    let mut c = calls(true);
    let got = run(
        &mut c,
        TargetSide::Callee,
        true,
        &[
            (IriType::Begin, request("INVITE", 1)),
            (IriType::Continue, response(200, "OK", 1, "INVITE")),
            // Hold: a re-INVITE and its answer change the media.
            (IriType::Continue, request("INVITE", 2)),
            (IriType::Continue, response(200, "OK", 2, "INVITE")),
            (IriType::Continue, request("UPDATE", 3)),
            // The call times out: its IRI-End repeats the last message.
            (IriType::End, request("ACK", 2)),
        ],
    );
    assert_eq!(
        got,
        [
            vec!["termAttempt"],
            vec!["answer", "ccOpen"],
            vec!["mediaAndAddressReporting", "ccChange"],
            vec!["mediaAndAddressReporting", "ccChange"],
            vec!["mediaAndAddressReporting", "ccChange"],
            vec!["directSignalReporting", "release", "ccClose"],
        ]
    );

    let mut c = calls(false);
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Begin, request("INVITE", 1)),
            (
                IriType::End,
                response(302, "Moved Temporarily", 1, "INVITE"),
            ),
        ],
    );
    assert_eq!(got, [vec!["origination"], vec!["redirection", "release"]]);

    let mut c = calls(false);
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Report, request("REGISTER", 7)),
            (IriType::Report, response(200, "OK", 7, "REGISTER")),
        ],
    );
    assert_eq!(got, [vec!["servingSystem"], vec!["servingSystem"]]);
    assert!(c.is_empty(), "a registration keeps no call state");
}

#[test]
fn an_unknown_side_or_unreadable_sip_is_reported_as_it_is() {
    let mut c = calls(false);
    let got = run(
        &mut c,
        TargetSide::Unknown,
        true,
        &[
            (IriType::Begin, request("INVITE", 1)),
            (IriType::Continue, b"\x00\x01 not SIP".to_vec()),
        ],
    );
    assert_eq!(
        got,
        [vec!["directSignalReporting"], vec!["directSignalReporting"]]
    );
}

#[test]
fn the_party_uris_come_from_from_and_to() {
    let mut c = calls(false);
    let mut out = Vec::new();
    c.on_sip(
        CIN,
        time(0),
        IriType::Begin,
        &request("INVITE", 1),
        TargetSide::Caller,
        true,
        &mut out,
    );
    let LaesMessage::Origination(o) = out[0].message() else {
        panic!("{out:?}")
    };
    assert_eq!(
        o.calling.as_ref().and_then(|p| p.uri.clone()),
        Some(vec!["sip:alice@a.example".to_owned()])
    );
    assert_eq!(
        o.called.as_ref().and_then(|p| p.uri.clone()),
        Some(vec!["sip:bob@b.example".to_owned()])
    );
    assert_eq!(uri_of("sip:carol@c.example;tag=9"), "sip:carol@c.example");
}

#[test]
fn the_target_side_is_the_party_whose_uri_is_a_target() {
    let alice: TargetIdentifier = "sip:Alice@A.example".parse().unwrap();
    let bob_tel: TargetIdentifier = "tel:+4930123456".parse().unwrap();
    let invite = request("INVITE", 1);
    assert_eq!(
        target_side(std::slice::from_ref(&alice), &invite),
        TargetSide::Caller
    );
    let to_bob = b"INVITE sip:x SIP/2.0\r\nFrom: <sips:carol@c.example>\r\nTo: <sip:+49-30-123456@gw.example;user=phone>\r\n\r\n";
    assert_eq!(
        target_side(&[alice.clone(), bob_tel.clone()], to_bob),
        TargetSide::Callee
    );
    assert_eq!(target_side(&[bob_tel], &invite), TargetSide::Unknown);
    assert_eq!(target_side(&[alice], b"not sip"), TargetSide::Unknown);
}

#[test]
fn a_link_test_sent_back_answers_its_counter() {
    let case = CaseIdentity::new("KEEPALIVE").unwrap();
    let test = link_test(&case, Some("MDF-1"), 9, time(0)).encode();
    assert_eq!(link_test_answer(&test), Ok(9));
    let mut out = Vec::new();
    calls(false).on_sip(
        CIN,
        time(0),
        IriType::Begin,
        &request("INVITE", 1),
        TargetSide::Caller,
        true,
        &mut out,
    );
    let err = link_test_answer(&out[0].encode()).unwrap_err();
    assert!(err.contains("origination"), "{err}");
    assert!(link_test_answer(b"\x30\x00").is_err());
}

proptest::proptest! {
    /// Whatever arrives as a call's SIP (garbage, truncated or reordered messages, any IRI
    /// type), the state machine never panics, reports every message at least once, every
    /// message it writes encodes and decodes back, and an IRI-End leaves no state behind.
    #[test]
    fn any_sip_sequence_gives_well_formed_call_data(
        steps in proptest::collection::vec(
            (0u8..4, 0usize..9, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
            0..24,
        ),
        side in 0u8..3,
        with_content in proptest::prelude::any::<bool>(),
    ) {
        let texts = [
            request("INVITE", 1),
            request("BYE", 2),
            request("CANCEL", 1),
            request("UPDATE", 3),
            request("REGISTER", 4),
            response(200, "OK", 1, "INVITE"),
            response(486, "Busy Here", 1, "INVITE"),
            response(302, "Moved", 1, "INVITE"),
            response(180, "Ringing", 1, "INVITE"),
        ];
        let side = [TargetSide::Caller, TargetSide::Callee, TargetSide::Unknown][usize::from(side)];
        let mut c = calls(true);
        let mut open = 0i32;
        for (i, (iri, text, junk)) in steps.iter().enumerate() {
            let iri = [IriType::Begin, IriType::Continue, IriType::End, IriType::Report][usize::from(*iri)];
            // Some messages whole, some cut short, some garbage.
            let mut sip = texts[*text].clone();
            match junk.first().map(|b| b % 3) {
                Some(0) => sip.truncate(junk.len()),
                Some(1) => sip = junk.clone(),
                _ => {}
            }
            let mut out = Vec::new();
            c.on_sip(CIN, time(i as u64), iri, &sip, side, with_content, &mut out);
            // Every SIP message is reported by at least one message.
            proptest::prop_assert!(!out.is_empty());
            for m in &out {
                proptest::prop_assert_eq!(&LaesProtocol::decode(&m.encode()).unwrap(), m);
            }
            for m in &out {
                match m.message() {
                    LaesMessage::CcOpen(_) => open += 1,
                    LaesMessage::CcClose(_) => open -= 1,
                    _ => {}
                }
            }
            proptest::prop_assert!((0..=1).contains(&open), "content opened {open} times");
            if iri == IriType::End {
                proptest::prop_assert!(c.is_empty());
                // Every CCOpen has its CCClose by the call's end.
                proptest::prop_assert_eq!(open, 0);
            }
        }
    }
}

#[test]
fn a_challenge_a_cancel_and_a_reused_cin_do_not_end_or_confuse_the_call() {
    let mut c = calls(false);
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Begin, request("INVITE", 1)),
            // An authentication challenge, then the authenticated INVITE and its answer.
            (
                IriType::Continue,
                response(407, "Proxy Authentication Required", 1, "INVITE"),
            ),
            (IriType::Continue, request("INVITE", 2)),
            (IriType::Continue, response(200, "OK", 2, "INVITE")),
            // A CANCEL that crossed the 200 does not release the call.
            (IriType::Continue, request("CANCEL", 2)),
            (IriType::Continue, request("BYE", 3)),
            (IriType::End, response(200, "OK", 3, "BYE")),
        ],
    );
    assert_eq!(
        got,
        [
            vec!["origination"],
            vec!["directSignalReporting"],
            vec!["mediaAndAddressReporting"],
            vec!["answer", "ccOpen"],
            vec!["directSignalReporting"],
            vec!["release", "ccClose"],
            vec!["directSignalReporting"],
        ]
    );
    // The same CIN begun again (a lost IRI-End, a probe restarted): a new call.
    let got = run(
        &mut c,
        TargetSide::Callee,
        true,
        &[
            (IriType::Begin, request("INVITE", 1)),
            (IriType::Continue, response(200, "OK", 1, "INVITE")),
            (IriType::Begin, request("INVITE", 1)),
            (IriType::End, response(200, "OK", 1, "INVITE")),
        ],
    );
    assert_eq!(
        got,
        [
            vec!["termAttempt"],
            vec!["answer", "ccOpen"],
            // The earlier call, never ended, is released and its content closed first.
            vec!["release", "ccClose", "termAttempt"],
            vec!["answer", "ccOpen", "release", "ccClose"],
        ]
    );
}

/// Content opens when media flows before the answer (a 183 with an SDP: ringback, an
/// announcement), not only at the answer, so early media is never sent under a content
/// identifier the agency was not told of; the answer then opens nothing twice.
#[test]
fn early_media_opens_content_before_the_answer() {
    let mut sdp_183 = response(183, "Session Progress", 1, "INVITE");
    let body = b"v=0\r\no=- 1 1 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
    sdp_183.truncate(sdp_183.len() - 2);
    sdp_183.extend_from_slice(b"Content-Type: application/sdp\r\n\r\n");
    sdp_183.extend_from_slice(body);
    let steps = [
        (IriType::Begin, request("INVITE", 1)),
        (IriType::Continue, response(180, "Ringing", 1, "INVITE")),
        (IriType::Continue, sdp_183.clone()),
        (IriType::Continue, response(200, "OK", 1, "INVITE")),
        (IriType::Continue, request("BYE", 2)),
    ];
    let got = run(&mut calls(false), TargetSide::Caller, true, &steps);
    assert_eq!(
        got,
        vec![
            vec!["origination"],
            vec!["directSignalReporting"],
            vec!["directSignalReporting", "ccOpen"],
            vec!["answer"],
            vec!["release", "ccClose"],
        ]
    );
    // A 183 without an SDP, or an IRI-only task: nothing opens early.
    let steps = [
        (IriType::Begin, request("INVITE", 1)),
        (
            IriType::Continue,
            response(183, "Session Progress", 1, "INVITE"),
        ),
    ];
    let got = run(&mut calls(false), TargetSide::Caller, true, &steps);
    assert_eq!(
        got,
        vec![vec!["origination"], vec!["directSignalReporting"]]
    );
    let steps = [
        (IriType::Begin, request("INVITE", 1)),
        (IriType::Continue, sdp_183),
    ];
    let got = run(&mut calls(false), TargetSide::Caller, false, &steps);
    assert_eq!(
        got,
        vec![vec!["origination"], vec!["directSignalReporting"]]
    );
}

/// A call answered while the task took no content, whose task then takes it (its scope
/// widened mid-call), has its content opened on its next message: its media are never sent
/// under an identifier no CCOpen named.
#[test]
fn content_taken_mid_call_opens_on_the_next_message() {
    let mut calls = calls(false);
    let mut feed = |i: u64, iri: IriType, sip: Vec<u8>, with_content: bool| {
        let mut out = Vec::new();
        calls.on_sip(
            CIN,
            time(i * 100),
            iri,
            &sip,
            TargetSide::Caller,
            with_content,
            &mut out,
        );
        out.iter()
            .map(|m| m.message().asn1_name().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        feed(0, IriType::Begin, request("INVITE", 1), false),
        ["origination"]
    );
    assert_eq!(
        feed(
            1,
            IriType::Continue,
            response(200, "OK", 1, "INVITE"),
            false
        ),
        ["answer"]
    );
    assert_eq!(
        feed(2, IriType::Continue, request("ACK", 1), true),
        ["directSignalReporting", "ccOpen"]
    );
    assert_eq!(
        feed(3, IriType::End, request("BYE", 2), true),
        ["release", "ccClose"]
    );
}

/// The parties' SDPs travel as their media: the target's in `Origination.subjectMedia`, the
/// answering party's in `Answer.answeringMedia`, both in `CCOpen` and in a media report.
#[test]
fn the_parties_sdps_are_their_media() {
    use li_asn1::atis::laes_party::{MediaCharacteristics, MediaInformation};
    let with_sdp = |mut message: Vec<u8>, host: &str| {
        let body = format!(
            "v=0\r\no=- 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        );
        message.truncate(message.len() - 2);
        message.extend_from_slice(b"Content-Type: application/sdp\r\n\r\n");
        message.extend_from_slice(body.as_bytes());
        (message, body)
    };
    let (invite, alice) = with_sdp(request("INVITE", 1), "192.0.2.1");
    let (ok, bob) = with_sdp(response(200, "OK", 1, "INVITE"), "198.51.100.9");
    let (reinvite, alice2) = with_sdp(request("INVITE", 2), "192.0.2.77");
    let mut calls = calls(false);
    let mut out = Vec::new();
    for (i, (iri, sip)) in [
        (IriType::Begin, invite),
        (IriType::Continue, ok),
        (IriType::Continue, reinvite),
    ]
    .into_iter()
    .enumerate()
    {
        calls.on_sip(
            CIN,
            time(i as u64),
            iri,
            &sip,
            TargetSide::Caller,
            true,
            &mut out,
        );
    }
    let sdp =
        |m: &Option<MediaInformation>| match m.as_ref().and_then(|m| m.characteristics.as_ref()) {
            Some(MediaCharacteristics::Sdp(s)) => Some(s.clone()),
            _ => None,
        };
    let mut seen = Vec::new();
    for m in &out {
        let back = LaesProtocol::decode(&m.encode()).unwrap();
        match back.message() {
            LaesMessage::Origination(o) => seen.push(("origination", sdp(&o.subject_media), None)),
            LaesMessage::Answer(a) => seen.push(("answer", sdp(&a.answering_media), None)),
            LaesMessage::CcOpen(c) => {
                seen.push(("ccOpen", sdp(&c.subject_media), sdp(&c.associate_media)))
            }
            LaesMessage::MediaAndAddressReporting(r) => seen.push((
                "mediaReport",
                sdp(&r.subject_media),
                r.associate_media
                    .as_ref()
                    .and_then(|v| sdp(&v.first().cloned())),
            )),
            _ => {}
        }
    }
    assert_eq!(
        seen,
        vec![
            ("origination", Some(alice.clone()), None),
            ("answer", Some(bob.clone()), None),
            ("ccOpen", Some(alice), Some(bob.clone())),
            ("mediaReport", Some(alice2), Some(bob)),
        ]
    );
    assert!(calls.sdp_bytes() > 0);
    let mut out = Vec::new();
    calls.close_all(time(9), &mut out);
    assert_eq!(calls.sdp_bytes(), 0, "freed with the calls");
}
