//! Tests of `time.rs`: formats against dmesg's exact output. (The sleep correction is the
//! library's, tested in `fdframe/src/kmsg/wall_clock_tests.rs`.)

use fdframe::kmsg::Sleep;

use super::*;

/// 2026-11-22T02:15:58.512097Z is this many microseconds after the Unix epoch.
const WALL_US: i64 = 1_795_313_758_512_097;

/// A clock in UTC that puts `ts_us` at `wall_us`.
fn utc_clock_at(ts_us: u64, wall_us: i64, sleeps: Vec<Sleep>) -> WallClock {
    let mono_ns = ts_us as i64 * 1_000;
    WallClock {
        clock: fdframe::kmsg::WallClock::new(
            Clocks::from_ns(wall_us * 1_000, mono_ns, mono_ns),
            SleepPlan::from_sleeps(sleeps),
        ),
        tz: TimeZone::UTC,
    }
}

fn utc_clock(ts_us: u64, sleeps: Vec<Sleep>) -> WallClock {
    utc_clock_at(ts_us, WALL_US, sleeps)
}

#[test]
fn raw_is_dmesgs_seconds_since_boot() {
    assert_eq!(raw(1_661_512_097), "[ 1661.512097]");
    assert_eq!(raw(5), "[    0.000005]");
    assert_eq!(raw(123_456_789_000_001), "[123456789.000001]");
}

#[test]
fn ctime_and_iso_match_dmesg() {
    let ts = 1_661_512_097;
    let mut ctime = TimePrinter::new(TimeFormat::Ctime, Some(utc_clock(ts, vec![])));
    assert_eq!(ctime.prefix(ts).0, "[Sun Nov 22 02:15:58 2026]");
    let mut iso = TimePrinter::new(TimeFormat::Iso, Some(utc_clock(ts, vec![])));
    assert_eq!(iso.prefix(ts).0, "2026-11-22T02:15:58,512097+00:00");
}

#[test]
fn ctime_pads_the_day_with_a_space_and_truncates_seconds() {
    let ts = 1_000_999_999;
    // 2026-11-02T02:15:58.999999Z
    let clock = utc_clock_at(ts, WALL_US - 20 * 86_400_000_000 + 487_902, vec![]);
    let mut ctime = TimePrinter::new(TimeFormat::Ctime, Some(clock));
    assert_eq!(ctime.prefix(ts).0, "[Mon Nov  2 02:15:58 2026]");
}

#[test]
fn delta_is_the_time_since_the_previous_record() {
    let mut delta = TimePrinter::new(TimeFormat::Delta, None);
    assert_eq!(delta.prefix(1_612_831_918).0, "[<    0.000000>]");
    assert_eq!(delta.prefix(1_613_034_735).0, "[<    0.202817>]");
    assert_eq!(delta.prefix(1_661_512_097).0, "[<   48.477362>]");
}

#[test]
fn reltime_shows_the_minute_then_signed_deltas() {
    let first = 1_613_034_735;
    // The first record at 02:15:05.512097.
    let clock = utc_clock(first + 53_000_000, vec![]);
    let mut rel = TimePrinter::new(TimeFormat::Reltime, Some(clock));
    assert_eq!(rel.prefix(first), ("[Nov22 02:15]".into(), Emphasis::Break));
    assert_eq!(rel.prefix(first + 202_817).0, "[  +0.202817]");
    assert_eq!(rel.prefix(first + 202_817 + 40_477_362).0, "[ +40.477362]");
    // A new minute prints the minute again.
    assert_eq!(rel.prefix(first + 61_000_000).0, "[Nov22 02:16]");
}

#[test]
fn reltime_pads_the_day_with_a_space_as_dmesg_does() {
    // 2026-11-02T02:15:58.999999Z, as in the ctime test.
    let ts = 1_000_999_999;
    let clock = utc_clock_at(ts, WALL_US - 20 * 86_400_000_000 + 487_902, vec![]);
    let mut rel = TimePrinter::new(TimeFormat::Reltime, Some(clock));
    assert_eq!(rel.prefix(ts), ("[Nov 2 02:15]".into(), Emphasis::Break));
}

#[test]
fn reltime_deltas_below_ten_and_all_negative_ones_take_two_spaces() {
    // At 02:15:45.512097, then 15 s earlier and 9.999999 s later, all in that minute.
    let first = 1_653_034_735;
    let clock = utc_clock(first + 13_000_000, vec![]);
    let mut rel = TimePrinter::new(TimeFormat::Reltime, Some(clock));
    assert_eq!(rel.prefix(first).0, "[Nov22 02:15]");
    // dmesg: `delta < 10` picks "[  %+8.06f]", whatever the sign.
    assert_eq!(rel.prefix(first - 15_000_000).0, "[  -15.000000]");
    assert_eq!(
        rel.prefix(first - 15_000_000 + 9_999_999).0,
        "[  +9.999999]"
    );
    assert_eq!(rel.prefix(first + 4_999_999).0, "[ +10.000000]");
}

#[test]
fn deltas_count_from_zero_only_after_a_nonzero_timestamp_as_in_dmesg() {
    let mut delta = TimePrinter::new(TimeFormat::Delta, None);
    assert_eq!(delta.prefix(0).0, "[<    0.000000>]");
    assert_eq!(delta.prefix(0).0, "[<    0.000000>]");
    // dmesg's `timerisset` takes the zero timestamp for "no previous record".
    assert_eq!(delta.prefix(1).0, "[<    0.000000>]");
    assert_eq!(delta.prefix(5).0, "[<    0.000004>]");
}

#[test]
fn a_record_filtered_out_still_starts_the_next_delta() {
    let mut delta = TimePrinter::new(TimeFormat::Delta, None);
    assert_eq!(delta.prefix(1_000_000).0, "[<    0.000000>]");
    delta.skipped(3_000_000);
    assert_eq!(delta.prefix(3_500_000).0, "[<    0.500000>]");
}

#[test]
fn notime_prints_nothing_and_wall_formats_fall_back_to_raw_without_a_clock() {
    assert_eq!(TimePrinter::new(TimeFormat::Notime, None).prefix(7).0, "");
    assert_eq!(
        TimePrinter::new(TimeFormat::Ctime, None).prefix(7).0,
        "[    0.000007]"
    );
}

#[test]
fn json_times_are_rfc3339_in_utc_with_microseconds() {
    let clock = utc_clock(1_661_512_097, vec![]);
    assert_eq!(
        clock.rfc3339_utc(1_661_512_097),
        "2026-11-22T02:15:58.512097Z"
    );
    assert_eq!(
        clock.rfc3339_utc(1_661_512_100),
        "2026-11-22T02:15:58.512100Z"
    );
}

#[test]
fn the_clock_goes_through_the_librarys_sleep_correction() {
    let sleep = Sleep {
        resumed_at_us: 100_000_000,
        duration_us: 3_600_000_000,
    };
    let clock = utc_clock(200_000_000, vec![sleep]);
    assert_eq!(clock.unix_us(200_000_000), WALL_US);
    assert_eq!(
        clock.unix_us(50_000_000),
        WALL_US - 150_000_000 - 3_600_000_000
    );
    assert!(clock.is_exact(50_000_000));
}
