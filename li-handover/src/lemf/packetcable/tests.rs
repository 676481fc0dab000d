//! PacketCable at the receiver: the decisions alone (family recognition, the CCC table, the
//! call numbering), then whole calls over loopback TCP (call data) and UDP (call content).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use li_asn1::GeneralizedTime;
use li_asn1::packetcable::ccc::{CccEncoder, CccForm};
use li_asn1::packetcable::{
    AccessingElementId, Answer, CallId, CaseId, CcClose, CcOpen, CcOpenOption, CccId, CdcHeader,
    CdcPdu, FlowDirection, Message, Origination, OriginationInput, PartyId, Release,
};
use li_core::checksum::{internet_checksum, ones_complement_sum};
use li_core::media::g711::Law;
use li_core::media::rtp::RtpHeader;
use li_core::{Liid, Timestamp};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::*;
use crate::lemf::voice::wav::read_samples;
use crate::lemf::{Receiver, ReceiverConfig, Summary, UNATTRIBUTED_CCC_FILE, start_with};

const CASE: &str = "CASE-PC";
const ELEMENT: &str = "CMS-1";
const CIN: u32 = 42;
const UE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
const XMIT: u32 = 0x0000_00A1;
const RECV: u32 = 0x0000_00B2;

fn time(ms: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_800_000_000 + ms / 1000, (ms % 1000) as u32 * 1000).unwrap()
}

fn liid() -> Liid {
    Liid::new(CASE.as_bytes()).unwrap()
}

fn header(ms: u64) -> CdcHeader {
    CdcHeader {
        case_id: CaseId::new(CASE).unwrap(),
        accessing_element_id: AccessingElementId::new(ELEMENT).unwrap(),
        event_time: GeneralizedTime::from_timestamp(time(ms)),
    }
}

fn call_id(seq: &str) -> CallId {
    CallId {
        sequence_number: seq.into(),
        system_identity: ELEMENT.into(),
    }
}

fn dn(digits: &str) -> PartyId {
    PartyId {
        dn: Some(digits.into()),
        ..PartyId::default()
    }
}

const TARGET_SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n\
                          t=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\n";
const OTHER_SDP: &str = "v=0\r\no=- 2 2 IN IP4 198.51.100.20\r\ns=-\r\n\
                         c=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0 8\r\n";

fn origination(ms: u64) -> CdcPdu {
    CdcPdu::new(Message::Origination(Origination {
        header: header(ms),
        call_id: call_id(&CIN.to_string()),
        calling: dn("5551230001"),
        called: Some(dn("5551230002")),
        input: OriginationInput::UserInput("5551230002".into()),
        transit_carrier_id: None,
    }))
}

fn cc_open(ms: u64, ccc: CccId) -> CdcPdu {
    CdcPdu::new(Message::CcOpen(CcOpen {
        header: header(ms),
        cc_open_option: CcOpenOption::CcOpenTime(vec![call_id(&CIN.to_string())]),
        ccc_id: ccc,
        subject: Some(TARGET_SDP.into()),
        associate: Some(OTHER_SDP.into()),
        flow_direction: FlowDirection::DownstreamAndUpstream,
    }))
}

fn cc_close(ms: u64, ccc: CccId) -> CdcPdu {
    CdcPdu::new(Message::CcClose(CcClose {
        header: header(ms),
        ccc_id: ccc,
        flow_direction: FlowDirection::DownstreamAndUpstream,
    }))
}

/// A G.711 RTP packet, `n`th of its stream: 160 samples of a tone, encoded.
fn rtp(law: Law, ssrc: u32, n: u16) -> Vec<u8> {
    let mut p = Vec::new();
    RtpHeader {
        marker: n == 0,
        payload_type: law.payload_type(),
        sequence: n,
        timestamp: 8000 + u32::from(n) * 160,
        ssrc,
    }
    .write(&mut p);
    let hz = if law == Law::Ulaw { 440.0 } else { 1000.0 };
    p.extend((0..160u32).map(|i| {
        let t = f64::from(u32::from(n) * 160 + i) / 8000.0;
        law.encode((8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16)
    }));
    p
}

/// An IPv4/UDP datagram carrying `payload`, with valid header and UDP checksums.
fn ipv4_udp(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len() as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&(20 + udp_len).to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src.0.octets());
    p.extend_from_slice(&dst.0.octets());
    let sum = internet_checksum(0, &p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut udp = Vec::new();
    udp.extend_from_slice(&src.1.to_be_bytes());
    udp.extend_from_slice(&dst.1.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.0.octets());
    pseudo.extend_from_slice(&dst.0.octets());
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&udp_len.to_be_bytes());
    let sum = internet_checksum(ones_complement_sum(0, &pseudo), &udp);
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&udp);
    p
}

fn from_target(n: u16) -> Vec<u8> {
    ipv4_udp((UE, 40000), (PEER, 50000), &rtp(Law::Ulaw, 0xA0A0_0001, n))
}

fn to_target(n: u16) -> Vec<u8> {
    ipv4_udp((PEER, 50000), (UE, 40000), &rtp(Law::Alaw, 0xB0B0_0002, n))
}

fn ccc_datagram(id: u32, ms: u64, packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    CccEncoder::new(id, CccForm::IdTimestamp).encode_into(time(ms), packet, &mut out);
    out
}

fn pcap_records(path: &Path) -> Vec<(u32, u32, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    let mut at = 24;
    let mut out = Vec::new();
    while at < bytes.len() {
        let word = |i: usize| u32::from_le_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
        let (secs, micros, incl) = (word(0), word(4), word(8) as usize);
        out.push((secs, micros, bytes[at + 16..at + 16 + incl].to_vec()));
        at += 16 + incl;
    }
    out
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn decoded(law: Law, packets: impl Iterator<Item = Vec<u8>>) -> Vec<i16> {
    packets
        .flat_map(|p| {
            // The RTP payload behind IPv4 (20) + UDP (8) + RTP (12).
            p[40..].iter().map(|&c| law.decode(c)).collect::<Vec<_>>()
        })
        .collect()
}

async fn wait(running: &crate::lemf::RunningReceiver, cond: impl FnMut(&Summary) -> bool) {
    tokio::time::timeout(Duration::from_secs(30), running.wait_for(cond))
        .await
        .expect("the receiver never got there");
}

// ---- the decisions alone ----

#[test]
fn a_cdc_pdu_is_told_from_the_other_families_by_its_first_component() {
    let pdu = origination(0).encode();
    assert_eq!(&pdu[..1], &[0x30]);
    let Read::CallData(data) = read(&pdu) else {
        panic!("a CdcPdu is read as call data");
    };
    assert_eq!(data.liid, liid());
    assert_eq!(data.name, "origination");
    assert_eq!(data.iri_type, IriType::Begin);
    assert_eq!(data.time, time(0));
    assert_eq!(data.call, Some(call_id("42")));
    assert_eq!(data.fields["calling"]["dn"], "5551230001");
    // A PS-PDU (pSHeader [1] constructed), an IAS-CC-APDU ([0] constructed or [1]
    // primitive), an IasProtocol (OID) and a LAESProtocol are not PacketCable.
    for other in [
        &[0x30, 0x03, 0xa1, 0x01, 0x00][..],
        &[0x30, 0x03, 0xa0, 0x01, 0x00],
        &[0x30, 0x03, 0x81, 0x01, 0x00],
        &[0x30, 0x03, 0x06, 0x01, 0x00],
        &[0xa1, 0x03, 0x80, 0x01, 0x03],
        &[],
    ] {
        assert!(matches!(read(other), Read::NotPacketCable), "{other:02x?}");
    }
    // Shaped like a CdcPdu but not one: undecodable, not left to the ETSI decoder.
    assert!(matches!(
        read(&[0x30, 0x03, 0x80, 0x01, 0x03]),
        Read::Undecodable(_, None)
    ));
    // A component out of its type: undecodable, still filed under its case.
    let bad = CdcPdu::new(Message::Release(Release {
        header: header(0),
        call_id: call_id("4\u{1}2"),
    }))
    .encode();
    assert!(matches!(
        read(&bad),
        Read::Undecodable(_, Some(l)) if l == liid()
    ));
    // Cut short: undecodable.
    assert!(matches!(read(&pdu[..pdu.len() - 1]), Read::Undecodable(..)));
}

#[test]
fn ccopen_ccchange_and_ccclose_name_their_identifiers_and_call() {
    let Read::CallData(open) = read(&cc_open(0, CccId::sep(XMIT, RECV)).encode()) else {
        panic!("ccopen");
    };
    assert_eq!(open.name, "ccopen");
    assert_eq!(open.call, Some(call_id("42")));
    assert_eq!(
        open.ccc,
        CccEvent::Bind(
            CccIds::Sep {
                xmit: XMIT,
                recv: RECV
            },
            Some(IpAddr::V4(UE))
        )
    );
    assert_eq!(open.fields["subject_sdp"], TARGET_SDP);
    assert_eq!(open.fields["associate_sdp"], OTHER_SDP);
    assert_eq!(open.fields["ccc"]["xmit"], "000000A1");
    assert_eq!(open.fields["flow_direction"], "downstream-and-upstream");
    let Read::CallData(close) = read(&cc_close(9, CccId::comb(7)).encode()) else {
        panic!("ccclose");
    };
    assert_eq!((close.call, close.iri_type), (None, IriType::End));
    assert_eq!(close.ccc, CccEvent::Close(CccIds::Comb(7)));
    // Identifiers that are not 8 hexadecimal characters bind nothing (the line shows them).
    let bad = CccId::SepCccPair {
        xmit: "XYZ".into(),
        recv: "00000001".into(),
    };
    let Read::CallData(open) = read(&cc_open(0, bad).encode()) else {
        panic!("ccopen");
    };
    assert_eq!(open.ccc, CccEvent::None);
    assert_eq!(open.fields["ccc"]["xmit"], "XYZ");
}

#[test]
fn a_call_id_that_is_no_cin_gets_a_receiver_number_per_case_and_call() {
    let mut cins = CallCins::default();
    let other = Liid::new(b"OTHER").unwrap();
    assert_eq!(cins.cin(liid(), &call_id("42")), 42);
    let bcid = call_id("1700000000,17");
    let first = cins.cin(liid(), &bcid);
    assert_eq!(first, u32::MAX);
    assert_eq!(cins.cin(liid(), &bcid), first, "stable");
    assert_eq!(cins.cin(other, &bcid), u32::MAX - 1, "per case");
    assert_eq!(
        cins.cin(liid(), &call_id("+5")),
        u32::MAX - 2,
        "digits only"
    );
    assert_eq!(cins.cin(liid(), &call_id("99999999999")), u32::MAX - 3);
}

#[test]
fn sdp_connection_addresses() {
    assert_eq!(sdp_connection_address(TARGET_SDP), Some(IpAddr::V4(UE)));
    assert_eq!(
        sdp_connection_address("v=0\nc=IN IP6 2001:db8::1\n"),
        Some("2001:db8::1".parse().unwrap())
    );
    assert_eq!(
        sdp_connection_address("c=IN IP4 233.252.0.1/127\r\n"),
        Some("233.252.0.1".parse().unwrap())
    );
    assert_eq!(sdp_connection_address("c=IN IP4 host.example\r\n"), None);
    assert_eq!(sdp_connection_address("m=audio 1 RTP/AVP 0\r\n"), None);
}

#[test]
fn datagrams_are_split_and_checked_for_an_ip_packet() {
    let packet = from_target(0);
    let bytes = ccc_datagram(XMIT, 20, &packet);
    let Datagram::Content {
        ccc_id,
        time: t,
        packet: p,
    } = datagram(&bytes)
    else {
        panic!("content");
    };
    assert_eq!((ccc_id, t, p), (XMIT, Some(time(20)), &packet[..]));
    for bad in [
        &bytes[..11],
        &bytes[..12],
        &bytes[..31],
        &ccc_datagram(XMIT, 0, &[0x00; 40])[..],
        &ccc_datagram(XMIT, 0, &[0x44; 40])[..],
    ] {
        assert!(
            matches!(datagram(bad), Datagram::Malformed(_)),
            "{bad:02x?}"
        );
    }
    let mut v6 = vec![0x60; 40];
    v6[8..24].copy_from_slice(&[0x20; 16]);
    assert!(matches!(
        datagram(&ccc_datagram(1, 0, &v6)),
        Datagram::Content { .. }
    ));
}

fn config(max_held: usize, max_held_bytes: usize) -> PacketCableConfig {
    PacketCableConfig {
        hold: Duration::from_secs(5),
        max_held,
        max_held_bytes,
        max_held_per_ccc: 100,
        max_streams: 3,
    }
}

#[test]
fn held_datagrams_wait_for_their_ccopen_within_the_bounds() {
    let mut table = CccTable::new(config(3, 1 << 20));
    let mut given_up = Vec::new();
    let mut released = Vec::new();
    let call = (liid(), Some(CIN));
    // Unbound: nothing attributes; held, oldest pushed out past 3.
    assert_eq!(table.attribute(XMIT, &from_target(0)), None);
    for (i, id) in [XMIT, 0xDEAD, RECV, XMIT].into_iter().enumerate() {
        table.hold(id, &[i as u8; 40], time(i as u64), &mut given_up);
    }
    assert_eq!(table.stats.held, 3);
    assert_eq!(given_up.len(), 1);
    assert_eq!((given_up[0].ccc_id, given_up[0].datagram[0]), (XMIT, 0));
    given_up.clear();
    // The CCOpen releases its identifiers' datagrams, oldest first, and no other.
    table.bind(
        CccIds::Sep {
            xmit: XMIT,
            recv: RECV,
        },
        call,
        None,
        &mut released,
    );
    let ids: Vec<_> = released.iter().map(|h| (h.ccc_id, h.datagram[0])).collect();
    assert_eq!(ids, vec![(RECV, 2), (XMIT, 3)]);
    assert_eq!(table.stats.held, 1);
    let to = table.attribute(XMIT, &from_target(0)).unwrap();
    assert_eq!(to.direction, Some(PayloadDirection::FromTarget));
    let back = table.attribute(RECV, &to_target(0)).unwrap();
    assert_eq!((back.liid, back.cin), call);
    assert_eq!(back.direction, Some(PayloadDirection::ToTarget));
    // The hold runs out by the time given: exactly after 5 s, not before.
    table.expire(time(5001), &mut given_up);
    assert!(given_up.is_empty());
    table.expire(time(5002), &mut given_up);
    assert_eq!(given_up.len(), 1);
    assert_eq!(given_up[0].ccc_id, 0xDEAD);
    assert_eq!(table.stats.held, 0);
    // Closed: still bound for the hold, then forgotten.
    assert_eq!(
        table.close(CccIds::Comb(XMIT), liid(), time(6000)),
        Some(call)
    );
    table.expire(time(11_000), &mut given_up);
    assert!(table.attribute(XMIT, &from_target(0)).is_some());
    table.expire(time(11_001), &mut given_up);
    assert!(table.attribute(XMIT, &from_target(0)).is_none());
    assert!(table.attribute(RECV, &to_target(0)).is_some());
}

#[test]
fn one_identifier_never_bound_does_not_push_out_the_others() {
    let mut table = CccTable::new(PacketCableConfig {
        max_held_per_ccc: 2,
        ..config(10, 1 << 20)
    });
    let mut given_up = Vec::new();
    table.hold(XMIT, &[0; 40], time(0), &mut given_up);
    for i in 1..=5u8 {
        table.hold(0xDEAD, &[i; 40], time(u64::from(i)), &mut given_up);
    }
    // The stray identifier keeps its two latest; the call's datagram stays.
    let out: Vec<_> = given_up.iter().map(|h| h.datagram[0]).collect();
    assert_eq!(out, vec![1, 2, 3]);
    assert_eq!(table.stats.held, 3);
    let mut released = Vec::new();
    table.bind(CccIds::Comb(XMIT), (liid(), Some(CIN)), None, &mut released);
    assert_eq!(released.len(), 1);
    // Released, it no longer counts against its identifier.
    table.close(CccIds::Comb(XMIT), liid(), time(0));
    table.expire(time(60_000), &mut given_up);
    table.hold(XMIT, &[9; 40], time(60_000), &mut given_up);
    table.hold(XMIT, &[9; 40], time(60_000), &mut given_up);
    assert_eq!(
        table.stats.held, 2,
        "both held: the stray ones expired, XMIT has room"
    );
}

#[test]
fn the_held_octets_and_the_bound_identifiers_are_bounded() {
    let mut table = CccTable::new(config(100, 100));
    let mut given_up = Vec::new();
    for i in 0..5u8 {
        table.hold(u32::from(i), &[i; 40], time(0), &mut given_up);
    }
    // 100 octets hold two datagrams of 40.
    assert_eq!(table.stats.held, 2);
    let out: Vec<_> = given_up.iter().map(|h| h.ccc_id).collect();
    assert_eq!(out, vec![0, 1, 2]);
    table.give_up_all(&mut given_up);
    assert_eq!(given_up.len(), 5);
    assert_eq!(table.stats.held, 0);
    // Three identifiers at most: the one closed first goes, then the oldest.
    let mut released = Vec::new();
    let call = (liid(), Some(1));
    for id in 1..=3 {
        table.bind(CccIds::Comb(id), call, None, &mut released);
    }
    table.close(CccIds::Comb(2), liid(), time(0));
    table.bind(CccIds::Comb(4), call, None, &mut released);
    let bound = |t: &CccTable, id| t.attribute(id, &from_target(0)).is_some();
    assert!(bound(&table, 1) && !bound(&table, 2) && bound(&table, 3) && bound(&table, 4));
    table.bind(CccIds::Comb(5), call, None, &mut released);
    assert!(!bound(&table, 1) && bound(&table, 5));
}

/// An identifier open for one case is not taken by another case's CCOpen (its content would
/// go to the wrong case), nor closed by another case's CCClose; once closed it can be bound
/// again.
#[test]
fn an_identifier_open_for_one_case_stays_with_it() {
    let mut table = CccTable::default();
    let mut released = Vec::new();
    let other = Liid::new(b"CASE-OTHER").unwrap();
    table.bind(CccIds::Comb(7), (liid(), Some(CIN)), None, &mut released);
    table.bind(CccIds::Comb(7), (other, Some(9)), None, &mut released);
    assert_eq!(table.stats.rebinds_refused, 1);
    let to = |t: &CccTable| t.attribute(7, &from_target(0)).map(|a| a.liid);
    assert_eq!(to(&table), Some(liid()));
    assert_eq!(table.close(CccIds::Comb(7), other, time(0)), None);
    assert_eq!(
        to(&table),
        Some(liid()),
        "another case's CCClose closes nothing"
    );
    assert_eq!(
        table.close(CccIds::Comb(7), liid(), time(0)),
        Some((liid(), Some(CIN)))
    );
    table.bind(CccIds::Comb(7), (other, Some(9)), None, &mut released);
    assert_eq!(to(&table), Some(other), "closed: free for the next call");
    assert_eq!(table.stats.rebinds_refused, 1);
}

#[test]
fn a_combined_stream_takes_its_direction_from_the_subjects_sdp_address() {
    let mut table = CccTable::default();
    let mut released = Vec::new();
    let call = (liid(), Some(CIN));
    table.bind(CccIds::Comb(1), call, Some(IpAddr::V4(UE)), &mut released);
    table.bind(CccIds::Comb(2), call, None, &mut released);
    let dir = |t: &CccTable, id, p: &[u8]| t.attribute(id, p).unwrap().direction;
    assert_eq!(
        dir(&table, 1, &from_target(0)),
        Some(PayloadDirection::FromTarget)
    );
    assert_eq!(
        dir(&table, 1, &to_target(0)),
        Some(PayloadDirection::ToTarget)
    );
    let elsewhere = ipv4_udp((PEER, 1), (PEER, 2), b"x");
    assert_eq!(dir(&table, 1, &elsewhere), Some(PayloadDirection::Combined));
    assert_eq!(
        dir(&table, 2, &from_target(0)),
        Some(PayloadDirection::Combined)
    );
}

proptest::proptest! {
    /// Hostile octets shaped like a CdcPdu (a SEQUENCE whose first component is `[0]`
    /// primitive) are read without a panic.
    #[test]
    fn any_cdc_frame_is_read_without_panic(
        len in proptest::prelude::any::<u8>(),
        rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
    ) {
        let mut frame = vec![0x30, len, 0x80];
        frame.extend_from_slice(&rest);
        let _ = read(&frame);
        let _ = read(&rest);
    }

    /// Any datagram is split or said malformed without a panic.
    #[test]
    fn any_datagram_is_read_without_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
    ) {
        let _ = datagram(&bytes);
        let _ = ip_addresses(&bytes);
    }
}

// ---- whole calls over loopback ----

/// Sends `pdus` on `stream`.
async fn send(stream: &mut TcpStream, pdus: &[CdcPdu]) {
    let mut bytes = Vec::new();
    for pdu in pdus {
        pdu.encode_into(&mut bytes);
    }
    stream.write_all(&bytes).await.unwrap();
}

#[tokio::test]
async fn a_packetcable_call_gives_its_records_ladder_pcaps_and_wavs() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::new(ReceiverConfig::new(dir.path())).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = start_with(receiver, any, any, Some(any), None)
        .await
        .unwrap();
    let ccc_addr = running.ccc_addr.unwrap();
    let udp = UdpSocket::bind(any).await.unwrap();
    let ccc = CccId::sep(XMIT, RECV);

    // Three datagrams of the target's before their CCOpen: held.
    let mut sent_order = Vec::new();
    for n in 0..3u16 {
        let packet = from_target(n);
        udp.send_to(
            &ccc_datagram(XMIT, 1000 + u64::from(n) * 20, &packet),
            ccc_addr,
        )
        .await
        .unwrap();
        sent_order.push((1000 + u64::from(n) * 20, packet));
    }
    wait(&running, |s| s.ccc.held == 3).await;

    // The call data: the CCOpen releases them.
    let mut cdc = TcpStream::connect(running.hi2_addr).await.unwrap();
    let answer = CdcPdu::new(Message::Answer(Answer {
        header: header(900),
        call_id: call_id("42"),
        answering: Some(dn("5551230002")),
    }));
    send(
        &mut cdc,
        &[origination(0), answer, cc_open(950, ccc.clone())],
    )
    .await;
    wait(&running, |s| s.ccc.attributed_after_hold == 3).await;

    // The rest of the media both ways, an unknown identifier, two malformed datagrams.
    for n in 3..10u16 {
        let packet = from_target(n);
        let ms = 1000 + u64::from(n) * 20;
        udp.send_to(&ccc_datagram(XMIT, ms, &packet), ccc_addr)
            .await
            .unwrap();
        sent_order.push((ms, packet));
    }
    for n in 0..10u16 {
        let packet = to_target(n);
        let ms = 1005 + u64::from(n) * 20;
        udp.send_to(&ccc_datagram(RECV, ms, &packet), ccc_addr)
            .await
            .unwrap();
        sent_order.push((ms, packet));
    }
    let stray = ipv4_udp((PEER, 7), (UE, 9), b"stray");
    udp.send_to(&ccc_datagram(0xDEAD_BEEF, 1500, &stray), ccc_addr)
        .await
        .unwrap();
    udp.send_to(&[0, 0, 0, 0xA1, 1], ccc_addr).await.unwrap();
    udp.send_to(&ccc_datagram(XMIT, 1500, b"not an IP packet"), ccc_addr)
        .await
        .unwrap();
    wait(&running, |s| {
        s.ccc.attributed == 20 && s.ccc.malformed == 2 && s.ccc.held == 1
    })
    .await;
    let release = CdcPdu::new(Message::Release(Release {
        header: header(2000),
        call_id: call_id("42"),
    }));
    send(&mut cdc, &[release, cc_close(2001, ccc)]).await;
    wait(&running, |s| {
        s.liids.get(&liid()).is_some_and(|l| l.iri == 5)
    })
    .await;

    let summary = running.stop().await;
    // Nothing was ever sent back on the call-data connection.
    let mut back = Vec::new();
    cdc.read_to_end(&mut back).await.unwrap();
    assert!(back.is_empty(), "the receiver wrote {back:02x?}");

    // The counts: the stray datagram, still held at the stop, is unattributed.
    let c = summary.ccc;
    assert_eq!(
        (
            c.datagrams,
            c.attributed,
            c.attributed_after_hold,
            c.unattributed,
            c.malformed,
            c.held
        ),
        (23, 20, 3, 1, 2, 0)
    );
    let l = &summary.liids[&liid()];
    assert_eq!((l.iri, l.cc, l.decode_errors), (5, 20, 0));
    assert!(summary.to_string().contains("1 unattributed"));

    // records.jsonl: the call data, then the content.
    let records = lines(&dir.path().join("records.jsonl"));
    let iri: Vec<&Value> = records.iter().filter(|r| r["kind"] == "iri").collect();
    let names: Vec<&str> = iri.iter().map(|r| r["message"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["origination", "answer", "ccopen", "release", "ccclose"]
    );
    for r in &iri {
        assert_eq!(r["format"], "packetcable");
        assert_eq!(r["liid"], CASE);
        assert_eq!(r["cin"], CIN);
        assert_eq!(r["interface"], "HI2");
        assert_eq!(r["seq"], Value::Null);
    }
    assert_eq!(iri[0]["time"], time(0).to_string());
    assert_eq!(iri[0]["called"]["dn"], "5551230002");
    assert_eq!(iri[1]["answering"]["dn"], "5551230002");
    assert_eq!(iri[2]["ccc"]["xmit"], "000000A1");
    assert_eq!(iri[2]["ccc"]["recv"], "000000B2");
    assert_eq!(iri[2]["subject_sdp"], TARGET_SDP);
    assert_eq!(iri[2]["associate_sdp"], OTHER_SDP);
    assert_eq!(iri[4]["call_id"], Value::Null, "CCClose names no call");
    let cc: Vec<&Value> = records.iter().filter(|r| r["kind"] == "cc").collect();
    assert_eq!(cc.len(), 21);
    for (r, (ms, packet)) in cc.iter().zip(&sent_order) {
        assert_eq!(r["attributed"], true);
        assert_eq!(r["format"], "packetcable");
        assert_eq!(r["interface"], "HI3");
        assert_eq!(r["cin"], CIN);
        assert_eq!(r["packet_len"], packet.len());
        assert_eq!(r["time"], time(*ms).to_string());
        let to_target = packet[16..20] == UE.octets();
        let (ccc, direction) = if to_target {
            ("000000B2", "toTarget")
        } else {
            ("000000A1", "fromTarget")
        };
        assert_eq!(
            (r["ccc"].as_str(), r["direction"].as_str()),
            (Some(ccc), Some(direction))
        );
    }
    let stray_line = cc[20];
    assert_eq!(stray_line["attributed"], false);
    assert_eq!(stray_line["liid"], Value::Null);
    assert_eq!(stray_line["ccc"], "DEADBEEF");

    // The case's pcap: every packet as sent, with the datagram's time.
    let pcap = pcap_records(&dir.path().join(format!("{CASE}.pcap")));
    let expected: Vec<(u32, u32, Vec<u8>)> = sent_order
        .iter()
        .map(|(ms, p)| {
            let t = time(*ms);
            (t.unix_secs() as u32, t.subsec_micros(), p.clone())
        })
        .collect();
    assert_eq!(pcap, expected);
    let unattributed = pcap_records(&dir.path().join(UNATTRIBUTED_CCC_FILE));
    assert_eq!(unattributed.len(), 1);
    assert_eq!(unattributed[0].2, stray);

    // The call's files.
    let call_dir = dir.path().join(CASE).join("calls").join(CIN.to_string());
    let ladder = lines(&call_dir.join("ladder.jsonl"));
    let names: Vec<&str> = ladder
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["origination", "answer", "ccopen", "release", "ccclose"]
    );
    for line in &ladder {
        assert_eq!(line["format"], "packetcable");
        assert_eq!(
            (&line["method"], &line["status"]),
            (&Value::Null, &Value::Null)
        );
    }
    assert_eq!(ladder[0]["iri_type"], "iRI-Begin");
    assert_eq!(ladder[3]["iri_type"], "iRI-End");
    let media = pcap_records(&call_dir.join("media.pcap"));
    assert_eq!(media, expected, "the packets as they were, real addresses");
    let from_wav = call_dir.join("from-target-a0a00001.wav");
    assert_eq!(
        read_samples(&std::fs::read(&from_wav).unwrap()),
        decoded(Law::Ulaw, (0..10).map(from_target))
    );
    let to_wav = call_dir.join("to-target-b0b00002.wav");
    assert_eq!(
        read_samples(&std::fs::read(&to_wav).unwrap()),
        decoded(Law::Alaw, (0..10).map(to_target))
    );
    let call: Value =
        serde_json::from_slice(&std::fs::read(call_dir.join("call.json")).unwrap()).unwrap();
    assert_eq!(call["closed"], "ended");
    assert_eq!(
        (&call["iri"], &call["cc"]),
        (&Value::from(5), &Value::from(20))
    );
    assert_eq!(call["wav"][0]["samples"], 1600);
    assert_eq!(call["wav"][1]["samples"], 1600);
    let summary_call = &l.calls[&CIN];
    assert!(summary_call.ended);
}

#[tokio::test]
async fn a_datagram_for_a_ccc_id_never_opened_is_recorded_unattributed_when_its_hold_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(dir.path());
    config.packetcable.hold = Duration::ZERO;
    let receiver = Receiver::new(config).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = start_with(receiver, any, any, Some(any), None)
        .await
        .unwrap();
    let udp = UdpSocket::bind(any).await.unwrap();
    let packet = from_target(0);
    udp.send_to(&ccc_datagram(7, 0, &packet), running.ccc_addr.unwrap())
        .await
        .unwrap();
    // Given up at the listener's next check (once a second), not only at the stop.
    wait(&running, |s| s.ccc.unattributed == 1).await;
    let summary = running.stop().await;
    assert_eq!((summary.ccc.datagrams, summary.ccc.held), (1, 0));
    assert!(summary.liids.is_empty());
    let unattributed = pcap_records(&dir.path().join(UNATTRIBUTED_CCC_FILE));
    assert_eq!(unattributed.len(), 1);
    assert_eq!(unattributed[0].2, packet);
}

/// `keep_raw`: every datagram, whatever becomes of it (unattributed, malformed), is kept as
/// received in `ccc.pcap`, in a UDP header from the sender's address to the listener's.
#[tokio::test]
async fn keep_raw_keeps_every_ccc_datagram_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(dir.path());
    config.keep_raw = true;
    let receiver = Receiver::new(config).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = start_with(receiver, any, any, Some(any), None)
        .await
        .unwrap();
    let to = running.ccc_addr.unwrap();
    let udp = UdpSocket::bind(any).await.unwrap();
    let from = udp.local_addr().unwrap();
    let sent = [
        ccc_datagram(7, 0, &from_target(0)),
        vec![0, 0, 0, 0xA1, 1],
        ccc_datagram(8, 20, &to_target(1)),
    ];
    for d in &sent {
        udp.send_to(d, to).await.unwrap();
    }
    wait(&running, |s| s.ccc.datagrams == 3).await;
    running.stop().await;
    let raw = pcap_records(&dir.path().join(crate::lemf::CCC_RAW_FILE));
    assert_eq!(raw.len(), 3);
    for ((_, _, packet), want) in raw.iter().zip(&sent) {
        assert_eq!(packet[0], 0x45);
        assert_eq!(&packet[12..16], &[127, 0, 0, 1]);
        assert_eq!(u16::from_be_bytes([packet[20], packet[21]]), from.port());
        assert_eq!(u16::from_be_bytes([packet[22], packet[23]]), to.port());
        assert_eq!(&packet[28..], want.as_slice());
    }

    // A dual-stack listener: an IPv4 sender is kept in its v4-mapped form, beside the
    // listener's IPv6 address.
    let dir = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(dir.path());
    config.keep_raw = true;
    let receiver = Receiver::new(config).unwrap();
    let dual: SocketAddr = "[::]:0".parse().unwrap();
    let Ok(running) = start_with(receiver, any, any, Some(dual), None).await else {
        return; // no IPv6 on this machine
    };
    let port = running.ccc_addr.unwrap().port();
    let d = ccc_datagram(9, 40, &from_target(2));
    udp.send_to(&d, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    wait(&running, |s| s.ccc.datagrams == 1).await;
    running.stop().await;
    let raw = pcap_records(&dir.path().join(crate::lemf::CCC_RAW_FILE));
    assert_eq!(raw.len(), 1, "the datagram kept");
    let packet = &raw[0].2;
    assert_eq!(packet[0] >> 4, 6);
    assert_eq!(
        &packet[8..24],
        &std::net::Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets()
    );
    assert_eq!(&packet[48..], d.as_slice());
}

#[tokio::test(start_paused = true)]
async fn a_quiet_packetcable_connection_is_closed_without_error_and_never_written_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(dir.path());
    config.idle_timeout = Duration::from_secs(1);
    let receiver = Receiver::new(config).unwrap();
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();

    let (mut client, server) = tokio::io::duplex(1 << 16);
    let mut bytes = origination(0).encode();
    bytes.extend_from_slice(&[0x30, 0x03, 0x80, 0x01, 0x03]); // undecodable: skipped
    client.write_all(&bytes).await.unwrap();
    let stats = receiver
        .handle(server, peer, crate::lemf::Interface::Hi2)
        .await
        .expect("quiet is no error");
    assert_eq!(
        (stats.iri, stats.decode_errors, stats.keep_alives),
        (1, 1, 0)
    );
    let mut back = Vec::new();
    client.read_to_end(&mut back).await.unwrap();
    assert!(back.is_empty());

    // An ETSI connection as quiet is still closed on an error.
    let (_client, server) = tokio::io::duplex(1 << 16);
    let result = receiver
        .handle(server, peer, crate::lemf::Interface::Hi2)
        .await;
    assert!(matches!(
        result,
        Err(crate::lemf::ReceiverError::Idle { .. })
    ));
    receiver.shutdown().await.unwrap();
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// Hostile octets on both paths of a running receiver (frames shaped like `CdcPdu`s on
    /// a call-data connection, arbitrary datagrams on the call-content socket) are counted
    /// and skipped: the connection and the socket go on serving the call that follows, and
    /// every line written is JSON.
    #[test]
    fn hostile_bytes_on_both_paths_leave_the_receiver_serving(
        frames in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120), 1..8),
        datagrams in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120), 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let receiver = Receiver::new(ReceiverConfig::new(dir.path())).unwrap();
            let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
            let running = start_with(receiver, any, any, Some(any), None).await.unwrap();
            let ccc_addr = running.ccc_addr.unwrap();
            let udp = UdpSocket::bind(any).await.unwrap();
            for d in &datagrams {
                udp.send_to(d, ccc_addr).await.unwrap();
            }
            let mut bytes = Vec::new();
            for f in &frames {
                // A SEQUENCE starting with `[0]` primitive: framed, read as a CdcPdu.
                bytes.extend_from_slice(&[0x30, 3 + f.len() as u8, 0x80, 0x01, 0x03]);
                bytes.extend_from_slice(f);
            }
            origination(0).encode_into(&mut bytes);
            cc_open(1, CccId::sep(XMIT, RECV)).encode_into(&mut bytes);
            let mut cdc = TcpStream::connect(running.hi2_addr).await.unwrap();
            cdc.write_all(&bytes).await.unwrap();
            wait(&running, |s| s.liids.get(&liid()).is_some_and(|l| l.iri >= 2)).await;
            let packet = from_target(0);
            udp.send_to(&ccc_datagram(XMIT, 5, &packet), ccc_addr).await.unwrap();
            let n = datagrams.len() as u64 + 1;
            wait(&running, |s| s.ccc.datagrams == n && s.ccc.attributed >= 1).await;
            let summary = running.stop().await;
            let c = summary.ccc;
            assert_eq!(c.datagrams, c.attributed + c.unattributed + c.malformed);
            let records = std::fs::read_to_string(dir.path().join("records.jsonl")).unwrap();
            for line in records.lines() {
                serde_json::from_str::<Value>(line).unwrap();
            }
            let mut back = Vec::new();
            cdc.read_to_end(&mut back).await.unwrap();
            assert!(back.is_empty());
        });
    }
}

/// Call content through a running receiver over loopback UDP, to the files: datagrams sent
/// in bursts of 64 (each burst waited for, so the socket's default receive buffer, about
/// 200 KiB, never overflows). A
/// measurement, not a check: `cargo test --release -p li-handover --lib
/// measure_ccc_over_loopback -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run by hand in release mode"]
async fn measure_ccc_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::new(ReceiverConfig::new(dir.path())).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = start_with(receiver, any, any, Some(any), None)
        .await
        .unwrap();
    let ccc_addr = running.ccc_addr.unwrap();
    let mut cdc = TcpStream::connect(running.hi2_addr).await.unwrap();
    send(
        &mut cdc,
        &[origination(0), cc_open(1, CccId::sep(XMIT, RECV))],
    )
    .await;
    wait(&running, |s| {
        s.liids.get(&liid()).is_some_and(|l| l.iri == 2)
    })
    .await;
    let udp = UdpSocket::bind(any).await.unwrap();
    let bursts = 1600u64;
    // One stream, in order, each packet once (so the WAV path plays every one out).
    let datagrams: Vec<Vec<u8>> = (0..bursts * 64)
        .map(|i| ccc_datagram(XMIT, 1000 + i * 20, &from_target(i as u16)))
        .collect();
    let start = std::time::Instant::now();
    for (burst, chunk) in (1..=bursts).zip(datagrams.chunks(64)) {
        for d in chunk {
            udp.send_to(d, ccc_addr).await.unwrap();
        }
        let want = burst * 64;
        let got = tokio::time::timeout(
            Duration::from_secs(5),
            running.wait_for(|s| s.ccc.datagrams >= want),
        )
        .await;
        assert!(got.is_ok(), "burst {burst}: {:?}", running.summary().ccc);
    }
    let received = start.elapsed();
    let summary = running.stop().await;
    let total = bursts * 64;
    assert_eq!(summary.ccc.attributed, total);
    println!(
        "{total} CCC datagrams of {} octets over loopback: {:.2} s to receive ({:.0} per s), \
         {:.2} s with the files closed",
        datagrams[0].len(),
        received.as_secs_f64(),
        total as f64 / received.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
}

/// An IPv6/UDP datagram carrying `payload`, with a valid UDP checksum.
fn ipv6_udp(src: (Ipv6Addr, u16), dst: (Ipv6Addr, u16), payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len() as u16;
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[17, 64]);
    p.extend_from_slice(&src.0.octets());
    p.extend_from_slice(&dst.0.octets());
    let mut udp = Vec::new();
    udp.extend_from_slice(&src.1.to_be_bytes());
    udp.extend_from_slice(&dst.1.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.0.octets());
    pseudo.extend_from_slice(&dst.0.octets());
    pseudo.extend_from_slice(&u32::from(udp_len).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    let sum = internet_checksum(ones_complement_sum(0, &pseudo), &udp);
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&udp);
    p
}

#[tokio::test]
async fn a_combined_ipv6_stream_of_a_billing_call_id_is_split_by_the_subjects_address() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::new(ReceiverConfig::new(dir.path())).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = start_with(receiver, any, any, Some(any), None)
        .await
        .unwrap();
    let ue: Ipv6Addr = "2001:db8::10".parse().unwrap();
    let peer: Ipv6Addr = "2001:db8::20".parse().unwrap();
    // A PacketCable Delivery Function's callId: the billing correlation id, no CIN.
    let bcid = call_id("1700000000,17");
    let sdp = "v=0\r\nc=IN IP6 2001:db8::10\r\nm=audio 40000 RTP/AVP 0\r\n";
    let term = CdcPdu::new(Message::TerminationAttempt(
        li_asn1::packetcable::TerminationAttempt {
            header: header(0),
            call_id: bcid.clone(),
            calling: Some(dn("5551230009")),
            called: Some(dn("5551230001")),
            redirected_from_info: None,
        },
    ));
    let open = CdcPdu::new(Message::CcOpen(CcOpen {
        header: header(10),
        cc_open_option: CcOpenOption::CcOpenTime(vec![bcid.clone()]),
        ccc_id: CccId::comb(0x00C0_FFEE),
        subject: Some(sdp.into()),
        associate: None,
        flow_direction: FlowDirection::DownstreamAndUpstream,
    }));
    let mut cdc = TcpStream::connect(running.hi2_addr).await.unwrap();
    send(&mut cdc, &[term, open]).await;
    wait(&running, |s| {
        s.liids.get(&liid()).is_some_and(|l| l.iri == 2)
    })
    .await;

    let udp = UdpSocket::bind(any).await.unwrap();
    let ccc_addr = running.ccc_addr.unwrap();
    let from = |n| ipv6_udp((ue, 40000), (peer, 50000), &rtp(Law::Ulaw, 1, n));
    let to = |n| ipv6_udp((peer, 50000), (ue, 40000), &rtp(Law::Ulaw, 2, n));
    for n in 0..4u16 {
        for packet in [from(n), to(n)] {
            udp.send_to(
                &ccc_datagram(0x00C0_FFEE, 100 + u64::from(n) * 20, &packet),
                ccc_addr,
            )
            .await
            .unwrap();
        }
    }
    wait(&running, |s| s.ccc.attributed == 8).await;
    let summary = running.stop().await;

    let cin = u32::MAX;
    let records = lines(&dir.path().join("records.jsonl"));
    let directions: Vec<&str> = records
        .iter()
        .filter(|r| r["kind"] == "cc")
        .map(|r| {
            assert_eq!(
                (&r["ccc"], &r["cin"]),
                (&Value::from("00C0FFEE"), &Value::from(cin))
            );
            r["direction"].as_str().unwrap()
        })
        .collect();
    assert_eq!(directions, ["fromTarget", "toTarget"].repeat(4));
    let iri: Vec<&Value> = records.iter().filter(|r| r["kind"] == "iri").collect();
    assert_eq!(iri[0]["message"], "terminationattempt");
    assert_eq!(iri[0]["call_id"]["sequencenumber"], "1700000000,17");
    assert_eq!(iri[1]["ccc"]["comb"], "00C0FFEE");
    assert!(iri.iter().all(|r| r["cin"] == cin));

    let call_dir = dir.path().join(CASE).join("calls").join(cin.to_string());
    let rtp_payloads = |packets: Vec<Vec<u8>>| -> Vec<i16> {
        packets
            .iter()
            .flat_map(|p| {
                p[60..]
                    .iter()
                    .map(|&c| Law::Ulaw.decode(c))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(
        read_samples(&std::fs::read(call_dir.join("from-target-00000001.wav")).unwrap()),
        rtp_payloads((0..4).map(from).collect())
    );
    assert_eq!(
        read_samples(&std::fs::read(call_dir.join("to-target-00000002.wav")).unwrap()),
        rtp_payloads((0..4).map(to).collect())
    );
    let c = &summary.liids[&liid()].calls[&cin];
    assert_eq!((c.iri, c.cc, c.ended), (2, 8, false));
}
