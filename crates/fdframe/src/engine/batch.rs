//! The batch path of the engine: one read's worth of messages as one [`Frames`].
//!
//! [`Framer::poll_batch_with`] is [`Framer::poll_next_with`] with a different unit of delivery:
//! the same reads (room before every read, read sizes, the per-call budget and its pauses), the
//! same decoder calls, the same classification of what goes wrong. Only the hand-out differs:
//! the messages found in the buffered bytes go out together, and an error, loss notice or the
//! end that comes after some of them waits for the next call. So flattening the batches gives
//! exactly the per-message sequence.

use std::io;
use std::task::Poll;

use super::{Framer, ReadSpace, ReadOutcome, State};
use crate::{Decoder, Error, Frames};

/// What one batch step of the engine produced: `Ready(Some(Ok(..)))` a non-empty batch of
/// messages, `Ready(Some(Err(..)))` an error or notice, `Ready(None)` the end of the stream,
/// `Pending` as for [`Step`](crate::Step) (the descriptor would block, or the engine paused:
/// see [`Framer::is_yielding`]).
pub type BatchStep<T, E> = Poll<Option<Result<Frames<T>, Error<E>>>>;

/// The most messages one batch of items holds. Items come from one read, so this bites only on
/// a decoder that yields many small items per read (or, by mistake, items that consume no
/// bytes); it keeps a batch's memory bounded either way. Runs of the fast path hold one read.
const MAX_BATCH_ITEMS: usize = 4096;

impl<D: Decoder> Framer<D> {
    /// Returns the next batch of messages, or the next notice, error or end, reading with
    /// `read` as needed: the batch form of [`poll_next_with`](Framer::poll_next_with).
    ///
    /// A batch holds the messages that the bytes buffered after a read contain, all at once:
    /// with the decoder's fast path ([`Decoder::decode_batch`]) one frozen run of frames, else
    /// the items of repeated [`decode`](Decoder::decode) calls (at most 4096 per batch). Every
    /// guarantee of the per-message path holds, and the order is the same:
    ///
    /// - Errors, [loss notices](Error::Lost) and the end come **between** batches, never
    ///   inside one: a batch ends before the error that followed its messages, which the next
    ///   call returns. A loss is delivered before the messages it precedes.
    /// - The same reads: room before every read, the same read sizes and memory bound, and at
    ///   most [`MAX_READS_PER_CALL`](Framer::MAX_READS_PER_CALL) reads per call, after which
    ///   it returns `Pending` with [`is_yielding`](Framer::is_yielding) set.
    /// - Cancel safe and fused, as the per-message path.
    ///
    /// A `Framer` can switch between per-message and batch calls at any point: what one path
    /// held back (a notice or error after a batch, the message after a loss) is delivered
    /// first by whichever is called next.
    ///
    /// # Example
    ///
    /// ```
    /// use std::task::Poll;
    /// use fdframe::{codec::LinesDecoder, Framer};
    ///
    /// let mut chunks = vec![&b"one\ntwo\nthr"[..], b"ee\n"].into_iter();
    /// let mut framer = Framer::new(LinesDecoder::new());
    /// let mut batches = Vec::new();
    /// loop {
    ///     let step = framer.poll_batch_with(|buf| {
    ///         if let Some(chunk) = chunks.next() {
    ///             buf.put_slice(chunk);
    ///         }
    ///         Ok(())
    ///     });
    ///     match step {
    ///         Poll::Ready(Some(Ok(frames))) => batches.push(frames.iter().count()),
    ///         Poll::Ready(Some(Err(e))) => panic!("{e}"),
    ///         Poll::Ready(None) => break,
    ///         Poll::Pending => assert!(framer.is_yielding()),
    ///     }
    /// }
    /// assert_eq!(batches, [2, 1]); // "one", "two" from the first read; "three" from the second
    /// ```
    pub fn poll_batch_with<R>(&mut self, mut read: R) -> BatchStep<D::Item, D::Error>
    where
        R: FnMut(&mut ReadSpace<'_>) -> io::Result<()>,
    {
        self.yielding = false;
        if let Some(first) = self.held_first.take() {
            return Poll::Ready(Some(Err(first)));
        }
        let mut frames = Frames::new();
        match self.held_back.take() {
            Some(Ok(item)) => frames.push(item),
            Some(Err(e)) => return Poll::Ready(Some(Err(e))),
            None => {}
        }
        let mut budget = Self::MAX_READS_PER_CALL;
        loop {
            if frames.len() >= MAX_BATCH_ITEMS {
                return batch(frames);
            }
            match self.state {
                State::Done if frames.is_empty() => return Poll::Ready(None),
                State::Done => return batch(frames),
                State::Draining => match self.drain_batch(&mut frames) {
                    Some(step) => return step,
                    // A segment's drain ended: read on (with what it gave, if anything).
                    None if !frames.is_empty() => return batch(frames),
                    None => {}
                },
                State::Reading if self.decode_pending => {
                    if frames.is_empty()
                        && let Some(run) = self.decoder.decode_batch(&mut self.buf)
                        && !run.is_empty()
                    {
                        self.decode_pending = !self.buf.is_empty();
                        if let Some(loss) = self.take_loss() {
                            // Against the contract of `decode_batch`: still, nothing is dropped
                            // (`held_back` is empty here: it was taken above).
                            self.held_back = Some(Err(loss));
                        }
                        return batch(run);
                    }
                    match self.decode_step() {
                        Poll::Ready(Some(Ok(item))) => frames.push(item),
                        Poll::Ready(Some(Err(e))) => return self.after(frames, e),
                        // `decode_step` never ends the stream; `Pending`: it needs more bytes.
                        Poll::Ready(None) | Poll::Pending => {}
                    }
                }
                // The buffered bytes hold no more messages: this read's worth is complete.
                State::Reading if !frames.is_empty() => return batch(frames),
                State::Reading if self.stream_frame_too_large() => {
                    return Poll::Ready(Some(Err(self.end_frame_too_large())));
                }
                State::Reading => match self.read_step(&mut read, &mut budget) {
                    ReadOutcome::Progress => {}
                    ReadOutcome::Pending => return Poll::Pending,
                    ReadOutcome::Yield => {
                        self.yielding = true;
                        return Poll::Pending;
                    }
                    ReadOutcome::Deliver(Ok(item)) => return batch(Frames::from(vec![item])),
                    ReadOutcome::Deliver(Err(e)) => return Poll::Ready(Some(Err(e))),
                },
            }
        }
    }

    /// Returns the next batch if it can be had **without reading**; `Pending` means a read is
    /// needed. The batch form of [`poll_buffered`](Framer::poll_buffered).
    pub fn poll_batch_buffered(&mut self) -> BatchStep<D::Item, D::Error> {
        self.poll_batch_with(|_| Err(io::ErrorKind::WouldBlock.into()))
    }

    /// After input ended (or a segment did): the items `decode_eof` still gives, up to the
    /// first error or the end. `None` when a segment's drain is over and it gave nothing to
    /// return now (the items gathered stay in `frames`): reading goes on.
    fn drain_batch(
        &mut self,
        frames: &mut Frames<D::Item>,
    ) -> Option<BatchStep<D::Item, D::Error>> {
        while self.state == State::Draining && frames.len() < MAX_BATCH_ITEMS {
            match self.drain_step() {
                Some(Ok(item)) => frames.push(item),
                Some(Err(e)) => {
                    return Some(self.after(std::mem::replace(frames, Frames::new()), e));
                }
                None => {}
            }
        }
        if self.state == State::Reading {
            return None;
        }
        if frames.is_empty() {
            // Done, and nothing held: `drain_step` returned `None` only on reaching the end.
            return Some(Poll::Ready(None));
        }
        Some(batch(std::mem::replace(frames, Frames::new())))
    }

    /// `error` came after the messages in `frames`: the batch goes first, the error waits.
    fn after(
        &mut self,
        frames: Frames<D::Item>,
        error: Error<D::Error>,
    ) -> BatchStep<D::Item, D::Error> {
        if frames.is_empty() {
            return Poll::Ready(Some(Err(error)));
        }
        if self.held_back.is_none() {
            // Where the per-message path looks too, so switching paths here loses nothing.
            self.held_back = Some(Err(error));
        } else {
            // A loss notice, with the message it precedes already in `held_back`.
            self.held_first = Some(error);
        }
        batch(frames)
    }
}

fn batch<T, E>(frames: Frames<T>) -> BatchStep<T, E> {
    Poll::Ready(Some(Ok(frames)))
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
