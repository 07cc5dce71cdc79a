//! Each backend driven the way its users drive it, with a [`Chaos`] consumer in the loop.
//!
//! A [`Session`] is one thread's use of a backend: the tokio runtime or the `mio::Poll` it
//! keeps lives as long as the session, and [`Session::run`] opens one stream on it, hands every
//! step to a [`Sink`] and returns at the end of the stream or when the sink says stop. Between
//! steps the consumer misbehaves as its [`Chaos`] says: async `next()` futures are polled once
//! and dropped, or dropped when a short timer fires; the blocking reader is given tiny
//! timeouts; mio drains are abandoned midway. A step that does not come within [`STALL`] is a
//! failure (a stream that is never woken again), not a hang.

use std::future::Future;
use std::future::poll_fn;
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use fdframe::{Decoder, Error, Framer, ReadFd};
use futures_lite::StreamExt;
use futures_lite::future::poll_once;

use crate::chaos::{Ask, Chaos};

/// How long any one step may take before the run counts as stalled.
pub(crate) const STALL: Duration = Duration::from_secs(20);

/// The backends, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `fdframe::blocking::FdReader` on a non-blocking descriptor, waiting in `poll(2)`.
    Blocking,
    /// `fdframe::blocking::FdReader` iterated on a *blocking* descriptor: the wait is the
    /// `read(2)` itself (no cancellation possible; only the EINTR storm uses it).
    BlockingFd,
    /// `fdframe_tokio::FdStream` on a current-thread runtime.
    Tokio,
    /// `fdframe_async_io::FdStream` under `async_std::task::block_on`.
    AsyncStd,
    /// `fdframe_async_io::FdStream` under `smol::block_on`.
    Smol,
    /// `fdframe_mio::FdReader` in a `mio::Poll` loop, drained to `WouldBlock`.
    Mio,
}

impl Backend {
    /// The five backends every scenario runs on.
    pub(crate) const ALL: [Backend; 5] = [
        Backend::Blocking,
        Backend::Tokio,
        Backend::AsyncStd,
        Backend::Smol,
        Backend::Mio,
    ];

    /// The label in the table.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Blocking => "blocking",
            Backend::BlockingFd => "blocking (blocking fd)",
            Backend::Tokio => "tokio",
            Backend::AsyncStd => "async-std",
            Backend::Smol => "smol",
            Backend::Mio => "mio",
        }
    }
}

/// What the consumer does with each step.
pub(crate) trait Sink<D: Decoder> {
    /// One item, error or notice. `false` stops the run (the stream is dropped).
    fn on_step(&mut self, step: Result<D::Item, Error<D::Error>>) -> bool;
    /// The stream ended.
    fn on_end(&mut self);
}

/// One thread's use of one backend.
pub(crate) struct Session {
    backend: Backend,
    tokio: Option<tokio::runtime::Runtime>,
    mio: Option<(mio::Poll, mio::Events)>,
}

impl Session {
    /// Sets the backend up on the calling thread (a runtime, a `Poll`).
    pub(crate) fn new(backend: Backend) -> io::Result<Session> {
        let tokio = match backend {
            Backend::Tokio => Some(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?,
            ),
            _ => None,
        };
        let mio = match backend {
            Backend::Mio => Some((mio::Poll::new()?, mio::Events::with_capacity(64))),
            _ => None,
        };
        Ok(Session {
            backend,
            tokio,
            mio,
        })
    }

    /// Opens a stream over `fd` with `framer` and feeds `sink` until the stream ends or the
    /// sink stops. `Err` when the backend failed to open or a step stalled.
    pub(crate) fn run<D, S>(
        &mut self,
        fd: ReadFd,
        framer: Framer<D>,
        chaos: &mut Chaos,
        sink: &mut S,
    ) -> Result<(), String>
    where
        D: Decoder + 'static,
        S: Sink<D>,
    {
        match self.backend {
            Backend::Blocking => run_blocking(fd, framer, chaos, sink),
            Backend::BlockingFd => run_blocking_fd(fd, framer, chaos, sink),
            Backend::Tokio => {
                let runtime = self.tokio.as_ref().expect("a tokio session has a runtime");
                runtime.block_on(async {
                    let stream = fdframe_tokio::FdStream::with_framer(fd, framer)
                        .map_err(|e| format!("open: {e}"))?;
                    consume(stream, tokio::time::sleep, chaos, sink).await
                })
            }
            Backend::AsyncStd => async_std::task::block_on(async {
                let stream = fdframe_async_io::FdStream::with_framer(fd, framer)
                    .map_err(|e| format!("open: {e}"))?;
                consume(stream, async_io::Timer::after, chaos, sink).await
            }),
            Backend::Smol => smol::block_on(async {
                let stream = fdframe_async_io::FdStream::with_framer(fd, framer)
                    .map_err(|e| format!("open: {e}"))?;
                consume(stream, async_io::Timer::after, chaos, sink).await
            }),
            Backend::Mio => {
                let (poll, events) = self.mio.as_mut().expect("a mio session has a Poll");
                run_mio(poll, events, fd, framer, chaos, sink)
            }
        }
    }
}

fn run_blocking<D: Decoder, S: Sink<D>>(
    mut fd: ReadFd,
    framer: Framer<D>,
    chaos: &mut Chaos,
    sink: &mut S,
) -> Result<(), String> {
    // Timeouts need reads that never block; the reader waits in poll(2) instead.
    if fd.kind().is_pollable() {
        fd.set_nonblocking(true)
            .map_err(|e| format!("O_NONBLOCK: {e}"))?;
    }
    let mut reader = fdframe::blocking::FdReader::with_framer(fd, framer);
    loop {
        let ask = chaos.ask();
        let step = match ask {
            Ask::Wait => reader.next_timeout(STALL),
            Ask::Once => reader.poll_next_now(),
            Ask::Briefly(wait) => reader.next_timeout(wait),
        };
        match step {
            Poll::Ready(Some(step)) => {
                if !sink.on_step(step) {
                    return Ok(());
                }
                chaos.after_frame();
            }
            Poll::Ready(None) => {
                sink.on_end();
                return Ok(());
            }
            Poll::Pending if ask == Ask::Wait => return Err(stalled()),
            Poll::Pending => chaos.cancelled += 1,
        }
    }
}

fn run_blocking_fd<D: Decoder, S: Sink<D>>(
    mut fd: ReadFd,
    framer: Framer<D>,
    chaos: &mut Chaos,
    sink: &mut S,
) -> Result<(), String> {
    fd.set_nonblocking(false)
        .map_err(|e| format!("clear O_NONBLOCK: {e}"))?;
    for step in fdframe::blocking::FdReader::with_framer(fd, framer) {
        if !sink.on_step(step) {
            return Ok(());
        }
        chaos.after_frame();
    }
    sink.on_end();
    Ok(())
}

/// The async consumer, written once for every runtime: `sleep` makes that runtime's timer.
async fn consume<St, D, S, T>(
    mut stream: St,
    sleep: impl Fn(Duration) -> T,
    chaos: &mut Chaos,
    sink: &mut S,
) -> Result<(), String>
where
    St: futures_lite::Stream<Item = Result<D::Item, Error<D::Error>>> + Unpin,
    D: Decoder,
    S: Sink<D>,
    T: Future,
{
    loop {
        let ask = chaos.ask();
        let step = match ask {
            Ask::Wait => within(stream.next(), sleep(STALL)).await,
            Ask::Once => match poll_once(stream.next()).await {
                Some(step) => Poll::Ready(step),
                None => Poll::Pending,
            },
            Ask::Briefly(wait) => within(stream.next(), sleep(wait)).await,
        };
        match step {
            Poll::Ready(Some(step)) => {
                if !sink.on_step(step) {
                    return Ok(());
                }
                chaos.after_frame();
            }
            Poll::Ready(None) => {
                sink.on_end();
                return Ok(());
            }
            Poll::Pending if ask == Ask::Wait => return Err(stalled()),
            Poll::Pending => chaos.cancelled += 1,
        }
    }
}

fn run_mio<D: Decoder, S: Sink<D>>(
    poll: &mut mio::Poll,
    events: &mut mio::Events,
    fd: ReadFd,
    framer: Framer<D>,
    chaos: &mut Chaos,
    sink: &mut S,
) -> Result<(), String> {
    const TOKEN: mio::Token = mio::Token(7);
    let mut reader =
        fdframe_mio::FdReader::with_framer(fd, framer).map_err(|e| format!("open: {e}"))?;
    let registered = reader.needs_registration();
    if registered {
        poll.registry()
            .register(&mut reader, TOKEN, mio::Interest::READABLE)
            .map_err(|e| format!("register: {e}"))?;
    }
    loop {
        if reader.is_done() {
            sink.on_end();
            return Ok(());
        }
        // Wait only after a drain reached `WouldBlock`: edge-triggered readiness says nothing
        // about data that was already there.
        if registered && reader.is_drained() {
            let deadline = Instant::now() + STALL;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(stalled());
                }
                match poll.poll(events, Some(left)) {
                    Ok(()) if events.iter().any(|e| e.token() == TOKEN) => break,
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        chaos.interrupted_waits += 1;
                    }
                    Err(e) => return Err(format!("mio poll: {e}")),
                }
            }
        }
        for step in reader.drain() {
            if !sink.on_step(step) {
                return Ok(());
            }
            chaos.after_frame();
            if chaos.abandon_drain() {
                break;
            }
        }
        // An abandoned drain: nothing is lost, but no event comes for what is left, so the
        // loop drains again before it may wait (`is_drained` is false).
    }
}

fn stalled() -> String {
    format!("no step within {STALL:?}: the stream was not woken")
}

/// Runs `next` until it completes or `timer` fires; `Pending` means the time ran out and
/// `next` was dropped (a cancellation). Strict, as the conformance glue's: once the timer has
/// fired the stream is not polled again, so a stream its reactor forgot to wake is not rescued.
async fn within<N: Future, T: Future>(next: N, timer: T) -> Poll<N::Output> {
    let mut next = pin!(next);
    let mut timer = pin!(timer);
    let mut polled = false;
    poll_fn(|cx| {
        if polled && timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Poll::Pending);
        }
        polled = true;
        if let Poll::Ready(out) = next.as_mut().poll(cx) {
            return Poll::Ready(Poll::Ready(out));
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(Poll::Pending),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
