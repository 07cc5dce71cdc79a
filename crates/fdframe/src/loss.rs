//! The [`Loss`] notice: messages lost before they could be read, and why.

use std::fmt;
use std::ops::RangeInclusive;

/// A notice that messages were lost before they could be read; the stream goes on after it.
///
/// ```
/// use fdframe::{Loss, LossCause};
///
/// let loss = Loss::sequence_gap(LossCause::KmsgOverrun, 100, 112);
/// assert_eq!(loss.count, Some(12));
/// assert_eq!(loss.seqs, Some(100..=111));
/// assert_eq!(loss.to_string(), "12 kernel log records lost (seq 100..=111): the ring buffer overwrote them before they were read");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Loss {
    /// Why the messages were lost.
    pub cause: LossCause,
    /// How many messages were lost, when the source makes that knowable.
    pub count: Option<u64>,
    /// The sequence numbers of the lost messages, when the source numbers its messages.
    #[cfg_attr(
        feature = "serde",
        serde(flatten, with = "crate::kmsg::serde_impls::seq_range")
    )]
    pub seqs: Option<RangeInclusive<u64>>,
}

impl Loss {
    /// A loss of the messages numbered `first_missing..next_seen` (`next_seen` is the first
    /// sequence number seen after the gap).
    pub fn sequence_gap(cause: LossCause, first_missing: u64, next_seen: u64) -> Self {
        let count = next_seen.saturating_sub(first_missing);
        Loss {
            cause,
            count: Some(count),
            seqs: (count > 0).then(|| first_missing..=next_seen - 1),
        }
    }

    /// A loss of an unknown number of messages.
    pub fn unknown(cause: LossCause) -> Self {
        Loss {
            cause,
            count: None,
            seqs: None,
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = self.count == Some(1);
        let what = self.cause.noun(one);
        match self.count {
            // A third party's noun is plural only.
            Some(1) if matches!(self.cause, LossCause::Other(_)) => {
                write!(f, "1 of the {what} lost")?
            }
            Some(n) => write!(f, "{n} {what} lost")?,
            None => write!(f, "an unknown number of {what} lost")?,
        }
        match &self.seqs {
            Some(seqs) if seqs.start() == seqs.end() => write!(f, " (seq {})", seqs.start())?,
            Some(seqs) => write!(f, " (seq {}..={})", seqs.start(), seqs.end())?,
            None => {}
        }
        write!(f, ": {}", self.cause.reason(one))
    }
}

/// Why messages were lost; part of a [`Loss`].
///
/// A decoder outside this crate names its own cause with [`Other`](LossCause::Other):
///
/// ```
/// use fdframe::{Loss, LossCause, OtherCause};
///
/// const BUS_OVERRUN: LossCause = LossCause::Other(&OtherCause {
///     what: "CAN frames",
///     why: "the controller's receive FIFO overflowed",
/// });
/// let loss = Loss::sequence_gap(BUS_OVERRUN, 7, 10);
/// assert_eq!(loss.to_string(), "3 CAN frames lost (seq 7..=9): the controller's receive FIFO overflowed");
/// assert_eq!(Loss::sequence_gap(BUS_OVERRUN, 7, 8).to_string(), "1 of the CAN frames lost (seq 7): the controller's receive FIFO overflowed");
/// ```
///
/// With the `serde` feature a cause is its name in kebab case (`"kmsg-overrun"`), and `Other`
/// is `{"other": {"what": ..., "why": ...}}`. Deserializing an `Other` keeps its cause for the
/// rest of the process (it is `&'static`): at most 64 distinct causes with texts of at most
/// 256 bytes each, past which deserializing fails rather than letting input grow memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossCause {
    /// `/dev/kmsg` returned `EPIPE`, or sequence numbers jumped: the kernel's ring buffer
    /// overwrote records before they were read.
    KmsgOverrun,
    /// Records were missing when resuming from a saved position (a cursor).
    KmsgResumeGap,
    /// inotify reported `IN_Q_OVERFLOW`: its event queue was full.
    InotifyOverflow,
    /// evdev reported `SYN_DROPPED`: its event buffer was full.
    EvdevDropped,
    /// A cause this crate does not know, named by the decoder that reports it. A reference,
    /// so that a `LossCause` stays one word: a [`Loss`] travels inside every stream's error
    /// type, which every step of the per-message path returns.
    Other(&'static OtherCause),
}

/// A third party's cause of a loss: [`LossCause::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OtherCause {
    /// What was lost, in the plural: "CAN frames". A [`Loss`] of one message says "1 of the
    /// CAN frames lost".
    pub what: &'static str,
    /// Why: "the controller's receive FIFO overflowed".
    pub why: &'static str,
}

impl LossCause {
    /// What was lost: one message (`one`) or several.
    fn noun(self, one: bool) -> &'static str {
        match (self, one) {
            (LossCause::KmsgOverrun | LossCause::KmsgResumeGap, true) => "kernel log record",
            (LossCause::KmsgOverrun | LossCause::KmsgResumeGap, false) => "kernel log records",
            (LossCause::InotifyOverflow, true) => "inotify event",
            (LossCause::InotifyOverflow, false) => "inotify events",
            (LossCause::EvdevDropped, true) => "input event",
            (LossCause::EvdevDropped, false) => "input events",
            (LossCause::Other(other), _) => other.what,
        }
    }

    fn reason(self, one: bool) -> &'static str {
        match (self, one) {
            (LossCause::KmsgOverrun, true) => "the ring buffer overwrote it before it was read",
            (LossCause::KmsgOverrun, false) => {
                "the ring buffer overwrote them before they were read"
            }
            (LossCause::KmsgResumeGap, true) => "it was overwritten while no reader was running",
            (LossCause::KmsgResumeGap, false) => {
                "they were overwritten while no reader was running"
            }
            (LossCause::InotifyOverflow, _) => "the inotify queue overflowed",
            (LossCause::EvdevDropped, _) => "the device's event buffer overflowed (SYN_DROPPED)",
            (LossCause::Other(other), _) => other.why,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_of_one_is_singular() {
        let one = Loss::sequence_gap(LossCause::KmsgOverrun, 7, 8);
        assert_eq!(
            one.to_string(),
            "1 kernel log record lost (seq 7): the ring buffer overwrote it before it was read"
        );
        let resumed = Loss::sequence_gap(LossCause::KmsgResumeGap, 7, 8);
        assert_eq!(
            resumed.to_string(),
            "1 kernel log record lost (seq 7): it was overwritten while no reader was running"
        );
        let two = Loss::sequence_gap(LossCause::KmsgResumeGap, 7, 9);
        assert_eq!(
            two.to_string(),
            "2 kernel log records lost (seq 7..=8): they were overwritten while no reader was running"
        );
    }

    #[test]
    fn a_third_party_loss_cause_names_what_was_lost_and_why() {
        static CAN: OtherCause = OtherCause {
            what: "CAN frames",
            why: "the receive FIFO overflowed",
        };
        let cause = LossCause::Other(&CAN);
        // Copy and Eq by value: another reference to equal texts is the same cause.
        static ALSO_CAN: OtherCause = OtherCause { ..CAN };
        let same = LossCause::Other(&ALSO_CAN);
        assert_eq!(cause, same);
        assert_ne!(cause, LossCause::KmsgOverrun);
        let shown = |loss: Loss| loss.to_string();
        assert_eq!(
            shown(Loss::unknown(cause)),
            "an unknown number of CAN frames lost: the receive FIFO overflowed"
        );
        assert_eq!(
            shown(Loss::sequence_gap(cause, 3, 4)),
            "1 of the CAN frames lost (seq 3): the receive FIFO overflowed"
        );
        assert_eq!(
            shown(Loss::sequence_gap(cause, 3, 6)),
            "3 CAN frames lost (seq 3..=5): the receive FIFO overflowed"
        );
    }
}
