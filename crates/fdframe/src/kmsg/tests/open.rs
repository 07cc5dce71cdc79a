use std::io::{Read, Write};

use crate::kmsg::{KmsgStart, open_at};

fn read_all_from(start: KmsgStart) -> String {
    let path = std::env::temp_dir().join(format!(
        "fdframe-kmsg-open-{:?}-{}",
        start,
        std::process::id()
    ));
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(b"6,1,1,-;one\n6,2,2,-;two\n"))
        .unwrap();
    let fd = open_at(&path, start).unwrap();
    let flags = rustix::fs::fcntl_getfl(&fd).unwrap();
    assert!(flags.contains(rustix::fs::OFlags::NONBLOCK));
    assert!(
        rustix::io::fcntl_getfd(&fd)
            .unwrap()
            .contains(rustix::io::FdFlags::CLOEXEC)
    );
    let mut text = String::new();
    std::fs::File::from(fd).read_to_string(&mut text).unwrap();
    std::fs::remove_file(&path).unwrap();
    text
}

#[test]
fn oldest_reads_from_the_start() {
    assert_eq!(
        read_all_from(KmsgStart::Oldest),
        "6,1,1,-;one\n6,2,2,-;two\n"
    );
}

#[test]
fn new_seeks_to_the_end() {
    assert_eq!(read_all_from(KmsgStart::New), "");
}

#[test]
fn after_clear_seeks_to_data() {
    // On a regular file SEEK_DATA from 0 is the first byte; on /dev/kmsg, the clear point.
    assert_eq!(
        read_all_from(KmsgStart::AfterClear),
        "6,1,1,-;one\n6,2,2,-;two\n"
    );
}

#[test]
fn missing_path_is_the_kernels_error_unchanged() {
    let err = open_at("/nonexistent/fdframe/kmsg", KmsgStart::Oldest).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.raw_os_error(), Some(2));
}
