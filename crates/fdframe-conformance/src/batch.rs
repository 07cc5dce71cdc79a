//! The batch path under the same cases: [`Batched`] turns a backend's batch reader into a
//! [`Reader`] of single messages, so every case runs per message **and** per batch.

use std::collections::VecDeque;
use std::io;
use std::marker::PhantomData;
use std::task::Poll;
use std::time::Duration;

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Framer, ReadFd, Step};

use crate::{Backend, Reader};

/// A backend's batch API: what its glue provides, besides [`Backend`], to run the suite through
/// batches.
pub trait BatchBackend: Backend {
    /// The batch path's label in test names and the matrix: `tokio/batch`, ...
    const BATCH_NAME: &'static str;

    /// The backend's batch reader (stream or iterator of batches), wrapped.
    type BatchReader<D: Decoder + 'static>: BatchReader<D>;

    /// Opens a batch reader over `fd` driven by `framer`.
    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>>;
}

/// A batch reader as the suite sees it: [`Reader`], one batch at a time.
pub trait BatchReader<D: Decoder> {
    /// Waits at most `timeout` for the next batch, notice or end; as
    /// [`Reader::next_within`] (async glue drops the pending `next()` when the time runs out).
    fn next_batch_within(&mut self, timeout: Duration) -> BatchStep<D::Item, D::Error>;

    /// As [`Reader::next_within_beside_other_work`], for a batch.
    fn next_batch_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (BatchStep<D::Item, D::Error>, u64);

    /// As [`Reader::next_now`], for a batch: the backend's `poll_batch_now`.
    fn next_batch_now(&mut self) -> BatchStep<D::Item, D::Error>;

    /// The engine, to check buffer bounds.
    fn framer(&self) -> &Framer<D>;

    /// As [`Reader::checkpoint`]: the position after the last batch returned.
    fn checkpoint(&self) -> Option<Checkpoint>;
}

/// `B`'s batch path as a [`Backend`]: cases read single messages, taken from the batches in
/// order. Errors, notices and the end can only come between batches (a batch holds messages
/// only), and an empty batch fails the case.
pub struct Batched<B>(PhantomData<fn() -> B>);

impl<B: BatchBackend> Backend for Batched<B> {
    const NAME: &'static str = B::BATCH_NAME;
    type Reader<D: Decoder + 'static> = Flatten<D, B::BatchReader<D>>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        Ok(Flatten {
            reader: B::open_batches(fd, framer)?,
            queue: VecDeque::new(),
        })
    }

    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn crate::ByteReader>> {
        B::open_bytes(fd)
    }
}

/// A [`BatchReader`] read one message at a time; see [`Batched`].
pub struct Flatten<D: Decoder, R> {
    reader: R,
    /// The rest of the last batch.
    queue: VecDeque<D::Item>,
}

impl<D: Decoder, R: BatchReader<D>> Flatten<D, R> {
    fn first_of(&mut self, step: BatchStep<D::Item, D::Error>) -> Step<D::Item, D::Error> {
        match step {
            Poll::Ready(Some(Ok(frames))) => {
                let mut items = frames.into_iter();
                let Some(first) = items.next() else {
                    panic!("the batch reader handed out an empty batch");
                };
                self.queue.extend(items);
                Poll::Ready(Some(Ok(first)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<D: Decoder, R: BatchReader<D>> Reader<D> for Flatten<D, R> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        if let Some(item) = self.queue.pop_front() {
            return Poll::Ready(Some(Ok(item)));
        }
        let step = self.reader.next_batch_within(timeout);
        self.first_of(step)
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
        if let Some(item) = self.queue.pop_front() {
            return (Poll::Ready(Some(Ok(item))), 0);
        }
        let (step, turns) = self.reader.next_batch_within_beside_other_work(timeout);
        (self.first_of(step), turns)
    }

    fn next_now(&mut self) -> Step<D::Item, D::Error> {
        if let Some(item) = self.queue.pop_front() {
            return Poll::Ready(Some(Ok(item)));
        }
        let step = self.reader.next_batch_now();
        self.first_of(step)
    }

    fn framer(&self) -> &Framer<D> {
        self.reader.framer()
    }

    /// Only between batches: inside one, the backend's checkpoint is already past the messages
    /// still queued here.
    fn checkpoint(&self) -> Option<Checkpoint> {
        if self.queue.is_empty() {
            self.reader.checkpoint()
        } else {
            None
        }
    }
}
