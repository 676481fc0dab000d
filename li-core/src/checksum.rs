//! The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum
//! of the data taken as big-endian 16-bit words, as IPv4 headers, ICMP, UDP and TCP carry it.
//!
//! The suite builds IP packets in several places (the probe's synthetic traffic, the agency
//! receiver's `media.pcap`, the conformance harness's captures); they all sum here, so that
//! a packet one of them writes verifies wherever it is read.
//!
//! A checksum covering a pseudo-header (UDP, TCP, ICMPv6) is the sum of the pseudo-header
//! carried into the sum of the segment:
//!
//! ```
//! use li_core::checksum::{internet_checksum, ones_complement_sum};
//!
//! // An IPv4 header (checksum field zero) ...
//! let mut header = [
//!     0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
//!     0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
//! ];
//! let sum = internet_checksum(0, &header);
//! assert_eq!(sum, 0xb861);
//! // ... verifies to zero once the checksum is in.
//! header[10..12].copy_from_slice(&sum.to_be_bytes());
//! assert_eq!(internet_checksum(0, &header), 0);
//!
//! // Pieces summed one after the other equal the whole (each piece but the last even).
//! let pseudo = ones_complement_sum(0, &header[..12]);
//! assert_eq!(internet_checksum(pseudo, &header[12..]), 0);
//! ```

/// Adds `data`, read as big-endian 16-bit words (an odd last octet padded with a zero
/// octet), to the ones' complement sum `initial`, and folds the carries back in (RFC 1071
/// section 1, steps 2 and 3 without the final complement). The result is at most `0xffff`.
///
/// `initial` is 0 to start, or the sum of what precedes `data` (a pseudo-header, an earlier
/// piece of even length); it may be any `u32` (a sum of several unfolded words).
pub fn ones_complement_sum(initial: u32, data: &[u8]) -> u32 {
    // Wide enough for any slice: at most 2^63 octets of words each below 2^16.
    let mut acc = u64::from(initial);
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        if let [high, low] = word {
            acc += u64::from(u16::from_be_bytes([*high, *low]));
        }
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    fold(acc)
}

/// The Internet checksum of `data` after `initial`, the ones' complement sum of what
/// precedes it ([`ones_complement_sum`] of a pseudo-header; 0 for an IPv4 header or ICMP):
/// the complement of their sum. Over data that holds its correct checksum the result is 0.
pub fn internet_checksum(initial: u32, data: &[u8]) -> u16 {
    let sum = ones_complement_sum(initial, data);
    // Folded: at most 0xffff.
    !u16::try_from(sum).unwrap_or(u16::MAX)
}

/// Adds the carries above 16 bits back in until none is left.
fn fold(mut acc: u64) -> u32 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // At most 0xffff.
    u32::try_from(acc).unwrap_or(0xffff)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 1071 section 3 works its example by hand: the octets 00 01 f2 03 f4 f5 f6 f7 sum
    /// to 2ddf0 in two's complement, to ddf2 once the carry is folded in; the checksum is
    /// the complement, 220d.
    #[test]
    fn the_example_of_rfc_1071() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_complement_sum(0, &data), 0xddf2);
        assert_eq!(internet_checksum(0, &data), 0x220d);
        // Byte order independence (section 2 (B)): the octets swapped in each word give
        // the swapped sum.
        let swapped = [0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6];
        assert_eq!(ones_complement_sum(0, &swapped), 0xf2dd);
    }

    #[test]
    fn an_odd_last_octet_is_padded_with_zero() {
        assert_eq!(ones_complement_sum(0, &[0xab]), 0xab00);
        assert_eq!(ones_complement_sum(0, &[0x12, 0x34, 0xab]), 0xbd34);
        assert_eq!(internet_checksum(0, &[]), 0xffff);
    }

    #[test]
    fn an_initial_sum_is_carried_in_and_folded() {
        assert_eq!(ones_complement_sum(0xffff, &[0x00, 0x01]), 0x0001);
        assert_eq!(ones_complement_sum(u32::MAX, &[]), 0xffff);
        assert_eq!(ones_complement_sum(0x1_0000, &[]), 0x0001);
    }

    #[test]
    fn a_sum_over_more_words_than_fit_32_bits_folds() {
        // 2^17 words of 0xffff: two's complement sum above u32::MAX.
        let data = vec![0xff; 1 << 18];
        assert_eq!(ones_complement_sum(0, &data), 0xffff);
        assert_eq!(internet_checksum(0, &data), 0);
    }

    proptest! {
        #[test]
        fn data_with_its_checksum_in_verifies_to_zero(
            mut data in proptest::collection::vec(any::<u8>(), 2..200),
            split in any::<prop::sample::Index>(),
        ) {
            data[0] = 0;
            data[1] = 0;
            let sum = internet_checksum(0, &data);
            data[..2].copy_from_slice(&sum.to_be_bytes());
            prop_assert_eq!(internet_checksum(0, &data), 0);
            // In two pieces, the first of even length, the same.
            let at = split.index(data.len() / 2 + 1) * 2;
            let (head, tail) = data.split_at(at.min(data.len()));
            prop_assert_eq!(internet_checksum(ones_complement_sum(0, head), tail), 0);
        }
    }
}
