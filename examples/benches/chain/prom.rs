//! Scraping a daemon's Prometheus endpoint (`GET /metrics`, plain HTTP on loopback) and
//! reading the text exposition format 0.0.4: samples, sums over labels, histogram quantiles.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, bail};

/// The largest response read (a daemon's whole exposition is a few kilobytes).
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// `GET /metrics` from `addr`; the body.
pub(crate) fn scrape(addr: SocketAddr, timeout: Duration) -> anyhow::Result<Metrics> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("cannot connect to http://{addr}/metrics"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .with_context(|| format!("cannot send to http://{addr}/metrics"))?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut response)
        .with_context(|| format!("cannot read http://{addr}/metrics"))?;
    let text = String::from_utf8_lossy(&response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        bail!("http://{addr}/metrics: no HTTP response");
    };
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("http://{addr}/metrics: {status}");
    }
    Ok(Metrics::parse(body))
}

/// One sample: metric name, labels, value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    /// The metric name (with `_bucket`, `_sum`, `_count` for histograms).
    pub(crate) name: String,
    /// Label names and values, in the order written.
    pub(crate) labels: Vec<(String, String)>,
    /// The value.
    pub(crate) value: f64,
}

impl Sample {
    /// The value of label `name`, if present.
    pub(crate) fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed exposition. Lines that do not parse are skipped (a benchmark reads what it
/// can; the daemons' own tests check their format).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Metrics {
    /// Every sample, in order.
    pub(crate) samples: Vec<Sample>,
}

impl Metrics {
    /// Parses the text format.
    pub(crate) fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(parse_line)
            .collect();
        Self { samples }
    }

    /// Whether any sample of metric `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }

    /// The sum of metric `name` over all its label sets; `None` if absent.
    pub(crate) fn sum(&self, name: &str) -> Option<f64> {
        self.sum_where(name, |_| true)
    }

    /// The sum over the samples of `name` for which `keep` holds; `None` if none.
    pub(crate) fn sum_where(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> Option<f64> {
        let mut found = false;
        let mut total = 0.0;
        for s in self.samples.iter().filter(|s| s.name == name && keep(s)) {
            found = true;
            total += s.value;
        }
        found.then_some(total)
    }

    /// The sum of `name` as a whole number (0 when absent).
    pub(crate) fn count(&self, name: &str) -> u64 {
        self.sum(name).map_or(0, as_count)
    }

    /// The samples of metric `name`.
    pub(crate) fn of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The cumulative buckets of histogram `name` (`<name>_bucket`), summed over every label
    /// except `le` for which `keep` holds.
    pub(crate) fn histogram(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> Histogram {
        let bucket = format!("{name}_bucket");
        let mut h = Histogram::default();
        for s in self.of(&bucket).filter(|s| keep(s)) {
            let Some(le) = s.label("le").and_then(parse_value) else {
                continue;
            };
            h.add(le, s.value);
        }
        h
    }
}

/// Cumulative histogram buckets: upper bound (`le`, +Inf included) → observations at or
/// below it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Histogram {
    buckets: Vec<(f64, f64)>,
}

impl Histogram {
    /// Adds `count` to the bucket `le` (merging label sets or two processes' histograms).
    pub(crate) fn add(&mut self, le: f64, count: f64) {
        match self.buckets.iter_mut().find(|(b, _)| *b == le) {
            Some((_, c)) => *c += count,
            None => {
                self.buckets.push((le, count));
                self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
    }

    /// Adds every bucket of `other`.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for &(le, count) in &other.buckets {
            self.add(le, count);
        }
    }

    /// Observations counted (the +Inf bucket, else the largest).
    pub(crate) fn total(&self) -> f64 {
        self.buckets.last().map_or(0.0, |&(_, c)| c)
    }

    /// The `q` quantile (0..1) as Prometheus' `histogram_quantile` estimates it: linear
    /// interpolation inside the bucket that holds it; the largest finite bound when it
    /// falls in the +Inf bucket. `None` without observations.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total <= 0.0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = q * total;
        let mut previous = (0.0, 0.0);
        for &(le, count) in &self.buckets {
            if count >= rank {
                if le.is_infinite() {
                    return Some(previous.0);
                }
                let in_bucket = count - previous.1;
                if in_bucket <= 0.0 {
                    return Some(le);
                }
                return Some(previous.0 + (le - previous.0) * (rank - previous.1) / in_bucket);
            }
            previous = (le, count);
        }
        Some(previous.0)
    }
}

/// A counter value as a whole number.
pub(crate) fn as_count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// `name{label="value",...} value [timestamp]` or `name value [timestamp]`.
fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = line.get(..name_end)?.to_owned();
    let mut rest = line.get(name_end..)?;
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, remainder) = parse_labels(after)?;
        labels = parsed;
        rest = remainder;
    }
    let value = parse_value(rest.split_whitespace().next()?)?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// Labels up to the closing `}`; returns them and what follows.
fn parse_labels(mut text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start_matches([',', ' ']);
        if let Some(rest) = text.strip_prefix('}') {
            return Some((labels, rest));
        }
        let (name, rest) = text.split_once('=')?;
        let rest = rest.strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((name.trim().to_owned(), value));
        text = rest.get(end + 1..)?;
    }
}

/// Label values of a sample, summed by one label: value of `label` → sum.
pub(crate) fn by_label(metrics: &Metrics, name: &str, label: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in metrics.of(name) {
        *out.entry(s.label(label).unwrap_or_default().to_owned())
            .or_insert(0.0) += s.value;
    }
    out
}

// cargo compiles a bench target with cfg(test) but without the test harness (its #[test]s
// are dropped, their helpers unused): these tests run from examples/tests/chain.rs.
#[cfg(test)]
#[allow(dead_code, unused_imports)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP li_lemf_cc_records_total CC records received, per LIID (repeats included).
# TYPE li_lemf_cc_records_total counter
li_lemf_cc_records_total{liid=\"A\"} 10
li_lemf_cc_records_total{liid=\"B \\\"x\\\"\"} 5
li_probe_active_tasks 1
h_bucket{interface=\"hi3\",le=\"0.001\"} 50
h_bucket{interface=\"hi3\",le=\"0.01\"} 90
h_bucket{interface=\"hi3\",le=\"+Inf\"} 100
h_bucket{interface=\"hi2\",le=\"0.001\"} 0
h_bucket{interface=\"hi2\",le=\"0.01\"} 0
h_bucket{interface=\"hi2\",le=\"+Inf\"} 1
garbage line
";

    #[test]
    fn samples_sums_and_labels() {
        let m = Metrics::parse(TEXT);
        assert_eq!(m.sum("li_lemf_cc_records_total"), Some(15.0));
        assert_eq!(m.count("li_probe_active_tasks"), 1);
        assert_eq!(m.sum("absent"), None);
        assert_eq!(
            by_label(&m, "li_lemf_cc_records_total", "liid").get("B \"x\""),
            Some(&5.0)
        );
    }

    #[test]
    fn histogram_quantiles_interpolate_like_prometheus() {
        let m = Metrics::parse(TEXT);
        let hi3 = m.histogram("h", |s| s.label("interface") == Some("hi3"));
        assert_eq!(hi3.total(), 100.0);
        assert_eq!(hi3.quantile(0.5), Some(0.001));
        let p70 = hi3.quantile(0.7).unwrap();
        assert!((p70 - 0.0055).abs() < 1e-12, "{p70}");
        assert_eq!(hi3.quantile(0.99), Some(0.01), "in +Inf: the largest bound");
        let all = m.histogram("h", |_| true);
        assert_eq!(all.total(), 101.0);
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}
