//! [`FdAsyncRead`]: the raw bytes of a descriptor as a `futures_io::AsyncRead`.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use fdframe::ReadFd;
use futures_io::AsyncRead;

use crate::registration::Registration;

/// The raw bytes of a descriptor as a [`futures_io::AsyncRead`], waiting for readiness in
/// async-io's reactor (the one under async-std and smol).
///
/// Use it where a byte stream is wanted (`futures_lite::io::copy`, another crate's framing);
/// use [`FdStream`](crate::FdStream) for messages. The descriptor rules are `FdStream`'s:
/// regular files are read directly (a slow disk read happens inline), and a blocking pollable
/// descriptor is made non-blocking until it is dropped (see `FdStream`'s `O_NONBLOCK` caveat).
/// Each read is the core's [`ReadFd::read`]: a pty master's `EIO` after the other side closed
/// is end of file (`Ok(0)`), a FIFO that no writer has opened yet is waited on (not end of
/// file), and `EINTR` is retried. A [followed](ReadFd::follow) file gives the followed files'
/// bytes in order, without the notices (see [`ReadFd::read`]).
///
/// Record devices (`/dev/kmsg`, inotify) fail reads into buffers smaller than one record with
/// `EINVAL`; read them through `FdStream` and their decoder, which sizes every read.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe_async_io::FdAsyncRead;
/// use futures_lite::AsyncReadExt;
///
/// # smol::block_on(async {
/// let (reader, mut writer) = std::io::pipe()?;
/// writer.write_all(b"raw bytes")?;
/// drop(writer);
///
/// let mut bytes = Vec::new();
/// FdAsyncRead::from_fd(reader.into())?.read_to_end(&mut bytes).await?;
/// assert_eq!(bytes, b"raw bytes");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct FdAsyncRead {
    registration: Registration,
}

impl FdAsyncRead {
    /// Reads `fd`, registering it with the reactor.
    pub fn new(fd: ReadFd) -> io::Result<Self> {
        Ok(FdAsyncRead {
            registration: Registration::new(fd)?,
        })
    }

    /// Opens `path` (see [`ReadFd::open`]).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::new(ReadFd::open(path)?)
    }

    /// Takes ownership of `fd` (see [`ReadFd::from_fd`]); a blocking pollable descriptor is made
    /// non-blocking until it is dropped.
    pub fn from_fd(fd: OwnedFd) -> io::Result<Self> {
        Self::new(ReadFd::from_fd(fd)?)
    }

    /// Reads standard input (see [`ReadFd::stdin`]).
    pub fn stdin() -> io::Result<Self> {
        Self::new(ReadFd::stdin()?)
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        self.registration.get_ref()
    }

    /// Whether async-io's reactor watches the descriptor: `false` for regular files and other
    /// descriptors epoll refuses, which are read directly.
    pub fn is_registered(&self) -> bool {
        self.registration.is_registered()
    }

    /// Deregisters the descriptor and returns it.
    pub fn into_inner(self) -> ReadFd {
        self.registration.into_inner()
    }
}

impl AsyncRead for FdAsyncRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut interrupted = 0;
        loop {
            match this.registration.get_ref().read(buf) {
                // A storm of `EINTR` must not hold the executor thread: after as many attempts
                // as the engine makes per call, yield and try again on the next poll.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    interrupted += 1;
                    if interrupted == MAX_READS_PER_POLL {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                // Only after a real `WouldBlock`: a stale `Ready` just leads to another read.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(this.registration.poll_readable(cx))?;
                }
                result => return Poll::Ready(result),
            }
        }
    }
}

/// The most `EINTR`-interrupted reads one `poll_read` retries, as the engine's
/// [`Framer::MAX_READS_PER_CALL`](fdframe::Framer::MAX_READS_PER_CALL): one call does bounded
/// work.
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
