//! The sans-IO framing engine: [`Framer`] owns the buffer and the decoder and turns reads into
//! messages, without ever blocking or waiting.
//!
//! A backend drives it with a closure that performs one non-blocking `read(2)` into a
//! [`ReadSpace`]. When the closure fails with `WouldBlock`, the engine returns
//! [`Poll::Pending`](std::task::Poll::Pending) and the backend waits for readiness in its own
//! runtime's way. One call does bounded work: after
//! [`MAX_READS_PER_CALL`](Framer::MAX_READS_PER_CALL) reads without a message it also returns
//! `Pending`, with [`is_yielding`](Framer::is_yielding) set, and the backend polls again
//! without waiting. Buffer sizing, the read-size guarantee, EOF rules, error classes and loss
//! notices live here, written and tested once for every backend.

mod batch;
mod read_space;
mod read_step;
#[cfg(test)]
pub(crate) mod script;
#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod segment_tests;
#[cfg(test)]
mod tests;

pub use batch::BatchStep;
pub use read_space::ReadSpace;
use read_step::ReadOutcome;

use std::io;
use std::task::Poll;

use bytes::BytesMut;

use crate::follow::FollowNotice;
use crate::{Decoder, Error, ReadLimits};

/// What one step of the engine produced: `Ready(Some(..))` a message or notice, `Ready(None)` the
/// end of the stream, `Pending` "the descriptor would block" or, when
/// [`Framer::is_yielding`] says so, "the engine paused after its per-call budget".
pub type Step<T, E> = Poll<Option<Result<T, Error<E>>>>;

/// The framing engine: a buffer, a decoder and the state machine between them.
///
/// [`poll_next_with`](Framer::poll_next_with) returns the next message, reading through the
/// given closure whenever the buffered bytes hold no whole message. The engine guarantees:
///
/// - **Room before every read**: each read is offered at least the decoder's
///   [`min_read_capacity`](ReadLimits::min_read_capacity), reclaiming or growing the buffer
///   beforehand. Record devices that fail with `EINVAL` on a short buffer never see one.
/// - **Large reads when data streams in**: the read size starts at
///   [`initial_read_size`](Framer::initial_read_size) and doubles while reads come back full,
///   up to [`max_read_size`](Framer::max_read_size), so a fast pipe is not drained in small bites.
/// - **Zero copy**: decoders split frames off the buffer (`split_to().freeze()`); the buffer
///   reuses its allocation once the frames are dropped.
/// - **Bounded memory**: at most about [`max_frame_len`](ReadLimits::max_frame_len) plus one read
///   is ever buffered; a longer frame is [`Error::FrameTooLarge`]. In record mode, a record much
///   smaller than its read buffer is copied out, so records the caller keeps do not each pin a
///   whole buffer (8 KiB per kmsg record, 64 KiB per packet).
/// - **Edge-triggered safety**: it reads until the closure returns `WouldBlock` before it returns
///   `Pending` for the descriptor, so a backend never waits while data sits in the kernel.
/// - **Bounded work per call**: one call performs at most
///   [`MAX_READS_PER_CALL`](Framer::MAX_READS_PER_CALL) reads (each followed by at most one
///   decode) and returns. Input that yields no message for that long (`/dev/zero`, a huge
///   sparse file, one endless over-long line being skipped, a storm of `EINTR`) makes it return
///   `Pending` with [`is_yielding`](Framer::is_yielding) `true`: the descriptor did *not* block,
///   so the backend must poll again **without waiting for readiness** (an async backend wakes
///   its task first, so the runtime and the task's neighbours get their turn; a command-line
///   loop checks its stop flag). Nothing is lost: the bytes already read stay buffered.
/// - **Cancel safety**: all progress lives in the `Framer`; a caller that stops polling midway
///   loses nothing.
/// - `EINTR` is retried; other read errors go to [`Decoder::read_error`]; after the stream's end
///   it keeps returning `Ready(None)` (fused).
///
/// # Example
///
/// A scripted reader standing in for a pipe:
///
/// ```
/// use std::io;
/// use std::task::Poll;
/// use fdframe::{codec::LinesDecoder, Framer};
///
/// let mut chunks = vec![&b"hello\nwor"[..], b"ld\n"].into_iter();
/// let mut framer = Framer::new(LinesDecoder::new());
/// let mut lines = Vec::new();
/// loop {
///     let step = framer.poll_next_with(|buf| {
///         match chunks.next() {
///             Some(chunk) => buf.put_slice(chunk),
///             None => {} // nothing filled: end of input
///         }
///         Ok(())
///     });
///     match step {
///         Poll::Ready(Some(line)) => lines.push(line.unwrap()),
///         Poll::Ready(None) => break,
///         // This reader never blocks: `Pending` can only be the engine pausing after its
///         // per-call budget, and the next call goes on at once.
///         Poll::Pending => assert!(framer.is_yielding()),
///     }
/// }
/// assert_eq!(lines, ["hello", "world"]);
/// ```
pub struct Framer<D: Decoder> {
    decoder: D,
    limits: ReadLimits,
    buf: BytesMut,
    state: State,
    /// Decoding the buffered bytes may produce a message: bytes arrived or a message was just
    /// taken. Cleared when the decoder answers `Ok(None)`, so it is not asked twice in vain.
    decode_pending: bool,
    /// An item that revealed a loss waits here while the loss is delivered first.
    held_back: Option<Result<D::Item, Error<D::Error>>>,
    /// Batch path: a loss notice that came after the messages of a batch and before the message
    /// in `held_back` (never set while `held_back` is empty); delivered first by either path.
    held_first: Option<Error<D::Error>>,
    /// Record mode: the read buffer, kept unshared while a small record is decoded from a copy.
    record_spare: BytesMut,
    read_size: usize,
    initial_read_size: usize,
    max_read_size: usize,
    /// Read errors the decoder chose to retry, in a row; bounded so a device stuck in an error
    /// state cannot spin the caller forever.
    retries_in_a_row: u32,
    /// The last call returned `Pending` because its read budget ran out, not because the
    /// descriptor would block.
    yielding: bool,
    /// The drain under way ends a segment ([`ReadSpace::end_segment`]), not the stream: it goes
    /// back to `Reading` when done.
    segment_end: bool,
    /// Where a read puts a notice it signals ([`ReadSpace::notice`]); one signalled with a
    /// segment end waits here until the segment's drain is done.
    segment_notice: Option<FollowNotice>,
}

impl<D: Decoder + std::fmt::Debug> std::fmt::Debug for Framer<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Framer")
            .field("decoder", &self.decoder)
            .field("limits", &self.limits)
            .field("buffered", &self.buf.len())
            .field("state", &self.state)
            .field("read_size", &self.read_size)
            .field("yielding", &self.yielding)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Input may still come.
    Reading,
    /// Input has ended; `decode_eof` runs until it has nothing more.
    Draining,
    /// The stream has ended; fused.
    Done,
}

/// How many retried read errors in a row the engine accepts before it treats the next one as
/// fatal.
const MAX_RETRIES_IN_A_ROW: u32 = 64;

impl<D: Decoder> Framer<D> {
    /// The default first read size: 8 KiB.
    pub const DEFAULT_INITIAL_READ_SIZE: usize = 8 * 1024;
    /// The default largest read size: 256 KiB.
    pub const DEFAULT_MAX_READ_SIZE: usize = 256 * 1024;

    /// The most read attempts one [`poll_next_with`](Framer::poll_next_with) call makes: every
    /// invocation of the read closure counts, including reads that fail with `EINTR` and read
    /// errors the decoder retries. When they are spent without a message the call returns
    /// `Pending` and [`is_yielding`](Framer::is_yielding) is `true`.
    ///
    /// Why 32: at the default [largest read size](Framer::DEFAULT_MAX_READ_SIZE) one call moves
    /// at most 32 × 256 KiB = 8 MiB, a millisecond or two of copying, so Ctrl-C and the other
    /// tasks of a runtime thread get their turn within milliseconds even on endless input. And
    /// it is large enough to cost nothing measurable: the budget only bites when 32 reads in a
    /// row bring no message, and then the extra return-and-poll (a wake-up and a trip through
    /// the executor, about a microsecond) is spread over 8 MiB of input; the read size still
    /// grows from 8 KiB to its maximum (6 doublings) within the first call. It is below the
    /// limit of 64 retried read errors in a row, so a stuck device also gives way to its
    /// neighbours while the engine waits for that limit.
    pub const MAX_READS_PER_CALL: usize = 32;

    /// Creates an engine for `decoder`, taking its [`ReadLimits`].
    pub fn new(decoder: D) -> Self {
        let limits = decoder.read_limits();
        let limits = ReadLimits {
            min_read_capacity: limits.min_read_capacity.max(1),
            max_frame_len: limits.max_frame_len.max(1),
            ..limits
        };
        Framer {
            decoder,
            limits,
            buf: BytesMut::new(),
            state: State::Reading,
            decode_pending: false,
            held_back: None,
            held_first: None,
            record_spare: BytesMut::new(),
            read_size: Self::DEFAULT_INITIAL_READ_SIZE,
            initial_read_size: Self::DEFAULT_INITIAL_READ_SIZE,
            max_read_size: Self::DEFAULT_MAX_READ_SIZE,
            retries_in_a_row: 0,
            yielding: false,
            segment_end: false,
            segment_notice: None,
        }
    }

    /// Sets the first read size (default 8 KiB); the read size grows from there while reads come
    /// back full. Never below the decoder's `min_read_capacity`.
    #[must_use]
    pub fn with_initial_read_size(mut self, bytes: usize) -> Self {
        self.initial_read_size = bytes.max(1);
        self.max_read_size = self.max_read_size.max(self.initial_read_size);
        self.read_size = self.initial_read_size;
        self
    }

    /// Sets the largest read size (default 256 KiB). Never below the decoder's
    /// `min_read_capacity`.
    #[must_use]
    pub fn with_max_read_size(mut self, bytes: usize) -> Self {
        self.max_read_size = bytes.max(1);
        self.initial_read_size = self.initial_read_size.min(self.max_read_size);
        self.read_size = self.read_size.min(self.max_read_size);
        self
    }

    /// The first read size.
    pub fn initial_read_size(&self) -> usize {
        self.initial_read_size
    }

    /// The largest read size.
    pub fn max_read_size(&self) -> usize {
        self.max_read_size
    }

    /// The limits in force (the decoder's, as taken at creation).
    pub fn read_limits(&self) -> ReadLimits {
        self.limits
    }

    /// The decoder.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The decoder, mutably (to change its settings between messages).
    pub fn decoder_mut(&mut self) -> &mut D {
        &mut self.decoder
    }

    /// The bytes read but not yet decoded.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Whether the stream has ended (every later call returns `Ready(None)`).
    pub fn is_done(&self) -> bool {
        self.state == State::Done && self.held_back.is_none() && self.held_first.is_none()
    }

    /// Whether the last `Pending` was the engine pausing after its per-call budget
    /// ([`MAX_READS_PER_CALL`](Framer::MAX_READS_PER_CALL) reads without a message), not the
    /// descriptor blocking: poll again soon **without waiting for readiness** (no readiness
    /// event may come: the descriptor still has data). An async backend wakes its task
    /// (`cx.waker().wake_by_ref()`) and returns `Pending`; a loop of your own checks its stop
    /// flag and calls again.
    ///
    /// `false` after any other outcome of [`poll_next_with`](Framer::poll_next_with) (a message,
    /// the end, a read that would block), and before the first call.
    pub fn is_yielding(&self) -> bool {
        self.yielding
    }

    /// Takes the decoder and the undecoded bytes back.
    pub fn into_parts(self) -> (D, BytesMut) {
        (self.decoder, self.buf)
    }

    /// Returns the next message, notice or error, reading with `read` as needed.
    ///
    /// `read` performs one read into the offered [`ReadSpace`]: fill it (or fill nothing, for end
    /// of input) and return `Ok(())`, or return the read's error. A `WouldBlock` error makes this
    /// method return `Poll::Pending`; the backend then waits for readiness and calls again.
    ///
    /// One call invokes `read` at most [`MAX_READS_PER_CALL`](Framer::MAX_READS_PER_CALL) times
    /// and decodes at most once after each read (plus once before the first), so its work is
    /// bounded however endless the input. When the reads are spent without a message it returns
    /// `Poll::Pending` with [`is_yielding`](Framer::is_yielding) set: call again without waiting
    /// for readiness.
    ///
    /// State table (`decode_pending`: the buffered bytes have not yet been offered to the decoder
    /// since they changed):
    ///
    /// | state      | condition                         | action                                   |
    /// |------------|-----------------------------------|------------------------------------------|
    /// | any        | an item is held back              | return it                                |
    /// | `Reading`  | `decode_pending`                  | `decode`; item / error → return it       |
    /// | `Reading`  | buffer over `max_frame_len`       | `FrameTooLarge`, → `Done`                |
    /// | `Reading`  | `MAX_READS_PER_CALL` reads made in this call | `Pending`, `is_yielding()` → `true` (poll again without waiting) |
    /// | `Reading`  | otherwise                         | read: bytes → `decode_pending`; 0 → `Draining`; 0 with [`end_segment`](ReadSpace::end_segment) → `Draining` a segment; 0 with only a [`notice`](ReadSpace::notice) → return it; `WouldBlock` → `Pending`; `EINTR` or a retried error → read again |
    /// | `Draining` | —                                 | `decode_eof`; nothing left → `Done` (leftover bytes → `Truncated`), or for a segment → `Reading` (then its notice, if any) |
    /// | `Done`     | —                                 | `Ready(None)`                            |
    #[inline]
    pub fn poll_next_with<R>(&mut self, read: R) -> Step<D::Item, D::Error>
    where
        R: FnMut(&mut ReadSpace<'_>) -> io::Result<()>,
    {
        self.yielding = false;
        // The per-frame path, inlined into the backend: one read often brings hundreds of
        // frames, and handing each out is one decode (`decode_step`, spelled out so that every
        // branch returns at once: a frame kept in a local to be checked and returned later is
        // copied through the stack, per frame, with a store-forwarding stall). The slow path
        // starts the same way (`decode_pending` is cleared when this decode finds nothing, so it
        // is not repeated).
        if self.decode_pending && self.state == State::Reading && self.held_back.is_none() {
            let before = self.buf.len();
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(item)) => {
                    self.decode_pending = !self.buf.is_empty();
                    return Poll::Ready(Some(self.with_loss_first(Ok(item))));
                }
                Ok(None) => return self.poll_after_decoded_nothing(read),
                Err(e) => return self.decode_failed(e, before),
            }
        }
        self.poll_next_slow(read)
    }

    /// Stream mode: the buffered bytes, with no whole frame among them, exceed the frame limit.
    fn stream_frame_too_large(&self) -> bool {
        !self.limits.one_record_per_read && self.buf.len() > self.limits.max_frame_len
    }

    /// Ends the stream on a frame over the limit and returns the error to deliver.
    #[inline(never)]
    fn end_frame_too_large(&mut self) -> Error<D::Error> {
        self.state = State::Done;
        Error::FrameTooLarge {
            limit: self.limits.max_frame_len,
            len: self.buf.len(),
            ended: true,
        }
    }

    /// The per-frame path's decode needed more bytes: finish that decode step, then go on as
    /// [`poll_next_slow`](Self::poll_next_slow).
    #[inline(never)]
    fn poll_after_decoded_nothing<R>(&mut self, read: R) -> Step<D::Item, D::Error>
    where
        R: FnMut(&mut ReadSpace<'_>) -> io::Result<()>,
    {
        let step = self.decoded_nothing();
        if step.is_ready() {
            return step;
        }
        self.poll_next_slow(read)
    }

    /// [`poll_next_with`](Framer::poll_next_with) past its per-frame path: held-back items,
    /// reads, the end of input. Kept out of line so the per-frame path stays small.
    #[inline(never)]
    fn poll_next_slow<R>(&mut self, mut read: R) -> Step<D::Item, D::Error>
    where
        R: FnMut(&mut ReadSpace<'_>) -> io::Result<()>,
    {
        // What the batch path held back comes out here too, in the same order, so a caller may
        // switch between the paths at any point (`held_first` is only ever set beside a
        // `held_back`, so the per-frame path's `held_back.is_none()` check covers both).
        if let Some(first) = self.held_first.take() {
            return Poll::Ready(Some(Err(first)));
        }
        if let Some(held) = self.held_back.take() {
            return Poll::Ready(Some(held));
        }
        // Read attempts left in this call. Decoding is bounded by it too: `decode_step` runs only
        // while `decode_pending`, which only a read (or a delivered message) sets again.
        let mut budget = Self::MAX_READS_PER_CALL;
        loop {
            match self.state {
                State::Done => return Poll::Ready(None),
                State::Draining => match self.drain_step() {
                    // A segment's drain ended quietly: read on.
                    None if self.state == State::Reading => {}
                    step => return Poll::Ready(step),
                },
                State::Reading if self.decode_pending => {
                    let step = self.decode_step();
                    if step.is_ready() {
                        return step;
                    }
                }
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
                    ReadOutcome::Deliver(out) => return Poll::Ready(Some(out)),
                },
            }
        }
    }

    /// Ends the stream because waiting for the descriptor failed (the reactor refused it, say),
    /// and returns the error to deliver. A backend calls this so that, as for a failed read, an
    /// [`Error::Io`] is the last thing the stream yields: every later call returns `Ready(None)`.
    pub fn fail(&mut self, error: io::Error) -> Error<D::Error> {
        self.state = State::Done;
        Error::Io(error)
    }

    /// Returns the next message if it can be had **without reading**: from an item held back,
    /// bytes already buffered, or the end-of-input drain. `Pending` means a read is needed.
    ///
    /// Backends call this before touching their reactor: when one read brought many frames,
    /// handing them out needs no readiness check per frame.
    #[inline]
    pub fn poll_buffered(&mut self) -> Step<D::Item, D::Error> {
        self.poll_next_with(|_| Err(io::ErrorKind::WouldBlock.into()))
    }

    /// Offers the buffered bytes to the decoder once; `Pending` when it needs more.
    ///
    /// It builds the [`Step`] itself (not an `Option` that the caller wraps): every conversion
    /// between enum layouts is a copy of the frame through the stack, per frame.
    #[inline]
    fn decode_step(&mut self) -> Step<D::Item, D::Error> {
        let before = self.buf.len();
        match self.decoder.decode(&mut self.buf) {
            Ok(Some(item)) => {
                self.decode_pending = !self.buf.is_empty();
                Poll::Ready(Some(self.with_loss_first(Ok(item))))
            }
            // Once per read, not per frame: out of line, so the per-frame path stays small and
            // builds its frame in one place (see `decode_step`).
            Ok(None) => self.decoded_nothing(),
            Err(e) => self.decode_failed(e, before),
        }
    }

    /// The decoder needs more bytes: `Pending`, unless a record was left over or a loss is due.
    #[inline(never)]
    fn decoded_nothing(&mut self) -> Step<D::Item, D::Error> {
        self.decode_pending = false;
        if self.limits.one_record_per_read && !self.buf.is_empty() {
            // The decoder could not use the whole record; keep its bytes visible.
            let rest = self.buf.split().freeze();
            return Poll::Ready(Some(self.with_loss_first(Err(Error::Truncated(rest)))));
        }
        match self.take_loss() {
            Some(loss) => Poll::Ready(Some(Err(loss))),
            None => Poll::Pending,
        }
    }

    /// The decoder failed; `before` is how many bytes were buffered before it was called.
    #[inline(never)]
    fn decode_failed(&mut self, e: D::Error, before: usize) -> Step<D::Item, D::Error> {
        let error = if self.buf.len() == before {
            // Consumed nothing: decoding again would fail the same way forever.
            self.state = State::Done;
            Error::DecodeStalled(e)
        } else {
            Error::Decode(e)
        };
        self.decode_pending = !self.buf.is_empty();
        Poll::Ready(Some(self.with_loss_first(Err(error))))
    }

    /// One `decode_eof` step after input ended.
    ///
    /// `None` when the drain is over: the end of the stream, or (state back to `Reading`) the
    /// quiet end of a segment.
    fn drain_step(&mut self) -> Option<Result<D::Item, Error<D::Error>>> {
        if self.limits.one_record_per_read {
            // Every record was whole when it was read; there is no partial one to finish.
            if let Some(loss) = self.take_loss() {
                let notice = self.drain_over();
                return Self::after_drain(&mut self.held_back, Err(loss), notice);
            }
            return self.drain_over();
        }
        let before = self.buf.len();
        match self.decoder.decode_eof(&mut self.buf) {
            Ok(Some(item)) => Some(self.with_loss_first(Ok(item))),
            Ok(None) => {
                if let Some(loss) = self.take_loss() {
                    return Some(Err(loss));
                }
                if self.buf.is_empty() {
                    return self.drain_over();
                }
                let rest = Error::Truncated(self.buf.split().freeze());
                let notice = self.drain_over();
                Self::after_drain(&mut self.held_back, Err(rest), notice)
            }
            Err(e) => {
                if self.buf.len() == before {
                    // Consumed nothing: asking again would fail the same way forever. A
                    // segment's bytes are given up with the error (they were reported).
                    if self.segment_end {
                        self.buf.clear();
                    }
                    let notice = self.drain_over();
                    return Self::after_drain(&mut self.held_back, Err(Error::Decode(e)), notice);
                }
                Some(self.with_loss_first(Err(Error::Decode(e))))
            }
        }
    }

    /// The drain has nothing more: the stream ends, or a segment's drain goes back to reading
    /// and returns the notice signalled with it, if any.
    fn drain_over(&mut self) -> Option<Result<D::Item, Error<D::Error>>> {
        if !self.segment_end {
            self.state = State::Done;
            return None;
        }
        self.segment_end = false;
        self.state = State::Reading;
        self.segment_notice.take().map(|n| Err(Error::Follow(n)))
    }

    /// `out` is the drain's last output, delivered before the notice that `drain_over` just
    /// returned (if any), which waits in `held_back` (empty during a drain: the drain runs
    /// only after what was held back went out).
    fn after_drain(
        held_back: &mut Option<Result<D::Item, Error<D::Error>>>,
        out: Result<D::Item, Error<D::Error>>,
        notice: Option<Result<D::Item, Error<D::Error>>>,
    ) -> Option<Result<D::Item, Error<D::Error>>> {
        if notice.is_some() {
            *held_back = notice;
        }
        Some(out)
    }

    fn take_loss(&mut self) -> Option<Error<D::Error>> {
        self.decoder.take_loss().map(Error::Lost)
    }

    /// Delivers a pending loss before `out`, holding `out` back for the next call.
    #[inline]
    fn with_loss_first(
        &mut self,
        out: Result<D::Item, Error<D::Error>>,
    ) -> Result<D::Item, Error<D::Error>> {
        match self.decoder.take_loss() {
            Some(loss) => {
                self.held_back = Some(out);
                Err(Error::Lost(loss))
            }
            None => out,
        }
    }
}
