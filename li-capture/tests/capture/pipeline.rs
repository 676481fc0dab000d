//! File to records: a pcapng capture written with our writer, read back with the streaming
//! reader, every frame through the classifier. Covers the decoder paths a probe meets
//! (VLAN, QinQ, MPLS, ERSPAN, VXLAN, IPv4 fragments, raw IP on a second interface) and
//! asserts exactly which IP packets were emitted for which task.

use li_capture::LinkType;
use li_capture::classify::{Classifier, ClassifierConfig};
use li_capture::source::{ByteOrder, FileReader, PcapWriter, PcapngWriter, TSRESOL_MICROS};
use li_core::{
    DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptRecord, InterceptScope,
    Liid, PayloadDirection, TargetIdentifier, Task, ValidityWindow, Xid,
};

use crate::build::*;

fn task(n: u8, target: &str) -> Task {
    Task::new(
        Liid::new(format!("LIID-{n}").as_bytes()).unwrap(),
        Xid::from_bytes([n; 16]),
        vec![target.parse::<TargetIdentifier>().unwrap()],
        InterceptScope::IriAndCc,
        ValidityWindow::new(t(0), None).unwrap(),
        vec![Destination::new(
            DestinationId::from_bytes([n; 16]),
            DeliveryAddress::new("lemf", 1, false),
            Some(DeliveryAddress::new("lemf", 2, false)),
            HandoverFormat::etsi_default(),
        )],
    )
    .unwrap()
}

/// (interface, frame, the IP packet the target's task must get, if any).
fn traffic() -> Vec<(u32, Vec<u8>, Option<Vec<u8>>)> {
    let target = "192.0.2.7";
    let ip = |n: u8| {
        ipv4(
            target,
            "203.0.113.9",
            17,
            (0, 0, false),
            &udp_segment(5000, 53, &[n; 20]),
        )
    };
    let other = |n: u8| {
        ipv4(
            "198.51.100.1",
            "203.0.113.9",
            17,
            (0, 0, false),
            &udp_segment(1, 2, &[n; 20]),
        )
    };
    let mut v = Vec::new();
    // plain, VLAN, QinQ, MPLS
    v.push((0, eth(0x0800, &ip(1)), Some(ip(1))));
    v.push((0, tagged(&eth(0x0800, &ip(2)), 0x8100, 100), Some(ip(2))));
    v.push((
        0,
        tagged(&tagged(&eth(0x0800, &ip(3)), 0x8100, 10), 0x88a8, 20),
        Some(ip(3)),
    ));
    v.push((0, mpls(&ip(4)), Some(ip(4))));
    // mirrored through ERSPAN II and VXLAN: the inner packet is the one intercepted
    v.push((0, erspan2(&eth(0x0800, &ip(5))), Some(ip(5))));
    v.push((
        0,
        vxlan(&tagged(&eth(0x0800, &ip(6)), 0x8100, 7)),
        Some(ip(6)),
    ));
    // an IPv4 datagram in two fragments: both are the target's, as seen
    let datagram = udp_segment(5000, 53, &[0xee; 40]);
    let f1 = ipv4(target, "203.0.113.9", 17, (77, 0, true), &datagram[..24]);
    let f2 = ipv4(target, "203.0.113.9", 17, (77, 3, false), &datagram[24..]);
    v.push((0, eth(0x0800, &f1), Some(f1.clone())));
    v.push((0, eth(0x0800, &f2), Some(f2.clone())));
    // raw IP on the second interface
    v.push((1, ip(9), Some(ip(9))));
    // background: other hosts, ARP, a truncated frame
    v.push((0, eth(0x0800, &other(10)), None));
    v.push((1, other(11), None));
    v.push((0, eth(0x0806, &[0; 28]), None));
    v.push((0, eth(0x0800, &ip(12))[..30].to_vec(), None));
    v
}

#[test]
fn pcapng_through_the_classifier_yields_exactly_the_targets_packets() {
    let traffic = traffic();
    let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Big).unwrap();
    assert_eq!(
        w.add_interface(LinkType::Ethernet, TSRESOL_MICROS).unwrap(),
        0
    );
    assert_eq!(w.add_interface(LinkType::RawIp, 9).unwrap(), 1);
    for (i, (iface, frame, _)) in traffic.iter().enumerate() {
        w.write_frame(*iface, t(10 + i as u64), frame).unwrap();
    }
    let file = w.into_inner();

    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(task(1, "ipv4:192.0.2.7"), t(0), &mut out);
    c.activate(task(2, "ipv4:203.0.113.250"), t(0), &mut out);
    out.clear();
    let mut reader = FileReader::new(&file[..]).unwrap();
    let mut n = 0;
    while let Some(frame) = reader.next_frame().unwrap() {
        c.classify(frame.timestamp, frame.link, frame.data, &mut out);
        n += 1;
    }
    assert_eq!(n, traffic.len());
    let got: Vec<(u8, PayloadDirection, Vec<u8>, li_core::Timestamp)> = out
        .iter()
        .map(|r| match r {
            InterceptRecord::Cc(c) => (
                c.xid.as_bytes()[0],
                c.direction,
                c.payload.to_vec(),
                c.timestamp,
            ),
            InterceptRecord::Iri(i) => panic!("unexpected IRI {i:?}"),
        })
        .collect();
    let expected: Vec<_> = traffic
        .iter()
        .enumerate()
        .filter_map(|(i, (_, _, want))| {
            want.clone()
                .map(|ip| (1, PayloadDirection::FromTarget, ip, t(10 + i as u64)))
        })
        .collect();
    assert_eq!(got, expected);
    let stats = c.stats();
    assert_eq!(
        (stats.frames, stats.not_ip, stats.malformed),
        (traffic.len() as u64, 1, 1)
    );
}

#[test]
fn corrupt_file_keeps_the_records_before_the_damage() {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, false).unwrap();
    let frame = eth(
        0x0800,
        &ipv4(
            "192.0.2.7",
            "203.0.113.9",
            17,
            (0, 0, false),
            &udp_segment(1, 2, b"x"),
        ),
    );
    for i in 0..3 {
        w.write_frame(t(i), &frame).unwrap();
    }
    let mut file = w.into_inner();
    let good_len = file.len();
    // A fourth record header claiming 1 GiB.
    file.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40]);
    let mut reader = FileReader::new(&file[..]).unwrap();
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    c.activate(task(1, "ipv4:192.0.2.7"), t(0), &mut out);
    out.clear();
    let err = loop {
        match reader.next_frame() {
            Ok(Some(f)) => c.classify(f.timestamp, f.link, f.data, &mut out),
            Ok(None) => panic!("the damage went unreported"),
            Err(e) => break e,
        }
    };
    assert_eq!(out.len(), 3, "every record before the damage is processed");
    assert_eq!(err.offset(), Some(good_len as u64), "{err}");
    assert!(err.to_string().contains(&good_len.to_string()), "{err}");
}
