//! Rebuilding the IP datagram of a UDP packet from its addresses and payload: for handover
//! formats that carry the whole datagram (PacketCable call content) when the record holds
//! only the payload and the flow's addresses (a call's RTP and RTCP).
//!
//! The datagram is IPv4 (no options, DF set, TTL 64, identification 0) or IPv6 (hop limit
//! 64, no extension headers) with a UDP header and a valid UDP checksum (and IPv4 header
//! checksum), written into the caller's buffer: nothing is allocated per packet.
//!
//! ```
//! use li_core::checksum::internet_checksum;
//! use li_core::datagram::write_udp;
//!
//! let (from, to) = ("192.0.2.1:40000".parse()?, "198.51.100.7:50000".parse()?);
//! let mut out = Vec::new();
//! let n = write_udp(from, to, b"rtp", &mut out)?;
//! assert_eq!((n, out.len()), (31, 31));
//! assert_eq!(out[0], 0x45);
//! assert_eq!(internet_checksum(0, &out[..20]), 0, "the IPv4 header verifies");
//! assert_eq!(&out[28..], b"rtp");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, SocketAddr};

use crate::checksum::{internet_checksum, ones_complement_sum};

/// The UDP protocol number (IPv4 `protocol`, IPv6 `next header`).
const UDP: u8 = 17;
/// The TTL / hop limit written.
const HOP_LIMIT: u8 = 64;

/// Why a datagram cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatagramError {
    /// One address is IPv4, the other IPv6.
    #[error("source {source_addr} and destination {destination} are not of one IP version")]
    MixedFamilies {
        /// The source address.
        source_addr: SocketAddr,
        /// The destination address.
        destination: SocketAddr,
    },
    /// The payload does not fit one IP datagram.
    #[error("a UDP payload of {len} octets does not fit one IP datagram")]
    TooLong {
        /// The payload's length.
        len: usize,
    },
}

/// Appends the IP datagram carrying `payload` in UDP from `source` to `destination` to
/// `out`; returns its length.
///
/// # Errors
///
/// [`DatagramError`]: mixed IP versions, or a payload over 65,507 octets (IPv4) or 65,527
/// (IPv6). Nothing is appended then.
pub fn write_udp(
    source: SocketAddr,
    destination: SocketAddr,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, DatagramError> {
    let too_long = || DatagramError::TooLong { len: payload.len() };
    let udp_len = u16::try_from(payload.len() + 8).map_err(|_| too_long())?;
    let ports = |out: &mut Vec<u8>| {
        out.extend_from_slice(&source.port().to_be_bytes());
        out.extend_from_slice(&destination.port().to_be_bytes());
        out.extend_from_slice(&udp_len.to_be_bytes());
    };
    // The pseudo-header's protocol and length words, shared by both versions.
    let pseudo_tail = u32::from(UDP) + u32::from(udp_len);
    let start = out.len();
    match (source.ip(), destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(usize::from(udp_len) + 20).map_err(|_| too_long())?;
            let (s, d) = (s.octets(), d.octets());
            let mut header = [0u8; 20];
            header[0] = 0x45;
            header[2..4].copy_from_slice(&total.to_be_bytes());
            header[6] = 0x40; // don't fragment
            header[8] = HOP_LIMIT;
            header[9] = UDP;
            header[12..16].copy_from_slice(&s);
            header[16..20].copy_from_slice(&d);
            let sum = internet_checksum(0, &header);
            header[10..12].copy_from_slice(&sum.to_be_bytes());
            out.extend_from_slice(&header);
            let pseudo = ones_complement_sum(ones_complement_sum(pseudo_tail, &s), &d);
            udp(out, pseudo, ports, payload);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let (s, d) = (s.octets(), d.octets());
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&udp_len.to_be_bytes());
            out.extend_from_slice(&[UDP, HOP_LIMIT]);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
            let pseudo = ones_complement_sum(ones_complement_sum(pseudo_tail, &s), &d);
            udp(out, pseudo, ports, payload);
        }
        _ => {
            return Err(DatagramError::MixedFamilies {
                source_addr: source,
                destination,
            });
        }
    }
    Ok(out.len() - start)
}

/// Appends the UDP header (ports and length by `ports`, the checksum over `pseudo` and the
/// segment) and the payload.
fn udp(out: &mut Vec<u8>, pseudo: u32, ports: impl Fn(&mut Vec<u8>), payload: &[u8]) {
    let at = out.len();
    ports(out);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    let sum = out
        .get(at..)
        .map_or(0, |segment| internet_checksum(pseudo, segment));
    // A computed zero is sent as all ones (RFC 768; mandatory for IPv6, RFC 8200).
    let sum = if sum == 0 { 0xffff } else { sum };
    if let Some(field) = out.get_mut(at + 6..at + 8) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The UDP checksum verifies over the pseudo-header and the segment (sum zero, or the
    /// all-ones form).
    fn udp_verifies(datagram: &[u8], v6: bool) -> bool {
        let (ip_len, addrs) = if v6 { (40, 8..40) } else { (20, 12..20) };
        let segment = &datagram[ip_len..];
        let pseudo = ones_complement_sum(u32::from(UDP) + segment.len() as u32, &datagram[addrs]);
        internet_checksum(pseudo, segment) == 0
    }

    #[test]
    fn an_ipv6_datagram_has_its_fixed_header_and_a_checksum_that_verifies() {
        let (from, to) = (
            "[2001:db8::1]:40000".parse().unwrap(),
            "[2001:db8::2]:50000".parse().unwrap(),
        );
        let mut out = vec![0xaa];
        let n = write_udp(from, to, b"payload", &mut out).unwrap();
        assert_eq!(n, 40 + 8 + 7);
        let d = &out[1..];
        assert_eq!(d[0] >> 4, 6);
        assert_eq!(u16::from_be_bytes([d[4], d[5]]), 15, "payload length");
        assert_eq!((d[6], d[7]), (UDP, 64));
        assert_eq!(u16::from_be_bytes([d[40], d[41]]), 40000);
        assert_eq!(u16::from_be_bytes([d[42], d[43]]), 50000);
        assert!(udp_verifies(d, true));
        assert_ne!(
            u16::from_be_bytes([d[46], d[47]]),
            0,
            "IPv6 UDP checksums are never 0"
        );
    }

    #[test]
    fn mixed_versions_and_oversized_payloads_are_refused_and_append_nothing() {
        let mut out = Vec::new();
        let v4: SocketAddr = "192.0.2.1:1".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:1".parse().unwrap();
        assert!(matches!(
            write_udp(v4, v6, b"x", &mut out),
            Err(DatagramError::MixedFamilies { .. })
        ));
        let big = vec![0u8; 65_508];
        assert_eq!(
            write_udp(v4, v4, &big, &mut out),
            Err(DatagramError::TooLong { len: 65_508 })
        );
        assert!(out.is_empty());
        assert_eq!(write_udp(v4, v4, &big[1..], &mut out), Ok(65_535));
    }

    proptest! {
        #[test]
        fn every_datagram_verifies(
            v6 in any::<bool>(),
            a in any::<[u8; 16]>(),
            b in any::<[u8; 16]>(),
            ports in any::<(u16, u16)>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let (s, d): (SocketAddr, SocketAddr) = if v6 {
                ((std::net::Ipv6Addr::from(a), ports.0).into(), (std::net::Ipv6Addr::from(b), ports.1).into())
            } else {
                let (a4, b4) = ([a[0], a[1], a[2], a[3]], [b[0], b[1], b[2], b[3]]);
                ((std::net::Ipv4Addr::from(a4), ports.0).into(), (std::net::Ipv4Addr::from(b4), ports.1).into())
            };
            let mut out = Vec::new();
            write_udp(s, d, &payload, &mut out).unwrap();
            let ip_len = if v6 { 40 } else { 20 };
            prop_assert_eq!(out.len(), ip_len + 8 + payload.len());
            if !v6 {
                prop_assert_eq!(internet_checksum(0, &out[..20]), 0);
            }
            prop_assert!(udp_verifies(&out, v6));
            prop_assert_eq!(&out[ip_len + 8..], payload.as_slice());
        }
    }
}
