//! `fdframe read`: each codec and output form, on pipes, files, FIFOs, seqpacket sockets and
//! inotify descriptors; the end of input, a closed stdout, and the errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::net::{AddressFamily, SocketFlags, SocketType};

use crate::support::{
    BACKENDS, BIN, KillOnDrop, Lines, TempDir, assert_one_line_error, fdframe, fdframe_with_input,
    json, stderr, stdout, wait_exit,
};

#[test]
fn lines_from_a_pipe_in_every_output_form_on_every_backend() {
    let input = b"one\ntwo\n\xff\nlast";
    for &backend in BACKENDS {
        let run = |form: &str| {
            let output =
                fdframe_with_input(&["read", "--backend", backend, "-o", form, "-"], input);
            assert!(output.status.success(), "{backend} {form}: {output:?}");
            assert_eq!(stderr(&output), "", "{backend} {form}");
            output.stdout
        };
        assert_eq!(run("raw"), b"one\ntwo\n\xff\nlast\n", "{backend}");
        assert_eq!(run("hex"), b"6f6e65\n74776f\nff\n6c617374\n", "{backend}");
        let json_lines = String::from_utf8(run("json")).unwrap();
        let values: Vec<_> = json_lines.lines().map(json).collect();
        assert_eq!(values.len(), 4, "{backend}");
        assert_eq!(values[0], json(r#"{"type":"line","len":3,"text":"one"}"#));
        assert_eq!(values[2]["hex"], "ff");
        assert_eq!(values[3]["text"], "last");
    }
}

#[test]
fn invalid_utf8_lines_are_reported_and_skipped() {
    let dir = TempDir::new("utf8");
    let path = dir.path("input.txt");
    std::fs::write(&path, b"good\nbad \xc3\x28\nalso good\n").unwrap();
    let output = fdframe(&["read", "-c", "utf8-lines", "-o", "json", &path]);
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<_> = stdout(&output).lines().map(json).collect();
    assert_eq!(lines[0]["text"], "good");
    assert_eq!(lines[1]["type"], "error");
    assert!(
        lines[1]["message"].as_str().unwrap().contains("UTF-8"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2]["text"], "also good");
    assert!(
        stderr(&output).starts_with("fdframe: warning: "),
        "{}",
        stderr(&output)
    );
}

/// The warning says once what became of the line (it used to read "malformed message skipped:
/// line longer than ... bytes skipped").
#[test]
fn an_over_long_line_is_one_warning_that_says_skipped_once() {
    let mut input = vec![b'x'; 1024 * 1024 + 1];
    input.extend_from_slice(b"\nnext\n");
    let output = fdframe_with_input(&["read", "-"], &input);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "next\n");
    assert_eq!(
        stderr(&output),
        "fdframe: warning: message skipped: line longer than the limit of 1048576 bytes\n"
    );
}

#[test]
fn binary_frames_from_a_file() {
    let dir = TempDir::new("frames");
    let path = dir.path("frames.bin");
    std::fs::write(&path, b"\x02\x00hi\x03\x00abc").unwrap();
    let output = fdframe(&["read", "-c", "len:u16le", "-o", "raw", &path]);
    assert_eq!(output.stdout, b"hiabc");
    let output = fdframe(&["read", "-c", "len:u16le", "-o", "hex", &path]);
    assert_eq!(stdout(&output), "6869\n616263\n");
    let output = fdframe(&["read", "-c", "fixed:4", "-o", "hex", &path]);
    assert_eq!(stdout(&output), "02006869\n03006162\n");
    assert!(
        stderr(&output).contains("1 byte of a partial frame"),
        "{}",
        stderr(&output)
    );
    let output = fdframe(&["read", "-c", "chunks", "-o", "json", &path]);
    let chunk = json(stdout(&output).trim());
    assert_eq!(
        (chunk["len"].as_u64(), chunk["hex"].as_str()),
        (Some(9), Some("020068690300616263"))
    );
    assert!(output.status.success());
}

#[test]
fn proc_kmsg_lines_are_decoded() {
    let input = b"<6>[    1.234567] Linux version\n<30>[    2.000001] udevd[80]: starting\n";
    let output = fdframe_with_input(&["read", "-c", "proc-kmsg", "-"], input);
    assert_eq!(
        stdout(&output),
        "[    1.234567] Linux version\n[    2.000001] udevd[80]: starting\n"
    );
    let output = fdframe_with_input(&["read", "-c", "proc-kmsg", "-o", "json", "-"], input);
    let second = json(stdout(&output).lines().nth(1).unwrap());
    assert_eq!(
        (second["facility"].as_str(), second["level"].as_str()),
        (Some("daemon"), Some("info"))
    );
    assert_eq!(second["timestamp_us"].as_u64(), Some(2_000_001));
}

/// `/dev/kmsg` records one per datagram, as the device gives them, with a gap at 12..=14.
fn kmsg_socket() -> OwnedFd {
    let (reader, writer) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    for record in [
        &b"6,10,1000000,-;first\n SUBSYSTEM=usb\n"[..],
        b"14,11,2000000,-;tab\\x09and esc\\x1b\n",
        b"30,15,3000000,-;after the gap\n",
    ] {
        rustix::net::send(&writer, record, rustix::net::SendFlags::empty()).unwrap();
    }
    reader
}

#[test]
fn kmsg_records_with_a_gap_show_the_loss_in_place() {
    let run = |form: &str| {
        Command::new(BIN)
            .args(["read", "-c", "kmsg", "-o", form, "-"])
            .stdin(Stdio::from(kmsg_socket()))
            .output()
            .unwrap()
    };
    let output = run("raw");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        stdout(&output),
        "[    1.000000] first\n[    2.000000] tab\tand esc\\x1b\n\
         fdframe: 3 kernel log records lost (seq 12..=14): the ring buffer overwrote them before they were read\n\
         [    3.000000] after the gap\n"
    );
    let output = run("json");
    let lines: Vec<_> = stdout(&output).lines().map(json).collect();
    assert_eq!(lines[0]["dictionary"]["SUBSYSTEM"], "usb");
    assert_eq!(lines[1]["message"], "tab\tand esc\u{1b}");
    assert_eq!(
        (
            lines[2]["type"].as_str(),
            lines[2]["count"].as_u64(),
            lines[2]["first_seq"].as_u64(),
            lines[2]["last_seq"].as_u64()
        ),
        (Some("loss"), Some(3), Some(12), Some(14))
    );
    assert_eq!(lines[3]["facility"], "daemon");
}

#[test]
fn inotify_events_from_a_handed_over_descriptor() {
    use rustix::fs::inotify;
    let dir = TempDir::new("inotify");
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC).unwrap();
    inotify::add_watch(&fd, &dir.0, inotify::WatchFlags::CREATE).unwrap();
    std::fs::write(dir.0.join("hello"), b"").unwrap();
    let mut child = Command::new(BIN)
        .args(["read", "-c", "inotify", "-o", "json", "-"])
        .stdin(Stdio::from(fd))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::new(child.stdout.take().unwrap());
    let _child = KillOnDrop(child);
    let event = json(
        &lines
            .find("inotify", Duration::from_secs(5))
            .expect("an event"),
    );
    assert_eq!(event["mask"], json(r#"["CREATE"]"#));
    assert_eq!(event["name"], "hello");
}

#[test]
fn a_fifo_is_read_from_its_first_writer_to_its_last() {
    let dir = TempDir::new("fifo");
    let path = dir.path("fifo");
    mkfifo(&path);
    let mut child = Command::new(BIN)
        .args(["read", &path])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "ended before any writer came"
    );
    let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    writer.write_all(b"a\nb\n").unwrap();
    drop(writer);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "a\nb\n");
}

#[test]
fn a_closed_stdout_ends_the_read_quietly() {
    let dir = TempDir::new("head");
    let path = dir.path("big.txt");
    let line = "x".repeat(99) + "\n";
    std::fs::write(&path, line.repeat(200_000)).unwrap();
    let mut child = Command::new(BIN)
        .args(["read", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, line);
    drop(stdout);
    let code = wait_exit(&mut child, Duration::from_secs(10));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!((code, err.as_str()), (Some(0), ""));
}

#[test]
fn missing_paths_directories_and_unknown_codecs_are_one_line_errors() {
    let err = assert_one_line_error(&fdframe(&["read", "/nonexistent/fdframe"]), 1);
    assert!(
        err.contains("/nonexistent/fdframe") && err.contains("no such file"),
        "{err}"
    );
    let err = assert_one_line_error(&fdframe(&["read", "/"]), 1);
    assert!(err.contains("is a directory"), "{err}");
    let output = fdframe(&["read", "-c", "bogus", "-"]);
    let err = assert_one_line_error(&output, 2);
    assert!(
        err.contains("unknown codec \"bogus\"") && err.contains("utf8-lines"),
        "{err}"
    );
}

/// A record size too large to allocate is a usage error naming the limit, before anything is
/// read: it used to abort (`fixed:999999999999`) or panic with `capacity overflow`.
#[test]
fn fixed_record_sizes_over_the_limit_are_usage_errors_naming_it() {
    for n in ["999999999999", "18446744073709551615", "8388609", "0"] {
        let codec = format!("fixed:{n}");
        let output = fdframe_with_input(&["read", "-c", &codec, "-"], b"abcd");
        let err = assert_one_line_error(&output, 2);
        assert!(
            err.contains("from 1 to 8388608 bytes (8 MiB)") && err.contains(n),
            "{codec}: {err}"
        );
    }
    let output = fdframe_with_input(&["read", "-c", "fixed:8388608", "-o", "hex", "-"], b"ab");
    assert!(output.status.success(), "{output:?}");
    assert!(
        stderr(&output).contains("2 bytes of a partial frame"),
        "{output:?}"
    );
}

/// `fdframe read - < fifo` after the writer has already finished: the shell's description saw
/// the writer, so the input ends as it does for `cat`. (A reopened description would not have
/// seen it and would wait for a new writer forever.)
#[test]
fn a_named_fifo_on_stdin_whose_writer_is_gone_ends() {
    let dir = TempDir::new("fifo-stdin");
    let path = dir.path("fifo");
    mkfifo(&path);
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        // Blocks until the read end below is open, as a shell's `< fifo` would.
        let mut fifo = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_path)
            .unwrap();
        fifo.write_all(b"before\nthe end\n").unwrap();
    });
    let stdin = std::fs::File::open(&path).unwrap();
    writer.join().unwrap(); // the writer has written and closed
    for &backend in BACKENDS {
        let child = Command::new(BIN)
            .args(["read", "--backend", backend, "-"])
            .stdin(stdin.try_clone().unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let code = wait_exit(&mut child.0, Duration::from_secs(5));
        assert_eq!(code, Some(0), "{backend}: ended at end of input");
        let mut out = String::new();
        child
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        if backend == BACKENDS[0] {
            assert_eq!(out, "before\nthe end\n");
        }
    }
}

/// Creates a FIFO at `path`.
fn mkfifo(path: &str) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}
