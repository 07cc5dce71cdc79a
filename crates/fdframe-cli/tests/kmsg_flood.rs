//! `fdframe kmsg` while the kernel ring buffer is flooded: records overwritten before they
//! were read are a loss with the exact count, whenever the overrun comes.
//!
//! A flood overwrites the whole ring buffer, so these tests live in a test binary of their
//! own: cargo runs test binaries one after another, so the `cli` tests, which read the ring
//! buffer and compare what they find (with `dmesg`, with a cursor), never run beside a flood.
//! Like those, they need root and print `SKIPPED` otherwise (or fail, with
//! `FDFRAME_REQUIRE_PRIVILEGED=1`).

#[path = "cli/support.rs"]
#[allow(dead_code, reason = "shared with the cli binary, which uses all of it")]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};
use rustix::process::Signal;

use support::{BIN, KillOnDrop, Lines, json, marker, privileged, signal, write_record};

/// Held by each test here: a flood by one would be an overrun in the other's output.
static RING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The ring buffer read through a probe descriptor: (oldest, newest) sequence numbers.
fn ring_bounds() -> (u64, u64) {
    let fd = kmsg::open(KmsgStart::Oldest).expect("open /dev/kmsg");
    let mut probe = FdReader::from_fd(fd, KmsgDecoder::new()).unwrap();
    let oldest = probe.ready().find_map(Result::ok).map(|r| r.seq());
    probe.ready().for_each(drop);
    let newest = probe.framer().decoder().last_seq();
    (
        oldest.expect("the ring buffer holds a record"),
        newest.unwrap(),
    )
}

/// Whether the process waits for input: its main thread sleeps in poll/epoll. Nothing else
/// tells, from outside, that `fdframe` has finished starting and read all there was.
fn waiting_in_poll(pid: u32) -> bool {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    // The state follows the `(comm)` field.
    let sleeping = state
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('S'));
    sleeping && wchan.contains("poll")
}

/// Writes ~1000-byte records until the record after `seq` is gone from the ring buffer;
/// returns how many it wrote. Checks every 8 writes, so it writes little more than needed.
fn flood_past(seq: u64, tag: &str) -> usize {
    let mut written = 0;
    while ring_bounds().0 <= seq + 1 {
        for _ in 0..8 {
            let head = format!("{tag} flood {written} ");
            let padding = "p".repeat(1000 - head.len());
            write_record(15, format!("{head}{padding}").as_bytes());
            written += 1;
        }
        assert!(written < 100_000, "the ring buffer never wrapped");
    }
    written
}

/// `fdframe kmsg --follow --since-now --json-lines`, its stdout's lines, killed when dropped.
fn since_now_follower(stderr: Stdio) -> (Lines, KillOnDrop) {
    let mut child = Command::new(BIN)
        .args(["kmsg", "--follow", "--since-now", "--json-lines"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start fdframe");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    (lines, KillOnDrop(child))
}

/// The JSON lines printed up to and including the record whose message is `message`; `what`
/// names the wait in the panic when it does not come within `timeout`.
fn json_until(
    lines: &Lines,
    message: &str,
    timeout: Duration,
    what: &str,
) -> Vec<serde_json::Value> {
    let mut got: Vec<serde_json::Value> = Vec::new();
    let deadline = Instant::now() + timeout;
    while got.last().is_none_or(|v| v["message"] != message) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .find("", left)
            .unwrap_or_else(|| panic!("{what}: `{message}` was never printed; got {got:?}"));
        got.push(json(&line));
    }
    got
}

/// The regression of a follower stopped before its first read: `--since-now` used to open at
/// `SEEK_END` with nothing to count from, so the overrun was one count-less loss, dropped, and
/// records 15..160 were printed as if nothing were missing.
#[test]
fn since_now_counts_records_overwritten_before_the_first_read_exactly() {
    if !privileged("since_now_counts_records_overwritten_before_the_first_read_exactly") {
        return;
    }
    let _ring = RING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (lines, child) = since_now_follower(Stdio::inherit());
    let pid = child.0.id();
    // Started and idle: sleeping in poll twice, 100 ms apart.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "fdframe never settled");
        if waiting_in_poll(pid) {
            std::thread::sleep(Duration::from_millis(100));
            if waiting_in_poll(pid) {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Everything after `newest` is this run's to print (or to count as lost); it may also
    // print records others logged before this point.
    let (_, newest) = ring_bounds();
    signal(&child.0, Signal::STOP);
    let tag = marker("since-now-overrun");
    let flooded = flood_past(newest, &tag);
    let end = format!("{tag} end");
    write_record(14, end.as_bytes());
    signal(&child.0, Signal::CONT);

    let got = json_until(&lines, &end, Duration::from_secs(30), "the end record");
    drop(child);

    // Every sequence number from the first item to the end record is printed once or counted
    // in a loss, in order: nothing missing, nothing twice.
    let (mut printed, mut lost, mut losses) = (0u64, 0u64, 0);
    let mut next: Option<u64> = None;
    let mut first = None;
    for item in &got {
        let (from, to) = match item["type"].as_str() {
            Some("record") => {
                printed += 1;
                let seq = item["seq"].as_u64().unwrap();
                (seq, seq)
            }
            Some("loss") => {
                let count = item["count"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("a loss without a count: {item}"));
                let (from, to) = (item["first_seq"].as_u64(), item["last_seq"].as_u64());
                let (from, to) = (from.unwrap(), to.unwrap());
                assert_eq!(count, to - from + 1, "{item}");
                lost += count;
                losses += 1;
                (from, to)
            }
            _ => panic!("unexpected output: {item}"),
        };
        if let Some(next) = next {
            assert_eq!(from, next, "a gap or a repeat before {item}");
        }
        first.get_or_insert(from);
        next = Some(to + 1);
    }
    let first = first.unwrap();
    let last = next.unwrap() - 1;
    assert!(
        first <= newest + 1,
        "records {}..={} after the start were neither printed nor counted as lost",
        newest + 1,
        first - 1
    );
    assert_eq!(losses, 1, "one overrun, one loss: {got:?}");
    assert_eq!(printed + lost, last - first + 1);
    assert!(lost > 0, "{flooded} records written and nothing lost?");
}

/// The open file descriptors of `pid` that are `/dev/kmsg`.
fn kmsg_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|target| target == std::path::Path::new("/dev/kmsg"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// The regression of a `--since-now` run stopped while it was still starting (its first
/// `/dev/kmsg` open, before its scan of the ring buffer): "now" was where the scan ended, so the
/// records logged while it was stopped counted as older and were never printed. The start is
/// fixed at that first open now; with a flood on top, every record still there is printed,
/// and what the flood overwrote before the run could read it comes first, as a loss (its count
/// is unknown when the start itself was overwritten: the kernel never says where it was).
#[test]
fn since_now_prints_what_was_logged_while_it_was_stopped_during_its_start() {
    if !privileged("since_now_prints_what_was_logged_while_it_was_stopped_during_its_start") {
        return;
    }
    let _ring = RING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for flood in [false, true] {
        let (lines, child) = since_now_follower(Stdio::piped());
        let pid = child.0.id();
        // Stopped as soon as it has /dev/kmsg open at all: the start, before the scan.
        let deadline = Instant::now() + Duration::from_secs(10);
        while kmsg_fds(pid) == 0 {
            assert!(Instant::now() < deadline, "fdframe never opened /dev/kmsg");
            std::thread::yield_now();
        }
        signal(&child.0, Signal::STOP);
        let tag = marker("since-now-early");
        let early = format!("{tag} early");
        write_record(14, early.as_bytes());
        if flood {
            let (_, newest) = ring_bounds();
            flood_past(newest, &tag);
        }
        let end = format!("{tag} end");
        write_record(14, end.as_bytes());
        signal(&child.0, Signal::CONT);
        let needle = if flood { &end } else { &early };
        let what = format!("flood {flood}, logged after the start");
        let got = json_until(&lines, needle, Duration::from_secs(20), &what);
        drop(child);
        // Nothing logged after the start goes missing without a word. Without a flood the
        // early record was printed (the loop found it). With one, everything logged before the
        // flood is gone, so the output begins with the early record (read before the flood) or
        // with a loss that says records before what follows are gone.
        let head = &got[0];
        let begins_right = head["message"] == early.as_str()
            || (head["type"] == "loss" && head["cause"] == "kmsg-overrun");
        assert!(
            !flood || begins_right,
            "`{early}` was neither printed first nor covered by a loss: {got:?}"
        );
    }
}
