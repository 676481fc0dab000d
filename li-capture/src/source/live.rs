//! Live capture from a Linux interface through an `AF_PACKET` socket (cargo feature `live`).
//!
//! [`LiveCapture`] opens a `SOCK_RAW` packet socket for all protocols (`ETH_P_ALL`), binds it
//! to one interface and receives one frame per `recvmsg` call, with the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`) and drop counter (`SO_RXQ_OVFL`).
//!
//! Requirements: Linux, and `CAP_NET_RAW` (root, or `setcap cap_net_raw+ep` on the binary).
//! Interfaces of hardware type Ethernet and loopback give [`LinkType::Ethernet`] frames;
//! `ARPHRD_NONE` interfaces (tun, WireGuard) give [`LinkType::RawIp`]; others are refused.
//! The interface is not put in promiscuous mode: use `ip link set dev IF promisc on`, or a
//! mirror port, which delivers everything anyway.
//!
//! Limits of this first version, all safe code through `nix`:
//! - one `recvmsg` system call and one copy per frame. Measured on a 2-core machine: 256 000
//!   small frames/s on loopback with no drop, the sender (on the same cores) being the limit;
//!   expect some hundreds of thousands of frames/s per core, several times less than a
//!   `TPACKET_V3` memory-mapped ring (which needs `mmap` of a kernel ring, hence `unsafe`).
//!   Beyond that rate the socket buffer fills and the kernel drops frames, counted in
//!   [`LiveStats::dropped_by_kernel`]; a larger receive buffer
//!   ([`LiveConfig::receive_buffer`]) absorbs bursts.
//! - The drop counter is `SO_RXQ_OVFL`: the socket's drop count (`sk_drops`, incremented on
//!   the same path as `PACKET_STATISTICS`' `tp_drops`), delivered with each frame, so it is
//!   as of the last frame received. `PACKET_STATISTICS` itself needs a `getsockopt` that
//!   `nix` does not wrap, hence `unsafe`.
//! - Between creating the socket and binding it, frames of other interfaces may be queued:
//!   they are discarded and counted in [`LiveStats::other_interface`].
//! - On a loopback interface every frame is seen twice by packet sockets (outgoing and
//!   incoming); the outgoing copy is discarded, as libpcap does.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, SystemTime};

use li_core::Timestamp;
use nix::errno::Errno;
use nix::ifaddrs::getifaddrs;
use nix::sys::socket::{
    AddressFamily, ControlMessageOwned, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType, bind,
    recvmsg, setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;

use super::CapturedFrame;
use crate::LinkType;

/// `ARPHRD_ETHER`.
const ARPHRD_ETHER: u16 = 1;
/// `ARPHRD_LOOPBACK`.
const ARPHRD_LOOPBACK: u16 = 772;
/// `ARPHRD_NONE`: no link-layer header (tun devices, WireGuard).
const ARPHRD_NONE: u16 = 0xfffe;
/// `PACKET_OUTGOING`: a frame sent by this host.
const PACKET_OUTGOING: u8 = 4;
/// Room for the `SO_TIMESTAMPNS` and `SO_RXQ_OVFL` control messages.
const CMSG_BUFFER: usize = 128;

/// How to open a [`LiveCapture`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveConfig {
    /// Bytes kept of each frame (the rest is dropped; [`CapturedFrame::original_len`] still
    /// tells the frame's length). Default 262 144, tcpdump's largest.
    pub snaplen: usize,
    /// Socket receive buffer in bytes (`SO_RCVBUFFORCE` if permitted, else `SO_RCVBUF`,
    /// which the kernel caps at `net.core.rmem_max`); `None` keeps the system default.
    pub receive_buffer: Option<usize>,
    /// How long [`LiveCapture::next_frame`] waits before returning `Ok(None)`; `None` waits
    /// for ever.
    pub read_timeout: Option<Duration>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            snaplen: 262_144,
            receive_buffer: None,
            read_timeout: None,
        }
    }
}

impl LiveConfig {
    /// Sets [`LiveConfig::snaplen`] (at least 1).
    pub fn snaplen(mut self, snaplen: usize) -> Self {
        self.snaplen = snaplen.max(1);
        self
    }

    /// Sets [`LiveConfig::receive_buffer`].
    pub fn receive_buffer(mut self, bytes: usize) -> Self {
        self.receive_buffer = Some(bytes);
        self
    }

    /// Sets [`LiveConfig::read_timeout`] (zero is taken as 1 µs: the kernel reads zero as
    /// "no timeout").
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout.max(Duration::from_micros(1)));
        self
    }
}

/// Counters of a [`LiveCapture`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveStats {
    /// Frames returned by [`LiveCapture::next_frame`].
    pub received: u64,
    /// Frames the kernel dropped because the socket's buffer was full (`SO_RXQ_OVFL`), as
    /// of the last frame received.
    pub dropped_by_kernel: u64,
    /// Frames returned cut to the snapshot length.
    pub truncated: u64,
    /// Frames of other interfaces discarded (queued before the socket was bound).
    pub other_interface: u64,
}

/// Why live capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// A system call failed (`EPERM` without `CAP_NET_RAW`).
    #[error("{operation} failed: {source}")]
    Io {
        /// The system call or socket option.
        operation: &'static str,
        /// The error.
        source: std::io::Error,
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
}

/// Frames from one Linux interface, through an `AF_PACKET` socket.
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
/// println!("{:?}", capture.stats());
/// # Ok::<(), li_capture::source::live::LiveError>(())
/// ```
#[derive(Debug)]
pub struct LiveCapture {
    fd: OwnedFd,
    interface: String,
    ifindex: u32,
    hatype: u16,
    link: LinkType,
    buf: Vec<u8>,
    cmsg: Vec<u8>,
    stats: LiveStats,
}

impl LiveCapture {
    /// Opens `interface` with the default [`LiveConfig`] (no timeout).
    pub fn open(interface: &str) -> Result<Self, LiveError> {
        Self::with_config(interface, LiveConfig::default())
    }

    /// Opens `interface` with `config`.
    pub fn with_config(interface: &str, config: LiveConfig) -> Result<Self, LiveError> {
        let address = find_interface(interface)?;
        let hatype = address.hatype();
        let link = link_type(hatype).ok_or_else(|| LiveError::UnsupportedHardwareType {
            interface: interface.to_owned(),
            hatype,
        })?;
        let ifindex =
            u32::try_from(address.ifindex()).map_err(|_| LiveError::InterfaceNotFound {
                name: interface.to_owned(),
            })?;
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .map_err(io("socket(AF_PACKET)"))?;
        setsockopt(&fd, sockopt::RxqOvfl, &1).map_err(io("SO_RXQ_OVFL"))?;
        setsockopt(&fd, sockopt::ReceiveTimestampns, &true).map_err(io("SO_TIMESTAMPNS"))?;
        if let Some(bytes) = config.receive_buffer
            && setsockopt(&fd, sockopt::RcvBufForce, &bytes).is_err()
        {
            setsockopt(&fd, sockopt::RcvBuf, &bytes).map_err(io("SO_RCVBUF"))?;
        }
        if let Some(timeout) = config.read_timeout {
            let timeout = TimeVal::new(
                i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
                i64::from(timeout.subsec_micros()),
            );
            setsockopt(&fd, sockopt::ReceiveTimeout, &timeout).map_err(io("SO_RCVTIMEO"))?;
        }
        // The address from getifaddrs names the interface, with protocol 0: the kernel keeps
        // the socket's ETH_P_ALL.
        bind(fd.as_raw_fd(), &address).map_err(io("bind"))?;
        Ok(Self {
            fd,
            interface: interface.to_owned(),
            ifindex,
            hatype,
            link,
            buf: vec![0; config.snaplen.max(1)],
            cmsg: vec![0; CMSG_BUFFER],
            stats: LiveStats::default(),
        })
    }

    /// The next frame; `Ok(None)` when the read timeout expires first.
    pub fn next_frame(&mut self) -> Result<Option<CapturedFrame<'_>>, LiveError> {
        loop {
            let mut iov = [IoSliceMut::new(&mut self.buf)];
            let received = recvmsg::<LinkAddr>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut self.cmsg),
                MsgFlags::MSG_TRUNC,
            );
            let message = match received {
                Ok(message) => message,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(io("recvmsg")(errno)),
            };
            // With MSG_TRUNC, the frame's whole length.
            let length = message.bytes;
            let (ifindex, pkttype) = message
                .address
                .map_or((0, 0), |address| (address.ifindex(), address.pkttype()));
            let mut kernel_time = None;
            let mut drops = None;
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    match cmsg {
                        ControlMessageOwned::ScmTimestampns(time) => kernel_time = Some(time),
                        ControlMessageOwned::RxqOvfl(count) => drops = Some(count),
                        _ => {}
                    }
                }
            }
            if let Some(drops) = drops {
                self.stats.dropped_by_kernel = u64::from(drops);
            }
            if u32::try_from(ifindex) != Ok(self.ifindex) {
                self.stats.other_interface = self.stats.other_interface.saturating_add(1);
                continue;
            }
            if self.hatype == ARPHRD_LOOPBACK && pkttype == PACKET_OUTGOING {
                continue;
            }
            let captured = length.min(self.buf.len());
            if captured < length {
                self.stats.truncated = self.stats.truncated.saturating_add(1);
            }
            self.stats.received = self.stats.received.saturating_add(1);
            let timestamp = kernel_time
                .and_then(|time| {
                    let secs = u64::try_from(time.tv_sec()).ok()?;
                    let micros = u32::try_from(time.tv_nsec() / 1000).ok()?;
                    Timestamp::from_secs_micros(secs, micros).ok()
                })
                .unwrap_or_else(now);
            return Ok(Some(CapturedFrame {
                timestamp,
                link: self.link,
                interface: self.ifindex,
                data: self.buf.get(..captured).unwrap_or_default(),
                original_len: u32::try_from(length).unwrap_or(u32::MAX),
            }));
        }
    }

    /// What has been received and dropped so far.
    pub fn stats(&self) -> LiveStats {
        self.stats
    }

    /// The link type of the frames.
    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's index ([`CapturedFrame::interface`] of every frame).
    pub fn interface_index(&self) -> u32 {
        self.ifindex
    }
}

/// The `AF_PACKET` address of `name`, from `getifaddrs` (no privilege needed).
fn find_interface(name: &str) -> Result<LinkAddr, LiveError> {
    getifaddrs()
        .map_err(io("getifaddrs"))?
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

/// The wall clock, for a frame without a kernel timestamp.
fn now() -> Timestamp {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|since| Timestamp::from_unix_micros(u64::try_from(since.as_micros()).ok()?).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Maps a failed system call to [`LiveError::Io`].
fn io(operation: &'static str) -> impl Fn(Errno) -> LiveError {
    move |errno| LiveError::Io {
        operation,
        source: errno.into(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::time::Instant;

    use super::*;

    #[test]
    fn unknown_interface_is_reported_without_privileges() {
        let error = LiveCapture::open("no-such-if0").unwrap_err();
        assert!(
            matches!(&error, LiveError::InterfaceNotFound { name } if name == "no-such-if0"),
            "{error}"
        );
    }

    #[test]
    fn hardware_types() {
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
    }

    /// Needs `CAP_NET_RAW`: `sudo -E cargo test -p li-capture --features live -- --ignored
    /// source::live`.
    #[test]
    #[ignore = "needs CAP_NET_RAW (root)"]
    fn sees_a_udp_datagram_on_loopback_and_counts_drops() {
        let mut capture = LiveCapture::with_config(
            "lo",
            LiveConfig::default()
                .read_timeout(Duration::from_millis(100))
                .receive_buffer(64 * 1024)
                .snaplen(2048),
        )
        .unwrap();
        assert_eq!(capture.link_type(), LinkType::Ethernet);
        assert_eq!(capture.interface(), "lo");
        let lo = capture.interface_index();
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let payload = b"li-capture live loopback test";
        let before = now();
        sender
            .send_to(payload, receiver.local_addr().unwrap())
            .unwrap();

        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = 0;
        while Instant::now() < deadline {
            let Some(frame) = capture.next_frame().unwrap() else {
                continue;
            };
            if frame.data.ends_with(payload) {
                assert_eq!(frame.link, LinkType::Ethernet);
                assert_eq!(frame.interface, lo);
                // Ethernet (14) + IPv4 (20) + UDP (8) + payload.
                assert_eq!(frame.data.len(), 42 + payload.len());
                assert_eq!(frame.original_len as usize, frame.data.len());
                assert!(frame.timestamp >= before.checked_sub(Duration::from_secs(1)).unwrap());
                seen += 1;
                // The outgoing copy is discarded: wait a little for a second copy.
                let quiet = Instant::now() + Duration::from_millis(300);
                while Instant::now() < quiet {
                    if let Some(frame) = capture.next_frame().unwrap()
                        && frame.data.ends_with(payload)
                    {
                        seen += 1;
                    }
                }
                break;
            }
        }
        assert_eq!(seen, 1, "the datagram is seen once");
        assert!(capture.stats().received >= 1);

        // Flood the loopback without reading: the 64 KiB buffer overflows and the kernel
        // counts drops, reported with the first frame queued after them: drain the queue,
        // then send one more.
        let burst = [0u8; 1000];
        for _ in 0..2000 {
            sender
                .send_to(&burst, receiver.local_addr().unwrap())
                .unwrap();
        }
        while capture.next_frame().unwrap().is_some() {}
        sender
            .send_to(payload, receiver.local_addr().unwrap())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(frame) = capture.next_frame().unwrap()
                && frame.data.ends_with(payload)
            {
                break;
            }
        }
        assert!(
            capture.stats().dropped_by_kernel > 0,
            "{:?}",
            capture.stats()
        );

        let mut truncating = LiveCapture::with_config(
            "lo",
            LiveConfig::default()
                .read_timeout(Duration::from_millis(100))
                .snaplen(20),
        )
        .unwrap();
        sender
            .send_to(payload, receiver.local_addr().unwrap())
            .unwrap();
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
