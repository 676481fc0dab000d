//! The call tracker (`li_capture::sip::call`): media lookups and SIP messages per second.
//!
//! - `on_media_10k_calls/hit`: [`CallTracker::on_media`] for RTP/RTCP packets of 10,000
//!   established intercepted calls (4 flows each, 40,000 bound), 4,096 packets drawn from
//!   them, both directions: the goal is 5 M lookups/s on one core;
//! - `on_media_10k_calls/miss`: the same table, packets of other people's calls (two
//!   lookups each, destination then source);
//! - `on_sip_1m_dialogs/*`: [`CallTracker::on_sip`] with 1,000,000 calls tracked (each an
//!   INVITE with SDP: its Call-ID, tag, origin and 2 flows held), messages already parsed and
//!   matched (parsing and matching are `benches/sip.rs`):
//!   - `in_dialog_180`: a 180 Ringing of a tracked call (Call-ID lookup, dialog update);
//!   - `untracked_invite`: an INVITE of a call between non-targets, with SDP (Call-ID
//!     lookup, SDP origin checked for a second leg), the same 1,024 again and again (a
//!     retransmission: already remembered for a later leg, nothing new kept);
//!   - `untracked_invite_new`: the same with a new Call-ID and origin each (remembered for a
//!     later leg, those of 40 s before forgotten);
//!   - `call_cycle`: whole new target calls, INVITE, 200, ACK, BYE, 200 (a call begun, its
//!     four flows bound and released, ended), per message, with `on_timer` forgetting the
//!     previous round's ended calls.
//! - `parse_match_track_1m_dialogs/*`: the whole SIP path from the message's octets, with
//!   the same 1,000,000 calls tracked: [`SipMessage::parse`], [`SipTargets::match_message`]
//!   against 1,001 targets (those of `benches/sip.rs` and the tracked calls' one), then
//!   [`CallTracker::on_sip`]; the goal is 1 M messages/s on one core:
//!   - `in_dialog_180`: 180 Ringing of tracked calls, scattered;
//!   - `invite_1_in_64_target`: the 1,024 INVITEs of `benches/sip.rs` (about 900 octets,
//!     audio and video SDP, 1 in 64 to a target), again and again (retransmissions);
//!   - `call_cycle`: whole new target calls as above, per message;
//!   - `calls_1_in_64_target`: whole calls as a proxy sees them (INVITE with SDP, 100, 180,
//!     200 with SDP, ACK, BYE, 200: `sip_traffic::call`), 1,024 per round, 1 in 64 to a
//!     target, new Call-IDs per round, per message: the traffic mix the goal's figure is
//!     for, where the INVITE is one message in seven.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_capture::sip::call::{CallConfig, CallEvent, CallTracker};
use li_capture::sip::{SipMessage, SipTargets, TargetMatch};
use li_core::{IriType, Timestamp};

mod sip_traffic;

const MEDIA_CALLS: u32 = 10_000;
const BIG: u32 = 1_000_000;
const BATCH: usize = 1024;
/// Rounds of whole calls (`calls_1_in_64_target`), each with new Call-IDs.
const MIXED_ROUNDS: usize = 16;
/// Untracked INVITEs fed to measure the memory of remembering them.
const PENDING: u32 = 65_536;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_700_000_000 + secs, 0).unwrap()
}

/// A public address (no NAT binding) in network `net`.
fn ip(i: u32, net: u8) -> String {
    format!(
        "{}.{}.{}.{}",
        20 + u32::from(net),
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

fn sdp(user: &str, sess: u32, ip: &str, port: u32) -> String {
    format!(
        "v=0\r\no={user} {sess} 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

fn message(
    start: &str,
    call_id: &str,
    to_tag: Option<&str>,
    cseq: &str,
    body: Option<&str>,
) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let (ctype, body) = match body {
        Some(b) => ("Content-Type: application/sdp\r\n", b),
        None => ("", ""),
    };
    format!(
        "{start}\r\nVia: SIP/2.0/UDP proxy1.example.com:5060;branch=z9hG4bK{call_id}\r\n\
         Max-Forwards: 69\r\nFrom: <sip:caller@example.com>;tag=f{call_id}\r\n\
         To: <sip:target@example.com>{to_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\
         Contact: <sip:caller@192.0.2.1:5060>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An INVITE between non-targets, with SDP.
fn other_invite(call_id: &str, k: u32, sess: u32) -> Vec<u8> {
    let body = sdp("someone", sess, &ip(k, 40), 30_000 + 2 * (k % 10_000));
    let m = message(
        "INVITE sip:other@example.com SIP/2.0",
        call_id,
        None,
        "1 INVITE",
        Some(&body),
    );
    String::from_utf8(m)
        .unwrap()
        .replace("To: <sip:target@", "To: <sip:other@")
        .into_bytes()
}

fn invite(call_id: &str, i: u32, net: u8) -> Vec<u8> {
    let body = sdp(
        "caller",
        100_000 + i,
        &ip(i, net),
        10_000 + 2 * (i % 20_000),
    );
    message(
        "INVITE sip:target@example.com SIP/2.0",
        call_id,
        None,
        "1 INVITE",
        Some(&body),
    )
}

fn targets() -> SipTargets {
    let mut set = SipTargets::new();
    set.insert("sip:target@example.com".parse().unwrap())
        .unwrap();
    set
}

fn feed(
    tracker: &mut CallTracker,
    set: &SipTargets,
    bytes: &[u8],
    src: SocketAddr,
    now: Timestamp,
    out: &mut Vec<CallEvent>,
) {
    let msg = SipMessage::parse(bytes).unwrap();
    let mut matches = Vec::new();
    set.match_message(&msg, &mut matches);
    tracker.on_sip(&msg, src, now, &matches, out);
}

fn bench_media(c: &mut Criterion) {
    let set = targets();
    let mut tracker = CallTracker::new(CallConfig::default());
    let mut out = Vec::new();
    let src: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    for i in 0..MEDIA_CALLS {
        let id = format!("media{i}");
        feed(&mut tracker, &set, &invite(&id, i, 1), src, t(0), &mut out);
        let answer = sdp("callee", 500_000 + i, &ip(i, 2), 20_000 + 2 * (i % 20_000));
        let ok = message("SIP/2.0 200 OK", &id, Some("b"), "1 INVITE", Some(&answer));
        feed(&mut tracker, &set, &ok, src, t(0), &mut out);
    }
    assert_eq!(tracker.stats().bound_flows, 4 * u64::from(MEDIA_CALLS));
    // Packets of the calls: caller to callee and back, RTP and RTCP, in a scattered order.
    let addr = |i: u32, net: u8, base: u32, rtcp: u32| -> SocketAddr {
        format!("{}:{}", ip(i, net), base + 2 * (i % 20_000) + rtcp)
            .parse()
            .unwrap()
    };
    let mut hits = Vec::with_capacity(4096);
    let mut misses = Vec::with_capacity(4096);
    for k in 0..4096u32 {
        let i = k.wrapping_mul(2_654_435_761) % MEDIA_CALLS;
        let rtcp = k % 5 / 4;
        let (a, b) = (addr(i, 1, 10_000, rtcp), addr(i, 2, 20_000, rtcp));
        hits.push(if k % 2 == 0 { (a, b) } else { (b, a) });
        misses.push((addr(i, 3, 10_000, rtcp), addr(i, 4, 20_000, rtcp)));
    }
    let now = t(1);
    assert!(
        hits.iter()
            .all(|&(s, d)| tracker.on_media(s, d, now).is_some())
    );
    assert!(
        misses
            .iter()
            .all(|&(s, d)| tracker.on_media(s, d, now).is_none())
    );

    let mut group = c.benchmark_group("on_media_10k_calls");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(hits.len() as u64));
    group.bench_function("hit", |b| {
        b.iter(|| {
            for &(s, d) in &hits {
                black_box(tracker.on_media(black_box(s), black_box(d), now));
            }
        });
    });
    group.bench_function("miss", |b| {
        b.iter(|| {
            for &(s, d) in &misses {
                black_box(tracker.on_media(black_box(s), black_box(d), now));
            }
        });
    });
    group.finish();
}

fn bench_sip(c: &mut Criterion) {
    let set = targets();
    let config = CallConfig {
        max_calls: 2 * BIG as usize,
        max_flows: 4 * BIG as usize,
        // Days: the background calls must not time out while the clock advances.
        inactivity_timeout: Duration::from_secs(864_000),
        ..CallConfig::default()
    };
    let rss_before = rss_kib();
    let mut tracker = CallTracker::new(config);
    let mut out = Vec::new();
    let src: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let started = Instant::now();
    for i in 0..BIG {
        let id = format!("bg{i:07}@192.0.2.1");
        feed(&mut tracker, &set, &invite(&id, i, 16), src, t(0), &mut out);
        out.clear();
    }
    let s = tracker.stats();
    eprintln!(
        "1,000,000 calls tracked in {:.1} s: {} active, {} flows bound",
        started.elapsed().as_secs_f64(),
        s.active_calls,
        s.bound_flows
    );
    assert_eq!(s.active_calls, u64::from(BIG));
    if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
        eprintln!(
            "resident memory grew by {} MiB: {} octets per call",
            (after - before) / 1024,
            (after - before) * 1024 / u64::from(BIG)
        );
    }

    // Untracked INVITEs, each a new call between non-targets: what remembering them for a
    // later leg costs in memory.
    let rss_before = rss_kib();
    for k in 0..PENDING {
        let m = other_invite(&format!("p{k}"), k, 2_000_000 + k);
        feed(&mut tracker, &set, &m, src, t(0), &mut out);
    }
    if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
        eprintln!(
            "{PENDING} untracked INVITEs: resident memory grew by {} KiB, {} octets each",
            after - before,
            (after - before) * 1024 / u64::from(PENDING)
        );
    }

    // 180s of tracked calls, scattered.
    let ringing: Vec<Vec<u8>> = (0..BATCH as u32)
        .map(|k| {
            let i = k.wrapping_mul(2_654_435_761) % BIG;
            let id = format!("bg{i:07}@192.0.2.1");
            message("SIP/2.0 180 Ringing", &id, Some("r"), "1 INVITE", None)
        })
        .collect();
    // INVITEs between non-targets.
    let others: Vec<Vec<u8>> = (0..BATCH as u32)
        .map(|k| other_invite(&format!("x{k}"), k, 900_000 + k))
        .collect();
    // The same, new ones per round.
    let new_others: Vec<Vec<Vec<u8>>> = (0..64u32)
        .map(|round| {
            (0..BATCH as u32)
                .map(|k| other_invite(&format!("n{round}-{k}"), k, 3_000_000 + round * 2048 + k))
                .collect()
        })
        .collect();
    // Whole calls: 1,024 of them, 5 messages each, Call-IDs renewed per round.
    let cycle = |round: u32| -> Vec<Vec<u8>> {
        let mut v = Vec::with_capacity(5 * BATCH);
        for k in 0..BATCH as u32 {
            let id = format!("cyc{round}-{k}");
            let answer = sdp("callee", 700_000 + k, &ip(k, 50), 40_000 + 2 * k);
            v.push(invite(&id, k, 60));
            v.push(message(
                "SIP/2.0 200 OK",
                &id,
                Some("b"),
                "1 INVITE",
                Some(&answer),
            ));
            v.push(message(
                "ACK sip:target@192.0.2.9 SIP/2.0",
                &id,
                Some("b"),
                "1 ACK",
                None,
            ));
            v.push(message(
                "BYE sip:target@192.0.2.9 SIP/2.0",
                &id,
                Some("b"),
                "2 BYE",
                None,
            ));
            v.push(message("SIP/2.0 200 OK", &id, Some("b"), "2 BYE", None));
        }
        v
    };
    let rounds: Vec<Vec<Vec<u8>>> = (0..64).map(cycle).collect();

    let raw_ringing = ringing.clone();
    let raw_rounds = rounds.clone();
    let ringing = parse_all(&set, &ringing);
    let others = parse_all(&set, &others);
    assert!(others.iter().all(|(_, m)| m.is_empty()));
    let new_others: Vec<_> = new_others.iter().map(|r| parse_all(&set, r)).collect();
    let rounds: Vec<_> = rounds.iter().map(|r| parse_all(&set, r)).collect();

    let mut group = c.benchmark_group("on_sip_1m_dialogs");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH as u64));
    let now = t(1);
    group.bench_function("in_dialog_180", |b| {
        b.iter(|| {
            for (msg, matches) in &ringing {
                out.clear();
                tracker.on_sip(msg, src, now, matches, &mut out);
            }
            assert_eq!(out.len(), 1);
        });
    });
    group.bench_function("untracked_invite", |b| {
        b.iter(|| {
            for (msg, matches) in &others {
                out.clear();
                tracker.on_sip(msg, src, now, matches, &mut out);
            }
            assert!(out.is_empty());
        });
    });
    let mut round = 0usize;
    let mut clock = 10;
    group.bench_function("untracked_invite_new", |b| {
        b.iter(|| {
            // 40 s on: the INVITEs remembered before are forgotten now.
            clock += 40;
            let now = t(clock);
            for (msg, matches) in &new_others[round % new_others.len()] {
                out.clear();
                tracker.on_sip(msg, src, now, matches, &mut out);
            }
            round += 1;
            assert!(out.is_empty());
        });
    });
    group.throughput(Throughput::Elements(5 * BATCH as u64));
    group.bench_function("call_cycle", |b| {
        b.iter(|| {
            // 40 s on: the previous round's ended calls are forgotten now.
            clock += 40;
            let now = t(clock);
            out.clear();
            tracker.on_timer(now, &mut out);
            for (msg, matches) in &rounds[round % rounds.len()] {
                tracker.on_sip(msg, src, now, matches, &mut out);
            }
            round += 1;
            black_box(out.len());
        });
    });
    group.finish();

    // The whole path from the octets, against 1,001 targets.
    let mut many = sip_traffic::targets();
    many.insert("sip:target@example.com".parse().unwrap())
        .unwrap();
    let invites: Vec<Vec<u8>> = (0..sip_traffic::MESSAGES)
        .map(sip_traffic::invite)
        .collect();
    // Whole calls of the same shape, in call order, new Call-IDs per round.
    let mixed: Vec<Vec<Vec<u8>>> = (0..MIXED_ROUNDS)
        .map(|round| {
            (0..sip_traffic::MESSAGES)
                .flat_map(|i| sip_traffic::call(i, round))
                .collect()
        })
        .collect();
    let named = mixed[0]
        .iter()
        .filter(|raw| {
            let mut m = Vec::new();
            many.match_message(&SipMessage::parse(raw).unwrap(), &mut m);
            !m.is_empty()
        })
        .count();
    assert_eq!(
        named,
        7 * sip_traffic::MESSAGES / 64,
        "every message of a target's call"
    );
    let mut matches = Vec::with_capacity(16);
    let mut group = c.benchmark_group("parse_match_track_1m_dialogs");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut whole =
        |tracker: &mut CallTracker, raw: &[u8], now: Timestamp, out: &mut Vec<CallEvent>| {
            let msg = SipMessage::parse(black_box(raw)).unwrap();
            matches.clear();
            many.match_message(&msg, &mut matches);
            tracker.on_sip(&msg, src, now, &matches, out);
        };
    group.bench_function("in_dialog_180", |b| {
        b.iter(|| {
            for raw in &raw_ringing {
                out.clear();
                whole(&mut tracker, raw, now, &mut out);
            }
            assert_eq!(out.len(), 1);
        });
    });
    group.bench_function("invite_1_in_64_target", |b| {
        b.iter(|| {
            out.clear();
            for raw in &invites {
                whole(&mut tracker, raw, now, &mut out);
            }
            black_box(out.len());
        });
    });
    // One round of whole calls, 40 s after the last (the ended calls of the round before
    // forgotten): the calls it began.
    let mut run_round = |rounds: &[Vec<Vec<u8>>]| -> usize {
        clock += 40;
        let now = t(clock);
        out.clear();
        tracker.on_timer(now, &mut out);
        for raw in &rounds[round % rounds.len()] {
            whole(&mut tracker, raw, now, &mut out);
        }
        round += 1;
        out.iter()
            .filter(|e| {
                matches!(
                    e,
                    CallEvent::Sip {
                        iri: IriType::Begin,
                        ..
                    }
                )
            })
            .count()
    };
    group.throughput(Throughput::Elements(5 * BATCH as u64));
    group.bench_function("call_cycle", |b| {
        b.iter(|| assert_eq!(run_round(&raw_rounds), BATCH, "each call begun"));
    });
    group.throughput(Throughput::Elements(mixed[0].len() as u64));
    group.bench_function("calls_1_in_64_target", |b| {
        b.iter(|| {
            let begun = run_round(&mixed);
            assert_eq!(begun, sip_traffic::MESSAGES / 64, "each target call begun");
        });
    });
    group.finish();
    let s = tracker.stats();
    assert!((u64::from(BIG)..=u64::from(BIG) + 16).contains(&s.active_calls));
    eprintln!("after the run: {s:?}");
}

/// The process's resident set size (Linux), in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn parse_all<'m, 't>(
    set: &'t SipTargets,
    msgs: &'m [Vec<u8>],
) -> Vec<(SipMessage<'m>, Vec<TargetMatch<'t>>)> {
    msgs.iter()
        .map(|m| {
            let msg = SipMessage::parse(m).unwrap();
            let mut matches = Vec::new();
            set.match_message(&msg, &mut matches);
            (msg, matches)
        })
        .collect()
}

criterion_group!(benches, bench_media, bench_sip);
criterion_main!(benches);
