//! Test support: a minimal tracing subscriber that captures log lines, so tests can assert
//! on what an operator would read.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Installs a [`Capture`] as this thread's subscriber and makes sure the warn line `probe`
/// logs reaches it. tracing caches a callsite's interest process-wide, and a callsite first
/// registered by another test thread while ours is the only scoped subscriber gets the
/// *registering* thread's (empty) interest (tracing-core `Rebuilder::JustOne`); so probe,
/// twice with a pause, and rebuild the cache until the line is seen.
pub(crate) fn capture_warnings(probe: impl Fn()) -> (Capture, tracing::subscriber::DefaultGuard) {
    let log = Capture::default();
    let guard = tracing::subscriber::set_default(log.clone());
    for _ in 0..100 {
        probe();
        std::thread::sleep(Duration::from_millis(5));
        probe();
        if log.take_warnings().len() == 2 {
            return (log, guard);
        }
        tracing::callsite::rebuild_interest_cache();
    }
    panic!("the warn callsite never reached the test subscriber");
}

/// A minimal tracing subscriber keeping each event as `"<message> k=v ..."`.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Vec<(tracing::Level, String)>>>);

impl Capture {
    /// Removes and returns the warn lines logged so far.
    pub(crate) fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .filter(|(level, _)| *level == tracing::Level::WARN)
            .map(|(_, line)| line)
            .collect()
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
            .lock()
            .unwrap()
            .push((*event.metadata().level(), line.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
