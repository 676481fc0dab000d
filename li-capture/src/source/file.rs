//! A streaming reader of pcap and pcapng capture files, in constant memory.
//!
//! [`FileReader`] reads from any [`Read`] through one buffer of bounded size: it holds at most
//! one record (plus read-ahead), so a 10 GB capture is read with the same memory as a 10 kB
//! one. A record declaring more than the configured limit ([`DEFAULT_MAX_RECORD_LEN`] by
//! default) is an error, found before anything of that size is allocated.
//!
//! Formats:
//! - pcap (tcpdump.org `draft-ietf-opsawg-pcap`): both byte orders, microsecond and
//!   nanosecond magic numbers. The link type is the low 16 bits of the header's link-type
//!   field; the FCS bits above it and the `thiszone` field are ignored, as libpcap does.
//!   The "modified" (Kuznetsov) pcap variants are not recognised.
//! - pcapng (`draft-ietf-opsawg-pcapng`): any number of sections, each with its own byte
//!   order; any number of interfaces per section (up to 65 536), each with its own link type,
//!   `if_tsresol` and `if_tsoffset`; Enhanced, Simple and the obsolete Packet blocks. Other
//!   blocks (name resolution, statistics, custom, ...) are skipped and counted.
//!
//! Choices:
//! - Frames of a pcapng interface whose link type [`LinkType`] does not support are skipped
//!   and counted in [`FileStats::unsupported_link_frames`]: a capture may mix interfaces
//!   (say, Ethernet and USB) and the supported ones are still worth reading. A pcap file whose
//!   single link type is unsupported is refused when opened
//!   ([`CaptureError::UnsupportedLinkType`]), since none of its frames could be decoded.
//! - Timestamps are truncated to the microsecond ([`Timestamp`]'s resolution). A timestamp
//!   before 1970 (possible with a negative `if_tsoffset`) or after 9999-12-31 is a
//!   [`CaptureError::TimestampOutOfRange`] naming the record's offset; the reader steps over
//!   that record and goes on ([`FileReader::next_frame`] by itself, [`FileReader::try_next_frame`]
//!   after returning the error).
//! - Simple Packet Blocks carry no timestamp: they are given the timestamp of the last
//!   timestamped packet read before them (the Unix epoch if there was none), and interface 0.
//!
//! Parsing uses the `pcap-parser` crate on whole records only: the reader frames every
//! record itself (length bounded, trailing length checked), waits until the whole record is
//! buffered, and only then hands it to the parser, so an incomplete parse can only mean a
//! corrupt record. End of input inside a record is [`CaptureError::Truncated`], every whole
//! record before it having been returned; the reader stays at that record, so a file still
//! being written (a record partly flushed) is read on once the rest arrives.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::ops::Range;
use std::path::Path;

use li_core::Timestamp;
use pcap_parser::nom;
use pcap_parser::pcapng::{OptionCode, PcapNGOption};
use pcap_parser::{
    PcapError, parse_enhancedpacketblock_be, parse_enhancedpacketblock_le,
    parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le, parse_pcap_frame,
    parse_pcap_frame_be, parse_pcap_header, parse_sectionheaderblock, parse_simplepacketblock_be,
    parse_simplepacketblock_le,
};

use super::{CaptureError, CapturedFrame};
use crate::LinkType;

/// The default limit on a record: 256 KiB of captured bytes (tcpdump's largest snapshot
/// length), see [`FileReader::with_max_record_len`].
pub const DEFAULT_MAX_RECORD_LEN: usize = 256 * 1024;

/// Room allowed in a pcapng block beyond its packet bytes, for headers and options.
const BLOCK_OVERHEAD: usize = 64 * 1024;
/// The buffer's size until a larger record needs more.
const INITIAL_BUFFER: usize = 64 * 1024;
/// Interfaces one pcapng section may describe (the obsolete Packet Block's 16-bit id space).
const MAX_INTERFACES: usize = 1 << 16;

/// pcap magic numbers, as the file's first four bytes.
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1], // little-endian, microseconds
    [0xa1, 0xb2, 0xc3, 0xd4], // big-endian, microseconds
    [0x4d, 0x3c, 0xb2, 0xa1], // little-endian, nanoseconds
    [0xa1, 0xb2, 0x3c, 0x4d], // big-endian, nanoseconds
];
/// The pcapng Section Header Block type, the same in both byte orders.
const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The pcapng byte-order magic as a little-endian section writes it.
const BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
/// The pcapng byte-order magic as a big-endian section writes it.
const BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// Block types read by [`FileReader`].
const IDB_TYPE: u32 = 1;
const PB_TYPE: u32 = 2;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
/// pcap file header and record header lengths.
const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;
/// Offset of the packet bytes in an Enhanced Packet Block and an obsolete Packet Block.
const EPB_DATA_OFFSET: usize = 28;
/// Offset of the packet bytes in a Simple Packet Block.
const SPB_DATA_OFFSET: usize = 12;

/// A streaming pcap / pcapng reader over any [`Read`], in constant memory.
///
/// ```
/// use li_capture::LinkType;
/// use li_capture::source::{ByteOrder, FileReader, PcapngWriter, TSRESOL_NANOS};
/// use li_core::Timestamp;
///
/// let mut writer = PcapngWriter::new(Vec::new(), ByteOrder::Big)?;
/// let eth = writer.add_interface(LinkType::Ethernet, TSRESOL_NANOS)?;
/// writer.write_frame(eth, Timestamp::from_unix_micros(1_500_000)?, &[0u8; 60])?;
///
/// let file = writer.into_inner();
/// let mut reader = FileReader::new(file.as_slice())?;
/// let frame = reader.next_frame()?.expect("one frame");
/// assert_eq!((frame.interface, frame.link, frame.data.len()), (0, LinkType::Ethernet, 60));
/// assert_eq!(frame.timestamp.unix_micros(), 1_500_000);
/// assert!(reader.next_frame()?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FileReader<R: Read> {
    input: Input<R>,
    format: Format,
    max_record_len: usize,
    stats: FileStats,
    /// Timestamp of the last timestamped packet, given to Simple Packet Blocks.
    last_timestamp: Timestamp,
    /// Set after a fatal error: no more frames.
    done: bool,
}

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileFormat {
    /// Classic pcap.
    Pcap {
        /// The file's link type.
        link: LinkType,
        /// Nanosecond timestamps (magic `0xa1b23c4d`) rather than microseconds.
        nanosecond: bool,
        /// Big-endian file.
        big_endian: bool,
    },
    /// pcapng.
    Pcapng,
}

/// Counters of what a [`FileReader`] has read so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileStats {
    /// Records read after the file header: pcap packet records, or pcapng blocks of any
    /// type (including section headers after the first).
    pub records: u64,
    /// Frames returned by [`FileReader::next_frame`].
    pub frames: u64,
    /// pcapng blocks skipped because they carry no packet (name resolution, statistics,
    /// decryption secrets, custom and unknown blocks).
    pub skipped_blocks: u64,
    /// Packets skipped because their interface's link type is not supported.
    pub unsupported_link_frames: u64,
    /// Packets stepped over after a non-fatal error (unknown interface, bad timestamp).
    pub rejected_frames: u64,
    /// pcapng sections begun (0 for pcap).
    pub sections: u64,
    /// pcapng interfaces described, over all sections (0 for pcap).
    pub interfaces: u64,
}

impl FileReader<BufReader<File>> {
    /// Opens a capture file and reads its header, with [`DEFAULT_MAX_RECORD_LEN`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        Self::new(BufReader::new(File::open(path)?))
    }
}

impl<R: Read> FileReader<R> {
    /// A reader of the capture `reader` yields, with [`DEFAULT_MAX_RECORD_LEN`]; reads the
    /// pcap file header or the first pcapng section header.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        Self::with_max_record_len(reader, DEFAULT_MAX_RECORD_LEN)
    }

    /// A reader that refuses records declaring more than `max_record_len` captured bytes
    /// (pcapng blocks may have 64 KiB more, for headers and options); reads the pcap file
    /// header or the first pcapng section header.
    ///
    /// Memory stays below `max_record_len` + 64 KiB for the buffer, plus 32 bytes per
    /// interface described in the current pcapng section (at most 65 536 of them, 2 MiB).
    pub fn with_max_record_len(reader: R, max_record_len: usize) -> Result<Self, CaptureError> {
        let mut input = Input::new(reader, max_record_len.saturating_add(BLOCK_OVERHEAD));
        let mut stats = FileStats::default();
        let format = read_file_header(&mut input, &mut stats)?;
        Ok(Self {
            input,
            format,
            max_record_len,
            stats,
            last_timestamp: Timestamp::UNIX_EPOCH,
            done: false,
        })
    }

    /// The next frame, `Ok(None)` at the end of the input: the loop form to use.
    ///
    /// A record with a problem of its own ([`CaptureError::is_per_record`]: an unknown
    /// interface, a timestamp out of range) is stepped over and counted in
    /// [`FileStats::rejected_frames`], and reading goes on with the next record, so
    /// `while let Some(frame) = reader.next_frame()? { ... }` reads every readable frame of a
    /// file. An `Err` is the end of what can be read now: a fatal error (see
    /// [`CaptureError::is_fatal`]), or [`CaptureError::Truncated`] when the input ends inside
    /// a record, which for a finished file means it is damaged there. Use
    /// [`FileReader::try_next_frame`] to see each stepped-over record's error.
    ///
    /// At the end of the input the reader is not finished: a later call reads again, so a
    /// growing file can be followed, including past a record that was only partly written
    /// when it was last read ([`CaptureError::Truncated`]: the reader stays at that record).
    pub fn next_frame(&mut self) -> Result<Option<CapturedFrame<'_>>, CaptureError> {
        let record = loop {
            match self.advance() {
                Err(error) if error.is_per_record() => {}
                other => break other?,
            }
        };
        record.map(|record| self.frame(record)).transpose()
    }

    /// The next frame, or the error of the next record: like [`FileReader::next_frame`], but a
    /// record with a problem of its own is returned as its error (the reader has stepped over
    /// it; the next call goes on with the record after it), for a caller that reports each.
    ///
    /// After a fatal error ([`CaptureError::is_fatal`]) every call returns `Ok(None)`; after
    /// [`CaptureError::Truncated`] the next call tries that record again.
    pub fn try_next_frame(&mut self) -> Result<Option<CapturedFrame<'_>>, CaptureError> {
        self.advance()?.map(|record| self.frame(record)).transpose()
    }

    /// Reads the next record, keeping the counters and the fatal state.
    fn advance(&mut self) -> Result<Option<Record>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        self.input.eof = false;
        match self.next_record() {
            Ok(record) => Ok(record),
            Err(error) => {
                if error.is_fatal() {
                    self.done = true;
                } else if error.is_per_record() {
                    self.stats.rejected_frames = self.stats.rejected_frames.saturating_add(1);
                }
                Err(error)
            }
        }
    }

    /// The frame of a record just read: its bytes are in the buffer until the next read.
    fn frame(&mut self, record: Record) -> Result<CapturedFrame<'_>, CaptureError> {
        self.stats.frames = self.stats.frames.saturating_add(1);
        let Some(data) = self.input.buf.get(record.data) else {
            self.done = true;
            return Err(CaptureError::Corrupt {
                offset: record.offset,
                reason: "internal error: packet bytes outside the buffer".into(),
            });
        };
        Ok(CapturedFrame {
            timestamp: record.timestamp,
            link: record.link,
            interface: record.interface,
            data,
            original_len: record.original_len,
        })
    }

    /// The byte offset, from the start of the input, of the next record to read; after a
    /// fatal error, of the record at fault.
    pub fn offset(&self) -> u64 {
        self.input.consumed
    }

    /// What has been read so far.
    pub fn stats(&self) -> FileStats {
        self.stats
    }

    /// The file's format.
    pub fn format(&self) -> FileFormat {
        match &self.format {
            Format::Pcap {
                big_endian,
                nanosecond,
                link,
            } => FileFormat::Pcap {
                link: *link,
                nanosecond: *nanosecond,
                big_endian: *big_endian,
            },
            Format::Pcapng(_) => FileFormat::Pcapng,
        }
    }

    /// The limit on captured bytes per record.
    pub fn max_record_len(&self) -> usize {
        self.max_record_len
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.input.reader
    }

    fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        match &mut self.format {
            Format::Pcap {
                big_endian,
                nanosecond,
                link,
            } => next_pcap_record(
                &mut self.input,
                &mut self.stats,
                self.max_record_len,
                (*big_endian, *nanosecond, *link),
            ),
            Format::Pcapng(section) => {
                let record = next_pcapng_record(
                    &mut self.input,
                    section,
                    &mut self.stats,
                    self.max_record_len,
                    self.last_timestamp,
                )?;
                if let Some(record) = &record {
                    self.last_timestamp = record.timestamp;
                }
                Ok(record)
            }
        }
    }
}

impl<R: Read> fmt::Debug for FileReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileReader")
            .field("format", &self.format())
            .field("offset", &self.offset())
            .field("max_record_len", &self.max_record_len)
            .field("stats", &self.stats)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// What the reader knows of the file's format.
enum Format {
    Pcap {
        big_endian: bool,
        nanosecond: bool,
        link: LinkType,
    },
    Pcapng(Section),
}

/// The current pcapng section.
struct Section {
    big_endian: bool,
    interfaces: Vec<Interface>,
}

/// A pcapng interface, from its Interface Description Block.
#[derive(Clone, Copy)]
struct Interface {
    /// `None` for a link type [`LinkType`] does not support.
    link: Option<LinkType>,
    /// Timestamp units per second (`if_tsresol`).
    units_per_sec: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_secs: i64,
    /// Snapshot length, 0 for none.
    snaplen: u32,
}

/// A packet record found in the buffer, already consumed.
struct Record {
    offset: u64,
    data: Range<usize>,
    timestamp: Timestamp,
    link: LinkType,
    interface: u32,
    original_len: u32,
}

/// The bounded input buffer: `buf[start..end]` holds unread bytes, the first of them at
/// `consumed` in the input.
struct Input<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Input offset of `buf[start]`.
    consumed: u64,
    /// The most `buf` may grow to.
    max_buf: usize,
    /// The reader returned 0 during this call.
    eof: bool,
}

impl<R: Read> Input<R> {
    fn new(reader: R, max_buf: usize) -> Self {
        Self {
            reader,
            buf: vec![0; INITIAL_BUFFER.min(max_buf)],
            start: 0,
            end: 0,
            consumed: 0,
            max_buf,
            eof: false,
        }
    }

    /// The unread bytes in the buffer.
    fn available(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Reads until `n` bytes are buffered (`Ok(true)`) or the input ends (`Ok(false)`).
    /// Callers bound `n` by `max_buf` first; the buffer never grows past `max(n, max_buf)`.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        loop {
            let have = self.end.saturating_sub(self.start);
            if have >= n {
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            if self.start.saturating_add(n) > self.buf.len() {
                self.buf.copy_within(self.start..self.end, 0);
                self.start = 0;
                self.end = have;
                if n > self.buf.len() {
                    let grown = n.checked_next_power_of_two().unwrap_or(n);
                    self.buf.resize(grown.min(self.max_buf).max(n), 0);
                }
            }
            let spare = self.buf.get_mut(self.end..).unwrap_or_default();
            let room = spare.len();
            match self.reader.read(spare) {
                Ok(0) => self.eof = true,
                // A reader claiming more than it was given room for is not trusted past it.
                Ok(read) => self.end = self.end.saturating_add(read.min(room)),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Marks `n` buffered bytes as read (their bytes stay in place until the next fill).
    fn consume(&mut self, n: usize) {
        let n = n.min(self.end.saturating_sub(self.start));
        self.start = self.start.saturating_add(n);
        self.consumed = self.consumed.saturating_add(n as u64);
    }

    /// The buffer index of the next unread byte.
    fn position(&self) -> usize {
        self.start
    }
}

/// Reads the pcap file header or the first pcapng section header.
fn read_file_header<R: Read>(
    input: &mut Input<R>,
    stats: &mut FileStats,
) -> Result<Format, CaptureError> {
    if !input.fill(4)? {
        let prefix = input.available();
        let known = PCAP_MAGICS
            .iter()
            .chain([&SHB_TYPE])
            .any(|magic| magic.starts_with(prefix));
        return Err(if known {
            CaptureError::Truncated { offset: 0 }
        } else {
            CaptureError::NotACaptureFile { offset: 0 }
        });
    }
    let magic: [u8; 4] = first_bytes(input.available());
    if magic == SHB_TYPE {
        let section = read_section_header(input)?;
        stats.sections = 1;
        return Ok(Format::Pcapng(section));
    }
    if !PCAP_MAGICS.contains(&magic) {
        return Err(CaptureError::NotACaptureFile { offset: 0 });
    }
    if !input.fill(PCAP_HEADER_LEN)? {
        return Err(CaptureError::Truncated { offset: 0 });
    }
    let header = input.available().get(..PCAP_HEADER_LEN).unwrap_or_default();
    let (_, header) =
        parse_pcap_header(header).map_err(|error| corrupt(0, "pcap header", error))?;
    if header.version_major != 2 {
        return Err(CaptureError::Corrupt {
            offset: 0,
            reason: format!(
                "unsupported pcap version {}.{}",
                header.version_major, header.version_minor
            ),
        });
    }
    // The low 16 bits; the FCS length and flag bits above them are not a link type.
    let linktype = header.network.0.cast_unsigned() & 0xffff;
    let link = LinkType::from_linktype(linktype).ok_or(CaptureError::UnsupportedLinkType {
        offset: 0,
        linktype,
    })?;
    let format = Format::Pcap {
        big_endian: header.is_bigendian(),
        nanosecond: header.is_nanosecond_precision(),
        link,
    };
    input.consume(PCAP_HEADER_LEN);
    Ok(format)
}

/// Reads one pcap record.
fn next_pcap_record<R: Read>(
    input: &mut Input<R>,
    stats: &mut FileStats,
    max_record_len: usize,
    (big_endian, nanosecond, link): (bool, bool, LinkType),
) -> Result<Option<Record>, CaptureError> {
    let offset = input.consumed;
    if !input.fill(PCAP_RECORD_HEADER_LEN)? {
        return end_of_input(input, offset);
    }
    let caplen = u32_at(input.available(), 8, big_endian).unwrap_or_default();
    let len = usize::try_from(caplen).unwrap_or(usize::MAX);
    if len > max_record_len {
        return Err(CaptureError::RecordTooLarge {
            offset,
            len,
            limit: max_record_len,
        });
    }
    let total = PCAP_RECORD_HEADER_LEN.saturating_add(len);
    if !input.fill(total)? {
        return Err(CaptureError::Truncated { offset });
    }
    let bytes = input.available().get(..total).unwrap_or_default();
    let parsed = if big_endian {
        parse_pcap_frame_be(bytes)
    } else {
        parse_pcap_frame(bytes)
    };
    let (_, frame) = parsed.map_err(|error| corrupt(offset, "pcap record", error))?;
    let (ts_sec, ts_frac, original_len) = (frame.ts_sec, frame.ts_usec, frame.origlen);
    let data_start = input.position().saturating_add(PCAP_RECORD_HEADER_LEN);
    input.consume(total);
    stats.records = stats.records.saturating_add(1);

    let (limit, per_micro) = if nanosecond {
        (1_000_000_000, 1000)
    } else {
        (1_000_000, 1)
    };
    if ts_frac >= limit {
        return Err(CaptureError::InvalidSubsecond {
            offset,
            value: ts_frac,
            limit,
        });
    }
    // A u32 second count ends in 2106: always in range.
    let timestamp =
        Timestamp::from_secs_micros(ts_sec.into(), ts_frac / per_micro).map_err(|_| {
            CaptureError::TimestampOutOfRange {
                offset,
                seconds: ts_sec.into(),
            }
        })?;
    Ok(Some(Record {
        offset,
        data: data_start..data_start.saturating_add(len),
        timestamp,
        link,
        interface: 0,
        original_len,
    }))
}

/// Reads pcapng blocks up to the next packet of a supported link type.
fn next_pcapng_record<R: Read>(
    input: &mut Input<R>,
    section: &mut Section,
    stats: &mut FileStats,
    max_record_len: usize,
    last_timestamp: Timestamp,
) -> Result<Option<Record>, CaptureError> {
    loop {
        let offset = input.consumed;
        if !input.fill(8)? {
            return end_of_input(input, offset);
        }
        if first_bytes(input.available()) == SHB_TYPE {
            *section = read_section_header(input)?;
            stats.records = stats.records.saturating_add(1);
            stats.sections = stats.sections.saturating_add(1);
            continue;
        }
        let big_endian = section.big_endian;
        let head = input.available();
        let block_type = u32_at(head, 0, big_endian).unwrap_or_default();
        let declared = u32_at(head, 4, big_endian).unwrap_or_default();
        let block_len = check_block_len(offset, declared, 12, input.max_buf)?;
        if !input.fill(block_len)? {
            return Err(CaptureError::Truncated { offset });
        }
        let block = input.available().get(..block_len).unwrap_or_default();
        check_trailing_len(offset, block, declared, big_endian)?;
        let block_start = input.position();
        let step = match block_type {
            IDB_TYPE => {
                let interface = parse_interface(offset, block, big_endian)?;
                if section.interfaces.len() >= MAX_INTERFACES {
                    return Err(CaptureError::Corrupt {
                        offset,
                        reason: format!("more than {MAX_INTERFACES} interfaces in one section"),
                    });
                }
                section.interfaces.push(interface);
                stats.interfaces = stats.interfaces.saturating_add(1);
                Step::Skip
            }
            EPB_TYPE => parse_enhanced_packet(offset, block, big_endian)?,
            PB_TYPE => parse_obsolete_packet(offset, block, big_endian)?,
            SPB_TYPE => parse_simple_packet(offset, block, big_endian)?,
            _ => {
                stats.skipped_blocks = stats.skipped_blocks.saturating_add(1);
                Step::Skip
            }
        };
        if let Step::Packet(packet) = &step
            && packet.data.len() > max_record_len
        {
            return Err(CaptureError::RecordTooLarge {
                offset,
                len: packet.data.len(),
                limit: max_record_len,
            });
        }
        // Past this point the block is read: errors concern this packet only.
        input.consume(block_len);
        stats.records = stats.records.saturating_add(1);
        let Step::Packet(packet) = step else {
            continue;
        };
        let interface = section
            .interfaces
            .get(usize::try_from(packet.interface).unwrap_or(usize::MAX))
            .copied()
            .ok_or(CaptureError::UnknownInterface {
                offset,
                interface: packet.interface,
            })?;
        let Some(link) = interface.link else {
            stats.unsupported_link_frames = stats.unsupported_link_frames.saturating_add(1);
            continue;
        };
        let timestamp = match packet.units {
            Some(units) => pcapng_timestamp(offset, units, &interface)?,
            None => last_timestamp,
        };
        let mut data = packet.data;
        if packet.units.is_none() && interface.snaplen != 0 {
            // A Simple Packet Block holds min(original length, snaplen) bytes plus padding.
            let snaplen = usize::try_from(interface.snaplen).unwrap_or(usize::MAX);
            data.end = data.end.min(data.start.saturating_add(snaplen));
        }
        return Ok(Some(Record {
            offset,
            data: block_start.saturating_add(data.start)..block_start.saturating_add(data.end),
            timestamp,
            link,
            interface: packet.interface,
            original_len: packet.original_len,
        }));
    }
}

/// What one pcapng block gives.
enum Step {
    /// Nothing to return (an interface, a skipped block).
    Skip,
    /// A packet.
    Packet(Packet),
}

/// A packet block's fields, with its bytes as a range within the block.
struct Packet {
    interface: u32,
    /// Timestamp in interface units, `None` for a Simple Packet Block.
    units: Option<u64>,
    data: Range<usize>,
    original_len: u32,
}

/// Reads a Section Header Block at the start of the buffer: its byte order, length and
/// version.
fn read_section_header<R: Read>(input: &mut Input<R>) -> Result<Section, CaptureError> {
    let offset = input.consumed;
    if !input.fill(12)? {
        return Err(CaptureError::Truncated { offset });
    }
    let head = input.available();
    let big_endian = match head.get(8..12) {
        Some(bom) if bom == BOM_LE => false,
        Some(bom) if bom == BOM_BE => true,
        bom => {
            return Err(CaptureError::Corrupt {
                offset,
                reason: format!("unknown section byte-order magic {bom:02x?}"),
            });
        }
    };
    let declared = u32_at(head, 4, big_endian).unwrap_or_default();
    let block_len = check_block_len(offset, declared, 28, input.max_buf)?;
    if !input.fill(block_len)? {
        return Err(CaptureError::Truncated { offset });
    }
    let block = input.available().get(..block_len).unwrap_or_default();
    check_trailing_len(offset, block, declared, big_endian)?;
    let (_, shb) = parse_sectionheaderblock(block)
        .map_err(|error| corrupt(offset, "section header", error))?;
    if shb.major_version != 1 {
        return Err(CaptureError::Corrupt {
            offset,
            reason: format!(
                "unsupported pcapng version {}.{}",
                shb.major_version, shb.minor_version
            ),
        });
    }
    input.consume(block_len);
    Ok(Section {
        big_endian,
        interfaces: Vec::new(),
    })
}

/// Parses an Interface Description Block: link type, snaplen, `if_tsresol`, `if_tsoffset`.
fn parse_interface(offset: u64, block: &[u8], big_endian: bool) -> Result<Interface, CaptureError> {
    let parsed = if big_endian {
        parse_interfacedescriptionblock_be(block)
    } else {
        parse_interfacedescriptionblock_le(block)
    };
    let (_, idb) = parsed.map_err(|error| corrupt(offset, "interface description", error))?;
    let bad_option = |what: &str| CaptureError::Corrupt {
        offset,
        reason: format!("interface description: {what}"),
    };
    let mut tsresol = 6;
    let mut offset_secs = 0;
    // pcap-parser reads if_tsoffset as little-endian whatever the section's byte order, and
    // rejects every binary if_tsresol: both are read here from the raw options.
    for option in &idb.options {
        if option.code == OptionCode::IfTsresol {
            tsresol = match option_value(option) {
                Some(&[value]) => value,
                _ => return Err(bad_option("if_tsresol is not 1 byte long")),
            };
        } else if option.code == OptionCode::IfTsoffset {
            let bytes: [u8; 8] = option_value(option)
                .and_then(|value| value.try_into().ok())
                .ok_or_else(|| bad_option("if_tsoffset is not 8 bytes long"))?;
            offset_secs = if big_endian {
                i64::from_be_bytes(bytes)
            } else {
                i64::from_le_bytes(bytes)
            };
        }
    }
    let units_per_sec = units_per_sec(tsresol).ok_or_else(|| {
        bad_option(&format!(
            "if_tsresol {tsresol:#04x} is finer than a 64-bit count can express"
        ))
    })?;
    let linktype = idb.linktype.0.cast_unsigned() & 0xffff;
    Ok(Interface {
        link: LinkType::from_linktype(linktype),
        units_per_sec,
        offset_secs,
        snaplen: idb.snaplen,
    })
}

/// Parses an Enhanced Packet Block.
fn parse_enhanced_packet(
    offset: u64,
    block: &[u8],
    big_endian: bool,
) -> Result<Step, CaptureError> {
    let parsed = if big_endian {
        parse_enhancedpacketblock_be(block)
    } else {
        parse_enhancedpacketblock_le(block)
    };
    let (_, epb) = parsed.map_err(|error| corrupt(offset, "enhanced packet block", error))?;
    let data = packet_range(offset, block.len(), EPB_DATA_OFFSET, epb.caplen)?;
    Ok(Step::Packet(Packet {
        interface: epb.if_id,
        units: Some(u64::from(epb.ts_high) << 32 | u64::from(epb.ts_low)),
        data,
        original_len: epb.origlen,
    }))
}

/// Parses an obsolete Packet Block (pcapng type 2), which `pcap-parser` leaves unparsed:
/// interface id (16 bits), drops count (16 bits), timestamp, captured and original lengths,
/// packet bytes, options.
fn parse_obsolete_packet(
    offset: u64,
    block: &[u8],
    big_endian: bool,
) -> Result<Step, CaptureError> {
    let field = |at| {
        u32_at(block, at, big_endian).ok_or_else(|| CaptureError::Corrupt {
            offset,
            reason: "packet block shorter than its 32-byte header".into(),
        })
    };
    let ids = field(8)?;
    let interface = if big_endian { ids >> 16 } else { ids & 0xffff };
    let (ts_high, ts_low, caplen, original_len) = (field(12)?, field(16)?, field(20)?, field(24)?);
    let data = packet_range(offset, block.len(), EPB_DATA_OFFSET, caplen)?;
    Ok(Step::Packet(Packet {
        interface,
        units: Some(u64::from(ts_high) << 32 | u64::from(ts_low)),
        data,
        original_len,
    }))
}

/// Parses a Simple Packet Block (interface 0, no timestamp).
fn parse_simple_packet(offset: u64, block: &[u8], big_endian: bool) -> Result<Step, CaptureError> {
    let parsed = if big_endian {
        parse_simplepacketblock_be(block)
    } else {
        parse_simplepacketblock_le(block)
    };
    let (_, spb) = parsed.map_err(|error| corrupt(offset, "simple packet block", error))?;
    let room = block.len().saturating_sub(SPB_DATA_OFFSET + 4);
    let captured = usize::try_from(spb.origlen).map_or(room, |len| len.min(room));
    Ok(Step::Packet(Packet {
        interface: 0,
        units: None,
        data: SPB_DATA_OFFSET..SPB_DATA_OFFSET.saturating_add(captured),
        original_len: spb.origlen,
    }))
}

/// The range of `caplen` packet bytes at `start` in a block of `block_len` bytes, checked
/// to end before the trailing length.
fn packet_range(
    offset: u64,
    block_len: usize,
    start: usize,
    caplen: u32,
) -> Result<Range<usize>, CaptureError> {
    let end = usize::try_from(caplen)
        .ok()
        .and_then(|len| start.checked_add(len))
        .filter(|end| end.saturating_add(4) <= block_len)
        .ok_or_else(|| CaptureError::Corrupt {
            offset,
            reason: format!("captured length {caplen} overruns the {block_len}-byte block"),
        })?;
    Ok(start..end)
}

/// Checks a declared pcapng block length: at least `min`, a multiple of 4, within `max`.
fn check_block_len(
    offset: u64,
    declared: u32,
    min: usize,
    max: usize,
) -> Result<usize, CaptureError> {
    let len = usize::try_from(declared).unwrap_or(usize::MAX);
    if len > max {
        return Err(CaptureError::RecordTooLarge {
            offset,
            len,
            limit: max,
        });
    }
    if len < min || len % 4 != 0 {
        return Err(CaptureError::Corrupt {
            offset,
            reason: format!("block length {declared} is not a multiple of 4 of at least {min}"),
        });
    }
    Ok(len)
}

/// Checks that a block's trailing length repeats its leading one.
fn check_trailing_len(
    offset: u64,
    block: &[u8],
    declared: u32,
    big_endian: bool,
) -> Result<(), CaptureError> {
    let trailing = u32_at(block, block.len().saturating_sub(4), big_endian);
    if trailing == Some(declared) {
        Ok(())
    } else {
        Err(CaptureError::Corrupt {
            offset,
            reason: format!(
                "trailing block length {} differs from the leading {declared}",
                trailing.unwrap_or_default()
            ),
        })
    }
}

/// A pcapng timestamp: `units` of the interface's resolution since the epoch plus its
/// offset, truncated to the microsecond.
fn pcapng_timestamp(
    offset: u64,
    units: u64,
    interface: &Interface,
) -> Result<Timestamp, CaptureError> {
    let per_sec = interface.units_per_sec.max(1);
    let seconds = i128::from(units / per_sec) + i128::from(interface.offset_secs);
    // fraction < per_sec <= 2^63, so fraction * 10^6 fits a u128 and the quotient is below
    // 10^6.
    let fraction = u128::from(units % per_sec);
    let micros = fraction.saturating_mul(1_000_000) / u128::from(per_sec);
    u64::try_from(seconds)
        .ok()
        .zip(u32::try_from(micros).ok())
        .and_then(|(secs, micros)| Timestamp::from_secs_micros(secs, micros).ok())
        .ok_or(CaptureError::TimestampOutOfRange { offset, seconds })
}

/// Timestamp units per second for an `if_tsresol` value: `10^v`, or `2^v` with the top
/// bit set; `None` past what a 64-bit count can usefully hold.
pub(super) fn units_per_sec(tsresol: u8) -> Option<u64> {
    let exponent = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent).filter(|_| exponent < 64)
    }
}

/// The option's value without padding, if its declared length fits.
fn option_value<'a>(option: &'a PcapNGOption<'_>) -> Option<&'a [u8]> {
    option.as_bytes().ok()
}

/// `Ok(None)` at a clean end of input, `Truncated` inside a record.
fn end_of_input<R: Read>(input: &Input<R>, offset: u64) -> Result<Option<Record>, CaptureError> {
    if input.available().is_empty() {
        Ok(None)
    } else {
        Err(CaptureError::Truncated { offset })
    }
}

/// A `Corrupt` error for a record `pcap-parser` rejected (without the record's bytes, which
/// its own messages would quote).
fn corrupt(offset: u64, what: &str, error: nom::Err<PcapError<&[u8]>>) -> CaptureError {
    let reason = match error {
        // The whole record was buffered: needing more means its inner lengths overrun it.
        nom::Err::Incomplete(_) => format!("{what}: fields overrun the record"),
        nom::Err::Error(error) | nom::Err::Failure(error) => match error {
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                format!("{what}: rejected by the parser ({kind:?})")
            }
            PcapError::HeaderNotRecognized => format!("{what}: header not recognised"),
            _ => format!("{what}: rejected by the parser"),
        },
    };
    CaptureError::Corrupt { offset, reason }
}

/// The first four bytes (zeros if fewer).
fn first_bytes(bytes: &[u8]) -> [u8; 4] {
    bytes
        .get(..4)
        .and_then(|head| head.try_into().ok())
        .unwrap_or_default()
}

/// The u32 at `at`, in the given byte order.
fn u32_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use proptest::prelude::*;

    use super::*;
    use crate::source::writer::{ByteOrder, PcapWriter, PcapngWriter, TSRESOL_NANOS};

    /// A frame copied out of the reader.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Owned {
        timestamp: Timestamp,
        link: LinkType,
        interface: u32,
        data: Vec<u8>,
        original_len: u32,
    }

    fn owned(frame: &CapturedFrame<'_>) -> Owned {
        Owned {
            timestamp: frame.timestamp,
            link: frame.link,
            interface: frame.interface,
            data: frame.data.to_vec(),
            original_len: frame.original_len,
        }
    }

    fn ts(micros: u64) -> Timestamp {
        Timestamp::from_unix_micros(micros).unwrap()
    }

    /// Reads `reader` to its end or first fatal error, with a bound on calls; returns the
    /// frames, the non-fatal errors and the fatal error (`None` at a clean end).
    fn drain<R: Read>(
        mut reader: FileReader<R>,
    ) -> (
        Vec<Owned>,
        Vec<CaptureError>,
        Option<CaptureError>,
        FileReader<R>,
    ) {
        let mut frames = Vec::new();
        let mut rejected = Vec::new();
        for _ in 0..100_000 {
            match reader.try_next_frame() {
                Ok(Some(frame)) => frames.push(owned(&frame)),
                Ok(None) => return (frames, rejected, None, reader),
                Err(error) if error.is_per_record() => rejected.push(error),
                Err(error) => {
                    if error.is_fatal() {
                        assert!(
                            reader.try_next_frame().unwrap().is_none(),
                            "fused after {error}"
                        );
                    } else {
                        // Truncated: the reader waits at the incomplete record.
                        let again = reader.try_next_frame();
                        assert!(
                            matches!((&again, &error), (Err(CaptureError::Truncated { offset: a }), CaptureError::Truncated { offset: b }) if a == b),
                            "{error} then {again:?}"
                        );
                    }
                    return (frames, rejected, Some(error), reader);
                }
            }
        }
        panic!("reader did not terminate");
    }

    fn read_bytes(bytes: &[u8]) -> Result<(Vec<Owned>, Option<CaptureError>), CaptureError> {
        let (frames, rejected, fatal, _) = drain(FileReader::new(bytes)?);
        assert!(rejected.is_empty(), "{rejected:?}");
        Ok((frames, fatal))
    }

    fn frame(micros: u64, link: LinkType, interface: u32, data: &[u8], original_len: u32) -> Owned {
        Owned {
            timestamp: ts(micros),
            link,
            interface,
            data: data.to_vec(),
            original_len,
        }
    }

    /// A capture with the end offset of each record and whether it is a packet.
    struct Fixture {
        bytes: Vec<u8>,
        /// (end offset, packet?) of the file header and every record, in order.
        boundaries: Vec<(usize, bool)>,
        frames: Vec<Owned>,
    }

    impl Fixture {
        fn mark(&mut self, len: usize, packet: Option<Owned>) {
            self.boundaries.push((len, packet.is_some()));
            self.frames.extend(packet);
        }
    }

    fn pcap_fixture(order: ByteOrder, nanosecond: bool) -> Fixture {
        let mut writer =
            PcapWriter::with_byte_order(Vec::new(), LinkType::Ethernet, nanosecond, order).unwrap();
        let mut fixture = Fixture {
            bytes: Vec::new(),
            boundaries: vec![(24, false)],
            frames: Vec::new(),
        };
        let records: [(u64, &[u8], u32); 4] = [
            (1_700_000_000_123_456, &[0xaa; 60], 60),
            (1_700_000_000_999_999, &[], 0),
            (0, &[1, 2, 3], 1500),
            (4_294_967_295_000_001, &[0x55; 1514], 1514),
        ];
        for (micros, data, original_len) in records {
            writer
                .write_frame_with_original_len(ts(micros), data, original_len)
                .unwrap();
            let len = writer.get_ref().len();
            fixture.mark(
                len,
                Some(frame(micros, LinkType::Ethernet, 0, data, original_len)),
            );
        }
        fixture.bytes = writer.into_inner();
        fixture
    }

    /// Two sections (little- then big-endian); Ethernet at 10^-9 s and raw IP at 2^-10 s;
    /// an interface of an unsupported link type; an `if_tsoffset`; EPB, SPB, obsolete PB and
    /// skipped blocks.
    fn pcapng_fixture() -> Fixture {
        let mut fixture = Fixture {
            bytes: Vec::new(),
            boundaries: Vec::new(),
            frames: Vec::new(),
        };
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        fixture.mark(w.get_ref().len(), None);
        let eth = w.add_interface(LinkType::Ethernet, TSRESOL_NANOS).unwrap();
        fixture.mark(w.get_ref().len(), None);
        let ip = w.add_interface(LinkType::RawIp, 0x80 | 10).unwrap();
        fixture.mark(w.get_ref().len(), None);
        assert_eq!((eth, ip), (0, 1));

        w.write_frame(eth, ts(1_700_000_000_123_456), &[0xee; 61])
            .unwrap();
        fixture.mark(
            w.get_ref().len(),
            Some(frame(
                1_700_000_000_123_456,
                LinkType::Ethernet,
                0,
                &[0xee; 61],
                61,
            )),
        );
        // 15 625 us = 16/1024 s: exact at 2^-10 s.
        w.write_frame_with_original_len(ip, ts(1_700_000_001_015_625), &[0x45, 0], 40)
            .unwrap();
        fixture.mark(
            w.get_ref().len(),
            Some(frame(
                1_700_000_001_015_625,
                LinkType::RawIp,
                1,
                &[0x45, 0],
                40,
            )),
        );
        w.write_block(4, &[0, 0, 0, 0]).unwrap(); // name resolution: skipped
        fixture.mark(w.get_ref().len(), None);
        w.write_block(0x0bad, &[1, 2, 3, 4, 5]).unwrap(); // custom: skipped
        fixture.mark(w.get_ref().len(), None);
        // A simple packet on interface 0 takes the last timestamp.
        w.write_simple_packet(&[7; 3], 3).unwrap();
        fixture.mark(
            w.get_ref().len(),
            Some(frame(
                1_700_000_001_015_625,
                LinkType::Ethernet,
                0,
                &[7; 3],
                3,
            )),
        );

        w.new_section(ByteOrder::Big).unwrap();
        fixture.mark(w.get_ref().len(), None);
        let offset = 1_600_000_000;
        w.add_interface_with_options(LinkType::LinuxSll.to_linktype(), 62, 6, offset)
            .unwrap();
        fixture.mark(w.get_ref().len(), None);
        w.add_interface_with_options(147, 0, 6, 0).unwrap(); // LINKTYPE_USER0
        fixture.mark(w.get_ref().len(), None);
        w.write_frame(0, ts(1_700_000_002_000_001), &[0x11; 16])
            .unwrap();
        fixture.mark(
            w.get_ref().len(),
            Some(frame(
                1_700_000_002_000_001,
                LinkType::LinuxSll,
                0,
                &[0x11; 16],
                16,
            )),
        );
        w.write_frame(1, ts(1_700_000_003_000_000), &[0x22; 8])
            .unwrap(); // unsupported
        fixture.mark(w.get_ref().len(), None);
        // Snaplen 62: a simple packet of a 100-byte frame holds 62 bytes and 2 of padding.
        w.write_simple_packet(&[0x33; 62], 100).unwrap();
        fixture.mark(
            w.get_ref().len(),
            Some(frame(
                1_700_000_002_000_001,
                LinkType::LinuxSll,
                0,
                &[0x33; 62],
                100,
            )),
        );
        // Obsolete packet block, big-endian: interface 0, 0 drops, ts 10^-6 units from
        // the interface's offset, caplen 5, origlen 9.
        let units: u64 = (1_700_000_004 - 1_600_000_000) * 1_000_000 + 42;
        let mut body = Vec::new();
        body.extend_from_slice(&0u16.to_be_bytes());
        body.extend_from_slice(&0u16.to_be_bytes());
        body.extend_from_slice(&((units >> 32) as u32).to_be_bytes());
        body.extend_from_slice(&(units as u32).to_be_bytes());
        body.extend_from_slice(&5u32.to_be_bytes());
        body.extend_from_slice(&9u32.to_be_bytes());
        body.extend_from_slice(&[0x44; 5]);
        w.write_block(2, &body).unwrap();
        fixture.mark(
            w.get_ref().len(),
            Some(frame(
                1_700_000_004_000_042,
                LinkType::LinuxSll,
                0,
                &[0x44; 5],
                9,
            )),
        );
        fixture.bytes = w.into_inner();
        fixture
    }

    #[test]
    fn pcap_both_byte_orders_and_resolutions() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            for nanosecond in [false, true] {
                let fixture = pcap_fixture(order, nanosecond);
                let reader = FileReader::new(fixture.bytes.as_slice()).unwrap();
                assert_eq!(
                    reader.format(),
                    FileFormat::Pcap {
                        link: LinkType::Ethernet,
                        nanosecond,
                        big_endian: order == ByteOrder::Big
                    }
                );
                let (frames, _, fatal, reader) = drain(reader);
                assert!(fatal.is_none(), "{fatal:?}");
                assert_eq!(frames, fixture.frames, "{order:?} nanosecond={nanosecond}");
                assert_eq!(reader.offset(), fixture.bytes.len() as u64);
                let stats = reader.stats();
                assert_eq!((stats.frames, stats.records), (4, 4));
            }
        }
    }

    #[test]
    fn pcap_written_by_hand() {
        // Big-endian, nanosecond, LINKTYPE_RAW with FCS bits set above the link type; one
        // record at 2024-01-02T03:04:05.678901234Z.
        let bytes = [
            0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x10, 0,
            0, 101, // header
            0x65, 0x93, 0x7d, 0x25, 0x28, 0x77, 0x35, 0xf2, 0, 0, 0, 4, 0, 0, 0, 20, // record
            0x45, 0, 0, 20,
        ];
        let (frames, fatal) = read_bytes(&bytes).unwrap();
        assert!(fatal.is_none());
        assert_eq!(frames.len(), 1);
        assert_eq!(
            frames[0].timestamp.to_string(),
            "2024-01-02T03:04:05.678901Z"
        );
        assert_eq!(frames[0].link, LinkType::RawIp);
        assert_eq!(
            (frames[0].data.as_slice(), frames[0].original_len),
            (&[0x45, 0, 0, 20][..], 20)
        );
    }

    #[test]
    fn pcapng_sections_interfaces_and_blocks() {
        let fixture = pcapng_fixture();
        let reader = FileReader::new(fixture.bytes.as_slice()).unwrap();
        assert_eq!(reader.format(), FileFormat::Pcapng);
        let (frames, rejected, fatal, reader) = drain(reader);
        assert!(
            fatal.is_none() && rejected.is_empty(),
            "{fatal:?} {rejected:?}"
        );
        assert_eq!(frames, fixture.frames);
        let stats = reader.stats();
        assert_eq!(stats.frames, 6);
        assert_eq!(stats.sections, 2);
        assert_eq!(stats.interfaces, 4);
        assert_eq!(stats.skipped_blocks, 2);
        assert_eq!(stats.unsupported_link_frames, 1);
        assert_eq!(stats.records as usize, fixture.boundaries.len() - 1);
    }

    #[test]
    fn every_cut_returns_whole_records_then_truncated() {
        let mut fixtures = vec![pcapng_fixture()];
        for order in [ByteOrder::Little, ByteOrder::Big] {
            fixtures.push(pcap_fixture(order, true));
        }
        for fixture in fixtures {
            let header_end = fixture.boundaries[0].0;
            for cut in 0..=fixture.bytes.len() {
                let result = read_bytes(&fixture.bytes[..cut]);
                if cut < header_end {
                    assert!(
                        matches!(result, Err(CaptureError::Truncated { offset: 0 })),
                        "cut {cut}: {result:?}"
                    );
                    continue;
                }
                let (frames, fatal) = result.unwrap();
                let whole = fixture
                    .boundaries
                    .iter()
                    .filter(|&&(end, packet)| packet && end <= cut)
                    .count();
                assert_eq!(frames, fixture.frames[..whole], "cut {cut}");
                let last_end = fixture
                    .boundaries
                    .iter()
                    .map(|&(end, _)| end)
                    .filter(|&end| end <= cut)
                    .max()
                    .unwrap();
                if last_end == cut {
                    assert!(fatal.is_none(), "cut {cut}: {fatal:?}");
                } else {
                    assert!(
                        matches!(fatal, Some(CaptureError::Truncated { offset }) if offset == last_end as u64),
                        "cut {cut}: {fatal:?}"
                    );
                }
            }
        }
    }

    /// A pcapng section with one Ethernet interface and one frame, then `tail`.
    fn pcapng_then(tail: &[u8]) -> (Vec<u8>, u64) {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        w.add_interface(LinkType::Ethernet, 6).unwrap();
        w.write_frame(0, ts(1), &[0; 14]).unwrap();
        let mut bytes = w.into_inner();
        let offset = bytes.len() as u64;
        bytes.extend_from_slice(tail);
        (bytes, offset)
    }

    fn block(block_type: u32, len: u32, body: &[u8], trailing: u32) -> Vec<u8> {
        let mut block = Vec::new();
        block.extend_from_slice(&block_type.to_le_bytes());
        block.extend_from_slice(&len.to_le_bytes());
        block.extend_from_slice(body);
        block.extend_from_slice(&trailing.to_le_bytes());
        block
    }

    #[test]
    fn corrupt_blocks_come_after_the_frames_before_them() {
        let mut epb_overrun = Vec::new();
        for field in [0u32, 0, 1, 100, 100] {
            epb_overrun.extend_from_slice(&field.to_le_bytes());
        }
        let mut bad_tsresol = vec![1, 0, 0, 0, 0, 0, 0, 0];
        bad_tsresol.extend_from_slice(&[9, 0, 1, 0, 20, 0, 0, 0, 0, 0, 0, 0]); // 10^-20
        let mut long_tsresol = vec![1, 0, 0, 0, 0, 0, 0, 0];
        long_tsresol.extend_from_slice(&[9, 0, 2, 0, 6, 6, 0, 0, 0, 0, 0, 0]);
        let mut shb_v2 = vec![0x4d, 0x3c, 0x2b, 0x1a, 2, 0, 0, 0];
        shb_v2.extend_from_slice(&[0xff; 8]);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("length not a multiple of 4", block(6, 13, &[0], 13)),
            ("length below 12", block(6, 8, &[], 8)),
            ("trailing length differs", block(3, 16, &[0; 4], 20)),
            ("epb caplen overruns", block(6, 32, &epb_overrun, 32)),
            ("epb shorter than its header", block(6, 16, &[0; 4], 16)),
            ("if_tsresol too fine", block(1, 32, &bad_tsresol, 32)),
            ("if_tsresol not one byte", block(1, 32, &long_tsresol, 32)),
            ("shb byte-order magic", block(0x0a0d_0d0a, 28, &[0; 16], 28)),
            ("pcapng version 2", block(0x0a0d_0d0a, 28, &shb_v2, 28)),
        ];
        for (what, tail) in cases {
            let (bytes, offset) = pcapng_then(&tail);
            let reader = FileReader::new(bytes.as_slice()).unwrap();
            let (frames, rejected, fatal, reader) = drain(reader);
            assert_eq!(frames.len(), 1, "{what}");
            assert!(rejected.is_empty(), "{what}");
            assert!(
                matches!(&fatal, Some(CaptureError::Corrupt { offset: at, .. }) if *at == offset),
                "{what}: {fatal:?}"
            );
            assert_eq!(reader.offset(), offset, "{what}");
            assert_eq!(fatal.unwrap().offset(), Some(offset));
        }
    }

    #[test]
    fn bad_headers() {
        assert!(matches!(
            FileReader::new(&b"GIF89a and more"[..]),
            Err(CaptureError::NotACaptureFile { offset: 0 })
        ));
        assert!(matches!(
            FileReader::new(&[0xd4, 0xc3][..]),
            Err(CaptureError::Truncated { offset: 0 })
        ));
        assert!(matches!(
            FileReader::new(&[0xd4, 0x00][..]),
            Err(CaptureError::NotACaptureFile { offset: 0 })
        ));
        let mut old = PcapWriter::new(Vec::new(), LinkType::Ethernet, false)
            .unwrap()
            .into_inner();
        old[4] = 1;
        assert!(matches!(
            FileReader::new(old.as_slice()),
            Err(CaptureError::Corrupt { offset: 0, .. })
        ));
        let usb = PcapWriter::with_linktype(Vec::new(), 189, false, ByteOrder::Big)
            .unwrap()
            .into_inner();
        assert!(matches!(
            FileReader::new(usb.as_slice()),
            Err(CaptureError::UnsupportedLinkType {
                offset: 0,
                linktype: 189
            })
        ));
    }

    #[test]
    fn huge_declared_lengths_are_refused_without_allocating() {
        let mut pcap = PcapWriter::new(Vec::new(), LinkType::Ethernet, false)
            .unwrap()
            .into_inner();
        pcap.extend_from_slice(&[0; 8]);
        pcap.extend_from_slice(&u32::MAX.to_le_bytes());
        pcap.extend_from_slice(&u32::MAX.to_le_bytes());
        let reader = FileReader::new(pcap.as_slice()).unwrap();
        let (frames, _, fatal, reader) = drain(reader);
        assert!(frames.is_empty());
        assert!(matches!(
            fatal,
            Some(CaptureError::RecordTooLarge { offset: 24, len, limit: DEFAULT_MAX_RECORD_LEN })
                if len == u32::MAX as usize
        ));
        assert!(reader.input.buf.capacity() <= INITIAL_BUFFER);

        let (pcapng, offset) = pcapng_then(&block(6, 0xffff_fff0, &[], 0));
        let (frames, _, fatal, reader) = drain(FileReader::new(pcapng.as_slice()).unwrap());
        assert_eq!(frames.len(), 1);
        assert!(
            matches!(fatal, Some(CaptureError::RecordTooLarge { offset: at, len: 0xffff_fff0, .. }) if at == offset),
            "{fatal:?}"
        );
        assert!(reader.input.buf.capacity() <= INITIAL_BUFFER);
    }

    #[test]
    fn configurable_record_limit() {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Big).unwrap();
        w.add_interface(LinkType::Ethernet, 6).unwrap();
        w.write_frame(0, ts(1), &[1; 1000]).unwrap();
        w.write_frame(0, ts(2), &[2; 1001]).unwrap();
        let bytes = w.into_inner();
        let reader = FileReader::with_max_record_len(bytes.as_slice(), 1000).unwrap();
        assert_eq!(reader.max_record_len(), 1000);
        let (frames, _, fatal, _) = drain(reader);
        assert_eq!(frames.len(), 1);
        assert!(
            matches!(
                fatal,
                Some(CaptureError::RecordTooLarge {
                    len: 1001,
                    limit: 1000,
                    ..
                })
            ),
            "{fatal:?}"
        );

        let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, false).unwrap();
        w.write_frame(ts(1), &[1; 100]).unwrap();
        w.write_frame(ts(1), &[1; 101]).unwrap();
        let bytes = w.into_inner();
        let (frames, _, fatal, _) =
            drain(FileReader::with_max_record_len(bytes.as_slice(), 100).unwrap());
        assert_eq!(frames.len(), 1);
        assert!(matches!(
            fatal,
            Some(CaptureError::RecordTooLarge {
                offset: 140,
                len: 101,
                limit: 100
            })
        ));
    }

    /// An Enhanced Packet Block on `interface` at `units` of its resolution, holding the one
    /// octet `byte` (captured and original length 1), written as raw block contents.
    fn one_byte_epb(w: &mut PcapngWriter<Vec<u8>>, interface: u32, units: u64, byte: u8) {
        let mut body = Vec::new();
        for field in [interface, (units >> 32) as u32, units as u32, 1, 1] {
            body.extend_from_slice(&field.to_le_bytes());
        }
        body.push(byte);
        w.write_block(6, &body).unwrap();
    }

    #[test]
    fn bad_packets_are_stepped_over() {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        // Seconds resolution, offset -10 s: a timestamp of 3 s is before 1970.
        w.add_interface_with_options(1, 0, 0, -10).unwrap();
        w.add_interface_with_options(1, 0, 0, 0).unwrap();
        let at_before = w.get_ref().len() as u64;
        one_byte_epb(&mut w, 0, 3, 0xab); // before 1970
        let at_after = w.get_ref().len() as u64;
        one_byte_epb(&mut w, 1, u64::MAX, 0xab); // after 9999
        let at_unknown = w.get_ref().len() as u64;
        one_byte_epb(&mut w, 7, 0, 0xab); // unknown interface
        one_byte_epb(&mut w, 0, 20, 0xab); // fine: 10 s
        let bytes = w.into_inner();
        let (frames, rejected, fatal, reader) = drain(FileReader::new(bytes.as_slice()).unwrap());
        assert!(fatal.is_none());
        assert_eq!(
            frames,
            vec![frame(10_000_000, LinkType::Ethernet, 0, &[0xab], 1)]
        );
        assert!(matches!(
            rejected[0],
            CaptureError::TimestampOutOfRange { offset, seconds: -7 } if offset == at_before
        ));
        assert!(matches!(
            rejected[1],
            CaptureError::TimestampOutOfRange { offset, seconds } if offset == at_after && seconds == i128::from(u64::MAX)
        ));
        assert!(matches!(
            rejected[2],
            CaptureError::UnknownInterface { offset, interface: 7 } if offset == at_unknown
        ));
        assert_eq!(rejected.len(), 3);
        assert_eq!(reader.stats().rejected_frames, 3);

        let mut pcap = PcapWriter::new(Vec::new(), LinkType::Ethernet, false)
            .unwrap()
            .into_inner();
        for field in [1u32, 1_000_000, 0, 0, 2, 999_999, 0, 0] {
            pcap.extend_from_slice(&field.to_le_bytes());
        }
        let (frames, rejected, fatal, _) = drain(FileReader::new(pcap.as_slice()).unwrap());
        assert!(fatal.is_none());
        assert_eq!(
            frames,
            vec![frame(2_999_999, LinkType::Ethernet, 0, &[], 0)]
        );
        assert!(matches!(
            rejected[..],
            [CaptureError::InvalidSubsecond {
                offset: 24,
                value: 1_000_000,
                limit: 1_000_000
            }]
        ));
    }

    #[test]
    fn the_documented_loop_reads_past_bad_records() {
        // Three bad records between two good ones: the loop the module docs teach
        // (`while let Some(frame) = reader.next_frame()?`) reads both good ones.
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        w.add_interface_with_options(1, 0, 0, -10).unwrap();
        one_byte_epb(&mut w, 0, 11, 1); // 1 s
        one_byte_epb(&mut w, 0, 3, 0xee); // before 1970
        one_byte_epb(&mut w, 7, 20, 0xee); // unknown interface
        one_byte_epb(&mut w, 0, 3, 0xee); // before 1970
        one_byte_epb(&mut w, 0, 12, 2); // 2 s
        let bytes = w.into_inner();
        let read = || -> Result<Vec<u8>, CaptureError> {
            let mut reader = FileReader::new(bytes.as_slice())?;
            let mut seen = Vec::new();
            while let Some(frame) = reader.next_frame()? {
                seen.extend_from_slice(frame.data);
            }
            assert_eq!(reader.stats().rejected_frames, 3);
            assert_eq!(reader.stats().frames, 2);
            Ok(seen)
        };
        assert_eq!(read().unwrap(), [1, 2]);
    }

    #[test]
    fn a_growing_file_survives_a_record_partly_flushed() {
        for fixture in [pcap_fixture(ByteOrder::Little, false), pcapng_fixture()] {
            // The writer has flushed the file header, the first record and part of the
            // next packet record (a header's worth, then a few more bytes).
            let first_packet = fixture.boundaries.iter().position(|b| b.1).unwrap();
            let next_packet = first_packet
                + 1
                + fixture.boundaries[first_packet + 1..]
                    .iter()
                    .position(|b| b.1)
                    .unwrap();
            let record_start = fixture.boundaries[next_packet - 1].0;
            let file = Growing::new(&fixture.bytes[..record_start + 9]);
            let mut reader = FileReader::new(file.clone()).unwrap();
            let mut frames = Vec::new();
            let stopped = loop {
                match reader.next_frame() {
                    Ok(Some(frame)) => frames.push(owned(&frame)),
                    Ok(None) => panic!("the partial record went unnoticed"),
                    Err(error) => break error,
                }
            };
            assert!(
                matches!(stopped, CaptureError::Truncated { offset } if offset == record_start as u64),
                "{stopped}"
            );
            assert!(!stopped.is_fatal());
            // Nothing more yet: still waiting at the same record.
            assert!(matches!(
                reader.next_frame(),
                Err(CaptureError::Truncated { .. })
            ));
            // The rest is written: reading goes on from that record, nothing lost.
            file.set(&fixture.bytes);
            while let Some(frame) = reader.next_frame().unwrap() {
                frames.push(owned(&frame));
            }
            assert_eq!(frames, fixture.frames);
            assert_eq!(reader.offset(), fixture.bytes.len() as u64);
        }
    }

    /// Yields one byte per `read`, with an `Interrupted` before every other byte.
    struct Trickle<'a> {
        bytes: &'a [u8],
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            match (self.bytes.split_first(), buf.first_mut()) {
                (Some((&byte, rest)), Some(slot)) => {
                    *slot = byte;
                    self.bytes = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn one_byte_per_read() {
        let fixture = pcapng_fixture();
        let reader = FileReader::new(Trickle {
            bytes: &fixture.bytes,
            interrupt: false,
        })
        .unwrap();
        let (frames, _, fatal, _) = drain(reader);
        assert!(fatal.is_none());
        assert_eq!(frames, fixture.frames);

        let cut = &fixture.bytes[..fixture.bytes.len() - 3];
        let (frames, _, fatal, _) = drain(
            FileReader::new(Trickle {
                bytes: cut,
                interrupt: true,
            })
            .unwrap(),
        );
        assert_eq!(frames, fixture.frames[..fixture.frames.len() - 1]);
        assert!(matches!(fatal, Some(CaptureError::Truncated { .. })));
    }

    #[test]
    fn io_errors_are_fatal() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let header = PcapWriter::new(Vec::new(), LinkType::Ethernet, false)
                    .unwrap()
                    .into_inner();
                if self.0 == 0 {
                    self.0 = 1;
                    buf[..24].copy_from_slice(&header);
                    return Ok(24);
                }
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut reader = FileReader::new(Failing(0)).unwrap();
        assert!(matches!(reader.next_frame(), Err(CaptureError::Io(_))));
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn a_growing_file_can_be_followed() {
        let fixture = pcap_fixture(ByteOrder::Little, false);
        let file = Growing::new(&fixture.bytes[..fixture.boundaries[1].0]);
        let mut reader = FileReader::new(file.clone()).unwrap();
        assert!(reader.next_frame().unwrap().is_some());
        assert!(reader.next_frame().unwrap().is_none());
        file.set(&fixture.bytes);
        assert_eq!(drain(reader).0, fixture.frames[1..]);
    }

    /// A file still being written: a reader sees what it holds so far, and [`Growing::set`]
    /// stands for the writer adding to it.
    #[derive(Clone)]
    struct Growing(std::rc::Rc<std::cell::RefCell<(Vec<u8>, usize)>>);

    impl Growing {
        fn new(bytes: &[u8]) -> Self {
            Self(std::rc::Rc::new(std::cell::RefCell::new((
                bytes.to_vec(),
                0,
            ))))
        }

        /// The whole file now: what was there and what was added.
        fn set(&self, bytes: &[u8]) {
            self.0.borrow_mut().0 = bytes.to_vec();
        }
    }

    impl Read for Growing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut shared = self.0.borrow_mut();
            let (bytes, at) = &mut *shared;
            let n = (&bytes[*at..]).read(buf)?;
            *at += n;
            Ok(n)
        }
    }

    /// Generates a capture of `count` records on the fly, never holding more than one.
    struct Generator {
        header: Vec<u8>,
        records: [Vec<u8>; 2],
        count: usize,
        produced: usize,
        pending: Vec<u8>,
        at: usize,
    }

    impl Read for Generator {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.pending.len() {
                self.at = 0;
                self.pending = if !self.header.is_empty() {
                    std::mem::take(&mut self.header)
                } else if self.produced < self.count {
                    self.produced += 1;
                    self.records[self.produced % 2].clone()
                } else {
                    return Ok(0);
                };
            }
            let n = (&self.pending[self.at..]).read(buf)?;
            self.at += n;
            Ok(n)
        }
    }

    fn pcapng_generator(count: usize) -> Generator {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        w.add_interface(LinkType::Ethernet, TSRESOL_NANOS).unwrap();
        let header = std::mem::take(&mut *w.get_mut());
        w.write_frame(0, ts(1_700_000_000_000_000), &[0x5a; 1514])
            .unwrap();
        let big = std::mem::take(&mut *w.get_mut());
        w.write_frame(0, ts(1_700_000_000_000_001), &[0xa5; 60])
            .unwrap();
        let small = std::mem::take(&mut *w.get_mut());
        Generator {
            header,
            records: [big, small],
            count,
            produced: 0,
            pending: Vec::new(),
            at: 0,
        }
    }

    #[test]
    fn constant_memory_over_a_generated_capture() {
        let mut reader = FileReader::new(pcapng_generator(50_000)).unwrap();
        let mut bytes = 0usize;
        let mut frames = 0usize;
        while let Some(frame) = reader.next_frame().unwrap() {
            bytes += frame.data.len();
            frames += 1;
            assert!(reader.input.buf.capacity() <= INITIAL_BUFFER);
        }
        assert_eq!(frames, 50_000);
        assert_eq!(bytes, 25_000 * (1514 + 60));
        assert_eq!(reader.stats().frames, 50_000);
        assert_eq!(reader.input.buf.capacity(), INITIAL_BUFFER);
    }

    #[test]
    fn buffer_grows_only_to_the_largest_record() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, false).unwrap();
        for _ in 0..3 {
            w.write_frame(ts(1), &[9; 200_000]).unwrap();
        }
        let bytes = w.into_inner();
        let (frames, _, fatal, reader) = drain(FileReader::new(bytes.as_slice()).unwrap());
        assert!(fatal.is_none());
        assert_eq!(frames.len(), 3);
        assert!(reader.input.buf.len() <= DEFAULT_MAX_RECORD_LEN + BLOCK_OVERHEAD);
    }

    /// Runs a reader over `bytes` with a bound on calls: it must end (frames are finite
    /// because every call consumes at least 12 bytes or stops).
    fn never_panics(bytes: &[u8]) {
        let Ok(mut reader) = FileReader::with_max_record_len(bytes, 4096) else {
            return;
        };
        for _ in 0..=bytes.len() {
            match reader.next_frame() {
                Ok(None) | Err(_) => return,
                Ok(Some(frame)) => assert!(frame.data.len() <= 4096),
            }
        }
        panic!("no end after {} calls", bytes.len() + 1);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            never_panics(&bytes);
        }

        #[test]
        fn arbitrary_records_never_panic(
            header in 0usize..4,
            body in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut bytes = match header {
                0 => PcapWriter::new(Vec::new(), LinkType::Ethernet, false).unwrap().into_inner(),
                1 => PcapWriter::with_byte_order(Vec::new(), LinkType::RawIp, true, ByteOrder::Big)
                    .unwrap()
                    .into_inner(),
                2 => PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap().into_inner(),
                _ => PcapngWriter::new(Vec::new(), ByteOrder::Big).unwrap().into_inner(),
            };
            bytes.extend_from_slice(&body);
            never_panics(&bytes);
        }

        #[test]
        fn mutated_captures_never_panic(
            mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            pcapng in any::<bool>(),
        ) {
            let mut bytes = if pcapng {
                pcapng_fixture().bytes
            } else {
                pcap_fixture(ByteOrder::Big, false).bytes
            };
            for (index, byte) in mutations {
                let at = index.index(bytes.len());
                bytes[at] = byte;
            }
            never_panics(&bytes);
        }

        #[test]
        fn writers_round_trip(
            frames in proptest::collection::vec(
                (0u64..4_000_000_000_000_000, proptest::collection::vec(any::<u8>(), 0..300)),
                0..20,
            ),
            big in any::<bool>(),
            nanosecond in any::<bool>(),
        ) {
            let order = if big { ByteOrder::Big } else { ByteOrder::Little };
            let mut pcap = PcapWriter::with_byte_order(Vec::new(), LinkType::Ipv6, nanosecond, order).unwrap();
            let mut pcapng = PcapngWriter::new(Vec::new(), order).unwrap();
            let tsresol = if nanosecond { TSRESOL_NANOS } else { 6 };
            pcapng.add_interface(LinkType::Ethernet, 6).unwrap();
            pcapng.add_interface(LinkType::Ipv6, tsresol).unwrap();
            let mut expected = Vec::new();
            for (micros, data) in &frames {
                pcap.write_frame(ts(*micros), data).unwrap();
                pcapng.write_frame(1, ts(*micros), data).unwrap();
                expected.push(frame(*micros, LinkType::Ipv6, 0, data, data.len() as u32));
            }
            let (from_pcap, fatal) = read_bytes(&pcap.into_inner()).unwrap();
            prop_assert!(fatal.is_none());
            prop_assert_eq!(&from_pcap, &expected);
            let (from_pcapng, fatal) = read_bytes(&pcapng.into_inner()).unwrap();
            prop_assert!(fatal.is_none());
            for frame in &mut expected {
                frame.interface = 1;
            }
            prop_assert_eq!(&from_pcapng, &expected);
        }
    }
}
