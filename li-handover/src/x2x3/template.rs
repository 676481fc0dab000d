//! The pre-encoded X3 header both hot-path encoders share: [`X3IpPacketEncoder`] (one
//! intercepted IP packet) and [`X3MediaEncoder`] (one RTP or RTCP packet of a call).
//!
//! Both put Sequence Number then Timestamp first among their attributes, so the fields that
//! change from one PDU to the next sit at the same offsets in both: the Payload Length of the
//! fixed header (TS 103 221-2 clause 5.2), and the values of those two attributes. One place
//! writes them, checks the lengths and the room left in the buffer and copies the payload
//! once, so that the two encoders cannot drift apart in how they do it.
//!
//! [`X3IpPacketEncoder`]: super::X3IpPacketEncoder
//! [`X3MediaEncoder`]: super::X3MediaEncoder

use bytes::BufMut;

use super::attribute::PduTimestamp;
use super::error::{Error, Result};
use super::{FIXED_HEADER_LEN, PayloadDirection, PayloadFormat};

// Offsets in the fixed header (clause 5.2), then in the first two attributes (each after
// its 4 octets of type and length).
const VERSION_AT: usize = 0;
const HEADER_LENGTH_AT: usize = 4;
const PAYLOAD_LENGTH_AT: usize = 8;
const PAYLOAD_FORMAT_AT: usize = 12;
const PAYLOAD_DIRECTION_AT: usize = 14;
const SEQUENCE_NUMBER_AT: usize = FIXED_HEADER_LEN + 4;
const TIMESTAMP_AT: usize = FIXED_HEADER_LEN + 8 + 4;

/// An X3 PDU header of at most `N` octets, encoded once, whose Sequence Number and Timestamp
/// attributes come first. Per PDU a copy of it on the stack is patched and written out with
/// the payload; nothing is allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PatchedPdu<const N: usize> {
    header: [u8; N],
    /// The header's length: its first `len` octets are the header, the rest zeros.
    len: usize,
}

/// What one PDU has of its own besides its payload.
#[derive(Clone, Copy, Debug)]
pub(super) struct PerPdu<'a> {
    pub(super) sequence_number: u32,
    pub(super) timestamp: PduTimestamp,
    /// Payload Format and Payload Direction, for PDUs that differ in them (an IP packet's
    /// version, a packet's direction); `None` keeps the template's.
    pub(super) format_direction: Option<(PayloadFormat, PayloadDirection)>,
    /// Encoded attributes written after the template's, before the payload; the Header
    /// Length grows by as many octets. Usually empty.
    pub(super) more_attributes: &'a [u8],
}

impl<const N: usize> PatchedPdu<N> {
    /// The template made of the first `len` octets of `header` (the caller keeps `len` at
    /// most `N`; beyond, it is cut to `N`).
    pub(super) fn new(header: [u8; N], len: usize) -> Self {
        Self {
            header,
            len: len.min(N),
        }
    }

    /// The number of octets before the payload (without [`PerPdu::more_attributes`]).
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends the attribute (`kind`, `value`) to the template, after those it has: every
    /// PDU carries it from now on. `false`, the template unchanged, when it does not fit `N`
    /// or its value is over 65,535 octets.
    pub(super) fn append_attribute(&mut self, kind: u16, value: &[u8]) -> bool {
        let Ok(value_len) = u16::try_from(value.len()) else {
            return false;
        };
        let end = self.len + 4 + value.len();
        let Some(slot) = self.header.get_mut(self.len..end) else {
            return false;
        };
        let (tl, v) = slot.split_at_mut(4);
        let (t, l) = tl.split_at_mut(2);
        t.copy_from_slice(&kind.to_be_bytes());
        l.copy_from_slice(&value_len.to_be_bytes());
        v.copy_from_slice(value);
        self.len = end;
        // At most N octets: the header length fits a u32.
        let len = u32::try_from(end).unwrap_or(u32::MAX);
        patch(&mut self.header, HEADER_LENGTH_AT, &len.to_be_bytes());
        true
    }

    /// Sends `version` in the Version field (clause 5.2.1) of every PDU from now on.
    pub(super) fn set_version(&mut self, version: u16) {
        patch(&mut self.header, VERSION_AT, &version.to_be_bytes());
    }

    /// Appends one PDU to `out`: the template patched with `pdu`'s fields and the payload's
    /// length, `pdu`'s further attributes, then `payload`.
    ///
    /// Fails, writing nothing, with [`Error::LengthOverflow`] for a payload of 4 GiB or more
    /// and [`Error::BufferTooSmall`] when `out` cannot grow to take the PDU.
    pub(super) fn encode<B: BufMut>(
        &self,
        out: &mut B,
        pdu: &PerPdu<'_>,
        payload: &[u8],
    ) -> Result<()> {
        let payload_len = u32::try_from(payload.len()).map_err(|_| Error::LengthOverflow {
            field: "payload",
            len: payload.len(),
        })?;
        let header_len = self.len.saturating_add(pdu.more_attributes.len());
        let needed = header_len.saturating_add(payload.len());
        if out.remaining_mut() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: out.remaining_mut(),
            });
        }
        let mut header = self.header;
        if !pdu.more_attributes.is_empty() {
            let len = u32::try_from(header_len).map_err(|_| Error::LengthOverflow {
                field: "header",
                len: header_len,
            })?;
            patch(&mut header, HEADER_LENGTH_AT, &len.to_be_bytes());
        }
        patch(&mut header, PAYLOAD_LENGTH_AT, &payload_len.to_be_bytes());
        if let Some((format, direction)) = pdu.format_direction {
            let format = u16::from(format).to_be_bytes();
            patch(&mut header, PAYLOAD_FORMAT_AT, &format);
            let direction = u16::from(direction).to_be_bytes();
            patch(&mut header, PAYLOAD_DIRECTION_AT, &direction);
        }
        let sequence_number = pdu.sequence_number.to_be_bytes();
        patch(&mut header, SEQUENCE_NUMBER_AT, &sequence_number);
        patch(&mut header, TIMESTAMP_AT, &pdu.timestamp.secs.to_be_bytes());
        let nanos = pdu.timestamp.nanos.to_be_bytes();
        patch(&mut header, TIMESTAMP_AT + 4, &nanos);
        out.put_slice(header.get(..self.len).unwrap_or_default());
        out.put_slice(pdu.more_attributes);
        out.put_slice(payload);
        Ok(())
    }
}

/// Overwrites `bytes.len()` octets of `header` at `at`. Every call site is in bounds: the
/// offsets lie in the fixed header and the first two attributes, which every template has
/// (the encoders' constructors see to it).
fn patch<const N: usize>(header: &mut [u8; N], at: usize, bytes: &[u8]) {
    if let Some(dst) = header.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 60-octet template of recognisable filler: each patch must land where the
    /// fixed-header layout of clause 5.2 says, and nowhere else.
    fn filler() -> PatchedPdu<64> {
        let mut header = [0xee; 64];
        for (i, b) in header.iter_mut().enumerate().take(60) {
            *b = i as u8;
        }
        PatchedPdu::new(header, 60)
    }

    #[test]
    fn patches_only_the_per_pdu_fields() {
        let mut template = filler();
        template.set_version(0x0a0b);
        let pdu = PerPdu {
            sequence_number: 0x1122_3344,
            timestamp: PduTimestamp::new(0x5566_7788, 0x99aa_bbcc),
            format_direction: Some((PayloadFormat::Ipv6Packet, PayloadDirection::ToTarget)),
            more_attributes: &[0xf0, 0xf1, 0xf2],
        };
        let mut out = Vec::new();
        template.encode(&mut out, &pdu, &[0xd0, 0xd1]).unwrap();

        let mut expected: Vec<u8> = (0..60).collect();
        expected.splice(0..2, [0x0a, 0x0b]);
        expected.splice(4..8, 63u32.to_be_bytes()); // 60 + 3 more attribute octets
        expected.splice(8..12, 2u32.to_be_bytes());
        expected.splice(12..14, u16::from(PayloadFormat::Ipv6Packet).to_be_bytes());
        expected.splice(14..16, u16::from(PayloadDirection::ToTarget).to_be_bytes());
        expected.splice(44..48, [0x11, 0x22, 0x33, 0x44]);
        expected.splice(52..60, [0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc]);
        expected.extend([0xf0, 0xf1, 0xf2, 0xd0, 0xd1]);
        assert_eq!(out, expected);
    }

    #[test]
    fn without_more_attributes_or_format_the_template_keeps_them() {
        let template = filler();
        let pdu = PerPdu {
            sequence_number: 1,
            timestamp: PduTimestamp::new(2, 3),
            format_direction: None,
            more_attributes: &[],
        };
        let mut out = Vec::new();
        template.encode(&mut out, &pdu, &[]).unwrap();
        assert_eq!(out.len(), template.len());
        assert_eq!(out.get(4..8), Some(&[4, 5, 6, 7][..]));
        assert_eq!(out.get(12..16), Some(&[12, 13, 14, 15][..]));
        assert_eq!(out.get(8..12), Some(&[0, 0, 0, 0][..]));
    }

    #[test]
    fn a_buffer_too_small_gets_nothing() {
        let template = filler();
        let pdu = PerPdu {
            sequence_number: 0,
            timestamp: PduTimestamp::default(),
            format_direction: None,
            more_attributes: &[1, 2],
        };
        let mut buf = [0u8; 64];
        let mut out = &mut buf[..];
        assert_eq!(
            template.encode(&mut out, &pdu, &[9, 9, 9]),
            Err(Error::BufferTooSmall {
                needed: 65,
                available: 64
            })
        );
        assert_eq!(buf, [0; 64]);
    }
}
