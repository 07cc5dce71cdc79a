//! Standard output that cannot take the output: closed at start (`>&-`), or failing writes
//! (`>/dev/full`), is exit status 1 with one line on stderr, never 0 with the output lost; a
//! write-only `/dev/null` (`>/dev/null`) is a place to discard it, and stays 0.

use std::process::{Command, Output, Stdio};

use crate::support::{BIN, TempDir, assert_one_line_error, stderr};

/// `fdframe ARGS` under `sh`, its stdout redirected with `redirect` (`>&-`, `>/dev/full`).
fn with_stdout(redirect: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("exec \"$0\" \"$@\" {redirect}"))
        .arg(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run sh")
}

fn input_file(dir: &TempDir) -> String {
    let path = dir.path("input.txt");
    std::fs::write(&path, "one\ntwo\n").unwrap();
    path
}

#[test]
fn a_closed_stdout_is_refused_at_start() {
    let dir = TempDir::new("stdout-closed");
    let path = input_file(&dir);
    for args in [
        &["read", path.as_str()][..],
        &["kmsg"],
        &["kmsg", "--follow"],
        &["--help"],
    ] {
        let output = with_stdout(">&-", args);
        let err = assert_one_line_error(&output, 1);
        assert!(
            err.contains("cannot write to standard output: it was closed at start")
                && err.contains(">/dev/null"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_stdout_whose_writes_fail_is_exit_status_1() {
    let dir = TempDir::new("stdout-full");
    let path = input_file(&dir);
    for args in [&["read", path.as_str()][..], &["--help"], &["--version"]] {
        let output = with_stdout(">/dev/full", args);
        let err = assert_one_line_error(&output, 1);
        assert!(
            err.contains("cannot write to standard output: No space left on device"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_write_only_dev_null_discards_the_output_with_status_0() {
    let dir = TempDir::new("stdout-null");
    let path = input_file(&dir);
    let output = with_stdout(">/dev/null", &["read", &path]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}
