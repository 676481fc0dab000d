//! SDP session descriptions (RFC 8866, which obsoletes RFC 4566): where each media stream
//! of a call goes.
//!
//! [`Sdp::parse`] reads the origin (`o=`: TS 102 232-5 ties the legs of a call by it), the
//! session- and media-level connection data (`c=`), the media descriptions (`m=`), the
//! direction attributes and `a=rtcp` (RFC 3605), with an index of at most [`MAX_MEDIA`]
//! media descriptions, the first [`INLINE_MEDIA`] of them held inline (an SDP with more
//! costs one allocation). [`Sdp::streams`] resolves them into what a media binder
//! needs: per stream the RTP and RTCP transport addresses and the direction.
//!
//! Other lines (`s=`, `t=`, `b=`, `k=`, ...) are skipped; other attributes can be walked
//! with [`Sdp::session_attributes`] and [`Media::attributes`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use smallvec::SmallVec;

use super::error::{Result, SipError};
use super::uri::{find_byte, split_byte, trim_lws};

/// How many media descriptions (`m=` lines) [`Sdp`] indexes (a local bound).
pub const MAX_MEDIA: usize = 16;

/// How many media descriptions [`Sdp`] holds without allocating: a call's audio and video
/// with room to spare. Kept small because a parsed SDP is built and moved per message: each
/// description is some 180 octets, all sixteen inline made every parse initialise and move
/// about 3 KiB.
pub const INLINE_MEDIA: usize = 4;

/// A parsed SDP body, borrowing from it.
///
/// ```
/// use li_capture::sip::sdp::{Direction, Sdp};
///
/// let body = b"v=0\r\n\
///     o=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\n\
///     s=-\r\n\
///     c=IN IP4 192.0.2.1\r\n\
///     t=0 0\r\n\
///     m=audio 49170 RTP/AVP 0 96\r\n\
///     a=rtpmap:96 opus/48000/2\r\n\
///     a=sendonly\r\n\
///     m=video 0 RTP/AVP 31\r\n";
/// let sdp = Sdp::parse(body)?;
/// assert_eq!(sdp.origin().map(|o| o.session_id), Some("2890844526"));
/// let audio = sdp.streams().next().unwrap();
/// assert_eq!(audio.rtp, Some("192.0.2.1:49170".parse()?));
/// assert_eq!(audio.rtcp, Some("192.0.2.1:49171".parse()?));
/// assert_eq!(audio.direction, Direction::SendOnly);
/// let video = sdp.streams().nth(1).unwrap();
/// assert!(!video.enabled()); // port 0
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sdp<'a> {
    origin: Option<Origin<'a>>,
    connection: Option<Connection<'a>>,
    direction: Option<Direction>,
    session_section: &'a str,
    media: SmallVec<[Media<'a>; INLINE_MEDIA]>,
}

/// The origin line (`o=`, RFC 8866 clause 5.2): identifies the session and its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin<'a> {
    /// `<username>` (`-` if none).
    pub username: &'a str,
    /// `<sess-id>`, kept as text (numeric by convention, any width).
    pub session_id: &'a str,
    /// `<sess-version>`, kept as text.
    pub session_version: &'a str,
    /// `<nettype>` (`IN`).
    pub net_type: &'a str,
    /// `<addrtype>` (`IP4`, `IP6`).
    pub addr_type: &'a str,
    /// `<unicast-address>` (an address or a host name).
    pub address: &'a str,
}

/// Connection data (`c=`, RFC 8866 clause 5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection<'a> {
    /// `<nettype>` (`IN`).
    pub net_type: &'a str,
    /// `<addrtype>` (`IP4`, `IP6`).
    pub addr_type: &'a str,
    /// The address without a multicast `/ttl` or `/count` suffix (an address or a name).
    pub address: &'a str,
}

impl<'a> Connection<'a> {
    fn parse(value: &'a str, offset: usize, field: char) -> Result<Self> {
        match words(value) {
            Some([net_type, addr_type, address]) => Ok(Self {
                net_type,
                addr_type,
                address: split_byte(address, b'/').map_or(address, |(a, _)| a),
            }),
            _ => Err(SipError::SdpField {
                field,
                offset,
                reason: "expected <nettype> <addrtype> <address>",
            }),
        }
    }

    /// The address as an IP address: `IN IP4` with a dotted quad or `IN IP6` with an IPv6
    /// address; `None` for a host name or another network type.
    pub fn ip(&self) -> Option<IpAddr> {
        if !self.net_type.eq_ignore_ascii_case("IN") {
            return None;
        }
        if self.addr_type.eq_ignore_ascii_case("IP4") {
            self.address.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
        } else if self.addr_type.eq_ignore_ascii_case("IP6") {
            self.address.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            None
        }
    }
}

/// The media direction attribute (RFC 8866 clause 6.7); `sendrecv` when none is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    #[default]
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    fn from_attribute(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rtcp<'a> {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, if given.
    pub connection: Option<Connection<'a>>,
}

/// One media description (`m=` line and the lines up to the next one, RFC 8866 clause 5.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Media<'a> {
    /// `<media>` (`audio`, `video`, `text`, `application`, `message`, `image`).
    pub media: &'a str,
    /// `<port>`; 0 means the stream is disabled (RFC 3264 clause 5.1).
    pub port: u16,
    /// The number of ports from `<port>/<number of ports>`; 1 if not given.
    pub port_count: u16,
    /// `<proto>` (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...).
    pub proto: &'a str,
    /// `<fmt> ...` as written (split with `split_ascii_whitespace`); for RTP, payload types.
    pub formats: &'a str,
    /// The media-level `c=`, if any.
    pub connection: Option<Connection<'a>>,
    /// The media-level direction attribute, if any.
    pub direction: Option<Direction>,
    /// `a=rtcp`, if present.
    pub rtcp: Option<Rtcp<'a>>,
    /// `a=rtcp-mux` present (RFC 5761: RTP and RTCP share the port, if the answer agrees).
    pub rtcp_mux: bool,
    /// The lines after the `m=` line, up to the next `m=` line (set when the section ends:
    /// up to its last line that is not blank).
    section: &'a str,
}

impl<'a> Media<'a> {
    const EMPTY: Self = Self {
        media: "",
        port: 0,
        port_count: 1,
        proto: "",
        formats: "",
        connection: None,
        direction: None,
        rtcp: None,
        rtcp_mux: false,
        section: "",
    };

    /// The media-level attributes, as (name, value) (`("rtpmap", Some("96 opus/48000/2"))`,
    /// `("sendonly", None)`).
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        attributes(self.section)
    }

    /// The `a=rtpmap` attributes (RFC 8866 clause 6.6) that parse.
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap<'a>> + 'a {
        self.attributes()
            .filter(|(name, _)| *name == "rtpmap")
            .filter_map(|(_, value)| RtpMap::parse(value?))
    }

    /// The `a=rtpmap` for payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap<'a>> {
        self.rtpmaps().find(|m| m.payload_type == pt)
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpMap<'a> {
    /// The RTP payload type.
    pub payload_type: u8,
    /// The encoding name (`PCMU`, `opus`, `telephone-event`).
    pub encoding: &'a str,
    /// The clock rate in Hz.
    pub clock_rate: u32,
    /// The encoding parameters (channels for audio), if given.
    pub params: Option<&'a str>,
}

impl<'a> RtpMap<'a> {
    fn parse(value: &'a str) -> Option<Self> {
        let (pt, rest) = value.trim().split_once(' ')?;
        let mut parts = rest.trim().splitn(3, '/');
        Some(Self {
            payload_type: pt.parse().ok().filter(|pt| *pt < 128)?,
            encoding: parts.next().filter(|e| !e.is_empty())?,
            clock_rate: parts.next()?.parse().ok()?,
            params: parts.next(),
        })
    }
}

/// A media stream resolved for binding: where its RTP and RTCP go, and its direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaStream<'a> {
    /// The index of the `m=` line (0-based): offer and answer match streams by it (RFC 3264
    /// clause 6).
    pub index: usize,
    /// The media type (`audio`, `video`, ...).
    pub media: &'a str,
    /// The transport protocol (`RTP/AVP`, ...).
    pub proto: &'a str,
    /// The `m=` port; 0 for a disabled stream.
    pub port: u16,
    /// The RTP transport address: the media-level `c=` address, else the session-level one,
    /// with the `m=` port. `None` for a disabled stream or without an IP address.
    pub rtp: Option<SocketAddr>,
    /// The RTCP transport address: `a=rtcp` port (and address, if given), else the RTP port
    /// plus one (RFC 3550 clause 11) at the RTP address. `None` when `rtp` is.
    pub rtcp: Option<SocketAddr>,
    /// The direction: the media-level attribute, else the session-level one, else
    /// `sendrecv`.
    pub direction: Direction,
}

impl MediaStream<'_> {
    /// Whether the stream is enabled (port not 0).
    pub fn enabled(&self) -> bool {
        self.port != 0
    }
}

impl<'a> Sdp<'a> {
    /// Parses an SDP body. The first line must be `v=0`; lines end with CRLF or LF.
    ///
    /// Errors: [`SipError::SdpNotUtf8`], [`SipError::SdpLine`] (not `x=value`, or no `v=0`
    /// first), [`SipError::SdpField`] (malformed `o=`, `c=`, `m=`, `a=rtcp`),
    /// [`SipError::TooManyMedia`].
    #[inline]
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        let text = std::str::from_utf8(body).map_err(|e| SipError::SdpNotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let mut sdp = Self {
            origin: None,
            connection: None,
            direction: None,
            session_section: text,
            media: SmallVec::new(),
        };
        sdp.read(text)?;
        Ok(sdp)
    }

    /// The origin alone, for a caller that needs nothing else of the body (a call tracker
    /// asking whether an INVITE is another leg of a call it knows): the lines up to the
    /// session-level `o=` are read and checked as [`Sdp::parse`] reads them, the rest is
    /// not. `Ok(None)` if the session section has no `o=` line.
    ///
    /// So it can return an origin where [`Sdp::parse`] would fail on a later line. Errors
    /// as [`Sdp::parse`] for the lines it reads; a body that is not UTF-8 is parsed whole.
    pub fn parse_origin(body: &'a [u8]) -> Result<Option<Origin<'a>>> {
        let Ok(text) = std::str::from_utf8(body) else {
            return Self::parse(body).map(|sdp| sdp.origin());
        };
        let mut first = true;
        for line in (SdpLines { rest: text, end: 0 }) {
            let Line {
                kind,
                value,
                offset,
                ..
            } = line?;
            if first {
                check_v0(kind, value, offset)?;
                first = false;
                continue;
            }
            match kind {
                b'o' => return parse_origin(value, offset).map(Some),
                b'm' => return Ok(None),
                _ => {}
            }
        }
        if first {
            return Err(not_v0(0));
        }
        Ok(None)
    }

    /// Reads the lines of `text` into `self` (just made).
    fn read(&mut self, text: &'a str) -> Result<()> {
        let sdp = self;
        let mut first = true;
        // The start of the current media section, and the end of the last line that is not
        // blank: a section ends there.
        let mut section_start = 0;
        let mut last_end = 0;
        for line in (SdpLines { rest: text, end: 0 }) {
            let Line {
                kind,
                value,
                offset: line_offset,
                end,
            } = line?;
            if first {
                check_v0(kind, value, line_offset)?;
                first = false;
            } else if let Some(m) = sdp.media.last_mut() {
                match kind {
                    b'm' => {
                        m.section = text.get(section_start..last_end).unwrap_or_default();
                        sdp.push_media(value, line_offset)?;
                        section_start = end;
                    }
                    b'a' => match media_attribute(value) {
                        Attribute::Direction(d) => m.direction = Some(d),
                        Attribute::Rtcp(v) => m.rtcp = Some(parse_rtcp(v, line_offset)?),
                        Attribute::RtcpMux => m.rtcp_mux = true,
                        Attribute::Other => {}
                    },
                    b'c' if m.connection.is_none() => {
                        m.connection = Some(Connection::parse(value, line_offset, 'c')?);
                    }
                    _ => {}
                }
            } else {
                match kind {
                    b'm' => {
                        sdp.session_section = text.get(..line_offset).unwrap_or_default();
                        sdp.push_media(value, line_offset)?;
                        section_start = end;
                    }
                    b'a' => {
                        if let Some(d) = Direction::from_attribute(trim(value)) {
                            sdp.direction = Some(d);
                        }
                    }
                    b'o' if sdp.origin.is_none() => {
                        sdp.origin = Some(parse_origin(value, line_offset)?);
                    }
                    b'c' if sdp.connection.is_none() => {
                        sdp.connection = Some(Connection::parse(value, line_offset, 'c')?);
                    }
                    _ => {}
                }
            }
            last_end = end;
        }
        if first {
            return Err(not_v0(0));
        }
        if let Some(m) = sdp.media.last_mut() {
            m.section = text.get(section_start..last_end).unwrap_or_default();
        }
        Ok(())
    }

    /// Appends the media description of an `m=` line at `offset`.
    fn push_media(&mut self, value: &'a str, offset: usize) -> Result<()> {
        if self.media.len() >= MAX_MEDIA {
            return Err(SipError::TooManyMedia {
                max: MAX_MEDIA,
                offset,
            });
        }
        let (media, port, port_count, proto, formats) = parse_media_line(value, offset)?;
        self.media.push(Media {
            media,
            port,
            port_count,
            proto,
            formats,
            ..Media::EMPTY
        });
        Ok(())
    }

    /// The origin (`o=`), if present.
    pub fn origin(&self) -> Option<Origin<'a>> {
        self.origin
    }

    /// The session-level connection data, if present.
    pub fn connection(&self) -> Option<Connection<'a>> {
        self.connection
    }

    /// The session-level direction attribute, if present.
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// The session-level attributes, as (name, value).
    pub fn session_attributes(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        attributes(self.session_section)
    }

    /// The media descriptions, in order.
    pub fn media(&self) -> &[Media<'a>] {
        &self.media
    }

    /// The media streams resolved to transport addresses and directions.
    pub fn streams(&self) -> impl Iterator<Item = MediaStream<'a>> + '_ {
        // The session-level address, parsed once for the streams that use it.
        let mut session_ip: Option<Option<IpAddr>> = None;
        self.media().iter().enumerate().map(move |(index, m)| {
            let ip = match m.connection {
                _ if m.port == 0 => None,
                Some(c) => c.ip(),
                None => *session_ip.get_or_insert_with(|| self.connection.and_then(|c| c.ip())),
            };
            let rtp = ip.map(|ip| SocketAddr::new(ip, m.port));
            let rtcp = rtp.map(|rtp| match m.rtcp {
                Some(r) => SocketAddr::new(
                    r.connection.and_then(|c| c.ip()).unwrap_or(rtp.ip()),
                    r.port,
                ),
                None => SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1)),
            });
            MediaStream {
                index,
                media: m.media,
                proto: m.proto,
                port: m.port,
                rtp,
                rtcp,
                direction: m.direction.or(self.direction).unwrap_or_default(),
            }
        })
    }
}

fn parse_origin(value: &str, offset: usize) -> Result<Origin<'_>> {
    match words(value) {
        Some([u, id, ver, nt, at, addr]) => Ok(Origin {
            username: u,
            session_id: id,
            session_version: ver,
            net_type: nt,
            addr_type: at,
            address: addr,
        }),
        _ => Err(SipError::SdpField {
            field: 'o',
            offset,
            reason: "expected <username> <sess-id> <sess-version> <nettype> <addrtype> <address>",
        }),
    }
}

/// The fields of an `m=` line: media, port, number of ports, proto, formats.
type MediaLine<'a> = (&'a str, u16, u16, &'a str, &'a str);

fn parse_media_line(value: &str, offset: usize) -> Result<MediaLine<'_>> {
    let bad = |reason| SipError::SdpField {
        field: 'm',
        offset,
        reason,
    };
    // As `splitn(4, ' ')`: single spaces, empty fields kept.
    let (media, rest) = split_byte(value, b' ').map_or((value, None), |(m, r)| (m, Some(r)));
    let (port_text, rest) = match rest {
        Some(rest) => {
            split_byte(rest, b' ').map_or((Some(rest), None), |(p, r)| (Some(p), Some(r)))
        }
        None => (None, None),
    };
    let (proto, formats) = match rest {
        Some(rest) => split_byte(rest, b' ').map_or((Some(rest), ""), |(p, f)| (Some(p), f)),
        None => (None, ""),
    };
    media_fields(bad, media, port_text, proto, formats)
}

/// The fields of an `m=` line from its parts as `splitn(4, ' ')` gives them (`None`: no such
/// part).
fn media_fields<'a>(
    bad: impl Fn(&'static str) -> SipError,
    media: &'a str,
    port_text: Option<&'a str>,
    proto: Option<&'a str>,
    formats: &'a str,
) -> Result<MediaLine<'a>> {
    if media.is_empty() {
        return Err(bad("no media type"));
    }
    let port_text = port_text.ok_or_else(|| bad("no port"))?;
    let proto = proto.ok_or_else(|| bad("no proto"))?;
    if proto.is_empty() {
        return Err(bad("no proto"));
    }
    let (port, count) = match split_byte(port_text, b'/') {
        Some((p, c)) => (p, Some(c)),
        None => (port_text, None),
    };
    let port = parse_port(port).ok_or(bad("port is not 0..=65535"))?;
    let port_count = match count {
        None => 1,
        Some(c) => parse_port(c)
            .filter(|c| *c > 0)
            .ok_or(bad("number of ports is not 1..=65535"))?,
    };
    Ok((media, port, port_count, proto, trim(formats)))
}

fn parse_rtcp(value: &str, offset: usize) -> Result<Rtcp<'_>> {
    let value = value.trim();
    let (port, rest) = split_byte(value, b' ').unwrap_or((value, ""));
    let port = parse_port(port).ok_or(SipError::SdpField {
        field: 'a',
        offset,
        reason: "a=rtcp port is not 0..=65535",
    })?;
    let connection = match rest.trim() {
        "" => None,
        rest => Some(Connection::parse(rest, offset, 'a')?),
    };
    Ok(Rtcp { port, connection })
}

fn parse_port(text: &str) -> Option<u16> {
    if !(1..=5).contains(&text.len()) {
        return None;
    }
    let mut n = 0u32;
    for b in text.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
    }
    u16::try_from(n).ok()
}

/// The error for a first line that is not `v=0`.
/// The first line must be `v=0`.
fn check_v0(kind: u8, value: &str, offset: usize) -> Result<()> {
    if kind == b'v' && (value == "0" || value.trim() == "0") {
        Ok(())
    } else {
        Err(not_v0(offset))
    }
}

fn not_v0(offset: usize) -> SipError {
    SipError::SdpLine {
        offset,
        reason: "first line is not v=0",
    }
}

/// A line of an SDP that is not blank: `<kind>=<value>`.
struct Line<'a> {
    /// The type letter.
    kind: u8,
    /// What follows the `=`, without the line break (nor any `\r` or `\n` before it).
    value: &'a str,
    /// The offset of the line.
    offset: usize,
    /// The offset past the line break.
    end: usize,
}

/// The lines of an SDP that are not blank (only spaces, tabs and line breaks), each checked to
/// be `<kind>=<value>` with an ASCII letter for kind; lines end with LF.
struct SdpLines<'a> {
    /// The text after the last line.
    rest: &'a str,
    /// The offset of `rest`.
    end: usize,
}

impl<'a> Iterator for SdpLines<'a> {
    type Item = Result<Line<'a>>;

    fn next(&mut self) -> Option<Result<Line<'a>>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let bytes = self.rest.as_bytes();
            let len = find_byte(bytes, b'\n').map_or(bytes.len(), |i| i + 1);
            let (raw, rest) = self.rest.split_at_checked(len).unwrap_or((self.rest, ""));
            let offset = self.end;
            self.rest = rest;
            self.end += len;
            // Without the line break and any CR or LF before it (both ASCII, so the cut is
            // on a character boundary).
            let raw_bytes = raw.as_bytes();
            let mut trimmed = raw_bytes.len();
            while let Some(b'\r' | b'\n') =
                trimmed.checked_sub(1).and_then(|last| raw_bytes.get(last))
            {
                trimmed -= 1;
            }
            // `x=` is checked on the untrimmed line: `=` is kept by the trim.
            if let [kind, b'=', ..] = raw_bytes
                && kind.is_ascii_alphabetic()
            {
                return Some(Ok(Line {
                    kind: *kind,
                    value: raw.get(2..trimmed).unwrap_or_default(),
                    offset,
                    end: self.end,
                }));
            }
            if !trim_lws(raw).is_empty() {
                self.rest = "";
                return Some(Err(SipError::SdpLine {
                    offset,
                    reason: "not <type>=<value>",
                }));
            }
        }
    }
}

/// The words of `s` separated by ASCII whitespace (as `split_ascii_whitespace`), if there
/// are exactly `N`.
fn words<const N: usize>(s: &str) -> Option<[&str; N]> {
    let mut out = [""; N];
    if has_control(s.as_bytes()) {
        // Tabs, CRs, form feeds (or other control characters): the general split.
        let mut words = s.split_ascii_whitespace();
        for w in &mut out {
            *w = words.next()?;
        }
        return words.next().is_none().then_some(out);
    }
    // Only spaces separate words: runs of them, eight octets at a time.
    let mut rest = s;
    let mut n = 0;
    loop {
        let (word, after) = split_byte(rest, b' ').unwrap_or((rest, ""));
        if !word.is_empty() {
            *out.get_mut(n)? = word;
            n += 1;
        }
        if after.is_empty() {
            break;
        }
        rest = after;
    }
    (n == N).then_some(out)
}

/// Whether `bytes` has an octet below 0x20 (a control character), eight at a time.
fn has_control(bytes: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // Some octet is below 0x20 iff this is non-zero (the classic "has less than" test).
        if x.wrapping_sub(0x20 * LO) & !x & HI != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b < 0x20)
}

/// `s.trim()`, with a shortcut when neither end is whitespace.
fn trim(s: &str) -> &str {
    let graphic = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    let bytes = s.as_bytes();
    if graphic(bytes.first()) && graphic(bytes.last()) {
        s
    } else {
        s.trim()
    }
}

/// What a media-level attribute line means to the parser.
enum Attribute<'a> {
    /// A direction attribute.
    Direction(Direction),
    /// `a=rtcp`, with its value (empty if none).
    Rtcp(&'a str),
    /// `a=rtcp-mux`.
    RtcpMux,
    /// Anything else.
    Other,
}

/// The meaning of a media-level `a=` line's value: the name as [`split_attribute`] gives it.
fn media_attribute(value: &str) -> Attribute<'_> {
    // A name that starts the value (its first octet is neither trimmed nor `:`) is one of
    // those sought only if the value starts with it.
    if let Some(first) = value.as_bytes().first()
        && first.is_ascii_graphic()
        && *first != b':'
    {
        let sought = match first {
            b's' => value.starts_with("send"),
            b'r' => value.starts_with("recvonly") || value.starts_with("rtcp"),
            b'i' => value.starts_with("inactive"),
            _ => false,
        };
        if !sought {
            return Attribute::Other;
        }
    }
    // The leading run of octets that cannot be trimmed and are not `:`; when it ends the
    // value or is followed by `:`, it is the name as `split_attribute` would trim it.
    let bytes = value.as_bytes();
    let run = bytes
        .iter()
        .position(|&b| b == b':' || !b.is_ascii_graphic())
        .unwrap_or(bytes.len());
    let (name, attr_value) = match value.split_at_checked(run) {
        Some((name, "")) => (name, None),
        Some((name, rest)) if rest.as_bytes().first() == Some(&b':') => {
            (name, Some(rest.get(1..).unwrap_or_default()))
        }
        _ => split_attribute(value),
    };
    if let Some(d) = Direction::from_attribute(name) {
        Attribute::Direction(d)
    } else if name == "rtcp" {
        Attribute::Rtcp(attr_value.unwrap_or_default())
    } else if name == "rtcp-mux" {
        Attribute::RtcpMux
    } else {
        Attribute::Other
    }
}

/// `name:value` or `name` (a property attribute).
fn split_attribute(value: &str) -> (&str, Option<&str>) {
    match split_byte(value, b':') {
        Some((n, v)) => (n.trim(), Some(v)),
        None => (value.trim(), None),
    }
}

/// The `a=` lines of a section.
fn attributes(section: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    section.lines().filter_map(|line| {
        line.trim_end_matches('\r')
            .strip_prefix("a=")
            .map(split_attribute)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::collection::vec;
    use proptest::prelude::*;

    fn addr(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    const OFFER: &str = "v=0\r\n\
        o=- 20518 0 IN IP6 2001:db8::c000:201\r\n\
        s=call\r\n\
        c=IN IP6 2001:DB8::1\r\n\
        t=0 0\r\n\
        a=recvonly\r\n\
        m=audio 49170/2 RTP/AVP 0 8 96\r\n\
        a=rtpmap:96 telephone-event/8000\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtcp:53020 IN IP4 192.0.2.44\r\n\
        m=video 51372 RTP/SAVP 31\r\n\
        c=IN IP4 224.2.36.42/127\r\n\
        a=sendrecv\r\n\
        a=rtcp:51400\r\n\
        a=rtcp-mux\r\n\
        m=text 0 RTP/AVP 98\r\n\
        a=inactive\r\n\
        m=audio 3456 RTP/AVP 0\r\n";

    #[test]
    fn offer_with_everything() {
        let sdp = Sdp::parse(OFFER.as_bytes()).unwrap();
        let o = sdp.origin().unwrap();
        assert_eq!(
            (
                o.username,
                o.session_id,
                o.session_version,
                o.net_type,
                o.addr_type,
                o.address
            ),
            ("-", "20518", "0", "IN", "IP6", "2001:db8::c000:201")
        );
        assert_eq!(sdp.connection().unwrap().address, "2001:DB8::1");
        assert_eq!(sdp.direction(), Some(Direction::RecvOnly));
        assert_eq!(
            sdp.session_attributes().collect::<Vec<_>>(),
            [("recvonly", None)]
        );
        let media = sdp.media();
        assert_eq!(media.len(), 4);
        assert_eq!(
            (
                media[0].media,
                media[0].port,
                media[0].port_count,
                media[0].proto,
                media[0].formats
            ),
            ("audio", 49170, 2, "RTP/AVP", "0 8 96")
        );
        assert_eq!(
            media[0].rtpmap(96),
            Some(RtpMap {
                payload_type: 96,
                encoding: "telephone-event",
                clock_rate: 8000,
                params: None
            })
        );
        assert_eq!(media[0].rtpmaps().count(), 2);
        assert_eq!(media[0].rtpmap(8), None);
        assert!(media[1].rtcp_mux && !media[0].rtcp_mux);
        assert_eq!(media[1].connection.unwrap().address, "224.2.36.42");
        assert_eq!(media[1].attributes().count(), 3);

        let streams: Vec<_> = sdp.streams().collect();
        // Session c= (IPv6), a=rtcp with its own address, session direction.
        assert_eq!(streams[0].rtp, addr("[2001:db8::1]:49170"));
        assert_eq!(streams[0].rtcp, addr("192.0.2.44:53020"));
        assert_eq!(streams[0].direction, Direction::RecvOnly);
        // Media c= overrides, a=rtcp port only: the RTP address; media direction overrides.
        assert_eq!(streams[1].rtp, addr("224.2.36.42:51372"));
        assert_eq!(streams[1].rtcp, addr("224.2.36.42:51400"));
        assert_eq!(streams[1].direction, Direction::SendRecv);
        // Port 0: disabled, no addresses.
        assert!(!streams[2].enabled());
        assert_eq!((streams[2].rtp, streams[2].rtcp), (None, None));
        assert_eq!(streams[2].direction, Direction::Inactive);
        // Default RTCP: RTP port + 1.
        assert_eq!(streams[3].rtp, addr("[2001:db8::1]:3456"));
        assert_eq!(streams[3].rtcp, addr("[2001:db8::1]:3457"));
        assert_eq!((streams[3].index, streams[3].media), (3, "audio"));
    }

    #[test]
    fn bare_lf_and_defaults() {
        let sdp = Sdp::parse(b"v=0\no=u 1 2 IN IP4 h.example\ns=-\nm=audio 5004 RTP/AVP 0\nc=IN IP4 198.51.100.7\n\n").unwrap();
        let s = sdp.streams().next().unwrap();
        assert_eq!(s.rtp, addr("198.51.100.7:5004"));
        assert_eq!(s.direction, Direction::SendRecv);
        // A host name in c= gives no transport address; nor does no c= at all.
        let sdp =
            Sdp::parse(b"v=0\r\nc=IN IP4 media.example\r\nm=audio 5004 RTP/AVP 0\r\n").unwrap();
        assert_eq!(sdp.streams().next().unwrap().rtp, None);
        let sdp = Sdp::parse(b"v=0\r\nm=audio 5004 RTP/AVP 0\r\n").unwrap();
        assert_eq!(sdp.streams().next().unwrap().rtp, None);
        // Hold with 0.0.0.0 is an address like any other; the binder decides.
        let sdp =
            Sdp::parse(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 5004 RTP/AVP 0\r\na=sendonly\r\n")
                .unwrap();
        let s = sdp.streams().next().unwrap();
        assert_eq!(
            (s.rtp, s.direction),
            (addr("0.0.0.0:5004"), Direction::SendOnly)
        );
        // No media at all.
        let sdp = Sdp::parse(b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n").unwrap();
        assert_eq!(sdp.streams().count(), 0);
        assert_eq!(sdp.origin().unwrap().address, "192.0.2.1");
        // Mismatched address type: no IP.
        let c = Connection::parse("IN IP4 2001:db8::1", 0, 'c').unwrap();
        assert_eq!(c.ip(), None);
    }

    #[test]
    fn malformed_sdp() {
        let cases: [(&[u8], SipError); 9] = [
            (
                b"",
                SipError::SdpLine {
                    offset: 0,
                    reason: "first line is not v=0",
                },
            ),
            (
                b"o=- 1 1 IN IP4 h\r\n",
                SipError::SdpLine {
                    offset: 0,
                    reason: "first line is not v=0",
                },
            ),
            (
                b"v=1\r\n",
                SipError::SdpLine {
                    offset: 0,
                    reason: "first line is not v=0",
                },
            ),
            (
                b"v=0\r\nhello\r\n",
                SipError::SdpLine {
                    offset: 5,
                    reason: "not <type>=<value>",
                },
            ),
            (
                b"v=0\r\no=- 1 IN IP4 h\r\n",
                SipError::SdpField {
                    field: 'o',
                    offset: 5,
                    reason: "expected <username> <sess-id> <sess-version> <nettype> <addrtype> <address>",
                },
            ),
            (
                b"v=0\r\nc=IN IP4\r\n",
                SipError::SdpField {
                    field: 'c',
                    offset: 5,
                    reason: "expected <nettype> <addrtype> <address>",
                },
            ),
            (
                b"v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
                SipError::SdpField {
                    field: 'm',
                    offset: 5,
                    reason: "port is not 0..=65535",
                },
            ),
            (
                b"v=0\r\nm=audio 5004/0 RTP/AVP 0\r\n",
                SipError::SdpField {
                    field: 'm',
                    offset: 5,
                    reason: "number of ports is not 1..=65535",
                },
            ),
            (
                b"v=0\r\nm=audio 5004 RTP/AVP 0\r\na=rtcp:x\r\n",
                SipError::SdpField {
                    field: 'a',
                    offset: 29,
                    reason: "a=rtcp port is not 0..=65535",
                },
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(
                Sdp::parse(data).unwrap_err(),
                expected,
                "{}",
                String::from_utf8_lossy(data)
            );
        }
        assert_eq!(
            Sdp::parse(b"v=0\r\ns=\xc3\x28\r\n").unwrap_err(),
            SipError::SdpNotUtf8 { offset: 7 }
        );
        let mut many = String::from("v=0\r\n");
        for _ in 0..MAX_MEDIA {
            many.push_str("m=audio 1 RTP/AVP 0\r\n");
        }
        assert_eq!(
            Sdp::parse(many.as_bytes()).unwrap().media().len(),
            MAX_MEDIA
        );
        let offset = many.len();
        many.push_str("m=audio 1 RTP/AVP 0\r\n");
        assert_eq!(
            Sdp::parse(many.as_bytes()).unwrap_err(),
            SipError::TooManyMedia {
                max: MAX_MEDIA,
                offset
            }
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..512)) {
            if let Ok(sdp) = Sdp::parse(&data) {
                for m in sdp.media() {
                    let _ = (m.rtpmaps().count(), m.attributes().count());
                }
                prop_assert!(sdp.streams().count() <= MAX_MEDIA);
            }
        }

        #[test]
        fn mutated_offers_never_panic(
            mutations in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let mut data = OFFER.as_bytes().to_vec();
            for (at, byte) in mutations {
                let i = at.index(data.len());
                data[i] = byte;
            }
            if let Ok(sdp) = Sdp::parse(&data) {
                prop_assert!(sdp.streams().all(|s| s.rtp.is_none() == s.rtcp.is_none()));
            }
        }

        /// The origin read alone is the parsed body's; where the parse fails before the
        /// origin, it fails the same way.
        #[test]
        fn origin_alone_agrees_with_the_parse(
            mutations in vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            crlf in any::<bool>(),
        ) {
            let offer = if crlf { OFFER.to_owned() } else { OFFER.replace("\r\n", "\n") };
            let mut data = offer.into_bytes();
            for (at, byte) in mutations {
                let i = at.index(data.len());
                data[i] = byte;
            }
            match (Sdp::parse(&data), Sdp::parse_origin(&data)) {
                (Ok(sdp), alone) => prop_assert_eq!(alone, Ok(sdp.origin())),
                (Err(e), Err(alone)) => prop_assert_eq!(alone, e),
                // Only a line after the origin (or its section) can fail the whole parse.
                (Err(e), Ok(_)) => {
                    let origin_end = data.windows(2).position(|w| w == b"s=").unwrap_or(0);
                    prop_assert!(error_offset(&e) >= origin_end, "{e:?}");
                }
            }
        }
    }

    fn error_offset(e: &SipError) -> usize {
        match e {
            SipError::SdpLine { offset, .. }
            | SipError::SdpField { offset, .. }
            | SipError::SdpNotUtf8 { offset }
            | SipError::TooManyMedia { offset, .. } => *offset,
            _ => usize::MAX,
        }
    }

    #[test]
    fn origin_alone() {
        let o = Sdp::parse_origin(OFFER.as_bytes()).unwrap().unwrap();
        assert_eq!((o.session_id, o.address), ("20518", "2001:db8::c000:201"));
        // Lines after the origin are not read.
        let broken = b"v=0\r\no=- 1234 1 IN IP4 192.0.2.1\r\nnonsense\r\nm=audio x RTP/AVP 0\r\n";
        assert!(Sdp::parse(broken).is_err());
        assert_eq!(
            Sdp::parse_origin(broken).unwrap().map(|o| o.session_id),
            Some("1234")
        );
        // None before the first media description; errors before it as the parse's.
        assert_eq!(
            Sdp::parse_origin(b"v=0\nm=audio 1 RTP/AVP 0\no=- 1234 1 IN IP4 h\n"),
            Ok(None)
        );
        assert_eq!(
            Sdp::parse_origin(b"v=1\no=- 1234 1 IN IP4 h\n").unwrap_err(),
            Sdp::parse(b"v=1\no=- 1234 1 IN IP4 h\n").unwrap_err()
        );
        assert!(Sdp::parse_origin(b"v=0\no=too few\n").is_err());
        assert!(Sdp::parse_origin(b"\xffv=0\n").is_err());
        assert!(Sdp::parse_origin(b"").is_err());
    }
}
