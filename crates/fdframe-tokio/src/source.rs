//! [`Source`]: how a [`ReadFd`] is waited on under tokio, and the one `unsafe` block of the crate.
//!
//! Readiness rules this module's users follow (from `tokio::io::unix::AsyncFd`'s contract):
//!
//! - tokio caches readiness per registration. A guard from `poll_read_ready` says "reading may
//!   make progress"; `AsyncFdReadyGuard::try_io` clears that cache **only** when the read really
//!   returned `WouldBlock`. Clearing it after a successful read would lose the edge and hang.
//! - After clearing, `poll_read_ready` must be polled again before returning `Pending`: that call
//!   either finds a newer readiness event (read again) or stores the waker.
//! - A read outside a guard ([`Source::read_now`], for `FdStream::poll_next_now`) leaves the
//!   cache alone, whatever it returns: see there why that is safe.

use std::io;
use std::task::{Context, Poll};

use fdframe::ReadFd;
use tokio::io::Interest;
use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use tokio::task::coop;

/// A descriptor as a tokio reader holds it: registered with the reactor, or read directly when
/// the reactor cannot watch it.
#[derive(Debug)]
pub(crate) enum Source {
    /// Registered with tokio's reactor for read readiness.
    Reactor(AsyncFd<ReadFd>),
    /// Not pollable (a regular file, or a device epoll refuses with `EPERM`): every read
    /// completes at once, so it is read without waiting for readiness.
    Direct(ReadFd),
}

const EPERM: i32 = 1;

/// How many frames [`Source::poll_buffered`] hands out per unit of tokio's cooperative budget.
///
/// Asking tokio's budget costs a thread-local access and a guard per call, as much as the rest
/// of handing out a short frame; once per 32 frames it is noise. Fairness stays bounded: a
/// task's budget of 128 units lets it take at most 4096 buffered frames before it yields (a
/// read spends a unit of its own, in the reactor, as before).
pub(crate) const FRAMES_PER_BUDGET_UNIT: u32 = 32;

impl Source {
    /// Registers `fd` with the current runtime's reactor, making it non-blocking first if
    /// needed (see [`ReadFd::set_nonblocking`]: the old flags come back on drop). Descriptors
    /// the reactor cannot watch are kept for direct reads.
    ///
    /// Fails if no tokio runtime is running; panics (in tokio) if the runtime has no I/O driver.
    pub(crate) fn new(mut fd: ReadFd) -> io::Result<Source> {
        if !fd.kind().is_pollable() {
            return Ok(Source::Direct(fd));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "fdframe-tokio: a reader must be created inside a tokio runtime (its reactor watches the descriptor)",
            ));
        }
        // An edge-triggered reactor needs reads that return `WouldBlock` instead of waiting.
        // (A no-op when the flag is already set; otherwise undone when `fd` is dropped.)
        fd.set_nonblocking(true)?;
        #[allow(unsafe_code)]
        // SAFETY: `register_with_interest` requires that `as_raw_fd()` return the same open
        // descriptor, referring to the same open file description, for as long as the `AsyncFd`
        // owns the value. `ReadFd` owns its descriptor (an `OwnedFd`) and closes it only when
        // it is dropped or given back by `into_owned_fd`, both of which need ownership, which
        // the `AsyncFd` holds until `into_inner` has deregistered. `ReadFd` has no method that
        // swaps or closes its descriptor through `&mut self`, so `as_raw_fd` always returns the
        // number it had at registration; and this crate never calls `AsyncFd::get_mut` or
        // hands out `&mut ReadFd` while it is registered.
        let registered = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) };
        match registered {
            Ok(registered) => Ok(Source::Reactor(registered)),
            Err(e) => {
                let (fd, cause) = e.into_parts();
                if cause.raw_os_error() == Some(EPERM) {
                    // epoll refuses descriptors without poll support (`/dev/null`, some
                    // character devices): their reads never wait, so read them directly.
                    Ok(Source::Direct(fd))
                } else {
                    Err(cause)
                }
            }
        }
    }

    /// The descriptor.
    pub(crate) fn get_ref(&self) -> &ReadFd {
        match self {
            Source::Reactor(registered) => registered.get_ref(),
            Source::Direct(fd) => fd,
        }
    }

    /// Deregisters (if registered) and returns the descriptor.
    pub(crate) fn into_inner(self) -> ReadFd {
        match self {
            Source::Reactor(registered) => registered.into_inner(),
            Source::Direct(fd) => fd,
        }
    }

    /// Whether the reactor watches this descriptor.
    pub(crate) fn is_registered(&self) -> bool {
        matches!(self, Source::Reactor(_))
    }

    /// One read of the descriptor, directly, without asking the reactor for readiness and
    /// without touching its cached readiness: the read behind the streams' `poll_next_now`,
    /// which needs neither a task context nor a turn of the reactor.
    ///
    /// Safe with tokio's edge-triggered reactor because the engine reads until `WouldBlock`
    /// before it reports "nothing now", and readiness is only ever cleared by a guard's
    /// `WouldBlock` (see the module notes):
    ///
    /// - A `WouldBlock` here, with the cached readiness still set, only costs one extra read
    ///   later: the next `poll_read_ready` returns the stale readiness at once, that read
    ///   returns `WouldBlock` through the guard, which clears it, and the poll after it stores
    ///   the waker.
    /// - Data read here never loses an edge: nothing clears readiness on a successful read, and
    ///   the stream waits (stores its waker) only after a `WouldBlock` seen through a guard, so
    ///   every byte that arrives after that read brings a new edge.
    pub(crate) fn read_now(&self, buf: &mut fdframe::ReadSpace<'_>) -> io::Result<()> {
        self.get_ref().read_into(buf)
    }

    /// Hands out what the engine holds, without reading: `step` (a frame or a batch from the
    /// engine's buffer) is called unless the cooperative budget is spent.
    ///
    /// tokio's budget is charged one unit per `per_unit` steps handed out, so a task draining a
    /// full buffer still yields to its neighbours: `unbudgeted` (kept by the stream) counts the
    /// ready steps since a unit was last spent, and once it reaches `per_unit` the next call
    /// spends a unit **before** calling `step` (whether or not anything is buffered). Frames
    /// pass [`FRAMES_PER_BUDGET_UNIT`]; a batch, a read's worth of frames, passes 1.
    ///
    /// `Ready`: `step`'s result. `Pending`: nothing is buffered (the caller reads next, through
    /// [`poll_with`](Source::poll_with)), or the budget is spent, in which case tokio has
    /// already arranged for the task to be woken and `poll_with`'s own budget check returns
    /// `Pending` too.
    #[inline]
    pub(crate) fn poll_buffered<T>(
        &self,
        cx: &mut Context<'_>,
        unbudgeted: &mut u32,
        per_unit: u32,
        step: impl FnOnce() -> Poll<T>,
    ) -> Poll<T> {
        if *unbudgeted >= per_unit {
            // Spent up front, before knowing whether a frame is buffered: at worst one unit
            // per 32 frames too many, and the frame's value is not kept across the budget
            // guard (which would copy it through the stack, per frame).
            std::task::ready!(coop::poll_proceed(cx)).made_progress();
            *unbudgeted = 0;
        }
        let step = step();
        if step.is_ready() {
            *unbudgeted += 1;
        }
        step
    }

    /// One round of reading by `step`, with the readiness glue around it: `Ready(Ok(_))` with
    /// `step`'s result, `Ready(Err(_))` when waiting for readiness failed (the runtime is
    /// shutting down), `Pending` when there is nothing to read now (the waker is stored with
    /// the reactor) or when the task yields (it has woken itself; see below).
    ///
    /// `step` reads through the [`Reader`] it is given, as often as it likes, and returns
    /// `Pending` after a read returned `WouldBlock`, or without one when it pauses after its
    /// per-call budget ([`fdframe::Framer::is_yielding`]: the descriptor still has data).
    ///
    /// - Registered: each round takes a readiness guard. A read that would block clears the
    ///   guard's readiness (and nothing else does), and the next round's `poll_read_ready` either
    ///   finds newer readiness (`step` runs again) or stores `cx`'s waker and returns `Pending`.
    /// - Direct: reads never wait. One unit of tokio's cooperative budget is spent per ready
    ///   step (none when `step` is pending), so a huge regular file does not starve other tasks
    ///   on the same thread.
    ///
    /// A `Pending` from `step` without a `WouldBlock` read (the engine's pause) and a
    /// `WouldBlock` from a direct read (not expected from non-pollable files) both yield to the
    /// scheduler: the task wakes itself and returns `Pending`, so the runtime and the task's
    /// neighbours get their turn, and it reads again on its next poll. Readiness is left as it
    /// is (no `WouldBlock` was seen, so it must not be cleared: no new edge would come).
    pub(crate) fn poll_with<T>(
        &self,
        cx: &mut Context<'_>,
        mut step: impl FnMut(&mut Reader<'_>) -> Poll<T>,
    ) -> Poll<io::Result<T>> {
        match self {
            Source::Direct(fd) => {
                let budget = std::task::ready!(coop::poll_proceed(cx));
                let mut reader = Reader {
                    access: Access::Direct(fd),
                    would_block: false,
                };
                match step(&mut reader) {
                    Poll::Ready(out) => {
                        budget.made_progress();
                        Poll::Ready(Ok(out))
                    }
                    Poll::Pending => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                }
            }
            Source::Reactor(registered) => loop {
                let guard = match registered.poll_read_ready(cx) {
                    Poll::Ready(Ok(guard)) => guard,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                };
                let mut reader = Reader {
                    access: Access::Guard(guard),
                    would_block: false,
                };
                match step(&mut reader) {
                    Poll::Ready(out) => return Poll::Ready(Ok(out)),
                    // Readiness was cleared by that `WouldBlock`: poll it again, which either
                    // reads on (a newer event arrived) or registers the waker.
                    Poll::Pending if reader.would_block => continue,
                    // The engine paused with data left: yield without waiting (the guard is
                    // dropped with its readiness intact).
                    Poll::Pending => {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
            },
        }
    }
}

/// Read access to a [`Source`]'s descriptor for one round of [`Source::poll_with`].
pub(crate) struct Reader<'a> {
    access: Access<'a>,
    would_block: bool,
}

enum Access<'a> {
    Guard(AsyncFdReadyGuard<'a, ReadFd>),
    Direct(&'a ReadFd),
}

impl Reader<'_> {
    /// Performs one read with `op`. A `WouldBlock` result clears the reactor's cached readiness
    /// (only a real `WouldBlock` may do that) and is returned as a `WouldBlock` error.
    pub(crate) fn read<R>(&mut self, op: impl FnOnce(&ReadFd) -> io::Result<R>) -> io::Result<R> {
        let result = match &mut self.access {
            Access::Guard(guard) => match guard.try_io(|registered| op(registered.get_ref())) {
                Ok(result) => result,
                // `try_io` has cleared the readiness.
                Err(_would_block) => Err(io::ErrorKind::WouldBlock.into()),
            },
            Access::Direct(fd) => op(fd),
        };
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.would_block = true;
        }
        result
    }
}
