//! What every reference binary shares: TOML configuration loading, logging set-up, the
//! shutdown signal, and TLS file settings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use li_core::Timestamp;
use li_handover::tls::TlsFiles;
use serde::Deserialize;
use tokio::sync::watch;

/// The wall clock as a [`Timestamp`] (microseconds; the Unix epoch if the clock is before it).
pub fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

/// Reads and parses a TOML configuration file; errors name the file, and the line and key
/// where parsing failed (unknown keys are errors: every config type denies them).
pub fn load_toml<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration {}", path.display()))
}

/// Sets up logging to stderr: `RUST_LOG` if set, else `default` (e.g. `"info"`).
///
/// Target identifiers are logged only at debug level and below (operators run at info).
pub fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A second call (tests, the in-process demo) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A watch channel that turns `true` on SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            () = term => {}
        }
        tracing::info!("shutdown requested");
        let _ = tx.send(true);
    });
    rx
}

/// Certificate, key and trusted CA, as PEM files (relative paths are relative to the
/// configuration file's directory once [`TlsFileConfig::resolve`] is called).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsFileConfig {
    /// Our certificate chain (PEM).
    pub cert: PathBuf,
    /// Our private key (PEM).
    pub key: PathBuf,
    /// The CA whose certificates we accept from peers (PEM).
    pub ca: PathBuf,
}

impl TlsFileConfig {
    /// Paths relative to `base` (the configuration file's directory) made absolute.
    pub fn resolve(&self, base: &Path) -> TlsFiles {
        TlsFiles {
            cert: base.join(&self.cert),
            key: base.join(&self.key),
            ca: base.join(&self.ca),
        }
    }
}

/// The directory a configuration file is in (for relative paths in it).
pub fn config_dir(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Starts the Prometheus endpoint on `listen` when given; returns the bound address.
pub async fn start_metrics(
    listen: Option<std::net::SocketAddr>,
    registry: Arc<crate::metrics::Registry>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Option<std::net::SocketAddr>> {
    let Some(addr) = listen else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(crate::metrics::serve_metrics(listener, registry, shutdown));
    tracing::info!(%bound, "metrics on http://{bound}/metrics");
    Ok(Some(bound))
}
