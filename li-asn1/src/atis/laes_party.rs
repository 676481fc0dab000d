//! The ATIS-1000678 structures the `LaesMessage` alternatives share: who took part
//! ([`PartyIdentity`]), what media they negotiated ([`MediaInformation`]), the intercepted
//! signalling ([`ProtocolSpecificParameters`], [`EncapsulatedSignalingMessage`]), where
//! content goes ([`DeliveryIdentifier`], [`CcDeliveryFormat`]) and the smaller pieces (cause,
//! location, display, registration data).
//!
//! H.323 is kept opaque: `PartyIdentity`'s H.225.0 alias and transport address lists and the
//! `h323` alternative of `ProtocolSpecificParameters` (H.225.0 RAS/CS and H.245 contents) are
//! [`Opaque`] — their encoding under the field's tag, carried through unchanged. The suite
//! intercepts SIP; ATIS-1000678 v3 and later drop H.323 call control altogether.

use crate::atis::ias::IpAddress;
use crate::atis::laes_cc::CallIdentity;
use crate::atis::{Element, Field, atis_choice, atis_sequence, enum_field, int, octs, visible, vs};
use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::types::{ObjectIdentifier, Opaque, asn1_enum};

pub use crate::atis::ias::{CccIdentity, Location};

/// A VisibleString component of a SEQUENCE OF (`genericAddress`, `genericDigits`:
/// `VisibleString (SIZE(1..32))`), UNIVERSAL 26.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VisibleString(pub String);

const VISIBLE_STRING: Tag = Tag::universal(26);

impl Element for VisibleString {
    fn encode_element(&self, w: &mut Writer) {
        w.primitive(VISIBLE_STRING, self.0.as_bytes());
    }
    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        if !tlv.tag.same_type(VISIBLE_STRING) {
            return Err(tlv.unexpected(field, "a VisibleString"));
        }
        visible(tlv, field, 1, 32).map(Self)
    }
}

atis_sequence! {
    /// `PartyIdentity`: every identity a party may be known by, all OPTIONAL. For SIP the
    /// suite fills `uri` (and `sipHeader` with the header lines it took them from); the
    /// H.323 lists `[23]..[26]` are kept [`Opaque`].
    #[derive(Default)]
    PartyIdentity, "PartyIdentity", {
        /// `esn [0]`: VisibleString (SIZE(8)).
        esn: String = tagged [0] "esn" optional via vs::<8, 8>,
        /// `imei [1]`: VisibleString (SIZE(1..15)).
        imei: String = tagged [1] "imei" optional via vs::<1, 15>,
        /// `tei [2]`: VisibleString (SIZE(1..15)).
        tei: String = tagged [2] "tei" optional via vs::<1, 15>,
        /// `spid [3]`: VisibleString (SIZE(3..20)).
        spid: String = tagged [3] "spid" optional via vs::<3, 20>,
        /// `imsi [4]`: VisibleString (SIZE(1..15)).
        imsi: String = tagged [4] "imsi" optional via vs::<1, 15>,
        /// `min [5]`: VisibleString (SIZE(10)).
        min: String = tagged [5] "min" optional via vs::<10, 10>,
        /// `dn [6]`: a directory number, VisibleString (SIZE(1..15)).
        dn: String = tagged [6] "dn" optional via vs::<1, 15>,
        /// `userProvided [7]`: VisibleString (SIZE(1..15)).
        user_provided: String = tagged [7] "userProvided" optional via vs::<1, 15>,
        /// `appearanceId [8]`: VisibleString (SIZE(1..15)).
        appearance_id: String = tagged [8] "appearanceId" optional via vs::<1, 15>,
        /// `callingCardNum [9]`: VisibleString (SIZE(1..20)).
        calling_card_num: String = tagged [9] "callingCardNum" optional via vs::<1, 20>,
        /// `ipAddress [10]`.
        ip_address: IpAddress = tagged [10] "ipAddress" optional,
        /// `x121 [11]`: VisibleString (SIZE(1..15)).
        x121: String = tagged [11] "x121" optional via vs::<1, 15>,
        /// `trunkId [12]`: VisibleString (SIZE(1..32)).
        trunk_id: String = tagged [12] "trunkId" optional via vs::<1, 32>,
        /// `subaddress [13]`: OCTET STRING (SIZE(2..21)).
        subaddress: Vec<u8> = tagged [13] "subaddress" optional via octs::<2, 21>,
        /// `genericAddress [14]`: SEQUENCE OF VisibleString (SIZE(1..32)).
        generic_address: Vec<VisibleString> = tagged [14] "genericAddress" optional,
        /// `genericDigits [15]`: SEQUENCE OF VisibleString (SIZE(1..32)).
        generic_digits: Vec<VisibleString> = tagged [15] "genericDigits" optional,
        /// `genericName [16]`: SEQUENCE OF UTF8String.
        generic_name: Vec<String> = tagged [16] "genericName" optional,
        /// `port [17]`: VisibleString (SIZE(1..32)).
        port: String = tagged [17] "port" optional via vs::<1, 32>,
        /// `context [18]`: VisibleString (SIZE(1..64)).
        context: String = tagged [18] "context" optional via vs::<1, 64>,
        /// `isdnHighLayer [19]`: OCTET STRING (SIZE(2..14)).
        isdn_high_layer: Vec<u8> = tagged [19] "isdnHighLayer" optional via octs::<2, 14>,
        /// `isdnLowLayer [20]`: OCTET STRING (SIZE(2..14)).
        isdn_low_layer: Vec<u8> = tagged [20] "isdnLowLayer" optional via octs::<2, 14>,
        /// `uri [21]`: SET OF UTF8String (SIP or tel URIs).
        uri: Vec<String> = tagged [21] "uri" optional,
        /// `sipHeader [22]`: SET OF SipHeader (UTF8String header lines).
        sip_header: Vec<String> = tagged [22] "sipHeader" optional,
        /// `h323AliasAddress [23]`: SEQUENCE OF AliasAddress, kept opaque.
        h323_alias_address: Opaque = tagged [23] "h323AliasAddress" optional,
        /// `h323AddressPattern [24]`: SEQUENCE OF AddressPattern, kept opaque.
        h323_address_pattern: Opaque = tagged [24] "h323AddressPattern" optional,
        /// `h323RASAddress [25]`: SEQUENCE OF TransportAddress, kept opaque.
        h323_ras_address: Opaque = tagged [25] "h323RASAddress" optional,
        /// `h323CallSigAddress [26]`: SEQUENCE OF TransportAddress, kept opaque.
        h323_call_sig_address: Opaque = tagged [26] "h323CallSigAddress" optional,
        /// `nai [27]`: UTF8String.
        nai: String = tagged [27] "nai" optional,
        /// `mac802 [28]`: VisibleString.
        mac802: String = tagged [28] "mac802" optional via vs::<0, { usize::MAX }>,
        /// `fqdn [29]`: UTF8String.
        fqdn: String = tagged [29] "fqdn" optional,
    }
}

impl PartyIdentity {
    /// A party known by its URIs only (the usual SIP case).
    pub fn from_uris(uris: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            uri: Some(uris.into_iter().map(Into::into).collect()),
            ..Self::default()
        }
    }
}

/// `BearerCapability ::= CHOICE { speech [0] NULL, f3100HzAudio [1] NULL,
/// bearerCapInfoElement [2] OCTET STRING (SIZE(1..64)) }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BearerCapability {
    /// `speech [0]`.
    Speech,
    /// `f3100HzAudio [1]`.
    F3100HzAudio,
    /// `bearerCapInfoElement [2]`: a Q.931 bearer capability information element.
    BearerCapInfoElement(Vec<u8>),
    /// An alternative a later version may add, kept as received.
    Unknown(crate::UnknownAlternative),
}

impl BearerCapability {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::Speech => w.null(Tag::context(0)),
            Self::F3100HzAudio => w.null(Tag::context(1)),
            Self::BearerCapInfoElement(o) => w.primitive(Tag::context(2), o),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => {
                tlv.null(field)?;
                Self::Speech
            }
            Some(1) => {
                tlv.null(field)?;
                Self::F3100HzAudio
            }
            Some(2) => Self::BearerCapInfoElement(tlv.octets_sized(field, 1, 64)?),
            _ => Self::Unknown(crate::UnknownAlternative::decode(tlv, field)?),
        })
    }
}

crate::atis::choice_field!(BearerCapability);

atis_sequence! {
    /// `MediaInformation`: a party's media (for SIP, the SDP) and whether it was granted.
    #[derive(Default)]
    MediaInformation, "MediaInformation", {
        /// `bearerCapability [0]`.
        bearer_capability: BearerCapability = tagged [0] "bearerCapability" optional,
        /// `characteristics [1]`.
        characteristics: MediaCharacteristics = tagged [1] "characteristics" optional,
        /// `status [2]`.
        status: MediaStatus = tagged [2] "status" optional,
    }
}

atis_choice! {
    /// `MediaInformation.characteristics ::= CHOICE { sdp [0] UTF8String, h323Media [1]
    /// H323Media, other [2] SEQUENCE { type [0] OBJECT IDENTIFIER, value [1] OCTET STRING } }`.
    MediaCharacteristics, "MediaInformation.characteristics", {
        /// `sdp [0]`: the session description, verbatim.
        Sdp(String) = [0] "sdp",
        /// `h323Media [1]`.
        H323Media(H323Media) = [1] "h323Media",
        /// `other [2]`.
        Other(OtherMedia) = [2] "other",
    }
}

atis_sequence! {
    /// `H323Media ::= SEQUENCE { h323MediaParameterType [0], h323MediaParameter [1] OCTET
    /// STRING }`: the H.245 element as encoded.
    H323Media, "H323Media", {
        /// `h323MediaParameterType [0]`.
        parameter_type: H323MediaParameterType = tagged [0] "h323MediaParameterType" required,
        /// `h323MediaParameter [1]`.
        parameter: Vec<u8> = tagged [1] "h323MediaParameter" required,
    }
}

atis_sequence! {
    /// `characteristics.other ::= SEQUENCE { type [0] OBJECT IDENTIFIER, value [1] OCTET
    /// STRING }`: a media description in a format named by an OID.
    OtherMedia, "MediaInformation.characteristics.other", {
        /// `type [0]`.
        media_type: ObjectIdentifier = tagged [0] "type" required,
        /// `value [1]`.
        value: Vec<u8> = tagged [1] "value" required,
    }
}

asn1_enum! {
    /// `MediaInformation.status`.
    MediaStatus, "MediaInformation.status", closed {
        /// `requested(0)`.
        Requested = 0 => "requested",
        /// `granted(1)`.
        Granted = 1 => "granted",
        /// `rejected(2)`.
        Rejected = 2 => "rejected",
        /// `relayed(3)`.
        Relayed = 3 => "relayed",
    }
}
enum_field!(MediaStatus);

asn1_enum! {
    /// `H323MediaParameterType`: which H.245 message `h323MediaParameter` holds.
    H323MediaParameterType, "H323Media.h323MediaParameterType", closed {
        /// `fastStart(0)`.
        FastStart = 0 => "fastStart",
        /// `openLogicalChannel(1)`.
        OpenLogicalChannel = 1 => "openLogicalChannel",
        /// `openLogicalChannelAck(2)`.
        OpenLogicalChannelAck = 2 => "openLogicalChannelAck",
        /// `openLogicalChannelReject(3)`.
        OpenLogicalChannelReject = 3 => "openLogicalChannelReject",
        /// `openLogicalChannelConfirm(4)`.
        OpenLogicalChannelConfirm = 4 => "openLogicalChannelConfirm",
        /// `closeLogicalChannel(5)`.
        CloseLogicalChannel = 5 => "closeLogicalChannel",
        /// `closeLogicalChannelAck(6)`.
        CloseLogicalChannelAck = 6 => "closeLogicalChannelAck",
        /// `requestChannelClose(7)`.
        RequestChannelClose = 7 => "requestChannelClose",
        /// `requestChannelCloseAck(8)`.
        RequestChannelCloseAck = 8 => "requestChannelCloseAck",
        /// `requestChannelCloseReject(9)`.
        RequestChannelCloseReject = 9 => "requestChannelCloseReject",
        /// `requestChannelCloseRelease(10)`.
        RequestChannelCloseRelease = 10 => "requestChannelCloseRelease",
    }
}
enum_field!(H323MediaParameterType);

atis_choice! {
    /// `ProtocolSpecificParameters ::= CHOICE { sip [0] SET {...}, h323 [1] SET {...} }`: the
    /// call-control protocol's own data. The `h323` SET (H.225.0 RAS and call signalling, H.245)
    /// is kept [`Opaque`].
    ProtocolSpecificParameters, "ProtocolSpecificParameters", {
        /// `sip [0]`.
        Sip(SipParameters) = [0] "sip",
        /// `h323 [1]`, as encoded.
        H323(Opaque) = [1] "h323",
    }
}

atis_sequence! {
    /// `ProtocolSpecificParameters.sip ::= SET { sipHeader [0] SET OF SipHeader OPTIONAL,
    /// sipBody [1] SEQUENCE { sipBodyHeader [0] SET OF SipHeader, sipBodyContents [1] OCTET
    /// STRING } OPTIONAL }`.
    #[derive(Default)]
    SipParameters, "ProtocolSpecificParameters.sip", {
        /// `sipHeader [0]`: header lines.
        sip_header: Vec<String> = tagged [0] "sipHeader" optional,
        /// `sipBody [1]`.
        sip_body: SipBody = tagged [1] "sipBody" optional,
    }
}

atis_sequence! {
    /// `sipBody ::= SEQUENCE { sipBodyHeader [0] SET OF SipHeader, sipBodyContents [1] OCTET
    /// STRING }`.
    SipBody, "ProtocolSpecificParameters.sip.sipBody", {
        /// `sipBodyHeader [0]`: the body's header lines (Content-Type ...).
        header: Vec<String> = tagged [0] "sipBodyHeader" required,
        /// `sipBodyContents [1]`.
        contents: Vec<u8> = tagged [1] "sipBodyContents" required,
    }
}

atis_sequence! {
    /// `EncapsulatedSignalingMessage ::= SEQUENCE { signalingProt [0] UTF8String, sigMsg [1]
    /// OCTET STRING }`: one intercepted signalling message, verbatim (`signalingMsg`).
    EncapsulatedSignalingMessage, "EncapsulatedSignalingMessage", {
        /// `signalingProt [0]`: the protocol's name (the suite writes `SIP`).
        signaling_prot: String = tagged [0] "signalingProt" required,
        /// `sigMsg [1]`: the message as it was on the wire.
        sig_msg: Vec<u8> = tagged [1] "sigMsg" required,
    }
}

atis_sequence! {
    /// `Cause ::= SEQUENCE { signalingType [0] UTF8String, cause [1] ParameterFormat OPTIONAL }`.
    Cause, "Cause", {
        /// `signalingType [0]`: the protocol the cause comes from (`SIP`).
        signaling_type: String = tagged [0] "signalingType" required,
        /// `cause [1]`.
        cause: ParameterFormat = tagged [1] "cause" optional,
    }
}

atis_choice! {
    /// `ParameterFormat ::= CHOICE { generic [0] UTF8String, sip [1] SET OF SipHeader, h323 [2]
    /// OCTET STRING }`.
    ParameterFormat, "ParameterFormat", {
        /// `generic [0]`.
        Generic(String) = [0] "generic",
        /// `sip [1]`: header lines (a `Reason:` header, a status line ...).
        Sip(Vec<String>) = [1] "sip",
        /// `h323 [2]`.
        H323(Vec<u8>) = [2] "h323",
    }
}

atis_sequence! {
    /// `ForkedCallInformation ::= SEQUENCE { forkedCallID [0] CallIdentity, calledParty [1]
    /// PartyIdentity }`.
    ForkedCallInformation, "ForkedCallInformation", {
        /// `forkedCallID [0]`.
        forked_call_id: CallIdentity = tagged [0] "forkedCallID" required,
        /// `calledParty [1]`.
        called_party: PartyIdentity = tagged [1] "calledParty" required,
    }
}

atis_sequence! {
    /// `RedirectedFromInformation`: where a call toward the subject was redirected from.
    #[derive(Default)]
    RedirectedFromInformation, "RedirectedFromInformation", {
        /// `lastRedirecting [0]`.
        last_redirecting: PartyIdentity = tagged [0] "lastRedirecting" optional,
        /// `originalCalled [1]`.
        original_called: PartyIdentity = tagged [1] "originalCalled" optional,
        /// `numRedirections [2]`: INTEGER (1..100).
        num_redirections: i64 = tagged [2] "numRedirections" optional via int::<1, 100>,
    }
}

atis_sequence! {
    /// `TerminalDisplayInfo`: what the subject's terminal was told to display.
    #[derive(Default)]
    TerminalDisplayInfo, "TerminalDisplayInfo", {
        /// `generalDisplay [0]`: VisibleString (SIZE(1..80)).
        general_display: String = tagged [0] "generalDisplay" optional via vs::<1, 80>,
        /// `calledNumber [1]`: VisibleString (SIZE(1..40)).
        called_number: String = tagged [1] "calledNumber" optional via vs::<1, 40>,
        /// `callingNumber [2]`.
        calling_number: String = tagged [2] "callingNumber" optional via vs::<1, 40>,
        /// `callingName [3]`.
        calling_name: String = tagged [3] "callingName" optional via vs::<1, 40>,
        /// `originalCalledNumber [4]`.
        original_called_number: String =
            tagged [4] "originalCalledNumber" optional via vs::<1, 40>,
        /// `lastRedirectingNumber [5]`.
        last_redirecting_number: String =
            tagged [5] "lastRedirectingNumber" optional via vs::<1, 40>,
        /// `redirectingName [6]`.
        redirecting_name: String = tagged [6] "redirectingName" optional via vs::<1, 40>,
        /// `redirectingReason [7]`.
        redirecting_reason: String = tagged [7] "redirectingReason" optional via vs::<1, 40>,
        /// `messageWaitingNotif [8]`.
        message_waiting_notif: String =
            tagged [8] "messageWaitingNotif" optional via vs::<1, 40>,
    }
}

atis_sequence! {
    /// `Generic ::= SEQUENCE { address [0] PartyIdentity, expirationPeriod [1] INTEGER }`: a
    /// registered address and its lifetime (`ServingSystem`).
    Generic, "Generic", {
        /// `address [0]`.
        address: PartyIdentity = tagged [0] "address" required,
        /// `expirationPeriod [1]`.
        expiration_period: i64 = tagged [1] "expirationPeriod" required,
    }
}

atis_choice! {
    /// `requestAddressInfo` / `responseAddressInfo` of `ServingSystem`: `CHOICE { generic [0]
    /// SEQUENCE OF Generic, sip [1] SET OF SipHeader }`.
    AddressInfo, "ServingSystem.addressInfo", {
        /// `generic [0]`.
        Generic(Vec<Generic>) = [0] "generic",
        /// `sip [1]`: the Contact (and Expires) header lines.
        Sip(Vec<String>) = [1] "sip",
    }
}

atis_choice! {
    /// `ServingSystem.expirationPeriod ::= CHOICE { generic [0] INTEGER, sip [1] SipHeader }`.
    ExpirationPeriod, "ServingSystem.expirationPeriod", {
        /// `generic [0]`: seconds.
        Generic(i64) = [0] "generic",
        /// `sip [1]`: the `Expires:` header line.
        Sip(String) = [1] "sip",
    }
}

atis_choice! {
    /// `CHOICE { generic [0] VisibleString, specific [1] PartyIdentity }`: what the subject
    /// dialled (`userInput`) or what the network translated it to (`translationInput`).
    #[allow(clippy::large_enum_variant)]
    InputValue, "input", {
        /// `generic [0]`: the digits or address as text.
        Generic(String) = [0] "generic" via vs::<0, { usize::MAX }>,
        /// `specific [1]`.
        Specific(PartyIdentity) = [1] "specific",
    }
}

/// `input ::= CHOICE { userInput [6] ..., translationInput [7] ... }`, untagged in
/// `Origination` and `SubjectSignal`: its alternatives' tags stand in the message itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// `userInput [6]`: as the subject entered it.
    UserInput(InputValue),
    /// `translationInput [7]`: as the network translated it.
    TranslationInput(InputValue),
}

impl Element for Input {
    fn encode_element(&self, w: &mut Writer) {
        match self {
            Self::UserInput(v) => v.encode_field(w, 6),
            Self::TranslationInput(v) => v.encode_field(w, 7),
        }
    }
    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        match tlv.tag.context_number() {
            Some(6) => Ok(Self::UserInput(InputValue::decode_field(tlv, field)?)),
            Some(7) => Ok(Self::TranslationInput(InputValue::decode_field(
                tlv, field,
            )?)),
            _ => Err(tlv.unexpected(field, "userInput [6] or translationInput [7]")),
        }
    }
}

atis_choice! {
    /// `refer ::= CHOICE { sip [0] SET OF SipHeader, h323 [1] H323CallTransfer }`: a transfer
    /// request (`NetworkSignal`, `SubjectSignal.signal`).
    Refer, "refer", {
        /// `sip [0]`: the REFER's header lines (Refer-To ...).
        Sip(Vec<String>) = [0] "sip",
        /// `h323 [1]`: the H.450.2 call transfer, as encoded.
        H323(Vec<u8>) = [1] "h323",
    }
}

atis_choice! {
    /// `CCDeliveryFormat ::= CHOICE { cc-APDU [0] OBJECT IDENTIFIER, scte [1] VisibleString }`:
    /// `cc-APDU` names the CCDeliveryHeaderModule ([`crate::atis::laes_cc_oid`]) whose
    /// `CC-APDU` carries the content; `scte` (a PacketCable-style datagram) is not specified in
    /// the public material.
    CcDeliveryFormat, "CCDeliveryFormat", {
        /// `cc-APDU [0]`.
        CcApdu(ObjectIdentifier) = [0] "cc-APDU",
        /// `scte [1]`.
        Scte(String) = [1] "scte" via vs::<0, { usize::MAX }>,
    }
}

atis_choice! {
    /// `DeliveryIdentifier ::= CHOICE { cccId [0] CCCIdentity, ccAddress [1] CCAddress }`:
    /// which content channel(s) or which agency address carry the content. (ATIS-1000013 has
    /// the same CHOICE with a UTF8String port: [`crate::atis::ias::DeliveryIdentifier`].)
    DeliveryIdentifier, "DeliveryIdentifier", {
        /// `cccId [0]`.
        CccId(CccIdentity) = [0] "cccId",
        /// `ccAddress [1]`.
        CcAddress(CcAddress) = [1] "ccAddress",
    }
}

atis_sequence! {
    /// `CCAddress ::= SEQUENCE { leaIPAddress [0] IpAddress, leaPortNumber [1] PortNumber }`
    /// with `PortNumber ::= INTEGER` in this module.
    CcAddress, "CCAddress", {
        /// `leaIPAddress [0]`.
        lea_ip_address: IpAddress = tagged [0] "leaIPAddress" required,
        /// `leaPortNumber [1]`.
        lea_port_number: i64 = tagged [1] "leaPortNumber" required,
    }
}
