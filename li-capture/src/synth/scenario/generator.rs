//! The generator: who sends what, when. Every time is in microseconds from
//! [`super::EPOCH_SECS`]; frames are collected unordered, then sorted and given strictly
//! increasing times by [`Generator::finish`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    ALICE, ALICE_INTERIM_OFFSET, ALICE_MAC, ALICE_SESSION_ID, ALICE_START_OFFSET,
    ALICE_STOP_OFFSET, BOB, BOB_MAC, BOB_SESSION_ID, BOB_START_OFFSET, BOB_STOP_OFFSET, EPOCH_SECS,
    FRAMED_V4, NAS_IDENTIFIER, NAS_V4, RADIUS_ACCT_PORT, RADIUS_SECRET, RADIUS_SERVER_V4,
    ROUTER_MAC, STATIC_V4, STATIC_V6, V6_VLAN,
};
use crate::synth::packet::{
    self, ACK, Attrs, FIN, IpParams, Mac, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, PSH, RST,
    Rng, SYN, attr,
};

/// One microsecond-resolution second.
const S: u64 = 1_000_000;
/// One millisecond.
const MS: u64 = 1_000;

/// Which RADIUS message a frame is, for the sessions whose times the oracle needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mark {
    AliceStart,
    AliceInterim,
    AliceStop,
    BobStart,
    BobStop,
}

impl Mark {
    /// What the message is, for an error.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::AliceStart => "alice's Accounting-Request Start",
            Self::AliceInterim => "alice's Accounting-Request Interim-Update",
            Self::AliceStop => "alice's Accounting-Request Stop",
            Self::BobStart => "bob's Accounting-Request Start",
            Self::BobStop => "bob's Accounting-Request Stop",
        }
    }
}

/// What the generator knows about a frame before times are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// To or from [`STATIC_V4`].
    Static4,
    /// To or from [`STATIC_V6`].
    Static6,
    /// To or from [`FRAMED_V4`]: alice's, bob's or nobody's depending on the time.
    Framed,
    /// A RADIUS accounting request or response, maybe one of the marked ones.
    Radius(Option<Mark>),
    /// Everything else.
    Background,
}

/// A frame before sorting.
#[derive(Debug)]
pub(super) struct RawFrame {
    /// Microseconds from the epoch (made strictly increasing by [`Generator::finish`]).
    pub(super) t: u64,
    pub(super) data: Vec<u8>,
    pub(super) ip_offset: Option<usize>,
    pub(super) vlan: Option<u16>,
    pub(super) class: Class,
    /// Whether the IP source is the class's address (for the target classes).
    pub(super) from_target: bool,
    /// The IP addresses and packet length, for session counters.
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    ip_len: usize,
}

/// Remote servers (beyond the access router).
const SERVERS_V4: [Ipv4Addr; 8] = [
    Ipv4Addr::new(203, 0, 113, 130),
    Ipv4Addr::new(203, 0, 113, 140),
    Ipv4Addr::new(203, 0, 113, 150),
    Ipv4Addr::new(203, 0, 113, 160),
    Ipv4Addr::new(203, 0, 113, 171),
    Ipv4Addr::new(203, 0, 113, 185),
    Ipv4Addr::new(203, 0, 113, 200),
    Ipv4Addr::new(203, 0, 113, 222),
];
const SERVERS_V6: [Ipv6Addr; 3] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x80),
    Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x443),
    Ipv6Addr::new(0x2001, 0xdb8, 0xff, 1, 0, 0, 0, 0x10),
];
const RESOLVER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 53);
const RESOLVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x53);
const NTP_SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 123);
const NMS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 200);
const NAS2_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const MGMT_VLAN: u16 = 30;
const NAMES: [&str; 10] = [
    "www.example.com",
    "mail.example.net",
    "cdn.example.org",
    "api.example.com",
    "news.example.net",
    "video.example.org",
    "maps.example.com",
    "shop.example.net",
    "docs.example.org",
    "time.example.com",
];
const PATHS: [&str; 6] = [
    "/",
    "/index.html",
    "/news/today",
    "/img/logo.png",
    "/api/v1/status",
    "/static/app.js",
];

/// Background subscribers with a RADIUS session seen in the capture: user, address,
/// session id, NAS, first message (start or interim) time, stop time and terminate cause.
struct OtherUser {
    name: &'static str,
    addr: Ipv4Addr,
    session: &'static str,
    nas: Ipv4Addr,
    /// (offset, is a Start) of the first message, then interim offsets.
    first: (u64, bool),
    interim: &'static [u64],
    stop: Option<(u64, u32)>,
}

const OTHER_USERS: [OtherUser; 6] = [
    OtherUser {
        name: "carol@isp.example",
        addr: Ipv4Addr::new(203, 0, 113, 61),
        session: "0a3f5d81",
        nas: NAS_V4,
        first: (35 * S, false),
        interim: &[95 * S],
        stop: None,
    },
    OtherUser {
        name: "dave@isp.example",
        addr: Ipv4Addr::new(203, 0, 113, 62),
        session: "0a3f5e10",
        nas: NAS_V4,
        first: (12 * S, true),
        interim: &[],
        stop: Some((70 * S, 1)),
    },
    OtherUser {
        name: "erin@isp.example",
        addr: Ipv4Addr::new(203, 0, 113, 63),
        session: "0a3f5e11",
        nas: NAS_V4,
        first: (45 * S, true),
        interim: &[105 * S],
        stop: None,
    },
    OtherUser {
        name: "frank@isp.example",
        addr: Ipv4Addr::new(203, 0, 113, 64),
        session: "0a3f5c02",
        nas: NAS_V4,
        first: (8 * S, false),
        interim: &[],
        stop: Some((90 * S, 4)),
    },
    OtherUser {
        name: "grace@isp.example",
        addr: Ipv4Addr::new(203, 0, 113, 65),
        session: "0a3f5e12",
        nas: NAS_V4,
        first: (75 * S, true),
        interim: &[],
        stop: None,
    },
    OtherUser {
        name: "heidi@isp.example",
        addr: Ipv4Addr::new(203, 0, 113, 66),
        session: "00001f2a",
        nas: NAS2_V4,
        first: (30 * S, true),
        interim: &[],
        stop: Some((50 * S, 2)),
    },
];

/// Hosts of the dynamic pool that never show a RADIUS message (sessions older than the
/// capture), and static business customers other than the target.
const POOL_HOSTS: std::ops::RangeInclusive<u8> = 70..=90;
const BUSINESS_HOSTS: [u8; 4] = [11, 42, 77, 102];
const BACKGROUND_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x42),
    Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x77),
];

/// The capture's length.
pub(super) const LENGTH: u64 = 120 * S;

/// The port NASes send accounting from.
const NAS_PORT: u16 = 50_123;

/// Whether `addr` is beyond the access router (its frames carry the router's MAC).
fn is_remote(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            (o[0], o[1], o[2]) == (203, 0, 113) && o[3] >= 128 || a == RESOLVER_V4
        }
        IpAddr::V6(a) => a.segments()[..3] == [0x2001, 0xdb8, 0xff],
    }
}

/// A TTL or hop limit as seen on the tap: 64 from local hosts, a few hops less from remote
/// ones.
fn ttl_of(addr: IpAddr) -> u8 {
    if !is_remote(addr) {
        return 64;
    }
    let last = match addr {
        IpAddr::V4(a) => a.octets()[3],
        IpAddr::V6(a) => a.octets()[15],
    };
    58 - last % 9
}

/// The target class of a packet between `src` and `dst`, and whether it comes from the
/// target.
fn class_of(src: IpAddr, dst: IpAddr) -> (Class, bool) {
    for (addr, class) in [
        (IpAddr::V4(STATIC_V4), Class::Static4),
        (IpAddr::V6(STATIC_V6), Class::Static6),
        (IpAddr::V4(FRAMED_V4), Class::Framed),
    ] {
        if src == addr || dst == addr {
            return (class, src == addr);
        }
    }
    (Class::Background, false)
}

/// A TCP exchange to generate: handshake, request, response, close.
struct Flow {
    client: IpAddr,
    server: IpAddr,
    port: u16,
    request: Vec<u8>,
    response: Vec<u8>,
    vlan: Option<u16>,
}

/// The generator's state.
pub(super) struct Generator {
    rng: Rng,
    frames: Vec<RawFrame>,
    radius_ids: HashMap<Ipv4Addr, u8>,
}

impl Generator {
    /// Generates the whole capture: frames sorted by strictly increasing time.
    pub(super) fn generate(seed: u64) -> Vec<RawFrame> {
        let mut s = Self {
            rng: Rng::new(seed),
            frames: Vec::new(),
            radius_ids: HashMap::new(),
        };
        s.static_v4();
        s.static_v6();
        s.framed();
        s.background();
        // Last: the accounting counters sum the traffic generated above.
        s.radius();
        s.finish()
    }

    // ------------------------------------------------------------------------------------
    // Frames

    fn emit(
        &mut self,
        t: u64,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        l4: Vec<u8>,
        vlan: Option<u16>,
    ) {
        let (class, from_target) = class_of(src, dst);
        self.emit_class(t | 1, src, dst, proto, l4, vlan, class, from_target);
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_class(
        &mut self,
        t: u64,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        l4: Vec<u8>,
        vlan: Option<u16>,
        class: Class,
        from_target: bool,
    ) {
        let params = IpParams {
            ttl: ttl_of(src),
            id: 0, // set in time order by `finish`
            df: proto == PROTO_TCP,
        };
        let ip = packet::ip_packet(src, dst, proto, params, l4);
        let ethertype = if src.is_ipv4() { 0x0800 } else { 0x86dd };
        let (data, offset) = packet::ethernet(mac_of(dst, t), mac_of(src, t), vlan, ethertype, &ip);
        self.frames.push(RawFrame {
            t,
            data,
            ip_offset: Some(offset),
            vlan,
            class,
            from_target,
            src: Some(src),
            dst: Some(dst),
            ip_len: ip.len(),
        });
    }

    fn small_gap(&mut self) -> u64 {
        self.rng.range(40, 400)
    }

    fn rtt(&mut self) -> u64 {
        self.rng.range(8 * MS, 40 * MS)
    }

    fn ephemeral_port(&mut self) -> u16 {
        self.rng.range(49_152, 65_535) as u16
    }

    /// One TCP connection; returns when it ends.
    fn tcp_flow(&mut self, t0: u64, f: &Flow) -> u64 {
        let rtt = self.rtt();
        let cport = self.ephemeral_port();
        let (c, s, v) = (f.client, f.server, f.vlan);
        let mut cs = self.rng.u32();
        let mut ss = self.rng.u32();
        // MSS: a 1500-octet MTU less the IP and TCP headers.
        let mss: u16 = if c.is_ipv4() { 1460 } else { 1440 };
        let mut t = t0;
        self.emit(
            t,
            c,
            s,
            PROTO_TCP,
            packet::tcp_syn(cport, f.port, cs, None, mss),
            v,
        );
        cs = cs.wrapping_add(1);
        t += rtt;
        let syn_ack = packet::tcp_syn(f.port, cport, ss, Some(cs), mss);
        self.emit(t, s, c, PROTO_TCP, syn_ack, v);
        ss = ss.wrapping_add(1);
        t += self.small_gap();
        self.emit(
            t,
            c,
            s,
            PROTO_TCP,
            packet::tcp(cport, f.port, cs, ss, ACK, 502, &[]),
            v,
        );
        t += self.small_gap();
        let req = packet::tcp(cport, f.port, cs, ss, PSH | ACK, 502, &f.request);
        self.emit(t, c, s, PROTO_TCP, req, v);
        cs = cs.wrapping_add(f.request.len() as u32);
        t += rtt;
        let chunks: Vec<&[u8]> = f.response.chunks(usize::from(mss)).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let flags = if last { PSH | ACK } else { ACK };
            self.emit(
                t,
                s,
                c,
                PROTO_TCP,
                packet::tcp(f.port, cport, ss, cs, flags, 501, chunk),
                v,
            );
            ss = ss.wrapping_add(chunk.len() as u32);
            t += self.rng.range(30, 300);
            if i % 2 == 1 || last {
                self.emit(
                    t,
                    c,
                    s,
                    PROTO_TCP,
                    packet::tcp(cport, f.port, cs, ss, ACK, 501, &[]),
                    v,
                );
                t += self.small_gap();
            }
        }
        t += self.rng.range(2 * MS, 60 * MS);
        let fin = packet::tcp(cport, f.port, cs, ss, FIN | ACK, 501, &[]);
        self.emit(t, c, s, PROTO_TCP, fin, v);
        cs = cs.wrapping_add(1);
        t += rtt;
        let fin = packet::tcp(f.port, cport, ss, cs, FIN | ACK, 501, &[]);
        self.emit(t, s, c, PROTO_TCP, fin, v);
        ss = ss.wrapping_add(1);
        t += self.small_gap();
        self.emit(
            t,
            c,
            s,
            PROTO_TCP,
            packet::tcp(cport, f.port, cs, ss, ACK, 501, &[]),
            v,
        );
        t
    }

    /// An HTTP (port 80) or HTTPS-like (443, opaque records) exchange with a response of
    /// about `len` octets.
    fn web(
        &mut self,
        t: u64,
        client: IpAddr,
        server: IpAddr,
        port: u16,
        len: usize,
        vlan: Option<u16>,
    ) -> u64 {
        let host = self.rng.pick(&NAMES).copied().unwrap_or("www.example.com");
        let path = self.rng.pick(&PATHS).copied().unwrap_or("/");
        let (request, response) = if port == 80 {
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
            );
            let head = format!(
                "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: {len}\r\n\r\n"
            );
            let body: Vec<u8> = b"<p>The quick brown fox jumps over the lazy dog.</p>\n"
                .iter()
                .copied()
                .cycle()
                .take(len)
                .collect();
            (request.into_bytes(), [head.into_bytes(), body].concat())
        } else {
            let record = |rng: &mut Rng, n: usize| {
                let mut r = vec![0x17, 0x03, 0x03];
                r.extend_from_slice(&(n as u16).to_be_bytes());
                r.extend(rng.bytes(n));
                r
            };
            let req_len = self.rng.index(250) + 100;
            (record(&mut self.rng, req_len), record(&mut self.rng, len))
        };
        let flow = Flow {
            client,
            server,
            port,
            request,
            response,
            vlan,
        };
        self.tcp_flow(t, &flow)
    }

    /// A DNS lookup of a random name through the resolver of the client's family.
    fn dns(&mut self, t: u64, client: IpAddr, vlan: Option<u16>) {
        let name = self.rng.pick(&NAMES).copied().unwrap_or("www.example.com");
        let id = self.rng.u16();
        let sport = self.ephemeral_port();
        let (resolver, answer) = match client {
            IpAddr::V4(_) => {
                let a = self.rng.pick(&SERVERS_V4).copied().unwrap_or(NTP_SERVER);
                (IpAddr::V4(RESOLVER_V4), IpAddr::V4(a))
            }
            IpAddr::V6(_) => {
                let a = self.rng.pick(&SERVERS_V6).copied().unwrap_or(RESOLVER_V6);
                (IpAddr::V6(RESOLVER_V6), IpAddr::V6(a))
            }
        };
        let v6 = client.is_ipv6();
        let query = packet::udp(sport, 53, &packet::dns(id, name, v6, None));
        self.emit(t, client, resolver, PROTO_UDP, query, vlan);
        let t = t + self.rng.range(2 * MS, 15 * MS);
        let reply = packet::udp(53, sport, &packet::dns(id, name, v6, Some(answer)));
        self.emit(t, resolver, client, PROTO_UDP, reply, vlan);
    }

    /// An SNTP exchange (48-octet messages).
    fn ntp(&mut self, t: u64, client: IpAddr) {
        let server = IpAddr::V4(NTP_SERVER);
        let secs = (EPOCH_SECS + t / S + 2_208_988_800) as u32; // NTP era 0
        let mut msg = vec![0x23, 0, 6, 0xe9];
        msg.resize(40, 0);
        msg.extend_from_slice(&secs.to_be_bytes());
        msg.extend_from_slice(&self.rng.u32().to_be_bytes());
        self.emit(
            t,
            client,
            server,
            PROTO_UDP,
            packet::udp(123, 123, &msg),
            None,
        );
        let mut reply = vec![0x24, 2, 6, 0xe9];
        reply.resize(12, 0);
        reply.extend_from_slice(&[192, 0, 2, 123]);
        reply.extend_from_slice(msg.get(40..48).unwrap_or_default()); // origin = their transmit
        reply.resize(48, 0);
        let t = t + self.rng.range(5 * MS, 30 * MS);
        self.emit(
            t,
            server,
            client,
            PROTO_UDP,
            packet::udp(123, 123, &reply),
            None,
        );
    }

    /// `count` echo requests, one a second, each answered.
    fn ping(&mut self, t: u64, src: IpAddr, dst: IpAddr, count: u16, vlan: Option<u16>) {
        let ident = self.rng.u16();
        let v6 = src.is_ipv6();
        let proto = if v6 { PROTO_ICMPV6 } else { PROTO_ICMP };
        for seq in 1..=count {
            let at = t + u64::from(seq - 1) * S + self.rng.range(0, 2 * MS);
            let stamp = EPOCH_SECS + at / S;
            self.emit(
                at,
                src,
                dst,
                proto,
                packet::echo(v6, true, ident, seq, stamp),
                vlan,
            );
            let back = at + self.rtt();
            self.emit(
                back,
                dst,
                src,
                proto,
                packet::echo(v6, false, ident, seq, stamp),
                vlan,
            );
        }
    }

    /// A SYN from a scanner to `dst`, unanswered.
    fn scan(&mut self, t: u64, from: Ipv4Addr, dst: Ipv4Addr, port: u16) {
        let sport = self.ephemeral_port();
        let seq = self.rng.u32();
        let syn = packet::tcp(sport, port, seq, 0, SYN, 1024, &[]); // a bare scanner SYN
        self.emit(t, IpAddr::V4(from), IpAddr::V4(dst), PROTO_TCP, syn, None);
    }

    /// A server's late segment to a subscriber who has gone.
    fn late(&mut self, t: u64, server: Ipv4Addr, dst: Ipv4Addr) {
        let dport = self.ephemeral_port();
        let (seq, ack) = (self.rng.u32(), self.rng.u32());
        let data = self.rng.bytes(120);
        let seg = packet::tcp(443, dport, seq, ack, PSH | ACK, 501, &data);
        self.emit(t, IpAddr::V4(server), IpAddr::V4(dst), PROTO_TCP, seg, None);
        // The access router answers nothing; the server gives up with a reset.
        let rst = packet::tcp(443, dport, seq.wrapping_add(120), ack, RST | ACK, 0, &[]);
        let t = t + 300 * MS;
        self.emit(t, IpAddr::V4(server), IpAddr::V4(dst), PROTO_TCP, rst, None);
    }

    fn server_v4(&mut self) -> IpAddr {
        IpAddr::V4(self.rng.pick(&SERVERS_V4).copied().unwrap_or(NTP_SERVER))
    }

    fn server_v6(&mut self) -> IpAddr {
        IpAddr::V6(self.rng.pick(&SERVERS_V6).copied().unwrap_or(RESOLVER_V6))
    }

    /// A response size: mostly small pages, sometimes a few segments.
    fn response_len(&mut self) -> usize {
        match self.rng.range(0, 20) {
            0 => self.rng.index(3_000) + 3_000,
            1..=4 => self.rng.index(1_500) + 1_500,
            _ => self.rng.index(900) + 150,
        }
    }

    fn jitter(&mut self, max: u64) -> u64 {
        self.rng.range(0, max)
    }

    // ------------------------------------------------------------------------------------
    // Who does what

    /// The static IPv4 target: web and DNS throughout, a ping out and one in, and two
    /// connections to its own HTTPS server.
    fn static_v4(&mut self) {
        let me = IpAddr::V4(STATIC_V4);
        for i in 0..10 {
            let t = 2 * S + i * 11 * S + self.jitter(2 * S);
            let server = self.server_v4();
            let port = if i % 2 == 0 { 80 } else { 443 };
            let len = self.response_len();
            self.web(t, me, server, port, len, None);
        }
        for (t, client) in [(55 * S, 185), (96 * S, 171)] {
            let client = IpAddr::V4(Ipv4Addr::new(203, 0, 113, client));
            let len = self.response_len();
            self.web(t, client, me, 443, len, None);
        }
        for i in 0..24 {
            let t = S + i * 4_800_000 + self.jitter(S);
            self.dns(t, me, None);
        }
        self.ping(40 * S, me, IpAddr::V4(SERVERS_V4[6]), 4, None);
        self.ping(85 * S, IpAddr::V4(NMS), me, 3, None);
    }

    /// The static IPv6 target, on VLAN [`V6_VLAN`].
    fn static_v6(&mut self) {
        let me = IpAddr::V6(STATIC_V6);
        let vlan = Some(V6_VLAN);
        for i in 0..5 {
            let t = 5 * S + i * 23 * S + self.jitter(3 * S);
            let server = self.server_v6();
            let len = self.response_len();
            self.web(t, me, server, if i % 2 == 0 { 443 } else { 80 }, len, vlan);
        }
        for i in 0..10 {
            let t = 3 * S + i * 11_700_000 + self.jitter(S);
            self.dns(t, me, vlan);
        }
        self.ping(66 * S, me, IpAddr::V6(SERVERS_V6[0]), 3, vlan);
    }

    /// The framed address: scans before alice's Start, alice's traffic, a late segment
    /// after her Stop, bob's traffic, a late segment after his.
    fn framed(&mut self) {
        let me = IpAddr::V4(FRAMED_V4);
        let scanner = Ipv4Addr::new(203, 0, 113, 222);
        // Nobody's: the address is not assigned yet.
        for (t, port) in [
            (4_200_000, 22),
            (9_500_000, 23),
            (13_100_000, 445),
            (17_200_000, 3389),
        ] {
            self.scan(t, scanner, FRAMED_V4, port);
        }
        let sip = b"OPTIONS sip:100@203.0.113.57 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.185:5060;branch=z9hG4bK-1\r\nFrom: <sip:scanner@203.0.113.185>;tag=1\r\nTo: <sip:100@203.0.113.57>\r\nCall-ID: 1@203.0.113.185\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
        let from = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 185));
        self.emit(
            15 * S,
            from,
            me,
            PROTO_UDP,
            packet::udp(5060, 5060, sip),
            None,
        );
        self.scan(ALICE_START_OFFSET - 50 * MS, scanner, FRAMED_V4, 22);

        // Alice: from her Start to her Stop.
        self.dns(ALICE_START_OFFSET + 300 * MS, me, None);
        self.ntp(ALICE_START_OFFSET + 600 * MS, me);
        for i in 0..14 {
            let t = 21 * S + i * 5_200_000 + self.jitter(1_500_000);
            let server = self.server_v4();
            let port = if i % 3 == 0 { 80 } else { 443 };
            let len = self.response_len();
            self.web(t, me, server, port, len, None);
        }
        for i in 0..25 {
            let t = 22 * S + i * 3_100_000 + self.jitter(S);
            self.dns(t, me, None);
        }
        self.ping(70 * S, me, IpAddr::V4(SERVERS_V4[6]), 4, None);
        self.dns(ALICE_STOP_OFFSET - 400 * MS, me, None);

        // Nobody's again.
        self.late(ALICE_STOP_OFFSET + 250 * MS, SERVERS_V4[1], FRAMED_V4);
        self.scan(102 * S, scanner, FRAMED_V4, 23);

        // Bob.
        self.dns(BOB_START_OFFSET + 400 * MS, me, None);
        for t in [105 * S, 107_500_000, 110 * S, 112_500_000] {
            let t = t + self.jitter(500 * MS);
            let server = self.server_v4();
            let len = self.response_len();
            self.web(t, me, server, 443, len, None);
        }
        for i in 0..5 {
            let t = 106 * S + i * 2 * S + self.jitter(S);
            self.dns(t, me, None);
        }
        self.dns(BOB_STOP_OFFSET - 200 * MS, me, None);

        // Nobody's.
        self.late(BOB_STOP_OFFSET + 300 * MS, SERVERS_V4[2], FRAMED_V4);
        self.scan(118_500_000, scanner, FRAMED_V4, 445);
    }

    /// Everybody else.
    fn background(&mut self) {
        let locals: Vec<IpAddr> = POOL_HOSTS
            .map(|h| IpAddr::V4(Ipv4Addr::new(203, 0, 113, h)))
            .chain(
                BUSINESS_HOSTS
                    .iter()
                    .map(|h| IpAddr::V4(Ipv4Addr::new(198, 51, 100, *h))),
            )
            .collect();
        let pick_local = |rng: &mut Rng| {
            rng.pick(&locals)
                .copied()
                .unwrap_or(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 70)))
        };
        for _ in 0..95 {
            let t = self.jitter(118 * S);
            let client = pick_local(&mut self.rng);
            let server = self.server_v4();
            let port = if self.rng.range(0, 3) == 0 { 80 } else { 443 };
            let len = self.response_len();
            self.web(t, client, server, port, len, None);
        }
        for _ in 0..140 {
            let t = self.jitter(119 * S);
            let client = pick_local(&mut self.rng);
            self.dns(t, client, None);
        }
        for _ in 0..8 {
            let t = self.jitter(119 * S);
            let client = pick_local(&mut self.rng);
            self.ntp(t, client);
        }
        for t in [12 * S, 47 * S, 101 * S] {
            let src = pick_local(&mut self.rng);
            let dst = self.server_v4();
            self.ping(t, src, dst, 4, None);
        }
        // The RADIUS users' own traffic, inside their sessions.
        for u in &OTHER_USERS {
            let from = u.first.0;
            let to = u.stop.map_or(LENGTH - 2 * S, |(t, _)| t) - 2 * S;
            let me = IpAddr::V4(u.addr);
            for _ in 0..4 {
                let t = from + S + self.rng.range(0, to.saturating_sub(from + S));
                let server = self.server_v4();
                let len = self.response_len();
                self.web(t, me, server, 443, len, None);
            }
            for _ in 0..6 {
                let t = from + S + self.rng.range(0, to.saturating_sub(from + S));
                self.dns(t, me, None);
            }
        }
        // IPv6 subscribers, on the IPv6 VLAN.
        for client in BACKGROUND_V6.iter().cycle().take(8) {
            let t = self.jitter(118 * S);
            let client = IpAddr::V6(*client);
            let server = self.server_v6();
            let len = self.response_len();
            self.web(t, client, server, 443, len, Some(V6_VLAN));
        }
        for client in BACKGROUND_V6.iter().cycle().take(10) {
            let t = self.jitter(119 * S);
            self.dns(t, IpAddr::V6(*client), Some(V6_VLAN));
        }
        // ARP on the access segment, one of them for the static target.
        for i in 0..47u64 {
            let t = S + i * 2_500_000 + self.jitter(S);
            let addr = if i == 10 {
                STATIC_V4
            } else {
                match pick_local(&mut self.rng) {
                    IpAddr::V4(a) => a,
                    IpAddr::V6(_) => Ipv4Addr::new(203, 0, 113, 70),
                }
            };
            self.arp(t, addr);
        }
        // SNMP polling of the NAS on the management VLAN.
        for i in 0..12u64 {
            let t = 3 * S + i * 10 * S + self.jitter(S);
            self.snmp(t, i as u32);
        }
    }

    fn arp(&mut self, t: u64, addr: Ipv4Addr) {
        let o = addr.octets();
        let router = Ipv4Addr::new(o[0], o[1], o[2], 1);
        let target = IpAddr::V4(addr);
        let mac = mac_of(target, t);
        let request = packet::arp(false, ROUTER_MAC, router, [0; 6], addr);
        self.push_non_ip(t | 1, request);
        let reply = packet::arp(true, mac, addr, ROUTER_MAC, router);
        let back = (t + self.rng.range(100, 900)) | 1;
        self.push_non_ip(back, reply);
    }

    fn push_non_ip(&mut self, t: u64, data: Vec<u8>) {
        self.frames.push(RawFrame {
            t,
            data,
            ip_offset: None,
            vlan: None,
            class: Class::Background,
            from_target: false,
            src: None,
            dst: None,
            ip_len: 0,
        });
    }

    /// An SNMPv2c get of sysUpTime.0 from the NMS to the NAS, and its response.
    fn snmp(&mut self, t: u64, n: u32) {
        let req_id = 0x1000 + n;
        let mut get = vec![0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06];
        get.extend_from_slice(b"public");
        get.extend_from_slice(&[0xa0, 0x1c, 0x02, 0x04]);
        get.extend_from_slice(&req_id.to_be_bytes());
        get.extend_from_slice(&[0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c]);
        let oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00];
        get.extend_from_slice(&oid);
        get.extend_from_slice(&[0x05, 0x00]);
        let mut resp = vec![0x30, 0x2d, 0x02, 0x01, 0x01, 0x04, 0x06];
        resp.extend_from_slice(b"public");
        resp.extend_from_slice(&[0xa2, 0x20, 0x02, 0x04]);
        resp.extend_from_slice(&req_id.to_be_bytes());
        resp.extend_from_slice(&[0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x12, 0x30, 0x10]);
        resp.extend_from_slice(&oid);
        let ticks = 123_456_789u32 + (t / 10_000) as u32;
        resp.extend_from_slice(&[0x43, 0x04]);
        resp.extend_from_slice(&ticks.to_be_bytes());
        let (nms, nas) = (IpAddr::V4(NMS), IpAddr::V4(NAS_V4));
        let sport = self.ephemeral_port();
        let vlan = Some(MGMT_VLAN);
        self.emit(t, nms, nas, PROTO_UDP, packet::udp(sport, 161, &get), vlan);
        let back = t + self.rng.range(MS, 5 * MS);
        self.emit(
            back,
            nas,
            nms,
            PROTO_UDP,
            packet::udp(161, sport, &resp),
            vlan,
        );
    }

    // ------------------------------------------------------------------------------------
    // RADIUS accounting

    fn radius(&mut self) {
        let alice = Session {
            user: ALICE,
            nas: NAS_V4,
            nas_id: NAS_IDENTIFIER,
            id: ALICE_SESSION_ID,
            framed: FRAMED_V4,
            mac: ALICE_MAC,
            started: ALICE_START_OFFSET,
            base: (0, 0, 0, 0),
        };
        self.acct(&alice, ALICE_START_OFFSET, 1, None, Some(Mark::AliceStart));
        self.acct(
            &alice,
            ALICE_INTERIM_OFFSET,
            3,
            None,
            Some(Mark::AliceInterim),
        );
        self.acct(&alice, ALICE_STOP_OFFSET, 2, Some(1), Some(Mark::AliceStop));
        let bob = Session {
            user: BOB,
            id: BOB_SESSION_ID,
            mac: BOB_MAC,
            started: BOB_START_OFFSET,
            ..alice
        };
        self.acct(&bob, BOB_START_OFFSET, 1, None, Some(Mark::BobStart));
        self.acct(&bob, BOB_STOP_OFFSET, 2, Some(1), Some(Mark::BobStop));
        for u in &OTHER_USERS {
            let (first, is_start) = u.first;
            let o = u.addr.octets();
            let session = Session {
                user: u.name,
                nas: u.nas,
                nas_id: if u.nas == NAS_V4 {
                    NAS_IDENTIFIER
                } else {
                    "bng-2.isp.example"
                },
                id: u.session,
                framed: u.addr,
                mac: [0x02, 0x5e, 0x10, 0x00, o[2], o[3]],
                // Sessions first seen in an Interim-Update began before the capture.
                started: if is_start { first } else { 0 },
                base: if is_start {
                    (0, 0, 0, 0)
                } else {
                    (1_843_200, 48_113_764, 9_201, 41_877)
                },
            };
            let offset = if is_start { 0 } else { 5_417 * S };
            let jitter = self.jitter(900 * MS);
            self.acct_at(
                &session,
                first + jitter,
                if is_start { 1 } else { 3 },
                None,
                None,
                offset,
            );
            for &t in u.interim {
                let jitter = self.jitter(900 * MS);
                self.acct_at(&session, t + jitter, 3, None, None, offset);
            }
            if let Some((t, cause)) = u.stop {
                let jitter = self.jitter(900 * MS);
                self.acct_at(&session, t + jitter, 2, Some(cause), None, offset);
            }
        }
    }

    fn acct(&mut self, s: &Session, t: u64, status: u32, cause: Option<u32>, mark: Option<Mark>) {
        self.acct_at(s, t, status, cause, mark, 0);
    }

    /// An Accounting-Request at exactly `t` and its response a few milliseconds later.
    /// `earlier` is how long the session had lasted when the capture began.
    fn acct_at(
        &mut self,
        s: &Session,
        t: u64,
        status: u32,
        cause: Option<u32>,
        mark: Option<Mark>,
        earlier: u64,
    ) {
        let mut a = Attrs::default();
        a.int(attr::ACCT_STATUS_TYPE, status)
            .bytes(attr::USER_NAME, s.user.as_bytes())
            .bytes(attr::NAS_IP_ADDRESS, &s.nas.octets())
            .bytes(attr::NAS_IDENTIFIER, s.nas_id.as_bytes())
            .int(
                attr::NAS_PORT,
                0x0100_0000 | u32::from(s.framed.octets()[3]),
            )
            .int(attr::NAS_PORT_TYPE, 15) // Ethernet
            .int(attr::SERVICE_TYPE, 2) // Framed
            .int(attr::FRAMED_PROTOCOL, 1) // PPP
            .bytes(attr::FRAMED_IP_ADDRESS, &s.framed.octets())
            .bytes(attr::CALLING_STATION_ID, mac_text(s.mac).as_bytes())
            .bytes(attr::ACCT_SESSION_ID, s.id.as_bytes())
            .int(attr::ACCT_DELAY_TIME, 0)
            .int(attr::EVENT_TIMESTAMP, (EPOCH_SECS + t / S) as u32);
        if status != 1 {
            let (i_oct, o_oct, i_pkt, o_pkt) = self.counters(s, t);
            let session_time = (t + earlier).saturating_sub(s.started) / S;
            a.int(attr::ACCT_SESSION_TIME, session_time as u32)
                .int(attr::ACCT_INPUT_OCTETS, (s.base.0 + i_oct) as u32)
                .int(attr::ACCT_OUTPUT_OCTETS, (s.base.1 + o_oct) as u32)
                .int(attr::ACCT_INPUT_PACKETS, (s.base.2 + i_pkt) as u32)
                .int(attr::ACCT_OUTPUT_PACKETS, (s.base.3 + o_pkt) as u32);
        }
        if let Some(c) = cause {
            a.int(attr::ACCT_TERMINATE_CAUSE, c);
        }
        let id = self.radius_ids.entry(s.nas).or_insert(0x40);
        *id = id.wrapping_add(1);
        let request = packet::accounting_request(*id, &a, RADIUS_SECRET);
        let response = packet::accounting_response(&request, RADIUS_SECRET);
        let (nas, server) = (IpAddr::V4(s.nas), IpAddr::V4(RADIUS_SERVER_V4));
        let req = packet::udp(NAS_PORT, RADIUS_ACCT_PORT, &request);
        let t = if mark.is_some() { t } else { t | 1 };
        self.emit_class(
            t,
            nas,
            server,
            PROTO_UDP,
            req,
            None,
            Class::Radius(mark),
            false,
        );
        let back = (t + self.rng.range(MS, 6 * MS)) | 1;
        let resp = packet::udp(RADIUS_ACCT_PORT, NAS_PORT, &response);
        self.emit_class(
            back,
            server,
            nas,
            PROTO_UDP,
            resp,
            None,
            Class::Radius(None),
            false,
        );
    }

    /// Octets and packets from and to the session's address since its start, before `t`.
    fn counters(&self, s: &Session, t: u64) -> (u64, u64, u64, u64) {
        let me = Some(IpAddr::V4(s.framed));
        let mut c = (0, 0, 0, 0);
        for f in &self.frames {
            if f.t <= s.started || f.t >= t || matches!(f.class, Class::Radius(_)) {
                continue;
            }
            let len = f.ip_len as u64;
            if f.src == me {
                c.0 += len;
                c.2 += 1;
            } else if f.dst == me {
                c.1 += len;
                c.3 += 1;
            }
        }
        c
    }

    // ------------------------------------------------------------------------------------
    // Finishing

    /// Sorts by time (generation order breaks ties), makes times strictly increasing and
    /// numbers IPv4 identifications per source in time order.
    fn finish(mut self) -> Vec<RawFrame> {
        self.frames.sort_by_key(|f| f.t);
        let mut last: Option<u64> = None;
        let mut ids: HashMap<IpAddr, u16> = HashMap::new();
        for f in &mut self.frames {
            if let Some(l) = last.filter(|l| f.t <= *l) {
                f.t = l + 1;
            }
            last = Some(f.t);
            if let (Some(IpAddr::V4(src)), Some(off)) = (f.src, f.ip_offset) {
                let seed = u16::from_be_bytes([src.octets()[2], src.octets()[3]]).wrapping_mul(97);
                let id = ids.entry(IpAddr::V4(src)).or_insert(seed);
                *id = id.wrapping_add(1);
                packet::set_ipv4_id(&mut f.data, off, *id);
            }
        }
        self.frames
    }
}

/// An access session as its accounting messages describe it.
#[derive(Clone, Copy)]
struct Session {
    user: &'static str,
    nas: Ipv4Addr,
    nas_id: &'static str,
    id: &'static str,
    framed: Ipv4Addr,
    mac: Mac,
    /// When it began (offset; 0 for sessions older than the capture).
    started: u64,
    /// Counters before the capture: input and output octets, input and output packets.
    base: (u64, u64, u64, u64),
}

/// The MAC of the host at `addr` at time `t`: the framed address is alice's CPE until bob
/// takes it over.
fn mac_of(addr: IpAddr, t: u64) -> Mac {
    if addr == IpAddr::V4(FRAMED_V4) {
        if t < BOB_START_OFFSET {
            ALICE_MAC
        } else {
            BOB_MAC
        }
    } else if is_remote(addr) {
        ROUTER_MAC
    } else {
        packet::host_mac(addr)
    }
}

/// A Calling-Station-Id in the usual `AA-BB-CC-DD-EE-FF` form.
fn mac_text(mac: Mac) -> String {
    mac.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join("-")
}
