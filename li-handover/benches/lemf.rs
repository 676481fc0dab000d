//! The agency's receiver (`lemf::Receiver`) on one HI3 connection over loopback TCP: a
//! pre-encoded stream of 100,000 CC PS-PDUs of 200-250 octets (an IPv4 packet each, built
//! with `CcEncoder`), with a keep-alive every 4,096 records and one at the end, written by a
//! client that then waits for the last keep-aliveResponse. The receiver writes the default
//! outputs (`records.jsonl` and the LIID's pcap) into a fresh directory under the system
//! temporary directory, and answers each keep-alive only once everything before it is
//! written (and, with fsync, on disk); so the time measured runs from the first octet sent
//! until every record is durable.
//!
//! Variants: fsync before each keep-aliveResponse (the default), no fsync, and fsync through
//! mutual TLS 1.3 (the time includes the handshake, under 1 ms).
//!
//! A second group, `lemf_hi3_ipmmcc_loopback`, sends 100,000 IPMMCC PS-PDUs instead (one
//! G.711 mu-law RTP packet of 160 samples each, built with `IpmmCcEncoder`, the two
//! directions of one call alternating): the receiver then also writes the call's media pcap
//! and two WAV files (TS 102 232-5 per-call output), without fsync.
//!
//! The receiver runs on its own single-threaded runtime (plus the receiver's file-writer
//! thread); the client on another.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use li_asn1::ber::frame_len;
use li_asn1::ipmm::{FrameType, MediaStream};
use li_asn1::{CcEncoder, HeaderSettings, IpmmCcEncoder, PayloadDirection, TriPayload};
use li_core::media::rtp::RtpHeader;
use li_core::{Cin, Liid, NetworkElementId, OperatorId, Timestamp};
use li_handover::lemf::{Interface, Receiver, ReceiverConfig};
use li_handover::tls::{DevPki, Validity};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const RECORDS: usize = 100_000;
const KEEP_ALIVE_EVERY: usize = 4096;

fn settings() -> HeaderSettings {
    let mut s = HeaderSettings::new(
        Liid::new(b"LIID-BENCH-0001").unwrap(),
        OperatorId::new(b"OPERATOR").unwrap(),
    );
    s.network_element_identifier = Some(NetworkElementId::new(b"NE-1").unwrap());
    s.authorization_country_code = Some("DE".parse().unwrap());
    s.delivery_country_code = Some("DE".parse().unwrap());
    s
}

/// An IPv4/UDP packet of `len` octets.
fn packet(n: u32, len: usize) -> Vec<u8> {
    let [a, b, c, d] = n.to_be_bytes();
    let mut p = vec![
        0x45,
        0,
        (len >> 8) as u8,
        len as u8,
        a,
        b,
        0,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        0,
        1,
        192,
        0,
        2,
        d,
    ];
    p.extend_from_slice(&[0x30, 0x39, 0x00, 0x35, 0, (len - 20) as u8, 0, 0]);
    p.resize(len, c);
    p
}

/// The stream: `RECORDS` CC PDUs (packets of 86 to 115 octets, so PDUs of 200-250), a
/// keep-alive after every `KEEP_ALIVE_EVERY` records and one at the end. Returns the stream
/// and its number of keep-alives.
fn stream() -> (Vec<u8>, usize) {
    let s = settings();
    let encoder = CcEncoder::new(&s, Cin::new(42));
    let start = Timestamp::from_secs_micros(1_704_164_645, 0).unwrap();
    let mut out = Vec::with_capacity(RECORDS * 256);
    let mut keep_alives = 0;
    let (mut min, mut max) = (usize::MAX, 0);
    for seq in 0..RECORDS as u32 {
        let time = Timestamp::from_unix_micros(start.unix_micros() + u64::from(seq) * 3).unwrap();
        let direction = if seq.is_multiple_of(2) {
            PayloadDirection::FromTarget
        } else {
            PayloadDirection::ToTarget
        };
        let before = out.len();
        encoder.encode(
            seq,
            time,
            direction,
            &packet(seq, 86 + (seq as usize % 30)),
            &mut out,
        );
        min = min.min(out.len() - before);
        max = max.max(out.len() - before);
        if (seq as usize + 1).is_multiple_of(KEEP_ALIVE_EVERY) || seq as usize + 1 == RECORDS {
            s.tri_pdu(seq, time, TriPayload::KeepAlive)
                .encode_into(&mut out);
            keep_alives += 1;
        }
    }
    assert!(min >= 200 && max <= 250, "PDU sizes {min}..={max}");
    (out, keep_alives)
}

/// The voice stream: `RECORDS` IPMMCC PDUs of one call, the directions alternating, with
/// keep-alives as in [`stream`].
fn voice_stream() -> (Vec<u8>, usize) {
    let s = settings();
    let encoder = IpmmCcEncoder::new(&s, Cin::new(42));
    let media = MediaStream::new(FrameType::RtpFrame);
    let start = Timestamp::from_secs_micros(1_704_164_645, 0).unwrap();
    let mut out = Vec::with_capacity(RECORDS * 256);
    let mut keep_alives = 0;
    let mut packet = Vec::with_capacity(172);
    for seq in 0..RECORDS as u32 {
        let time =
            Timestamp::from_unix_micros(start.unix_micros() + u64::from(seq) * 10_000).unwrap();
        let (direction, ssrc) = if seq.is_multiple_of(2) {
            (PayloadDirection::FromTarget, 0x1111)
        } else {
            (PayloadDirection::ToTarget, 0x2222)
        };
        let n = seq / 2;
        packet.clear();
        RtpHeader {
            marker: n == 0,
            payload_type: 0,
            sequence: n as u16,
            timestamp: n.wrapping_mul(160),
            ssrc,
        }
        .write(&mut packet);
        packet.extend((0..160u32).map(|i| (i ^ n) as u8));
        encoder.encode(seq, time, direction, &media, &packet, &mut out);
        if (seq as usize + 1).is_multiple_of(KEEP_ALIVE_EVERY) || seq as usize + 1 == RECORDS {
            s.tri_pdu(seq, time, TriPayload::KeepAlive)
                .encode_into(&mut out);
            keep_alives += 1;
        }
    }
    (out, keep_alives)
}

/// Sends the stream on one connection (through TLS with `tls`) and waits for every
/// keep-aliveResponse.
async fn send(addr: SocketAddr, tls: Option<TlsConnector>, stream: &[u8], keep_alives: usize) {
    let sock = TcpStream::connect(addr).await.unwrap();
    sock.set_nodelay(true).unwrap();
    match tls {
        None => exchange(sock, stream, keep_alives).await,
        Some(connector) => {
            let name = ServerName::try_from("lemf.test").unwrap();
            let tls = connector.connect(name, sock).await.unwrap();
            exchange(tls, stream, keep_alives).await;
        }
    }
}

async fn exchange<S: AsyncRead + AsyncWrite>(sock: S, stream: &[u8], keep_alives: usize) {
    let (mut rx, mut tx) = tokio::io::split(sock);
    let reader = async {
        let mut buf = Vec::with_capacity(4096);
        let mut seen = 0;
        while seen < keep_alives {
            assert!(rx.read_buf(&mut buf).await.unwrap() > 0, "closed early");
            let mut used = 0;
            while let Some(len) = frame_len(&buf[used..], 1 << 20).unwrap() {
                used += len;
                seen += 1;
            }
            buf.drain(..used);
        }
    };
    let writer = async {
        tx.write_all(stream).await.unwrap();
        tx.flush().await.unwrap();
        tx
    };
    let (_, tx) = tokio::join!(reader, writer);
    drop(tx);
}

fn out_dir(name: &str, n: u64) -> PathBuf {
    std::env::temp_dir().join(format!(
        "li-handover-bench-lemf-{}-{name}-{n}",
        std::process::id()
    ))
}

fn bench(c: &mut Criterion) {
    let (stream, keep_alives) = stream();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("lemf_hi3_cc_loopback");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    let pki = DevPki::new("bench CA").unwrap();
    let lemf = pki
        .issue("lemf", &["lemf.test"], &[], Validity::Default)
        .unwrap();
    let mediator = pki.issue("mediator", &[], &[], Validity::Default).unwrap();
    let acceptor = TlsAcceptor::from(pki.server_config(&lemf).unwrap());
    let connector = TlsConnector::from(pki.client_config(&mediator).unwrap());
    for (name, fsync, tls) in [
        ("jsonl+pcap, fsync", true, false),
        ("jsonl+pcap, no fsync", false, false),
        ("jsonl+pcap, fsync, TLS", true, true),
    ] {
        let tag = name.replace([' ', ',', '+'], "-");
        let mut n = 0;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let dir = out_dir(&tag, n);
                    let _ = std::fs::remove_dir_all(&dir);
                    let mut config = ReceiverConfig::new(&dir);
                    config.fsync = fsync;
                    let receiver = Receiver::new(config).unwrap();
                    let (addr, server) = serve(receiver, tls.then(|| acceptor.clone()));
                    let connector = tls.then(|| connector.clone());
                    let start = Instant::now();
                    client.block_on(send(addr, connector, &stream, keep_alives));
                    total += start.elapsed();
                    server.stop();
                    let _ = std::fs::remove_dir_all(&dir);
                }
                total
            })
        });
    }
    group.finish();

    let (voice, keep_alives) = voice_stream();
    let mut group = c.benchmark_group("lemf_hi3_ipmmcc_loopback");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    let mut n = 0;
    group.bench_function("jsonl+call files, no fsync", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let dir = out_dir("voice", n);
                let _ = std::fs::remove_dir_all(&dir);
                let mut config = ReceiverConfig::new(&dir);
                config.fsync = false;
                let receiver = Receiver::new(config).unwrap();
                let (addr, server) = serve(receiver, None);
                let start = Instant::now();
                client.block_on(send(addr, None, &voice, keep_alives));
                total += start.elapsed();
                server.stop();
                let _ = std::fs::remove_dir_all(&dir);
            }
            total
        })
    });
    group.finish();
}

/// A receiver serving HI3 on a fresh port, on its own thread and single-threaded runtime.
struct Server {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn stop(mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn serve(receiver: Receiver, tls: Option<TlsAcceptor>) -> (SocketAddr, Server) {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let receiver = Arc::new(receiver);
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            tokio::select! {
                _ = receiver.serve(listener, tls, Interface::Hi3) => {}
                _ = stopped => {}
            }
        });
    });
    let addr = addr_rx.recv().unwrap();
    (
        addr,
        Server {
            stop: Some(stop),
            thread: Some(thread),
        },
    )
}

criterion_group!(benches, bench);
criterion_main!(benches);
