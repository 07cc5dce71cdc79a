//! One result row per scenario × backend, the table they print as, and what the process
//! knows about itself (`/proc/self`): resident memory and open descriptors.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How a row ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every check held.
    Ok,
    /// A check failed; the run exits non-zero.
    Fail(String),
    /// A failure that is known and tracked elsewhere: printed loudly, does not fail the run.
    Known(String),
    /// Could not run here (and `FDFRAME_REQUIRE_PRIVILEGED=1` was not set).
    Skip(String),
}

/// The numbers of one scenario × backend run.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) scenario: &'static str,
    pub(crate) backend: String,
    /// Frames (or records) expected: written by this run, or the sequence range checked.
    pub(crate) expected: u64,
    /// Distinct frames (records) received.
    pub(crate) received: u64,
    /// Frames never received (or, for kmsg, reported lost by loss notices).
    pub(crate) lost: u64,
    pub(crate) duplicated: u64,
    pub(crate) reordered: u64,
    /// Errors the stream yielded (other than expected loss notices).
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
    /// Largest resident set sampled while the row ran, in KiB.
    pub(crate) peak_rss_kib: u64,
    /// Scenario-specific numbers: cancellations, stalls, signals, descriptor counts, bounds.
    pub(crate) notes: String,
    pub(crate) verdict: Verdict,
}

impl Row {
    /// An empty row for `scenario` on `backend`, verdict `Ok` until a check says otherwise.
    pub(crate) fn new(scenario: &'static str, backend: &str) -> Row {
        Row {
            scenario,
            backend: backend.to_string(),
            expected: 0,
            received: 0,
            lost: 0,
            duplicated: 0,
            reordered: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            peak_rss_kib: 0,
            notes: String::new(),
            verdict: Verdict::Ok,
        }
    }

    /// Fails the row with `why` unless it has already failed (the first reason is kept).
    pub(crate) fn fail(&mut self, why: impl Into<String>) {
        if !matches!(self.verdict, Verdict::Fail(_)) {
            self.verdict = Verdict::Fail(why.into());
        }
    }

    /// Appends `key=value` to the notes.
    pub(crate) fn note(&mut self, key: &str, value: impl std::fmt::Display) {
        if !self.notes.is_empty() {
            self.notes.push(' ');
        }
        let _ = write!(self.notes, "{key}={value}");
    }

    /// Appends free text to the notes.
    pub(crate) fn add_notes(&mut self, text: &str) {
        if !self.notes.is_empty() && !text.is_empty() {
            self.notes.push(' ');
        }
        self.notes.push_str(text);
    }

    /// Checks the counters every row shares: nothing lost, duplicated, reordered or in error,
    /// and everything expected received.
    pub(crate) fn check_exact(&mut self) {
        if self.lost + self.duplicated + self.reordered + self.errors > 0 {
            self.fail(format!(
                "lost {} duplicated {} reordered {} errors {}",
                self.lost, self.duplicated, self.reordered, self.errors
            ));
        } else if self.received != self.expected {
            self.fail(format!("received {} of {}", self.received, self.expected));
        }
    }

    /// `frames/s`, from what was received.
    fn rate(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        if secs <= 0.0 || self.received == 0 {
            return "-".into();
        }
        let rate = self.received as f64 / secs;
        if rate >= 1e6 {
            format!("{:.2}M", rate / 1e6)
        } else if rate >= 1e3 {
            format!("{:.1}k", rate / 1e3)
        } else {
            format!("{rate:.0}")
        }
    }
}

/// The table header.
pub(crate) fn header() -> String {
    format!(
        "{:<12} {:<22} {:>10} {:>10} {:>6} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8}  {:<6} notes",
        "scenario",
        "backend",
        "expected",
        "received",
        "lost",
        "dup",
        "reord",
        "errs",
        "elapsed",
        "per_s",
        "peak_rss",
        "result"
    )
}

/// One row of the table, with the failure reason (if any) on the line below.
pub(crate) fn line(row: &Row) -> String {
    let (result, why) = match &row.verdict {
        Verdict::Ok => ("ok", None),
        Verdict::Fail(why) => ("FAIL", Some(why.as_str())),
        Verdict::Known(why) => ("KNOWN", Some(why.as_str())),
        Verdict::Skip(why) => ("SKIP", Some(why.as_str())),
    };
    let mut text = format!(
        "{:<12} {:<22} {:>10} {:>10} {:>6} {:>5} {:>5} {:>5} {:>7.2}s {:>8} {:>6}Mi  {:<6} {}",
        row.scenario,
        row.backend,
        row.expected,
        row.received,
        row.lost,
        row.duplicated,
        row.reordered,
        row.errors,
        row.elapsed.as_secs_f64(),
        row.rate(),
        format!("{:.1}", row.peak_rss_kib as f64 / 1024.0),
        result,
        row.notes
    );
    if let Some(why) = why {
        let _ = write!(text, "\n{:>14}{result}: {why}", "");
    }
    text
}

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`); 0 if absent.
pub(crate) fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples `VmRSS` every few milliseconds on a thread of its own, keeping the largest value:
/// `VmHWM` is the peak of the whole process's life, not of one row.
pub(crate) struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    /// Starts sampling now.
    pub(crate) fn start() -> RssSampler {
        let peak = Arc::new(AtomicU64::new(status_kib("VmRSS")));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
            move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(status_kib("VmRSS"), Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(5));
                }
            }
        });
        RssSampler {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    /// The largest resident set seen so far, in KiB.
    pub(crate) fn peak_kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Stops sampling (one last sample first) and returns the peak in KiB.
    pub(crate) fn stop(mut self) -> u64 {
        self.finish();
        self.peak_kib()
    }

    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.peak.fetch_max(status_kib("VmRSS"), Ordering::Relaxed);
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.finish();
    }
}
