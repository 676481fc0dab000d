//! CC PS-PDU encode and decode costs, with 64- and 1400-octet packets (TS 102 232-3 IPCC) and
//! a 172-octet RTP packet, 20 ms of G.711 (TS 102 232-5 IPMMCC).
//!
//! `hot_path_encode` is the mediator's per-record cost ([`CcEncoder`], [`IpmmCcEncoder`]);
//! `typed_encode` builds and encodes the full model; `decode` is the agency side's tolerant
//! reader.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_asn1::ipmm::{FrameType, MediaStream};
use li_asn1::{CcEncoder, HeaderSettings, IpmmCcEncoder, PayloadDirection, PsPdu};
use li_core::{Cin, Liid, NetworkElementId, OperatorId, Timestamp};

fn settings() -> HeaderSettings {
    let mut s = HeaderSettings::new(
        Liid::new(b"LIID-0001").unwrap(),
        OperatorId::new(b"OPERATOR").unwrap(),
    );
    s.network_element_identifier = Some(NetworkElementId::new(b"NE-1").unwrap());
    s.authorization_country_code = Some("DE".parse().unwrap());
    s.delivery_country_code = Some("DE".parse().unwrap());
    s
}

fn bench(c: &mut Criterion) {
    let s = settings();
    let encoder = CcEncoder::new(&s, Cin::new(42));
    let time = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
    for size in [64usize, 1400] {
        let packet: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut group = c.benchmark_group(format!("cc_{size}"));
        group.throughput(Throughput::Elements(1));

        let mut out = Vec::with_capacity(2048);
        let mut seq = 0u32;
        group.bench_function("hot_path_encode", |b| {
            b.iter(|| {
                out.clear();
                seq = seq.wrapping_add(1);
                encoder.encode(
                    seq,
                    time,
                    PayloadDirection::FromTarget,
                    black_box(&packet),
                    &mut out,
                );
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

        group.bench_function("typed_encode", |b| {
            b.iter(|| {
                let pdu = s.ip_cc_pdu(
                    Cin::new(42),
                    7,
                    time,
                    PayloadDirection::FromTarget,
                    black_box(&packet),
                );
                black_box(pdu.encode());
            })
        });

        let octets = s
            .ip_cc_pdu(Cin::new(42), 7, time, PayloadDirection::FromTarget, &packet)
            .encode();
        group.bench_function("decode", |b| {
            b.iter(|| black_box(PsPdu::decode(black_box(&octets)).unwrap()))
        });
        group.finish();
    }
}

fn bench_ipmm(c: &mut Criterion) {
    let s = settings();
    let encoder = IpmmCcEncoder::new(&s, Cin::new(42));
    let stream =
        MediaStream::new(FrameType::RtpFrame).with_stream_identifier(b"m=audio 49170 RTP/AVP 0");
    let time = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
    // RTP header and 160 octets of PCMU
    let packet: Vec<u8> = (0..172).map(|i| i as u8).collect();
    let mut group = c.benchmark_group("ipmm_cc_172");
    group.throughput(Throughput::Elements(1));

    let mut out = Vec::with_capacity(2048);
    let mut seq = 0u32;
    group.bench_function("hot_path_encode", |b| {
        b.iter(|| {
            out.clear();
            seq = seq.wrapping_add(1);
            encoder.encode(
                seq,
                time,
                PayloadDirection::ToTarget,
                &stream,
                black_box(&packet),
                &mut out,
            );
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

    group.bench_function("typed_encode", |b| {
        b.iter(|| {
            let pdu = s.ipmm_cc_pdu(
                Cin::new(42),
                7,
                time,
                PayloadDirection::ToTarget,
                &stream,
                black_box(&packet),
            );
            black_box(pdu.encode());
        })
    });

    let octets = s
        .ipmm_cc_pdu(
            Cin::new(42),
            7,
            time,
            PayloadDirection::ToTarget,
            &stream,
            &packet,
        )
        .encode();
    group.bench_function("decode", |b| {
        b.iter(|| black_box(PsPdu::decode(black_box(&octets)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench, bench_ipmm);
criterion_main!(benches);
