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
//!   segments, framed by [`StreamFramer`], then parsed and matched;
//! - `sdp_parse/parse` and `sdp_parse/streams` (group `sdp_parse`): the messages' SDP bodies
//!   (about 300 octets, audio and video, 12 lines) alone, taken out of the messages
//!   beforehand: [`Sdp::parse`] alone, and parsed with the streams resolved and collected,
//!   as the call tracker does.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_capture::sip::{Sdp, SipMessage, StreamFramer};

mod sip_traffic;
use sip_traffic::{MESSAGES, invite, targets};

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

/// The SDP parse alone, on the bench INVITEs' bodies.
fn sdp_parse(c: &mut Criterion) {
    let messages: Vec<Vec<u8>> = (0..MESSAGES).map(invite).collect();
    let bodies: Vec<&[u8]> = messages
        .iter()
        .map(|m| SipMessage::parse(m).unwrap().body())
        .collect();
    let mean = bodies.iter().map(|b| b.len()).sum::<usize>() / MESSAGES;
    eprintln!("mean SDP size: {mean} octets");
    for b in &bodies {
        assert_eq!(Sdp::parse(b).unwrap().streams().count(), 2);
    }

    let mut group = c.benchmark_group("sdp_parse");
    group.sample_size(50);
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            for body in &bodies {
                black_box(Sdp::parse(black_box(body)).unwrap().media().len());
            }
        });
    });
    let mut streams = Vec::with_capacity(4);
    group.bench_function("streams", |b| {
        b.iter(|| {
            let mut n = 0;
            for body in &bodies {
                let sdp = Sdp::parse(black_box(body)).unwrap();
                streams.clear();
                streams.extend(sdp.streams());
                n += streams.iter().filter(|s| s.rtp.is_some()).count();
                black_box(&streams);
            }
            assert_eq!(n, 2 * MESSAGES);
        });
    });
    group.finish();
}

criterion_group!(benches, bench, sdp_parse);
criterion_main!(benches);
