//! `--time-format`: kernel timestamps as `dmesg` shows them, and their conversion to wall-clock
//! time.
//!
//! A `/dev/kmsg` timestamp is the kernel's monotonic clock in microseconds, and that clock stops
//! while the system sleeps (suspend, hibernation). So the wall-clock time of a record is
//! `ts + (CLOCK_REALTIME − CLOCK_MONOTONIC)`, with the offset read now — exact for every record
//! logged since the last resume, and too late, by the time slept since, for older ones. How
//! long the system slept in total is known (`CLOCK_BOOTTIME − CLOCK_MONOTONIC`); when it slept is
//! known only from the log itself: the kernel logs `PM: suspend exit` (and `hibernation exit`)
//! after each resume, and, with `/sys/power/pm_debug_messages` on, `Timekeeping suspended for
//! N.NNN seconds` at each. [`SleepScan`] reads those and [`SleepScan::plan`] decides whether the
//! older records can be corrected exactly; if not, the user is told once.

use std::fmt::Write as _;

use clap::ValueEnum;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rustix::time::{ClockId, clock_gettime};

/// How record times are shown (`--time-format`), named as `dmesg --time-format` names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum TimeFormat {
    /// `[ 1234.567890]`: seconds since boot (suspend excluded), as dmesg.
    #[default]
    Raw,
    /// `[Nov22 02:15]` (`[Nov 2 02:15]` early in the month) when the minute changes, else
    /// `[  +0.202817]`: dmesg's reltime.
    Reltime,
    /// `[Sun Nov 22 02:15:58 2026]`: local wall-clock time, as dmesg -T.
    Ctime,
    /// `2026-11-22T02:15:58,512097+00:00`: local wall-clock time, ISO 8601 as dmesg prints it.
    Iso,
    /// `[<    0.202817>]`: seconds since the previous record in the log (printed or not).
    Delta,
    /// No time at all.
    Notime,
}

impl TimeFormat {
    /// Whether this format needs the wall clock (and so the sleep correction).
    pub(crate) fn is_wall_clock(self) -> bool {
        matches!(
            self,
            TimeFormat::Reltime | TimeFormat::Ctime | TimeFormat::Iso
        )
    }
}

/// The three clocks, read together, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clocks {
    realtime_ns: i64,
    monotonic_ns: i64,
    boottime_ns: i64,
}

impl Clocks {
    /// Reads the clocks now.
    pub(crate) fn now() -> Clocks {
        let ns = |id| {
            let t = clock_gettime(id);
            t.tv_sec.saturating_mul(1_000_000_000) + t.tv_nsec
        };
        Clocks {
            monotonic_ns: ns(ClockId::Monotonic),
            realtime_ns: ns(ClockId::Realtime),
            boottime_ns: ns(ClockId::Boottime),
        }
    }

    /// How long the system has slept since boot, in microseconds.
    pub(crate) fn slept_us(self) -> i64 {
        (self.boottime_ns - self.monotonic_ns) / 1_000
    }

    /// Whether the system has slept at all since boot (beyond the time between two reads).
    pub(crate) fn has_slept(self) -> bool {
        self.slept_us() >= SLEEP_NOISE_US
    }

    /// `CLOCK_REALTIME − CLOCK_MONOTONIC`, in nanoseconds.
    fn offset_ns(self) -> i64 {
        self.realtime_ns - self.monotonic_ns
    }
}

/// A time the system slept: the monotonic timestamp at which it resumed, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sleep {
    pub(crate) resumed_at_us: u64,
    pub(crate) duration_us: u64,
}

/// Below this, `CLOCK_BOOTTIME − CLOCK_MONOTONIC` is the time between two clock reads, not sleep.
const SLEEP_NOISE_US: i64 = 10_000;

/// What the kernel log says about sleeps; fed every record of a scan of the ring buffer.
#[derive(Debug, Default)]
pub(crate) struct SleepScan {
    first_seq: Option<u64>,
    /// From `Timekeeping suspended for N.NNN seconds` (logged at resume).
    logged: Vec<Sleep>,
    /// Timestamps of `suspend exit` / `hibernation exit` records.
    exits: Vec<u64>,
}

impl SleepScan {
    /// Notes one record.
    pub(crate) fn observe(&mut self, seq: u64, ts_us: u64, message: &[u8]) {
        self.first_seq.get_or_insert(seq);
        let Ok(text) = std::str::from_utf8(message) else {
            return;
        };
        if text.ends_with("suspend exit") || text.ends_with("hibernation exit") {
            self.exits.push(ts_us);
        }
        let rest = text
            .split_once("Timekeeping suspended for ")
            .or_else(|| text.split_once("Suspended for "))
            .map(|(_, rest)| rest);
        if let Some(duration_us) = rest.and_then(parse_seconds) {
            self.logged.push(Sleep {
                resumed_at_us: ts_us,
                duration_us,
            });
        }
    }

    /// Decides how to convert timestamps, given how long the system slept in total.
    pub(crate) fn plan(self, slept_us: i64) -> SleepPlan {
        let slept = u64::try_from(slept_us).unwrap_or(0);
        let last_resume = self
            .exits
            .iter()
            .chain(self.logged.iter().map(|s| &s.resumed_at_us))
            .max()
            .copied();
        if slept_us < SLEEP_NOISE_US {
            return SleepPlan::exact(Vec::new());
        }
        let logged: u64 = self.logged.iter().map(|s| s.duration_us).sum();
        // Each logged duration is rounded to the millisecond.
        let tolerance = 1_000 * self.logged.len() as u64 + SLEEP_NOISE_US as u64;
        if !self.logged.is_empty() && logged.abs_diff(slept) <= tolerance {
            return SleepPlan::exact(self.logged);
        }
        // The log goes back to boot and shows one resume: that one took all the sleep.
        if self.logged.is_empty() && self.first_seq == Some(0) && self.exits.len() == 1 {
            let sleep = Sleep {
                resumed_at_us: self.exits[0],
                duration_us: slept,
            };
            return SleepPlan::exact(vec![sleep]);
        }
        SleepPlan {
            sleeps: self.logged,
            inexact: Some((slept, last_resume)),
        }
    }
}

/// `12.178 seconds` -> 12_178_000.
fn parse_seconds(text: &str) -> Option<u64> {
    let number = text.split_once(" seconds")?.0;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let whole: u64 = whole.parse().ok()?;
    let frac_digits = frac.get(..frac.len().min(6))?;
    let frac: u64 = if frac_digits.is_empty() {
        0
    } else {
        frac_digits.parse::<u64>().ok()? * 10u64.pow(6 - frac_digits.len() as u32)
    };
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

/// How timestamps are corrected for sleep, from [`SleepScan::plan`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SleepPlan {
    sleeps: Vec<Sleep>,
    /// When the correction is not exact: the total slept and the last resume seen.
    inexact: Option<(u64, Option<u64>)>,
}

impl SleepPlan {
    fn exact(sleeps: Vec<Sleep>) -> SleepPlan {
        SleepPlan {
            sleeps,
            inexact: None,
        }
    }

    /// The one-line note for stderr when older records' times may be off.
    pub(crate) fn note(&self) -> Option<String> {
        let (slept, last_resume) = self.inexact?;
        let when = last_resume.map_or(String::new(), |ts| format!(" (at {})", raw(ts)));
        Some(format!(
            "note: this system has slept {} since boot and kernel timestamps stop during sleep; \
             the wall-clock times of records logged before the last resume{when} may be up to \
             that much too late (records after it are exact)",
            human_duration(slept)
        ))
    }
}

fn human_duration(us: u64) -> String {
    let s = us / 1_000_000;
    match s {
        0..60 => format!("{}.{:03} s", s, us % 1_000_000 / 1_000),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Converts kernel timestamps to wall-clock time.
#[derive(Debug)]
pub(crate) struct WallClock {
    /// `CLOCK_REALTIME − CLOCK_MONOTONIC` in nanoseconds: right for records since the last
    /// resume. Kept in nanoseconds so that only the final time is rounded (down, as dmesg does).
    offset_ns: i64,
    sleeps: Vec<Sleep>,
    tz: TimeZone,
}

impl WallClock {
    pub(crate) fn new(clocks: Clocks, plan: SleepPlan) -> WallClock {
        WallClock {
            offset_ns: clocks.offset_ns(),
            sleeps: plan.sleeps,
            tz: TimeZone::try_system().unwrap_or(TimeZone::UTC),
        }
    }

    /// Takes a new offset (after a clock step or a sleep while following).
    pub(crate) fn refresh(&mut self, clocks: Clocks) {
        self.offset_ns = clocks.offset_ns();
    }

    /// The wall-clock time of a record stamped `ts_us`, as a Unix time in microseconds.
    pub(crate) fn unix_us(&self, ts_us: u64) -> i64 {
        let slept_after: u64 = self
            .sleeps
            .iter()
            .filter(|s| s.resumed_at_us > ts_us)
            .map(|s| s.duration_us)
            .sum();
        let ts = i64::try_from(ts_us).unwrap_or(i64::MAX);
        let slept_after = i64::try_from(slept_after).unwrap_or(i64::MAX);
        self.offset_ns
            .div_euclid(1_000)
            .saturating_add(ts)
            .saturating_sub(slept_after)
    }

    /// [`unix_us`](WallClock::unix_us) as a local time, formatted with `strftime`-like `format`.
    pub(crate) fn format(&self, ts_us: u64, format: &str) -> String {
        let time = Timestamp::from_microsecond(self.unix_us(ts_us)).unwrap_or(Timestamp::MAX);
        let mut text = String::new();
        // `to_string` would panic on a formatting error; an empty time is the better failure.
        let _ = write!(text, "{}", time.to_zoned(self.tz.clone()).strftime(format));
        text
    }

    /// The local (year, day of year, hour, minute) of a record: reltime's "new minute" test.
    fn minute(&self, ts_us: u64) -> (i16, i16, i8, i8) {
        let time = Timestamp::from_microsecond(self.unix_us(ts_us)).unwrap_or(Timestamp::MAX);
        let zoned = time.to_zoned(self.tz.clone());
        (
            zoned.year(),
            zoned.day_of_year(),
            zoned.hour(),
            zoned.minute(),
        )
    }
}

/// RFC 3339 with microseconds, for JSON.
pub(crate) const RFC3339_US: &str = "%Y-%m-%dT%H:%M:%S%.6f%:z";

/// `[ 1234.567890]`.
pub(crate) fn raw(ts_us: u64) -> String {
    format!("[{:5}.{:06}]", ts_us / 1_000_000, ts_us % 1_000_000)
}

/// Whether a time prefix marks a new minute in reltime (dmesg colours it brighter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Emphasis {
    Normal,
    Break,
}

/// Formats the time prefix of each human line; remembers the previous record for delta and
/// reltime.
#[derive(Debug)]
pub(crate) struct TimePrinter {
    format: TimeFormat,
    wall: Option<WallClock>,
    last_ts: Option<u64>,
    last_minute: Option<(i16, i16, i8, i8)>,
}

impl TimePrinter {
    /// `wall` is needed by the wall-clock formats; without it they fall back to `raw`.
    pub(crate) fn new(format: TimeFormat, wall: Option<WallClock>) -> TimePrinter {
        TimePrinter {
            format,
            wall,
            last_ts: None,
            last_minute: None,
        }
    }

    pub(crate) fn wall_mut(&mut self) -> Option<&mut WallClock> {
        self.wall.as_mut()
    }

    /// Notes a record that is not printed (filtered out by level or facility): as in dmesg
    /// since util-linux 2.40 (its issue #2770), the next record's delta is counted from it, so
    /// a delta is always the time since the record before in the log, whatever the filters.
    pub(crate) fn skipped(&mut self, ts_us: u64) {
        self.last_ts = Some(ts_us);
    }

    /// The prefix for a record stamped `ts_us`, without the separating space; empty for notime.
    pub(crate) fn prefix(&mut self, ts_us: u64) -> (String, Emphasis) {
        // dmesg counts a delta only from a previous timestamp that is set (`timerisset`), and
        // a zero one is not: the records at 0.000000 early in boot, and the one after them,
        // get a delta of 0.
        let delta_us = self
            .last_ts
            .filter(|&last| last != 0)
            .map_or(0, |last| i128::from(ts_us) - i128::from(last));
        self.last_ts = Some(ts_us);
        let delta = delta_us as f64 / 1e6;
        let normal = |text| (text, Emphasis::Normal);
        match (self.format, &self.wall) {
            (TimeFormat::Notime, _) => normal(String::new()),
            (TimeFormat::Delta, _) => normal(format!("[<{delta:12.6}>]")),
            (TimeFormat::Ctime, Some(wall)) => {
                normal(format!("[{}]", wall.format(ts_us, "%a %b %e %H:%M:%S %Y")))
            }
            (TimeFormat::Iso, Some(wall)) => normal(wall.format(ts_us, "%Y-%m-%dT%H:%M:%S,%6f%:z")),
            (TimeFormat::Reltime, Some(wall)) => {
                let minute = wall.minute(ts_us);
                if self.last_minute.replace(minute) != Some(minute) {
                    // dmesg's `%b%e`: the day padded with a space, `Dec 1`, not `Dec01`.
                    (
                        format!("[{}]", wall.format(ts_us, "%b%e %H:%M")),
                        Emphasis::Break,
                    )
                } else if delta < 10.0 {
                    normal(format!("[  {delta:+8.6}]"))
                } else {
                    normal(format!("[ {delta:+9.6}]"))
                }
            }
            _ => normal(raw(ts_us)),
        }
    }
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
