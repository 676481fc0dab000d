//! ATIS-1000013 optional CmII messages: `IasProtocol` of
//! IAS-LAES-CmII-Optional-Messages-Abstract-Syntax-Module, with `IasOptionalMessage`.
//!
//! The optional module defines its own `IasProtocol` (its own module OID) and its own simple
//! types: here `SubscriberIdentity`, `SurveillanceStatus` and the VPN fields are UTF8Strings,
//! `IPAddress` is the bare `IpAddress` CHOICE ([`IpAddress`]) and `iAPSystemId` is limited
//! to 15 characters. The values of `SurveillanceStatus`, `ChangesAttempted` and the VPN
//! fields are free text whose content the public material does not give.
//!
//! ```
//! use li_asn1::GeneralizedTime;
//! use li_asn1::atis::IasHeader;
//! use li_asn1::atis::ias_opt::{IasOptionalMessage, IasOptionalProtocol, SurveillanceActivation};
//! use li_asn1::ObjectIdentifier;
//!
//! let activation = IasOptionalProtocol {
//!     protocol_identifier: ObjectIdentifier::new(&[1, 2, 840, 113737, 2, 1, 1, 0, 1]).ok_or("oid")?,
//!     message: IasOptionalMessage::SurveillanceActivation(SurveillanceActivation {
//!         header: IasHeader {
//!             case_id: "CASE-1".into(),
//!             iap_system_id: "BRAS-3".into(),
//!             timestamp: GeneralizedTime::parse("20240102030405Z").ok_or("time")?,
//!         },
//!         surveillance_status: "active".into(),
//!     }),
//! };
//! assert_eq!(IasOptionalProtocol::decode(&activation.encode())?, activation);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::atis::ias::IpAddress;
use crate::atis::{ias_message, ias_protocol};
use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::types::UnknownAlternative;

ias_protocol! {
    /// `IasProtocol` of the optional-messages module. Its OID is not public and OpenCALEA gives
    /// no example value for it: the caller sets it per destination.
    IasOptionalProtocol, IasOptionalMessage,
    "`protocolIdentifier`."
}

/// `IasOptionalMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum IasOptionalMessage {
    /// `serviceChange [0]`.
    ServiceChange(ServiceChange),
    /// `vpnSecurityEstablishment [1]`.
    VpnSecurityEstablishment(VpnSecurityEstablishment),
    /// `vpnSecurityRelease [2]`.
    VpnSecurityRelease(VpnSecurityRelease),
    /// `surveillanceActivation [3]`: the intercept became active (for example on a session
    /// already up).
    SurveillanceActivation(SurveillanceActivation),
    /// `surveillanceContinuation [4]`.
    SurveillanceContinuation(SurveillanceContinuation),
    /// `surveillanceChange [5]`.
    SurveillanceChange(SurveillanceChange),
    /// `surveillanceDeActivation [6]`.
    SurveillanceDeActivation(SurveillanceDeActivation),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl IasOptionalMessage {
    /// The alternative's name in the module, or `None` for [`IasOptionalMessage::Unknown`].
    pub fn asn1_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::ServiceChange(_) => "serviceChange",
            Self::VpnSecurityEstablishment(_) => "vpnSecurityEstablishment",
            Self::VpnSecurityRelease(_) => "vpnSecurityRelease",
            Self::SurveillanceActivation(_) => "surveillanceActivation",
            Self::SurveillanceContinuation(_) => "surveillanceContinuation",
            Self::SurveillanceChange(_) => "surveillanceChange",
            Self::SurveillanceDeActivation(_) => "surveillanceDeActivation",
            Self::Unknown(_) => return None,
        })
    }

    fn encode(&self, w: &mut Writer) {
        let t = Tag::context_constructed;
        match self {
            Self::ServiceChange(m) => m.encode(w, t(0)),
            Self::VpnSecurityEstablishment(m) => m.encode(w, t(1)),
            Self::VpnSecurityRelease(m) => m.encode(w, t(2)),
            Self::SurveillanceActivation(m) => m.encode(w, t(3)),
            Self::SurveillanceContinuation(m) => m.encode(w, t(4)),
            Self::SurveillanceChange(m) => m.encode(w, t(5)),
            Self::SurveillanceDeActivation(m) => m.encode(w, t(6)),
            Self::Unknown(u) => u.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::ServiceChange(ServiceChange::decode(tlv)?),
            Some(1) => Self::VpnSecurityEstablishment(VpnSecurityEstablishment::decode(tlv)?),
            Some(2) => Self::VpnSecurityRelease(VpnSecurityRelease::decode(tlv)?),
            Some(3) => Self::SurveillanceActivation(SurveillanceActivation::decode(tlv)?),
            Some(4) => Self::SurveillanceContinuation(SurveillanceContinuation::decode(tlv)?),
            Some(5) => Self::SurveillanceChange(SurveillanceChange::decode(tlv)?),
            Some(6) => Self::SurveillanceDeActivation(SurveillanceDeActivation::decode(tlv)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, "IasOptionalMessage")?),
        })
    }
}

ias_message! {
    /// `ServiceChange`: the subject changed its service (text fields).
    ServiceChange, "ServiceChange", iap_size = (1, 15), {
        /// `subscriber [3]`.
        subscriber: String = [3] "subscriber" required,
        /// `primaryAccountSubscriber [4]`.
        primary_account_subscriber: String = [4] "primaryAccountSubscriber" optional,
        /// `interceptSubjectIPAddress [5]`.
        intercept_subject_ip_address: IpAddress = [5] "interceptSubjectIPAddress" optional,
        /// `serverIdentity [6]`.
        server_identity: String = [6] "serverIdentity" optional,
        /// `changesAttempted [7]`.
        changes_attempted: String = [7] "changesAttempted" required,
        /// `resultofChangeAttempt [8]`.
        result_of_change_attempt: String = [8] "resultofChangeAttempt" required,
    }
}

ias_message! {
    /// `VPNSecurityEstablishment`: a VPN security association the subject set up, with its
    /// algorithms and keys.
    VpnSecurityEstablishment, "VPNSecurityEstablishment", iap_size = (1, 15), {
        /// `sessionID [3]`.
        session_id: String = [3] "sessionID" optional,
        /// `subscriber [4]`.
        subscriber: String = [4] "subscriber" optional,
        /// `accessSessionIPAddress [5]`.
        access_session_ip_address: IpAddress = [5] "accessSessionIPAddress" optional,
        /// `vpnSecurityAssociation [6]`.
        vpn_security_association: String = [6] "vpnSecurityAssociation" required,
        /// `vpnSecurityAssociationProtocols [7]`: SET OF UTF8String.
        vpn_security_association_protocols: Vec<String> =
            [7] "vpnSecurityAssociationProtocols" required,
        /// `localVPNEndpointIPAddress [8]`.
        local_vpn_endpoint_ip_address: IpAddress = [8] "localVPNEndpointIPAddress" required,
        /// `remoteVPNEndpointIPAddress [9]`.
        remote_vpn_endpoint_ip_address: IpAddress = [9] "remoteVPNEndpointIPAddress" required,
        /// `localVPNEncryptionAlgorithms [10]`.
        local_vpn_encryption_algorithms: String = [10] "localVPNEncryptionAlgorithms" required,
        /// `remoteVPNEncryptionAlgorithms [11]`.
        remote_vpn_encryption_algorithms: String =
            [11] "remoteVPNEncryptionAlgorithms" required,
        /// `localVPNEncryptionKeys [12]`: SET OF UTF8String.
        local_vpn_encryption_keys: Vec<String> = [12] "localVPNEncryptionKeys" required,
        /// `remoteVPNEncryptionKeys [13]`: SET OF UTF8String.
        remote_vpn_encryption_keys: Vec<String> = [13] "remoteVPNEncryptionKeys" required,
    }
}

ias_message! {
    /// `VPNSecurityRelease`.
    VpnSecurityRelease, "VPNSecurityRelease", iap_size = (1, 15), {
        /// `sessionID [3]`.
        session_id: String = [3] "sessionID" optional,
        /// `subscriber [4]`.
        subscriber: String = [4] "subscriber" optional,
        /// `accessSessionIPAddress [5]`.
        access_session_ip_address: IpAddress = [5] "accessSessionIPAddress" optional,
        /// `vpnSecurityAssociation [6]`.
        vpn_security_association: String = [6] "vpnSecurityAssociation" required,
        /// `vpnTerminationCause [7]`.
        vpn_termination_cause: String = [7] "vpnTerminationCause" required,
    }
}

ias_message! {
    /// `SurveillanceActivation`.
    SurveillanceActivation, "SurveillanceActivation", iap_size = (1, 15), {
        /// `surveillanceStatus [3]`: free text.
        surveillance_status: String = [3] "surveillanceStatus" required,
    }
}

ias_message! {
    /// `SurveillanceContinuation`.
    SurveillanceContinuation, "SurveillanceContinuation", iap_size = (1, 15), {
        /// `surveillanceStatus [3]`: free text.
        surveillance_status: String = [3] "surveillanceStatus" required,
    }
}

ias_message! {
    /// `SurveillanceChange`.
    SurveillanceChange, "SurveillanceChange", iap_size = (1, 15), {
        /// `surveillanceStatus [3]`: free text.
        surveillance_status: String = [3] "surveillanceStatus" required,
    }
}

ias_message! {
    /// `SurveillanceDeActivation`.
    SurveillanceDeActivation, "SurveillanceDeActivation", iap_size = (1, 15), {
        /// `surveillanceStatus [3]`: free text.
        surveillance_status: String = [3] "surveillanceStatus" required,
    }
}
