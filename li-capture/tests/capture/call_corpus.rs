//! The seed corpus of the `sip_calls` fuzz target (the call tracker driven by a sequence of
//! SIP datagrams, media packets and timer ticks) and its replay with the properties the
//! target checks ([`drive_calls`], shared with the target). With `LI_FUZZ_SEED_DIR` set,
//! also writes the seeds there (how the committed seeds were made).

use crate::call_driver::drive_calls;
use crate::fuzz_corpus::{corpus, write_seeds};

/// One record of the input format.
fn record(op: u8, data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap();
    [&[op][..], &len.to_be_bytes(), data].concat()
}

/// A SIP datagram from `SIP[from]`.
fn sip(from: u8, text: &str) -> Vec<u8> {
    record(from * 4, text.as_bytes())
}

fn media(src: u8, dst: u8) -> Vec<u8> {
    record(2, &[src, dst])
}

fn tick(secs: u8) -> Vec<u8> {
    record(3, &[secs])
}

fn message(start: &str, call_id: &str, to_tag: &str, cseq: &str, body: &str) -> String {
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{start}\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK74bf9\r\n\
         From: <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
         To: <sip:bob@biloxi.example.com>{to_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\
         {ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn sdp(user: &str, ip: &str, port: u16) -> String {
    format!(
        "v=0\r\no={user} 2890844526 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\n"
    )
}

fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let invite = |id: &str, body: &str| {
        message(
            "INVITE sip:bob@biloxi.example.com SIP/2.0",
            id,
            "",
            "1 INVITE",
            body,
        )
    };
    let alice = sdp("alice", "192.0.2.101", 49170);
    let bob = sdp("bob", "198.51.100.20", 3456);
    let call = [
        sip(0, &invite("c1", &alice)),
        sip(
            1,
            &message("SIP/2.0 180 Ringing", "c1", ";tag=b1", "1 INVITE", ""),
        ),
        sip(
            1,
            &message("SIP/2.0 200 OK", "c1", ";tag=b1", "1 INVITE", &bob),
        ),
        sip(
            0,
            &message(
                "ACK sip:bob@198.51.100.20 SIP/2.0",
                "c1",
                ";tag=b1",
                "1 ACK",
                "",
            ),
        ),
        media(0, 2),
        media(2, 0),
        media(3, 1),
        tick(10),
        sip(
            0,
            &message(
                "BYE sip:bob@198.51.100.20 SIP/2.0",
                "c1",
                ";tag=b1",
                "2 BYE",
                "",
            ),
        ),
        sip(1, &message("SIP/2.0 200 OK", "c1", ";tag=b1", "2 BYE", "")),
        media(0, 2),
    ]
    .concat();
    let nat_timeout = [
        sip(2, &invite("c2", &sdp("alice", "192.168.1.10", 4000))),
        media(4, 2),
        sip(
            1,
            &message(
                "SIP/2.0 183 Session Progress",
                "c2",
                ";tag=b2",
                "1 INVITE",
                &bob,
            ),
        ),
        media(2, 4),
        tick(61),
        media(4, 2),
    ]
    .concat();
    let cancelled = [
        sip(0, &invite("c3", &alice)),
        sip(0, &invite("c3", &alice)),
        sip(
            1,
            &message(
                "SIP/2.0 183 Session Progress",
                "c3",
                ";tag=f1",
                "1 INVITE",
                &bob,
            ),
        ),
        sip(
            1,
            &message(
                "SIP/2.0 183 Session Progress",
                "c3",
                ";tag=f2",
                "1 INVITE",
                &sdp("bob", "198.51.100.20", 3458),
            ),
        ),
        media(2, 0),
        media(1, 3),
        sip(
            0,
            &message(
                "CANCEL sip:bob@biloxi.example.com SIP/2.0",
                "c3",
                "",
                "1 CANCEL",
                "",
            ),
        ),
        sip(
            1,
            &message(
                "SIP/2.0 487 Request Terminated",
                "c3",
                ";tag=f1",
                "1 INVITE",
                "",
            ),
        ),
    ]
    .concat();
    let register = sip(
        3,
        "REGISTER sip:biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKr\r\n\
         From: <sip:bob@biloxi.example.com>;tag=r\r\nTo: <sip:bob@biloxi.example.com>\r\n\
         Call-ID: reg\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@[2001:db8::1]>\r\n\
         Content-Length: 0\r\n\r\n",
    );
    vec![
        ("sip_calls", "call-bye", call),
        ("sip_calls", "nat-timeout", nat_timeout),
        ("sip_calls", "forked-cancelled", cancelled),
        ("sip_calls", "register", register),
    ]
}

#[test]
fn write_call_seeds_when_asked() {
    write_seeds(seeds());
}

#[test]
fn call_seeds_exercise_the_tracker() {
    for (_, name, data) in seeds() {
        let run = drive_calls(&data);
        match name {
            "register" => assert_eq!((run.begun, run.reports), (0, 1), "{name}"),
            _ => {
                assert_eq!(run.begun, 1, "{name}");
                assert!(run.bound >= 2 && run.media_hits >= 2, "{name}: {run:?}");
            }
        }
    }
}

#[test]
fn sip_calls_corpus() {
    let Some(files) = corpus("sip_calls") else {
        return;
    };
    assert!(files.len() >= 4, "the committed corpus has gone missing");
    let begun: usize = files.iter().map(|f| drive_calls(f).begun).sum();
    assert!(begun >= 3, "the seeds no longer begin calls");
}
