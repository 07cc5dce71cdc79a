//! [`BatchStream`]: a `Stream` of batches of messages, one read's worth at a time.

use std::pin::Pin;
use std::task::{Context, Poll};

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Error, Framer, Frames, ReadFd};
use futures_core::Stream;
use futures_core::stream::FusedStream;

use crate::FdStream;

/// A [`Stream`] of batches of messages from a descriptor: [`FdStream`] with each read's
/// messages handed out together as one [`Frames`]; made by [`FdStream::batches`].
///
/// Everything else is as for [`FdStream`] (the same engine, readiness handling, cancel safety,
/// pauses and fusing): errors, loss notices and the end come between batches, in the order the
/// message stream gives them. With the byte codecs' fast path
/// ([`LinesDecoder`](fdframe::codec::LinesDecoder) and the like) a batch is one frozen buffer and
/// the frames' boundaries, so reading costs no allocation per message.
///
/// ```no_run
/// use fdframe::codec::LinesDecoder;
/// use fdframe_async_io::FdStream;
/// use futures_lite::StreamExt;
///
/// # fn main() -> std::io::Result<()> { futures_lite::future::block_on(async {
/// let mut batches = FdStream::stdin(LinesDecoder::new())?.batches();
/// let mut lines = 0;
/// while let Some(batch) = batches.next().await {
///     match batch {
///         Ok(frames) => lines += frames.iter().filter(|line| !line.is_empty()).count(),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// println!("{lines} non-empty lines");
/// # Ok(())
/// # }) }
/// ```
#[derive(Debug)]
pub struct BatchStream<D: Decoder> {
    stream: FdStream<D>,
}

impl<D: Decoder> BatchStream<D> {
    pub(crate) fn new(stream: FdStream<D>) -> Self {
        BatchStream { stream }
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        self.stream.get_ref()
    }

    /// The engine.
    pub fn framer(&self) -> &Framer<D> {
        self.stream.framer()
    }

    /// Where a followed file stands after the last batch this stream handed out (see
    /// [`FdStream::checkpoint`]); `None` when the descriptor is not followed. Commit it once
    /// every message of those batches is handled.
    ///
    /// ```no_run
    /// # use fdframe::codec::LinesDecoder;
    /// # use fdframe::follow::FollowOptions;
    /// # use fdframe_async_io::FdStream;
    /// # use futures_lite::StreamExt;
    /// # fn main() -> std::io::Result<()> { futures_lite::future::block_on(async {
    /// let mut batches =
    ///     FdStream::follow("app.log", LinesDecoder::new(), FollowOptions::new())?.batches();
    /// if let Some(Ok(lines)) = batches.next().await {
    ///     println!("{} lines", lines.len()); // all handled: now commit
    ///     if let Some(checkpoint) = batches.checkpoint() {
    ///         std::fs::write("app.log.checkpoint", checkpoint.encode())?;
    ///     }
    /// }
    /// # Ok(())
    /// # }) }
    /// ```
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.stream.checkpoint()
    }

    /// The next batch if it can be had now, without waiting and without a task context (see
    /// [`FdStream::poll_next_now`] for what `Pending` and the end mean); as
    /// [`FdStream::poll_batch_now`].
    pub fn poll_next_now(&mut self) -> BatchStep<D::Item, D::Error> {
        self.stream.poll_batch_now()
    }

    /// Leaves the reactor and returns the descriptor with the engine (see
    /// [`FdStream::into_inner`]).
    pub fn into_inner(self) -> (ReadFd, Framer<D>) {
        self.stream.into_inner()
    }
}

impl<D: Decoder> Stream for BatchStream<D> {
    type Item = Result<Frames<D::Item>, Error<D::Error>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().stream.poll_next_batch(cx)
    }
}

impl<D: Decoder> FusedStream for BatchStream<D> {
    fn is_terminated(&self) -> bool {
        self.stream.framer().is_done()
    }
}

// Nothing is pinned structurally, as for `FdStream`.
impl<D: Decoder> Unpin for BatchStream<D> {}
