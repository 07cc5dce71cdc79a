//! `fdframe kmsg --cursor FILE`: a run resumes right after the last record the previous run
//! handled, reports records overwritten meanwhile with the exact count, starts over after a
//! reboot, and refuses a damaged file unless told to start afresh.

use serde_json::Value;

use crate::support::{
    TempDir, assert_one_line_error, fdframe, json, marker, privileged, stderr, stdout, write_record,
};

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap()
        .trim()
        .to_owned()
}

fn saved_seq(path: &str) -> u64 {
    let text = std::fs::read_to_string(path).expect("a cursor file");
    assert!(
        text.starts_with(&format!("fdframe-kmsg-cursor 1\nboot_id {}\n", boot_id())),
        "{text}"
    );
    let seq = text
        .lines()
        .nth(2)
        .and_then(|l| l.strip_prefix("seq "))
        .expect("a seq line");
    seq.parse().expect("a number")
}

/// `fdframe kmsg --json-lines --cursor PATH` (plus `extra`), its JSON lines.
fn run(path: &str, extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["kmsg", "--json-lines", "--cursor", path];
    args.extend_from_slice(extra);
    let output = fdframe(&args);
    assert!(output.status.success(), "{output:?}");
    (stdout(&output).lines().map(json).collect(), stderr(&output))
}

fn seqs(lines: &[Value]) -> Vec<u64> {
    lines.iter().filter_map(|l| l["seq"].as_u64()).collect()
}

#[test]
fn a_resumed_run_prints_exactly_the_records_logged_since() {
    if !privileged("a_resumed_run_prints_exactly_the_records_logged_since") {
        return;
    }
    let dir = TempDir::new("resume");
    let cursor = dir.path("kmsg.cursor");
    let (first, _) = run(&cursor, &[]);
    let last = *seqs(&first).last().expect("the ring buffer holds records");
    assert_eq!(saved_seq(&cursor), last);

    let tag = marker("resume");
    for n in 0..3 {
        write_record(15, format!("{tag} {n}").as_bytes());
    }
    let (second, _) = run(&cursor, &[]);
    let got = seqs(&second);
    assert!(
        got.iter().all(|&s| s > last),
        "a record was printed twice: {got:?} after {last}"
    );
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    match second.first() {
        Some(l) if l["type"] == "loss" => assert_eq!(l["first_seq"].as_u64(), Some(last + 1)),
        Some(l) => assert_eq!(l["seq"].as_u64(), Some(last + 1), "{l}"),
        None => panic!("nothing printed after three new records"),
    }
    let ours: Vec<&str> = second
        .iter()
        .filter_map(|l| l["message"].as_str())
        .filter(|m| m.starts_with(&tag))
        .collect();
    assert_eq!(ours, [0, 1, 2].map(|n| format!("{tag} {n}")));
    assert_eq!(saved_seq(&cursor), *got.last().unwrap());

    let (third, _) = run(&cursor, &[]);
    let again = third
        .iter()
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with(&tag)));
    assert_eq!(again.count(), 0, "records printed twice");
}

#[test]
fn records_overwritten_while_stopped_are_a_loss_with_the_exact_count() {
    if !privileged("records_overwritten_while_stopped_are_a_loss_with_the_exact_count") {
        return;
    }
    let dir = TempDir::new("gap");
    let cursor = dir.path("kmsg.cursor");
    // A cursor at record 0 of this boot: everything between it and the oldest record still in
    // the ring buffer was overwritten "while no reader ran".
    std::fs::write(
        &cursor,
        format!("fdframe-kmsg-cursor 1\nboot_id {}\nseq 0\n", boot_id()),
    )
    .unwrap();
    let (lines, _) = run(&cursor, &[]);
    let first_record = lines
        .iter()
        .find(|l| l["type"] == "record")
        .expect("records");
    let oldest = first_record["seq"].as_u64().unwrap();
    if oldest <= 1 {
        eprintln!("note: the ring buffer still holds this boot's first records: no gap to test");
        return;
    }
    let loss = &lines[0];
    assert_eq!(loss["type"], "loss", "{loss}");
    assert_eq!(loss["cause"], "kmsg-resume-gap");
    assert_eq!(loss["first_seq"].as_u64(), Some(1));
    assert_eq!(loss["last_seq"].as_u64(), Some(oldest - 1));
    assert_eq!(loss["count"].as_u64(), Some(oldest - 1));
    assert_eq!(lines[1]["seq"].as_u64(), Some(oldest));
}

#[test]
fn a_cursor_from_another_boot_starts_from_this_boots_first_record() {
    if !privileged("a_cursor_from_another_boot_starts_from_this_boots_first_record") {
        return;
    }
    let dir = TempDir::new("reboot");
    let cursor = dir.path("kmsg.cursor");
    let other = "00000000-1111-2222-3333-444444444444";
    std::fs::write(
        &cursor,
        format!("fdframe-kmsg-cursor 1\nboot_id {other}\nseq 99999999\n"),
    )
    .unwrap();
    let (lines, err) = run(&cursor, &[]);
    assert!(err.contains("another boot") && err.contains(other), "{err}");
    let first_record = lines
        .iter()
        .find(|l| l["type"] == "record")
        .expect("records");
    let oldest = first_record["seq"].as_u64().unwrap();
    if oldest > 0 {
        assert_eq!(lines[0]["type"], "loss");
        assert_eq!(lines[0]["first_seq"].as_u64(), Some(0));
        assert_eq!(lines[0]["last_seq"].as_u64(), Some(oldest - 1));
    }
    assert_eq!(saved_seq(&cursor), *seqs(&lines).last().unwrap());
}

#[test]
fn a_damaged_cursor_is_an_error_unless_reset() {
    if !privileged("a_damaged_cursor_is_an_error_unless_reset") {
        return;
    }
    let dir = TempDir::new("damaged");
    let cursor = dir.path("kmsg.cursor");
    for damaged in [
        "not a cursor\n",
        "fdframe-kmsg-cursor 1\nboot_id x\nseq 1\n",
        "fdframe-kmsg-cursor 7\n",
    ] {
        std::fs::write(&cursor, damaged).unwrap();
        let output = fdframe(&["kmsg", "--cursor", &cursor]);
        let err = assert_one_line_error(&output, 1);
        assert!(
            err.contains(&cursor) && err.contains("--cursor-reset"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&cursor).unwrap(),
            damaged,
            "left untouched"
        );
    }
    let (lines, err) = run(&cursor, &["--cursor-reset"]);
    assert!(err.contains("starting afresh"), "{err}");
    assert_eq!(saved_seq(&cursor), *seqs(&lines).last().unwrap());
}

#[test]
fn cursor_reset_never_replaces_a_file_that_is_not_a_cursor() {
    if !privileged("cursor_reset_never_replaces_a_file_that_is_not_a_cursor") {
        return;
    }
    let dir = TempDir::new("foreign");
    // Say `--cursor /etc/passwd --cursor-reset` by mistake.
    let other = dir.path("passwd");
    let text = "root:x:0:0:root:/root:/bin/bash\n";
    std::fs::write(&other, text).unwrap();
    let output = fdframe(&["kmsg", "--cursor", &other, "--cursor-reset"]);
    let err = assert_one_line_error(&output, 1);
    assert!(err.contains("not an fdframe cursor file"), "{err}");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), text);
}

#[test]
fn a_cut_short_or_signed_cursor_is_damaged_not_a_position() {
    if !privileged("a_cut_short_or_signed_cursor_is_damaged_not_a_position") {
        return;
    }
    let dir = TempDir::new("cut-short");
    let cursor = dir.path("kmsg.cursor");
    let (first, _) = run(&cursor, &[]);
    let last = *seqs(&first).last().expect("the ring buffer holds records");
    let whole = std::fs::read_to_string(&cursor).unwrap();
    // `seq 4805` cut to `seq 48`: the last digit and the newline gone (or just the newline).
    let cut = |n: usize| whole[..whole.len() - n].to_owned();
    let mut damaged = vec![cut(1), whole.replace("\nseq ", "\nseq +")];
    if last >= 10 {
        damaged.push(cut(2));
    }
    for text in damaged {
        std::fs::write(&cursor, &text).unwrap();
        let err = assert_one_line_error(&fdframe(&["kmsg", "--cursor", &cursor]), 1);
        assert!(err.contains("damaged"), "{text:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(&cursor).unwrap(),
            text,
            "left untouched"
        );
    }
}

#[test]
fn since_now_with_a_new_cursor_saves_the_start_so_the_next_run_misses_nothing() {
    if !privileged("since_now_with_a_new_cursor_saves_the_start_so_the_next_run_misses_nothing") {
        return;
    }
    let dir = TempDir::new("since-now-start");
    let cursor = dir.path("kmsg.cursor");
    let before = marker("since-now-before");
    write_record(15, before.as_bytes());
    // A quiet run: nothing logged after its start is printed, but its start is saved.
    let (quiet, _) = run(&cursor, &["--since-now"]);
    assert!(
        quiet.iter().all(|l| l["message"] != before.as_str()),
        "{quiet:?}"
    );
    let start = saved_seq(&cursor);
    let between = marker("since-now-between");
    write_record(15, between.as_bytes());
    // The cursor is there now, so --since-now no longer applies: the record logged between
    // the runs is printed, once, and nothing before the first run's start.
    let (next, _) = run(&cursor, &["--since-now"]);
    let messages: Vec<_> = next.iter().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(
        messages.iter().filter(|m| **m == between).count(),
        1,
        "{next:?}"
    );
    assert!(!messages.contains(&before.as_str()), "{next:?}");
    assert!(seqs(&next).iter().all(|&s| s > start), "{next:?}");
}

#[test]
fn a_cursor_past_the_newest_record_is_an_error() {
    if !privileged("a_cursor_past_the_newest_record_is_an_error") {
        return;
    }
    let dir = TempDir::new("ahead");
    let cursor = dir.path("kmsg.cursor");
    std::fs::write(
        &cursor,
        format!(
            "fdframe-kmsg-cursor 1\nboot_id {}\nseq {}\n",
            boot_id(),
            u64::MAX
        ),
    )
    .unwrap();
    let err = assert_one_line_error(&fdframe(&["kmsg", "--cursor", &cursor]), 1);
    assert!(err.contains("past this boot's newest record"), "{err}");
}

#[test]
fn a_cursor_in_use_by_a_running_follower_is_refused() {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use crate::support::{KillOnDrop, Lines};

    if !privileged("a_cursor_in_use_by_a_running_follower_is_refused") {
        return;
    }
    let dir = TempDir::new("in-use");
    let cursor = dir.path("kmsg.cursor");
    let mut follower = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_fdframe"))
            .args([
                "kmsg",
                "-w",
                "--json-lines",
                "--since-now",
                "--cursor",
                &cursor,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a follower"),
    );
    // Once it prints a record written after it started, it certainly holds the lock. It may
    // open /dev/kmsg after a record is written, so write until one shows.
    let lines = Lines::new(follower.0.stdout.take().expect("piped stdout"));
    let tag = marker("in-use");
    let running = (0..25).any(|n| {
        write_record(15, format!("{tag} {n}").as_bytes());
        lines.find(&tag, Duration::from_millis(200)).is_some()
    });
    assert!(running, "the follower never printed a record");

    let second = fdframe(&["kmsg", "--json-lines", "--cursor", &cursor]);
    let message = assert_one_line_error(&second, 1);
    assert!(message.contains("in use by another fdframe"), "{message}");
}
