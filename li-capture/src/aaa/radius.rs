//! RADIUS packets (RFC 2865) and Accounting-Request decoding (RFC 2866, 2869, 3162, 4818, 6911).
//!
//! A passive probe sees a NAS report each access session to its accounting server: Start when
//! the session is up (with the username and the addresses assigned), Interim-Update while it
//! runs, Stop when it ends (with counters and a cause). [`parse_accounting`] turns the UDP
//! payload of one such packet into an [`AccountingRequest`] that binds a User-Name to the
//! addresses it uses, which the classifier turns into IRI access events (TS 102 232-3 clause
//! 7.1, `IPIRI`).
//!
//! [`RadiusPacket`] is the zero-copy layer under it: a checked header and an iterator over the
//! attributes that cannot run past the packet, usable for any RADIUS code.
//!
//! Not done, deliberately:
//! - **No authenticator check.** The Request Authenticator of an Accounting-Request (RFC 2866
//!   section 3) and any Message-Authenticator (RFC 2869 section 5.14) are keyed with the shared
//!   secret between NAS and server, which a passive probe normally does not have. Packets are
//!   decoded as seen; a forged packet on the tap would be decoded too.
//! - **No Vendor-Specific decoding** (type 26) and no RFC 6929 extended attributes: they are
//!   iterated as opaque attributes and otherwise skipped.
//! - **Encrypted attributes** (User-Password, Tunnel-Password) are never looked at.

use std::fmt;
use std::iter::FusedIterator;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use li_core::{IpPrefix, MacAddress};

use super::{AaaError, Result};

/// Length of the fixed RADIUS header: Code, Identifier, Length, Authenticator (RFC 2865
/// section 3).
pub const HEADER_LEN: usize = 20;

/// Largest value the Length field may carry (RFC 2865 section 3).
pub const MAX_PACKET_LEN: usize = 4096;

/// Decodes the UDP payload of a RADIUS packet as an Accounting-Request (RFC 2866 section 4.1).
///
/// Returns `Ok(None)` for a well-formed packet of any other code (Accounting-Response,
/// Access-Request, CoA, ...) so the caller can count them; their attributes are not walked.
/// Returns an error if the header is malformed (see [`RadiusPacket::parse`]), if an attribute
/// overruns the packet, if an attribute decoded into the result has the wrong size for its data
/// type, or if Acct-Status-Type is absent.
///
/// Octets after the header's Length are padding and ignored (RFC 2865 section 3);
/// [`AccountingRequest::raw_len`] says where the packet ends, for `rawAAAData`.
///
/// The Request Authenticator is not verified: that needs the shared secret (see the module
/// documentation).
pub fn parse_accounting(payload: &[u8]) -> Result<Option<AccountingRequest>> {
    AccountingRequest::from_packet(&RadiusPacket::parse(payload)?)
}

/// An Accounting-Request (code 4, RFC 2866 section 4.1), with the attributes a probe needs to
/// bind a user to addresses and to report the session as IRI.
///
/// Every field but `identifier`, `status` and `raw_len` is `None` when the attribute is absent.
///
/// - **Duplicates:** the attributes here are single-valued; if one appears more than once, the
///   first occurrence wins. Every occurrence is still checked, so a malformed duplicate is an
///   error.
/// - **Empty strings:** a `string`/`text` attribute with no value octets (Length 2) must not be
///   sent (RFC 8044 sections 3.4 and 3.5) and is treated as absent rather than rejecting the
///   whole packet; a later non-empty occurrence then counts as the first.
/// - **Strings are raw octets:** User-Name is nominally UTF-8 (RFC 2865 section 5.1) but NASes
///   send what the user typed; no decoding or normalisation is done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountingRequest {
    /// The header's Identifier, matching the request to its Accounting-Response.
    pub identifier: u8,
    /// Acct-Status-Type (40, RFC 2866 section 5.1), required.
    pub status: AcctStatusType,
    /// User-Name (1, RFC 2865 section 5.1).
    pub user_name: Option<Vec<u8>>,
    /// Framed-IP-Address (8, RFC 2865 section 5.8): the IPv4 address of the user.
    pub framed_ip_address: Option<Ipv4Addr>,
    /// Framed-IPv6-Prefix (97, RFC 3162 section 2.3), host bits cleared.
    pub framed_ipv6_prefix: Option<IpPrefix>,
    /// Delegated-IPv6-Prefix (123, RFC 4818 section 3): the prefix delegated to the user's
    /// router by DHCPv6-PD, host bits cleared.
    pub delegated_ipv6_prefix: Option<IpPrefix>,
    /// Framed-IPv6-Address (168, RFC 6911 section 3.1).
    pub framed_ipv6_address: Option<Ipv6Addr>,
    /// Acct-Session-Id (44, RFC 2866 section 5.5): ties Start, Interim-Update and Stop together.
    pub acct_session_id: Option<Vec<u8>>,
    /// Calling-Station-Id (31, RFC 2865 section 5.31): often the user's MAC address or phone
    /// number.
    pub calling_station_id: Option<Vec<u8>>,
    /// Called-Station-Id (30, RFC 2865 section 5.30).
    pub called_station_id: Option<Vec<u8>>,
    /// NAS-Identifier (32, RFC 2865 section 5.32).
    pub nas_identifier: Option<Vec<u8>>,
    /// NAS-IP-Address (4, RFC 2865 section 5.4).
    pub nas_ip_address: Option<Ipv4Addr>,
    /// NAS-IPv6-Address (95, RFC 3162 section 2.1).
    pub nas_ipv6_address: Option<Ipv6Addr>,
    /// NAS-Port-Id (87, RFC 2869 section 5.17).
    pub nas_port_id: Option<Vec<u8>>,
    /// NAS-Port-Type (61, RFC 2865 section 5.41), e.g. 5 Virtual, 15 Ethernet, 19 Wireless -
    /// IEEE 802.11 (IANA "Values for RADIUS Attribute 61").
    pub nas_port_type: Option<u32>,
    /// Octets received from the user: Acct-Input-Gigawords (52, RFC 2869 section 5.1) `<< 32 |`
    /// Acct-Input-Octets (42, RFC 2866 section 5.3). `Some` if either is present, the absent
    /// one counting as 0.
    pub acct_input_octets: Option<u64>,
    /// Octets sent to the user: Acct-Output-Gigawords (53, RFC 2869 section 5.2) `<< 32 |`
    /// Acct-Output-Octets (43, RFC 2866 section 5.4), as for `acct_input_octets`.
    pub acct_output_octets: Option<u64>,
    /// Acct-Session-Time (46, RFC 2866 section 5.7) in seconds.
    pub acct_session_time: Option<u32>,
    /// Acct-Terminate-Cause (49, RFC 2866 section 5.10), e.g. 1 User Request, 4 Idle Timeout.
    pub acct_terminate_cause: Option<u32>,
    /// Event-Timestamp (55, RFC 2869 section 5.3): seconds since 1970-01-01 00:00 UTC, as the
    /// NAS's clock says.
    pub event_timestamp: Option<u32>,
    /// Length of the RADIUS packet in octets (the header's Length field): the first `raw_len`
    /// octets of the payload are the raw message to report as `rawAAAData`; the rest, if any, is
    /// padding.
    pub raw_len: usize,
}

impl AccountingRequest {
    /// Decodes an already parsed packet as [`parse_accounting`] does: `Ok(None)` unless its
    /// code is Accounting-Request. For a caller that looked at [`RadiusPacket::code`] first.
    pub fn from_packet(packet: &RadiusPacket<'_>) -> Result<Option<Self>> {
        if packet.code() != RadiusCode::AccountingRequest {
            return Ok(None);
        }
        Self::decode(packet).map(Some)
    }

    /// The MAC address in Calling-Station-Id, where an 802.1X or Wi-Fi NAS puts the client's
    /// (RFC 3580 section 3.21): six octets written as `00-11-22-33-44-55` (RFC 3580's form),
    /// `00:11:22:33:44:55`, `0011.2233.4455` or `001122334455`, hex digits in either case.
    ///
    /// `None` when the attribute is absent or holds anything else (a phone number, a
    /// circuit id, ...), and for a group address (the I/G bit of the first octet set), which
    /// no station has: this also keeps a twelve-digit phone number with an odd first pair
    /// from being read as a MAC address. A twelve-digit number whose first pair is even is
    /// indistinguishable from the bare hex form; it can only bind a MAC target that equals
    /// it.
    pub fn calling_station_mac(&self) -> Option<[u8; 6]> {
        self.calling_station_id.as_deref().and_then(mac_address)
    }

    /// Decodes the attributes of an Accounting-Request; the caller has checked the code.
    fn decode(packet: &RadiusPacket<'_>) -> Result<Self> {
        let mut status = None;
        let mut out = Self {
            identifier: packet.identifier(),
            // Placeholder: set from `status` below, or the packet is rejected.
            status: AcctStatusType::Other(0),
            user_name: None,
            framed_ip_address: None,
            framed_ipv6_prefix: None,
            delegated_ipv6_prefix: None,
            framed_ipv6_address: None,
            acct_session_id: None,
            calling_station_id: None,
            called_station_id: None,
            nas_identifier: None,
            nas_ip_address: None,
            nas_ipv6_address: None,
            nas_port_id: None,
            nas_port_type: None,
            acct_input_octets: None,
            acct_output_octets: None,
            acct_session_time: None,
            acct_terminate_cause: None,
            event_timestamp: None,
            raw_len: packet.len(),
        };
        let (mut in_octets, mut in_gigawords) = (None, None);
        let (mut out_octets, mut out_gigawords) = (None, None);

        for attr in packet.attributes() {
            let attr = attr?;
            match attr.attr_type() {
                AttributeType::USER_NAME => first_string(&mut out.user_name, &attr),
                AttributeType::NAS_IP_ADDRESS => first(&mut out.nas_ip_address, ipv4(&attr)?),
                AttributeType::FRAMED_IP_ADDRESS => {
                    first(&mut out.framed_ip_address, ipv4(&attr)?);
                }
                AttributeType::CALLED_STATION_ID => {
                    first_string(&mut out.called_station_id, &attr);
                }
                AttributeType::CALLING_STATION_ID => {
                    first_string(&mut out.calling_station_id, &attr);
                }
                AttributeType::NAS_IDENTIFIER => first_string(&mut out.nas_identifier, &attr),
                AttributeType::ACCT_STATUS_TYPE => {
                    first(&mut status, AcctStatusType::from(integer(&attr)?));
                }
                AttributeType::ACCT_INPUT_OCTETS => first(&mut in_octets, integer(&attr)?),
                AttributeType::ACCT_OUTPUT_OCTETS => first(&mut out_octets, integer(&attr)?),
                AttributeType::ACCT_SESSION_ID => first_string(&mut out.acct_session_id, &attr),
                AttributeType::ACCT_SESSION_TIME => {
                    first(&mut out.acct_session_time, integer(&attr)?);
                }
                AttributeType::ACCT_TERMINATE_CAUSE => {
                    first(&mut out.acct_terminate_cause, integer(&attr)?);
                }
                AttributeType::ACCT_INPUT_GIGAWORDS => first(&mut in_gigawords, integer(&attr)?),
                AttributeType::ACCT_OUTPUT_GIGAWORDS => {
                    first(&mut out_gigawords, integer(&attr)?);
                }
                AttributeType::EVENT_TIMESTAMP => {
                    first(&mut out.event_timestamp, integer(&attr)?);
                }
                AttributeType::NAS_PORT_TYPE => first(&mut out.nas_port_type, integer(&attr)?),
                AttributeType::NAS_PORT_ID => first_string(&mut out.nas_port_id, &attr),
                AttributeType::NAS_IPV6_ADDRESS => {
                    first(&mut out.nas_ipv6_address, ipv6(&attr)?);
                }
                AttributeType::FRAMED_IPV6_PREFIX => {
                    first(&mut out.framed_ipv6_prefix, ipv6_prefix(&attr)?);
                }
                AttributeType::DELEGATED_IPV6_PREFIX => {
                    first(&mut out.delegated_ipv6_prefix, ipv6_prefix(&attr)?);
                }
                AttributeType::FRAMED_IPV6_ADDRESS => {
                    first(&mut out.framed_ipv6_address, ipv6(&attr)?);
                }
                _ => {}
            }
        }

        out.status = status.ok_or(AaaError::RadiusMissingAttribute {
            attr_type: AttributeType::ACCT_STATUS_TYPE,
        })?;
        out.acct_input_octets = counter(in_octets, in_gigawords);
        out.acct_output_octets = counter(out_octets, out_gigawords);
        Ok(out)
    }
}

/// Acct-Status-Type (40, RFC 2866 section 5.1; values 7 and 8 from the same section, IANA
/// "Values for RADIUS Attribute 40").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AcctStatusType {
    /// 1: the session started (IRI BEGIN).
    Start,
    /// 2: the session ended (IRI END).
    Stop,
    /// 3: Interim-Update, a periodic report on a running session (IRI CONTINUE).
    InterimUpdate,
    /// 7: Accounting-On: the NAS (re)started; sessions it had before are gone.
    AccountingOn,
    /// 8: Accounting-Off: the NAS is going down; all its sessions end.
    AccountingOff,
    /// Any value without a variant here (tunnel accounting 9..=14, Failed 15, ...). Never holds
    /// a value that has a variant.
    Other(u32),
}

impl From<u32> for AcctStatusType {
    fn from(value: u32) -> Self {
        match value {
            1 => Self::Start,
            2 => Self::Stop,
            3 => Self::InterimUpdate,
            7 => Self::AccountingOn,
            8 => Self::AccountingOff,
            other => Self::Other(other),
        }
    }
}

impl From<AcctStatusType> for u32 {
    fn from(value: AcctStatusType) -> Self {
        match value {
            AcctStatusType::Start => 1,
            AcctStatusType::Stop => 2,
            AcctStatusType::InterimUpdate => 3,
            AcctStatusType::AccountingOn => 7,
            AcctStatusType::AccountingOff => 8,
            AcctStatusType::Other(other) => other,
        }
    }
}

/// A RADIUS packet whose header has been checked (RFC 2865 section 3), borrowing the payload.
///
/// Attributes are not checked until iterated with [`RadiusPacket::attributes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadiusPacket<'a> {
    code: RadiusCode,
    identifier: u8,
    authenticator: [u8; 16],
    /// The whole packet, header included, cut at the Length field.
    bytes: &'a [u8],
}

impl<'a> RadiusPacket<'a> {
    /// Checks the header of the RADIUS packet at the start of `payload`.
    ///
    /// Fails if `payload` is shorter than the 20-octet header
    /// ([`AaaError::RadiusShortHeader`]) or if the Length field is below 20, above 4096 or
    /// larger than `payload` ([`AaaError::RadiusLength`]; RFC 2865 section 3 says to discard such
    /// packets). Octets after Length are padding and ignored (same section).
    pub fn parse(payload: &'a [u8]) -> Result<Self> {
        let Some(header) = payload.first_chunk::<HEADER_LEN>() else {
            return Err(AaaError::RadiusShortHeader { len: payload.len() });
        };
        let [code, identifier, len_hi, len_lo, authenticator @ ..] = *header;
        let length = u16::from_be_bytes([len_hi, len_lo]);
        let len = usize::from(length);
        let bytes = payload
            .get(..len)
            .filter(|_| (HEADER_LEN..=MAX_PACKET_LEN).contains(&len))
            .ok_or(AaaError::RadiusLength {
                length,
                available: payload.len(),
            })?;
        Ok(Self {
            code: RadiusCode::from(code),
            identifier,
            authenticator,
            bytes,
        })
    }

    /// The Code field.
    pub const fn code(&self) -> RadiusCode {
        self.code
    }

    /// The Identifier field, matching a request to its response.
    pub const fn identifier(&self) -> u8 {
        self.identifier
    }

    /// The Authenticator field (not verified: see the module documentation).
    pub const fn authenticator(&self) -> &[u8; 16] {
        &self.authenticator
    }

    /// The packet length in octets (the Length field, 20..=4096).
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false`: a packet holds at least its 20-octet header.
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw packet, header included, without any padding after Length: what goes into
    /// `rawAAAData`.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The attributes in wire order. The iterator yields an error, then stops, at the first
    /// attribute whose Length is below 2 or runs past the end of the packet.
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            rest: self.bytes.get(HEADER_LEN..).unwrap_or_default(),
            offset: HEADER_LEN,
        }
    }
}

/// The RADIUS Code field (RFC 2865 section 3, RFC 2866 section 3, RFC 5176 section 3.1,
/// RFC 5997 section 2; IANA "RADIUS Packet Type Codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RadiusCode {
    /// 1: Access-Request.
    AccessRequest,
    /// 2: Access-Accept.
    AccessAccept,
    /// 3: Access-Reject.
    AccessReject,
    /// 4: Accounting-Request.
    AccountingRequest,
    /// 5: Accounting-Response.
    AccountingResponse,
    /// 11: Access-Challenge.
    AccessChallenge,
    /// 12: Status-Server.
    StatusServer,
    /// 40: Disconnect-Request.
    DisconnectRequest,
    /// 41: Disconnect-ACK.
    DisconnectAck,
    /// 42: Disconnect-NAK.
    DisconnectNak,
    /// 43: CoA-Request.
    CoaRequest,
    /// 44: CoA-ACK.
    CoaAck,
    /// 45: CoA-NAK.
    CoaNak,
    /// Any code without a variant here. Never holds a code that has a variant.
    Other(u8),
}

impl From<u8> for RadiusCode {
    fn from(code: u8) -> Self {
        match code {
            1 => Self::AccessRequest,
            2 => Self::AccessAccept,
            3 => Self::AccessReject,
            4 => Self::AccountingRequest,
            5 => Self::AccountingResponse,
            11 => Self::AccessChallenge,
            12 => Self::StatusServer,
            40 => Self::DisconnectRequest,
            41 => Self::DisconnectAck,
            42 => Self::DisconnectNak,
            43 => Self::CoaRequest,
            44 => Self::CoaAck,
            45 => Self::CoaNak,
            other => Self::Other(other),
        }
    }
}

impl From<RadiusCode> for u8 {
    fn from(code: RadiusCode) -> Self {
        match code {
            RadiusCode::AccessRequest => 1,
            RadiusCode::AccessAccept => 2,
            RadiusCode::AccessReject => 3,
            RadiusCode::AccountingRequest => 4,
            RadiusCode::AccountingResponse => 5,
            RadiusCode::AccessChallenge => 11,
            RadiusCode::StatusServer => 12,
            RadiusCode::DisconnectRequest => 40,
            RadiusCode::DisconnectAck => 41,
            RadiusCode::DisconnectNak => 42,
            RadiusCode::CoaRequest => 43,
            RadiusCode::CoaAck => 44,
            RadiusCode::CoaNak => 45,
            RadiusCode::Other(other) => other,
        }
    }
}

/// Iterator over the attributes of a [`RadiusPacket`] (RFC 2865 section 5), from
/// [`RadiusPacket::attributes`].
///
/// Yields `Err` once, then `None`, at the first malformed attribute.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    rest: &'a [u8],
    /// Offset of `rest` from the start of the packet.
    offset: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<Attribute<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&attr_type, after_type) = self.rest.split_first()?;
        let attr_type = AttributeType(attr_type);
        let offset = self.offset;
        let available = self.rest.len();
        // Any error ends the iteration: nothing after a bad Length can be trusted.
        self.rest = &[];
        let Some((&length, after_length)) = after_type.split_first() else {
            return Some(Err(AaaError::RadiusAttributeTruncated {
                attr_type,
                offset,
            }));
        };
        let Some(value_len) = usize::from(length).checked_sub(2) else {
            return Some(Err(AaaError::RadiusAttributeTooShort {
                attr_type,
                offset,
                length,
            }));
        };
        let Some((value, rest)) = after_length.split_at_checked(value_len) else {
            return Some(Err(AaaError::RadiusAttributeOverrun {
                attr_type,
                offset,
                length,
                available,
            }));
        };
        self.rest = rest;
        self.offset = offset.saturating_add(usize::from(length));
        Some(Ok(Attribute {
            attr_type,
            offset,
            value,
        }))
    }
}

impl FusedIterator for Attributes<'_> {}

/// One RADIUS attribute (RFC 2865 section 5), borrowing the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    attr_type: AttributeType,
    offset: usize,
    value: &'a [u8],
}

impl<'a> Attribute<'a> {
    /// The Type field.
    pub const fn attr_type(&self) -> AttributeType {
        self.attr_type
    }

    /// Offset of the Type octet from the start of the packet.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The Value field (0..=253 octets).
    pub const fn value(&self) -> &'a [u8] {
        self.value
    }
}

/// A RADIUS attribute Type (RFC 2865 section 5; IANA "RADIUS Attribute Types"), with constants
/// for the types this module decodes. Displays as the number and, if known, the name:
/// `8 (Framed-IP-Address)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeType(pub u8);

impl AttributeType {
    /// User-Name (RFC 2865 section 5.1).
    pub const USER_NAME: Self = Self(1);
    /// NAS-IP-Address (RFC 2865 section 5.4).
    pub const NAS_IP_ADDRESS: Self = Self(4);
    /// Framed-IP-Address (RFC 2865 section 5.8).
    pub const FRAMED_IP_ADDRESS: Self = Self(8);
    /// Vendor-Specific (RFC 2865 section 5.26), not decoded.
    pub const VENDOR_SPECIFIC: Self = Self(26);
    /// Called-Station-Id (RFC 2865 section 5.30).
    pub const CALLED_STATION_ID: Self = Self(30);
    /// Calling-Station-Id (RFC 2865 section 5.31).
    pub const CALLING_STATION_ID: Self = Self(31);
    /// NAS-Identifier (RFC 2865 section 5.32).
    pub const NAS_IDENTIFIER: Self = Self(32);
    /// Acct-Status-Type (RFC 2866 section 5.1).
    pub const ACCT_STATUS_TYPE: Self = Self(40);
    /// Acct-Input-Octets (RFC 2866 section 5.3).
    pub const ACCT_INPUT_OCTETS: Self = Self(42);
    /// Acct-Output-Octets (RFC 2866 section 5.4).
    pub const ACCT_OUTPUT_OCTETS: Self = Self(43);
    /// Acct-Session-Id (RFC 2866 section 5.5).
    pub const ACCT_SESSION_ID: Self = Self(44);
    /// Acct-Session-Time (RFC 2866 section 5.7).
    pub const ACCT_SESSION_TIME: Self = Self(46);
    /// Acct-Terminate-Cause (RFC 2866 section 5.10).
    pub const ACCT_TERMINATE_CAUSE: Self = Self(49);
    /// Acct-Input-Gigawords (RFC 2869 section 5.1).
    pub const ACCT_INPUT_GIGAWORDS: Self = Self(52);
    /// Acct-Output-Gigawords (RFC 2869 section 5.2).
    pub const ACCT_OUTPUT_GIGAWORDS: Self = Self(53);
    /// Event-Timestamp (RFC 2869 section 5.3).
    pub const EVENT_TIMESTAMP: Self = Self(55);
    /// NAS-Port-Type (RFC 2865 section 5.41).
    pub const NAS_PORT_TYPE: Self = Self(61);
    /// NAS-Port-Id (RFC 2869 section 5.17).
    pub const NAS_PORT_ID: Self = Self(87);
    /// NAS-IPv6-Address (RFC 3162 section 2.1).
    pub const NAS_IPV6_ADDRESS: Self = Self(95);
    /// Framed-IPv6-Prefix (RFC 3162 section 2.3).
    pub const FRAMED_IPV6_PREFIX: Self = Self(97);
    /// Delegated-IPv6-Prefix (RFC 4818 section 3).
    pub const DELEGATED_IPV6_PREFIX: Self = Self(123);
    /// Framed-IPv6-Address (RFC 6911 section 3.1).
    pub const FRAMED_IPV6_ADDRESS: Self = Self(168);

    /// The attribute's name as in the IANA registry, for the types with a constant here.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "User-Name",
            4 => "NAS-IP-Address",
            8 => "Framed-IP-Address",
            26 => "Vendor-Specific",
            30 => "Called-Station-Id",
            31 => "Calling-Station-Id",
            32 => "NAS-Identifier",
            40 => "Acct-Status-Type",
            42 => "Acct-Input-Octets",
            43 => "Acct-Output-Octets",
            44 => "Acct-Session-Id",
            46 => "Acct-Session-Time",
            49 => "Acct-Terminate-Cause",
            52 => "Acct-Input-Gigawords",
            53 => "Acct-Output-Gigawords",
            55 => "Event-Timestamp",
            61 => "NAS-Port-Type",
            87 => "NAS-Port-Id",
            95 => "NAS-IPv6-Address",
            97 => "Framed-IPv6-Prefix",
            123 => "Delegated-IPv6-Prefix",
            168 => "Framed-IPv6-Address",
            _ => return None,
        })
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Stores `value` unless `slot` already holds the first occurrence.
fn first<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// A `string`/`text` value (RFC 8044 sections 3.4, 3.5); empty values count as absent.
fn first_string(slot: &mut Option<Vec<u8>>, attr: &Attribute<'_>) {
    if slot.is_none() && !attr.value.is_empty() {
        *slot = Some(attr.value.to_vec());
    }
}

/// A MAC address written as six hex pairs separated by `-` or `:`, three groups of four hex
/// digits separated by `.`, or twelve hex digits ([`MacAddress::parse_lenient`]); `None` for
/// anything else or a group address. See [`AccountingRequest::calling_station_mac`].
fn mac_address(text: &[u8]) -> Option<[u8; 6]> {
    let mac = MacAddress::parse_lenient(text)?.octets();
    let [first, ..] = mac;
    (first & 0x01 == 0).then_some(mac)
}

/// Combines a 32-bit counter with its Gigawords attribute (RFC 2869 sections 5.1, 5.2).
fn counter(octets: Option<u32>, gigawords: Option<u32>) -> Option<u64> {
    if octets.is_none() && gigawords.is_none() {
        return None;
    }
    Some(u64::from(gigawords.unwrap_or(0)) << 32 | u64::from(octets.unwrap_or(0)))
}

/// The error for a value of the wrong size.
fn value_length(attr: &Attribute<'_>, expected: &'static str) -> AaaError {
    AaaError::RadiusAttributeValueLength {
        attr_type: attr.attr_type,
        offset: attr.offset,
        len: attr.value.len(),
        expected,
    }
}

/// An `integer` value: 4 octets, network order (RFC 8044 section 3.1).
fn integer(attr: &Attribute<'_>) -> Result<u32> {
    <[u8; 4]>::try_from(attr.value)
        .map(u32::from_be_bytes)
        .map_err(|_| value_length(attr, "4"))
}

/// An `ipv4addr` value: 4 octets (RFC 8044 section 3.8).
fn ipv4(attr: &Attribute<'_>) -> Result<Ipv4Addr> {
    <[u8; 4]>::try_from(attr.value)
        .map(Ipv4Addr::from)
        .map_err(|_| value_length(attr, "4"))
}

/// An `ipv6addr` value: 16 octets (RFC 8044 section 3.9).
fn ipv6(attr: &Attribute<'_>) -> Result<Ipv6Addr> {
    <[u8; 16]>::try_from(attr.value)
        .map(Ipv6Addr::from)
        .map_err(|_| value_length(attr, "16"))
}

/// An `ipv6prefix` value (RFC 3162 section 2.3, RFC 4818 section 3, RFC 8044 section 3.10):
/// Reserved, Prefix-Length, then up to 16 Prefix octets, zero-padded to 128 bits here.
///
/// Bits past Prefix-Length "must be zero" but are sent set by some NASes; they are cleared
/// rather than rejected. A Prefix-Length above 128 or above the bits sent is an error.
fn ipv6_prefix(attr: &Attribute<'_>) -> Result<IpPrefix> {
    let [_reserved, prefix_len, prefix @ ..] = attr.value else {
        return Err(value_length(attr, "2 to 18"));
    };
    if prefix.len() > 16 {
        return Err(value_length(attr, "2 to 18"));
    }
    let prefix_len = *prefix_len;
    let prefix_error = AaaError::RadiusIpv6PrefixLength {
        attr_type: attr.attr_type,
        offset: attr.offset,
        prefix_len,
        prefix_octets: prefix.len(),
    };
    if prefix_len > 128 || usize::from(prefix_len) > prefix.len().saturating_mul(8) {
        return Err(prefix_error);
    }
    let mut octets = [0u8; 16];
    for (dst, src) in octets.iter_mut().zip(prefix) {
        *dst = *src;
    }
    // Shifting by 128 (Prefix-Length 0) overflows: the mask is then empty.
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix_len))
        .unwrap_or(0);
    let addr = Ipv6Addr::from(u128::from_be_bytes(octets) & mask);
    IpPrefix::new(IpAddr::V6(addr), prefix_len).map_err(|_| prefix_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::collection::vec;
    use proptest::prelude::*;

    /// Parses space-separated hex as printed in the RFCs.
    fn hex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn attr(attr_type: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![attr_type, u8::try_from(value.len() + 2).unwrap()];
        out.extend_from_slice(value);
        out
    }

    fn int_attr(attr_type: u8, value: u32) -> Vec<u8> {
        attr(attr_type, &value.to_be_bytes())
    }

    /// A packet with a correct Length field and a fixed authenticator.
    fn packet(code: u8, identifier: u8, attributes: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = attributes.concat();
        let len = u16::try_from(HEADER_LEN + body.len()).unwrap();
        let mut out = vec![code, identifier];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0xa5; 16]);
        out.extend_from_slice(&body);
        out
    }

    fn prefix(text: &str) -> IpPrefix {
        text.parse().unwrap()
    }

    /// An Accounting-Request with every attribute `AccountingRequest` decodes.
    fn full_request(status: u32) -> Vec<u8> {
        packet(
            4,
            0x2a,
            &[
                int_attr(40, status),
                attr(1, b"alice@isp.example"),
                attr(8, &[192, 0, 2, 10]),
                // Framed-IPv6-Prefix 2001:db8:1:2::/64, 8 prefix octets (RFC 3162 allows fewer
                // than 16).
                attr(97, &[0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2]),
                // Delegated-IPv6-Prefix 2001:db8:ff00::/40, all 16 octets.
                attr(
                    123,
                    &[
                        0, 40, 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    ],
                ),
                attr(
                    168,
                    &Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0x10).octets(),
                ),
                attr(44, b"sess-0001"),
                attr(31, b"00-11-22-33-44-55"),
                attr(30, b"ap-1:guest"),
                attr(32, b"bras-1"),
                attr(4, &[198, 51, 100, 1]),
                attr(95, &Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets()),
                attr(87, b"eth0/1/2:100"),
                int_attr(61, 15),
                int_attr(42, 1000),
                int_attr(52, 2),
                int_attr(43, 3000),
                int_attr(53, 1),
                int_attr(46, 600),
                int_attr(49, 1),
                int_attr(55, 1_700_000_000),
                // Vendor-Specific, skipped.
                attr(26, &[0, 0, 0x00, 0x09, 1, 4, b'x', b'y']),
            ],
        )
    }

    fn expected_full(status: AcctStatusType, raw_len: usize) -> AccountingRequest {
        AccountingRequest {
            identifier: 0x2a,
            status,
            user_name: Some(b"alice@isp.example".to_vec()),
            framed_ip_address: Some(Ipv4Addr::new(192, 0, 2, 10)),
            framed_ipv6_prefix: Some(prefix("2001:db8:1:2::/64")),
            delegated_ipv6_prefix: Some(prefix("2001:db8:ff00::/40")),
            framed_ipv6_address: Some(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0x10)),
            acct_session_id: Some(b"sess-0001".to_vec()),
            calling_station_id: Some(b"00-11-22-33-44-55".to_vec()),
            called_station_id: Some(b"ap-1:guest".to_vec()),
            nas_identifier: Some(b"bras-1".to_vec()),
            nas_ip_address: Some(Ipv4Addr::new(198, 51, 100, 1)),
            nas_ipv6_address: Some(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            nas_port_id: Some(b"eth0/1/2:100".to_vec()),
            nas_port_type: Some(15),
            acct_input_octets: Some((2 << 32) | 1000),
            acct_output_octets: Some((1 << 32) | 3000),
            acct_session_time: Some(600),
            acct_terminate_cause: Some(1),
            event_timestamp: Some(1_700_000_000),
            raw_len,
        }
    }

    #[test]
    fn start_interim_stop_with_every_attribute() {
        for (value, status) in [
            (1, AcctStatusType::Start),
            (3, AcctStatusType::InterimUpdate),
            (2, AcctStatusType::Stop),
            (7, AcctStatusType::AccountingOn),
            (8, AcctStatusType::AccountingOff),
            (15, AcctStatusType::Other(15)),
        ] {
            let bytes = full_request(value);
            let request = parse_accounting(&bytes).unwrap().unwrap();
            assert_eq!(request, expected_full(status, bytes.len()));
            assert_eq!(u32::from(request.status), value);
        }
    }

    #[test]
    fn calling_station_mac_in_every_written_form() {
        const MAC: [u8; 6] = [0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E];
        let with = |id: &str| {
            let bytes = packet(4, 1, &[int_attr(40, 1), attr(31, id.as_bytes())]);
            parse_accounting(&bytes)
                .unwrap()
                .unwrap()
                .calling_station_mac()
        };
        for id in [
            "00-1A-2B-3C-4D-5E",
            "00-1a-2b-3c-4d-5e",
            "00:1a:2B:3c:4D:5e",
            "001A2B3C4D5E",
            "001a.2b3c.4d5e",
        ] {
            assert_eq!(with(id), Some(MAC), "{id}");
        }
        for id in [
            "+4930123456789",
            "491701234567",      // twelve digits, but a group address
            "01-00-5E-00-00-01", // multicast
            "00-1A-2B-3C-4D",
            "00-1A-2B-3C-4D-5E-6F",
            "00-1A:2B-3C-4D-5E",
            "00_1A_2B_3C_4D_5E",
            "00-1A-2B-3C-4D-5G",
            "001a.2b3c:4d5e",
            "001a2b3c4d5",
            "00-1A-2B-3C-4D-5E:eduroam",
            " 00-1A-2B-3C-4D-5",
        ] {
            assert_eq!(with(id), None, "{id}");
        }
        let bytes = packet(4, 1, &[int_attr(40, 1)]);
        let request = parse_accounting(&bytes).unwrap().unwrap();
        assert_eq!(request.calling_station_mac(), None);
    }

    #[test]
    fn minimal_request_has_only_status() {
        let bytes = packet(4, 9, &[int_attr(40, 1)]);
        let request = parse_accounting(&bytes).unwrap().unwrap();
        assert_eq!(request.identifier, 9);
        assert_eq!(request.status, AcctStatusType::Start);
        assert_eq!(request.user_name, None);
        assert_eq!(request.acct_input_octets, None);
        assert_eq!(request.framed_ipv6_prefix, None);
        assert_eq!(request.raw_len, 26);
    }

    #[test]
    fn gigawords_combine_with_octets() {
        let only_octets = packet(4, 0, &[int_attr(40, 2), int_attr(42, u32::MAX)]);
        let request = parse_accounting(&only_octets).unwrap().unwrap();
        assert_eq!(request.acct_input_octets, Some(u64::from(u32::MAX)));
        assert_eq!(request.acct_output_octets, None);

        let both = packet(
            4,
            0,
            &[
                int_attr(40, 2),
                int_attr(53, u32::MAX),
                int_attr(52, 7),
                int_attr(42, 5),
                int_attr(43, u32::MAX),
            ],
        );
        let request = parse_accounting(&both).unwrap().unwrap();
        assert_eq!(request.acct_input_octets, Some((7 << 32) + 5));
        assert_eq!(request.acct_output_octets, Some(u64::MAX));

        let only_gigawords = packet(4, 0, &[int_attr(40, 2), int_attr(52, 1)]);
        let request = parse_accounting(&only_gigawords).unwrap().unwrap();
        assert_eq!(request.acct_input_octets, Some(1 << 32));
    }

    #[test]
    fn ipv6_prefix_host_bits_are_cleared() {
        // 2001:db8:1:2:ffff::1/64 sent with host bits set.
        let mut value = vec![0, 64];
        value.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0xffff, 0, 0, 1).octets());
        // /61 with only 8 octets: the low 3 bits of the 8th octet are host bits.
        let delegated = [0, 61, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0x0f];
        let bytes = packet(
            4,
            0,
            &[int_attr(40, 1), attr(97, &value), attr(123, &delegated)],
        );
        let request = parse_accounting(&bytes).unwrap().unwrap();
        assert_eq!(
            request.framed_ipv6_prefix,
            Some(prefix("2001:db8:1:2::/64"))
        );
        assert_eq!(
            request.delegated_ipv6_prefix,
            Some(prefix("2001:db8:1:8::/61"))
        );
    }

    #[test]
    fn ipv6_prefix_edge_lengths() {
        // Prefix-Length 0, no prefix octets (attribute Length 4, the minimum).
        let bytes = packet(4, 0, &[int_attr(40, 1), attr(97, &[0, 0])]);
        let request = parse_accounting(&bytes).unwrap().unwrap();
        assert_eq!(request.framed_ipv6_prefix, Some(prefix("::/0")));
        // Prefix-Length 128, all 16 octets.
        let mut value = vec![0, 128];
        value.extend_from_slice(&[0xff; 16]);
        let bytes = packet(4, 0, &[int_attr(40, 1), attr(123, &value)]);
        let request = parse_accounting(&bytes).unwrap().unwrap();
        assert_eq!(
            request.delegated_ipv6_prefix,
            Some(IpPrefix::host(IpAddr::V6(Ipv6Addr::from([0xff; 16]))))
        );
    }

    #[test]
    fn ipv6_prefix_errors() {
        let cases: [(&[u8], AaaError); 4] = [
            (
                &[0],
                AaaError::RadiusAttributeValueLength {
                    attr_type: AttributeType::FRAMED_IPV6_PREFIX,
                    offset: 26,
                    len: 1,
                    expected: "2 to 18",
                },
            ),
            (
                &[0, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                AaaError::RadiusAttributeValueLength {
                    attr_type: AttributeType::FRAMED_IPV6_PREFIX,
                    offset: 26,
                    len: 19,
                    expected: "2 to 18",
                },
            ),
            (
                &[0, 129, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                AaaError::RadiusIpv6PrefixLength {
                    attr_type: AttributeType::FRAMED_IPV6_PREFIX,
                    offset: 26,
                    prefix_len: 129,
                    prefix_octets: 16,
                },
            ),
            (
                &[0, 64, 0x20, 0x01, 0x0d, 0xb8],
                AaaError::RadiusIpv6PrefixLength {
                    attr_type: AttributeType::FRAMED_IPV6_PREFIX,
                    offset: 26,
                    prefix_len: 64,
                    prefix_octets: 4,
                },
            ),
        ];
        for (value, error) in cases {
            let bytes = packet(4, 0, &[int_attr(40, 1), attr(97, value)]);
            assert_eq!(parse_accounting(&bytes), Err(error));
        }
    }

    #[test]
    fn duplicates_first_wins_and_empty_strings_are_absent() {
        let bytes = packet(
            4,
            0,
            &[
                int_attr(40, 1),
                attr(1, b""),
                attr(1, b"first"),
                attr(1, b"second"),
                attr(8, &[10, 0, 0, 1]),
                attr(8, &[10, 0, 0, 2]),
                int_attr(40, 2),
                attr(30, b""),
            ],
        );
        let request = parse_accounting(&bytes).unwrap().unwrap();
        assert_eq!(request.user_name.as_deref(), Some(&b"first"[..]));
        assert_eq!(request.framed_ip_address, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(request.status, AcctStatusType::Start);
        assert_eq!(request.called_station_id, None);
    }

    #[test]
    fn malformed_duplicate_is_still_an_error() {
        let bytes = packet(
            4,
            0,
            &[int_attr(40, 1), attr(8, &[10, 0, 0, 1]), attr(8, &[10])],
        );
        assert_eq!(
            parse_accounting(&bytes),
            Err(AaaError::RadiusAttributeValueLength {
                attr_type: AttributeType::FRAMED_IP_ADDRESS,
                offset: 32,
                len: 1,
                expected: "4",
            })
        );
    }

    #[test]
    fn missing_status_type_is_an_error() {
        let bytes = packet(4, 0, &[attr(1, b"bob")]);
        assert_eq!(
            parse_accounting(&bytes),
            Err(AaaError::RadiusMissingAttribute {
                attr_type: AttributeType::ACCT_STATUS_TYPE
            })
        );
    }

    #[test]
    fn wrong_value_lengths() {
        let cases: [(Vec<u8>, &str); 12] = [
            (attr(8, &[1, 2, 3]), "4"),
            (attr(8, &[1, 2, 3, 4, 5]), "4"),
            (attr(4, &[]), "4"),
            (attr(40, &[0, 1]), "4"),
            (attr(42, &[0, 0, 0, 0, 1]), "4"),
            (attr(52, &[1]), "4"),
            (attr(46, &[0; 8]), "4"),
            (attr(49, &[0; 3]), "4"),
            (attr(55, &[0; 2]), "4"),
            (attr(61, &[0; 5]), "4"),
            (attr(95, &[0; 4]), "16"),
            (attr(168, &[0; 17]), "16"),
        ];
        for (bad, expected) in cases {
            let attr_type = AttributeType(bad[0]);
            let len = bad.len() - 2;
            let bytes = packet(4, 0, &[int_attr(40, 1), bad]);
            assert_eq!(
                parse_accounting(&bytes),
                Err(AaaError::RadiusAttributeValueLength {
                    attr_type,
                    offset: 26,
                    len,
                    expected
                })
            );
        }
    }

    #[test]
    fn short_header() {
        for len in [0, 1, 4, 19] {
            let bytes = vec![4; len];
            assert_eq!(
                parse_accounting(&bytes),
                Err(AaaError::RadiusShortHeader { len })
            );
        }
    }

    #[test]
    fn length_field_out_of_range() {
        let good = packet(4, 0, &[int_attr(40, 1)]);
        for (length, available) in [(0u16, 26), (19, 26), (27, 26), (4097, 26), (u16::MAX, 26)] {
            let mut bytes = good.clone();
            bytes[2..4].copy_from_slice(&length.to_be_bytes());
            assert_eq!(
                parse_accounting(&bytes),
                Err(AaaError::RadiusLength { length, available })
            );
        }
        // Length 4097 is rejected even when that many octets arrived.
        let mut bytes = good.clone();
        bytes.resize(5000, 0);
        bytes[2..4].copy_from_slice(&4097u16.to_be_bytes());
        assert_eq!(
            parse_accounting(&bytes),
            Err(AaaError::RadiusLength {
                length: 4097,
                available: 5000
            })
        );
    }

    #[test]
    fn octets_after_length_are_padding() {
        let good = packet(4, 0, &[int_attr(40, 1)]);
        let mut padded = good.clone();
        // Garbage that would be a malformed attribute if it were read.
        padded.extend_from_slice(&[8, 0, 0xff]);
        let request = parse_accounting(&padded).unwrap().unwrap();
        assert_eq!(request.raw_len, good.len());
        let packet = RadiusPacket::parse(&padded).unwrap();
        assert_eq!(packet.as_bytes(), &good[..]);
        assert_eq!(packet.attributes().count(), 1);
    }

    #[test]
    fn header_only_packet() {
        let bytes = packet(4, 0, &[]);
        let packet = RadiusPacket::parse(&bytes).unwrap();
        assert_eq!(packet.len(), HEADER_LEN);
        assert!(!packet.is_empty());
        assert_eq!(packet.attributes().count(), 0);
        assert_eq!(
            parse_accounting(&bytes),
            Err(AaaError::RadiusMissingAttribute {
                attr_type: AttributeType::ACCT_STATUS_TYPE
            })
        );
    }

    #[test]
    fn attribute_length_zero_and_one() {
        for length in [0u8, 1] {
            let mut bytes = packet(4, 0, &[int_attr(40, 1)]);
            bytes.extend_from_slice(&[1, length, b'x', b'y']);
            let total = u16::try_from(bytes.len()).unwrap();
            bytes[2..4].copy_from_slice(&total.to_be_bytes());
            assert_eq!(
                parse_accounting(&bytes),
                Err(AaaError::RadiusAttributeTooShort {
                    attr_type: AttributeType::USER_NAME,
                    offset: 26,
                    length,
                })
            );
        }
    }

    #[test]
    fn attribute_overrunning_the_packet() {
        let mut bytes = packet(4, 0, &[int_attr(40, 1), attr(44, b"abcdef")]);
        // Claim 9 octets of Acct-Session-Id where only 8 remain.
        bytes[27] = 9;
        assert_eq!(
            parse_accounting(&bytes),
            Err(AaaError::RadiusAttributeOverrun {
                attr_type: AttributeType::ACCT_SESSION_ID,
                offset: 26,
                length: 9,
                available: 8,
            })
        );
        // The padding after Length does not count as room for an attribute.
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(parse_accounting(&padded).is_err());
    }

    #[test]
    fn attribute_missing_its_length_octet() {
        let mut bytes = packet(4, 0, &[int_attr(40, 1)]);
        bytes.push(8);
        bytes[3] += 1;
        assert_eq!(
            parse_accounting(&bytes),
            Err(AaaError::RadiusAttributeTruncated {
                attr_type: AttributeType::FRAMED_IP_ADDRESS,
                offset: 26,
            })
        );
    }

    #[test]
    fn attribute_iterator_stops_after_an_error() {
        let mut bytes = packet(4, 0, &[int_attr(40, 1)]);
        bytes.extend_from_slice(&[1, 1, 1, 3, b'x']);
        let total = u16::try_from(bytes.len()).unwrap();
        bytes[2..4].copy_from_slice(&total.to_be_bytes());
        let packet = RadiusPacket::parse(&bytes).unwrap();
        let mut attributes = packet.attributes();
        assert!(attributes.next().unwrap().is_ok());
        assert!(attributes.next().unwrap().is_err());
        assert!(attributes.next().is_none());
        assert!(attributes.next().is_none());
    }

    // RFC 2865 section 7.1 "User Telnet to Specified Host": an Access-Request and its
    // Access-Accept, as printed in the RFC.
    const RFC2865_7_1_REQUEST: &str = "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
        98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee
        04 06 c0 a8 01 10 05 06 00 00 00 03";
    const RFC2865_7_1_ACCEPT: &str = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
        9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03";

    #[test]
    fn rfc2865_access_request_is_walked_but_not_accounting() {
        let bytes = hex(RFC2865_7_1_REQUEST);
        let packet = RadiusPacket::parse(&bytes).unwrap();
        assert_eq!(packet.code(), RadiusCode::AccessRequest);
        assert_eq!(packet.identifier(), 0);
        assert_eq!(packet.len(), 56);
        assert_eq!(packet.authenticator()[0], 0x0f);
        let attributes: Vec<_> = packet.attributes().map(Result::unwrap).collect();
        let types: Vec<u8> = attributes.iter().map(|a| a.attr_type().0).collect();
        assert_eq!(types, [1, 2, 4, 5]);
        assert_eq!(attributes[0].value(), b"nemo");
        assert_eq!(attributes[0].offset(), 20);
        assert_eq!(attributes[2].value(), [192, 168, 1, 16]);
        assert_eq!(parse_accounting(&bytes), Ok(None));

        let bytes = hex(RFC2865_7_1_ACCEPT);
        assert_eq!(
            RadiusPacket::parse(&bytes).unwrap().code(),
            RadiusCode::AccessAccept
        );
        assert_eq!(parse_accounting(&bytes), Ok(None));
    }

    #[test]
    fn non_accounting_codes_are_none_without_walking_attributes() {
        for code in [1u8, 2, 3, 5, 11, 12, 40, 43, 45, 0, 255] {
            // A malformed attribute area: only an Accounting-Request's attributes are walked.
            let mut bytes = packet(code, 0, &[]);
            bytes.extend_from_slice(&[1, 0]);
            bytes[3] += 2;
            assert_eq!(parse_accounting(&bytes), Ok(None), "code {code}");
            assert_eq!(u8::from(RadiusCode::from(code)), code);
        }
    }

    #[test]
    fn codes_and_status_types_round_trip() {
        for code in 0..=u8::MAX {
            let parsed = RadiusCode::from(code);
            assert_eq!(u8::from(parsed), code);
            if let RadiusCode::Other(other) = parsed {
                assert_eq!(RadiusCode::from(other), parsed);
            }
        }
        for value in (0..=20).chain([u32::MAX]) {
            assert_eq!(u32::from(AcctStatusType::from(value)), value);
        }
    }

    #[test]
    fn errors_name_the_attribute() {
        let error = AaaError::RadiusAttributeValueLength {
            attr_type: AttributeType::FRAMED_IP_ADDRESS,
            offset: 44,
            len: 3,
            expected: "4",
        };
        assert_eq!(
            error.to_string(),
            "RADIUS attribute 8 (Framed-IP-Address) at offset 44: value of 3 octets, expected 4"
        );
        assert_eq!(AttributeType(200).to_string(), "200");
    }

    // ----- property tests -------------------------------------------------------------------

    /// The values an encoder below writes; decoding must give them back.
    #[derive(Debug, Clone)]
    struct Spec {
        identifier: u8,
        status: u32,
        user_name: Option<Vec<u8>>,
        framed_ip_address: Option<Ipv4Addr>,
        /// Raw address bits (host bits possibly set), Prefix-Length, and whether to send all 16
        /// octets or only those the prefix needs.
        framed_ipv6_prefix: Option<(u128, u8, bool)>,
        delegated_ipv6_prefix: Option<(u128, u8, bool)>,
        framed_ipv6_address: Option<Ipv6Addr>,
        acct_session_id: Option<Vec<u8>>,
        calling_station_id: Option<Vec<u8>>,
        called_station_id: Option<Vec<u8>>,
        nas_identifier: Option<Vec<u8>>,
        nas_ip_address: Option<Ipv4Addr>,
        nas_ipv6_address: Option<Ipv6Addr>,
        nas_port_id: Option<Vec<u8>>,
        nas_port_type: Option<u32>,
        acct_input_octets: Option<u64>,
        acct_output_octets: Option<u64>,
        acct_session_time: Option<u32>,
        acct_terminate_cause: Option<u32>,
        event_timestamp: Option<u32>,
        /// Attributes this module does not decode, as (type, value).
        unknown: Vec<(u8, Vec<u8>)>,
    }

    fn encode_prefix(bits: u128, len: u8, full: bool) -> Vec<u8> {
        let octets = bits.to_be_bytes();
        let used = if full {
            16
        } else {
            usize::from(len).div_ceil(8)
        };
        let mut value = vec![0, len];
        value.extend_from_slice(&octets[..used]);
        value
    }

    fn decoded_prefix(bits: u128, len: u8) -> IpPrefix {
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        IpPrefix::new(IpAddr::V6(Ipv6Addr::from(bits & mask)), len).unwrap()
    }

    /// Encodes `spec` as attributes, in an order given by `order`.
    fn encode(spec: &Spec, order: &[usize]) -> Vec<u8> {
        let mut attrs = vec![int_attr(40, spec.status)];
        let strings = [
            (1, &spec.user_name),
            (44, &spec.acct_session_id),
            (31, &spec.calling_station_id),
            (30, &spec.called_station_id),
            (32, &spec.nas_identifier),
            (87, &spec.nas_port_id),
        ];
        for (t, v) in strings {
            if let Some(v) = v {
                attrs.push(attr(t, v));
            }
        }
        for (t, v) in [(8, spec.framed_ip_address), (4, spec.nas_ip_address)] {
            if let Some(v) = v {
                attrs.push(attr(t, &v.octets()));
            }
        }
        for (t, v) in [(168, spec.framed_ipv6_address), (95, spec.nas_ipv6_address)] {
            if let Some(v) = v {
                attrs.push(attr(t, &v.octets()));
            }
        }
        for (t, v) in [
            (97, spec.framed_ipv6_prefix),
            (123, spec.delegated_ipv6_prefix),
        ] {
            if let Some((bits, len, full)) = v {
                attrs.push(attr(t, &encode_prefix(bits, len, full)));
            }
        }
        let integers = [
            (61, spec.nas_port_type),
            (46, spec.acct_session_time),
            (49, spec.acct_terminate_cause),
            (55, spec.event_timestamp),
        ];
        for (t, v) in integers {
            if let Some(v) = v {
                attrs.push(int_attr(t, v));
            }
        }
        for (low, high, v) in [
            (42, 52, spec.acct_input_octets),
            (43, 53, spec.acct_output_octets),
        ] {
            if let Some(v) = v {
                attrs.push(int_attr(low, v as u32));
                // Gigawords only when needed, as NASes do.
                if v >> 32 != 0 {
                    attrs.push(int_attr(high, (v >> 32) as u32));
                }
            }
        }
        for (t, v) in &spec.unknown {
            attrs.push(attr(*t, v));
        }
        // Permute, keeping Acct-Status-Type's position random too.
        let mut ordered: Vec<Vec<u8>> = Vec::with_capacity(attrs.len());
        let mut pool = attrs;
        for &pick in order {
            if pool.is_empty() {
                break;
            }
            ordered.push(pool.remove(pick % pool.len()));
        }
        ordered.extend(pool);
        packet(4, spec.identifier, &ordered)
    }

    fn expected(spec: &Spec, raw_len: usize) -> AccountingRequest {
        AccountingRequest {
            identifier: spec.identifier,
            status: AcctStatusType::from(spec.status),
            user_name: spec.user_name.clone(),
            framed_ip_address: spec.framed_ip_address,
            framed_ipv6_prefix: spec
                .framed_ipv6_prefix
                .map(|(b, l, _)| decoded_prefix(b, l)),
            delegated_ipv6_prefix: spec
                .delegated_ipv6_prefix
                .map(|(b, l, _)| decoded_prefix(b, l)),
            framed_ipv6_address: spec.framed_ipv6_address,
            acct_session_id: spec.acct_session_id.clone(),
            calling_station_id: spec.calling_station_id.clone(),
            called_station_id: spec.called_station_id.clone(),
            nas_identifier: spec.nas_identifier.clone(),
            nas_ip_address: spec.nas_ip_address,
            nas_ipv6_address: spec.nas_ipv6_address,
            nas_port_id: spec.nas_port_id.clone(),
            nas_port_type: spec.nas_port_type,
            acct_input_octets: spec.acct_input_octets,
            acct_output_octets: spec.acct_output_octets,
            acct_session_time: spec.acct_session_time,
            acct_terminate_cause: spec.acct_terminate_cause,
            event_timestamp: spec.event_timestamp,
            raw_len,
        }
    }

    fn string() -> impl Strategy<Value = Option<Vec<u8>>> {
        proptest::option::of(vec(any::<u8>(), 1..=253))
    }

    fn v6prefix() -> impl Strategy<Value = Option<(u128, u8, bool)>> {
        proptest::option::of((any::<u128>(), 0u8..=128, any::<bool>()))
    }

    /// Types this module does not decode, so an unknown attribute cannot shadow a known one.
    fn unknown_type() -> impl Strategy<Value = u8> {
        any::<u8>().prop_filter("decoded types", |t| {
            AttributeType(*t).name().is_none() || *t == 26
        })
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let strings = (string(), string(), string(), string(), string(), string());
        let addresses = (
            any::<Option<[u8; 4]>>(),
            any::<Option<[u8; 4]>>(),
            any::<Option<[u8; 16]>>(),
            any::<Option<[u8; 16]>>(),
            v6prefix(),
            v6prefix(),
        );
        let numbers = (
            any::<(u8, u32)>(),
            any::<Option<u32>>(),
            any::<Option<u64>>(),
            any::<Option<u64>>(),
            any::<Option<u32>>(),
            any::<Option<u32>>(),
            any::<Option<u32>>(),
        );
        let unknown = vec((unknown_type(), vec(any::<u8>(), 0..=40)), 0..6);
        (strings, addresses, numbers, unknown).prop_map(|(s, a, n, unknown)| Spec {
            identifier: n.0.0,
            status: n.0.1,
            user_name: s.0,
            acct_session_id: s.1,
            calling_station_id: s.2,
            called_station_id: s.3,
            nas_identifier: s.4,
            nas_port_id: s.5,
            framed_ip_address: a.0.map(Ipv4Addr::from),
            nas_ip_address: a.1.map(Ipv4Addr::from),
            framed_ipv6_address: a.2.map(Ipv6Addr::from),
            nas_ipv6_address: a.3.map(Ipv6Addr::from),
            framed_ipv6_prefix: a.4,
            delegated_ipv6_prefix: a.5,
            nas_port_type: n.1,
            acct_input_octets: n.2,
            acct_output_octets: n.3,
            acct_session_time: n.4,
            acct_terminate_cause: n.5,
            event_timestamp: n.6,
            unknown,
        })
    }

    proptest! {
        #[test]
        fn generated_requests_parse_back(
            spec in spec(),
            order in vec(any::<usize>(), 0..32),
            padding in vec(any::<u8>(), 0..8),
        ) {
            let mut bytes = encode(&spec, &order);
            let raw_len = bytes.len();
            bytes.extend_from_slice(&padding);
            let request = parse_accounting(&bytes).unwrap().unwrap();
            prop_assert_eq!(request, expected(&spec, raw_len));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..600)) {
            let _ = parse_accounting(&bytes);
            if let Ok(packet) = RadiusPacket::parse(&bytes) {
                for attr in packet.attributes() {
                    let _ = attr;
                }
            }
        }

        #[test]
        fn arbitrary_attributes_never_panic(
            code in prop_oneof![Just(4u8), any::<u8>()],
            body in vec(any::<u8>(), 0..600),
            slack in 0usize..4,
        ) {
            // A valid header over random attribute octets reaches the attribute decoders.
            let mut bytes = packet(code, 0, &[]);
            bytes.extend_from_slice(&body);
            let len = u16::try_from(bytes.len()).unwrap();
            bytes[2..4].copy_from_slice(&len.to_be_bytes());
            bytes.resize(bytes.len() + slack, 0);
            let _ = parse_accounting(&bytes);
        }
    }
}
