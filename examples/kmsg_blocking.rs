//! Follows the kernel log like `dmesg -w` without any async runtime: the blocking reference
//! backend is a plain `Iterator`. Prints the ring buffer, then each new record as it is logged;
//! records the kernel overwrote before we read them are reported with their exact count.
//!
//! Run with: sudo cargo run --example kmsg_blocking
//! (reading /dev/kmsg needs root or CAP_SYSLOG where kernel.dmesg_restrict=1)
//!
//! Linux-only (like all of fdframe).

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `kmsg::open` positions the descriptor (here: at the oldest record still in the ring);
    // the decoder makes sure every read has room for a whole record (else: EINVAL).
    let fd = kmsg::open(KmsgStart::Oldest)
        .map_err(|e| format!("cannot read /dev/kmsg: {e} (run as root)"))?;
    let records = FdReader::from_fd(fd, KmsgDecoder::new())?;

    // The iterator blocks in poll(2) between records; it never ends for /dev/kmsg.
    for item in records {
        match item {
            Ok(record) => println!(
                "[{:>5}] <{}> {}",
                record.seq(),
                record.level(),
                record.message_lossy()
            ),
            // Not an error: the ring buffer wrapped; the count is exact, and reading goes on.
            Err(Error::Lost(loss)) => eprintln!("-- {loss} --"),
            // A failed read ends the stream: stop with the error.
            Err(e) if e.is_fatal() => return Err(e.into()),
            // Anything else (a malformed record) was skipped; the next one follows.
            Err(e) => eprintln!("skipped: {e}"),
        }
    }
    Ok(())
}
