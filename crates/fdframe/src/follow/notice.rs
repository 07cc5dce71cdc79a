//! [`FollowNotice`]: what a followed file did besides growing.

use std::fmt;
use std::path::{Path, PathBuf};

use super::FilePosition;

/// What happened to a followed file besides growing; delivered as
/// [`Error::Follow`](crate::Error::Follow), after the messages that came before it. Never fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FollowNotice {
    /// The file shrank below the read offset, or its first bytes changed (truncation,
    /// `copytruncate`, a rewrite): reading goes on from its start.
    Truncated {
        /// The followed path.
        path: PathBuf,
        /// The read offset when the truncation was noticed.
        offset: u64,
    },
    /// A new file is at the path; the old one is still being finished (for the grace period).
    Rotated {
        /// The followed path.
        path: PathBuf,
    },
    /// The path names no file any more (and the file it named has been finished); waiting for
    /// a new one.
    Removed {
        /// The followed path.
        path: PathBuf,
    },
    /// A file appeared at the path (after [`Removed`](FollowNotice::Removed), or when it did
    /// not exist at the start); it is read from its start.
    Created {
        /// The followed path.
        path: PathBuf,
    },
    /// The directory of the path was removed, renamed away or replaced by another one: the
    /// file it held is finished like a removed one, and the path is followed in the directory
    /// that is at its place now, or, until one is created, waited for.
    DirectoryRemoved {
        /// The followed path.
        path: PathBuf,
        /// Its directory.
        directory: PathBuf,
    },
    /// A file of the checkpoint was not found, or its inode now holds another file (its first
    /// bytes differ): lines written to it after the checkpoint may be lost.
    CheckpointMismatch {
        /// The followed path.
        path: PathBuf,
        /// The checkpoint's position that did not match (boxed: a notice travels inside every
        /// stream's error type, which stays as small as the per-message path needs).
        file: Box<FilePosition>,
        /// `true`: the inode was found with other first bytes (reused); `false`: not found.
        inode_reused: bool,
    },
    /// Resuming a checkpoint whose newest file was rotated away meanwhile, `file` looks like a
    /// log rotated in after it and away again while nothing ran (two rotations): its name
    /// begins with the path's, and it was written to after the checkpoint's file. The
    /// checkpoint does not know it, so it is **not** read: lines in it are not delivered.
    RotatedUnread {
        /// The followed path.
        path: PathBuf,
        /// The file in the path's directory that was not read (boxed, as `CheckpointMismatch`'s
        /// position: the notice stays as small as the per-message path needs).
        file: Box<Path>,
    },
}

impl fmt::Display for FollowNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FollowNotice::Truncated { path, offset } => write!(
                f,
                "{}: file truncated (at offset {offset}); reading it from its start",
                path.display()
            ),
            FollowNotice::Rotated { path } => write!(
                f,
                "{}: file rotated; finishing the old file, then reading the new one",
                path.display()
            ),
            FollowNotice::Removed { path } => {
                write!(f, "{}: file removed; waiting for it", path.display())
            }
            FollowNotice::Created { path } => {
                write!(
                    f,
                    "{}: file created; reading it from its start",
                    path.display()
                )
            }
            FollowNotice::DirectoryRemoved { path, directory } => write!(
                f,
                "{}: directory {} removed or replaced; following the path in the directory \
                 now at its place (waiting for one)",
                path.display(),
                directory.display()
            ),
            FollowNotice::CheckpointMismatch {
                path,
                file,
                inode_reused,
            } => {
                let why = if *inode_reused {
                    "its inode now holds another file"
                } else {
                    "it was not found"
                };
                write!(
                    f,
                    "{}: checkpoint file (dev {}, inode {}, offset {}) not resumed: {why}; lines written to it after the checkpoint may be lost",
                    path.display(),
                    file.dev,
                    file.ino,
                    file.offset
                )
            }
            FollowNotice::RotatedUnread { path, file } => write!(
                f,
                "{}: {} looks like a file rotated in and away again since the checkpoint (two \
                 rotations while nothing ran); it was not read, lines in it are not delivered",
                path.display(),
                file.display()
            ),
        }
    }
}

/// So that a notice can travel inside an [`io::Error`](std::io::Error) ([`ReadFd::read`](crate::ReadFd::read) of a followed file).
impl std::error::Error for FollowNotice {}
