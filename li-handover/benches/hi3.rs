//! HI3 delivery throughput, end to end on loopback: batches of 100,000 encoded 200-octet CC
//! PS-PDUs through `DeliveryQueue::enqueue_batch` (chunks of 1,024) → spool → `DeliveryLink` →
//! plain TCP → a minimal agency that frames the PS-PDUs with `li_asn1::ber::frame_len`,
//! counts the 200-octet ones without decoding them, and decodes (and answers) only the smaller
//! ones, the keep-alives. A batch's time runs from the first enqueue until the agency has
//! counted its last record. Two variants: the spool fsyncing once per 1,024 records, and the
//! spool never fsyncing.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use li_asn1::ber::frame_len;
use li_asn1::{HeaderSettings, Payload, PayloadDirection, PsPdu, TriPayload};
use li_core::{Cin, Liid, OperatorId, Timestamp};
use li_handover::hi::{DeliveryLink, DeliveryQueue, LinkConfig, keepalive_builder};
use li_handover::spool::{FsyncPolicy, Spool, SpoolConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Notify};

const BATCH: usize = 100_000;
const CHUNK: usize = 1024;
const PDU_LEN: usize = 200;

fn settings() -> HeaderSettings {
    HeaderSettings::new(
        Liid::new(b"LIID-BENCH").unwrap(),
        OperatorId::new(b"OP").unwrap(),
    )
}

fn cc_pdu(seq: u32, packet_len: usize) -> Vec<u8> {
    settings()
        .ip_cc_pdu(
            Cin::new(1),
            seq,
            Timestamp::from_secs_micros(1_704_164_645, 0).unwrap(),
            PayloadDirection::FromTarget,
            &vec![0x45; packet_len],
        )
        .encode()
}

/// `BATCH` CC PDUs of exactly `PDU_LEN` octets (the packet length is chosen to get there).
fn pdus() -> Vec<Vec<u8>> {
    let packet_len = (0..PDU_LEN)
        .find(|&n| cc_pdu(u32::MAX, n).len() == PDU_LEN)
        .expect("a packet length giving 200-octet PDUs");
    (0..BATCH as u32)
        .map(|seq| {
            // Large sequence numbers, so every PDU encodes to the same length.
            let pdu = cc_pdu(0x8000_0000 | seq, packet_len);
            assert_eq!(pdu.len(), PDU_LEN);
            pdu
        })
        .collect()
}

/// The agency: counts `PDU_LEN`-octet PDUs, decodes the rest and answers keep-alives.
async fn agency(listener: TcpListener, counted: Arc<AtomicU64>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(agency_conn(sock, Arc::clone(&counted)));
    }
}

async fn agency_conn(mut sock: TcpStream, counted: Arc<AtomicU64>) {
    sock.set_nodelay(true).unwrap();
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 17);
    loop {
        let mut used = 0;
        let mut records = 0;
        let mut responses = Vec::new();
        while let Some(len) = frame_len(&buf[used..], 1 << 20).unwrap() {
            let frame = &buf[used..used + len];
            if len == PDU_LEN {
                records += 1;
            } else {
                let pdu = PsPdu::decode(frame).unwrap();
                match pdu.payload {
                    Payload::TriPayload(TriPayload::KeepAlive) => responses.extend(
                        PsPdu {
                            header: pdu.header,
                            payload: Payload::TriPayload(TriPayload::KeepAliveResponse),
                        }
                        .encode(),
                    ),
                    other => panic!("unexpected PDU {other:?}"),
                }
            }
            used += len;
        }
        buf.drain(..used);
        counted.fetch_add(records, Ordering::Release);
        if !responses.is_empty() && sock.write_all(&responses).await.is_err() {
            return;
        }
        match sock.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pdus = pdus();
    let refs: Vec<&[u8]> = pdus.iter().map(Vec::as_slice).collect();

    let mut group = c.benchmark_group("hi3_delivery_200B_loopback");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for (name, policy) in [
        ("spool fsync batched", FsyncPolicy::Batch(1024)),
        ("spool without fsync", FsyncPolicy::Never),
    ] {
        let dir = std::env::temp_dir().join(format!(
            "li-handover-bench-hi3-{}-{}",
            std::process::id(),
            name.replace(' ', "-")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = SpoolConfig::new(&dir);
        cfg.fsync = policy;
        cfg.max_bytes = u64::MAX;
        cfg.ack_persist_every = 1 << 16;
        let (spool, _) = Spool::open(cfg).unwrap();
        let queue = DeliveryQueue::new(Arc::new(Mutex::new(spool)), Arc::new(Notify::new()));
        let counted = Arc::new(AtomicU64::new(0));
        let (agency_task, link) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let agency_task = tokio::spawn(agency(listener, Arc::clone(&counted)));
            let config =
                LinkConfig::new("bench HI3", addr.to_string(), keepalive_builder(settings()));
            (agency_task, DeliveryLink::spawn(config, queue))
        });

        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let target = counted.load(Ordering::Acquire) + BATCH as u64;
                        let start = Instant::now();
                        for chunk in refs.chunks(CHUNK) {
                            link.queue().enqueue_batch(chunk).await.unwrap();
                        }
                        tokio::time::timeout(Duration::from_secs(120), async {
                            while counted.load(Ordering::Acquire) < target {
                                tokio::time::sleep(Duration::from_micros(200)).await;
                            }
                        })
                        .await
                        .expect("the agency counted the batch in time");
                        total += start.elapsed();
                    }
                    total
                })
            })
        });

        rt.block_on(async {
            assert!(link.stop(Duration::from_secs(30)).await, "the link stops");
            agency_task.abort();
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
