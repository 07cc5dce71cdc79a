//! [`Drain`]: the messages an [`FdReader`] has ready, read until the descriptor would block.

use std::iter::FusedIterator;
use std::task::Poll;

use fdframe::{Decoder, Error, Frames};

use crate::FdReader;

/// The messages an [`FdReader`] can deliver without waiting; returned by [`FdReader::drain`].
///
/// Yields messages, notices and errors until the descriptor would block or the stream ends, then
/// `None` for good: this `Drain` is [fused](FusedIterator). Call [`FdReader::drain`] again on
/// the reader's next event. After a full drain, [`FdReader::is_drained`] is `true`, the condition
/// for edge-triggered readiness to report the next change.
///
/// A drain also ends when the engine pauses after its per-call budget on input without
/// messages; then [`FdReader::is_drained`] is `false`, and the reader must be drained again
/// before the loop waits.
///
/// # Example
///
/// A regular file is never registered; drain it until it is done:
///
/// ```
/// use fdframe::codec::LinesDecoder;
/// use fdframe_mio::FdReader;
///
/// let mut status = FdReader::open("/proc/self/status", LinesDecoder::new())?;
/// assert!(!status.needs_registration());
/// let mut lines = Vec::new();
/// while !status.is_done() {
///     for line in status.drain() {
///         lines.push(line?);
///     }
/// }
/// assert!(lines[0].starts_with(b"Name:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Drain<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
    finished: bool,
}

impl<'a, D: Decoder> Drain<'a, D> {
    pub(crate) fn new(reader: &'a mut FdReader<D>) -> Self {
        Drain {
            reader,
            finished: false,
        }
    }
}

impl<D: Decoder> Iterator for Drain<'_, D> {
    type Item = Result<D::Item, Error<D::Error>>;

    /// Inlined into the caller's loop: the per-frame path (see `FdReader::poll_next_now`).
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.reader.poll_next_now() {
            Poll::Ready(Some(step)) => Some(step),
            Poll::Ready(None) | Poll::Pending => {
                self.finished = true;
                None
            }
        }
    }
}

impl<D: Decoder> FusedIterator for Drain<'_, D> {}

/// The batches of messages an [`FdReader`] can deliver without waiting; returned by
/// [`FdReader::drain_batches`].
///
/// [`Drain`] with each read's messages handed out together as one [`Frames`]: errors, notices
/// and the end come between batches. It ends, and is fused, exactly when [`Drain`] would.
///
/// ```
/// use fdframe::codec::LinesDecoder;
/// use fdframe_mio::FdReader;
///
/// let mut status = FdReader::open("/proc/self/status", LinesDecoder::new())?;
/// let mut lines = 0;
/// while !status.is_done() {
///     for batch in status.drain_batches() {
///         lines += batch?.len();
///     }
/// }
/// assert!(lines > 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DrainBatches<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
    finished: bool,
}

impl<'a, D: Decoder> DrainBatches<'a, D> {
    pub(crate) fn new(reader: &'a mut FdReader<D>) -> Self {
        DrainBatches {
            reader,
            finished: false,
        }
    }
}

impl<D: Decoder> Iterator for DrainBatches<'_, D> {
    type Item = Result<Frames<D::Item>, Error<D::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.reader.poll_batch_now() {
            Poll::Ready(Some(step)) => Some(step),
            Poll::Ready(None) | Poll::Pending => {
                self.finished = true;
                None
            }
        }
    }
}

impl<D: Decoder> FusedIterator for DrainBatches<'_, D> {}
