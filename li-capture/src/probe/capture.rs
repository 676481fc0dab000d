//! Frames into the probe: capture file replay and (feature `live`) live capture.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::source::FileReader;
use li_core::Timestamp;
use tracing::{info, warn};

use super::{FrameCounters, Probe, ProbeError, WhenFull, rebase, stats_delta, wall_clock};

/// How often a long replay logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Frames a full-speed replay classifies under one hold of the probe's state lock, their
/// X2/X3 PDUs queued together.
const CHUNK_FRAMES: usize = 256;

/// Live capture queues its PDUs every this many frames (a full queue drops them together).
#[cfg(all(feature = "live", target_os = "linux"))]
const LIVE_FLUSH_FRAMES: usize = 16;

/// The longest a paced replay sleeps before looking whether it was cancelled.
const SLEEP_SLICE: Duration = Duration::from_millis(200);

/// Time as a replay sees it: when it is, and a pause of the replay's thread. A paced
/// replay waits for each frame with it, and the report's duration and the progress log
/// read it; the probe uses [`SystemClock`], the tests a clock they step themselves.
pub(super) trait ReplayClock: Send + 'static {
    /// Now.
    fn now(&mut self) -> Instant;
    /// Blocks the replay's thread for `duration` (or, for a test's clock, moves it on).
    fn sleep(&mut self, duration: Duration);
}

/// The monotonic clock and thread sleeps.
pub(super) struct SystemClock;

impl ReplayClock for SystemClock {
    fn now(&mut self) -> Instant {
        Instant::now()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// How long a paced replay, which started at `started`, waits at `now` before the next step
/// towards a frame due `offset` after the start: `None` once the frame is due, else the time
/// left, at most [`SLEEP_SLICE`] (the replay looks whether it was cancelled in between).
pub(super) fn pace_wait(started: Instant, offset: Duration, now: Instant) -> Option<Duration> {
    let due = started + offset;
    (now < due).then(|| (due - now).min(SLEEP_SLICE))
}

/// How to replay a capture file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Sleep between frames as the capture timestamps say (else as fast as possible).
    pub pace: bool,
    /// Shift the timestamps so that the first frame is stamped [`ReplayOptions::rebase_to`]
    /// (default: the wall clock when the replay starts), keeping every gap; `false` keeps
    /// the file's timestamps.
    pub rebase: bool,
    /// The time of the first frame when rebasing; `None`: the wall clock at the start.
    pub rebase_to: Option<Timestamp>,
    /// The interface label of the frames in metrics; `None`: the file name.
    pub label: Option<String>,
}

impl ReplayOptions {
    /// The time the first frame of a file, stamped `file_time` in the file, gets in the
    /// replay, the wall clock reading `wall` when it is read: `file_time` without
    /// [`ReplayOptions::rebase`], else [`ReplayOptions::rebase_to`], else `wall`. The
    /// following frames keep their distance to it ([`rebase`]).
    pub fn first_frame_time(&self, file_time: Timestamp, wall: Timestamp) -> Timestamp {
        match (self.rebase, self.rebase_to) {
            (false, _) => file_time,
            (true, Some(t)) => t,
            (true, None) => wall,
        }
    }
}

impl Default for ReplayOptions {
    /// Full speed, rebased to the wall clock, labelled with the file name.
    fn default() -> Self {
        Self {
            pace: false,
            rebase: true,
            rebase_to: None,
            label: None,
        }
    }
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// The frames read and what the classifier found in them (the replay's share of
    /// [`Probe::interface_frames`]).
    pub counters: FrameCounters,
    /// CC records produced during the replay.
    pub cc_records: u64,
    /// IRI records produced during the replay (including X1-triggered ones meanwhile).
    pub iri_records: u64,
    /// X2/X3 PDUs queued during the replay, over every destination.
    pub pdus_queued: u64,
    /// X2/X3 PDUs dropped (queue full) during the replay.
    pub pdus_dropped: u64,
    /// Packet records skipped because they could not be read (bad timestamp, unknown
    /// interface): the replay went on with the next record, but these packets were lost.
    pub skipped_records: u64,
    /// The error of the first skipped record (it names the record's byte offset), if any.
    pub first_skipped: Option<String>,
    /// The error that ended the replay before the end of the file (truncated or corrupt
    /// file), if any.
    pub error: Option<String>,
    /// Whether the replay was cancelled ([`Probe::shutdown`]).
    pub cancelled: bool,
    /// The first and last frame times, as stamped (rebased or not).
    pub first_timestamp: Option<Timestamp>,
    /// See [`ReplayReport::first_timestamp`].
    pub last_timestamp: Option<Timestamp>,
    /// Wall-clock duration of the replay.
    pub duration: Duration,
}

impl Probe {
    /// Replays a pcap or pcapng file through the classifier and sends what it yields; see
    /// [`ReplayOptions`]. During the replay the probe's clock is the latest frame's (rebased)
    /// time. Progress is logged every 5 s, and a final line at the end.
    ///
    /// Errors: the file cannot be opened or is not a capture file. A file that turns out
    /// truncated or corrupt later ends the replay with [`ReplayReport::error`] set; bad
    /// packet records are skipped and counted.
    pub async fn replay_file(
        &self,
        path: &Path,
        options: ReplayOptions,
    ) -> Result<ReplayReport, ProbeError> {
        self.replay_file_with(path, options, SystemClock).await
    }

    /// [`Probe::replay_file`] on `clock`.
    pub(super) async fn replay_file_with(
        &self,
        path: &Path,
        options: ReplayOptions,
        mut clock: impl ReplayClock,
    ) -> Result<ReplayReport, ProbeError> {
        let probe = self.clone();
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || probe.replay_blocking(&path, &options, &mut clock))
            .await
            .map_err(|e| ProbeError::Join(e.to_string()))?
    }

    fn replay_blocking(
        &self,
        path: &PathBuf,
        options: &ReplayOptions,
        clock: &mut impl ReplayClock,
    ) -> Result<ReplayReport, ProbeError> {
        let shown = path.display().to_string();
        let capture_error = |source| ProbeError::Capture {
            path: shown.clone(),
            source,
        };
        let size = std::fs::metadata(path)
            .map_err(|source| ProbeError::Io {
                what: format!("capture {shown}"),
                source,
            })?
            .len();
        let mut reader = FileReader::open(path).map_err(capture_error)?;
        let label = options.label.clone().unwrap_or_else(|| {
            path.file_name()
                .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned())
        });

        let classifier_before = self.classifier_stats();
        let delivery_before = self.delivery();
        let started = clock.now();
        let mut report = ReplayReport::default();
        let mut first: Option<(Timestamp, Timestamp)> = None; // (file time, stamped time)
        let mut last_progress = started;
        let mut frames_at_progress = 0u64;
        info!(file = %shown, pace = options.pace, rebase = options.rebase, "replay started");
        self.begin_replay();
        loop {
            // Backpressure: a file can wait, so the replay waits until every destination's
            // queue has room for what a chunk may yield, instead of dropping.
            if !self.wait_for_room(CHUNK_FRAMES as u64) {
                report.cancelled = true;
                break;
            }
            // A chunk of frames under one hold of the state lock, queued together; a paced
            // replay goes frame by frame (it sleeps between them, never holding the lock).
            let chunk = if options.pace { 1 } else { CHUNK_FRAMES };
            let mut state = self.lock();
            // the chunk's frames, counted for the interface (the file) at its end
            let mut before = state.classifier.stats();
            let mut classified = 0;
            let mut end = false;
            for _ in 0..chunk {
                let frame = match reader.try_next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => {
                        end = true;
                        break;
                    }
                    Err(e) if e.is_per_record() => {
                        report.skipped_records += 1;
                        report.first_skipped.get_or_insert_with(|| e.to_string());
                        warn!(file = %shown, error = %e, "capture record skipped");
                        continue;
                    }
                    Err(e) => {
                        warn!(file = %shown, error = %e, "replay ended early");
                        report.error = Some(e.to_string());
                        end = true;
                        break;
                    }
                };
                let (file0, stamped0) = *first.get_or_insert_with(|| {
                    let base = options.first_frame_time(frame.timestamp, wall_clock());
                    (frame.timestamp, base)
                });
                let stamped = rebase(frame.timestamp, file0, stamped0);
                if options.pace
                    && let Some(offset) = frame.timestamp.duration_since(file0)
                {
                    report
                        .counters
                        .add(&state.count_frames(&label, classified, &before));
                    classified = 0;
                    drop(state);
                    while !self.cancelled() {
                        let Some(wait) = pace_wait(started, offset, clock.now()) else {
                            break;
                        };
                        clock.sleep(wait);
                    }
                    state = self.lock();
                    before = state.classifier.stats();
                }
                state.clock.frame(stamped);
                state.classify_frame(
                    stamped,
                    frame.link,
                    frame.data,
                    frame.original_len,
                    &self.inner,
                );
                classified += 1;
                report.first_timestamp.get_or_insert(stamped);
                report.last_timestamp = Some(stamped);
            }
            report
                .counters
                .add(&state.count_frames(&label, classified, &before));
            state.flush(WhenFull::Queue);
            drop(state);
            if end {
                break;
            }
            if self.cancelled() {
                report.cancelled = true;
                break;
            }
            let now = clock.now();
            if now.saturating_duration_since(last_progress) >= PROGRESS_EVERY {
                let elapsed = now.saturating_duration_since(last_progress).as_secs_f64();
                let rate = (report.counters.frames - frames_at_progress) as f64 / elapsed.max(1e-9);
                let percent = if size == 0 {
                    100.0
                } else {
                    reader.offset() as f64 * 100.0 / size as f64
                };
                info!(
                    file = %label,
                    frames = report.counters.frames,
                    "replay: {} frames, {percent:.1} % of the file, {rate:.0} frames/s",
                    report.counters.frames
                );
                last_progress = now;
                frames_at_progress = report.counters.frames;
            }
        }
        self.end_replay();
        report.duration = clock.now().saturating_duration_since(started);
        // Records, unlike frames, are also made by X1 changes and the clock (begin and end
        // IRI): they are counted over the whole replay.
        let classified = stats_delta(&classifier_before, &self.classifier_stats());
        report.cc_records = classified.cc_records;
        report.iri_records = classified.iri_records;
        let delivery = self.delivery();
        report.pdus_queued = delivery.queued.saturating_sub(delivery_before.queued);
        report.pdus_dropped = delivery.dropped.saturating_sub(delivery_before.dropped);
        let secs = report.duration.as_secs_f64();
        info!(
            file = %label,
            frames = report.counters.frames,
            matched = report.counters.matched,
            cc = report.cc_records,
            iri = report.iri_records,
            queued = report.pdus_queued,
            dropped = report.pdus_dropped,
            "replay finished: {} frames in {secs:.2} s ({:.0} frames/s), {} matched, {} CC and \
             {} IRI records, {} X2/X3 PDUs queued, {} dropped",
            report.counters.frames,
            report.counters.frames as f64 / secs.max(1e-9),
            report.counters.matched,
            report.cc_records,
            report.iri_records,
            report.pdus_queued,
            report.pdus_dropped,
        );
        Ok(report)
    }

    /// Captures on `interface` (AF_PACKET) until [`Probe::shutdown`]; the probe's clock
    /// stays the wall clock. Needs CAP_NET_RAW.
    #[cfg(all(feature = "live", target_os = "linux"))]
    pub async fn capture_live(&self, interface: &str) -> Result<ReplayReport, ProbeError> {
        let probe = self.clone();
        let interface = interface.to_owned();
        tokio::task::spawn_blocking(move || probe.live_blocking(&interface))
            .await
            .map_err(|e| ProbeError::Join(e.to_string()))?
    }

    #[cfg(all(feature = "live", target_os = "linux"))]
    fn live_blocking(&self, interface: &str) -> Result<ReplayReport, ProbeError> {
        use crate::source::live::{LiveCapture, LiveConfig};
        let live_error = |e: &dyn std::fmt::Display| ProbeError::Live {
            interface: interface.to_owned(),
            reason: e.to_string(),
        };
        let config = LiveConfig::default().read_timeout(Duration::from_millis(100));
        let mut capture =
            LiveCapture::with_config(interface, config).map_err(|e| live_error(&e))?;
        self.inner.capturing.send_modify(|open| {
            open.insert(interface.to_owned());
        });
        let started = Instant::now();
        let mut last_progress = started;
        let mut report = ReplayReport::default();
        // X2/X3 drops before this capture are not its losses.
        let mut alarm = super::LossAlarm::default();
        alarm.check(0, self.delivery().dropped);
        info!(%interface, "live capture started");
        while !self.cancelled() {
            // A whole ring block under one hold of the state lock; its PDUs are queued
            // together, and dropped (counted) where a queue is full: the wire does not wait.
            match capture.next_batch() {
                Ok(Some(batch)) => {
                    let mut state = self.lock();
                    let before = state.classifier.stats();
                    let mut classified = 0;
                    for (i, frame) in batch.enumerate() {
                        // Queued every few frames, so that a full queue drops few PDUs at
                        // a time (the batch is dropped whole).
                        if i % LIVE_FLUSH_FRAMES == LIVE_FLUSH_FRAMES - 1 {
                            state.flush(WhenFull::Drop);
                        }
                        state.classify_frame(
                            frame.timestamp,
                            frame.link,
                            frame.data,
                            frame.original_len,
                            &self.inner,
                        );
                        classified += 1;
                        report.first_timestamp.get_or_insert(frame.timestamp);
                        report.last_timestamp = Some(frame.timestamp);
                    }
                    report
                        .counters
                        .add(&state.count_frames(interface, classified, &before));
                    state.flush(WhenFull::Drop);
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(%interface, error = %e, "live capture failed");
                    report.error = Some(e.to_string());
                    break;
                }
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                let stats = capture.stats();
                if let Some(losses) = alarm.check(stats.dropped_by_kernel, self.delivery().dropped)
                {
                    self.raise_loss_alarm(interface, &losses);
                }
                info!(
                    %interface,
                    frames = report.counters.frames,
                    kernel_drops = stats.dropped_by_kernel,
                    "live capture: {} frames, {} dropped by the kernel",
                    report.counters.frames,
                    stats.dropped_by_kernel
                );
                last_progress = Instant::now();
            }
        }
        report.cancelled = self.cancelled();
        report.duration = started.elapsed();
        if let Some(losses) =
            alarm.check(capture.stats().dropped_by_kernel, self.delivery().dropped)
        {
            self.raise_loss_alarm(interface, &losses);
        }
        self.inner.capturing.send_modify(|open| {
            open.remove(interface);
        });
        info!(%interface, frames = report.counters.frames, "live capture stopped");
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_frame_waits_until_it_is_due_in_slices() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        // The first frame (offset 0) and frames already due go at once.
        assert_eq!(pace_wait(start, ms(0), start), None);
        assert_eq!(pace_wait(start, ms(100), start + ms(100)), None);
        assert_eq!(pace_wait(start, ms(100), start + ms(150)), None);
        // Else the time left, in slices of at most SLEEP_SLICE.
        assert_eq!(pace_wait(start, ms(100), start), Some(ms(100)));
        assert_eq!(pace_wait(start, ms(100), start + ms(60)), Some(ms(40)));
        assert_eq!(pace_wait(start, ms(500), start), Some(SLEEP_SLICE));
        assert_eq!(pace_wait(start, ms(500), start + ms(350)), Some(ms(150)));
    }

    #[test]
    fn the_first_frame_is_stamped_as_the_options_say() {
        let t = |secs| Timestamp::from_secs_micros(secs, 0).unwrap();
        let (file, wall, to) = (t(1_000), t(2_000), t(3_000));
        let options = ReplayOptions::default();
        assert_eq!(options.first_frame_time(file, wall), wall);
        let kept = ReplayOptions {
            rebase: false,
            ..ReplayOptions::default()
        };
        assert_eq!(kept.first_frame_time(file, wall), file);
        let to_given = ReplayOptions {
            rebase_to: Some(to),
            ..ReplayOptions::default()
        };
        assert_eq!(to_given.first_frame_time(file, wall), to);
        let ignored = ReplayOptions {
            rebase: false,
            rebase_to: Some(to),
            ..ReplayOptions::default()
        };
        assert_eq!(ignored.first_frame_time(file, wall), file);
    }
}
