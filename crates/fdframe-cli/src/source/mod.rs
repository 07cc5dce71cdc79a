//! One descriptor, decoded on the backend the user picked, behind one small trait: the printing
//! loops of `kmsg` and `read` are written once, over [`Source`], and [`drive`] is that loop's
//! skeleton (batches, waiting, stopping).
//!
//! Each backend waits for two descriptors: the one being read and the stop pipe
//! ([`Stop`]), so Ctrl-C and a closed stdout wake a follower at once on every backend.

#[cfg(feature = "backend-async-io")]
mod async_io;
mod backend;
mod blocking;
#[cfg(feature = "backend-mio")]
mod mio;
mod tokio;

use std::io;
use std::os::fd::AsFd;
use std::task::Poll;

use fdframe::follow::Checkpoint;
use fdframe::{Decoder, Error, Framer, ReadFd};
use rustix::event::{PollFd, PollFlags};

pub(crate) use backend::{Backend, backend_arg};

use crate::failure::{Failure, Finished};
use crate::stop::Stop;

/// What a stream yields: a message, or an error or notice about it. (Not `fdframe::Step`,
/// which is the `Poll` around one of these.)
pub(crate) type Item<D> = Result<<D as Decoder>::Item, Error<<D as Decoder>::Error>>;

/// What [`Source::next`] found.
pub(crate) enum Next<T> {
    /// A message, notice or error from the stream.
    Item(T),
    /// Nothing is ready without waiting (only when not asked to wait).
    Idle,
    /// The engine paused after its per-call budget on input that brings no message
    /// (`/dev/zero`, a huge sparse file, an endless over-long line being skipped): more is
    /// there, nothing is ready yet. Returned so that the caller's loop gets its turn; calling
    /// [`Source::next`] again (which first checks the stop flag) goes on without waiting.
    Yielded,
    /// The stream has ended.
    End,
    /// A stop was asked for (see [`Stop`]).
    Stopped,
}

/// A decoded descriptor on some backend, one item at a time.
pub(crate) trait Source<D: Decoder> {
    /// The next item. With `wait`, waits until there is one, the stream ends or a stop is asked
    /// for; without, returns [`Next::Idle`] when nothing is ready now. Either way, returns
    /// [`Next::Yielded`] when the engine paused (never waiting after a pause), and
    /// [`Next::Stopped`] first thing when a stop was asked for.
    fn next(&mut self, wait: bool) -> Next<Item<D>>;

    /// For a followed file ([`ReadFd::follow`]): the position right after the last item
    /// [`Source::next`] handed out (see [`fdframe::follow::checkpoint`]); `None` otherwise.
    fn checkpoint(&self) -> Option<Checkpoint>;
}

/// Builds a source reading `fd` with `decoder` on `backend`.
pub(crate) fn open<D>(
    backend: Backend,
    fd: ReadFd,
    decoder: D,
    stop: &Stop,
) -> io::Result<Box<dyn Source<D>>>
where
    D: Decoder + 'static,
{
    Ok(match backend {
        Backend::Tokio => Box::new(tokio::TokioSource::new(fd, decoder, stop)?),
        #[cfg(feature = "backend-async-io")]
        Backend::AsyncIo => Box::new(async_io::AsyncIoSource::new(fd, decoder, stop)?),
        #[cfg(feature = "backend-mio")]
        Backend::Mio => Box::new(mio::MioSource::new(fd, decoder, stop)?),
        Backend::Blocking => Box::new(blocking::BlockingSource::new(fd, decoder, stop)?),
        // The argument parser refuses these already (see `Backend`); kept for other callers.
        #[allow(unreachable_patterns)]
        missing => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                missing.not_built(),
            ));
        }
    })
}

/// What [`drive`] hands the printing code.
pub(crate) enum Event<T> {
    /// An item of the stream.
    Item(T),
    /// A batch ended: nothing more is ready now (or the stream ended, or a stop came, or the
    /// engine paused on a long stretch of input without items after some were handled). Flush
    /// the output and save any state here.
    BatchEnd,
}

/// Runs `source` to its end: every item goes to `handle`, and every batch is followed by an
/// [`Event::BatchEnd`]. With `follow`, waits for more after each batch until the stream ends or
/// a stop is asked for; without, returns after the first batch (what is there now).
///
/// An engine pause ([`Next::Yielded`]) neither ends a batch nor the run: the loop goes round
/// again, and the source checks the stop flag before reading on, so Ctrl-C is honoured even
/// while endless input (`/dev/zero`) brings no item. Items handled before the pause are
/// flushed first, so they do not wait in the buffer for the end of that input.
pub(crate) fn drive<D, F>(
    source: &mut dyn Source<D>,
    follow: bool,
    stop: &Stop,
    mut handle: F,
) -> Result<Finished, Failure>
where
    D: Decoder,
    F: FnMut(Event<Item<D>>) -> Result<(), Failure>,
{
    drive_with(source, follow, stop, |event, _| handle(event))
}

/// [`drive`], with the source lent to `handle` too, so that at an [`Event::BatchEnd`] it can
/// take the source's [`Source::checkpoint`] once the batch is written out.
pub(crate) fn drive_with<D, F>(
    source: &mut dyn Source<D>,
    follow: bool,
    stop: &Stop,
    mut handle: F,
) -> Result<Finished, Failure>
where
    D: Decoder,
    F: FnMut(Event<Item<D>>, &dyn Source<D>) -> Result<(), Failure>,
{
    let mut wait = false;
    // Items were handled since the last `BatchEnd`.
    let mut unflushed = false;
    loop {
        match source.next(wait) {
            Next::Item(item) => {
                handle(Event::Item(item), &*source)?;
                unflushed = true;
                wait = false;
                continue;
            }
            Next::Yielded => {
                if unflushed {
                    handle(Event::BatchEnd, &*source)?;
                    unflushed = false;
                }
                continue;
            }
            Next::Idle => {}
            Next::End => {
                handle(Event::BatchEnd, &*source)?;
                return Ok(Finished::Input);
            }
            Next::Stopped => {
                handle(Event::BatchEnd, &*source)?;
                return Ok(stop.reason().map_or(Finished::Input, Finished::Stopped));
            }
        }
        if !wait {
            handle(Event::BatchEnd, &*source)?;
            unflushed = false;
            if !follow {
                return Ok(Finished::Input);
            }
        }
        wait = true;
    }
}

/// [`Source::next`] without waiting, for the async backends: what their streams'
/// `poll_next_now` step (a direct read, no reactor turn) found.
fn next_now<D: Decoder>(
    step: fdframe::Step<D::Item, D::Error>,
    framer: &Framer<D>,
) -> Next<Item<D>> {
    match step {
        Poll::Ready(Some(item)) => Next::Item(item),
        Poll::Ready(None) => Next::End,
        // The engine paused with input left: the caller's loop checks the stop flag and
        // calls again.
        Poll::Pending if framer.is_yielding() => Next::Yielded,
        Poll::Pending => Next::Idle,
    }
}

/// Waits until `fd` or `stop` is readable (or a signal interrupts the wait).
fn wait_either(fd: impl AsFd, stop: impl AsFd) -> io::Result<()> {
    let (fd, stop) = (fd.as_fd(), stop.as_fd());
    let mut fds = [
        PollFd::new(&fd, PollFlags::IN | PollFlags::PRI),
        PollFd::new(&stop, PollFlags::IN),
    ];
    match rustix::event::poll(&mut fds, None) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
