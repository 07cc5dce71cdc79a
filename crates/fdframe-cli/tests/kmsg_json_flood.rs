//! The shipper's pipeline (`fdframe kmsg -w --json-lines --cursor F | consumer`) when the kernel
//! overwrites records while no reader runs: its consumer killed, records logged, the ring
//! buffer flooded past them, the pipeline restarted. The overwritten records are one loss
//! with the exact count, the others come exactly once.
//!
//! A test binary of its own, as `kmsg_flood.rs` is: the flood must not run beside the `cli`
//! tests that compare what they read of the ring buffer.

#[path = "cli/support.rs"]
#[allow(dead_code, reason = "shared with the cli binary, which uses all of it")]
mod support;

#[path = "cli/kmsg_json_harness.rs"]
#[allow(dead_code, reason = "shared with the cli binary, which uses all of it")]
mod kmsg_json_harness;

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};
use rustix::process::Signal;

use kmsg_json_harness::{Pipeline, check_stream, objects};
use support::{TempDir, marker, privileged, write_record};

/// The ring buffer read through a probe descriptor: (oldest, newest) sequence numbers.
fn ring_bounds() -> (u64, u64) {
    let fd = kmsg::open(KmsgStart::Oldest).expect("open /dev/kmsg");
    let mut probe = FdReader::from_fd(fd, KmsgDecoder::new()).unwrap();
    let oldest = probe.ready().find_map(Result::ok).map(|r| r.seq());
    probe.ready().for_each(drop);
    let newest = probe.framer().decoder().last_seq();
    (oldest.expect("a record"), newest.expect("a record"))
}

/// Writes ~1000-byte debug records until the record `seq` is gone from the ring buffer.
fn flood_past(seq: u64, tag: &str) -> usize {
    let mut written = 0;
    while ring_bounds().0 <= seq {
        for _ in 0..8 {
            let head = format!("{tag} flood {written} ");
            let padding = "p".repeat(1000 - head.len());
            write_record(15, format!("{head}{padding}").as_bytes());
            written += 1;
        }
        assert!(written < 100_000, "the ring buffer never wrapped");
    }
    written
}

#[test]
fn records_overwritten_while_no_reader_ran_are_one_exact_loss_and_the_rest_come_once() {
    let test = "json_pipeline_overwritten";
    if !privileged(test) {
        return;
    }
    let dir = TempDir::new(test);
    let cursor = dir.path("kmsg.cursor");
    let tag = marker(test);
    let outs = [dir.0.join("run-1.jsonl"), dir.0.join("run-2.jsonl")];

    let first = Pipeline::start(&cursor, &outs[0], &tag);
    for i in 0..5 {
        write_record(15, format!("{tag} a{i}").as_bytes());
    }
    first.wait_for(&format!("{tag} a4"));
    first.kill_consumer_between_batches(Signal::KILL, &format!("{tag} wake"));
    // fdframe has exited: its cursor is at or before `before`.
    let (_, before) = ring_bounds();
    for i in 0..5 {
        write_record(15, format!("{tag} b{i}").as_bytes());
    }
    let (_, after) = ring_bounds();
    // The b records (and the wake record before them) are overwritten before the next run.
    let flooded = flood_past(after, &tag);

    let second = Pipeline::start(&cursor, &outs[1], &tag);
    write_record(15, format!("{tag} end").as_bytes());
    second.wait_for(&format!("{tag} end"));
    second.stop();

    let runs: Vec<_> = outs.iter().map(|out| objects(out)).collect();
    let seen = check_stream(&runs, &tag);
    for i in 0..5 {
        assert_eq!(seen.count(&format!("{tag} a{i}")), 1, "{seen:?}");
        assert_eq!(seen.count(&format!("{tag} b{i}")), 0, "{seen:?}");
    }
    assert_eq!(seen.count(&format!("{tag} end")), 1);
    let gaps: Vec<_> = seen
        .losses
        .iter()
        .filter(|l| l.0 == "kmsg-resume-gap")
        .collect();
    assert_eq!(gaps.len(), 1, "one resume, one loss: {seen:?}");
    let (_, _, first_seq, last_seq) = gaps[0];
    assert!(
        *first_seq <= before + 1 && *last_seq >= after,
        "the loss {first_seq}..={last_seq} does not cover the overwritten {}..={after}",
        before + 1
    );
    eprintln!("flooded {flooded} records; the loss: {first_seq}..={last_seq}");
}
