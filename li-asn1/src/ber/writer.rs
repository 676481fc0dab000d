//! The definite-length, minimal BER writer.

use super::{Class, Tag};

/// Builds a BER encoding in a growable buffer, with definite minimal lengths.
///
/// Constructed elements are written with [`Writer::constructed`]: the content is written
/// first and the length patched in afterwards, so callers never compute lengths by hand.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer that appends to `buf`.
    pub fn from_vec(buf: Vec<u8>) -> Self {
        Self { buf }
    }

    /// The encoding so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// Consumes the writer, returning its buffer.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    /// Writes a constructed element whose content `f` writes.
    pub fn constructed(&mut self, tag: Tag, f: impl FnOnce(&mut Self)) {
        self.with_length(tag.into_constructed(), f);
    }

    /// Writes `tag`, a one-octet length placeholder and the content `f` writes, then
    /// patches the length (widening it in place when the content is 128 octets or more).
    fn with_length(&mut self, tag: Tag, f: impl FnOnce(&mut Self)) {
        write_tag(&mut self.buf, tag);
        let len_pos = self.buf.len();
        self.buf.push(0);
        let start = self.buf.len();
        f(self);
        let len = self.buf.len() - start;
        if len < 0x80 {
            if let Some(b) = self.buf.get_mut(len_pos) {
                *b = len as u8;
            }
        } else {
            let mut octets = Vec::with_capacity(9);
            write_length(&mut octets, len);
            self.buf.splice(len_pos..start, octets);
        }
    }

    /// Appends octets that already are BER elements (pre-encoded parts).
    pub fn raw(&mut self, encoded: &[u8]) {
        self.buf.extend_from_slice(encoded);
    }

    /// Writes a primitive element with the given content octets.
    pub fn primitive(&mut self, tag: Tag, content: &[u8]) {
        write_tag(&mut self.buf, tag);
        write_length(&mut self.buf, content.len());
        self.buf.extend_from_slice(content);
    }

    /// Writes an INTEGER from an unsigned value, minimally.
    pub fn u64(&mut self, tag: Tag, value: u64) {
        let (octets, n) = uint_octets(value);
        let top_bit = octets.get(9 - n).is_some_and(|b| b & 0x80 != 0);
        let n = n + usize::from(top_bit);
        self.primitive(tag, octets.get(9 - n..).unwrap_or(&[0]));
    }

    /// Writes an INTEGER (or ENUMERATED) from a signed value, minimally.
    pub fn i64(&mut self, tag: Tag, value: i64) {
        let (octets, n) = int_octets(value);
        self.primitive(tag, octets.get(8 - n..).unwrap_or(&[0]));
    }

    /// Writes a BOOLEAN (TRUE as 0xFF, as DER requires).
    pub fn boolean(&mut self, tag: Tag, value: bool) {
        self.primitive(tag, &[if value { 0xff } else { 0x00 }]);
    }

    /// Writes a NULL.
    pub fn null(&mut self, tag: Tag) {
        self.primitive(tag, &[]);
    }

    /// Writes the subidentifiers of an OBJECT IDENTIFIER or RELATIVE-OID in base 128.
    pub fn subidentifiers(&mut self, tag: Tag, subids: impl IntoIterator<Item = u64>) {
        self.with_length(tag, |w| {
            for id in subids {
                write_base128(&mut w.buf, id);
            }
        });
    }
}

/// Appends the identifier octets of `tag`.
pub fn write_tag(buf: &mut Vec<u8>, tag: Tag) {
    let class = match tag.class {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::Context => 0x80,
        Class::Private => 0xc0,
    };
    let form = if tag.constructed { 0x20 } else { 0 };
    if tag.number < 31 {
        buf.push(class | form | tag.number as u8);
    } else {
        buf.push(class | form | 0x1f);
        write_base128(buf, u64::from(tag.number));
    }
}

/// Appends a definite length in its minimal form.
pub fn write_length(buf: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        buf.push(len as u8);
    } else {
        let (octets, n) = uint_octets(len as u64);
        buf.push(0x80 | n as u8);
        buf.extend_from_slice(octets.get(9 - n..).unwrap_or(&[]));
    }
}

/// The number of octets [`write_length`] writes for `len`.
pub const fn length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

/// The size of a whole element with a low-numbered tag (< 31) and `content_len` octets.
pub const fn encoded_len(content_len: usize) -> usize {
    1 + length_len(content_len) + content_len
}

/// Big-endian two's complement octets of `v` and how many trailing ones the minimal
/// encoding uses (1..=8).
#[inline]
pub(crate) fn int_octets(v: i64) -> ([u8; 8], usize) {
    let bytes = v.to_be_bytes();
    let mut n = 8;
    while n > 1 {
        let (Some(&b), Some(&next)) = (bytes.get(8 - n), bytes.get(9 - n)) else {
            break;
        };
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        n -= 1;
    }
    (bytes, n)
}

/// Big-endian octets of `v` after one leading zero octet, and how many of the trailing ones are
/// significant (at least one).
fn uint_octets(v: u64) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    let be = v.to_be_bytes();
    for (dst, src) in out.iter_mut().skip(1).zip(be) {
        *dst = src;
    }
    let significant = (8 - (v.leading_zeros() / 8) as usize).max(1);
    (out, significant)
}

fn write_base128(buf: &mut Vec<u8>, v: u64) {
    let groups = ((64 - v.leading_zeros()).div_ceil(7)).max(1);
    for i in (0..groups).rev() {
        let group = ((v >> (7 * i)) & 0x7f) as u8;
        buf.push(if i == 0 { group } else { group | 0x80 });
    }
}
