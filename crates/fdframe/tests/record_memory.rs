//! Memory per record in one-record-per-read mode: records the caller keeps must not each pin a
//! whole read buffer (64 KiB for a datagram decoder). This binary counts every allocation, so it
//! holds this one test only.

use std::alloc::System;

use fdframe::blocking::FdReader;
use fdframe::devices::DatagramDecoder;
use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType, socketpair};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn small_records_kept_by_the_caller_do_not_each_pin_a_read_buffer() {
    const RECORDS: usize = 500;
    let (reader, writer) = socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    let mut packets = FdReader::from_fd(reader, DatagramDecoder::new(64 * 1024)).unwrap();
    let region = Region::new(GLOBAL);
    let mut kept = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        rustix::net::send(&writer, &[i as u8; 100], SendFlags::empty()).unwrap();
        kept.push(packets.next().unwrap().unwrap());
    }
    let allocated = region.change().bytes_allocated;
    eprintln!("{allocated} bytes allocated for {RECORDS} records kept");
    assert!(
        kept.iter()
            .enumerate()
            .all(|(i, p)| p.len() == 100 && p[0] == i as u8)
    );
    // One 64 KiB read buffer, reused, plus a small copy per record: about 64 KiB + 500 × ~200 B.
    // Pinning a read buffer per record would be 500 × 64 KiB = 32 MiB.
    assert!(
        allocated < 1024 * 1024,
        "{allocated} bytes allocated for {RECORDS} records"
    );
}
