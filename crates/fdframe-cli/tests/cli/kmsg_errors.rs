//! What `fdframe kmsg` refuses, and how: one line that says why, a non-zero exit, no backtrace.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::{BIN, TempDir, assert_one_line_error, fdframe, privileged, skip};

const RESTRICT: &str = "/proc/sys/kernel/dmesg_restrict";

/// Sets `kernel.dmesg_restrict` and puts the old value back when dropped, even on panic.
struct DmesgRestrict {
    old: String,
}

impl DmesgRestrict {
    fn set(value: &str) -> std::io::Result<DmesgRestrict> {
        let old = std::fs::read_to_string(RESTRICT)?;
        std::fs::write(RESTRICT, value)?;
        Ok(DmesgRestrict { old })
    }
}

impl Drop for DmesgRestrict {
    fn drop(&mut self) {
        std::fs::write(RESTRICT, self.old.trim()).expect("restore kernel.dmesg_restrict");
    }
}

#[test]
fn an_unprivileged_user_is_told_why_in_one_line() {
    let test = "an_unprivileged_user_is_told_why_in_one_line";
    if !privileged(test) {
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        skip(test, "no setpriv(1) to drop privileges with");
        return;
    }
    // A copy that user 65534 can surely execute, wherever the build directory is.
    let dir = TempDir::new("unprivileged");
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path("fdframe");
    std::fs::copy(BIN, &bin).unwrap();
    let guard = DmesgRestrict::set("1").expect("set kernel.dmesg_restrict=1");
    let output = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            &bin,
            "kmsg",
        ])
        .output()
        .expect("run setpriv");
    drop(guard);
    let err = assert_one_line_error(&output, 1);
    assert!(err.contains("/dev/kmsg"), "{err}");
    assert!(err.contains("kernel.dmesg_restrict"), "{err}");
    assert!(err.contains("CAP_SYSLOG"), "{err}");
}

#[test]
fn dmesgs_write_side_options_are_refused_saying_why() {
    for (args, name) in [
        (&["-C"][..], "-C/--clear"),
        (&["--clear"], "-C/--clear"),
        (&["-c"], "-c/--read-clear"),
        (&["-D"], "-D/--console-off"),
        (&["-E"], "-E/--console-on"),
        (&["--console-level", "3"], "--console-level"),
    ] {
        let output = fdframe(&[&["kmsg"][..], args].concat());
        let err = assert_one_line_error(&output, 2);
        assert!(err.contains(name), "{args:?}: {err}");
        assert!(err.contains("only reads"), "{args:?}: {err}");
        assert!(!err.contains("did you mean"), "{args:?}: {err}");
    }
}

#[test]
fn since_is_its_own_option_not_a_misspelt_since_now() {
    let output = fdframe(&["kmsg", "--since", "soon"]);
    let err = assert_one_line_error(&output, 2);
    assert!(err.contains("--since: invalid time \"soon\""), "{err}");
    assert!(!err.contains("--since-now"), "{err}");
}

#[test]
fn earlier_boots_are_refused_with_where_their_logs_are() {
    for boot in ["-1", "1", "0123456789abcdef0123456789abcdef"] {
        let output = fdframe(&["kmsg", "-b", boot]);
        let err = assert_one_line_error(&output, 1);
        assert!(err.contains("only this boot"), "{boot}: {err}");
        assert!(err.contains("journalctl -k -b -1"), "{boot}: {err}");
    }
}

#[test]
fn a_printable_cursor_is_parsed_strictly() {
    for bad in [
        "kmsg1:nope:5",
        "5",
        "kmsg1:dd834108-d3a2-4ce0-b560-ececbe563eb9:5 ",
    ] {
        let output = fdframe(&["kmsg", "--after-cursor", bad]);
        let err = assert_one_line_error(&output, 2);
        assert!(err.contains("--after-cursor"), "{bad}: {err}");
    }
}

#[test]
fn options_dmesg_keeps_apart_are_usage_errors() {
    for args in [
        &["-r", "-T"][..],
        &["-r", "-x"],
        &["-F", "x", "-K", "y"],
        &["-J", "--json-lines"],
    ] {
        let output = fdframe(&[&["kmsg"][..], args].concat());
        assert_one_line_error(&output, 2);
    }
    let output = fdframe(&["kmsg", "-F", "/etc/hostname", "-w"]);
    let err = assert_one_line_error(&output, 2);
    assert!(err.contains("--follow"), "{err}");
    let output = fdframe(&["kmsg", "-F", "/dev/null"]);
    let err = assert_one_line_error(&output, 1);
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn bad_filters_are_usage_errors_that_name_the_value() {
    let output = fdframe(&["kmsg", "--level", "loud"]);
    let err = assert_one_line_error(&output, 2);
    assert!(err.contains("\"loud\""), "{err}");
    let output = fdframe(&["kmsg", "--facility", "kern,nope"]);
    let err = assert_one_line_error(&output, 2);
    assert!(err.contains("\"nope\""), "{err}");
}
