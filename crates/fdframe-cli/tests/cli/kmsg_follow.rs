//! `fdframe kmsg --follow`: new records appear within a second on every backend; Ctrl-C and
//! SIGTERM stop it after flushing and saving the cursor; a closed stdout ends it quietly.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::{
    BACKENDS, BIN, KillOnDrop, Lines, TempDir, json, marker, privileged, signal, wait_exit,
    write_record,
};

/// Starts `fdframe kmsg -w ARGS` and waits until it prints a record written after its start,
/// so that it is known to be following. The record is written again until it shows: with
/// `--since-now` one written before the follower opened `/dev/kmsg` never does.
fn start_follower(args: &[&str], tag: &str) -> (KillOnDrop, Lines) {
    let mut child = Command::new(BIN)
        .args(["kmsg", "--follow"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fdframe");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let child = KillOnDrop(child);
    let ready = marker(&format!("{tag}-ready"));
    for _ in 0..50 {
        write_record(15, ready.as_bytes());
        if lines.find(&ready, Duration::from_millis(200)).is_some() {
            return (child, lines);
        }
    }
    panic!("the follower never printed the record written after its start");
}

#[test]
fn a_new_record_shows_within_a_second_on_every_backend() {
    if !privileged("a_new_record_shows_within_a_second_on_every_backend") {
        return;
    }
    for &backend in BACKENDS {
        let (_child, lines) = start_follower(&["--backend", backend], backend);
        let fresh = marker(&format!("{backend}-fresh"));
        let written = Instant::now();
        write_record(14, fresh.as_bytes());
        let line = lines.find(&fresh, Duration::from_secs(1));
        assert!(
            line.is_some(),
            "{backend}: the record did not show within 1 s"
        );
        assert!(written.elapsed() < Duration::from_secs(1), "{backend}");
    }
}

#[test]
fn since_now_shows_only_records_logged_after_the_start() {
    if !privileged("since_now_shows_only_records_logged_after_the_start") {
        return;
    }
    let before = marker("before");
    write_record(15, before.as_bytes());
    let (_child, lines) = start_follower(&["--since-now", "--json-lines"], "sincenow");
    let after = marker("after");
    write_record(15, after.as_bytes());
    let got = lines
        .find(&after, Duration::from_secs(5))
        .expect("the new record");
    assert_eq!(json(&got)["type"], "record");
    // Everything printed so far came after the start; the earlier record never shows.
    assert!(
        lines
            .until_quiet(Duration::from_millis(200))
            .iter()
            .all(|l| !l.contains(&before))
    );
}

fn stop_with(sig: Signal, code: i32, test: &str) {
    if !privileged(test) {
        return;
    }
    let dir = TempDir::new(test);
    let cursor = dir.path("kmsg.cursor");
    let (mut child, lines) = start_follower(&["--json-lines", "--cursor", &cursor], test);
    let last = marker("last");
    write_record(15, last.as_bytes());
    let printed = json(
        &lines
            .find(&last, Duration::from_secs(5))
            .expect("the last record"),
    );
    signal(&child.0, sig);
    assert_eq!(wait_exit(&mut child.0, Duration::from_secs(5)), Some(code));
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, "", "a clean stop says nothing");
    // Records logged by others after ours may have been printed too; the cursor names the last.
    let mut last_seq = printed["seq"].as_u64().unwrap();
    for line in lines.until_quiet(Duration::from_millis(200)) {
        last_seq = json(&line)["seq"].as_u64().unwrap_or(last_seq);
    }
    let saved = std::fs::read_to_string(&cursor).expect("the cursor was saved");
    assert!(saved.ends_with(&format!("\nseq {last_seq}\n")), "{saved}");
}

#[test]
fn ctrl_c_flushes_saves_the_cursor_and_exits_130() {
    stop_with(
        Signal::INT,
        130,
        "ctrl_c_flushes_saves_the_cursor_and_exits_130",
    );
}

#[test]
fn sigterm_flushes_saves_the_cursor_and_exits_143() {
    stop_with(
        Signal::TERM,
        143,
        "sigterm_flushes_saves_the_cursor_and_exits_143",
    );
}

#[test]
fn a_closed_stdout_ends_a_follower_quietly() {
    if !privileged("a_closed_stdout_ends_a_follower_quietly") {
        return;
    }
    for backend in ["tokio", "blocking"] {
        let mut child = Command::new(BIN)
            .args(["kmsg", "--follow", "--backend", backend])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fdframe");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.starts_with('['), "{first}");
        drop(stdout); // like `| head -1`
        let code = wait_exit(&mut child, Duration::from_secs(5));
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{backend}");
    }
}

#[test]
fn dump_into_a_closed_pipe_exits_0_without_a_word() {
    if !privileged("dump_into_a_closed_pipe_exits_0_without_a_word") {
        return;
    }
    let mut child = Command::new(BIN)
        .args(["kmsg"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fdframe");
    drop(child.stdout.take());
    let code = wait_exit(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
}
