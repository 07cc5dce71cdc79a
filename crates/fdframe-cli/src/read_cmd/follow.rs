//! `fdframe read --follow`: a regular file followed by its path as it grows and is rotated,
//! truncated, removed and re-created (`tail -F`), and `--checkpoint FILE`, where a run stopped.
//! `--checkpoint FILE` without `--follow` is one batch run (cron): what is there from the
//! checkpoint (or the start) to the current end, rotated files found from the checkpoint
//! first, then the checkpoint saved and exit 0. It is the core's "reading once" recipe: the
//! same followed descriptor with no grace period, read until nothing is ready
//! ([`Followed::once`]); a partial last line stays after the checkpoint for the next run.
//!
//! The following itself is the core's: [`ReadFd::follow`] is a descriptor like any other, so
//! every `--backend` follows through the sources it already has. What is here: the options,
//! the notices (on stderr, never between the data), and the checkpoint file.
//!
//! The checkpoint file holds the text of [`Checkpoint::encode`], and is kept the way the kmsg
//! cursor is ([`LockedFile`]: checked before anything is created, locked, opened relative to
//! its directory, never through a symlink, only as a regular file, read at most
//! [`MAX_LEN`] bytes, replaced atomically under an unguessable temporary name). It is saved
//! only after the items up to it were written to stdout and stdout was flushed (after each
//! batch, and at the end: Ctrl-C, SIGTERM, SIGHUP), so a restart repeats nothing that was
//! saved and loses nothing that was not printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use fdframe::ReadFd;
use fdframe::follow::{Checkpoint, FollowNotice, FollowOptions, FollowStart};
use rustix::fs::{FileType, Mode};

use crate::failure::{Failure, open_failure};
use crate::render::warn;
use crate::safe_file::{FileError, LockError, LockedFile};

/// The most a checkpoint file may hold: what [`Checkpoint::parse`] accepts (4 KiB). Anything
/// longer is not a checkpoint, and reading stops here whatever the file is.
pub(crate) const MAX_LEN: usize = Checkpoint::MAX_TEXT_LEN;

/// The longest `--rotate-wait`: a rotated file is kept open for that long.
const MAX_ROTATE_WAIT: Duration = Duration::from_secs(3600);

/// The follow options of `fdframe read`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("by_path").args(["follow", "checkpoint"]).multiple(true)))]
pub(crate) struct FollowArgs {
    /// Keep reading the file as it grows, and through rotation, truncation, removal and
    /// re-creation, like `tail -F` (see "Following" below); Ctrl-C stops.
    #[arg(short = 'F', long, visible_short_alias = 'f')]
    pub(crate) follow: bool,
    /// With --follow or --checkpoint: start at the beginning of the file. The default: nothing
    /// already in the file is skipped (tail -F starts at the last 10 lines).
    #[arg(long, requires = "by_path", conflicts_with = "from_end")]
    from_start: bool,
    /// With --follow: only what is written from now on (like `tail -n 0 -F`). With
    /// --checkpoint, only when there is no checkpoint yet (a first batch run then prints
    /// nothing and saves the end).
    #[arg(long, requires = "by_path")]
    from_end: bool,
    /// With --follow: how long a rotated or removed file is still read for what its writer
    /// adds after the rotation, before it is closed: 500ms, 2s, 1m (a bare number is seconds;
    /// default 1s, at most 1h).
    #[arg(long, requires = "follow", value_name = "DURATION", value_parser = parse_duration)]
    rotate_wait: Option<Duration>,
    /// Resume where the last run with FILE stopped, and save the position there. With
    /// --follow: keep following and saving. Without: read to the current end, save, exit (a
    /// batch run, for cron). FILE's directory must be writable only by you; symlinks and
    /// non-regular files are refused (see "Following" below).
    #[arg(long, value_name = "FILE")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Start afresh (and overwrite FILE) when the --checkpoint file is a damaged checkpoint,
    /// instead of failing. A file that is not a checkpoint is never overwritten.
    #[arg(long, requires = "checkpoint")]
    checkpoint_reset: bool,
}

/// `--rotate-wait`: a number and a unit (`ms`, `s`, `m`, `h`; none: seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration such as 500ms, 2s or 1m, got {text:?}");
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let duration = Duration::try_from_secs_f64(value * scale).map_err(|_| bad())?;
    if duration > MAX_ROTATE_WAIT {
        return Err(format!("--rotate-wait is at most 1h, got {text:?}"));
    }
    Ok(duration)
}

/// A followed file, ready for a source, and its checkpoint file if there is one.
pub(crate) struct Followed {
    pub(crate) fd: ReadFd,
    pub(crate) checkpoint: Option<CheckpointFile>,
    /// A batch run (`--checkpoint` without `--follow`): read until nothing is ready, then
    /// stop. The descriptor has no grace period, so rotated files are finished at once
    /// instead of being waited on; the partial last line of the file at the path is not
    /// printed (ending the stream would print it): it stays after the saved checkpoint.
    pub(crate) once: bool,
}

impl FollowArgs {
    /// The path is read as a followed file: `--follow`, or a batch run with `--checkpoint`.
    pub(crate) fn by_path(&self) -> bool {
        self.follow || self.checkpoint.is_some()
    }
}

/// Opens `path` for following as `args` say: the checkpoint file checked, locked and read
/// first, so that a refused checkpoint opens nothing.
pub(crate) fn open(args: &FollowArgs, path: &str) -> Result<Followed, Failure> {
    let once = !args.follow;
    if path == "-" {
        let text = if once {
            "--checkpoint reads a file by its path; standard input has no position to resume"
        } else {
            "--follow follows a file by its path; standard input is read to its end without \
             --follow"
        };
        return Err(Failure::Message {
            text: text.into(),
            code: 2,
        });
    }
    // One look at the path: what it is (only regular files are followed) and, for a batch
    // run, whether there is anything to read at all.
    let looked = rustix::fs::stat(Path::new(path));
    let missing = matches!(looked, Err(rustix::io::Errno::NOENT));
    if let Ok(stat) = looked {
        let kind = FileType::from_raw_mode(stat.st_mode);
        if kind != FileType::RegularFile {
            let (what, option) = if once {
                ("read", "--checkpoint")
            } else {
                ("follow", "--follow")
            };
            return Err(Failure::new(format_args!(
                "cannot {what} {path} with {option}: it is {}; {option} reads regular files \
                 (read a FIFO, pipe or device without it: it is read until it ends)",
                kind_name(kind)
            )));
        }
    }
    let fresh = if args.from_end {
        FollowStart::End
    } else {
        FollowStart::Beginning
    };
    let (start, checkpoint) = match &args.checkpoint {
        None => (fresh, None),
        Some(file) => {
            let mut file = CheckpointFile::open(file)?;
            let start = match file.load(args.checkpoint_reset)? {
                Some(cp) => FollowStart::Checkpoint(cp),
                None => fresh,
            };
            (start, Some(file))
        }
    };
    let mut options = FollowOptions::new().start(start);
    if once {
        // Nothing is waited for in a batch run: a rotated file is finished at once.
        options = options.rotate_wait(Duration::ZERO);
    } else if let Some(wait) = args.rotate_wait {
        options = options.rotate_wait(wait);
    }
    let fd = ReadFd::follow(path, options).map_err(|e| open_failure(path, &e))?;
    if once && missing {
        // A mistyped path in a cron job would otherwise print nothing, day after day.
        warn(format_args!(
            "{path} does not exist (yet): nothing read from it"
        ))?;
    }
    Ok(Followed {
        fd,
        checkpoint,
        once,
    })
}

fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        _ => "not a regular file",
    }
}

/// Reports a follow notice on stderr, in the notices' `fdframe: ` style. A batch run
/// (`once`) waits for nothing, so the notices that say the follower waits say what a later run
/// does instead.
pub(crate) fn notice(notice: &FollowNotice, once: bool) -> Result<(), Failure> {
    match notice {
        FollowNotice::Removed { path } if once => Ok(warn(format_args!(
            "{}: file removed; a later run reads it once it is back",
            path.display()
        ))?),
        FollowNotice::DirectoryRemoved { path, directory } if once => Ok(warn(format_args!(
            "{}: directory {} removed or replaced; a later run reads the path in the directory \
             at its place",
            path.display(),
            directory.display()
        ))?),
        _ => Ok(warn(format_args!("{notice}"))?),
    }
}

/// What a checkpoint file's bytes are.
#[derive(Debug, PartialEq, Eq)]
enum Judged {
    /// No file yet: a first run.
    Missing,
    Found(Checkpoint),
    /// Not a checkpoint at all (another file, too long, not text): never replaced.
    Foreign,
    /// A checkpoint that cannot be used (this says why): replaced with --checkpoint-reset.
    Damaged(String),
}

/// How every checkpoint's text starts (the first word of [`Checkpoint::encode`]).
const MAGIC: &str = "fdframe-follow-checkpoint";

fn judge(bytes: Option<&[u8]>) -> Judged {
    let Some(bytes) = bytes else {
        return Judged::Missing;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Judged::Foreign;
    };
    if !text.starts_with(MAGIC) {
        return if text.is_empty() {
            Judged::Damaged("it is empty".into())
        } else {
            Judged::Foreign
        };
    }
    match Checkpoint::parse(text) {
        Ok(cp) => Judged::Found(cp),
        Err(e) => Judged::Damaged(e.to_string()),
    }
}

/// The `--checkpoint` file, locked for this run, and what was last saved in it.
pub(crate) struct CheckpointFile {
    file: LockedFile,
    saved: Option<Checkpoint>,
}

impl CheckpointFile {
    /// Checks the path and takes the lock beside it (`.FILE.lock`).
    fn open(path: &Path) -> Result<CheckpointFile, Failure> {
        let shown = path.display();
        let file = LockedFile::open(path).map_err(|e| match e {
            LockError::Path(why) => Failure::new(format_args!(
                "cannot use the checkpoint file {shown}: {why}"
            )),
            LockError::Lock(lock, why) => Failure::new(format_args!(
                "cannot lock the checkpoint file {shown}: the lock file {}: {why}",
                lock.display()
            )),
            LockError::InUse(lock) => Failure::new(format_args!(
                "the checkpoint file {shown} is in use by another fdframe (it holds {}); two \
                 runs sharing a checkpoint would print the same lines twice",
                lock.display()
            )),
        })?;
        Ok(CheckpointFile { file, saved: None })
    }

    /// Reads the checkpoint: `None` when there is none yet (or it was reset).
    fn load(&mut self, reset: bool) -> Result<Option<Checkpoint>, Failure> {
        let shown = self.file.path().display();
        let judged = match self.file.read(MAX_LEN) {
            Ok(bytes) => judge(bytes.as_deref()),
            Err(FileError::TooLong(_)) => Judged::Foreign,
            Err(e) => {
                return Err(Failure::new(format_args!(
                    "cannot read the checkpoint file {shown}: {e}"
                )));
            }
        };
        match judged {
            Judged::Missing => Ok(None),
            Judged::Found(cp) => {
                self.saved = Some(cp.clone());
                Ok(Some(cp))
            }
            Judged::Foreign => Err(Failure::new(format_args!(
                "cannot use the checkpoint file {shown}: it is not an fdframe checkpoint file \
                 (one starts with `{MAGIC}` and is at most {MAX_LEN} bytes). fdframe replaces \
                 no other file, not even with --checkpoint-reset: check the path, or remove \
                 the file"
            ))),
            Judged::Damaged(why) if reset => {
                warn(format_args!(
                    "ignoring the checkpoint file {shown} ({why}); starting afresh \
                     (--checkpoint-reset)"
                ))?;
                Ok(None)
            }
            Judged::Damaged(why) => Err(Failure::new(format_args!(
                "cannot use the checkpoint file {shown}: it is damaged: {why}. Remove it, or \
                 pass --checkpoint-reset to start afresh"
            ))),
        }
    }

    /// Saves `checkpoint` unless it is what the file holds already. Call only once the items
    /// up to it were written out and stdout was flushed.
    pub(crate) fn commit(&mut self, checkpoint: Option<Checkpoint>) -> Result<(), Failure> {
        let Some(checkpoint) = checkpoint else {
            return Ok(());
        };
        if self.saved.as_ref() == Some(&checkpoint) {
            return Ok(());
        }
        self.file
            .replace(checkpoint.encode().as_bytes(), Mode::from(0o644))
            .map_err(|e| {
                Failure::new(format_args!(
                    "cannot save the checkpoint to {}: {e}",
                    self.file.path().display()
                ))
            })?;
        self.saved = Some(checkpoint);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_mean_seconds() {
        let ok = |t: &str| parse_duration(t).unwrap();
        assert_eq!(ok("2"), Duration::from_secs(2));
        assert_eq!(ok("1s"), Duration::from_secs(1));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("0"), Duration::ZERO);
        for bad in [
            "", "s", "-1s", "1.s", ".5s", "1 s", "1sec", "1e3", "1..2s", "nan",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("2h").unwrap_err().contains("at most 1h"));
        // The --rotate-wait help says "default 1s".
        assert_eq!(FollowOptions::DEFAULT_ROTATE_WAIT, Duration::from_secs(1));
    }

    #[test]
    fn other_files_are_foreign_and_damaged_checkpoints_are_named() {
        assert_eq!(judge(None), Judged::Missing);
        for foreign in [&b"root:x:0:0\n"[..], b"\xff\xfe", b"{\"offset\":3}"] {
            assert_eq!(judge(Some(foreign)), Judged::Foreign, "{foreign:?}");
        }
        assert!(matches!(judge(Some(b"")), Judged::Damaged(_)));
        let damaged = format!("{MAGIC} 1\nnonsense\n");
        assert!(matches!(
            judge(Some(damaged.as_bytes())),
            Judged::Damaged(_)
        ));
    }

    #[test]
    fn what_the_core_encodes_is_judged_a_checkpoint() {
        // MAGIC must stay the start of `Checkpoint::encode`, or every saved file is "foreign".
        let text = Checkpoint::default().encode();
        assert_eq!(
            judge(Some(text.as_bytes())),
            Judged::Found(Checkpoint::default())
        );
        let cut = &text[..text.len() - 1];
        assert!(matches!(judge(Some(cut.as_bytes())), Judged::Damaged(_)));
    }
}
