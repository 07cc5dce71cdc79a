//! [`Backend`]: what a backend's test glue provides to the suite.

use std::io;
use std::time::Duration;

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
}

/// A reader as the suite sees it.
pub trait Reader<D: Decoder> {
    /// Waits at most `timeout` for the next item, notice or end. `Pending` means the time ran
    /// out; async glue must then *drop* the pending `next()` future (a cancellation), so that
    /// cases exercise cancel safety simply by using short timeouts.
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error>;

    /// The engine, to check buffer bounds.
    fn framer(&self) -> &Framer<D>;
}
