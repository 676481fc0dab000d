//! ITU-T G.711 companding: 16-bit linear PCM to and from 8-bit mu-law (RTP payload type 0,
//! PCMU) and A-law (payload type 8, PCMA), RFC 3551 clause 4.5.14.
//!
//! The encoders follow G.711's segment tables: mu-law adds the bias 0x84 to the 14-bit
//! magnitude and codes the segment (exponent) and 4 mantissa bits, inverted on the wire;
//! A-law codes the 13-bit magnitude, even bits inverted (XOR 0x55). The decoders return the
//! middle of each quantisation interval, so `encode(decode(code)) == code` for every code
//! (mu-law's negative zero, 0x7F, excepted: it decodes to 0, which encodes as 0xFF).
//!
//! ```
//! use li_core::media::g711;
//!
//! let samples = [0i16, 1000, -1000, 32767, -32768];
//! let coded: Vec<u8> = samples.iter().map(|&s| g711::ulaw_encode(s)).collect();
//! assert_eq!(coded[0], 0xFF); // silence
//! for (&s, &c) in samples.iter().zip(&coded) {
//!     // Within one quantisation step of the original.
//!     assert!((i32::from(g711::ulaw_decode(c)) - i32::from(s)).abs() <= 1024);
//! }
//! assert_eq!(g711::alaw_encode(0), 0xD5);
//! ```

/// Largest magnitude mu-law codes before the bias is added (G.711 clips above it).
const ULAW_CLIP: i32 = 32_635;
/// The bias mu-law adds so that every segment's first step has the same width.
const ULAW_BIAS: i32 = 0x84;

/// Encodes one linear sample as mu-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample);
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    let biased = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // biased >> 7 is 1..=255: the segment is the position of its highest set bit.
    let segment = 31 - ((biased >> 7) as u32).leading_zeros();
    let mantissa = (biased >> (segment + 3)) & 0x0F;
    !(sign | ((segment as i32) << 4) | mantissa) as u8
}

/// Decodes one mu-law code to a linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    let code = !code;
    let segment = (code >> 4) & 0x07;
    let mantissa = i32::from(code & 0x0F);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
    // At most (0x78 + 0x84) << 7 - 0x84 = 32,124: always fits.
    let magnitude = magnitude as i16;
    if code & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Upper ends of A-law's eight segments, on the 13-bit magnitude.
const ALAW_SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// Encodes one linear sample as A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut magnitude = i32::from(sample) >> 3;
    let mask = if magnitude >= 0 {
        0xD5
    } else {
        magnitude = -magnitude - 1;
        0x55
    };
    let Some(segment) = ALAW_SEGMENT_ENDS.iter().position(|&end| magnitude <= end) else {
        return 0x7F ^ mask;
    };
    let shift = if segment < 2 { 1 } else { segment };
    let code = ((segment as i32) << 4) | ((magnitude >> shift) & 0x0F);
    (code as u8) ^ mask
}

/// Decodes one A-law code to a linear sample.
pub fn alaw_decode(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = (code >> 4) & 0x07;
    let mut magnitude = i32::from(code & 0x0F) << 4;
    match segment {
        0 => magnitude += 8,
        1 => magnitude += 0x108,
        _ => magnitude = (magnitude + 0x108) << (segment - 1),
    }
    // At most (0xF0 + 0x108) << 6 = 32,256: always fits.
    let magnitude = magnitude as i16;
    if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// The G.711 law of an RTP payload type with a static assignment (RFC 3551 table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Law {
    /// Mu-law, payload type 0 (PCMU).
    Ulaw,
    /// A-law, payload type 8 (PCMA).
    Alaw,
}

impl Law {
    /// The law of static payload type `payload_type`, `None` for any other codec.
    pub fn of_payload_type(payload_type: u8) -> Option<Self> {
        match payload_type {
            0 => Some(Self::Ulaw),
            8 => Some(Self::Alaw),
            _ => None,
        }
    }

    /// The static RTP payload type of this law.
    pub fn payload_type(self) -> u8 {
        match self {
            Self::Ulaw => 0,
            Self::Alaw => 8,
        }
    }

    /// Encodes one sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Self::Ulaw => ulaw_encode(sample),
            Self::Alaw => alaw_encode(sample),
        }
    }

    /// Decodes one code.
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Self::Ulaw => ulaw_decode(code),
            Self::Alaw => alaw_decode(code),
        }
    }

    /// The code of silence (a zero sample).
    pub fn silence(self) -> u8 {
        self.encode(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_code_survives_decode_then_encode() {
        for code in 0..=255u8 {
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(
                ulaw_encode(ulaw_decode(code)),
                expected,
                "mu-law {code:#04x}"
            );
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn values_from_the_g711_tables() {
        // Zero, the largest magnitudes, and the first steps of each law (G.711 tables 1a/2a).
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x80), 32_124);
        assert_eq!(ulaw_decode(0x00), -32_124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32_256);
        assert_eq!(alaw_decode(0x2A), -32_256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn laws_by_payload_type() {
        assert_eq!(Law::of_payload_type(0), Some(Law::Ulaw));
        assert_eq!(Law::of_payload_type(8), Some(Law::Alaw));
        assert_eq!(Law::of_payload_type(18), None);
        assert_eq!(Law::Alaw.payload_type(), 8);
        assert_eq!(Law::Ulaw.silence(), 0xFF);
        assert_eq!(Law::Alaw.silence(), 0xD5);
    }

    proptest! {
        /// The error is at most half of the quantisation step of the sample's segment: the
        /// step doubles with each segment, so it stays under a sixteenth of the magnitude
        /// (plus the first segments' fixed steps and the clipping of the largest values).
        #[test]
        fn quantisation_error_is_bounded(sample in any::<i16>()) {
            let s = i32::from(sample);
            let bound = s.abs() / 16 + 16;
            let u = i32::from(ulaw_decode(ulaw_encode(sample)));
            prop_assert!((u - s).abs() <= bound, "mu-law {s} -> {u}");
            let a = i32::from(alaw_decode(alaw_encode(sample)));
            prop_assert!((a - s).abs() <= bound, "A-law {s} -> {a}");
            // A sample never decodes with the opposite sign.
            prop_assert!(s.signum() * u.signum() >= 0 && s.signum() * a.signum() >= 0);
        }
    }
}
