//! [`FdAsyncRead`]: raw bytes from a descriptor as a tokio [`AsyncRead`], for users with their own
//! codec.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use fdframe::ReadFd;
use tokio::io::AsyncRead;

use crate::source::Source;

/// A descriptor's raw bytes as a tokio [`AsyncRead`], driven by tokio's reactor.
///
/// For descriptors that deliver a byte stream (pipes, FIFOs, ptys, stream sockets, regular
/// files) when you bring your own parser, e.g. `tokio_util::codec::FramedRead` or
/// `tokio::io::BufReader`. It handles what differs between descriptors the same way
/// [`FdStream`](crate::FdStream) does: regular files are read directly (never registered; see
/// [`FdStream`'s notes](crate::FdStream#regular-files)), and each read is the core's
/// [`ReadFd::read`]: a pty master's `EIO` after the other side closed is end of input (`Ok`
/// with nothing read), a FIFO that no writer has opened yet is waited on (not end of input),
/// `EINTR` is retried, and readiness is cleared only after a real `WouldBlock`. A
/// [followed](ReadFd::follow) file gives the followed files' bytes in order, without the
/// notices (see [`ReadFd::read`]).
///
/// # Record devices: use `FdStream`
///
/// Each `poll_read` performs one `read(2)` of at most the caller's free space. Record devices
/// (`/dev/kmsg`, inotify, signalfd, evdev, ...) fail such a read with `EINVAL` when the space is
/// smaller than the next record — and `/dev/kmsg` has already skipped that record. Readers like
/// `FramedRead` read into whatever capacity their buffer has left, so this *will* happen. Read
/// record devices with [`FdStream`](crate::FdStream) and a decoder that declares its
/// [`ReadLimits`](fdframe::ReadLimits) instead.
///
/// # Cost
///
/// The read goes into the caller's buffer through safe code, which requires it to be
/// initialised: tokio's [`ReadBuf::initialize_unfilled`](tokio::io::ReadBuf::initialize_unfilled)
/// zeroes the uninitialised part first (once per `ReadBuf`). [`FdStream`](crate::FdStream)
/// reads into uninitialised memory and avoids that.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe_tokio::FdAsyncRead;
/// use tokio::io::AsyncReadExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (reader, mut writer) = std::io::pipe()?;
/// writer.write_all(b"raw bytes")?;
/// drop(writer);
///
/// let mut text = String::new();
/// FdAsyncRead::from_fd(reader.into())?.read_to_string(&mut text).await?;
/// assert_eq!(text, "raw bytes");
/// # Ok(())
/// # }
/// ```
pub struct FdAsyncRead {
    source: Source,
}

impl FdAsyncRead {
    /// Reads `fd`, registering it with the current tokio runtime; see
    /// [`FdStream::new`](crate::FdStream::new) for the `O_NONBLOCK` handling, errors and panics.
    pub fn new(fd: ReadFd) -> io::Result<Self> {
        Ok(FdAsyncRead {
            source: Source::new(fd)?,
        })
    }

    /// Opens `path` (see [`ReadFd::open`]) and reads it.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::new(ReadFd::open(path)?)
    }

    /// Takes ownership of `fd` and reads it (see [`FdStream::from_fd`](crate::FdStream::from_fd)
    /// for the flags).
    pub fn from_fd(fd: OwnedFd) -> io::Result<Self> {
        Self::new(ReadFd::from_fd(fd)?)
    }

    /// Reads standard input (see [`ReadFd::stdin`]).
    pub fn stdin() -> io::Result<Self> {
        Self::new(ReadFd::stdin()?)
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        self.source.get_ref()
    }

    /// Whether tokio's reactor watches the descriptor (`false` for regular files).
    pub fn is_registered(&self) -> bool {
        self.source.is_registered()
    }

    /// Deregisters the descriptor from the reactor and returns it.
    pub fn into_inner(self) -> ReadFd {
        self.source.into_inner()
    }
}

impl AsyncRead for FdAsyncRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let waited = self.source.poll_with(cx, |reader| {
            for _ in 0..MAX_READS_PER_POLL {
                let room = buf.initialize_unfilled();
                match reader.read(|fd| fd.read(room)) {
                    Ok(n) => {
                        buf.advance(n);
                        return Poll::Ready(Ok(()));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            // A storm of `EINTR`: `Pending` without `WouldBlock` makes `poll_with` wake the
            // task and yield, so the runtime gets its turn before the next attempt.
            Poll::Pending
        });
        waited.map(|result| result.and_then(|read| read))
    }
}

/// The most reads one `poll_read` attempts (each further one after an `EINTR`), as the
/// engine's [`Framer::MAX_READS_PER_CALL`](fdframe::Framer::MAX_READS_PER_CALL): one call does
/// bounded work.
const MAX_READS_PER_POLL: usize = 32;

impl AsFd for FdAsyncRead {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl AsRawFd for FdAsyncRead {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for FdAsyncRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FdAsyncRead")
            .field("fd", self.get_ref())
            .field("registered", &self.is_registered())
            .finish()
    }
}
