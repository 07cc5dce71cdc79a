//! Reading from a [`Reader`] the way cases state expectations: steps as comparable values.

use std::fmt;
use std::task::Poll;
use std::time::Duration;

use fdframe::follow::FollowNotice;
use fdframe::{Decoder, Error};

use crate::Reader;

/// One step of a stream, in a form cases compare with `assert_eq!`.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen<T> {
    /// A decoded item.
    Item(T),
    /// An error or notice, as `Class: detail` (`Io: 5`, `Lost: 12 (100..=111)`,
    /// `Decode: ...`, `FrameTooLarge: 9 > 8`, `Truncated: 4 bytes`, `Follow: Rotated`).
    Error(String),
    /// The end of the stream.
    End,
    /// Nothing within the timeout.
    Timeout,
}

/// The next step within `timeout`.
pub fn next_seen<D, R>(reader: &mut R, timeout: Duration) -> Seen<D::Item>
where
    D: Decoder,
    D::Error: fmt::Display,
    R: Reader<D>,
{
    match reader.next_within(timeout) {
        Poll::Ready(Some(Ok(item))) => Seen::Item(item),
        Poll::Ready(Some(Err(e))) => Seen::Error(describe(&e)),
        Poll::Ready(None) => Seen::End,
        Poll::Pending => Seen::Timeout,
    }
}

/// Exactly `n` items, each within `timeout`; anything else fails the case with what came.
pub fn expect_items<D, R>(reader: &mut R, n: usize, timeout: Duration) -> Vec<D::Item>
where
    D: Decoder,
    D::Item: fmt::Debug,
    D::Error: fmt::Display,
    R: Reader<D>,
{
    let mut items = Vec::with_capacity(n);
    while items.len() < n {
        match next_seen(reader, timeout) {
            Seen::Item(item) => items.push(item),
            other => panic!(
                "expected item {} of {n}, got {other:?} (after {} items)",
                items.len() + 1,
                items.len()
            ),
        }
    }
    items
}

/// Every step up to and including the end; a timeout on the way fails the case.
pub fn drain_until_end<D, R>(reader: &mut R, timeout: Duration) -> Vec<Seen<D::Item>>
where
    D: Decoder,
    D::Item: fmt::Debug,
    D::Error: fmt::Display,
    R: Reader<D>,
{
    let mut seen = Vec::new();
    loop {
        match next_seen(reader, timeout) {
            Seen::End => {
                seen.push(Seen::End);
                return seen;
            }
            Seen::Timeout => panic!("no end of stream within {timeout:?}; so far: {seen:?}"),
            step => seen.push(step),
        }
    }
}

/// `Class: detail` for an error, stable enough to compare.
pub(crate) fn describe<E: fmt::Display>(error: &Error<E>) -> String {
    match error {
        Error::Io(e) => format!("Io: {}", e.raw_os_error().unwrap_or(0)),
        Error::Decode(e) => format!("Decode: {e}"),
        Error::DecodeStalled(e) => format!("DecodeStalled: {e}"),
        Error::Lost(loss) => match (&loss.count, &loss.seqs) {
            (Some(n), Some(seqs)) => format!("Lost: {n} ({}..={})", seqs.start(), seqs.end()),
            (Some(n), None) => format!("Lost: {n}"),
            _ => "Lost: unknown".to_string(),
        },
        Error::FrameTooLarge { limit, len, .. } => format!("FrameTooLarge: {len} > {limit}"),
        Error::Truncated(bytes) => format!("Truncated: {} bytes", bytes.len()),
        Error::Follow(notice) => format!("Follow: {}", follow_notice(notice)),
        other => format!("Other: {other}"),
    }
}

/// A follow notice's kind: the paths and offsets in it depend on the run.
fn follow_notice(notice: &FollowNotice) -> String {
    match notice {
        FollowNotice::Truncated { .. } => "Truncated".to_string(),
        FollowNotice::Rotated { .. } => "Rotated".to_string(),
        FollowNotice::Removed { .. } => "Removed".to_string(),
        FollowNotice::Created { .. } => "Created".to_string(),
        FollowNotice::CheckpointMismatch { .. } => "CheckpointMismatch".to_string(),
        FollowNotice::DirectoryRemoved { .. } => "DirectoryRemoved".to_string(),
        FollowNotice::RotatedUnread { .. } => "RotatedUnread".to_string(),
        other => format!("{other}"),
    }
}
