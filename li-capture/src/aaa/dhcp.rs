//! DHCPv4 messages (RFC 2131, options from RFC 2132, relay agent information from RFC 3046).
//!
//! A DHCPACK binds the client's hardware address (`chaddr`) to the address it leases
//! (`yiaddr`); a DHCPRELEASE ends that binding (`ciaddr`). [`parse_dhcpv4`] turns the UDP
//! payload of one message into a [`DhcpMessage`] with those fields and the options that identify
//! the client (client identifier, host name, and the circuit and remote IDs a relay agent adds),
//! so the classifier can intercept by MAC address and report IRI access events.
//!
//! Handled leniently, deliberately:
//! - **Missing End option:** options end at the End option (255) or at the end of the payload,
//!   whichever comes first; some clients and relays omit End. Octets after End are padding and
//!   ignored.
//! - **Option overload** (52, RFC 2132 section 9.3): options carried in the `sname` and `file`
//!   fields are not parsed. Overload is rare, and the options a probe needs are in practice
//!   always in the options field.
//! - **Split options** (RFC 3396): an option that appears several times is the concatenation of
//!   its instances, as RFC 3396 section 7 requires; a fixed-size option repeated is therefore a
//!   length error.
//! - **Empty variable-length options** (host name, client identifier, relay sub-options) count
//!   as absent rather than rejecting the message.

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

use super::{AaaError, Result};

/// Length of the BOOTP/DHCP fixed header, `op` through `file` (RFC 2131 section 2).
pub const FIXED_HEADER_LEN: usize = 236;

/// The magic cookie 99.130.83.99 that starts the options field (RFC 2131 section 3, RFC 2132
/// section 2).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;

/// Offset of the first option: the fixed header plus the magic cookie.
const OPTIONS_OFFSET: usize = FIXED_HEADER_LEN + 4;

/// Decodes the UDP payload of a DHCPv4 message (RFC 2131 section 2).
///
/// Fails if the payload is shorter than the fixed header and magic cookie, if `op` is neither
/// BOOTREQUEST nor BOOTREPLY, if the magic cookie is wrong (a plain BOOTP message without
/// options included), if an option runs past the end of the payload, or if an option decoded
/// into the result has the wrong size. See the module documentation for what is tolerated.
pub fn parse_dhcpv4(payload: &[u8]) -> Result<DhcpMessage> {
    if payload.len() < OPTIONS_OFFSET {
        return Err(AaaError::DhcpTruncated { len: payload.len() });
    }
    let mut header = Cursor {
        rest: payload,
        len: payload.len(),
    };
    let [op, htype, hlen, _hops] = header.take()?;
    let op = match op {
        1 => BootpOp::BootRequest,
        2 => BootpOp::BootReply,
        op => return Err(AaaError::DhcpOp { op }),
    };
    let xid = u32::from_be_bytes(header.take()?);
    let [_secs_hi, _secs_lo, _flags_hi, _flags_lo] = header.take()?;
    let ciaddr = Ipv4Addr::from(header.take::<4>()?);
    let yiaddr = Ipv4Addr::from(header.take::<4>()?);
    let siaddr = Ipv4Addr::from(header.take::<4>()?);
    let giaddr = Ipv4Addr::from(header.take::<4>()?);
    let chaddr: [u8; 16] = header.take()?;
    let _sname: [u8; 64] = header.take()?;
    let _file: [u8; 128] = header.take()?;
    let cookie = u32::from_be_bytes(header.take()?);
    if cookie != MAGIC_COOKIE {
        return Err(AaaError::DhcpMagicCookie { found: cookie });
    }
    // htype 1 is 10 Mb/s Ethernet in the ARP hardware type registry (RFC 1700), which every
    // IEEE 802 MAC uses.
    let client_mac = if htype == 1 && hlen == 6 {
        chaddr.first_chunk::<6>().copied()
    } else {
        None
    };

    let options = Gathered::collect(header.rest)?;
    Ok(DhcpMessage {
        op,
        xid,
        client_mac,
        ciaddr,
        yiaddr,
        siaddr,
        giaddr,
        message_type: fixed::<1>(&options.message_type, OptionCode::DHCP_MESSAGE_TYPE)?
            .map(|[t]| DhcpMessageType::from(t)),
        lease_time: fixed(&options.lease_time, OptionCode::IP_ADDRESS_LEASE_TIME)?
            .map(u32::from_be_bytes),
        server_id: fixed(&options.server_id, OptionCode::SERVER_IDENTIFIER)?.map(Ipv4Addr::from),
        requested_ip: fixed(&options.requested_ip, OptionCode::REQUESTED_IP_ADDRESS)?
            .map(Ipv4Addr::from),
        client_id: non_empty(&options.client_id),
        hostname: non_empty(&options.hostname),
        relay_agent: options
            .relay_agent
            .as_ref()
            .map(|(offset, value)| RelayAgentInfo::parse(*offset, value))
            .transpose()?,
    })
}

/// A DHCPv4 message (RFC 2131 section 2) with the fields and options that bind a client to an
/// address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DhcpMessage {
    /// `op`: BOOTREQUEST from a client, BOOTREPLY from a server.
    pub op: BootpOp,
    /// `xid`: the transaction ID chosen by the client, shared by a request and its reply.
    pub xid: u32,
    /// `chaddr` as an IEEE 802 MAC address, when `htype` is 1 (Ethernet) and `hlen` is 6;
    /// `None` for other hardware types.
    pub client_mac: Option<[u8; 6]>,
    /// `ciaddr`: the client's address, filled in only when it already has one (RENEWING,
    /// REBINDING, RELEASE, INFORM).
    pub ciaddr: Ipv4Addr,
    /// `yiaddr`: "your" address, the address the server offers or acknowledges.
    pub yiaddr: Ipv4Addr,
    /// `siaddr`: the next server to use in bootstrap.
    pub siaddr: Ipv4Addr,
    /// `giaddr`: the relay agent's address, 0.0.0.0 when not relayed.
    pub giaddr: Ipv4Addr,
    /// DHCP Message Type (option 53, RFC 2132 section 9.6); `None` for plain BOOTP.
    pub message_type: Option<DhcpMessageType>,
    /// IP Address Lease Time (option 51, RFC 2132 section 9.2) in seconds; `u32::MAX` means
    /// infinite.
    pub lease_time: Option<u32>,
    /// Server Identifier (option 54, RFC 2132 section 9.7).
    pub server_id: Option<Ipv4Addr>,
    /// Requested IP Address (option 50, RFC 2132 section 9.1).
    pub requested_ip: Option<Ipv4Addr>,
    /// Client-identifier (option 61, RFC 2132 section 9.14): type octet then identifier, raw.
    pub client_id: Option<Vec<u8>>,
    /// Host Name (option 12, RFC 2132 section 3.14), raw octets.
    pub hostname: Option<Vec<u8>>,
    /// Relay Agent Information (option 82, RFC 3046), added by a relay (often a DSLAM or
    /// switch) between client and server.
    pub relay_agent: Option<RelayAgentInfo>,
}

impl DhcpMessage {
    /// The address this message binds to or releases from the client: `yiaddr` of a DHCPACK,
    /// `ciaddr` of a DHCPRELEASE (RFC 2131 section 4.3). `None` for every other message, and
    /// when that field is 0.0.0.0 (as in the DHCPACK answering a DHCPINFORM, RFC 2131 section
    /// 4.3.5, which binds nothing).
    pub fn bound_address(&self) -> Option<Ipv4Addr> {
        let addr = match self.message_type? {
            DhcpMessageType::Ack => self.yiaddr,
            DhcpMessageType::Release => self.ciaddr,
            _ => return None,
        };
        (!addr.is_unspecified()).then_some(addr)
    }
}

/// The BOOTP `op` field (RFC 2131 section 2, RFC 951).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootpOp {
    /// 1: BOOTREQUEST, client to server.
    BootRequest,
    /// 2: BOOTREPLY, server to client.
    BootReply,
}

/// DHCP Message Type (option 53, RFC 2132 section 9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DhcpMessageType {
    /// 1: DHCPDISCOVER.
    Discover,
    /// 2: DHCPOFFER.
    Offer,
    /// 3: DHCPREQUEST.
    Request,
    /// 4: DHCPDECLINE.
    Decline,
    /// 5: DHCPACK.
    Ack,
    /// 6: DHCPNAK.
    Nak,
    /// 7: DHCPRELEASE.
    Release,
    /// 8: DHCPINFORM.
    Inform,
    /// Any type without a variant here (leasequery, RFC 4388, ...). Never holds a value that has
    /// a variant.
    Other(u8),
}

impl From<u8> for DhcpMessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Discover,
            2 => Self::Offer,
            3 => Self::Request,
            4 => Self::Decline,
            5 => Self::Ack,
            6 => Self::Nak,
            7 => Self::Release,
            8 => Self::Inform,
            other => Self::Other(other),
        }
    }
}

impl From<DhcpMessageType> for u8 {
    fn from(value: DhcpMessageType) -> Self {
        match value {
            DhcpMessageType::Discover => 1,
            DhcpMessageType::Offer => 2,
            DhcpMessageType::Request => 3,
            DhcpMessageType::Decline => 4,
            DhcpMessageType::Ack => 5,
            DhcpMessageType::Nak => 6,
            DhcpMessageType::Release => 7,
            DhcpMessageType::Inform => 8,
            DhcpMessageType::Other(other) => other,
        }
    }
}

/// Relay Agent Information (option 82, RFC 3046 section 2.0): identifies where the client is
/// attached, independently of what the client says about itself.
///
/// Sub-options other than these two are skipped; if one repeats, the first non-empty instance
/// wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayAgentInfo {
    /// Agent Circuit ID (sub-option 1, RFC 3046 section 3.1): the port or circuit the request
    /// came in on, raw.
    pub circuit_id: Option<Vec<u8>>,
    /// Agent Remote ID (sub-option 2, RFC 3046 section 3.2): the remote host end of the circuit
    /// (a modem, a subscriber line), raw.
    pub remote_id: Option<Vec<u8>>,
}

impl RelayAgentInfo {
    /// Walks the sub-options of the (concatenated) option 82 value found at `offset`.
    fn parse(offset: usize, value: &[u8]) -> Result<Self> {
        let mut info = Self::default();
        let mut rest = value;
        let mut sub_offset = 0usize;
        while let Some((&sub_code, after_code)) = rest.split_first() {
            let overrun = AaaError::DhcpRelaySubOptionOverrun {
                sub_code,
                offset,
                sub_offset,
            };
            let (&len, after_len) = after_code.split_first().ok_or(overrun.clone())?;
            let (sub_value, tail) = after_len
                .split_at_checked(usize::from(len))
                .ok_or(overrun)?;
            let slot = match sub_code {
                1 => Some(&mut info.circuit_id),
                2 => Some(&mut info.remote_id),
                _ => None,
            };
            if let Some(slot) = slot.filter(|slot| slot.is_none() && !sub_value.is_empty()) {
                *slot = Some(sub_value.to_vec());
            }
            rest = tail;
            sub_offset = sub_offset
                .saturating_add(2)
                .saturating_add(usize::from(len));
        }
        Ok(info)
    }
}

/// A DHCP option code (RFC 2132; IANA "BOOTP Vendor Extensions and DHCP Options"), with
/// constants for the codes this module decodes. Displays as the number and, if known, the name:
/// `82 (Relay Agent Information)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionCode(pub u8);

impl OptionCode {
    /// Pad (RFC 2132 section 3.1): a single octet, no length.
    pub const PAD: Self = Self(0);
    /// Host Name (RFC 2132 section 3.14).
    pub const HOST_NAME: Self = Self(12);
    /// Requested IP Address (RFC 2132 section 9.1).
    pub const REQUESTED_IP_ADDRESS: Self = Self(50);
    /// IP Address Lease Time (RFC 2132 section 9.2).
    pub const IP_ADDRESS_LEASE_TIME: Self = Self(51);
    /// Option Overload (RFC 2132 section 9.3), not followed.
    pub const OPTION_OVERLOAD: Self = Self(52);
    /// DHCP Message Type (RFC 2132 section 9.6).
    pub const DHCP_MESSAGE_TYPE: Self = Self(53);
    /// Server Identifier (RFC 2132 section 9.7).
    pub const SERVER_IDENTIFIER: Self = Self(54);
    /// Client-identifier (RFC 2132 section 9.14).
    pub const CLIENT_IDENTIFIER: Self = Self(61);
    /// Relay Agent Information (RFC 3046 section 2.0).
    pub const RELAY_AGENT_INFORMATION: Self = Self(82);
    /// End (RFC 2132 section 3.2): a single octet ending the options.
    pub const END: Self = Self(255);

    /// The option's name as in RFC 2132 / RFC 3046, for the codes with a constant here.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "Pad",
            12 => "Host Name",
            50 => "Requested IP Address",
            51 => "IP Address Lease Time",
            52 => "Option Overload",
            53 => "DHCP Message Type",
            54 => "Server Identifier",
            61 => "Client-identifier",
            82 => "Relay Agent Information",
            255 => "End",
            _ => return None,
        })
    }
}

impl fmt::Display for OptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Reads the fixed header; every read is bounded by the slice.
struct Cursor<'a> {
    rest: &'a [u8],
    /// The payload length, for the error.
    len: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(AaaError::DhcpTruncated { len: self.len })?;
        self.rest = rest;
        Ok(*head)
    }
}

/// An option's value, concatenated over its instances (RFC 3396), with the offset of the first
/// instance's code octet.
type Value<'a> = Option<(usize, Cow<'a, [u8]>)>;

/// The options this module decodes, gathered from the options field.
#[derive(Default)]
struct Gathered<'a> {
    message_type: Value<'a>,
    lease_time: Value<'a>,
    server_id: Value<'a>,
    requested_ip: Value<'a>,
    client_id: Value<'a>,
    hostname: Value<'a>,
    relay_agent: Value<'a>,
}

impl<'a> Gathered<'a> {
    /// Walks the options field (RFC 2132 section 2) from offset 240 of the payload.
    fn collect(options: &'a [u8]) -> Result<Self> {
        let mut gathered = Self::default();
        let mut rest = options;
        let mut offset = OPTIONS_OFFSET;
        while let Some((&code, after_code)) = rest.split_first() {
            let code = OptionCode(code);
            match code {
                OptionCode::PAD => {
                    rest = after_code;
                    offset = offset.saturating_add(1);
                    continue;
                }
                OptionCode::END => break,
                _ => {}
            }
            let (&length, after_length) = after_code
                .split_first()
                .ok_or(AaaError::DhcpOptionTruncated { code, offset })?;
            let (value, tail) = after_length.split_at_checked(usize::from(length)).ok_or(
                AaaError::DhcpOptionOverrun {
                    code,
                    offset,
                    length,
                    available: after_length.len(),
                },
            )?;
            let slot = match code {
                OptionCode::DHCP_MESSAGE_TYPE => Some(&mut gathered.message_type),
                OptionCode::IP_ADDRESS_LEASE_TIME => Some(&mut gathered.lease_time),
                OptionCode::SERVER_IDENTIFIER => Some(&mut gathered.server_id),
                OptionCode::REQUESTED_IP_ADDRESS => Some(&mut gathered.requested_ip),
                OptionCode::CLIENT_IDENTIFIER => Some(&mut gathered.client_id),
                OptionCode::HOST_NAME => Some(&mut gathered.hostname),
                OptionCode::RELAY_AGENT_INFORMATION => Some(&mut gathered.relay_agent),
                _ => None,
            };
            match slot {
                Some(Some((_, existing))) => existing.to_mut().extend_from_slice(value),
                Some(empty) => *empty = Some((offset, Cow::Borrowed(value))),
                None => {}
            }
            rest = tail;
            offset = offset.saturating_add(2).saturating_add(usize::from(length));
        }
        Ok(gathered)
    }
}

/// A fixed-size option's value, or the error naming `code` if it has another size.
fn fixed<const N: usize>(value: &Value<'_>, code: OptionCode) -> Result<Option<[u8; N]>> {
    let Some((offset, value)) = value else {
        return Ok(None);
    };
    <[u8; N]>::try_from(value.as_ref())
        .map(Some)
        .map_err(|_| AaaError::DhcpOptionValueLength {
            code,
            offset: *offset,
            len: value.len(),
            expected: N,
        })
}

/// A variable-length option's value; empty counts as absent.
fn non_empty(value: &Value<'_>) -> Option<Vec<u8>> {
    value
        .as_ref()
        .filter(|(_, value)| !value.is_empty())
        .map(|(_, value)| value.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::collection::vec;
    use proptest::prelude::*;

    const MAC: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];

    /// The fixed header (RFC 2131 figure 1) and magic cookie.
    struct Header {
        op: u8,
        htype: u8,
        hlen: u8,
        xid: u32,
        ciaddr: [u8; 4],
        yiaddr: [u8; 4],
        siaddr: [u8; 4],
        giaddr: [u8; 4],
        chaddr: [u8; 16],
    }

    impl Header {
        fn new(op: u8) -> Self {
            let mut chaddr = [0; 16];
            chaddr[..6].copy_from_slice(&MAC);
            Self {
                op,
                htype: 1,
                hlen: 6,
                xid: 0x3903_f326,
                ciaddr: [0; 4],
                yiaddr: [0; 4],
                siaddr: [0; 4],
                giaddr: [0; 4],
                chaddr,
            }
        }

        fn encode(&self, options: &[u8]) -> Vec<u8> {
            let mut out = vec![self.op, self.htype, self.hlen, 1];
            out.extend_from_slice(&self.xid.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0x80, 0]);
            for addr in [self.ciaddr, self.yiaddr, self.siaddr, self.giaddr] {
                out.extend_from_slice(&addr);
            }
            out.extend_from_slice(&self.chaddr);
            out.extend_from_slice(&[0; 64]);
            out.extend_from_slice(&[0; 128]);
            assert_eq!(out.len(), FIXED_HEADER_LEN);
            out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
            out.extend_from_slice(options);
            out
        }
    }

    fn opt(code: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![code, u8::try_from(value.len()).unwrap()];
        out.extend_from_slice(value);
        out
    }

    fn relay_agent(circuit: &[u8], remote: &[u8]) -> Vec<u8> {
        [opt(1, circuit), opt(2, remote)].concat()
    }

    /// A relayed DHCPACK for 192.0.2.77, as a server sends it back through the relay.
    fn ack() -> Vec<u8> {
        let mut header = Header::new(2);
        header.yiaddr = [192, 0, 2, 77];
        header.siaddr = [192, 0, 2, 1];
        header.giaddr = [192, 0, 2, 254];
        let options = [
            opt(53, &[5]),
            opt(54, &[192, 0, 2, 1]),
            opt(51, &86_400u32.to_be_bytes()),
            opt(1, &[255, 255, 255, 0]),
            opt(12, b"laptop"),
            opt(61, &[1, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
            opt(82, &relay_agent(b"eth 1/1/3:100", b"subscriber-42")),
            vec![255, 0, 0, 0],
        ]
        .concat();
        header.encode(&options)
    }

    #[test]
    fn ack_with_relay_agent_information() {
        let message = parse_dhcpv4(&ack()).unwrap();
        assert_eq!(
            message,
            DhcpMessage {
                op: BootpOp::BootReply,
                xid: 0x3903_f326,
                client_mac: Some(MAC),
                ciaddr: Ipv4Addr::UNSPECIFIED,
                yiaddr: Ipv4Addr::new(192, 0, 2, 77),
                siaddr: Ipv4Addr::new(192, 0, 2, 1),
                giaddr: Ipv4Addr::new(192, 0, 2, 254),
                message_type: Some(DhcpMessageType::Ack),
                lease_time: Some(86_400),
                server_id: Some(Ipv4Addr::new(192, 0, 2, 1)),
                requested_ip: None,
                client_id: Some(vec![1, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
                hostname: Some(b"laptop".to_vec()),
                relay_agent: Some(RelayAgentInfo {
                    circuit_id: Some(b"eth 1/1/3:100".to_vec()),
                    remote_id: Some(b"subscriber-42".to_vec()),
                }),
            }
        );
        assert_eq!(message.bound_address(), Some(Ipv4Addr::new(192, 0, 2, 77)));
    }

    #[test]
    fn release_with_relay_agent_information() {
        let mut header = Header::new(1);
        header.ciaddr = [192, 0, 2, 77];
        header.giaddr = [192, 0, 2, 254];
        let options = [
            opt(53, &[7]),
            opt(54, &[192, 0, 2, 1]),
            // Only a remote ID, and an unknown sub-option 9.
            opt(82, &[opt(9, b"vendor"), opt(2, b"subscriber-42")].concat()),
            vec![255],
        ]
        .concat();
        let message = parse_dhcpv4(&header.encode(&options)).unwrap();
        assert_eq!(message.op, BootpOp::BootRequest);
        assert_eq!(message.message_type, Some(DhcpMessageType::Release));
        assert_eq!(message.client_mac, Some(MAC));
        assert_eq!(message.bound_address(), Some(Ipv4Addr::new(192, 0, 2, 77)));
        assert_eq!(
            message.relay_agent,
            Some(RelayAgentInfo {
                circuit_id: None,
                remote_id: Some(b"subscriber-42".to_vec()),
            })
        );
    }

    #[test]
    fn request_discover_and_inform_ack_bind_nothing() {
        let mut header = Header::new(1);
        let request = [opt(53, &[3]), opt(50, &[192, 0, 2, 77]), vec![255]].concat();
        let message = parse_dhcpv4(&header.encode(&request)).unwrap();
        assert_eq!(message.requested_ip, Some(Ipv4Addr::new(192, 0, 2, 77)));
        assert_eq!(message.bound_address(), None);

        let discover = header.encode(&[opt(53, &[1]), vec![255]].concat());
        assert_eq!(parse_dhcpv4(&discover).unwrap().bound_address(), None);

        // The DHCPACK answering a DHCPINFORM leaves yiaddr 0 (RFC 2131 section 4.3.5).
        header.op = 2;
        let inform_ack = header.encode(&[opt(53, &[5]), vec![255]].concat());
        assert_eq!(parse_dhcpv4(&inform_ack).unwrap().bound_address(), None);

        // Plain BOOTP: cookie but no message type.
        let bootp = header.encode(&[255]);
        let message = parse_dhcpv4(&bootp).unwrap();
        assert_eq!(message.message_type, None);
        assert_eq!(message.bound_address(), None);
    }

    #[test]
    fn message_types_round_trip() {
        for value in 0..=u8::MAX {
            let parsed = DhcpMessageType::from(value);
            assert_eq!(u8::from(parsed), value);
            let bytes = Header::new(1).encode(&opt(53, &[value]));
            assert_eq!(parse_dhcpv4(&bytes).unwrap().message_type, Some(parsed));
        }
    }

    #[test]
    fn htype_not_ethernet_has_no_mac() {
        for (htype, hlen) in [(6, 6), (32, 20), (1, 16), (1, 0)] {
            let mut header = Header::new(1);
            header.htype = htype;
            header.hlen = hlen;
            let message = parse_dhcpv4(&header.encode(&[255])).unwrap();
            assert_eq!(message.client_mac, None, "htype {htype} hlen {hlen}");
        }
    }

    #[test]
    fn bad_cookie() {
        let mut bytes = ack();
        bytes[FIXED_HEADER_LEN..OPTIONS_OFFSET].copy_from_slice(&[99, 130, 83, 98]);
        assert_eq!(
            parse_dhcpv4(&bytes),
            Err(AaaError::DhcpMagicCookie { found: 0x6382_5362 })
        );
    }

    #[test]
    fn bad_op() {
        for op in [0, 3, 255] {
            let bytes = Header::new(op).encode(&[255]);
            assert_eq!(parse_dhcpv4(&bytes), Err(AaaError::DhcpOp { op }));
        }
    }

    #[test]
    fn truncated_header() {
        let bytes = ack();
        for len in [0, 1, 235, 236, 239] {
            assert_eq!(
                parse_dhcpv4(&bytes[..len]),
                Err(AaaError::DhcpTruncated { len })
            );
        }
        // Exactly the header and cookie: no options at all.
        let message = parse_dhcpv4(&bytes[..OPTIONS_OFFSET]).unwrap();
        assert_eq!(message.message_type, None);
        assert_eq!(message.yiaddr, Ipv4Addr::new(192, 0, 2, 77));
    }

    #[test]
    fn missing_end_option_is_tolerated() {
        let bytes = Header::new(1).encode(&[opt(53, &[7]), opt(12, b"host")].concat());
        let message = parse_dhcpv4(&bytes).unwrap();
        assert_eq!(message.message_type, Some(DhcpMessageType::Release));
        assert_eq!(message.hostname.as_deref(), Some(&b"host"[..]));
    }

    #[test]
    fn pad_and_octets_after_end_are_skipped() {
        // Pads before options, then garbage after End that would overrun if read.
        let options = [vec![0, 0, 0], opt(53, &[5]), vec![0, 255, 12, 200, 1]].concat();
        let message = parse_dhcpv4(&Header::new(2).encode(&options)).unwrap();
        assert_eq!(message.message_type, Some(DhcpMessageType::Ack));
        assert_eq!(message.hostname, None);
    }

    #[test]
    fn option_overrunning_the_payload() {
        let options = [opt(53, &[5]), vec![12, 10, b'a', b'b']].concat();
        assert_eq!(
            parse_dhcpv4(&Header::new(2).encode(&options)),
            Err(AaaError::DhcpOptionOverrun {
                code: OptionCode::HOST_NAME,
                offset: OPTIONS_OFFSET + 3,
                length: 10,
                available: 2,
            })
        );
        // An unknown option overrunning is an error too.
        assert_eq!(
            parse_dhcpv4(&Header::new(2).encode(&[200, 1])),
            Err(AaaError::DhcpOptionOverrun {
                code: OptionCode(200),
                offset: OPTIONS_OFFSET,
                length: 1,
                available: 0,
            })
        );
    }

    #[test]
    fn option_missing_its_length_octet() {
        let options = [opt(53, &[5]), vec![82]].concat();
        assert_eq!(
            parse_dhcpv4(&Header::new(2).encode(&options)),
            Err(AaaError::DhcpOptionTruncated {
                code: OptionCode::RELAY_AGENT_INFORMATION,
                offset: OPTIONS_OFFSET + 3,
            })
        );
    }

    #[test]
    fn wrong_option_value_lengths() {
        let cases: [(Vec<u8>, usize, usize); 6] = [
            (opt(53, &[]), 0, 1),
            (opt(53, &[5, 5]), 2, 1),
            (opt(51, &[0, 0, 1]), 3, 4),
            (opt(54, &[192, 0, 2, 1, 0]), 5, 4),
            (opt(50, &[]), 0, 4),
            // Two instances of a fixed-size option concatenate (RFC 3396) to a wrong size.
            ([opt(53, &[5]), opt(53, &[5])].concat(), 2, 1),
        ];
        for (bad, len, expected) in cases {
            let code = OptionCode(bad[0]);
            let bytes = Header::new(2).encode(&[vec![0], bad].concat());
            assert_eq!(
                parse_dhcpv4(&bytes),
                Err(AaaError::DhcpOptionValueLength {
                    code,
                    offset: OPTIONS_OFFSET + 1,
                    len,
                    expected,
                })
            );
        }
    }

    #[test]
    fn relay_sub_option_overrun() {
        let value = [opt(1, b"port-1"), vec![2, 9, b'x']].concat();
        let bytes = Header::new(2).encode(&[opt(53, &[5]), opt(82, &value)].concat());
        assert_eq!(
            parse_dhcpv4(&bytes),
            Err(AaaError::DhcpRelaySubOptionOverrun {
                sub_code: 2,
                offset: OPTIONS_OFFSET + 3,
                sub_offset: 8,
            })
        );
        // A sub-option code without its length octet.
        let bytes = Header::new(2).encode(&opt(82, &[1]));
        assert_eq!(
            parse_dhcpv4(&bytes),
            Err(AaaError::DhcpRelaySubOptionOverrun {
                sub_code: 1,
                offset: OPTIONS_OFFSET,
                sub_offset: 0,
            })
        );
    }

    #[test]
    fn split_options_are_concatenated() {
        // RFC 3396: a long option sent as several instances, here with other options between.
        let relay = relay_agent(b"circuit", b"remote");
        let (first, second) = relay.split_at(5);
        let options = [
            opt(82, first),
            opt(12, b"lap"),
            opt(53, &[5]),
            opt(82, second),
            opt(12, b"top"),
            vec![255],
        ]
        .concat();
        let message = parse_dhcpv4(&Header::new(2).encode(&options)).unwrap();
        assert_eq!(message.hostname.as_deref(), Some(&b"laptop"[..]));
        assert_eq!(
            message.relay_agent,
            Some(RelayAgentInfo {
                circuit_id: Some(b"circuit".to_vec()),
                remote_id: Some(b"remote".to_vec()),
            })
        );
    }

    #[test]
    fn empty_variable_length_options_are_absent() {
        let options = [
            opt(12, b""),
            opt(61, b""),
            opt(82, &[opt(1, b""), opt(1, b"second")].concat()),
        ]
        .concat();
        let message = parse_dhcpv4(&Header::new(1).encode(&options)).unwrap();
        assert_eq!(message.hostname, None);
        assert_eq!(message.client_id, None);
        assert_eq!(
            message.relay_agent,
            Some(RelayAgentInfo {
                circuit_id: Some(b"second".to_vec()),
                remote_id: None,
            })
        );
        let empty_82 = parse_dhcpv4(&Header::new(1).encode(&opt(82, &[]))).unwrap();
        assert_eq!(empty_82.relay_agent, Some(RelayAgentInfo::default()));
    }

    #[test]
    fn overload_option_is_ignored() {
        // Option 52 says sname and file hold options; they are not read.
        let options = [opt(52, &[3]), opt(53, &[5]), vec![255]].concat();
        let message = parse_dhcpv4(&Header::new(2).encode(&options)).unwrap();
        assert_eq!(message.message_type, Some(DhcpMessageType::Ack));
    }

    #[test]
    fn errors_name_the_option() {
        let error = AaaError::DhcpOptionOverrun {
            code: OptionCode::RELAY_AGENT_INFORMATION,
            offset: 250,
            length: 12,
            available: 3,
        };
        assert_eq!(
            error.to_string(),
            "DHCP option 82 (Relay Agent Information) at offset 250: length 12 runs past the \
             end of the message (3 octets left after the length octet)"
        );
    }

    // ----- property tests -------------------------------------------------------------------

    fn variable() -> impl Strategy<Value = Option<Vec<u8>>> {
        proptest::option::of(vec(any::<u8>(), 1..=60))
    }

    /// A message and an encoding of it: options in random order, long ones split (RFC 3396),
    /// pads sprinkled, End present or not.
    #[derive(Debug, Clone)]
    struct Spec {
        header: (bool, u32, [u8; 16], [[u8; 4]; 4]),
        message_type: Option<u8>,
        lease_time: Option<u32>,
        server_id: Option<[u8; 4]>,
        requested_ip: Option<[u8; 4]>,
        client_id: Option<Vec<u8>>,
        hostname: Option<Vec<u8>>,
        relay: Option<RelayAgentInfo>,
        split_at: usize,
        pads: usize,
        end: bool,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            (
                any::<bool>(),
                any::<u32>(),
                any::<[u8; 16]>(),
                any::<[[u8; 4]; 4]>(),
            ),
            (
                any::<Option<u8>>(),
                any::<Option<u32>>(),
                any::<Option<[u8; 4]>>(),
                any::<Option<[u8; 4]>>(),
            ),
            (
                variable(),
                variable(),
                proptest::option::of((variable(), variable())),
            ),
            (any::<usize>(), 0usize..4, any::<bool>()),
        )
            .prop_map(|(header, fixed, var, layout)| Spec {
                header,
                message_type: fixed.0,
                lease_time: fixed.1,
                server_id: fixed.2,
                requested_ip: fixed.3,
                client_id: var.0,
                hostname: var.1,
                relay: var.2.map(|(circuit_id, remote_id)| RelayAgentInfo {
                    circuit_id,
                    remote_id,
                }),
                split_at: layout.0,
                pads: layout.1,
                end: layout.2,
            })
    }

    /// Encodes a variable-length option, split in two instances at `split_at`.
    fn split_opt(code: u8, value: &[u8], split_at: usize) -> Vec<Vec<u8>> {
        let at = split_at % (value.len() + 1);
        let (a, b) = value.split_at(at);
        vec![opt(code, a), opt(code, b)]
    }

    fn encode(spec: &Spec, order: &[usize]) -> Vec<u8> {
        let (reply, xid, chaddr, [ciaddr, yiaddr, siaddr, giaddr]) = spec.header;
        let header = Header {
            op: if reply { 2 } else { 1 },
            htype: 1,
            hlen: 6,
            xid,
            ciaddr,
            yiaddr,
            siaddr,
            giaddr,
            chaddr,
        };
        let mut options = Vec::new();
        if let Some(t) = spec.message_type {
            options.push(opt(53, &[t]));
        }
        if let Some(t) = spec.lease_time {
            options.push(opt(51, &t.to_be_bytes()));
        }
        if let Some(a) = spec.server_id {
            options.push(opt(54, &a));
        }
        if let Some(a) = spec.requested_ip {
            options.push(opt(50, &a));
        }
        if let Some(v) = &spec.client_id {
            options.extend(split_opt(61, v, spec.split_at));
        }
        if let Some(v) = &spec.hostname {
            options.push(opt(12, v));
        }
        if let Some(relay) = &spec.relay {
            let mut value = Vec::new();
            if let Some(c) = &relay.circuit_id {
                value.extend(opt(1, c));
            }
            if let Some(r) = &relay.remote_id {
                value.extend(opt(2, r));
            }
            options.extend(split_opt(82, &value, spec.split_at));
        }
        options.push(opt(200, b"unknown"));
        // Shuffle, keeping the relative order of split instances (concatenation order).
        let mut ordered = Vec::new();
        for &pick in order {
            if options.is_empty() {
                break;
            }
            let candidate = pick % options.len();
            let code = options[candidate][0];
            let first_of_code = options.iter().position(|o| o[0] == code).unwrap();
            ordered.push(options.remove(first_of_code));
            ordered.push(vec![0; spec.pads]);
        }
        ordered.extend(options);
        if spec.end {
            ordered.push(vec![255, 0, 0]);
        }
        header.encode(&ordered.concat())
    }

    fn expected(spec: &Spec) -> DhcpMessage {
        let (reply, xid, chaddr, [ciaddr, yiaddr, siaddr, giaddr]) = spec.header;
        DhcpMessage {
            op: if reply {
                BootpOp::BootReply
            } else {
                BootpOp::BootRequest
            },
            xid,
            client_mac: chaddr.first_chunk::<6>().copied(),
            ciaddr: ciaddr.into(),
            yiaddr: yiaddr.into(),
            siaddr: siaddr.into(),
            giaddr: giaddr.into(),
            message_type: spec.message_type.map(DhcpMessageType::from),
            lease_time: spec.lease_time,
            server_id: spec.server_id.map(Ipv4Addr::from),
            requested_ip: spec.requested_ip.map(Ipv4Addr::from),
            client_id: spec.client_id.clone(),
            hostname: spec.hostname.clone(),
            relay_agent: spec.relay.clone(),
        }
    }

    proptest! {
        #[test]
        fn generated_messages_parse_back(spec in spec(), order in vec(any::<usize>(), 0..12)) {
            let bytes = encode(&spec, &order);
            prop_assert_eq!(parse_dhcpv4(&bytes).unwrap(), expected(&spec));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..400)) {
            let _ = parse_dhcpv4(&bytes);
        }

        #[test]
        fn arbitrary_options_never_panic(
            reply in any::<bool>(),
            options in vec(any::<u8>(), 0..300),
        ) {
            // A valid header and cookie over random octets reaches the option decoders.
            let bytes = Header::new(if reply { 2 } else { 1 }).encode(&options);
            let _ = parse_dhcpv4(&bytes);
        }

        #[test]
        fn arbitrary_relay_agent_never_panics(value in vec(any::<u8>(), 0..=255)) {
            let bytes = Header::new(1).encode(&opt(82, &value));
            let _ = parse_dhcpv4(&bytes);
        }
    }
}
