//! The crate's one fast hasher for its hot-path tables: the classifier's address tables,
//! the call tracker's call and flow tables, the SIP target table.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast, non-cryptographic hasher: multiply-rotate per word (as FxHash), then a final
/// avalanche (from splitmix64).
///
/// The finaliser matters: a multiply by an odd constant keeps the input's trailing zero
/// bits, and the table picks buckets from the hash's low and high bits, so keys that differ
/// only in their high bits (masked IPv6 prefixes, say) would all land in one group.
///
/// Every table using it has its layout fixed by the operator (targets) or by intercepted
/// calls; lookup keys come from the network, but a peer choosing them cannot create
/// collisions in the table.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHasher(u64);

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A `HashMap` for keys a peer writes itself (a Call-ID, an SDP origin): foldhash with a
/// random seed per table, cheaper than the standard SipHash, and unlike [`FastMap`] not
/// predictable from outside.
pub(crate) type KeyedMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A word per eight octets, read as one load; the last one to seven octets gathered in
    /// a register (a copy into a zeroed buffer, read back as a word, would stall the load
    /// on the copy's narrow stores).
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            self.write_u64(<[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let word = rest
                .iter()
                .rev()
                .fold(0u64, |word, &b| (word << 8) | u64::from(b));
            self.write_u64(word);
        }
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    #[inline]
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    /// Masked IPv6 /48 prefixes (everything below bit 80 zero) spread over the buckets: the
    /// low 7 bits (hashbrown's tag) and the low bits picking the group both vary.
    /// `write` hashes as if every eight octets, the last zero-padded, were one
    /// little-endian `write_u64`.
    #[test]
    fn octets_hash_as_padded_words() {
        let data: Vec<u8> = (0..40u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(1))
            .collect();
        for len in 0..=data.len() {
            let bytes = &data[..len];
            let mut h = FastHasher::default();
            h.write(bytes);
            let mut reference = FastHasher::default();
            for chunk in bytes.chunks(8) {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                reference.write_u64(u64::from_le_bytes(word));
            }
            assert_eq!(h.finish(), reference.finish(), "{len} octets");
        }
    }

    #[test]
    fn masked_prefixes_spread() {
        let build = BuildHasherDefault::<FastHasher>::default();
        let hashes: Vec<u64> = (0u128..256)
            .map(|i| build.hash_one((0x2001_0db8_u128 << 96) | (i << 80)))
            .collect();
        let low: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 0xff).collect();
        let top: std::collections::HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(
            low.len() > 128 && top.len() > 64,
            "{} {}",
            low.len(),
            top.len()
        );
    }
}
