//! `li-demo`: the codec chain of an IP-access intercept, end to end in one process.
//!
//! A warrant on a RADIUS username is provisioned; an access session of the target becomes
//! IRI (HI2: begin, continue, end) and CC (HI3: the target's packets) PS-PDUs, encoded as
//! the mediator would (typed encoder for IRI, hot-path encoder for CC) into one stream file
//! per handover interface; the streams are then decoded as an agency would, with the tolerant
//! reader, sequence numbers checked per (LIID, CIN), and a summary printed. Finally a PS-PDU
//! produced by an independent encoder (pycrate) is decoded.
//!
//! The end-to-end demo over real sockets (probe, mediator, agency) replaces this when the
//! reference binaries land.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use li_asn1::{CcEncoder, HeaderSettings, IriContents, Payload, PsPdu};
use li_core::{
    AccessEvent, AccessEventType, AuthenticationType, CcRecord, Cin, DeliveryAddress, Destination,
    DestinationId, EndReason, HandoverFormat, InterceptScope, InternetAccessType, IpPrefix,
    IriEvent, IriRecord, IriType, Liid, OperatorId, PayloadDirection, SequenceAllocator,
    SequenceKey, TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
};

/// A PS-PDU encoded by pycrate from the official ETSI modules (see li-asn1/tests/data).
const INDEPENDENT_SAMPLE: &[u8] = include_bytes!("../../../li-asn1/tests/data/ps-pdu-ipcc.ber");

fn main() -> Result<()> {
    let out_dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/li-demo"));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    // The warrant, as the administration function holds it.
    let start = Timestamp::from_secs_micros(1_764_064_800, 0)?; // 2025-11-25T10:00:00Z
    let destination = Destination::new(
        DestinationId::from_bytes([0x11; 16]),
        DeliveryAddress::new("lemf.agency.example", 50_002, true),
        Some(DeliveryAddress::new("lemf.agency.example", 50_003, true)),
        HandoverFormat::etsi_default(),
    );
    let task = Task::builder(
        Liid::new(b"DEMO-LIID-0001")?,
        Xid::new_v4_from_random(*b"li-demo-task-xid"),
        InterceptScope::IriAndCc,
        ValidityWindow::new(start, None)?,
    )
    .target(TargetIdentifier::username("alice@isp.example")?)
    .destination(destination.clone())
    .authorization_country_code(Some("DE".parse()?))
    .delivery_country_code(Some("DE".parse()?))
    .build()?;
    let settings =
        HeaderSettings::for_destination(&task, &destination, OperatorId::new(b"OPERATOR")?, None)
            .context("destination is not an ETSI one")?;

    // The target's access session, as the probe would report it.
    let cin = Cin::new(1);
    let target_ip = Ipv4Addr::new(198, 51, 100, 7);
    let at = |ms: u64| Timestamp::from_unix_micros(start.unix_micros() + 5_000_000 + ms * 1000);
    let mut event = AccessEvent::new(AccessEventType::AccessAccept);
    event.username = b"alice@isp.example".to_vec();
    event.access_type = InternetAccessType::Xdsl;
    event.addresses = vec![IpPrefix::host(IpAddr::V4(target_ip))];
    event.network_id = Some("00:11:22:33:44:55".into());
    event.pop_identifier = Some("bras-01".into());
    event.authentication_type = Some(AuthenticationType::RadiusAaa);
    event.start_time = Some(at(0)?);
    let mut iri = vec![(IriType::Begin, event.clone(), at(0)?)];
    event.event_type = AccessEventType::InterimUpdate;
    iri.push((IriType::Continue, event.clone(), at(600)?));
    event.event_type = AccessEventType::AccessEnd;
    event.end_time = Some(at(900)?);
    event.end_reason = Some(EndReason::RegularLogoff);
    event.octets_received = Some(3_200);
    event.octets_transmitted = Some(640);
    iri.push((IriType::End, event, at(900)?));
    let cc: Vec<CcRecord> = (0..8u64)
        .map(|i| {
            let direction = if i % 2 == 0 {
                PayloadDirection::FromTarget
            } else {
                PayloadDirection::ToTarget
            };
            Ok(CcRecord {
                xid: task.xid(),
                cin,
                timestamp: at(100 + i * 50)?,
                direction,
                payload: udp_packet(target_ip, direction, i as u16).into(),
            })
        })
        .collect::<Result<_>>()?;

    // The mediator's side: sequence numbers per (destination, LIID, CIN), then encoding.
    let mut seq = SequenceAllocator::new();
    let key = SequenceKey {
        destination: destination.id,
        liid: task.liid(),
        cin,
    };
    let mut hi2 = Vec::new();
    for (iri_type, event, timestamp) in iri {
        let record = IriRecord {
            xid: task.xid(),
            cin,
            timestamp,
            iri_type,
            event: IriEvent::Access(event),
        };
        let pdu = settings
            .iri_pdu(seq.next(key).value(), &record)
            .context("access events are encodable")?;
        pdu.encode_into(&mut hi2);
    }
    // HI3 numbers its own PDUs: a separate sequence from HI2 under the same CIN.
    let mut hi3_seq = SequenceAllocator::new();
    let encoder = CcEncoder::new(&settings, cin);
    let mut hi3 = Vec::new();
    for record in &cc {
        encoder.encode_record(hi3_seq.next(key).value(), record, &mut hi3);
    }
    let hi2_path = out_dir.join("hi2.ber");
    let hi3_path = out_dir.join("hi3.ber");
    std::fs::write(&hi2_path, &hi2)?;
    std::fs::write(&hi3_path, &hi3)?;

    // The agency's side.
    println!(
        "li-demo: warrant {} ({:?}), target username, one access session",
        task.liid(),
        task.scope()
    );
    println!();
    println!(
        "{:<6} {:<16} {:>4} {:>5} {:>8}  {:<16} first event",
        "iface", "LIID", "CIN", "PDUs", "octets", "sequence"
    );
    for (iface, path) in [("HI2", &hi2_path), ("HI3", &hi3_path)] {
        let stream = std::fs::read(path)?;
        let summary =
            decode_stream(&stream).with_context(|| format!("decoding {}", path.display()))?;
        for ((liid, cin), s) in summary {
            println!(
                "{iface:<6} {liid:<16} {cin:>4} {:>5} {:>8}  {:<16} {}",
                s.pdus,
                stream.len(),
                format!(
                    "{}..={} {}",
                    s.first_seq,
                    s.last_seq,
                    if s.gaps == 0 { "no gaps" } else { "GAPS" }
                ),
                s.first_event
            );
            if s.gaps != 0 {
                bail!("{iface} sequence for {liid}/{cin} has {} gap(s)", s.gaps);
            }
        }
    }
    println!();
    println!(
        "streams written: {} and {}",
        hi2_path.display(),
        hi3_path.display()
    );

    let sample = PsPdu::decode(INDEPENDENT_SAMPLE).context("decoding the pycrate sample")?;
    println!(
        "independent sample (pycrate): LIID {}, CIN {:?}, sequence {}, {}, re-encodes identically: {}",
        sample.header.lawful_interception_identifier,
        sample
            .header
            .communication_identifier
            .communication_identity_number,
        sample.header.sequence_number,
        describe(&sample),
        sample.encode() == INDEPENDENT_SAMPLE
    );
    Ok(())
}

#[derive(Default)]
struct StreamSummary {
    pdus: usize,
    first_seq: u32,
    last_seq: u32,
    gaps: usize,
    first_event: String,
}

/// Decodes back-to-back PS-PDUs and checks sequence numbers per (LIID, CIN).
fn decode_stream(mut stream: &[u8]) -> Result<BTreeMap<(String, u32), StreamSummary>> {
    let mut out: BTreeMap<(String, u32), StreamSummary> = BTreeMap::new();
    let mut offset = 0;
    while !stream.is_empty() {
        let (pdu, used) = PsPdu::decode_prefix(stream)
            .with_context(|| format!("PDU at stream offset {offset}"))?;
        let h = &pdu.header;
        let key = (
            h.lawful_interception_identifier.to_string(),
            h.communication_identifier
                .communication_identity_number
                .unwrap_or(0),
        );
        let s = out.entry(key).or_default();
        if s.pdus == 0 {
            s.first_seq = h.sequence_number;
            s.first_event = describe(&pdu);
        } else if h.sequence_number != s.last_seq.wrapping_add(1) {
            s.gaps += 1;
        }
        s.last_seq = h.sequence_number;
        s.pdus += 1;
        stream = stream.get(used..).unwrap_or_default();
        offset += used;
    }
    Ok(out)
}

fn describe(pdu: &PsPdu) -> String {
    match &pdu.payload {
        Payload::IriPayloadSequence(items) => items
            .first()
            .map(|i| match &i.iri_contents {
                IriContents::IpIri(ip) => format!(
                    "{} {}",
                    i.iri_type.map_or("IRI", |t| t.asn1_name()),
                    ip.contents.access_event_type.asn1_name().unwrap_or("?")
                ),
                _ => "IRI".into(),
            })
            .unwrap_or_default(),
        Payload::CcPayloadSequence(items) => format!("IP packet(s): {}", items.len()),
        Payload::TriPayload(t) => format!("TRI {t:?}"),
        _ => "other".into(),
    }
}

/// A small IPv4/UDP packet between the target and a server.
fn udp_packet(target: Ipv4Addr, direction: PayloadDirection, n: u16) -> Vec<u8> {
    let server = Ipv4Addr::new(203, 0, 113, 53);
    let (src, dst) = match direction {
        PayloadDirection::FromTarget => (target, server),
        _ => (server, target),
    };
    let body = format!("demo payload {n}");
    let total = 20 + 8 + body.len();
    let mut p = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        n as u8,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&[0xc3, 0x50, 0x00, 0x35, 0, (8 + body.len()) as u8, 0, 0]);
    p.extend_from_slice(body.as_bytes());
    p
}
