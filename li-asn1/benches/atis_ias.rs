//! ATIS content headers: encode cost per record with 64-, 172- (G.711 RTP in IPv4/UDP) and
//! 1400-octet packets, for ATIS-1000013 `IAS-CC-APDU` (groups `ias_cc_N`) and ATIS-1000678
//! `CC-APDU` (groups `laes_cc_N`; the same model and encoder, with T1.678's correlation values).
//! `hot_path_encode` is the pre-encoded encoder (correlation info encoded once; time stamp,
//! direction and sequence number per record, then the packet copied); `payload_copy_only` is
//! the copy alone, the floor; `typed_encode` builds and encodes the full model; `decode` is the
//! agency side.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_asn1::GeneralizedTime;
use li_asn1::atis::ias_cc::{
    CcDeliveryHeader, ContentIdentifier, CorrelationInfo, IasCcApdu, IasCcEncoder, PacketDirection,
};
use li_core::Timestamp;

/// One family's correlation values.
struct Family {
    name: &'static str,
    case_id: &'static str,
    iap_id: &'static str,
    content: ContentIdentifier,
    sizes: &'static [usize],
}

fn bench_family(c: &mut Criterion, f: &Family) {
    let encoder = IasCcEncoder::new(f.case_id, Some(f.iap_id), &f.content);
    let time = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
    for &size in f.sizes {
        let packet: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut group = c.benchmark_group(format!("{}_{size}", f.name));
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
                            case_id: Some(f.case_id.into()),
                            iap_id: Some(f.iap_id.into()),
                            content_identifier: f.content.clone(),
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

fn bench(c: &mut Criterion) {
    bench_family(
        c,
        &Family {
            name: "ias_cc",
            case_id: "CASE-0001",
            iap_id: "BRAS-EAST-7",
            content: ContentIdentifier::CorrelationId(vec![0, 0, 0, 42]),
            sizes: &[64, 1400],
        },
    );
    // T1.678 voice: the call's correlation ID as announced in CCOpen, RTP packets
    bench_family(
        c,
        &Family {
            name: "laes_cc",
            case_id: "LIID-0042",
            iap_id: "SBC-WEST-2",
            content: ContentIdentifier::CorrelationId(vec![0, 0, 1, 7]),
            sizes: &[64, 172, 1400],
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
