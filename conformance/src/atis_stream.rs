//! `atis-split OUTDIR RAW...`: the ATIS-1000013 streams an agency received (the demo's
//! `lemf-LEA-US/hi2.ber` and `hi3.ber`), cut into their messages, each written as
//! OUTDIR/FAMILY/NAME.ber with NAME.json holding our decoder's reading in pycrate's value
//! shape (atis.rs), FAMILY the `etsi_asn1.py decode --family` that reads it: `atis-t1ias`
//! (CmII), `atis-t1ias-opt` (optional messages, the link tests among them) and
//! `atis-t1ias-cc` (IAS-CC-APDU). Step `chain` of run.sh has pycrate decode and compare them:
//! what the mediator delivered, not vectors made for the test.
//!
//! A message is told by its first component, as the agency's receiver tells it: the module's
//! OBJECT IDENTIFIER for an `IasProtocol` (the optional module's OID, else CmII), the
//! `ccDeliveryHeader [0]` or `payload [1]` for an `IAS-CC-APDU`.

use std::path::Path;

use li_asn1::atis::access::optional_oid;
use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::IasCcApdu;
use li_asn1::atis::ias_opt::IasOptionalProtocol;
use li_asn1::ber::frame_len;

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
            let (family, value) = match first_component_tag(frame) {
                Some(0x06) => match IasOptionalProtocol::decode(frame) {
                    Ok(p) if p.protocol_identifier == optional_oid() => {
                        ("atis-t1ias-opt", atis::optional(&p))
                    }
                    _ => (
                        "atis-t1ias",
                        atis::cmii(&IasProtocol::decode(frame).map_err(at)?),
                    ),
                },
                _ => (
                    "atis-t1ias-cc",
                    atis::cc(&IasCcApdu::decode(frame).map_err(at)?),
                ),
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

/// The tag octet of a frame's first component (after its identifier and length octets).
fn first_component_tag(frame: &[u8]) -> Option<u8> {
    let header = match *frame.get(1)? {
        n if n > 0x80 => 2 + usize::from(n & 0x7f),
        _ => 2,
    };
    frame.get(header).copied()
}
