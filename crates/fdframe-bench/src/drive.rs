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
use fdframe::Decoder;
use futures_lite::StreamExt;

use crate::harness::{Backend, Res, Tally};

/// How long the mio loop waits for an event before it calls the run hung (the watchdog would
/// too; this names the backend).
const MIO_STALL: Duration = Duration::from_secs(60);

/// Reads `fd` to its end on `backend`, handing every item to `each`.
pub(crate) fn each<D>(
    backend: Backend,
    fd: OwnedFd,
    decoder: D,
    mut each: impl FnMut(D::Item),
) -> Res<()>
where
    D: Decoder,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    match backend {
        Backend::Blocking => {
            for item in fdframe::blocking::FdReader::from_fd(fd, decoder)? {
                each(item?);
            }
            Ok(())
        }
        Backend::Tokio => tokio_block_on(async {
            let mut stream = fdframe_tokio::FdStream::from_fd(fd, decoder)?;
            while let Some(item) = stream.next().await {
                each(item?);
            }
            Ok(())
        }),
        Backend::AsyncIo => async_io::block_on(async {
            let mut stream = fdframe_async_io::FdStream::from_fd(fd, decoder)?;
            while let Some(item) = stream.next().await {
                each(item?);
            }
            Ok(())
        }),
        Backend::Mio => {
            let mut reader = fdframe_mio::FdReader::from_fd(fd, decoder)?;
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
pub(crate) fn tally<D>(backend: Backend, fd: OwnedFd, decoder: D) -> Res<Tally>
where
    D: Decoder<Item = Bytes>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let mut tally = Tally::default();
    each(backend, fd, decoder, |frame| tally.frame(frame.len()))?;
    Ok(tally)
}

/// Reads `fd` to its end on `backend` through its batch API (the blocking `batches()`, the
/// async `FdStream::batches()`, mio's `drain_batches()`), handing every frame of every batch
/// to `each` as a borrowed slice, the way a batch consumer looks at them.
pub(crate) fn each_batch<D>(
    backend: Backend,
    fd: OwnedFd,
    decoder: D,
    mut each: impl FnMut(&[u8]),
) -> Res<()>
where
    D: Decoder,
    D::Item: AsRef<[u8]>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let mut batch = |frames: &fdframe::Frames<D::Item>| {
        for frame in frames {
            each(frame);
        }
    };
    match backend {
        Backend::Blocking => {
            let mut reader = fdframe::blocking::FdReader::from_fd(fd, decoder)?;
            for frames in reader.batches() {
                batch(&frames?);
            }
            Ok(())
        }
        Backend::Tokio => tokio_block_on(async {
            let mut stream = fdframe_tokio::FdStream::from_fd(fd, decoder)?.batches();
            while let Some(frames) = stream.next().await {
                batch(&frames?);
            }
            Ok(())
        }),
        Backend::AsyncIo => async_io::block_on(async {
            let mut stream = fdframe_async_io::FdStream::from_fd(fd, decoder)?.batches();
            while let Some(frames) = stream.next().await {
                batch(&frames?);
            }
            Ok(())
        }),
        Backend::Mio => {
            let mut reader = fdframe_mio::FdReader::from_fd(fd, decoder)?;
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
pub(crate) fn batch_tally<D>(backend: Backend, fd: OwnedFd, decoder: D) -> Res<Tally>
where
    D: Decoder,
    D::Item: AsRef<[u8]>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    let mut tally = Tally::default();
    each_batch(backend, fd, decoder, |frame| tally.frame(frame.len()))?;
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
