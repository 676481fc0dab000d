//! `li-bench`: the end-to-end benchmark of the reference daemons (`li-lemf`, `li-mediator`,
//! `li-probe`, `li-admf`) as separate processes on loopback with mutual TLS; see
//! `li_examples::bench` and docs/PERFORMANCE.md.
//!
//! ```text
//! cargo build --release -p li-examples --bins
//! target/release/li-bench --frames 200000
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use li_examples::bench::{self, BenchOptions, End};

/// End-to-end benchmark: generates a capture, runs agency, mediator, probe and ADMF as
/// processes (the binaries next to this one), replays the capture through the probe and
/// measures what reaches the agency.
#[derive(Debug, Parser)]
#[command(name = "li-bench", version)]
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
    #[arg(long, default_value = "target/li-bench")]
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
    /// Where the daemons' executables are; default: this executable's directory.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// A setting added to a daemon's configuration, to measure its cost, e.g.
    /// `--set 'mediator.spool_fsync="never"'` or `--set lemf.fsync=false` (repeatable).
    #[arg(long = "set", value_name = "DAEMON.KEY=VALUE", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
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
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("li-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .context("cannot locate the li-bench executable")?
            .parent()
            .context("the li-bench executable has no directory")?
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
    options.dir = args.dir;
    options.keep = args.keep;
    options.stall_timeout = Duration::from_secs(args.stall_timeout.max(1));
    options.log = args.log;
    options.settings = args.settings;
    let report = bench::run(&options)?;
    println!("{report}");
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // The agency's files decide: every expected record once or more, no number missing.
    if !report.succeeded() {
        return Ok(ExitCode::from(2));
    }
    if report.end == End::Stalled {
        eprintln!(
            "li-bench: the agency's metrics stalled short (a killed agency's counts die with \
             it), but its files hold every expected record"
        );
    }
    Ok(ExitCode::SUCCESS)
}
