//! `/dev/kmsg` through the raw `AsyncRead`s (as root): why the streams exist.
//!
//! Not conformance cases (they test what a backend's `FdAsyncRead` does *wrong* on a record device,
//! as documented), and not in the backends' own test suites: they need the kmsg fixtures of
//! `fdframe-conformance`, which is not published, and the published packages' tests must build
//! without it. Skips are loud; `FDFRAME_REQUIRE_PRIVILEGED=1` turns them into failures.

#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::time::Duration;

use fdframe::Error;
use fdframe::kmsg::{KmsgRecord, KmsgStart};
use fdframe_conformance::fixtures::{
    kmsg_lock, kmsg_or_skip, numbers_of, unique_marker, write_numbered_kmsg_record,
};
use futures_lite::{AsyncReadExt, Stream, StreamExt};

const TAG: &str = "fdframe-glue-test";

/// How long any single await may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

fn write_records(marker: &str, count: usize) {
    for n in 0..count {
        write_numbered_kmsg_record(TAG, marker, n);
    }
}

/// Reads until no record has come for 200 ms. Loss notices are tolerated (the ring may wrap
/// while we read); any other error fails the test.
async fn read_until_quiet<S, E>(stream: &mut S) -> Vec<KmsgRecord>
where
    S: Stream<Item = Result<KmsgRecord, Error<E>>> + Unpin,
    E: std::fmt::Debug,
{
    let mut records = Vec::new();
    let give_up = tokio::time::Instant::now() + PATIENCE;
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

/// Why fdframe exists. The ring buffer holds a dozen ~1000-byte records (plus whatever the
/// kernel logged). Read through `fdframe_tokio::FdStream`, every one arrives. Read through the
/// usual glue — a tokio `AsyncRead` over the descriptor under `tokio_util::codec::FramedRead` —
/// the read that is offered less than the next record's length (the buffer's leftover capacity
/// after the first ~8 KiB) fails with `EINVAL`, and the kernel has already skipped that record.
#[test]
fn kmsg_ring_buffer_reads_whole_where_framed_read_fails_with_einval() {
    if !kmsg_or_skip("tokio kmsg FramedRead") {
        return;
    }
    let _kmsg = kmsg_lock();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let marker = unique_marker("ring");
        write_records(&marker, 12);

        let mut kmsg = fdframe_tokio::FdStream::kmsg(KmsgStart::Oldest).unwrap();
        let records = read_until_quiet(&mut kmsg).await;
        let numbers: BTreeSet<usize> = numbers_of(TAG, &marker, &records).into_iter().collect();
        assert_eq!(numbers, (0..12).collect());
        let total: usize = records.iter().map(|record| record.raw().len()).sum();
        assert!(
            total > 8 * 1024,
            "the ring must hold more than one FramedRead buffer"
        );

        let naive = fdframe_tokio::FdAsyncRead::open("/dev/kmsg").unwrap();
        let mut framed =
            tokio_util::codec::FramedRead::new(naive, tokio_util::codec::BytesCodec::new());
        let mut naive_records = 0;
        let failure = loop {
            match tokio::time::timeout(PATIENCE, framed.next()).await {
                Err(_) => panic!("FramedRead hung after {naive_records} records"),
                Ok(Some(Ok(_))) => naive_records += 1,
                Ok(Some(Err(e))) => break e,
                Ok(None) => {
                    panic!("FramedRead ended without an error after {naive_records} records")
                }
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
    });
}

/// What `fdframe_async_io::FdAsyncRead`'s docs warn about, and what the kmsg decoder's read sizing
/// prevents: a read into a buffer shorter than the record is `EINVAL`.
#[test]
fn kmsg_raw_read_into_a_small_buffer_is_einval() {
    if !kmsg_or_skip("async-io kmsg FdAsyncRead") {
        return;
    }
    let _kmsg = kmsg_lock();
    write_records(&unique_marker("einval"), 1);
    smol::block_on(async {
        let mut raw = fdframe_async_io::FdAsyncRead::open("/dev/kmsg").unwrap();
        // EPIPE first is fine: records were overwritten since the open (other tests log too)
        // and the device has moved on to the oldest one left.
        let einval = rustix::io::Errno::INVAL.raw_os_error();
        let epipe = rustix::io::Errno::PIPE.raw_os_error();
        let mut small = [0; 64];
        for _ in 0..100 {
            let read = raw.read(&mut small);
            let timeout = async {
                async_io::Timer::after(PATIENCE).await;
                panic!("a read of /dev/kmsg hung");
            };
            let err = futures_lite::future::or(timeout, read).await.unwrap_err();
            match err.raw_os_error() {
                Some(code) if code == einval => return,
                Some(code) if code == epipe => continue,
                _ => panic!("expected EINVAL, got {err}"),
            }
        }
        panic!("EPIPE on every read");
    });
}
