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
fn dmesg_json_refuses_to_follow() {
    let output = fdframe(&["kmsg", "--dmesg-json", "--follow"]);
    let err = assert_one_line_error(&output, 2);
    assert!(err.contains("--json"), "{err}");
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
