//! The classifier's voice path: RTP packets classified per second with 10,000 active
//! intercepted calls, and SIP messages per second through the classifier.
//!
//! Setup: 10,000 tasks, one SIP URI target each; 10,000 calls of those targets set up
//! (INVITE with SDP, 200 OK with SDP, ACK), each with its caller's and callee's RTP flows
//! bound. Frames are raw IPv4 packets already in memory.
//!
//! - `rtp_10k_calls`: 65,536 RTP packets (172-octet G.711 20 ms frames, both directions)
//!   spread over the 10,000 calls, each becoming one CC record (a copy of the RTP packet);
//! - `udp_not_media_10k_calls`: UDP packets on ports no call bound (the tracker's one or two
//!   lookups and nothing else), with the same 10,000 calls tracked;
//! - `sip_not_target`: INVITEs naming no target (parse, match, the tracker's one lookup);
//! - `sip_target_calls`: whole calls of targets, five messages each (INVITE, 200, ACK, BYE,
//!   200), every message an IRI record.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_capture::LinkType;
use li_capture::classify::{Classifier, ClassifierConfig};
use li_capture::synth::packet::{self, IpParams, PROTO_UDP};
use li_core::{
    DestinationId, InterceptRecord, InterceptScope, Liid, TargetIdentifier, Task, Timestamp,
    ValidityWindow, Xid,
};

const CALLS: u32 = 10_000;

fn udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let params = IpParams {
        ttl: 64,
        id: 0,
        df: true,
    };
    packet::ip_packet(
        src.ip(),
        dst.ip(),
        PROTO_UDP,
        params,
        packet::udp(src.port(), dst.port(), payload),
    )
}

fn caller(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
}

fn callee(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i))
}

fn sip(
    start: &str,
    call: &str,
    user: u32,
    to_tag: bool,
    cseq: &str,
    sdp: Option<SocketAddr>,
) -> Vec<u8> {
    let body = sdp
        .map(|m| {
            format!(
                "v=0\r\no=- {user}00 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
                 m=audio {} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n",
                m.port(),
                ip = m.ip()
            )
        })
        .unwrap_or_default();
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{call}{}\r\n\
         Max-Forwards: 70\r\nFrom: \"User\" <sip:user{user}@example.com>;tag=88{user}\r\n\
         To: <sip:peer{user}@example.net>{}\r\nCall-ID: {call}@10.0.0.1\r\nCSeq: {cseq}\r\n\
         Contact: <sip:user{user}@10.0.0.1:5060>\r\nUser-Agent: bench\r\n{}Content-Length: {}\r\n\r\n{body}",
        cseq.replace(' ', ""),
        if to_tag { ";tag=99" } else { "" },
        if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" },
        body.len()
    )
    .into_bytes()
}

/// The five messages of call `call` of target `user` between `i`'s hosts.
fn call_frames(call: &str, user: u32, i: u32) -> [Vec<u8>; 5] {
    let (a, b) = (
        SocketAddr::new(caller(i), 5060),
        SocketAddr::new(callee(i), 5060),
    );
    let (ma, mb) = (
        SocketAddr::new(caller(i), 20_000),
        SocketAddr::new(callee(i), 30_000),
    );
    let to = format!("sip:peer{user}@example.net");
    [
        udp(
            a,
            b,
            &sip(
                &format!("INVITE {to} SIP/2.0"),
                call,
                user,
                false,
                "1 INVITE",
                Some(ma),
            ),
        ),
        udp(
            b,
            a,
            &sip("SIP/2.0 200 OK", call, user, true, "1 INVITE", Some(mb)),
        ),
        udp(
            a,
            b,
            &sip(
                &format!("ACK {to} SIP/2.0"),
                call,
                user,
                true,
                "1 ACK",
                None,
            ),
        ),
        udp(
            a,
            b,
            &sip(
                &format!("BYE {to} SIP/2.0"),
                call,
                user,
                true,
                "2 BYE",
                None,
            ),
        ),
        udp(
            b,
            a,
            &sip("SIP/2.0 200 OK", call, user, true, "2 BYE", None),
        ),
    ]
}

fn classifier(start: Timestamp) -> Classifier {
    let mut c = Classifier::new(ClassifierConfig::default());
    let tasks = (0..CALLS).map(|i| {
        let target: TargetIdentifier = format!("sip:user{i}@example.com").parse().unwrap();
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&(i + 1).to_be_bytes());
        Task::new(
            Liid::new(format!("LIID-{i}").as_bytes()).unwrap(),
            Xid::from_bytes(id),
            vec![target],
            InterceptScope::IriAndCc,
            ValidityWindow::new(Timestamp::UNIX_EPOCH, None).unwrap(),
            vec![DestinationId::from_bytes([1; 16])],
        )
        .unwrap()
    });
    let mut out = Vec::new();
    c.activate_all(tasks, start, &mut out);
    c
}

fn bench(c: &mut Criterion) {
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let mut out: Vec<InterceptRecord> = Vec::with_capacity(64);

    // 10,000 calls set up.
    let mut cl = classifier(start);
    for i in 0..CALLS {
        let [invite, ok, ack, _, _] = call_frames(&format!("setup{i}"), i, i);
        for f in [invite, ok, ack] {
            cl.classify(start, LinkType::RawIp, &f, &mut out);
        }
    }
    assert_eq!(out.len(), 3 * CALLS as usize, "three IRI per call");
    assert_eq!(cl.stats().calls_active, u64::from(CALLS));
    out.clear();

    let mut rtp = vec![0x80u8, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
    rtp.resize(172, 0xd5);
    let media: Vec<Vec<u8>> = (0..65_536u32)
        .map(|n| {
            let i = n.wrapping_mul(2_654_435_761) % CALLS;
            let (ma, mb) = (
                SocketAddr::new(caller(i), 20_000),
                SocketAddr::new(callee(i), 30_000),
            );
            if n % 2 == 0 {
                udp(ma, mb, &rtp)
            } else {
                udp(mb, ma, &rtp)
            }
        })
        .collect();
    let other: Vec<Vec<u8>> = (0..65_536u32)
        .map(|n| {
            let i = n % CALLS;
            let (x, y) = (
                SocketAddr::new(caller(i), 40_000),
                SocketAddr::new(callee(i), 41_000),
            );
            udp(x, y, &rtp)
        })
        .collect();
    for f in &media[..16] {
        cl.classify(start, LinkType::RawIp, f, &mut out);
    }
    assert_eq!(out.len(), 16, "every RTP packet is CC of its call");
    out.clear();

    let mut group = c.benchmark_group("voice");
    group.throughput(Throughput::Elements(media.len() as u64));
    group.bench_function("rtp_10k_calls", |b| {
        b.iter(|| {
            for f in &media {
                cl.classify(start, LinkType::RawIp, f, &mut out);
                out.clear();
            }
        })
    });
    group.bench_function("udp_not_media_10k_calls", |b| {
        b.iter(|| {
            for f in &other {
                cl.classify(start, LinkType::RawIp, f, &mut out);
                black_box(out.len());
            }
        })
    });
    assert!(out.is_empty(), "no call's flow: nothing intercepted");

    // SIP not naming a target.
    let invites: Vec<Vec<u8>> = (0..CALLS)
        .map(|i| call_frames(&format!("other{i}"), CALLS + i, i)[0].clone())
        .collect();
    group.throughput(Throughput::Elements(invites.len() as u64));
    group.bench_function("sip_not_target", |b| {
        b.iter(|| {
            for f in &invites {
                cl.classify(start, LinkType::RawIp, f, &mut out);
            }
        })
    });
    assert!(out.is_empty());

    // Whole target calls; each round of the Call-IDs comes 40 s after the last (past the
    // 32 s linger of the ended calls, so every INVITE starts a new call).
    let calls: Vec<[Vec<u8>; 5]> = (0..2_000u32)
        .map(|i| call_frames(&format!("tcall{i}"), i, i))
        .collect();
    let mut round = 0u64;
    group.throughput(Throughput::Elements(5 * calls.len() as u64));
    group.bench_function("sip_target_calls", |b| {
        b.iter(|| {
            round += 1;
            let t = start.checked_add(Duration::from_secs(40 * round)).unwrap();
            for call in &calls {
                for f in call {
                    cl.classify(t, LinkType::RawIp, f, &mut out);
                }
                out.clear();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
