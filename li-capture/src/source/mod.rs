//! Where frames come from: capture files and, with the `live` feature, a Linux interface.
//!
//! - [`file`](mod@file): a streaming reader of pcap and pcapng files ([`FileReader`]) that
//!   keeps memory constant whatever the file size: one bounded buffer, refilled from any
//!   [`std::io::Read`];
//! - [`writer`]: small pcap and pcapng writers ([`PcapWriter`], [`PcapngWriter`]) for tests,
//!   benchmarks, fixtures and sample generators;
//! - `live` (cargo feature `live`, Linux only): frames from an interface through an
//!   `AF_PACKET` socket's `TPACKET_V3` memory-mapped ring, one at a time or a block at a
//!   time, with fanout over several captures and the kernel's drop counters.
//!
//! Every source yields [`CapturedFrame`]s: a timestamp, the link-layer type, the capturing
//! interface and the frame bytes, borrowed from the source until the next call.
//!
//! ```
//! use li_capture::LinkType;
//! use li_capture::source::{FileReader, PcapWriter};
//! use li_core::Timestamp;
//!
//! let mut writer = PcapWriter::new(Vec::new(), LinkType::RawIp, false)?;
//! writer.write_frame(Timestamp::from_secs_micros(1_704_164_645, 678_901)?, &[0x45, 0, 0, 20])?;
//! let file = writer.into_inner();
//!
//! let mut reader = FileReader::new(file.as_slice())?;
//! // Steps over a bad record (counted in `stats().rejected_frames`) and reads on; stops with
//! // an error only where the file cannot be read further.
//! while let Some(frame) = reader.next_frame()? {
//!     assert_eq!(frame.link, LinkType::RawIp);
//!     assert_eq!(frame.timestamp.to_string(), "2024-01-02T03:04:05.678901Z");
//!     assert_eq!(frame.data, [0x45, 0, 0, 20]);
//! }
//! assert_eq!(reader.stats().frames, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod file;
#[cfg(all(feature = "live", target_os = "linux"))]
pub mod live;
pub mod writer;

use li_core::Timestamp;

use crate::LinkType;

pub use file::{DEFAULT_MAX_RECORD_LEN, FileFormat, FileReader, FileStats};
pub use writer::{ByteOrder, PcapWriter, PcapngWriter, TSRESOL_MICROS, TSRESOL_NANOS};

/// One captured frame, borrowed from its source until the source's next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapturedFrame<'a> {
    /// When the frame was captured, truncated to the microsecond.
    pub timestamp: Timestamp,
    /// The link-layer header type of [`CapturedFrame::data`].
    pub link: LinkType,
    /// The capturing interface: the pcapng interface id within its section (0 for pcap
    /// files), or the Linux interface index for live capture.
    pub interface: u32,
    /// The captured bytes, starting with the link-layer header; possibly cut to the snapshot
    /// length (compare with [`CapturedFrame::original_len`]).
    pub data: &'a [u8],
    /// The frame's length on the wire, as recorded by the capturing tool.
    pub original_len: u32,
}

impl CapturedFrame<'_> {
    /// Whether the capture kept fewer bytes than the frame had on the wire.
    pub fn is_truncated(&self) -> bool {
        is_cut(self.data.len(), self.original_len)
    }
}

/// Whether `captured` bytes are fewer than the `original_len` a frame had on the wire.
fn is_cut(captured: usize, original_len: u32) -> bool {
    u32::try_from(captured).map_or(true, |len| len < original_len)
}

/// Why a capture file could not be read.
///
/// Every variant with an `offset` names the byte offset, from the start of the input, of the
/// record or header at fault. After a *fatal* error ([`CaptureError::is_fatal`]) the reader
/// returns no more frames; after the others (one bad packet record, framing intact) the
/// reader has stepped over that record and the next call continues with the one after it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The underlying reader failed (fatal).
    #[error("reading the capture: {0}")]
    Io(#[from] std::io::Error),
    /// The input starts with neither a pcap magic number nor a pcapng section header (fatal).
    #[error("not a pcap or pcapng file: unknown magic number at byte offset {offset}")]
    NotACaptureFile {
        /// Where the magic number was expected (0).
        offset: u64,
    },
    /// A header or block is inconsistent: bad block length, unknown byte-order magic,
    /// unsupported version, fields overrunning their block, too many interfaces (fatal).
    #[error("corrupt capture at byte offset {offset}: {reason}")]
    Corrupt {
        /// Start of the bad header or block.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The input ends inside a header or record. Every whole record before it has been
    /// returned. For a finished file this is the end: the file is damaged there. For a file
    /// still being written the reader stays at the record, and a later call reads it once
    /// the rest has arrived (not fatal, see [`CaptureError::is_fatal`]).
    #[error("capture truncated: input ends inside the record at byte offset {offset}")]
    Truncated {
        /// Start of the incomplete header or record.
        offset: u64,
    },
    /// A record declares more bytes than the reader's limit (fatal); nothing of that size
    /// was allocated.
    #[error("record at byte offset {offset} declares {len} bytes, more than the limit of {limit}")]
    RecordTooLarge {
        /// Start of the record.
        offset: u64,
        /// The declared length: captured bytes of a packet record, or a pcapng block's total
        /// length.
        len: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// A pcap file's header declares a link type that [`crate::LinkType`] does not support
    /// (fatal: no frame of the file could be decoded). pcapng interfaces with unsupported
    /// link types are not an error: their frames are skipped and counted in
    /// [`FileStats::unsupported_link_frames`].
    #[error("unsupported link type {linktype} in the header at byte offset {offset}")]
    UnsupportedLinkType {
        /// Start of the header that declares it.
        offset: u64,
        /// The LINKTYPE value.
        linktype: u32,
    },
    /// A pcapng packet block names an interface its section has not described (not fatal).
    #[error(
        "packet block at byte offset {offset} names interface {interface}, not described in its section"
    )]
    UnknownInterface {
        /// Start of the packet block.
        offset: u64,
        /// The interface id it names.
        interface: u32,
    },
    /// A packet's timestamp falls before 1970-01-01 or after 9999-12-31 (not fatal).
    #[error(
        "packet at byte offset {offset} has a timestamp {seconds} s from the Unix epoch, outside 1970..=9999"
    )]
    TimestampOutOfRange {
        /// Start of the packet record.
        offset: u64,
        /// Whole seconds from the Unix epoch (negative before it), after any `if_tsoffset`.
        seconds: i128,
    },
    /// A pcap packet's sub-second timestamp field is not below one second (not fatal).
    #[error(
        "packet at byte offset {offset} has a sub-second timestamp field {value}, not below {limit}"
    )]
    InvalidSubsecond {
        /// Start of the packet record.
        offset: u64,
        /// The microsecond or nanosecond field.
        value: u32,
        /// 1 000 000 or 1 000 000 000.
        limit: u32,
    },
}

impl CaptureError {
    /// Whether the reader is finished: every later call returns `Ok(None)`. `false` for the
    /// errors confined to one packet record ([`CaptureError::is_per_record`]), after which
    /// reading goes on, and for [`CaptureError::Truncated`], after which the reader stays at
    /// the incomplete record and reads it if the input grows.
    pub fn is_fatal(&self) -> bool {
        !(self.is_per_record() || matches!(self, Self::Truncated { .. }))
    }

    /// Whether the error is confined to one packet record ([`CaptureError::UnknownInterface`],
    /// [`CaptureError::TimestampOutOfRange`], [`CaptureError::InvalidSubsecond`]): the reader
    /// has stepped over it, and [`FileReader::next_frame`] goes on by itself.
    pub fn is_per_record(&self) -> bool {
        matches!(
            self,
            Self::UnknownInterface { .. }
                | Self::TimestampOutOfRange { .. }
                | Self::InvalidSubsecond { .. }
        )
    }

    /// The byte offset the error names, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Self::Io(_) => None,
            Self::NotACaptureFile { offset }
            | Self::Corrupt { offset, .. }
            | Self::Truncated { offset }
            | Self::RecordTooLarge { offset, .. }
            | Self::UnsupportedLinkType { offset, .. }
            | Self::UnknownInterface { offset, .. }
            | Self::TimestampOutOfRange { offset, .. }
            | Self::InvalidSubsecond { offset, .. } => Some(*offset),
        }
    }
}
