//! The benchmark's capture: fixed-size Ethernet/IPv4 frames, UDP and TCP, a given share of
//! them to or from the target, the rest between other hosts, written with li-capture's
//! [`PcapWriter`]. Deterministic: the same options give the same file, and the generator knows
//! exactly how many frames are the target's (the CC records the agency must receive).

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::{Context as _, bail};
use li_capture::LinkType;
use li_capture::source::PcapWriter;
use li_core::Timestamp;

use li_capture::synth::packet;
use li_capture::synth::scenario::{EPOCH_SECS, ROUTER_MAC};

/// The target's address: every frame from or to it is intercepted.
pub(crate) const TARGET: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 23);
/// The capture's first timestamp, 2026-01-15T10:00:00Z (the probe rebases it to "now").
pub(crate) const CAPTURE_START_MICROS: u64 = EPOCH_SECS * 1_000_000;
/// Ethernet (14) + IPv4 (20) + TCP (20): the smallest frame carrying a TCP header.
const MIN_HEADERS: usize = 14 + 20 + 20;
/// The smallest Ethernet frame (without FCS).
pub(crate) const MIN_FRAME: usize = 60;
/// The largest untagged Ethernet frame (1500-octet IP packet, without FCS).
pub(crate) const MAX_FRAME: usize = 1514;

const ETHERTYPE_IPV4: u16 = 0x0800;
const SUBSCRIBER_MAC: packet::Mac = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CaptureOptions {
    /// Frames in the file.
    pub(crate) frames: u64,
    /// Share of the frames to or from [`TARGET`], 0 to 1.
    pub(crate) target_share: f64,
    /// Octets per frame (Ethernet header included, no FCS), [`MIN_FRAME`] to [`MAX_FRAME`].
    pub(crate) frame_size: usize,
    /// Frames per second: the spacing of the timestamps (what a paced replay follows),
    /// 1 to 1,000,000 (the pcap timestamps have microseconds).
    pub(crate) rate: u64,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            frames: 200_000,
            target_share: 0.75,
            frame_size: 242,
            rate: 50_000,
        }
    }
}

impl CaptureOptions {
    /// Checks the ranges.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        if self.frames == 0 {
            bail!("--frames must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.target_share) {
            bail!(
                "--target-share {} is not between 0 and 1",
                self.target_share
            );
        }
        if !(MIN_FRAME..=MAX_FRAME).contains(&self.frame_size) {
            bail!(
                "--frame-size {} is not between {MIN_FRAME} and {MAX_FRAME} octets",
                self.frame_size
            );
        }
        if !(1..=1_000_000).contains(&self.rate) {
            bail!("--rate {} is not between 1 and 1000000 frames/s", self.rate);
        }
        Ok(())
    }

    /// The target's share in millionths.
    fn share_ppm(&self) -> u64 {
        // validated to 0..=1: the product is 0..=1e6
        (self.target_share * 1e6).round() as u64
    }

    /// Whether frame `i` (from 0) is the target's: spread evenly over the file, exactly
    /// `floor(frames * share)` of them.
    pub(crate) fn is_target(&self, i: u64) -> bool {
        let ppm = u128::from(self.share_ppm());
        let (i, next) = (u128::from(i), u128::from(i) + 1);
        next * ppm / 1_000_000 > i * ppm / 1_000_000
    }

    /// How many of the frames are the target's.
    pub(crate) fn target_frames(&self) -> u64 {
        let n = u128::from(self.frames) * u128::from(self.share_ppm()) / 1_000_000;
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// The timestamp of frame `i`, in microseconds since the Unix epoch.
    fn micros(&self, i: u64) -> u64 {
        let offset = u128::from(i) * 1_000_000 / u128::from(self.rate.max(1));
        CAPTURE_START_MICROS.saturating_add(u64::try_from(offset).unwrap_or(u64::MAX))
    }
}

/// What was written.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub(crate) struct CaptureSummary {
    /// Frames written.
    pub(crate) frames: u64,
    /// Frames to or from [`TARGET`]: the CC records expected at the agency.
    pub(crate) target_frames: u64,
    /// Of those, sent by the target.
    pub(crate) from_target: u64,
    /// Octets per frame.
    pub(crate) frame_size: usize,
    /// Seconds from the first to the last timestamp.
    pub(crate) span_s: f64,
}

/// Writes the capture to `path`.
pub(crate) fn generate(path: &Path, options: &CaptureOptions) -> anyhow::Result<CaptureSummary> {
    options.validate()?;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = PcapWriter::new(BufWriter::new(file), LinkType::Ethernet, false)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut summary = CaptureSummary {
        frames: options.frames,
        target_frames: 0,
        from_target: 0,
        frame_size: options.frame_size,
        span_s: 0.0,
    };
    let mut frame = Vec::with_capacity(options.frame_size);
    for i in 0..options.frames {
        let target = options.is_target(i);
        // the frame's number within its class (the target's, or the background)
        let n = if target {
            summary.target_frames
        } else {
            i - summary.target_frames
        };
        let kind = frame_kind(target, n);
        build_frame(&mut frame, i, &kind, options.frame_size);
        if target {
            summary.target_frames += 1;
            if kind.src == TARGET {
                summary.from_target += 1;
            }
        }
        let time = Timestamp::from_unix_micros(options.micros(i))?;
        writer
            .write_frame(time, &frame)
            .with_context(|| format!("cannot write frame {i} to {}", path.display()))?;
    }
    writer
        .into_inner()
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    let last = options.micros(options.frames.saturating_sub(1));
    summary.span_s = last.saturating_sub(CAPTURE_START_MICROS) as f64 / 1e6;
    Ok(summary)
}

/// Addresses, ports and protocol of one frame.
#[derive(Clone, Debug)]
struct FrameKind {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    tcp: bool,
}

/// The `n`-th frame of its class: target frames go alternately from and to the target, with
/// 64 peers; background frames between 200 subscribers (203.0.113.0/24) and 200 servers
/// (192.0.2.0/24), never on RADIUS or DHCP ports. In both, pairs of frames (a request and
/// its answer) alternate between UDP and TCP.
fn frame_kind(target: bool, n: u64) -> FrameKind {
    let low = |x: u64, m: u64| u8::try_from(x % m).unwrap_or(0);
    let (local, remote) = if target {
        (TARGET, Ipv4Addr::new(192, 0, 2, 1 + low(n / 2, 64)))
    } else {
        (
            Ipv4Addr::new(203, 0, 113, 1 + low(n / 2, 200)),
            Ipv4Addr::new(192, 0, 2, 1 + low(n / 14, 200)),
        )
    };
    let seq = n;
    let tcp = (seq / 2) % 2 == 1;
    let service = if tcp { 443 } else { 53 };
    let client_port = 40_000 + u16::from(low(seq / 4, 250));
    if seq.is_multiple_of(2) {
        FrameKind {
            src: local,
            dst: remote,
            sport: client_port,
            dport: service,
            tcp,
        }
    } else {
        FrameKind {
            src: remote,
            dst: local,
            sport: service,
            dport: client_port,
            tcp,
        }
    }
}

/// Builds frame `i` of `size` octets into `out`: Ethernet, IPv4 (checksummed, DF set,
/// identification from the frame number), UDP or TCP (checksummed), a payload starting with
/// the frame number; made with the sample generator's packet builders.
fn build_frame(out: &mut Vec<u8>, i: u64, kind: &FrameKind, size: usize) {
    let size = size.clamp(MIN_HEADERS, MAX_FRAME);
    let (src_mac, dst_mac) = if kind.dst == TARGET || kind.dst.octets()[0] == 203 {
        (ROUTER_MAC, SUBSCRIBER_MAC)
    } else {
        (SUBSCRIBER_MAC, ROUTER_MAC)
    };
    let l4_header = if kind.tcp { 20 } else { 8 };
    let payload_len = size - 14 - 20 - l4_header;
    let mut payload = i.to_be_bytes().to_vec();
    payload.resize(payload_len.max(8), 0);
    for (k, b) in payload.iter_mut().enumerate().skip(8) {
        *b = (k as u8).wrapping_mul(31) ^ (i as u8);
    }
    payload.truncate(payload_len);
    let (protocol, l4) = if kind.tcp {
        let seq = (i as u32).wrapping_mul(1_000);
        let flags = packet::PSH | packet::ACK;
        let segment = packet::tcp(
            kind.sport,
            kind.dport,
            seq,
            seq.wrapping_add(7),
            flags,
            502,
            &payload,
        );
        (packet::PROTO_TCP, segment)
    } else {
        (
            packet::PROTO_UDP,
            packet::udp(kind.sport, kind.dport, &payload),
        )
    };
    let params = packet::IpParams {
        ttl: 64,
        id: i as u16,
        df: true,
    };
    let ip = packet::ip_packet(kind.src.into(), kind.dst.into(), protocol, params, l4);
    let (frame, _) = packet::ethernet(dst_mac, src_mac, None, ETHERTYPE_IPV4, &ip);
    out.clear();
    out.extend_from_slice(&frame);
}

// cargo compiles a bench target with cfg(test) but without the test harness (its #[test]s
// are dropped, their helpers unused): these tests run from examples/tests/chain.rs.
#[cfg(test)]
#[allow(dead_code, unused_imports)]
mod tests {
    use std::net::IpAddr;

    use li_capture::decode::{DecodeConfig, decode};
    use li_capture::source::FileReader;

    use super::*;
    use li_capture::synth::packet::{PROTO_TCP, checksum};

    /// The generated file holds exactly the frames it says, of the asked size, and exactly
    /// `target_frames` of them are to or from the target (read back with li-capture's reader
    /// and decoder, not the generator's own knowledge).
    #[test]
    fn the_capture_holds_exactly_the_announced_target_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.pcap");
        let options = CaptureOptions {
            frames: 2000,
            rate: 10_000,
            ..CaptureOptions::default()
        };
        let summary = generate(&path, &options).unwrap();
        assert_eq!(summary.target_frames, 1500);
        assert_eq!(summary.from_target, 750);

        let mut reader = FileReader::open(&path).unwrap();
        let (mut frames, mut target, mut from_target, mut tcp) = (0u64, 0u64, 0u64, 0u64);
        let mut last = None;
        let target_ip = IpAddr::V4(TARGET);
        while let Some(frame) = reader.next_frame().unwrap() {
            assert_eq!(frame.data.len(), 242);
            if let Some(previous) = last {
                assert_eq!(
                    frame.timestamp.unix_micros() - previous,
                    100,
                    "10,000 frames/s"
                );
            }
            last = Some(frame.timestamp.unix_micros());
            let packet = decode(LinkType::Ethernet, frame.data, &DecodeConfig::default())
                .unwrap()
                .unwrap();
            assert_eq!(packet.ip.len(), 228);
            assert_eq!(checksum(0, &packet.ip[..20]), 0, "IPv4 header checksum");
            frames += 1;
            tcp += u64::from(packet.protocol == PROTO_TCP);
            if packet.src == target_ip || packet.dst == target_ip {
                target += 1;
                from_target += u64::from(packet.src == target_ip);
            }
        }
        assert_eq!((frames, target, from_target), (2000, 1500, 750));
        assert_eq!(tcp, 1000, "half of each class is TCP");
    }

    #[test]
    fn target_frames_are_spread_and_counted_exactly() {
        for (frames, share, want) in [
            (10, 0.0, 0),
            (10, 1.0, 10),
            (7, 0.5, 3),
            (200_000, 0.75, 150_000),
            (3, 0.333_333_3, 0),
        ] {
            let options = CaptureOptions {
                frames,
                target_share: share,
                ..CaptureOptions::default()
            };
            let counted = (0..frames).filter(|&i| options.is_target(i)).count() as u64;
            assert_eq!(options.target_frames(), want, "{frames} x {share}");
            assert_eq!(counted, want, "{frames} x {share}");
        }
    }

    #[test]
    fn out_of_range_options_are_refused() {
        for bad in [
            CaptureOptions {
                frames: 0,
                ..CaptureOptions::default()
            },
            CaptureOptions {
                target_share: 1.5,
                ..CaptureOptions::default()
            },
            CaptureOptions {
                frame_size: 59,
                ..CaptureOptions::default()
            },
            CaptureOptions {
                rate: 0,
                ..CaptureOptions::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
