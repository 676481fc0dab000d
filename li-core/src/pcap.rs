//! The byte layout of the classic pcap file format: the file header and the record header,
//! and nothing else (no I/O).
//!
//! Every pcap file the suite writes is laid out here: `li_capture::source::PcapWriter`
//! (samples, fixtures, tests) and the agency receiver's per-LIID content files
//! (`li_handover::lemf`) both take their headers from these two types.
//!
//! ```
//! use li_core::Timestamp;
//! use li_core::pcap::{FileHeader, LINKTYPE_RAW, RecordHeader};
//!
//! let mut file = FileHeader::micros(LINKTYPE_RAW).to_bytes(false).to_vec();
//! let packet = [0x45u8; 20];
//! let time = Timestamp::from_secs_micros(1_704_164_645, 123_456)?;
//! let record = RecordHeader::new(time, false, packet.len(), packet.len()).unwrap();
//! file.extend_from_slice(&record.to_bytes(false));
//! file.extend_from_slice(&packet);
//! assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
//! assert_eq!(file.len(), 24 + 16 + 20);
//! # Ok::<(), li_core::Error>(())
//! ```

use crate::Timestamp;

/// The magic number of a file with microsecond timestamps.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The magic number of a file with nanosecond timestamps.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// The snapshot length written in file headers by default: tcpdump's largest, 256 KiB.
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// `LINKTYPE_RAW` (101): each record is an IP packet, version from its first nibble.
pub const LINKTYPE_RAW: u32 = 101;

/// The 24-octet file header (format version 2.4, UTC, no significant figures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileHeader {
    /// Nanosecond timestamps ([`MAGIC_NANOS`]) rather than microseconds.
    pub nanosecond: bool,
    /// The snapshot length.
    pub snaplen: u32,
    /// The LINKTYPE of every record.
    pub linktype: u32,
}

impl FileHeader {
    /// Microsecond timestamps, [`DEFAULT_SNAPLEN`], this link type.
    pub const fn micros(linktype: u32) -> Self {
        Self {
            nanosecond: false,
            snaplen: DEFAULT_SNAPLEN,
            linktype,
        }
    }

    /// The header's octets, little-endian unless `big_endian`.
    pub fn to_bytes(&self, big_endian: bool) -> [u8; 24] {
        let magic = if self.nanosecond {
            MAGIC_NANOS
        } else {
            MAGIC_MICROS
        };
        let mut out = [0u8; 24];
        put(&mut out[0..4], magic, big_endian);
        put16(&mut out[4..6], 2, big_endian);
        put16(&mut out[6..8], 4, big_endian);
        // thiszone and sigfigs stay 0.
        put(&mut out[16..20], self.snaplen, big_endian);
        put(&mut out[20..24], self.linktype, big_endian);
        out
    }
}

/// The 16-octet header before each record's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// Seconds since the Unix epoch.
    pub seconds: u32,
    /// Microseconds or nanoseconds within the second, as the file header says.
    pub fraction: u32,
    /// The octets of the record's data (what was captured).
    pub captured: u32,
    /// The packet's length on the wire (at least `captured`).
    pub original: u32,
}

impl RecordHeader {
    /// The header of a record captured at `time`, `captured` octets of a packet of
    /// `original` octets (raised to `captured` if smaller). `None` when the format cannot
    /// hold it: a time after 2106-02-07T06:28:15Z (32-bit seconds) or a length of 4 GiB.
    pub fn new(
        time: Timestamp,
        nanosecond: bool,
        captured: usize,
        original: usize,
    ) -> Option<Self> {
        let (secs, micros) = time.to_micro_second_time_stamp();
        let captured = u32::try_from(captured).ok()?;
        Some(Self {
            seconds: u32::try_from(secs).ok()?,
            fraction: if nanosecond { micros * 1000 } else { micros },
            captured,
            original: u32::try_from(original).unwrap_or(u32::MAX).max(captured),
        })
    }

    /// The header's octets, little-endian unless `big_endian`.
    pub fn to_bytes(&self, big_endian: bool) -> [u8; 16] {
        let mut out = [0u8; 16];
        put(&mut out[0..4], self.seconds, big_endian);
        put(&mut out[4..8], self.fraction, big_endian);
        put(&mut out[8..12], self.captured, big_endian);
        put(&mut out[12..16], self.original, big_endian);
        out
    }
}

fn put(out: &mut [u8], value: u32, big_endian: bool) {
    let bytes = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    out.copy_from_slice(&bytes);
}

fn put16(out: &mut [u8], value: u16, big_endian: bool) {
    let bytes = if big_endian {
        value.to_be_bytes()
    } else {
        value.to_le_bytes()
    };
    out.copy_from_slice(&bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_laid_out_as_libpcap_reads_them() {
        let h = FileHeader {
            nanosecond: true,
            snaplen: 65_535,
            linktype: 1,
        };
        assert_eq!(
            h.to_bytes(false),
            [
                0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0,
                0, 0
            ]
        );
        assert_eq!(
            &h.to_bytes(true)[..8],
            &[0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4]
        );
        let t = Timestamp::from_secs_micros(0x0102_0304, 5).unwrap();
        let r = RecordHeader::new(t, true, 60, 1514).unwrap();
        assert_eq!(
            r.to_bytes(false),
            [4, 3, 2, 1, 0x88, 0x13, 0, 0, 60, 0, 0, 0, 0xea, 5, 0, 0]
        );
        assert_eq!(&r.to_bytes(true)[..4], &[1, 2, 3, 4]);
        // The original length is never below what was captured.
        assert_eq!(RecordHeader::new(t, false, 60, 20).unwrap().original, 60);
    }

    #[test]
    fn what_the_format_cannot_hold_is_refused() {
        let late = Timestamp::from_secs_micros(u64::from(u32::MAX) + 1, 0).unwrap();
        assert_eq!(RecordHeader::new(late, false, 1, 1), None);
        let last = Timestamp::from_secs_micros(u64::from(u32::MAX), 999_999).unwrap();
        assert!(RecordHeader::new(last, true, 1, 1).is_some());
    }
}
