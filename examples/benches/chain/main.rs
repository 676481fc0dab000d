//! `chain`: the end-to-end benchmark of the reference daemons (`li-lemf`, `li-mediator`,
//! `li-probe`, `li-admf`) as separate processes on loopback with mutual TLS; see the
//! [`bench`] module and docs/PERFORMANCE.md. A `harness = false` bench target of li-examples:
//!
//! ```text
//! cargo bench -p li-examples --bench chain -- --frames 2000     # smoke run
//! cargo bench -p li-examples --bench chain                      # 200,000 frames
//! ```
//!
//! cargo builds the daemons (release profile) with it and runs it from `examples/`; relative
//! paths given to it are taken from the workspace root. Its unit tests run in
//! `cargo test --workspace` through `examples/tests/chain.rs` (cargo runs no `#[test]` of a
//! `harness = false` target).

mod bench;
mod capture;
mod process;
mod prom;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

use bench::{BenchOptions, End};

/// End-to-end benchmark: generates a capture, runs agency, mediator, probe and ADMF as
/// processes (the binaries cargo builds with this benchmark), replays the capture through the
/// probe and measures what reaches the agency.
#[derive(Debug, Parser)]
#[command(name = "chain", version)]
struct Args {
    /// Frames in the generated capture (2000: a smoke run).
    #[arg(long, default_value_t = 200_000)]
    frames: u64,
    /// Share of the frames to or from the target (198.51.100.23), 0 to 1.
    #[arg(long, default_value_t = 0.75)]
    target_share: f64,
    /// Octets per frame (Ethernet/IPv4/UDP or TCP), 60 to 1514.
    #[arg(long, default_value_t = 242)]
    frame_size: usize,
    /// Spacing of the capture's timestamps, frames/s (what --paced follows).
    #[arg(long, default_value_t = 50_000)]
    rate: u64,
    /// Replay at --rate instead of as fast as possible (latency under a given load).
    #[arg(long)]
    paced: bool,
    /// Kill the agency once a third of the records arrived, for SECS seconds, then restart
    /// it on the same ports and output directory.
    #[arg(long, value_name = "SECS")]
    outage: Option<f64>,
    /// Keep the run directory (configurations, PKI, logs, spools, the agency's output) after
    /// a complete run; a stalled or failed run's is always kept.
    #[arg(long)]
    keep: bool,
    /// The run directory (emptied first).
    #[arg(long, default_value = bench::DEFAULT_DIR)]
    dir: PathBuf,
    /// Also write the figures as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The run ends when the agency's counts have not grown for this many seconds.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    stall_timeout: u64,
    /// The daemons' log filter (their --log).
    #[arg(long, default_value = "info")]
    log: String,
    /// Where the daemons' executables are; default: where cargo built them with this
    /// benchmark.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// A setting added to a daemon's configuration, to measure its cost, e.g.
    /// `--set 'mediator.spool_fsync="never"'` or `--set lemf.fsync=false` (repeatable).
    #[arg(long = "set", value_name = "DAEMON.KEY=VALUE", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
    /// Passed by `cargo bench`; without it (`cargo test --benches`) nothing is run.
    #[arg(long, hide = true)]
    bench: bool,
}

/// `DAEMON.KEY=VALUE` into (daemon, `KEY = VALUE`).
fn parse_setting(text: &str) -> Result<(String, String), String> {
    let (daemon, setting) = text
        .split_once('.')
        .ok_or_else(|| format!("{text:?}: expected DAEMON.KEY=VALUE"))?;
    if !matches!(daemon, "lemf" | "mediator" | "probe" | "admf") {
        return Err(format!(
            "{daemon:?}: expected lemf, mediator, probe or admf"
        ));
    }
    let (key, value) = setting
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected DAEMON.KEY=VALUE"))?;
    Ok((
        daemon.to_owned(),
        format!("{} = {}", key.trim(), value.trim()),
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.bench {
        // `cargo test --benches` runs a harness-less bench without `--bench`: a whole run
        // of the daemons is no test (its unit tests are in examples/tests/chain.rs).
        eprintln!("chain: not run without --bench (cargo bench -p li-examples --bench chain)");
        return ExitCode::SUCCESS;
    }
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chain: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `path`, taken from the workspace root if relative (cargo runs benchmarks in the package's
/// directory).
fn from_workspace(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        return path;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    root.parent().unwrap_or(root).join(path)
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bin_dir = match args.bin_dir {
        Some(dir) => from_workspace(dir),
        // cargo builds the package's binaries with its benchmarks, next to each other
        None => Path::new(env!("CARGO_BIN_EXE_li-probe"))
            .parent()
            .context("the daemons' executables have no directory")?
            .to_owned(),
    };
    let outage = args
        .outage
        .map(|s| {
            Duration::try_from_secs_f64(s).with_context(|| format!("--outage {s}: not a duration"))
        })
        .transpose()?;
    let mut options = BenchOptions::new(bin_dir);
    options.capture.frames = args.frames;
    options.capture.target_share = args.target_share;
    options.capture.frame_size = args.frame_size;
    options.capture.rate = args.rate;
    options.capture.validate()?;
    options.paced = args.paced;
    options.outage = outage;
    options.dir = from_workspace(args.dir);
    options.keep = args.keep;
    options.stall_timeout = Duration::from_secs(args.stall_timeout.max(1));
    options.log = args.log;
    options.settings = args.settings;
    let report = bench::run(&options)?;
    println!("{report}");
    if let Some(path) = args.json.map(from_workspace) {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // The agency's files decide: every expected record once or more, no number missing.
    if !report.succeeded() {
        return Ok(ExitCode::from(2));
    }
    if report.end == End::Stalled {
        eprintln!(
            "chain: the agency's metrics stalled short (a killed agency's counts die with \
             it), but its files hold every expected record"
        );
    }
    Ok(ExitCode::SUCCESS)
}
