//! One loop per fdframe backend, the way its documentation shows it, generic over the decoder:
//! every item goes to `each`, and an error item ends the run as a failure.
//!
//! The runtimes are the ones each backend is for: a current-thread tokio runtime (one per
//! harness thread, built once so its construction is not timed), async-io's `block_on` (what
//! `smol::block_on` is), and a `mio::Poll` with the reader registered.

use std::future::Future;
use std::os::fd::OwnedFd;
use std::time::Duration;

use bytes::Bytes;
use fdframe::{Decoder, Framer, ReadFd};
use futures_lite::StreamExt;

use crate::harness::{Backend, Res, Tally};

/// How long the mio loop waits for an event before it calls the run hung (the watchdog would
/// too; this names the backend).
const MIO_STALL: Duration = Duration::from_secs(60);

/// The engine for `decoder`: `Framer::new`, which is what every backend's `from_fd(fd,
/// decoder)` builds, or with `max_read` its largest read size set (the `--max-read`
/// experiment).
pub(crate) fn framer<D: Decoder>(decoder: D, max_read: Option<usize>) -> Framer<D> {
    match max_read {
        Some(bytes) => Framer::new(decoder).with_max_read_size(bytes),
        None => Framer::new(decoder),
    }
}

/// Reads `fd` to its end on `backend` with `framer` (`with_framer`, which is what `from_fd`
/// does with `Framer::new`), handing every item to `each`.
pub(crate) fn each<D>(
    backend: Backend,
    fd: OwnedFd,
    framer: Framer<D>,
    mut each: impl FnMut(D::Item),
) -> Res<()>
where
    D: Decoder,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let fd = ReadFd::from_fd(fd)?;
    match backend {
        Backend::Blocking => {
            for item in fdframe::blocking::FdReader::with_framer(fd, framer) {
                each(item?);
            }
            Ok(())
        }
        Backend::Tokio => tokio_block_on(async {
            let mut stream = fdframe_tokio::FdStream::with_framer(fd, framer)?;
            while let Some(item) = stream.next().await {
                each(item?);
            }
            Ok(())
        }),
        Backend::AsyncIo => async_io::block_on(async {
            let mut stream = fdframe_async_io::FdStream::with_framer(fd, framer)?;
            while let Some(item) = stream.next().await {
                each(item?);
            }
            Ok(())
        }),
        Backend::Mio => {
            let mut reader = fdframe_mio::FdReader::with_framer(fd, framer)?;
            let mut poll = mio::Poll::new()?;
            poll.registry()
                .register(&mut reader, mio::Token(0), mio::Interest::READABLE)?;
            let mut events = mio::Events::with_capacity(8);
            loop {
                for item in reader.drain() {
                    each(item?);
                }
                if reader.is_done() {
                    return Ok(());
                }
                mio_wait(&mut poll, &mut events)?;
            }
        }
    }
}

/// Counts the `Bytes` frames of `fd` on `backend`.
pub(crate) fn tally<D>(backend: Backend, fd: OwnedFd, framer: Framer<D>) -> Res<Tally>
where
    D: Decoder<Item = Bytes>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let mut tally = Tally::default();
    each(backend, fd, framer, |frame| tally.frame(frame.len()))?;
    Ok(tally)
}

/// Reads `fd` to its end on `backend` through its batch API (the blocking `batches()`, the
/// async `FdStream::batches()`, mio's `drain_batches()`), handing every frame of every batch
/// to `each` as a borrowed slice, the way a batch consumer looks at them.
pub(crate) fn each_batch<D>(
    backend: Backend,
    fd: OwnedFd,
    framer: Framer<D>,
    mut each: impl FnMut(&[u8]),
) -> Res<()>
where
    D: Decoder,
    D::Item: AsRef<[u8]>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let fd = ReadFd::from_fd(fd)?;
    let mut batch = |frames: &fdframe::Frames<D::Item>| {
        for frame in frames {
            each(frame);
        }
    };
    match backend {
        Backend::Blocking => {
            let mut reader = fdframe::blocking::FdReader::with_framer(fd, framer);
            for frames in reader.batches() {
                batch(&frames?);
            }
            Ok(())
        }
        Backend::Tokio => tokio_block_on(async {
            let mut stream = fdframe_tokio::FdStream::with_framer(fd, framer)?.batches();
            while let Some(frames) = stream.next().await {
                batch(&frames?);
            }
            Ok(())
        }),
        Backend::AsyncIo => async_io::block_on(async {
            let mut stream = fdframe_async_io::FdStream::with_framer(fd, framer)?.batches();
            while let Some(frames) = stream.next().await {
                batch(&frames?);
            }
            Ok(())
        }),
        Backend::Mio => {
            let mut reader = fdframe_mio::FdReader::with_framer(fd, framer)?;
            let mut poll = mio::Poll::new()?;
            poll.registry()
                .register(&mut reader, mio::Token(0), mio::Interest::READABLE)?;
            let mut events = mio::Events::with_capacity(8);
            loop {
                for frames in reader.drain_batches() {
                    batch(&frames?);
                }
                if reader.is_done() {
                    return Ok(());
                }
                mio_wait(&mut poll, &mut events)?;
            }
        }
    }
}

/// Counts the frames of `fd` on `backend`'s batch API.
pub(crate) fn batch_tally<D>(backend: Backend, fd: OwnedFd, framer: Framer<D>) -> Res<Tally>
where
    D: Decoder,
    D::Item: AsRef<[u8]>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let mut tally = Tally::default();
    each_batch(backend, fd, framer, |frame| tally.frame(frame.len()))?;
    Ok(tally)
}

/// Waits for the next event of `poll`, retrying on `EINTR`; no event for a minute is a failure.
pub(crate) fn mio_wait(poll: &mut mio::Poll, events: &mut mio::Events) -> Res<()> {
    loop {
        match poll.poll(events, Some(MIO_STALL)) {
            Ok(()) if events.is_empty() => {
                return Err(format!("mio: no event in {} s", MIO_STALL.as_secs()).into());
            }
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

thread_local! {
    /// One current-thread runtime per harness thread, reused by every tokio contender.
    static TOKIO: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a tokio runtime");
}

/// Runs `future` on this thread's tokio runtime.
pub(crate) fn tokio_block_on<F: Future>(future: F) -> F::Output {
    TOKIO.with(|runtime| runtime.block_on(future))
}
