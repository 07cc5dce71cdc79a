//! The blocking backend: an [`Iterator`] of messages over a descriptor, on the same engine as
//! the async backends. It is the reference behaviour, and what regular files use.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::task::Poll;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use crate::{Decoder, Error, Framer, ReadFd, Step};

/// Reads messages from a descriptor, waiting (in `poll(2)`) when none are ready.
///
/// Works on blocking and non-blocking descriptors alike: a read that would block waits in
/// `poll(2)` for readiness, so it never spins. Regular files are read straight to their end.
/// The iterator ends at end of input (or after a fatal error) and stays ended.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe::{blocking::FdReader, codec::LinesDecoder};
///
/// let (reader, writer) = std::io::pipe()?;
/// let mut writer = std::fs::File::from(std::os::fd::OwnedFd::from(writer));
/// writer.write_all(b"first\nsecond\n")?;
/// drop(writer); // end of input
///
/// let lines: Vec<_> = FdReader::from_fd(reader.into(), LinesDecoder::new())?
///     .collect::<Result<_, _>>()?;
/// assert_eq!(lines, ["first", "second"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Reading `/dev/kmsg` up to the newest record (needs root or `CAP_SYSLOG` where
/// `kernel.dmesg_restrict=1`):
///
/// ```no_run
/// use fdframe::{blocking::FdReader, kmsg::{self, KmsgDecoder, KmsgStart}};
///
/// let mut reader = FdReader::from_fd(kmsg::open(KmsgStart::Oldest)?, KmsgDecoder::new())?;
/// for record in reader.ready() {
///     match record {
///         Ok(record) => println!("{}", record.message_lossy()),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FdReader<D: Decoder> {
    fd: ReadFd,
    framer: Framer<D>,
}

impl<D: Decoder> FdReader<D> {
    /// Reads `fd` with `decoder`.
    pub fn new(fd: ReadFd, decoder: D) -> Self {
        Self::with_framer(fd, Framer::new(decoder))
    }

    /// Reads `fd` with an engine configured by the caller (read sizes).
    pub fn with_framer(fd: ReadFd, framer: Framer<D>) -> Self {
        FdReader { fd, framer }
    }

    /// Opens `path` (see [`ReadFd::open`]) and reads it with `decoder`.
    pub fn open(path: impl AsRef<Path>, decoder: D) -> io::Result<Self> {
        Ok(Self::new(ReadFd::open(path)?, decoder))
    }

    /// Takes ownership of `fd`, leaving its flags alone (see [`ReadFd::from_fd`]).
    pub fn from_fd(fd: OwnedFd, decoder: D) -> io::Result<Self> {
        Ok(Self::new(ReadFd::from_fd(fd)?, decoder))
    }

    /// Reads standard input (see [`ReadFd::stdin`]).
    pub fn stdin(decoder: D) -> io::Result<Self> {
        Ok(Self::new(ReadFd::stdin()?, decoder))
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        &self.fd
    }

    /// The engine (and through it the decoder and the buffered bytes).
    pub fn framer(&self) -> &Framer<D> {
        &self.framer
    }

    /// The engine, mutably.
    pub fn framer_mut(&mut self) -> &mut Framer<D> {
        &mut self.framer
    }

    /// Returns the descriptor and the engine (with any bytes read but not yet decoded).
    pub fn into_inner(self) -> (ReadFd, Framer<D>) {
        (self.fd, self.framer)
    }

    /// Returns the next message if one can be had without waiting: `Pending` when the descriptor
    /// would block, `Ready(None)` at the end of the stream.
    pub fn poll_next_now(&mut self) -> Step<D::Item, D::Error> {
        let fd = &self.fd;
        self.framer.poll_next_with(|buf| fd.read_into(buf))
    }

    /// Returns the next message, waiting at most `timeout` for the descriptor to become readable.
    /// `Pending` means the time ran out.
    pub fn next_timeout(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Poll::Ready(step) = self.poll_next_now() {
                return Poll::Ready(step);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Poll::Pending;
            }
            if let Err(e) = wait_readable(self.fd.as_fd(), Some(left)) {
                return Poll::Ready(Some(Err(self.framer.fail(e))));
            }
        }
    }

    /// An iterator over the messages available now: it ends when the descriptor would block
    /// (or at the end of the stream), without waiting. On `/dev/kmsg` that is "the ring buffer
    /// as it is", like `dmesg` without `-w`.
    pub fn ready(&mut self) -> Ready<'_, D> {
        Ready { reader: self }
    }
}

impl<D: Decoder> Iterator for FdReader<D> {
    type Item = Result<D::Item, Error<D::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Poll::Ready(step) = self.poll_next_now() {
                return step;
            }
            if let Err(e) = wait_readable(self.fd.as_fd(), None) {
                return Some(Err(self.framer.fail(e)));
            }
        }
    }
}

/// The messages an [`FdReader`] has available without waiting; see [`FdReader::ready`].
#[derive(Debug)]
pub struct Ready<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
}

impl<D: Decoder> Iterator for Ready<'_, D> {
    type Item = Result<D::Item, Error<D::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.poll_next_now() {
            Poll::Ready(step) => step,
            Poll::Pending => None,
        }
    }
}

/// Waits until `fd` is readable, has an error or hang-up pending, or `timeout` passes.
/// `EINTR` counts as a wake-up: the caller reads again and decides.
fn wait_readable(fd: std::os::fd::BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<()> {
    let mut fds = [PollFd::new(&fd, PollFlags::IN | PollFlags::PRI)];
    let timeout = timeout.map(|t| Timespec {
        tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: t.subsec_nanos().into(),
    });
    match rustix::event::poll(&mut fds, timeout.as_ref()) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
