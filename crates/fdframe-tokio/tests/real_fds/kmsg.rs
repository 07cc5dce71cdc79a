//! `/dev/kmsg` as root: records written by the test are read back whole; the naive
//! `AsyncRead` + `FramedRead` glue fails on the same ring buffer.

use std::collections::BTreeSet;
use std::time::Duration;

use fdframe::Error;
use fdframe::kmsg::{KmsgRecord, KmsgStart};
use fdframe_tokio::{FdRead, FdStream};
use tokio_stream::{Stream, StreamExt};

fn kmsg_available() -> bool {
    fdframe_conformance::fixtures::kmsg_or_skip("fdframe-tokio kmsg")
}

fn unique_marker(test: &str) -> String {
    fdframe_conformance::fixtures::unique_marker(test)
}

const TAG: &str = "fdframe-tokio-test";

/// Writes `count` records of about 1000 bytes carrying `marker` and their number.
fn write_records(marker: &str, count: usize) {
    for n in 0..count {
        fdframe_conformance::fixtures::write_numbered_kmsg_record(TAG, marker, n);
    }
}

/// The record numbers, in reading order, of the records that carry `marker`.
fn numbers_with(marker: &str, records: &[KmsgRecord]) -> BTreeSet<usize> {
    fdframe_conformance::fixtures::numbers_of(TAG, marker, records)
        .into_iter()
        .collect()
}

/// Reads until no record has come for 200 ms. Loss notices are tolerated (the ring may wrap
/// while we read); any other error fails the test.
async fn read_until_quiet<S, E>(stream: &mut S) -> Vec<KmsgRecord>
where
    S: Stream<Item = Result<KmsgRecord, Error<E>>> + Unpin,
    E: std::fmt::Debug,
{
    let mut records = Vec::new();
    let give_up = tokio::time::Instant::now() + super::PATIENCE;
    loop {
        assert!(
            tokio::time::Instant::now() < give_up,
            "the kernel log never went quiet"
        );
        match tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
            Err(_quiet) => return records,
            Ok(None) => panic!("/dev/kmsg never ends"),
            Ok(Some(Ok(record))) => records.push(record),
            Ok(Some(Err(Error::Lost(loss)))) => eprintln!("note: {loss}"),
            Ok(Some(Err(e))) => panic!("unexpected error from /dev/kmsg: {e:?}"),
        }
    }
}

#[tokio::test]
async fn kmsg_oldest_finds_the_records_written() {
    if !kmsg_available() {
        return;
    }
    let marker = unique_marker("oldest");
    write_records(&marker, 3);
    let mut kmsg = FdStream::kmsg(KmsgStart::Oldest).unwrap();
    let records = super::within(read_until_quiet(&mut kmsg)).await;
    assert_eq!(numbers_with(&marker, &records), BTreeSet::from([0, 1, 2]));
}

#[tokio::test]
async fn kmsg_new_sees_only_records_written_after_opening() {
    if !kmsg_available() {
        return;
    }
    let before = unique_marker("before");
    write_records(&before, 1);
    let mut kmsg = FdStream::kmsg(KmsgStart::New).unwrap();
    let after = unique_marker("after");
    write_records(&after, 3);
    let records = super::within(read_until_quiet(&mut kmsg)).await;
    assert_eq!(numbers_with(&after, &records), BTreeSet::from([0, 1, 2]));
    assert!(
        numbers_with(&before, &records).is_empty(),
        "an old record was read"
    );
}

/// Why fdframe exists. The ring buffer holds a dozen ~1000-byte records (plus whatever the
/// kernel logged). Read through `FdStream`, every one arrives. Read through the usual glue —
/// a tokio `AsyncRead` over the descriptor under `tokio_util::codec::FramedRead` — the read
/// that is offered less than the next record's length (the buffer's leftover capacity after the
/// first ~8 KiB) fails with `EINVAL`, and the kernel has already skipped that record.
#[tokio::test]
async fn kmsg_ring_buffer_reads_whole_where_framed_read_fails_with_einval() {
    if !kmsg_available() {
        return;
    }
    let marker = unique_marker("ring");
    write_records(&marker, 12);

    let mut kmsg = FdStream::kmsg(KmsgStart::Oldest).unwrap();
    let records = super::within(read_until_quiet(&mut kmsg)).await;
    assert_eq!(numbers_with(&marker, &records), (0..12).collect());
    let total: usize = records.iter().map(|record| record.raw().len()).sum();
    assert!(
        total > 8 * 1024,
        "the ring must hold more than one FramedRead buffer"
    );

    let naive = FdRead::open("/dev/kmsg").unwrap();
    let mut framed =
        tokio_util::codec::FramedRead::new(naive, tokio_util::codec::BytesCodec::new());
    let mut naive_records = 0;
    let failure = loop {
        match super::within(framed.next()).await {
            Some(Ok(_)) => naive_records += 1,
            Some(Err(e)) => break e,
            None => panic!("FramedRead ended without an error after {naive_records} records"),
        }
    };
    assert_eq!(
        failure.raw_os_error(),
        Some(22),
        "expected EINVAL, got {failure}"
    );
    assert!(
        naive_records < records.len(),
        "the naive glue read {naive_records} of {} records before failing",
        records.len()
    );
}
