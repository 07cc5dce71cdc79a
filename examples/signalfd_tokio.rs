//! Receives signals as a stream of typed records on tokio, through a signalfd: every
//! `SIGUSR1` or `SIGHUP` sent to the process is printed with the sender's pid; `SIGINT` (Ctrl-C)
//! ends the program.
//!
//! Run with: cargo run --example signalfd_tokio
//! Then, from another terminal: kill -USR1 <the pid it prints>
//!
//! Linux-only (like all of fdframe).

use std::os::fd::OwnedFd;

use fdframe::devices::SignalfdDecoder;
use fdframe_tokio::FdStream;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use tokio_stream::StreamExt; // `next()` for streams

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A signalfd only receives signals that are blocked; block them *before* the runtime starts
    // its threads, so every thread inherits the mask and none runs a default handler.
    let mut mask = SigSet::empty();
    for signal in [Signal::SIGUSR1, Signal::SIGHUP, Signal::SIGINT] {
        mask.add(signal);
    }
    mask.thread_block()?;
    let fd: OwnedFd =
        SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?.into();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        // Each read returns whole 128-byte `signalfd_siginfo` records; the decoder asks the
        // engine for room for one before every read (a shorter buffer gets EINVAL).
        let mut signals = FdStream::from_fd(fd, SignalfdDecoder::new())?;
        eprintln!(
            "pid {}: try kill -USR1 {0}; Ctrl-C ends",
            std::process::id()
        );
        while let Some(info) = signals.next().await {
            let info = info?; // signalfd reports no losses: any error is a failed read
            println!("signal {} from pid {}", info.signo, info.pid);
            if info.signo == Signal::SIGINT as u32 {
                break;
            }
        }
        Ok(())
    })
}
