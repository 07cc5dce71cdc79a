//! The decoder driven by hand as the engine drives it: `read_error` for a failed read, `decode`
//! for a successful one, and `take_loss` after each.

use std::io;

use super::one_read;
use crate::kmsg::KmsgDecoder;
use crate::{Decoder, Loss, LossCause, ReadErrorAction};

const EPIPE: i32 = 32;
const EINVAL: i32 = 22;

/// What the engine would deliver, in order.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Record(u64),
    Malformed(Option<u64>),
    Lost(Loss),
}

/// A scripted read outcome.
enum Read<'a> {
    Bytes(&'a [u8]),
    Errno(i32),
}

/// Drives `decoder` through `reads` like the engine: every loss is delivered before the item
/// of the same call.
fn drive(decoder: &mut KmsgDecoder, reads: &[Read<'_>]) -> Vec<Event> {
    let mut events = Vec::new();
    for read in reads {
        match read {
            Read::Errno(errno) => {
                let action = decoder.read_error(&io::Error::from_raw_os_error(*errno));
                assert_eq!(
                    action,
                    ReadErrorAction::Retry,
                    "errno {errno} ends the stream"
                );
                events.extend(std::iter::from_fn(|| decoder.take_loss()).map(Event::Lost));
            }
            Read::Bytes(bytes) => {
                let result = decoder.decode(&mut one_read(bytes));
                events.extend(std::iter::from_fn(|| decoder.take_loss()).map(Event::Lost));
                events.push(match result {
                    Ok(Some(record)) => Event::Record(record.seq()),
                    Ok(None) => panic!("one read holds one record"),
                    Err(e) => Event::Malformed(e.seq()),
                });
            }
        }
    }
    events
}

fn overrun(first_missing: u64, next_seen: u64) -> Event {
    Event::Lost(Loss::sequence_gap(
        LossCause::KmsgOverrun,
        first_missing,
        next_seen,
    ))
}

#[test]
fn contiguous_records_report_no_loss() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,10,1,-;a\n"),
            Read::Bytes(b"6,11,2,-;b\n"),
            Read::Bytes(b"6,12,3,-;c\n"),
        ],
    );
    assert_eq!(
        events,
        [Event::Record(10), Event::Record(11), Event::Record(12)]
    );
    assert_eq!(decoder.last_seq(), Some(12));
    assert_eq!(decoder.overruns(), 0);
}

#[test]
fn epipe_then_record_gives_exactly_one_loss_with_exact_count() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,100,1,-;a\n"),
            Read::Errno(EPIPE),
            Read::Bytes(b"6,112,2,-;b\n"),
            Read::Bytes(b"6,113,3,-;c\n"),
        ],
    );
    assert_eq!(
        events,
        [
            Event::Record(100),
            overrun(101, 112),
            Event::Record(112),
            Event::Record(113)
        ]
    );
    let Event::Lost(loss) = &events[1] else {
        unreachable!()
    };
    assert_eq!(loss.count, Some(11));
    assert_eq!(loss.seqs, Some(101..=111));
    assert_eq!(decoder.overruns(), 1);
}

#[test]
fn repeated_epipe_before_the_next_record_is_still_one_loss() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,5,1,-;a\n"),
            Read::Errno(EPIPE),
            Read::Errno(EPIPE),
            Read::Bytes(b"6,40,2,-;b\n"),
        ],
    );
    assert_eq!(
        events,
        [Event::Record(5), overrun(6, 40), Event::Record(40)]
    );
    assert_eq!(decoder.overruns(), 2);
}

#[test]
fn gap_without_epipe_is_reported_from_sequence_numbers() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,7,1,-;a\n"),
            Read::Bytes(b"6,9,2,-;b\n"),
            Read::Bytes(b"6,10,3,-;c\n"),
            Read::Bytes(b"6,20,3,-;d\n"),
        ],
    );
    assert_eq!(
        events,
        [
            Event::Record(7),
            overrun(8, 9),
            Event::Record(9),
            Event::Record(10),
            overrun(11, 20),
            Event::Record(20),
        ]
    );
}

#[test]
fn epipe_before_any_record_is_one_unknown_loss() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Errno(EPIPE),
            Read::Errno(EPIPE),
            Read::Bytes(b"6,500,1,-;first\n"),
            Read::Bytes(b"6,501,2,-;second\n"),
        ],
    );
    assert_eq!(
        events,
        [
            Event::Lost(Loss::unknown(LossCause::KmsgOverrun)),
            Event::Record(500),
            Event::Record(501),
        ]
    );
}

#[test]
fn first_record_without_epipe_is_no_loss_whatever_its_number() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(&mut decoder, &[Read::Bytes(b"6,123456,1,-;a\n")]);
    assert_eq!(events, [Event::Record(123_456)]);
}

#[test]
fn resume_after_reports_the_first_gap_as_resume_gap_then_overruns() {
    let mut decoder = KmsgDecoder::resume_after(41);
    assert_eq!(decoder.last_seq(), Some(41));
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,50,1,-;a\n"),
            Read::Bytes(b"6,51,2,-;b\n"),
            Read::Bytes(b"6,55,3,-;c\n"),
        ],
    );
    assert_eq!(
        events,
        [
            Event::Lost(Loss::sequence_gap(LossCause::KmsgResumeGap, 42, 50)),
            Event::Record(50),
            Event::Record(51),
            overrun(52, 55),
            Event::Record(55),
        ]
    );
}

#[test]
fn resume_after_with_no_gap_reports_nothing() {
    let mut decoder = KmsgDecoder::resume_after(41);
    let events = drive(
        &mut decoder,
        &[Read::Bytes(b"6,42,1,-;a\n"), Read::Bytes(b"6,44,2,-;b\n")],
    );
    // Only the first record's gap is a resume gap.
    assert_eq!(
        events,
        [Event::Record(42), overrun(43, 44), Event::Record(44)]
    );
}

#[test]
fn resume_after_then_epipe_counts_from_the_cursor_once() {
    let mut decoder = KmsgDecoder::resume_after(9);
    let events = drive(
        &mut decoder,
        &[Read::Errno(EPIPE), Read::Bytes(b"6,30,1,-;a\n")],
    );
    assert_eq!(
        events,
        [
            Event::Lost(Loss::sequence_gap(LossCause::KmsgResumeGap, 10, 30)),
            Event::Record(30),
        ]
    );
}

#[test]
fn seen_through_counts_an_overrun_before_the_first_read_exactly() {
    // A "from now on" reader: 41 was the newest record; it was stopped before its first read
    // while the ring buffer wrapped past 42..=49.
    let mut decoder = KmsgDecoder::seen_through(41);
    assert_eq!(decoder.last_seq(), Some(41));
    let events = drive(
        &mut decoder,
        &[
            Read::Errno(EPIPE),
            Read::Bytes(b"6,50,1,-;a\n"),
            Read::Bytes(b"6,51,2,-;b\n"),
        ],
    );
    assert_eq!(
        events,
        [overrun(42, 50), Event::Record(50), Event::Record(51)]
    );
}

#[test]
fn seen_through_reads_older_records_without_loss_then_counts_gaps_after_them() {
    // Reading from the oldest record: 39..=41 come again (the caller skips them), 42 is new.
    let mut decoder = KmsgDecoder::seen_through(41);
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,39,1,-;old\n"),
            Read::Bytes(b"6,40,1,-;old\n"),
            Read::Errno(EPIPE),
            Read::Bytes(b"6,45,2,-;new\n"),
        ],
    );
    // The gap is counted from the last record read (41..=44); the part the caller had
    // already handled (41) is the caller's to trim, as with a cursor.
    assert_eq!(
        events,
        [
            Event::Record(39),
            Event::Record(40),
            overrun(41, 45),
            Event::Record(45)
        ]
    );
}

#[test]
fn seen_through_without_a_gap_reports_nothing() {
    let mut decoder = KmsgDecoder::seen_through(41);
    let events = drive(
        &mut decoder,
        &[Read::Bytes(b"6,42,1,-;a\n"), Read::Bytes(b"6,43,2,-;b\n")],
    );
    assert_eq!(events, [Event::Record(42), Event::Record(43)]);
}

#[test]
fn resume_with_older_records_still_present_reports_no_loss() {
    // Opened at the oldest record, which is older than the cursor: records come again.
    let mut decoder = KmsgDecoder::resume_after(100);
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,90,1,-;seen before\n"),
            Read::Bytes(b"6,91,2,-;seen before\n"),
        ],
    );
    assert_eq!(events, [Event::Record(90), Event::Record(91)]);
}

#[test]
fn backwards_sequence_numbers_reset_without_loss() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,1000,1,-;a\n"),
            Read::Bytes(b"6,3,2,-;b\n"),
            Read::Bytes(b"6,3,2,-;b again\n"),
            Read::Bytes(b"6,4,3,-;c\n"),
            Read::Bytes(b"6,6,4,-;d\n"),
        ],
    );
    assert_eq!(
        events,
        [
            Event::Record(1000),
            Event::Record(3),
            Event::Record(3),
            Event::Record(4),
            overrun(5, 6),
            Event::Record(6),
        ]
    );
}

#[test]
fn epipe_without_a_visible_gap_reports_nothing() {
    // Every record before the next one seen was already read: nothing unseen was lost.
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,20,1,-;a\n"),
            Read::Errno(EPIPE),
            Read::Bytes(b"6,21,2,-;b\n"),
        ],
    );
    assert_eq!(events, [Event::Record(20), Event::Record(21)]);
}

#[test]
fn malformed_record_with_readable_seq_counts_as_seen() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,1,1,-;a\n"),
            Read::Bytes(b"6,2,not-a-time,-;b\n"),
            Read::Bytes(b"6,3,3,-;c\n"),
        ],
    );
    assert_eq!(
        events,
        [
            Event::Record(1),
            Event::Malformed(Some(2)),
            Event::Record(3)
        ]
    );
}

#[test]
fn malformed_record_revealing_a_gap_reports_the_gap_first() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[Read::Bytes(b"6,1,1,-;a\n"), Read::Bytes(b"6,5,x,-;b\n")],
    );
    assert_eq!(
        events,
        [Event::Record(1), overrun(2, 5), Event::Malformed(Some(5))]
    );
}

#[test]
fn malformed_record_without_seq_leaves_the_expectation_alone() {
    let mut decoder = KmsgDecoder::new();
    let events = drive(
        &mut decoder,
        &[
            Read::Bytes(b"6,1,1,-;a\n"),
            Read::Bytes(b"garbage\n"),
            Read::Bytes(b"6,3,3,-;c\n"),
        ],
    );
    // The garbage was most likely record 2; the decoder cannot know, so 2 counts as lost.
    assert_eq!(
        events,
        [
            Event::Record(1),
            Event::Malformed(None),
            overrun(2, 3),
            Event::Record(3)
        ]
    );
}

#[test]
fn gap_up_to_u64_max_is_counted_without_overflow() {
    let mut decoder = KmsgDecoder::resume_after(u64::MAX - 10);
    let events = drive(
        &mut decoder,
        &[Read::Bytes(b"6,18446744073709551615,1,-;last\n")],
    );
    assert_eq!(
        events,
        [
            Event::Lost(Loss::sequence_gap(
                LossCause::KmsgResumeGap,
                u64::MAX - 9,
                u64::MAX
            )),
            Event::Record(u64::MAX),
        ]
    );
    // Nothing can follow u64::MAX without going backwards; that resets quietly.
    let events = drive(&mut decoder, &[Read::Bytes(b"6,0,2,-;wrapped\n")]);
    assert_eq!(events, [Event::Record(0)]);
}

#[test]
fn einval_and_other_errors_end_the_stream() {
    let mut decoder = KmsgDecoder::new();
    for errno in [EINVAL, 5 /* EIO */, 9 /* EBADF */] {
        let action = decoder.read_error(&io::Error::from_raw_os_error(errno));
        assert_eq!(action, ReadErrorAction::Fail, "errno {errno}");
        assert_eq!(decoder.take_loss(), None);
    }
    let not_os = io::Error::new(io::ErrorKind::BrokenPipe, "not from the kernel");
    assert_eq!(decoder.read_error(&not_os), ReadErrorAction::Fail);
    assert_eq!(decoder.overruns(), 0);
}

#[test]
fn read_limits_offer_one_byte_more_than_the_largest_record() {
    let limits = KmsgDecoder::new().read_limits();
    assert!(limits.one_record_per_read);
    assert_eq!(limits.min_read_capacity, 8193);
    assert_eq!(limits.max_frame_len, 8192);
}
