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
        let mut parts = value.split_ascii_whitespace();
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(net_type), Some(addr_type), Some(address), None) => Ok(Self {
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
    /// The lines after the `m=` line, up to the next `m=` line.
    section: &'a str,
    /// Offset of `section` in the SDP.
    section_offset: usize,
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
        section_offset: 0,
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
        let mut first = true;
        let mut offset = 0;
        let mut current: Option<usize> = None;
        for raw in LinesInclusive(text) {
            let line_offset = offset;
            offset += raw.len();
            let line = raw.trim_end_matches(['\r', '\n']);
            if trim_lws(line).is_empty() {
                continue;
            }
            let (kind, value) = match line.as_bytes() {
                [k, b'=', ..] if k.is_ascii_alphabetic() => {
                    (char::from(*k), line.get(2..).unwrap_or_default())
                }
                _ => {
                    return Err(SipError::SdpLine {
                        offset: line_offset,
                        reason: "not <type>=<value>",
                    });
                }
            };
            if first {
                if kind != 'v' || value.trim() != "0" {
                    return Err(SipError::SdpLine {
                        offset: line_offset,
                        reason: "first line is not v=0",
                    });
                }
                first = false;
                continue;
            }
            match (kind, current) {
                ('m', _) => {
                    if current.is_none() {
                        sdp.session_section = text.get(..line_offset).unwrap_or_default();
                    }
                    if sdp.media.len() >= MAX_MEDIA {
                        return Err(SipError::TooManyMedia {
                            max: MAX_MEDIA,
                            offset: line_offset,
                        });
                    }
                    let mut media = parse_media_line(value, line_offset)?;
                    media.section_offset = offset;
                    current = Some(sdp.media.len());
                    sdp.media.push(media);
                }
                ('o', None) if sdp.origin.is_none() => {
                    sdp.origin = Some(parse_origin(value, line_offset)?);
                }
                ('c', None) if sdp.connection.is_none() => {
                    sdp.connection = Some(Connection::parse(value, line_offset, 'c')?);
                }
                ('a', None) => {
                    if let Some(d) = Direction::from_attribute(value.trim()) {
                        sdp.direction = Some(d);
                    }
                }
                ('c', Some(i)) => {
                    if let Some(m) = sdp.media.get_mut(i).filter(|m| m.connection.is_none()) {
                        m.connection = Some(Connection::parse(value, line_offset, 'c')?);
                    }
                }
                ('a', Some(i)) => {
                    let Some(m) = sdp.media.get_mut(i) else {
                        continue;
                    };
                    let (name, attr_value) = split_attribute(value);
                    if let Some(d) = Direction::from_attribute(name) {
                        m.direction = Some(d);
                    } else if name == "rtcp" {
                        m.rtcp = Some(parse_rtcp(attr_value.unwrap_or_default(), line_offset)?);
                    } else if name == "rtcp-mux" {
                        m.rtcp_mux = true;
                    }
                }
                _ => {}
            }
            if let Some(m) = current.and_then(|i| sdp.media.get_mut(i)) {
                m.section = text.get(m.section_offset..offset).unwrap_or_default();
            }
        }
        if first {
            return Err(SipError::SdpLine {
                offset: 0,
                reason: "first line is not v=0",
            });
        }
        if current.is_none() {
            sdp.session_section = text;
        }
        Ok(sdp)
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
        self.media().iter().enumerate().map(|(index, m)| {
            let ip = m.connection.or(self.connection).and_then(|c| c.ip());
            let rtp = ip
                .filter(|_| m.port != 0)
                .map(|ip| SocketAddr::new(ip, m.port));
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
    let mut p = value.split_ascii_whitespace();
    match (
        p.next(),
        p.next(),
        p.next(),
        p.next(),
        p.next(),
        p.next(),
        p.next(),
    ) {
        (Some(u), Some(id), Some(ver), Some(nt), Some(at), Some(addr), None) => Ok(Origin {
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

fn parse_media_line(value: &str, offset: usize) -> Result<Media<'_>> {
    let bad = |reason| SipError::SdpField {
        field: 'm',
        offset,
        reason,
    };
    let mut parts = value.splitn(4, ' ');
    let media = parts
        .next()
        .filter(|m| !m.is_empty())
        .ok_or(bad("no media type"))?;
    let port_text = parts.next().ok_or(bad("no port"))?;
    let proto = parts
        .next()
        .filter(|p| !p.is_empty())
        .ok_or(bad("no proto"))?;
    let formats = parts.next().unwrap_or_default().trim();
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
    Ok(Media {
        media,
        port,
        port_count,
        proto,
        formats,
        ..Media::EMPTY
    })
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
    Some(text)
        .filter(|t| (1..=5).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
}

/// The lines of a text, each with its line break (as `split_inclusive('\n')`, faster).
struct LinesInclusive<'a>(&'a str);

impl<'a> Iterator for LinesInclusive<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.0.is_empty() {
            return None;
        }
        let end = find_byte(self.0.as_bytes(), b'\n').map_or(self.0.len(), |i| i + 1);
        let (line, rest) = self.0.split_at_checked(end).unwrap_or((self.0, ""));
        self.0 = rest;
        Some(line)
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
    }
}
