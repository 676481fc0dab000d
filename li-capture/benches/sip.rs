//! SIP signalling throughput: messages parsed and matched against 1,000 targets per second.
//!
//! Messages: 1,024 distinct INVITEs of about 900 octets (two Vias, P-Asserted-Identity,
//! Allow and Supported, and an SDP body with audio and video), each between two different subscribers; 1 in 64 concerns a target. Targets: 990
//! SIP URIs and 10 E.164 numbers. One core, messages already in memory (cache-warm).
//!
//! - `parse`: [`SipMessage::parse`] alone;
//! - `parse_match`: parse, then [`SipTargets::match_message`] (every identity normalised
//!   and looked up): the goal is 1 M messages/s;
//! - `parse_match_sdp`: as `parse_match`, and the SDP parsed and its streams resolved, as
//!   a call tracker does for an INVITE;
//! - `stream_frame_parse_match`: the messages as one TCP stream cut into 1,448-octet
//!   segments, framed by [`StreamFramer`], then parsed and matched.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_capture::sip::{SipMessage, SipTargets, StreamFramer};

const MESSAGES: usize = 1024;
const TARGETS: usize = 1000;

fn invite(i: usize) -> Vec<u8> {
    let caller = format!("user{:05}", i * 7 % 50_000);
    let callee = if i.is_multiple_of(64) {
        format!("target{:04}", i % TARGETS)
    } else {
        format!("user{:05}", (i * 13 + 1) % 50_000)
    };
    let sdp = format!(
        "v=0\r\n\
         o={caller} 2890844526 2890844527 IN IP4 198.51.100.{h}\r\n\
         s=-\r\n\
         c=IN IP4 198.51.100.{h}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=sendrecv\r\n\
         m=video {vport} RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\n",
        h = i % 250 + 1,
        port = 10_000 + 2 * (i % 20_000),
        vport = 30_000 + 2 * (i % 10_000),
    );
    format!(
        "INVITE sip:{callee}@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK{i:08x}a\r\n\
         Via: SIP/2.0/UDP 198.51.100.{h}:5060;received=198.51.100.{h};branch=z9hG4bK{i:08x}b\r\n\
         Max-Forwards: 69\r\n\
         From: \"{caller}\" <sip:{caller}@example.com>;tag={i:x}1928301774\r\n\
         To: <sip:{callee}@example.com>\r\n\
         Call-ID: {i:x}a84b4c76e66710@198.51.100.{h}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:{caller}@198.51.100.{h}:5060>\r\n\
         P-Asserted-Identity: <sip:{caller}@example.com>\r\n\
         Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, REFER, NOTIFY\r\n\
         Supported: 100rel, timer, replaces\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        h = i % 250 + 1,
    )
    .into_bytes()
}

fn targets() -> SipTargets {
    let mut set = SipTargets::new();
    for i in 0..TARGETS - 10 {
        set.insert(format!("sip:target{i:04}@example.com").parse().unwrap())
            .unwrap();
    }
    for i in 0..10 {
        set.insert(format!("tel:+4930555{i:04}").parse().unwrap())
            .unwrap();
    }
    set
}

fn bench(c: &mut Criterion) {
    let messages: Vec<Vec<u8>> = (0..MESSAGES).map(invite).collect();
    let mean = messages.iter().map(Vec::len).sum::<usize>() / MESSAGES;
    eprintln!("mean message size: {mean} octets");
    let set = targets();
    let mut hits = Vec::with_capacity(16);
    let matched = messages
        .iter()
        .filter(|m| {
            hits.clear();
            set.match_message(&SipMessage::parse(m).unwrap(), &mut hits);
            !hits.is_empty()
        })
        .count();
    assert_eq!(matched, MESSAGES / 64);

    let mut group = c.benchmark_group("sip_invite_1000_targets");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(MESSAGES as u64));

    group.bench_function("parse", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(SipMessage::parse(black_box(m)).unwrap().len());
            }
        });
    });
    group.bench_function("parse_match", |b| {
        b.iter(|| {
            let mut n = 0;
            for m in &messages {
                let msg = SipMessage::parse(black_box(m)).unwrap();
                hits.clear();
                set.match_message(&msg, &mut hits);
                n += hits.len();
            }
            assert_eq!(n, 2 * MESSAGES / 64);
        });
    });
    group.bench_function("parse_match_sdp", |b| {
        b.iter(|| {
            for m in &messages {
                let msg = SipMessage::parse(black_box(m)).unwrap();
                hits.clear();
                set.match_message(&msg, &mut hits);
                let sdp = msg.sdp().unwrap().unwrap();
                black_box(sdp.streams().filter_map(|s| s.rtp).count());
            }
        });
    });
    let stream: Vec<u8> = messages.concat();
    group.bench_function("stream_frame_parse_match", |b| {
        let mut framer = StreamFramer::new(64 * 1024);
        b.iter(|| {
            let mut n = 0;
            for segment in stream.chunks(1448) {
                framer.push(segment);
                while let Some(frame) = framer.next_frame().unwrap() {
                    let msg = SipMessage::parse(frame).unwrap();
                    hits.clear();
                    set.match_message(&msg, &mut hits);
                    n += 1;
                }
            }
            assert_eq!(n, MESSAGES);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
