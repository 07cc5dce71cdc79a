//! [`FollowOptions`] and [`FollowStart`]: where following starts and how long a rotated file
//! is finished.

use std::time::Duration;

use super::Checkpoint;

/// Where a followed file is read from at the start.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum FollowStart {
    /// From the file's first byte (`tail -n +1 -F`).
    #[default]
    Beginning,
    /// From the file's size when it is opened: only what is appended later (`tail -n 0 -F`).
    /// A file that does not exist yet at the start is read from its beginning once it appears.
    End,
    /// From a checkpoint saved earlier (see [`checkpoint`](super::checkpoint)).
    Checkpoint(Checkpoint),
}

/// How [`ReadFd::follow`](crate::ReadFd::follow) follows a file.
///
/// ```
/// use std::time::Duration;
/// use fdframe::follow::{FollowOptions, FollowStart};
///
/// let options = FollowOptions::new()
///     .start(FollowStart::End)
///     .rotate_wait(Duration::from_millis(500));
/// assert_eq!(options.rotate_wait_duration(), Duration::from_millis(500));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowOptions {
    pub(crate) start: FollowStart,
    pub(crate) rotate_wait: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions::new()
    }
}

impl FollowOptions {
    /// The default grace period of a rotated or removed file: 1 second.
    pub const DEFAULT_ROTATE_WAIT: Duration = Duration::from_secs(1);

    /// Start at the beginning, finish rotated files for 1 second.
    pub fn new() -> Self {
        FollowOptions {
            start: FollowStart::Beginning,
            rotate_wait: Self::DEFAULT_ROTATE_WAIT,
        }
    }

    /// Where to start (default [`FollowStart::Beginning`]).
    #[must_use]
    pub fn start(mut self, start: FollowStart) -> Self {
        self.start = start;
        self
    }

    /// How long a file that was rotated away or removed is still read after the rotation was
    /// seen (lines written to it meanwhile are delivered), before its last partial line is
    /// delivered and it is closed. Default 1 second.
    #[must_use]
    pub fn rotate_wait(mut self, wait: Duration) -> Self {
        self.rotate_wait = wait;
        self
    }

    /// Where following starts.
    pub fn start_position(&self) -> &FollowStart {
        &self.start
    }

    /// The grace period of a rotated file.
    pub fn rotate_wait_duration(&self) -> Duration {
        self.rotate_wait
    }
}
