//! Per-record cost of an X3 RTP Packet PDU (a call's media, 20 ms of G.711: a 12-octet RTP
//! header and 160 octets of PCMU) for an IPv4 and an IPv6 flow.
//!
//! `media_encoder` is the hot path: the flow's header pre-encoded once
//! ([`contract::media_encoder`]), per packet the payload length, sequence number and
//! timestamp written and the packet copied. `media_pdu` builds the [`Pdu`] (its attribute
//! vector and two proprietary-attribute vectors) and encodes it, what the contract did before.
//! `payload_copy_only` is the copy every encoding includes. `x3_ip_172` is the same for the
//! other pre-encoded X3 header, [`X3IpPacketEncoder`] (CC: one intercepted IP packet), whole
//! and cut by the snapshot length (the "original length" attribute added).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_core::{Cin, MediaFlow, MediaProtocol, PayloadDirection, Xid};
use li_handover::x2x3::{self, Pdu, PduTimestamp, X3IpPacketEncoder, contract};

fn bench(c: &mut Criterion) {
    let xid = Xid::from_bytes([0x2b; 16]);
    let cin = Cin::new(42);
    let direction = PayloadDirection::FromTarget;
    let ts = PduTimestamp::new(1_704_164_645, 678_901_000);
    let packet: Vec<u8> = (0..172).map(|i| i as u8).collect();
    let shared = Bytes::from(packet.clone());
    for (name, source, destination) in [
        ("x3_media_v4_172", "192.0.2.10:49170", "198.51.100.20:3456"),
        (
            "x3_media_v6_172",
            "[2001:db8::2]:49170",
            "[2001:db8::1]:3456",
        ),
    ] {
        let flow = MediaFlow {
            source: source.parse().unwrap(),
            destination: destination.parse().unwrap(),
            protocol: MediaProtocol::Rtp,
            stream: 0,
        };
        let encoder = contract::media_encoder(xid, cin, direction, &flow).unwrap();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        let mut out = Vec::with_capacity(2048);
        let mut seq = 0u32;

        group.bench_function("media_encoder", |b| {
            b.iter(|| {
                out.clear();
                seq = seq.wrapping_add(1);
                encoder
                    .encode(&mut out, seq, ts, black_box(&packet))
                    .unwrap();
                black_box(&out);
            })
        });

        group.bench_function("media_pdu", |b| {
            b.iter(|| {
                out.clear();
                seq = seq.wrapping_add(1);
                let pdu: Pdu = contract::media_pdu(
                    xid,
                    cin,
                    seq,
                    ts,
                    direction,
                    &flow,
                    black_box(&shared).clone(),
                );
                pdu.encode_into(&mut out).unwrap();
                black_box(&out);
            })
        });

        group.bench_function("payload_copy_only", |b| {
            b.iter(|| {
                out.clear();
                out.extend_from_slice(black_box(&packet));
                black_box(&out);
            })
        });
        group.finish();
    }

    let encoder = X3IpPacketEncoder::new(xid, [1; 8]);
    let direction = x2x3::PayloadDirection::FromTarget;
    let mut ip = packet.clone();
    if let Some(first) = ip.first_mut() {
        *first = 0x45;
    }
    let mut group = c.benchmark_group("x3_ip_172");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(2048);
    let mut seq = 0u32;
    group.bench_function("ip_packet_encoder", |b| {
        b.iter(|| {
            out.clear();
            seq = seq.wrapping_add(1);
            encoder
                .encode(&mut out, seq, ts, direction, black_box(&ip))
                .unwrap();
            black_box(&out);
        })
    });
    group.bench_function("ip_packet_encoder_truncated", |b| {
        b.iter(|| {
            out.clear();
            seq = seq.wrapping_add(1);
            encoder
                .encode_truncated(&mut out, seq, ts, direction, black_box(&ip), 1500)
                .unwrap();
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
