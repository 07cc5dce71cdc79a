//! The directory checks of the follow source: the watch of the path's directory moved to the
//! directory at the path (see `dirs.rs`), and the watch of a symlink target's directory.

use std::io;
use std::path::PathBuf;

use super::super::FollowNotice;
use super::super::dirs::{DirWatch, Settled, link_target_dir};
use super::{FollowSource, PathState};

impl FollowSource {
    /// The directory watch follows the directory at the path: a directory removed, renamed
    /// away or replaced is a notice, and the watch moves to the new one (or to its nearest
    /// existing ancestor, until it is created again). Before the path is looked at, so that a
    /// file created in a new directory after the look wakes the reader.
    /// A symlink at the path to a file in another directory: that directory is watched too
    /// (moved along when the link is retargeted, dropped when the path is no link any more).
    ///
    /// Only when there is something to look at — a watched directory reported an event, the
    /// last look found the directories still changing, or the path names no file (a parent
    /// renamed away reports nothing to a watch of its child) — except that a symlink at the
    /// path is resolved again at every check (its chain's other directories are not watched).
    /// Following a growing file therefore costs no look at its directory.
    pub(super) fn check_dirs(&mut self) -> io::Result<()> {
        let due = std::mem::take(&mut self.dirs_due)
            | self.watch.take_dir_events()
            | (self.path_state != PathState::Present);
        if !due && self.link_watch.is_none() {
            return Ok(());
        }
        if due {
            let settled = self.dir_watch.settle(&mut self.watch)?;
            self.settled(settled, self.dir_watch.want().to_owned());
        }
        match (link_target_dir(&self.path, &self.dir), &mut self.link_watch) {
            (None, None) => {}
            (None, Some(_)) => {
                if let Some(mut old) = self.link_watch.take() {
                    old.clear(&mut self.watch);
                }
            }
            (Some(want), Some(link)) => {
                if link.want() != want {
                    link.retarget(want, &mut self.watch);
                }
            }
            (Some(want), None) => self.link_watch = Some(DirWatch::new(want, false)),
        }
        if let Some(link) = &mut self.link_watch {
            let settled = link.settle(&mut self.watch)?;
            let directory = link.want().to_owned();
            self.settled(settled, directory);
        }
        Ok(())
    }

    /// A directory watch moved: a notice if its directory was lost, another check at once if
    /// the directories kept changing.
    fn settled(&mut self, settled: Settled, directory: PathBuf) {
        if settled.lost {
            self.notices.push_back(FollowNotice::DirectoryRemoved {
                path: self.path.clone(),
                directory,
            });
        }
        self.recheck |= !settled.stable;
        self.dirs_due |= !settled.stable;
    }
}
