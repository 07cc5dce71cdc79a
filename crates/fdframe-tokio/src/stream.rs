//! [`FdStream`]: a [`Stream`] of decoded messages from a descriptor, woken by tokio's reactor.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use fdframe::follow::{Checkpoint, FollowOptions};
use fdframe::{BatchStep, Decoder, Error, Framer, ReadFd, Step};
use futures_core::{FusedStream, Stream};

use crate::BatchStream;
use crate::source::{FRAMES_PER_BUDGET_UNIT, Reader, Source};

/// A [`Stream`] of messages decoded from a file descriptor, driven by tokio's reactor
/// (`tokio::io::unix::AsyncFd`).
///
/// Each item is `Result<D::Item, fdframe::Error<D::Error>>`; see [`fdframe::Error`] for which
/// errors end the stream (I/O errors, truncated input) and which do not (a malformed message,
/// a loss notice). The stream ends at end of input and then stays ended ([`FusedStream`]).
///
/// All framing — buffer sizes, the room every read of a record device needs, EOF, `EINTR`,
/// loss notices — is done by [`fdframe::Framer`], exactly as in the blocking reference backend
/// [`fdframe::blocking::FdReader`]; this type only turns "the read would block" into waiting
/// for tokio's readiness. Reads continue until `WouldBlock` before it waits, which tokio's
/// edge-triggered reactor requires.
///
/// # Endless input
///
/// One `poll_next` does bounded work (see [`Framer::MAX_READS_PER_CALL`]). On input that brings
/// no message for a long time (`/dev/zero`, a huge sparse file, one endless over-long line being
/// skipped) it returns `Pending` after waking its own task, so the runtime thread and the
/// task's neighbours get their turn, and the stream goes on at its next poll;
/// `framer().is_yielding()` tells such a pause from a wait. A task that drops the stream (on a
/// stop signal, a timeout) ends it cleanly.
///
/// Bring your own `StreamExt` for `next()`: `tokio_stream::StreamExt` or
/// `futures::StreamExt`.
///
/// # Cancel safety
///
/// `next().await` is cancel-safe: every byte read lives in the engine's buffer inside this
/// value, so dropping a pending `next()` (in `select!`, under `timeout`) loses nothing.
///
/// # Regular files
///
/// epoll refuses regular files (and a few devices such as `/dev/null`) with `EPERM`. Those are
/// never registered: they are read directly, to end of file, inside `poll_next`. A slow disk
/// read therefore happens inline on the runtime thread (as `tokio::fs` avoids with a thread
/// pool); tokio's cooperation budget is spent per read and per 32 items handed out from the
/// buffer, and the engine pauses on long stretches without items, so other tasks still run.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe::codec::LinesDecoder;
/// use fdframe_tokio::FdStream;
/// use tokio_stream::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (reader, mut writer) = std::io::pipe()?;
/// writer.write_all(b"first\nsecond\n")?;
/// drop(writer); // end of input
///
/// let mut lines = FdStream::from_fd(reader.into(), LinesDecoder::new())?;
/// let mut got = Vec::new();
/// while let Some(line) = lines.next().await {
///     got.push(line?); // `Bytes` sharing the read buffer
/// }
/// assert_eq!(got, ["first", "second"]);
/// // The writer is closed: the stream has ended, and stays ended.
/// assert!(lines.next().await.is_none());
/// # Ok(())
/// # }
/// ```
pub struct FdStream<D: Decoder> {
    source: Source,
    framer: Framer<D>,
    /// Frames handed out from the buffer since tokio's cooperative budget was last charged
    /// (see [`Source::poll_buffered`]).
    unbudgeted: u32,
}

impl<D: Decoder> FdStream<D> {
    /// Reads `fd` with `decoder`, registering `fd` with the current tokio runtime.
    ///
    /// A pollable descriptor that is still blocking is made non-blocking (see
    /// [`ReadFd::set_nonblocking`]: its flags are restored when the descriptor is dropped or
    /// given back). See the [crate caveats](crate#caveats) on shared `O_NONBLOCK`.
    ///
    /// # Errors
    ///
    /// When called outside a tokio runtime, or when the reactor refuses the descriptor for a
    /// reason other than "not pollable".
    ///
    /// # Panics
    ///
    /// Inside a runtime built without its I/O driver (tokio panics on registration; build the
    /// runtime with `enable_io()` or `enable_all()`).
    pub fn new(fd: ReadFd, decoder: D) -> io::Result<Self> {
        Self::with_framer(fd, Framer::new(decoder))
    }

    /// Like [`new`](FdStream::new), with an engine configured by the caller (read sizes).
    pub fn with_framer(fd: ReadFd, framer: Framer<D>) -> io::Result<Self> {
        Ok(FdStream {
            source: Source::new(fd)?,
            framer,
            unbudgeted: 0,
        })
    }

    /// Opens `path` (non-blocking, close-on-exec; see [`ReadFd::open`]) and reads it with
    /// `decoder`.
    pub fn open(path: impl AsRef<Path>, decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::open(path)?, decoder)
    }

    /// Follows the growing file at `path`, as `tail -F` does (see [`ReadFd::follow`] and
    /// [`fdframe::follow`] for rotation, truncation and deletion): the stream waits in tokio's
    /// reactor for the file to grow and never ends by itself. Rotations, truncations and the
    /// like come as non-fatal [`Error::Follow`] notices between the messages.
    ///
    /// ```
    /// use std::io::Write;
    /// use fdframe::codec::LinesDecoder;
    /// use fdframe::follow::FollowOptions;
    /// use fdframe_tokio::FdStream;
    /// use tokio_stream::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = std::env::temp_dir().join(format!("fdframe-tokio-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("app.log");
    /// std::fs::write(&path, "")?;
    /// let mut lines = FdStream::follow(&path, LinesDecoder::new(), FollowOptions::new())?;
    ///
    /// std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b"appended\n")?;
    /// // Waits in the reactor until the line is there. A loop would go on for ever: a rotation,
    /// // truncation or deletion is an `Err(Error::Follow(notice))` to log, not an end.
    /// assert_eq!(lines.next().await.transpose()?.as_deref(), Some(&b"appended"[..]));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn follow(path: impl AsRef<Path>, decoder: D, options: FollowOptions) -> io::Result<Self> {
        Self::new(ReadFd::follow(path, options)?, decoder)
    }

    /// Where a followed file stands after the last message this stream handed out (see
    /// [`fdframe::follow::checkpoint`]); `None` when the descriptor is not followed. Commit it
    /// only once those messages are handled, and resume with
    /// [`FollowStart::Checkpoint`](fdframe::follow::FollowStart::Checkpoint).
    ///
    /// ```no_run
    /// # use fdframe::codec::LinesDecoder;
    /// # use fdframe::follow::FollowOptions;
    /// # use fdframe_tokio::FdStream;
    /// # use tokio_stream::StreamExt;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let mut lines = FdStream::follow("app.log", LinesDecoder::new(), FollowOptions::new())?;
    /// if let Some(Ok(line)) = lines.next().await {
    ///     println!("{}", String::from_utf8_lossy(&line)); // handled: now commit
    ///     if let Some(checkpoint) = lines.checkpoint() {
    ///         std::fs::write("app.log.checkpoint", checkpoint.encode())?;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        fdframe::follow::checkpoint(self.get_ref(), &self.framer)
    }

    /// Takes ownership of `fd` and reads it with `decoder`.
    ///
    /// The descriptor's flags are left alone, except that a pollable descriptor in blocking
    /// mode is switched to non-blocking until it is dropped or given back; every process
    /// sharing its open file description sees that meanwhile (see the
    /// [crate caveats](crate#caveats)).
    pub fn from_fd(fd: OwnedFd, decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::from_fd(fd)?, decoder)
    }

    /// Reads standard input with `decoder` (see [`ReadFd::stdin`]: a terminal is reopened, so
    /// setting `O_NONBLOCK` does not reach the interactive shell; other kinds are duplicated
    /// and their flags restored on drop).
    pub fn stdin(decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::stdin()?, decoder)
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        self.source.get_ref()
    }

    /// The engine (and through it the decoder and the bytes read but not yet decoded).
    pub fn framer(&self) -> &Framer<D> {
        &self.framer
    }

    /// The engine, mutably (to change the decoder's settings between messages).
    pub fn framer_mut(&mut self) -> &mut Framer<D> {
        &mut self.framer
    }

    /// Whether tokio's reactor watches the descriptor: `false` for regular files and other
    /// descriptors epoll refuses, which are read directly.
    pub fn is_registered(&self) -> bool {
        self.source.is_registered()
    }

    /// Deregisters the descriptor from the reactor and returns it with the engine (holding any
    /// bytes read but not yet decoded). Flags this crate changed stay changed until the
    /// [`ReadFd`] is dropped or turned into an [`OwnedFd`].
    pub fn into_inner(self) -> (ReadFd, Framer<D>) {
        (self.source.into_inner(), self.framer)
    }
}

impl<D: Decoder> FdStream<D> {
    /// The batch form of [`poll_next`](Stream::poll_next): the next batch of messages (one
    /// read's worth, see [`Framer::poll_batch_with`]), or the error, notice or end after it.
    /// [`batches`](FdStream::batches) makes a `Stream` of it.
    pub fn poll_next_batch(&mut self, cx: &mut Context<'_>) -> BatchStep<D::Item, D::Error> {
        self.poll_engine(cx, 1, Framer::poll_batch_buffered, |framer, reader| {
            framer.poll_batch_with(|buf| reader.read(|fd| fd.read_into(buf)))
        })
    }

    /// Returns the next message if one can be had **now**, without waiting and without a task
    /// context: what the engine holds, then reads of the descriptor until it would block. The
    /// same step as the blocking and mio backends' `poll_next_now`
    /// ([`fdframe::blocking::FdReader::poll_next_now`]).
    ///
    /// - `Ready(Some(_))`: a message, or an error or notice, as from [`poll_next`](Stream::poll_next).
    /// - `Pending`: nothing is ready now. When [`framer().is_yielding()`](Framer::is_yielding)
    ///   is true the engine paused after its per-call budget with input left: call again
    ///   without waiting. Otherwise the descriptor would block: await the stream (or call
    ///   `poll_next`) to wait for more.
    /// - `Ready(None)`: the stream has ended (and stays ended).
    ///
    /// The descriptor is read directly, not through the reactor's cached readiness, so this
    /// finds data the reactor has not reported yet (a "what is there now" pass, such as
    /// `dmesg` without `-w`, needs no turn of the runtime). Mixing it with awaiting the stream
    /// is fine: the engine reads until `WouldBlock` before it says "nothing now", so a later
    /// wait costs at most one extra read (the reactor's readiness may still be set) and never
    /// misses data. It spends none of tokio's cooperative budget, so a task that loops on it
    /// without awaiting must yield on its own.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::task::Poll;
    /// use fdframe::codec::LinesDecoder;
    /// use fdframe_tokio::FdStream;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    /// let (reader, mut writer) = std::io::pipe()?;
    /// // Registration needs the runtime's reactor; the reads below do not run it.
    /// let guard = runtime.enter();
    /// let mut lines = FdStream::from_fd(reader.into(), LinesDecoder::new())?;
    /// drop(guard);
    ///
    /// writer.write_all(b"ready\n")?;
    /// match lines.poll_next_now() {
    ///     Poll::Ready(Some(line)) => assert_eq!(line?, "ready"),
    ///     other => panic!("expected the line, got {other:?}"),
    /// }
    /// // Nothing more now: the caller would await the stream to wait.
    /// assert!(lines.poll_next_now().is_pending() && !lines.framer().is_yielding());
    ///
    /// drop(writer);
    /// assert!(matches!(lines.poll_next_now(), Poll::Ready(None))); // end of input
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn poll_next_now(&mut self) -> Step<D::Item, D::Error> {
        self.framer.poll_next_with(|buf| self.source.read_now(buf))
    }

    /// The batch form of [`poll_next_now`](FdStream::poll_next_now): the next batch of messages
    /// (one read's worth, see [`Framer::poll_batch_with`]), or the error, notice or end after
    /// it, if it can be had now; the same rules for `Pending` and the end.
    pub fn poll_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        self.framer.poll_batch_with(|buf| self.source.read_now(buf))
    }

    /// Turns this stream of messages into a [`BatchStream`] of batches of messages.
    pub fn batches(self) -> BatchStream<D> {
        BatchStream::new(self)
    }

    /// One step of the engine, by `buffered` (no read) or `read` (reading through the reactor):
    /// the same readiness handling for messages and for batches. `per_unit`: how many steps
    /// one unit of tokio's cooperative budget pays for (see [`Source::poll_buffered`]).
    #[inline]
    fn poll_engine<T>(
        &mut self,
        cx: &mut Context<'_>,
        per_unit: u32,
        buffered: impl FnOnce(&mut Framer<D>) -> Poll<Option<Result<T, Error<D::Error>>>>,
        mut read: impl FnMut(
            &mut Framer<D>,
            &mut Reader<'_>,
        ) -> Poll<Option<Result<T, Error<D::Error>>>>,
    ) -> Poll<Option<Result<T, Error<D::Error>>>> {
        let FdStream {
            source,
            framer,
            unbudgeted,
        } = self;
        if framer.is_done() {
            // Fused without touching the reactor, which may be gone by now.
            return Poll::Ready(None);
        }
        // Frames already buffered need no readiness check (one read often brings hundreds).
        if let Poll::Ready(step) =
            source.poll_buffered(cx, unbudgeted, per_unit, || buffered(framer))
        {
            return Poll::Ready(step);
        }
        // A `Pending` here is either a read that would block (the waker is stored with the
        // reactor) or the engine pausing after its per-call budget (`source` wakes the task).
        match source.poll_with(cx, |reader| read(framer, reader)) {
            Poll::Ready(Ok(step)) => Poll::Ready(step),
            // Waiting failed (the runtime is shutting down, say): that ends the stream.
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(framer.fail(e)))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<D: Decoder> Stream for FdStream<D> {
    type Item = Result<D::Item, Error<D::Error>>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_engine(
            cx,
            FRAMES_PER_BUDGET_UNIT,
            Framer::poll_buffered,
            |framer, reader| framer.poll_next_with(|buf| reader.read(|fd| fd.read_into(buf))),
        )
    }
}

impl<D: Decoder> FusedStream for FdStream<D> {
    fn is_terminated(&self) -> bool {
        self.framer.is_done()
    }
}

// Nothing is pinned structurally: the engine and the registration are moved freely.
impl<D: Decoder> Unpin for FdStream<D> {}

impl<D: Decoder> AsFd for FdStream<D> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<D: Decoder> AsRawFd for FdStream<D> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<D: Decoder + fmt::Debug> fmt::Debug for FdStream<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FdStream")
            .field("fd", self.get_ref())
            .field("registered", &self.is_registered())
            .field("framer", &self.framer)
            .finish()
    }
}
