//! The hot path: X3 PDUs carrying one intercepted IP packet each, from a pre-encoded header.

use bytes::BufMut;
use li_core::Xid;

use super::attribute::PduTimestamp;
use super::error::{Error, Result};
use super::template::{PatchedPdu, PerPdu};
use super::{DEFAULT_VERSION, FIXED_HEADER_LEN, PayloadDirection, PayloadFormat, PduType};

/// Octets before the payload of an IP-packet X3 PDU: the fixed header, the Sequence Number
/// attribute (4 + 4) and the Timestamp attribute (4 + 8).
pub const X3_IP_HEADER_LEN: usize = FIXED_HEADER_LEN + 8 + 12;

/// The longest Network Function ID attribute value the pre-encoded headers take (type 6,
/// TS 103 221-2 clause 5.3.6; the clause sets no bound, a probe's name fits easily).
pub const MAX_NETWORK_FUNCTION_ID_LEN: usize = 64;

/// The longest IP-packet header: [`X3_IP_HEADER_LEN`] and a Network Function ID.
const X3_IP_TEMPLATE_LEN: usize = X3_IP_HEADER_LEN + 4 + MAX_NETWORK_FUNCTION_ID_LEN;

/// The first four octets of the value of our Proprietary Attribute (type 4) "original
/// length": ASCII `LIOL`.
///
/// An X3 PDU whose IP packet was cut by the capture's snapshot length carries, after its
/// Sequence Number and Timestamp, one Proprietary Attribute of 8 octets: `LIOL`, then the
/// packet's length as its IP header declares it, a big-endian `u32`. The payload is the bytes
/// captured. A mediator maps it to TS 102 232-3 `iPTruncatedPacket` with that
/// `originalLength`; one that does not know it sees an opaque attribute and a short packet.
/// [`Attribute::original_length`](super::Attribute::original_length) reads it,
/// [`Attribute::original_length_attribute`](super::Attribute::original_length_attribute)
/// builds it.
pub const ORIGINAL_LENGTH_MAGIC: [u8; 4] = *b"LIOL";

/// The encoded "original length" attribute: type, length, magic, length value.
const ORIGINAL_LENGTH_ATTRIBUTE_LEN: usize = 4 + 8;

/// Encodes X3 PDUs (TS 103 221-2 clause 5, PDU type 2) of one task, one IP packet each, from
/// a header encoded once: per packet only the payload length, format, direction, sequence
/// number and timestamp are patched in, then the packet is copied once.
///
/// The PDU is exactly what [`Pdu::encode_into`](super::Pdu::encode_into) writes for an X3
/// [`Pdu`](super::Pdu) with the attributes `[SequenceNumber, Timestamp]` and Payload Format
/// IPv4 Packet (5) or IPv6 Packet (6), chosen from the packet's version nibble.
///
/// ```
/// use li_core::Xid;
/// use li_handover::x2x3::{Pdu, PayloadDirection, PayloadFormat, PduTimestamp, X3IpPacketEncoder};
///
/// let encoder = X3IpPacketEncoder::new(Xid::from_bytes([0x2b; 16]), [0, 0, 0, 0, 0, 0, 0, 1]);
/// let mut out = Vec::new();
/// let packet = [0x60, 0, 0, 0, 0, 0, 59, 64]; // the start of an IPv6 header
/// let ts = PduTimestamp::new(1_704_164_645, 123_456_789);
/// encoder.encode(&mut out, 7, ts, PayloadDirection::ToTarget, &packet)?;
///
/// let (pdu, used) = Pdu::decode(&out)?;
/// assert_eq!(used, out.len());
/// assert_eq!(pdu.payload_format, PayloadFormat::Ipv6Packet);
/// assert_eq!((pdu.sequence_number(), pdu.timestamp()), (Some(7), Some(ts)));
/// # Ok::<(), li_handover::x2x3::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X3IpPacketEncoder {
    template: PatchedPdu<X3_IP_TEMPLATE_LEN>,
}

impl X3IpPacketEncoder {
    /// The encoder for task `xid` with Correlation ID `correlation_id`, sending
    /// [`DEFAULT_VERSION`].
    pub fn new(xid: Xid, correlation_id: [u8; 8]) -> Self {
        let mut template = [0; X3_IP_TEMPLATE_LEN];
        let mut w = template.as_mut_slice();
        w.put_u16(DEFAULT_VERSION);
        w.put_u16(PduType::X3.into());
        // X3_IP_HEADER_LEN is 60: the cast cannot truncate.
        w.put_u32(X3_IP_HEADER_LEN as u32);
        w.put_u32(0); // payload length, patched
        w.put_u16(0); // payload format, patched
        w.put_u16(0); // payload direction, patched
        w.put_slice(xid.as_bytes());
        w.put_slice(&correlation_id);
        w.put_u16(8); // Sequence Number
        w.put_u16(4);
        w.put_u32(0);
        w.put_u16(9); // Timestamp
        w.put_u16(8);
        w.put_u64(0);
        Self {
            template: PatchedPdu::new(template, X3_IP_HEADER_LEN),
        }
    }

    /// The same encoder with the Network Function ID attribute (type 6, clause 5.3.6) `nfid`
    /// after the Timestamp in every PDU: which network function (probe) intercepted.
    ///
    /// # Errors
    ///
    /// [`Error::NetworkFunctionId`] for an empty `nfid` or one over
    /// [`MAX_NETWORK_FUNCTION_ID_LEN`] octets.
    pub fn with_network_function_id(mut self, nfid: &[u8]) -> Result<Self> {
        if nfid.is_empty()
            || nfid.len() > MAX_NETWORK_FUNCTION_ID_LEN
            || !self.template.append_attribute(6, nfid)
        {
            return Err(Error::NetworkFunctionId { len: nfid.len() });
        }
        Ok(self)
    }

    /// The same encoder sending `version` in the Version field (clause 5.2.1) instead.
    pub fn with_version(mut self, version: u16) -> Self {
        self.template.set_version(version);
        self
    }

    /// Appends one X3 PDU carrying `packet` to `out`.
    ///
    /// Fails, writing nothing, with [`Error::NotAnIpPacket`] when the packet's first nibble is
    /// neither 4 nor 6, [`Error::LengthOverflow`] for a packet of 4 GiB or more, and
    /// [`Error::BufferTooSmall`] when `out` cannot grow to take the PDU.
    pub fn encode<B: BufMut>(
        &self,
        out: &mut B,
        sequence_number: u32,
        timestamp: PduTimestamp,
        direction: PayloadDirection,
        packet: &[u8],
    ) -> Result<()> {
        self.encode_with(out, sequence_number, timestamp, direction, packet, None)
    }

    /// Appends one X3 PDU carrying `packet`, the bytes captured of an IP packet of
    /// `original_len` octets (cut by the capture's snapshot length), to `out`: the PDU of
    /// [`Self::encode`] with the "original length" Proprietary Attribute
    /// ([`ORIGINAL_LENGTH_MAGIC`]) after the Timestamp. Fails as [`Self::encode`] does.
    pub fn encode_truncated<B: BufMut>(
        &self,
        out: &mut B,
        sequence_number: u32,
        timestamp: PduTimestamp,
        direction: PayloadDirection,
        packet: &[u8],
        original_len: u32,
    ) -> Result<()> {
        let original = Some(original_len);
        self.encode_with(out, sequence_number, timestamp, direction, packet, original)
    }

    /// [`Self::encode`], with the "original length" attribute when `original_len` is set.
    fn encode_with<B: BufMut>(
        &self,
        out: &mut B,
        sequence_number: u32,
        timestamp: PduTimestamp,
        direction: PayloadDirection,
        packet: &[u8],
        original_len: Option<u32>,
    ) -> Result<()> {
        let format = ip_payload_format(packet)?;
        let attribute;
        let more_attributes: &[u8] = match original_len {
            Some(len) => {
                attribute = original_length_attribute(len);
                &attribute
            }
            None => &[],
        };
        let pdu = PerPdu {
            sequence_number,
            timestamp,
            format_direction: Some((format, direction)),
            more_attributes,
        };
        self.template.encode(out, &pdu, packet)
    }
}

/// The encoded "original length" Proprietary Attribute ([`ORIGINAL_LENGTH_MAGIC`]) for an IP
/// packet of `len` octets: type 4, length 8, the magic, the length.
fn original_length_attribute(len: u32) -> [u8; ORIGINAL_LENGTH_ATTRIBUTE_LEN] {
    let mut attribute = [0; ORIGINAL_LENGTH_ATTRIBUTE_LEN];
    let mut w = attribute.as_mut_slice();
    w.put_u16(4); // Proprietary Attribute
    w.put_u16(8);
    w.put_slice(&ORIGINAL_LENGTH_MAGIC);
    w.put_u32(len);
    attribute
}

/// Appends one X3 PDU (IPv4 Packet or IPv6 Packet format, from the version nibble) carrying
/// `packet` with Sequence Number and Timestamp attributes: [`X3IpPacketEncoder::new`] then
/// [`X3IpPacketEncoder::encode`]. Keep an encoder per task to skip the header set-up.
pub fn encode_x3_ip_packet<B: BufMut>(
    out: &mut B,
    xid: Xid,
    correlation_id: [u8; 8],
    sequence_number: u32,
    timestamp: PduTimestamp,
    direction: PayloadDirection,
    packet: &[u8],
) -> Result<()> {
    X3IpPacketEncoder::new(xid, correlation_id).encode(
        out,
        sequence_number,
        timestamp,
        direction,
        packet,
    )
}

/// The Payload Format for an IP packet: IPv4 Packet (5) or IPv6 Packet (6) from the version
/// nibble of its first octet, else [`Error::NotAnIpPacket`].
pub fn ip_payload_format(packet: &[u8]) -> Result<PayloadFormat> {
    let version = packet.first().map_or(0, |b| b >> 4);
    match version {
        4 => Ok(PayloadFormat::Ipv4Packet),
        6 => Ok(PayloadFormat::Ipv6Packet),
        _ => Err(Error::NotAnIpPacket { version }),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::x2x3::{Attribute, Pdu};

    fn general(
        version: u16,
        xid: Xid,
        cid: [u8; 8],
        seq: u32,
        ts: PduTimestamp,
        direction: PayloadDirection,
        packet: &[u8],
    ) -> Vec<u8> {
        let mut pdu = Pdu::new(
            PduType::X3,
            ip_payload_format(packet).unwrap(),
            direction,
            xid,
        );
        pdu.version = version;
        pdu.correlation_id = cid;
        pdu.attributes = vec![Attribute::SequenceNumber(seq), Attribute::Timestamp(ts)];
        pdu.payload = Bytes::copy_from_slice(packet);
        pdu.encode().unwrap()
    }

    #[test]
    fn equals_the_general_encoder() {
        let xid: Xid = "2b36a78b-b628-416d-bd22-65e63691aeb6".parse().unwrap();
        let ts = PduTimestamp::new(1_704_164_645, 123_456_789);
        let v4 = [
            0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 192, 168, 0, 1, 192, 168, 0, 2,
        ];
        let mut out = Vec::new();
        encode_x3_ip_packet(
            &mut out,
            xid,
            [1; 8],
            1,
            ts,
            PayloadDirection::FromTarget,
            &v4,
        )
        .unwrap();
        assert_eq!(
            out,
            general(
                DEFAULT_VERSION,
                xid,
                [1; 8],
                1,
                ts,
                PayloadDirection::FromTarget,
                &v4
            )
        );
        let (pdu, _) = Pdu::decode(&out).unwrap();
        assert_eq!(pdu.payload_format, PayloadFormat::Ipv4Packet);
        assert_eq!(pdu.payload.first(), Some(&0x45));
        assert!(
            !pdu.attributes
                .contains(&Attribute::SourceIpv4(Ipv4Addr::new(192, 168, 0, 1)))
        );
    }

    /// With a Network Function ID the PDU is the general encoder's with the attribute after
    /// the Timestamp, truncated packets included (the original length after it); an empty or
    /// over-long one is refused.
    #[test]
    fn a_network_function_id_rides_in_every_pdu() {
        let xid = Xid::from_bytes([7; 16]);
        let ts = PduTimestamp::new(1_704_164_645, 5);
        let enc = X3IpPacketEncoder::new(xid, [2; 8])
            .with_network_function_id(b"probe-east-1")
            .unwrap();
        let v4 = [
            0x45u8, 0, 0, 24, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 1, 2, 3, 4,
        ];
        for original in [None, Some(1500)] {
            let mut out = Vec::new();
            match original {
                None => enc.encode(&mut out, 9, ts, PayloadDirection::ToTarget, &v4),
                Some(len) => {
                    enc.encode_truncated(&mut out, 9, ts, PayloadDirection::ToTarget, &v4, len)
                }
            }
            .unwrap();
            let mut pdu = Pdu::new(
                PduType::X3,
                PayloadFormat::Ipv4Packet,
                PayloadDirection::ToTarget,
                xid,
            );
            pdu.correlation_id = [2; 8];
            pdu.attributes = vec![
                Attribute::SequenceNumber(9),
                Attribute::Timestamp(ts),
                Attribute::NetworkFunctionId(b"probe-east-1".to_vec()),
            ];
            if let Some(len) = original {
                pdu.attributes
                    .push(Attribute::original_length_attribute(len));
            }
            pdu.payload = Bytes::copy_from_slice(&v4);
            assert_eq!(out, pdu.encode().unwrap(), "original length {original:?}");
            let (back, _) = Pdu::decode(&out).unwrap();
            assert_eq!(
                crate::x2x3::contract::network_function_id(&back),
                Some(&b"probe-east-1"[..])
            );
        }
        for bad in [&[][..], &[b'x'; MAX_NETWORK_FUNCTION_ID_LEN + 1][..]] {
            assert_eq!(
                X3IpPacketEncoder::new(xid, [2; 8]).with_network_function_id(bad),
                Err(Error::NetworkFunctionId { len: bad.len() })
            );
        }
        let longest = [b'x'; MAX_NETWORK_FUNCTION_ID_LEN];
        assert!(
            X3IpPacketEncoder::new(xid, [2; 8])
                .with_network_function_id(&longest)
                .is_ok()
        );
    }

    #[test]
    fn refuses_what_is_not_ip_and_writes_nothing() {
        let enc = X3IpPacketEncoder::new(Xid::NIL, [0; 8]);
        let mut out = vec![9];
        for packet in [&[][..], &[0x00], &[0x55, 0], &[0xf6]] {
            let err = enc
                .encode(
                    &mut out,
                    0,
                    PduTimestamp::default(),
                    PayloadDirection::Unknown,
                    packet,
                )
                .unwrap_err();
            assert!(matches!(err, Error::NotAnIpPacket { .. }), "{err}");
        }
        assert_eq!(out, [9]);
    }

    #[test]
    fn a_fixed_buffer_that_is_too_small_is_an_error() {
        let enc = X3IpPacketEncoder::new(Xid::NIL, [0; 8]);
        let mut buf = [0u8; X3_IP_HEADER_LEN + 3];
        let mut out = &mut buf[..];
        let err = enc
            .encode(
                &mut out,
                0,
                PduTimestamp::default(),
                PayloadDirection::Unknown,
                &[0x45; 4],
            )
            .unwrap_err();
        assert_eq!(
            err,
            Error::BufferTooSmall {
                needed: X3_IP_HEADER_LEN + 4,
                available: X3_IP_HEADER_LEN + 3
            }
        );
        let mut out = &mut buf[..];
        enc.encode(
            &mut out,
            0,
            PduTimestamp::default(),
            PayloadDirection::Unknown,
            &[0x45; 3],
        )
        .unwrap();
    }

    #[test]
    fn truncated_packet_carries_its_original_length() {
        let xid: Xid = "2b36a78b-b628-416d-bd22-65e63691aeb6".parse().unwrap();
        let ts = PduTimestamp::new(1_704_164_645, 123_456_789);
        let cut = [
            0x45, 0, 5, 220, 0, 1, 0, 0, 64, 6, 0, 0, 192, 168, 0, 1, 192, 168, 0, 2,
        ];
        let enc = X3IpPacketEncoder::new(xid, [1; 8]);
        let mut out = Vec::new();
        enc.encode_truncated(&mut out, 3, ts, PayloadDirection::ToTarget, &cut, 1500)
            .unwrap();
        // The general encoder with the attribute after Sequence Number and Timestamp.
        let mut pdu = Pdu::new(
            PduType::X3,
            PayloadFormat::Ipv4Packet,
            PayloadDirection::ToTarget,
            xid,
        );
        pdu.correlation_id = [1; 8];
        pdu.attributes = vec![
            Attribute::SequenceNumber(3),
            Attribute::Timestamp(ts),
            Attribute::original_length_attribute(1500),
        ];
        pdu.payload = Bytes::copy_from_slice(&cut);
        assert_eq!(out, pdu.encode().unwrap());
        // Type 4, length 8, "LIOL", 1500.
        assert_eq!(
            out[X3_IP_HEADER_LEN..X3_IP_HEADER_LEN + 12],
            [0, 4, 0, 8, b'L', b'I', b'O', b'L', 0, 0, 5, 220]
        );
        let (decoded, used) = Pdu::decode(&out).unwrap();
        assert_eq!(used, out.len());
        assert_eq!(decoded.original_length(), Some(1500));
        assert_eq!(
            (decoded.sequence_number(), decoded.timestamp()),
            (Some(3), Some(ts))
        );
        assert_eq!(&decoded.payload[..], &cut[..]);
        // A whole packet has none; nor has another proprietary attribute.
        out.clear();
        enc.encode(&mut out, 3, ts, PayloadDirection::ToTarget, &cut)
            .unwrap();
        assert_eq!(Pdu::decode(&out).unwrap().0.original_length(), None);
        for other in [&b"LIOL"[..], b"LIOL\0\0\0\0\0", b"XXXX\0\0\x05\xdc"] {
            assert_eq!(
                Attribute::ProprietaryAttribute(other.to_vec()).original_length(),
                None
            );
        }
    }

    proptest! {
        #[test]
        fn hot_path_equals_general_encoder(
            version in any::<u16>(),
            xid in any::<[u8; 16]>(),
            cid in any::<[u8; 8]>(),
            seq in any::<u32>(),
            secs in any::<u32>(),
            nanos in any::<u32>(),
            direction in any::<u16>(),
            v6 in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut packet = vec![if v6 { 0x60 } else { 0x45 }];
            packet.extend(tail);
            let xid = Xid::from_bytes(xid);
            let ts = PduTimestamp::new(secs, nanos);
            let direction = PayloadDirection::from(direction);
            let mut out = Vec::new();
            X3IpPacketEncoder::new(xid, cid)
                .with_version(version)
                .encode(&mut out, seq, ts, direction, &packet)
                .unwrap();
            prop_assert_eq!(out, general(version, xid, cid, seq, ts, direction, &packet));
        }
    }
}
