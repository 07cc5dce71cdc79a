//! What a `/dev/kmsg` record costs in allocations on its way through the engine: the copy the
//! engine makes of a small record is its storage, and nothing else is allocated until a lazy
//! part (message, dictionary, extra fields) is asked for. This binary counts every allocation,
//! so it holds this one test only.

use std::alloc::System;
use std::io;
use std::task::Poll;

use fdframe::Framer;
use fdframe::kmsg::{Caller, KmsgDecoder};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_decoded_kmsg_record_costs_one_allocation_until_its_lazy_parts_are_read() {
    const RECORDS: usize = 200;
    let reads: Vec<Vec<u8>> = (0..RECORDS)
        .map(|i| {
            format!(
                "6,{i},{},-,caller=T{i};usb 1-1: device {i} \\x5c here\n SUBSYSTEM=usb\n",
                1000 + i
            )
            .into_bytes()
        })
        .collect();
    let mut framer = Framer::new(KmsgDecoder::new());
    let mut next = reads.iter();
    let mut kept = Vec::with_capacity(RECORDS);
    let mut seqs = 0;

    let region = Region::new(GLOBAL);
    loop {
        let step = framer.poll_next_with(|buf| match next.next() {
            Some(read) => {
                buf.put_slice(read);
                Ok(())
            }
            None => Err(io::ErrorKind::WouldBlock.into()),
        });
        match step {
            Poll::Ready(Some(record)) => {
                let record = record.expect("a well-formed record");
                // What a reader that counts, or filters on level and sequence, looks at.
                seqs += record.seq();
                assert_eq!(record.priority(), 6);
                assert!(!record.flag().is_fragment());
                assert_eq!(record.caller(), Some(Caller::Thread(record.seq() as u32)));
                kept.push(record);
            }
            Poll::Ready(None) => unreachable!("a WouldBlock reader never ends"),
            Poll::Pending => break,
        }
    }
    let allocations = region.change().allocations;
    eprintln!("{allocations} allocations for {RECORDS} records");
    assert_eq!(kept.len(), RECORDS);
    assert_eq!(seqs, (0..RECORDS as u64).sum::<u64>());
    // One copy per record, plus the engine's read buffer and its loss queue, once.
    assert!(
        allocations <= RECORDS + 4,
        "{allocations} allocations for {RECORDS} records: more than the copy of each"
    );

    // The lazy parts are there when asked for, long after the engine moved on.
    for (i, record) in kept.iter().enumerate() {
        assert_eq!(
            record.message(),
            format!("usb 1-1: device {i} \\ here").as_str()
        );
        assert_eq!(record.get("SUBSYSTEM").unwrap(), "usb");
    }
}
