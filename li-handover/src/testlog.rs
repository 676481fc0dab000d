//! Test support: a minimal tracing subscriber that captures log lines, so tests can assert
//! on what an operator would read.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;

/// Installs a [`Capture`] as this thread's subscriber and makes sure the warn line `probe`
/// logs reaches it.
///
/// tracing caches a callsite's interest process-wide. While a single dispatcher exists,
/// tracing-core computes the interest of a callsite registered (or rebuilt) on another
/// thread from *that* thread's default (`Rebuilder::JustOne`): another test thread would
/// cache "never" for a callsite ours needs. With two dispatchers alive it asks all of them,
/// ours included, whichever thread registers. So a second dispatcher lives for the whole
/// test run, created before ours is registered: every callsite is then enabled for our
/// capture, deterministically, and one probe checks it.
pub(crate) fn capture_warnings(probe: impl Fn()) -> (Capture, tracing::subscriber::DefaultGuard) {
    static SECOND: OnceLock<tracing::Dispatch> = OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(Capture::default()));
    let log = Capture::default();
    let guard = tracing::subscriber::set_default(log.clone());
    probe();
    let probed = log.take_warnings();
    assert_eq!(
        probed.len(),
        1,
        "the probe's warn line did not reach the test subscriber: {probed:?}"
    );
    (log, guard)
}

/// A minimal tracing subscriber keeping each event as `"<message> k=v ..."`.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Lines>);

#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<(tracing::Level, String)>>,
    /// Signalled at each event.
    added: Notify,
}

impl Capture {
    /// Removes and returns the warn lines logged so far.
    pub(crate) fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lines.lock().unwrap())
            .into_iter()
            .filter(|(level, _)| *level == tracing::Level::WARN)
            .map(|(_, line)| line)
            .collect()
    }

    /// Waits until a warn line for which `wanted` holds is logged (on a task of this
    /// thread's runtime: the capture is this thread's subscriber); removes and returns the
    /// warn lines logged until then, that one included.
    pub(crate) async fn wait_for_warning(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let added = self.0.added.notified();
            tokio::pin!(added);
            added.as_mut().enable();
            lines.extend(self.take_warnings());
            if lines.iter().any(|line| wanted(line)) {
                return lines;
            }
            added.await;
        }
    }
}

struct Line(String);

impl tracing::field::Visit for Line {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        use std::fmt::Write as _;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.record_debug(field, &format_args!("{value:?}"));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = Line(String::new());
        event.record(&mut line);
        self.0
            .lines
            .lock()
            .unwrap()
            .push((*event.metadata().level(), line.0));
        self.0.added.notify_waiters();
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
