//! The done-when of JSON lines for shippers: `fdframe kmsg -w --json-lines --cursor F` piped into a
//! consumer that is killed (SIGKILL, SIGTERM) and restarted; across the runs every record
//! comes exactly once, or is inside a loss with an exact count. (The run where the kernel
//! overwrites records while no reader runs floods the ring buffer: `tests/kmsg_json_flood.rs`.)

use rustix::process::Signal;

use crate::kmsg_json_harness::{JSON_LINES, Pipeline, Seen, check_stream, objects};
use crate::support::{TempDir, marker, privileged, write_record};

/// Three runs of the pipeline over one cursor: the consumer of the first killed with `sig`
/// (between two batches), records logged while nothing runs, a second run that prints them,
/// stopped with SIGTERM.
fn kill_and_restart(test: &str, sig: Signal) -> (Seen, String) {
    let dir = TempDir::new(test);
    let cursor = dir.path("kmsg.cursor");
    let tag = marker(test);
    let outs = [dir.0.join("run-1.jsonl"), dir.0.join("run-2.jsonl")];

    let first = Pipeline::start(&cursor, &outs[0], &tag);
    for i in 0..10 {
        write_record(15, format!("{tag} a{i}").as_bytes());
    }
    first.wait_for(&format!("{tag} a9"));
    // Killed; what fdframe writes next fails, so it is not saved as handled.
    let wake = format!("{tag} wake");
    first.kill_consumer_between_batches(sig, &wake);
    for i in 0..10 {
        write_record(15, format!("{tag} b{i}").as_bytes());
    }

    let second = Pipeline::start(&cursor, &outs[1], &tag);
    for i in 0..10 {
        write_record(15, format!("{tag} c{i}").as_bytes());
    }
    second.wait_for(&format!("{tag} c9"));
    second.stop();

    let runs: Vec<_> = outs.iter().map(|out| objects(out)).collect();
    (check_stream(&runs, &tag), tag)
}

fn assert_every_marker_once(seen: &Seen, tag: &str) {
    let mut missing = 0;
    for name in ["a", "b", "c"] {
        for i in 0..10 {
            let message = format!("{tag} {name}{i}");
            match seen.count(&message) {
                1 => {}
                0 => missing += 1,
                n => panic!("{message} was printed {n} times"),
            }
        }
    }
    assert_eq!(seen.count(&format!("{tag} wake")), 1, "{seen:?}");
    // Only a flood by someone else could overwrite these: then they are counted.
    assert!(
        missing as u64 <= seen.lost(),
        "{missing} markers neither printed nor counted lost: {seen:?}"
    );
}

#[test]
fn a_consumer_killed_with_sigkill_and_restarted_gets_every_record_once() {
    let test = "json_pipeline_sigkill";
    if !privileged(test) {
        return;
    }
    let (seen, tag) = kill_and_restart(test, Signal::KILL);
    assert_every_marker_once(&seen, &tag);
}

#[test]
fn a_consumer_killed_with_sigterm_and_restarted_gets_every_record_once() {
    let test = "json_pipeline_sigterm";
    if !privileged(test) {
        return;
    }
    let (seen, tag) = kill_and_restart(test, Signal::TERM);
    assert_every_marker_once(&seen, &tag);
}

/// Records that fdframe wrote into the pipe but the consumer never read, because it died
/// first: the cursor follows what the consumer read (the pipe's unread bytes, `FIONREAD`),
/// not what was written, so the next run prints them.
#[test]
fn records_left_in_the_pipe_by_a_dead_consumer_are_printed_again() {
    let test = "json_pipeline_in_flight";
    if !privileged(test) {
        return;
    }
    let dir = TempDir::new(test);
    let cursor = dir.path("kmsg.cursor");
    let tag = marker(test);
    let outs = [dir.0.join("run-1.jsonl"), dir.0.join("run-2.jsonl")];

    let first = Pipeline::start(&cursor, &outs[0], &tag);
    // The consumer stops reading; fdframe writes into the pipe and saves its cursor.
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&first.consumer.0),
        Signal::STOP,
    )
    .expect("SIGSTOP");
    for i in 0..5 {
        write_record(15, format!("{tag} d{i}").as_bytes());
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut first = first;
    first.consumer.0.kill().expect("SIGKILL");
    let _ = first.consumer.0.wait();
    write_record(15, format!("{tag} wake").as_bytes());
    let _ = crate::support::wait_exit(&mut first.fdframe.0, std::time::Duration::from_secs(20));

    let second = Pipeline::start(&cursor, &outs[1], &tag);
    write_record(15, format!("{tag} end").as_bytes());
    second.wait_for(&format!("{tag} end"));
    second.stop();

    let runs: Vec<_> = outs.iter().map(|out| objects(out)).collect();
    let seen = check_stream(&runs, &tag);
    for i in 0..5 {
        let message = format!("{tag} d{i}");
        assert_eq!(seen.count(&message), 1, "{message}: {seen:?}");
    }
}

/// Records the consumer reads while the log is quiet: the cursor follows it without waiting
/// for the next record (an idle tick), so a reader killed with SIGKILL then (no save at exit)
/// does not print them again.
#[test]
fn records_read_while_the_log_is_quiet_are_saved_without_a_next_record() {
    let test = "json_pipeline_idle_save";
    if !privileged(test) {
        return;
    }
    let dir = TempDir::new(test);
    let cursor = dir.path("kmsg.cursor");
    let tag = marker(test);
    let outs = [dir.0.join("run-1.jsonl"), dir.0.join("run-2.jsonl")];

    let first = Pipeline::start(&cursor, &outs[0], &tag);
    let consumer = rustix::process::Pid::from_child(&first.consumer.0);
    rustix::process::kill_process(consumer, Signal::STOP).expect("SIGSTOP");
    for i in 0..5 {
        write_record(15, format!("{tag} e{i}").as_bytes());
    }
    // Written into the pipe while nobody reads it; then read, and the log stays quiet.
    std::thread::sleep(std::time::Duration::from_millis(300));
    rustix::process::kill_process(consumer, Signal::CONT).expect("SIGCONT");
    let last = format!("{tag} e4");
    first.wait_for(&last);
    let seq = objects(&outs[0])
        .iter()
        .find(|o| o["message"] == last.as_str())
        .and_then(|o| o["seq"].as_u64())
        .expect("e4's seq");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while saved_seq(&cursor).is_none_or(|saved| saved < seq) {
        assert!(
            std::time::Instant::now() < deadline,
            "the cursor never reached seq {seq} (e4), read by the consumer: {:?}",
            saved_seq(&cursor)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut first = first;
    first.fdframe.0.kill().expect("SIGKILL");
    let _ = first.fdframe.0.wait();
    let _ = crate::support::wait_exit(&mut first.consumer.0, std::time::Duration::from_secs(20));

    let second = Pipeline::start(&cursor, &outs[1], &tag);
    write_record(15, format!("{tag} end").as_bytes());
    second.wait_for(&format!("{tag} end"));
    second.stop();
    // Not `check_stream`: records others log after e4 may be printed by the first run after
    // its last save and again by the second (SIGKILL: at least once). e0..e4 were saved.
    let all: Vec<_> = outs.iter().flat_map(|out| objects(out)).collect();
    for i in 0..5 {
        let message = format!("{tag} e{i}");
        let count = all
            .iter()
            .filter(|o| o["message"] == message.as_str())
            .count();
        assert_eq!(count, 1, "{message} printed {count} times");
    }
}

/// The `seq` line of the cursor file, once there is one.
fn saved_seq(cursor: &str) -> Option<u64> {
    let text = std::fs::read_to_string(cursor).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("seq "))
        .and_then(|seq| seq.parse().ok())
}

#[test]
fn the_hostname_flag_puts_this_hosts_name_or_the_one_given_on_every_object() {
    let test = "json_hostname";
    if !privileged(test) {
        return;
    }
    let tag = marker(test);
    write_record(15, tag.as_bytes());
    let system = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    for (flag, expected) in [
        ("--hostname", system.trim_end()),
        ("--hostname=web-1.example", "web-1.example"),
    ] {
        let output = crate::support::fdframe(&["kmsg", JSON_LINES, flag]);
        assert!(output.status.success(), "{flag}");
        let lines = crate::support::stdout(&output);
        let objects: Vec<_> = lines.lines().map(crate::support::json).collect();
        assert!(
            objects.iter().any(|o| o["message"] == tag.as_str()),
            "{flag}"
        );
        for object in &objects {
            assert_eq!(object["hostname"], expected, "{flag}: {object}");
        }
    }
    let output = crate::support::fdframe(&["kmsg", JSON_LINES]);
    assert!(!crate::support::stdout(&output).contains("\"hostname\""));
}
