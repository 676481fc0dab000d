//! Live capture from a Linux interface through a `TPACKET_V3` memory-mapped ring (cargo
//! feature `live`).
//!
//! [`LiveCapture`] opens an `AF_PACKET` socket, has the kernel allocate a receive ring of
//! blocks ([`LiveConfig::ring_size`], [`LiveConfig::block_size`]), maps it into the process
//! and binds the socket to one interface for all protocols (`ETH_P_ALL`). The kernel writes
//! frames with their receive timestamp into the current block and hands the block over when
//! it is full or [`LiveConfig::block_timeout`] has passed; the capture walks the block's
//! frames in place, without a system call or a copy per frame, and gives the block back when
//! the next one is asked for. [`LiveCapture::next_frame`] returns one frame at a time,
//! [`LiveCapture::next_batch`] the frames of a whole block.
//!
//! Several threads or processes can share an interface's traffic with
//! [`LiveConfig::fanout`] (`PACKET_FANOUT`): each opens its own capture with the same group
//! id, and the kernel spreads frames over them, by flow hash by default (fragments of one
//! datagram are reassembled for hashing, so they reach the same member).
//!
//! The kernel's counters (`PACKET_STATISTICS`: frames seen, frames dropped because the ring
//! was full, times the ring froze) are read by [`LiveCapture::stats`] and accumulated in
//! [`LiveStats`].
//!
//! Requirements: Linux ≥ 3.19, and `CAP_NET_RAW` (root, or `setcap cap_net_raw+ep` on the
//! binary). Interfaces of hardware type Ethernet and loopback give [`LinkType::Ethernet`]
//! frames; `ARPHRD_NONE` interfaces (tun, WireGuard) give [`LinkType::RawIp`]; others are
//! refused. The interface is not put in promiscuous mode: use `ip link set dev IF promisc
//! on`, or a mirror port, which delivers everything anyway. On a loopback interface every
//! frame would be seen twice (outgoing and incoming); the outgoing copy is not delivered
//! (`PACKET_IGNORE_OUTGOING`, and discarded by packet type on older kernels), as libpcap
//! does.
//!
//! The `unsafe` code (mapping the ring, socket options, `poll`, the blocks' status words) is
//! confined to the private `ring` module; the frames of a block are found by a safe parser
//! that bounds every offset and length the kernel wrote (a bad value ends the walk of that
//! block and is counted in [`LiveStats::ring_faults`]).

mod block;
mod ring;

use std::time::{Duration, SystemTime};

use li_core::Timestamp;
use nix::errno::Errno;
use nix::ifaddrs::getifaddrs;
use nix::sys::socket::LinkAddr;

use self::block::{FrameCursor, FrameMeta};
use self::ring::{Ring, RingSetup};
use super::{CapturedFrame, is_cut};
use crate::LinkType;

/// `ARPHRD_ETHER`.
const ARPHRD_ETHER: u16 = 1;
/// `ARPHRD_LOOPBACK`.
const ARPHRD_LOOPBACK: u16 = 772;
/// `ARPHRD_NONE`: no link-layer header (tun devices, WireGuard).
const ARPHRD_NONE: u16 = 0xfffe;
/// `PACKET_OUTGOING`: a frame sent by this host.
const PACKET_OUTGOING: u8 = 4;
/// The default and largest snapshot length (tcpdump's); below it the kernel truncates.
const MAX_SNAPLEN: usize = 262_144;
/// `IFNAMSIZ - 1`: the longest interface name.
const MAX_INTERFACE_NAME: usize = 15;
/// `PACKET_FANOUT_FLAG_DEFRAG`.
const FANOUT_FLAG_DEFRAG: u32 = 0x8000;

/// How to open a [`LiveCapture`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveConfig {
    /// Bytes kept of each frame (the rest is not copied into the ring;
    /// [`CapturedFrame::original_len`] still tells the frame's length). Default 262 144,
    /// tcpdump's largest. Frames longer than a block can hold are cut to the block.
    pub snaplen: usize,
    /// Total size of the receive ring in bytes, rounded up to whole blocks, at least two
    /// blocks. Default 64 MiB: about 450 000 small frames, 0.2 s at 2 M frames/s.
    pub ring_size: usize,
    /// Size of one block in bytes, rounded up to a multiple of the page size. Default 1 MiB.
    pub block_size: usize,
    /// How long the kernel keeps filling a block before handing it over anyway, so that a
    /// quiet link does not hold frames back (default 10 ms; at least 1 ms).
    pub block_timeout: Duration,
    /// How long [`LiveCapture::next_frame`] and [`LiveCapture::next_batch`] wait before
    /// returning `Ok(None)`; `None` waits for ever.
    pub read_timeout: Option<Duration>,
    /// Join a fanout group (`PACKET_FANOUT`), to share the interface's frames with other
    /// captures of the same group.
    pub fanout: Option<Fanout>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            snaplen: MAX_SNAPLEN,
            ring_size: 64 << 20,
            block_size: 1 << 20,
            block_timeout: Duration::from_millis(10),
            read_timeout: None,
            fanout: None,
        }
    }
}

impl LiveConfig {
    /// Sets [`LiveConfig::snaplen`] (at least 1).
    pub fn snaplen(mut self, snaplen: usize) -> Self {
        self.snaplen = snaplen.max(1);
        self
    }

    /// Sets [`LiveConfig::ring_size`].
    pub fn ring_size(mut self, bytes: usize) -> Self {
        self.ring_size = bytes;
        self
    }

    /// The same as [`LiveConfig::ring_size`]: the ring is where frames wait for the reader
    /// (the socket receive buffer of earlier versions).
    pub fn receive_buffer(self, bytes: usize) -> Self {
        self.ring_size(bytes)
    }

    /// Sets [`LiveConfig::block_size`].
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }

    /// Sets [`LiveConfig::block_timeout`] (at least 1 ms).
    pub fn block_timeout(mut self, timeout: Duration) -> Self {
        self.block_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Sets [`LiveConfig::read_timeout`] (zero is taken as 1 µs).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout.max(Duration::from_micros(1)));
        self
    }

    /// Sets [`LiveConfig::fanout`]: join fanout group `group` with `mode`.
    pub fn fanout(mut self, group: u16, mode: FanoutMode) -> Self {
        self.fanout = Some(Fanout { group, mode });
        self
    }
}

/// A `PACKET_FANOUT` group membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fanout {
    /// The group id, shared by every member (per network namespace).
    pub group: u16,
    /// How the kernel picks a member for each frame.
    pub mode: FanoutMode,
}

/// How a fanout group spreads frames over its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FanoutMode {
    /// By flow hash (addresses and ports), so a flow stays with one member; IP fragments are
    /// reassembled for hashing (`PACKET_FANOUT_HASH` with `PACKET_FANOUT_FLAG_DEFRAG`). What
    /// a classifier that follows flows needs.
    Hash,
    /// Round-robin (`PACKET_FANOUT_LB`).
    LoadBalance,
    /// By the CPU that received the frame (`PACKET_FANOUT_CPU`).
    Cpu,
}

impl Fanout {
    /// The `PACKET_FANOUT` option value: group id in the low 16 bits, type and flags above.
    fn option(self) -> u32 {
        let kind = match self.mode {
            FanoutMode::Hash => FANOUT_FLAG_DEFRAG,
            FanoutMode::LoadBalance => 1,
            FanoutMode::Cpu => 2,
        };
        u32::from(self.group) | (kind << 16)
    }
}

/// Counters of a [`LiveCapture`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveStats {
    /// Frames returned by [`LiveCapture::next_frame`] and [`LiveCapture::next_batch`].
    pub received: u64,
    /// Frames the kernel dropped because the ring was full (`tp_drops` of
    /// `PACKET_STATISTICS`, summed since the capture was opened).
    pub dropped_by_kernel: u64,
    /// Frames the kernel handed to the socket, dropped ones included (`tp_packets`).
    pub kernel_packets: u64,
    /// Times the kernel found the ring full and froze it until a block came back
    /// (`tp_freeze_q_cnt`).
    pub queue_freezes: u64,
    /// Blocks taken from the ring.
    pub blocks: u64,
    /// Blocks whose walk stopped on an offset or length that did not fit the block (their
    /// remaining frames are lost); zero unless the kernel misbehaves.
    pub ring_faults: u64,
    /// Frames returned cut to the snapshot length.
    pub truncated: u64,
    /// Frames of other interfaces discarded (none is expected: the socket is bound before
    /// it receives anything).
    pub other_interface: u64,
}

/// Why live capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// A system call failed (`EPERM` without `CAP_NET_RAW`; `ENOMEM` for a ring larger than
    /// the kernel can allocate).
    #[error("{operation} failed: {source}")]
    Io {
        /// The system call or socket option.
        operation: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The name cannot be an interface name.
    #[error("{name:?} is not a valid interface name: {reason}")]
    InvalidInterfaceName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No interface has that name.
    #[error("no network interface named {name:?}")]
    InterfaceNotFound {
        /// The name asked for.
        name: String,
    },
    /// The interface's hardware type has no supported link type.
    #[error("interface {interface:?} has ARP hardware type {hatype}, not supported for capture")]
    UnsupportedHardwareType {
        /// The interface name.
        interface: String,
        /// Its `ARPHRD_*` type.
        hatype: u16,
    },
    /// The configuration cannot be given to the kernel.
    #[error("invalid live capture configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Frames from one Linux interface, through a `TPACKET_V3` ring.
///
/// ```no_run
/// use std::time::Duration;
/// use li_capture::source::live::{LiveCapture, LiveConfig};
///
/// let config = LiveConfig::default().read_timeout(Duration::from_millis(500));
/// let mut capture = LiveCapture::with_config("eth0", config)?;
/// while let Some(frame) = capture.next_frame()? {
///     println!("{} {} bytes", frame.timestamp, frame.data.len());
/// }
/// // Or a block at a time:
/// while let Some(batch) = capture.next_batch()? {
///     for frame in batch {
///         println!("{} {} bytes", frame.timestamp, frame.data.len());
///     }
/// }
/// println!("{:?}", capture.stats());
/// # Ok::<(), li_capture::source::live::LiveError>(())
/// ```
#[derive(Debug)]
pub struct LiveCapture {
    ring: Ring,
    /// Position in the held block.
    cursor: FrameCursor,
    filter: FrameFilter,
    interface: String,
    read_timeout: Option<Duration>,
    /// The counters, the kernel's summed over every `PACKET_STATISTICS` read (which resets
    /// them).
    stats: LiveStats,
}

impl LiveCapture {
    /// Opens `interface` with the default [`LiveConfig`] (no timeout).
    pub fn open(interface: &str) -> Result<Self, LiveError> {
        Self::with_config(interface, LiveConfig::default())
    }

    /// Opens `interface` with `config`.
    pub fn with_config(interface: &str, config: LiveConfig) -> Result<Self, LiveError> {
        check_interface_name(interface)?;
        let address = find_interface(interface)?;
        let hatype = address.hatype();
        let link = link_type(hatype).ok_or_else(|| LiveError::UnsupportedHardwareType {
            interface: interface.to_owned(),
            hatype,
        })?;
        let not_found = || LiveError::InterfaceNotFound {
            name: interface.to_owned(),
        };
        let ifindex = i32::try_from(address.ifindex()).map_err(|_| not_found())?;
        let block_size = config.block_size.max(1);
        let snaplen = config.snaplen.clamp(1, MAX_SNAPLEN);
        let setup = RingSetup {
            ifindex,
            block_size,
            block_count: config.ring_size.div_ceil(block_size).max(2),
            block_timeout_ms: u32::try_from(config.block_timeout.as_millis())
                .unwrap_or(u32::MAX)
                .max(1),
            snaplen: (snaplen < MAX_SNAPLEN).then(|| u32::try_from(snaplen).unwrap_or(u32::MAX)),
            fanout: config.fanout.map(Fanout::option),
            ignore_outgoing: hatype == ARPHRD_LOOPBACK,
        };
        let ring = Ring::open(&setup)?;
        Ok(Self {
            ring,
            cursor: FrameCursor::EMPTY,
            filter: FrameFilter {
                loopback: hatype == ARPHRD_LOOPBACK,
                snaplen,
                link,
                interface: u32::try_from(ifindex).map_err(|_| not_found())?,
            },
            interface: interface.to_owned(),
            read_timeout: config.read_timeout,
            stats: LiveStats::default(),
        })
    }

    /// The next frame; `Ok(None)` when the read timeout expires first.
    pub fn next_frame(&mut self) -> Result<Option<CapturedFrame<'_>>, LiveError> {
        loop {
            if let Some(meta) = self.next_meta() {
                let block = self.ring.held_block().unwrap_or_default();
                return Ok(Some(self.filter.frame(block, &meta)));
            }
            if !self.take_block()? {
                return Ok(None);
            }
        }
    }

    /// The frames of the next block of the ring (or what is left of the block
    /// [`LiveCapture::next_frame`] was reading), borrowed until the next call; `Ok(None)`
    /// when the read timeout expires first. The block goes back to the kernel at the next
    /// call. A batch can be empty (a block whose walk failed at once).
    pub fn next_batch(&mut self) -> Result<Option<Batch<'_>>, LiveError> {
        if self.cursor.remaining() == 0 && !self.take_block()? {
            return Ok(None);
        }
        let Self {
            ring,
            cursor,
            filter,
            stats,
            ..
        } = self;
        Ok(Some(Batch {
            block: ring.held_block().unwrap_or_default(),
            cursor,
            filter: *filter,
            stats,
        }))
    }

    /// What has been received and dropped so far. Reads the kernel's counters
    /// (`PACKET_STATISTICS`, one system call); if that fails, the totals of the last read
    /// are reported.
    pub fn stats(&mut self) -> LiveStats {
        if let Ok(counters) = self.ring.kernel_counters() {
            let stats = &mut self.stats;
            stats.kernel_packets = stats
                .kernel_packets
                .saturating_add(u64::from(counters.packets));
            stats.dropped_by_kernel = stats
                .dropped_by_kernel
                .saturating_add(u64::from(counters.drops));
            stats.queue_freezes = stats
                .queue_freezes
                .saturating_add(u64::from(counters.freezes));
        }
        self.stats
    }

    /// The link type of the frames.
    pub fn link_type(&self) -> LinkType {
        self.filter.link
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's index ([`CapturedFrame::interface`] of every frame).
    pub fn interface_index(&self) -> u32 {
        self.filter.interface
    }

    /// The next accepted frame of the held block, as positions.
    fn next_meta(&mut self) -> Option<FrameMeta> {
        let block = self.ring.held_block()?;
        next_accepted(&mut self.cursor, block, self.filter, &mut self.stats)
    }

    /// Gives the held block back and waits for the next; `false` on timeout.
    fn take_block(&mut self) -> Result<bool, LiveError> {
        self.cursor = FrameCursor::EMPTY;
        if !self.ring.acquire(self.read_timeout)? {
            return Ok(false);
        }
        self.stats.blocks = self.stats.blocks.saturating_add(1);
        let block = self.ring.held_block().unwrap_or_default();
        match FrameCursor::start(block) {
            Ok(cursor) => self.cursor = cursor,
            Err(_) => self.stats.ring_faults = self.stats.ring_faults.saturating_add(1),
        }
        Ok(true)
    }
}

/// The frames of one block of a [`LiveCapture`] ring ([`LiveCapture::next_batch`]).
pub struct Batch<'a> {
    block: &'a [u8],
    cursor: &'a mut FrameCursor,
    filter: FrameFilter,
    stats: &'a mut LiveStats,
}

impl std::fmt::Debug for Batch<'_> {
    // Not the block's bytes (a megabyte by default).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("block_len", &self.block.len())
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl Batch<'_> {
    /// Frames of the block not yet returned (an upper bound: outgoing frames on loopback are
    /// skipped).
    pub fn remaining(&self) -> usize {
        usize::try_from(self.cursor.remaining()).unwrap_or(usize::MAX)
    }
}

impl<'a> Iterator for Batch<'a> {
    type Item = CapturedFrame<'a>;

    fn next(&mut self) -> Option<CapturedFrame<'a>> {
        let meta = next_accepted(self.cursor, self.block, self.filter, self.stats)?;
        Some(self.filter.frame(self.block, &meta))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining()))
    }
}

/// What decides whether a frame of the ring is returned, and how.
#[derive(Clone, Copy, Debug)]
struct FrameFilter {
    loopback: bool,
    snaplen: usize,
    link: LinkType,
    /// The interface's index: frames of others are discarded.
    interface: u32,
}

impl FrameFilter {
    /// The frame at `meta` of `block` ([`next_accepted`] cut it to the snapshot length).
    fn frame<'a>(&self, block: &'a [u8], meta: &FrameMeta) -> CapturedFrame<'a> {
        let data = block.get(meta.data.clone()).unwrap_or_default();
        let timestamp = Timestamp::from_secs_micros(u64::from(meta.sec), meta.nsec / 1000)
            .unwrap_or_else(|_| Timestamp::from_system_time(SystemTime::now()));
        CapturedFrame {
            timestamp,
            link: self.link,
            interface: self.interface,
            data,
            original_len: meta.wire_len,
        }
    }
}

/// The next frame of `block` the filter accepts, cut to the snapshot length and counted;
/// faults and discarded frames are counted.
fn next_accepted(
    cursor: &mut FrameCursor,
    block: &[u8],
    filter: FrameFilter,
    stats: &mut LiveStats,
) -> Option<FrameMeta> {
    loop {
        let mut meta = match cursor.next_frame(block)? {
            Ok(meta) => meta,
            Err(_) => {
                stats.ring_faults = stats.ring_faults.saturating_add(1);
                return None;
            }
        };
        if meta.ifindex != filter.interface {
            stats.other_interface = stats.other_interface.saturating_add(1);
            continue;
        }
        if filter.loopback && meta.pkttype == PACKET_OUTGOING {
            continue;
        }
        stats.received = stats.received.saturating_add(1);
        meta.data.end = meta.data.start + meta.data.len().min(filter.snaplen);
        if is_cut(meta.data.len(), meta.wire_len) {
            stats.truncated = stats.truncated.saturating_add(1);
        }
        return Some(meta);
    }
}

/// Refuses names the kernel could never have given an interface (`dev_valid_name`), so
/// that a typo is reported as such rather than as a missing interface.
fn check_interface_name(name: &str) -> Result<(), LiveError> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > MAX_INTERFACE_NAME {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("reserved")
    } else if name
        .chars()
        .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace())
    {
        Some("contains '/', ':', NUL or white space")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(LiveError::InvalidInterfaceName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The `AF_PACKET` address of `name`, from `getifaddrs` (no privilege needed).
fn find_interface(name: &str) -> Result<LinkAddr, LiveError> {
    getifaddrs()
        .map_err(|errno: Errno| LiveError::Io {
            operation: "getifaddrs",
            source: errno.into(),
        })?
        .filter(|entry| entry.interface_name == name)
        .find_map(|entry| {
            entry
                .address
                .and_then(|address| address.as_link_addr().copied())
        })
        .ok_or_else(|| LiveError::InterfaceNotFound {
            name: name.to_owned(),
        })
}

/// The link type of frames read with `SOCK_RAW` from an interface of ARP hardware type
/// `hatype`.
fn link_type(hatype: u16) -> Option<LinkType> {
    match hatype {
        ARPHRD_ETHER | ARPHRD_LOOPBACK => Some(LinkType::Ethernet),
        ARPHRD_NONE => Some(LinkType::RawIp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! The tests that open sockets need `CAP_NET_RAW` and `CAP_SYS_ADMIN` (root): `sudo -E
    //! cargo test -p li-capture --features live --lib -- --ignored source::live`. Each runs
    //! in a network namespace of its own (created for its thread, gone with it), on a veth
    //! pair it creates there, so nothing outside is touched and nothing is left behind.

    use std::net::UdpSocket;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::process::Command;
    use std::time::Instant;

    use nix::sched::{CloneFlags, unshare};
    use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, bind, send, socket};

    use super::*;

    /// Ethertype of the test frames (IEEE local experimental): no protocol handler takes
    /// them, and nothing else on the link uses it.
    const TEST_ETHERTYPE: [u8; 2] = [0x88, 0xb5];

    /// Runs `test` on a thread of its own in a new network namespace with a veth pair
    /// `veth0` (send side) and `veth1` (capture side), both up.
    fn in_veth_namespace<T: Send>(test: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) (root?)");
                    ip(&[
                        "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
                    ]);
                    ip(&["link", "set", "veth0", "up"]);
                    ip(&["link", "set", "veth1", "up"]);
                    ip(&["link", "set", "lo", "up"]);
                    test()
                })
                .join()
                .expect("the test thread panicked")
        })
    }

    fn ip(args: &[&str]) {
        let status = Command::new("ip").args(args).status().expect("run ip");
        assert!(status.success(), "ip {args:?}: {status}");
    }

    /// A raw packet socket that sends on `interface`.
    fn sender(interface: &str) -> OwnedFd {
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(fd.as_raw_fd(), &find_interface(interface).unwrap()).unwrap();
        fd
    }

    /// Test frame `i`: broadcast, our ethertype, a recognisable payload of varying length.
    fn test_frame(i: u32) -> Vec<u8> {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
        frame.extend_from_slice(&TEST_ETHERTYPE);
        frame.extend_from_slice(&i.to_be_bytes());
        frame.extend((0..(i % 300) + 46).map(|b| (b as u8) ^ (i as u8)));
        frame
    }

    /// A ring of `ring_size` bytes in 64 KiB blocks handed over after 2 ms, reads timing out
    /// after 50 ms.
    fn small_ring(ring_size: usize) -> LiveConfig {
        LiveConfig::default()
            .read_timeout(Duration::from_millis(50))
            .ring_size(ring_size)
            .block_size(64 << 10)
            .block_timeout(Duration::from_millis(2))
    }

    fn is_test_frame(data: &[u8]) -> bool {
        data.get(12..14) == Some(&TEST_ETHERTYPE[..])
    }

    /// Reads test frames until `count` were seen (or, as a hang guard, the link stayed quiet
    /// for 20 read timeouts in a row).
    fn collect(capture: &mut LiveCapture, count: usize) -> Vec<(Timestamp, Vec<u8>, u32)> {
        let mut seen = Vec::new();
        let mut quiet = 0;
        while seen.len() < count && quiet < 20 {
            match capture.next_frame().unwrap() {
                Some(frame) => {
                    quiet = 0;
                    if is_test_frame(frame.data) {
                        seen.push((frame.timestamp, frame.data.to_vec(), frame.original_len));
                    }
                }
                None => quiet += 1,
            }
        }
        seen
    }

    #[test]
    fn bad_interface_names_are_reported_clearly() {
        for (name, reason) in [
            ("", "empty"),
            ("sixteen-bytes-xx", "longer than 15 bytes"),
            ("..", "reserved"),
            ("eth0/1", "contains '/', ':', NUL or white space"),
            ("eth0:1", "contains '/', ':', NUL or white space"),
            ("eth 0", "contains '/', ':', NUL or white space"),
            ("eth\u{0}", "contains '/', ':', NUL or white space"),
        ] {
            let error = LiveCapture::open(name).unwrap_err();
            assert!(
                matches!(&error, LiveError::InvalidInterfaceName { name: n, reason: r } if n == name && *r == reason),
                "{name:?}: {error}"
            );
            assert!(
                error.to_string().contains("not a valid interface name"),
                "{error}"
            );
        }
        let error = LiveCapture::open("no-such-if0").unwrap_err();
        assert!(
            matches!(&error, LiveError::InterfaceNotFound { name } if name == "no-such-if0"),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "no network interface named \"no-such-if0\""
        );
    }

    #[test]
    fn configuration() {
        assert_eq!(link_type(ARPHRD_ETHER), Some(LinkType::Ethernet));
        assert_eq!(link_type(ARPHRD_LOOPBACK), Some(LinkType::Ethernet));
        assert_eq!(link_type(ARPHRD_NONE), Some(LinkType::RawIp));
        assert_eq!(link_type(24), None); // ARPHRD_IEEE1394
        assert_eq!(LiveConfig::default().snaplen(0).snaplen, 1);
        assert_eq!(
            LiveConfig::default()
                .read_timeout(Duration::ZERO)
                .read_timeout,
            Some(Duration::from_micros(1))
        );
        assert_eq!(
            LiveConfig::default()
                .block_timeout(Duration::ZERO)
                .block_timeout,
            Duration::from_millis(1)
        );
        assert_eq!(
            LiveConfig::default().receive_buffer(1 << 20).ring_size,
            1 << 20
        );
        // PACKET_FANOUT_HASH (0) | DEFRAG (0x8000), group in the low half.
        let hash = LiveConfig::default()
            .fanout(7, FanoutMode::Hash)
            .fanout
            .unwrap();
        assert_eq!(hash.option(), 0x8000_0007);
        assert_eq!(
            LiveConfig::default()
                .fanout(0x1234, FanoutMode::LoadBalance)
                .fanout
                .unwrap()
                .option(),
            0x0001_1234
        );
    }

    #[test]
    fn frames_of_a_block_are_filtered_and_cut() {
        let block = block::tests::build_block(
            4096,
            &[
                (&[1; 60], 5, 0),
                (&[2; 60], 9, 0),               // another interface
                (&[3; 60], 5, PACKET_OUTGOING), // sent by this host
                (&[4; 60], 5, 3),               // PACKET_OTHERHOST
            ],
        );
        let filter = FrameFilter {
            loopback: true,
            snaplen: 50,
            link: LinkType::Ethernet,
            interface: 5,
        };
        let mut cursor = FrameCursor::start(&block).unwrap();
        let mut stats = LiveStats::default();
        let batch = Batch {
            block: &block,
            cursor: &mut cursor,
            filter,
            stats: &mut stats,
        };
        assert_eq!(batch.remaining(), 4);
        let frames: Vec<_> = batch.collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].data, &[1; 50]);
        assert_eq!(frames[0].original_len, 64);
        assert!(frames[0].is_truncated());
        assert_eq!(frames[0].timestamp.unix_secs(), 1_700_000_000);
        assert_eq!(frames[0].timestamp.subsec_micros(), 123_456);
        assert_eq!(frames[1].data, &[4; 50]);
        assert_eq!(stats.received, 2);
        assert_eq!(stats.truncated, 2);
        assert_eq!(stats.other_interface, 1);
    }

    #[test]
    #[ignore = "needs root (CAP_NET_RAW, CAP_SYS_ADMIN for a network namespace)"]
    fn veth_frames_are_captured_byte_for_byte_with_timestamps() {
        in_veth_namespace(|| {
            let mut capture = LiveCapture::with_config("veth1", small_ring(4 << 20)).unwrap();
            assert_eq!(capture.link_type(), LinkType::Ethernet);
            assert_eq!(capture.interface(), "veth1");
            let index = capture.interface_index();
            let tx = sender("veth0");
            let before = Timestamp::from_system_time(SystemTime::now());
            // Enough frames to fill several 64 KiB blocks.
            let sent: Vec<Vec<u8>> = (0..2000).map(test_frame).collect();
            for frame in &sent {
                assert_eq!(
                    send(tx.as_raw_fd(), frame, MsgFlags::empty()).unwrap(),
                    frame.len()
                );
            }
            let seen = collect(&mut capture, sent.len());
            let after = Timestamp::from_system_time(SystemTime::now());
            assert_eq!(seen.len(), sent.len(), "{:?}", capture.stats());
            let mut previous = Timestamp::UNIX_EPOCH;
            for ((timestamp, data, original_len), frame) in seen.iter().zip(&sent) {
                assert_eq!(data, frame);
                assert_eq!(*original_len as usize, frame.len());
                assert!(*timestamp >= before.checked_sub(Duration::from_secs(1)).unwrap());
                assert!(*timestamp <= after.checked_add(Duration::from_secs(1)).unwrap());
                assert!(*timestamp >= previous, "timestamps go forward");
                previous = *timestamp;
            }
            let stats = capture.stats();
            assert!(stats.received >= 2000, "{stats:?}");
            assert!(stats.blocks >= 2, "{stats:?}");
            assert_eq!(stats.dropped_by_kernel, 0, "{stats:?}");
            assert!(stats.kernel_packets >= 2000, "{stats:?}");
            assert_eq!(stats.ring_faults, 0);
            assert_eq!(stats.truncated, 0);

            // The same through the batch interface, interleaved with next_frame.
            let sent: Vec<Vec<u8>> = (5000..5500).map(test_frame).collect();
            for frame in &sent {
                send(tx.as_raw_fd(), frame, MsgFlags::empty()).unwrap();
            }
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(10);
            while seen.len() < sent.len() && Instant::now() < deadline {
                if seen.len() == 100 {
                    // One frame alone, then back to batches: nothing is lost or repeated.
                    if let Some(frame) = capture.next_frame().unwrap()
                        && is_test_frame(frame.data)
                    {
                        seen.push(frame.data.to_vec());
                    }
                    continue;
                }
                if let Some(batch) = capture.next_batch().unwrap() {
                    for frame in batch {
                        assert_eq!(frame.interface, index);
                        if is_test_frame(frame.data) {
                            seen.push(frame.data.to_vec());
                        }
                    }
                }
            }
            assert_eq!(seen, sent);
        });
    }

    #[test]
    #[ignore = "needs root (CAP_NET_RAW, CAP_SYS_ADMIN for a network namespace)"]
    fn drop_counters_move_when_the_ring_is_full_and_nobody_reads() {
        in_veth_namespace(|| {
            // Two 4 KiB blocks: a dozen 200-octet frames each.
            let mut capture = LiveCapture::with_config(
                "veth1",
                LiveConfig::default()
                    .read_timeout(Duration::from_millis(50))
                    .block_size(4096)
                    .ring_size(8192)
                    .block_timeout(Duration::from_millis(1)),
            )
            .unwrap();
            let tx = sender("veth0");
            let mut frame = test_frame(0);
            frame.resize(200, 0x5a);
            for _ in 0..2000 {
                send(tx.as_raw_fd(), &frame, MsgFlags::empty()).unwrap();
            }
            let stats = capture.stats();
            assert!(stats.dropped_by_kernel > 1000, "{stats:?}");
            assert!(stats.queue_freezes >= 1, "{stats:?}");
            assert!(stats.kernel_packets >= 2000, "{stats:?}");
            let drops = stats.dropped_by_kernel;
            // The counters accumulate over reads (the kernel resets its own on each).
            assert_eq!(capture.stats().dropped_by_kernel, drops);

            // What the ring held is still there (every frame the kernel queued and did not
            // drop: read until that many), then new frames come through again.
            let held = stats.kernel_packets - stats.dropped_by_kernel;
            let mut read = 0;
            let mut kept = 0;
            let mut quiet = 0;
            while read < held && quiet < 20 {
                match capture.next_frame().unwrap() {
                    Some(frame) => {
                        quiet = 0;
                        read += 1;
                        kept += usize::from(is_test_frame(frame.data));
                    }
                    None => quiet += 1,
                }
            }
            assert_eq!(
                read,
                held,
                "the frames the ring held: {:?}",
                capture.stats()
            );
            assert!(kept > 0 && kept < 100, "{kept} frames kept");
            let fresh: Vec<Vec<u8>> = (1..=10).map(test_frame).collect();
            for frame in &fresh {
                send(tx.as_raw_fd(), frame, MsgFlags::empty()).unwrap();
            }
            let seen: Vec<Vec<u8>> = collect(&mut capture, 10)
                .into_iter()
                .map(|(_, data, _)| data)
                .collect();
            assert_eq!(seen, fresh);
            assert_eq!(capture.stats().dropped_by_kernel, drops);
        });
    }

    #[test]
    #[ignore = "needs root (CAP_NET_RAW, CAP_SYS_ADMIN for a network namespace)"]
    fn fanout_hash_shares_flows_between_captures() {
        in_veth_namespace(|| {
            let config = LiveConfig::default()
                .read_timeout(Duration::from_millis(20))
                .ring_size(2 << 20)
                .block_size(64 << 10)
                .block_timeout(Duration::from_millis(2))
                .fanout(0x4c49, FanoutMode::Hash);
            let mut first = LiveCapture::with_config("veth1", config.clone()).unwrap();
            let mut second = LiveCapture::with_config("veth1", config).unwrap();
            let tx = sender("veth0");
            // 64 UDP flows, 10 datagrams each.
            let udp = |flow: u16, n: u8| {
                let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
                frame.extend_from_slice(&[
                    0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 1, 203, 0, 113, 1,
                ]);
                frame.extend_from_slice(&(10_000 + flow).to_be_bytes());
                frame.extend_from_slice(&[0x13, 0x88, 0, 12, 0, 0]);
                frame.extend_from_slice(&[b'L', b'I', n, flow as u8]);
                frame
            };
            for n in 0..10 {
                for flow in 0..64 {
                    send(tx.as_raw_fd(), &udp(flow, n), MsgFlags::empty()).unwrap();
                }
            }
            let mut flows = [
                std::collections::BTreeSet::new(),
                std::collections::BTreeSet::new(),
            ];
            let mut counts = [0usize; 2];
            let deadline = Instant::now() + Duration::from_secs(10);
            while counts[0] + counts[1] < 640 && Instant::now() < deadline {
                for (member, capture) in [&mut first, &mut second].into_iter().enumerate() {
                    while let Some(frame) = capture.next_frame().unwrap() {
                        if frame.data.len() == 46 && frame.data[42..44] == *b"LI" {
                            counts[member] += 1;
                            flows[member].insert(frame.data[45]);
                        }
                    }
                }
            }
            assert_eq!(counts[0] + counts[1], 640, "{counts:?}");
            assert!(counts[0] > 0 && counts[1] > 0, "{counts:?}");
            // A flow goes to one member only.
            assert!(flows[0].is_disjoint(&flows[1]), "{flows:?}");
            assert_eq!(flows[0].len() + flows[1].len(), 64);
        });
    }

    #[test]
    #[ignore = "needs root (CAP_NET_RAW)"]
    fn loopback_datagram_is_seen_once_and_snaplen_cuts() {
        let mut capture = LiveCapture::with_config("lo", small_ring(1 << 20)).unwrap();
        assert_eq!(capture.link_type(), LinkType::Ethernet);
        let lo = capture.interface_index();
        let mut truncating =
            LiveCapture::with_config("lo", small_ring(1 << 20).snaplen(20)).unwrap();
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let payload = b"li-capture live loopback ring test";
        let end = b"li-capture live loopback: the end";
        sender
            .send_to(payload, receiver.local_addr().unwrap())
            .unwrap();
        // Received: both copies of the datagram (outgoing and incoming) went past the ring.
        // Then a second datagram: whatever the ring holds of the first comes before it.
        let mut datagram = [0u8; 64];
        assert_eq!(receiver.recv(&mut datagram).unwrap(), payload.len());
        sender.send_to(end, receiver.local_addr().unwrap()).unwrap();

        // Read up to the second datagram: the outgoing copy of the first must not show up.
        let mut seen = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "the second datagram never came");
            let Some(frame) = capture.next_frame().unwrap() else {
                continue;
            };
            if frame.data.ends_with(end) {
                break;
            }
            if frame.data.ends_with(payload) {
                assert_eq!(frame.interface, lo);
                // Ethernet (14) + IPv4 (20) + UDP (8) + payload.
                assert_eq!(frame.data.len(), 42 + payload.len());
                assert_eq!(frame.original_len as usize, frame.data.len());
                seen += 1;
            }
        }
        assert_eq!(seen, 1, "the datagram is seen once");

        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(frame) = truncating.next_frame().unwrap()
                && frame.original_len as usize == 42 + payload.len()
            {
                assert_eq!(frame.data.len(), 20);
                assert!(frame.is_truncated());
                assert!(truncating.stats().truncated >= 1);
                return;
            }
        }
        panic!("no truncated frame seen");
    }
}
