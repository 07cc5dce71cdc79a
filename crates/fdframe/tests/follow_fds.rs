//! The descriptors of a followed file stay bounded over many rotations. A test binary of its
//! own, so that no other test opens or closes descriptors while it counts them.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::task::Poll;
use std::time::Duration;

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{FollowNotice, FollowOptions};

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The next line, skipping rotation notices; panics if nothing comes for a minute.
fn next_line(reader: &mut FdReader<LinesDecoder>) -> String {
    loop {
        match reader.next_timeout(Duration::from_secs(60)) {
            Poll::Ready(Some(Ok(line))) => return String::from_utf8(line.to_vec()).unwrap(),
            Poll::Ready(Some(Err(Error::Follow(FollowNotice::Rotated { .. })))) => {}
            Poll::Ready(other) => panic!("unexpected {other:?}"),
            Poll::Pending => assert!(reader.framer().is_yielding(), "nothing came for a minute"),
        }
    }
}

#[test]
fn descriptors_do_not_grow_over_2000_rotations() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("fdframe-follow-fds-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir(&dir).unwrap();
    let (path, old) = (dir.join("log"), dir.join("log.1"));
    fs::write(&path, "0\n").unwrap();
    // A grace period longer than the test: only the cap of 16 rotated files bounds them.
    let options = FollowOptions::new().rotate_wait(Duration::from_secs(3600));
    let mut reader = FdReader::follow(&path, LinesDecoder::new(), options).unwrap();
    assert_eq!(next_line(&mut reader), "0");
    let baseline = open_fds();
    let mut most = baseline;
    for i in 1..=2000 {
        fs::rename(&path, &old).unwrap();
        let mut file = fs::File::create_new(&path).unwrap();
        file.write_all(format!("{i}\n").as_bytes()).unwrap();
        drop(file);
        assert_eq!(next_line(&mut reader), i.to_string());
        most = most.max(open_fds());
    }
    // The current file and at most 16 rotated ones: 16 more than at the start.
    assert!(
        most <= baseline + 16,
        "{most} descriptors open at most, {baseline} at the start"
    );
    drop(reader);
    fs::remove_dir_all(&dir).unwrap();
}
