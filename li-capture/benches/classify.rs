//! Probe throughput on a generated 1,000,000-packet capture with 10,000 targets.
//!
//! Traffic: an IMIX-like size mix (58 % 64-octet, 33 % 576-octet, 9 % 1500-octet frames;
//! TCP and UDP, about 1 % of packets to or from a target), Ethernet, IPv4. Targets: 9,900
//! /32 addresses and 100 /24 prefixes, one task each, IRI and CC.
//!
//! - `classify_only`: decode + match + CC records, frames already in memory: the first
//!   16,384 frames (6 MB) cycled to 1,000,000, as frames arrive from a NIC ring (cache-warm);
//! - `classify_1m_distinct`: the same over all 1,000,000 distinct frames (380 MB), so every
//!   frame comes from DRAM;
//! - `classify_only_shared_address_space`: as `classify_only`, but the other subscribers
//!   share the targets' /16s, so no packet is rejected by the prefilter;
//! - `decode_only`: the frame decoder alone, cache-warm like `classify_only`;
//! - `read_and_classify`: the whole probe pipeline minus the network: the pcap file read
//!   with `FileReader` (page cache warm) and every frame classified.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_capture::LinkType;
use li_capture::decode::{DecodeConfig, decode};
use li_capture::source::{FileReader, PcapWriter};
use li_core::Timestamp;

use common::{Rng, classifier, push_frame};

const PACKETS: usize = 1_000_000;
/// Destination and source MAC addresses of the frames.
const MACS: [u8; 12] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];

/// `count` frames back to back, with their end offsets. With `same_space`, non-target
/// subscribers share the targets' address space (100.64.0.0/10), so the /16 prefilter cannot
/// reject their packets and every packet is looked up.
fn frames(count: usize, same_space: bool) -> (Vec<u8>, Vec<usize>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut data = Vec::with_capacity(count * 400);
    let mut ends = Vec::with_capacity(count);
    for _ in 0..count {
        let r = rng.next();
        let size = match r % 100 {
            0..58 => 64,
            58..91 => 576,
            _ => 1500,
        };
        push_frame(&mut data, &MACS, r, size, same_space);
        ends.push(data.len());
    }
    (data, ends)
}

fn pcap_file(data: &[u8], ends: &[usize], start: Timestamp) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-1m.pcap");
    let mut w = PcapWriter::new(
        std::io::BufWriter::new(std::fs::File::create(&path).unwrap()),
        LinkType::Ethernet,
        false,
    )
    .unwrap();
    let mut begin = 0;
    for (i, &end) in ends.iter().enumerate() {
        let ts = Timestamp::from_unix_micros(start.unix_micros() + i as u64).unwrap();
        w.write_frame(ts, &data[begin..end]).unwrap();
        begin = end;
    }
    w.flush().unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let (data, ends) = frames(PACKETS, false);
    let mut group = c.benchmark_group("probe_1m_packets_10k_targets");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(PACKETS as u64));

    // 16,384 distinct frames cycled to a million.
    let warm: Vec<&[u8]> = ends
        .iter()
        .take(16_384)
        .scan(0, |begin, &end| {
            let f = &data[*begin..end];
            *begin = end;
            Some(f)
        })
        .collect();
    let cycled = || warm.iter().cycle().take(PACKETS);

    group.bench_function("decode_only", |b| {
        let config = DecodeConfig::default();
        b.iter(|| {
            for f in cycled() {
                black_box(decode(LinkType::Ethernet, f, &config).ok());
            }
        })
    });

    let mut cl = classifier(start);
    let mut out = Vec::with_capacity(64);
    for f in &warm {
        cl.classify(start, LinkType::Ethernet, f, &mut out);
    }
    let matched = out.len();
    assert!(
        matched > 100,
        "the generated traffic must hit targets ({matched} records)"
    );
    out.clear();
    group.bench_function("classify_only", |b| {
        b.iter(|| {
            for f in cycled() {
                cl.classify(start, LinkType::Ethernet, f, &mut out);
                out.clear();
            }
        })
    });

    // Worst case for the prefilter: subscribers and targets in one address space.
    let (same, same_ends) = frames(16_384, true);
    let same_frames: Vec<&[u8]> = same_ends
        .iter()
        .scan(0, |begin, &end| {
            let f = &same[*begin..end];
            *begin = end;
            Some(f)
        })
        .collect();
    group.bench_function("classify_only_shared_address_space", |b| {
        b.iter(|| {
            for f in same_frames.iter().cycle().take(PACKETS) {
                cl.classify(start, LinkType::Ethernet, f, &mut out);
                out.clear();
            }
        })
    });

    group.bench_function("classify_1m_distinct", |b| {
        b.iter(|| {
            let mut begin = 0;
            for &end in &ends {
                cl.classify(start, LinkType::Ethernet, &data[begin..end], &mut out);
                out.clear();
                begin = end;
            }
        })
    });

    let path = pcap_file(&data, &ends, start);
    drop(data);
    let mut cl = classifier(start);
    group.bench_function("read_and_classify", |b| {
        b.iter(|| {
            let mut reader = FileReader::open(&path).unwrap();
            let mut n = 0;
            while let Some(f) = reader.next_frame().unwrap() {
                cl.classify(f.timestamp, f.link, f.data, &mut out);
                out.clear();
                n += 1;
            }
            assert_eq!(n, PACKETS);
        })
    });
    group.finish();
    let _ = std::fs::remove_file(path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
