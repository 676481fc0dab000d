//! The `chain` benchmark: a reproducible end-to-end benchmark of the reference daemons as separate
//! processes on loopback, with mutual TLS everywhere.
//!
//! [`run`] generates a capture ([`capture::generate`]: fixed-size frames, a known number of
//! them to or from one static IPv4 target), writes a development PKI and a configuration for
//! each daemon (their defaults except addresses and paths), starts `li-lemf`, `li-mediator`,
//! `li-probe` (its `[capture]` replays the file once the ADMF has provisioned the task) and
//! `li-admf run` after entering one IRI+CC warrant with `li-admf warrant add`, then watches the
//! agency's `/metrics` every 50 ms until it has every record (or nothing arrives for 10 s),
//! optionally killing the agency part-way for an outage. It reports what arrived against what
//! was expected, the rate at the agency, gaps and repeats, the probe's drops, each process's
//! CPU time and peak memory, and the delivery latency if the agency exposes a histogram.
//!
//! The daemons are used only through their command line, configuration files, X1 and
//! `/metrics`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use li_examples::demo::{X2X3_DID, prepare_run_dir, tls_table};

use super::capture::{self, CaptureOptions, CaptureSummary, TARGET};
use super::process::{self, Daemon, Usage};
use super::prom::{self, Histogram, Metrics, as_count, scrape};

/// The IRI records the agency receives during the run: the IRI-Begin sent when the static
/// target's task is activated (its IRI-End would come with the revocation, after the run).
pub(crate) const EXPECTED_IRI: u64 = 1;
/// The warrant's LIID.
pub(crate) const LIID: &str = "BENCH-0001";
/// The agency's name in the ADMF configuration.
const AGENCY: &str = "LEA-1";
const AGENCY_ID: &str = "5e1a0c00-0000-4000-8000-000000000001";
/// How often the agency's counters are read.
const SCRAPE_INTERVAL: Duration = Duration::from_millis(50);
/// The mediator's metrics are read every this many agency scrapes (the probe's at each).
const SLOW_SCRAPE_EVERY: u32 = 4;
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a daemon may take to open its metrics endpoint, and the task to be provisioned.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// After an agency restart: how long records may take to flow again (the mediator's
/// reconnection backoff reaches 1 s by default) before the run is called stalled.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// Agency scrapes that may fail in a row (a busy daemon) before the run is abandoned.
const MAX_SCRAPE_FAILURES: u32 = 40;
/// The default run directory.
pub(crate) const DEFAULT_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/chain");

/// How to run the benchmark.
#[derive(Clone, Debug)]
pub(crate) struct BenchOptions {
    /// The capture.
    pub(crate) capture: CaptureOptions,
    /// Replay at the capture's pace (`capture.rate` frames/s) instead of as fast as possible.
    pub(crate) paced: bool,
    /// Kill the agency once a third of the expected records arrived, for this long, then
    /// restart it on the same addresses and output directory.
    pub(crate) outage: Option<Duration>,
    /// The run directory (emptied first).
    pub(crate) dir: PathBuf,
    /// Keep the run directory after a complete run (it is always kept after a stalled or
    /// failed one).
    pub(crate) keep: bool,
    /// Where `li-lemf`, `li-mediator`, `li-probe` and `li-admf` are.
    pub(crate) bin_dir: PathBuf,
    /// The run ends when the agency's counts have not grown for this long.
    pub(crate) stall_timeout: Duration,
    /// The daemons' `--log` filter.
    pub(crate) log: String,
    /// Settings added to a daemon's configuration, as (`lemf`|`mediator`|`probe`|`admf`,
    /// a top-level TOML line such as `spool_fsync = "never"`): to measure a setting's cost.
    pub(crate) settings: Vec<(String, String)>,
}

impl BenchOptions {
    /// Defaults: 200,000 frames, 75 % the target's, 242 octets, full speed, `chain` in
    /// cargo's temporary directory of benchmarks (`target/tmp`).
    pub(crate) fn new(bin_dir: impl Into<PathBuf>) -> Self {
        Self {
            capture: CaptureOptions::default(),
            paced: false,
            outage: None,
            dir: PathBuf::from(DEFAULT_DIR),
            keep: false,
            bin_dir: bin_dir.into(),
            stall_timeout: Duration::from_secs(10),
            log: "info".into(),
            settings: Vec::new(),
        }
    }
}

/// The figures of one run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    /// The capture replayed.
    pub(crate) capture: CaptureSummary,
    /// Whether the replay was paced, and at what rate (frames/s).
    pub(crate) paced: Option<u64>,
    /// Records expected at the agency.
    pub(crate) expected: RecordCounts,
    /// Records the agency counted (repeats included), over every lifetime of the agency.
    pub(crate) received: RecordCounts,
    /// Expected records not received: `expected - (received - repeats - redelivered)`, if
    /// positive.
    pub(crate) lost: u64,
    /// Sequence numbers the agency saw skipped.
    pub(crate) missing: u64,
    /// PDUs repeating a sequence number already seen.
    pub(crate) repeats: u64,
    /// Records received beyond what the mediator spooled for the agency: repeats the agency
    /// cannot recognise (records delivered again after an agency restart).
    pub(crate) redelivered: u64,
    /// Records the mediator spooled that the agency did not count.
    pub(crate) undelivered: u64,
    /// CC records per second at the agency, first to last record.
    pub(crate) rate: Option<Rate>,
    /// How the run ended.
    pub(crate) end: End,
    /// Seconds from provisioning to the end of the run.
    pub(crate) run_s: f64,
    /// What the probe reported.
    pub(crate) probe: ProbeFigures,
    /// What the mediator reported.
    pub(crate) mediator: MediatorFigures,
    /// Delivery latency at the agency per interface (`all` merges them); `None` when the
    /// agency exposes no `li_lemf_delivery_latency_seconds` histogram.
    pub(crate) latency: Option<BTreeMap<String, Quantiles>>,
    /// Keep-alives the agency received (`li_lemf_keepalives_total`), if exposed.
    pub(crate) keepalives: Option<u64>,
    /// The agency outage, if one was asked for.
    pub(crate) outage: Option<OutageFigures>,
    /// CPU time and peak memory per process, read just before it was stopped.
    pub(crate) processes: Vec<ProcessFigures>,
    /// What the agency's `records.jsonl` holds, over every lifetime of the agency: the
    /// authoritative count (the metrics of a killed agency die with it).
    pub(crate) files: Option<FileCheck>,
    /// The run directory (removed unless kept).
    pub(crate) dir: PathBuf,
    /// Whether the run directory was kept.
    pub(crate) kept: bool,
}

impl Report {
    /// Whether the run succeeded: the agency's files (the authoritative check) hold every
    /// expected record, once or more, with no sequence number missing. A stalled run can
    /// succeed (the metrics of a killed agency die with it; its files do not).
    pub(crate) fn succeeded(&self) -> bool {
        self.files.as_ref().is_some_and(|f| {
            f.cc == self.expected.cc && f.iri == self.expected.iri && f.missing == 0
        })
    }
}

/// CC and IRI records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct RecordCounts {
    /// CC (HI3).
    pub(crate) cc: u64,
    /// IRI (HI2).
    pub(crate) iri: u64,
}

impl RecordCounts {
    /// Both.
    pub(crate) fn total(&self) -> u64 {
        self.cc + self.iri
    }
}

/// A rate over an interval.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Rate {
    /// Records counted between the first and the last observation.
    pub(crate) records: u64,
    /// Seconds between them.
    pub(crate) seconds: f64,
    /// Records per second.
    pub(crate) per_second: f64,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum End {
    /// Every expected record arrived.
    Complete,
    /// The counts stopped growing before that.
    Stalled,
}

/// The probe's counters at the end.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct ProbeFigures {
    /// Frames it read from the capture.
    pub(crate) frames_seen: u64,
    /// Frames that matched a target.
    pub(crate) frames_matched: u64,
    /// CC records its classifier produced.
    pub(crate) cc_records: u64,
    /// IRI records its classifier produced.
    pub(crate) iri_records: u64,
    /// X2/X3 PDUs queued, sent, dropped (queue full), possibly lost (on a connection that
    /// died), unencodable records.
    pub(crate) x2x3_queued: u64,
    /// See `x2x3_queued`.
    pub(crate) x2x3_sent: u64,
    /// See `x2x3_queued`.
    pub(crate) x2x3_dropped: u64,
    /// See `x2x3_queued`.
    pub(crate) x2x3_possibly_lost: u64,
    /// See `x2x3_queued`.
    pub(crate) unencodable: u64,
    /// Seconds from provisioning until the probe had counted every frame it read (its
    /// metrics are read every 50 ms: an upper bound for a short replay).
    pub(crate) replay_s: Option<f64>,
}

/// The mediator's counters at the end.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct MediatorFigures {
    /// X2/X3 PDUs received.
    pub(crate) x2x3_pdus: u64,
    /// Records it spooled for the agency.
    pub(crate) records: u64,
    /// PDUs it refused, by reason.
    pub(crate) refused: BTreeMap<String, u64>,
    /// Records still spooled, not acknowledged by the agency.
    pub(crate) still_spooled: u64,
}

/// Latency percentiles, seconds.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Quantiles {
    /// Observations.
    pub(crate) count: u64,
    /// Median.
    pub(crate) p50: Option<f64>,
    /// 90th percentile.
    pub(crate) p90: Option<f64>,
    /// 99th percentile.
    pub(crate) p99: Option<f64>,
}

/// The agency outage.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct OutageFigures {
    /// How long the agency was down, seconds (as asked).
    pub(crate) down_s: f64,
    /// Whether it happened (a third of the expected records must arrive first).
    pub(crate) performed: bool,
    /// Records the agency had counted when it was killed.
    pub(crate) received_before: RecordCounts,
    /// Seconds from the restart until the mediator reported both agency links up.
    pub(crate) links_up_after_s: Option<f64>,
    /// Seconds from the restart until the restarted agency counted its first record.
    pub(crate) records_after_s: Option<f64>,
    /// Records the restarted agency counted.
    pub(crate) received_after: RecordCounts,
}

/// One process's usage.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ProcessFigures {
    /// The daemon.
    pub(crate) name: String,
    /// CPU seconds and peak RSS (both lifetimes of a restarted agency).
    pub(crate) usage: Option<Usage>,
}

/// Where the daemons listen.
#[derive(Clone, Copy, Debug)]
struct Ports {
    lemf_hi2: SocketAddr,
    lemf_hi3: SocketAddr,
    lemf_metrics: SocketAddr,
    mediator_x1: SocketAddr,
    mediator_x2x3: SocketAddr,
    mediator_metrics: SocketAddr,
    probe_x1: SocketAddr,
    probe_metrics: SocketAddr,
    admf_metrics: SocketAddr,
}

impl Ports {
    /// Free loopback ports: all bound at once (so they differ), then released.
    fn pick() -> anyhow::Result<Self> {
        let sockets = (0..9)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()
            .context("reserving loopback ports")?;
        let addrs = sockets
            .iter()
            .map(std::net::TcpListener::local_addr)
            .collect::<Result<Vec<_>, _>>()?;
        let [a, b, c, d, e, f, g, h, i] = addrs.as_slice() else {
            bail!("reserving loopback ports");
        };
        Ok(Self {
            lemf_hi2: *a,
            lemf_hi3: *b,
            lemf_metrics: *c,
            mediator_x1: *d,
            mediator_x2x3: *e,
            mediator_metrics: *f,
            probe_x1: *g,
            probe_metrics: *h,
            admf_metrics: *i,
        })
    }
}

/// The daemons' executables.
#[derive(Clone, Debug)]
struct Binaries {
    lemf: PathBuf,
    mediator: PathBuf,
    probe: PathBuf,
    admf: PathBuf,
}

impl Binaries {
    fn find(dir: &Path) -> anyhow::Result<Self> {
        let find = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(anyhow::anyhow!(
                    "{} not found (build the daemons first: cargo build --release -p \
                     li-examples --bins)",
                    path.display()
                ))
            }
        };
        Ok(Self {
            lemf: find("li-lemf")?,
            mediator: find("li-mediator")?,
            probe: find("li-probe")?,
            admf: find("li-admf")?,
        })
    }
}

/// Runs the benchmark and returns its figures; the daemons are stopped on every path.
pub(crate) fn run(options: &BenchOptions) -> anyhow::Result<Report> {
    let bins = Binaries::find(&options.bin_dir)?;
    process::catch_signals();
    let dir = prepare_run_dir(&options.dir)?;
    let result = run_in(options, &bins, &dir);
    match result {
        Ok(mut report) => {
            // a stalled or failed run's logs and spools say where the records went
            report.kept = options.keep || report.end == End::Stalled || !report.succeeded();
            if !report.kept {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove {}", dir.display()))?;
            }
            Ok(report)
        }
        Err(e) => Err(e.context(format!(
            "the run directory {} is kept (configurations, daemon logs)",
            dir.display()
        ))),
    }
}

fn run_in(options: &BenchOptions, bins: &Binaries, dir: &Path) -> anyhow::Result<Report> {
    let started = Instant::now();
    let pcap = dir.join("bench.pcap");
    let capture = capture::generate(&pcap, &options.capture).context("generating the capture")?;
    if capture.target_frames != options.capture.target_frames() {
        bail!(
            "the capture holds {} target frames, not the {} its options call for",
            capture.target_frames,
            options.capture.target_frames()
        );
    }
    let expected = RecordCounts {
        cc: capture.target_frames,
        iri: EXPECTED_IRI,
    };
    eprintln!(
        "chain: {} frames of {} octets, {} to/from {TARGET} ({:.1} s of capture at {} \
         frames/s), written in {:.1} s; expecting {} CC + {} IRI records at the agency",
        capture.frames,
        capture.frame_size,
        capture.target_frames,
        capture.span_s,
        options.capture.rate,
        started.elapsed().as_secs_f64(),
        expected.cc,
        expected.iri
    );
    let ports = Ports::pick()?;
    write_configs(dir, &ports, options)?;

    let log = options.log.as_str();
    let config = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let lemf_args = [
        "--config".to_owned(),
        config("lemf.toml"),
        "--log".into(),
        log.into(),
    ];
    let lemf_args: Vec<&str> = lemf_args.iter().map(String::as_str).collect();
    let start = |name: &str, bin: &Path, args: &[&str], metrics: SocketAddr| {
        let log = dir.join(format!("{}.log", name.trim_start_matches("li-")));
        let mut daemon = Daemon::spawn(name, bin, args, &log)?;
        wait_metrics(&mut daemon, metrics)?;
        anyhow::Ok(daemon)
    };
    let mut lemf = start("li-lemf", &bins.lemf, &lemf_args, ports.lemf_metrics)?;
    let mediator_args = ["--config", &config("mediator.toml"), "--log", log];
    let mut mediator = start(
        "li-mediator",
        &bins.mediator,
        &mediator_args,
        ports.mediator_metrics,
    )?;
    let probe_args = ["--config", &config("probe.toml"), "--log", log];
    let mut probe = start("li-probe", &bins.probe, &probe_args, ports.probe_metrics)?;

    // The warrant, entered as an operator would, then the ADMF daemon provisions it.
    let admf_config = config("admf.toml");
    let target = format!("ipv4:{TARGET}");
    let add = std::process::Command::new(&bins.admf)
        .args(["--config", &admf_config, "warrant", "add", "--liid", LIID])
        .args(["--target", &target, "--scope", "iri+cc", "--agency", AGENCY])
        .output()
        .context("cannot run li-admf warrant add")?;
    if !add.status.success() {
        bail!(
            "li-admf warrant add failed ({}): {}",
            add.status,
            String::from_utf8_lossy(&add.stderr).trim()
        );
    }
    let admf_args = ["--config", &admf_config, "run"];
    let mut admf = start("li-admf", &bins.admf, &admf_args, ports.admf_metrics)?;
    wait_provisioned(
        &mut probe,
        &mut [&mut lemf, &mut mediator, &mut admf],
        &ports,
    )?;
    let provisioned = Instant::now();
    eprintln!(
        "chain: provisioned over X1 after {:.1} s; the probe replays the capture{}",
        started.elapsed().as_secs_f64(),
        if options.paced {
            format!(" at {} frames/s", options.capture.rate)
        } else {
            " at full speed".into()
        }
    );

    let mut watch = Watch::new(provisioned, expected, options);
    let mut lemf_usage_before = None;
    loop {
        process::sleep(SCRAPE_INTERVAL)?;
        for d in [&mut lemf, &mut mediator, &mut probe, &mut admf] {
            d.check_running()?;
        }
        let now = Instant::now();
        match scrape(ports.lemf_metrics, SCRAPE_TIMEOUT) {
            Ok(m) => watch.agency(now, &m),
            Err(e) => watch.scrape_failed(e)?,
        }
        if let Ok(m) = scrape(ports.probe_metrics, SCRAPE_TIMEOUT) {
            watch.probe(now, &m);
        }
        if (watch.tick.is_multiple_of(SLOW_SCRAPE_EVERY) || watch.recovering())
            && let Ok(m) = scrape(ports.mediator_metrics, SCRAPE_TIMEOUT)
        {
            watch.mediator(now, &m);
        }
        if watch.outage_due() {
            // A last look just before the kill, then the agency is gone.
            if let Ok(m) = scrape(ports.lemf_metrics, SCRAPE_TIMEOUT) {
                watch.agency(Instant::now(), &m);
            }
            lemf_usage_before = lemf.usage().ok();
            lemf.kill()?;
            let down = options.outage.unwrap_or_default();
            eprintln!(
                "chain: agency killed after {} records; down for {:.1} s",
                watch.total(),
                down.as_secs_f64()
            );
            watch.agency_killed();
            let back = Instant::now() + down;
            while Instant::now() < back {
                process::sleep(
                    SCRAPE_INTERVAL.min(back.saturating_duration_since(Instant::now())),
                )?;
                if let Ok(m) = scrape(ports.mediator_metrics, SCRAPE_TIMEOUT) {
                    watch.mediator(Instant::now(), &m);
                }
            }
            lemf = Daemon::spawn("li-lemf", &bins.lemf, &lemf_args, &dir.join("lemf.log"))?;
            watch.agency_restarted(Instant::now());
            eprintln!("chain: agency restarted");
            continue;
        }
        if let Some(end) = watch.finished(Instant::now()) {
            watch.end = end;
            break;
        }
    }
    let run_s = provisioned.elapsed().as_secs_f64();

    // Final readings, then each daemon's usage just before it is stopped.
    let lemf_metrics = scrape(ports.lemf_metrics, SCRAPE_TIMEOUT).unwrap_or_default();
    watch.agency(Instant::now(), &lemf_metrics);
    let probe_metrics = scrape(ports.probe_metrics, SCRAPE_TIMEOUT).unwrap_or_default();
    let mediator_metrics = scrape(ports.mediator_metrics, SCRAPE_TIMEOUT).unwrap_or_default();
    let grace = Duration::from_secs(5);
    let mut processes = Vec::new();
    for daemon in [admf, probe, mediator] {
        processes.push(ProcessFigures {
            name: daemon.name().to_owned(),
            usage: daemon.usage().ok(),
        });
        daemon.stop(grace)?;
    }
    processes.reverse();
    let lemf_usage = lemf
        .usage()
        .ok()
        .map(|u| lemf_usage_before.map_or(u, |b| b.combine(u)));
    processes.insert(
        0,
        ProcessFigures {
            name: "li-lemf".into(),
            usage: lemf_usage,
        },
    );
    lemf.stop(grace)?;

    let mut report = watch.report(capture, run_s, &probe_metrics, &mediator_metrics);
    report.processes = processes;
    report.paced = options.paced.then_some(options.capture.rate);
    report.dir = dir.to_owned();
    report.files = Some(check_agency_files(
        &dir.join("lemf-out").join("records.jsonl"),
    )?);
    Ok(report)
}

/// What the agency has counted (one lifetime of its process).
#[derive(Clone, Debug, Default)]
struct AgencyCounts {
    records: RecordCounts,
    missing: u64,
    repeats: u64,
    keepalives: Option<u64>,
    /// Latency histogram per `interface` label, if exposed.
    latency: Option<BTreeMap<String, Histogram>>,
}

impl AgencyCounts {
    fn read(m: &Metrics) -> Self {
        let latency_name = "li_lemf_delivery_latency_seconds";
        let latency = m.has(&format!("{latency_name}_bucket")).then(|| {
            let mut per = BTreeMap::new();
            for s in m.of(&format!("{latency_name}_bucket")) {
                let interface = s.label("interface").unwrap_or("all").to_owned();
                per.entry(interface).or_insert_with(|| {
                    m.histogram(latency_name, |x| {
                        x.label("interface") == s.label("interface")
                    })
                });
            }
            per
        });
        Self {
            records: RecordCounts {
                cc: m.count("li_lemf_cc_records_total"),
                iri: m.count("li_lemf_iri_records_total"),
            },
            missing: m.count("li_lemf_missing_total"),
            repeats: m.count("li_lemf_repeats_total"),
            keepalives: m.sum("li_lemf_keepalives_total").map(as_count),
            latency,
        }
    }

    /// Two lifetimes added.
    fn plus(&self, other: &Self) -> Self {
        let keepalives = match (self.keepalives, other.keepalives) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        let latency = match (&self.latency, &other.latency) {
            (None, None) => None,
            (a, b) => {
                let mut merged: BTreeMap<String, Histogram> = a.clone().unwrap_or_default();
                for (k, h) in b.iter().flatten() {
                    merged.entry(k.clone()).or_default().merge(h);
                }
                Some(merged)
            }
        };
        Self {
            records: RecordCounts {
                cc: self.records.cc + other.records.cc,
                iri: self.records.iri + other.records.iri,
            },
            missing: self.missing + other.missing,
            repeats: self.repeats + other.repeats,
            keepalives,
            latency,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutagePhase {
    None,
    Pending,
    /// The agency is down.
    Down,
    /// Restarted at this instant; waiting for the links and the records.
    Recovering(Instant),
    Done,
}

/// The progress of a run, from the daemons' metrics.
#[derive(Debug)]
struct Watch {
    tick: u32,
    expected: RecordCounts,
    stall_timeout: Duration,
    /// Counts of earlier lifetimes of the agency (before an outage).
    before: AgencyCounts,
    /// Counts of the running agency.
    current: AgencyCounts,
    /// The first observation with CC records: when, how many.
    first_cc: Option<(Instant, u64)>,
    /// The last observation at which the CC count grew.
    last_cc: Option<(Instant, u64)>,
    /// The last time any count grew (or the run started, or records resumed).
    last_growth: Instant,
    last_total: u64,
    scrape_failures: u32,
    /// When the task was provisioned.
    start: Instant,
    probe_last: Option<(Instant, u64)>,
    links_up: Option<bool>,
    /// Whether the mediator reported an agency link down since the agency was killed.
    links_seen_down: bool,
    spooled: Option<u64>,
    outage: OutagePhase,
    outage_down: Duration,
    links_up_after: Option<Duration>,
    records_after: Option<Duration>,
    end: End,
}

impl Watch {
    fn new(start: Instant, expected: RecordCounts, options: &BenchOptions) -> Self {
        Self {
            tick: 0,
            expected,
            stall_timeout: options.stall_timeout,
            before: AgencyCounts::default(),
            current: AgencyCounts::default(),
            first_cc: None,
            last_cc: None,
            last_growth: start,
            last_total: 0,
            scrape_failures: 0,
            start,
            probe_last: None,
            links_up: None,
            links_seen_down: false,
            spooled: None,
            outage: if options.outage.is_some() {
                OutagePhase::Pending
            } else {
                OutagePhase::None
            },
            outage_down: options.outage.unwrap_or_default(),
            links_up_after: None,
            records_after: None,
            end: End::Stalled,
        }
    }

    fn counts(&self) -> AgencyCounts {
        self.before.plus(&self.current)
    }

    fn total(&self) -> u64 {
        self.before.records.total() + self.current.records.total()
    }

    fn recovering(&self) -> bool {
        matches!(self.outage, OutagePhase::Recovering(_))
    }

    fn agency(&mut self, now: Instant, m: &Metrics) {
        self.tick = self.tick.wrapping_add(1);
        self.scrape_failures = 0;
        self.current = AgencyCounts::read(m);
        let cc = self.before.records.cc + self.current.records.cc;
        let total = self.total();
        if cc > 0 && self.first_cc.is_none() {
            self.first_cc = Some((now, cc));
        }
        if self.last_cc.is_none_or(|(_, c)| cc > c) && cc > 0 {
            self.last_cc = Some((now, cc));
        }
        if total > self.last_total {
            self.last_total = total;
            self.last_growth = now;
        }
        if let OutagePhase::Recovering(restart) = self.outage
            && self.current.records.total() > 0
            && self.records_after.is_none()
        {
            self.records_after = Some(now.duration_since(restart));
        }
    }

    fn scrape_failed(&mut self, error: anyhow::Error) -> anyhow::Result<()> {
        self.tick = self.tick.wrapping_add(1);
        self.scrape_failures += 1;
        // A restarted agency takes a moment to listen.
        if self.scrape_failures > MAX_SCRAPE_FAILURES && !self.recovering() {
            return Err(error.context("the agency's metrics cannot be read"));
        }
        Ok(())
    }

    fn probe(&mut self, now: Instant, m: &Metrics) {
        let frames = m
            .sum_where("li_probe_frames_total", |s| {
                s.label("outcome") == Some("seen")
            })
            .map_or(0, as_count);
        if frames > 0 && self.probe_last.is_none_or(|(_, f)| frames > f) {
            self.probe_last = Some((now, frames));
        }
    }

    fn mediator(&mut self, now: Instant, m: &Metrics) {
        let links: Vec<f64> = m.of("li_mediator_link_up").map(|s| s.value).collect();
        let up = !links.is_empty() && links.iter().all(|&v| v >= 1.0);
        self.links_up = Some(up);
        self.spooled = m.sum("li_mediator_spool_records").map(as_count);
        if matches!(self.outage, OutagePhase::Down | OutagePhase::Recovering(_)) && !up {
            self.links_seen_down = true;
        }
        // up again: only after the mediator noticed the agency was gone
        if let OutagePhase::Recovering(restart) = self.outage
            && up
            && self.links_seen_down
            && self.links_up_after.is_none()
        {
            self.links_up_after = Some(now.duration_since(restart));
        }
    }

    /// A third of the expected records arrived and the outage is still to come.
    fn outage_due(&self) -> bool {
        self.outage == OutagePhase::Pending && self.total() * 3 >= self.expected.total()
    }

    fn agency_killed(&mut self) {
        self.before = self.counts();
        self.current = AgencyCounts::default();
        self.links_up = None;
        self.links_seen_down = false;
        self.outage = OutagePhase::Down;
    }

    fn agency_restarted(&mut self, now: Instant) {
        self.outage = OutagePhase::Recovering(now);
    }

    /// `Some` when the run is over.
    fn finished(&mut self, now: Instant) -> Option<End> {
        if let OutagePhase::Recovering(restart) = self.outage {
            let links_up = self.links_up_after.is_some() || self.links_up == Some(true);
            if self.records_after.is_some() || (links_up && self.spooled == Some(0)) {
                // records flow again, or the links are up with nothing left to deliver:
                // from here the stall clock applies, started at the restart at the earliest
                self.outage = OutagePhase::Done;
                self.last_growth = self.last_growth.max(restart);
            } else if now.duration_since(restart) >= RECOVERY_TIMEOUT {
                return Some(End::Stalled);
            } else {
                return None;
            }
        }
        let all_in = self.total() >= self.expected.total();
        if all_in {
            // After an outage, repeats of what the killed agency had not acknowledged may
            // still come: wait until the mediator's spools are acknowledged.
            if self.outage != OutagePhase::Done
                || self.spooled == Some(0)
                || now.duration_since(self.last_growth) >= self.stall_timeout
            {
                return Some(End::Complete);
            }
            return None;
        }
        (now.duration_since(self.last_growth) >= self.stall_timeout).then_some(End::Stalled)
    }

    fn report(
        &self,
        capture: CaptureSummary,
        run_s: f64,
        probe: &Metrics,
        mediator: &Metrics,
    ) -> Report {
        let counts = self.counts();
        let received = counts.records;
        let rate = match (self.first_cc, self.last_cc) {
            (Some((t0, c0)), Some((t1, c1))) if t1 > t0 => {
                let seconds = t1.duration_since(t0).as_secs_f64();
                Some(Rate {
                    records: c1 - c0,
                    seconds,
                    per_second: (c1 - c0) as f64 / seconds,
                })
            }
            _ => None,
        };
        let pdus = |outcome: &str| {
            probe
                .sum_where("li_probe_x2x3_pdus_total", |s| {
                    s.label("outcome") == Some(outcome)
                })
                .map_or(0, as_count)
        };
        let frames = |outcome: &str| {
            probe
                .sum_where("li_probe_frames_total", |s| {
                    s.label("outcome") == Some(outcome)
                })
                .map_or(0, as_count)
        };
        let records = |kind: &str| {
            probe
                .sum_where("li_probe_records_total", |s| s.label("kind") == Some(kind))
                .map_or(0, as_count)
        };
        let probe_figures = ProbeFigures {
            frames_seen: frames("seen"),
            frames_matched: frames("matched"),
            cc_records: records("cc"),
            iri_records: records("iri"),
            x2x3_queued: pdus("queued"),
            x2x3_sent: pdus("sent"),
            x2x3_dropped: pdus("dropped"),
            x2x3_possibly_lost: pdus("possibly_lost"),
            unencodable: probe.count("li_probe_unencodable_records_total"),
            replay_s: self
                .probe_last
                .map(|(t, _)| t.duration_since(self.start).as_secs_f64()),
        };
        let mediator_figures = MediatorFigures {
            x2x3_pdus: mediator.count("li_mediator_x2x3_pdus_total"),
            records: mediator.count("li_mediator_records_total"),
            refused: prom::by_label(mediator, "li_mediator_refused_total", "reason")
                .into_iter()
                .map(|(k, v)| (k, as_count(v)))
                .filter(|(_, v)| *v > 0)
                .collect(),
            still_spooled: mediator.count("li_mediator_spool_records"),
        };
        let latency = counts.latency.as_ref().map(|per| {
            let mut all = Histogram::default();
            let mut out: BTreeMap<String, Quantiles> = per
                .iter()
                .map(|(k, h)| {
                    all.merge(h);
                    (k.clone(), quantiles(h))
                })
                .collect();
            if per.len() > 1 {
                out.insert("all".into(), quantiles(&all));
            }
            out
        });
        let outage = (self.outage != OutagePhase::None).then(|| OutageFigures {
            down_s: self.outage_down.as_secs_f64(),
            performed: self.outage != OutagePhase::Pending,
            received_before: self.before.records,
            links_up_after_s: self.links_up_after.map(|d| d.as_secs_f64()),
            records_after_s: self.records_after.map(|d| d.as_secs_f64()),
            received_after: self.current.records,
        });
        let redelivered = received.total().saturating_sub(mediator_figures.records);
        Report {
            capture,
            paced: None,
            expected: self.expected,
            received,
            lost: self.expected.total().saturating_sub(
                received
                    .total()
                    .saturating_sub(counts.repeats)
                    .saturating_sub(redelivered),
            ),
            missing: counts.missing,
            repeats: counts.repeats,
            redelivered,
            undelivered: mediator_figures.records.saturating_sub(received.total()),
            rate,
            end: self.end,
            run_s,
            probe: probe_figures,
            mediator: mediator_figures,
            latency,
            keepalives: counts.keepalives,
            outage,
            processes: Vec::new(),
            dir: PathBuf::new(),
            kept: false,
            files: None,
        }
    }
}

fn quantiles(h: &Histogram) -> Quantiles {
    Quantiles {
        count: as_count(h.total()),
        p50: h.quantile(0.5),
        p90: h.quantile(0.9),
        p99: h.quantile(0.99),
    }
}

/// Waits until `daemon` serves `/metrics`.
fn wait_metrics(daemon: &mut Daemon, addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        daemon.check_running()?;
        if scrape(addr, SCRAPE_TIMEOUT).is_ok() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{} does not serve http://{addr}/metrics after {} s",
                daemon.name(),
                START_TIMEOUT.as_secs()
            );
        }
        process::sleep(SCRAPE_INTERVAL)?;
    }
}

/// Waits until the probe has the task (`li_probe_active_tasks` ≥ 1).
fn wait_provisioned(
    probe: &mut Daemon,
    others: &mut [&mut Daemon],
    ports: &Ports,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        probe.check_running()?;
        for d in others.iter_mut() {
            d.check_running()?;
        }
        if let Ok(m) = scrape(ports.probe_metrics, SCRAPE_TIMEOUT)
            && m.count("li_probe_active_tasks") >= 1
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the probe has no active task {} s after li-admf run started (see admf.log)",
                START_TIMEOUT.as_secs()
            );
        }
        process::sleep(SCRAPE_INTERVAL)?;
    }
}

/// The daemons' configurations: defaults except addresses, paths and TLS files.
fn write_configs(dir: &Path, p: &Ports, options: &BenchOptions) -> anyhow::Result<()> {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        // The extra settings are top-level keys: they go before the first table.
        let daemon = name.trim_end_matches(".toml");
        let extra: String = options
            .settings
            .iter()
            .filter(|(d, _)| d == daemon)
            .map(|(_, line)| format!("{line}\n"))
            .collect();
        let text = match text
            .find("\n[")
            .and_then(|at| text.split_at_checked(at + 1))
        {
            Some((head, tables)) => format!("{head}{extra}{tables}"),
            None => format!("{text}{extra}"),
        };
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write(
        "lemf.toml",
        format!(
            "# li-lemf (chain benchmark)\nhi2_listen = \"{}\"\nhi3_listen = \"{}\"\nout_dir = \"lemf-out\"\n\
             metrics_listen = \"{}\"\n\n{}",
            p.lemf_hi2,
            p.lemf_hi3,
            p.lemf_metrics,
            tls_table("tls", "lemf")
        ),
    )?;
    write(
        "mediator.toml",
        format!(
            "# li-mediator (chain benchmark)\nx1_listen = \"{}\"\nx2x3_listen = \"{}\"\nmetrics_listen = \"{}\"\n\
             spool_dir = \"spool\"\nstate_file = \"mediator-state.xml\"\naudit_log = \"mediator-audit.log\"\n\n{}\n{}\n{}",
            p.mediator_x1,
            p.mediator_x2x3,
            p.mediator_metrics,
            tls_table("x1_tls", "mediator"),
            tls_table("x2x3_tls", "mediator"),
            tls_table("hi_tls", "mediator"),
        ),
    )?;
    write(
        "probe.toml",
        format!(
            "# li-probe (chain benchmark)\nname = \"probe-1\"\nx1_listen = \"{}\"\nadmf_identities = [\"admf\"]\n\
             metrics_listen = \"{}\"\n\n{}\n{}\n[capture]\nfile = \"bench.pcap\"\npace = {}\nstart_after_tasks = 1\n",
            p.probe_x1,
            p.probe_metrics,
            tls_table("x1_tls", "probe"),
            tls_table("x2x3_tls", "probe"),
            options.paced,
        ),
    )?;
    write(
        "admf.toml",
        format!(
            "# li-admf (chain benchmark)\ndatabase = \"admf.db\"\naudit_log = \"admf-audit.log\"\nmetrics_listen = \"{}\"\n\n{}\n\
             [mediator]\nname = \"mediator\"\nx1 = \"{}\"\nserver_name = \"localhost\"\nx2x3 = \"{}\"\nx2x3_did = \"{X2X3_DID}\"\n\n\
             [[probe]]\nname = \"probe-1\"\nx1 = \"{}\"\nserver_name = \"localhost\"\n\n\
             [[agency]]\nname = \"{AGENCY}\"\nid = \"{AGENCY_ID}\"\nhi2 = \"{}\"\nhi3 = \"{}\"\n",
            p.admf_metrics,
            tls_table("tls", "admf"),
            p.mediator_x1,
            p.mediator_x2x3,
            p.probe_x1,
            p.lemf_hi2,
            p.lemf_hi3,
        ),
    )?;
    Ok(())
}

/// What the agency wrote, read back from its `records.jsonl`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct FileCheck {
    /// Distinct CC records (by LIID, CIN and sequence number).
    pub(crate) cc: u64,
    /// Distinct IRI records.
    pub(crate) iri: u64,
    /// Lines repeating a record already written (re-sent after a reconnection or restart).
    pub(crate) repeats: u64,
    /// Sequence numbers missing inside each (LIID, CIN, kind) run, from 0 to the highest.
    pub(crate) missing: u64,
}

/// Reads the agency's JSON lines and counts distinct records, repeats and missing numbers.
pub(crate) fn check_agency_files(path: &Path) -> anyhow::Result<FileCheck> {
    use std::collections::{BTreeMap, HashSet};
    use std::io::BufRead;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the agency's records {}", path.display()))?;
    let mut seen: HashSet<(String, u64, u64, bool)> = HashSet::new();
    let mut highest: BTreeMap<(String, u64, bool), u64> = BTreeMap::new();
    let mut check = FileCheck::default();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), n + 1))?;
        let v: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {} is not JSON", path.display(), n + 1))?;
        let field = |name: &str| v.get(name).unwrap_or(&serde_json::Value::Null);
        let cc = field("kind").as_str() == Some("cc");
        let liid = field("liid").as_str().unwrap_or_default().to_owned();
        let cin = field("cin").as_u64().unwrap_or(u64::MAX);
        let seq = field("seq").as_u64().unwrap_or_default();
        let top = highest.entry((liid.clone(), cin, cc)).or_default();
        *top = (*top).max(seq);
        if !seen.insert((liid, cin, seq, cc)) {
            check.repeats += 1;
        } else if cc {
            check.cc += 1;
        } else {
            check.iri += 1;
        }
    }
    let distinct = check.cc + check.iri;
    let span: u64 = highest.values().map(|top| top + 1).sum();
    check.missing = span.saturating_sub(distinct);
    Ok(check)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 * 100.0 / whole as f64
            }
        };
        let c = &self.capture;
        writeln!(
            f,
            "chain: {} frames of {} octets, {} ({:.0} %) to/from {TARGET}, replayed {}",
            c.frames,
            c.frame_size,
            c.target_frames,
            pct(c.target_frames, c.frames),
            match self.paced {
                Some(rate) => format!("paced at {rate} frames/s"),
                None => "at full speed".into(),
            }
        )?;
        writeln!(f)?;
        writeln!(f, "agency (li-lemf)           CC         IRI")?;
        writeln!(
            f,
            "  expected         {:>10}  {:>10}",
            self.expected.cc, self.expected.iri
        )?;
        writeln!(
            f,
            "  received         {:>10}  {:>10}   ({:.2} % of expected; repeats included)",
            self.received.cc,
            self.received.iri,
            pct(self.received.total(), self.expected.total())
        )?;
        writeln!(
            f,
            "  lost             {:>10}               ({:.2} %)",
            self.lost,
            pct(self.lost, self.expected.total())
        )?;
        writeln!(f, "  missing (gaps)   {:>10}", self.missing)?;
        writeln!(f, "  repeats          {:>10}", self.repeats)?;
        if let Some(files) = &self.files {
            writeln!(
                f,
                "  agency's files   {:>10}  {:>10}   distinct records in records.jsonl; {} repeated \
                 lines, {} sequence numbers missing",
                files.cc, files.iri, files.repeats, files.missing
            )?;
        }
        if self.lost > 0 || self.undelivered > 0 {
            writeln!(
                f,
                "  where lost       probe drops {} (X2/X3 queue full) + unencodable {}, mediator \
             refusals {}, spooled but not counted by the agency {}",
                self.probe.x2x3_dropped,
                self.probe.unencodable,
                self.mediator.refused.values().sum::<u64>(),
                self.undelivered
            )?;
        }
        if self.redelivered > 0 {
            writeln!(
                f,
                "  redelivered      {:>10}   (received beyond what the mediator spooled)",
                self.redelivered
            )?;
        }
        match &self.rate {
            Some(r) => writeln!(
                f,
                "  rate             {:>10.0} CC records/s ({} records in {:.2} s, first to last)",
                r.per_second, r.records, r.seconds
            )?,
            None => writeln!(
                f,
                "  rate                    n/a (everything arrived within one 50 ms scrape)"
            )?,
        }
        match self.end {
            End::Complete => writeln!(
                f,
                "  end                     every expected record arrived ({:.1} s after provisioning)",
                self.run_s
            )?,
            End::Stalled => writeln!(
                f,
                "  end                     STALLED: the counts stopped growing ({:.1} s after provisioning)",
                self.run_s
            )?,
        }
        match &self.latency {
            None => writeln!(
                f,
                "  latency                 n/a (li-lemf exposes no latency histogram)"
            )?,
            Some(per) => {
                for (interface, q) in per {
                    let ms = |v: Option<f64>| {
                        v.map_or_else(|| "n/a".to_owned(), |s| format!("{:.2} ms", s * 1e3))
                    };
                    writeln!(
                        f,
                        "  latency {:<4}            p50 {}  p90 {}  p99 {}  ({} records)",
                        interface,
                        ms(q.p50),
                        ms(q.p90),
                        ms(q.p99),
                        q.count
                    )?;
                }
            }
        }
        if let Some(k) = self.keepalives {
            writeln!(
                f,
                "  keep-alives      {:>10}   ({:.3} % of PDUs received)",
                k,
                pct(k, k + self.received.total())
            )?;
        }
        if let Some(o) = &self.outage {
            writeln!(f)?;
            let secs =
                |v: Option<f64>| v.map_or_else(|| "never".to_owned(), |s| format!("{s:.2} s"));
            if o.performed {
                writeln!(
                    f,
                    "outage: agency killed after {} records, down {:.1} s; after the restart the \
                     links were up in {}, records flowed again in {}; the restarted agency \
                     counted {} CC + {} IRI (it cannot tell repeats of records its predecessor \
                     had: see redelivered)",
                    o.received_before.total(),
                    o.down_s,
                    o.links_up_after_s.map_or_else(
                        || "(never seen down, then up)".to_owned(),
                        |s| format!("{s:.2} s")
                    ),
                    secs(o.records_after_s),
                    o.received_after.cc,
                    o.received_after.iri
                )?;
            } else {
                writeln!(
                    f,
                    "outage: not performed (a third of the expected records never arrived)"
                )?;
            }
        }
        let p = &self.probe;
        writeln!(f)?;
        writeln!(
            f,
            "probe (li-probe)   frames {} of {} read, {} matched; records CC {} IRI {}",
            p.frames_seen, c.frames, p.frames_matched, p.cc_records, p.iri_records
        )?;
        writeln!(
            f,
            "  X2/X3 PDUs       queued {}  sent {}  DROPPED {}  possibly lost {}  unencodable {}",
            p.x2x3_queued, p.x2x3_sent, p.x2x3_dropped, p.x2x3_possibly_lost, p.unencodable
        )?;
        if let Some(t) = p.replay_s.filter(|&t| t > 0.0) {
            writeln!(
                f,
                "  replay           every frame read within {t:.2} s of provisioning (>= {:.0} \
                 frames/s; metrics every 50 ms)",
                p.frames_seen as f64 / t
            )?;
        }
        let m = &self.mediator;
        let refused = if m.refused.is_empty() {
            "none".to_owned()
        } else {
            m.refused
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "mediator           X2/X3 PDUs in {}, records spooled {}, still unacknowledged {}, refused: {}",
            m.x2x3_pdus, m.records, m.still_spooled, refused
        )?;
        writeln!(f)?;
        writeln!(f, "process          CPU s   peak RSS MiB")?;
        for p in &self.processes {
            match p.usage {
                Some(u) => writeln!(
                    f,
                    "  {:<12} {:>7.2}   {:>12.1}",
                    p.name,
                    u.cpu_s,
                    u.peak_rss_kib as f64 / 1024.0
                )?,
                None => writeln!(f, "  {:<12}     n/a            n/a", p.name)?,
            }
        }
        if self.kept {
            writeln!(f)?;
            writeln!(f, "run directory: {}", self.dir.display())?;
        }
        Ok(())
    }
}

// cargo compiles a bench target with cfg(test) but without the test harness (its #[test]s
// are dropped, their helpers unused): these tests run from examples/tests/chain.rs.
#[cfg(test)]
#[allow(dead_code, unused_imports)]
mod tests {
    use super::*;

    /// The capture of the run-logic tests: 12 frames, 10 the target's.
    fn capture_summary() -> CaptureSummary {
        CaptureSummary {
            frames: 12,
            target_frames: 10,
            from_target: 5,
            frame_size: 242,
            span_s: 0.0,
        }
    }

    #[test]
    fn the_agency_files_are_counted_by_distinct_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let line = |kind: &str, cin: &str, seq: u64| {
            format!(
                "{{\"interface\":\"HI3\",\"liid\":\"L\",\"cin\":{cin},\"seq\":{seq},\"kind\":\"{kind}\"}}\n"
            )
        };
        let mut text = String::new();
        for seq in [0, 1, 2, 1, 2, 4] {
            text.push_str(&line("cc", "7", seq));
        }
        text.push_str(&line("iri", "7", 0));
        text.push_str(&line("iri", "null", 0));
        std::fs::write(&path, text).unwrap();
        let check = check_agency_files(&path).unwrap();
        // CC 0, 1, 2, 4 (3 missing), two repeats; IRI of CIN 7 and without CIN.
        assert_eq!(
            check,
            FileCheck {
                cc: 4,
                iri: 2,
                repeats: 2,
                missing: 1
            }
        );
        std::fs::write(&path, "not json\n").unwrap();
        let error = check_agency_files(&path).unwrap_err();
        assert!(format!("{error:#}").contains("line 1"), "{error:#}");
    }

    fn agency(cc: u64, iri: u64) -> Metrics {
        Metrics::parse(&format!(
            "li_lemf_cc_records_total{{liid=\"{LIID}\"}} {cc}\n\
             li_lemf_iri_records_total{{liid=\"{LIID}\"}} {iri}\n\
             li_lemf_missing_total{{liid=\"{LIID}\"}} 0\n\
             li_lemf_repeats_total{{liid=\"{LIID}\"}} 0\n"
        ))
    }

    fn mediator(up: bool, spooled: u64) -> Metrics {
        let up = u8::from(up);
        Metrics::parse(&format!(
            "li_mediator_link_up{{destination=\"LEA-1 HI2\"}} {up}\n\
             li_mediator_link_up{{destination=\"LEA-1 HI3\"}} {up}\n\
             li_mediator_spool_records{{destination=\"LEA-1 HI3\"}} {spooled}\n\
             li_mediator_records_total{{liid=\"{LIID}\",destination=\"LEA-1 HI3\"}} 11\n"
        ))
    }

    const EXPECTED: RecordCounts = RecordCounts { cc: 10, iri: 1 };

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_run_completes_when_every_record_arrived_and_measures_the_rate() {
        let t0 = Instant::now();
        let mut w = Watch::new(t0, EXPECTED, &BenchOptions::new("bin"));
        w.agency(at(t0, 50), &agency(2, 1));
        assert_eq!(w.finished(at(t0, 50)), None);
        w.agency(at(t0, 1050), &agency(10, 1));
        assert_eq!(w.finished(at(t0, 1050)), Some(End::Complete));
        let report = w.report(
            capture_summary(),
            1.0,
            &Metrics::default(),
            &mediator(true, 0),
        );
        let rate = report.rate.unwrap();
        assert_eq!(rate.records, 8);
        assert!((rate.per_second - 8.0).abs() < 1e-9, "{rate:?}");
        assert_eq!((report.lost, report.redelivered), (0, 0));
    }

    #[test]
    fn a_run_stalls_when_the_counts_stop_growing() {
        let t0 = Instant::now();
        let mut w = Watch::new(t0, EXPECTED, &BenchOptions::new("bin"));
        w.agency(at(t0, 100), &agency(4, 1));
        assert_eq!(w.finished(at(t0, 9_000)), None);
        w.agency(at(t0, 10_099), &agency(4, 1));
        assert_eq!(w.finished(at(t0, 10_099)), None);
        assert_eq!(w.finished(at(t0, 10_100)), Some(End::Stalled));
    }

    #[test]
    fn an_outage_adds_both_lifetimes_and_times_the_recovery() {
        let t0 = Instant::now();
        let mut options = BenchOptions::new("bin");
        options.outage = Some(Duration::from_secs(2));
        let mut w = Watch::new(t0, EXPECTED, &options);
        w.agency(at(t0, 50), &agency(2, 1));
        assert!(!w.outage_due());
        w.agency(at(t0, 100), &agency(3, 1));
        assert!(w.outage_due(), "4 of 11: a third");
        w.agency_killed();
        // the mediator still says up (not noticed yet), then down
        w.mediator(at(t0, 150), &mediator(true, 3));
        w.mediator(at(t0, 200), &mediator(false, 5));
        w.agency_restarted(at(t0, 2_100));
        w.mediator(at(t0, 2_150), &mediator(false, 7));
        assert_eq!(w.finished(at(t0, 2_150)), None);
        w.mediator(at(t0, 3_100), &mediator(true, 7));
        w.agency(at(t0, 3_150), &agency(5, 0));
        assert_eq!(w.finished(at(t0, 3_150)), None, "7 of 11");
        // a restarted agency still counting from zero: 3 + 1 + 8 = 12, one redelivered
        w.agency(at(t0, 3_200), &agency(8, 0));
        w.mediator(at(t0, 3_200), &mediator(true, 0));
        assert_eq!(w.finished(at(t0, 3_200)), Some(End::Complete));
        let report = w.report(
            capture_summary(),
            3.2,
            &Metrics::default(),
            &mediator(true, 0),
        );
        assert_eq!(report.received, RecordCounts { cc: 11, iri: 1 });
        assert_eq!((report.lost, report.redelivered), (0, 1));
        let outage = report.outage.unwrap();
        assert!(outage.performed);
        assert_eq!(outage.received_before, RecordCounts { cc: 3, iri: 1 });
        assert_eq!(outage.received_after, RecordCounts { cc: 8, iri: 0 });
        assert_eq!(outage.links_up_after_s, Some(1.0));
        assert_eq!(outage.records_after_s, Some(1.05));
    }

    #[test]
    fn latency_histograms_and_keepalives_are_read_per_interface_and_merged() {
        let text = "\
li_lemf_keepalives_total 4
li_lemf_delivery_latency_seconds_bucket{interface=\"hi3\",le=\"0.001\"} 6
li_lemf_delivery_latency_seconds_bucket{interface=\"hi3\",le=\"0.01\"} 10
li_lemf_delivery_latency_seconds_bucket{interface=\"hi3\",le=\"+Inf\"} 10
li_lemf_delivery_latency_seconds_bucket{interface=\"hi2\",le=\"0.001\"} 1
li_lemf_delivery_latency_seconds_bucket{interface=\"hi2\",le=\"0.01\"} 1
li_lemf_delivery_latency_seconds_bucket{interface=\"hi2\",le=\"+Inf\"} 1
";
        let one = AgencyCounts::read(&Metrics::parse(text));
        assert_eq!(one.keepalives, Some(4));
        let latency = one.latency.clone().unwrap();
        assert_eq!(latency["hi3"].total(), 10.0);
        assert_eq!(latency["hi2"].total(), 1.0);
        let both = one.plus(&one);
        assert_eq!(both.keepalives, Some(8));
        assert_eq!(both.latency.unwrap()["hi3"].total(), 20.0);
        assert!(AgencyCounts::read(&agency(1, 1)).latency.is_none());
    }
}
