//! Replays the committed cargo-fuzz corpus of li-capture's targets (`fuzz/corpus/`) with the
//! properties the targets check. With `LI_FUZZ_SEED_DIR` set, also writes seed inputs built
//! from the test frames there (how the committed seeds were made).

use std::path::PathBuf;

use li_capture::LinkType;
use li_capture::aaa::{parse_accounting, parse_dhcpv4};
use li_capture::decode::{DecodeConfig, decode};
use li_capture::source::{ByteOrder, FileReader, PcapWriter, PcapngWriter, TSRESOL_MICROS};

use crate::build::*;

/// The committed corpus of fuzz target `target`, sorted by file name; `None` without one.
pub(crate) fn corpus(target: &str) -> Option<Vec<Vec<u8>>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Some(
        files
            .into_iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect(),
    )
}

/// Selector octet 0x60: Ethernet, GRE and VXLAN removal on, depth limit 3.
const ETHERNET_ALL_TUNNELS: u8 = 0x60;

fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let frames = [
        ("udp", udp("192.0.2.7", "203.0.113.1", 1000, 53, b"query")),
        ("tcp", tcp("203.0.113.1", "192.0.2.7", b"response")),
        (
            "udp6",
            udp("2001:db8:7:1::5", "2001:db8:99::1", 3, 4, b"six"),
        ),
        ("radius-start", alice().frame()),
        (
            "dhcp-ack",
            dhcp(5, MAC_A, v4("10.1.0.9"), v4("0.0.0.0"), Some(3600)),
        ),
    ];
    for (name, f) in frames {
        out.push((
            "frame_decode",
            name.to_string(),
            [&[ETHERNET_ALL_TUNNELS][..], &f].concat(),
        ));
    }
    let acct = alice().encode();
    out.push(("aaa_parse", "radius-start".into(), acct));
    let stop = Acct {
        status: STOP,
        input_octets: Some(1),
        output_octets: Some(2),
        terminate_cause: Some(1),
        ..alice()
    };
    out.push(("aaa_parse", "radius-stop".into(), stop.encode()));
    let ack = dhcp(5, MAC_A, v4("10.1.0.9"), v4("0.0.0.0"), Some(3600));
    out.push(("aaa_parse", "dhcp-ack".into(), ack[42..].to_vec()));
    out.extend(
        capture_files()
            .into_iter()
            .map(|(n, f)| ("capture_file", n.to_string(), f)),
    );
    out
}

/// Small capture files in each format the reader takes.
fn capture_files() -> Vec<(&'static str, Vec<u8>)> {
    let frames = [
        udp("192.0.2.7", "203.0.113.1", 1, 2, b"a"),
        tcp("203.0.113.1", "192.0.2.7", b"b"),
    ];
    let mut out = Vec::new();
    for (name, order, nanos) in [
        ("pcap-le-us", ByteOrder::Little, false),
        ("pcap-be-ns", ByteOrder::Big, true),
    ] {
        let mut w =
            PcapWriter::with_byte_order(Vec::new(), LinkType::Ethernet, nanos, order).unwrap();
        for (i, f) in frames.iter().enumerate() {
            w.write_frame(t(i as u64), f).unwrap();
        }
        out.push((name, w.into_inner()));
    }
    let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Big).unwrap();
    let eth_if = w.add_interface(LinkType::Ethernet, TSRESOL_MICROS).unwrap();
    let raw_if = w.add_interface(LinkType::RawIp, 9).unwrap();
    w.write_frame(eth_if, t(1), &frames[0]).unwrap();
    w.write_frame(raw_if, t(2), ip_of(&frames[1])).unwrap();
    w.new_section(ByteOrder::Little).unwrap();
    let i = w.add_interface(LinkType::Ethernet, TSRESOL_MICROS).unwrap();
    w.write_frame(i, t(3), &frames[1]).unwrap();
    out.push(("pcapng-two-sections", w.into_inner()));
    out
}

fn alice() -> Acct<'static> {
    Acct {
        status: START,
        user: Some("alice@isp.example"),
        session_id: "sess-1",
        framed_ip: Some(v4("10.0.0.5")),
        nas_id: "bras-1",
        ..Acct::default()
    }
}

/// Writes `seeds` (target, name, input) as `$LI_FUZZ_SEED_DIR/<target>/seed-<name>`; does
/// nothing when the variable is not set.
pub(crate) fn write_seeds<'a, N: std::fmt::Display>(
    seeds: impl IntoIterator<Item = (&'a str, N, Vec<u8>)>,
) {
    let Some(dir) = std::env::var_os("LI_FUZZ_SEED_DIR") else {
        return;
    };
    for (target, name, data) in seeds {
        let d = PathBuf::from(&dir).join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("seed-{name}")), data).unwrap();
    }
}

#[test]
fn write_seeds_when_asked() {
    write_seeds(seeds());
}

#[test]
fn frame_decode_corpus() {
    let Some(files) = corpus("frame_decode") else {
        return;
    };
    assert!(files.len() >= 5, "the committed corpus has gone missing");
    let links = [
        LinkType::Ethernet,
        LinkType::RawIp,
        LinkType::LinuxSll,
        LinkType::Ipv4,
        LinkType::Ipv6,
        LinkType::LinuxSll2,
    ];
    let mut decoded = 0;
    for data in files {
        let Some((&sel, frame)) = data.split_first() else {
            continue;
        };
        let config = DecodeConfig {
            decapsulate_gre: sel & 8 == 0,
            decapsulate_vxlan: sel & 16 == 0,
            max_encapsulation_depth: sel >> 5,
            ..DecodeConfig::default()
        };
        if let Ok(Some(p)) = decode(links[usize::from(sel % 6)], frame, &config) {
            decoded += 1;
            let (f, ip) = (frame.as_ptr_range(), p.ip.as_ptr_range());
            assert!(f.start <= ip.start && ip.end <= f.end);
            assert!(p.encapsulation_depth <= config.max_encapsulation_depth);
        }
    }
    assert!(decoded >= 5, "the seed frames no longer decode");
}

#[test]
fn aaa_parse_corpus() {
    let Some(files) = corpus("aaa_parse") else {
        return;
    };
    assert!(files.len() >= 3, "the committed corpus has gone missing");
    let mut accepted = 0;
    for data in files {
        if let Ok(Some(r)) = parse_accounting(&data) {
            accepted += 1;
            assert!((20..=4096).contains(&r.raw_len) && r.raw_len <= data.len());
        }
        if parse_dhcpv4(&data).is_ok() {
            accepted += 1;
            assert!(data.len() >= 240);
        }
    }
    assert!(accepted >= 3, "the seeds no longer parse");
}

#[test]
fn capture_file_corpus() {
    let Some(files) = corpus("capture_file") else {
        return;
    };
    assert!(files.len() >= 3, "the committed corpus has gone missing");
    let mut frames = 0;
    for data in files {
        let Ok(mut reader) = FileReader::with_max_record_len(&data[..], 64 * 1024) else {
            continue;
        };
        for _ in 0..=data.len() {
            match reader.next_frame() {
                Ok(Some(_)) => frames += 1,
                // Past a bad record the reader goes on by itself; an error is the end.
                Ok(None) | Err(_) => break,
            }
        }
    }
    assert!(frames >= 6, "the seed files no longer read");
}

#[test]
fn seeds_match_the_targets_expectations() {
    // The seeds themselves must exercise the parsers, or the corpus starts from nothing.
    for (target, name, data) in seeds() {
        match target {
            "capture_file" => {
                let mut r = FileReader::new(&data[..]).unwrap();
                assert!(r.next_frame().unwrap().is_some(), "{name}");
            }
            "frame_decode" => {
                let frame = &data[1..];
                assert!(
                    decode(LinkType::Ethernet, frame, &DecodeConfig::default())
                        .unwrap()
                        .is_some(),
                    "{name}"
                );
            }
            _ => assert!(
                matches!(parse_accounting(&data), Ok(Some(_))) || parse_dhcpv4(&data).is_ok(),
                "{name}"
            ),
        }
    }
}
