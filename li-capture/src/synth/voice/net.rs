//! The wire under the synthetic calls: SIP over UDP (IPv4 fragmented when too big) and over
//! TCP (a stream cut into segments where the scenario says), RTP and RTCP datagrams, each
//! an Ethernet frame with valid checksums, and the ground truth of each frame recorded as
//! it is built.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use li_core::media::rtp::RtpHeader;
use li_core::{MediaProtocol, PayloadDirection, Timestamp};

use super::super::Error;
use super::super::packet::{self, IpParams, PROTO_TCP, PROTO_UDP, Rng};
use super::audio::{SAMPLE_RATE, SAMPLES_PER_PACKET, Tone};
use super::{
    CallEnd, CallTruth, Content, EPOCH_SECS, Frame, MediaTruth, RtpTruth, SipIri, SipTransport,
    SipTruth, VoiceCapture,
};
use crate::LinkType;
use crate::source::PcapWriter;
use li_core::media::g711::Law;

const MICROS: u64 = 1_000_000;

/// The largest IPv4 packet sent unfragmented (Ethernet MTU).
pub(crate) const MTU: usize = 1_500;

/// One packet waiting for its place in the capture.
struct Event {
    /// Microseconds from the capture start.
    t: u64,
    ip: Vec<u8>,
    content: Content,
}

/// Collects the packets of a scenario, in any order, and their truth.
pub(crate) struct Builder {
    events: Vec<Event>,
    messages: Vec<SipTruth>,
    calls: Vec<CallTruth>,
    ip_id: u16,
    /// Next sequence number per TCP direction (source, destination).
    tcp: HashMap<(SocketAddr, SocketAddr), u32>,
    rng: Rng,
}

impl Builder {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            events: Vec::new(),
            messages: Vec::new(),
            calls: Vec::new(),
            ip_id: 0x1000,
            tcp: HashMap::new(),
            rng: Rng::new(seed),
        }
    }

    /// A new call of the ground truth; its end is set with [`Builder::end_call`].
    pub(crate) fn call(&mut self, call_ids: &[&str], target_is_caller: bool) -> usize {
        self.calls.push(CallTruth {
            call_ids: call_ids.iter().map(|s| s.to_string()).collect(),
            target_is_caller,
            end: CallEnd::Silence {
                last_activity: Timestamp::MIN,
            },
        });
        self.calls.len() - 1
    }

    pub(crate) fn call_mut(&mut self, call: usize) -> Option<&mut CallTruth> {
        self.calls.get_mut(call)
    }

    /// The time of the latest packet so far, in microseconds.
    pub(crate) fn last_time(&self) -> u64 {
        self.events.iter().map(|e| e.t).max().unwrap_or(0)
    }

    pub(crate) fn end_call(&mut self, call: usize, end: CallEnd) {
        if let Some(c) = self.calls.get_mut(call) {
            c.end = end;
        }
    }

    fn params(&mut self, df: bool) -> IpParams {
        self.ip_id = self.ip_id.wrapping_add(1);
        IpParams {
            ttl: 64,
            id: self.ip_id,
            df,
        }
    }

    fn message(
        &mut self,
        text: Vec<u8>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: SipTransport,
        iri: Option<SipIri>,
    ) -> usize {
        let index = self.messages.len();
        self.messages.push(SipTruth {
            index,
            text,
            src,
            dst,
            transport,
            frames: Vec::new(),
            iri,
        });
        index
    }

    /// A SIP message in one UDP datagram at `t` ms, fragmented (IPv4) if it does not fit
    /// [`MTU`]. Returns the message's index (until [`Builder::finish`] numbers them in capture order).
    pub(crate) fn sip_udp(
        &mut self,
        t_ms: u64,
        src: SocketAddr,
        dst: SocketAddr,
        text: Vec<u8>,
        iri: Option<SipIri>,
    ) -> usize {
        let udp = packet::udp(src.port(), dst.port(), &text);
        let index = self.message(text, src, dst, SipTransport::Udp, iri);
        let params = self.params(false);
        let ip = packet::ip_packet(src.ip(), dst.ip(), PROTO_UDP, params, udp);
        let t = t_ms * 1_000;
        if ip.len() > MTU && src.is_ipv4() {
            for (i, fragment) in fragment_v4(&ip, MTU).into_iter().enumerate() {
                self.push(t + i as u64 * 10, fragment, Content::Sip(vec![index]));
            }
        } else {
            self.push(t, ip, Content::Sip(vec![index]));
        }
        index
    }

    /// SIP messages written on the TCP connection from `src` to `dst` at `t` ms, cut into
    /// segments at the `cuts` (offsets into the concatenated messages, increasing). The
    /// connection is opened (three-way handshake) on first use. Returns the messages'
    /// indices (provisional, as [`Builder::sip_udp`]'s).
    pub(crate) fn sip_tcp(
        &mut self,
        t_ms: u64,
        src: SocketAddr,
        dst: SocketAddr,
        messages: Vec<(Vec<u8>, Option<SipIri>)>,
        cuts: &[usize],
    ) -> Vec<usize> {
        let t = t_ms * 1_000;
        if !self.tcp.contains_key(&(src, dst)) && !self.tcp.contains_key(&(dst, src)) {
            self.handshake(t.saturating_sub(3_000), src, dst);
        }
        let mut stream = Vec::new();
        let mut spans = Vec::new();
        for (text, iri) in messages {
            let start = stream.len();
            stream.extend_from_slice(&text);
            spans.push((
                self.message(text, src, dst, SipTransport::Tcp, iri),
                start,
                stream.len(),
            ));
        }
        let mut bounds: Vec<usize> = cuts
            .iter()
            .copied()
            .filter(|&c| c > 0 && c < stream.len())
            .collect();
        bounds.insert(0, 0);
        bounds.push(stream.len());
        let indices = spans.iter().map(|s| s.0).collect();
        for (i, pair) in bounds.windows(2).enumerate() {
            let [from, to] = [
                pair.first().copied().unwrap_or(0),
                pair.get(1).copied().unwrap_or(0),
            ];
            let carried = spans
                .iter()
                .filter(|(_, s, e)| *s < to && from < *e)
                .map(|s| s.0)
                .collect();
            let payload = stream.get(from..to).unwrap_or_default();
            let seq = self.tcp.get(&(src, dst)).copied().unwrap_or(0);
            let ack = self.tcp.get(&(dst, src)).copied().unwrap_or(0);
            let segment = packet::tcp(
                src.port(),
                dst.port(),
                seq,
                ack,
                packet::ACK | packet::PSH,
                64_000,
                payload,
            );
            self.tcp
                .insert((src, dst), seq.wrapping_add(payload.len() as u32));
            let params = self.params(true);
            let ip = packet::ip_packet(src.ip(), dst.ip(), PROTO_TCP, params, segment);
            self.push(t + i as u64 * 200, ip, Content::Sip(carried));
        }
        indices
    }

    fn handshake(&mut self, t: u64, client: SocketAddr, server: SocketAddr) {
        let (cs, ss) = (self.rng.u32(), self.rng.u32());
        let syn = packet::tcp_syn(client.port(), server.port(), cs, None, 1_460);
        let syn_ack = packet::tcp_syn(
            server.port(),
            client.port(),
            ss,
            Some(cs.wrapping_add(1)),
            1_460,
        );
        let (cs, ss) = (cs.wrapping_add(1), ss.wrapping_add(1));
        let ack = packet::tcp(
            client.port(),
            server.port(),
            cs,
            ss,
            packet::ACK,
            64_000,
            &[],
        );
        for (i, (from, to, segment)) in [
            (client, server, syn),
            (server, client, syn_ack),
            (client, server, ack),
        ]
        .into_iter()
        .enumerate()
        {
            let params = self.params(true);
            let ip = packet::ip_packet(from.ip(), to.ip(), PROTO_TCP, params, segment);
            self.push(t + i as u64 * 500, ip, Content::Other);
        }
        self.tcp.insert((client, server), cs);
        self.tcp.insert((server, client), ss);
    }

    /// A UDP datagram that is not SIP: media (or not) as `truth` says.
    pub(crate) fn datagram(
        &mut self,
        t_us: u64,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        content: Content,
    ) {
        let udp = packet::udp(src.port(), dst.port(), payload);
        let params = self.params(true);
        let ip = packet::ip_packet(src.ip(), dst.ip(), PROTO_UDP, params, udp);
        self.push(t_us, ip, content);
    }

    fn push(&mut self, t: u64, ip: Vec<u8>, content: Content) {
        self.events.push(Event { t, ip, content });
    }

    pub(crate) fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// The capture: packets in time order (ties in the order they were built), as Ethernet
    /// frames between the hosts' MACs, written to a pcap.
    pub(crate) fn finish(self, name: &'static str) -> Result<VoiceCapture, Error> {
        let Self {
            mut events,
            mut messages,
            calls,
            ..
        } = self;
        // Stable: packets built for the same time keep their order.
        events.sort_by_key(|e| e.t);
        let mut writer = PcapWriter::new(Vec::new(), LinkType::Ethernet, false)?;
        let mut frames = Vec::with_capacity(events.len());
        for (index, e) in events.into_iter().enumerate() {
            let timestamp = at(e.t)?;
            let (src, dst, ethertype) = match (e.ip.first().map(|b| b >> 4), ip_addrs(&e.ip)) {
                (Some(4), Some((s, d))) => (s, d, 0x0800),
                (_, Some((s, d))) => (s, d, 0x86dd),
                _ => return Err(Error::MissingMessage("an IP packet of the voice capture")),
            };
            let (data, _) = packet::ethernet(
                packet::host_mac(dst),
                packet::host_mac(src),
                None,
                ethertype,
                &e.ip,
            );
            writer.write_frame(timestamp, &data)?;
            if let Content::Sip(carried) = &e.content {
                for m in carried {
                    if let Some(msg) = messages.get_mut(*m) {
                        msg.frames.push(index);
                    }
                }
            }
            frames.push(Frame {
                index,
                timestamp,
                data,
                ip: e.ip,
                content: e.content,
            });
        }
        let (messages, mut calls) = (messages, calls);
        // Messages numbered in capture order (by the first frame carrying them), whatever
        // order the scenario wrote them in (interleaved calls).
        let mut order: Vec<usize> = (0..messages.len()).collect();
        order.sort_by_key(|&m| {
            let first = messages.get(m).and_then(|msg| msg.frames.first().copied());
            (first.unwrap_or(usize::MAX), m)
        });
        let mut renumber = vec![0; messages.len()];
        for (new, &old) in order.iter().enumerate() {
            if let Some(slot) = renumber.get_mut(old) {
                *slot = new;
            }
        }
        let new_index = |old: usize| renumber.get(old).copied().unwrap_or(old);
        let mut slots: Vec<Option<SipTruth>> = messages.into_iter().map(Some).collect();
        let messages: Vec<SipTruth> = order
            .iter()
            .enumerate()
            .filter_map(|(new, &old)| {
                let mut m = slots.get_mut(old)?.take()?;
                m.index = new;
                Some(m)
            })
            .collect();
        for frame in &mut frames {
            if let Content::Sip(carried) = &mut frame.content {
                for m in carried.iter_mut() {
                    *m = new_index(*m);
                }
                carried.sort_unstable();
            }
        }
        for call in &mut calls {
            if let CallEnd::Message(m) = &mut call.end {
                *m = new_index(*m);
            }
        }
        Ok(VoiceCapture {
            name,
            pcap: writer.into_inner(),
            frames,
            messages,
            calls,
        })
    }
}

/// The timestamp `t` microseconds after the voice captures' start.
pub(crate) fn at(t: u64) -> Result<Timestamp, Error> {
    Ok(Timestamp::from_unix_micros(EPOCH_SECS * MICROS + t)?)
}

fn ip_addrs(ip: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match ip.first()? >> 4 {
        4 => {
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        6 => {
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(s), IpAddr::from(d)))
        }
        _ => None,
    }
}

/// An IPv4 packet (20-octet header) cut into fragments of at most `mtu` octets (RFC 791
/// clause 3.2): the same identification, offsets in 8-octet units, More Fragments on all
/// but the last, each header checksummed.
pub(crate) fn fragment_v4(ip: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let (Some(header), Some(payload)) = (ip.get(..20), ip.get(20..)) else {
        return vec![ip.to_vec()];
    };
    let chunk = (mtu - 20) / 8 * 8;
    let count = payload.chunks(chunk).count();
    payload
        .chunks(chunk)
        .enumerate()
        .map(|(i, part)| {
            let mut f = header.to_vec();
            f.extend_from_slice(part);
            let total = f.len() as u16;
            let offset = (i * chunk / 8) as u16;
            let more: u16 = if i + 1 < count { 0x2000 } else { 0 };
            if let Some(b) = f.get_mut(2..4) {
                b.copy_from_slice(&total.to_be_bytes());
            }
            if let Some(b) = f.get_mut(6..8) {
                b.copy_from_slice(&(more | offset).to_be_bytes());
            }
            if let Some(b) = f.get_mut(10..12) {
                b.copy_from_slice(&[0, 0]);
            }
            let c = packet::checksum(0, f.get(..20).unwrap_or_default());
            if let Some(b) = f.get_mut(10..12) {
                b.copy_from_slice(&c.to_be_bytes());
            }
            f
        })
        .collect()
}

/// What one direction of a call sends: its RTP (and RTCP) flow, its numbering, its signal.
#[derive(Clone, Debug)]
pub(crate) struct Stream {
    /// RTP source and destination.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// RTCP source and destination (`None`: no RTCP).
    pub rtcp: Option<(SocketAddr, SocketAddr)>,
    pub payload_type: u8,
    /// The signal: a tone in a G.711 law, or (video) seeded bytes.
    pub audio: Option<(Tone, Law)>,
    pub ssrc: u32,
    pub first_sequence: u16,
    pub first_timestamp: u32,
    /// Microseconds from the capture start of sample 0.
    pub start: Option<u64>,
    pub packets: u64,
    pub octets: u64,
    /// The truth of its packets.
    pub call: Option<usize>,
    pub stream: u8,
    pub from_caller: bool,
    pub direction: Option<PayloadDirection>,
}

impl Stream {
    /// An audio stream; numbering drawn from the builder's generator.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn audio(
        b: &mut Builder,
        src: SocketAddr,
        dst: SocketAddr,
        tone: Tone,
        law: Law,
        call: Option<usize>,
        from_caller: bool,
        target_is_caller: bool,
    ) -> Self {
        let direction = call.map(|_| {
            if from_caller == target_is_caller {
                PayloadDirection::FromTarget
            } else {
                PayloadDirection::ToTarget
            }
        });
        Self {
            src,
            dst,
            rtcp: Some((plus_one(src), plus_one(dst))),
            payload_type: law.payload_type(),
            audio: Some((tone, law)),
            ssrc: b.rng().u32(),
            first_sequence: b.rng().u16(),
            first_timestamp: b.rng().u32(),
            start: None,
            packets: 0,
            octets: 0,
            call,
            stream: 0,
            from_caller,
            direction,
        }
    }

    /// The same stream carrying video (payload type 96, 90 kHz) on `m=` line `stream`.
    pub(crate) fn into_video(mut self, stream: u8) -> Self {
        self.audio = None;
        self.payload_type = 96;
        self.stream = stream;
        self
    }

    /// Sends from `from_ms` to `to_ms` (exclusive): a packet every 20 ms (audio) or 40 ms
    /// (video), an RTCP sender report every second.
    pub(crate) fn run(&mut self, b: &mut Builder, from_ms: u64, to_ms: u64) {
        let interval = if self.audio.is_some() { 20 } else { 40 };
        let start = *self.start.get_or_insert(from_ms * 1_000);
        // On the stream's packet grid: after a pause the RTP clock has run on by whole
        // packets.
        let late = (from_ms * 1_000).saturating_sub(start) % (interval * 1_000);
        let mut t = from_ms + (interval * 1_000 - late) % (interval * 1_000) / 1_000;
        // A few microseconds after the millisecond, distinct per stream, so that media and
        // SIP never share a timestamp.
        let jitter = 100 + u64::from(self.ssrc % 800);
        while t < to_ms {
            let t_us = t * 1_000 + jitter;
            let elapsed = t * 1_000 - start;
            let (header, payload, audio) = match self.audio {
                Some((tone, law)) => {
                    let first = elapsed * u64::from(SAMPLE_RATE) / MICROS;
                    let header = self.header(first as u32);
                    let payload = tone.encoded(law, first, SAMPLES_PER_PACKET);
                    (header, payload, Some((tone, law, first)))
                }
                None => {
                    let header = self.header((elapsed * 90_000 / MICROS) as u32);
                    let len = 200 + b.rng().index(600);
                    (header, b.rng().bytes(len), None)
                }
            };
            let mut rtp = Vec::with_capacity(12 + payload.len());
            header.write(&mut rtp);
            rtp.extend_from_slice(&payload);
            self.packets += 1;
            self.octets += payload.len() as u64;
            let truth = self.truth(MediaProtocol::Rtp, Some(RtpTruth { header, audio }));
            b.datagram(t_us, self.src, self.dst, &rtp, Content::Media(truth));
            if self.packets.is_multiple_of(1_000 / interval)
                && let Some((src, dst)) = self.rtcp
            {
                let sr = self.sender_report(t_us, header.timestamp);
                let truth = self.truth(MediaProtocol::Rtcp, None);
                b.datagram(t_us + 3, src, dst, &sr, Content::Media(truth));
            }
            t += interval;
        }
    }

    /// RTCP only, one report a second from `from_ms` to `to_ms` (exclusive): what a party
    /// sends while its stream is on hold (RFC 3264 clause 5.1: RTCP goes on while RTP is
    /// `inactive`).
    pub(crate) fn rtcp_only(&mut self, b: &mut Builder, from_ms: u64, to_ms: u64) {
        let Some((src, dst)) = self.rtcp else { return };
        let start = *self.start.get_or_insert(from_ms * 1_000);
        let mut t = from_ms;
        while t < to_ms {
            let t_us = t * 1_000 + 7 + u64::from(self.ssrc % 500);
            let clock = match self.audio {
                Some(_) => (t_us - start) * u64::from(SAMPLE_RATE) / MICROS,
                None => (t_us - start) * 90_000 / MICROS,
            };
            let sr = self.sender_report(t_us, self.first_timestamp.wrapping_add(clock as u32));
            let truth = self.truth(MediaProtocol::Rtcp, None);
            b.datagram(t_us, src, dst, &sr, Content::Media(truth));
            t += 1_000;
        }
    }

    fn header(&self, elapsed_clock: u32) -> RtpHeader {
        RtpHeader {
            marker: self.packets == 0,
            payload_type: self.payload_type,
            sequence: self.first_sequence.wrapping_add(self.packets as u16),
            timestamp: self.first_timestamp.wrapping_add(elapsed_clock),
            ssrc: self.ssrc,
        }
    }

    fn truth(&self, kind: MediaProtocol, rtp: Option<RtpTruth>) -> MediaTruth {
        MediaTruth {
            call: self.call,
            stream: self.stream,
            kind,
            from_caller: self.from_caller,
            direction: self.direction,
            rtp,
        }
    }

    /// An RTCP sender report (RFC 3550 clause 6.4.1) with no report block.
    fn sender_report(&self, t_us: u64, rtp_timestamp: u32) -> Vec<u8> {
        let mut p = vec![0x80, 200, 0, 6];
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        // NTP time: seconds since 1900, and the fraction.
        let secs = EPOCH_SECS + 2_208_988_800 + t_us / MICROS;
        let frac = ((t_us % MICROS) << 32) / MICROS;
        p.extend_from_slice(&(secs as u32).to_be_bytes());
        p.extend_from_slice(&(frac as u32).to_be_bytes());
        p.extend_from_slice(&rtp_timestamp.to_be_bytes());
        p.extend_from_slice(&(self.packets as u32).to_be_bytes());
        p.extend_from_slice(&(self.octets as u32).to_be_bytes());
        p
    }
}

/// The RTCP port of an RTP address (RFC 3550 clause 11: the next one up).
pub(crate) fn plus_one(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip(), addr.port().wrapping_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_carry_the_packet_in_order_with_valid_headers() {
        let src: IpAddr = "192.0.2.10".parse().unwrap();
        let dst: IpAddr = "203.0.113.1".parse().unwrap();
        let params = IpParams {
            ttl: 64,
            id: 0x4242,
            df: false,
        };
        let payload: Vec<u8> = (0..3_000u32).map(|i| i as u8).collect();
        let ip = packet::ip_packet(
            src,
            dst,
            PROTO_UDP,
            params,
            packet::udp(5060, 5060, &payload),
        );
        let fragments = fragment_v4(&ip, MTU);
        assert_eq!(fragments.len(), 3);
        let mut data = Vec::new();
        for (i, f) in fragments.iter().enumerate() {
            assert!(f.len() <= MTU);
            assert_eq!(packet::checksum(0, &f[..20]), 0, "header checksum");
            assert_eq!(&f[4..6], &ip[4..6], "same identification");
            let field = u16::from_be_bytes([f[6], f[7]]);
            assert_eq!(usize::from(field & 0x1fff) * 8, data.len(), "offset");
            assert_eq!(
                field & 0x2000 != 0,
                i + 1 < fragments.len(),
                "more fragments"
            );
            assert_eq!(usize::from(u16::from_be_bytes([f[2], f[3]])), f.len());
            data.extend_from_slice(&f[20..]);
        }
        assert_eq!(data, &ip[20..]);
    }

    #[test]
    fn tcp_segments_number_the_stream() {
        let mut b = Builder::new(1);
        let (a, p): (SocketAddr, SocketAddr) = (
            "192.0.2.10:5060".parse().unwrap(),
            "203.0.113.1:5060".parse().unwrap(),
        );
        let first = b.sip_tcp(10, a, p, vec![(b"0123456789".to_vec(), None)], &[4]);
        let second = b.sip_tcp(
            20,
            a,
            p,
            vec![(b"ab".to_vec(), None), (b"cd".to_vec(), None)],
            &[],
        );
        let capture = b.finish("tcp").unwrap();
        // Handshake, two segments of the first message, one segment with two messages.
        assert_eq!(capture.frames.len(), 6);
        assert_eq!(capture.messages[first[0]].frames, [3, 4]);
        assert_eq!(second.len(), 2);
        assert_eq!(capture.frames[5].content, Content::Sip(second.clone()));
        let seq = |f: &Frame| u32::from_be_bytes(f.ip[24..28].try_into().unwrap());
        let (s3, s4, s5) = (
            seq(&capture.frames[3]),
            seq(&capture.frames[4]),
            seq(&capture.frames[5]),
        );
        assert_eq!((s4.wrapping_sub(s3), s5.wrapping_sub(s4)), (4, 6));
        // The SYN's sequence number is one before the first data octet's.
        assert_eq!(seq(&capture.frames[0]).wrapping_add(1), s3);
    }
}
