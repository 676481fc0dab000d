//! Prometheus metrics: a small registry of counters and gauges and an HTTP endpoint serving
//! them in the text exposition format 0.0.4.
//!
//! Counters and gauges are atomics behind cheap handles ([`Counter`], [`Gauge`]): a hot
//! path increments without locking once it holds its handle. A family with labels
//! ([`CounterVec`], [`GaugeVec`]) has a fixed set of label names; [`CounterVec::with`]
//! returns the handle for one set of label values. Values owned by other components (queue
//! and spool depths, link state, counters kept in another crate's statistics) are
//! registered as closures ([`Registry::gauge_fn`], [`Registry::collector`]) evaluated at
//! each scrape; so are histograms ([`Registry::histogram_collector`]), whose buckets the
//! owning component keeps.
//!
//! [`serve_metrics`] answers `GET /metrics` over HTTP/1.1 (hyper) until told to stop.
//!
//! ```
//! use li_examples::metrics::Registry;
//!
//! let registry = Registry::new();
//! let packets = registry.counter_vec(
//!     "li_packets_total",
//!     "Packets seen by the probe.",
//!     &["interface", "outcome"],
//! )?;
//! packets.with(&["eth0", "matched"])?.inc_by(3);
//! registry.gauge_fn("li_spool_bytes", "Bytes waiting in the spool.", || 4096.0)?;
//! assert_eq!(
//!     registry.render(),
//!     "# HELP li_packets_total Packets seen by the probe.\n\
//!      ## TYPE li_packets_total counter\n\
//!      li_packets_total{interface=\"eth0\",outcome=\"matched\"} 3\n\
//!      ## HELP li_spool_bytes Bytes waiting in the spool.\n\
//!      ## TYPE li_spool_bytes gauge\n\
//!      li_spool_bytes 4096\n"
//! );
//! # Ok::<(), li_examples::metrics::MetricsError>(())
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`serve_metrics`] waits for open connections to finish once told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A set of metric families, rendered in registration order.
///
/// Shared between components behind an [`Arc`]; every method takes `&self`.
#[derive(Default)]
pub struct Registry {
    families: Mutex<Vec<Arc<Family>>>,
}

/// The type of a metric family (`# TYPE` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that only goes up (reset on restart).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted in buckets (`_bucket{le=...}`, `_sum`, `_count`).
    Histogram,
}

/// One sample returned by a [`Registry::collector`] closure: label values (in the order of
/// the family's label names) and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The label values.
    pub labels: Vec<String>,
    /// The value.
    pub value: f64,
}

/// One histogram returned by a [`Registry::histogram_collector`] closure.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSample {
    /// The label values (in the order of the family's label names; `le` is added).
    pub labels: Vec<String>,
    /// Each bucket's upper bound and cumulative count, bounds increasing; the `+Inf`
    /// bucket is added from `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Every observation.
    pub count: u64,
    /// The sum of the observations.
    pub sum: f64,
}

/// A monotonically increasing counter; clones share the value.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

/// A gauge; clones share the value.
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

/// A counter family with labels; [`CounterVec::with`] gives the counter for one set of label
/// values.
#[derive(Clone)]
pub struct CounterVec(Arc<Family>);

/// A gauge family with labels; [`GaugeVec::with`] gives the gauge for one set of label
/// values.
#[derive(Clone)]
pub struct GaugeVec(Arc<Family>);

/// Errors from registering or labelling metrics.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// A metric name must match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("metric name {name:?} is not [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// A label name must match `[a-zA-Z_][a-zA-Z0-9_]*`, must not start with `__`, and must
    /// not repeat.
    #[error("metric {metric}: label name {label:?} is invalid, reserved or repeated")]
    InvalidLabelName {
        /// The metric.
        metric: String,
        /// The rejected label name.
        label: String,
    },
    /// A family with this name is registered already.
    #[error("metric {name} is registered already")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// The number of label values differs from the number of label names.
    #[error("metric {metric}: {got} label values given for {expected} label names")]
    LabelCount {
        /// The metric.
        metric: String,
        /// The number of label names.
        expected: usize,
        /// The number of values given.
        got: usize,
    },
}

/// A scrape-time closure.
type CollectFn = dyn Fn() -> Vec<Sample> + Send + Sync;

/// A scrape-time closure returning histograms.
type CollectHistogramsFn = dyn Fn() -> Vec<HistogramSample> + Send + Sync;

/// One metric family.
struct Family {
    name: String,
    help: String,
    kind: MetricKind,
    label_names: Vec<String>,
    values: Values,
}

/// Where a family's samples come from.
enum Values {
    /// Counters by label values.
    Counters(Mutex<BTreeMap<Vec<String>, Counter>>),
    /// Gauges by label values.
    Gauges(Mutex<BTreeMap<Vec<String>, Gauge>>),
    /// A closure evaluated at each scrape.
    Collect(Box<CollectFn>),
    /// A closure returning histograms, evaluated at each scrape.
    CollectHistograms(Box<CollectHistogramsFn>),
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a counter without labels.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::Duplicate`].
    pub fn counter(&self, name: &str, help: &str) -> Result<Counter, MetricsError> {
        self.counter_vec(name, help, &[])?.with(&[])
    }

    /// Registers a counter family with these label names.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::InvalidLabelName`],
    /// [`MetricsError::Duplicate`].
    pub fn counter_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<CounterVec, MetricsError> {
        let values = Values::Counters(Mutex::default());
        self.register(name, help, MetricKind::Counter, labels, values)
            .map(CounterVec)
    }

    /// Registers a gauge without labels.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::Duplicate`].
    pub fn gauge(&self, name: &str, help: &str) -> Result<Gauge, MetricsError> {
        self.gauge_vec(name, help, &[])?.with(&[])
    }

    /// Registers a gauge family with these label names.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::InvalidLabelName`],
    /// [`MetricsError::Duplicate`].
    pub fn gauge_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<GaugeVec, MetricsError> {
        let values = Values::Gauges(Mutex::default());
        self.register(name, help, MetricKind::Gauge, labels, values)
            .map(GaugeVec)
    }

    /// Registers a gauge without labels whose value `f` computes at each scrape (a queue
    /// depth, a link state read from another component's statistics).
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::Duplicate`].
    pub fn gauge_fn(
        &self,
        name: &str,
        help: &str,
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        self.collector(name, help, MetricKind::Gauge, &[], move || {
            vec![Sample {
                labels: Vec::new(),
                value: f(),
            }]
        })
    }

    /// Registers a family whose samples `f` returns at each scrape, one per set of label
    /// values (for example the spool depth of every destination, or a counter kept in
    /// another crate's statistics). Samples with the wrong number of label values are
    /// skipped and logged.
    ///
    /// `f` runs on the scraping task without any registry lock held; it should be quick.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::InvalidLabelName`],
    /// [`MetricsError::Duplicate`].
    pub fn collector(
        &self,
        name: &str,
        help: &str,
        kind: MetricKind,
        labels: &[&str],
        f: impl Fn() -> Vec<Sample> + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        let values = Values::Collect(Box::new(f));
        self.register(name, help, kind, labels, values).map(drop)
    }

    /// Registers a histogram family whose histograms `f` returns at each scrape, one per
    /// set of label values (for example a latency histogram kept by another crate).
    /// Samples with the wrong number of label values are skipped and logged.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidName`], [`MetricsError::InvalidLabelName`] (also for `le`,
    /// reserved for the buckets), [`MetricsError::Duplicate`].
    pub fn histogram_collector(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        f: impl Fn() -> Vec<HistogramSample> + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        if let Some(le) = labels.iter().find(|&&l| l == "le") {
            return Err(MetricsError::InvalidLabelName {
                metric: name.into(),
                label: (*le).into(),
            });
        }
        let values = Values::CollectHistograms(Box::new(f));
        self.register(name, help, MetricKind::Histogram, labels, values)
            .map(drop)
    }

    /// The text exposition (format 0.0.4) of every family, in registration order; within a
    /// family, counters and gauges are ordered by label values and collected samples are
    /// in the order the closure returned them.
    pub fn render(&self) -> String {
        let families: Vec<Arc<Family>> = lock(&self.families).clone();
        let mut out = String::with_capacity(256 * families.len());
        for family in families {
            family.render(&mut out);
        }
        out
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        kind: MetricKind,
        labels: &[&str],
        values: Values,
    ) -> Result<Arc<Family>, MetricsError> {
        if !is_metric_name(name) {
            return Err(MetricsError::InvalidName { name: name.into() });
        }
        for (i, label) in labels.iter().enumerate() {
            if !is_label_name(label) || labels.iter().take(i).any(|l| l == label) {
                return Err(MetricsError::InvalidLabelName {
                    metric: name.into(),
                    label: (*label).into(),
                });
            }
        }
        let mut families = lock(&self.families);
        if families.iter().any(|f| f.name == name) {
            return Err(MetricsError::Duplicate { name: name.into() });
        }
        let family = Arc::new(Family {
            name: name.into(),
            help: help.into(),
            kind,
            label_names: labels.iter().map(|&l| l.to_owned()).collect(),
            values,
        });
        families.push(Arc::clone(&family));
        Ok(family)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = lock(&self.families)
            .iter()
            .map(|family| family.name.clone())
            .collect();
        f.debug_struct("Registry")
            .field("families", &names)
            .finish()
    }
}

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Gauge {
    /// Sets the value.
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one.
    pub fn dec(&self) {
        self.add(-1);
    }

    /// Adds `delta` (which may be negative).
    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl CounterVec {
    /// The counter for these label values (in the order of the label names), created at 0
    /// on first use.
    ///
    /// # Errors
    ///
    /// [`MetricsError::LabelCount`].
    pub fn with(&self, values: &[&str]) -> Result<Counter, MetricsError> {
        let key = self.0.key(values)?;
        match &self.0.values {
            Values::Counters(map) => Ok(lock(map).entry(key).or_default().clone()),
            // A `CounterVec` always holds counters; a detached counter keeps callers working.
            _ => Ok(Counter::default()),
        }
    }
}

impl GaugeVec {
    /// The gauge for these label values (in the order of the label names), created at 0 on
    /// first use.
    ///
    /// # Errors
    ///
    /// [`MetricsError::LabelCount`].
    pub fn with(&self, values: &[&str]) -> Result<Gauge, MetricsError> {
        let key = self.0.key(values)?;
        match &self.0.values {
            Values::Gauges(map) => Ok(lock(map).entry(key).or_default().clone()),
            // A `GaugeVec` always holds gauges; a detached gauge keeps callers working.
            _ => Ok(Gauge::default()),
        }
    }

    /// Removes the gauge for these label values from the exposition (a destination that was
    /// removed); returns whether it existed.
    ///
    /// # Errors
    ///
    /// [`MetricsError::LabelCount`].
    pub fn remove(&self, values: &[&str]) -> Result<bool, MetricsError> {
        let key = self.0.key(values)?;
        Ok(match &self.0.values {
            Values::Gauges(map) => lock(map).remove(&key).is_some(),
            _ => false,
        })
    }
}

impl fmt::Debug for CounterVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CounterVec({})", self.0.name)
    }
}

impl fmt::Debug for GaugeVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GaugeVec({})", self.0.name)
    }
}

impl Family {
    fn key(&self, values: &[&str]) -> Result<Vec<String>, MetricsError> {
        if values.len() != self.label_names.len() {
            return Err(MetricsError::LabelCount {
                metric: self.name.clone(),
                expected: self.label_names.len(),
                got: values.len(),
            });
        }
        Ok(values.iter().map(|&v| v.to_owned()).collect())
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP ");
        out.push_str(&self.name);
        out.push(' ');
        escape_into(&self.help, false, out);
        out.push_str("\n# TYPE ");
        out.push_str(&self.name);
        out.push_str(match self.kind {
            MetricKind::Counter => " counter\n",
            MetricKind::Gauge => " gauge\n",
            MetricKind::Histogram => " histogram\n",
        });
        match &self.values {
            Values::Counters(map) => {
                let samples: Vec<(Vec<String>, u64)> = lock(map)
                    .iter()
                    .map(|(labels, counter)| (labels.clone(), counter.get()))
                    .collect();
                for (labels, value) in samples {
                    self.render_sample(&labels, &value.to_string(), out);
                }
            }
            Values::Gauges(map) => {
                let samples: Vec<(Vec<String>, i64)> = lock(map)
                    .iter()
                    .map(|(labels, gauge)| (labels.clone(), gauge.get()))
                    .collect();
                for (labels, value) in samples {
                    self.render_sample(&labels, &value.to_string(), out);
                }
            }
            Values::Collect(collect) => {
                for sample in collect() {
                    if !self.labels_fit(sample.labels.len(), "sample") {
                        continue;
                    }
                    self.render_sample(&sample.labels, &format_float(sample.value), out);
                }
            }
            Values::CollectHistograms(collect) => {
                for sample in collect() {
                    if !self.labels_fit(sample.labels.len(), "histogram") {
                        continue;
                    }
                    self.render_histogram(&sample, out);
                }
            }
        }
    }

    /// `_bucket` lines (cumulative, `+Inf` last), then `_sum` and `_count`.
    fn render_histogram(&self, sample: &HistogramSample, out: &mut String) {
        let count = sample.count.to_string();
        for (bound, n) in &sample.buckets {
            let le = format_float(*bound);
            self.render_line("_bucket", &sample.labels, Some(&le), &n.to_string(), out);
        }
        self.render_line("_bucket", &sample.labels, Some("+Inf"), &count, out);
        self.render_line("_sum", &sample.labels, None, &format_float(sample.sum), out);
        self.render_line("_count", &sample.labels, None, &count, out);
    }

    /// Whether a collected sample has as many labels as the metric names; warns if not.
    fn labels_fit(&self, got: usize, what: &str) -> bool {
        if got == self.label_names.len() {
            return true;
        }
        tracing::warn!(
            metric = %self.name,
            expected = self.label_names.len(),
            got,
            "metrics: collector returned a {what} with the wrong number of labels"
        );
        false
    }

    fn render_sample(&self, labels: &[String], value: &str, out: &mut String) {
        self.render_line("", labels, None, value, out);
    }

    /// One sample line of the family's name plus `suffix`, with `le` after the labels if
    /// given.
    fn render_line(
        &self,
        suffix: &str,
        labels: &[String],
        le: Option<&str>,
        value: &str,
        out: &mut String,
    ) {
        out.push_str(&self.name);
        out.push_str(suffix);
        let le = le.map(|bound| ("le", bound));
        let pairs = self
            .label_names
            .iter()
            .map(String::as_str)
            .zip(labels.iter().map(String::as_str))
            .chain(le);
        let mut first = true;
        for (name, value) in pairs {
            out.push(if first { '{' } else { ',' });
            first = false;
            out.push_str(name);
            out.push_str("=\"");
            escape_into(value, true, out);
            out.push('"');
        }
        if !first {
            out.push('}');
        }
        out.push(' ');
        out.push_str(value);
        out.push('\n');
    }
}

/// Serves `registry` on `listener` over HTTP/1.1 until `shutdown` holds `true` (or its sender
/// is dropped): `GET /metrics` (and `HEAD`) answers the exposition with
/// [`CONTENT_TYPE_0_0_4`], other methods on `/metrics` 405, any other path 404.
///
/// On shutdown the listener is closed, open connections finish their current response and
/// are closed; connections still open after 5 seconds are dropped. Accept errors (such as
/// running out of file descriptors) are logged and retried after 100 ms.
pub async fn serve_metrics(
    listener: TcpListener,
    registry: Arc<Registry>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stop_requested(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let registry = Arc::clone(&registry);
                    let shutdown = shutdown.clone();
                    connections.spawn(serve_connection(stream, peer, registry, shutdown));
                }
                Err(error) => {
                    tracing::warn!(%error, "metrics: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!(
            open = connections.len(),
            "metrics: dropping connections still open at shutdown"
        );
    }
}

/// Serves one connection until it closes or shutdown is requested.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    registry: Arc<Registry>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = service_fn(move |request| {
        let response = respond(&registry, &request);
        async move { Ok::<_, Infallible>(response) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stop_requested(&mut shutdown) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "metrics: connection ended with an error");
    }
}

/// The response to one request.
fn respond<B>(registry: &Registry, request: &Request<B>) -> Response<Full<Bytes>> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => (StatusCode::OK, registry.render()),
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n".into(),
        ),
        _ => (StatusCode::NOT_FOUND, "not found; try /metrics\n".into()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = if status == StatusCode::OK {
        CONTENT_TYPE_0_0_4
    } else {
        "text/plain; charset=utf-8"
    };
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}

/// Appends `text` escaped for a `# HELP` line (`\` and newline) or, with `quote`, for a
/// label value (also `"`).
fn escape_into(text: &str, quote: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// A sample value as the exposition format writes it: `NaN`, `+Inf`, `-Inf` or a decimal
/// number (integers without a fraction).
fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        let mut text = String::new();
        let _ = write!(text, "{value}");
        text
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Resolves once `shutdown` holds `true` or its sender is gone.
async fn stop_requested(shutdown: &mut watch::Receiver<bool>) {
    // The borrow guard is dropped here, before any other await: it is not `Send`.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent, so poisoning is ignored.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    fn small_registry() -> Registry {
        let registry = Registry::new();
        let packets = registry
            .counter_vec(
                "li_packets_total",
                "Packets seen, by interface and outcome.",
                &["interface", "outcome"],
            )
            .unwrap();
        packets.with(&["eth0", "matched"]).unwrap().inc_by(41);
        packets.with(&["eth0", "matched"]).unwrap().inc();
        packets.with(&["eth0", "dropped"]).unwrap().inc_by(2);
        packets
            .with(&["we\"ird\\if\nname", "matched"])
            .unwrap()
            .inc();
        let x1 = registry
            .counter("li_x1_requests_total", "X1 requests.\nBack\\slash.")
            .unwrap();
        x1.inc_by(7);
        let links = registry
            .gauge_vec("li_links_up", "Agency links up.", &["destination"])
            .unwrap();
        links.with(&["lea-b"]).unwrap().set(0);
        links.with(&["lea-a"]).unwrap().set(1);
        let temp = registry
            .gauge("li_temperature", "A negative gauge.")
            .unwrap();
        temp.set(5);
        temp.add(-8);
        registry
            .gauge_fn("li_ratio", "A computed ratio.", || 0.25)
            .unwrap();
        registry
            .collector(
                "li_spool_depth",
                "Records waiting, per destination.",
                MetricKind::Gauge,
                &["destination"],
                || {
                    vec![
                        Sample {
                            labels: vec!["lea-a".into()],
                            value: 3.0,
                        },
                        Sample {
                            labels: vec![],
                            value: 9.0,
                        },
                        Sample {
                            labels: vec!["lea-b".into()],
                            value: f64::INFINITY,
                        },
                    ]
                },
            )
            .unwrap();
        registry
    }

    const EXPECTED: &str = "\
# HELP li_packets_total Packets seen, by interface and outcome.
# TYPE li_packets_total counter
li_packets_total{interface=\"eth0\",outcome=\"dropped\"} 2
li_packets_total{interface=\"eth0\",outcome=\"matched\"} 42
li_packets_total{interface=\"we\\\"ird\\\\if\\nname\",outcome=\"matched\"} 1
# HELP li_x1_requests_total X1 requests.\\nBack\\\\slash.
# TYPE li_x1_requests_total counter
li_x1_requests_total 7
# HELP li_links_up Agency links up.
# TYPE li_links_up gauge
li_links_up{destination=\"lea-a\"} 1
li_links_up{destination=\"lea-b\"} 0
# HELP li_temperature A negative gauge.
# TYPE li_temperature gauge
li_temperature -3
# HELP li_ratio A computed ratio.
# TYPE li_ratio gauge
li_ratio 0.25
# HELP li_spool_depth Records waiting, per destination.
# TYPE li_spool_depth gauge
li_spool_depth{destination=\"lea-a\"} 3
li_spool_depth{destination=\"lea-b\"} +Inf
";

    #[test]
    fn exposition_text_is_exact() {
        assert_eq!(small_registry().render(), EXPECTED);
    }

    #[test]
    fn histograms_are_exposed_with_cumulative_buckets_sum_and_count() {
        let registry = Registry::new();
        registry
            .histogram_collector("li_latency_seconds", "Latency.", &["interface"], || {
                vec![
                    HistogramSample {
                        labels: vec!["hi2".into()],
                        buckets: vec![(0.0005, 1), (1.0, 3), (5.0, 3)],
                        count: 4,
                        sum: 7.25,
                    },
                    HistogramSample {
                        labels: vec![],
                        buckets: vec![],
                        count: 0,
                        sum: 0.0,
                    },
                ]
            })
            .unwrap();
        registry
            .histogram_collector("li_plain_seconds", "No labels.", &[], || {
                vec![HistogramSample {
                    labels: vec![],
                    buckets: vec![(0.1, 0)],
                    count: 0,
                    sum: 0.0,
                }]
            })
            .unwrap();
        assert_eq!(
            registry.render(),
            "# HELP li_latency_seconds Latency.\n\
             # TYPE li_latency_seconds histogram\n\
             li_latency_seconds_bucket{interface=\"hi2\",le=\"0.0005\"} 1\n\
             li_latency_seconds_bucket{interface=\"hi2\",le=\"1\"} 3\n\
             li_latency_seconds_bucket{interface=\"hi2\",le=\"5\"} 3\n\
             li_latency_seconds_bucket{interface=\"hi2\",le=\"+Inf\"} 4\n\
             li_latency_seconds_sum{interface=\"hi2\"} 7.25\n\
             li_latency_seconds_count{interface=\"hi2\"} 4\n\
             # HELP li_plain_seconds No labels.\n\
             # TYPE li_plain_seconds histogram\n\
             li_plain_seconds_bucket{le=\"0.1\"} 0\n\
             li_plain_seconds_bucket{le=\"+Inf\"} 0\n\
             li_plain_seconds_sum 0\n\
             li_plain_seconds_count 0\n"
        );
        assert!(matches!(
            registry.histogram_collector("li_h", "h", &["le"], Vec::new),
            Err(MetricsError::InvalidLabelName { .. })
        ));
    }

    #[test]
    fn closures_are_evaluated_at_scrape_time() {
        let registry = Registry::new();
        let depth = Arc::new(AtomicI64::new(1));
        let seen = Arc::clone(&depth);
        registry
            .gauge_fn("li_queue_depth", "Queue depth.", move || {
                seen.load(Ordering::Relaxed) as f64
            })
            .unwrap();
        assert!(registry.render().ends_with("li_queue_depth 1\n"));
        depth.store(17, Ordering::Relaxed);
        assert!(registry.render().ends_with("li_queue_depth 17\n"));
        let gauges = registry.gauge_vec("li_g", "g", &["d"]).unwrap();
        gauges.with(&["x"]).unwrap().inc();
        assert!(registry.render().contains("li_g{d=\"x\"} 1\n"));
        assert!(gauges.remove(&["x"]).unwrap());
        assert!(!registry.render().contains("li_g{"));
    }

    #[test]
    fn registration_errors() {
        let registry = Registry::new();
        registry.counter("li_a_total", "a").unwrap();
        assert_eq!(
            registry.gauge("li_a_total", "again").unwrap_err(),
            MetricsError::Duplicate {
                name: "li_a_total".into()
            }
        );
        for bad in ["", "1abc", "li-dash", "li space", "lié"] {
            assert!(
                matches!(
                    registry.counter(bad, "x"),
                    Err(MetricsError::InvalidName { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(registry.counter("ns:li_b", "colons are allowed").is_ok());
        for bad in [&["__reserved"][..], &["a", "a"], &["has:colon"], &["9x"]] {
            assert!(
                matches!(
                    registry.counter_vec("li_c_total", "x", bad),
                    Err(MetricsError::InvalidLabelName { .. })
                ),
                "{bad:?}"
            );
        }
        let vec = registry
            .counter_vec("li_c_total", "x", &["a", "b"])
            .unwrap();
        assert_eq!(
            vec.with(&["only-one"]).unwrap_err(),
            MetricsError::LabelCount {
                metric: "li_c_total".into(),
                expected: 2,
                got: 1
            }
        );
        // Clones share the value.
        let c = vec.with(&["x", "y"]).unwrap();
        vec.with(&["x", "y"]).unwrap().inc_by(5);
        assert_eq!(c.get(), 5);
    }

    #[test]
    fn float_formatting() {
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(2.0), "2");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1e-7), "0.0000001");
    }

    /// Sends `request` on a fresh connection and returns the whole response.
    async fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            stream.read_to_string(&mut response),
        )
        .await
        .unwrap()
        .unwrap();
        response
    }

    fn split(response: &str) -> (&str, &str) {
        response.split_once("\r\n\r\n").unwrap()
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let registry = Arc::new(small_registry());
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve_metrics(listener, Arc::clone(&registry), stopped));

        let response = exchange(
            addr,
            "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        let (head, body) = split(&response);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8"),
            "{head}"
        );
        assert!(
            head.contains(&format!("content-length: {}", EXPECTED.len())),
            "{head}"
        );
        assert_eq!(body, EXPECTED);

        let response = exchange(
            addr,
            "GET /other HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{response}"
        );
        let response = exchange(
            addr,
            "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(response.starts_with("HTTP/1.1 405 "), "{response}");
        assert!(response.to_ascii_lowercase().contains("allow: get, head"));

        // A keep-alive connection left open does not hold up shutdown.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut first = vec![0u8; 64];
        let n = idle.read(&mut first).await.unwrap();
        assert!(first[..n].starts_with(b"HTTP/1.1 200 OK"));

        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(3), server)
            .await
            .expect("server stops promptly")
            .unwrap();
        // The listener is closed.
        assert!(TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn dropping_the_shutdown_sender_stops_the_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve_metrics(listener, Arc::new(Registry::new()), stopped));
        drop(stop);
        tokio::time::timeout(Duration::from_secs(3), server)
            .await
            .expect("server stops promptly")
            .unwrap();
    }
}
