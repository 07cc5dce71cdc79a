//! The scale contenders: every pipe's stream on one thread, each backend's own way. Each
//! stream must see exactly its pipe's frames.

use std::os::fd::OwnedFd;

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::{Decoder, ReadFd};
use futures_lite::{Stream, StreamExt};
use rustix::event::{PollFd, PollFlags, Timespec};

use crate::drive;
use crate::harness::{Res, Tally};
use crate::peers::glue;

/// Reads every pipe to its end (each holding `frames` lines); calls `go` once every stream is set
/// up (which starts the writer and the clock); returns the frames seen in all.
pub(super) type ScaleRun = fn(Vec<OwnedFd>, u64, &mut dyn FnMut()) -> Res<u64>;

/// The contender for `key`.
pub(super) fn get(key: &str) -> Option<ScaleRun> {
    Some(match key {
        "tokio" => tokio,
        "async-io" => async_io,
        "mio" => mio,
        "blocking" => blocking,
        "glue" => tokio_glue,
        _ => return None,
    })
}

/// The content length of the scale workload's lines.
const CONTENT: usize = super::LINE.len() - 1;

fn expect(tally: Tally, frames: u64) -> Res<u64> {
    let expected = Tally {
        frames,
        bytes: frames * CONTENT as u64,
    };
    tally.check("a stream", expected)?;
    Ok(frames)
}

async fn count<S, E>(mut stream: S, frames: u64) -> Res<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut tally = Tally::default();
    while let Some(line) = stream.next().await {
        tally.frame(line?.len());
    }
    expect(tally, frames)
}

fn tokio(fds: Vec<OwnedFd>, frames: u64, go: &mut dyn FnMut()) -> Res<u64> {
    drive::tokio_block_on(async {
        let mut tasks = Vec::with_capacity(fds.len());
        for fd in fds {
            let stream = fdframe_tokio::FdStream::from_fd(fd, LinesDecoder::new())?;
            tasks.push(tokio::spawn(count(stream, frames)));
        }
        go();
        let mut total = 0;
        for task in tasks {
            total += task.await??;
        }
        Ok(total)
    })
}

fn tokio_glue(fds: Vec<OwnedFd>, frames: u64, go: &mut dyn FnMut()) -> Res<u64> {
    drive::tokio_block_on(async {
        let mut tasks = Vec::with_capacity(fds.len());
        for fd in fds {
            let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?;
            let codec = glue::ZeroCopyLines::default();
            let stream = tokio_util::codec::FramedRead::with_capacity(rx, codec, 8 * 1024);
            tasks.push(tokio::spawn(count(stream, frames)));
        }
        go();
        let mut total = 0;
        for task in tasks {
            total += task.await??;
        }
        Ok(total)
    })
}

fn async_io(fds: Vec<OwnedFd>, frames: u64, go: &mut dyn FnMut()) -> Res<u64> {
    let executor = async_executor::LocalExecutor::new();
    async_io::block_on(executor.run(async {
        let mut tasks = Vec::with_capacity(fds.len());
        for fd in fds {
            let stream = fdframe_async_io::FdStream::from_fd(fd, LinesDecoder::new())?;
            tasks.push(executor.spawn(count(stream, frames)));
        }
        go();
        let mut total = 0;
        for task in tasks {
            total += task.await?;
        }
        Ok(total)
    }))
}

fn mio(fds: Vec<OwnedFd>, frames: u64, go: &mut dyn FnMut()) -> Res<u64> {
    let mut poll = mio::Poll::new()?;
    let mut readers = Vec::with_capacity(fds.len());
    for (i, fd) in fds.into_iter().enumerate() {
        let mut reader = fdframe_mio::FdReader::from_fd(fd, LinesDecoder::new())?;
        poll.registry()
            .register(&mut reader, mio::Token(i), mio::Interest::READABLE)?;
        readers.push(Some((reader, Tally::default())));
    }
    go();
    let mut events = mio::Events::with_capacity(1024);
    let (mut left, mut total) = (readers.len(), 0);
    while left > 0 {
        drive::mio_wait(&mut poll, &mut events)?;
        for event in &events {
            let slot = &mut readers[event.token().0];
            let Some((reader, tally)) = slot else {
                continue;
            };
            for line in reader.drain() {
                tally.frame(line?.len());
            }
            if reader.is_done() {
                total += expect(*tally, frames)?;
                poll.registry().deregister(reader)?;
                *slot = None;
                left -= 1;
            }
        }
    }
    Ok(total)
}

/// One `poll(2)` over every open pipe; each ready reader is stepped with `poll_next_now` until
/// it would block.
fn blocking(fds: Vec<OwnedFd>, frames: u64, go: &mut dyn FnMut()) -> Res<u64> {
    let mut open = Vec::with_capacity(fds.len());
    for fd in fds {
        let reader =
            fdframe::blocking::FdReader::new(ReadFd::from_fd_nonblocking(fd)?, LinesDecoder::new());
        open.push((reader, Tally::default()));
    }
    go();
    let limit = Timespec {
        tv_sec: 60,
        tv_nsec: 0,
    };
    let mut total = 0;
    while !open.is_empty() {
        let mut ready = Vec::new();
        {
            let mut fds: Vec<PollFd<'_>> = open
                .iter()
                .map(|(r, _)| PollFd::new(r.get_ref(), PollFlags::IN))
                .collect();
            match rustix::event::poll(&mut fds, Some(&limit)) {
                Ok(0) => return Err("blocking: poll(2) saw nothing for 60 s".into()),
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            ready.extend((0..fds.len()).filter(|&i| !fds[i].revents().is_empty()));
        }
        // Highest index first, so that removing a finished reader moves none still to visit.
        for &i in ready.iter().rev() {
            let (reader, tally) = &mut open[i];
            if step_until_blocked(reader, tally)? {
                total += expect(*tally, frames)?;
                open.swap_remove(i);
            }
        }
    }
    Ok(total)
}

/// Steps `reader` until it would block; `true` once its stream has ended.
fn step_until_blocked<D>(
    reader: &mut fdframe::blocking::FdReader<D>,
    tally: &mut Tally,
) -> Res<bool>
where
    D: Decoder<Item = Bytes>,
    D::Error: std::error::Error + Send + Sync + 'static,
{
    loop {
        match reader.poll_next_now() {
            std::task::Poll::Ready(Some(line)) => tally.frame(line?.len()),
            std::task::Poll::Ready(None) => return Ok(true),
            std::task::Poll::Pending => return Ok(false),
        }
    }
}
