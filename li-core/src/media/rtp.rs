//! The RTP fixed header (RFC 3550 clause 5.1): read from a packet, and written.
//!
//! [`RtpPacket::parse`] checks what a receiver must (version 2, the CSRC list, the header
//! extension and the padding within the packet) and borrows the payload; it never panics
//! and names the field that does not fit. RTCP (payload types 72..=76 in the second octet
//! with the marker bit, RFC 5761 clause 4) is told apart by [`is_rtcp`].
//!
//! ```
//! use li_core::media::rtp::{RtpHeader, RtpPacket};
//!
//! let header = RtpHeader { marker: true, payload_type: 0, sequence: 7, timestamp: 160, ssrc: 0x1234_5678 };
//! let mut packet = Vec::new();
//! header.write(&mut packet);
//! packet.extend_from_slice(&[0xFF; 160]);
//! let read = RtpPacket::parse(&packet)?;
//! assert_eq!(read.header, header);
//! assert_eq!(read.payload.len(), 160);
//! # Ok::<(), li_core::media::rtp::RtpError>(())
//! ```

/// The fields of an RTP header a receiver uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpHeader {
    /// The marker bit (the first packet of a talkspurt for audio).
    pub marker: bool,
    /// The payload type (7 bits).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The timestamp, in the payload format's clock (8,000 Hz for G.711).
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
}

/// The length of the fixed header, without CSRCs or extension.
pub const FIXED_HEADER_LEN: usize = 12;

impl RtpHeader {
    /// Appends the 12-octet fixed header (version 2, no padding, extension or CSRC).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7F));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
    }
}

/// An RTP packet read from a UDP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The header.
    pub header: RtpHeader,
    /// The payload, after CSRCs and extension, without padding.
    pub payload: &'a [u8],
}

/// Why a packet is not RTP.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer octets than the part of the header named.
    #[error("RTP packet of {len} octets too short for its {what} (needs {needed})")]
    Truncated {
        /// Which part did not fit: "fixed header", "CSRC list", "header extension",
        /// "padding".
        what: &'static str,
        /// Octets needed up to the end of that part.
        needed: usize,
        /// Octets present.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {version}, expected 2")]
    Version {
        /// The version read.
        version: u8,
    },
}

impl<'a> RtpPacket<'a> {
    /// Reads an RTP packet.
    pub fn parse(packet: &'a [u8]) -> Result<Self, RtpError> {
        let len = packet.len();
        let truncated = |what, needed| RtpError::Truncated { what, needed, len };
        let Some(fixed) = packet.first_chunk::<FIXED_HEADER_LEN>() else {
            return Err(truncated("fixed header", FIXED_HEADER_LEN));
        };
        let version = fixed[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version { version });
        }
        let header = RtpHeader {
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7F,
            sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
        };
        let mut start = FIXED_HEADER_LEN + 4 * usize::from(fixed[0] & 0x0F);
        if start > len {
            return Err(truncated("CSRC list", start));
        }
        if fixed[0] & 0x10 != 0 {
            let Some(&[hi, lo]) = packet.get(start + 2..start + 4) else {
                return Err(truncated("header extension", start + 4));
            };
            start += 4 + 4 * usize::from(u16::from_be_bytes([hi, lo]));
            if start > len {
                return Err(truncated("header extension", start));
            }
        }
        let mut end = len;
        if fixed[0] & 0x20 != 0 {
            // The last octet counts the padding, itself included.
            let padding = packet.last().map_or(0, |&p| usize::from(p));
            if padding == 0 || start + padding > len {
                return Err(truncated("padding", start + padding.max(1)));
            }
            end -= padding;
        }
        let payload = packet.get(start..end).unwrap_or_default();
        Ok(Self { header, payload })
    }
}

/// Whether a UDP payload on an RTP flow is RTCP multiplexed with it (RFC 5761 clause 4:
/// the second octet is an RTCP packet type, 192..=223).
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.get(1).is_some_and(|pt| (192..=223).contains(pt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: false,
            payload_type: 8,
            sequence: 65_535,
            timestamp: u32::MAX,
            ssrc: 42,
        }
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut p = Vec::new();
        header().write(&mut p);
        p[0] |= 0x10 | 0x20 | 2; // extension, padding, two CSRCs
        p.extend_from_slice(&[0; 8]); // CSRCs
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]); // one extension word
        p.extend_from_slice(b"audio");
        p.extend_from_slice(&[0, 0, 3]); // three octets of padding
        let read = RtpPacket::parse(&p).unwrap();
        assert_eq!(read.header, header());
        assert_eq!(read.payload, b"audio");
    }

    #[test]
    fn what_does_not_fit_is_named() {
        let mut p = Vec::new();
        header().write(&mut p);
        assert!(matches!(
            RtpPacket::parse(&p[..11]),
            Err(RtpError::Truncated {
                what: "fixed header",
                needed: 12,
                len: 11
            })
        ));
        let mut csrc = p.clone();
        csrc[0] |= 1;
        assert!(matches!(
            RtpPacket::parse(&csrc),
            Err(RtpError::Truncated {
                what: "CSRC list",
                needed: 16,
                ..
            })
        ));
        let mut ext = p.clone();
        ext[0] |= 0x10;
        ext.extend_from_slice(&[0, 0, 0, 2]);
        assert!(matches!(
            RtpPacket::parse(&ext),
            Err(RtpError::Truncated {
                what: "header extension",
                needed: 24,
                ..
            })
        ));
        let mut pad = p.clone();
        pad[0] |= 0x20;
        pad.push(0);
        assert!(matches!(
            RtpPacket::parse(&pad),
            Err(RtpError::Truncated {
                what: "padding",
                ..
            })
        ));
        let mut v1 = p;
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::Version { version: 1 }));
    }

    #[test]
    fn rtcp_is_told_apart() {
        // A receiver report (RFC 3550 clause 6.4.2): type 201.
        assert!(is_rtcp(&[0x80, 201, 0, 1]));
        let mut p = Vec::new();
        header().write(&mut p);
        assert!(!is_rtcp(&p));
        assert!(!is_rtcp(&[0x80]));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = RtpPacket::parse(&bytes) {
                prop_assert!(p.payload.len() + FIXED_HEADER_LEN <= bytes.len());
            }
        }

        #[test]
        fn written_headers_read_back(marker: bool, pt in 0u8..128, sequence: u16, timestamp: u32, ssrc: u32) {
            let h = RtpHeader { marker, payload_type: pt, sequence, timestamp, ssrc };
            let mut p = Vec::new();
            h.write(&mut p);
            p.push(1);
            let read = RtpPacket::parse(&p).unwrap();
            prop_assert_eq!(read.header, h);
            prop_assert_eq!(read.payload, &[1u8][..]);
        }
    }
}
