//! The daemons as child processes: started with their output in a log file, killed when
//! dropped (so every exit path of the benchmark, errors included, stops them), and their
//! CPU time and peak memory read from `/proc`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// Set when the benchmark received SIGINT or SIGTERM.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Catches SIGINT and SIGTERM from now on: instead of ending the process at once (which
/// would leave the daemons running), they make [`check_interrupted`] fail, so the benchmark
/// returns an error and its [`Daemon`] guards kill the daemons.
pub(crate) fn catch_signals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                let _ = ready.send(());
                return;
            };
            runtime.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    let _ = ready.send(());
                    return;
                };
                let _ = ready.send(());
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                INTERRUPTED.store(true, Ordering::SeqCst);
            });
        });
        // the handlers are installed before the first daemon starts
        let _ = wait.recv_timeout(Duration::from_secs(5));
    });
}

/// An error once SIGINT or SIGTERM was received (see [`catch_signals`]).
pub(crate) fn check_interrupted() -> anyhow::Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(())
}

/// Sleeps for `duration`, in short steps, failing early if interrupted.
pub(crate) fn sleep(duration: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + duration;
    loop {
        check_interrupted()?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// A daemon started by the benchmark. Dropping it kills it (SIGKILL) and reaps it.
#[derive(Debug)]
pub(crate) struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `program` with `args`; stdout and stderr go to `log` (appended, so a restarted
    /// daemon keeps the earlier run's lines).
    pub(crate) fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        log: &Path,
    ) -> anyhow::Result<Self> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(program)
            .args(args)
            .env("NO_COLOR", "1") // plain log files
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its name in reports.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// An error if it has exited (with the end of its log).
    pub(crate) fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); the end of {}:\n{}",
                self.name,
                self.log.display(),
                log_tail(&self.log, 15)
            );
        }
        Ok(())
    }

    /// CPU time and peak memory so far.
    pub(crate) fn usage(&self) -> anyhow::Result<Usage> {
        Usage::of(self.pid())
    }

    /// Kills it at once (SIGKILL) and reaps it.
    pub(crate) fn kill(mut self) -> anyhow::Result<()> {
        self.child
            .kill()
            .with_context(|| format!("cannot kill {}", self.name))?;
        self.child.wait()?;
        Ok(())
    }

    /// Asks it to stop (SIGTERM, sent with `kill(1)`), waits up to `grace`, then kills it.
    pub(crate) fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if sent {
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if self.child.try_wait()?.is_some() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `n` lines of a log file.
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or_default()
        .join("\n")
}

/// What a process used.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub(crate) struct Usage {
    /// User plus system CPU time, seconds (`/proc/<pid>/stat` utime + stime over the clock
    /// tick).
    pub(crate) cpu_s: f64,
    /// Peak resident set size, KiB (`VmHWM` of `/proc/<pid>/status`).
    pub(crate) peak_rss_kib: u64,
}

impl Usage {
    /// Reads `/proc` for `pid`.
    pub(crate) fn of(pid: u32) -> anyhow::Result<Self> {
        let stat_path = format!("/proc/{pid}/stat");
        let stat = std::fs::read_to_string(&stat_path)
            .with_context(|| format!("cannot read {stat_path}"))?;
        let ticks = cpu_ticks(&stat).with_context(|| format!("{stat_path}: unexpected format"))?;
        let status_path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&status_path)
            .with_context(|| format!("cannot read {status_path}"))?;
        let peak_rss_kib =
            vm_hwm_kib(&status).with_context(|| format!("{status_path}: no VmHWM"))?;
        Ok(Self {
            cpu_s: ticks as f64 / clock_ticks_per_second() as f64,
            peak_rss_kib,
        })
    }

    /// Two lifetimes of one daemon (restarted): CPU added, the larger peak.
    pub(crate) fn combine(self, other: Self) -> Self {
        Self {
            cpu_s: self.cpu_s + other.cpu_s,
            peak_rss_kib: self.peak_rss_kib.max(other.peak_rss_kib),
        }
    }
}

/// utime + stime (fields 14 and 15 of `/proc/<pid>/stat`, after the parenthesised command
/// name, which may itself hold spaces and parentheses).
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime field 15
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `VmHWM:   12345 kB`.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// `getconf CLK_TCK`, 100 if it cannot be asked.
fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

// cargo compiles a bench target with cfg(test) but without the test harness (its #[test]s
// are dropped, their helpers unused): these tests run from examples/tests/chain.rs.
#[cfg(test)]
#[allow(dead_code, unused_imports)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_and_status_fields() {
        let stat = "4242 (li probe (x)) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 56 0 0 20 0 \
                    4 0 100 1000 200 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(1290));
        assert_eq!(cpu_ticks("garbage"), None);
        let status = "Name:\tli-probe\nVmPeak:\t  100 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(20480));
    }

    #[test]
    fn our_own_usage_is_readable() {
        let usage = Usage::of(std::process::id()).unwrap();
        assert!(usage.peak_rss_kib > 0);
    }
}
