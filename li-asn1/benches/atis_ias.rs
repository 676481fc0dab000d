//! ATIS-1000013 content: `IAS-CC-APDU` encode cost per record with 64- and 1400-octet IP
//! packets. `hot_path_encode` is [`IasCcEncoder`] (correlation info pre-encoded, time stamp,
//! direction and sequence number per record); `payload_copy_only` is the copy alone, the floor;
//! `typed_encode` builds and encodes the full model; `decode` is the agency side.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_asn1::GeneralizedTime;
use li_asn1::atis::ias_cc::{
    CcDeliveryHeader, ContentIdentifier, CorrelationInfo, IasCcApdu, IasCcEncoder, PacketDirection,
};
use li_core::Timestamp;

fn bench(c: &mut Criterion) {
    let content = ContentIdentifier::CorrelationId(vec![0, 0, 0, 42]);
    let encoder = IasCcEncoder::new("CASE-0001", Some("BRAS-EAST-7"), &content);
    let time = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
    for size in [64usize, 1400] {
        let packet: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut group = c.benchmark_group(format!("ias_cc_{size}"));
        group.throughput(Throughput::Elements(1));
        let mut out = Vec::with_capacity(2048);
        let mut seq = 0i64;
        group.bench_function("hot_path_encode", |b| {
            b.iter(|| {
                out.clear();
                seq = seq.wrapping_add(1);
                encoder.encode(
                    seq,
                    time,
                    PacketDirection::FromSubject,
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
                seq = seq.wrapping_add(1);
                let apdu = IasCcApdu {
                    delivery_header: Some(CcDeliveryHeader {
                        correlation_info: CorrelationInfo {
                            case_id: Some("CASE-0001".into()),
                            iap_id: Some("BRAS-EAST-7".into()),
                            content_identifier: content.clone(),
                        },
                        time_stamp: Some(GeneralizedTime::from_timestamp(time)),
                        packet_direction: Some(PacketDirection::FromSubject),
                        sequence_number: Some(seq),
                    }),
                    payload: black_box(&packet).to_vec(),
                };
                black_box(apdu.encode());
            })
        });
        out.clear();
        encoder.encode(1, time, PacketDirection::ToSubject, &packet, &mut out);
        let encoded = out.clone();
        group.bench_function("decode", |b| {
            b.iter(|| black_box(IasCcApdu::decode(black_box(&encoded)).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
