//! Follows the kernel log (`/dev/kmsg`) in a mio event loop, like `dmesg --follow`: prints the
//! records already in the ring buffer, then each new one as the kernel logs it.
//!
//! Run with: cargo run --example kmsg_mio [-- --new]
//! (`--new`: only records logged from now on). Reading needs root or CAP_SYSLOG where
//! `kernel.dmesg_restrict=1`. Try `echo hello | sudo tee /dev/kmsg` in another terminal.
//!
//! Linux-only (like all of fdframe).

use std::io;

use fdframe::kmsg::KmsgStart;
use fdframe_mio::FdReader;
use mio::{Events, Interest, Poll, Token};

const KMSG: Token = Token(0);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let new_only = std::env::args().any(|arg| arg == "--new");
    let start = if new_only {
        KmsgStart::New
    } else {
        KmsgStart::Oldest
    };
    let mut kmsg = match FdReader::kmsg(start) {
        Ok(kmsg) => kmsg,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            eprintln!("cannot read /dev/kmsg: {e}; run as root (kernel.dmesg_restrict=1)");
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut kmsg, KMSG, Interest::READABLE)?;
    let mut events = Events::with_capacity(16);

    loop {
        // Drain before waiting: mio is edge-triggered, so records already in the buffer (or left
        // from the last event) would otherwise wait for the *next* record to be noticed.
        for record in kmsg.drain() {
            match record {
                Ok(record) => {
                    let (t, text) = (record.timestamp(), record.message_lossy());
                    println!("[{:5}.{:06}] {text}", t.as_secs(), t.subsec_micros());
                }
                // "N kernel log records lost": the ring buffer overran us; reading goes on.
                Err(e) => eprintln!("fdframe: {e}"),
            }
        }
        // Sleep until the kernel logs something (an overrun arrives as an error event: the
        // drain above handles every kind of event alike); only after a drain that reached
        // `WouldBlock`, not one that paused after the engine's per-call budget.
        if kmsg.is_drained() {
            poll.poll(&mut events, None)?;
        }
    }
}
