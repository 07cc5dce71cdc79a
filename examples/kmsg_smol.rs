//! Follows the kernel log like `dmesg -w`, on smol, and exits once the kernel has been quiet for
//! a while: prints the ring buffer, then new records as they are logged, until none has come
//! for `--idle SECONDS` (default 10). Lost records are reported with their count.
//!
//! Run with: sudo cargo run --example kmsg_smol [-- --idle 30]
//! (reading /dev/kmsg needs root or CAP_SYSLOG where kernel.dmesg_restrict=1)
//!
//! Linux-only (like all of fdframe).

use std::time::Duration;

use async_io::Timer;
use fdframe::Error;
use fdframe::kmsg::KmsgStart;
use fdframe_async_io::FdStream;
use futures_lite::{StreamExt, future};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let idle = match args.iter().position(|arg| arg == "--idle") {
        Some(i) => args
            .get(i + 1)
            .ok_or("--idle needs a number of seconds")?
            .parse()?,
        None => 10,
    };
    let idle = Duration::from_secs(idle);

    smol::block_on(async {
        // Opens /dev/kmsg and registers it with async-io's reactor, the one under smol.
        let mut kmsg = FdStream::kmsg(KmsgStart::Oldest).map_err(|e| {
            format!("cannot read /dev/kmsg: {e} (run as root, or set kernel.dmesg_restrict=0)")
        })?;
        loop {
            // Race the next record against a timer. Losing the race drops the pending `next()`,
            // which is safe: a half-read record stays buffered in the stream, nothing is lost.
            let next = async { Some(kmsg.next().await) };
            let timeout = async {
                Timer::after(idle).await;
                None
            };
            let item = match future::or(next, timeout).await {
                Some(Some(item)) => item,
                Some(None) => return Ok(()), // the stream ended (only after a read error)
                None => {
                    eprintln!("no kernel messages for {idle:?}, stopping");
                    return Ok(());
                }
            };
            match item {
                Ok(record) => println!("[{:>5}] {}", record.seq(), record.message_lossy()),
                // The ring buffer wrapped before we read: how many records, then it goes on.
                Err(Error::Lost(loss)) => eprintln!("-- {loss} --"),
                Err(e) if e.is_fatal() => return Err(e.into()),
                Err(e) => eprintln!("skipped: {e}"),
            }
        }
    })
}
