//! The tolerant, bounded BER reader.

use std::borrow::Cow;

use super::{Class, DEFAULT_MAX_DEPTH, Tag};
use crate::error::{Error, Result};

/// Reads consecutive TLVs from a slice.
///
/// Offsets in errors and in [`Tlv`] are absolute: relative to the start of the outermost
/// input, so an error deep in a PDU still names the byte where it happened.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    origin: usize,
    depth: usize,
    max_depth: usize,
    /// True inside an element of known length: running past the end is then a malformed
    /// length, not an input that has not fully arrived.
    bounded: bool,
}

/// One decoded tag-length-value element, borrowing its content from the input.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    /// The element's tag.
    pub tag: Tag,
    /// Absolute offset of the identifier octets.
    pub offset: usize,
    /// The content octets (without the end-of-contents marker of an indefinite length).
    pub content: &'a [u8],
    /// Absolute offset of the first content octet.
    pub content_offset: usize,
    /// The whole encoding's size: identifier, length, content and end-of-contents octets.
    pub encoded_len: usize,
    /// True when the element used the indefinite length form.
    pub indefinite: bool,
    depth: usize,
    max_depth: usize,
}

/// Returns the size of the first complete BER element in `data`, for framing a stream of
/// back-to-back PDUs.
///
/// `Ok(None)` means more octets are needed. An element whose length exceeds `max_len` is an
/// error ([`Error::TooLarge`]) so a hostile peer cannot make a receiver buffer without bound.
pub fn frame_len(data: &[u8], max_len: usize) -> Result<Option<usize>> {
    let too_large = |len| Error::TooLarge {
        offset: 0,
        len,
        limit: max_len,
    };
    let header = match Reader::new(data).read_header() {
        Ok(header) => header,
        Err(Error::Truncated { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Some(len) = header.definite {
        let total = header.header_len.saturating_add(len);
        if total > max_len {
            return Err(too_large(total));
        }
        return Ok((total <= data.len()).then_some(total));
    }
    // Indefinite: the end is found by walking the children, within the limit.
    let window = data.get(..max_len).unwrap_or(data);
    match Reader::new(window).read() {
        Ok(tlv) => Ok(Some(tlv.encoded_len)),
        Err(Error::Truncated { .. }) if window.len() >= max_len => Err(too_large(window.len())),
        Err(Error::Truncated { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

struct Header {
    tag: Tag,
    header_len: usize,
    /// `None` for the indefinite form.
    definite: Option<usize>,
}

impl<'a> Reader<'a> {
    /// A reader over `data` at offset 0 with the default depth limit.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            origin: 0,
            depth: 0,
            max_depth: DEFAULT_MAX_DEPTH,
            bounded: false,
        }
    }

    /// Sets the nesting-depth limit.
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// True when every octet has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Absolute offset of the next octet to read.
    pub fn offset(&self) -> usize {
        self.origin + self.pos
    }

    /// The octets not read yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// Reads the next element, or returns `None` at the end of the input.
    pub fn next_tlv(&mut self) -> Result<Option<Tlv<'a>>> {
        if self.is_empty() {
            return Ok(None);
        }
        self.read().map(Some)
    }

    /// Reads the next element; the end of the input is an error.
    pub fn read(&mut self) -> Result<Tlv<'a>> {
        let tlv = self.read_any()?;
        if tlv.tag == Tag::END_OF_CONTENTS {
            return Err(Error::InvalidValue {
                field: "end-of-contents",
                offset: tlv.offset,
                reason: "end-of-contents marker outside an indefinite length",
            });
        }
        Ok(tlv)
    }

    /// Fails if octets remain.
    pub fn finish(&self) -> Result<()> {
        match self.remaining().len() {
            0 => Ok(()),
            count => Err(Error::TrailingData {
                offset: self.offset(),
                count,
            }),
        }
    }

    /// Reads one element, end-of-contents markers included.
    fn read_any(&mut self) -> Result<Tlv<'a>> {
        let start = self.pos;
        let offset = self.offset();
        let header = self.read_header()?;
        let content_start = start + header.header_len;
        match header.definite {
            Some(len) => {
                let available = self.data.len().saturating_sub(content_start);
                let content = content_start
                    .checked_add(len)
                    .and_then(|end| self.data.get(content_start..end))
                    .ok_or_else(|| self.overrun(offset, len.saturating_sub(available)))?;
                if header.tag == Tag::END_OF_CONTENTS && len != 0 {
                    return Err(Error::InvalidLength {
                        offset,
                        reason: "end-of-contents marker with a non-zero length",
                    });
                }
                self.pos = content_start + len;
                Ok(Tlv {
                    tag: header.tag,
                    offset,
                    content,
                    content_offset: self.origin + content_start,
                    encoded_len: header.header_len + len,
                    indefinite: false,
                    depth: self.depth,
                    max_depth: self.max_depth,
                })
            }
            None => {
                if self.depth + 1 > self.max_depth {
                    return Err(Error::DepthExceeded {
                        offset,
                        limit: self.max_depth,
                    });
                }
                // Scan the children up to the end-of-contents marker.
                let mut inner = Reader {
                    data: self.data.get(content_start..).unwrap_or(&[]),
                    pos: 0,
                    origin: self.origin + content_start,
                    depth: self.depth + 1,
                    max_depth: self.max_depth,
                    bounded: self.bounded,
                };
                loop {
                    if inner.is_empty() {
                        return Err(self.overrun(offset, 2));
                    }
                    let child_start = inner.pos;
                    let child = inner.read_any()?;
                    if child.tag == Tag::END_OF_CONTENTS {
                        let content = inner.data.get(..child_start).unwrap_or(&[]);
                        self.pos = content_start + inner.pos;
                        return Ok(Tlv {
                            tag: header.tag,
                            offset,
                            content,
                            content_offset: self.origin + content_start,
                            encoded_len: header.header_len + inner.pos,
                            indefinite: true,
                            depth: self.depth,
                            max_depth: self.max_depth,
                        });
                    }
                }
            }
        }
    }

    /// The error for an element at `offset` that needs `needed` more octets than there are.
    fn overrun(&self, offset: usize, needed: usize) -> Error {
        if self.bounded {
            Error::InvalidLength {
                offset,
                reason: "element runs past the end of its enclosing element",
            }
        } else {
            Error::Truncated { offset, needed }
        }
    }

    fn byte(&mut self, offset: usize) -> Result<u8> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.overrun(offset, 1))?;
        self.pos += 1;
        Ok(b)
    }

    fn read_header(&mut self) -> Result<Header> {
        let start = self.pos;
        let offset = self.offset();
        let first = self.byte(offset)?;
        let class = match first >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::Context,
            _ => Class::Private,
        };
        let constructed = first & 0x20 != 0;
        let mut number = u32::from(first & 0x1f);
        if number == 0x1f {
            number = 0;
            let mut first_sub = true;
            loop {
                let b = self.byte(offset)?;
                if first_sub && b == 0x80 {
                    return Err(Error::InvalidTag { offset });
                }
                first_sub = false;
                number = number
                    .checked_mul(128)
                    .map(|n| n | u32::from(b & 0x7f))
                    .ok_or(Error::InvalidTag { offset })?;
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag = Tag {
            class,
            constructed,
            number,
        };
        let len_offset = self.offset();
        let l0 = self.byte(offset)?;
        let definite = match l0 {
            0..=0x7f => Some(usize::from(l0)),
            0x80 => {
                if !constructed {
                    return Err(Error::InvalidLength {
                        offset: len_offset,
                        reason: "indefinite length on a primitive element",
                    });
                }
                None
            }
            0xff => {
                return Err(Error::InvalidLength {
                    offset: len_offset,
                    reason: "reserved length octet 0xFF",
                });
            }
            _ => {
                let n = usize::from(l0 & 0x7f);
                if n > 8 {
                    return Err(Error::InvalidLength {
                        offset: len_offset,
                        reason: "more than 8 length octets",
                    });
                }
                let mut len: u64 = 0;
                for _ in 0..n {
                    len = (len << 8) | u64::from(self.byte(offset)?);
                }
                Some(usize::try_from(len).map_err(|_| Error::InvalidLength {
                    offset: len_offset,
                    reason: "length does not fit this platform",
                })?)
            }
        };
        Ok(Header {
            tag,
            header_len: self.pos - start,
            definite,
        })
    }
}

impl<'a> Tlv<'a> {
    /// A reader over the children of this constructed element.
    pub fn children(&self, field: &'static str) -> Result<Reader<'a>> {
        if !self.tag.constructed {
            return Err(Error::InvalidValue {
                field,
                offset: self.offset,
                reason: "expected the constructed form",
            });
        }
        if self.depth + 1 > self.max_depth {
            return Err(Error::DepthExceeded {
                offset: self.offset,
                limit: self.max_depth,
            });
        }
        Ok(Reader {
            data: self.content,
            pos: 0,
            origin: self.content_offset,
            depth: self.depth + 1,
            max_depth: self.max_depth,
            bounded: true,
        })
    }

    /// The single element inside an explicitly tagged element (a tagged CHOICE).
    pub fn single_child(&self, field: &'static str) -> Result<Tlv<'a>> {
        let mut r = self.children(field)?;
        let child = r.next_tlv()?.ok_or(Error::MissingField {
            field,
            offset: self.offset,
        })?;
        if !r.is_empty() {
            return Err(Error::InvalidValue {
                field,
                offset: r.offset(),
                reason: "more than one element inside an explicit tag",
            });
        }
        Ok(child)
    }

    fn primitive(&self, field: &'static str) -> Result<&'a [u8]> {
        if self.tag.constructed {
            return Err(Error::InvalidValue {
                field,
                offset: self.offset,
                reason: "expected the primitive form",
            });
        }
        Ok(self.content)
    }

    /// An OCTET STRING (or the octets of a restricted character string) in the primitive or
    /// the constructed (segmented) form.
    pub fn octets(&self, field: &'static str) -> Result<Cow<'a, [u8]>> {
        if !self.tag.constructed {
            return Ok(Cow::Borrowed(self.content));
        }
        let mut out = Vec::with_capacity(self.content.len());
        self.collect_segments(field, &mut out)?;
        Ok(Cow::Owned(out))
    }

    fn collect_segments(&self, field: &'static str, out: &mut Vec<u8>) -> Result<()> {
        let mut r = self.children(field)?;
        while let Some(seg) = r.next_tlv()? {
            if !seg.tag.same_type(Tag::OCTET_STRING) {
                return Err(Error::UnexpectedTag {
                    field,
                    offset: seg.offset,
                    found: seg.tag,
                    expected: "an OCTET STRING segment",
                });
            }
            if seg.tag.constructed {
                seg.collect_segments(field, out)?;
            } else {
                out.extend_from_slice(seg.content);
            }
        }
        Ok(())
    }

    /// An OCTET STRING whose size must lie in `min..=max`.
    pub fn octets_sized(&self, field: &'static str, min: usize, max: usize) -> Result<Vec<u8>> {
        let v = self.octets(field)?;
        if v.len() < min || v.len() > max {
            return Err(self.invalid(field, "size outside the constraint"));
        }
        Ok(v.into_owned())
    }

    /// A UTF8String (also used for IA5String and PrintableString after their own checks).
    pub fn utf8(&self, field: &'static str) -> Result<String> {
        String::from_utf8(self.octets(field)?.into_owned())
            .map_err(|_| self.invalid(field, "not valid UTF-8"))
    }

    /// A UTF8String whose length in characters lies in `min..=max`.
    pub fn utf8_sized(&self, field: &'static str, min: usize, max: usize) -> Result<String> {
        let s = self.utf8(field)?;
        let n = s.chars().count();
        if n < min || n > max {
            return Err(self.invalid(field, "size outside the constraint"));
        }
        Ok(s)
    }

    /// A PrintableString whose length lies in `min..=max` (X.680 clause 41.4 character set).
    pub fn printable(&self, field: &'static str, min: usize, max: usize) -> Result<String> {
        let s = self.utf8_sized(field, min, max)?;
        if !s.bytes().all(is_printable_char) {
            return Err(self.invalid(field, "character outside PrintableString"));
        }
        Ok(s)
    }

    /// An IA5String whose length lies in `min..=max`.
    pub fn ia5(&self, field: &'static str, min: usize, max: usize) -> Result<String> {
        let s = self.utf8_sized(field, min, max)?;
        if !s.is_ascii() {
            return Err(self.invalid(field, "character outside IA5String"));
        }
        Ok(s)
    }

    /// A non-negative INTEGER that fits `u64` (non-minimal encodings are accepted).
    pub fn u64(&self, field: &'static str) -> Result<u64> {
        let c = self.primitive(field)?;
        let first = *c.first().ok_or(self.invalid(field, "empty INTEGER"))?;
        if first & 0x80 != 0 {
            return Err(self.invalid(field, "negative value for an unsigned field"));
        }
        let significant = c
            .iter()
            .position(|&b| b != 0)
            .map_or(&[][..], |i| c.get(i..).unwrap_or(&[]));
        if significant.len() > 8 {
            return Err(self.invalid(field, "INTEGER out of range"));
        }
        Ok(significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A non-negative INTEGER that fits `u32` (the `(0..4294967295)` constraint).
    pub fn u32(&self, field: &'static str) -> Result<u32> {
        u32::try_from(self.u64(field)?).map_err(|_| self.invalid(field, "INTEGER out of range"))
    }

    /// An INTEGER that fits `i64`.
    pub fn i64(&self, field: &'static str) -> Result<i64> {
        let c = self.primitive(field)?;
        if c.is_empty() {
            return Err(self.invalid(field, "empty INTEGER"));
        }
        let negative = c.first().is_some_and(|b| b & 0x80 != 0);
        let pad = if negative { 0xff } else { 0x00 };
        let skip = c
            .iter()
            .take(c.len() - 1)
            .take_while(|&&b| b == pad)
            .count();
        let rest = c.get(skip..).unwrap_or(&[]);
        if rest.len() > 8 {
            return Err(self.invalid(field, "INTEGER out of range"));
        }
        let init: i64 = if negative { -1 } else { 0 };
        Ok(rest.iter().fold(init, |acc, &b| (acc << 8) | i64::from(b)))
    }

    /// An ENUMERATED value.
    pub fn enumerated(&self, field: &'static str) -> Result<i64> {
        self.i64(field)
    }

    /// A BOOLEAN (any non-zero octet is TRUE, as BER allows).
    pub fn boolean(&self, field: &'static str) -> Result<bool> {
        match self.primitive(field)? {
            [b] => Ok(*b != 0),
            _ => Err(self.invalid(field, "BOOLEAN must be one octet")),
        }
    }

    /// A NULL.
    pub fn null(&self, field: &'static str) -> Result<()> {
        if self.primitive(field)?.is_empty() {
            Ok(())
        } else {
            Err(self.invalid(field, "NULL with content"))
        }
    }

    /// The subidentifiers of an OBJECT IDENTIFIER or RELATIVE-OID, as encoded (the first
    /// subidentifier of an OBJECT IDENTIFIER still combines its first two arcs).
    pub fn subidentifiers(&self, field: &'static str) -> Result<Vec<u64>> {
        let c = self.primitive(field)?;
        if c.is_empty() {
            return Err(self.invalid(field, "empty object identifier"));
        }
        let mut out = Vec::with_capacity(c.len());
        let mut acc: u64 = 0;
        let mut fresh = true;
        for &b in c {
            if fresh && b == 0x80 {
                return Err(self.invalid(field, "non-minimal subidentifier"));
            }
            fresh = false;
            if acc > (u64::MAX >> 7) {
                return Err(self.invalid(field, "subidentifier over 64 bits"));
            }
            acc = (acc << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                out.push(acc);
                acc = 0;
                fresh = true;
            }
        }
        if !fresh {
            return Err(self.invalid(field, "object identifier ends inside a subidentifier"));
        }
        Ok(out)
    }

    /// An error naming this element.
    pub fn invalid(&self, field: &'static str, reason: &'static str) -> Error {
        Error::InvalidValue {
            field,
            offset: self.offset,
            reason,
        }
    }

    /// An unexpected-tag error naming this element.
    pub fn unexpected(&self, field: &'static str, expected: &'static str) -> Error {
        Error::UnexpectedTag {
            field,
            offset: self.offset,
            found: self.tag,
            expected,
        }
    }
}

/// X.680 clause 41.4: A-Z a-z 0-9 space ' ( ) + , - . / : = ?
pub(crate) fn is_printable_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

/// The first identifier octet of the first component inside `frame`, an element with a
/// one-octet identifier (after its length octets, short, long or indefinite form): what tells
/// apart messages of different modules on one stream (a PS-PDU's `pSHeader [1]`, an ATIS
/// `IasProtocol`'s OBJECT IDENTIFIER ...) without decoding them. `None` when `frame` is too
/// short to hold one.
pub fn first_component_tag(frame: &[u8]) -> Option<u8> {
    let header = match *frame.get(1)? {
        n if n > 0x80 => 2 + usize::from(n & 0x7f),
        _ => 2,
    };
    frame.get(header).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_long_form_lengths() {
        // [1] constructed, indefinite, holding [0] "ab" with a long-form length, then EOC.
        let data = [0xa1, 0x80, 0x80, 0x84, 0, 0, 0, 2, b'a', b'b', 0, 0, 0xff];
        let mut r = Reader::new(&data);
        let tlv = r.read().unwrap();
        assert!(tlv.indefinite);
        assert_eq!(tlv.encoded_len, 12);
        let child = tlv.single_child("t").unwrap();
        assert_eq!(child.tag, Tag::context(0));
        assert_eq!(child.content, b"ab");
        assert_eq!(child.offset, 2);
        assert_eq!(child.content_offset, 8);
        assert_eq!(r.remaining(), &[0xff]);
        assert!(matches!(
            r.finish(),
            Err(Error::TrailingData {
                offset: 12,
                count: 1
            })
        ));
    }

    #[test]
    fn constructed_octet_string_is_joined() {
        let data = [
            0xa0, 0x80, 0x04, 0x01, b'x', 0x24, 0x03, 0x04, 0x01, b'y', 0, 0,
        ];
        let tlv = Reader::new(&data).read().unwrap();
        assert_eq!(&*tlv.octets("f").unwrap(), b"xy");
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let mut data = Vec::new();
        for _ in 0..10_000 {
            data.extend_from_slice(&[0x30, 0x80]);
        }
        let err = Reader::new(&data).read().unwrap_err();
        assert!(
            matches!(
                err,
                Error::DepthExceeded {
                    limit: DEFAULT_MAX_DEPTH,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn truncation_and_bad_lengths_name_the_offset() {
        assert_eq!(
            Reader::new(&[0x04, 0x05, 1, 2]).read().unwrap_err(),
            Error::Truncated {
                offset: 0,
                needed: 3
            }
        );
        assert!(matches!(
            Reader::new(&[0x04, 0xff]).read().unwrap_err(),
            Error::InvalidLength { offset: 1, .. }
        ));
        assert!(matches!(
            Reader::new(&[0x04, 0x80, 0, 0]).read().unwrap_err(),
            Error::InvalidLength { offset: 1, .. }
        ));
        assert!(matches!(
            Reader::new(&[0x30, 0x80, 0x04, 0x00]).read().unwrap_err(),
            Error::Truncated { offset: 0, .. }
        ));
        // A complete element whose child claims more than the parent holds is malformed, not
        // truncated: a stream receiver must not wait for more octets.
        let complete = [0x30, 0x05, 0xa1, 0x03, 0x04, 0x05, 0x41];
        let outer = Reader::new(&complete).read().unwrap();
        let mut inner = outer.children("t").unwrap();
        let child = inner.read().unwrap();
        assert_eq!(
            child.children("t").unwrap().read().unwrap_err(),
            Error::InvalidLength {
                offset: 4,
                reason: "element runs past the end of its enclosing element"
            }
        );
    }

    #[test]
    fn integers() {
        let t = |c: &[u8]| {
            let mut v = vec![0x02, c.len() as u8];
            v.extend_from_slice(c);
            v
        };
        let d = t(&[0x00, 0x00, 0xff]);
        assert_eq!(Reader::new(&d).read().unwrap().u64("i").unwrap(), 255);
        let d = t(&[0xff]);
        assert_eq!(Reader::new(&d).read().unwrap().i64("i").unwrap(), -1);
        assert!(Reader::new(&d).read().unwrap().u64("i").is_err());
        let d = t(&[0x01, 0, 0, 0, 0]);
        assert!(Reader::new(&d).read().unwrap().u32("i").is_err());
        let d = t(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(Reader::new(&d).read().unwrap().u64("i").unwrap(), u64::MAX);
    }

    #[test]
    fn framing() {
        assert_eq!(frame_len(&[0x30], 100).unwrap(), None);
        assert_eq!(frame_len(&[0x30, 0x02, 0x05], 100).unwrap(), None);
        assert_eq!(
            frame_len(&[0x30, 0x02, 0x05, 0x00, 0x30], 100).unwrap(),
            Some(4)
        );
        assert_eq!(frame_len(&[0x30, 0x80, 0x05, 0x00], 100).unwrap(), None);
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x05, 0x00, 0, 0, 1], 100).unwrap(),
            Some(6)
        );
        assert!(matches!(
            frame_len(&[0x30, 0x84, 0x7f, 0, 0, 0], 1 << 20),
            Err(Error::TooLarge { .. })
        ));
    }
}
