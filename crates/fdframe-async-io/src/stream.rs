//! [`FdStream`]: a `Stream` of decoded messages from a descriptor, on async-io's reactor.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use fdframe::follow::{Checkpoint, FollowOptions};
use fdframe::{BatchStep, Decoder, Error, Framer, ReadFd, Step};
use futures_core::Stream;
use futures_core::stream::FusedStream;

use crate::BatchStream;
use crate::registration::Registration;

/// A [`Stream`] of messages decoded from a descriptor, waiting for readiness in async-io's
/// reactor (the one under async-std and smol).
///
/// It behaves exactly like the blocking [`fdframe::blocking::FdReader`]; only the waiting differs.
/// Each item is a message or an [`Error`]; see [`fdframe::Error`] for which errors end the
/// stream. After the end it keeps returning `None` ([`FusedStream`]).
///
/// - **Cancel safe**: every byte read lives in the [`Framer`], so dropping a pending `next()`
///   (a timeout, a `select`) loses nothing; the next call goes on where it stopped.
/// - **Regular files** are never registered (epoll refuses them); they are read directly, to end
///   of file. A slow disk read therefore happens inline, inside `poll_next`. Files that epoll
///   refuses for lack of a poll operation (`/dev/null`) are read the same way.
/// - **Endless input** does not hold the executor thread: one `poll_next` does bounded work
///   (see [`Framer::MAX_READS_PER_CALL`]). On input that brings no message for a long time
///   (`/dev/zero`, a huge sparse file, an endless over-long line being skipped) it wakes its own
///   task and returns `Pending`, so other tasks run, and goes on at its next poll;
///   `framer().is_yielding()` tells such a pause from a wait. Dropping the stream ends it.
/// - **pty masters** end cleanly (`None`) when the other side closes, instead of failing with
///   `EIO`.
/// - Dropping the stream deregisters the descriptor, restores its flags, then closes it;
///   [`into_inner`](FdStream::into_inner) gives it back instead.
///
/// # Caveats: `O_NONBLOCK`
///
/// A pollable descriptor must be non-blocking. When it is not (a descriptor given to
/// [`from_fd`](FdStream::from_fd) or [`new`](FdStream::new)), the constructor sets `O_NONBLOCK`
/// and the flags are restored when the descriptor is dropped or given back. `O_NONBLOCK` belongs
/// to the open file description, so until then every `dup` of it, in any process, sees the flag
/// too; see [`ReadFd`]'s caveats. [`open`](FdStream::open) avoids that by opening a description
/// of its own, and [`stdin`](FdStream::stdin) does for a terminal.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe::codec::LinesDecoder;
/// use fdframe_async_io::FdStream;
/// use futures_lite::StreamExt;
///
/// # smol::block_on(async {
/// let (reader, mut writer) = std::io::pipe()?;
/// writer.write_all(b"first\nsecond\n")?;
/// drop(writer); // end of input
///
/// let mut lines = FdStream::from_fd(reader.into(), LinesDecoder::new())?;
/// assert_eq!(lines.next().await.transpose()?.as_deref(), Some(&b"first"[..]));
/// assert_eq!(lines.next().await.transpose()?.as_deref(), Some(&b"second"[..]));
/// assert!(lines.next().await.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct FdStream<D: Decoder> {
    registration: Registration,
    framer: Framer<D>,
}

impl<D: Decoder> FdStream<D> {
    /// Reads `fd` with `decoder`, registering it with the reactor (see the `O_NONBLOCK` caveat).
    pub fn new(fd: ReadFd, decoder: D) -> io::Result<Self> {
        Self::with_framer(fd, Framer::new(decoder))
    }

    /// Reads `fd` with an engine configured by the caller (read sizes).
    pub fn with_framer(fd: ReadFd, framer: Framer<D>) -> io::Result<Self> {
        Ok(FdStream {
            registration: Registration::new(fd)?,
            framer,
        })
    }

    /// Opens `path` (see [`ReadFd::open`]) and reads it with `decoder`.
    pub fn open(path: impl AsRef<Path>, decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::open(path)?, decoder)
    }

    /// Follows the growing file at `path`, as `tail -F` does (see [`ReadFd::follow`] and
    /// [`fdframe::follow`] for rotation, truncation and deletion): the stream waits in
    /// async-io's reactor for the file to grow and never ends by itself. Rotations, truncations
    /// and the like come as non-fatal [`Error::Follow`] notices between the messages.
    ///
    /// ```
    /// use std::io::Write;
    /// use fdframe::codec::LinesDecoder;
    /// use fdframe::follow::FollowOptions;
    /// use fdframe_async_io::FdStream;
    /// use futures_lite::StreamExt;
    ///
    /// # smol::block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("fdframe-async-io-doc-{}", std::process::id()));
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
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
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
    /// # use fdframe_async_io::FdStream;
    /// # use futures_lite::StreamExt;
    /// # smol::block_on(async {
    /// # let mut lines = FdStream::follow("app.log", LinesDecoder::new(), FollowOptions::new())?;
    /// if let Some(Ok(line)) = lines.next().await {
    ///     println!("{}", String::from_utf8_lossy(&line)); // handled: now commit
    ///     if let Some(checkpoint) = lines.checkpoint() {
    ///         std::fs::write("app.log.checkpoint", checkpoint.encode())?;
    ///     }
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        fdframe::follow::checkpoint(self.get_ref(), &self.framer)
    }

    /// Takes ownership of `fd` (see [`ReadFd::from_fd`]); a blocking pollable descriptor is made
    /// non-blocking until it is dropped (see the `O_NONBLOCK` caveat).
    pub fn from_fd(fd: OwnedFd, decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::from_fd(fd)?, decoder)
    }

    /// Reads standard input (see [`ReadFd::stdin`]).
    pub fn stdin(decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::stdin()?, decoder)
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        self.registration.get_ref()
    }

    /// The engine (and through it the decoder and the buffered bytes).
    pub fn framer(&self) -> &Framer<D> {
        &self.framer
    }

    /// The engine, mutably.
    pub fn framer_mut(&mut self) -> &mut Framer<D> {
        &mut self.framer
    }

    /// Whether async-io's reactor watches the descriptor: `false` for regular files and other
    /// descriptors epoll refuses, which are read directly.
    pub fn is_registered(&self) -> bool {
        self.registration.is_registered()
    }

    /// Deregisters the descriptor and returns it with the engine (and any bytes read but not yet
    /// decoded). Flags this crate changed are restored when the `ReadFd` is dropped or turned
    /// into an `OwnedFd`.
    pub fn into_inner(self) -> (ReadFd, Framer<D>) {
        (self.registration.into_inner(), self.framer)
    }
}

// Nothing is pinned structurally: the engine and the registration are moved freely.
impl<D: Decoder> Unpin for FdStream<D> {}

impl<D: Decoder> FdStream<D> {
    /// The batch form of [`poll_next`](Stream::poll_next): the next batch of messages (one
    /// read's worth, see [`Framer::poll_batch_with`]), or the error, notice or end after it.
    /// [`batches`](FdStream::batches) makes a `Stream` of it.
    pub fn poll_next_batch(&mut self, cx: &mut Context<'_>) -> BatchStep<D::Item, D::Error> {
        self.poll_engine(cx, |framer, fd| {
            framer.poll_batch_with(|buf| fd.read_into(buf))
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
    /// The descriptor is read directly, not through the reactor, so this finds data the
    /// reactor has not reported yet (a "what is there now" pass, such as `dmesg` without `-w`,
    /// needs no turn of the executor). Mixing it with awaiting the stream is fine: the engine
    /// reads until `WouldBlock` before it says "nothing now", so a later wait costs at most one
    /// extra read (on an event already consumed here) and never misses data.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::task::Poll;
    /// use fdframe::codec::LinesDecoder;
    /// use fdframe_async_io::FdStream;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (reader, mut writer) = std::io::pipe()?;
    /// let mut lines = FdStream::from_fd(reader.into(), LinesDecoder::new())?;
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
        self.framer
            .poll_next_with(|buf| self.registration.read_now(buf))
    }

    /// The batch form of [`poll_next_now`](FdStream::poll_next_now): the next batch of messages
    /// (one read's worth, see [`Framer::poll_batch_with`]), or the error, notice or end after
    /// it, if it can be had now; the same rules for `Pending` and the end.
    pub fn poll_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        self.framer
            .poll_batch_with(|buf| self.registration.read_now(buf))
    }

    /// Turns this stream of messages into a [`BatchStream`] of batches of messages.
    pub fn batches(self) -> BatchStream<D> {
        BatchStream::new(self)
    }

    /// One step of the engine by `step` (which reads from the descriptor), waiting on the
    /// reactor in between: the same readiness handling for messages and for batches.
    #[inline]
    fn poll_engine<T>(
        &mut self,
        cx: &mut Context<'_>,
        mut step: impl FnMut(&mut Framer<D>, &ReadFd) -> Poll<Option<Result<T, Error<D::Error>>>>,
    ) -> Poll<Option<Result<T, Error<D::Error>>>> {
        loop {
            // The engine reads until `WouldBlock` before it returns `Pending`, so the wait
            // below never starts while bytes sit in the kernel.
            if let Poll::Ready(step) = step(&mut self.framer, self.registration.get_ref()) {
                return Poll::Ready(step);
            }
            if self.framer.is_yielding() {
                // The engine paused with data left: no readiness event is needed (or may come)
                // for it, so the task asks to be polled again and lets the others run first.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // `Ready` may report an event that the reads above already consumed: reading again
            // then returns `WouldBlock` and re-arms the registration on the next turn.
            if let Err(e) = ready!(self.registration.poll_readable(cx)) {
                return Poll::Ready(Some(Err(self.framer.fail(e))));
            }
        }
    }
}

impl<D: Decoder> Stream for FdStream<D> {
    type Item = Result<D::Item, Error<D::Error>>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_engine(cx, |framer, fd| {
            framer.poll_next_with(|buf| fd.read_into(buf))
        })
    }
}

impl<D: Decoder> FusedStream for FdStream<D> {
    fn is_terminated(&self) -> bool {
        self.framer.is_done()
    }
}

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
