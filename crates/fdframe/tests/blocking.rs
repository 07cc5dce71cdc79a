//! The blocking backend and `ReadFd` over real descriptors: pipes, a socketpair, a pty, a regular
//! file.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::{Error, FdKind, ReadFd};
use rustix::fs::OFlags;

fn pipe() -> (OwnedFd, std::fs::File) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    (reader.into(), std::fs::File::from(OwnedFd::from(writer)))
}

fn strings(lines: Vec<bytes::Bytes>) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

#[test]
fn pipe_lines_written_in_pieces_arrive_whole_and_end_once() {
    let (reader, mut writer) = pipe();
    let writing = thread::spawn(move || {
        for piece in ["al", "pha\nbe", "ta\n", "gam", "ma\n"] {
            writer.write_all(piece.as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(5));
        }
    });
    let mut lines = FdReader::from_fd(reader, LinesDecoder::new()).unwrap();
    let got: Vec<_> = lines.by_ref().collect::<Result<_, _>>().unwrap();
    writing.join().unwrap();
    assert_eq!(strings(got), ["alpha", "beta", "gamma"]);
    assert!(lines.next().is_none(), "fused after the end");
}

#[test]
fn nonblocking_descriptor_waits_in_poll_instead_of_spinning_or_failing() {
    let (reader, mut writer) = pipe();
    let reader = ReadFd::from_fd_nonblocking(reader).unwrap();
    assert!(reader.is_nonblocking().unwrap());
    let writing = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        writer.write_all(b"late\n").unwrap();
    });
    let mut lines = FdReader::new(reader, LinesDecoder::new());
    let first = lines.next().unwrap().unwrap();
    assert_eq!(&first[..], b"late");
    writing.join().unwrap();
    assert!(lines.next().is_none());
}

#[test]
fn ready_stops_at_would_block_without_waiting() {
    let (reader, mut writer) = pipe();
    writer.write_all(b"one\ntwo\nthr").unwrap();
    let mut lines = FdReader::new(
        ReadFd::from_fd_nonblocking(reader).unwrap(),
        LinesDecoder::new(),
    );
    let now: Vec<_> = lines.ready().collect::<Result<_, _>>().unwrap();
    assert_eq!(strings(now), ["one", "two"]);
    assert_eq!(lines.framer().buffered(), b"thr");
    writer.write_all(b"ee\n").unwrap();
    drop(writer);
    let rest: Vec<_> = lines.collect::<Result<_, _>>().unwrap();
    assert_eq!(strings(rest), ["three"]);
}

#[test]
fn next_timeout_is_pending_when_nothing_arrives() {
    let (reader, _writer) = pipe();
    let mut lines = FdReader::new(
        ReadFd::from_fd_nonblocking(reader).unwrap(),
        LinesDecoder::new(),
    );
    assert!(lines.next_timeout(Duration::from_millis(30)).is_pending());
}

#[test]
fn socketpair_stream_is_read_like_a_pipe() {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, socketpair};
    let (a, b) = socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    let mut writer = std::fs::File::from(b);
    writer.write_all(b"over\na socket\n").unwrap();
    drop(writer);
    let reader = ReadFd::from_fd(a).unwrap();
    assert_eq!(reader.kind(), FdKind::Socket);
    let got: Vec<_> = FdReader::new(reader, LinesDecoder::new())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(strings(got), ["over", "a socket"]);
}

#[test]
fn pty_hangup_is_a_clean_end_not_an_error() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    // Raw mode keeps the line discipline from echoing or rewriting "\n" as "\r\n".
    let mut termios = rustix::termios::tcgetattr(&slave).unwrap();
    termios.make_raw();
    rustix::termios::tcsetattr(&slave, rustix::termios::OptionalActions::Now, &termios).unwrap();
    let mut slave = std::fs::File::from(slave);
    slave.write_all(b"from the slave\nsecond\n").unwrap();
    drop(slave);

    let reader = ReadFd::from_fd(master).unwrap();
    assert_eq!(reader.kind(), FdKind::Terminal);
    let got: Vec<_> = FdReader::new(reader, LinesDecoder::new())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(strings(got), ["from the slave", "second"]);
}

#[test]
fn regular_file_is_read_to_its_end_including_a_final_line_without_newline() {
    let path = std::env::temp_dir().join(format!("fdframe-blocking-{}.txt", std::process::id()));
    std::fs::write(&path, "a\nb\nlast").unwrap();
    let reader = FdReader::open(&path, LinesDecoder::new()).unwrap();
    assert_eq!(reader.get_ref().kind(), FdKind::RegularFile);
    let got: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(strings(got), ["a", "b", "last"]);
}

#[test]
fn opening_a_directory_is_a_clear_error() {
    let err = ReadFd::open("/").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(21), "EISDIR, got {err}");
}

#[test]
fn nonblocking_flag_set_on_a_shared_description_is_restored_on_drop() {
    let (reader, _writer) = pipe();
    let other_holder = reader.try_clone().unwrap(); // a dup shares O_NONBLOCK
    let flags = || rustix::fs::fcntl_getfl(other_holder.as_fd()).unwrap();
    assert!(!flags().contains(OFlags::NONBLOCK));
    let fd = ReadFd::from_fd_nonblocking(reader).unwrap();
    assert!(
        flags().contains(OFlags::NONBLOCK),
        "the dup sees the change: it is shared"
    );
    drop(fd);
    assert!(
        !flags().contains(OFlags::NONBLOCK),
        "restored for the other holder"
    );
}

#[test]
fn into_owned_fd_gives_the_descriptor_back_with_flags_restored() {
    let (reader, mut writer) = pipe();
    let fd = ReadFd::from_fd_nonblocking(reader).unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let owned = fd.into_owned_fd();
    assert_eq!(
        std::os::fd::AsRawFd::as_raw_fd(&owned),
        raw,
        "the same descriptor, not a copy"
    );
    assert!(
        !rustix::fs::fcntl_getfl(&owned)
            .unwrap()
            .contains(OFlags::NONBLOCK)
    );
    writer.write_all(b"x\n").unwrap();
    drop(writer);
    let got: Vec<_> = FdReader::from_fd(owned, LinesDecoder::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(strings(got), ["x"]);
}

#[test]
fn dropping_the_reader_closes_the_descriptor() {
    let (reader, mut writer) = pipe();
    let lines = FdReader::from_fd(reader, LinesDecoder::new()).unwrap();
    drop(lines);
    // With the only read end closed, writing fails with EPIPE (Rust programs ignore SIGPIPE).
    let err = writer.write_all(b"anyone?\n").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(32));
}

#[test]
fn read_error_ends_the_stream_with_io_error() {
    // Reading a write-only descriptor fails with EBADF: a fatal error, then the end.
    let (_reader, writer) = pipe();
    let mut lines = FdReader::from_fd(OwnedFd::from(writer), LinesDecoder::new()).unwrap();
    match lines.next() {
        Some(Err(Error::Io(e))) => assert_eq!(e.raw_os_error(), Some(9)),
        other => panic!("expected EBADF, got {other:?}"),
    }
    assert!(lines.next().is_none());
    assert!(matches!(lines.poll_next_now(), Poll::Ready(None)));
}
