//! Where files went that were at the path only between two wake-ups.
//!
//! Rotation is seen by comparing what the path names at each wake-up with the current file.
//! A file that is created at the path and rotated away again before the next wake-up (two
//! rotations in a row, a busy machine) is never named by the path when we look. The
//! directory's rename events say where it went: [`Moves`] follows every file renamed away from
//! the path through later renames and deletions, so the source can open it afterwards and read
//! it like any rotated file. A file deleted (or overwritten by a rename) before that is gone
//! for every reader.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use super::source::MAX_ROTATED;
use super::watch::DirEvent;

/// Names, in the directory, of files renamed away from the path since the last look, oldest
/// first.
#[derive(Debug, Default)]
pub(crate) struct Moves {
    names: Vec<OsString>,
    /// The last `MovedFrom` of the path (`None` in the tuple) or of a tracked name (its index),
    /// waiting for its `MovedTo`.
    from: Option<(u32, Option<usize>)>,
    /// An event changed what the path names (or events were lost) since the last look.
    touched: bool,
}

impl Moves {
    /// Takes one event of the directory; `path_name` is the followed file's name.
    pub(crate) fn on_event(&mut self, event: DirEvent<'_>, path_name: &OsStr) {
        let ours = path_name.as_bytes();
        self.touched |= match event {
            DirEvent::MovedFrom { name, .. }
            | DirEvent::MovedTo { name, .. }
            | DirEvent::Deleted { name }
            | DirEvent::Created { name } => name == ours,
            DirEvent::Overflow => true,
        };
        match event {
            DirEvent::MovedFrom { name, cookie } => {
                self.from = if name == ours {
                    Some((cookie, None))
                } else {
                    self.position(name).map(|i| (cookie, Some(i)))
                };
            }
            DirEvent::MovedTo { name, cookie } => {
                let from = match self.from.take() {
                    Some((c, from)) if c == cookie => Some(from),
                    _ => None,
                };
                // Whatever had this name before is replaced: a tracked file there is gone.
                let replaced = self.position(name);
                match from {
                    // Renamed away from the path: follow it.
                    Some(None) if name != ours => {
                        self.forget(replaced);
                        if self.names.len() == MAX_ROTATED {
                            // Bounded like the rotated files: the oldest is given up.
                            self.names.remove(0);
                        }
                        self.names.push(OsStr::from_bytes(name).to_owned());
                    }
                    // A tracked file renamed on (`log.1` -> `log.2`), or back to the path.
                    Some(Some(i)) => {
                        if name == ours {
                            self.names.remove(i);
                        } else if replaced != Some(i) {
                            self.names[i] = OsStr::from_bytes(name).to_owned();
                            self.forget(replaced);
                        }
                    }
                    _ => self.forget(replaced),
                }
            }
            DirEvent::Deleted { name } => {
                let i = self.position(name);
                self.forget(i);
            }
            DirEvent::Created { .. } => {}
            DirEvent::Overflow => {
                // The events that would say where they went are lost; what is still named
                // is checked by inode when it is opened.
                self.from = None;
            }
        }
    }

    /// The names to look at now, oldest first, and whether the path changed; forgets both.
    pub(crate) fn take(&mut self) -> (Vec<OsString>, bool) {
        self.from = None;
        (
            std::mem::take(&mut self.names),
            std::mem::take(&mut self.touched),
        )
    }

    fn position(&self, name: &[u8]) -> Option<usize> {
        self.names.iter().position(|n| n.as_bytes() == name)
    }

    fn forget(&mut self, i: Option<usize>) {
        if let Some(i) = i {
            self.names.remove(i);
            if let Some((_, Some(from))) = &mut self.from {
                match (*from).cmp(&i) {
                    std::cmp::Ordering::Greater => *from -= 1,
                    std::cmp::Ordering::Equal => self.from = None,
                    std::cmp::Ordering::Less => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[DirEvent<'_>]) -> Vec<String> {
        let mut moves = Moves::default();
        for &event in events {
            moves.on_event(event, OsStr::new("log"));
        }
        moves
            .take()
            .0
            .into_iter()
            .map(|n| n.into_string().unwrap())
            .collect()
    }

    fn mv<'a>(from: &'a str, to: &'a str, cookie: u32) -> [DirEvent<'a>; 2] {
        [
            DirEvent::MovedFrom {
                name: from.as_bytes(),
                cookie,
            },
            DirEvent::MovedTo {
                name: to.as_bytes(),
                cookie,
            },
        ]
    }

    #[test]
    fn files_renamed_away_from_the_path_are_followed_through_numbered_rotation() {
        // logrotate's numbered scheme, twice: log.1 -> log.2, log -> log.1.
        let events: Vec<_> = [
            mv("log", "log.1", 1),
            mv("log.1", "log.2", 2),
            mv("log", "log.1", 3),
        ]
        .concat();
        assert_eq!(run(&events), ["log.2", "log.1"]);
    }

    #[test]
    fn a_tracked_file_overwritten_or_deleted_is_forgotten() {
        let events: Vec<_> = [mv("log", "log.1", 1), mv("log", "log.1", 2)].concat();
        assert_eq!(run(&events), ["log.1"]);
        let mut events: Vec<_> = [mv("log", "old", 1), mv("log", "log.1", 2)].concat();
        events.push(DirEvent::Deleted { name: b"old" });
        assert_eq!(run(&events), ["log.1"]);
        let events: Vec<_> = [mv("log", "old", 1), mv("other", "old", 2)].concat();
        assert!(run(&events).is_empty());
    }

    #[test]
    fn renames_of_other_files_and_unpaired_events_are_ignored() {
        let mut events: Vec<_> = [mv("a", "b", 1)].concat();
        events.push(DirEvent::MovedFrom {
            name: b"log",
            cookie: 7,
        });
        events.push(DirEvent::MovedTo {
            name: b"elsewhere",
            cookie: 8,
        });
        assert!(run(&events).is_empty());
        let events: Vec<_> = [mv("log", "log.1", 1), mv("log.1", "log", 2)].concat();
        assert!(run(&events).is_empty(), "moved back to the path");
    }

    #[test]
    fn at_most_16_names_are_tracked() {
        let names: Vec<String> = (0..40).map(|i| format!("log.{i}")).collect();
        let events: Vec<_> = names
            .iter()
            .enumerate()
            .flat_map(|(i, n)| mv("log", n, i as u32))
            .collect();
        assert_eq!(run(&events), names[40 - MAX_ROTATED..]);
    }
}
