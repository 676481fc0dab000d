//! ATIS-1000678 call content (CCC) header: `CC-APDU` of `CCDeliveryHeaderModule`.
//!
//! `CC-APDU ::= SEQUENCE { ccDeliveryHeader [0] CCDeliveryHeader OPTIONAL, payload [1] OCTET
//! STRING }`, `CCDeliveryHeader ::= SEQUENCE { correlationInfo [0] SEQUENCE { caseId [0]
//! OPTIONAL, iapId [1] OPTIONAL, contentIdentifier [2] }, timeStamp [1] OPTIONAL,
//! packetDirection [2] OPTIONAL, sequenceNumber [3] OPTIONAL }`: component for component the
//! ATIS-1000013 `IAS-CC-APDU`. One model serves both ([`crate::atis::ias_cc`]); this module
//! gives it the T1.678 names. `contentIdentifier` repeats the one announced in
//! [`crate::atis::laes::CcOpen`], which is how an agency ties content to the call.
//!
//! What `payload` holds is not in the public material; like OpenCALEA the suite puts the
//! whole intercepted IP packet (for voice, IP/UDP/RTP) there.
//!
//! ```
//! use li_asn1::atis::laes_cc::{CcApdu, CcApduEncoder, ContentIdentifier, PacketDirection};
//! use li_core::Timestamp;
//!
//! let encoder = CcApduEncoder::new("CASE-0001", Some("IAP-1"),
//!     &ContentIdentifier::CorrelationId(vec![0, 0, 0, 1]));
//! let mut out = Vec::new();
//! let time = Timestamp::from_secs_micros(1_704_164_648, 678_000)?;
//! encoder.encode(1, time, PacketDirection::FromSubject, &[0x45, 0, 0, 20], &mut out);
//! let apdu = CcApdu::decode(&out)?;
//! assert_eq!(apdu.payload, [0x45, 0, 0, 20]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::atis::ias_cc::{
    CallIdentity, CcDeliveryHeader, ContentIdentifier, CorrelationInfo, IasCcApdu as CcApdu,
    IasCcEncoder as CcApduEncoder, PacketDirection,
};
