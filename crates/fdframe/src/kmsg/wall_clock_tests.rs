//! Tests of `wall_clock.rs`: the sleep correction, what the log tells about sleeps, and which
//! times are flagged as possibly off.

use super::*;

/// 2026-11-22T02:15:58.512097Z is this many microseconds after the Unix epoch.
const WALL_US: i64 = 1_795_313_758_512_097;

/// Clocks read when the monotonic clock was at `ts_us` and the wall clock at `WALL_US`, after
/// `slept_us` of sleep.
fn clocks_at(ts_us: u64, slept_us: i64) -> Clocks {
    let mono = ts_us as i64 * 1_000;
    Clocks::from_ns(WALL_US * 1_000, mono, mono + slept_us * 1_000)
}

fn clock(ts_us: u64, sleeps: Vec<Sleep>) -> WallClock {
    WallClock::new(clocks_at(ts_us, 0), SleepPlan::from_sleeps(sleeps))
}

#[test]
fn a_record_logged_at_the_reading_gets_the_wall_time_of_the_reading() {
    let clock = clock(1_661_512_097, vec![]);
    assert_eq!(clock.unix_us(1_661_512_097), WALL_US);
    assert_eq!(clock.unix_us(1_661_512_100), WALL_US + 3);
    assert_eq!(
        clock.system_time(1_661_512_097),
        SystemTime::UNIX_EPOCH + Duration::from_micros(WALL_US as u64)
    );
    assert!(clock.is_exact(0));
}

#[test]
fn records_before_a_known_sleep_are_moved_back_by_it() {
    let sleep = Sleep {
        resumed_at_us: 100_000_000,
        duration_us: 3_600_000_000,
    };
    let clock = clock(200_000_000, vec![sleep]);
    // After the resume: REALTIME − MONOTONIC as is.
    assert_eq!(clock.unix_us(200_000_000), WALL_US);
    // Before it: an hour earlier than the plain offset says.
    assert_eq!(
        clock.unix_us(50_000_000),
        WALL_US - 150_000_000 - 3_600_000_000
    );
}

fn scan(records: &[(u64, u64, &str)]) -> SleepScan {
    let mut scan = SleepScan::default();
    for (seq, ts, msg) in records {
        scan.observe(*seq, *ts, msg.as_bytes());
    }
    scan
}

#[test]
fn no_sleep_means_exact_times_and_no_note() {
    let plan = scan(&[(0, 1, "Linux version")]).plan(50);
    assert_eq!(plan, SleepPlan::from_sleeps(vec![]));
    assert!(plan.is_exact());
    assert_eq!(plan.note(), None);
}

#[test]
fn logged_sleep_durations_that_add_up_make_the_correction_exact() {
    let records = [
        (5, 10_000_000, "PM: suspend entry (deep)"),
        (
            6,
            10_500_000,
            "PM: Timekeeping suspended for 61.250 seconds",
        ),
        (7, 11_000_000, "PM: suspend exit"),
        (8, 20_000_000, "Timekeeping suspended for 2.5 seconds"),
    ];
    let plan = scan(&records).plan(63_750_400);
    assert_eq!(plan.note(), None);
    assert_eq!(
        plan.sleeps,
        [
            Sleep {
                resumed_at_us: 10_500_000,
                duration_us: 61_250_000
            },
            Sleep {
                resumed_at_us: 20_000_000,
                duration_us: 2_500_000
            }
        ]
    );
}

#[test]
fn one_resume_in_a_log_that_goes_back_to_boot_took_all_the_sleep() {
    let records = [(0, 0, "Linux version"), (9, 30_000_000, "PM: suspend exit")];
    let plan = scan(&records).plan(7_000_000_000);
    assert_eq!(plan.note(), None);
    assert_eq!(
        plan.sleeps,
        [Sleep {
            resumed_at_us: 30_000_000,
            duration_us: 7_000_000_000
        }]
    );
}

#[test]
fn unknown_sleeps_are_left_uncorrected_and_noted_once() {
    // The log does not go back to boot: earlier resumes may have been overwritten.
    let records = [
        (500, 10_000_000, "PM: suspend exit"),
        (501, 20_000_000, "PM: hibernation: hibernation exit"),
    ];
    let plan = scan(&records).plan(3_700_000_000);
    assert!(plan.sleeps.is_empty());
    assert!(!plan.is_exact());
    let note = plan.note().unwrap();
    assert!(note.contains("slept 1h01m"), "{note}");
    assert!(note.contains("(at [   20.000000])"), "{note}");
}

#[test]
fn records_before_an_unknown_sleep_are_flagged_and_later_ones_are_not() {
    let records = [
        (500, 10_000_000, "PM: suspend exit"),
        (501, 20_000_000, "PM: hibernation: hibernation exit"),
    ];
    let plan = scan(&records).plan(3_700_000_000);
    let clock = WallClock::new(clocks_at(30_000_000, 3_700_000_000), plan);
    assert!(!clock.is_exact(19_999_999));
    assert!(clock.is_exact(20_000_000));
    assert!(clock.is_exact(25_000_000));
}

#[test]
fn a_sleep_with_no_resume_in_the_log_flags_every_record_up_to_the_reading() {
    let plan = scan(&[(900, 5_000_000, "eth0: link up")]).plan(60_000_000);
    let clock = WallClock::new(clocks_at(40_000_000, 60_000_000), plan);
    assert!(!clock.is_exact(39_999_999));
    assert!(clock.is_exact(40_000_000));
}

#[test]
fn a_sleep_between_two_readings_moves_older_records_back_and_flags_the_window() {
    let mut clock = clock(100_000_000, vec![]);
    let before = clock.unix_us(90_000_000);
    // The system slept 5 minutes somewhere between monotonic 100 s and 101 s; the wall clock
    // went on for 5 min 1 s.
    let wall = WALL_US + 301_000_000;
    clock.refresh(Clocks::from_ns(
        wall * 1_000,
        101_000_000_000,
        (101_000_000 + 300_000_000) * 1_000,
    ));
    // A record logged before the first reading keeps its (right) time.
    assert_eq!(clock.unix_us(90_000_000), before);
    assert!(clock.is_exact(90_000_000));
    // One logged at the second reading gets the wall time of that reading.
    assert_eq!(clock.unix_us(101_000_000), wall);
    assert!(clock.is_exact(101_000_001));
    // In between: either side of the sleep; flagged.
    assert!(!clock.is_exact(100_500_000));
}

#[test]
fn a_refresh_without_sleep_only_takes_the_new_offset() {
    let mut clock = clock(100_000_000, vec![]);
    // The wall clock was stepped 2 s forward.
    clock.refresh(Clocks::from_ns(
        (WALL_US + 1_000_000 + 2_000_000) * 1_000,
        101_000_000_000,
        101_000_000_000,
    ));
    assert_eq!(clock.unix_us(100_000_000), WALL_US + 2_000_000);
    assert!(clock.is_exact(100_500_000));
}

#[test]
fn the_clocks_of_this_machine_are_consistent() {
    let clocks = Clocks::now();
    assert!(clocks.slept_us() >= 0);
    let wall = WallClock::new(clocks, SleepPlan::from_sleeps(vec![]));
    let now = wall.system_time(clocks.monotonic_us());
    let diff = SystemTime::now()
        .duration_since(now)
        .unwrap_or_else(|e| e.duration());
    // Generous: only a wrong sign or unit would be this far off.
    assert!(diff < Duration::from_secs(60), "{diff:?}");
}

#[test]
fn sleep_durations_parse_like_the_kernel_prints_them() {
    assert_eq!(parse_seconds("12.178 seconds"), Some(12_178_000));
    assert_eq!(parse_seconds("7198.836 seconds\n"), Some(7_198_836_000));
    assert_eq!(parse_seconds("3 seconds"), Some(3_000_000));
    assert_eq!(parse_seconds("x.1 seconds"), None);
    assert_eq!(parse_seconds("12.178"), None);
}
