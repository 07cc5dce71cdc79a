//! [`Registration`]: a [`ReadFd`] together with its place in async-io's reactor, or the note that
//! it has none. The only code in this crate that knows async-io's readiness rules.
//!
//! Contract for callers: read until the descriptor returns `WouldBlock`, then call
//! [`poll_readable`](Registration::poll_readable); on `Ready(Ok(()))` read again (the readiness
//! may be stale, so another `WouldBlock` just leads back here), on `Pending` return `Pending`.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_io::Async;
use fdframe::ReadFd;

/// A descriptor and how its readiness is awaited.
#[derive(Debug)]
pub(crate) struct Registration {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// Registered with async-io's reactor.
    ///
    /// `Async` takes the handle by value and drops it when registering or deregistering fails,
    /// so it gets a second `Arc` of the descriptor and `fd` keeps the first: the descriptor is
    /// never lost, and [`Registration::into_inner`] cannot fail. Field order matters: the
    /// registration is dropped (deregistered) before the descriptor is closed.
    ///
    /// The registered descriptor cannot change under the reactor: behind an `Arc` it is only
    /// reachable as `&ReadFd`, whose methods neither close nor replace it.
    Reactor {
        registration: Async<Arc<ReadFd>>,
        fd: Arc<ReadFd>,
    },
    /// Not pollable (a regular file, or a file epoll refuses with `EPERM` such as `/dev/null`):
    /// reads are performed directly and never wait for readiness.
    Direct(ReadFd),
}

impl Registration {
    /// Registers `fd` with the reactor when it is pollable, making it non-blocking first (the
    /// previous flags come back when the `ReadFd` is dropped).
    pub(crate) fn new(mut fd: ReadFd) -> io::Result<Self> {
        if !fd.kind().is_pollable() {
            return Ok(Self::direct(fd));
        }
        fd.set_nonblocking(true)?;
        let fd = Arc::new(fd);
        match Async::new_nonblocking(Arc::clone(&fd)) {
            Ok(registration) => Ok(Registration {
                inner: Inner::Reactor { registration, fd },
            }),
            // epoll refuses files without a poll operation (`/dev/null`, some procfs and sysfs
            // files): `poll(2)` reports them always readable, so reading directly is what the
            // blocking backend does too.
            Err(e) if e.raw_os_error() == Some(EPERM) => Ok(Self::direct(unshare(fd))),
            Err(e) => Err(e),
        }
    }

    fn direct(fd: ReadFd) -> Self {
        Registration {
            inner: Inner::Direct(fd),
        }
    }

    /// The descriptor.
    pub(crate) fn get_ref(&self) -> &ReadFd {
        match &self.inner {
            Inner::Reactor { fd, .. } => fd,
            Inner::Direct(fd) => fd,
        }
    }

    /// Whether the reactor watches the descriptor.
    pub(crate) fn is_registered(&self) -> bool {
        matches!(self.inner, Inner::Reactor { .. })
    }

    /// One read of the descriptor, directly, without asking the reactor: the read behind the
    /// streams' `poll_next_now`, which needs neither a task context nor a turn of the reactor.
    ///
    /// Safe with the reactor because the engine reads until `WouldBlock` before it reports
    /// "nothing now", and the stream waits only through [`poll_readable`](Self::poll_readable)
    /// after such a `WouldBlock`:
    ///
    /// - A `WouldBlock` here while the reactor still holds an event for the descriptor only
    ///   costs one extra read later: `poll_readable` returns that stale `Ready`, the stream
    ///   reads, gets `WouldBlock`, and the next `poll_readable` re-arms and stores the waker.
    /// - Data read here never loses an edge: the wait starts only after a `WouldBlock`, and
    ///   arming checks the file's current state, so bytes that arrive after that read wake it.
    pub(crate) fn read_now(&self, buf: &mut fdframe::ReadSpace<'_>) -> io::Result<()> {
        self.get_ref().read_into(buf)
    }

    /// Deregisters and gives the descriptor back.
    pub(crate) fn into_inner(self) -> ReadFd {
        match self.inner {
            Inner::Reactor { registration, fd } => {
                // A failed deregistration means the reactor no longer knows the descriptor;
                // either way the reactor's handle is gone after this line, as in `Async`'s Drop.
                let _ = registration.into_inner();
                unshare(fd)
            }
            Inner::Direct(fd) => fd,
        }
    }

    /// Waits for the descriptor to become readable, after a read returned `WouldBlock`.
    ///
    /// async-io registers interest in a oneshot mode that is re-armed here, on every call that
    /// finds no new event; arming checks the current state of the file, so bytes that arrived
    /// between the caller's last `WouldBlock` and this call still wake the task. `Ready` means
    /// an event arrived since this task last got `Pending`; it may be one the caller has already
    /// consumed, so `Ready` only ever means "read again".
    ///
    /// A direct descriptor would only return `WouldBlock` if it was a non-blocking file with no
    /// poll support; there is nothing to wait on, so the task yields and reads again.
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.inner {
            Inner::Reactor { registration, .. } => registration.poll_readable(cx),
            Inner::Direct(_) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

/// Takes the descriptor out of its `Arc` once the reactor's handle is gone.
fn unshare(fd: Arc<ReadFd>) -> ReadFd {
    Arc::into_inner(fd).expect("the reactor's handle was dropped, so this is the only one left")
}

const EPERM: i32 = rustix::io::Errno::PERM.raw_os_error();
