//! Live capture through the `TPACKET_V3` ring, measured end to end on a veth pair.
//!
//! `sudo -E cargo bench -p li-capture --features live --bench live_ring` (root: it creates a
//! network namespace for itself, with a veth pair `veth0`/`veth1` in it, gone when the
//! process exits). `LIVE_RING_SECONDS` sets the length of the first phase (default 5).
//! Without the privileges it prints why and exits successfully; it fails only on errors
//! (setup, capture, or no frame at all), never on slowness.
//!
//! Traffic: 16,384 distinct 64-octet Ethernet/IPv4 frames (TCP and UDP, about 1 % to or
//! from a target), sent over and over; 10,000 tasks (9,900 /32 and 100 /24 targets) as in
//! the `classify` bench. Every captured frame is classified (decode, match, CC records).
//!
//! Three phases:
//! 0. *no capture*: the generators alone (below), for half the time, with no capture socket:
//!    what sending costs, to tell it apart from the kernel's capture work in phase 1.
//! 1. *concurrent*: generator threads (`LIVE_RING_GENERATORS`, default one per CPU, each
//!    pinned to a CPU) send with `sendmmsg` (256 frames per call) on raw packet sockets on
//!    `veth0`, while the capture thread, pinned to the last CPU, reads `veth1` with
//!    [`LiveCapture::next_batch`] and classifies. On veth the kernel's receive path
//!    (including the copy into the ring) runs on the sender's CPU, so the generators' cores
//!    carry sending and the kernel's capture work; the capture thread only walks blocks and
//!    classifies.
//! 2. *drain*: the capture thread stops reading, the generator fills the ring (a number of
//!    frames that fits), then the capture thread drains and classifies the whole ring as
//!    fast as it can: the capture core's own capacity, with no generator to wait for.
//!
//! "Per core" figures divide the frames by the capture thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), so they do not count time the thread spent waiting.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::error::Error;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use li_capture::classify::Classifier;
use li_capture::source::live::{LiveCapture, LiveConfig, LiveStats};
use li_core::{InterceptRecord, Timestamp};
use nix::errno::Errno;
use nix::ifaddrs::getifaddrs;
use nix::sched::{CloneFlags, CpuSet, sched_setaffinity, unshare};
use nix::sys::socket::{
    AddressFamily, ControlMessage, LinkAddr, MsgFlags, MultiHeaders, SockFlag, SockType, bind,
    sendmmsg, socket,
};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::Pid;

use common::{Rng, TARGETS, classifier, push_frame};

const DISTINCT_FRAMES: usize = 16_384;
const FRAME_LEN: usize = 64;
/// Destination and source MAC addresses of the frames: the destination is not `veth1`'s.
const MACS: [u8; 12] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
const SEND_BATCH: usize = 256;
const RING_SIZE: usize = 256 << 20;
const BLOCK_SIZE: usize = 1 << 20;
/// Frames sent to fill the ring in the drain phase: each 64-octet frame takes 152 bytes of
/// ring (header, address, alignment), so 256 MiB hold about 1.76 M.
const DRAIN_FRAMES: u64 = 1_500_000;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let seconds = std::env::var("LIVE_RING_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(5.0);
    match unshare(CloneFlags::CLONE_NEWNET) {
        Ok(()) => {}
        Err(Errno::EPERM) => {
            println!(
                "live_ring: skipped: needs root (CAP_SYS_ADMIN for a network namespace, CAP_NET_RAW)"
            );
            return Ok(());
        }
        Err(e) => return Err(format!("unshare(CLONE_NEWNET): {e}").into()),
    }
    for args in [
        &[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ][..],
        &["link", "set", "veth0", "up"],
        &["link", "set", "veth1", "up"],
    ] {
        let status = Command::new("ip").args(args).status()?;
        if !status.success() {
            return Err(format!("ip {args:?}: {status}").into());
        }
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let start = Timestamp::from_secs_micros(1_700_000_000, 0)?;
    let frames = frames();

    let generators = std::env::var("LIVE_RING_GENERATORS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(cpus);

    // Phase 0: the generators alone, no capture socket: what sending costs.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let threads = spawn_generators(generators, cpus, &frames, &stop, &sent);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds / 2.0));
    stop.store(true, Ordering::Relaxed);
    let generator_cpu = join_generators(threads)?;
    let wall = t0.elapsed().as_secs_f64();
    let sent_total = sent.load(Ordering::Relaxed);
    println!(
        "live_ring: no capture ({generators} generator threads): sent {} frames in {wall:.2} s ({}/s); generators: {generator_cpu:.2} CPU-s, {:.0} ns per frame",
        millions(sent_total),
        millions_rate(sent_total, wall),
        generator_cpu * 1e9 / sent_total.max(1) as f64
    );

    let mut capture = LiveCapture::with_config(
        "veth1",
        LiveConfig::default()
            .ring_size(RING_SIZE)
            .block_size(BLOCK_SIZE)
            .block_timeout(Duration::from_millis(5))
            .read_timeout(Duration::from_millis(20)),
    )?;
    let mut classifier = classifier(start);
    // The records of one frame, allocated once.
    let mut out = Vec::with_capacity(64);
    println!(
        "live_ring: {} distinct {FRAME_LEN}-octet frames, {TARGETS} tasks, ring {} MiB in {} KiB blocks, {cpus} CPUs",
        frames.len(),
        RING_SIZE >> 20,
        BLOCK_SIZE >> 10
    );

    // Phase 1: generators and capture at the same time.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let before = capture.stats();
    let threads = spawn_generators(generators, cpus, &frames, &stop, &sent);
    // The capture shares the last CPU with a generator when there are as many as CPUs.
    pin(cpus - 1, cpus);
    let mut records = 0u64;
    let cpu0 = thread_cpu()?;
    let t0 = Instant::now();
    let mut captured = 0u64;
    while t0.elapsed().as_secs_f64() < seconds {
        captured += read_batch(&mut capture, &mut classifier, &mut out, &mut records)?;
    }
    stop.store(true, Ordering::Relaxed);
    let wall = t0.elapsed().as_secs_f64();
    let cpu = thread_cpu()? - cpu0;
    let generator_cpu = join_generators(threads)?;
    // What is still in the ring after the generators stopped.
    loop {
        let n = read_batch(&mut capture, &mut classifier, &mut out, &mut records)?;
        if n == 0 {
            break;
        }
        captured += n;
    }
    let stats = delta(capture.stats(), before);
    let sent_total = sent.load(Ordering::Relaxed);
    println!(
        "live_ring: concurrent ({generators} generator threads): sent {} frames in {wall:.2} s ({}/s); captured and classified {} ({}/s wall); capture thread CPU {cpu:.2} s: {} frames/s per core; {records} records",
        millions(sent_total),
        millions_rate(sent_total, wall),
        millions(captured),
        millions_rate(captured, wall),
        millions_rate(captured, cpu)
    );
    println!(
        "live_ring:   generators: {generator_cpu:.2} CPU-s, {:.0} ns per frame (sending, veth, and the kernel's receive path with the copy into the ring)",
        generator_cpu * 1e9 / sent_total.max(1) as f64
    );
    report_kernel(&stats, sent_total);
    if captured == 0 {
        return Err("no frame captured in the concurrent phase".into());
    }
    drop(capture);

    // Phase 2: fill a fresh ring while nobody reads (a long block timeout, so that blocks
    // are handed over full), then drain it.
    let mut capture = LiveCapture::with_config(
        "veth1",
        LiveConfig::default()
            .ring_size(RING_SIZE)
            .block_size(BLOCK_SIZE)
            .block_timeout(Duration::from_millis(200))
            .read_timeout(Duration::from_millis(20)),
    )?;
    let tx = sender("veth0")?;
    let filled = AtomicU64::new(0);
    send_until(
        &tx,
        &frames,
        0,
        &AtomicBool::new(false),
        &filled,
        DRAIN_FRAMES,
    )?;
    // Let the kernel retire the last, partly filled block.
    std::thread::sleep(Duration::from_millis(400));
    let mut records = 0u64;
    let cpu0 = thread_cpu()?;
    let t0 = Instant::now();
    let mut drained = 0u64;
    let mut last_frame = t0;
    loop {
        let n = read_batch(&mut capture, &mut classifier, &mut out, &mut records)?;
        if n == 0 {
            break;
        }
        drained += n;
        last_frame = Instant::now();
    }
    // The last read waited for the read timeout before finding nothing: not counted.
    let wall = (last_frame - t0).as_secs_f64();
    let cpu = thread_cpu()? - cpu0;
    let stats = capture.stats();
    let filled = filled.load(Ordering::Relaxed);
    println!(
        "live_ring: drain: {} frames put in the ring, {} drained and classified in {wall:.3} s wall ({}/s), capture thread CPU {cpu:.3} s: {} frames/s per core; {records} records",
        millions(filled),
        millions(drained),
        millions_rate(drained, wall),
        millions_rate(drained, cpu)
    );
    report_kernel(&stats, filled);
    if drained == 0 {
        return Err("no frame captured in the drain phase".into());
    }
    Ok(())
}

type Generator = std::thread::JoinHandle<std::result::Result<f64, String>>;

/// Starts `count` sender threads, thread `g` pinned to CPU `g % cpus`, until `stop`.
fn spawn_generators(
    count: usize,
    cpus: usize,
    frames: &Arc<Vec<Vec<u8>>>,
    stop: &Arc<AtomicBool>,
    sent: &Arc<AtomicU64>,
) -> Vec<Generator> {
    (0..count)
        .map(|g| {
            let (stop, sent, frames) = (stop.clone(), sent.clone(), frames.clone());
            std::thread::spawn(move || {
                pin(g % cpus, cpus);
                let cpu0 = thread_cpu().map_err(|e| e.to_string())?;
                let tx = sender("veth0").map_err(|e| e.to_string())?;
                send_until(&tx, &frames, g * 4099, &stop, &sent, u64::MAX)
                    .map_err(|e| e.to_string())?;
                Ok(thread_cpu().map_err(|e| e.to_string())? - cpu0)
            })
        })
        .collect()
}

/// Waits for the generators; their CPU time in seconds.
fn join_generators(threads: Vec<Generator>) -> Result<f64> {
    let mut cpu = 0.0;
    for thread in threads {
        cpu += thread
            .join()
            .map_err(|_| "generator panicked")?
            .map_err(|e| format!("generator: {e}"))?;
    }
    Ok(cpu)
}

/// Takes one block (or times out: 0) and classifies its frames into `out`, counting and
/// clearing their records; the number of frames.
fn read_batch(
    capture: &mut LiveCapture,
    classifier: &mut Classifier,
    out: &mut Vec<InterceptRecord>,
    records: &mut u64,
) -> Result<u64> {
    let mut n = 0;
    if let Some(batch) = capture.next_batch()? {
        for frame in batch {
            classifier.classify(frame.timestamp, frame.link, frame.data, out);
            *records += out.len() as u64;
            out.clear();
            n += 1;
        }
    }
    Ok(n)
}

fn report_kernel(stats: &LiveStats, sent: u64) {
    println!(
        "live_ring:   kernel: {} frames reached the socket, {} dropped with the ring full ({} freezes), {} lost before the socket; {} blocks, {} ring faults",
        stats.kernel_packets,
        stats.dropped_by_kernel,
        stats.queue_freezes,
        sent.saturating_sub(stats.kernel_packets),
        stats.blocks,
        stats.ring_faults
    );
}

fn delta(after: LiveStats, before: LiveStats) -> LiveStats {
    let mut d = after;
    d.received -= before.received;
    d.dropped_by_kernel -= before.dropped_by_kernel;
    d.kernel_packets -= before.kernel_packets;
    d.queue_freezes -= before.queue_freezes;
    d.blocks -= before.blocks;
    d.ring_faults -= before.ring_faults;
    d
}

/// Sends `frames` round and round from `first` until `stop` or `limit` frames, adding to
/// `sent`.
fn send_until(
    fd: &OwnedFd,
    frames: &[Vec<u8>],
    first: usize,
    stop: &AtomicBool,
    sent: &AtomicU64,
    limit: u64,
) -> Result<()> {
    let slices: Vec<[IoSlice<'_>; 1]> = frames.iter().map(|f| [IoSlice::new(f)]).collect();
    let addresses: Vec<Option<LinkAddr>> = vec![None; SEND_BATCH];
    let mut headers = MultiHeaders::<LinkAddr>::preallocate(SEND_BATCH, None);
    let mut next = first % slices.len();
    let mut total = 0u64;
    while !stop.load(Ordering::Relaxed) && total < limit {
        let want = SEND_BATCH
            .min(slices.len() - next)
            .min(usize::try_from(limit - total).unwrap_or(usize::MAX));
        let batch = &slices[next..next + want];
        let n = match sendmmsg(
            fd.as_raw_fd(),
            &mut headers,
            batch,
            &addresses,
            [] as [ControlMessage<'_>; 0],
            MsgFlags::empty(),
        ) {
            Ok(results) => results.count(),
            Err(Errno::ENOBUFS | Errno::EAGAIN | Errno::EINTR) => 0,
            Err(e) => return Err(format!("sendmmsg: {e}").into()),
        };
        next = (next + n) % slices.len();
        total += n as u64;
        sent.fetch_add(n as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// A raw packet socket that sends on `interface` (protocol 0: it receives nothing).
fn sender(interface: &str) -> Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let address = getifaddrs()?
        .filter(|entry| entry.interface_name == interface)
        .find_map(|entry| entry.address.and_then(|a| a.as_link_addr().copied()))
        .ok_or_else(|| format!("no interface {interface}"))?;
    bind(fd.as_raw_fd(), &address)?;
    Ok(fd)
}

/// Pins the calling thread to `cpu` (if the machine has it).
fn pin(cpu: usize, cpus: usize) {
    if cpu < cpus {
        let mut set = CpuSet::new();
        if set.set(cpu).is_ok() {
            let _ = sched_setaffinity(Pid::from_raw(0), &set);
        }
    }
}

/// CPU time of the calling thread, in seconds.
fn thread_cpu() -> Result<f64> {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)?;
    Ok(t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9)
}

fn millions(n: u64) -> String {
    format!("{:.2} M", n as f64 / 1e6)
}

fn millions_rate(n: u64, seconds: f64) -> String {
    format!("{:.2} M", n as f64 / seconds.max(1e-9) / 1e6)
}

/// 64-octet Ethernet/IPv4 TCP or UDP frames, about 1 % to or from a target. The
/// destination MAC address is not `veth1`'s, so the IP layer discards them at once
/// (`PACKET_OTHERHOST`) after the capture saw them.
fn frames() -> Arc<Vec<Vec<u8>>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let frames = (0..DISTINCT_FRAMES)
        .map(|_| {
            let r = rng.next();
            let mut data = Vec::with_capacity(FRAME_LEN);
            push_frame(&mut data, &MACS, r, FRAME_LEN, false);
            data
        })
        .collect();
    Arc::new(frames)
}
