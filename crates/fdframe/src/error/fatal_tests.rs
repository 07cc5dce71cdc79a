//! `is_fatal()` against the engine: for each variant, the next poll after the engine returns it
//! ends the stream exactly when `is_fatal()` says so (the two documented exceptions are named).

use std::io;
use std::task::Poll;

use bytes::{Buf, BytesMut};

use crate::codec::{LengthDelimitedDecoder, LinesDecoder};
use crate::devices::DatagramDecoder;
use crate::engine::script::{EIO, Outcome, Script};
use crate::{Decoder, Error, Framer, Loss, LossCause, ReadLimits};

/// What came after the first error.
#[derive(Debug, PartialEq)]
enum Next {
    /// The stream ended (`Ready(None)`).
    End,
    /// The stream went on with another message or notice.
    More,
}

/// Runs `decoder` over `outcomes` up to its first error; returns it and what the next poll gave.
fn first_error_and_next<D: Decoder>(decoder: D, outcomes: Vec<Outcome>) -> (Error<D::Error>, Next)
where
    D::Error: std::fmt::Debug,
{
    let mut framer = Framer::new(decoder);
    let mut script = Script::new(outcomes);
    let mut poll = |framer: &mut Framer<D>| loop {
        match framer.poll_next_with(|buf| script.read(buf)) {
            Poll::Ready(step) => return step,
            Poll::Pending => {}
        }
    };
    let error = loop {
        match poll(&mut framer) {
            Some(Ok(_)) => {}
            Some(Err(e)) => break e,
            None => panic!("the stream ended without an error"),
        }
    };
    let next = match poll(&mut framer) {
        None => Next::End,
        Some(_) => Next::More,
    };
    (error, next)
}

/// Asserts the rule: the stream ends after `error` iff `error.is_fatal()`.
fn assert_agrees<E: std::fmt::Debug>(error: &Error<E>, next: &Next) {
    assert_eq!(
        error.is_fatal(),
        *next == Next::End,
        "{error:?} then {next:?}"
    );
}

/// Never finds a frame; a stream-mode limit of 8 bytes.
#[derive(Debug)]
struct NoFrames;
impl Decoder for NoFrames {
    type Item = ();
    type Error = io::Error;
    fn decode(&mut self, _: &mut BytesMut) -> io::Result<Option<()>> {
        Ok(None)
    }
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().max_frame_len(8)
    }
}

/// One byte per message; a `!` is an error that consumes nothing.
#[derive(Debug)]
struct StuckOnBang;
impl Decoder for StuckOnBang {
    type Item = u8;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<u8>> {
        match src.first() {
            None => Ok(None),
            Some(b'!') => Err(io::Error::other("stuck")),
            Some(_) => Ok(Some(src.get_u8())),
        }
    }
}

/// Whole records; reports one loss before the first.
#[derive(Debug)]
struct LossFirst(Option<Loss>);
impl Decoder for LossFirst {
    type Item = BytesMut;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        Ok((!src.is_empty()).then(|| src.split()))
    }
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::one_record_per_read(64)
    }
    fn take_loss(&mut self) -> Option<Loss> {
        self.0.take()
    }
}

/// Record mode; takes only the first 2 bytes of each record.
#[derive(Debug)]
struct TwoBytes;
impl Decoder for TwoBytes {
    type Item = BytesMut;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        Ok((src.len() >= 2).then(|| src.split_to(2)))
    }
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::one_record_per_read(64)
    }
}

fn bytes(b: &[u8]) -> Outcome {
    Outcome::Bytes(b.to_vec())
}

fn record(b: &[u8]) -> Outcome {
    Outcome::Record(b.to_vec())
}

#[test]
fn io_error_ends_the_stream_and_is_fatal() {
    let (e, next) = first_error_and_next(
        LinesDecoder::new(),
        vec![bytes(b"a\n"), Outcome::Errno(EIO), bytes(b"b\n")],
    );
    assert!(matches!(e, Error::Io(_)));
    assert_agrees(&e, &next);
    assert!(e.is_fatal());
}

#[test]
fn stream_mode_frame_too_large_ends_the_stream_and_is_fatal() {
    let (e, next) = first_error_and_next(NoFrames, vec![bytes(&[b'x'; 20]), bytes(b"more")]);
    assert!(
        matches!(e, Error::FrameTooLarge { ended: true, .. }),
        "{e:?}"
    );
    assert_agrees(&e, &next);
    assert!(e.is_fatal());
}

#[test]
fn record_mode_frame_too_large_goes_on_and_is_not_fatal() {
    let (e, next) = first_error_and_next(
        DatagramDecoder::new(4),
        vec![Outcome::Datagram(vec![0; 9]), Outcome::Datagram(vec![1; 2])],
    );
    assert!(
        matches!(e, Error::FrameTooLarge { ended: false, .. }),
        "{e:?}"
    );
    assert_agrees(&e, &next);
    assert!(!e.is_fatal());
}

#[test]
fn decode_error_that_skipped_its_message_goes_on_and_is_not_fatal() {
    let (e, next) = first_error_and_next(
        LinesDecoder::new().max_line_len(2),
        vec![bytes(b"abcd\nok\n")],
    );
    assert!(matches!(e, Error::Decode(_)));
    assert_agrees(&e, &next);
}

#[test]
fn loss_notice_goes_on_and_is_not_fatal() {
    let loss = Loss::sequence_gap(LossCause::KmsgOverrun, 1, 3);
    let (e, next) =
        first_error_and_next(LossFirst(Some(loss)), vec![record(b"one"), record(b"two")]);
    assert!(matches!(e, Error::Lost(_)));
    assert_agrees(&e, &next);
}

#[test]
fn record_mode_truncated_goes_on_and_is_not_fatal() {
    let (e, next) = first_error_and_next(TwoBytes, vec![record(b"abc"), record(b"de")]);
    assert!(matches!(e, Error::Truncated(_)), "{e:?}");
    assert_agrees(&e, &next);
}

/// Documented exception: stream-mode `Truncated` comes when input has ended, so the stream ends
/// because its input did, not because of the error; `is_fatal()` is `false`.
#[test]
fn stream_mode_truncated_comes_at_the_end_of_input_and_is_not_fatal() {
    let (e, next) = first_error_and_next(
        LengthDelimitedDecoder::new().length_field_len(1),
        vec![bytes(b"\x05ab")],
    );
    assert!(matches!(e, Error::Truncated(_)), "{e:?}");
    assert_eq!(next, Next::End);
    assert!(!e.is_fatal());
}

/// A decode error that consumed nothing ends the stream (decoding again would fail the same way
/// forever): it comes as `DecodeStalled`, which is fatal.
#[test]
fn decode_error_that_consumed_nothing_ends_the_stream_and_is_fatal() {
    let (e, next) = first_error_and_next(StuckOnBang, vec![bytes(b"ab!cd")]);
    assert!(matches!(e, Error::DecodeStalled(_)), "{e:?}");
    assert_eq!(next, Next::End);
    assert!(e.is_fatal());
    assert_eq!(io::Error::from(e).kind(), io::ErrorKind::InvalidData);
}
