//! The readers being compared. The first is the baseline the ratios are relative to.

use std::os::fd::OwnedFd;

use fdframe::Framer;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;

use crate::Contender;

/// Every contender, baseline first.
pub(crate) fn all() -> Vec<Contender> {
    vec![
        Contender {
            name: "raw read(2), 64 KiB buffer, memchr count",
            run: raw_read_loop,
        },
        Contender {
            name: "fdframe blocking, LinesDecoder (adaptive)",
            run: fdframe_blocking,
        },
        Contender {
            name: "fdframe blocking, LinesDecoder, 8 KiB reads",
            run: fdframe_blocking_8k,
        },
        Contender {
            name: "fdframe blocking, LinesDecoder, 64 KiB reads",
            run: fdframe_blocking_64k,
        },
        Contender {
            name: "fdframe-tokio FdStream, LinesDecoder",
            run: fdframe_tokio,
        },
        Contender {
            name: "tokio-util FramedRead + LinesCodec (glue)",
            run: tokio_util_lines,
        },
        Contender {
            name: "tokio-util FramedRead + AnyDelimiterCodec",
            run: tokio_util_any_delimiter,
        },
        Contender {
            name: "fdframe-async-std FdStream (smol), LinesDecoder",
            run: fdframe_smol,
        },
        Contender {
            name: "asynchronous-codec FramedRead + LinesCodec",
            run: asynchronous_codec_lines,
        },
    ]
}

fn raw_read_loop(fd: OwnedFd) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines = 0;
    loop {
        match rustix::io::read(&fd, &mut buf[..]) {
            Ok(0) => return lines,
            Ok(n) => lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn count<D: fdframe::Decoder>(reader: FdReader<D>) -> u64 {
    let mut lines = 0;
    for frame in reader {
        frame.expect("a line");
        lines += 1;
    }
    lines
}

fn fdframe_blocking(fd: OwnedFd) -> u64 {
    count(FdReader::from_fd(fd, LinesDecoder::new()).expect("reader"))
}

fn fdframe_blocking_64k(fd: OwnedFd) -> u64 {
    let framer = Framer::new(LinesDecoder::new()).with_max_read_size(64 * 1024);
    count(FdReader::with_framer(
        fdframe::ReadFd::from_fd(fd).expect("fd"),
        framer,
    ))
}

fn fdframe_blocking_8k(fd: OwnedFd) -> u64 {
    let framer = Framer::new(LinesDecoder::new()).with_max_read_size(8 * 1024);
    count(FdReader::with_framer(
        fdframe::ReadFd::from_fd(fd).expect("fd"),
        framer,
    ))
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime")
}

fn fdframe_tokio(fd: OwnedFd) -> u64 {
    use tokio_stream::StreamExt;
    tokio_runtime().block_on(async {
        let mut lines = fdframe_tokio::FdStream::from_fd(fd, LinesDecoder::new()).expect("stream");
        let mut n = 0;
        while let Some(line) = lines.next().await {
            line.expect("a line");
            n += 1;
        }
        n
    })
}

/// What hand-written glue looks like: tokio's pipe receiver, `FramedRead` with default buffer
/// handling, and a codec from tokio-util.
fn tokio_util_framed<C>(fd: OwnedFd, codec: C) -> u64
where
    C: tokio_util::codec::Decoder,
    C::Error: std::fmt::Debug,
{
    use tokio_stream::StreamExt;
    tokio_runtime().block_on(async {
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(fd).expect("tokio pipe");
        let mut frames = tokio_util::codec::FramedRead::new(pipe, codec);
        let mut n = 0;
        while let Some(frame) = frames.next().await {
            frame.expect("a frame");
            n += 1;
        }
        n
    })
}

fn tokio_util_lines(fd: OwnedFd) -> u64 {
    tokio_util_framed(fd, tokio_util::codec::LinesCodec::new())
}

fn tokio_util_any_delimiter(fd: OwnedFd) -> u64 {
    tokio_util_framed(
        fd,
        tokio_util::codec::AnyDelimiterCodec::new(b"\n".to_vec(), Vec::new()),
    )
}

fn fdframe_smol(fd: OwnedFd) -> u64 {
    use futures_lite::StreamExt;
    futures_lite::future::block_on(async {
        let mut lines =
            fdframe_async_std::FdStream::from_fd(fd, LinesDecoder::new()).expect("stream");
        let mut n = 0;
        while let Some(line) = lines.next().await {
            line.expect("a line");
            n += 1;
        }
        n
    })
}

/// The futures-io world's glue: async-io's `Async` around the pipe and asynchronous-codec.
fn asynchronous_codec_lines(fd: OwnedFd) -> u64 {
    use futures_lite::StreamExt;
    futures_lite::future::block_on(async {
        let pipe = async_io::Async::new(std::fs::File::from(fd)).expect("async pipe");
        let mut frames = asynchronous_codec::FramedRead::new(pipe, asynchronous_codec::LinesCodec);
        let mut n = 0;
        while let Some(frame) = frames.next().await {
            frame.expect("a frame");
            n += 1;
        }
        n
    })
}
