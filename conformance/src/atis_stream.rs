//! `atis-split OUTDIR RAW...`: the ATIS streams an agency received (the demo's
//! `lemf-LEA-US/*.ber` and `lemf-LEA-US-VOIP/*.ber`), cut into their messages, each written as
//! OUTDIR/FAMILY/NAME.ber with NAME.json holding our decoder's reading in pycrate's value
//! shape (atis.rs, atis/laes.rs), FAMILY the `etsi_asn1.py decode --family` that reads it:
//! `atis-t1ias` (CmII), `atis-t1ias-opt` (optional messages, the link tests among them),
//! `atis-t1ias-cc` (IAS-CC-APDU), `atis-t1678` (LAESProtocol, the link tests among them) and
//! `atis-t1678-cc` (CC-APDU of a call), and `pcesp` (a PacketCable agency's CdcPdu call data,
//! packetcable.rs). Step `chain` of run.sh has pycrate decode and compare them:
//! what the mediator delivered, not vectors made for the test.
//!
//! A message is told by its first component, as the agency's receiver tells it: the module's
//! OBJECT IDENTIFIER for an `IasProtocol` (the optional module's OID, else CmII), the
//! `ccDeliveryHeader [0]` or `payload [1]` for an `IAS-CC-APDU`.

use std::path::Path;

use li_asn1::atis::access::optional_oid;
use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::{ContentIdentifier, IasCcApdu};
use li_asn1::atis::ias_opt::IasOptionalProtocol;
use li_asn1::atis::laes::LaesProtocol;
use li_asn1::ber::{first_component_tag, frame_len};

use crate::atis;

/// Writes every message of the `raws` streams under `dir`; returns how many. A message our
/// decoder cannot read is an error naming the file and offset.
pub fn split(dir: &Path, raws: &[String]) -> Result<usize, String> {
    let mut n = 0;
    for raw in raws {
        let data = std::fs::read(raw).map_err(|e| format!("{raw}: {e}"))?;
        let stem = Path::new(raw)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("stream");
        let mut offset = 0;
        while let Some(rest) = data.get(offset..).filter(|r| !r.is_empty()) {
            let len = match frame_len(rest, 1 << 24) {
                Ok(Some(len)) if len <= rest.len() => len,
                other => return Err(format!("{raw} offset {offset}: cannot frame ({other:?})")),
            };
            let frame = rest.get(..len).unwrap_or_default();
            let at = |e: li_asn1::Error| format!("{raw} offset {offset}: {e}");
            let name = format!("{stem}-{n:05}");
            let (family, value) = match (frame.first(), first_component_tag(frame)) {
                // A PacketCable CdcPdu: a SEQUENCE starting with protocolVersion [0].
                (Some(0x30), Some(0x80)) => (
                    "pcesp",
                    crate::packetcable::cdc_pdu(
                        &li_asn1::packetcable::CdcPdu::decode(frame).map_err(at)?,
                    ),
                ),
                // LAESProtocol: its CHOICE's [0] or [1], not a SEQUENCE.
                (Some(0xa0 | 0xa1), _) => (
                    "atis-t1678",
                    atis::laes::protocol(&LaesProtocol::decode(frame).map_err(at)?),
                ),
                (_, Some(0x06)) => match IasOptionalProtocol::decode(frame) {
                    Ok(p) if p.protocol_identifier == optional_oid() => {
                        ("atis-t1ias-opt", atis::optional(&p))
                    }
                    _ => (
                        "atis-t1ias",
                        atis::cmii(&IasProtocol::decode(frame).map_err(at)?),
                    ),
                },
                _ => {
                    let apdu = IasCcApdu::decode(frame).map_err(at)?;
                    // The same model in both families: a call's content (callID) is T1.678's.
                    let family = match apdu
                        .delivery_header
                        .as_ref()
                        .map(|h| &h.correlation_info.content_identifier)
                    {
                        Some(ContentIdentifier::CallId(_)) => "atis-t1678-cc",
                        _ => "atis-t1ias-cc",
                    };
                    (family, atis::cc(&apdu))
                }
            };
            let family_dir = dir.join(family);
            std::fs::create_dir_all(&family_dir).map_err(|e| e.to_string())?;
            std::fs::write(family_dir.join(format!("{name}.ber")), frame)
                .map_err(|e| e.to_string())?;
            std::fs::write(
                family_dir.join(format!("{name}.json")),
                format!("{value}\n"),
            )
            .map_err(|e| e.to_string())?;
            n += 1;
            offset += len;
        }
    }
    Ok(n)
}
