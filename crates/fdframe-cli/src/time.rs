//! `--time-format`: kernel timestamps as `dmesg` shows them, in local wall-clock time.
//!
//! The conversion itself (monotonic microseconds to wall-clock time, corrected for the sleeps
//! the log tells of; see `fdframe::kmsg::WallClock`) is the library's: [`WallClock`] here adds
//! the local time zone and `strftime` formats, [`TimePrinter`] dmesg's prefixes.

use std::fmt::Write as _;

use clap::ValueEnum;
use jiff::Timestamp;
use jiff::tz::TimeZone;

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

/// The clocks, the sleeps the log tells of, and their plan: the library's (the conversion is
/// `fdframe::kmsg::WallClock`'s; this module adds the local time zone and the formats).
pub(crate) use fdframe::kmsg::{Clocks, SleepPlan, SleepScan};

/// Converts kernel timestamps to local wall-clock time.
#[derive(Debug)]
pub(crate) struct WallClock {
    clock: fdframe::kmsg::WallClock,
    tz: TimeZone,
}

impl WallClock {
    pub(crate) fn new(clocks: Clocks, plan: SleepPlan) -> WallClock {
        WallClock {
            clock: fdframe::kmsg::WallClock::new(clocks, plan),
            tz: TimeZone::try_system().unwrap_or(TimeZone::UTC),
        }
    }

    /// Takes a new offset (after a clock step or a sleep while following).
    pub(crate) fn refresh(&mut self, clocks: Clocks) {
        self.clock.refresh(clocks);
    }

    /// The wall-clock time of a record stamped `ts_us`, as a Unix time in microseconds.
    pub(crate) fn unix_us(&self, ts_us: u64) -> i64 {
        self.clock.unix_us(ts_us)
    }

    /// Whether the wall-clock time of a record stamped `ts_us` is exact (see
    /// `fdframe::kmsg::WallClock::is_exact`).
    pub(crate) fn is_exact(&self, ts_us: u64) -> bool {
        self.clock.is_exact(ts_us)
    }

    /// [`unix_us`](WallClock::unix_us) as a local time, formatted with `strftime`-like `format`.
    pub(crate) fn format(&self, ts_us: u64, format: &str) -> String {
        let time = Timestamp::from_microsecond(self.unix_us(ts_us)).unwrap_or(Timestamp::MAX);
        let mut text = String::new();
        // `to_string` would panic on a formatting error; an empty time is the better failure.
        let _ = write!(text, "{}", time.to_zoned(self.tz.clone()).strftime(format));
        text
    }

    /// [`unix_us`](WallClock::unix_us) in RFC 3339, UTC, with microseconds:
    /// `2026-11-22T02:15:58.512097Z` (JSON lines; independent of the local time zone).
    pub(crate) fn rfc3339_utc(&self, ts_us: u64) -> String {
        let time = Timestamp::from_microsecond(self.unix_us(ts_us)).unwrap_or(Timestamp::MAX);
        let mut text = String::new();
        let _ = write!(text, "{}", time.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"));
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

    /// The wall clock, for an output that needs no prefixes (JSON lines).
    pub(crate) fn into_wall(self) -> Option<WallClock> {
        self.wall
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
