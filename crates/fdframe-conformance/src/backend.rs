//! [`Backend`]: what a backend's test glue provides to the suite.

use std::io;
use std::time::Duration;

use fdframe::follow::Checkpoint;
use fdframe::{Decoder, Framer, ReadFd, Step};

/// A backend under test: how to turn a descriptor and an engine into a [`Reader`].
///
/// Readers are created and used on one thread; glue for an async runtime keeps one runtime per
/// thread, so every reader a case creates shares it (the "1,000 descriptors on one runtime"
/// case relies on that).
pub trait Backend: 'static {
    /// The backend's label in test names and the matrix: `blocking`, `tokio`, `async-std`,
    /// `smol`, `mio`.
    const NAME: &'static str;

    /// The backend's reader, wrapped to answer [`Reader::next_within`].
    type Reader<D: Decoder + 'static>: Reader<D>;

    /// Opens a reader over `fd` driven by `framer` (the backend's `with_framer` constructor).
    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>>;

    /// Opens the backend's raw byte reader over `fd`: its `AsyncRead` (`FdAsyncRead`) on the async
    /// backends. The default, for backends without one (blocking, mio), is the read they offer
    /// instead: the core's [`ReadFd::read`], waiting in `poll(2)` while it would block.
    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn ByteReader>> {
        Ok(Box::new(crate::cases::async_read::PollRead(fd)))
    }
}

/// A raw byte reader as the suite sees it (see [`Backend::open_bytes`]).
pub trait ByteReader {
    /// Waits at most `timeout` for one read into `buf`: `None` means the time ran out (async
    /// glue drops the pending read: a cancellation); `Some(Ok(0))` is end of input.
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>>;
}

/// A reader as the suite sees it.
pub trait Reader<D: Decoder> {
    /// Waits at most `timeout` for the next item, notice or end. `Pending` means the time ran
    /// out; async glue must then *drop* the pending `next()` future (a cancellation), so that
    /// cases exercise cancel safety simply by using short timeouts.
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error>;

    /// Like [`next_within`](Reader::next_within), while other work shares the reader's thread;
    /// returns the step and how many turns that other work got meanwhile.
    ///
    /// - Async glue runs a second task on the same single-threaded runtime (or, where the
    ///   executor cannot spawn onto the current thread, a future polled by the same
    ///   `block_on`) that counts a turn and yields, again and again, until `next()` is done.
    /// - Blocking and mio glue have no tasks: the other work is the caller's own loop, which
    ///   gets a turn each time the backend hands control back (`next_timeout` returns, a
    ///   `drain` ends) before the item or the timeout.
    ///
    /// A reader that holds its thread inside one call gives the other work no turn (or never
    /// returns at all).
    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64);

    /// The next item, notice or end if it can be had now: the backend's `poll_next_now`, which
    /// neither waits nor needs a task context. `Pending` means nothing is ready (or the engine
    /// paused on input without messages: then `framer().is_yielding()` is true). Glue that
    /// holds items a drain gave hands those out first; async glue may enter its runtime
    /// (as for registration) but polls no future.
    fn next_now(&mut self) -> Step<D::Item, D::Error>;

    /// The engine, to check buffer bounds.
    fn framer(&self) -> &Framer<D>;

    /// Where a followed file stands after the last item this reader returned (the backend's
    /// `checkpoint()`); `None` when the descriptor is not followed, or when the glue holds items
    /// the backend handed out but the case has not taken yet (the rest of a batch or of a
    /// drain): the backend's checkpoint is past those, so it is not the position after the
    /// last item returned.
    fn checkpoint(&self) -> Option<Checkpoint>;
}
