//! Follows the kernel log like `dmesg -w`: prints every record in the ring buffer, then each new
//! one as the kernel logs it. With `--new`, only records logged from now on (`dmesg -W`).
//! Records the kernel overwrote before we read them are reported with their exact count.
//!
//! Run with: sudo cargo run --example kmsg_tokio [-- --new]
//! (reading /dev/kmsg needs root or CAP_SYSLOG where kernel.dmesg_restrict=1)
//!
//! Linux-only (like all of fdframe).

use std::io::{ErrorKind, Write};

use fdframe::Error;
use fdframe::kmsg::KmsgStart;
use fdframe_tokio::FdStream;
use tokio_stream::StreamExt; // `next()` for streams

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = if std::env::args().any(|arg| arg == "--new") {
        KmsgStart::New
    } else {
        KmsgStart::Oldest
    };

    // Opens /dev/kmsg (non-blocking) and registers it with tokio's reactor. The decoder makes
    // sure every read has room for a whole record: no record is lost to EINVAL.
    let mut kmsg = match FdStream::kmsg(start) {
        Ok(kmsg) => kmsg,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            eprintln!("cannot read /dev/kmsg: {e}");
            eprintln!("run as root, or set kernel.dmesg_restrict=0 (sysctl)");
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };

    let mut out = std::io::stdout().lock();
    // `next()` waits without blocking the runtime; it never returns `None` for /dev/kmsg.
    while let Some(item) = kmsg.next().await {
        match item {
            Ok(record) => {
                let (time, level) = (record.timestamp().as_secs_f64(), record.level());
                let line = writeln!(out, "[{time:>12.6}] {level:<6} {}", record.message_lossy());
                if line.is_err() {
                    return Ok(()); // stdout was closed (`| head`): we are done
                }
            }
            // The ring buffer wrapped before we read: how many records, then the stream goes on.
            Err(Error::Lost(loss)) => eprintln!("-- {loss} --"),
            // A read error ends the stream.
            Err(e) if e.is_fatal() => return Err(e.into()),
            // A malformed record was skipped; the next one follows.
            Err(e) => eprintln!("skipped: {e}"),
        }
    }
    Ok(())
}
