//! The seed corpus of the SIP fuzz targets (`sip_parse`, `sdp_parse`, `sip_stream`) and its
//! replay with the properties the targets check. With `LI_FUZZ_SEED_DIR` set, also writes
//! the seeds there (how the committed seeds were made).

use std::path::PathBuf;

use li_capture::sip::sdp::MAX_MEDIA;
use li_capture::sip::{Sdp, SipMessage, SipTargets};

use crate::call_driver::drive_stream;
use crate::fuzz_corpus::{corpus, write_seeds};

const SDP_OFFER: &str = "v=0\r\n\
    o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
    s=-\r\n\
    c=IN IP4 192.0.2.101\r\n\
    t=0 0\r\n\
    m=audio 49172 RTP/AVP 0 96\r\n\
    a=rtpmap:0 PCMU/8000\r\n\
    a=rtpmap:96 telephone-event/8000\r\n\
    a=rtcp:49180 IN IP4 192.0.2.102\r\n\
    m=video 0 RTP/AVP 31\r\n";

const SDP_IPV6: &str = "v=0\r\n\
    o=- 1 2 IN IP6 2001:db8::1\r\n\
    s=-\r\n\
    c=IN IP6 2001:db8::1\r\n\
    t=0 0\r\n\
    a=sendonly\r\n\
    m=audio 5004/2 RTP/SAVP 8\r\n\
    a=recvonly\r\n\
    m=audio 5008 RTP/AVP 0\r\n\
    c=IN IP4 224.2.1.1/127\r\n\
    a=rtcp-mux\r\n";

fn invite(body: &str, content_type: &str) -> String {
    format!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
         Max-Forwards: 70\r\n\
         From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
         To: Bob <sip:bob@biloxi.example.com>\r\n\
         Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
         CSeq: 314159 INVITE\r\n\
         Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
         P-Asserted-Identity: <tel:+49-30-123456>\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let multipart = format!(
        "--b1\r\nContent-Type: application/isup\r\n\r\nISUP\r\n--b1\r\n\
         Content-Type: application/sdp\r\n\r\n{SDP_OFFER}\r\n--b1--\r\n"
    );
    let register = "REGISTER sip:ims.example SIP/2.0\r\n\
        v: SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKreg\r\n\
        f: <sip:+4930123456@ims.example;user=phone>;tag=r1\r\n\
        t: <sip:+4930123456@ims.example;user=phone>\r\n\
        m: <sip:ue@[2001:db8::9]:5060>;expires=600\r\n\
        Authorization: Digest username=\"alice@ims.example\",\r\n realm=\"ims.example\", \
        nonce=\"\", uri=\"sip:ims.example\", response=\"\"\r\n\
        i: reg1\r\nCSeq: 2 REGISTER\r\nl: 0\r\n\r\n";
    let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
        From: <sip:alice@atlanta.example.com>;tag=1\r\nTo: <sip:bob@biloxi.example.com>;tag=2\r\n\
        Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let stream = [
        "garbage before the first message\r\n",
        &invite(SDP_OFFER, "application/sdp"),
        "\r\n\r\n",
        ok,
        register,
    ]
    .concat();
    vec![
        (
            "sip_parse",
            "invite-sdp",
            invite(SDP_OFFER, "application/sdp").into_bytes(),
        ),
        (
            "sip_parse",
            "invite-multipart",
            invite(&multipart, "multipart/mixed;boundary=b1").into_bytes(),
        ),
        (
            "sip_parse",
            "register-compact-folded",
            register.as_bytes().to_vec(),
        ),
        ("sip_parse", "response-200", ok.as_bytes().to_vec()),
        ("sdp_parse", "offer", SDP_OFFER.as_bytes().to_vec()),
        ("sdp_parse", "ipv6-directions", SDP_IPV6.as_bytes().to_vec()),
        (
            "sdp_parse",
            "bare-lf",
            SDP_OFFER.replace("\r\n", "\n").into_bytes(),
        ),
        // First octet: segment size - 1.
        (
            "sip_stream",
            "segments-of-7",
            [&[6u8][..], stream.as_bytes()].concat(),
        ),
        (
            "sip_stream",
            "segments-of-256",
            [&[255u8][..], stream.as_bytes()].concat(),
        ),
        (
            "sip_stream",
            "byte-by-byte",
            [&[0u8][..], ok.as_bytes(), ok.as_bytes()].concat(),
        ),
    ]
}

#[test]
fn write_sip_seeds_when_asked() {
    write_seeds(seeds());
}

#[test]
fn sip_seeds_exercise_the_parsers() {
    let mut targets = SipTargets::new();
    targets.insert("tel:+4930123456".parse().unwrap()).unwrap();
    for (target, name, data) in seeds() {
        match target {
            "sip_parse" => {
                let msg = SipMessage::parse(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
                let mut hits = Vec::new();
                targets.match_message(&msg, &mut hits);
                assert!(!hits.is_empty() || name == "response-200", "{name}");
                if name.starts_with("invite") {
                    let sdp = msg.sdp().unwrap().unwrap();
                    assert_eq!(sdp.streams().count(), 2, "{name}");
                }
            }
            "sdp_parse" => assert!(Sdp::parse(&data).unwrap().streams().count() >= 2, "{name}"),
            _ => assert!(drive_stream(&data).parsed >= 2, "{name}"),
        }
    }
}

#[test]
fn sip_parse_corpus() {
    let Some(files) = corpus("sip_parse") else {
        return;
    };
    assert!(files.len() >= 4, "the committed corpus has gone missing");
    let mut parsed = 0;
    for data in files {
        if let Ok(msg) = SipMessage::parse(&data) {
            parsed += 1;
            assert_eq!(msg.body_offset() + msg.body().len(), msg.len());
            assert!(msg.len() <= data.len());
            let _ = (msg.identities().count(), msg.sdp().map(|s| s.is_ok()));
        }
    }
    assert!(parsed >= 4, "the seeds no longer parse");
}

#[test]
fn sdp_parse_corpus() {
    let Some(files) = corpus("sdp_parse") else {
        return;
    };
    assert!(files.len() >= 3, "the committed corpus has gone missing");
    let mut parsed = 0;
    for data in files {
        if let Ok(sdp) = Sdp::parse(&data) {
            parsed += 1;
            assert!(sdp.media().len() <= MAX_MEDIA);
            assert!(sdp.streams().all(|s| s.rtp.is_none() == s.rtcp.is_none()));
        }
    }
    assert!(parsed >= 3, "the seeds no longer parse");
}

#[test]
fn sip_stream_corpus() {
    let Some(files) = corpus("sip_stream") else {
        return;
    };
    assert!(files.len() >= 3, "the committed corpus has gone missing");
    // The fuzz target's properties, among them the same frames wherever the stream is cut
    // (compared when no line is longer than the bound and nothing is oversized).
    let runs: Vec<_> = files.iter().map(|d| drive_stream(d)).collect();
    let framed: usize = runs.iter().map(|r| r.parsed).sum();
    assert!(framed >= 6, "the seeds no longer frame");
    let compared = runs.iter().filter(|r| r.compared).count();
    assert!(compared >= 1, "no seed compares cut and whole streams");
}

/// The SIP INVITE carried by the TS 103 221-2 X2 sample (li-handover's test data, checked
/// with tshark): decoded by li-handover's X2 codec, parsed and matched here, as a mediator
/// or a probe reading X2 from another network element would.
#[test]
fn sip_in_the_x2_sample_pdu() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../li-handover/src/x2x3/testdata/tc103221-2-x2-sip.bin");
    let Ok(bytes) = std::fs::read(path) else {
        return; // published package: no sibling crate
    };
    let (pdu, used) = li_handover::x2x3::Pdu::decode(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    let msg = SipMessage::parse(&pdu.payload).unwrap();
    assert_eq!(msg.request_uri(), Some("sip:bob@example.net"));
    assert_eq!(msg.call_id(), Some("1@192.168.0.1"));
    assert_eq!(msg.via_branch(), Some("z9hG4bK1"));
    assert_eq!(msg.from().and_then(|f| f.tag()), Some("1"));
    assert_eq!(msg.len(), pdu.payload.len());
    let mut targets = SipTargets::new();
    targets
        .insert("sip:bob@example.net".parse().unwrap())
        .unwrap();
    targets
        .insert("sip:alice@example.com".parse().unwrap())
        .unwrap();
    let mut hits = Vec::new();
    targets.match_message(&msg, &mut hits);
    let found: Vec<_> = hits
        .iter()
        .map(|h| (h.target.to_string(), h.source))
        .collect();
    use li_capture::sip::IdentitySource as S;
    // From is alice@example.NET: not the alice@example.com target.
    assert_eq!(
        found,
        [
            ("sip:bob@example.net".to_string(), S::RequestUri),
            ("sip:bob@example.net".to_string(), S::To),
        ]
    );
}
