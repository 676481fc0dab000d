//! Small pcap and pcapng writers, for tests, benchmarks, fixtures and sample generators.
//!
//! Both write each record with one `write_all` call; wrap a file in a
//! [`std::io::BufWriter`]. They check what they are given (a frame longer than 4 GiB, a
//! timestamp the format cannot hold, an unknown interface) and fail with
//! [`io::ErrorKind::InvalidInput`] rather than write a file a reader would reject.

use std::io::{self, Write};

use li_core::{Timestamp, pcap};

use super::file::units_per_sec;
use crate::LinkType;

/// `if_tsresol` for microsecond timestamps (10^-6 s), the pcapng default.
pub const TSRESOL_MICROS: u8 = 6;
/// `if_tsresol` for nanosecond timestamps (10^-9 s).
pub const TSRESOL_NANOS: u8 = 9;

/// The snapshot length written in headers: tcpdump's largest, 256 KiB.
const SNAPLEN: u32 = pcap::DEFAULT_SNAPLEN;
/// pcapng block types written here.
const SHB_TYPE: u32 = 0x0a0d_0d0a;
const IDB_TYPE: u32 = 1;
const SPB_TYPE: u32 = 3;
const EPB_TYPE: u32 = 6;
/// pcapng option codes.
const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// Byte order of a written file or pcapng section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Little-endian (what x86 and ARM tools write).
    #[default]
    Little,
    /// Big-endian.
    Big,
}

impl ByteOrder {
    fn u16(self, value: u16) -> [u8; 2] {
        match self {
            Self::Little => value.to_le_bytes(),
            Self::Big => value.to_be_bytes(),
        }
    }

    fn u32(self, value: u32) -> [u8; 4] {
        match self {
            Self::Little => value.to_le_bytes(),
            Self::Big => value.to_be_bytes(),
        }
    }

    fn i64(self, value: i64) -> [u8; 8] {
        match self {
            Self::Little => value.to_le_bytes(),
            Self::Big => value.to_be_bytes(),
        }
    }
}

/// A pcap file writer: one link type, microsecond or nanosecond timestamps.
///
/// ```
/// use li_capture::LinkType;
/// use li_capture::source::PcapWriter;
/// use li_core::Timestamp;
///
/// let mut writer = PcapWriter::new(Vec::new(), LinkType::Ethernet, true)?;
/// writer.write_frame(Timestamp::from_unix_micros(1)?, &[0; 14])?;
/// assert_eq!(writer.into_inner().len(), 24 + 16 + 14);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    order: ByteOrder,
    nanosecond: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes a little-endian pcap header for `link`, with nanosecond timestamps (magic
    /// `0xa1b23c4d`) if `nanosecond`, else microseconds (`0xa1b2c3d4`).
    pub fn new(out: W, link: LinkType, nanosecond: bool) -> io::Result<Self> {
        Self::with_byte_order(out, link, nanosecond, ByteOrder::Little)
    }

    /// As [`PcapWriter::new`], in the given byte order.
    pub fn with_byte_order(
        out: W,
        link: LinkType,
        nanosecond: bool,
        order: ByteOrder,
    ) -> io::Result<Self> {
        Self::with_linktype(out, link.to_linktype(), nanosecond, order)
    }

    /// As [`PcapWriter::with_byte_order`] with a raw LINKTYPE value, supported or not (to
    /// test readers).
    pub fn with_linktype(
        mut out: W,
        linktype: u32,
        nanosecond: bool,
        order: ByteOrder,
    ) -> io::Result<Self> {
        let header = pcap::FileHeader {
            nanosecond,
            snaplen: SNAPLEN,
            linktype,
        }
        .to_bytes(order == ByteOrder::Big);
        out.write_all(&header)?;
        Ok(Self {
            out,
            order,
            nanosecond,
        })
    }

    /// Writes one whole frame captured at `timestamp`.
    pub fn write_frame(&mut self, timestamp: Timestamp, data: &[u8]) -> io::Result<()> {
        self.write_frame_with_original_len(timestamp, data, length(data)?)
    }

    /// Writes a frame of which `data` was captured, `original_len` bytes on the wire.
    pub fn write_frame_with_original_len(
        &mut self,
        timestamp: Timestamp,
        data: &[u8],
        original_len: u32,
    ) -> io::Result<()> {
        let header = pcap::RecordHeader::new(
            timestamp,
            self.nanosecond,
            data.len(),
            original_len as usize,
        )
        .ok_or_else(|| {
            invalid(format!(
                "{timestamp} is after the pcap format's 2106 limit, or the frame is 4 GiB"
            ))
        })?;
        let mut record = Vec::with_capacity(16 + data.len());
        record.extend_from_slice(&header.to_bytes(self.order == ByteOrder::Big));
        record.extend_from_slice(data);
        self.out.write_all(&record)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The underlying writer, mutably (writing to it directly corrupts the capture).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Returns the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A pcapng writer: sections in either byte order, interfaces with their own link type,
/// `if_tsresol` and `if_tsoffset`, Enhanced and Simple Packet Blocks, and arbitrary blocks.
///
/// ```
/// use li_capture::LinkType;
/// use li_capture::source::{ByteOrder, PcapngWriter, TSRESOL_NANOS};
/// use li_core::Timestamp;
///
/// let mut writer = PcapngWriter::new(Vec::new(), ByteOrder::Little)?;
/// let eth = writer.add_interface(LinkType::Ethernet, TSRESOL_NANOS)?;
/// let ip = writer.add_interface(LinkType::RawIp, 0x80 | 10)?; // 2^-10 s
/// writer.write_frame(eth, Timestamp::from_unix_micros(1)?, &[0; 14])?;
/// writer.write_frame(ip, Timestamp::from_unix_micros(1_000_000)?, &[0x45])?;
/// writer.new_section(ByteOrder::Big)?; // interfaces are described again per section
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    order: ByteOrder,
    /// Timestamp units per second and offset in seconds of each interface of the section.
    interfaces: Vec<(u64, i64)>,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes a Section Header Block in `order`.
    pub fn new(out: W, order: ByteOrder) -> io::Result<Self> {
        let mut writer = Self {
            out,
            order,
            interfaces: Vec::new(),
        };
        writer.new_section(order)?;
        Ok(writer)
    }

    /// Starts a new section in `order`: interfaces must be added again.
    pub fn new_section(&mut self, order: ByteOrder) -> io::Result<()> {
        self.order = order;
        self.interfaces.clear();
        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&order.u32(0x1a2b_3c4d));
        body.extend_from_slice(&order.u16(1));
        body.extend_from_slice(&order.u16(0));
        body.extend_from_slice(&order.i64(-1)); // section length not given
        self.write_block(SHB_TYPE, &body)
    }

    /// Describes an interface of `link` with timestamps in units of `tsresol` (`if_tsresol`:
    /// 10^-v s, or 2^-v s with the top bit set; see [`TSRESOL_MICROS`], [`TSRESOL_NANOS`]);
    /// returns its id for [`PcapngWriter::write_frame`].
    pub fn add_interface(&mut self, link: LinkType, tsresol: u8) -> io::Result<u32> {
        self.add_interface_with_options(link.to_linktype(), SNAPLEN, tsresol, 0)
    }

    /// Describes an interface with a raw LINKTYPE value (supported or not), a snapshot length
    /// (0 for none), `if_tsresol` and `if_tsoffset` (seconds added to every timestamp).
    pub fn add_interface_with_options(
        &mut self,
        linktype: u32,
        snaplen: u32,
        tsresol: u8,
        tsoffset: i64,
    ) -> io::Result<u32> {
        let linktype = u16::try_from(linktype)
            .map_err(|_| invalid(format!("link type {linktype} does not fit 16 bits")))?;
        let units = units_per_sec(tsresol)
            .ok_or_else(|| invalid(format!("if_tsresol {tsresol:#04x} is too fine")))?;
        let id = u32::try_from(self.interfaces.len())
            .map_err(|_| invalid("too many interfaces".into()))?;
        let order = self.order;
        let mut body = Vec::with_capacity(40);
        body.extend_from_slice(&order.u16(linktype));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&order.u32(snaplen));
        if tsresol != TSRESOL_MICROS {
            body.extend_from_slice(&order.u16(IF_TSRESOL));
            body.extend_from_slice(&order.u16(1));
            body.extend_from_slice(&[tsresol, 0, 0, 0]);
        }
        if tsoffset != 0 {
            body.extend_from_slice(&order.u16(IF_TSOFFSET));
            body.extend_from_slice(&order.u16(8));
            body.extend_from_slice(&order.i64(tsoffset));
        }
        if body.len() > 8 {
            body.extend_from_slice(&order.u16(OPT_ENDOFOPT));
            body.extend_from_slice(&order.u16(0));
        }
        self.write_block(IDB_TYPE, &body)?;
        self.interfaces.push((units, tsoffset));
        Ok(id)
    }

    /// Writes one whole frame captured on `interface` at `timestamp` (an Enhanced Packet
    /// Block). The timestamp is rounded down to the interface's resolution.
    pub fn write_frame(
        &mut self,
        interface: u32,
        timestamp: Timestamp,
        data: &[u8],
    ) -> io::Result<()> {
        self.write_frame_with_original_len(interface, timestamp, data, length(data)?)
    }

    /// Writes a frame of which `data` was captured, `original_len` bytes on the wire.
    pub fn write_frame_with_original_len(
        &mut self,
        interface: u32,
        timestamp: Timestamp,
        data: &[u8],
        original_len: u32,
    ) -> io::Result<()> {
        let &(per_sec, offset) = usize::try_from(interface)
            .ok()
            .and_then(|index| self.interfaces.get(index))
            .ok_or_else(|| invalid(format!("interface {interface} was not added")))?;
        let (secs, micros) = timestamp.to_micro_second_time_stamp();
        let units = i128::from(secs)
            .checked_sub(i128::from(offset))
            .and_then(|secs| u128::try_from(secs).ok())
            .and_then(|secs| secs.checked_mul(u128::from(per_sec)))
            .and_then(|units| {
                units.checked_add(u128::from(micros) * u128::from(per_sec) / 1_000_000)
            })
            .and_then(|units| u64::try_from(units).ok())
            .ok_or_else(|| {
                invalid(format!(
                    "{timestamp} does not fit interface {interface}'s resolution and offset"
                ))
            })?;
        let order = self.order;
        let mut body = Vec::with_capacity(20 + data.len() + 3);
        body.extend_from_slice(&order.u32(interface));
        // Both halves fit 32 bits: the casts are lossless.
        body.extend_from_slice(&order.u32((units >> 32) as u32));
        body.extend_from_slice(&order.u32((units & 0xffff_ffff) as u32));
        body.extend_from_slice(&order.u32(length(data)?));
        body.extend_from_slice(&order.u32(original_len));
        body.extend_from_slice(data);
        self.write_block(EPB_TYPE, &body)
    }

    /// Writes a Simple Packet Block (interface 0, no timestamp) of `data`, `original_len`
    /// bytes on the wire.
    pub fn write_simple_packet(&mut self, data: &[u8], original_len: u32) -> io::Result<()> {
        let mut body = Vec::with_capacity(4 + data.len() + 3);
        body.extend_from_slice(&self.order.u32(original_len));
        body.extend_from_slice(data);
        self.write_block(SPB_TYPE, &body)
    }

    /// Writes a block of any type with `body` (padded to 4 bytes here) between its lengths,
    /// in the section's byte order. For blocks this writer has no method for (name
    /// resolution, statistics, custom, the obsolete Packet Block).
    pub fn write_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let padding = body.len().wrapping_neg() % 4;
        let total = body
            .len()
            .checked_add(padding + 12)
            .and_then(|total| u32::try_from(total).ok())
            .ok_or_else(|| invalid("block longer than 4 GiB".into()))?;
        let order = self.order;
        let mut block = Vec::with_capacity(body.len() + padding + 12);
        block.extend_from_slice(&order.u32(block_type));
        block.extend_from_slice(&order.u32(total));
        block.extend_from_slice(body);
        block.resize(block.len() + padding, 0);
        block.extend_from_slice(&order.u32(total));
        self.out.write_all(&block)
    }

    /// The byte order of the current section.
    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The underlying writer, mutably (writing to it directly corrupts the capture).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Returns the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A frame's length as a 32-bit field.
fn length(data: &[u8]) -> io::Result<u32> {
    u32::try_from(data.len()).map_err(|_| invalid("frame longer than 4 GiB".into()))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(micros: u64) -> Timestamp {
        Timestamp::from_unix_micros(micros).unwrap()
    }

    #[test]
    fn pcap_bytes() {
        let mut w =
            PcapWriter::with_byte_order(Vec::new(), LinkType::RawIp, true, ByteOrder::Big).unwrap();
        w.write_frame_with_original_len(ts(1_000_002), &[0x45], 20)
            .unwrap();
        let bytes = w.into_inner();
        assert_eq!(
            bytes,
            [
                0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0,
                101, // header
                0, 0, 0, 1, 0, 0, 0x07, 0xd0, 0, 0, 0, 1, 0, 0, 0, 20, 0x45, // record
            ]
        );
        let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet, false).unwrap();
        assert_eq!(w.get_ref()[..4], [0xd4, 0xc3, 0xb2, 0xa1]);
        let after_2106 = Timestamp::from_secs_micros(1 << 32, 0).unwrap();
        let error = w.write_frame(after_2106, &[]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(w.into_inner().len(), 24, "nothing written on error");
    }

    #[test]
    fn pcapng_bytes() {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).unwrap();
        assert_eq!(w.get_ref().len(), 28);
        let id = w.add_interface(LinkType::Ethernet, TSRESOL_MICROS).unwrap();
        assert_eq!(
            w.get_ref().len(),
            28 + 20,
            "no options at the default resolution"
        );
        w.write_frame(id, ts((1 << 32) + 5), &[0xaa, 0xbb]).unwrap();
        let bytes = w.into_inner();
        let epb = &bytes[48..];
        assert_eq!(
            epb,
            [
                6, 0, 0, 0, 36, 0, 0, 0, // type, length
                0, 0, 0, 0, // interface
                1, 0, 0, 0, 5, 0, 0, 0, // timestamp high, low
                2, 0, 0, 0, 2, 0, 0, 0, // captured, original
                0xaa, 0xbb, 0, 0, // data, padding
                36, 0, 0, 0,
            ]
        );
    }

    #[test]
    fn pcapng_options_and_errors() {
        let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Big).unwrap();
        let start = w.get_ref().len();
        w.add_interface_with_options(1, 0, 0x80 | 10, -1).unwrap();
        let idb = &w.get_ref()[start..];
        assert_eq!(idb.len(), 20 + 8 + 12 + 4);
        assert_eq!(idb[16..24], [0, 9, 0, 1, 0x8a, 0, 0, 0]);
        assert_eq!(
            idb[24..36],
            [0, 14, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(w.byte_order(), ByteOrder::Big);

        fn kind<T: std::fmt::Debug>(result: io::Result<T>) -> io::ErrorKind {
            result.unwrap_err().kind()
        }
        assert_eq!(
            kind(w.write_frame(1, ts(0), &[])),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(w.add_interface(LinkType::Ethernet, 20)),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(w.add_interface_with_options(1 << 16, 0, 6, 0)),
            io::ErrorKind::InvalidInput
        );
        // Offset 10 s: a timestamp of 5 s cannot be written.
        let late = w.add_interface_with_options(1, 0, 6, 10).unwrap();
        assert_eq!(
            kind(w.write_frame(late, ts(5_000_000), &[])),
            io::ErrorKind::InvalidInput
        );
        // Nanoseconds since 1970 overflow 64 bits after 2554.
        let nanos = w.add_interface(LinkType::Ethernet, TSRESOL_NANOS).unwrap();
        let year_3000 = Timestamp::from_secs_micros(32_503_680_000, 0).unwrap();
        assert_eq!(
            kind(w.write_frame(nanos, year_3000, &[])),
            io::ErrorKind::InvalidInput
        );
        w.write_frame(late, year_3000, &[]).unwrap();

        w.new_section(ByteOrder::Little).unwrap();
        assert_eq!(
            kind(w.write_frame(0, ts(0), &[])),
            io::ErrorKind::InvalidInput
        );
    }
}
