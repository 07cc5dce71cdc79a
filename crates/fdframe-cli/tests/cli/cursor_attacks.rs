//! `--cursor FILE` run as root in a directory someone else could write: planted symlinks at
//! the cursor, its lock and the old temporary-file names, device nodes, FIFOs, and paths that
//! name no file. fdframe refuses them, writes through none of them, creates nothing for a
//! refused path, and never blocks or reads without bound.
//!
//! Every victim is a file or device node of the test's own temporary directory (the device
//! nodes are made with `mknod` with the numbers of `/dev/null` and `/dev/zero`), never a real
//! system file, except that `--cursor /` checks that no `/..lock` appears.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::fs::{CWD, FileType, Mode, makedev, mknodat};

use crate::support::{BIN, TempDir, assert_one_line_error, fdframe, privileged, stderr, wait_exit};

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap()
        .trim()
        .to_owned()
}

fn kind(path: &str) -> Option<FileType> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some(FileType::from_raw_mode(
        std::os::unix::fs::MetadataExt::mode(&meta),
    ))
}

fn names(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mknod(path: &str, kind: FileType, major: u32, minor: u32) {
    mknodat(CWD, path, kind, Mode::from(0o666), makedev(major, minor)).expect("mknod");
}

#[test]
fn symlinks_at_the_pid_named_temporary_names_are_never_written_through() {
    if !privileged("symlinks_at_the_pid_named_temporary_names_are_never_written_through") {
        return;
    }
    let dir = TempDir::new("temp-symlinks");
    let victim = dir.path("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // The names the next few hundred processes would have used as `.k.cursor.tmp<PID>`.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for n in 1..=500 {
        let pid = (last + n) % pid_max;
        std::os::unix::fs::symlink(&victim, dir.path(&format!(".k.cursor.tmp{pid}"))).unwrap();
    }
    let cursor = dir.path("k.cursor");
    let output = fdframe(&["kmsg", "--json-lines", "--cursor", &cursor]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(kind(&cursor), Some(FileType::RegularFile), "not a symlink");
    let text = std::fs::read_to_string(&cursor).unwrap();
    assert!(text.starts_with("fdframe-kmsg-cursor 1\n"), "{text}");
    // Nothing else appeared or went: 500 links, the victim, the cursor and its lock.
    assert_eq!(names(&dir).len(), 500 + 3, "{:?}", names(&dir));
}

#[test]
fn a_symlinked_cursor_is_refused_even_with_reset() {
    if !privileged("a_symlinked_cursor_is_refused_even_with_reset") {
        return;
    }
    let dir = TempDir::new("cursor-symlink");
    let victim = dir.path("victim");
    let cursor = dir.path("k.cursor");
    std::os::unix::fs::symlink(&victim, &cursor).unwrap();
    // A real cursor as the target: following the link would "work".
    let valid = format!("fdframe-kmsg-cursor 1\nboot_id {}\nseq 0\n", boot_id());
    for (target, extra) in [
        (valid.as_str(), None),
        ("precious\n", Some("--cursor-reset")),
    ] {
        std::fs::write(&victim, target).unwrap();
        let mut args = vec!["kmsg", "--cursor", &cursor];
        args.extend(extra);
        let err = assert_one_line_error(&fdframe(&args), 1);
        assert!(
            err.contains(&cursor) && err.contains("symbolic link"),
            "{err}"
        );
        assert_eq!(kind(&cursor), Some(FileType::Symlink));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), target);
    }
    assert_eq!(names(&dir), ["k.cursor", "victim"], "no lock file either");
}

#[test]
fn a_symlinked_lock_file_is_refused_and_named() {
    if !privileged("a_symlinked_lock_file_is_refused_and_named") {
        return;
    }
    let dir = TempDir::new("lock-symlink");
    let cursor = dir.path("k.cursor");
    let lock = dir.path(".k.cursor.lock");
    // Like `.k.cursor.lock -> /etc/nologin`: following it would create the target.
    let absent = dir.path("nologin");
    std::os::unix::fs::symlink(&absent, &lock).unwrap();
    let err = assert_one_line_error(&fdframe(&["kmsg", "--cursor", &cursor]), 1);
    assert!(
        err.contains(&lock) && err.contains("symbolic link"),
        "the message names the lock file: {err}"
    );
    assert!(
        !Path::new(&absent).exists(),
        "the link's target was created"
    );
    assert_eq!(names(&dir), [".k.cursor.lock"], "no cursor either");
}

#[test]
fn a_device_node_as_cursor_is_refused_even_with_reset() {
    if !privileged("a_device_node_as_cursor_is_refused_even_with_reset") {
        return;
    }
    let dir = TempDir::new("device");
    let null = dir.path("null");
    mknod(&null, FileType::CharacterDevice, 1, 3); // what /dev/null is
    for extra in [None, Some("--cursor-reset")] {
        let mut args = vec!["kmsg", "--cursor", &null];
        args.extend(extra);
        let err = assert_one_line_error(&fdframe(&args), 1);
        assert!(err.contains("character device"), "{err}");
        assert_eq!(kind(&null), Some(FileType::CharacterDevice), "{extra:?}");
        // Not even a lock beside it: `--cursor /dev/null` must leave no `/dev/.null.lock`.
        assert_eq!(names(&dir), ["null"], "{extra:?}");
    }
}

/// Runs `fdframe ARGS` under a 1 GiB address-space limit (so that an unbounded read fails
/// instead of eating the machine) and a 10 s deadline; its exit code, `None` if killed.
fn run_bounded(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fdframe");
    let code = wait_exit(&mut child, Duration::from_secs(10));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (code, err)
}

#[test]
fn a_fifo_or_endless_device_as_cursor_is_refused_at_once() {
    if !privileged("a_fifo_or_endless_device_as_cursor_is_refused_at_once") {
        return;
    }
    let dir = TempDir::new("fifo-zero");
    let fifo = dir.path("fifo");
    mknod(&fifo, FileType::Fifo, 0, 0);
    let zero = dir.path("zero");
    mknod(&zero, FileType::CharacterDevice, 1, 5); // what /dev/zero is
    for (path, what) in [(&fifo, "FIFO"), (&zero, "character device")] {
        let (code, err) = run_bounded(&["kmsg", "--cursor", path]);
        assert_eq!(code, Some(1), "{path}: blocked, or died: {err}");
        assert!(err.contains(what), "{err}");
    }
    assert_eq!(names(&dir), ["fifo", "zero"]);
}

#[test]
fn a_long_file_is_not_a_cursor_and_is_never_replaced() {
    if !privileged("a_long_file_is_not_a_cursor_and_is_never_replaced") {
        return;
    }
    let dir = TempDir::new("long");
    let cursor = dir.path("k.cursor");
    let mut text = format!("fdframe-kmsg-cursor 1\nboot_id {}\nseq 0\n", boot_id());
    text.push_str(&"#".repeat(4096));
    std::fs::write(&cursor, &text).unwrap();
    for extra in [None, Some("--cursor-reset")] {
        let mut args = vec!["kmsg", "--cursor", &cursor];
        args.extend(extra);
        let err = assert_one_line_error(&fdframe(&args), 1);
        assert!(err.contains("not an fdframe cursor file"), "{err}");
        assert_eq!(std::fs::read_to_string(&cursor).unwrap(), text);
    }
}

#[test]
fn a_path_that_names_no_file_creates_no_lock() {
    if !privileged("a_path_that_names_no_file_creates_no_lock") {
        return;
    }
    let dir = TempDir::new("no-name");
    std::fs::create_dir(dir.path("sub")).unwrap();
    for path in [dir.path("sub/.."), dir.path("sub/"), dir.path("sub")] {
        let output = fdframe(&["kmsg", "--cursor", &path]);
        let err = assert_one_line_error(&output, 1);
        assert!(err.contains(&path), "{err}");
        assert_eq!(names(&dir), ["sub"], "{path}");
        assert_eq!(std::fs::read_dir(dir.path("sub")).unwrap().count(), 0);
    }
    // And the root itself: no `/..lock`.
    let root_lock = Path::new("/..lock");
    if root_lock.exists() {
        eprintln!("note: /..lock exists already; not checking `--cursor /`");
        return;
    }
    let err = assert_one_line_error(&fdframe(&["kmsg", "--cursor", "/"]), 1);
    assert!(err.contains("does not name a file"), "{err}");
    let created = root_lock.exists();
    if created {
        let _ = std::fs::remove_file(root_lock);
    }
    assert!(!created, "--cursor / created /..lock");
}
