//! The blocking backend: an [`Iterator`] of messages over a descriptor, on the same engine as
//! the async backends. It is the reference behaviour, and what regular files use.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::task::Poll;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use crate::follow::{Checkpoint, FollowOptions};
use crate::{BatchStep, Decoder, Error, Framer, Frames, ReadFd, Step};

/// Reads messages from a descriptor, waiting (in `poll(2)`) when none are ready.
///
/// Works on blocking and non-blocking descriptors alike: a read that would block waits in
/// `poll(2)` for readiness, so it never spins. Regular files are read straight to their end.
/// The iterator ends at end of input (or after a fatal error) and stays ended.
///
/// # Endless input and stopping
///
/// The engine does bounded work per call and then pauses
/// ([`Framer::is_yielding`]) when input brings no message for a while: `/dev/zero`, a huge
/// sparse file, one endless over-long line being skipped. What each method does then:
///
/// - [`Iterator::next`] keeps going, as `read(2)` on `/dev/zero` would: it blocks until a
///   message, the end or an error, however long the input takes.
/// - [`poll_next_now`](FdReader::poll_next_now), [`next_timeout`](FdReader::next_timeout) and
///   [`ready`](FdReader::ready) return at a pause (`Pending`, or the end of `ready`'s
///   iteration) with `framer().is_yielding()` true, so a loop of yours can check its stop flag
///   and call again at once: no readiness wait is needed.
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe::{blocking::FdReader, codec::LinesDecoder};
///
/// let (reader, writer) = std::io::pipe()?;
/// let mut writer = std::fs::File::from(std::os::fd::OwnedFd::from(writer));
/// writer.write_all(b"first\nsecond\n")?;
/// drop(writer); // end of input
///
/// let lines: Vec<_> = FdReader::from_fd(reader.into(), LinesDecoder::new())?
///     .collect::<Result<_, _>>()?;
/// assert_eq!(lines, ["first", "second"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Reading `/dev/kmsg` up to the newest record (needs root or `CAP_SYSLOG` where
/// `kernel.dmesg_restrict=1`):
///
/// ```no_run
/// use fdframe::{blocking::FdReader, kmsg::{self, KmsgDecoder, KmsgStart}};
///
/// let mut reader = FdReader::from_fd(kmsg::open(KmsgStart::Oldest)?, KmsgDecoder::new())?;
/// for record in reader.ready() {
///     match record {
///         Ok(record) => println!("{}", record.message_lossy()),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FdReader<D: Decoder> {
    fd: ReadFd,
    framer: Framer<D>,
}

impl<D: Decoder> FdReader<D> {
    /// Reads `fd` with `decoder`.
    pub fn new(fd: ReadFd, decoder: D) -> Self {
        Self::with_framer(fd, Framer::new(decoder))
    }

    /// Reads `fd` with an engine configured by the caller (read sizes).
    pub fn with_framer(fd: ReadFd, framer: Framer<D>) -> Self {
        FdReader { fd, framer }
    }

    /// Opens `path` (see [`ReadFd::open`]) and reads it with `decoder`.
    pub fn open(path: impl AsRef<Path>, decoder: D) -> io::Result<Self> {
        Ok(Self::new(ReadFd::open(path)?, decoder))
    }

    /// Follows the file at `path` like `tail -F` (see [`ReadFd::follow`] and
    /// [`follow`](crate::follow)): the iterator waits at the end of the file and never ends on
    /// its own.
    pub fn follow(path: impl AsRef<Path>, decoder: D, options: FollowOptions) -> io::Result<Self> {
        Ok(Self::new(ReadFd::follow(path, options)?, decoder))
    }

    /// The position after the last message handed out, if this reader follows a file (see
    /// [`follow::checkpoint`](crate::follow::checkpoint)).
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        crate::follow::checkpoint(&self.fd, &self.framer)
    }

    /// Takes ownership of `fd`, leaving its flags alone (see [`ReadFd::from_fd`]).
    pub fn from_fd(fd: OwnedFd, decoder: D) -> io::Result<Self> {
        Ok(Self::new(ReadFd::from_fd(fd)?, decoder))
    }

    /// Reads standard input (see [`ReadFd::stdin`]).
    pub fn stdin(decoder: D) -> io::Result<Self> {
        Ok(Self::new(ReadFd::stdin()?, decoder))
    }

    /// The descriptor.
    pub fn get_ref(&self) -> &ReadFd {
        &self.fd
    }

    /// The engine (and through it the decoder and the buffered bytes).
    pub fn framer(&self) -> &Framer<D> {
        &self.framer
    }

    /// The engine, mutably.
    pub fn framer_mut(&mut self) -> &mut Framer<D> {
        &mut self.framer
    }

    /// Returns the descriptor and the engine (with any bytes read but not yet decoded).
    pub fn into_inner(self) -> (ReadFd, Framer<D>) {
        (self.fd, self.framer)
    }

    /// Returns the next message if one can be had without waiting: `Pending` when the descriptor
    /// would block or the engine paused after its per-call budget (then
    /// [`framer().is_yielding()`](Framer::is_yielding) is true: call again without waiting),
    /// `Ready(None)` at the end of the stream.
    #[inline]
    pub fn poll_next_now(&mut self) -> Step<D::Item, D::Error> {
        let fd = &self.fd;
        self.framer.poll_next_with(|buf| fd.read_into(buf))
    }

    /// Returns the next message, waiting at most `timeout` for the descriptor to become readable.
    /// `Pending` means the time ran out, or the engine paused after its per-call budget on input
    /// that brings no message ([`framer().is_yielding()`](Framer::is_yielding) then says so):
    /// either way, check what you need to check and call again.
    pub fn next_timeout(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        self.wait_for(Self::poll_next_now, Some(timeout))
    }

    /// An iterator over the messages available now: it ends when the descriptor would block
    /// (or at the end of the stream), without waiting. On `/dev/kmsg` that is "the ring buffer
    /// as it is", like `dmesg` without `-w`.
    ///
    /// It also ends when the engine pauses after its per-call budget on input that brings no
    /// message; [`framer().is_yielding()`](Framer::is_yielding) then tells that more may be
    /// available without waiting, and calling `ready()` again goes on.
    pub fn ready(&mut self) -> Ready<'_, D> {
        Ready { reader: self }
    }

    /// The batch form of [`poll_next_now`](FdReader::poll_next_now): the next batch of messages
    /// (one read's worth, see [`Framer::poll_batch_with`]) if it can be had without waiting.
    pub fn poll_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        let fd = &self.fd;
        self.framer.poll_batch_with(|buf| fd.read_into(buf))
    }

    /// The batch form of [`next_timeout`](FdReader::next_timeout): the next batch, waiting at
    /// most `timeout`; `Pending` when the time ran out or the engine paused.
    pub fn next_batch_timeout(&mut self, timeout: Duration) -> BatchStep<D::Item, D::Error> {
        self.wait_for(Self::poll_batch_now, Some(timeout))
    }

    /// The next batch of messages, waiting as long as it takes (as [`Iterator::next`] does for
    /// one message); `None` at the end of the stream.
    pub fn next_batch(&mut self) -> Option<Batch<D>> {
        self.block_on(Self::poll_batch_now)
    }

    /// An iterator over batches of messages: [`next_batch`](FdReader::next_batch) until the end.
    ///
    /// Each batch is what one read brought: with the fast path of [`LinesDecoder`] and the
    /// other byte codecs, one frozen buffer and the frames' boundaries in it, so reading costs
    /// no allocation per message. Errors and notices come between batches.
    ///
    /// [`LinesDecoder`]: crate::codec::LinesDecoder
    ///
    /// ```
    /// use std::io::Write;
    /// use fdframe::{blocking::FdReader, codec::LinesDecoder};
    ///
    /// let (reader, mut writer) = std::io::pipe()?;
    /// writer.write_all(b"one\ntwo\nthree\n")?;
    /// drop(writer);
    ///
    /// let mut reader = FdReader::from_fd(reader.into(), LinesDecoder::new())?;
    /// let mut lines = 0;
    /// for batch in reader.batches() {
    ///     for line in &batch? {
    ///         assert!(!line.is_empty());
    ///         lines += 1;
    ///     }
    /// }
    /// assert_eq!(lines, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batches(&mut self) -> Batches<'_, D> {
        Batches { reader: self }
    }

    /// The batch form of [`ready`](FdReader::ready): the batches available now, ending (without
    /// waiting) when the descriptor would block, at an engine pause, or at the end.
    pub fn ready_batches(&mut self) -> ReadyBatches<'_, D> {
        ReadyBatches { reader: self }
    }

    /// Polls with `poll` until it is ready, however long that takes.
    fn block_on<T>(
        &mut self,
        mut poll: impl FnMut(&mut Self) -> Poll<Option<Result<T, Error<D::Error>>>>,
    ) -> Option<Result<T, Error<D::Error>>> {
        loop {
            // Without a timeout `wait_for` returns only when ready; the loop just says so.
            if let Poll::Ready(step) = self.wait_for(&mut poll, None) {
                return step;
            }
        }
    }

    /// Polls with `poll` until it is ready, waiting in `poll(2)` between tries: at most
    /// `timeout`, or for ever. With a timeout it also returns `Pending` at an engine pause, so
    /// the caller gets its turn; without one it goes on through pauses.
    fn wait_for<T>(
        &mut self,
        mut poll: impl FnMut(&mut Self) -> Poll<Option<Result<T, Error<D::Error>>>>,
        timeout: Option<Duration>,
    ) -> Poll<Option<Result<T, Error<D::Error>>>> {
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            if let Poll::Ready(step) = poll(self) {
                return Poll::Ready(step);
            }
            let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            if self.framer.is_yielding() {
                if left.is_some() {
                    // Not a wait: return so that the caller's stop flag gets its turn.
                    return Poll::Pending;
                }
                // The engine paused on input without messages; blocking semantics: go on.
                continue;
            }
            if left.is_some_and(|left| left.is_zero()) {
                return Poll::Pending;
            }
            if let Err(e) = wait_readable(self.fd.as_fd(), left) {
                return Poll::Ready(Some(Err(self.framer.fail(e))));
            }
        }
    }
}

impl<D: Decoder> Iterator for FdReader<D> {
    type Item = Result<D::Item, Error<D::Error>>;

    /// Inlined into the caller's loop, so that a frame goes from the decoder to the caller
    /// without being copied through the stack on the way (the per-frame path).
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.block_on(Self::poll_next_now)
    }
}

/// The messages an [`FdReader`] has available without waiting; see [`FdReader::ready`].
#[derive(Debug)]
pub struct Ready<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
}

impl<D: Decoder> Iterator for Ready<'_, D> {
    type Item = Result<D::Item, Error<D::Error>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.poll_next_now() {
            Poll::Ready(step) => step,
            Poll::Pending => None,
        }
    }
}

/// Waits until `fd` is readable, has an error or hang-up pending, or `timeout` passes.
/// `EINTR` counts as a wake-up: the caller reads again and decides.
/// A batch of messages, or the error or notice between batches.
type Batch<D> = Result<Frames<<D as Decoder>::Item>, Error<<D as Decoder>::Error>>;

/// Batches of messages from an [`FdReader`], waiting for each; returned by
/// [`FdReader::batches`]. Ends at the end of the stream.
#[derive(Debug)]
pub struct Batches<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
}

impl<D: Decoder> Iterator for Batches<'_, D> {
    type Item = Batch<D>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next_batch()
    }
}

/// The batches an [`FdReader`] has without waiting; returned by [`FdReader::ready_batches`].
#[derive(Debug)]
pub struct ReadyBatches<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
}

impl<D: Decoder> Iterator for ReadyBatches<'_, D> {
    type Item = Batch<D>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.poll_batch_now() {
            Poll::Ready(step) => step,
            Poll::Pending => None,
        }
    }
}

fn wait_readable(fd: std::os::fd::BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<()> {
    let mut fds = [PollFd::new(&fd, PollFlags::IN | PollFlags::PRI)];
    let timeout = timeout.map(|t| Timespec {
        tv_sec: t.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: t.subsec_nanos().into(),
    });
    match rustix::event::poll(&mut fds, timeout.as_ref()) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use super::*;
    use crate::codec::{LinesDecoder, LinesError};

    /// A sparse regular file of `zeros` zero bytes (one endless over-long line), then
    /// `\nlast\n`; removed on drop.
    struct SparseFile(std::path::PathBuf);

    impl SparseFile {
        fn new(test: &str, zeros: u64) -> SparseFile {
            let path = std::env::temp_dir().join(format!(
                "fdframe-blocking-{test}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            ));
            let mut file = std::fs::File::create_new(&path).unwrap();
            file.seek(SeekFrom::Start(zeros)).unwrap();
            file.write_all(b"\nlast\n").unwrap();
            SparseFile(path)
        }
    }

    impl Drop for SparseFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const ZEROS: u64 = 32 << 20;

    fn too_long<T: std::fmt::Debug>(step: Option<Result<T, Error<LinesError>>>) {
        assert!(
            matches!(step, Some(Err(Error::Decode(LinesError::TooLong { .. })))),
            "{step:?}"
        );
    }

    #[test]
    fn next_timeout_returns_at_each_pause_on_input_without_messages() {
        let file = SparseFile::new("timeout", ZEROS);
        let mut reader = FdReader::open(&file.0, LinesDecoder::new()).unwrap();
        let long = Duration::from_secs(3600);
        match reader.next_timeout(long) {
            Poll::Ready(step) => too_long(step),
            Poll::Pending => panic!("the first MiB is an over-long line"),
        }
        let mut pauses = 0;
        let last = loop {
            match reader.next_timeout(long) {
                Poll::Pending => {
                    assert!(
                        reader.framer().is_yielding(),
                        "not a timeout: an hour is left"
                    );
                    pauses += 1;
                }
                Poll::Ready(step) => break step,
            }
        };
        assert_eq!(last.unwrap().unwrap(), "last");
        let budget = (Framer::<LinesDecoder>::MAX_READS_PER_CALL
            * Framer::<LinesDecoder>::DEFAULT_MAX_READ_SIZE) as u64;
        assert!(pauses >= ZEROS / budget - 1, "{pauses} pauses");
        assert!(reader.next().is_none());
    }

    #[test]
    fn ready_ends_at_a_pause_and_goes_on_when_called_again() {
        let file = SparseFile::new("ready", ZEROS);
        let mut reader = FdReader::open(&file.0, LinesDecoder::new()).unwrap();
        let mut rounds = 0;
        let mut seen = Vec::new();
        while !reader.framer().is_done() {
            rounds += 1;
            seen.extend(reader.ready().map(|step| match step {
                Ok(line) => String::from_utf8_lossy(&line).into_owned(),
                Err(e) => e.to_string(),
            }));
            assert!(
                reader.framer().is_done() || reader.framer().is_yielding(),
                "a regular file never blocks: ready() ended at a pause"
            );
        }
        assert_eq!(
            seen,
            [
                "message skipped: line longer than the limit of 1048576 bytes",
                "last"
            ]
        );
        assert!(rounds > 2, "{rounds} rounds of ready()");
    }

    #[test]
    fn iterator_next_keeps_going_through_pauses() {
        let file = SparseFile::new("next", ZEROS);
        let mut reader = FdReader::open(&file.0, LinesDecoder::new()).unwrap();
        too_long(reader.next());
        assert_eq!(reader.next().unwrap().unwrap(), "last");
        assert!(reader.next().is_none());
    }

    #[test]
    fn next_batch_timeout_returns_at_each_pause_and_batches_come_between_errors() {
        let file = SparseFile::new("batch-timeout", ZEROS);
        let mut reader = FdReader::open(&file.0, LinesDecoder::new()).unwrap();
        let long = Duration::from_secs(3600);
        let mut pauses = 0;
        let mut steps = Vec::new();
        while !reader.framer().is_done() {
            match reader.next_batch_timeout(long) {
                Poll::Pending => {
                    assert!(reader.framer().is_yielding(), "not a timeout");
                    pauses += 1;
                }
                Poll::Ready(Some(Ok(batch))) => steps.push(format!("{batch:?}")),
                Poll::Ready(Some(Err(e))) => steps.push(e.to_string()),
                Poll::Ready(None) => steps.push("end".into()),
            }
        }
        assert_eq!(
            steps,
            [
                "message skipped: line longer than the limit of 1048576 bytes",
                "[[108, 97, 115, 116]]",
                "end"
            ]
        );
        assert!(pauses > 2, "{pauses} pauses");
    }

    #[test]
    fn batches_iterator_keeps_going_through_pauses() {
        let file = SparseFile::new("batches", ZEROS);
        let mut reader = FdReader::open(&file.0, LinesDecoder::new()).unwrap();
        let mut batches = reader.batches();
        too_long(batches.next().map(|step| step.map(|_| ())));
        let last = batches.next().unwrap().unwrap();
        assert_eq!(last.iter().collect::<Vec<_>>(), [b"last"]);
        assert!(batches.next().is_none());
    }

    #[test]
    fn ready_batches_end_at_a_pause_and_go_on_when_called_again() {
        let file = SparseFile::new("ready-batches", ZEROS);
        let mut reader = FdReader::open(&file.0, LinesDecoder::new()).unwrap();
        let mut rounds = 0;
        let mut seen = Vec::new();
        while !reader.framer().is_done() {
            rounds += 1;
            seen.extend(reader.ready_batches().map(|step| match step {
                Ok(batch) => format!("{batch:?}"),
                Err(e) => e.to_string(),
            }));
            assert!(reader.framer().is_done() || reader.framer().is_yielding());
        }
        assert_eq!(
            seen,
            [
                "message skipped: line longer than the limit of 1048576 bytes",
                "[[108, 97, 115, 116]]"
            ]
        );
        assert!(rounds > 2, "{rounds} rounds of ready_batches()");
    }
}
