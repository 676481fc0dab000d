//! PacketCable vectors (step `pcesp` of run.sh).
//!
//! `pcesp-encode OUTDIR`  writes every PCESP `CdcPdu` message kind we encode (and variants of
//!                        the CHOICEs) as OUTDIR/cdc/NAME.ber with NAME.json holding the value
//!                        meant in pycrate's value shape, for `etsi_asn1.py decode --family
//!                        pcesp`; and our CCC datagrams (both forms, from the hot-path
//!                        `CccEncoder`) carried in UDP between loopback addresses as a classic
//!                        pcap OUTDIR/ccc.pcap, with OUTDIR/ccc.json listing what each frame
//!                        carries.
//! `pcesp-decode FILE...` decodes each file as one `CdcPdu` with our decoder and prints
//!                        `{"file", "value"}` (pycrate's shape) or `{"file", "error"}`.
//! `pcesp-tshark OUTDIR`  dissects OUTDIR/ccc.pcap with tshark (`TSHARK` overrides the binary):
//!                        UDP port 9000 as `pcli` (4-octet header), 9012 as `pcli12` (with the
//!                        NTP timestamp), the payload as `ip`; each frame's CCC identifier,
//!                        timestamp and inner IP addresses must be what we encoded. Prints one
//!                        line per frame and `pcesp-tshark: N passed, M failed`.
//! `pcesp-chain LEMFDIR OUTDIR`
//!                        the CCC datagrams a PacketCable agency received in the demo
//!                        (LEMFDIR/ccc.pcap, the receiver's raw copy), each carried unchanged
//!                        to UDP port 9012 in OUTDIR/ccc.pcap with OUTDIR/ccc.json saying what
//!                        it carries (by our decoder), for `pcesp-tshark OUTDIR`; and each
//!                        datagram's CCC identifier checked against those the agency's call
//!                        data (LEMFDIR/hi2.ber) opened with CCOpen. Prints
//!                        `pcesp-chain: N passed, M failed`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::{Command, ExitCode};

use li_asn1::GeneralizedTime;
use li_asn1::packetcable::ccc::{CccEncoder, CccForm, NtpTimestamp};
use li_asn1::packetcable::*;
use li_core::Timestamp;
use serde_json::{Map, Value as Json, json};

use crate::json::gtime;

/// UDP ports the pcap uses for each form (no default port exists: tshark is told with -d).
const PORT_PCLI: u16 = 9000;
const PORT_PCLI12: u16 = 9012;
const DF: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const LEA: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const BASE_SECS: u64 = 1_704_164_645;

type Error = Box<dyn std::error::Error>;

/// Entry of the `pcesp-*` subcommands.
pub fn main(cmd: &str, args: &[String]) -> ExitCode {
    let result = match (cmd, args) {
        ("pcesp-encode", [out]) => encode(Path::new(out)).map(|(n, m)| {
            eprintln!("li-conformance: wrote {n} CdcPdus and {m} CCC datagrams to {out}");
        }),
        ("pcesp-tshark", [dir]) => return tshark_check(Path::new(dir)),
        ("pcesp-chain", [lemf, out]) => return chain(Path::new(lemf), Path::new(out)),
        ("pcesp-decode", files) if !files.is_empty() => return decode(files),
        _ => Err(
            "usage: li-conformance pcesp-encode OUTDIR | pcesp-tshark OUTDIR | pcesp-decode FILE... | pcesp-chain LEMFDIR OUTDIR"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("li-conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------ CdcPdu vectors

fn encode(dir: &Path) -> Result<(usize, usize), Error> {
    let cdc = dir.join("cdc");
    std::fs::create_dir_all(&cdc)?;
    let mut n = 0;
    for (name, message) in messages()? {
        let pdu = CdcPdu::new(message);
        std::fs::write(cdc.join(format!("{name}.ber")), pdu.encode())?;
        std::fs::write(
            cdc.join(format!("{name}.json")),
            serde_json::to_string_pretty(&cdc_pdu(&pdu))?,
        )?;
        n += 1;
    }
    let m = write_pcap(dir)?;
    Ok((n, m))
}

fn header(second: u32, frac: &str) -> Result<CdcHeader, Error> {
    Ok(CdcHeader {
        case_id: CaseId::new("CASE-PCESP-0000000000001")?, // 24 of 25 characters
        accessing_element_id: AccessingElementId::new("CMS-EAST-000012")?, // 15 of 15
        event_time: GeneralizedTime::parse(&format!("202401020304{second:02}{frac}Z"))
            .ok_or("time")?,
    })
}

fn messages() -> Result<Vec<(&'static str, Message)>, Error> {
    let h = |s: u32| header(s, ".678");
    let call = CallId::from_billing_correlation_id(u32::MAX, 4_294_967_295, "CMS-EAST-000012")?;
    let call2 = CallId::from_billing_correlation_id(1_704_164_700, 8, "CMS-12")?;
    let alice = PartyId {
        dn: Some("13035550100".into()),
        ip_address: Some("2001:db8::10".into()),
        port: Some("5060".into()),
        context: Some("sip:alice@example.com;user=phone".into()),
        ..PartyId::default()
    };
    let bob = PartyId {
        dn: Some("13035550199".into()),
        user_provided: Some("13035550198".into()),
        trunk_id: Some("TRUNK-7".into()),
        generic_address: Some("bob@example.net".into()),
        generic_digits: Some("5550199".into()),
        generic_name: Some("Bob \"The Builder\" Smith".into()),
        ..PartyId::default()
    };
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=caf\u{e9}\r\nc=IN IP4 192.0.2.10\r\nm=audio 49170 RTP/AVP 0 8\r\n";
    let sdp2 = "v=0\r\nc=IN IP6 2001:db8::20\r\nm=audio 3456 RTP/AVP 0\r\n";
    Ok(vec![
        (
            "answer",
            Message::Answer(Answer {
                header: h(1)?,
                call_id: call.clone(),
                answering: Some(bob.clone()),
            }),
        ),
        (
            "answer-bare",
            Message::Answer(Answer {
                header: header(2, "")?,
                call_id: call2.clone(),
                answering: None,
            }),
        ),
        (
            "ccclose",
            Message::CcClose(CcClose {
                header: h(3)?,
                ccc_id: CccId::comb(0x0102_00ab),
                flow_direction: FlowDirection::DownstreamAndUpstream,
            }),
        ),
        (
            "ccopen",
            Message::CcOpen(CcOpen {
                header: h(4)?,
                cc_open_option: CcOpenOption::CcOpenTime(vec![call.clone(), call2.clone()]),
                ccc_id: CccId::comb(0x0102_00ab),
                subject: Some(sdp.into()),
                associate: Some(sdp2.into()),
                flow_direction: FlowDirection::DownstreamAndUpstream,
            }),
        ),
        (
            "ccopen-sep-reserved",
            Message::CcOpen(CcOpen {
                header: h(5)?,
                cc_open_option: CcOpenOption::Reserved0,
                ccc_id: CccId::sep(0xffff_ffff, 0),
                subject: None,
                associate: None,
                flow_direction: FlowDirection::Upstream,
            }),
        ),
        (
            "origination",
            Message::Origination(Origination {
                header: h(6)?,
                call_id: call.clone(),
                calling: alice.clone(),
                called: Some(bob.clone()),
                input: OriginationInput::UserInput("5550199".into()),
                transit_carrier_id: Some("0288".into()),
            }),
        ),
        (
            "origination-translation",
            Message::Origination(Origination {
                header: h(7)?,
                call_id: call.clone(),
                calling: PartyId::default(),
                called: None,
                input: OriginationInput::TranslationInput("+13035550199".into()),
                transit_carrier_id: None,
            }),
        ),
        (
            "redirection",
            Message::Redirection(Redirection {
                header: h(8)?,
                old: call.clone(),
                redirected_to: bob.clone(),
                transit_carrier_id: Some("0333333".into()),
                new: Some(call2.clone()),
                redirected_from: Some(alice.clone()),
            }),
        ),
        (
            "release",
            Message::Release(Release {
                header: h(9)?,
                call_id: call.clone(),
            }),
        ),
        (
            "terminationattempt",
            Message::TerminationAttempt(TerminationAttempt {
                header: h(10)?,
                call_id: call.clone(),
                calling: Some(bob.clone()),
                called: Some(alice.clone()),
                redirected_from_info: Some(RedirectedFromInfo {
                    last_redirecting: Some(bob.clone()),
                    original_called: Some(alice.clone()),
                    num_redirections: Some(100),
                }),
            }),
        ),
        (
            "ccchange",
            Message::CcChange(CcChange {
                header: h(11)?,
                call_id: call.clone(),
                ccc_id: CccId::sep(0x0a0b_0c0d, 0x0a0b_0c0e),
                subject: Some(sdp.into()),
                associate: None,
                flow_direction: FlowDirection::Downstream,
                resource_state: Some(ResourceState::Reserved),
            }),
        ),
        (
            "networksignal",
            Message::NetworkSignal(NetworkSignal {
                header: h(12)?,
                call_id: call.clone(),
                alerting_signal: Some(AlertingSignal::AlertingPattern9),
                subject_audible_signal: Some(AudibleSignal::AuthenticationFailureTone),
                terminal_display_info: Some(TerminalDisplayInfo {
                    general_display: Some("Incoming call".into()),
                    called_number: Some("13035550100".into()),
                    calling_number: Some("13035550199".into()),
                    calling_name: Some("Bob Smith".into()),
                    original_called_number: Some("13035550111".into()),
                    last_redirecting_number: Some("13035550122".into()),
                    redirecting_name: Some("Carol".into()),
                    redirecting_reason: Some("busy".into()),
                    message_waiting_notif: Some("2 new".into()),
                }),
                other: Some("custom-signal".into()),
            }),
        ),
        (
            "subjectsignal",
            Message::SubjectSignal(SubjectSignal {
                header: h(13)?,
                call_id: None,
                signal: SubjectSignalInfo {
                    switchhook_flash: Some("flash".into()),
                    dialed_digits: Some("*69#".into()),
                    feature_key: Some("F1".into()),
                    other_signaling_information: Some("hookflash-2".into()),
                },
            }),
        ),
        (
            "mediareport",
            Message::MediaReport(MediaReport {
                header: h(14)?,
                call_id: call.clone(),
                subject: Some(sdp2.into()),
                associate: Some(sdp.into()),
            }),
        ),
        (
            "serviceinstance",
            Message::ServiceInstance(ServiceInstance {
                header: h(15)?,
                call_id: call.clone(),
                related_call_id: Some(call2),
                service_name: "Call Waiting".into(),
                first_call_calling: Some(alice.clone()),
                second_call_calling: Some(bob.clone()),
                called: Some(alice),
                calling: Some(bob),
            }),
        ),
    ])
}

fn opt(m: &mut Map<String, Json>, key: &str, v: Option<Json>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}

fn s(v: &Option<String>) -> Option<Json> {
    v.as_ref().map(|s| json!(s))
}

/// An ENUMERATED's name, or its number when this version does not know it.
macro_rules! name {
    ($e:expr) => {
        match $e.asn1_name() {
            Some(n) => json!(n),
            None => json!($e.value()),
        }
    };
}

/// A `CdcPdu` in pycrate's value shape (also for the chain's split of a received stream).
pub fn cdc_pdu(p: &CdcPdu) -> Json {
    let message = match &p.message {
        Message::Unknown(u) => json!([format!("unknown-[{}]", u.tag_number)]),
        m => json!([m.asn1_name(), Json::Object(message(m))]),
    };
    json!({ "protocolVersion": name!(p.protocol_version), "message": message })
}

fn call_id(c: &CallId) -> Json {
    json!({ "sequencenumber": c.sequence_number, "systemidentity": c.system_identity })
}

fn ccc_id(c: &CccId) -> Json {
    match c {
        CccId::CombCcc(s) => json!(["combCCC", s]),
        CccId::SepCccPair { xmit, recv } => {
            json!(["sepCCCpair", { "sepXmitCCC": xmit, "sepRecvCCC": recv }])
        }
        CccId::Unknown(u) => json!([format!("unknown-[{}]", u.tag_number)]),
    }
}

fn party(p: &PartyId) -> Json {
    let mut m = Map::new();
    opt(&mut m, "dn", s(&p.dn));
    opt(&mut m, "userProvided", s(&p.user_provided));
    opt(&mut m, "ipAddress", s(&p.ip_address));
    opt(&mut m, "trunkId", s(&p.trunk_id));
    opt(&mut m, "genericAddress", s(&p.generic_address));
    opt(&mut m, "genericDigits", s(&p.generic_digits));
    opt(&mut m, "genericName", s(&p.generic_name));
    opt(&mut m, "port", s(&p.port));
    opt(&mut m, "context", s(&p.context));
    Json::Object(m)
}

fn message(msg: &Message) -> Map<String, Json> {
    let mut m = Map::new();
    if let Some(h) = msg.header() {
        m.insert("caseId".into(), json!(h.case_id.as_str()));
        m.insert(
            "accessingElementId".into(),
            json!(h.accessing_element_id.as_str()),
        );
        m.insert("eventTime".into(), gtime(&h.event_time));
    }
    let party = |p: &Option<PartyId>| p.as_ref().map(party);
    match msg {
        Message::Answer(a) => {
            m.insert("callId".into(), call_id(&a.call_id));
            opt(&mut m, "answering", party(&a.answering));
        }
        Message::CcClose(c) => {
            m.insert("cCCId".into(), ccc_id(&c.ccc_id));
            m.insert("flowDirection".into(), name!(c.flow_direction));
        }
        Message::CcOpen(c) => {
            let option = match &c.cc_open_option {
                CcOpenOption::CcOpenTime(calls) => {
                    json!(["ccOpenTime", calls.iter().map(call_id).collect::<Vec<_>>()])
                }
                CcOpenOption::Reserved0 => json!(["reserved0", 0]),
            };
            m.insert("ccOpenOption".into(), option);
            m.insert("cCCId".into(), ccc_id(&c.ccc_id));
            opt(&mut m, "subject", s(&c.subject));
            opt(&mut m, "associate", s(&c.associate));
            m.insert("flowDirection".into(), name!(c.flow_direction));
        }
        Message::Origination(o) => {
            m.insert("callId".into(), call_id(&o.call_id));
            m.insert("calling".into(), self::party(&o.calling));
            opt(&mut m, "called", party(&o.called));
            let input = match &o.input {
                OriginationInput::UserInput(s) => json!(["userinput", s]),
                OriginationInput::TranslationInput(s) => json!(["translationinput", s]),
            };
            m.insert("input".into(), input);
            m.insert("reserved0".into(), json!(0));
            opt(&mut m, "transitCarrierId", s(&o.transit_carrier_id));
        }
        Message::Redirection(r) => {
            m.insert("old".into(), call_id(&r.old));
            m.insert("redirectedto".into(), self::party(&r.redirected_to));
            opt(&mut m, "transitCarrierId", s(&r.transit_carrier_id));
            m.insert("reserved0".into(), json!(0));
            m.insert("reserved1".into(), json!(0));
            opt(&mut m, "new", r.new.as_ref().map(call_id));
            opt(&mut m, "redirectedfrom", party(&r.redirected_from));
        }
        Message::Release(r) => {
            m.insert("callId".into(), call_id(&r.call_id));
        }
        Message::TerminationAttempt(t) => {
            m.insert("callId".into(), call_id(&t.call_id));
            opt(&mut m, "calling", party(&t.calling));
            opt(&mut m, "called", party(&t.called));
            m.insert("reserved0".into(), json!(0));
            let info = t.redirected_from_info.as_ref().map(|i| {
                let mut r = Map::new();
                opt(&mut r, "lastRedirecting", party(&i.last_redirecting));
                opt(&mut r, "originalCalled", party(&i.original_called));
                opt(
                    &mut r,
                    "numRedirections",
                    i.num_redirections.map(|n| json!(n)),
                );
                Json::Object(r)
            });
            opt(&mut m, "redirectedFromInfo", info);
        }
        Message::CcChange(c) => {
            m.insert("callId".into(), call_id(&c.call_id));
            m.insert("cCCId".into(), ccc_id(&c.ccc_id));
            opt(&mut m, "subject", s(&c.subject));
            opt(&mut m, "associate", s(&c.associate));
            m.insert("flowDirection".into(), name!(c.flow_direction));
            opt(&mut m, "resourceState", c.resource_state.map(|r| name!(r)));
        }
        Message::NetworkSignal(n) => {
            m.insert("callId".into(), call_id(&n.call_id));
            opt(
                &mut m,
                "alertingSignal",
                n.alerting_signal.map(|a| name!(a)),
            );
            opt(
                &mut m,
                "subjectAudibleSignal",
                n.subject_audible_signal.map(|a| name!(a)),
            );
            let display = n.terminal_display_info.as_ref().map(|d| {
                let mut r = Map::new();
                opt(&mut r, "generalDisplay", s(&d.general_display));
                opt(&mut r, "calledNumber", s(&d.called_number));
                opt(&mut r, "callingNumber", s(&d.calling_number));
                opt(&mut r, "callingName", s(&d.calling_name));
                opt(&mut r, "originalCalledNumber", s(&d.original_called_number));
                opt(
                    &mut r,
                    "lastRedirectingNumber",
                    s(&d.last_redirecting_number),
                );
                opt(&mut r, "redirectingName", s(&d.redirecting_name));
                opt(&mut r, "redirectingReason", s(&d.redirecting_reason));
                opt(&mut r, "messageWaitingNotif", s(&d.message_waiting_notif));
                Json::Object(r)
            });
            opt(&mut m, "terminalDisplayInfo", display);
            opt(&mut m, "other", s(&n.other));
        }
        Message::SubjectSignal(x) => {
            opt(&mut m, "callId", x.call_id.as_ref().map(call_id));
            let mut r = Map::new();
            opt(&mut r, "switchhookFlash", s(&x.signal.switchhook_flash));
            opt(&mut r, "dialedDigits", s(&x.signal.dialed_digits));
            opt(&mut r, "featureKey", s(&x.signal.feature_key));
            opt(
                &mut r,
                "otherSignalingInformation",
                s(&x.signal.other_signaling_information),
            );
            m.insert("signal".into(), Json::Object(r));
        }
        Message::MediaReport(r) => {
            m.insert("callId".into(), call_id(&r.call_id));
            opt(&mut m, "subject", s(&r.subject));
            opt(&mut m, "associate", s(&r.associate));
        }
        Message::ServiceInstance(x) => {
            m.insert("callId".into(), call_id(&x.call_id));
            opt(
                &mut m,
                "relatedCallId",
                x.related_call_id.as_ref().map(call_id),
            );
            m.insert("serviceName".into(), json!(x.service_name));
            opt(&mut m, "firstCallCalling", party(&x.first_call_calling));
            opt(&mut m, "secondCallCalling", party(&x.second_call_calling));
            opt(&mut m, "called", party(&x.called));
            opt(&mut m, "calling", party(&x.calling));
        }
        Message::Unknown(_) => {}
    }
    m
}

fn decode(files: &[String]) -> ExitCode {
    let mut ok = true;
    for f in files {
        let line = match std::fs::read(f)
            .map_err(|e| e.to_string())
            .and_then(|d| CdcPdu::decode(&d).map_err(|e| e.to_string()))
        {
            Ok(p) => json!({ "file": f, "value": cdc_pdu(&p) }),
            Err(e) => {
                ok = false;
                json!({ "file": f, "error": e })
            }
        };
        println!("{line}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// ------------------------------------------------------------------ CCC datagrams in a pcap

/// One content datagram: which stream and form, when, the inner packet's addresses.
struct Datagram {
    form: CccForm,
    ccc_id: u32,
    time: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    payload_len: usize,
}

fn datagrams() -> Result<Vec<Datagram>, Error> {
    let a4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    let b4 = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    let a6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10));
    let b6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x20));
    let t = |s: u64, us: u32| Timestamp::from_secs_micros(BASE_SECS + s, us);
    Ok(vec![
        Datagram {
            form: CccForm::IdTimestamp,
            ccc_id: 0x0102_00ab,
            time: t(0, 678_000)?,
            src: a4,
            dst: b4,
            payload_len: 172,
        },
        Datagram {
            form: CccForm::IdTimestamp,
            ccc_id: 0x0102_00ab,
            time: t(0, 698_001)?,
            src: b4,
            dst: a4,
            payload_len: 172,
        },
        Datagram {
            form: CccForm::IdTimestamp,
            ccc_id: 0xffff_ffff,
            time: t(1, 999_999)?,
            src: a6,
            dst: b6,
            payload_len: 60,
        },
        Datagram {
            form: CccForm::IdTimestamp,
            ccc_id: 0,
            time: t(2, 0)?,
            src: b6,
            dst: a6,
            payload_len: 0,
        },
        Datagram {
            form: CccForm::Id,
            ccc_id: 0x0a0b_0c0d,
            time: t(3, 500_000)?,
            src: a4,
            dst: b4,
            payload_len: 32,
        },
        Datagram {
            form: CccForm::Id,
            ccc_id: 123_456,
            time: t(4, 1)?,
            src: a6,
            dst: b6,
            payload_len: 12,
        },
    ])
}

fn write_pcap(dir: &Path) -> Result<usize, Error> {
    let list = datagrams()?;
    let mut pcap = li_core::pcap::FileHeader::micros(1)
        .to_bytes(false)
        .to_vec();
    let mut expected = Vec::new();
    let mut buf = vec![0u8; 2048];
    for (i, d) in list.iter().enumerate() {
        let rtp: Vec<u8> = (0..d.payload_len).map(|k| (k * 7 + i) as u8).collect();
        let inner = ip_udp(d.src, d.dst, 49170, 3456, &rtp);
        let encoder = CccEncoder::new(d.ccc_id, d.form);
        let n = encoder.encode(d.time, &inner, &mut buf)?;
        let datagram = buf.get(..n).ok_or("datagram")?;
        let port = match d.form {
            CccForm::Id => PORT_PCLI,
            CccForm::IdTimestamp => PORT_PCLI12,
        };
        let outer = ip_udp(IpAddr::V4(DF), IpAddr::V4(LEA), 40000, port, datagram);
        let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend_from_slice(&outer);
        let record = li_core::pcap::RecordHeader::new(d.time, false, frame.len(), frame.len())
            .ok_or("a frame the pcap format holds")?;
        pcap.extend_from_slice(&record.to_bytes(false));
        pcap.extend_from_slice(&frame);
        let ntp = (d.form == CccForm::IdTimestamp).then(|| NtpTimestamp::from_timestamp(d.time));
        expected.push(json!({
            "frame": i + 1,
            "port": port,
            "cccid": d.ccc_id,
            "ntp": ntp.map(|t| json!({ "seconds": t.seconds, "fraction": t.fraction })),
            "src": d.src.to_string(),
            "dst": d.dst.to_string(),
        }));
    }
    std::fs::write(dir.join("ccc.pcap"), pcap)?;
    std::fs::write(
        dir.join("ccc.json"),
        serde_json::to_string_pretty(&expected)?,
    )?;
    Ok(list.len())
}

/// An IPv4 (checksummed) or IPv6 header and a UDP header (checksum 0, allowed for IPv4; for
/// IPv6 tshark reports it and decodes on) around `data`.
fn ip_udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut udp = Vec::with_capacity(8 + data.len());
    udp.extend_from_slice(&sport.to_be_bytes());
    udp.extend_from_slice(&dport.to_be_bytes());
    udp.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(data);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&((20 + udp.len()) as u16).to_be_bytes());
            h.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let sum = checksum(&h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            h.extend_from_slice(&udp);
            h
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            let mut h = vec![0x60, 0, 0, 0];
            h.extend_from_slice(&(udp.len() as u16).to_be_bytes());
            h.extend_from_slice(&[17, 64]);
            h.extend_from_slice(&v6(s));
            h.extend_from_slice(&v6(d));
            h.extend_from_slice(&udp);
            h
        }
    }
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

// ------------------------------------------------------------------ tshark check

fn tshark_check(dir: &Path) -> ExitCode {
    match run_tshark_check(dir) {
        Ok((passed, failed)) => {
            println!("pcesp-tshark: {passed} passed, {failed} failed");
            if failed == 0 && passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("li-conformance: {e}");
            println!("pcesp-tshark: 0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

fn run_tshark_check(dir: &Path) -> Result<(usize, usize), Error> {
    let expected: Vec<Json> = serde_json::from_slice(&std::fs::read(dir.join("ccc.json"))?)?;
    let tshark = std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into());
    let out = Command::new(&tshark)
        .arg("-r")
        .arg(dir.join("ccc.pcap"))
        .args(["-T", "ek"])
        .args(["-d", &format!("udp.port=={PORT_PCLI},pcli")])
        .args(["-d", &format!("udp.port=={PORT_PCLI12},pcli12")])
        .args(["-d", "pcli.payload,ip"])
        .output()?;
    if !out.status.success() {
        return Err(format!("{tshark} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let frames: Vec<Json> = String::from_utf8(out.stdout)?
        .lines()
        .filter(|l| l.contains("\"layers\""))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let (mut passed, mut failed) = (0, 0);
    for (i, want) in expected.iter().enumerate() {
        let problems = match frames.get(i) {
            Some(f) => check_frame(want, f.get("layers").unwrap_or(&Json::Null)),
            None => vec!["tshark printed no such frame".to_string()],
        };
        if problems.is_empty() {
            passed += 1;
            println!("ok   frame {}: {}", i + 1, want);
        } else {
            failed += 1;
            println!("FAIL frame {}: {}", i + 1, problems.join("; "));
        }
    }
    if frames.len() != expected.len() {
        failed += 1;
        println!(
            "FAIL tshark read {} frames, we wrote {}",
            frames.len(),
            expected.len()
        );
    }
    Ok((passed, failed))
}

/// The differences between what frame `layers` shows and what we encoded.
fn check_frame(want: &Json, layers: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    let pcli = layers.get("pcli").unwrap_or(&Json::Null);
    let cccid = pcli.get("pcli_pcli_cccid").and_then(Json::as_str);
    if cccid != Some(&want["cccid"].to_string()) {
        problems.push(format!("CCCID {cccid:?}, we wrote {}", want["cccid"]));
    }
    let shown = pcli.get("pcli_pcli_timestamp").and_then(Json::as_str);
    match (&want["ntp"], shown) {
        (Json::Null, None) => {}
        (Json::Null, Some(t)) => problems.push(format!("a timestamp {t} in the 4-octet form")),
        (ntp, shown) => {
            let seconds = ntp["seconds"].as_u64().unwrap_or(0);
            let fraction = ntp["fraction"].as_u64().unwrap_or(0);
            let want_unix = seconds as i64 - 2_208_988_800;
            let want_nanos = (fraction * 1_000_000_000) >> 32;
            match shown.and_then(parse_iso) {
                Some((unix, nanos))
                    if unix == want_unix && nanos.abs_diff(want_nanos) <= 1 => {}
                _ => problems.push(format!(
                    "timestamp {shown:?}, we wrote NTP {seconds}.{fraction} (Unix {want_unix} s {want_nanos} ns)"
                )),
            }
        }
    }
    // the inner packet: the second IP layer (ip or ipv6) the payload dissected into
    let inner = |layer: &str, field: &str| -> Option<String> {
        match layers.get(layer)? {
            Json::Array(a) => a.last()?.get(field)?.as_str().map(str::to_owned),
            Json::Object(o) if layer == "ipv6" => o.get(field)?.as_str().map(str::to_owned),
            _ => None,
        }
    };
    let v6 = want["src"].as_str().is_some_and(|s| s.contains(':'));
    let (src, dst) = if v6 {
        (
            inner("ipv6", "ipv6_ipv6_src"),
            inner("ipv6", "ipv6_ipv6_dst"),
        )
    } else {
        (inner("ip", "ip_ip_src"), inner("ip", "ip_ip_dst"))
    };
    if src.as_deref() != want["src"].as_str() || dst.as_deref() != want["dst"].as_str() {
        problems.push(format!(
            "inner packet {src:?} -> {dst:?}, we wrote {} -> {}",
            want["src"], want["dst"]
        ));
    }
    problems
}

/// `2024-01-02T03:04:05.500000000Z` as Unix seconds (through li-core's GeneralizedTime
/// parser) and nanoseconds.
fn parse_iso(s: &str) -> Option<(i64, u64)> {
    let rest = s.strip_suffix('Z')?;
    let (whole, frac) = rest.split_once('.').unwrap_or((rest, "0"));
    let digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    let secs = Timestamp::parse_generalized_time(&format!("{digits}Z"))
        .ok()?
        .unix_secs();
    let nanos: u64 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    Some((i64::try_from(secs).ok()?, nanos))
}

// ------------------------------------------------------------------ the demo's datagrams

fn chain(lemf: &Path, out: &Path) -> ExitCode {
    match run_chain(lemf, out) {
        Ok((passed, failed)) => {
            println!("pcesp-chain: {passed} passed, {failed} failed");
            if failed == 0 && passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("li-conformance: {e}");
            println!("pcesp-chain: 0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

/// The CCC identifiers the call data opened (CCOpen, CCChange).
fn opened_ids(hi2: &[u8]) -> Result<std::collections::BTreeSet<u32>, Error> {
    let mut ids = std::collections::BTreeSet::new();
    let mut rest = hi2;
    while !rest.is_empty() {
        let (pdu, used) = CdcPdu::decode_prefix(rest)?;
        rest = rest.get(used..).unwrap_or_default();
        let ccc = match &pdu.message {
            Message::CcOpen(m) => &m.ccc_id,
            Message::CcChange(m) => &m.ccc_id,
            _ => continue,
        };
        if let Some((a, b)) = ccc.identifiers() {
            ids.insert(a);
            ids.extend(b);
        }
    }
    Ok(ids)
}

/// An IP address from `len` octets of `data` at `at`.
fn address(data: &[u8], at: usize, len: usize) -> Option<IpAddr> {
    let octets = data.get(at..at + len)?;
    match len {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(octets).ok()?)),
        _ => Some(IpAddr::from(<[u8; 16]>::try_from(octets).ok()?)),
    }
}

fn run_chain(lemf: &Path, out: &Path) -> Result<(usize, usize), Error> {
    let opened = opened_ids(&std::fs::read(lemf.join("hi2.ber"))?)?;
    let data = std::fs::read(lemf.join("ccc.pcap"))?;
    std::fs::create_dir_all(out)?;
    let mut pcap = li_core::pcap::FileHeader::micros(1)
        .to_bytes(false)
        .to_vec();
    let mut expected = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    let mut at = 24usize;
    while let Some(header) = data.get(at..at + 16) {
        let word =
            |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (secs, micros, caplen) = (word(0), word(4), word(8) as usize);
        let record = data
            .get(at + 16..at + 16 + caplen)
            .ok_or("ccc.pcap: a record past the end")?;
        at += 16 + caplen;
        // LINKTYPE_RAW: the outer IPv4 or IPv6 header and UDP header, then the datagram.
        let ip_len = match record.first().map(|b| b >> 4) {
            Some(4) => usize::from(record[0] & 0x0f) * 4,
            Some(6) => 40,
            _ => return Err("ccc.pcap: a record that is not IP".into()),
        };
        let datagram = record.get(ip_len + 8..).ok_or("ccc.pcap: a short record")?;
        let d = li_asn1::packetcable::ccc::decode(datagram, CccForm::IdTimestamp)?;
        let n = expected.len() + 1;
        let (src, dst) = match d.payload.first().map(|b| b >> 4) {
            Some(4) => (address(d.payload, 12, 4), address(d.payload, 16, 4)),
            Some(6) => (address(d.payload, 8, 16), address(d.payload, 24, 16)),
            _ => (None, None),
        };
        let (Some(src), Some(dst)) = (src, dst) else {
            failed += 1;
            println!("FAIL datagram {n}: no IP datagram inside");
            continue;
        };
        if opened.contains(&d.ccc_id) {
            passed += 1;
        } else {
            failed += 1;
            println!(
                "FAIL datagram {n}: CCC identifier {:08X} opened by no CCOpen",
                d.ccc_id
            );
        }
        let time = Timestamp::from_secs_micros(u64::from(secs), micros)?;
        let outer = ip_udp(
            IpAddr::V4(DF),
            IpAddr::V4(LEA),
            40000,
            PORT_PCLI12,
            datagram,
        );
        let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend_from_slice(&outer);
        let record = li_core::pcap::RecordHeader::new(time, false, frame.len(), frame.len())
            .ok_or("a frame the pcap format holds")?;
        pcap.extend_from_slice(&record.to_bytes(false));
        pcap.extend_from_slice(&frame);
        let ntp = d
            .timestamp
            .ok_or("a pcli12 datagram without its timestamp")?;
        expected.push(json!({
            "frame": n,
            "port": PORT_PCLI12,
            "cccid": d.ccc_id,
            "ntp": { "seconds": ntp.seconds, "fraction": ntp.fraction },
            "src": src.to_string(),
            "dst": dst.to_string(),
        }));
    }
    if expected.is_empty() {
        return Err(format!("{}: no datagram", lemf.join("ccc.pcap").display()).into());
    }
    std::fs::write(out.join("ccc.pcap"), pcap)?;
    std::fs::write(
        out.join("ccc.json"),
        serde_json::to_string_pretty(&expected)?,
    )?;
    Ok((passed, failed))
}
