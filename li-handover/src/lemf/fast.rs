//! The receiver's hot path: a CC PS-PDU carrying one IPCC `iPPackets` or one IPMMCC
//! (TS 102 232-5, a media packet of a call), read in place.
//!
//! The full decoder ([`PsPdu::decode`](li_asn1::PsPdu::decode)) builds the typed model and
//! allocates for the operator and network element identifiers, the country codes, the object
//! identifiers and the packet. A mediator repeats most of that in every PDU of a (LIID, CIN):
//! [`CcEncoder`](li_asn1::CcEncoder) pre-encodes those fields once. So this path splits a
//! PDU's elements in two:
//!
//! - the *varying* ones, decoded here with the same checks as the full decoder (the same
//!   [`Tlv`] methods, the same duplicate and missing-field rules): `sequenceNumber`, both
//!   PSHeader timestamps, and in the CCPayload `payloadDirection`, `timeStamp`,
//!   `microSecondTimeStamp`, `timeStampQualifier` and the packet (of an IPMMCC also
//!   `frameType`, `streamIdentifier` and `mMCCprotocol`);
//! - every *other* element (the PSHeader's `li-psDomainId`, LIID, country code,
//!   `communicationIdentifier`, ...; the `iPCCObjId` or `iPMMCCObjId`; unknown extensions),
//!   copied octet for
//!   octet into a key. A PDU is taken on this path only if its key equals the key of an
//!   earlier PDU that the full decoder accepted ([`FastPath::learn`]); those elements are
//!   then the same octets, which the full decoder has already found valid.
//!
//! Anything else (an IRI or TRI payload, an aggregated payload sequence, a truncated packet,
//! a segmented OCTET STRING, a new (LIID, CIN), an element that does not decode) returns
//! `None` and the caller uses the full decoder, which also produces the error to report. A
//! property test checks that whenever this path returns a record, the full decoder accepts
//! the PDU and yields the same values.

use std::borrow::Cow;
use std::collections::HashMap;

use li_asn1::PayloadDirection;
use li_asn1::ber::{Reader, Tag, Tlv};
use li_asn1::ipmm::{FrameType, MmccProtocol};
use li_core::{Liid, Timestamp};

/// How many distinct keys (one per LIID and CIN, as a rule) are remembered per connection;
/// beyond this the memory is cleared and refilled.
const MAX_KEYS: usize = 4096;

/// Marks the start of a section of the key: an end-of-contents marker, which never starts
/// an element copied into the key, so the sections cannot run into each other.
const SECTION: [u8; 2] = [0, 0];

/// What the hot path read from one CC PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FastCc<'a> {
    /// `lawfulInterceptionIdentifier`.
    pub(super) liid: Liid,
    /// `communicationIdentityNumber`.
    pub(super) cin: Option<u32>,
    /// `sequenceNumber`.
    pub(super) seq: u32,
    /// The PSHeader's time, `microSecondTimeStamp` before `timeStamp`.
    pub(super) header_time: Option<Timestamp>,
    /// The record's time: its own, else the PSHeader's (as [`super::time_of`]).
    pub(super) time: Option<Timestamp>,
    /// `payloadDirection`.
    pub(super) direction: Option<PayloadDirection>,
    /// The IP packet, or of an IPMMCC the media packet (`mMCCContents`).
    pub(super) packet: &'a [u8],
    /// The fields of an IPMMCC; `None` for an IPCC.
    pub(super) media: Option<FastMedia<'a>>,
}

/// The per-stream fields of an IPMMCC read by the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FastMedia<'a> {
    /// `frameType`.
    pub(super) frame_type: Option<FrameType>,
    /// `streamIdentifier`.
    pub(super) stream: Option<&'a [u8]>,
    /// `mMCCprotocol`.
    pub(super) protocol: Option<MmccProtocol>,
}

/// The LIID and CIN a key stands for.
type Identity = (Liid, Option<u32>);

/// The per-connection memory of keys the full decoder accepted.
#[derive(Debug, Default)]
pub(super) struct FastPath {
    known: HashMap<Vec<u8>, Identity>,
    /// The key last found in `known`, and its value: consecutive PDUs mostly share it.
    last: Option<(Vec<u8>, Identity)>,
    /// The key of the last PDU read, when it had the hot shape.
    key: Vec<u8>,
    /// `key` belongs to the last PDU and that PDU had the hot shape.
    candidate: bool,
}

impl FastPath {
    /// Reads `frame` (one whole BER element) if it is a CC PDU of the hot shape whose fixed
    /// elements are known; `None` otherwise.
    pub(super) fn decode<'a>(&mut self, frame: &'a [u8]) -> Option<FastCc<'a>> {
        self.candidate = false;
        self.key.clear();
        let shape = read(frame, &mut self.key)?;
        self.candidate = true;
        let (liid, cin) = match &mut self.last {
            Some((key, value)) if *key == self.key => *value,
            last => {
                let &value = self.known.get(self.key.as_slice())?;
                match last {
                    Some((key, v)) => {
                        key.clear();
                        key.extend_from_slice(&self.key);
                        *v = value;
                    }
                    None => *last = Some((self.key.clone(), value)),
                }
                value
            }
        };
        Some(FastCc {
            liid,
            cin,
            seq: shape.seq,
            header_time: shape.header_time,
            time: shape.time,
            direction: shape.direction,
            packet: shape.packet,
            media: shape.media,
        })
    }

    /// The full decoder accepted the PDU last given to [`Self::decode`], with this LIID and
    /// CIN: later PDUs with the same fixed elements take the hot path.
    pub(super) fn learn(&mut self, liid: Liid, cin: Option<u32>) {
        if !self.candidate {
            return;
        }
        self.candidate = false;
        if self.known.len() >= MAX_KEYS {
            self.known.clear();
            self.last = None;
        }
        self.known.insert(self.key.clone(), (liid, cin));
    }
}

/// The varying values of a PDU of the hot shape.
struct Shape<'a> {
    seq: u32,
    header_time: Option<Timestamp>,
    time: Option<Timestamp>,
    direction: Option<PayloadDirection>,
    packet: &'a [u8],
    media: Option<FastMedia<'a>>,
}

/// Walks `frame` as the full decoder would, copying the fixed elements into `key`.
fn read<'a>(frame: &'a [u8], key: &mut Vec<u8>) -> Option<Shape<'a>> {
    let mut r = Reader::new(frame);
    let pdu = r.read().ok()?;
    r.finish().ok()?;
    if !pdu.tag.same_type(Tag::SEQUENCE) {
        return None;
    }
    key.extend_from_slice(&SECTION);
    let (mut header, mut payload) = (None, None);
    let mut fields = pdu.children("PS-PDU").ok()?;
    while let Some(f) = fields.next_tlv().ok()? {
        match f.tag.context_number() {
            Some(1) => once(&mut header, f)?,
            Some(2) => once(&mut payload, f)?,
            _ => copy(frame, &f, key)?,
        }
    }
    let header = read_header(frame, &header?, key)?;
    let item = cc_item(&payload?)?;
    let cc = read_cc_payload(frame, &item, key)?;
    let time = cc.micro.or(cc.time).or(header.micro).or(header.time);
    Some(Shape {
        seq: header.seq,
        header_time: header.micro.or(header.time),
        time,
        direction: cc.direction,
        packet: cc.packet,
        media: cc.media,
    })
}

struct Header {
    seq: u32,
    time: Option<Timestamp>,
    micro: Option<Timestamp>,
}

/// PSHeader: `sequenceNumber [4]`, `timeStamp [5]` and `microSecondTimeStamp [7]` decoded,
/// everything else into the key.
fn read_header(frame: &[u8], header: &Tlv<'_>, key: &mut Vec<u8>) -> Option<Header> {
    key.extend_from_slice(&SECTION);
    let (mut seq, mut time, mut micro) = (None, None, None);
    let mut fields = header.children("PSHeader").ok()?;
    while let Some(f) = fields.next_tlv().ok()? {
        match f.tag.context_number() {
            Some(4) => once(&mut seq, f.u32("PSHeader.sequenceNumber").ok()?)?,
            Some(5) => once(&mut time, generalized_time(&f)?)?,
            Some(7) => once(&mut micro, micro_second_time_stamp(&f)?)?,
            _ => copy(frame, &f, key)?,
        }
    }
    Some(Header {
        seq: seq?,
        time: time.map(|t| t.timestamp),
        micro: micro.and_then(|m| m.timestamp),
    })
}

/// The one CCPayload of a `payload [2]` holding a `cCPayloadSequence [1]` of one item.
fn cc_item<'a>(payload: &Tlv<'a>) -> Option<Tlv<'a>> {
    let choice = payload.single_child("PS-PDU.payload").ok()?;
    if choice.tag.context_number() != Some(1) {
        return None;
    }
    let mut items = choice.children("Payload.cCPayloadSequence").ok()?;
    let item = items.next_tlv().ok()??;
    items.is_empty().then_some(item)
}

struct CcItem<'a> {
    direction: Option<PayloadDirection>,
    time: Option<Timestamp>,
    micro: Option<Timestamp>,
    packet: &'a [u8],
    media: Option<FastMedia<'a>>,
}

/// CCPayload with `cCContents [2]` holding `iPCC [2]` holding `iPCCContents [1]` holding
/// `iPPackets [0]` in the primitive form.
fn read_cc_payload<'a>(frame: &[u8], item: &Tlv<'a>, key: &mut Vec<u8>) -> Option<CcItem<'a>> {
    key.extend_from_slice(&SECTION);
    let (mut direction, mut time, mut contents, mut micro, mut qualifier) =
        (None, None, None, None, None);
    let mut fields = item.children("CCPayload").ok()?;
    while let Some(f) = fields.next_tlv().ok()? {
        match f.tag.context_number() {
            Some(0) => {
                let value = f.enumerated("PayloadDirection").ok()?;
                once(&mut direction, PayloadDirection::from_value(value))?;
            }
            Some(1) => once(&mut time, generalized_time(&f)?)?,
            Some(2) => once(&mut contents, f)?,
            Some(3) => once(&mut micro, micro_second_time_stamp(&f)?)?,
            Some(4) => once(&mut qualifier, f.enumerated("TimeStampQualifier").ok()?)?,
            _ => copy(frame, &f, key)?,
        }
    }
    let ipcc = contents?.single_child("CCPayload.cCContents").ok()?;
    let (packet, media) = match ipcc.tag.context_number() {
        Some(2) => (read_ipcc(frame, &ipcc, key)?, None),
        Some(12) => {
            let (packet, media) = read_ipmmcc(frame, &ipcc, key)?;
            (packet, Some(media))
        }
        _ => return None,
    };
    Some(CcItem {
        direction,
        time: time.map(|t| t.timestamp),
        micro: micro.and_then(|m| m.timestamp),
        packet,
        media,
    })
}

/// `iPCC [2]` holding `iPCCContents [1]` holding `iPPackets [0]` in the primitive form.
fn read_ipcc<'a>(frame: &[u8], ipcc: &Tlv<'a>, key: &mut Vec<u8>) -> Option<&'a [u8]> {
    key.extend_from_slice(&SECTION);
    let mut ipcc_contents = None;
    let mut fields = ipcc.children("IPCC").ok()?;
    while let Some(f) = fields.next_tlv().ok()? {
        match f.tag.context_number() {
            Some(1) => once(&mut ipcc_contents, f)?,
            // iPCCObjId [0] and unknown elements: fixed.
            _ => copy(frame, &f, key)?,
        }
    }
    let packets = ipcc_contents?.single_child("IPCC.iPCCContents").ok()?;
    if packets.tag.context_number() != Some(0) {
        return None;
    }
    let Cow::Borrowed(packet) = packets.octets("IPCCContents.iPPackets").ok()? else {
        return None;
    };
    Some(packet)
}

/// `iPMMCC [12]`: `mMCCContents [1]` (primitive), `frameType [2]`, `streamIdentifier [3]`
/// (primitive) and `mMCCprotocol [4]` decoded as `IPMMCC::decode` does; `iPMMCCObjId [0]`
/// and unknown elements into the key.
fn read_ipmmcc<'a>(
    frame: &[u8],
    ipmmcc: &Tlv<'a>,
    key: &mut Vec<u8>,
) -> Option<(&'a [u8], FastMedia<'a>)> {
    key.extend_from_slice(&[0, 12]);
    let (mut contents, mut frame_type, mut stream, mut protocol) = (None, None, None, None);
    let mut fields = ipmmcc.children("IPMMCC").ok()?;
    while let Some(f) = fields.next_tlv().ok()? {
        match f.tag.context_number() {
            Some(1) => {
                let Cow::Borrowed(c) = f.octets("IPMMCC.mMCCContents").ok()? else {
                    return None;
                };
                once(&mut contents, c)?;
            }
            Some(2) => {
                let value = f.enumerated("IPMMCC.frameType").ok()?;
                once(&mut frame_type, FrameType::from_value(value))?;
            }
            Some(3) => {
                let Cow::Borrowed(id) = f.octets("IPMMCC.streamIdentifier").ok()? else {
                    return None;
                };
                once(&mut stream, id)?;
            }
            Some(4) => {
                let value = f.enumerated("IPMMCC.mMCCprotocol").ok()?;
                once(&mut protocol, MmccProtocol::from_value(value))?;
            }
            // iPMMCCObjId [0] and unknown elements: fixed.
            _ => copy(frame, &f, key)?,
        }
    }
    Some((
        contents?,
        FastMedia {
            frame_type,
            stream,
            protocol,
        },
    ))
}

/// Sets a field seen for the first time; `None` for a duplicate (an error for the full
/// decoder).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Appends the element's encoding, as received, to the key.
fn copy(frame: &[u8], f: &Tlv<'_>, key: &mut Vec<u8>) -> Option<()> {
    let end = f.offset.checked_add(f.encoded_len)?;
    key.extend_from_slice(frame.get(f.offset..end)?);
    Some(())
}

/// A decoded GeneralizedTime: as `li_asn1::GeneralizedTime::decode`, without keeping the
/// text.
struct Generalized {
    timestamp: Timestamp,
}

fn generalized_time(f: &Tlv<'_>) -> Option<Generalized> {
    let octets = f.octets("GeneralizedTime").ok()?;
    let text = std::str::from_utf8(&octets).ok()?;
    let timestamp = Timestamp::parse_generalized_time(text).ok()?;
    Some(Generalized { timestamp })
}

/// A decoded MicroSecondTimeStamp: as `li_asn1::pdu::MicroSecondTimeStamp::decode`, then
/// the instant if it lies in the range of [`Timestamp`].
struct Micro {
    timestamp: Option<Timestamp>,
}

fn micro_second_time_stamp(f: &Tlv<'_>) -> Option<Micro> {
    let (mut seconds, mut micros) = (None, None);
    let mut fields = f.children("MicroSecondTimeStamp").ok()?;
    while let Some(f) = fields.next_tlv().ok()? {
        match f.tag.context_number() {
            Some(0) => once(&mut seconds, f.u64("MicroSecondTimeStamp.seconds").ok()?)?,
            Some(1) => {
                let v = f.u32("MicroSecondTimeStamp.microSeconds").ok()?;
                if v > 999_999 {
                    return None;
                }
                once(&mut micros, v)?;
            }
            _ => {}
        }
    }
    Some(Micro {
        timestamp: Timestamp::from_micro_second_time_stamp(seconds?, micros?).ok(),
    })
}
