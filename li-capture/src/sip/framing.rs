//! SIP over a byte stream (TCP, TLS after decryption, SCTP as a stream): cutting messages
//! out of a flow's reassembled payload by Content-Length (RFC 3261 clause 18.3).
//!
//! [`StreamFramer`] is sans-IO and per flow: [`push`](StreamFramer::push) the payload of
//! each segment in order, then take frames with [`next_frame`](StreamFramer::next_frame)
//! until it returns `Ok(None)`. A segment may hold several messages, a message may span
//! many segments. What it holds is bounded: a message (head and body) longer than the
//! configured bound is skipped and reported, never buffered. After octets that do not start
//! a SIP message (a capture that began mid-message, a lost segment, garbage) it
//! resynchronises on the next line that is a SIP start line. Errors are reports, not the
//! end: after one, call [`next_frame`](StreamFramer::next_frame) again.
//!
//! ```
//! use li_capture::sip::{SipMessage, StreamFramer};
//!
//! let mut framer = StreamFramer::new(64 * 1024);
//! let stream = b"OPTIONS sip:a@b.example SIP/2.0\r\nContent-Length: 3\r\n\r\nabc\
//!     SIP/2.0 200 OK\r\nl: 0\r\n\r\n";
//! let (first, second) = stream.split_at(20);
//! let mut messages = Vec::new();
//! for segment in [first, second] {
//!     framer.push(segment);
//!     while let Some(frame) = framer.next_frame()? {
//!         let msg = SipMessage::parse(frame)?;
//!         messages.push((msg.status(), msg.body().to_vec()));
//!     }
//! }
//! assert_eq!(messages, [(None, b"abc".to_vec()), (Some(200), Vec::new())]);
//! assert_eq!(framer.stats().messages, 2);
//! # Ok::<(), li_capture::sip::SipError>(())
//! ```

use super::error::{Result, SipError};
use super::message::{HeaderName, find_byte, head_end_from, is_start_line, parse_content_length};

/// Per-flow SIP stream framer; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// Octets of `buf` already handed out or skipped.
    start: usize,
    max_message_len: usize,
    /// Octets of an oversized message still to skip.
    skip: usize,
    /// Skipping to the next start line.
    resync: bool,
    /// Stream offset of `buf[start]`.
    stream_offset: u64,
    /// What is known of the message at `start`, so that octets arriving a few at a time
    /// are not scanned again on every call (which would be quadratic in the message size).
    scan: Scan,
    stats: FramerStats,
}

/// Progress on the message at the start of the pending octets; reset when it is consumed.
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    /// Octets from the start already searched (for the end of the first line, then for
    /// the end of the head) without finding it.
    searched: usize,
    /// The first line is complete and is a start line.
    start_line_ok: bool,
    /// The message's total length, once its head is complete.
    total: Option<usize>,
}

/// What a [`StreamFramer`] has seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FramerStats {
    /// Messages framed.
    pub messages: u64,
    /// Octets skipped because they did not start a message (resynchronisation).
    pub garbage_octets: u64,
    /// Messages skipped because they exceeded the bound.
    pub oversized_messages: u64,
    /// Octets skipped as part of oversized messages.
    pub oversized_octets: u64,
    /// Message heads skipped for an invalid Content-Length.
    pub bad_content_length: u64,
}

impl StreamFramer {
    /// A framer buffering at most about `max_message_len` octets: the largest message it
    /// frames (head and body); anything larger is skipped. 64 KiB is generous for SIP.
    pub fn new(max_message_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_message_len: max_message_len.max(64),
            skip: 0,
            resync: false,
            stream_offset: 0,
            scan: Scan::default(),
            stats: FramerStats::default(),
        }
    }

    /// Appends the next in-order payload octets of the flow. Frames already taken are
    /// dropped from the buffer first.
    pub fn push(&mut self, data: &[u8]) {
        // Compact once the consumed prefix is as long as what is left: each octet is moved
        // a bounded number of times however the stream is cut.
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 0 && self.start >= self.buf.len() - self.start {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // An oversized message's remainder is skipped without buffering it.
        let skipped = self.skip.min(data.len());
        self.skip -= skipped;
        self.stats.oversized_octets += skipped as u64;
        self.stream_offset += skipped as u64;
        self.buf
            .extend_from_slice(data.get(skipped..).unwrap_or_default());
    }

    /// The next complete message, `Ok(None)` if more octets are needed. The frame starts
    /// at the message's start line and ends with its body; parse it with
    /// [`SipMessage::parse`](super::SipMessage::parse).
    ///
    /// Errors report octets skipped ([`SipError::StreamGarbage`],
    /// [`SipError::StreamMessageTooLarge`], [`SipError::StreamContentLength`]); the framer
    /// has already recovered, call again.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>> {
        // CRLF keep-alives (RFC 5626 clause 3.5.1) and line breaks between messages.
        let crlf = self
            .pending()
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.consume(crlf);
        if self.pending().is_empty() {
            return Ok(None);
        }
        if self.resync {
            return self.resynchronise();
        }
        let max = self.max_message_len;
        // Borrows only the buffer, so that the scan state can be updated meanwhile.
        let pending = self.buf.get(self.start..).unwrap_or_default();
        if !self.scan.start_line_ok {
            let from = self.scan.searched;
            let Some(end) = pending.get(from..).and_then(|p| find_byte(p, b'\n')) else {
                if pending.len() > max {
                    self.resync = true;
                    return self.resynchronise();
                }
                self.scan.searched = pending.len();
                return Ok(None);
            };
            let first_line_end = from + end;
            if !is_start_line(pending.get(..first_line_end).unwrap_or_default()) {
                self.resync = true;
                return self.resynchronise();
            }
            self.scan.start_line_ok = true;
            self.scan.searched = first_line_end;
        }
        let total = match self.scan.total {
            Some(total) => total,
            None => {
                let Some((head_len, body_start)) = head_end_from(pending, self.scan.searched)
                else {
                    if pending.len() > max {
                        let len = pending.len();
                        self.stats.oversized_messages += 1;
                        self.stats.oversized_octets += len as u64;
                        self.consume(len);
                        self.resync = true;
                        return Err(SipError::StreamMessageTooLarge { len, max });
                    }
                    // An LF at one of the last two octets may still end the head.
                    self.scan.searched = pending.len().saturating_sub(2);
                    return Ok(None);
                };
                let head = pending.get(..head_len).unwrap_or_default();
                let Ok(content_length) = content_length(head) else {
                    let offset = self.stream_offset;
                    self.stats.bad_content_length += 1;
                    self.consume(body_start);
                    self.resync = true;
                    return Err(SipError::StreamContentLength { offset });
                };
                let total = body_start.saturating_add(content_length.unwrap_or(0));
                if total > max {
                    let available = pending.len().min(total);
                    self.stats.oversized_messages += 1;
                    self.stats.oversized_octets += available as u64;
                    self.consume(available);
                    self.skip = total - available;
                    return Err(SipError::StreamMessageTooLarge { len: total, max });
                }
                self.scan.total = Some(total);
                total
            }
        };
        if self.pending().len() < total {
            return Ok(None);
        }
        let from = self.start;
        self.consume(total);
        self.stats.messages += 1;
        Ok(self.buf.get(from..from + total))
    }

    /// Octets buffered and not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Counters of what the framer has seen.
    pub fn stats(&self) -> FramerStats {
        self.stats
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        if n > 0 {
            self.start += n;
            self.stream_offset += n as u64;
            self.scan = Scan::default();
        }
    }

    /// Drops complete lines until one is a start line; an unterminated line longer than the
    /// bound is dropped too. Reports what was dropped.
    fn resynchronise(&mut self) -> Result<Option<&[u8]>> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        let mut dropped = 0;
        // Line breaks before the start line found: skipped, but not garbage (as between
        // messages).
        let mut lead_in = 0;
        let mut found = false;
        // The first line was searched this far already (it has no leading line breaks).
        let mut searched = self.scan.searched;
        // How far the unterminated last line has been searched, if it starts the rest.
        let mut tail_searched = None;
        while let Some(rest) = pending.get(dropped..) {
            let lead = rest
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            let line = rest.get(lead..).unwrap_or_default();
            let from = if lead == 0 {
                searched.min(line.len())
            } else {
                0
            };
            searched = 0;
            let Some(end) = line.get(from..).and_then(|l| find_byte(l, b'\n')) else {
                if line.len() > self.max_message_len {
                    dropped += rest.len();
                } else if lead == 0 {
                    tail_searched = Some(line.len());
                }
                break;
            };
            let end = from + end;
            if is_start_line(line.get(..end).unwrap_or_default()) {
                found = true;
                lead_in = lead;
                break;
            }
            dropped += lead + end + 1;
        }
        if found {
            self.resync = false;
        }
        self.consume(dropped + lead_in);
        if let Some(tail) = tail_searched {
            self.scan.searched = tail;
        }
        self.stats.garbage_octets += dropped as u64;
        if dropped > 0 {
            Err(SipError::StreamGarbage { skipped: dropped })
        } else if found {
            self.next_frame()
        } else {
            Ok(None)
        }
    }
}

/// The Content-Length of a message head: `Ok(None)` if absent, `Err` if invalid or
/// contradictory.
fn content_length(head: &[u8]) -> std::result::Result<Option<usize>, ()> {
    let mut found = None;
    let mut rest = Some(head);
    while let Some(text) = rest {
        let line = match find_byte(text, b'\n') {
            Some(end) => {
                rest = text.get(end + 1..);
                text.get(..end).unwrap_or_default()
            }
            None => {
                rest = None;
                text
            }
        };
        // Only Content-Length (`l` compact) matters: skip other lines at their first letter.
        let first = line.first().map(u8::to_ascii_lowercase);
        if first != Some(b'c') && first != Some(b'l') {
            continue;
        }
        let Some(colon) = find_byte(line, b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if HeaderName::from_name(name.trim_end_matches([' ', '\t'])) != HeaderName::ContentLength {
            continue;
        }
        let value = std::str::from_utf8(value.get(1..).unwrap_or_default()).map_err(|_| ())?;
        let n = parse_content_length(value).ok_or(())?;
        if found.is_some_and(|f| f != n) {
            return Err(());
        }
        found = Some(n);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::collection::vec;
    use proptest::prelude::*;

    const A: &[u8] = b"INVITE sip:b@x SIP/2.0\r\nCall-ID: a\r\nContent-Length: 5\r\n\r\nhello";
    const B: &[u8] = b"SIP/2.0 200 OK\r\ni: b\r\nl: 0\r\n\r\n";
    const C: &[u8] = b"BYE sip:b@x SIP/2.0\r\nCall-ID: c\r\n\r\n";

    /// Pushes the segments in order and drains after each; frames and errors in order.
    fn run(framer: &mut StreamFramer, segments: &[&[u8]]) -> Vec<Result<Vec<u8>>> {
        let mut out = Vec::new();
        for segment in segments {
            framer.push(segment);
            loop {
                match framer.next_frame() {
                    Ok(Some(frame)) => out.push(Ok(frame.to_vec())),
                    Ok(None) => break,
                    Err(e) => out.push(Err(e)),
                }
            }
        }
        out
    }

    #[test]
    fn several_messages_in_one_segment() {
        let mut framer = StreamFramer::new(4096);
        let stream = [A, b"\r\n\r\n", B, C].concat();
        let out = run(&mut framer, &[&stream]);
        assert_eq!(out, [Ok(A.to_vec()), Ok(B.to_vec()), Ok(C.to_vec())]);
        assert_eq!(framer.stats().messages, 3);
        assert_eq!(framer.buffered(), 0);
        let msg = crate::sip::SipMessage::parse(A).unwrap();
        assert_eq!(msg.body(), b"hello");
    }

    #[test]
    fn a_message_split_byte_by_byte() {
        let mut framer = StreamFramer::new(4096);
        let stream = [A, B].concat();
        let segments: Vec<&[u8]> = stream.chunks(1).collect();
        let out = run(&mut framer, &segments);
        assert_eq!(out, [Ok(A.to_vec()), Ok(B.to_vec())]);
        // Nothing is left over, and a partial message stays buffered.
        framer.push(&C[..10]);
        assert_eq!(framer.next_frame(), Ok(None));
        assert_eq!(framer.buffered(), 10);
    }

    #[test]
    fn large_messages_and_lines_arrive_a_few_octets_at_a_time() {
        // 32 KiB of headers and 16 KiB of body, then a long garbage line, in 3-octet
        // segments: the framer keeps its scan position, so this is linear, and gives the
        // same result as one segment.
        let mut big = b"MESSAGE sip:b@x SIP/2.0\r\n".to_vec();
        for i in 0..512 {
            big.extend_from_slice(format!("X-H{i:03}: {}\r\n", "v".repeat(50)).as_bytes());
        }
        big.extend_from_slice(b"Content-Length: 16384\r\n\r\n");
        big.extend_from_slice(&[b'x'; 16384]);
        let stream = [&big[..], &[b'g'; 20_000], b"\r\n", C].concat();
        let segments: Vec<&[u8]> = stream.chunks(3).collect();
        let expected = [
            Ok(big.clone()),
            Err(SipError::StreamGarbage { skipped: 20_002 }),
            Ok(C.to_vec()),
        ];
        assert_eq!(run(&mut StreamFramer::new(64 * 1024), &segments), expected);
        assert_eq!(run(&mut StreamFramer::new(64 * 1024), &[&stream]), expected);
    }

    #[test]
    fn resynchronises_after_garbage() {
        let mut framer = StreamFramer::new(4096);
        // A capture that starts mid-body: the tail of an SDP, then a message.
        let out = run(
            &mut framer,
            &[b"a=rtpmap:0 PCMU/8000\r\nm=audio 4 RTP/AVP 0\r\n", B],
        );
        assert_eq!(
            out,
            [Err(SipError::StreamGarbage { skipped: 43 }), Ok(B.to_vec())]
        );
        assert_eq!(framer.stats().garbage_octets, 43);
        // A partial garbage line waits for its end before being judged.
        let out = run(&mut framer, &[b"xyz", b"zy\r\n", C]);
        assert_eq!(
            out,
            [Err(SipError::StreamGarbage { skipped: 7 }), Ok(C.to_vec())]
        );
    }

    #[test]
    fn oversized_message_skipped_by_content_length() {
        let mut framer = StreamFramer::new(100);
        let big = [
            &b"MESSAGE sip:b@x SIP/2.0\r\nContent-Length: 300\r\n\r\n"[..],
            &[b'x'; 300],
        ]
        .concat();
        let head_len = big.len() - 300;
        let out = run(
            &mut framer,
            &[&big[..60], &big[60..200], &[&big[200..], B].concat()],
        );
        assert_eq!(
            out,
            [
                Err(SipError::StreamMessageTooLarge {
                    len: head_len + 300,
                    max: 100
                }),
                Ok(B.to_vec())
            ]
        );
        let stats = framer.stats();
        assert_eq!(
            (stats.oversized_messages, stats.oversized_octets),
            (1, big.len() as u64)
        );
        assert_eq!(
            stats.garbage_octets, 0,
            "the body was skipped by length, not as garbage"
        );
        assert!(
            framer.buf.capacity() < 1024,
            "the oversized body was not buffered"
        );
    }

    #[test]
    fn endless_head_is_dropped_and_stream_resynchronises() {
        let mut framer = StreamFramer::new(128);
        let mut segments: Vec<Vec<u8>> = vec![b"OPTIONS sip:b@x SIP/2.0\r\n".to_vec()];
        for i in 0..10 {
            segments.push(format!("X-Filler-{i}: {}\r\n", "y".repeat(20)).into_bytes());
        }
        segments.push(B.to_vec());
        let refs: Vec<&[u8]> = segments.iter().map(Vec::as_slice).collect();
        let out = run(&mut framer, &refs);
        assert!(matches!(
            out[0],
            Err(SipError::StreamMessageTooLarge { max: 128, .. })
        ));
        assert_eq!(out.last(), Some(&Ok(B.to_vec())));
        assert!(
            out[1..out.len() - 1]
                .iter()
                .all(|r| matches!(r, Err(SipError::StreamGarbage { .. })))
        );
        assert_eq!(framer.stats().messages, 1);
        // An endless line without a line break is dropped too.
        let out = run(&mut framer, &[&[b'z'; 200], b"\r\n", C]);
        assert_eq!(
            out,
            [
                Err(SipError::StreamGarbage { skipped: 200 }),
                Ok(C.to_vec())
            ]
        );
    }

    #[test]
    fn invalid_content_length_skips_the_head() {
        let mut framer = StreamFramer::new(4096);
        let bad = b"INFO sip:b@x SIP/2.0\r\nContent-Length: ten\r\n\r\n";
        let out = run(&mut framer, &[&[B, bad, b"body?\r\n", C].concat()]);
        assert_eq!(
            out,
            [
                Ok(B.to_vec()),
                Err(SipError::StreamContentLength {
                    offset: B.len() as u64
                }),
                Err(SipError::StreamGarbage { skipped: 7 }),
                Ok(C.to_vec()),
            ]
        );
        assert_eq!(framer.stats().bad_content_length, 1);
        // Contradicting Content-Lengths cannot be framed either.
        let out = run(&mut framer, &[b"ACK sip:b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\n"]);
        assert!(matches!(out[0], Err(SipError::StreamContentLength { .. })));
    }

    #[test]
    fn a_start_line_after_a_stray_cr_is_found_however_the_stream_is_cut() {
        // Found by the sip_stream fuzz target: garbage, then "\n\r" before a start line.
        let stream = [&b"garbage\n\r"[..], C].concat();
        let whole = run(&mut StreamFramer::new(4096), &[&stream]);
        let segments: Vec<&[u8]> = stream.chunks(1).collect();
        let cut = run(&mut StreamFramer::new(4096), &segments);
        assert_eq!(
            whole,
            [Err(SipError::StreamGarbage { skipped: 8 }), Ok(C.to_vec())]
        );
        assert_eq!(cut, whole);
    }

    #[test]
    fn missing_content_length_on_a_stream_means_no_body() {
        let mut framer = StreamFramer::new(4096);
        let out = run(&mut framer, &[&[C, B].concat()]);
        assert_eq!(out, [Ok(C.to_vec()), Ok(B.to_vec())]);
    }

    fn frames_of(stream: &[u8], cuts: &[usize]) -> Vec<Result<Vec<u8>>> {
        let mut framer = StreamFramer::new(256);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.sort_unstable();
        let mut segments = Vec::new();
        let mut from = 0;
        for p in points {
            segments.push(&stream[from..p]);
            from = p;
        }
        segments.push(&stream[from..]);
        run(&mut framer, &segments)
            .into_iter()
            // Garbage is reported in pieces that depend on the cuts; the total does not.
            .filter(|r| !matches!(r, Err(SipError::StreamGarbage { .. })))
            .collect()
    }

    proptest! {
        #[test]
        fn any_split_yields_the_same_messages(
            picks in vec(0usize..5, 1..12),
            cuts in vec(any::<usize>(), 0..10),
        ) {
            let pieces: [&[u8]; 5] = [A, B, C, b"\r\n\r\n", b"garbage line\r\n"];
            let stream: Vec<u8> = picks.iter().flat_map(|&i| pieces[i].iter().copied()).collect();
            let whole = frames_of(&stream, &[]);
            prop_assert_eq!(&frames_of(&stream, &cuts), &whole);
            let expected = picks.iter().filter(|&&i| i < 3).count();
            // Garbage right before a message is a line of its own, so nothing is lost.
            prop_assert_eq!(whole.iter().filter(|r| r.is_ok()).count(), expected);
        }

        #[test]
        fn arbitrary_streams_never_panic_and_stay_bounded(
            segments in vec(vec(any::<u8>(), 0..300), 0..8),
        ) {
            let mut framer = StreamFramer::new(256);
            for segment in &segments {
                framer.push(segment);
                for _ in 0..=segment.len() + 1 {
                    match framer.next_frame() {
                        Ok(Some(frame)) => prop_assert!(frame.len() <= 256),
                        Ok(None) => break,
                        Err(_) => {}
                    }
                }
                prop_assert!(framer.buffered() <= 256 + segment.len());
            }
        }
    }
}
