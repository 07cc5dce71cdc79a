//! `/dev/kmsg` as root: the naive `AsyncRead` + `FramedRead` glue fails on a ring buffer that
//! `FdStream` reads whole.
//!
//! Reading the records back whole and `KmsgStart::New` are conformance cases; this is the one
//! comparison only tokio has (its `FramedRead`). The access check and the record writer are
//! local (a few lines) so that the published package's tests need no unpublished fixture crate.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fdframe::Error;
use fdframe::kmsg::{KmsgRecord, KmsgStart};
use fdframe_tokio::{FdRead, FdStream};
use tokio_stream::{Stream, StreamExt};

const TAG: &str = "fdframe-tokio-test";

/// `true` when `/dev/kmsg` can be read and written here; otherwise prints `SKIPPED: <reason>`
/// (or fails, with `FDFRAME_REQUIRE_PRIVILEGED=1`) and returns `false`.
fn kmsg_available() -> bool {
    let reason = if !rustix::process::geteuid().is_root() {
        "needs root to read and write /dev/kmsg".to_string()
    } else if let Err(e) = OpenOptions::new().read(true).write(true).open("/dev/kmsg") {
        format!("cannot open /dev/kmsg: {e}")
    } else if std::fs::read_to_string("/proc/sys/kernel/printk_devkmsg")
        .is_ok_and(|setting| setting.trim() == "off")
    {
        "kernel.printk_devkmsg=off drops written records".to_string()
    } else {
        return true;
    };
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        panic!("fdframe-tokio kmsg: {reason} (FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)");
    }
    eprintln!(
        "SKIPPED: fdframe-tokio kmsg: {reason} (set FDFRAME_REQUIRE_PRIVILEGED=1 to fail instead)"
    );
    false
}

/// A marker no other run has used.
fn unique_marker(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("fdframe-{test}-{}-{nanos}", std::process::id())
}

/// Writes `count` user.info records of about 1000 bytes, `<TAG> <marker> <n> ppp…`, each with
/// one `write(2)` on a descriptor of its own (the kernel's write rate limit is per open file).
fn write_records(marker: &str, count: usize) {
    for n in 0..count {
        let head = format!("<14>{TAG} {marker} {n} ");
        let record = format!("{head}{}\n", "p".repeat(1000 - head.len() - 1));
        let mut writer = OpenOptions::new().write(true).open("/dev/kmsg").unwrap();
        assert_eq!(writer.write(record.as_bytes()).unwrap(), record.len());
    }
}

/// The record numbers of the records that carry `marker`.
fn numbers_with(marker: &str, records: &[KmsgRecord]) -> BTreeSet<usize> {
    let needle = format!("{TAG} {marker} ");
    records
        .iter()
        .filter_map(|record| {
            let text = record.message_lossy();
            let at = text.find(&needle)? + needle.len();
            text[at..].split(' ').next()?.parse().ok()
        })
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
