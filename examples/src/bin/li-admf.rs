//! `li-admf`: the administration function. Holds warrants and provisions the mediator and
//! the probes over X1 (ETSI TS 103 221-1); see `li_handover::admf` and `li_examples::admf`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};
use li_core::{InterceptScope, Liid, Task, Timestamp, ValidityWindow, Xid};
use li_examples::admf::{self, AdmfConfig};
use li_examples::metrics::Registry;
use li_handover::admf::store::{StoreError, Warrant};
use li_handover::admf::{Admf, text};
use li_handover::audit;

/// The administration function (ADMF) of li-suite: warrants in, X1 provisioning of the
/// mediator and the probes out.
#[derive(Debug, Parser)]
#[command(name = "li-admf", version)]
struct Cli {
    /// The configuration file (TOML).
    #[arg(long, global = true, default_value = "admf.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon: activate and deactivate warrants on time, keep the NEs in line.
    Run,
    /// Enter, list, show or revoke warrants.
    Warrant {
        #[command(subcommand)]
        command: WarrantCommand,
    },
    /// Sync once now (read back every NE, activate, deactivate) and print what was done.
    Sync,
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a development PKI (ca.pem; admf, probe, mediator, lemf .pem/.key).
    DevCerts {
        /// The directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum WarrantCommand {
    /// Enter a new warrant (pending until its start; the daemon or `sync` activates it).
    Add(AddArgs),
    /// List every warrant.
    List,
    /// Show one warrant, targets included.
    Show {
        /// The warrant's LIID.
        liid: String,
    },
    /// Revoke a warrant: deactivated at once at the probes, then at the mediator.
    Revoke {
        /// The warrant's LIID.
        liid: String,
    },
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The LIID (1 to 25 printable ASCII characters).
    #[arg(long)]
    liid: String,
    /// The X1 task id (UUID); random when absent.
    #[arg(long)]
    xid: Option<String>,
    #[arg(long = "target", required = true, help = text::target_help())]
    targets: Vec<String>,
    /// What is delivered: `iri` or `iri+cc`.
    #[arg(long, default_value = "iri")]
    scope: String,
    /// When the warrant starts: RFC 3339 or `now`.
    #[arg(long, default_value = "now")]
    start: String,
    /// When it ends (RFC 3339); open-ended when absent.
    #[arg(long)]
    end: Option<String>,
    /// An agency (its `name` in the configuration); repeatable.
    #[arg(long = "agency", required = true)]
    agencies: Vec<String>,
    /// Accept a window that ended already (to replay a recorded capture against its own
    /// time; the probe then keeps the file's timestamps: `rebase = false` or `rebase_to`).
    #[arg(long)]
    allow_past: bool,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain; prints the entries and last hash, or the first broken entry
    /// (exit code 1).
    Verify {
        /// The log file; default: the configured `audit_log`.
        file: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    li_examples::cli::init_tracing("info");
    let cli = Cli::parse();
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("li-admf: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::DevCerts { out } => {
            let files = admf::dev_certs(&out)?;
            println!("wrote {}", out.join("ca.pem").display());
            for f in files {
                println!("wrote {} and {}", f.cert.display(), f.key.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { file },
        } => {
            let path = match file {
                Some(file) => file,
                None => {
                    let (config, base) = AdmfConfig::load(&cli.config)?;
                    base.join(&config.audit_log)
                }
            };
            verify_audit(&path)
        }
        Command::Run => {
            let (config, admf) = open(&cli.config)?;
            let shutdown = li_examples::cli::shutdown_on_signals();
            let registry = Arc::new(Registry::new());
            admf::register_metrics(&admf, &registry)?;
            li_examples::cli::start_metrics(config.metrics_listen, registry, shutdown.clone())
                .await?;
            admf.run(shutdown).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync => {
            let (_, admf) = open(&cli.config)?;
            let mut report = admf.sync(admf::now()).await?;
            let settled = admf.settle().await?;
            print!("{report}");
            if !settled.is_empty() {
                print!("{settled}");
            }
            report.failures.extend(settled.failures);
            Ok(if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Warrant { command } => warrant(&cli.config, command).await,
    }
}

fn open(config_path: &Path) -> anyhow::Result<(AdmfConfig, Admf)> {
    let (config, base) = AdmfConfig::load(config_path)?;
    let admf = admf::open(&config, &base)?;
    Ok((config, admf))
}

async fn warrant(config_path: &Path, command: WarrantCommand) -> anyhow::Result<ExitCode> {
    match command {
        WarrantCommand::Add(args) => {
            let (config, admf) = open(config_path)?;
            let warrant = build_warrant(&config, &args)?;
            admf.create_warrant(&warrant)?;
            println!(
                "warrant {} created (XID {}), pending until {}; the daemon (or `li-admf \
                 sync`) activates it",
                warrant.task.liid(),
                warrant.task.xid(),
                warrant.task.window().start()
            );
        }
        WarrantCommand::List => {
            let (_, admf) = open(config_path)?;
            let warrants = admf.store().list().context("cannot list warrants")?;
            if warrants.is_empty() {
                println!("no warrants");
            }
            let mut refusals = admf
                .store()
                .all_refusals()
                .context("cannot read the warrants' refusals")?;
            for w in warrants {
                let refusals = refusals.remove(&w.task.liid()).unwrap_or_default();
                println!("{}", text::list_line(&w, &refusals));
            }
        }
        WarrantCommand::Show { liid } => {
            let (_, admf) = open(config_path)?;
            let liid = parse_liid(&liid)?;
            let w = admf
                .store()
                .get(&liid)
                .with_context(|| format!("cannot read warrant {liid}"))?
                .with_context(|| format!("warrant {liid}: not found"))?;
            let refusals = admf
                .store()
                .refusals(&liid)
                .with_context(|| format!("cannot read warrant {liid}"))?;
            print!("{}", text::describe(&w, &refusals));
        }
        WarrantCommand::Revoke { liid } => {
            let (_, admf) = open(config_path)?;
            let liid = parse_liid(&liid)?;
            let mut report = admf.revoke(&liid).await?;
            let settled = admf.settle().await?;
            print!("{report}");
            if !settled.is_empty() {
                print!("{settled}");
            }
            report.failures.extend(settled.failures);
            if !report.failures.is_empty() {
                println!(
                    "warrant {liid} is revoked; the failed deactivations are retried by the \
                     daemon (or `li-admf sync`)"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_liid(text: &str) -> anyhow::Result<Liid> {
    text.parse()
        .with_context(|| format!("{text:?} is not a LIID"))
}

fn build_warrant(config: &AdmfConfig, args: &AddArgs) -> anyhow::Result<Warrant> {
    let now = admf::now();
    let liid = parse_liid(&args.liid)?;
    let xid = match &args.xid {
        Some(x) => x
            .parse::<Xid>()
            .with_context(|| format!("--xid {x:?} is not a UUID"))?,
        None => admf::random_xid(),
    };
    let targets = args
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| admf::parse_target(i + 1, t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let scope = match args.scope.as_str() {
        "iri" => InterceptScope::IriOnly,
        "iri+cc" => InterceptScope::IriAndCc,
        other => bail!("--scope {other:?}: expected iri or iri+cc"),
    };
    let start = if args.start == "now" {
        now
    } else {
        args.start
            .parse::<Timestamp>()
            .with_context(|| format!("--start {:?} is not RFC 3339 or now", args.start))?
    };
    let end = args
        .end
        .as_deref()
        .map(|e| {
            e.parse::<Timestamp>()
                .with_context(|| format!("--end {e:?} is not RFC 3339"))
        })
        .transpose()?;
    let window = ValidityWindow::new(start, end).context("--start/--end")?;
    admf::check_window_not_past(&window, now, args.allow_past)?;
    let agencies = args
        .agencies
        .iter()
        .map(|name| {
            config.agency(name).with_context(|| {
                let known: Vec<&str> = config.agencies.iter().map(|a| a.name.as_str()).collect();
                format!(
                    "--agency {name:?} is not in the configuration (known: {})",
                    known.join(", ")
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Task::new(liid, xid, targets, scope, window, agencies)
        .map_err(|e| StoreError::invalid(liid, e))
        .and_then(|task| Warrant::new(task, now))
        .with_context(|| format!("warrant {liid}"))
}

fn verify_audit(path: &Path) -> anyhow::Result<ExitCode> {
    match audit::read_entries(path) {
        Ok((report, entries)) => {
            for e in &entries {
                println!(
                    "{:>6} {} {:<8} {:<22} {}",
                    e.seq,
                    e.time,
                    e.actor,
                    e.kind.as_str(),
                    e.detail
                );
            }
            println!(
                "{}: {} entries, chain intact, last hash {}",
                path.display(),
                report.entries,
                report.last_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(audit::VerifyError::Broken {
            path,
            line,
            seq,
            reason,
        }) => {
            let seq = seq.map(|s| format!(" (seq {s})")).unwrap_or_default();
            println!("{}: BROKEN at line {line}{seq}: {reason}", path.display());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn warrant_add_help_lists_every_target_kind() {
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("warrant")
            .and_then(|w| w.find_subcommand_mut("add"))
            .expect("warrant add")
            .render_help()
            .to_string();
        for kind in li_core::TargetKind::ALL {
            assert!(
                help.contains(&format!("{kind}:")),
                "{kind} missing in {help}"
            );
        }
        assert!(help.contains("--allow-past"), "{help}");
    }
}
