//! `/dev/kmsg`: long records, dictionaries, `SEEK_END`, and overrun accounting.
//!
//! The cases that touch the real device need root, take the process-wide kmsg lock (the ring
//! buffer is shared, and the overrun case floods it), and write only user-facility info/debug
//! records tagged with a marker unique to the run.

use std::os::fd::OwnedFd;
use std::task::Poll;

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, Facility, KmsgDecoder, KmsgRecord, KmsgStart, Level};
use fdframe::{Error, Framer, ReadFd};
use rustix::net::SendFlags;

use crate::fixtures::{
    STEP, kmsg_lock, require_kmsg, socketpair_seqpacket, unique_marker, write_kmsg_record,
};
use crate::{Backend, Outcome, Reader, Seen, drain_until_end, next_seen};

fn open_kmsg<B: Backend>(start: KmsgStart, decoder: KmsgDecoder) -> B::Reader<KmsgDecoder> {
    let fd = kmsg::open(start).unwrap();
    B::open(ReadFd::from_fd(fd).unwrap(), Framer::new(decoder)).unwrap()
}

/// The next record whose message starts with `prefix`, skipping other processes' records
/// (and loss notices caused by them).
fn next_marked<R: Reader<KmsgDecoder>>(reader: &mut R, prefix: &str) -> KmsgRecord {
    loop {
        match next_seen(reader, STEP) {
            Seen::Item(record) if record.message().starts_with(prefix.as_bytes()) => return record,
            Seen::Item(_) | Seen::Error(_) => continue,
            other => panic!("expected a record starting {prefix:?}, got {other:?}"),
        }
    }
}

fn padded(head: &str, len: usize) -> String {
    let pad: String = (b'a'..=b'z')
        .cycle()
        .take(len.saturating_sub(head.len()))
        .map(char::from)
        .collect();
    format!("{head}{pad}")
}

/// Records of about 1000 bytes — several per 8 KiB, the trap for readers that offer "whatever
/// is left" — arrive whole, with facility, level and increasing sequence numbers.
pub fn kmsg_records_of_1000_bytes_are_whole<B: Backend>() -> Outcome {
    require_kmsg()?;
    let _kmsg = kmsg_lock();
    let marker = unique_marker("long");
    let mut reader = open_kmsg::<B>(KmsgStart::New, KmsgDecoder::new());
    let messages: Vec<String> = (0..3)
        .map(|n| padded(&format!("{marker} {n} "), 1000))
        .collect();
    for message in &messages {
        write_kmsg_record(&format!("<14>{message}\n"));
    }
    let mut last_seq = None;
    for message in &messages {
        let record = next_marked(&mut reader, &marker);
        assert_eq!(record.message_lossy(), message.as_str());
        assert_eq!(
            (record.facility(), record.level()),
            (Facility::USER, Level::Info)
        );
        assert!(last_seq < Some(record.seq()), "sequence numbers increase");
        last_seq = Some(record.seq());
    }
    Ok(())
}

/// Kernel records with dictionary lines (` SUBSYSTEM=...`), replayed one per packet over a
/// seqpacket socket (this machine has no device whose log lines userspace can trigger), come
/// out with their dictionaries, and a sequence gap between them is a loss notice.
///
/// Records from the kernel's `Documentation/ABI/testing/dev-kmsg`, plus a long one.
pub fn kmsg_dictionary_fields_survive_record_reads<B: Backend>() -> Outcome {
    let long_value = "v".repeat(900);
    let records = [
        "7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n".to_string(),
        "6,339,5140900,-;NET: Registered protocol family 10\n".to_string(),
        format!("30,340,5690716,-,caller=T80;udevd[80]: starting version 181\n SUBSYSTEM=block\n DEVICE=b8:0\n LONG={long_value}\n"),
    ];
    let (fd, peer) = socketpair_seqpacket();
    for record in &records {
        rustix::net::send(&peer, record.as_bytes(), SendFlags::empty()).unwrap();
    }
    drop(peer);
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(KmsgDecoder::new()),
    )
    .unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    let [
        Seen::Item(first),
        Seen::Error(loss),
        Seen::Item(second),
        Seen::Item(third),
        Seen::End,
    ] = &seen[..]
    else {
        panic!("expected record, loss, record, record, end; got {seen:?}");
    };
    assert_eq!(loss, "Lost: 178 (161..=338)");
    assert_eq!(first.get("SUBSYSTEM").map(|v| &v[..]), Some(&b"acpi"[..]));
    assert_eq!(
        first.get("DEVICE").map(|v| &v[..]),
        Some(&b"+acpi:PNP0A03:00"[..])
    );
    assert!(second.dictionary().is_empty());
    assert_eq!(
        (third.facility(), third.level(), third.seq()),
        (Facility::DAEMON, Level::Info, 340)
    );
    assert_eq!(third.get("DEVICE").map(|v| &v[..]), Some(&b"b8:0"[..]));
    assert_eq!(third.get("LONG").map(|v| v.len()), Some(900));
    Ok(())
}

/// Opened at the end (`SEEK_END`), the reader sees records logged after the open, never before.
pub fn kmsg_seek_end_sees_only_new_records<B: Backend>() -> Outcome {
    require_kmsg()?;
    let _kmsg = kmsg_lock();
    let marker = unique_marker("new");
    write_kmsg_record(&format!("<15>{marker} before\n"));
    let mut reader = open_kmsg::<B>(KmsgStart::New, KmsgDecoder::new());
    write_kmsg_record(&format!("<15>{marker} after\n"));
    let record = next_marked(&mut reader, &marker);
    assert_eq!(record.message_lossy(), format!("{marker} after"));
    assert_eq!(record.level(), Level::Debug);
    Ok(())
}

/// The oldest sequence number still in the ring buffer, read through a probe descriptor.
fn oldest_seq() -> u64 {
    let fd: OwnedFd = kmsg::open(KmsgStart::Oldest).unwrap();
    let mut probe = FdReader::from_fd(fd, KmsgDecoder::new()).unwrap();
    probe
        .ready()
        .find_map(Result::ok)
        .map(|record| record.seq())
        .expect("the ring buffer holds a record")
}

/// A reader that falls behind while the ring buffer wraps gets a loss notice whose count is
/// exactly the gap in sequence numbers, then the records that survived, and goes on.
///
/// The reader reads one marker record (so it knows where it stands), stops, and the case
/// writes ~1000-byte records until the record after the marker has been overwritten (checked
/// with a probe descriptor every few writes, so it writes no more than the buffer's size plus a
/// few records). The write rate limit is per open file, so each record gets a new descriptor.
pub fn kmsg_overrun_is_a_loss_notice_with_the_exact_count<B: Backend>() -> Outcome {
    require_kmsg()?;
    let _kmsg = kmsg_lock();
    let marker = unique_marker("overrun");
    let mut reader = open_kmsg::<B>(KmsgStart::New, KmsgDecoder::new());
    write_kmsg_record(&format!("<14>{marker} start\n"));
    let start = next_marked(&mut reader, &format!("{marker} start")).seq();

    let mut written = 0;
    while oldest_seq() <= start + 1 {
        for _ in 0..8 {
            write_kmsg_record(&format!(
                "<15>{}\n",
                padded(&format!("{marker} flood {written} "), 1000)
            ));
            written += 1;
        }
        assert!(written < 100_000, "the ring buffer never wrapped");
    }
    write_kmsg_record(&format!("<14>{marker} end\n"));

    let loss = match reader.next_within(STEP) {
        Poll::Ready(Some(Err(Error::Lost(loss)))) => loss,
        Poll::Ready(Some(Ok(record))) => panic!("record {} read before the loss", record.seq()),
        other => panic!("expected a loss notice, got {other:?}"),
    };
    let after = match reader.next_within(STEP) {
        Poll::Ready(Some(Ok(record))) => record,
        other => panic!("expected a record after the loss, got {other:?}"),
    };
    assert!(after.seq() > start + 1);
    assert_eq!(
        loss.count,
        Some(after.seq() - start - 1),
        "count = the sequence gap"
    );
    assert_eq!(loss.seqs, Some(start + 1..=after.seq() - 1));
    // And the stream goes on, up to the end marker, without further loss (nobody floods now).
    let mut seq = after.seq();
    loop {
        match reader.next_within(STEP) {
            Poll::Ready(Some(Ok(record))) => {
                assert_eq!(record.seq(), seq + 1, "consecutive after the loss");
                seq = record.seq();
                if record.message().ends_with(b" end")
                    && record.message().starts_with(marker.as_bytes())
                {
                    return Ok(());
                }
            }
            other => panic!("expected records up to the end marker, got {other:?}"),
        }
    }
}
