//! Bounded parsing of one `TPACKET_V3` block (safe code; the bytes come from
//! [`super::ring::Ring::held_block`]).
//!
//! The kernel writes a block descriptor (`struct tpacket_block_desc`: version, private-area
//! offset, then `struct tpacket_hdr_v1`: status, frame count, offset of the first frame, bytes
//! used, sequence number, first/last timestamps) and a chain of frames, each a
//! `struct tpacket3_hdr` (offset of the next frame, seconds, nanoseconds, captured length,
//! wire length, status, offset of the link-layer header, ...) followed by a `sockaddr_ll`
//! (interface index, packet type) and the frame bytes. Every offset and length read here is
//! checked against the block before use, so a wrong value (a kernel bug, a corrupt mapping)
//! ends the walk of that block with a [`RingFault`] instead of reading out of bounds; the
//! walk also always moves forward and stops after the announced frame count.

use std::ops::Range;

/// The block descriptor's `version`: `TPACKET_V3` (enum value 2).
const TPACKET_V3: u32 = 2;
/// `sizeof(struct tpacket_block_desc)`.
const BLOCK_HEADER_LEN: usize = 48;
/// `TPACKET_ALIGN(sizeof(struct tpacket3_hdr))`, which is `sizeof(struct tpacket3_hdr)`: the
/// frame header's length, where the `sockaddr_ll` starts.
const FRAME_HEADER_LEN: usize = 48;
/// `sizeof(struct sockaddr_ll)`.
const SOCKADDR_LEN: usize = 20;
/// The smallest possible distance between two frames.
const MIN_FRAME_STRIDE: usize = FRAME_HEADER_LEN + SOCKADDR_LEN;

/// Why the walk of a block stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RingFault {
    /// The block descriptor is shorter than its fixed part, or names a version other than
    /// `TPACKET_V3`.
    BadDescriptor,
    /// The bytes-used field runs past the block.
    BlockLength {
        /// The value read.
        blk_len: u32,
    },
    /// A frame header at `offset` does not fit in the used part of the block.
    FrameHeader {
        /// Offset of the frame in the block.
        offset: usize,
    },
    /// The frame data at `offset` (link-layer offset and captured length) runs past the
    /// used part of the block.
    FrameData {
        /// Offset of the frame in the block.
        offset: usize,
    },
    /// The next-frame offset does not move forward inside the block although frames remain.
    NextOffset {
        /// Offset of the frame in the block.
        offset: usize,
    },
}

/// One frame of a block, as positions in the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FrameMeta {
    /// Seconds of the kernel's receive timestamp.
    pub(super) sec: u32,
    /// Nanoseconds of the timestamp.
    pub(super) nsec: u32,
    /// The frame's length on the wire (`tp_len`).
    pub(super) wire_len: u32,
    /// Where the captured bytes are in the block.
    pub(super) data: Range<usize>,
    /// The receiving interface (`sll_ifindex`, an `int`, read as unsigned: interface
    /// indexes are positive).
    pub(super) ifindex: u32,
    /// The packet type (`sll_pkttype`: host, broadcast, ..., outgoing).
    pub(super) pkttype: u8,
}

/// The position of a walk through one block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct FrameCursor {
    /// Offset of the next frame header.
    offset: usize,
    /// Frames not yet returned.
    remaining: u32,
    /// End of the used part of the block.
    limit: usize,
}

impl FrameCursor {
    /// A cursor at nothing (no block held).
    pub(super) const EMPTY: Self = Self {
        offset: 0,
        remaining: 0,
        limit: 0,
    };

    /// Reads the descriptor of `block` and positions a cursor at its first frame.
    pub(super) fn start(block: &[u8]) -> Result<Self, RingFault> {
        if block.len() < BLOCK_HEADER_LEN || read_u32(block, 0) != Some(TPACKET_V3) {
            return Err(RingFault::BadDescriptor);
        }
        let num_pkts = read_u32(block, 12).ok_or(RingFault::BadDescriptor)?;
        let first = read_u32(block, 16).ok_or(RingFault::BadDescriptor)?;
        let blk_len = read_u32(block, 20).ok_or(RingFault::BadDescriptor)?;
        let limit = usize::try_from(blk_len)
            .ok()
            .filter(|&len| len <= block.len())
            .ok_or(RingFault::BlockLength { blk_len })?;
        let offset = usize::try_from(first).map_err(|_| RingFault::FrameHeader { offset: 0 })?;
        if num_pkts > 0 && offset < BLOCK_HEADER_LEN {
            return Err(RingFault::FrameHeader { offset });
        }
        Ok(Self {
            offset,
            remaining: num_pkts,
            limit,
        })
    }

    /// Frames not yet returned.
    pub(super) fn remaining(&self) -> u32 {
        self.remaining
    }

    /// The next frame of `block` (the block the cursor was started on), `None` after the
    /// last. After an error the cursor is exhausted.
    pub(super) fn next_frame(&mut self, block: &[u8]) -> Option<Result<FrameMeta, RingFault>> {
        if self.remaining == 0 {
            return None;
        }
        let result = self.read_frame(block);
        if result.is_err() {
            *self = Self::EMPTY;
        }
        Some(result)
    }

    fn read_frame(&mut self, block: &[u8]) -> Result<FrameMeta, RingFault> {
        let offset = self.offset;
        let header_fault = RingFault::FrameHeader { offset };
        // The used part of the block, then the frame from its header on.
        let used = block.get(..self.limit).ok_or(header_fault)?;
        let frame = used.get(offset..).ok_or(header_fault)?;
        if frame.len() < MIN_FRAME_STRIDE {
            return Err(header_fault);
        }
        let field = |at: usize| read_u32(frame, at).ok_or(header_fault);
        let next_offset = field(0)?;
        let sec = field(4)?;
        let nsec = field(8)?;
        let snaplen = field(12)?;
        let wire_len = field(16)?;
        let mac = read_u16(frame, 24).ok_or(header_fault)?;
        let ifindex = read_u32(frame, FRAME_HEADER_LEN + 4).ok_or(header_fault)?;
        let pkttype = frame
            .get(FRAME_HEADER_LEN + 10)
            .copied()
            .ok_or(header_fault)?;

        let data_fault = RingFault::FrameData { offset };
        let start = usize::from(mac);
        if start < FRAME_HEADER_LEN {
            return Err(data_fault);
        }
        let end = usize::try_from(snaplen)
            .ok()
            .and_then(|len| start.checked_add(len))
            .filter(|&end| end <= frame.len())
            .ok_or(data_fault)?;
        let data = offset.checked_add(start).ok_or(data_fault)?
            ..offset.checked_add(end).ok_or(data_fault)?;

        self.remaining -= 1;
        if self.remaining > 0 {
            let next_fault = RingFault::NextOffset { offset };
            let stride = usize::try_from(next_offset).map_err(|_| next_fault)?;
            if stride < MIN_FRAME_STRIDE {
                return Err(next_fault);
            }
            self.offset = offset.checked_add(stride).ok_or(next_fault)?;
            if self.offset >= self.limit {
                return Err(next_fault);
            }
        }
        Ok(FrameMeta {
            sec,
            nsec,
            wire_len: wire_len.max(snaplen),
            data,
            ifindex,
            pkttype,
        })
    }
}

/// The native-endian `u32` at `at`, if it is inside `bytes`.
fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(raw.try_into().ok()?))
}

/// The native-endian `u16` at `at`, if it is inside `bytes`.
fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let raw = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(raw.try_into().ok()?))
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::*;

    /// Where frame data starts in a frame, as the kernel lays it out for `SOCK_RAW` on
    /// Ethernet: `TPACKET_ALIGN(TPACKET3_HDRLEN + 16) - 14`.
    const MAC: usize = 82;

    /// Writes a block as the kernel would: descriptor, then each frame 8-byte aligned.
    pub(in crate::source::live) fn build_block(
        size: usize,
        frames: &[(&[u8], u32, u8)],
    ) -> Vec<u8> {
        let mut block = vec![0u8; size];
        let put32 =
            |b: &mut [u8], at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        put32(&mut block, 0, TPACKET_V3);
        put32(&mut block, 12, frames.len() as u32);
        put32(&mut block, 16, BLOCK_HEADER_LEN as u32);
        let mut offset = BLOCK_HEADER_LEN;
        for (i, (data, ifindex, pkttype)) in frames.iter().enumerate() {
            let stride = (MAC + data.len()).div_ceil(8) * 8;
            let next = if i + 1 == frames.len() { 0 } else { stride };
            put32(&mut block, offset, next as u32);
            put32(&mut block, offset + 4, 1_700_000_000 + i as u32);
            put32(&mut block, offset + 8, 123_456_789);
            put32(&mut block, offset + 12, data.len() as u32);
            put32(&mut block, offset + 16, data.len() as u32 + 4);
            block[offset + 24..offset + 26].copy_from_slice(&(MAC as u16).to_ne_bytes());
            put32(&mut block, offset + FRAME_HEADER_LEN + 4, *ifindex);
            block[offset + FRAME_HEADER_LEN + 10] = *pkttype;
            block[offset + MAC..offset + MAC + data.len()].copy_from_slice(data);
            offset += stride;
        }
        put32(&mut block, 20, offset as u32);
        block
    }

    fn walk(block: &[u8]) -> (Vec<FrameMeta>, Option<RingFault>) {
        let mut cursor = match FrameCursor::start(block) {
            Ok(c) => c,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut frames = Vec::new();
        while let Some(frame) = cursor.next_frame(block) {
            match frame {
                Ok(f) => frames.push(f),
                Err(e) => return (frames, Some(e)),
            }
        }
        (frames, None)
    }

    #[test]
    fn walks_a_well_formed_block() {
        let block = build_block(4096, &[(b"first frame", 7, 0), (&[0xab; 100], 7, 4)]);
        let (frames, fault) = walk(&block);
        assert_eq!(fault, None);
        assert_eq!(frames.len(), 2);
        assert_eq!(&block[frames[0].data.clone()], b"first frame");
        assert_eq!(frames[0].wire_len, 15);
        assert_eq!(frames[0].sec, 1_700_000_000);
        assert_eq!(frames[0].nsec, 123_456_789);
        assert_eq!(frames[0].ifindex, 7);
        assert_eq!(&block[frames[1].data.clone()], &[0xab; 100]);
        assert_eq!(frames[1].pkttype, 4);
        assert_eq!(frames[1].sec, 1_700_000_001);
    }

    #[test]
    fn empty_block_and_bad_descriptors() {
        let block = build_block(4096, &[]);
        assert_eq!(walk(&block), (Vec::new(), None));
        assert_eq!(walk(&block[..20]).1, Some(RingFault::BadDescriptor));
        let mut v2 = block.clone();
        v2[0] = 1;
        assert_eq!(walk(&v2).1, Some(RingFault::BadDescriptor));
        let mut long = build_block(4096, &[(b"x", 1, 0)]);
        long[20..24].copy_from_slice(&5000u32.to_ne_bytes());
        assert_eq!(
            walk(&long).1,
            Some(RingFault::BlockLength { blk_len: 5000 })
        );
    }

    #[test]
    fn lying_offsets_and_lengths_stop_the_walk() {
        let good = build_block(4096, &[(b"one", 1, 0), (b"two", 1, 0), (b"three", 1, 0)]);
        // Captured length past the used part of the block.
        let mut bad = good.clone();
        bad[48 + 12..48 + 16].copy_from_slice(&4000u32.to_ne_bytes());
        assert_eq!(
            walk(&bad),
            (vec![], Some(RingFault::FrameData { offset: 48 }))
        );
        // Link-layer offset inside the header.
        let mut bad = good.clone();
        bad[48 + 24..48 + 26].copy_from_slice(&8u16.to_ne_bytes());
        assert_eq!(walk(&bad).1, Some(RingFault::FrameData { offset: 48 }));
        // Next offset zero (would loop) while frames remain.
        let mut bad = good.clone();
        bad[48..52].copy_from_slice(&0u32.to_ne_bytes());
        let (frames, fault) = walk(&bad);
        assert_eq!(frames.len(), 0);
        assert_eq!(fault, Some(RingFault::NextOffset { offset: 48 }));
        // Next offset past the end.
        let mut bad = good.clone();
        bad[48..52].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(walk(&bad).1, Some(RingFault::NextOffset { offset: 48 }));
        // More frames announced than written: the walk runs into the unused part.
        let mut bad = good.clone();
        bad[12..16].copy_from_slice(&4u32.to_ne_bytes());
        let (frames, fault) = walk(&bad);
        assert_eq!(frames.len(), 2, "{fault:?}");
        assert!(matches!(fault, Some(RingFault::NextOffset { .. })));
        // First frame offset inside the descriptor.
        let mut bad = good;
        bad[16..20].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(walk(&bad).1, Some(RingFault::FrameHeader { offset: 8 }));
    }

    proptest! {
        #[test]
        fn arbitrary_blocks_never_panic_and_stay_inside(block in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let (frames, _) = walk(&block);
            for f in frames {
                prop_assert!(f.data.end <= block.len());
                prop_assert!(f.data.start <= f.data.end);
            }
        }

        #[test]
        fn corrupted_blocks_never_panic(
            frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..8),
            flips in proptest::collection::vec((0usize..4096, any::<u8>()), 0..16),
        ) {
            let refs: Vec<(&[u8], u32, u8)> = frames.iter().map(|f| (f.as_slice(), 3, 0)).collect();
            let mut block = build_block(4096, &refs);
            let (clean, fault) = walk(&block);
            prop_assert_eq!(fault, None);
            prop_assert_eq!(clean.len(), frames.len());
            for (meta, data) in clean.iter().zip(&frames) {
                prop_assert_eq!(&block[meta.data.clone()], data.as_slice());
            }
            for (at, value) in flips {
                block[at] = value;
            }
            let (frames, _) = walk(&block);
            for f in frames {
                prop_assert!(f.data.end <= block.len());
            }
        }
    }
}
