//! What the li-capture benchmarks share: the 10,000 generated targets and their tasks, and a
//! small deterministic random generator for the traffic.

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
