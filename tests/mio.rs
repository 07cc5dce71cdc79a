//! `fdframe-mio` in a `mio::Poll` loop, one `Poll` per test thread shared by its readers.
//!
//! The glue does what an event loop does: on each turn it `drain()`s the reader to
//! `WouldBlock` (keeping the items in a queue, handed out one per `next_within`), and only then
//! waits for an event. Each reader drains before it waits, so an event another reader's wait
//! consumed is never needed: its data is read on that reader's next attempt.

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::io;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Framer, Frames, ReadFd, Step};
use fdframe_conformance::{Backend, BatchBackend, BatchReader, Reader};
use fdframe_mio::FdReader;
use mio::{Events, Interest, Token};

struct Shared {
    poll: mio::Poll,
    events: Events,
    /// Tokens that had an event their reader has not yet waited for.
    ready: HashSet<Token>,
    next_token: usize,
}

thread_local! {
    static SHARED: Rc<RefCell<Shared>> = Rc::new(RefCell::new(Shared {
        poll: mio::Poll::new().expect("a mio Poll"),
        events: Events::with_capacity(64),
        ready: HashSet::new(),
        next_token: 0,
    }));
}

pub(crate) struct Mio;

/// A message (or batch), or the error or notice between them.
type Queued<D, T> = Result<T, fdframe::Error<<D as Decoder>::Error>>;

/// What a drain gave, not yet handed out.
type Queue<D, T> = VecDeque<Queued<D, T>>;

/// A step of the reader: the next message (or batch), error or notice, or the end.
type QueuedStep<D, T> = Poll<Option<Queued<D, T>>>;

/// A reader handing out what `drain` (or `drain_batches`, for `T = Frames<D::Item>`) gave.
pub(crate) struct MioReader<D: Decoder, T> {
    shared: Rc<RefCell<Shared>>,
    reader: FdReader<D>,
    token: Option<Token>,
    drained: Queue<D, T>,
    drain: fn(&mut FdReader<D>, &mut Queue<D, T>),
}

impl Backend for Mio {
    const NAME: &'static str = "mio";
    type Reader<D: Decoder + 'static> = MioReader<D, D::Item>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        MioReader::open(fd, framer, |reader, queue| queue.extend(reader.drain()))
    }
}

impl BatchBackend for Mio {
    const BATCH_NAME: &'static str = "mio/batch";
    type BatchReader<D: Decoder + 'static> = MioReader<D, Frames<D::Item>>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>> {
        MioReader::open(fd, framer, |reader, queue| {
            queue.extend(reader.drain_batches());
        })
    }
}

impl<D: Decoder, T> MioReader<D, T> {
    fn open(
        fd: ReadFd,
        framer: Framer<D>,
        drain: fn(&mut FdReader<D>, &mut Queue<D, T>),
    ) -> io::Result<Self> {
        let shared = SHARED.with(Rc::clone);
        let mut reader = FdReader::with_framer(fd, framer)?;
        let mut token = None;
        if reader.needs_registration() {
            let mut state = shared.borrow_mut();
            state.next_token += 1;
            let new_token = Token(state.next_token);
            state
                .poll
                .registry()
                .register(&mut reader, new_token, Interest::READABLE)?;
            token = Some(new_token);
        }
        Ok(MioReader {
            shared,
            reader,
            token,
            drained: VecDeque::new(),
            drain,
        })
    }
}

impl<D: Decoder> Reader<D> for MioReader<D, D::Item> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        self.next_within_beside_other_work(timeout).0
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
        self.next_of(timeout)
    }

    fn next_now(&mut self) -> Step<D::Item, D::Error> {
        self.now(FdReader::poll_next_now)
    }

    fn framer(&self) -> &Framer<D> {
        self.reader.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint_past_the_queue()
    }
}

impl<D: Decoder> BatchReader<D> for MioReader<D, Frames<D::Item>> {
    fn next_batch_within(&mut self, timeout: Duration) -> BatchStep<D::Item, D::Error> {
        self.next_of(timeout).0
    }

    fn next_batch_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (BatchStep<D::Item, D::Error>, u64) {
        self.next_of(timeout)
    }

    fn next_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        self.now(FdReader::poll_batch_now)
    }

    fn framer(&self) -> &Framer<D> {
        self.reader.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint_past_the_queue()
    }
}

impl<D: Decoder, T> MioReader<D, T> {
    /// What the last drain gave first, in order; then the reader's own step (`poll_next_now`
    /// or `poll_batch_now`).
    fn now(&mut self, poll_now: fn(&mut FdReader<D>) -> QueuedStep<D, T>) -> QueuedStep<D, T> {
        match self.drained.pop_front() {
            Some(step) => Poll::Ready(Some(step)),
            None => poll_now(&mut self.reader),
        }
    }

    /// Only once the glue has handed out everything the last drain gave: the reader's own
    /// checkpoint is past all of it.
    fn checkpoint_past_the_queue(&self) -> Option<Checkpoint> {
        self.drained
            .is_empty()
            .then(|| self.reader.checkpoint())
            .flatten()
    }

    /// A drain that ends without `WouldBlock` and without messages is the engine pausing:
    /// the event loop (this one) takes its turn there, then drains again without waiting.
    fn next_of(&mut self, timeout: Duration) -> (QueuedStep<D, T>, u64) {
        let deadline = Instant::now() + timeout;
        let mut turns = 0;
        loop {
            if let Some(step) = self.drained.pop_front() {
                return (Poll::Ready(Some(step)), turns);
            }
            if self.reader.is_done() {
                return (Poll::Ready(None), turns);
            }
            // As the crate documents: wait only once a drain has reached `WouldBlock`, and only
            // for an event of this reader's own token.
            if self.reader.is_drained() && self.token.is_some() && !self.wait_for_event(deadline) {
                return (Poll::Pending, turns);
            }
            (self.drain)(&mut self.reader, &mut self.drained);
            if self.drained.is_empty() && !self.reader.is_drained() {
                turns += 1;
                if Instant::now() >= deadline {
                    return (Poll::Pending, turns);
                }
            }
        }
    }

    /// Polls (recording every token that had an event, for its reader) until this reader's
    /// token has had one; `false` when the deadline passed first.
    fn wait_for_event(&mut self, deadline: Instant) -> bool {
        let Some(token) = self.token else { return true };
        let mut state = self.shared.borrow_mut();
        loop {
            if state.ready.remove(&token) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let Shared {
                poll,
                events,
                ready,
                ..
            } = &mut *state;
            match poll.poll(events, Some(left)) {
                Ok(()) => ready.extend(events.iter().map(|event| event.token())),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("mio poll failed: {e}"),
            }
        }
    }
}

fdframe_conformance::conformance_tests!(Mio);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::Mio>);
}
