//! What the li-capture benchmarks share: the 10,000 generated targets and their tasks, a
//! small deterministic random generator for the traffic, and the traffic's frames.

use li_capture::classify::{Classifier, ClassifierConfig};
use li_core::{
    DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, IpPrefix, Liid,
    TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
};

/// Tasks, one target each: 9,900 /32 addresses and 100 /24 prefixes.
pub(crate) const TARGETS: u32 = 10_000;

/// xorshift64: repeatable traffic, no dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The `i`-th target's IPv4 address.
pub(crate) fn target_addr(i: u32) -> u32 {
    // 100.64.0.0/10 (carrier-grade NAT space), spread out.
    0x6440_0000 | (i.wrapping_mul(2_654_435_761) & 0x003f_ffff)
}

/// Appends one Ethernet/IPv4 frame of `size` octets (at least 64) drawn from the random `r`:
/// about 1 % to or from a target, TCP or UDP, from or to a host in 192.0.0.0/8. `macs`: the
/// destination and source MAC addresses. With `same_space`, the other subscribers share the
/// targets' address space (100.64.0.0/10), else they are in 10.0.0.0/8.
pub(crate) fn push_frame(
    data: &mut Vec<u8>,
    macs: &[u8; 12],
    r: u64,
    size: usize,
    same_space: bool,
) {
    let target = (r >> 8).is_multiple_of(100);
    let a = if target {
        target_addr(((r >> 16) % u64::from(TARGETS)) as u32)
    } else if same_space {
        0x6440_0000 | ((r >> 16) as u32 & 0x003f_ffff)
    } else {
        0x0a00_0000 | ((r >> 16) as u32 & 0x00ff_ffff)
    };
    let b = 0xc000_0000 | ((r >> 40) as u32 & 0x00ff_ffff);
    let (src, dst) = if r & 1 == 0 { (a, b) } else { (b, a) };
    let tcp = r & 2 == 0;
    let ip_len = size - 14;
    data.extend_from_slice(macs);
    data.extend_from_slice(&[0x08, 0x00]);
    data.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        0,
        0x40,
        0,
        64,
    ]);
    data.push(if tcp { 6 } else { 17 });
    data.extend_from_slice(&[0, 0]);
    data.extend_from_slice(&src.to_be_bytes());
    data.extend_from_slice(&dst.to_be_bytes());
    let l4 = ip_len - 20;
    if tcp {
        data.extend_from_slice(&[
            0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
        ]);
        data.resize(data.len() + l4 - 20, 0xab);
    } else {
        data.extend_from_slice(&[0xc3, 0x50, 0x00, 0x35, (l4 >> 8) as u8, l4 as u8, 0, 0]);
        data.resize(data.len() + l4 - 8, 0xcd);
    }
}

/// A classifier with every target's task (IRI and CC) active from `start`.
pub(crate) fn classifier(start: Timestamp) -> Classifier {
    let mut c = Classifier::new(ClassifierConfig::default());
    let mut out = Vec::new();
    for i in 0..TARGETS {
        let addr = target_addr(i);
        let target = if i.is_multiple_of(100) {
            TargetIdentifier::IpPrefix(
                IpPrefix::new(std::net::Ipv4Addr::from(addr & 0xffff_ff00).into(), 24).unwrap(),
            )
        } else {
            TargetIdentifier::ipv4(addr.into())
        };
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        let task = Task::new(
            Liid::new(format!("LIID-{i}").as_bytes()).unwrap(),
            Xid::from_bytes(id),
            vec![target],
            InterceptScope::IriAndCc,
            ValidityWindow::new(start, None).unwrap(),
            vec![Destination::new(
                DestinationId::from_bytes(id),
                DeliveryAddress::new("lemf", 1, true),
                Some(DeliveryAddress::new("lemf", 2, true)),
                HandoverFormat::etsi_default(),
            )],
        )
        .unwrap();
        c.activate(task, start, &mut out);
    }
    c
}
