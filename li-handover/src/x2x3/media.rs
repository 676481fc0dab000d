//! The voice hot path: X3 PDUs carrying one RTP or RTCP packet each, from a header encoded
//! once per media flow.
//!
//! A media PDU repeats everything but three fields from one packet of a flow to the next:
//! the fixed header, the Correlation ID, the flow's addresses, ports and protocol and the
//! "media stream" attribute are the same for every packet of a flow of a call. So the
//! header is encoded once, by the general encoder ([`Pdu::encode_into`]) from the PDU the
//! contract builds ([`contract::media_pdu`](super::contract::media_pdu)), and kept; per
//! packet only the Payload Length, Sequence Number and Timestamp are written into a copy
//! of it on the stack, then the packet is copied once (the patching is the IP packet
//! encoder's too: `x2x3::template`). The octets are those of the general encoder by
//! construction, not by a second description of the layout.

use bytes::BufMut;

use super::attribute::PduTimestamp;
use super::error::{Error, Result};
use super::template::{PatchedPdu, PerPdu};
use super::{FIXED_HEADER_LEN, Pdu};

/// The longest media header: the fixed header, Sequence Number (4 + 4), Timestamp (4 + 8),
/// two IPv6 addresses (2 × (4 + 16)), two ports (2 × (4 + 2)), the IP protocol (4 + 1), the
/// "media stream" attribute (4 + 7) and a Network Function ID (4 + at most
/// [`super::MAX_NETWORK_FUNCTION_ID_LEN`]).
pub const X3_MEDIA_MAX_HEADER_LEN: usize =
    FIXED_HEADER_LEN + 8 + 12 + 40 + 12 + 5 + 11 + 4 + super::MAX_NETWORK_FUNCTION_ID_LEN;

/// Encodes the X3 PDUs of one media flow (one direction of one RTP or RTCP stream of one
/// call of one task) from a header encoded once: per packet only the payload length,
/// sequence number and timestamp are written, then the packet is copied. Nothing is
/// allocated per packet.
///
/// Built by [`contract::media_encoder`](super::contract::media_encoder); what
/// [`Self::encode`] writes is byte for byte
/// [`contract::media_pdu`](super::contract::media_pdu)`(..).encode()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X3MediaEncoder {
    /// The flow's header, at most [`X3_MEDIA_MAX_HEADER_LEN`] octets.
    template: PatchedPdu<X3_MEDIA_MAX_HEADER_LEN>,
}

impl X3MediaEncoder {
    /// The encoder whose PDUs are `pdu` with another payload, sequence number and timestamp.
    ///
    /// `pdu` must start its attributes with Sequence Number then Timestamp (the contract's
    /// order) and its header must fit [`X3_MEDIA_MAX_HEADER_LEN`]; anything else is
    /// [`Error::MediaTemplate`].
    pub(crate) fn from_pdu(pdu: &Pdu) -> Result<Self> {
        let fixed_fields = matches!(
            pdu.attributes.as_slice(),
            [
                super::Attribute::SequenceNumber(_),
                super::Attribute::Timestamp(_),
                ..
            ]
        );
        let header_len = pdu.header_len();
        if !fixed_fields || header_len > X3_MEDIA_MAX_HEADER_LEN {
            return Err(Error::MediaTemplate { header_len });
        }
        let mut header = pdu.clone();
        header.payload = bytes::Bytes::new();
        let mut template = [0; X3_MEDIA_MAX_HEADER_LEN];
        let mut w = template.as_mut_slice();
        header.encode_into(&mut w)?;
        Ok(Self {
            template: PatchedPdu::new(template, header_len),
        })
    }

    /// The number of octets before the payload (104 for an IPv4 flow, 128 for IPv6).
    pub fn header_len(&self) -> usize {
        self.template.len()
    }

    /// Appends one X3 PDU carrying the RTP or RTCP `packet` to `out`.
    ///
    /// Fails, writing nothing, with [`Error::LengthOverflow`] for a packet of 4 GiB or more
    /// and [`Error::BufferTooSmall`] when `out` cannot grow to take the PDU.
    pub fn encode<B: BufMut>(
        &self,
        out: &mut B,
        sequence_number: u32,
        timestamp: PduTimestamp,
        packet: &[u8],
    ) -> Result<()> {
        let pdu = PerPdu {
            sequence_number,
            timestamp,
            format_direction: None,
            more_attributes: &[],
        };
        self.template.encode(out, &pdu, packet)
    }
}

#[cfg(test)]
mod tests {
    use li_core::Xid;

    use super::*;
    use crate::x2x3::{Attribute, PayloadDirection, PayloadFormat, PduType};

    #[test]
    fn a_header_without_the_per_packet_fields_first_is_refused() {
        let mut pdu = Pdu::new(
            PduType::X3,
            PayloadFormat::RtpPacket,
            PayloadDirection::ToTarget,
            Xid::NIL,
        );
        pdu.attributes = vec![
            Attribute::Timestamp(PduTimestamp::default()),
            Attribute::SequenceNumber(0),
        ];
        assert_eq!(
            X3MediaEncoder::from_pdu(&pdu),
            Err(Error::MediaTemplate { header_len: 60 })
        );
        pdu.attributes.swap(0, 1);
        pdu.attributes
            .push(Attribute::ProprietaryAttribute(vec![0; 200]));
        assert_eq!(
            X3MediaEncoder::from_pdu(&pdu),
            Err(Error::MediaTemplate { header_len: 264 })
        );
        pdu.attributes.pop();
        assert_eq!(
            X3MediaEncoder::from_pdu(&pdu).map(|e| e.header_len()),
            Ok(60)
        );
    }
}
