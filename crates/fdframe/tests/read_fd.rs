//! `ReadFd::read`, the plain-slice read every byte reader (`FdAsyncRead`) makes: the device quirks
//! it smooths (FIFO without a writer, closed pty) and what it does on a followed file.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{FollowNotice, FollowOptions, FollowStart};
use fdframe::{FdKind, ReadFd};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::{FileType, Mode, OFlags};

/// A directory of its own under the temp dir, named after the test; removed on drop.
fn temp_dir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("fdframe-read-fd-{test}-"))
        .tempdir()
        .unwrap()
}

/// One `ReadFd::read`, waiting (in `poll(2)`) while it would block: `None` if nothing came
/// within `timeout`. `Interrupted` is retried, as the backends retry it.
fn read_within(fd: &ReadFd, dst: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
    let deadline = Instant::now() + timeout;
    loop {
        match fd.read(dst) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.checked_duration_since(Instant::now())?;
                let left = Timespec::try_from(left).unwrap();
                let mut fds = [PollFd::new(fd, PollFlags::IN)];
                rustix::event::poll(&mut fds, Some(&left)).unwrap();
            }
            result => return Some(result),
        }
    }
}

/// Reads until `want` bytes have come (each read waiting at most 5 s).
fn read_exactly(fd: &ReadFd, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 7];
    while got.len() < want {
        match read_within(fd, &mut chunk, Duration::from_secs(5)) {
            Some(Ok(0)) => panic!("end of input after {:?}", String::from_utf8_lossy(&got)),
            Some(Ok(n)) => got.extend_from_slice(&chunk[..n]),
            Some(Err(e)) => panic!("read failed after {got:?}: {e}"),
            None => panic!("nothing more after {:?}", String::from_utf8_lossy(&got)),
        }
    }
    got
}

fn assert_would_block(fd: &ReadFd) {
    let mut chunk = [0u8; 16];
    let err = fd.read(&mut chunk).expect_err("nothing to read yet");
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
}

#[test]
fn a_fifo_without_a_writer_would_block_then_reads_then_ends_when_the_writer_closes() {
    let dir = temp_dir("fifo");
    let path = dir.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &path,
        FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let fd = ReadFd::open(&path).unwrap();
    assert_eq!(fd.kind(), FdKind::Fifo);
    // The kernel says 0 bytes here, as at end of input.
    assert_would_block(&fd);
    let mut writer = OpenOptions::new().write(true).open(&path).unwrap();
    writer.write_all(b"at last\n").unwrap();
    drop(writer);
    // `io::Read` is the same read: to the end the writer's close makes.
    let mut text = String::new();
    (&fd).read_to_string(&mut text).unwrap();
    assert_eq!(text, "at last\n");
    assert_eq!(
        fd.read(&mut [0u8; 16]).unwrap(),
        0,
        "ended, and stays ended"
    );
}

#[test]
fn a_pty_whose_other_side_closed_is_end_of_input_not_an_error() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    // Raw mode keeps the line discipline from echoing or rewriting "\n" as "\r\n".
    let mut termios = rustix::termios::tcgetattr(&slave).unwrap();
    termios.make_raw();
    rustix::termios::tcsetattr(&slave, rustix::termios::OptionalActions::Now, &termios).unwrap();
    let mut slave = fs::File::from(slave);
    slave.write_all(b"from the slave\n").unwrap();
    drop(slave);

    let fd = ReadFd::from_fd(master).unwrap();
    assert_eq!(fd.kind(), FdKind::Terminal);
    let mut got = Vec::new();
    (&fd).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"from the slave\n");
}

#[test]
fn a_followed_file_gives_the_bytes_of_every_file_in_order_and_passes_over_notices() {
    let dir = temp_dir("follow");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\npart").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(50));
    let fd = ReadFd::follow(&path, options).unwrap();
    assert_eq!(read_exactly(&fd, 7), b"a1\npart");
    assert_would_block(&fd);

    // Rotation: the old file's last bytes, then the new file's (the `Rotated` notice and the
    // old file's end are not in a byte stream).
    fs::rename(&path, &old_path).unwrap();
    OpenOptions::new()
        .append(true)
        .open(&old_path)
        .unwrap()
        .write_all(b"ial\n")
        .unwrap();
    fs::write(&path, "b1\nb2\n").unwrap();
    assert_eq!(read_exactly(&fd, 10), b"ial\nb1\nb2\n");

    // Truncation (`copytruncate`): the file again from its start, without the `Truncated`
    // notice.
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(b"c1\n").unwrap();
    drop(file);
    assert_eq!(read_exactly(&fd, 3), b"c1\n");
    assert!(
        read_within(&fd, &mut [0u8; 16], Duration::from_millis(200)).is_none(),
        "nothing more"
    );
}

#[test]
fn a_followed_file_reports_a_checkpoint_mismatch_once_as_an_error_then_goes_on() {
    let dir = temp_dir("follow-mismatch");
    let path = dir.path().join("log");
    fs::write(&path, "a1\na2\n").unwrap();
    let mut reader = FdReader::follow(&path, LinesDecoder::new(), FollowOptions::new()).unwrap();
    assert_eq!(reader.next().unwrap().unwrap(), "a1");
    assert_eq!(reader.next().unwrap().unwrap(), "a2");
    let saved = reader.checkpoint().unwrap();
    drop(reader);
    // Same inode, other content: what an inode reuse looks like.
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(b"other\nfile\n").unwrap();
    drop(file);

    let options = FollowOptions::new().start(FollowStart::Checkpoint(saved));
    let fd = ReadFd::follow(&path, options).unwrap();
    let err = read_within(&fd, &mut [0u8; 64], Duration::from_secs(5))
        .expect("a read")
        .expect_err("the mismatch first");
    assert_eq!(err.kind(), io::ErrorKind::Other);
    let notice = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<FollowNotice>())
        .expect("the notice inside");
    assert!(
        matches!(notice, FollowNotice::CheckpointMismatch { .. }),
        "{notice:?}"
    );
    assert_eq!(read_exactly(&fd, 11), b"other\nfile\n");
}
