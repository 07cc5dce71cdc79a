//! The follow source's internal bounds: rotated files kept, inotify watches.

use std::io::Write;
use std::task::Poll;
use std::time::Duration;

use super::source::{FollowSource, MAX_ROTATED};
use super::*;
use crate::blocking::FdReader;
use crate::codec::LinesDecoder;
use crate::{Error, ReadFd};

/// A directory of its own under the temp dir, named after the test; removed on drop.
fn temp_dir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("fdframe-follow-unit-{test}-"))
        .tempdir()
        .unwrap()
}

fn next_line(reader: &mut FdReader<LinesDecoder>) -> String {
    loop {
        match reader.next_timeout(Duration::from_secs(60)) {
            Poll::Ready(Some(Ok(line))) => return String::from_utf8(line.to_vec()).unwrap(),
            Poll::Ready(Some(Err(Error::Follow(FollowNotice::Rotated { .. })))) => {}
            Poll::Ready(other) => panic!("unexpected {other:?}"),
            Poll::Pending => assert!(reader.framer().is_yielding(), "nothing came"),
        }
    }
}

fn with_source<T>(fd: &ReadFd, f: impl FnOnce(&FollowSource) -> T) -> T {
    fd.with_follow_source(f).expect("a followed fd")
}

#[test]
fn past_16_rotated_files_only_the_oldest_are_finished_and_watches_are_removed() {
    let dir = temp_dir("cap");
    let (path, old) = (dir.path().join("log"), dir.path().join("log.1"));
    std::fs::write(&path, "0\n").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_secs(3600));
    let mut reader = FdReader::follow(&path, LinesDecoder::new(), options).unwrap();
    assert_eq!(next_line(&mut reader), "0");
    let mut last_old = None;
    for i in 1..=200 {
        std::fs::rename(&path, &old).unwrap();
        last_old = Some(std::fs::OpenOptions::new().append(true).open(&old).unwrap());
        std::fs::write(&path, format!("{i}\n")).unwrap();
        assert_eq!(next_line(&mut reader), i.to_string());
        let (rotated, watched) =
            with_source(reader.get_ref(), |s| (s.rotated_len(), s.watched_files()));
        assert!(rotated <= MAX_ROTATED + 1, "{rotated} rotated files kept");
        assert!(watched <= MAX_ROTATED + 2, "{watched} files watched");
    }
    // The newest rotated file is still being finished: what is written to it comes.
    last_old.unwrap().write_all(b"late\n").unwrap();
    assert_eq!(next_line(&mut reader), "late");
}

#[test]
fn a_followed_read_fd_is_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let dir = temp_dir("send");
    let fd = ReadFd::follow(dir.path().join("log"), FollowOptions::new()).unwrap();
    send_sync(&fd);
    assert_eq!(fd.kind(), crate::FdKind::Followed);
    assert!(fd.kind().is_pollable());
}

/// Every stream's error type carries notices, and every step of the per-message path returns
/// it: a notice must not make it larger than the loss notice already does.
#[test]
fn a_follow_notice_does_not_grow_the_error_type() {
    use std::mem::size_of;
    assert!(size_of::<FollowNotice>() <= size_of::<crate::Loss>());
    assert_eq!(
        size_of::<Error<crate::codec::LinesError>>(),
        size_of::<crate::Loss>()
    );
}

#[test]
#[should_panic(expected = "only a ReadSpace offered by a Framer")]
fn a_notice_on_a_read_buf_no_engine_offered_panics() {
    let mut buf = bytes::BytesMut::new();
    let mut read_buf = crate::ReadSpace::new(&mut buf, 4);
    read_buf.notice(FollowNotice::Removed { path: "x".into() });
}

#[test]
fn a_directory_removed_and_re_created_over_and_over_keeps_one_directory_watch() {
    let dir = temp_dir("dir-cycles");
    let app = dir.path().join("a/b");
    let path = app.join("log");
    // Missing at the start: the nearest ancestor that exists is watched, and only it.
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(1));
    let mut reader = FdReader::follow(&path, LinesDecoder::new(), options).unwrap();
    assert!(reader.poll_next_now().is_pending());
    assert_eq!(with_source(reader.get_ref(), |s| s.watched_dirs()), 1);
    for i in 0..100 {
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(&path, format!("{i}\n")).unwrap();
        loop {
            match reader.next_timeout(Duration::from_secs(60)) {
                Poll::Ready(Some(Ok(line))) => {
                    assert_eq!(line, i.to_string().as_bytes());
                    break;
                }
                Poll::Ready(Some(Err(Error::Follow(_)))) => {}
                other => panic!("round {i}: unexpected {other:?}"),
            }
        }
        let (dirs, files) =
            with_source(reader.get_ref(), |s| (s.watched_dirs(), s.watched_files()));
        assert_eq!(dirs, 1, "round {i}: one directory watch");
        assert!(files <= MAX_ROTATED + 1, "round {i}: {files} files watched");
        std::fs::remove_dir_all(dir.path().join("a")).unwrap();
    }
}
