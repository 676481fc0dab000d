//! The audio a synthetic call carries: a tone per direction, computed in integers so that a
//! test (or the agency side's WAV check) recomputes the exact linear PCM samples, on any
//! machine, and the G.711 codes they were sent as.
//!
//! The sine is Bhaskara I's rational approximation (within 0.2 % of full scale of the true
//! sine), evaluated in `i64`: floating-point `sin` may differ in its last bit between C
//! libraries, and the samples must be the same everywhere.

use li_core::media::g711::Law;

/// G.711's sampling rate, and the RTP clock rate of payload types 0 and 8 (RFC 3551).
pub const SAMPLE_RATE: u32 = 8_000;

/// Samples in one 20 ms G.711 packet (the RTP timestamp advances by this much per packet).
pub const SAMPLES_PER_PACKET: usize = 160;

/// A steady tone: the signal one direction of a call carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tone {
    /// Frequency in hertz (below the Nyquist frequency, 4,000 Hz, to be a tone at all).
    pub frequency_hz: u32,
    /// Peak amplitude in linear 16-bit PCM.
    pub amplitude: i16,
}

impl Tone {
    /// The caller's tone in the scenarios: 440 Hz at about -12 dBFS.
    pub const CALLER: Self = Self {
        frequency_hz: 440,
        amplitude: 8_000,
    };
    /// The callee's tone in the scenarios: 1,000 Hz at about -18 dBFS.
    pub const CALLEE: Self = Self {
        frequency_hz: 1_000,
        amplitude: 4_000,
    };

    /// The linear PCM sample number `n` (from 0, at [`SAMPLE_RATE`]).
    ///
    /// ```
    /// use li_capture::synth::voice::audio::Tone;
    ///
    /// let tone = Tone { frequency_hz: 1_000, amplitude: 10_000 };
    /// // 8 samples per period: 0, peak at a quarter period, 0, minus the peak.
    /// assert_eq!(tone.sample(0), 0);
    /// assert_eq!(tone.sample(2), 10_000);
    /// assert_eq!(tone.sample(4), 0);
    /// assert_eq!(tone.sample(6), -10_000);
    /// ```
    pub fn sample(self, n: u64) -> i16 {
        const HALF: i64 = SAMPLE_RATE as i64 / 2;
        // The phase in 1/8000ths of a period.
        let phase =
            ((u128::from(n) * u128::from(self.frequency_hz)) % u128::from(SAMPLE_RATE)) as i64;
        let (q, sign) = if phase < HALF {
            (phase, 1)
        } else {
            (phase - HALF, -1)
        };
        // sin(pi q / H) ~ 16 q (H - q) / (5 H^2 - 4 q (H - q)).
        let p = q * (HALF - q);
        let value = 16 * p * i64::from(self.amplitude) / (5 * HALF * HALF - 4 * p);
        (sign * value) as i16
    }

    /// `count` samples from sample number `start`.
    pub fn samples(self, start: u64, count: usize) -> Vec<i16> {
        (start..start + count as u64)
            .map(|n| self.sample(n))
            .collect()
    }

    /// The G.711 codes of [`Tone::samples`]: what an RTP payload carries.
    pub fn encoded(self, law: Law, start: u64, count: usize) -> Vec<u8> {
        (start..start + count as u64)
            .map(|n| law.encode(self.sample(n)))
            .collect()
    }

    /// What a receiver decodes from [`Tone::encoded`]: the samples after companding,
    /// `decode(encode(x))`.
    pub fn companded(self, law: Law, start: u64, count: usize) -> Vec<i16> {
        (start..start + count as u64)
            .map(|n| law.decode(law.encode(self.sample(n))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_is_close_to_a_sine() {
        let tone = Tone {
            frequency_hz: 440,
            amplitude: 8_000,
        };
        for n in 0..8_000u64 {
            let exact = 8_000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8_000.0).sin();
            let got = f64::from(tone.sample(n));
            assert!(
                (got - exact).abs() < 8_000.0 * 0.002 + 1.0,
                "sample {n}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn tone_is_periodic_and_bounded() {
        let tone = Tone::CALLEE;
        let period = u64::from(SAMPLE_RATE / tone.frequency_hz);
        for n in 0..1_000 {
            assert_eq!(tone.sample(n), tone.sample(n + period));
            assert!(tone.sample(n).unsigned_abs() <= tone.amplitude.unsigned_abs());
        }
        assert_eq!(
            tone.samples(5, 3),
            [tone.sample(5), tone.sample(6), tone.sample(7)]
        );
    }

    #[test]
    fn encoded_decodes_to_companded() {
        for law in [Law::Ulaw, Law::Alaw] {
            let codes = Tone::CALLER.encoded(law, 1_000, 160);
            let decoded: Vec<i16> = codes.iter().map(|&c| law.decode(c)).collect();
            assert_eq!(decoded, Tone::CALLER.companded(law, 1_000, 160));
            assert_ne!(decoded, vec![0; 160]);
        }
    }
}
