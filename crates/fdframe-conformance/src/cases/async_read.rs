//! The backends' raw byte readers ([`Backend::open_bytes`]: `FdAsyncRead`, an `AsyncRead`), which
//! must treat descriptors as their message streams do: they make the core's one read,
//! [`ReadFd::read`].

use std::fs::OpenOptions;
use std::io;
use std::time::{Duration, Instant};

use fdframe::ReadFd;
use rustix::event::{PollFd, PollFlags, Timespec};

use crate::fixtures::{QUIET, STEP, TempDir, mkfifo, spawn_writer};
use crate::{Backend, ByteReader, Outcome};

/// A FIFO that no writer has opened yet reads 0 bytes, as at end of input: the byte reader
/// must wait for the first writer (as `FdStream` does), read what it writes, and end when it
/// closes.
pub fn async_read_of_a_fifo_without_a_writer_waits_for_its_first_writer<B: Backend>() -> Outcome {
    let dir = TempDir::new("fifo-async-read");
    let path = dir.path().join("fifo");
    mkfifo(&path);
    let mut reader = B::open_bytes(ReadFd::open(&path).unwrap()).unwrap();
    let mut chunk = [0u8; 64];
    if let Some(read) = reader.read_within(&mut chunk, QUIET) {
        panic!("no writer yet: waiting, not {read:?}");
    }
    let writer = OpenOptions::new().write(true).open(&path).unwrap();
    let chunks = vec![b"at last\n".to_vec(), b"and more\n".to_vec()];
    let writing = spawn_writer(writer, chunks, Duration::from_millis(10));
    let mut got = Vec::new();
    loop {
        match reader.read_within(&mut chunk, STEP) {
            Some(Ok(0)) => break,
            Some(Ok(n)) => got.extend_from_slice(&chunk[..n]),
            Some(Err(e)) => panic!("read failed after {got:?}: {e}"),
            None => panic!("no end after {:?}", String::from_utf8_lossy(&got)),
        }
    }
    writing.join().unwrap();
    assert_eq!(got, b"at last\nand more\n");
    Ok(())
}

/// A followed file read as bytes ([`ReadFd::read`] on [`ReadFd::follow`]): what it holds, then
/// each append once the reader waits for it, then through a rotation the old file's last lines
/// (written after the rename) before the new file's — the files' bytes in order, nothing twice.
pub fn async_read_of_a_followed_file_gives_its_bytes_in_order_through_rotation<B: Backend>()
-> Outcome {
    use fdframe::follow::FollowOptions;
    use std::io::Write;
    let dir = TempDir::new("follow-async-read");
    let path = dir.path().join("app.log");
    std::fs::write(&path, b"one\n").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(20));
    let mut reader = B::open_bytes(ReadFd::follow(&path, options).unwrap()).unwrap();
    let mut got = Vec::new();
    let mut read_until = |reader: &mut Box<dyn ByteReader>, want: &[u8]| {
        let mut chunk = [0u8; 64];
        while got.len() < want.len() {
            match reader.read_within(&mut chunk, STEP) {
                Some(Ok(0)) => panic!("end of input while following, after {got:?}"),
                Some(Ok(n)) => got.extend_from_slice(&chunk[..n]),
                Some(Err(e)) => panic!("read failed after {got:?}: {e}"),
                None => panic!("nothing more after {:?}", String::from_utf8_lossy(&got)),
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "the followed bytes"
        );
    };
    read_until(&mut reader, b"one\n");
    let mut chunk = [0u8; 8];
    if let Some(read) = reader.read_within(&mut chunk, QUIET) {
        panic!("nothing appended yet: waiting, not {read:?}");
    }
    let mut old = OpenOptions::new().append(true).open(&path).unwrap();
    old.write_all(b"two\n").unwrap();
    read_until(&mut reader, b"one\ntwo\n");
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    old.write_all(b"old after the rename\n").unwrap();
    std::fs::write(&path, b"new\n").unwrap();
    read_until(&mut reader, b"one\ntwo\nold after the rename\nnew\n");
    Ok(())
}

/// The default [`Backend::open_bytes`]: [`ReadFd::read`], waiting in `poll(2)` while it would
/// block (`Interrupted` is retried, as the async backends retry it).
pub(crate) struct PollRead(pub(crate) ReadFd);

impl ByteReader for PollRead {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    let left = Timespec::try_from(left).expect("a timeout in range");
                    let mut fds = [PollFd::new(&self.0, PollFlags::IN)];
                    if let Err(e) = rustix::event::poll(&mut fds, Some(&left)) {
                        if e != rustix::io::Errno::INTR {
                            return Some(Err(e.into()));
                        }
                    }
                }
                result => return Some(result),
            }
        }
    }
}
