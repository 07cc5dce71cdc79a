//! Follows the kernel log like `dmesg -w`, on async-std: prints every record in the ring buffer,
//! then each new one as the kernel logs it. With `--new`, only records logged from now on
//! (`dmesg -W`). Records the kernel overwrote before we read them are reported with their count.
//!
//! Run with: sudo cargo run --example kmsg_async_std [-- --new]
//! (reading /dev/kmsg needs root or CAP_SYSLOG where kernel.dmesg_restrict=1)
//!
//! Linux-only (like all of fdframe). async-std is deprecated in favour of smol; the same
//! program on smol is `kmsg_smol`.

use std::io::{ErrorKind, Write};

use async_std::stream::StreamExt; // `next()` for streams
use fdframe::Error;
use fdframe::kmsg::KmsgStart;
use fdframe_async_io::FdStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = if std::env::args().any(|arg| arg == "--new") {
        KmsgStart::New
    } else {
        KmsgStart::Oldest
    };

    // Opens /dev/kmsg (non-blocking) and registers it with async-io's reactor, the one under
    // async-std. The decoder gives every read room for a whole record: none is lost to EINVAL.
    let mut kmsg = match FdStream::kmsg(start) {
        Ok(kmsg) => kmsg,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            eprintln!("cannot read /dev/kmsg: {e}");
            eprintln!("run as root, or set kernel.dmesg_restrict=0 (sysctl)");
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };

    async_std::task::block_on(async {
        let mut out = std::io::stdout().lock();
        // `next()` waits without blocking other tasks; it never returns `None` for /dev/kmsg.
        while let Some(item) = kmsg.next().await {
            match item {
                Ok(record) => {
                    let (time, level) = (record.timestamp().as_secs_f64(), record.level());
                    if writeln!(out, "[{time:>12.6}] {level:<6} {}", record.message_lossy())
                        .is_err()
                    {
                        return Ok(()); // stdout was closed (`| head`): we are done
                    }
                }
                // The ring buffer wrapped before we read: how many records, then it goes on.
                Err(Error::Lost(loss)) => eprintln!("-- {loss} --"),
                // A read error ends the stream.
                Err(e) if e.is_fatal() => return Err(e.into()),
                // A malformed record was skipped; the next one follows.
                Err(e) => eprintln!("skipped: {e}"),
            }
        }
        Ok(())
    })
}
