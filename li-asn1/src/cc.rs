//! The hot-path CC encoders (IP access `IPCC`, IP multimedia `IPMMCC`): everything fixed per
//! (LIID, CIN, destination) is encoded once; per record only the sequence number, the
//! timestamp and the direction are written, and the packet is copied once.

use li_core::{Cin, Timestamp};

use li_core::CcRecord;

use crate::ber::{Tag, Writer, int_octets, length_len, write_length};
use crate::etsi::{HeaderSettings, TimestampForm};
use crate::ipaccess;
use crate::ipmm::{self, MediaStream};
use crate::pdu::PayloadDirection;
use crate::types::write_canonical;

/// Encodes IPCC PS-PDUs for one (LIID, CIN, destination), byte-identical to
/// [`HeaderSettings::ip_cc_pdu`] followed by [`crate::PsPdu::encode`].
///
/// ```
/// use li_asn1::{CcEncoder, HeaderSettings, PsPdu, PayloadDirection};
/// use li_core::{Cin, Liid, OperatorId, Timestamp};
///
/// let settings = HeaderSettings::new(Liid::new(b"LIID-1")?, OperatorId::new(b"OPERATOR")?);
/// let encoder = CcEncoder::new(&settings, Cin::new(7));
/// let mut out = Vec::new();
/// let time = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
/// encoder.encode(42, time, PayloadDirection::FromTarget, &[0x45, 0, 0, 20], &mut out);
/// let pdu = PsPdu::decode(&out)?;
/// assert_eq!(pdu.header.sequence_number, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CcEncoder {
    header: PreHeader,
    /// `iPCCObjId [0]`, encoded.
    obj_id: Vec<u8>,
}

impl CcEncoder {
    /// Pre-encodes the fixed parts for `cin` under `settings`.
    pub fn new(settings: &HeaderSettings, cin: Cin) -> Self {
        let mut w = Writer::new();
        ipaccess::ipcc_obj_id(settings.ip_access_version).encode(&mut w, Tag::context(0));
        Self {
            header: PreHeader::new(settings, cin),
            obj_id: w.into_vec(),
        }
    }

    /// Appends one PS-PDU carrying `packet` to `out`, as `iPPackets`.
    pub fn encode(
        &self,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        packet: &[u8],
        out: &mut Vec<u8>,
    ) {
        self.encode_contents(sequence_number, time, direction, packet, None, out);
    }

    /// Appends one PS-PDU carrying `packet`, the part captured of an IP packet of
    /// `original_length` octets, to `out`, as TS 102 232-3 `iPTruncatedPacket` with its
    /// `originalLength`; byte-identical to the typed encoder given
    /// [`crate::IpCcContents::IpTruncatedPacket`].
    pub fn encode_truncated(
        &self,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        packet: &[u8],
        original_length: u32,
        out: &mut Vec<u8>,
    ) {
        let original = Some(original_length);
        self.encode_contents(sequence_number, time, direction, packet, original, out);
    }

    /// [`Self::encode`] (`original_length` `None`) or [`Self::encode_truncated`].
    fn encode_contents(
        &self,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        packet: &[u8],
        original_length: Option<u32>,
        out: &mut Vec<u8>,
    ) {
        let l_packet = packet.len();
        // [1] iPCCContents holds [0] iPPackets, or [1] iPTruncatedPacket holding [0]
        // truncatedPacket and [1] originalLength.
        let original = original_length.map(|len| (u64::from(len), uint_len(u64::from(len))));
        let l_truncated = tlv(l_packet) + original.map_or(0, |(_, l)| 2 + l);
        let l_contents = if original.is_some() {
            tlv(l_truncated)
        } else {
            tlv(l_packet)
        };
        let l_ipcc = self.obj_id.len() + tlv(l_contents);
        let record = self.header.record(sequence_number, time);
        // [2] cCContents holds [2] iPCC
        self.header
            .write_cc_envelope(&record, direction, tlv(l_ipcc), out);
        head(out, 0xa2, l_ipcc);
        out.extend_from_slice(&self.obj_id);
        head(out, 0xa1, l_contents);
        if let Some((len, l_len)) = original {
            head(out, 0xa1, l_truncated);
            head(out, 0x80, l_packet);
            out.extend_from_slice(packet);
            uint(out, 0x81, len, l_len);
        } else {
            head(out, 0x80, l_packet);
            out.extend_from_slice(packet);
        }
    }
}

impl CcEncoder {
    /// Appends the PS-PDU of a neutral CC record of an IP packet
    /// ([`li_core::CcKind::IpPacket`]; a call's media goes through [`IpmmCcEncoder`]):
    /// `iPTruncatedPacket` when its [`CcRecord::original_len`] is set, else `iPPackets`.
    pub fn encode_record(&self, sequence_number: u32, record: &CcRecord, out: &mut Vec<u8>) {
        self.encode_contents(
            sequence_number,
            record.timestamp,
            record.direction.into(),
            &record.payload,
            record.original_len,
            out,
        );
    }
}

/// Encodes TS 102 232-5 IPMMCC PS-PDUs (one media packet each) for one (LIID, CIN,
/// destination), byte-identical to [`HeaderSettings::ipmm_cc_pdu`] followed by
/// [`crate::PsPdu::encode`].
///
/// Everything fixed is encoded once: the PSHeader fields but the sequence number and the
/// timestamps in [`IpmmCcEncoder::new`], the stream's `frameType`, `streamIdentifier` and
/// `mMCCprotocol` in [`MediaStream`]. Per record the nested lengths are computed, the sequence
/// number, timestamp and direction written and the packet copied once, into `out` only.
///
/// ```
/// use li_asn1::ipmm::{FrameType, MediaStream};
/// use li_asn1::{HeaderSettings, IpmmCcEncoder, PayloadDirection, PsPdu};
/// use li_core::{Cin, Liid, OperatorId, Timestamp};
///
/// let settings = HeaderSettings::new(Liid::new(b"LIID-1")?, OperatorId::new(b"OPERATOR")?);
/// let encoder = IpmmCcEncoder::new(&settings, Cin::new(7));
/// let audio = MediaStream::new(FrameType::RtpFrame).with_stream_identifier(b"m=audio 49170 RTP/AVP 0");
/// let time = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
/// let rtp = [0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef];
/// let mut out = Vec::new();
/// encoder.encode(42, time, PayloadDirection::ToTarget, &audio, &rtp, &mut out);
/// let typed = settings.ipmm_cc_pdu(Cin::new(7), 42, time, PayloadDirection::ToTarget, &audio, &rtp);
/// assert_eq!(out, typed.encode());
/// assert_eq!(PsPdu::decode(&out)?, typed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IpmmCcEncoder {
    header: PreHeader,
    /// `iPMMCCObjId [0]`, encoded.
    obj_id: Vec<u8>,
}

impl IpmmCcEncoder {
    /// Pre-encodes the fixed parts for `cin` under `settings`.
    pub fn new(settings: &HeaderSettings, cin: Cin) -> Self {
        let mut w = Writer::new();
        ipmm::ipmmcc_obj_id(settings.ip_multimedia_version).encode(&mut w, Tag::context(0));
        Self {
            header: PreHeader::new(settings, cin),
            obj_id: w.into_vec(),
        }
    }

    /// Appends one PS-PDU carrying `packet`, one packet of `stream` with the headers its
    /// frame type says, to `out`.
    pub fn encode(
        &self,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        stream: &MediaStream,
        packet: &[u8],
        out: &mut Vec<u8>,
    ) {
        let trailer = stream.encoded();
        // [12] iPMMCC holds [0] iPMMCCObjId, [1] mMCCContents and the stream's fields.
        let l_ipmmcc = self.obj_id.len() + tlv(packet.len()) + trailer.len();
        let record = self.header.record(sequence_number, time);
        // [2] cCContents holds [12] iPMMCC
        self.header
            .write_cc_envelope(&record, direction, tlv(l_ipmmcc), out);
        head(out, 0xac, l_ipmmcc);
        out.extend_from_slice(&self.obj_id);
        head(out, 0x81, packet.len());
        out.extend_from_slice(packet);
        out.extend_from_slice(trailer);
    }
}

/// The PSHeader of one (LIID, CIN, destination) with its fixed fields encoded, and the
/// per-record writing of the header and the CC envelope around the contents.
#[derive(Clone, Debug)]
struct PreHeader {
    /// PSHeader fields [0] to [3], encoded.
    head: Vec<u8>,
    /// PSHeader field [6] (between the two timestamps), encoded.
    mid: Vec<u8>,
    timestamp_form: TimestampForm,
}

/// The variable PSHeader fields of one record, sized.
struct RecordHeader {
    sequence_number: u32,
    seq_len: usize,
    gt: [u8; 22],
    gt_len: usize,
    usec: Option<(u64, u32)>,
    usec_lens: Option<(usize, usize)>,
    usec_content: usize,
    /// Content octets of the PSHeader.
    content_len: usize,
}

impl PreHeader {
    fn new(settings: &HeaderSettings, cin: Cin) -> Self {
        // Encode a header with placeholders and keep the fixed fields.
        let header = settings.header(Some(cin), 0, Timestamp::UNIX_EPOCH);
        let mut w = Writer::new();
        header.li_ps_domain_id.encode(&mut w, Tag::context(0));
        w.primitive(
            Tag::context(1),
            header.lawful_interception_identifier.as_bytes(),
        );
        if let Some(cc) = &header.authorization_country_code {
            w.primitive(Tag::context(2), cc.as_bytes());
        }
        header
            .communication_identifier
            .encode(&mut w, Tag::context_constructed(3));
        let head = w.into_vec();
        let mut w = Writer::new();
        if let Some(id) = &header.interception_point_id {
            w.primitive(Tag::context(6), id.as_bytes());
        }
        Self {
            head,
            mid: w.into_vec(),
            timestamp_form: settings.timestamp_form,
        }
    }

    // Always inlined, as these steps were when each encoder had its own copy (the hot
    // paths of both encoders run through here once per record).
    #[inline(always)]
    fn record(&self, sequence_number: u32, time: Timestamp) -> RecordHeader {
        let seq_len = uint_len(u64::from(sequence_number));
        let mut gt = [0u8; 22];
        let (gt_len, usec) = match self.timestamp_form {
            TimestampForm::GeneralizedTime => (write_canonical(time, &mut gt), None),
            TimestampForm::MicroSecond => (0, Some(time.to_micro_second_time_stamp())),
            TimestampForm::Both => (
                write_canonical(time, &mut gt),
                Some(time.to_micro_second_time_stamp()),
            ),
        };
        let usec_lens = usec.map(|(s, us)| (uint_len(s), uint_len(u64::from(us))));
        let usec_content = usec_lens.map_or(0, |(a, b)| 2 + a + 2 + b);
        let content_len = self.head.len()
            + 2
            + seq_len
            + if gt_len > 0 { 2 + gt_len } else { 0 }
            + self.mid.len()
            + if usec.is_some() { 2 + usec_content } else { 0 };
        RecordHeader {
            sequence_number,
            seq_len,
            gt,
            gt_len,
            usec,
            usec_lens,
            usec_content,
            content_len,
        }
    }

    /// Reserves room for the whole PDU and writes everything up to the content of
    /// `[2] cCContents`, which is `l_cc_contents` octets (the caller writes them): the
    /// PS-PDU SEQUENCE, the PSHeader, `[2] payload`, `[1] cCPayloadSequence` with its one
    /// CCPayload, its `payloadDirection` and the `cCContents` tag and length.
    #[inline(always)]
    fn write_cc_envelope(
        &self,
        record: &RecordHeader,
        direction: PayloadDirection,
        l_cc_contents: usize,
        out: &mut Vec<u8>,
    ) {
        let (dir_octets, dir_len) = int_octets(direction.value());
        let dir_octets = dir_octets.get(8 - dir_len..).unwrap_or(&[0]);
        let l_cc_payload = 2 + dir_len + tlv(l_cc_contents);
        let l_sequence = tlv(l_cc_payload); // [1] cCPayloadSequence holds one CCPayload
        let l_payload = tlv(l_sequence); // [2] payload holds the choice
        let l_pdu = tlv(record.content_len) + tlv(l_payload);
        out.reserve(tlv(l_pdu));

        // PS-PDU and PSHeader.
        head(out, 0x30, l_pdu);
        head(out, 0xa1, record.content_len);
        out.extend_from_slice(&self.head);
        uint(out, 0x84, u64::from(record.sequence_number), record.seq_len);
        if record.gt_len > 0 {
            out.push(0x85);
            out.push(record.gt_len as u8);
            out.extend_from_slice(record.gt.get(..record.gt_len).unwrap_or(&[]));
        }
        out.extend_from_slice(&self.mid);
        if let (Some((s, us)), Some((ls, lus))) = (record.usec, record.usec_lens) {
            head(out, 0xa7, record.usec_content);
            uint(out, 0x80, s, ls);
            uint(out, 0x81, u64::from(us), lus);
        }
        // Payload.
        head(out, 0xa2, l_payload);
        head(out, 0xa1, l_sequence);
        head(out, 0x30, l_cc_payload);
        out.extend_from_slice(&[0x80, dir_len as u8]);
        out.extend_from_slice(dir_octets);
        head(out, 0xa2, l_cc_contents);
    }
}

/// Size of a low-tag element with `len` content octets.
fn tlv(len: usize) -> usize {
    1 + length_len(len) + len
}

fn head(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    write_length(out, len);
}

/// Content octets of a non-negative INTEGER.
fn uint_len(v: u64) -> usize {
    // Minimal two's complement: one more octet when the top bit of the leading octet is set.
    (64 - v.leading_zeros() as usize) / 8 + 1
}

#[inline(always)]
fn uint(out: &mut Vec<u8>, tag: u8, v: u64, len: usize) {
    out.push(tag);
    out.push(len as u8);
    let be = v.to_be_bytes();
    if len > 8 {
        out.push(0);
        out.extend_from_slice(&be);
    } else {
        out.extend_from_slice(be.get(8 - len..).unwrap_or(&[]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use li_core::{Liid, NetworkElementId, OperatorId};

    use crate::InterceptionPointId;

    #[test]
    fn uint_len_matches_writer() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            256,
            32767,
            32768,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut w = Writer::new();
            w.u64(Tag::context(4), v);
            assert_eq!(w.as_slice().len(), 2 + uint_len(v), "{v}");
            let mut out = Vec::new();
            uint(&mut out, 0x84, v, uint_len(v));
            assert_eq!(out, w.as_slice(), "{v}");
        }
    }

    #[test]
    fn truncated_identical_to_the_typed_encoder_and_decodes() {
        let s = HeaderSettings::new(
            Liid::new(b"LIID-0001").unwrap(),
            OperatorId::new(b"OPERATOR").unwrap(),
        );
        let t = Timestamp::from_secs_micros(1_704_164_645, 678_000).unwrap();
        let enc = CcEncoder::new(&s, Cin::new(42));
        for (len, original) in [
            (0usize, 0u32),
            (20, 127),
            (96, 128),
            (200, 1500),
            (128, u32::MAX),
        ] {
            let packet: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = Vec::new();
            enc.encode_truncated(
                9,
                t,
                PayloadDirection::FromTarget,
                &packet,
                original,
                &mut out,
            );
            let contents = crate::IpCcContents::IpTruncatedPacket {
                truncated_packet: packet.clone(),
                original_length: Some(i64::from(original)),
            };
            let typed =
                s.ip_cc_pdu_with(Cin::new(42), 9, t, PayloadDirection::FromTarget, contents);
            assert_eq!(out, typed.encode(), "len {len} original {original}");
            assert_eq!(crate::PsPdu::decode(&out).unwrap(), typed);
        }
        // A record with original_len takes the truncated form, one without the plain one.
        let mut record = CcRecord {
            xid: li_core::Xid::from_bytes([1; 16]),
            cin: Cin::new(42),
            timestamp: t,
            direction: li_core::PayloadDirection::ToTarget,
            payload: vec![0x45, 0, 5, 220, 0, 0].into(),
            original_len: Some(1500),
            kind: li_core::CcKind::IpPacket,
        };
        let (mut truncated, mut plain) = (Vec::new(), Vec::new());
        enc.encode_record(1, &record, &mut truncated);
        let direction = PayloadDirection::ToTarget;
        let mut expected = Vec::new();
        enc.encode_truncated(1, t, direction, &record.payload, 1500, &mut expected);
        assert_eq!(truncated, expected);
        record.original_len = None;
        enc.encode_record(1, &record, &mut plain);
        expected.clear();
        enc.encode(1, t, direction, &record.payload, &mut expected);
        assert_eq!(plain, expected);
    }

    #[test]
    fn identical_to_the_typed_encoder() {
        let mut s = HeaderSettings::new(
            Liid::new(b"LIID-0001").unwrap(),
            OperatorId::new(b"OPERATOR").unwrap(),
        );
        s.network_element_identifier = Some(NetworkElementId::new(b"NE-1").unwrap());
        s.authorization_country_code = Some("DE".parse().unwrap());
        s.delivery_country_code = Some("DE".parse().unwrap());
        let t = Timestamp::from_secs_micros(1_704_164_645, 678_000).unwrap();
        for form in [
            TimestampForm::GeneralizedTime,
            TimestampForm::MicroSecond,
            TimestampForm::Both,
        ] {
            for ipid in [None, Some("IP-1".to_string())] {
                s.timestamp_form = form;
                s.interception_point_id = ipid.as_deref().and_then(InterceptionPointId::new);
                let enc = CcEncoder::new(&s, Cin::new(42));
                for len in [0usize, 1, 64, 100, 127, 128, 1400, 70_000] {
                    let packet: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    for seq in [0u32, 7, 128, u32::MAX] {
                        let mut out = Vec::new();
                        enc.encode(seq, t, PayloadDirection::ToTarget, &packet, &mut out);
                        let typed = s
                            .ip_cc_pdu(Cin::new(42), seq, t, PayloadDirection::ToTarget, &packet)
                            .encode();
                        assert_eq!(out, typed, "form {form:?} len {len} seq {seq}");
                    }
                }
            }
        }
    }
}
