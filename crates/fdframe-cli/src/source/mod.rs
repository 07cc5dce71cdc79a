//! One descriptor, decoded on the backend the user picked, behind one small trait: the printing
//! loops of `kmsg` and `read` are written once, over [`Source`], and [`drive`] is that loop's
//! skeleton (batches, waiting, stopping).
//!
//! Each backend waits for two descriptors: the one being read and the stop pipe
//! ([`Stop`]), so Ctrl-C and a closed stdout wake a follower at once on every backend.

mod async_std;
mod blocking;
mod mio;
mod tokio;

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use clap::ValueEnum;
use fdframe::follow::Checkpoint;
use fdframe::{Decoder, Error, ReadFd};
use rustix::event::{PollFd, PollFlags, Timespec};

use crate::failure::{Failure, Finished};
use crate::stop::Stop;

/// What a stream yields: a message, or an error or notice about it.
pub(crate) type Step<D> = Result<<D as Decoder>::Item, Error<<D as Decoder>::Error>>;

/// The backend that waits for the descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// fdframe-tokio's `FdStream` on a current-thread tokio runtime.
    #[default]
    Tokio,
    /// fdframe-async-std's `FdStream` on async-io (the reactor of async-std and smol).
    AsyncStd,
    /// fdframe-mio's `FdReader` in a mio event loop.
    Mio,
    /// fdframe's own blocking `FdReader`, waiting in poll(2).
    Blocking,
}

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
    fn next(&mut self, wait: bool) -> Next<Step<D>>;

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
        Backend::AsyncStd => Box::new(async_std::AsyncStdSource::new(fd, decoder, stop)?),
        Backend::Mio => Box::new(mio::MioSource::new(fd, decoder, stop)?),
        Backend::Blocking => Box::new(blocking::BlockingSource::new(fd, decoder, stop)?),
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
    F: FnMut(Event<Step<D>>) -> Result<(), Failure>,
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
    F: FnMut(Event<Step<D>>, &dyn Source<D>) -> Result<(), Failure>,
{
    let mut wait = false;
    // Items were handled since the last `BatchEnd`.
    let mut unflushed = false;
    loop {
        match source.next(wait) {
            Next::Item(step) => {
                handle(Event::Item(step), &*source)?;
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

/// Whether `fd` would give something to a read now (data, an error, a hang-up): a zero-timeout
/// poll(2). `PRI` because `/dev/kmsg` reports an overrun as `POLLPRI|POLLERR`.
fn readable_now(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(&fd, PollFlags::IN | PollFlags::PRI)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    rustix::event::poll(&mut fds, Some(&zero)).is_ok_and(|n| n > 0)
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

/// How many times an async backend lets its reactor run, in one no-wait step, when poll(2) says
/// the descriptor is readable but the stream is still pending: the reactor has not yet told the
/// stream. A bound so that a descriptor whose poll(2) and read(2) disagree cannot spin.
const REACTOR_TURNS: u32 = 64;
