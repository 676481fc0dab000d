//! Prometheus metrics on the official [`prometheus_client`] crate: scrape-time collectors and
//! an HTTP endpoint serving them in the Prometheus text exposition format 0.0.4
//! ([`prometheus_client::encoding::prometheus_text`]).
//!
//! The daemons' values are owned by the library components (queue and spool depths, link
//! state, counters kept in another crate's statistics snapshots), so every family is a
//! closure evaluated at each scrape: [`Registry::gauge_fn`] for one value,
//! [`Registry::collector`] for a family of samples by label values, and
//! [`Registry::histogram_collector`] for histograms whose buckets the owning component keeps.
//! Every family is a [`prometheus_client::collector::Collector`] in a
//! [`prometheus_client::registry::Registry`], which the encoder renders in registration order.
//!
//! Names are exposed as registered: a counter's name ends in `_total` (prometheus-client adds
//! the suffix to a counter family's base name, so a counter registered without it is exposed
//! with it). Whole sample values are written as integers (`300`, not `300.0`); other values,
//! and histogram sums, as the encoder writes floats.
//!
//! [`serve_metrics`] answers `GET /metrics` over HTTP/1.1 (hyper) until told to stop.
//!
//! ```
//! use li_examples::metrics::{MetricKind, Registry, Sample};
//!
//! let registry = Registry::new();
//! registry.collector(
//!     "li_packets_total",
//!     "Packets seen by the probe.",
//!     MetricKind::Counter,
//!     &["interface", "outcome"],
//!     || vec![Sample { labels: vec!["eth0".into(), "matched".into()], value: 3.0 }],
//! )?;
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

use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet, prometheus_text};
use prometheus_client::metrics::MetricType;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The `Content-Type` of the text exposition format 0.0.4, as prometheus-client's encoder
/// names it.
pub const CONTENT_TYPE_0_0_4: &str = prometheus_text::CONTENT_TYPE;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`serve_metrics`] waits for open connections to finish once told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A set of metric families, rendered in registration order.
///
/// Shared between components behind an [`Arc`]; every method takes `&self`.
#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

/// The prometheus-client registry and the exposed names registered in it.
#[derive(Default)]
struct Inner {
    registry: prometheus_client::registry::Registry,
    names: Vec<String>,
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

/// Errors from registering metrics.
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
}

/// One metric family: the [`Collector`] registered in prometheus-client's registry.
struct Family {
    /// The name as exposed (a counter's ends in `_total`).
    name: String,
    /// The name given to the encoder, which appends `_total` to a counter's.
    base: String,
    help: String,
    kind: MetricKind,
    label_names: Vec<String>,
    collect: Collect,
}

/// The closure evaluated at each scrape.
enum Collect {
    /// Plain samples.
    Samples(Box<dyn Fn() -> Vec<Sample> + Send + Sync>),
    /// Histograms.
    Histograms(Box<dyn Fn() -> Vec<HistogramSample> + Send + Sync>),
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
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
    /// another crate's statistics), exposed in the order `f` returns them. Samples with the
    /// wrong number of label values are skipped and logged.
    ///
    /// `f` runs on the scraping task while the registry is read (other scrapes may run at
    /// the same time, registrations wait); it should be quick and must not register metrics.
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
        self.register(name, help, kind, labels, Collect::Samples(Box::new(f)))
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
        let collect = Collect::Histograms(Box::new(f));
        self.register(name, help, MetricKind::Histogram, labels, collect)
    }

    /// The text exposition (format 0.0.4, by prometheus-client's encoder) of every family,
    /// in registration order; within a family, samples are in the order the closure
    /// returned them.
    pub fn render(&self) -> String {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::with_capacity(256 * inner.names.len());
        if let Err(error) = prometheus_text::encode(&mut out, &inner.registry) {
            // Writing to a String does not fail, and neither do our collectors.
            tracing::warn!(%error, "metrics: cannot encode the exposition");
        }
        out
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        kind: MetricKind,
        labels: &[&str],
        collect: Collect,
    ) -> Result<(), MetricsError> {
        // prometheus-client checks neither names nor duplicates.
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
        // prometheus-client appends `_total` to a counter family's name.
        let (base, exposed) = match kind {
            MetricKind::Counter => match name.strip_suffix("_total") {
                Some(base) => (base.to_owned(), name.to_owned()),
                None => (name.to_owned(), format!("{name}_total")),
            },
            MetricKind::Gauge | MetricKind::Histogram => (name.to_owned(), name.to_owned()),
        };
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.names.contains(&exposed) {
            return Err(MetricsError::Duplicate { name: exposed });
        }
        let family = Family {
            name: exposed.clone(),
            base,
            help: help.into(),
            kind,
            label_names: labels.iter().map(|&l| l.to_owned()).collect(),
            collect,
        };
        inner.names.push(exposed);
        inner.registry.register_collector(Box::new(family));
        Ok(())
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Registry")
            .field("families", &inner.names)
            .finish()
    }
}

impl fmt::Debug for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Family({})", self.name)
    }
}

impl Collector for Family {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let metric_type = match self.kind {
            MetricKind::Counter => MetricType::Counter,
            MetricKind::Gauge => MetricType::Gauge,
            MetricKind::Histogram => MetricType::Histogram,
        };
        let mut metric = encoder.encode_descriptor(&self.base, &self.help, None, metric_type)?;
        match &self.collect {
            Collect::Samples(collect) => {
                for sample in collect() {
                    if let Some(labels) = self.label_set(&sample.labels, "sample") {
                        let mut line = metric.encode_family(&labels)?;
                        encode_value(&mut line, self.kind, sample.value)?;
                    }
                }
            }
            Collect::Histograms(collect) => {
                for sample in collect() {
                    let Some(labels) = self.label_set(&sample.labels, "histogram") else {
                        continue;
                    };
                    // The encoder takes each bucket's own count and accumulates them.
                    let mut below = 0;
                    let buckets: Vec<(f64, u64)> = sample
                        .buckets
                        .iter()
                        .map(|&(bound, cumulative)| {
                            let own = cumulative.saturating_sub(below);
                            below = below.max(cumulative);
                            (bound, own)
                        })
                        .collect();
                    metric
                        .encode_family(&labels)?
                        .encode_histogram::<NoLabelSet>(sample.sum, sample.count, &buckets, None)?;
                }
            }
        }
        Ok(())
    }
}

impl Family {
    /// The label set of one collected `what`: the family's names paired with `values`, or
    /// `None` (logged) if their numbers differ.
    fn label_set<'a>(
        &'a self,
        values: &'a [String],
        what: &str,
    ) -> Option<Vec<(&'a str, &'a str)>> {
        if values.len() != self.label_names.len() {
            tracing::warn!(
                metric = %self.name,
                expected = self.label_names.len(),
                got = values.len(),
                "metrics: collector returned a {what} with the wrong number of labels"
            );
            return None;
        }
        Some(
            self.label_names
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(String::as_str))
                .collect(),
        )
    }
}

/// Encodes one collected value: a whole number as an integer, anything else (fractions,
/// `NaN`, infinities, integers beyond 64 bits) as the encoder writes floats.
fn encode_value(metric: &mut MetricEncoder<'_>, kind: MetricKind, value: f64) -> fmt::Result {
    /// 2^63: the first whole `f64` outside `i64`.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    let whole = value.fract() == 0.0;
    match kind {
        MetricKind::Counter if whole && (0.0..2.0 * I64_END).contains(&value) => {
            metric.encode_counter::<NoLabelSet, u64, u64>(&(value as u64), None)
        }
        MetricKind::Counter => metric.encode_counter::<NoLabelSet, f64, u64>(&value, None),
        // A histogram family fed plain samples writes them as plain sample lines.
        MetricKind::Gauge | MetricKind::Histogram
            if whole && (-I64_END..I64_END).contains(&value) =>
        {
            metric.encode_gauge(&(value as i64))
        }
        MetricKind::Gauge | MetricKind::Histogram => metric.encode_gauge(&value),
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// Samples with these label values and values.
    fn samples(rows: &[(&[&str], f64)]) -> Vec<Sample> {
        rows.iter()
            .map(|(labels, value)| Sample {
                labels: labels.iter().map(|&l| l.to_owned()).collect(),
                value: *value,
            })
            .collect()
    }

    fn small_registry() -> Registry {
        let registry = Registry::new();
        registry
            .collector(
                "li_packets_total",
                "Packets seen, by interface and outcome.",
                MetricKind::Counter,
                &["interface", "outcome"],
                || {
                    samples(&[
                        (&["eth0", "dropped"], 2.0),
                        (&["eth0", "matched"], 42.0),
                        (&["we\"ird\\if\nname", "matched"], 1.0),
                    ])
                },
            )
            .unwrap();
        registry
            .collector(
                "li_x1_requests_total",
                "X1 requests.\nBack\\slash.",
                MetricKind::Counter,
                &[],
                || samples(&[(&[], 7.0)]),
            )
            .unwrap();
        registry
            .collector(
                "li_links_up",
                "Agency links up.",
                MetricKind::Gauge,
                &["destination"],
                || samples(&[(&["lea-a"], 1.0), (&["lea-b"], 0.0)]),
            )
            .unwrap();
        registry
            .gauge_fn("li_temperature", "A negative gauge.", || 5.0 - 8.0)
            .unwrap();
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
                    samples(&[
                        (&["lea-a"], 3.0),
                        // The wrong number of labels: skipped.
                        (&[], 9.0),
                        (&["lea-b"], f64::INFINITY),
                    ])
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
        // A histogram's `_sum` is always written as a float by prometheus-client's encoder
        // (`0.0`; the hand-written encoder wrote whole sums as `0`).
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
             li_plain_seconds_sum 0.0\n\
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
    }

    #[test]
    fn registration_errors() {
        let registry = Registry::new();
        let counter = |name: &str, labels: &[&str]| {
            registry.collector(name, "x", MetricKind::Counter, labels, Vec::new)
        };
        counter("li_a_total", &[]).unwrap();
        assert_eq!(
            registry
                .gauge_fn("li_a_total", "again", || 0.0)
                .unwrap_err(),
            MetricsError::Duplicate {
                name: "li_a_total".into()
            }
        );
        for bad in ["", "1abc", "li-dash", "li space", "lié"] {
            assert!(
                matches!(counter(bad, &[]), Err(MetricsError::InvalidName { .. })),
                "{bad:?}"
            );
        }
        assert!(counter("ns:li_b", &[]).is_ok());
        for bad in [&["__reserved"][..], &["a", "a"], &["has:colon"], &["9x"]] {
            assert!(
                matches!(
                    counter("li_c_total", bad),
                    Err(MetricsError::InvalidLabelName { .. })
                ),
                "{bad:?}"
            );
        }
        counter("li_c_total", &["a", "b"]).unwrap();
    }

    /// The value line of gauge `li_v` collected as `value`.
    fn format_float(value: f64) -> String {
        let registry = Registry::new();
        registry.gauge_fn("li_v", "v", move || value).unwrap();
        let text = registry.render();
        let line = text.lines().last().unwrap();
        line.strip_prefix("li_v ").unwrap().to_owned()
    }

    #[test]
    fn float_formatting() {
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_float(2.0), "2");
        assert_eq!(format_float(-0.5), "-0.5");
        // prometheus-client writes fractions in the shortest form (dtoa), an exponent where
        // shorter; the hand-written encoder wrote `0.0000001`.
        assert_eq!(format_float(1e-7), "1e-7");
    }

    #[test]
    fn collected_whole_values_are_written_as_integers() {
        let registry = Registry::new();
        registry
            .collector(
                "li_mediator_spool_records",
                "Records spooled.",
                MetricKind::Gauge,
                &["destination"],
                || {
                    vec![
                        Sample {
                            labels: vec!["LEA-1 HI3".into()],
                            value: 300.0,
                        },
                        Sample {
                            labels: vec!["LEA-2 HI2".into()],
                            value: -3.0,
                        },
                        Sample {
                            labels: vec!["LEA-3 HI2".into()],
                            value: 1e300,
                        },
                    ]
                },
            )
            .unwrap();
        registry
            .collector(
                "li_probe_records_total",
                "Records.",
                MetricKind::Counter,
                &["kind"],
                || {
                    vec![
                        Sample {
                            labels: vec!["cc".into()],
                            value: 9_007_199_254_740_992.0, // 2^53
                        },
                        Sample {
                            labels: vec!["iri".into()],
                            value: 2.5,
                        },
                    ]
                },
            )
            .unwrap();
        let text = registry.render();
        for line in [
            "li_mediator_spool_records{destination=\"LEA-1 HI3\"} 300\n",
            "li_mediator_spool_records{destination=\"LEA-2 HI2\"} -3\n",
            "li_mediator_spool_records{destination=\"LEA-3 HI2\"} 1e300\n",
            "# TYPE li_probe_records_total counter\n",
            "li_probe_records_total{kind=\"cc\"} 9007199254740992\n",
            "li_probe_records_total{kind=\"iri\"} 2.5\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn counter_names_keep_their_total_suffix_and_no_eof_line_is_written() {
        let registry = Registry::new();
        let one = |value: f64| move || samples(&[(&[], value)]);
        registry
            .collector(
                "li_a_total",
                "With the suffix.",
                MetricKind::Counter,
                &[],
                one(1.0),
            )
            .unwrap();
        // The encoder adds `_total` to a counter family's name; one registered without it
        // is exposed with it, and that exposed name is what must be unique.
        registry
            .collector(
                "li_b",
                "Without the suffix.",
                MetricKind::Counter,
                &[],
                one(2.0),
            )
            .unwrap();
        assert_eq!(
            registry
                .gauge_fn("li_b_total", "clash", || 0.0)
                .unwrap_err(),
            MetricsError::Duplicate {
                name: "li_b_total".into()
            }
        );
        // A gauge keeps its name as given, `_total` or not.
        registry.gauge_fn("li_c", "A gauge.", || 4.0).unwrap();
        assert_eq!(
            registry.render(),
            "# HELP li_a_total With the suffix.\n\
             # TYPE li_a_total counter\n\
             li_a_total 1\n\
             # HELP li_b_total Without the suffix.\n\
             # TYPE li_b_total counter\n\
             li_b_total 2\n\
             # HELP li_c A gauge.\n\
             # TYPE li_c gauge\n\
             li_c 4\n"
        );
        assert_eq!(
            CONTENT_TYPE_0_0_4,
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert!(format!("{registry:?}").contains("li_b_total"));
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
