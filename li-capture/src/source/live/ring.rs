//! The `TPACKET_V3` receive ring: the one module of li-capture with `unsafe` code.
//!
//! The workspace denies `unsafe_code`; this module alone allows it, because a memory-mapped
//! packet ring cannot be had without it: `mmap` of the kernel's ring, `setsockopt` with
//! structures (`tpacket_req3`, a BPF program), `getsockopt(PACKET_STATISTICS)`, `poll`, and
//! atomic access to each block's status word, which the kernel and this process hand back
//! and forth. Everything here is a thin wrapper; nothing in this module interprets the
//! contents of a block beyond its status word: the block bytes are handed out as a `&[u8]`
//! and parsed by the safe [`super::block`] module, which bounds every offset and length the
//! kernel wrote.
//!
//! Ownership protocol (Documentation/networking/packet_mmap.rst): a block whose status has
//! `TP_STATUS_USER` belongs to user space until it writes `TP_STATUS_KERNEL` back; the
//! kernel does not touch it meanwhile. [`Ring::held_block`] borrows the one block this
//! process holds from `&self`; giving it back ([`Ring::release`], [`Ring::acquire`]) takes
//! `&mut self`, so the borrow checker guarantees no slice of a block outlives its ownership.

#![allow(unsafe_code)]

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::LiveError;

/// Offset of `block_status` in `struct tpacket_block_desc` (after `version` and
/// `offset_to_priv`).
const BLOCK_STATUS_OFFSET: usize = 8;
/// Frame size announced to the kernel; `TPACKET_V3` frames are variable-length, the value only
/// has to divide the block size and be `TPACKET_ALIGNMENT`-aligned.
const FRAME_SIZE: usize = 2048;

/// How to set up the ring (from the [`super::LiveConfig`] that
/// [`super::LiveCapture::with_config`] checked; [`Ring::open`] still clamps the block size and
/// count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RingSetup {
    /// Interface index to bind to.
    pub(super) ifindex: i32,
    /// Bytes per block (rounded up to a multiple of the page size here).
    pub(super) block_size: usize,
    /// Number of blocks.
    pub(super) block_count: usize,
    /// Milliseconds after which the kernel hands over a block that is not full.
    pub(super) block_timeout_ms: u32,
    /// Bytes kept of each frame, applied by the kernel through a one-instruction BPF program
    /// (`None`: everything).
    pub(super) snaplen: Option<u32>,
    /// `PACKET_FANOUT` argument (group id | type << 16), if any.
    pub(super) fanout: Option<u32>,
    /// Ask the kernel not to deliver frames this host sends (`PACKET_IGNORE_OUTGOING`).
    pub(super) ignore_outgoing: bool,
}

/// The kernel's counters since the previous read (`struct tpacket_stats_v3`; the kernel
/// resets them on every read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct KernelCounters {
    /// Frames seen by the socket, dropped ones included.
    pub(super) packets: u32,
    /// Frames dropped because the ring was full.
    pub(super) drops: u32,
    /// Times the ring was found full (queue frozen).
    pub(super) freezes: u32,
}

/// An `AF_PACKET` socket with a `TPACKET_V3` receive ring mapped into this process.
#[derive(Debug)]
pub(super) struct Ring {
    /// Start of the mapping (`block_size * block_count` bytes).
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    block_count: usize,
    /// The block this process holds (its status was seen with `TP_STATUS_USER`).
    held: Option<usize>,
    /// The block to look at next (the kernel fills blocks round-robin).
    next: usize,
    /// Declared after `map`: dropped (closed) after `Drop::drop` unmapped the ring.
    fd: OwnedFd,
}

// SAFETY: the mapping is owned by this value alone (nothing else holds the pointer) and is not
// tied to the thread that created it; moving the value to another thread moves that ownership.
unsafe impl Send for Ring {}

impl Ring {
    /// Opens the socket, sets up and maps the ring, then binds it to the interface (so no
    /// frame of another interface lands in it) and joins the fanout group.
    pub(super) fn open(setup: &RingSetup) -> Result<Self, LiveError> {
        let page = page_size();
        let block_size = setup.block_size.max(page).div_ceil(page) * page;
        let block_count = setup.block_count.max(1);
        let map_len = block_size
            .checked_mul(block_count)
            .ok_or(LiveError::InvalidConfig {
                reason: "ring size overflows",
            })?;
        let req = libc::tpacket_req3 {
            tp_block_size: c_uint(block_size)?,
            tp_block_nr: c_uint(block_count)?,
            tp_frame_size: c_uint(FRAME_SIZE)?,
            tp_frame_nr: c_uint((block_size / FRAME_SIZE).saturating_mul(block_count))?,
            tp_retire_blk_tov: setup.block_timeout_ms.max(1),
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };

        // Protocol 0: the socket receives nothing until `bind` names the interface and
        // ETH_P_ALL, after the ring is in place.
        // SAFETY: plain system call with integer arguments; the result is checked.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(last_error("socket(AF_PACKET)"));
        }
        // SAFETY: `raw` is a descriptor just returned by `socket`, owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let version: libc::c_int = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        set_option(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)
            .map_err(io("PACKET_VERSION"))?;
        if let Some(snaplen) = setup.snaplen {
            attach_snaplen_filter(&fd, snaplen)?;
        }
        if setup.ignore_outgoing {
            // Kernels before 4.20 do not know the option: outgoing frames are then filtered
            // by packet type in user space, so the error is not fatal.
            let one: libc::c_int = 1;
            let _ = set_option(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one);
        }
        set_option(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)
            .map_err(io("PACKET_RX_RING"))?;

        // SAFETY: a fresh shared mapping of the socket's ring, of exactly the size the kernel
        // just allocated (block_size * block_count); the result is checked for MAP_FAILED.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(last_error("mmap(PACKET_RX_RING)"));
        }
        let map = NonNull::new(map.cast::<u8>()).ok_or(LiveError::Io {
            operation: "mmap(PACKET_RX_RING)",
            source: io::Error::other("null mapping"),
        })?;
        // From here on `Drop` unmaps.
        let ring = Self {
            map,
            map_len,
            block_size,
            block_count,
            held: None,
            next: 0,
            fd,
        };

        // ETH_P_ALL in network byte order, as the kernel expects in sll_protocol.
        let protocol = u16::try_from(libc::ETH_P_ALL).unwrap_or(3).to_be();
        let address = libc::sockaddr_ll {
            sll_family: u16::try_from(libc::AF_PACKET).unwrap_or(17),
            sll_protocol: protocol,
            sll_ifindex: setup.ifindex,
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 0,
            sll_addr: [0; 8],
        };
        // SAFETY: `address` is a valid `sockaddr_ll` and the length passed is its size.
        let bound = unsafe {
            libc::bind(
                ring.fd.as_raw_fd(),
                std::ptr::from_ref(&address).cast::<libc::sockaddr>(),
                socklen::<libc::sockaddr_ll>(),
            )
        };
        if bound != 0 {
            return Err(last_error("bind(AF_PACKET)"));
        }
        if let Some(fanout) = setup.fanout {
            set_option(&ring.fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &fanout)
                .map_err(io("PACKET_FANOUT"))?;
        }
        Ok(ring)
    }

    /// The bytes of the block this process holds, if any.
    pub(super) fn held_block(&self) -> Option<&[u8]> {
        let index = self.held?;
        let start = self.block_start(index)?;
        // SAFETY: `start..start + block_size` lies inside the mapping (`block_start` checked
        // the index), the mapping lives as long as `self`, and the block is owned by user
        // space (its status was read as TP_STATUS_USER) until `release`, which needs
        // `&mut self` and so cannot run while this shared borrow lives: the kernel does not
        // write these bytes for the slice's lifetime.
        Some(unsafe { std::slice::from_raw_parts(start.as_ptr(), self.block_size) })
    }

    /// Gives the held block (if any) back to the kernel.
    fn release(&mut self) {
        if let Some(index) = self.held.take()
            && let Some(status) = self.status_word(index)
        {
            status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
        }
    }

    /// Gives the held block back and waits up to `timeout` (`None`: for ever) for the next
    /// one; `Ok(true)` when a block is held, `Ok(false)` on timeout.
    pub(super) fn acquire(&mut self, timeout: Option<Duration>) -> Result<bool, LiveError> {
        self.release();
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            let ready = self
                .status_word(self.next)
                .is_some_and(|status| status.load(Ordering::Acquire) & libc::TP_STATUS_USER != 0);
            if ready {
                self.held = Some(self.next);
                self.next = (self.next + 1) % self.block_count;
                return Ok(true);
            }
            let wait_ms = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    // Round up so that a sub-millisecond rest does not spin.
                    i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
                }
            };
            self.poll(wait_ms)?;
        }
    }

    /// Reads (and so resets) the kernel's counters.
    pub(super) fn kernel_counters(&self) -> Result<KernelCounters, LiveError> {
        let (stats, len) = get_option::<libc::tpacket_stats_v3>(
            &self.fd,
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
        )
        .map_err(io("PACKET_STATISTICS"))?;
        if len != socklen::<libc::tpacket_stats_v3>() {
            return Err(LiveError::Io {
                operation: "PACKET_STATISTICS",
                source: io::Error::other(format!("unexpected length {len}")),
            });
        }
        Ok(KernelCounters {
            packets: stats.tp_packets,
            drops: stats.tp_drops,
            freezes: stats.tp_freeze_q_cnt,
        })
    }

    /// Waits until the socket is readable or `wait_ms` passed (-1: for ever).
    fn poll(&self, wait_ms: i32) -> Result<(), LiveError> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        // SAFETY: one valid, writable `pollfd`, count 1.
        let result = unsafe { libc::poll(&raw mut pfd, 1, wait_ms) };
        if result < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(LiveError::Io {
                operation: "poll",
                source: error,
            });
        }
        if pfd.revents & libc::POLLNVAL != 0 {
            return Err(LiveError::Io {
                operation: "poll",
                source: io::Error::other("invalid descriptor"),
            });
        }
        if pfd.revents & libc::POLLERR != 0 {
            // The pending socket error (ENETDOWN when the interface went down); reading it
            // clears it.
            if let Ok((error, _)) =
                get_option::<libc::c_int>(&self.fd, libc::SOL_SOCKET, libc::SO_ERROR)
                && error != 0
            {
                return Err(LiveError::Io {
                    operation: "poll (socket error)",
                    source: io::Error::from_raw_os_error(error),
                });
            }
        }
        Ok(())
    }

    /// The start of block `index`, if it is inside the ring.
    fn block_start(&self, index: usize) -> Option<NonNull<u8>> {
        if index >= self.block_count {
            return None;
        }
        let offset = index.checked_mul(self.block_size)?;
        if offset.checked_add(self.block_size)? > self.map_len {
            return None;
        }
        // SAFETY: `offset + block_size <= map_len`, so the result stays inside the mapping.
        Some(unsafe { self.map.add(offset) })
    }

    /// The status word of block `index`, shared with the kernel.
    fn status_word(&self, index: usize) -> Option<&AtomicU32> {
        let start = self.block_start(index)?;
        // The block size is a multiple of the page size, which is larger than the offset.
        if BLOCK_STATUS_OFFSET + size_of::<u32>() > self.block_size {
            return None;
        }
        // SAFETY: the word lies inside the block (checked above), is 4-byte aligned (blocks
        // start on page boundaries, the offset is 8), and lives as long as the mapping, i.e.
        // `self`. The kernel accesses it only with single aligned 32-bit loads and stores
        // separated by memory barriers, as the packet-mmap protocol prescribes, so treating it
        // as an atomic from this side is sound; this process never accesses it non-atomically.
        Some(unsafe { AtomicU32::from_ptr(start.add(BLOCK_STATUS_OFFSET).as_ptr().cast::<u32>()) })
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` are exactly the mapping made in `open`, unmapped only here;
        // no borrow of it can outlive `self`.
        unsafe {
            libc::munmap(self.map.as_ptr().cast::<libc::c_void>(), self.map_len);
        }
    }
}

/// Attaches the classic BPF program `ret #snaplen`: the kernel then copies at most `snaplen`
/// bytes of each frame into the ring (and still reports the frame's length).
fn attach_snaplen_filter(fd: &OwnedFd, snaplen: u32) -> Result<(), LiveError> {
    // BPF_RET | BPF_K
    let mut program = [libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: snaplen.max(1),
    }];
    let fprog = libc::sock_fprog {
        len: 1,
        filter: program.as_mut_ptr(),
    };
    // The kernel copies the program during the call; `program` outlives it.
    set_option(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog).map_err(io("SO_ATTACH_FILTER"))
}

/// `setsockopt` with a plain-data value.
fn set_option<T: Copy>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is readable for `size_of::<T>()` bytes, the length passed; the kernel
    // only reads that many. Every caller passes the C structure or integer the option expects.
    let result = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(value).cast::<libc::c_void>(),
            socklen::<T>(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `getsockopt` of a plain-data value: the value, and the length the kernel wrote.
fn get_option<T: Copy>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<(T, libc::socklen_t)> {
    let mut value = MaybeUninit::<T>::zeroed();
    let mut len = socklen::<T>();
    // SAFETY: `value` is writable for `len` bytes, `len` is a valid in/out length; the kernel
    // writes at most `len` bytes and stores the written length back. Every caller asks for
    // the C structure or integer the option gives, plain data for which all zeros (what the
    // kernel did not write) is a valid value, so `value` is initialised either way.
    unsafe {
        if libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_mut_ptr().cast::<libc::c_void>(),
            &raw mut len,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok((value.assume_init(), len))
    }
}

/// The system's page size (4096 if it cannot be read).
fn page_size() -> usize {
    // SAFETY: `sysconf` has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// `size_of::<T>()` as a `socklen_t` (every type passed here is a few dozen bytes).
fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}

/// `value` as a `c_uint`, or a configuration error.
fn c_uint(value: usize) -> Result<libc::c_uint, LiveError> {
    libc::c_uint::try_from(value).map_err(|_| LiveError::InvalidConfig {
        reason: "ring size does not fit the kernel's 32-bit fields",
    })
}

/// The last OS error of `operation`.
fn last_error(operation: &'static str) -> LiveError {
    LiveError::Io {
        operation,
        source: io::Error::last_os_error(),
    }
}

/// Maps an `io::Error` of `operation` to [`LiveError::Io`].
fn io(operation: &'static str) -> impl Fn(io::Error) -> LiveError {
    move |source| LiveError::Io { operation, source }
}
