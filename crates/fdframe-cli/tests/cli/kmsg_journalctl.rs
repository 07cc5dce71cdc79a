//! `fdframe kmsg` with journalctl's habits: `-n N` (also with `-w`), `-g REGEX`, `--reverse`,
//! `-b`, `--show-cursor` / `--after-cursor`; and dmesg's `-W` and `-J -w`, which follow.
//!
//! Each test writes its own numbered marker records and selects them with `-g`, so that what
//! other writers log meanwhile cannot change the result.

use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::process::Signal;

use crate::support::{
    BIN, KillOnDrop, Lines, fdframe, marker, privileged, signal, stdout, wait_exit, write_record,
};

/// Writes `count` records `{marker} n0`, `{marker} n1`, ...
fn write_numbered(marker: &str, count: usize) {
    for n in 0..count {
        write_record(14, format!("{marker} n{n}").as_bytes());
    }
}

/// The `n…` suffixes of our lines that carry `marker`.
fn numbers(output: &str, marker: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.contains(marker))
        .filter_map(|l| l.rsplit(' ').next().map(str::to_owned))
        .collect()
}

fn kmsg(args: &[&str]) -> String {
    let output = fdframe(&[&["kmsg"][..], args].concat());
    assert!(output.status.success(), "{args:?}: {output:?}");
    stdout(&output)
}

#[test]
fn lines_grep_and_reverse_select_and_order_as_journalctl_does() {
    if !privileged("lines_grep_and_reverse_select_and_order_as_journalctl_does") {
        return;
    }
    let marker = marker("journal");
    write_numbered(&marker, 5);
    assert_eq!(
        numbers(&kmsg(&["-g", &marker]), &marker),
        ["n0", "n1", "n2", "n3", "n4"]
    );
    assert_eq!(
        numbers(&kmsg(&["-n", "2", "-g", &marker]), &marker),
        ["n3", "n4"]
    );
    assert_eq!(
        numbers(&kmsg(&["-n", "0", "-g", &marker]), &marker),
        Vec::<String>::new()
    );
    assert_eq!(
        numbers(&kmsg(&["--reverse", "-g", &marker]), &marker),
        ["n4", "n3", "n2", "n1", "n0"]
    );
    assert_eq!(
        numbers(&kmsg(&["--reverse", "-n", "2", "-g", &marker]), &marker),
        ["n4", "n3"]
    );
    // A regular expression; smart case: a capital letter makes it case-sensitive.
    assert_eq!(
        numbers(&kmsg(&["-g", &format!("{marker} n[13]$")]), &marker),
        ["n1", "n3"]
    );
    write_record(14, format!("{marker} MiXeD").as_bytes());
    assert_eq!(
        numbers(&kmsg(&["-g", &format!("{marker} mixed")]), &marker),
        ["MiXeD"]
    );
    assert_eq!(
        numbers(&kmsg(&["-g", &format!("{marker} Mixed")]), &marker),
        Vec::<String>::new()
    );
    assert_eq!(
        numbers(&kmsg(&["-g", &format!("{marker} MiXeD")]), &marker),
        ["MiXeD"]
    );
    // -b is this boot: the same as without it.
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    for boot in [&["-b"][..], &["-b", "0"], &["-b", boot_id.trim()]] {
        let args = [boot, &["-g", marker.as_str()]].concat();
        assert_eq!(numbers(&kmsg(&args), &marker).len(), 6, "{boot:?}");
    }
}

#[test]
fn a_shown_cursor_resumes_right_after_it() {
    if !privileged("a_shown_cursor_resumes_right_after_it") {
        return;
    }
    let marker = marker("showcursor");
    write_numbered(&marker, 2);
    let first = kmsg(&["-g", &marker, "--show-cursor"]);
    let last = first.lines().last().unwrap_or_default();
    let cursor = last
        .strip_prefix("-- cursor: ")
        .unwrap_or_else(|| panic!("{first}"));
    assert!(cursor.starts_with("kmsg1:"), "{cursor}");
    assert_eq!(numbers(&first, &marker), ["n0", "n1"]);
    write_record(14, format!("{marker} n2").as_bytes());
    let next = kmsg(&["-g", &marker, "--after-cursor", cursor]);
    assert_eq!(numbers(&next, &marker), ["n2"]);
    // JSON stays JSON: the cursor goes to stderr there.
    let output = fdframe(&["kmsg", "--json-lines", "-g", &marker, "--show-cursor"]);
    assert!(!stdout(&output).contains("-- cursor:"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("-- cursor: kmsg1:"));
}

/// Starts `fdframe kmsg ARGS` (a follower) and returns it with its lines.
fn follower(args: &[&str]) -> (KillOnDrop, Lines) {
    let mut child = Command::new(BIN)
        .arg("kmsg")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fdframe");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    (KillOnDrop(child), lines)
}

/// Writes `{marker} ready` until the follower shows it.
fn until_following(lines: &Lines, marker: &str) {
    let ready = format!("{marker} ready");
    for _ in 0..50 {
        write_record(15, ready.as_bytes());
        if lines.find(&ready, Duration::from_millis(200)).is_some() {
            return;
        }
    }
    panic!("the follower never printed a record written after its start");
}

#[test]
fn last_lines_then_follow_and_follow_new() {
    if !privileged("last_lines_then_follow_and_follow_new") {
        return;
    }
    let marker = marker("tailfollow");
    write_numbered(&marker, 4);
    // -n 2 -w: the last two, then what comes.
    let (_child, lines) = follower(&["-n", "2", "-w", "-g", &marker]);
    assert!(
        lines
            .find(&format!("{marker} n2"), Duration::from_secs(5))
            .is_some()
    );
    let next = lines.until_quiet(Duration::from_millis(300));
    assert!(
        next.iter().any(|l| l.ends_with(&format!("{marker} n3"))),
        "{next:?}"
    );
    assert!(!next.iter().any(|l| l.contains(" n1")), "{next:?}");
    write_record(14, format!("{marker} n4").as_bytes());
    assert!(
        lines
            .find(&format!("{marker} n4"), Duration::from_secs(5))
            .is_some()
    );
    // -W: nothing from before the start.
    let (_child, lines) = follower(&["-W", "-g", &marker]);
    until_following(&lines, &marker);
    write_record(14, format!("{marker} n5").as_bytes());
    let seen = lines.find(&format!("{marker} n"), Duration::from_secs(5));
    assert!(
        seen.as_deref().is_some_and(|l| l.ends_with(" n5")),
        "{seen:?}"
    );
}

#[test]
fn the_json_document_follows_and_is_closed_at_the_stop() {
    if !privileged("the_json_document_follows_and_is_closed_at_the_stop") {
        return;
    }
    let marker = marker("jsonfollow");
    let mut child = Command::new(BIN)
        .args(["kmsg", "-J", "-w", "-g", &marker])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fdframe");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let mut child = KillOnDrop(child);
    // As util-linux: each entry is written (and flushed) as it comes.
    let mut seen = false;
    for n in 0..50 {
        write_record(14, format!("{marker} n{n}").as_bytes());
        if lines.find(&marker, Duration::from_millis(200)).is_some() {
            seen = true;
            break;
        }
    }
    assert!(seen, "no entry came while following");
    signal(&child.0, Signal::TERM);
    assert_eq!(wait_exit(&mut child.0, Duration::from_secs(5)), Some(143));
    let rest = lines.until_quiet(Duration::from_millis(300)).join("\n");
    assert!(
        rest.trim_end().ends_with("]\n}") || rest.trim_end().ends_with('}'),
        "{rest}"
    );
    assert!(rest.contains("   ]"), "the document is closed: {rest}");
}
