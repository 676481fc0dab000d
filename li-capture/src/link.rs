//! Link-layer types of captured frames.

/// The link-layer header type of a captured frame (tcpdump.org LINKTYPE values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): IEEE 802.3 Ethernet.
    Ethernet,
    /// `LINKTYPE_RAW` (101): raw IPv4 or IPv6, told apart by the version nibble.
    RawIp,
    /// `LINKTYPE_LINUX_SLL` (113): Linux cooked capture v1.
    LinuxSll,
    /// `LINKTYPE_IPV4` (228): raw IPv4.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): raw IPv6.
    Ipv6,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux cooked capture v2.
    LinuxSll2,
    /// `LINKTYPE_NULL` (0): BSD loopback, a 4-octet address family in the capturing host's
    /// byte order, then the packet.
    Null,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, the same with the family in network byte
    /// order.
    Loop,
}

impl LinkType {
    /// The link type for a LINKTYPE value, if supported. DLT_RAW's platform values 12 and 14
    /// are accepted as raw IP too.
    pub fn from_linktype(value: u32) -> Option<Self> {
        Some(match value {
            1 => Self::Ethernet,
            101 | 12 | 14 => Self::RawIp,
            113 => Self::LinuxSll,
            228 => Self::Ipv4,
            229 => Self::Ipv6,
            276 => Self::LinuxSll2,
            0 => Self::Null,
            108 => Self::Loop,
            _ => return None,
        })
    }

    /// The LINKTYPE value written to capture files.
    pub fn to_linktype(self) -> u32 {
        match self {
            Self::Ethernet => 1,
            Self::RawIp => 101,
            Self::LinuxSll => 113,
            Self::Ipv4 => 228,
            Self::Ipv6 => 229,
            Self::LinuxSll2 => 276,
            Self::Null => 0,
            Self::Loop => 108,
        }
    }
}
