//! X2/X3 over mutual TLS 1.3 on loopback: records per second of 200-octet X3 PDUs through
//! `X2X3Sender` -> TLS -> `serve` (framing, decoding) -> channel, in batches of 100,000.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use li_core::Xid;
use li_handover::tls::{DevPki, Validity};
use li_handover::x2x3::transport::{SenderConfig, X2X3Sender, serve};
use li_handover::x2x3::{DEFAULT_MAX_PDU_LEN, PayloadDirection, PduTimestamp, X3IpPacketEncoder};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

const BATCH: u32 = 100_000;

fn pdus(encoder: &X3IpPacketEncoder, packet: &[u8]) -> Vec<Vec<u8>> {
    (0..BATCH)
        .map(|seq| {
            let mut out = Vec::with_capacity(200);
            encoder
                .encode(
                    &mut out,
                    seq,
                    PduTimestamp::new(1_700_000_000, seq),
                    PayloadDirection::FromTarget,
                    packet,
                )
                .unwrap();
            out
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pki = DevPki::new("bench CA").unwrap();
    let mdf = pki
        .issue("mdf", &["mdf.test"], &[], Validity::Default)
        .unwrap();
    let probe = pki.issue("probe-1", &[], &[], Validity::Default).unwrap();
    let acceptor = TlsAcceptor::from(pki.server_config(&mdf).unwrap());
    let connector = TlsConnector::from(pki.client_config(&probe).unwrap());

    let (sender, mut rx, handle) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (out, rx) = mpsc::channel(8192);
        tokio::spawn(serve(listener, acceptor, out, DEFAULT_MAX_PDU_LEN));
        let mut cfg = SenderConfig::new("bench", addr.to_string(), connector, "mdf.test");
        cfg.queue_capacity = 2 * BATCH as usize;
        let (sender, handle) = X2X3Sender::spawn(cfg);
        (sender, rx, handle)
    });

    let encoder = X3IpPacketEncoder::new(Xid::from_bytes([7; 16]), [1; 8]);
    let packet = [0x45u8; 140];
    let mut group = c.benchmark_group("x2x3_tls");
    group.throughput(Throughput::Elements(u64::from(BATCH)));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("x3_200B_sender_to_listener", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = pdus(&encoder, &packet);
                total += rt.block_on(async {
                    let start = Instant::now();
                    for pdu in batch {
                        assert!(sender.send(pdu), "queue full");
                    }
                    for _ in 0..BATCH {
                        let (_, pdu) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
                            .await
                            .expect("PDUs stopped arriving")
                            .expect("listener gone");
                        std::hint::black_box(pdu);
                    }
                    start.elapsed()
                });
            }
            total
        })
    });
    group.finish();
    let stats = handle.stats().snapshot();
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.connects, 1, "{stats:?}");
    rt.block_on(handle.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
