//! PacketCable: CCC datagram framing cost per packet with 172-octet (G.711 RTP in IPv4/UDP)
//! and 1400-octet packets, and the PCESP `CdcPdu` encode cost per message.
//! `ccc_encode` is [`CccEncoder::encode`] into the caller's buffer (identifier pre-encoded,
//! NTP timestamp per packet, one copy); `ccc_encode_id_only` the 4-octet form;
//! `payload_copy_only` is the copy alone, the floor; `ccc_decode` is the agency side.
//! `cdc_encode/*` builds nothing per iteration: it encodes a ready `CdcPdu` (the record to
//! message mapping is not in this crate).
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use li_asn1::GeneralizedTime;
use li_asn1::packetcable::ccc::{CccEncoder, CccForm, decode};
use li_asn1::packetcable::*;
use li_core::Timestamp;

fn ccc(c: &mut Criterion) {
    let time = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
    let encoder = CccEncoder::new(0x0102_00ab, CccForm::IdTimestamp);
    let id_only = CccEncoder::new(0x0102_00ab, CccForm::Id);
    for size in [172usize, 1400] {
        let packet: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut group = c.benchmark_group(format!("ccc_{size}"));
        group.throughput(Throughput::Elements(1));
        let mut buf = vec![0u8; 2048];
        group.bench_function("ccc_encode", |b| {
            b.iter(|| {
                let n = encoder
                    .encode(black_box(time), black_box(&packet), &mut buf)
                    .unwrap();
                black_box(&buf[..n]);
            })
        });
        group.bench_function("ccc_encode_id_only", |b| {
            b.iter(|| {
                let n = id_only
                    .encode(black_box(time), black_box(&packet), &mut buf)
                    .unwrap();
                black_box(&buf[..n]);
            })
        });
        group.bench_function("payload_copy_only", |b| {
            b.iter(|| {
                buf[..size].copy_from_slice(black_box(&packet));
                black_box(&buf[..size]);
            })
        });
        let n = encoder.encode(time, &packet, &mut buf).unwrap();
        let datagram = buf[..n].to_vec();
        group.bench_function("ccc_decode", |b| {
            b.iter(|| black_box(decode(black_box(&datagram), CccForm::IdTimestamp).unwrap()))
        });
        group.finish();
    }
}

/// The mediator's PacketCable content path for a call's media: the CCC header and the IP
/// datagram rebuilt around the RTP packet (IPv4 and UDP headers, both checksums) into a reused
/// buffer, as `EncoderCache::encode_pcesp` does per packet. 172 octets: a 20 ms G.711 RTP packet.
fn ccc_media(c: &mut Criterion) {
    let time = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
    let encoder = CccEncoder::new(0x0102_00ab, CccForm::IdTimestamp);
    let (from, to) = (
        "192.0.2.10:49170".parse().unwrap(),
        "198.51.100.7:40000".parse().unwrap(),
    );
    let rtp: Vec<u8> = (0..172usize).map(|i| i as u8).collect();
    let mut out = Vec::with_capacity(2048);
    let mut group = c.benchmark_group("ccc_media_172");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ccc_rtp_in_ipv4_udp", |b| {
        b.iter(|| {
            out.clear();
            encoder.encode_into(black_box(time), &[], &mut out);
            li_core::datagram::write_udp(from, to, black_box(&rtp), &mut out).unwrap();
            black_box(&out);
        })
    });
    group.finish();
}

fn cdc(c: &mut Criterion) {
    let header = CdcHeader {
        case_id: CaseId::new("CASE-0001").unwrap(),
        accessing_element_id: AccessingElementId::new("CMS-12").unwrap(),
        event_time: GeneralizedTime::parse("20240102030405.678Z").unwrap(),
    };
    let call = CallId::from_billing_correlation_id(1_704_164_645, 7, "CMS-12").unwrap();
    let sdp =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\nc=IN IP4 192.0.2.10\r\nm=audio 49170 RTP/AVP 0\r\n";
    let ccopen = CdcPdu::new(Message::CcOpen(CcOpen {
        header: header.clone(),
        cc_open_option: CcOpenOption::CcOpenTime(vec![call.clone()]),
        ccc_id: CccId::comb(0x0102_00ab),
        subject: Some(sdp.into()),
        associate: Some(sdp.into()),
        flow_direction: FlowDirection::DownstreamAndUpstream,
    }));
    let release = CdcPdu::new(Message::Release(Release {
        header,
        call_id: call,
    }));
    let mut group = c.benchmark_group("cdc");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(1024);
    for (name, pdu) in [("ccopen", &ccopen), ("release", &release)] {
        group.bench_function(format!("encode_{name}"), |b| {
            b.iter(|| {
                out.clear();
                black_box(pdu).encode_into(&mut out);
                black_box(&out);
            })
        });
        let encoded = pdu.encode();
        group.bench_function(format!("decode_{name}"), |b| {
            b.iter(|| black_box(CdcPdu::decode(black_box(&encoded)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, ccc, ccc_media, cdc);
criterion_main!(benches);
