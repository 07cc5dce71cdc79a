//! [`ReadFd`]: an owned, readable descriptor plus what fdframe must know about it.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use bytes::BytesMut;
use rustix::fs::{FileType, Mode, OFlags};

use crate::ReadSpace;
use crate::follow::source::FollowSource;
use crate::follow::{Checkpoint, FollowNotice, FollowOptions};
use crate::sys;

/// An owned descriptor to read messages from, with its [kind](FdKind) and the `O_NONBLOCK`
/// bookkeeping every backend needs.
///
/// Every backend takes a `ReadFd`; build one from a path, an [`OwnedFd`], or stdin. It owns its
/// descriptor and closes it on drop ([`into_owned_fd`](ReadFd::into_owned_fd) gives it back).
///
/// # Caveats: `O_NONBLOCK` is shared
///
/// `O_NONBLOCK` belongs to the *open file description*, which every `dup` of the descriptor
/// shares — across processes too. Setting it on an inherited stdin would make the parent
/// shell's next `read` fail with `EAGAIN`. So:
///
/// - [`open`](ReadFd::open) opens a new description of its own, with `O_NONBLOCK` set: nobody
///   else sees it.
/// - [`from_fd`](ReadFd::from_fd) leaves the flags alone.
/// - [`set_nonblocking`](ReadFd::set_nonblocking) (called by the async backends when needed)
///   remembers the flags it found and **restores them on drop**.
/// - [`stdin`](ReadFd::stdin) reopens a terminal stdin through `/proc/self/fd/0`, a new
///   description whose flags are private.
///
/// # Example
///
/// ```
/// use fdframe::{FdKind, ReadFd};
///
/// let fd = ReadFd::open("/proc/self/status")?;
/// assert_eq!(fd.kind(), FdKind::RegularFile);
/// assert!(!fd.kind().is_pollable());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ReadFd {
    /// `Some` for the whole life of the value; `None` only inside `into_owned_fd`, which moves
    /// the descriptor out of a type that implements `Drop`.
    fd: Option<OwnedFd>,
    kind: FdKind,
    /// The status flags found before [`ReadFd::set_nonblocking`] changed them.
    original_flags: Option<OFlags>,
    /// For [`FdKind::Followed`]: the followed files (`fd` is then the wait descriptor). A
    /// `Mutex` because reads take `&self`; only one reader ever locks it, so it costs an
    /// uncontended atomic per read.
    follow: Option<Box<Mutex<Followed>>>,
}

/// A followed file's reading state.
#[derive(Debug)]
struct Followed {
    source: FollowSource,
    /// Where a [plain read](ReadFd::read) of a followed file reads before copying out: the
    /// source reads into a [`ReadSpace`]. Empty between reads; at most [`FOLLOW_PLAIN_MAX`].
    scratch: BytesMut,
}

/// The most bytes one plain read of a followed file returns (the size of its scratch buffer).
const FOLLOW_PLAIN_MAX: usize = 64 * 1024;

/// The most signals (notices, segment ends) one plain read of a followed file passes over
/// before it reports `Interrupted` ("try again"), as the engine bounds its reads per call.
const FOLLOW_PLAIN_SIGNALS: usize = 32;

/// What kind of file a [`ReadFd`] reads, as far as reading it differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FdKind {
    /// A regular file: never "would block", not pollable (epoll refuses it with `EPERM`); read
    /// to end of file without a reactor.
    RegularFile,
    /// A terminal or pty: `EIO` after the other side closed is end of input.
    Terminal,
    /// A pipe or FIFO.
    Fifo,
    /// A socket.
    Socket,
    /// A character device that is not a terminal (`/dev/kmsg`, evdev, TUN, ...).
    CharDevice,
    /// Anything else (anonymous inodes such as inotify, signalfd, timerfd, eventfd).
    Other,
    /// A followed file ([`ReadFd::follow`]): reads come from the file (and the files it was
    /// rotated to); the descriptor is a wait descriptor (epoll) that becomes readable when
    /// the file or its directory changes. Pollable.
    Followed,
}

impl FdKind {
    /// Whether readiness can be awaited (epoll, poll): everything but regular files.
    pub fn is_pollable(self) -> bool {
        self != FdKind::RegularFile
    }

    fn of(fd: BorrowedFd<'_>) -> io::Result<FdKind> {
        let stat = rustix::fs::fstat(fd)?;
        Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => FdKind::RegularFile,
            FileType::Fifo => FdKind::Fifo,
            FileType::Socket => FdKind::Socket,
            FileType::CharacterDevice if rustix::termios::isatty(fd) => FdKind::Terminal,
            FileType::CharacterDevice => FdKind::CharDevice,
            _ => FdKind::Other,
        })
    }
}

impl ReadFd {
    /// Opens `path` for reading, non-blocking, close-on-exec, without becoming its controlling
    /// terminal. The open file description is new, so `O_NONBLOCK` affects nobody else.
    ///
    /// A directory is refused with an `EISDIR` error. A FIFO opens at once even without a
    /// writer; reading it waits for the first writer (see [`read_into`](ReadFd::read_into)) and
    /// ends when the last one closes. To read a FIFO across writer reconnects, open it
    /// read-write yourself and hand it to [`from_fd`](ReadFd::from_fd).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = rustix::fs::open(path.as_ref(), flags, Mode::empty())?;
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::ISDIR.raw_os_error(),
            ));
        }
        Self::from_fd(fd)
    }

    /// Takes ownership of `fd` as it is; its status flags (`O_NONBLOCK`) are left unchanged.
    pub fn from_fd(fd: OwnedFd) -> io::Result<Self> {
        let kind = FdKind::of(fd.as_fd())?;
        Ok(ReadFd {
            fd: Some(fd),
            kind,
            original_flags: None,
            follow: None,
        })
    }

    /// Follows the file at `path` like `tail -F`: reads it, and at its end waits (the
    /// descriptor is pollable) for it to grow, be rotated, truncated, removed or created. See
    /// [`follow`](crate::follow) for the semantics, and [`follow::checkpoint`](crate::follow::checkpoint)
    /// for restart-safe positions.
    ///
    /// Neither the file nor its directory need exist (they are waited for). A path that
    /// names something other than a regular file at the start is refused (`InvalidInput`).
    /// [`into_owned_fd`](ReadFd::into_owned_fd) gives back the wait descriptor and closes the
    /// followed files.
    pub fn follow(path: impl AsRef<Path>, options: FollowOptions) -> io::Result<ReadFd> {
        let (source, wait) = FollowSource::open(path.as_ref(), options)?;
        Ok(ReadFd {
            fd: Some(wait),
            kind: FdKind::Followed,
            original_flags: None,
            follow: Some(Box::new(Mutex::new(Followed {
                source,
                scratch: BytesMut::new(),
            }))),
        })
    }

    /// Runs `f` on the follow source (tests of its bounds).
    #[cfg(test)]
    pub(crate) fn with_follow_source<T>(&self, f: impl FnOnce(&FollowSource) -> T) -> Option<T> {
        let follow = self.follow.as_ref()?;
        Some(f(&follow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .source))
    }

    /// The followed files' position, with `buffered` bytes not yet handed out.
    pub(crate) fn follow_checkpoint(&self, buffered: usize) -> Option<Checkpoint> {
        let follow = self.follow.as_ref()?;
        let followed = follow.lock().unwrap_or_else(PoisonError::into_inner);
        Some(followed.source.checkpoint(buffered))
    }

    /// Duplicates a descriptor someone else owns (anything [`AsFd`]: a `File`, a `TcpStream`,
    /// a [`BorrowedFd`]) and reads the duplicate; the original stays yours to use and close.
    ///
    /// The duplicate shares the open file description: reads from either consume the same bytes,
    /// and see the [`O_NONBLOCK` caveat](ReadFd#caveats-o_nonblock-is-shared).
    ///
    /// ```
    /// use fdframe::{FdKind, ReadFd};
    ///
    /// let file = std::fs::File::open("/proc/self/status")?;
    /// let fd = ReadFd::dup(&file)?;
    /// assert_eq!(fd.kind(), FdKind::RegularFile);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dup(fd: impl AsFd) -> io::Result<Self> {
        Self::from_fd(rustix::io::fcntl_dupfd_cloexec(fd, 0)?)
    }

    /// Takes ownership of `fd` and sets `O_NONBLOCK` on it, restoring the previous flags on drop.
    ///
    /// # Caveats
    ///
    /// Until this `ReadFd` is dropped, every other holder of the same open file description
    /// (a `dup`, a parent process) sees `O_NONBLOCK` too. Prefer [`open`](ReadFd::open) or
    /// [`stdin`](ReadFd::stdin), which avoid sharing where they can.
    pub fn from_fd_nonblocking(fd: OwnedFd) -> io::Result<Self> {
        let mut this = Self::from_fd(fd)?;
        this.set_nonblocking(true)?;
        Ok(this)
    }

    /// A reader for this process's standard input.
    ///
    /// A terminal is reopened through `/proc/self/fd/0`, which gives a new open file
    /// description: setting `O_NONBLOCK` on it cannot break the interactive shell that shares
    /// the original. Anything else is duplicated: a regular file must go on at its current offset
    /// (`cmd < file` after a `read`), a socket cannot be reopened, and a reopened FIFO whose
    /// writer has already gone would wait for a new writer instead of ending. For a duplicate,
    /// [`from_fd_nonblocking`](ReadFd::from_fd_nonblocking)'s caveat applies when a backend sets
    /// `O_NONBLOCK` (the flags are restored on drop).
    pub fn stdin() -> io::Result<Self> {
        let stdin = rustix::stdio::stdin();
        if FdKind::of(stdin)? == FdKind::Terminal {
            if let Ok(fd) = Self::open("/proc/self/fd/0") {
                return Ok(fd);
            }
        }
        Self::from_fd(rustix::io::fcntl_dupfd_cloexec(stdin, 0)?)
    }

    /// What kind of file this is.
    pub fn kind(&self) -> FdKind {
        self.kind
    }

    /// Whether `O_NONBLOCK` is set on the open file description.
    pub fn is_nonblocking(&self) -> io::Result<bool> {
        Ok(rustix::fs::fcntl_getfl(self.fd())?.contains(OFlags::NONBLOCK))
    }

    /// Sets or clears `O_NONBLOCK`. The flags found the first time are restored on drop.
    ///
    /// # Caveats
    ///
    /// See [`from_fd_nonblocking`](ReadFd::from_fd_nonblocking): the flag is shared by every
    /// holder of the open file description.
    pub fn set_nonblocking(&mut self, nonblocking: bool) -> io::Result<()> {
        let original = self.set_nonblocking_inner(nonblocking)?;
        self.original_flags = self.original_flags.or(original);
        Ok(())
    }

    /// Returns the flags as they were if this call changed them.
    fn set_nonblocking_inner(&self, nonblocking: bool) -> io::Result<Option<OFlags>> {
        let flags = rustix::fs::fcntl_getfl(self.fd())?;
        if flags.contains(OFlags::NONBLOCK) == nonblocking {
            return Ok(None);
        }
        let mut wanted = flags;
        wanted.set(OFlags::NONBLOCK, nonblocking);
        rustix::fs::fcntl_setfl(self.fd(), wanted)?;
        Ok(Some(flags))
    }

    /// Performs one `read(2)` into the engine's `buf`, smoothing over two device quirks:
    ///
    /// - On a terminal, `EIO` (the other side of a pty has closed) is end of input: it fills
    ///   nothing and returns `Ok(())`.
    /// - On a FIFO that no writer has opened yet, the kernel returns 0 bytes, as at end of input;
    ///   that is reported as `WouldBlock` instead, so the stream waits for its first writer (as
    ///   `cat` does, which blocks in `open`). End of input comes once a writer has come and gone:
    ///   `poll(2)` then reports `POLLHUP`.
    ///
    /// `EINTR` is returned (as [`Interrupted`](io::ErrorKind::Interrupted)): the engine retries
    /// it within its per-call budget. [`read`](ReadFd::read) is the same read into a plain
    /// slice.
    ///
    /// On a [followed](ReadFd::follow) file it reads the file whose turn it is, signals
    /// rotations and truncations through the [`ReadSpace`], and returns `WouldBlock` when every
    /// file is at its end.
    #[inline]
    pub fn read_into(&self, buf: &mut ReadSpace<'_>) -> io::Result<()> {
        if let Some(follow) = &self.follow {
            // A panic inside the source cannot leave it half-updated in a way that matters
            // more than stopping would: go on with what it holds.
            return follow
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .source
                .read_into(buf);
        }
        let result = buf.read_from(self.fd());
        self.smooth(result).map(drop)
    }

    /// Performs one `read(2)` into `dst` and returns how many bytes it read, with the quirks
    /// of [`read_into`](ReadFd::read_into) smoothed the same way: 0 is end of input (a closed
    /// pty's `EIO` included), a FIFO without a writer yet is `WouldBlock`, and `EINTR` is
    /// returned as [`Interrupted`](io::ErrorKind::Interrupted) for the caller to retry. This is
    /// the read every backend's byte reader (`FdAsyncRead`, an `AsyncRead`) makes, and the one
    /// behind this type's [`io::Read`].
    ///
    /// # Record devices
    ///
    /// One read of at most `dst.len()` bytes: a record device (`/dev/kmsg`, inotify, ...)
    /// fails it with `EINVAL` when `dst` is smaller than its next record. Read those through
    /// the engine, whose decoders size every read.
    ///
    /// # Followed files
    ///
    /// On a [followed](ReadFd::follow) file it returns the bytes of the followed files in the
    /// order the engine would read them (a rotated file to its end, then the new one; a
    /// truncated file again from its start), and `WouldBlock` when every file is at its end.
    /// A byte stream has no place for the [notices](FollowNotice), so:
    ///
    /// - the notices that only say what happened to the files (`Truncated`, `Rotated`,
    ///   `Removed`, `Created`, `DirectoryRemoved`) are passed over: the bytes that follow them are the news;
    /// - a [`CheckpointMismatch`](FollowNotice::CheckpointMismatch) or
    ///   [`RotatedUnread`](FollowNotice::RotatedUnread), which say bytes may be lost or were
    ///   not read, is returned once as an error of kind [`Other`](io::ErrorKind::Other) whose
    ///   [`get_ref`](io::Error::get_ref) is the [`FollowNotice`]; the next read goes on.
    ///
    /// The end of a rotated file is not marked either: a partial last line of it runs into
    /// the next file's first bytes. Read through the engine (a backend's stream and a decoder)
    /// to get the notices and each file's last line as its own message. One read returns at
    /// most 64 KiB here: the followed file is read into a buffer of the `ReadFd`'s and copied
    /// out.
    pub fn read(&self, dst: &mut [u8]) -> io::Result<usize> {
        if let Some(follow) = &self.follow {
            return read_followed(
                &mut follow.lock().unwrap_or_else(PoisonError::into_inner),
                dst,
            );
        }
        let result = rustix::io::read(self.fd(), dst).map_err(io::Error::from);
        self.smooth(result)
    }

    /// The device quirks of one `read(2)`'s `result`; see [`read_into`](ReadFd::read_into).
    #[inline]
    fn smooth(&self, result: io::Result<usize>) -> io::Result<usize> {
        match result {
            Ok(0) if self.kind == FdKind::Fifo && !fifo_hung_up(self.fd())? => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            Ok(n) => Ok(n),
            Err(e) if self.kind == FdKind::Terminal && e.raw_os_error() == Some(EIO) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Gives the descriptor back, restoring flags this `ReadFd` changed.
    pub fn into_owned_fd(mut self) -> OwnedFd {
        self.restore_flags();
        self.fd
            .take()
            .expect("ReadFd holds its descriptor until consumed")
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.fd
            .as_ref()
            .expect("ReadFd holds its descriptor until consumed")
            .as_fd()
    }

    fn restore_flags(&mut self) {
        if let (Some(flags), Some(fd)) = (self.original_flags.take(), &self.fd) {
            // Best effort: the descriptor is still ours, so this can only fail if the kernel
            // refuses, and there is nobody left to tell.
            let _ = rustix::fs::fcntl_setfl(fd, flags);
        }
    }
}

const EIO: i32 = 5;

/// [`ReadFd::read`] of a followed file: the source reads into the scratch buffer, as into the
/// engine's, and the bytes are copied out; notices are passed over or returned as documented
/// there.
fn read_followed(followed: &mut Followed, dst: &mut [u8]) -> io::Result<usize> {
    if dst.is_empty() {
        return Ok(0);
    }
    let room = dst.len().min(FOLLOW_PLAIN_MAX);
    let Followed { source, scratch } = followed;
    for _ in 0..FOLLOW_PLAIN_SIGNALS {
        scratch.clear();
        let mut notice = None;
        let mut buf = ReadSpace::with_notice_slot(scratch, room, &mut notice);
        let result = source.read_into(&mut buf);
        let (filled, signalled) = (buf.filled(), buf.is_signalled());
        if filled > 0 {
            // As in the engine: bytes that arrived count even if the read then failed.
            dst[..filled].copy_from_slice(&scratch[..filled]);
            scratch.clear();
            return Ok(filled);
        }
        result?;
        match notice {
            Some(
                notice @ (FollowNotice::CheckpointMismatch { .. }
                | FollowNotice::RotatedUnread { .. }),
            ) => {
                return Err(io::Error::other(notice));
            }
            Some(
                FollowNotice::Truncated { .. }
                | FollowNotice::Rotated { .. }
                | FollowNotice::Removed { .. }
                | FollowNotice::Created { .. }
                | FollowNotice::DirectoryRemoved { .. },
            ) => {}
            // A segment end alone: the next file's bytes follow.
            None if signalled => {}
            None => return Ok(0),
        }
    }
    // A storm of signals: the caller's "try again", as after `EINTR`, so one call does bounded
    // work.
    Err(io::ErrorKind::Interrupted.into())
}

/// Whether a FIFO's writers have come and gone. Linux reports `POLLHUP` on a FIFO's read end
/// only after a writer has opened it, so a 0-byte read without it means "no writer yet".
fn fifo_hung_up(fd: BorrowedFd<'_>) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    rustix::event::poll(&mut fds, Some(&now))?;
    Ok(fds[0].revents().contains(PollFlags::HUP))
}

impl Drop for ReadFd {
    fn drop(&mut self) {
        self.restore_flags();
    }
}

impl fmt::Debug for ReadFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadFd")
            .field("fd", &self.fd().as_raw_fd())
            .field("kind", &self.kind)
            .finish()
    }
}

/// One [`ReadFd::read`]: `WouldBlock` on a non-blocking descriptor with nothing to read.
impl io::Read for ReadFd {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        ReadFd::read(self, dst)
    }
}

/// One [`ReadFd::read`] through a shared reference, as [`std::fs::File`] allows.
impl io::Read for &ReadFd {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        ReadFd::read(self, dst)
    }
}

impl AsFd for ReadFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}

impl AsRawFd for ReadFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd().as_raw_fd()
    }
}

/// The I/O side of [`ReadSpace`]: the engine offers the room, this module makes the system call.
impl ReadSpace<'_> {
    /// Performs one `read(2)` from `fd` into the free space and returns how many bytes it added
    /// (0 at end of input). Errors, including `WouldBlock` and `EINTR`, are returned unchanged,
    /// and no device quirk is smoothed: [`ReadFd::read_into`] is the read backends make.
    #[inline]
    pub fn read_from(&mut self, fd: impl AsFd) -> io::Result<usize> {
        let (buf, room) = self.spare();
        sys::read_into_spare(fd.as_fd(), buf, room)
    }
}

impl TryFrom<OwnedFd> for ReadFd {
    type Error = io::Error;

    /// Same as [`ReadFd::from_fd`].
    fn try_from(fd: OwnedFd) -> io::Result<Self> {
        ReadFd::from_fd(fd)
    }
}

impl From<ReadFd> for OwnedFd {
    fn from(fd: ReadFd) -> OwnedFd {
        fd.into_owned_fd()
    }
}
