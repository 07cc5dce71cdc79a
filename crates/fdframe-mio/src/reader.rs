//! [`FdReader`]: a descriptor, its framing engine, and its mio registration.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

use fdframe::follow::{Checkpoint, FollowOptions};
use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};
use fdframe::{BatchStep, Decoder, Framer, ReadFd, Step};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token, event};

use crate::{Drain, DrainBatches};

/// Reads decoded messages from a descriptor inside a hand-written [`mio`] event loop.
///
/// An `FdReader` is an [`event::Source`]: register it with a [`mio::Poll`], and whenever an
/// event arrives for its token, [`drain`](FdReader::drain) it. mio is edge-triggered, so an
/// event only says "something changed"; `drain` reads until the descriptor would block, which is
/// exactly what makes the next event come. Messages are decoded by the [`fdframe`] engine, with
/// the same results as `fdframe::blocking::FdReader`.
///
/// A drain also ends, before `WouldBlock`, when the engine pauses after its per-call budget
/// ([`Framer::MAX_READS_PER_CALL`](fdframe::Framer::MAX_READS_PER_CALL) reads without a
/// message: `/dev/zero`, a huge sparse file, an endless over-long line being skipped), so that
/// one source cannot hold your loop forever. [`is_drained`](FdReader::is_drained) is then
/// `false`: serve your other sources if you like, then drain this reader again **before
/// waiting** — the descriptor still has data, so no new edge-triggered event will come for it,
/// and waiting would hang.
///
/// The reader owns its descriptor. Dropping it deregisters it from the `Poll` it was registered
/// with (if any), restores `O_NONBLOCK` if the reader set it, and closes the descriptor;
/// [`into_inner`](FdReader::into_inner) deregisters and gives the descriptor back instead.
///
/// # Descriptors epoll refuses
///
/// epoll refuses regular files (and a few devices such as `/dev/null`) with `EPERM`: their reads
/// never wait, so there is nothing to wait for. The reader finds out when it is created (by
/// asking a throwaway epoll instance); [`needs_registration`](FdReader::needs_registration) then
/// returns `false`, and [`register`](event::Source::register) fails with
/// [`io::ErrorKind::Unsupported`] instead of handing the descriptor to epoll. Read such a reader
/// with [`drain`](FdReader::drain) until [`is_done`](FdReader::is_done): it never stops at
/// "would block", only at the engine's pauses, so a few `drain`s read to the end. A slow disk
/// read then happens inline, in your event loop.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use std::time::Duration;
/// use fdframe::codec::LinesDecoder;
/// use fdframe_mio::FdReader;
/// use mio::{Events, Interest, Poll, Token};
///
/// let (reader, mut writer) = std::io::pipe()?;
/// let mut lines = FdReader::from_fd(reader.into(), LinesDecoder::new())?;
///
/// let mut poll = Poll::new()?;
/// poll.registry().register(&mut lines, Token(0), Interest::READABLE)?;
/// writer.write_all(b"one\ntwo\n")?;
///
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(5)))?;
/// assert!(!events.is_empty(), "the pipe became readable");
/// let got: Vec<_> = lines.drain().collect::<Result<_, _>>()?;
/// assert_eq!(got, ["one", "two"]);
/// assert!(lines.is_drained()); // safe to wait for the next event
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FdReader<D: Decoder> {
    /// Declared before `fd`: fields drop in order, so the registration is removed while the
    /// descriptor is still open.
    registration: Registration,
    fd: ReadFd,
    framer: Framer<D>,
    /// Whether epoll accepts the descriptor (found out once, at creation).
    registrable: bool,
    /// The last step's last read would have blocked (see [`is_drained`](FdReader::is_drained)).
    would_block: bool,
}

impl<D: Decoder> FdReader<D> {
    /// Reads `fd` with `decoder`.
    ///
    /// If epoll accepts the descriptor and it is blocking, `O_NONBLOCK` is set (a blocking read
    /// would stall the whole event loop) and restored when the reader is dropped; see the
    /// caveat on [`from_fd`](FdReader::from_fd). Fails only if the flags cannot be changed.
    pub fn new(fd: ReadFd, decoder: D) -> io::Result<Self> {
        Self::with_framer(fd, Framer::new(decoder))
    }

    /// Reads `fd` with an engine configured by the caller (read sizes); otherwise as
    /// [`new`](FdReader::new).
    pub fn with_framer(mut fd: ReadFd, framer: Framer<D>) -> io::Result<Self> {
        let registrable = fd.kind().is_pollable() && epoll_accepts(fd.as_fd());
        if registrable {
            fd.set_nonblocking(true)?;
        }
        let registration = Registration {
            registry: None,
            fd: fd.as_raw_fd(),
        };
        Ok(FdReader {
            registration,
            fd,
            framer,
            registrable,
            would_block: false,
        })
    }

    /// Opens `path` (see [`ReadFd::open`]: a new open file description, non-blocking, shared
    /// with nobody) and reads it with `decoder`.
    pub fn open(path: impl AsRef<Path>, decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::open(path)?, decoder)
    }

    /// Follows the growing file at `path`, as `tail -F` does (see [`ReadFd::follow`] and
    /// [`fdframe::follow`] for rotation, truncation and deletion). The reader must be
    /// registered: its descriptor is the follow source's wait descriptor, which becomes readable
    /// when the file (or its directory) changes. Rotations, truncations and the like come as
    /// non-fatal [`Error::Follow`](fdframe::Error::Follow) notices between the messages.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::time::Duration;
    /// use fdframe::codec::LinesDecoder;
    /// use fdframe::follow::FollowOptions;
    /// use fdframe_mio::FdReader;
    /// use mio::{Events, Interest, Poll, Token};
    ///
    /// # let dir = std::env::temp_dir().join(format!("fdframe-mio-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("app.log");
    /// std::fs::write(&path, "")?;
    /// let mut lines = FdReader::follow(&path, LinesDecoder::new(), FollowOptions::new())?;
    /// let mut poll = Poll::new()?;
    /// poll.registry().register(&mut lines, Token(0), Interest::READABLE)?;
    ///
    /// std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b"appended\n")?;
    /// let mut events = Events::with_capacity(8);
    /// let mut got = Vec::new();
    /// // An event loop would go on for ever: a rotation, truncation or deletion is an
    /// // `Err(Error::Follow(notice))` to log, not an end.
    /// for _ in 0..10 {
    ///     for line in lines.drain() {
    ///         match line {
    ///             Ok(line) => got.push(line),
    ///             Err(notice) => eprintln!("{notice}"),
    ///         }
    ///     }
    ///     if !got.is_empty() {
    ///         break;
    ///     }
    ///     if lines.is_drained() {
    ///         poll.poll(&mut events, Some(Duration::from_secs(1)))?;
    ///     }
    /// }
    /// assert_eq!(got, ["appended"]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn follow(path: impl AsRef<Path>, decoder: D, options: FollowOptions) -> io::Result<Self> {
        Self::new(ReadFd::follow(path, options)?, decoder)
    }

    /// Where a followed file stands after the last message (or batch) this reader handed out
    /// (see [`fdframe::follow::checkpoint`]); `None` when the descriptor is not followed. Commit
    /// it only once those messages are handled, and resume with
    /// [`FollowStart::Checkpoint`](fdframe::follow::FollowStart::Checkpoint).
    ///
    /// ```no_run
    /// # use fdframe::codec::LinesDecoder;
    /// # use fdframe::follow::FollowOptions;
    /// # use fdframe_mio::FdReader;
    /// # let mut lines = FdReader::follow("app.log", LinesDecoder::new(), FollowOptions::new())?;
    /// for line in lines.drain() {
    ///     println!("{}", String::from_utf8_lossy(&line?));
    /// }
    /// // Everything drained is handled: commit.
    /// if let Some(checkpoint) = lines.checkpoint() {
    ///     std::fs::write("app.log.checkpoint", checkpoint.encode())?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        fdframe::follow::checkpoint(&self.fd, &self.framer)
    }

    /// Takes ownership of `fd` and reads it with `decoder`.
    ///
    /// # Caveats
    ///
    /// A blocking descriptor gets `O_NONBLOCK` until the reader is dropped. The flag belongs to
    /// the open file description, so every `dup` of it sees the change too, in this process and
    /// in others (an inherited terminal, a parent shell's pipe). Pass a descriptor of your own,
    /// or use [`open`](FdReader::open), which avoids sharing.
    pub fn from_fd(fd: OwnedFd, decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::from_fd(fd)?, decoder)
    }

    /// Reads standard input (see [`ReadFd::stdin`]: a terminal is reopened so that `O_NONBLOCK`
    /// does not reach the interactive shell; other kinds are duplicated, flags restored on drop). A regular file on stdin
    /// (`cmd < file`) is not registrable: [`drain`](FdReader::drain) it to the end.
    pub fn stdin(decoder: D) -> io::Result<Self> {
        Self::new(ReadFd::stdin()?, decoder)
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

    /// Deregisters the descriptor (if registered) and returns it with the engine, which holds
    /// any bytes read but not yet decoded.
    ///
    /// `O_NONBLOCK`, if the reader set it, stays set until the returned [`ReadFd`] is dropped or
    /// turned into an [`OwnedFd`].
    pub fn into_inner(self) -> (ReadFd, Framer<D>) {
        let FdReader {
            registration,
            fd,
            framer,
            ..
        } = self;
        drop(registration);
        (fd, framer)
    }

    /// Whether this reader must be registered with a [`mio::Poll`] to learn when it has data.
    ///
    /// `false` for descriptors epoll refuses (regular files, a few devices): their reads never
    /// would block, so [`drain`](FdReader::drain) reads them to the end without any event, and
    /// [`register`](event::Source::register) fails with [`io::ErrorKind::Unsupported`].
    pub fn needs_registration(&self) -> bool {
        self.registrable
    }

    /// Returns the next message if one can be had without waiting: `Pending` when the descriptor
    /// would block (wait for its next event) or when the engine paused after its per-call
    /// budget (then [`is_drained`](FdReader::is_drained) is `false`: call again without
    /// waiting), `Ready(None)` at the end of the stream (and on every call after it).
    #[inline]
    pub fn poll_next_now(&mut self) -> Step<D::Item, D::Error> {
        let FdReader {
            framer,
            fd,
            would_block,
            ..
        } = self;
        *would_block = false;
        // The step goes straight back to the caller, not through a local that is inspected
        // first: that would copy every frame through the stack (see `is_drained`).
        framer.poll_next_with(|buf| note_would_block(fd.read_into(buf), would_block))
    }

    /// The batch form of [`poll_next_now`](FdReader::poll_next_now): the next batch of messages
    /// (one read's worth, see [`Framer::poll_batch_with`]) if it can be had without waiting.
    pub fn poll_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        let FdReader {
            framer,
            fd,
            would_block,
            ..
        } = self;
        *would_block = false;
        framer.poll_batch_with(|buf| note_would_block(fd.read_into(buf), would_block))
    }

    /// An iterator over the messages available now: it reads until the descriptor would block
    /// (or the stream ends), never waiting. Call it for every event of this reader's token.
    ///
    /// It also ends when the engine pauses on input without messages (see the
    /// [type's notes](FdReader)), with [`is_drained`](FdReader::is_drained) `false`.
    ///
    /// Dropping the iterator early loses nothing (unread messages stay in the kernel or in the
    /// engine's buffer), but no new event will come for them: keep draining until
    /// [`is_drained`](FdReader::is_drained) before you wait again.
    pub fn drain(&mut self) -> Drain<'_, D> {
        Drain::new(self)
    }

    /// The batch form of [`drain`](FdReader::drain): the batches of messages available now,
    /// each one read's worth, with errors and notices between them; the same rules for when
    /// it ends and when to drain again.
    pub fn drain_batches(&mut self) -> DrainBatches<'_, D> {
        DrainBatches::new(self)
    }

    /// Whether the last step found nothing more to read: the descriptor would block, or the
    /// stream has ended. Only then is it safe to wait for this reader's next event.
    ///
    /// `false` before the first read, after each message (more may be ready), and after the
    /// engine paused on input without messages (more is certainly there).
    pub fn is_drained(&self) -> bool {
        // The engine returns `Pending` at once after a read that would block, and never after
        // one that did not, except at a pause: so the last step ended on a would-block read
        // exactly when its last read would have blocked.
        self.would_block || self.framer.is_done()
    }

    /// Whether the stream has ended (every later step is `Ready(None)`); the reader can be
    /// deregistered or dropped.
    pub fn is_done(&self) -> bool {
        self.framer.is_done()
    }

    fn ensure_registrable(&self) -> io::Result<()> {
        if self.registrable {
            return Ok(());
        }
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "fdframe-mio: epoll cannot watch this descriptor ({:?}): its reads never wait; \
                 read it with FdReader::drain() until FdReader::is_done() instead of registering it",
                self.fd.kind()
            ),
        ))
    }
}

impl FdReader<KmsgDecoder> {
    /// Opens `/dev/kmsg` at `start` (see [`kmsg::open`]) and reads its records.
    ///
    /// Needs root or `CAP_SYSLOG` where `kernel.dmesg_restrict=1`. Overwritten records show up as
    /// [`Error::Lost`](fdframe::Error::Lost) notices (the kernel also reports them as an error
    /// event on the token: drain as for any other event), and the stream goes on.
    ///
    /// ```no_run
    /// use fdframe::kmsg::KmsgStart;
    /// use fdframe_mio::FdReader;
    ///
    /// // Only records logged from now on, as `dmesg --follow-new`.
    /// let kmsg = FdReader::kmsg(KmsgStart::New)?;
    /// assert!(kmsg.needs_registration());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kmsg(start: KmsgStart) -> io::Result<Self> {
        Self::from_fd(kmsg::open(start)?, KmsgDecoder::new())
    }
}

impl<D: Decoder> event::Source for FdReader<D> {
    /// Registers the descriptor (edge-triggered, as always in mio) and keeps a clone of the
    /// registry, so that dropping the reader deregisters it.
    ///
    /// A reader is registered with one `Poll` at a time: registering it again first removes the
    /// old registration, so it can move to a new `Poll` (say, after the old one was dropped
    /// without deregistering it). Fails with [`io::ErrorKind::Unsupported`] when epoll cannot
    /// watch the descriptor; see [`FdReader::needs_registration`].
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.ensure_registrable()?;
        // Cloned before registering, so that a failed clone leaves nothing registered.
        let keep = registry.try_clone()?;
        self.registration.remove();
        SourceFd(&self.fd.as_raw_fd()).register(registry, token, interests)?;
        self.registration.registry = Some(keep);
        Ok(())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.ensure_registrable()?;
        SourceFd(&self.fd.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.ensure_registrable()?;
        SourceFd(&self.fd.as_raw_fd()).deregister(registry)?;
        self.registration.registry = None;
        Ok(())
    }
}

/// The registry an [`FdReader`] is registered with; deregisters the descriptor when dropped.
///
/// `fd` is the reader's own descriptor number, which stays open for as long as this value lives
/// (the reader drops its registration first).
#[derive(Debug)]
struct Registration {
    /// A clone of the `Poll`'s registry (one duplicate of its epoll descriptor), kept while the
    /// descriptor is registered.
    registry: Option<Registry>,
    fd: RawFd,
}

impl Registration {
    /// Deregisters the descriptor from the registry it was registered with, if any.
    fn remove(&mut self) {
        if let Some(registry) = self.registry.take() {
            // Nobody is left to report a failure to (the `Poll` may be gone, or the user may have
            // deregistered through another handle): either way the registration is gone.
            let _ = registry.deregister(&mut SourceFd(&self.fd));
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Whether epoll accepts `fd`, asked of a throwaway epoll instance. epoll refuses descriptors
/// whose file has no `poll` operation (regular files, `/dev/null`, ...) with `EPERM`.
///
/// Any other failure (no descriptors left for the epoll instance, ...) answers `true`: then
/// `register` tries for real and reports the error.
fn epoll_accepts(fd: BorrowedFd<'_>) -> bool {
    use rustix::event::epoll;

    let Ok(epoll_fd) = epoll::create(epoll::CreateFlags::CLOEXEC) else {
        return true;
    };
    let added = epoll::add(
        &epoll_fd,
        fd,
        epoll::EventData::new_u64(0),
        epoll::EventFlags::IN | epoll::EventFlags::ET,
    );
    added != Err(rustix::io::Errno::PERM)
}

/// Passes a read's result through, noting in `would_block` whether it would have blocked.
fn note_would_block(read: io::Result<()>, would_block: &mut bool) -> io::Result<()> {
    if let Err(e) = &read
        && e.kind() == io::ErrorKind::WouldBlock
    {
        *would_block = true;
    }
    read
}
