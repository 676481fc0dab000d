//! The PacketCable call-data state machine on SIP texts built here: which `CdcPdu`s each SIP
//! message of a call becomes, whose SDP each carries. Every message is encoded and decoded
//! back first.

use std::collections::HashMap;

use li_asn1::packetcable::{CallId, CccId, CdcPdu, Message, PartyId};
use li_core::{Cin, IriType, Timestamp};

use super::*;
use crate::calea::call::MAX_CALLS;
use crate::calea::sdp::bounded_sdp;

const CIN: Cin = Cin::new(4242);
const CCC: CccPair = CccPair {
    xmit: 0x0000_1001,
    recv: 0x0000_1002,
};

const ALICE: &str = "\"Alice\" <sip:alice@a.example>";
const BOB: &str = "<sip:+1-555-123-4567@b.example;user=phone>";
const SDP_ALICE: &str = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const SDP_BOB: &str = "v=0\r\no=bob 7 7 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
const SDP_ALICE_HOLD: &str = "v=0\r\no=alice 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";

fn time(ms: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_704_164_645 + ms / 1000, (ms % 1000) as u32 * 1000).unwrap()
}

fn settings() -> PcespSettings {
    PcespSettings::new("CASE-VOIP-1", "CMS-7").unwrap()
}

fn calls() -> PcespCalls {
    PcespCalls::new(settings())
}

/// A SIP message: `start` line, From `from` (tag 1) and To `to`, CSeq, optional SDP body.
fn sip(start: &str, from: &str, to: &str, cseq: &str, sdp: Option<&str>) -> Vec<u8> {
    let body = match sdp {
        Some(s) => format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{s}",
            s.len()
        ),
        None => "Content-Length: 0\r\n\r\n".to_owned(),
    };
    format!("{start}\r\nFrom: {from};tag=1\r\nTo: {to}\r\nCall-ID: c1@a\r\nCSeq: {cseq}\r\n{body}")
        .into_bytes()
}

/// A request from Alice to Bob (`alice_sends`) or from Bob to Alice.
fn request(method: &str, n: u32, alice_sends: bool, sdp: Option<&str>) -> Vec<u8> {
    let (from, to, uri) = if alice_sends {
        (ALICE, BOB, "sip:+15551234567@b.example;user=phone")
    } else {
        (BOB, ALICE, "sip:alice@a.example")
    };
    sip(
        &format!("{method} {uri} SIP/2.0"),
        from,
        to,
        &format!("{n} {method}"),
        sdp,
    )
}

/// A response to a request of Alice (`to_alice`: sent by Bob) or of Bob (sent by Alice).
fn response(
    code: u16,
    reason: &str,
    n: u32,
    method: &str,
    to_alice: bool,
    sdp: Option<&str>,
) -> Vec<u8> {
    let (from, to) = if to_alice { (ALICE, BOB) } else { (BOB, ALICE) };
    sip(
        &format!("SIP/2.0 {code} {reason}"),
        from,
        to,
        &format!("{n} {method}"),
        sdp,
    )
}

/// Feeds `steps` and returns, per step, the `CdcPdu`s, each checked to encode and decode
/// back and to carry the case, the element and (for a call message) the call.
fn run(
    calls: &mut PcespCalls,
    side: TargetSide,
    with_content: bool,
    steps: &[(IriType, Vec<u8>)],
) -> Vec<Vec<CdcPdu>> {
    steps
        .iter()
        .enumerate()
        .map(|(i, (iri, text))| {
            let mut out = Vec::new();
            calls.on_sip(
                CIN,
                CCC,
                time(i as u64 * 100),
                *iri,
                text,
                side,
                with_content,
                &mut out,
            );
            for m in &out {
                check_common(m);
            }
            out
        })
        .collect()
}

fn check_common(m: &CdcPdu) {
    assert_eq!(&CdcPdu::decode(&m.encode()).unwrap(), m);
    let header = m.message.header().unwrap();
    assert_eq!(header.case_id.as_str(), "CASE-VOIP-1");
    assert_eq!(header.accessing_element_id.as_str(), "CMS-7");
    let id = call_id_of(&m.message);
    if let Some(id) = id {
        assert_eq!(id, &pcesp_call_id(CIN, &settings().accessing_element_id));
    }
}

fn call_id_of(m: &Message) -> Option<&CallId> {
    match m {
        Message::Origination(x) => Some(&x.call_id),
        Message::TerminationAttempt(x) => Some(&x.call_id),
        Message::Answer(x) => Some(&x.call_id),
        Message::Release(x) => Some(&x.call_id),
        Message::Redirection(x) => Some(&x.old),
        Message::MediaReport(x) => Some(&x.call_id),
        Message::CcChange(x) => Some(&x.call_id),
        Message::CcOpen(x) => match &x.cc_open_option {
            CcOpenOption::CcOpenTime(ids) => ids.first(),
            CcOpenOption::Reserved0 => None,
        },
        _ => None,
    }
}

fn names(steps: &[Vec<CdcPdu>]) -> Vec<Vec<&'static str>> {
    steps
        .iter()
        .map(|s| s.iter().map(|m| m.message.asn1_name().unwrap()).collect())
        .collect()
}

/// The (subject, associate) SDPs of a message that carries them.
fn sdps(m: &CdcPdu) -> (Option<&str>, Option<&str>) {
    match &m.message {
        Message::CcOpen(x) => (x.subject.as_deref(), x.associate.as_deref()),
        Message::CcChange(x) => (x.subject.as_deref(), x.associate.as_deref()),
        Message::MediaReport(x) => (x.subject.as_deref(), x.associate.as_deref()),
        other => panic!("no SDP in {other:?}"),
    }
}

fn dn(digits: &str) -> PartyId {
    PartyId {
        dn: Some(digits.into()),
        ..PartyId::default()
    }
}

fn generic(uri: &str) -> PartyId {
    PartyId {
        generic_address: Some(uri.into()),
        ..PartyId::default()
    }
}

#[test]
fn a_call_the_target_places_is_origination_answer_and_release_around_its_content() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Begin, request("INVITE", 1, true, Some(SDP_ALICE))),
            (
                IriType::Continue,
                response(180, "Ringing", 1, "INVITE", true, None),
            ),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", true, Some(SDP_BOB)),
            ),
            (IriType::Continue, request("ACK", 1, true, None)),
            (IriType::Continue, request("BYE", 2, true, None)),
            (IriType::End, response(200, "OK", 2, "BYE", true, None)),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec!["origination"],
            vec![],
            vec!["answer", "ccopen"],
            vec![],
            vec!["release", "ccclose"],
            vec![],
        ]
    );
    let Message::Origination(o) = &got[0][0].message else {
        panic!("{got:?}")
    };
    assert_eq!(o.calling, generic("sip:alice@a.example"));
    assert_eq!(o.called, Some(dn("15551234567")));
    assert_eq!(
        o.input,
        OriginationInput::UserInput("sip:+15551234567@b.example;user=phone".into())
    );
    let Message::Answer(a) = &got[2][0].message else {
        panic!("{got:?}")
    };
    assert_eq!(a.answering, Some(dn("15551234567")));
    let Message::CcOpen(open) = &got[2][1].message else {
        panic!("{got:?}")
    };
    assert_eq!(
        open.ccc_id,
        CccId::SepCccPair {
            xmit: "00001001".into(),
            recv: "00001002".into()
        }
    );
    assert_eq!(open.flow_direction, FlowDirection::DownstreamAndUpstream);
    // The caller's INVITE carried the subject's SDP, the callee's 200 the associate's.
    assert_eq!(sdps(&got[2][1]), (Some(SDP_ALICE), Some(SDP_BOB)));
    let Message::CcClose(close) = &got[4][1].message else {
        panic!("{got:?}")
    };
    assert_eq!(close.ccc_id, open.ccc_id);
    assert!(c.is_empty(), "the IRI-End forgets the call");
    assert_eq!(c.sdp_bytes(), 0, "and its SDPs");
}

#[test]
fn a_call_to_the_target_takes_the_subject_sdp_from_the_targets_answer() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Callee,
        true,
        &[
            // Bob (the other party) calls Alice (the target).
            (IriType::Begin, request("INVITE", 1, false, Some(SDP_BOB))),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", false, Some(SDP_ALICE)),
            ),
            // The other party hangs up.
            (IriType::Continue, request("BYE", 2, false, None)),
            (IriType::End, response(200, "OK", 2, "BYE", false, None)),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec!["terminationattempt"],
            vec!["answer", "ccopen"],
            vec!["release", "ccclose"],
            vec![],
        ]
    );
    let Message::TerminationAttempt(t) = &got[0][0].message else {
        panic!("{got:?}")
    };
    assert_eq!(t.calling, Some(dn("15551234567")));
    assert_eq!(t.called, Some(generic("sip:alice@a.example")));
    assert_eq!(sdps(&got[1][1]), (Some(SDP_ALICE), Some(SDP_BOB)));
}

#[test]
fn an_iri_only_task_reports_media_changes_but_opens_no_content() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Caller,
        false,
        &[
            (IriType::Begin, request("INVITE", 1, true, Some(SDP_ALICE))),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", true, Some(SDP_BOB)),
            ),
            // The target puts the call on hold.
            (
                IriType::Continue,
                request("INVITE", 2, true, Some(SDP_ALICE_HOLD)),
            ),
            (
                IriType::Continue,
                response(200, "OK", 2, "INVITE", true, Some(SDP_BOB)),
            ),
            (IriType::End, request("BYE", 3, false, None)),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec!["origination"],
            vec!["answer"],
            vec!["mediareport"],
            vec!["mediareport"],
            vec!["release"],
        ]
    );
    assert_eq!(sdps(&got[2][0]), (Some(SDP_ALICE_HOLD), Some(SDP_BOB)));
}

#[test]
fn a_re_invite_changes_the_media_of_open_content_per_side() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Callee,
        true,
        &[
            (IriType::Begin, request("INVITE", 1, false, Some(SDP_BOB))),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", false, Some(SDP_ALICE)),
            ),
            // The target (Alice, the callee) re-INVITEs: its own new offer.
            (
                IriType::Continue,
                request("INVITE", 1, true, Some(SDP_ALICE_HOLD)),
            ),
            // Bob's answer, then an UPDATE from Bob without SDP.
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", true, Some(SDP_BOB)),
            ),
            (IriType::Continue, request("UPDATE", 2, false, None)),
            // The call times out: its IRI-End repeats the last message.
            (IriType::End, request("UPDATE", 2, false, None)),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec!["terminationattempt"],
            vec!["answer", "ccopen"],
            vec!["mediareport", "ccchange"],
            vec!["mediareport", "ccchange"],
            vec!["mediareport", "ccchange"],
            vec!["mediareport", "ccchange", "release", "ccclose"],
        ]
    );
    assert_eq!(sdps(&got[1][1]), (Some(SDP_ALICE), Some(SDP_BOB)));
    assert_eq!(sdps(&got[2][0]), (Some(SDP_ALICE_HOLD), Some(SDP_BOB)));
    assert_eq!(sdps(&got[2][1]), (Some(SDP_ALICE_HOLD), Some(SDP_BOB)));
    let Message::CcChange(change) = &got[2][1].message else {
        panic!("{got:?}")
    };
    assert_eq!(change.ccc_id, CCC.ccc_id());
}

#[test]
fn a_failure_at_the_calls_end_releases_it_and_a_challenge_does_not() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Begin, request("INVITE", 1, true, Some(SDP_ALICE))),
            (
                IriType::Continue,
                response(
                    407,
                    "Proxy Authentication Required",
                    1,
                    "INVITE",
                    true,
                    None,
                ),
            ),
            (
                IriType::Continue,
                request("INVITE", 2, true, Some(SDP_ALICE)),
            ),
            (IriType::Continue, request("CANCEL", 2, true, None)),
            (
                IriType::End,
                response(486, "Busy Here", 2, "INVITE", true, None),
            ),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec!["origination"],
            vec![],
            // The authenticated INVITE is a new offer of the same call.
            vec!["mediareport"],
            vec![],
            vec!["release"],
        ]
    );
    assert!(c.is_empty());
}

#[test]
fn a_redirect_names_the_contact_it_sends_the_call_to() {
    let mut c = calls();
    let mut moved = response(302, "Moved Temporarily", 1, "INVITE", true, None);
    let at = moved.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    moved.splice(
        at + 2..at + 2,
        b"Contact: \"Carol, desk\" <sip:carol@c.example>;q=0.7, <sip:dave@d.example>\r\n"
            .iter()
            .copied(),
    );
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Begin, request("INVITE", 1, true, None)),
            (IriType::End, moved),
        ],
    );
    assert_eq!(
        names(&got),
        [vec!["origination"], vec!["redirection", "release"]]
    );
    let Message::Redirection(r) = &got[1][0].message else {
        panic!("{got:?}")
    };
    assert_eq!(r.redirected_to, generic("sip:carol@c.example"));
    assert_eq!(r.redirected_from, Some(dn("15551234567")));
    assert_eq!(r.new, None);
}

#[test]
fn after_the_release_nothing_more_is_sent_for_the_call() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Caller,
        false,
        &[
            (IriType::Begin, request("INVITE", 1, true, None)),
            (IriType::Continue, request("BYE", 2, true, None)),
            // A retransmitted BYE, a late answer and re-INVITE of the released call.
            (IriType::Continue, request("BYE", 2, true, None)),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", true, Some(SDP_BOB)),
            ),
            (
                IriType::Continue,
                request("INVITE", 3, false, Some(SDP_BOB)),
            ),
            (IriType::End, response(200, "OK", 2, "BYE", true, None)),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec!["origination"],
            vec!["release"],
            vec![],
            vec![],
            vec![],
            vec![]
        ]
    );
    assert_eq!(c.sdp_bytes(), 0);
}

#[test]
fn a_begin_on_a_used_cin_releases_the_earlier_call_first() {
    let mut c = calls();
    let steps = [
        (IriType::Begin, request("INVITE", 1, false, Some(SDP_BOB))),
        (
            IriType::Continue,
            response(200, "OK", 1, "INVITE", false, Some(SDP_ALICE)),
        ),
    ];
    assert_eq!(
        names(&run(&mut c, TargetSide::Callee, true, &steps)),
        [vec!["terminationattempt"], vec!["answer", "ccopen"]]
    );
    // The same CIN begun again (a lost IRI-End, a probe restarted), with other CCC ids: the
    // earlier call's CCClose names the earlier ids.
    let mut out = Vec::new();
    let other = CccPair { xmit: 7, recv: 8 };
    c.on_sip(
        CIN,
        other,
        time(500),
        IriType::Begin,
        &request("INVITE", 1, true, None),
        TargetSide::Caller,
        true,
        &mut out,
    );
    let got: Vec<_> = out.iter().map(|m| m.message.asn1_name().unwrap()).collect();
    assert_eq!(got, ["release", "ccclose", "origination"]);
    let Message::CcClose(close) = &out[1].message else {
        panic!("{out:?}")
    };
    assert_eq!(close.ccc_id, CCC.ccc_id());
    assert_eq!(c.len(), 1);
    // The new call kept nothing of the earlier one's SDPs.
    assert_eq!(c.sdp_bytes(), 0);
}

#[test]
fn an_unknown_side_gives_no_origination_and_attributes_no_sdp() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Unknown,
        true,
        &[
            (IriType::Begin, request("INVITE", 1, true, Some(SDP_ALICE))),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", true, Some(SDP_BOB)),
            ),
            (IriType::Continue, b"\x00\x01 not SIP".to_vec()),
            (IriType::End, request("BYE", 2, true, None)),
        ],
    );
    assert_eq!(
        names(&got),
        [
            vec![],
            vec!["answer", "ccopen"],
            vec![],
            vec!["release", "ccclose"]
        ]
    );
    assert_eq!(sdps(&got[1][1]), (None, None));
}

#[test]
fn registrations_and_reports_give_nothing_and_keep_no_state() {
    let mut c = calls();
    let got = run(
        &mut c,
        TargetSide::Caller,
        true,
        &[
            (IriType::Report, request("REGISTER", 7, true, None)),
            (
                IriType::Report,
                response(200, "OK", 7, "REGISTER", true, None),
            ),
            (IriType::Report, request("INVITE", 1, true, Some(SDP_ALICE))),
        ],
    );
    assert_eq!(names(&got), [vec![], vec![], vec![]] as [Vec<&str>; 3]);
    assert!(c.is_empty());
    assert_eq!(c.sdp_bytes(), 0);
}

#[test]
fn only_sdp_bodies_are_taken_and_they_are_bounded() {
    let plain = b"INVITE sip:b SIP/2.0\nFrom: a\nContent-Type: text/plain\n\nv=0 but text\n";
    assert_eq!(
        crate::calea::sip_body::read(plain).sdp,
        Some(&b"v=0 but text\n"[..])
    );
    let text = b"INVITE sip:b SIP/2.0\nContent-Type: text/plain\n\nhello\n";
    assert_eq!(crate::calea::sip_body::read(text).sdp, None);
    let compact = b"INVITE sip:b SIP/2.0\r\nc: Application/SDP; charset=x\r\n\r\no=x\r\n";
    assert_eq!(
        crate::calea::sip_body::read(compact).sdp,
        Some(&b"o=x\r\n"[..])
    );
    assert_eq!(
        crate::calea::sip_body::read(b"INVITE sip:b SIP/2.0\r\nc: application/sdp\r\n").sdp,
        None
    );
    assert_eq!(crate::calea::sip_body::read(b"").sdp, None);
    let contact = b"SIP/2.0 302 Moved\r\nm: *\r\nContact: <sip:x@y>\r\n\r\n";
    assert_eq!(
        crate::calea::sip_body::read(contact).contact,
        Some("<sip:x@y>"),
        "a wildcard names no party"
    );

    let line = "a=x-padding:0123456789012345678901234567890123456789\r\n";
    let big: String = std::iter::once("v=0\r\n")
        .chain(std::iter::repeat_n(line, 200))
        .collect();
    let kept = bounded_sdp(big.as_bytes());
    assert!(
        kept.len() <= MAX_SDP && kept.len() > MAX_SDP - line.len(),
        "{}",
        kept.len()
    );
    assert!(kept.ends_with("\r\n") && big.starts_with(&kept));
    assert_eq!(bounded_sdp(SDP_ALICE.as_bytes()), SDP_ALICE);
}

#[test]
fn the_sdp_kept_over_all_calls_is_bounded_and_freed_with_them() {
    let mut c = calls();
    let line = "a=x-padding:0123456789012345678901234567890123456789\r\n";
    let big: String = std::iter::once("v=0\r\n")
        .chain(std::iter::repeat_n(line, 70))
        .collect();
    assert!(big.len() < MAX_SDP);
    let calls_needed = MAX_SDP_BYTES / (2 * big.len()) + 10;
    let mut out = Vec::new();
    for n in 0..calls_needed as u32 {
        for (iri, text) in [
            (IriType::Begin, request("INVITE", 1, true, Some(&big))),
            (
                IriType::Continue,
                response(200, "OK", 1, "INVITE", true, Some(&big)),
            ),
        ] {
            c.on_sip(
                Cin::new(n),
                CCC,
                time(0),
                iri,
                &text,
                TargetSide::Caller,
                true,
                &mut out,
            );
        }
        assert!(c.sdp_bytes() <= MAX_SDP_BYTES);
    }
    assert!(c.sdp_bytes() > MAX_SDP_BYTES - 2 * big.len());
    // The last calls' CCOpen carried no SDP: the budget was spent.
    let Some(Message::CcOpen(last)) = out.last().map(|m| &m.message) else {
        panic!("{:?}", out.last())
    };
    assert_eq!(
        (last.subject.as_deref(), last.associate.as_deref()),
        (None, None)
    );
    for n in 0..calls_needed as u32 {
        c.on_sip(
            Cin::new(n),
            CCC,
            time(1),
            IriType::End,
            &request("BYE", 2, true, None),
            TargetSide::Unknown,
            true,
            &mut out,
        );
    }
    assert!(c.is_empty());
    assert_eq!(c.sdp_bytes(), 0);
}

#[test]
fn the_identifiers_follow_the_settings_and_the_cin() {
    let s = PcespSettings::new("LIID-1", "a very long IAP system id").unwrap();
    assert_eq!(s.case_id.as_str(), "LIID-1");
    assert_eq!(s.accessing_element_id.as_str(), "a very long IAP");
    let s = PcespSettings::new("LIID-1", "\u{e9}l\u{e9}ment-7").unwrap();
    assert_eq!(s.accessing_element_id.as_str(), "lment-7");
    assert!(matches!(
        PcespSettings::new("L".repeat(26).as_str(), "CMS"),
        Err(PcespSettingsError::CaseId { .. })
    ));
    assert!(matches!(
        PcespSettings::new("", "CMS"),
        Err(PcespSettingsError::CaseId { .. })
    ));
    let err = PcespSettings::new("LIID-1", "\u{e9}\u{e9}").unwrap_err();
    assert!(err.to_string().contains("accessingElementId"), "{err}");
    let id = pcesp_call_id(Cin::new(u32::MAX), &s.accessing_element_id);
    assert_eq!(id.sequence_number, "4294967295");
    assert_eq!(id.system_identity, "lment-7");
}

#[test]
fn parties_are_directory_numbers_when_e164_else_their_uri() {
    assert_eq!(party_id_of_uri("tel:+1-555-123-4567"), dn("15551234567"));
    assert_eq!(
        party_id_of_uri("tel:1234;phone-context=example.com"),
        dn("1234")
    );
    assert_eq!(
        party_id_of_uri("sips:+4930123456@gw.example"),
        dn("4930123456")
    );
    assert_eq!(
        party_id_of_uri("sip:030123@gw.example;user=phone"),
        dn("030123")
    );
    // Not a telephone number: the URI itself.
    assert_eq!(
        party_id_of_uri("sip:030123@gw.example"),
        generic("sip:030123@gw.example")
    );
    assert_eq!(
        party_id_of_uri("sip:+49abc@gw.example"),
        generic("sip:+49abc@gw.example")
    );
    // Too many digits for `dn`.
    assert_eq!(
        party_id_of_uri("tel:+1234567890123456"),
        generic("tel:+1234567890123456")
    );
    assert_eq!(party_id_of_uri("\u{e9}"), PartyId::default());
    assert_eq!(
        party_id(Some("\"B\" <tel:+15551234567>;tag=9")),
        Some(dn("15551234567"))
    );
}

/// A PCESP message's call-visible effect in the property test.
fn cin_of(m: &Message, s: &PcespSettings) -> Option<Cin> {
    call_id_of(m).map(|id| {
        assert_eq!(id.system_identity, s.accessing_element_id.as_str());
        Cin::new(id.sequence_number.parse().unwrap())
    })
}

proptest::proptest! {
    /// Whatever arrives as the SIP of two calls (garbage, truncated or reordered messages,
    /// any IRI type, any side): the machine never panics, every message encodes and decodes
    /// back, content is open at most once per call and closed by its end with the ids it
    /// was opened with, nothing but a CCClose follows a call's Release until the call
    /// starts afresh, and an IRI-End leaves no state and no SDP behind.
    #[test]
    fn any_sip_sequence_gives_well_formed_call_data(
        steps in proptest::collection::vec(
            (0u8..4, 0usize..14, 0u32..2, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
            0..32,
        ),
        side in 0u8..3,
        with_content in proptest::prelude::any::<bool>(),
    ) {
        let texts = [
            request("INVITE", 1, true, Some(SDP_ALICE)),
            request("INVITE", 2, false, Some(SDP_BOB)),
            request("BYE", 3, true, None),
            request("BYE", 3, false, None),
            request("CANCEL", 1, true, None),
            request("UPDATE", 4, false, Some(SDP_BOB)),
            request("REGISTER", 5, true, None),
            request("ACK", 1, true, Some(SDP_ALICE)),
            response(200, "OK", 1, "INVITE", true, Some(SDP_BOB)),
            response(200, "OK", 2, "INVITE", false, Some(SDP_ALICE)),
            response(486, "Busy Here", 1, "INVITE", true, None),
            response(302, "Moved", 1, "INVITE", true, None),
            response(183, "Progress", 1, "INVITE", true, Some(SDP_BOB)),
            response(200, "OK", 3, "BYE", true, None),
        ];
        let side = [TargetSide::Caller, TargetSide::Callee, TargetSide::Unknown][usize::from(side)];
        let s = settings();
        let mut c = PcespCalls::new(s.clone());
        // Per CIN: the CCC ids content is open with, and whether the call was released.
        let mut open: HashMap<Cin, CccId> = HashMap::new();
        let mut released: HashMap<Cin, bool> = HashMap::new();
        for (i, (iri, text, cin, junk)) in steps.iter().enumerate() {
            let iri = [IriType::Begin, IriType::Continue, IriType::End, IriType::Report][usize::from(*iri)];
            let cin = Cin::new(*cin);
            let ccc = CccPair { xmit: (i as u32) * 2, recv: (i as u32) * 2 + 1 };
            let mut sip = texts[*text].clone();
            match junk.first().map(|b| b % 3) {
                Some(0) => sip.truncate(junk.len()),
                Some(1) => sip = junk.clone(),
                _ => {}
            }
            let mut out = Vec::new();
            c.on_sip(cin, ccc, time(i as u64), iri, &sip, side, with_content, &mut out);
            for m in &out {
                proptest::prop_assert_eq!(&CdcPdu::decode(&m.encode()).unwrap(), m);
                if let Some(of) = cin_of(&m.message, &s) {
                    proptest::prop_assert_eq!(of, cin);
                }
            }
            let mut messages = out.iter().map(|m| &m.message).peekable();
            if iri == IriType::Begin {
                // A new call: what the earlier one left open is released and closed first.
                // (A Release first when the earlier call was released already is the new
                // call's own: a BYE.)
                let earlier_released = released.get(&cin).copied().unwrap_or(false);
                if let Some(Message::Release(_)) = messages.peek()
                    && !earlier_released
                {
                    messages.next();
                }
                if let Some(Message::CcClose(x)) = messages.peek() {
                    proptest::prop_assert_eq!(open.remove(&cin), Some(x.ccc_id.clone()));
                    messages.next();
                }
                proptest::prop_assert!(!open.contains_key(&cin));
                released.insert(cin, false);
            }
            for message in messages {
                let was_released = released.get(&cin).copied().unwrap_or(false);
                match message {
                    Message::CcOpen(x) => {
                        proptest::prop_assert!(!was_released, "CCOpen after the release");
                        proptest::prop_assert!(
                            open.insert(cin, x.ccc_id.clone()).is_none(),
                            "content opened twice"
                        );
                    }
                    Message::CcClose(x) => {
                        proptest::prop_assert_eq!(open.remove(&cin), Some(x.ccc_id.clone()));
                    }
                    Message::Release(_) => {
                        proptest::prop_assert!(!was_released, "a second Release");
                        released.insert(cin, true);
                    }
                    other => proptest::prop_assert!(!was_released, "{other:?} after the release"),
                }
            }
            if iri == IriType::End {
                // Every CCOpen has its CCClose by the call's end; the call is forgotten.
                proptest::prop_assert!(!open.contains_key(&cin));
                released.insert(cin, false);
            }
            if c.is_empty() {
                proptest::prop_assert_eq!(c.sdp_bytes(), 0);
            }
        }
    }
}

#[test]
fn beyond_max_calls_the_state_starts_afresh_and_frees_its_sdp() {
    let mut c = calls();
    let mut out = Vec::new();
    let invite = request("INVITE", 1, true, Some(SDP_ALICE));
    for n in 0..MAX_CALLS as u32 {
        c.on_sip(
            Cin::new(n),
            CCC,
            time(0),
            IriType::Begin,
            &invite,
            TargetSide::Caller,
            true,
            &mut out,
        );
    }
    assert_eq!(c.len(), MAX_CALLS);
    assert_eq!(c.sdp_bytes(), MAX_CALLS * SDP_ALICE.len());
    c.on_sip(
        Cin::new(u32::MAX),
        CCC,
        time(1),
        IriType::Begin,
        &invite,
        TargetSide::Caller,
        true,
        &mut out,
    );
    assert_eq!(c.len(), 1);
    assert_eq!(c.sdp_bytes(), SDP_ALICE.len());
}
