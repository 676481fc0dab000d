//! SIP and SDP texts of the synthetic calls (RFC 3261, RFC 8866), written out header by
//! header so that a scenario can choose the compact forms (RFC 3261 clause 7.3.3) or add
//! what a real network adds (Diversion, History-Info, Authorization, ...).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// A user agent: its address of record and where it sends SIP from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ua {
    /// Display name.
    pub name: &'static str,
    /// Address of record (`sip:user@domain`).
    pub uri: String,
    /// Where its SIP comes from (and its Contact).
    pub sip: SocketAddr,
}

impl Ua {
    pub(crate) fn new(name: &'static str, uri: &str, sip: SocketAddr) -> Self {
        Self {
            name,
            uri: uri.into(),
            sip,
        }
    }

    fn contact(&self) -> String {
        let user = self
            .uri
            .strip_prefix("sip:")
            .and_then(|u| u.split('@').next())
            .unwrap_or("ua");
        format!("<sip:{user}@{}>", host_port(self.sip))
    }
}

/// `host:port`, an IPv6 host in brackets.
pub(crate) fn host_port(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

/// One Call-ID between two user agents: writes its requests and responses.
#[derive(Clone, Debug)]
pub(crate) struct Leg {
    pub call_id: String,
    pub caller: Ua,
    pub callee: Ua,
    /// The Request-URI of the INVITE (the callee's AOR unless forwarded).
    pub request_uri: String,
    /// The To URI (the callee's AOR unless forwarded).
    pub to_uri: String,
    pub from_tag: String,
    pub to_tag: Option<String>,
    /// `UDP` or `TCP` in the Via.
    pub transport: &'static str,
    /// Compact header names (`v`, `f`, `t`, `i`, `m`, `c`, `l`).
    pub compact: bool,
    /// Headers added to requests from the caller (name, value).
    pub extra: Vec<(String, String)>,
}

impl Leg {
    pub(crate) fn new(call_id: &str, caller: Ua, callee: Ua) -> Self {
        Self {
            call_id: call_id.into(),
            request_uri: callee.uri.clone(),
            to_uri: callee.uri.clone(),
            caller,
            callee,
            from_tag: format!("{:x}", fnv(call_id.as_bytes()) & 0xffff_ffff),
            to_tag: None,
            transport: "UDP",
            compact: false,
            extra: Vec::new(),
        }
    }

    /// The same leg with the callee's dialog tag (a fork's, or the answer's).
    pub(crate) fn with_tag(&self, tag: &str) -> Self {
        Self {
            to_tag: Some(tag.into()),
            ..self.clone()
        }
    }

    fn branch(&self, cseq: u32, method: &str, from_caller: bool) -> String {
        let side = if from_caller { 'a' } else { 'b' };
        format!(
            "z9hG4bK{:x}{side}{cseq}{}",
            fnv(self.call_id.as_bytes()) >> 40,
            method.to_ascii_lowercase()
        )
    }

    fn header_pair(&self) -> (String, String) {
        let from = format!(
            "\"{}\" <{}>;tag={}",
            self.caller.name, self.caller.uri, self.from_tag
        );
        let to = match &self.to_tag {
            Some(tag) => format!("<{}>;tag={tag}", self.to_uri),
            None => format!("<{}>", self.to_uri),
        };
        (from, to)
    }

    /// A request from the caller (`from_caller`) or from the callee (From and To swapped).
    /// With a To tag it is sent in the dialog, to the other party's Contact.
    pub(crate) fn request(
        &self,
        method: &str,
        cseq: u32,
        from_caller: bool,
        body: Option<&str>,
    ) -> Vec<u8> {
        self.request_with(method, cseq, from_caller, body, &[])
    }

    /// [`Leg::request`] with more headers.
    pub(crate) fn request_with(
        &self,
        method: &str,
        cseq: u32,
        from_caller: bool,
        body: Option<&str>,
        headers: &[(&str, String)],
    ) -> Vec<u8> {
        let in_dialog = self.to_tag.is_some() && method != "CANCEL";
        let branch = if method == "CANCEL" { "INVITE" } else { method };
        self.build(method, cseq, from_caller, body, headers, in_dialog, branch)
    }

    /// The ACK to a failure response of the INVITE: the INVITE's Request-URI and branch
    /// (RFC 3261 clause 17.1.1.3), with the failure's To tag.
    pub(crate) fn ack_of_failure(&self, cseq: u32) -> Vec<u8> {
        self.build("ACK", cseq, true, None, &[], false, "INVITE")
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        method: &str,
        cseq: u32,
        from_caller: bool,
        body: Option<&str>,
        headers: &[(&str, String)],
        in_dialog: bool,
        branch_method: &str,
    ) -> Vec<u8> {
        let (from, to) = self.header_pair();
        let (sender, uri, from, to) = if from_caller {
            let uri = if in_dialog {
                self.callee.contact().trim_matches(['<', '>']).to_string()
            } else {
                self.request_uri.clone()
            };
            (&self.caller, uri, from, to)
        } else {
            let uri = self.caller.contact().trim_matches(['<', '>']).to_string();
            (&self.callee, uri, to, from)
        };
        let mut m = Message::new(format!("{method} {uri} SIP/2.0"), self.compact);
        m.header(
            "Via",
            format!(
                "SIP/2.0/{} {};branch={}",
                self.transport,
                host_port(sender.sip),
                self.branch(cseq, branch_method, from_caller)
            ),
        );
        m.header("Max-Forwards", "70".into());
        m.header("From", from);
        m.header("To", to);
        m.header("Call-ID", self.call_id.clone());
        m.header("CSeq", format!("{cseq} {method}"));
        if matches!(method, "INVITE" | "REGISTER" | "UPDATE") {
            m.header("Contact", sender.contact());
        }
        if from_caller && method == "INVITE" && self.to_tag.is_none() {
            for (name, value) in &self.extra {
                m.header(name, value.clone());
            }
        }
        for (name, value) in headers {
            m.header(name, value.clone());
        }
        m.render(body)
    }

    /// A response from the callee (`from_callee`) to a request of the caller, or from the
    /// caller to one of the callee.
    pub(crate) fn response(
        &self,
        status: u16,
        cseq: u32,
        method: &str,
        from_callee: bool,
        body: Option<&str>,
    ) -> Vec<u8> {
        let (from, to) = self.header_pair();
        let (requester, responder, from, to) = if from_callee {
            (&self.caller, &self.callee, from, to)
        } else {
            (&self.callee, &self.caller, to, from)
        };
        let mut m = Message::new(format!("SIP/2.0 {status} {}", reason(status)), self.compact);
        m.header(
            "Via",
            format!(
                "SIP/2.0/{} {};branch={}",
                self.transport,
                host_port(requester.sip),
                self.branch(cseq, method, from_callee)
            ),
        );
        m.header("From", from);
        m.header("To", to);
        m.header("Call-ID", self.call_id.clone());
        m.header("CSeq", format!("{cseq} {method}"));
        if method == "INVITE" && (101..300).contains(&status) {
            m.header("Contact", responder.contact());
        }
        m.render(body)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        401 => "Unauthorized",
        486 => "Busy Here",
        487 => "Request Terminated",
        _ => "Status",
    }
}

/// A SIP message being written.
struct Message {
    text: String,
    compact: bool,
}

impl Message {
    fn new(start: String, compact: bool) -> Self {
        let mut text = start;
        text.push_str("\r\n");
        Self { text, compact }
    }

    fn header(&mut self, name: &str, value: String) {
        let name = if self.compact { compact(name) } else { name };
        let _ = write!(self.text, "{name}: {value}\r\n");
    }

    fn render(mut self, body: Option<&str>) -> Vec<u8> {
        match body {
            Some(sdp) => {
                self.header("Content-Type", "application/sdp".into());
                self.header("Content-Length", sdp.len().to_string());
                self.text.push_str("\r\n");
                self.text.push_str(sdp);
            }
            None => {
                self.header("Content-Length", "0".into());
                self.text.push_str("\r\n");
            }
        }
        self.text.into_bytes()
    }
}

/// The compact form of a header name (RFC 3261 clause 7.3.3), or the name.
fn compact(name: &str) -> &str {
    match name {
        "Via" => "v",
        "From" => "f",
        "To" => "t",
        "Call-ID" => "i",
        "Contact" => "m",
        "Content-Type" => "c",
        "Content-Length" => "l",
        "Subject" => "s",
        "Supported" => "k",
        other => other,
    }
}

/// FNV-1a, for tags and branches that differ per Call-ID and are the same every run.
pub(crate) fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One `m=` line of an SDP.
#[derive(Clone, Debug)]
pub(crate) struct Media {
    /// `audio` or `video`.
    pub kind: &'static str,
    pub port: u16,
    /// Payload types with their `a=rtpmap` (`0 PCMU/8000`...).
    pub formats: &'static [(u8, &'static str)],
    /// `sendrecv`, `sendonly`, `recvonly`, `inactive`, or `None` (sendrecv by default).
    pub direction: Option<&'static str>,
    /// More attribute lines (without `a=`).
    pub attributes: Vec<String>,
}

/// The audio formats the scenarios offer: mu-law and A-law.
pub(crate) const G711: &[(u8, &str)] = &[(0, "PCMU/8000"), (8, "PCMA/8000")];
/// The video format of the audio-and-video case.
pub(crate) const H264: &[(u8, &str)] = &[(96, "H264/90000")];

impl Media {
    pub(crate) fn audio(port: u16) -> Self {
        Self {
            kind: "audio",
            port,
            formats: G711,
            direction: None,
            attributes: vec!["ptime:20".into()],
        }
    }

    pub(crate) fn video(port: u16) -> Self {
        Self {
            kind: "video",
            port,
            formats: H264,
            direction: None,
            attributes: Vec::new(),
        }
    }

    pub(crate) fn direction(mut self, direction: &'static str) -> Self {
        self.direction = Some(direction);
        self
    }
}

/// An SDP session description.
#[derive(Clone, Debug)]
pub(crate) struct Sdp {
    /// `o=` username.
    pub user: &'static str,
    /// `o=` sess-id.
    pub session: u64,
    /// `o=` sess-version (incremented by each re-offer).
    pub version: u64,
    /// The `o=` and `c=` address.
    pub addr: IpAddr,
    pub media: Vec<Media>,
}

impl Sdp {
    pub(crate) fn new(user: &'static str, session: u64, addr: IpAddr, media: Vec<Media>) -> Self {
        Self {
            user,
            session,
            version: session,
            addr,
            media,
        }
    }

    /// The next version of this description with other media.
    pub(crate) fn reoffer(&self, media: Vec<Media>) -> Self {
        Self {
            version: self.version + 1,
            media,
            ..self.clone()
        }
    }

    pub(crate) fn render(&self) -> String {
        let family = if self.addr.is_ipv4() { "IP4" } else { "IP6" };
        let mut s = format!(
            "v=0\r\no={} {} {} IN {family} {}\r\ns=call\r\nc=IN {family} {}\r\nt=0 0\r\n",
            self.user, self.session, self.version, self.addr, self.addr
        );
        for m in &self.media {
            let pts: Vec<String> = m.formats.iter().map(|(pt, _)| pt.to_string()).collect();
            let _ = write!(s, "m={} {} RTP/AVP {}\r\n", m.kind, m.port, pts.join(" "));
            for (pt, map) in m.formats {
                let _ = write!(s, "a=rtpmap:{pt} {map}\r\n");
            }
            for a in &m.attributes {
                let _ = write!(s, "a={a}\r\n");
            }
            if let Some(d) = m.direction {
                let _ = write!(s, "a={d}\r\n");
            }
        }
        s
    }
}
