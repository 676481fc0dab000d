//! Warrants as executed: [`Task`], its scope, validity window and delivery destinations.
//!
//! A [`Task`] is one warrant as provisioned for one LIID (ETSI TS 103 221-1 clause 6.2.1
//! `ActivateTask`, clause 6.2.1.2 `TaskDetails`): which targets to intercept, what to deliver (IRI only, or IRI and CC),
//! when, and to which agency destinations in which handover format. It is built through
//! [`Task::builder`] (or [`Task::new`]), which checks the whole task at once.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::id::{CountryCode, DestinationId, Liid, Xid};
use crate::target::TargetIdentifier;
use crate::time::Timestamp;

/// One warrant as executed for one LIID: valid by construction.
///
/// Guarantees: at least one target and no duplicate targets; at least one destination and
/// no duplicate destination ids; every [`Destination`] has a non-empty host and a non-zero
/// port, and a HI3 address if the scope includes CC.
///
/// ```
/// use li_core::{
///     DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, Liid, Task,
///     Timestamp, ValidityWindow, Xid,
/// };
///
/// let start = Timestamp::from_secs_micros(1_704_067_200, 0)?;
/// let task = Task::builder(
///     Liid::new(b"LIID-0001")?,
///     Xid::new_v4_from_random([7; 16]),
///     InterceptScope::IriAndCc,
///     ValidityWindow::new(start, None)?,
/// )
/// .target("ipv4:192.0.2.1".parse()?)
/// .destination(Destination::new(
///     DestinationId::new_v4_from_random([9; 16]),
///     DeliveryAddress::new("lea.example", 6000, true),
///     Some(DeliveryAddress::new("lea.example", 6001, true)),
///     HandoverFormat::etsi_default(),
/// ))
/// .build()?;
///
/// assert!(task.may_deliver_cc(start));
/// assert!(!task.covers(Timestamp::UNIX_EPOCH));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Destinations, full or by reference
///
/// `D` is how the task names its destinations. An ADMF, which knows the agencies, keeps
/// `Task<Destination>` (the default): each destination with its addresses and format. A
/// network function provisioned over X1, where a task refers to destinations created apart
/// (TS 103 221-1 `ListOfDIDs`), keeps `Task<DestinationId>`. Both are the same task with
/// the same checks; [`Task::into_destination_ids`] turns the first into the second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task<D = Destination> {
    liid: Liid,
    xid: Xid,
    targets: Vec<TargetIdentifier>,
    scope: InterceptScope,
    window: ValidityWindow,
    destinations: Vec<D>,
    authorization_country_code: Option<CountryCode>,
    delivery_country_code: Option<CountryCode>,
}

/// Collects the parts of a [`Task`]; [`TaskBuilder::build`] checks them.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TaskBuilder<D = Destination> {
    task: Task<D>,
}

/// How a [`Task`] names one of its destinations: a full [`Destination`], or its
/// [`DestinationId`] alone.
pub trait TaskDestination {
    /// The destination identifier (TS 103 221-1 `DId`); distinct within a task.
    fn id(&self) -> DestinationId;

    /// Checks the destination for a task of this `scope` ([`TaskBuilder::build`] calls it
    /// after the identifiers are found distinct).
    ///
    /// # Errors
    ///
    /// The [`Error`] naming what is wrong with the destination.
    fn check(&self, scope: InterceptScope) -> Result<()>;
}

impl TaskDestination for Destination {
    fn id(&self) -> DestinationId {
        self.id
    }

    /// Every address usable ([`Error::InvalidDeliveryAddress`]), a HI3 address when the
    /// scope includes CC ([`Error::MissingHi3`]), a name if any without control characters
    /// and not empty ([`Error::InvalidDestinationName`]).
    fn check(&self, scope: InterceptScope) -> Result<()> {
        for address in core::iter::once(&self.hi2).chain(&self.hi3) {
            address
                .check()
                .map_err(|reason| Error::InvalidDeliveryAddress {
                    destination: self.id,
                    reason,
                })?;
        }
        if scope.delivers_cc() && self.hi3.is_none() {
            return Err(Error::MissingHi3 {
                destination: self.id,
            });
        }
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().any(char::is_control))
        {
            return Err(Error::InvalidDestinationName {
                destination: self.id,
            });
        }
        Ok(())
    }
}

/// A destination named by its identifier alone: its addresses and format are known apart
/// (an X1 `CreateDestination`), so there is nothing more to check here.
impl TaskDestination for DestinationId {
    fn id(&self) -> DestinationId {
        *self
    }

    fn check(&self, _scope: InterceptScope) -> Result<()> {
        Ok(())
    }
}

/// What a task delivers (TS 103 221-1 clause 6.2.1.2 `DeliveryType` `X2Only` / `X2andX3`;
/// `X3Only` is not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterceptScope {
    /// Intercept related information only (HI2): no content of communication.
    IriOnly,
    /// Intercept related information (HI2) and content of communication (HI3).
    IriAndCc,
}

/// When a task is in force: from `start` (inclusive) until `end` (exclusive), or
/// indefinitely when `end` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ValidityWindow {
    start: Timestamp,
    end: Option<Timestamp>,
}

/// An agency delivery destination (TS 103 221-1 clause 6.3.1.2 `DestinationDetails`).
///
/// Plain data; [`Task`] construction checks it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Destination {
    /// The destination identifier (`DId`).
    pub id: DestinationId,
    /// Where IRI is delivered (HI2).
    pub hi2: DeliveryAddress,
    /// Where CC is delivered (HI3); required when the task's scope includes CC.
    pub hi3: Option<DeliveryAddress>,
    /// The handover format the agency expects.
    pub format: HandoverFormat,
    /// The agency's name for operators and logs (TS 103 221-1 `friendlyName`): not empty,
    /// no control characters.
    pub name: Option<String>,
}

/// A delivery endpoint, as configured: host name or address text, port and whether to use
/// TLS. Plain data; nothing is resolved here.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryAddress {
    /// Host name or IP address literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Whether the connection uses TLS.
    pub tls: bool,
}

/// The handover standard and version used towards a destination.
///
/// Only [`HandoverFormat::Etsi102232`] is produced in this wave; the others are
/// placeholders carrying their version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandoverFormat {
    /// ETSI TS 102 232-1 `PS-PDU` with TS 102 232-3 IP access and TS 102 232-5 IP
    /// multimedia services.
    Etsi102232 {
        /// Version of the `LI-PS-PDU` ASN.1 module (TS 102 232-1).
        ps_pdu_version: u16,
        /// Version of the `IPAccessPDU` ASN.1 module (TS 102 232-3).
        ip_access_version: u16,
        /// Version of the `IPMultimediaPDU` ASN.1 module (TS 102 232-5): the object
        /// identifiers of the voice IRI and CC (`iPMMIRIObjId`, `iPMMCCObjId`) name it.
        /// [`HandoverFormat::DEFAULT_IP_MULTIMEDIA_VERSION`] unless an agency asks for another.
        ip_multimedia_version: u16,
    },
    /// ATIS-1000013 (CALEA broadband / IP network access).
    Atis1000013 {
        /// Standard version.
        version: u16,
    },
    /// ATIS-1000678 (CALEA VoIP).
    Atis1000678 {
        /// Standard version.
        version: u16,
    },
    /// CableLabs PacketCable electronic surveillance.
    PacketCable {
        /// Specification version.
        version: u16,
    },
}

impl<D: TaskDestination> Task<D> {
    /// A builder for the task `liid`/`xid` with this scope and window; add targets and
    /// destinations, then call [`TaskBuilder::build`].
    pub fn builder(
        liid: Liid,
        xid: Xid,
        scope: InterceptScope,
        window: ValidityWindow,
    ) -> TaskBuilder<D> {
        TaskBuilder {
            task: Self {
                liid,
                xid,
                targets: Vec::new(),
                scope,
                window,
                destinations: Vec::new(),
                authorization_country_code: None,
                delivery_country_code: None,
            },
        }
    }

    /// The checked task with these parts and no country codes; same checks as
    /// [`TaskBuilder::build`].
    pub fn new(
        liid: Liid,
        xid: Xid,
        targets: Vec<TargetIdentifier>,
        scope: InterceptScope,
        window: ValidityWindow,
        destinations: Vec<D>,
    ) -> Result<Self> {
        Self::builder(liid, xid, scope, window)
            .targets(targets)
            .destinations(destinations)
            .build()
    }

    /// A builder holding this task's parts, to derive a modified task (TS 103 221-1
    /// `ModifyTask`).
    pub fn into_builder(self) -> TaskBuilder<D> {
        TaskBuilder { task: self }
    }

    /// The LIID (TS 102 232-1 clause 5.2.2).
    pub fn liid(&self) -> Liid {
        self.liid
    }

    /// The task identifier (TS 103 221-1 `XID`).
    pub fn xid(&self) -> Xid {
        self.xid
    }

    /// The target identifiers (at least one).
    pub fn targets(&self) -> &[TargetIdentifier] {
        &self.targets
    }

    /// What the task delivers.
    pub fn scope(&self) -> InterceptScope {
        self.scope
    }

    /// When the task is in force.
    pub fn window(&self) -> ValidityWindow {
        self.window
    }

    /// The delivery destinations (at least one).
    pub fn destinations(&self) -> &[D] {
        &self.destinations
    }

    /// The destination with identifier `id`.
    pub fn destination(&self, id: DestinationId) -> Option<&D> {
        self.destinations.iter().find(|d| d.id() == id)
    }

    /// The same task naming its destinations by identifier only (what a network function
    /// keeps when the destinations' details live apart). Nothing to check: the identifiers
    /// were distinct already.
    pub fn into_destination_ids(self) -> Task<DestinationId> {
        Task {
            destinations: self.destinations.iter().map(TaskDestination::id).collect(),
            liid: self.liid,
            xid: self.xid,
            targets: self.targets,
            scope: self.scope,
            window: self.window,
            authorization_country_code: self.authorization_country_code,
            delivery_country_code: self.delivery_country_code,
        }
    }

    /// The country of the authorising body (TS 102 232-1 clause 5.2.3
    /// `authorizationCountryCode`).
    pub fn authorization_country_code(&self) -> Option<CountryCode> {
        self.authorization_country_code
    }

    /// The country of delivery (TS 102 232-1 clause 5.2.4 `deliveryCountryCode`).
    pub fn delivery_country_code(&self) -> Option<CountryCode> {
        self.delivery_country_code
    }

    /// Whether the task is in force at `time`.
    pub fn covers(&self, time: Timestamp) -> bool {
        self.window.contains(time)
    }

    /// Whether content of communication may be delivered at `time`: the task is in force
    /// and its scope includes CC.
    pub fn may_deliver_cc(&self, time: Timestamp) -> bool {
        self.scope.delivers_cc() && self.covers(time)
    }

    /// Whether any target identifier matches `ip` (see [`TargetIdentifier::matches_ip`]).
    pub fn matches_ip(&self, ip: std::net::IpAddr) -> bool {
        self.targets.iter().any(|t| t.matches_ip(ip))
    }
}

impl<D: TaskDestination> TaskBuilder<D> {
    /// Adds a target identifier.
    pub fn target(mut self, target: TargetIdentifier) -> Self {
        self.task.targets.push(target);
        self
    }

    /// Adds target identifiers.
    pub fn targets(mut self, targets: impl IntoIterator<Item = TargetIdentifier>) -> Self {
        self.task.targets.extend(targets);
        self
    }

    /// Removes every target identifier (for [`Task::into_builder`]).
    pub fn clear_targets(mut self) -> Self {
        self.task.targets.clear();
        self
    }

    /// Adds a delivery destination.
    pub fn destination(mut self, destination: D) -> Self {
        self.task.destinations.push(destination);
        self
    }

    /// Adds delivery destinations.
    pub fn destinations(mut self, destinations: impl IntoIterator<Item = D>) -> Self {
        self.task.destinations.extend(destinations);
        self
    }

    /// Removes every destination (for [`Task::into_builder`]).
    pub fn clear_destinations(mut self) -> Self {
        self.task.destinations.clear();
        self
    }

    /// Replaces the LIID (a TS 103 221-1 `ModifyTask` may give the task another).
    pub fn liid(mut self, liid: Liid) -> Self {
        self.task.liid = liid;
        self
    }

    /// Replaces the scope.
    pub fn scope(mut self, scope: InterceptScope) -> Self {
        self.task.scope = scope;
        self
    }

    /// Replaces the validity window.
    pub fn window(mut self, window: ValidityWindow) -> Self {
        self.task.window = window;
        self
    }

    /// Sets the authorisation country code.
    pub fn authorization_country_code(mut self, code: Option<CountryCode>) -> Self {
        self.task.authorization_country_code = code;
        self
    }

    /// Sets the delivery country code.
    pub fn delivery_country_code(mut self, code: Option<CountryCode>) -> Self {
        self.task.delivery_country_code = code;
        self
    }

    /// Checks and returns the task.
    ///
    /// # Errors
    ///
    /// [`Error::NoTargets`], [`Error::DuplicateTarget`], [`Error::NoDestinations`],
    /// [`Error::DuplicateDestination`], then each destination's
    /// [`TaskDestination::check`]; for a [`Destination`]: [`Error::InvalidDeliveryAddress`]
    /// (empty host, host with whitespace or control characters or longer than 253 octets,
    /// port 0), [`Error::MissingHi3`] (CC scope, destination without HI3) and
    /// [`Error::InvalidDestinationName`], checked in this order.
    pub fn build(self) -> Result<Task<D>> {
        let task = self.task;
        if task.targets.is_empty() {
            return Err(Error::NoTargets);
        }
        let mut seen_targets = HashSet::with_capacity(task.targets.len());
        for (index, target) in task.targets.iter().enumerate() {
            if !seen_targets.insert(target) {
                return Err(Error::DuplicateTarget { index });
            }
        }
        if task.destinations.is_empty() {
            return Err(Error::NoDestinations);
        }
        let mut seen_ids = HashSet::with_capacity(task.destinations.len());
        for destination in &task.destinations {
            let id = destination.id();
            if !seen_ids.insert(id) {
                return Err(Error::DuplicateDestination { id });
            }
            destination.check(task.scope)?;
        }
        Ok(task)
    }
}

impl InterceptScope {
    /// Whether content of communication is delivered.
    pub const fn delivers_cc(self) -> bool {
        matches!(self, Self::IriAndCc)
    }
}

impl ValidityWindow {
    /// The window that is always in force.
    pub const ALWAYS: Self = Self {
        start: Timestamp::UNIX_EPOCH,
        end: None,
    };

    /// The window from `start` (inclusive) to `end` (exclusive, `None` for open-ended); fails
    /// with [`Error::InvalidValidityWindow`] unless `end` is after `start`.
    pub fn new(start: Timestamp, end: Option<Timestamp>) -> Result<Self> {
        match end {
            Some(end) if end <= start => Err(Error::InvalidValidityWindow { start, end }),
            _ => Ok(Self { start, end }),
        }
    }

    /// The first instant in force.
    pub const fn start(self) -> Timestamp {
        self.start
    }

    /// The first instant no longer in force, if any.
    pub const fn end(self) -> Option<Timestamp> {
        self.end
    }

    /// Whether `time` is in the window: `start <= time < end`.
    pub fn contains(self, time: Timestamp) -> bool {
        time >= self.start && self.end.is_none_or(|end| time < end)
    }
}

impl Destination {
    /// A destination; checked when the task is built.
    pub fn new(
        id: DestinationId,
        hi2: DeliveryAddress,
        hi3: Option<DeliveryAddress>,
        format: HandoverFormat,
    ) -> Self {
        Self {
            id,
            hi2,
            hi3,
            format,
            name: None,
        }
    }

    /// This destination with a name for operators and logs (checked when the task is built).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl DeliveryAddress {
    /// The address `host:port`, with TLS or not; checked when the task is built.
    pub fn new(host: impl Into<String>, port: u16, tls: bool) -> Self {
        Self {
            host: host.into(),
            port,
            tls,
        }
    }

    /// Why the address is unusable, if it is.
    fn check(&self) -> core::result::Result<(), &'static str> {
        if self.host.is_empty() {
            return Err("host is empty");
        }
        if self.host.len() > 253 {
            return Err("host is longer than 253 octets");
        }
        if self
            .host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("host contains whitespace or a control character");
        }
        if self.port == 0 {
            return Err("port is 0");
        }
        Ok(())
    }
}

impl HandoverFormat {
    /// The TS 102 232-5 `IPMultimediaPDU` module version of [`Self::etsi_default`], and the
    /// one the text form implies when it names none: 14.
    pub const DEFAULT_IP_MULTIMEDIA_VERSION: u16 = 14;

    /// TS 102 232-1 `LI-PS-PDU` version 43 with TS 102 232-3 `IPAccessPDU` version 18 and
    /// TS 102 232-5 `IPMultimediaPDU` version 14: the versions this suite produces by
    /// default.
    pub const fn etsi_default() -> Self {
        Self::Etsi102232 {
            ps_pdu_version: 43,
            ip_access_version: 18,
            ip_multimedia_version: Self::DEFAULT_IP_MULTIMEDIA_VERSION,
        }
    }
}

/// The one text form of a handover format, used in configuration, the warrant store and X1:
/// `etsi-102232:<LI-PS-PDU version>:<IPAccessPDU version>[:<IPMultimediaPDU version>]`,
/// `atis-1000013:<version>`, `atis-1000678:<version>`, `packetcable:<version>`. Its `FromStr`
/// (`str::parse`) reads it back.
///
/// The `IPMultimediaPDU` version is written only when it is not [`HandoverFormat::DEFAULT_IP_MULTIMEDIA_VERSION`],
/// and a text without it means that version: the texts written before the version existed
/// (warrant stores, configurations, X1 URIs) keep their meaning and their form.
///
/// ```
/// use li_core::HandoverFormat;
///
/// assert_eq!(HandoverFormat::etsi_default().to_string(), "etsi-102232:43:18");
/// assert_eq!(
///     "etsi-102232:43:18:14".parse::<HandoverFormat>()?,
///     HandoverFormat::etsi_default()
/// );
/// let older = HandoverFormat::Etsi102232 {
///     ps_pdu_version: 20,
///     ip_access_version: 9,
///     ip_multimedia_version: 12,
/// };
/// assert_eq!(older.to_string(), "etsi-102232:20:9:12");
/// assert_eq!(
///     "packetcable:7".parse::<HandoverFormat>()?,
///     HandoverFormat::PacketCable { version: 7 }
/// );
/// assert!("etsi:43".parse::<HandoverFormat>().is_err());
/// # Ok::<(), li_core::Error>(())
/// ```
impl std::fmt::Display for HandoverFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Etsi102232 {
                ps_pdu_version,
                ip_access_version,
                ip_multimedia_version,
            } => {
                write!(f, "etsi-102232:{ps_pdu_version}:{ip_access_version}")?;
                if ip_multimedia_version != Self::DEFAULT_IP_MULTIMEDIA_VERSION {
                    write!(f, ":{ip_multimedia_version}")?;
                }
                Ok(())
            }
            Self::Atis1000013 { version } => write!(f, "atis-1000013:{version}"),
            Self::Atis1000678 { version } => write!(f, "atis-1000678:{version}"),
            Self::PacketCable { version } => write!(f, "packetcable:{version}"),
        }
    }
}

impl std::str::FromStr for HandoverFormat {
    type Err = Error;

    /// Reads the text [`HandoverFormat`]'s `Display` writes; the name is case-insensitive,
    /// versions are decimal `0..=65535`; an ETSI format without its `IPMultimediaPDU`
    /// version has [`HandoverFormat::DEFAULT_IP_MULTIMEDIA_VERSION`].
    fn from_str(text: &str) -> Result<Self> {
        let bad = || Error::InvalidHandoverFormat {
            input: crate::error::excerpt(text),
        };
        let mut parts = text.trim().split(':');
        let name = parts.next().ok_or_else(bad)?.to_ascii_lowercase();
        let number = |digits: Option<&str>| -> Result<u16> {
            let digits = digits.ok_or_else(bad)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            digits.parse().map_err(|_| bad())
        };
        let format = match name.as_str() {
            "etsi-102232" => Self::Etsi102232 {
                ps_pdu_version: number(parts.next())?,
                ip_access_version: number(parts.next())?,
                ip_multimedia_version: match parts.next() {
                    Some(digits) => number(Some(digits))?,
                    None => Self::DEFAULT_IP_MULTIMEDIA_VERSION,
                },
            },
            "atis-1000013" => Self::Atis1000013 {
                version: number(parts.next())?,
            },
            "atis-1000678" => Self::Atis1000678 {
                version: number(parts.next())?,
            },
            "packetcable" => Self::PacketCable {
                version: number(parts.next())?,
            },
            _ => return Err(bad()),
        };
        match parts.next() {
            None => Ok(format),
            Some(_) => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: u64) -> Timestamp {
        Timestamp::from_secs_micros(secs, 0).unwrap()
    }

    fn did(n: u8) -> DestinationId {
        DestinationId::from_bytes([n; 16])
    }

    fn dest(n: u8, hi3: bool) -> Destination {
        Destination::new(
            did(n),
            DeliveryAddress::new("lea.example", 6000, false),
            hi3.then(|| DeliveryAddress::new("192.0.2.10", 6001, true)),
            HandoverFormat::etsi_default(),
        )
    }

    fn builder(scope: InterceptScope) -> TaskBuilder {
        Task::builder(
            Liid::new(b"LIID-1").unwrap(),
            Xid::from_bytes([1; 16]),
            scope,
            ValidityWindow::new(ts(100), Some(ts(200))).unwrap(),
        )
    }

    fn target(s: &str) -> TargetIdentifier {
        s.parse().unwrap()
    }

    #[test]
    fn a_task_by_destination_id_has_the_same_checks_and_comes_from_a_full_one() {
        let by_id = || {
            Task::<DestinationId>::builder(
                Liid::new(b"LIID-1").unwrap(),
                Xid::from_bytes([1; 16]),
                InterceptScope::IriAndCc,
                ValidityWindow::ALWAYS,
            )
        };
        assert!(matches!(
            by_id().destination(did(1)).build(),
            Err(Error::NoTargets)
        ));
        assert!(matches!(
            by_id().target(target("ipv4:192.0.2.1")).build(),
            Err(Error::NoDestinations)
        ));
        assert!(matches!(
            by_id()
                .target(target("ipv4:192.0.2.1"))
                .destinations([did(1), did(2), did(1)])
                .build(),
            Err(Error::DuplicateDestination { id }) if id == did(1)
        ));
        let task = by_id()
            .target(target("ipv4:192.0.2.1"))
            .destinations([did(1), did(2)])
            .build()
            .unwrap();
        assert_eq!(task.destination(did(2)), Some(&did(2)));
        assert_eq!(task.destination(did(3)), None);

        // A full task names the same destinations by identifier, its other parts kept.
        let full = builder(InterceptScope::IriAndCc)
            .target(target("ipv4:192.0.2.1"))
            .destinations([dest(1, true), dest(2, true)])
            .build()
            .unwrap();
        let ids = full.clone().into_destination_ids();
        assert_eq!(ids.destinations(), &[did(1), did(2)]);
        assert_eq!(
            (
                ids.liid(),
                ids.xid(),
                ids.scope(),
                ids.window(),
                ids.targets()
            ),
            (
                full.liid(),
                full.xid(),
                full.scope(),
                full.window(),
                full.targets()
            )
        );
    }

    #[test]
    fn a_destination_name_must_be_printable_and_not_empty() {
        let with = |name: &str| {
            builder(InterceptScope::IriOnly)
                .target(target("ipv4:192.0.2.1"))
                .destination(dest(1, false).with_name(name))
                .build()
        };
        assert_eq!(
            with("LEA Nord")
                .unwrap()
                .destination(did(1))
                .and_then(|d| d.name.as_deref()),
            Some("LEA Nord")
        );
        for bad in ["", "  ", "bell \u{7}", "two\nlines"] {
            assert!(
                matches!(with(bad), Err(Error::InvalidDestinationName { destination }) if destination == did(1)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn builds_a_valid_task() {
        let cc = CountryCode::new("DE").unwrap();
        let task = builder(InterceptScope::IriAndCc)
            .target(target("ipv4:192.0.2.1"))
            .target(target("username:alice"))
            .destination(dest(1, true))
            .destination(dest(2, true))
            .authorization_country_code(Some(cc))
            .delivery_country_code(Some(cc))
            .build()
            .unwrap();
        assert_eq!(task.liid().as_bytes(), b"LIID-1");
        assert_eq!(task.xid(), Xid::from_bytes([1; 16]));
        assert_eq!(task.targets().len(), 2);
        assert_eq!(task.destinations().len(), 2);
        assert_eq!(task.destination(did(2)), Some(&dest(2, true)));
        assert_eq!(task.destination(did(3)), None);
        assert_eq!(task.authorization_country_code(), Some(cc));
        assert_eq!(task.delivery_country_code(), Some(cc));
        assert!(task.matches_ip("192.0.2.1".parse().unwrap()));
        assert!(!task.matches_ip("192.0.2.2".parse().unwrap()));
    }

    #[test]
    fn new_matches_builder() {
        let via_new = Task::new(
            Liid::new(b"LIID-1").unwrap(),
            Xid::from_bytes([1; 16]),
            vec![target("ipv4:192.0.2.1")],
            InterceptScope::IriOnly,
            ValidityWindow::new(ts(100), Some(ts(200))).unwrap(),
            vec![dest(1, false)],
        )
        .unwrap();
        let via_builder = builder(InterceptScope::IriOnly)
            .target(target("ipv4:192.0.2.1"))
            .destination(dest(1, false))
            .build()
            .unwrap();
        assert_eq!(via_new, via_builder);
    }

    #[test]
    fn rejections() {
        let ok_target = target("ipv4:192.0.2.1");
        let cases: Vec<(TaskBuilder, Error)> = vec![
            (
                builder(InterceptScope::IriOnly).destination(dest(1, false)),
                Error::NoTargets,
            ),
            (
                builder(InterceptScope::IriOnly)
                    .targets([
                        ok_target.clone(),
                        target("mac:00:00:00:00:00:01"),
                        ok_target.clone(),
                    ])
                    .destination(dest(1, false)),
                Error::DuplicateTarget { index: 2 },
            ),
            (
                builder(InterceptScope::IriOnly).target(ok_target.clone()),
                Error::NoDestinations,
            ),
            (
                builder(InterceptScope::IriOnly)
                    .target(ok_target.clone())
                    .destinations([dest(1, false), dest(1, true)]),
                Error::DuplicateDestination { id: did(1) },
            ),
            (
                builder(InterceptScope::IriAndCc)
                    .target(ok_target.clone())
                    .destinations([dest(1, true), dest(2, false)]),
                Error::MissingHi3 {
                    destination: did(2),
                },
            ),
        ];
        for (builder, expected) in cases {
            assert_eq!(builder.build(), Err(expected.clone()), "{expected}");
        }
    }

    #[test]
    fn rejects_bad_delivery_addresses() {
        let cases = [
            ("", 1, "host is empty"),
            (
                "lea example",
                1,
                "host contains whitespace or a control character",
            ),
            ("lea.example", 0, "port is 0"),
        ];
        for (host, port, reason) in cases {
            let mut d = dest(4, true);
            d.hi3 = Some(DeliveryAddress::new(host, port, false));
            let result = builder(InterceptScope::IriOnly)
                .target(target("ipv4:192.0.2.1"))
                .destination(d)
                .build();
            assert_eq!(
                result,
                Err(Error::InvalidDeliveryAddress {
                    destination: did(4),
                    reason
                })
            );
        }
        let mut d = dest(5, false);
        d.hi2.host = "a".repeat(254);
        assert_eq!(
            builder(InterceptScope::IriOnly)
                .target(target("ipv4:192.0.2.1"))
                .destination(d)
                .build(),
            Err(Error::InvalidDeliveryAddress {
                destination: did(5),
                reason: "host is longer than 253 octets"
            })
        );
    }

    #[test]
    fn iri_only_task_may_omit_hi3_but_not_deliver_cc() {
        let task = builder(InterceptScope::IriOnly)
            .target(target("ipv4:192.0.2.1"))
            .destination(dest(1, false))
            .build()
            .unwrap();
        assert!(task.covers(ts(150)));
        assert!(!task.may_deliver_cc(ts(150)));

        // Turning it into a CC task through the builder re-checks HI3.
        assert_eq!(
            task.clone()
                .into_builder()
                .scope(InterceptScope::IriAndCc)
                .build(),
            Err(Error::MissingHi3 {
                destination: did(1)
            })
        );
        let cc_task = task
            .into_builder()
            .scope(InterceptScope::IriAndCc)
            .clear_destinations()
            .destination(dest(1, true))
            .build()
            .unwrap();
        assert!(cc_task.may_deliver_cc(ts(150)));
        assert!(!cc_task.may_deliver_cc(ts(200)));
    }

    #[test]
    fn into_builder_can_replace_targets_and_window() {
        let task = builder(InterceptScope::IriOnly)
            .target(target("ipv4:192.0.2.1"))
            .destination(dest(1, false))
            .build()
            .unwrap();
        let modified = task
            .into_builder()
            .clear_targets()
            .target(target("ipv4:192.0.2.9"))
            .window(ValidityWindow::ALWAYS)
            .build()
            .unwrap();
        assert_eq!(modified.targets(), &[target("ipv4:192.0.2.9")]);
        assert!(modified.covers(Timestamp::UNIX_EPOCH));
        assert!(modified.covers(Timestamp::MAX));
        assert_eq!(
            modified.into_builder().clear_targets().build(),
            Err(Error::NoTargets)
        );
    }

    #[test]
    fn validity_window_bounds() {
        assert_eq!(
            ValidityWindow::new(ts(5), Some(ts(5))),
            Err(Error::InvalidValidityWindow {
                start: ts(5),
                end: ts(5)
            })
        );
        assert_eq!(
            ValidityWindow::new(ts(5), Some(ts(4))),
            Err(Error::InvalidValidityWindow {
                start: ts(5),
                end: ts(4)
            })
        );
        let w = ValidityWindow::new(ts(5), Some(ts(6))).unwrap();
        assert_eq!((w.start(), w.end()), (ts(5), Some(ts(6))));
        assert!(!w.contains(Timestamp::from_secs_micros(4, 999_999).unwrap()));
        assert!(w.contains(ts(5)));
        assert!(w.contains(Timestamp::from_secs_micros(5, 999_999).unwrap()));
        assert!(!w.contains(ts(6)));
        let open = ValidityWindow::new(ts(5), None).unwrap();
        assert!(open.contains(Timestamp::MAX));
        assert!(!open.contains(ts(4)));
    }

    #[test]
    fn scope_and_formats() {
        assert!(InterceptScope::IriAndCc.delivers_cc());
        assert!(!InterceptScope::IriOnly.delivers_cc());
        assert_eq!(
            HandoverFormat::etsi_default(),
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 43,
                ip_access_version: 18,
                ip_multimedia_version: 14,
            }
        );
    }

    #[test]
    fn handover_format_text_round_trips_and_refuses_anything_else() {
        for format in [
            HandoverFormat::etsi_default(),
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 1,
                ip_access_version: 65_535,
                ip_multimedia_version: 14,
            },
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 43,
                ip_access_version: 18,
                ip_multimedia_version: 0,
            },
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 43,
                ip_access_version: 18,
                ip_multimedia_version: 65_535,
            },
            HandoverFormat::Atis1000013 { version: 3 },
            HandoverFormat::Atis1000678 { version: 0 },
            HandoverFormat::PacketCable { version: 7 },
        ] {
            let text = format.to_string();
            assert_eq!(text.parse::<HandoverFormat>().unwrap(), format, "{text}");
        }
        // The IPMultimediaPDU version is written only when not 14, and read as 14 when
        // absent: the texts of before it existed keep their meaning and form.
        assert_eq!(
            HandoverFormat::etsi_default().to_string(),
            "etsi-102232:43:18"
        );
        for (text, written, ip_multimedia_version) in [
            ("etsi-102232:20:9", "etsi-102232:20:9", 14),
            ("ETSI-102232:20:9:14", "etsi-102232:20:9", 14),
            ("etsi-102232:20:9:12", "etsi-102232:20:9:12", 12),
        ] {
            let format = text.parse::<HandoverFormat>().unwrap();
            assert_eq!(
                format,
                HandoverFormat::Etsi102232 {
                    ps_pdu_version: 20,
                    ip_access_version: 9,
                    ip_multimedia_version,
                },
                "{text}"
            );
            assert_eq!(format.to_string(), written);
        }
        assert_eq!(
            " PacketCable:7 ".parse::<HandoverFormat>().unwrap(),
            HandoverFormat::PacketCable { version: 7 }
        );
        for bad in [
            "",
            "etsi",
            "etsi:43",
            "etsi-102232:43",
            "etsi-102232:43:18:1:1",
            "etsi-102232:43:18:",
            "etsi-102232:43:18:x",
            "etsi-102232:43:18:65536",
            "etsi-102232:43:",
            "packetcable:",
            "packetcable:+7",
            "packetcable:-7",
            "packetcable:65536",
            "packetcable:7:1",
            "atis-1000013:x",
            "cablelabs:7",
        ] {
            let err = bad.parse::<HandoverFormat>().unwrap_err();
            assert!(
                matches!(&err, Error::InvalidHandoverFormat { input } if input == bad),
                "{bad:?}: {err}"
            );
        }
    }
}
