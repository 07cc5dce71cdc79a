//! Kernel timestamps as wall-clock time: [`WallClock`] and what it is built from.

use std::time::{Duration, SystemTime};

use rustix::time::{ClockId, clock_gettime};

use super::KmsgRecord;

/// The three clocks a conversion needs, read together, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clocks {
    realtime_ns: i64,
    monotonic_ns: i64,
    boottime_ns: i64,
}

impl Clocks {
    /// Reads `CLOCK_REALTIME`, `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME` now.
    pub fn now() -> Clocks {
        let ns = |id| {
            let t = clock_gettime(id);
            t.tv_sec
                .saturating_mul(1_000_000_000)
                .saturating_add(t.tv_nsec)
        };
        Clocks {
            monotonic_ns: ns(ClockId::Monotonic),
            realtime_ns: ns(ClockId::Realtime),
            boottime_ns: ns(ClockId::Boottime),
        }
    }

    /// Clocks as given (nanoseconds of each), for tests and for replaying a saved reading.
    pub const fn from_ns(realtime_ns: i64, monotonic_ns: i64, boottime_ns: i64) -> Clocks {
        Clocks {
            realtime_ns,
            monotonic_ns,
            boottime_ns,
        }
    }

    /// How long the system has slept since boot, in microseconds.
    pub fn slept_us(self) -> i64 {
        (self.boottime_ns - self.monotonic_ns) / 1_000
    }

    /// Whether the system has slept at all since boot (beyond the time between two reads).
    pub fn has_slept(self) -> bool {
        self.slept_us() >= SLEEP_NOISE_US
    }

    /// `CLOCK_MONOTONIC` in microseconds: the timestamp a record logged now would get.
    pub fn monotonic_us(self) -> u64 {
        u64::try_from(self.monotonic_ns / 1_000).unwrap_or(0)
    }

    /// `CLOCK_REALTIME − CLOCK_MONOTONIC`, in nanoseconds.
    fn offset_ns(self) -> i64 {
        self.realtime_ns - self.monotonic_ns
    }
}

/// A time the system slept: the monotonic timestamp at which it resumed, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sleep {
    /// The monotonic timestamp (µs) of the resume; records stamped before it were logged
    /// before the sleep.
    pub resumed_at_us: u64,
    /// How long the system slept, in µs.
    pub duration_us: u64,
}

/// Below this, `CLOCK_BOOTTIME − CLOCK_MONOTONIC` is the time between two clock reads, not sleep.
const SLEEP_NOISE_US: i64 = 10_000;

/// What the kernel log says about sleeps; fed every record of a scan of the ring buffer.
#[derive(Debug, Default)]
pub struct SleepScan {
    first_seq: Option<u64>,
    /// From `Timekeeping suspended for N.NNN seconds` (logged at resume).
    logged: Vec<Sleep>,
    /// Timestamps of `suspend exit` / `hibernation exit` records.
    exits: Vec<u64>,
}

impl SleepScan {
    /// Notes one record, given as its sequence number, timestamp and message.
    pub fn observe(&mut self, seq: u64, ts_us: u64, message: &[u8]) {
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

    /// Notes one record.
    pub fn observe_record(&mut self, record: &KmsgRecord) {
        self.observe(record.seq(), record.timestamp_us(), record.message());
    }

    /// Decides how to convert timestamps, given how long the system slept in total
    /// ([`Clocks::slept_us`]).
    pub fn plan(self, slept_us: i64) -> SleepPlan {
        let slept = u64::try_from(slept_us).unwrap_or(0);
        let last_resume = self
            .exits
            .iter()
            .chain(self.logged.iter().map(|s| &s.resumed_at_us))
            .max()
            .copied();
        if slept_us < SLEEP_NOISE_US {
            return SleepPlan::from_sleeps(Vec::new());
        }
        let logged: u64 = self.logged.iter().map(|s| s.duration_us).sum();
        // Each logged duration is rounded to the millisecond.
        let tolerance = 1_000 * self.logged.len() as u64 + SLEEP_NOISE_US as u64;
        if !self.logged.is_empty() && logged.abs_diff(slept) <= tolerance {
            return SleepPlan::from_sleeps(self.logged);
        }
        // The log goes back to boot and shows one resume: that one took all the sleep.
        if self.logged.is_empty() && self.first_seq == Some(0) && self.exits.len() == 1 {
            let sleep = Sleep {
                resumed_at_us: self.exits[0],
                duration_us: slept,
            };
            return SleepPlan::from_sleeps(vec![sleep]);
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
pub struct SleepPlan {
    sleeps: Vec<Sleep>,
    /// When the correction is not exact: the total slept and the last resume seen.
    inexact: Option<(u64, Option<u64>)>,
}

impl SleepPlan {
    /// An exact plan: these are all the sleeps since boot.
    pub fn from_sleeps(sleeps: Vec<Sleep>) -> SleepPlan {
        SleepPlan {
            sleeps,
            inexact: None,
        }
    }

    /// Whether every record's time will be exact.
    pub fn is_exact(&self) -> bool {
        self.inexact.is_none()
    }

    /// A one-line note for the user when older records' times may be off.
    pub fn note(&self) -> Option<String> {
        let (slept, last_resume) = self.inexact?;
        let when = last_resume.map_or(String::new(), |ts| {
            format!(" (at [{:5}.{:06}])", ts / 1_000_000, ts % 1_000_000)
        });
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

/// Converts kernel timestamps to wall-clock time, correct across suspend as far as the log
/// allows.
///
/// A `/dev/kmsg` timestamp ([`KmsgRecord::timestamp_us`]) is the kernel's monotonic clock in
/// microseconds, and that clock stops while the system sleeps (suspend, hibernation). So the
/// wall-clock time of a record is `ts + (CLOCK_REALTIME − CLOCK_MONOTONIC)`, with the offset
/// read now — exact for every record logged since the last resume, and too late, by the time
/// slept since, for older ones. How long the system slept in total is known
/// (`CLOCK_BOOTTIME − CLOCK_MONOTONIC`); *when* it slept is known only from the log itself: the
/// kernel logs `PM: suspend exit` (and `hibernation exit`) after each resume, and, with
/// `/sys/power/pm_debug_messages` on, `Timekeeping suspended for N.NNN seconds` at each.
///
/// So: feed a [`SleepScan`] the records of the ring buffer, let [`SleepScan::plan`] decide
/// whether older records can be corrected exactly (its [`SleepPlan::note`] says when they
/// cannot), and build a [`WallClock`] from the plan and the [`Clocks`]. While following the
/// log, [`refresh`](WallClock::refresh) takes a new reading now and then; a sleep between two readings
/// is noticed and accounted for, so that a follower that lives through a suspend keeps
/// giving right times (only records stamped between the two readings become uncertain).
/// [`is_exact`](WallClock::is_exact) says, per record, whether its time may be off.
///
/// ```no_run
/// use fdframe::blocking::FdReader;
/// use fdframe::kmsg::{self, Clocks, KmsgDecoder, KmsgStart, SleepScan, WallClock};
///
/// // Scan what the ring buffer holds for sleeps.
/// let fd = kmsg::open(KmsgStart::Oldest)?;
/// let mut reader = FdReader::from_fd(fd, KmsgDecoder::new())?;
/// let mut scan = SleepScan::default();
/// let records: Vec<_> = reader.ready().flatten().collect();
/// for record in &records {
///     scan.observe_record(record);
/// }
/// let clocks = Clocks::now();
/// let plan = scan.plan(clocks.slept_us());
/// if let Some(note) = plan.note() {
///     eprintln!("{note}");
/// }
/// let wall = WallClock::new(clocks, plan);
/// for record in &records {
///     let when = wall.system_time(record.timestamp_us());
///     let exact = wall.is_exact(record.timestamp_us());
///     println!("{when:?} (exact: {exact}) {}", record.message_lossy());
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// The arithmetic needs no kernel; [`Clocks::from_ns`] and [`SleepPlan::from_sleeps`] build
/// the inputs by hand:
///
/// ```
/// use fdframe::kmsg::{Clocks, Sleep, SleepPlan, WallClock};
///
/// // Now: monotonic 200 s, an hour slept (boottime 3800 s), wall clock at 1_800_000_000 s.
/// let s = 1_000_000_000i64;
/// let clocks = Clocks::from_ns(1_800_000_000 * s, 200 * s, 3_800 * s);
/// // The log said the system resumed at monotonic 100 s, after an hour.
/// let sleep = Sleep { resumed_at_us: 100_000_000, duration_us: 3_600_000_000 };
/// let wall = WallClock::new(clocks, SleepPlan::from_sleeps(vec![sleep]));
/// // A record from after the resume: the plain offset.
/// assert_eq!(wall.unix_us(150_000_000), 1_800_000_000_000_000 - 50_000_000);
/// // One from before it: an hour earlier than the plain offset says.
/// assert_eq!(wall.unix_us(50_000_000), 1_800_000_000_000_000 - 150_000_000 - 3_600_000_000);
/// assert!(wall.is_exact(50_000_000));
/// ```
#[derive(Clone, Debug)]
pub struct WallClock {
    /// `CLOCK_REALTIME − CLOCK_MONOTONIC` in nanoseconds: right for records since the last
    /// resume. Kept in nanoseconds so that only the final time is rounded (down, as dmesg does).
    offset_ns: i64,
    /// The reading the offset comes from: the next refresh compares its sleep with this one's.
    clocks: Clocks,
    sleeps: Vec<Sleep>,
    /// Records stamped before this may be off (an inexact plan).
    uncertain_before: Option<u64>,
    /// Records stamped in these ranges may be off: a sleep fell between two readings.
    uncertain: Vec<(u64, u64)>,
}

impl WallClock {
    /// A wall clock from a reading of the clocks and a plan of the sleeps before it.
    pub fn new(clocks: Clocks, plan: SleepPlan) -> WallClock {
        let uncertain_before = plan
            .inexact
            .map(|(_, last_resume)| last_resume.unwrap_or_else(|| clocks.monotonic_us()));
        WallClock {
            offset_ns: clocks.offset_ns(),
            clocks,
            sleeps: plan.sleeps,
            uncertain_before,
            uncertain: Vec::new(),
        }
    }

    /// Takes a new reading (after a clock step, or a sleep while following). A sleep since
    /// the previous reading is accounted for: records stamped before that reading move back
    /// by it; records stamped between the two readings are not exact
    /// ([`is_exact`](WallClock::is_exact)), as the log alone cannot say on which side of the
    /// sleep they were logged.
    pub fn refresh(&mut self, clocks: Clocks) {
        let slept = clocks.slept_us() - self.clocks.slept_us();
        if slept >= SLEEP_NOISE_US {
            let (from, to) = (self.clocks.monotonic_us(), clocks.monotonic_us());
            self.sleeps.push(Sleep {
                resumed_at_us: from,
                duration_us: slept as u64,
            });
            self.uncertain.push((from, to));
        }
        self.offset_ns = clocks.offset_ns();
        self.clocks = clocks;
    }

    /// The wall-clock time of a record stamped `ts_us`, as a Unix time in microseconds
    /// (rounded down).
    pub fn unix_us(&self, ts_us: u64) -> i64 {
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

    /// [`unix_us`](WallClock::unix_us) as a `SystemTime`.
    pub fn system_time(&self, ts_us: u64) -> SystemTime {
        let us = self.unix_us(ts_us);
        let magnitude = Duration::from_micros(us.unsigned_abs());
        if us >= 0 {
            SystemTime::UNIX_EPOCH + magnitude
        } else {
            SystemTime::UNIX_EPOCH - magnitude
        }
    }

    /// Whether the time of a record stamped `ts_us` is exact; `false` when it was logged
    /// before a sleep the log does not describe, and may then be up to that sleep too late.
    pub fn is_exact(&self, ts_us: u64) -> bool {
        self.uncertain_before.is_none_or(|before| ts_us >= before)
            && !self
                .uncertain
                .iter()
                .any(|&(from, to)| (from..=to).contains(&ts_us))
    }
}

#[cfg(test)]
#[path = "wall_clock_tests.rs"]
mod tests;
