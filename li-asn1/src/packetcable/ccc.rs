//! Call content (CCC) framing of PacketCable electronic surveillance: each intercepted IP
//! datagram travels in one UDP datagram to the agency, behind a short binary header.
//!
//! | form | header (big-endian) | source |
//! |---|---|---|
//! | [`CccForm::Id`] | CCC identifier, 4 octets | PKT-SP-ESP-I01 section 4 (Wireshark `pcli`) |
//! | [`CccForm::IdTimestamp`] | CCC identifier, 4 octets; NTP timestamp, 8 octets | PKT-SP-ESP1.5 section 5 (Wireshark `pcli12`) |
//!
//! followed by the intercepted IP datagram as captured. The CCC identifier ties the stream
//! to the call data: `CCOpen`/`CCChange`/`CCClose` carry it as 8 hexadecimal characters
//! ([`super::CccId::comb`]). Nothing in the datagram says which form it has: sender and
//! receiver agree on it per destination.
//!
//! [`CccEncoder`] is the hot path: the identifier is encoded once per stream; per packet it
//! writes the header (patching the timestamp) and copies the packet into the caller's
//! buffer, with no allocation. [`decode`] returns the header fields and the payload as a
//! slice of the input.
//!
//! ```
//! use li_asn1::packetcable::ccc::{CccEncoder, CccForm, NtpTimestamp, decode};
//! use li_core::Timestamp;
//!
//! let encoder = CccEncoder::new(0x0102_00ab, CccForm::IdTimestamp);
//! let time = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
//! let packet = [0x45, 0, 0, 20];
//! let mut buf = [0u8; 1500];
//! let n = encoder.encode(time, &packet, &mut buf)?;
//! let d = decode(buf.get(..n).ok_or("len")?, CccForm::IdTimestamp)?;
//! assert_eq!(d.ccc_id, 0x0102_00ab);
//! assert_eq!(d.timestamp.and_then(|t| t.to_timestamp()), Some(time));
//! assert_eq!(d.payload, packet);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use li_core::Timestamp;

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Which header the datagrams of a destination carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CccForm {
    /// The 4-octet CCC identifier alone (PKT-SP-ESP-I01).
    Id,
    /// The CCC identifier and an 8-octet NTP timestamp (PKT-SP-ESP1.5).
    IdTimestamp,
}

impl CccForm {
    /// The header's length in octets: 4 or 12.
    pub const fn header_len(self) -> usize {
        match self {
            Self::Id => 4,
            Self::IdTimestamp => 12,
        }
    }
}

/// Why a CCC datagram could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CccError {
    /// The datagram ends inside the header field `field`, which ends at octet `needed`.
    #[error("CCC datagram of {len} octet(s) too short for its {field} (needs {needed})")]
    Truncated {
        /// The header field that does not fit (`CCC identifier`, `NTP timestamp`).
        field: &'static str,
        /// The datagram's length.
        len: usize,
        /// The length the header field needs.
        needed: usize,
    },
    /// The caller's buffer cannot hold the datagram.
    #[error("buffer of {capacity} octet(s) too small for a CCC datagram of {needed}")]
    BufferTooSmall {
        /// The datagram's length.
        needed: usize,
        /// The buffer's length.
        capacity: usize,
    },
}

/// An NTP timestamp (RFC 5905): seconds since 1900-01-01 UTC and a binary fraction of a
/// second, each 32 bits. The seconds wrap every 136 years: RFC 4330 section 3's rule reads a
/// value with the top bit clear as era 1 (from 2036-02-07).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NtpTimestamp {
    /// Seconds since the era's start.
    pub seconds: u32,
    /// Fraction of a second, in units of 2^-32 s.
    pub fraction: u32,
}

impl NtpTimestamp {
    /// The NTP form of `time`, the fraction rounded to the nearest 2^-32 s.
    pub fn from_timestamp(time: Timestamp) -> Self {
        let seconds = (time.unix_secs() + NTP_UNIX_OFFSET) as u32; // modulo the era
        let micros = u64::from(time.subsec_micros());
        let fraction = (((micros << 32) + 500_000) / 1_000_000).min(u64::from(u32::MAX)) as u32;
        Self { seconds, fraction }
    }

    /// The instant, rounded to the microsecond (years 1968 to 2104), or `None` when it falls
    /// before the Unix epoch.
    pub fn to_timestamp(self) -> Option<Timestamp> {
        let era = if self.seconds & 0x8000_0000 == 0 {
            1u64 << 32
        } else {
            0
        };
        let unix = (u64::from(self.seconds) + era).checked_sub(NTP_UNIX_OFFSET)?;
        let micros = ((u64::from(self.fraction) * 1_000_000 + (1 << 31)) >> 32).min(999_999);
        Timestamp::from_secs_micros(unix, micros as u32).ok()
    }

    /// The 8 octets on the wire.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        let (s, f) = out.split_at_mut(4);
        s.copy_from_slice(&self.seconds.to_be_bytes());
        f.copy_from_slice(&self.fraction.to_be_bytes());
        out
    }

    /// From the 8 octets on the wire.
    pub fn from_bytes(octets: [u8; 8]) -> Self {
        let [a, b, c, d, e, f, g, h] = octets;
        Self {
            seconds: u32::from_be_bytes([a, b, c, d]),
            fraction: u32::from_be_bytes([e, f, g, h]),
        }
    }
}

/// Encodes the CCC datagrams of one stream (one CCC identifier).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CccEncoder {
    header: [u8; 12],
    form: CccForm,
}

impl CccEncoder {
    /// Pre-encodes the header of the stream `ccc_id` in `form`.
    pub fn new(ccc_id: u32, form: CccForm) -> Self {
        let mut header = [0u8; 12];
        if let Some(id) = header.get_mut(..4) {
            id.copy_from_slice(&ccc_id.to_be_bytes());
        }
        Self { header, form }
    }

    /// The stream's CCC identifier.
    pub fn ccc_id(&self) -> u32 {
        let [a, b, c, d, ..] = self.header;
        u32::from_be_bytes([a, b, c, d])
    }

    /// The form.
    pub fn form(&self) -> CccForm {
        self.form
    }

    /// The datagram's length for a packet of `packet_len` octets.
    pub fn datagram_len(&self, packet_len: usize) -> usize {
        self.form.header_len() + packet_len
    }

    /// Writes the datagram carrying `packet`, captured at `time` (used by
    /// [`CccForm::IdTimestamp`]), at the start of `out` and returns its length.
    pub fn encode(
        &self,
        time: Timestamp,
        packet: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CccError> {
        let header_len = self.form.header_len();
        let needed = header_len + packet.len();
        let capacity = out.len();
        let (head, rest) = out
            .split_at_mut_checked(header_len)
            .ok_or(CccError::BufferTooSmall { needed, capacity })?;
        let body = rest
            .get_mut(..packet.len())
            .ok_or(CccError::BufferTooSmall { needed, capacity })?;
        self.write_header(time, head);
        body.copy_from_slice(packet);
        Ok(needed)
    }

    /// Appends the datagram carrying `packet` to `out` (reserving once).
    pub fn encode_into(&self, time: Timestamp, packet: &[u8], out: &mut Vec<u8>) {
        let header_len = self.form.header_len();
        out.reserve(header_len + packet.len());
        let mut head = [0u8; 12];
        if let Some(h) = head.get_mut(..header_len) {
            self.write_header(time, h);
        }
        out.extend_from_slice(head.get(..header_len).unwrap_or(&[]));
        out.extend_from_slice(packet);
    }

    /// Writes the header into `head`, exactly `form.header_len()` octets.
    fn write_header(&self, time: Timestamp, head: &mut [u8]) {
        match self.form {
            CccForm::Id => head.copy_from_slice(self.header.get(..4).unwrap_or(&[0; 4])),
            CccForm::IdTimestamp => {
                let mut header = self.header;
                if let Some(t) = header.get_mut(4..) {
                    t.copy_from_slice(&NtpTimestamp::from_timestamp(time).to_bytes());
                }
                head.copy_from_slice(&header);
            }
        }
    }
}

/// A decoded CCC datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CccDatagram<'a> {
    /// The CCC identifier.
    pub ccc_id: u32,
    /// The NTP timestamp ([`CccForm::IdTimestamp`] only).
    pub timestamp: Option<NtpTimestamp>,
    /// The intercepted IP datagram (possibly empty: the framing does not look into it).
    pub payload: &'a [u8],
}

/// Splits a CCC datagram of `form` into its header fields and payload.
pub fn decode(datagram: &[u8], form: CccForm) -> Result<CccDatagram<'_>, CccError> {
    let len = datagram.len();
    let (id, rest) = datagram
        .split_first_chunk::<4>()
        .ok_or(CccError::Truncated {
            field: "CCC identifier",
            len,
            needed: 4,
        })?;
    let ccc_id = u32::from_be_bytes(*id);
    match form {
        CccForm::Id => Ok(CccDatagram {
            ccc_id,
            timestamp: None,
            payload: rest,
        }),
        CccForm::IdTimestamp => {
            let (ntp, payload) = rest.split_first_chunk::<8>().ok_or(CccError::Truncated {
                field: "NTP timestamp",
                len,
                needed: 12,
            })?;
            Ok(CccDatagram {
                ccc_id,
                timestamp: Some(NtpTimestamp::from_bytes(*ntp)),
                payload,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_of_known_instants() {
        // 1970-01-01: NTP seconds 2208988800 (0x83AA7E80), fraction 0.
        let t = NtpTimestamp::from_timestamp(Timestamp::from_unix_micros(0).unwrap());
        assert_eq!((t.seconds, t.fraction), (0x83aa_7e80, 0));
        // half a second is 2^31.
        let t = NtpTimestamp::from_timestamp(Timestamp::from_secs_micros(0, 500_000).unwrap());
        assert_eq!(t.fraction, 0x8000_0000);
        // 2036-02-07T06:28:16Z is era 1 second 0.
        let era1 = Timestamp::from_secs_micros(2_085_978_496, 0).unwrap();
        let t = NtpTimestamp::from_timestamp(era1);
        assert_eq!(t.seconds, 0);
        assert_eq!(t.to_timestamp(), Some(era1));
    }

    #[test]
    fn ntp_round_trips_every_microsecond_step() {
        for micros in (0..1_000_000).step_by(997).chain([999_999]) {
            let t = Timestamp::from_secs_micros(1_704_164_645, micros).unwrap();
            assert_eq!(NtpTimestamp::from_timestamp(t).to_timestamp(), Some(t));
        }
    }

    #[test]
    fn small_buffer_is_an_error() {
        let e = CccEncoder::new(1, CccForm::IdTimestamp);
        let now = Timestamp::from_unix_micros(0).unwrap();
        let mut buf = [0u8; 13];
        assert_eq!(
            e.encode(now, &[1, 2], &mut buf),
            Err(CccError::BufferTooSmall {
                needed: 14,
                capacity: 13
            })
        );
        assert_eq!(e.encode(now, &[1], &mut buf), Ok(13));
    }
}
