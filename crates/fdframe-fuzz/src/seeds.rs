//! Hand-made seed inputs, one small set per target, written with [`Builder`] so that each says
//! what it exercises. `fdframe-fuzz seed` writes them into `corpus/<target>/seed-<n>`; the
//! corpus in the repository is those files plus a few inputs the runner found.

use std::ffi::c_long;
use std::mem::size_of;

use crate::input::{Builder, EAGAIN, EINTR, EINVAL, EIO, EPIPE};

/// Read-size configuration bytes for the stream targets: first read, largest read.
const SMALL_READS: [u8; 2] = [3, 7];

fn cfg(head: &[u8]) -> Vec<u8> {
    let mut out = head.to_vec();
    out.extend_from_slice(&SMALL_READS);
    out
}

fn lines_like() -> Vec<Vec<u8>> {
    // [limit byte, strip_cr, first read, largest read]
    vec![
        Builder::new(&cfg(&[8, 0]))
            .fill(b"one\ntw")
            .errno(EINTR)
            .fill(b"o\nthree is too long\n")
            .errno(EAGAIN)
            .fill(b"\n\nlast")
            .build(),
        Builder::new(&cfg(&[4, 1]))
            .fill(b"ab\r\ncd\r")
            .fill(b"\nabcd\r\nabcde\r\n\r")
            .eof()
            .build(),
        Builder::new(&cfg(&[200, 1]))
            .fill_len(300)
            .tail(&[b'x'; 300])
            .tail(b"\nok\r\n")
            .build(),
        Builder::new(&cfg(&[16, 0]))
            .fill(b"gr\xc3\xbc\xc3")
            .fill(b"\x9fe\nbad \xff\n\xe2\x82")
            .fill_then_eio(b"\xac\n")
            .build(),
        Builder::new(&cfg(&[0, 0])).tail(b"\n\n\nx\n").build(),
    ]
}

fn engine() -> Vec<Vec<u8>> {
    let mut seeds = lines_like();
    seeds.push(
        Builder::new(&cfg(&[10, 0]))
            .fill(b"a\nb")
            .errno(EINTR)
            .errno(EINTR)
            .errno(EAGAIN)
            .fill(b"c\n")
            .errno(EPIPE)
            .tail(b"never read\n")
            .build(),
    );
    seeds.push(
        Builder::new(&cfg(&[10, 1]))
            .fill(b"x\r\n")
            .errno(EINVAL)
            .build(),
    );
    seeds.push(
        Builder::new(&cfg(&[10, 0]))
            .fill(b"partial")
            .errno(EIO)
            .build(),
    );
    seeds.push(
        Builder::new(&cfg(&[3, 0]))
            .backend_style()
            .fill(b"a\nb\ntoo long\nc")
            .errno(EAGAIN)
            .fill(b"\nd")
            .build(),
    );
    let mut many_eintr = Builder::new(&cfg(&[10, 0])).fill(b"a\n");
    for _ in 0..40 {
        many_eintr = many_eintr.errno(EINTR);
    }
    seeds.push(many_eintr.fill(b"b\n").build());
    seeds
}

fn length_delimited() -> Vec<Vec<u8>> {
    // [field_len, flags (1 = little endian, 2 = length includes header), limit, reads]
    vec![
        Builder::new(&cfg(&[4, 0, 16]))
            .fill(b"\0\0\0\x05hel")
            .fill(b"lo\0\0\0\0\0\0\0\x20")
            .tail(&[b's'; 32])
            .tail(b"\0\0\0\x02ok\0\0")
            .build(),
        Builder::new(&cfg(&[2, 3, 8]))
            .fill(b"\x05\x00abc\x01\x00\x04\x00ok\x02\x00")
            .build(),
        Builder::new(&cfg(&[8, 1, 4]))
            .tail(&[0xff; 8])
            .tail(b"\x03\0\0\0\0\0\0\0abc")
            .build(),
        Builder::new(&cfg(&[1, 0, 0])).tail(b"\0\0\x01x\0").build(),
    ]
}

fn fixed() -> Vec<Vec<u8>> {
    vec![
        Builder::new(&cfg(&[4]))
            .fill(b"abcdef")
            .fill(b"gh")
            .tail(b"ij")
            .build(),
        Builder::new(&cfg(&[1])).tail(b"xyz").build(),
        Builder::new(&cfg(&[24]))
            .fill_len(10)
            .errno(EINTR)
            .tail(&[7; 50])
            .build(),
    ]
}

fn chunks() -> Vec<Vec<u8>> {
    vec![
        Builder::new(&cfg(&[4]))
            .fill(b"abcdefghij")
            .eof()
            .tail(b"unread")
            .build(),
        Builder::new(&cfg(&[1]))
            .fill(b"ab")
            .errno(EAGAIN)
            .fill_then_eio(b"cd")
            .build(),
        Builder::new(&cfg(&[200])).tail(&[0x55; 700]).build(),
    ]
}

/// One `/dev/kmsg` record per fill.
fn kmsg() -> Vec<Vec<u8>> {
    let records: [&[u8]; 6] = [
        b"6,100,5000,-;first\n",
        b"7,160,424069,-;pci_root PNP0A03:00: host bridge window\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n",
        b"6,161,10,-;tab\\x09back\\x5cslash\\x7f caf\\xc3\\xa9\n",
        b"6,170,20,-,caller=T123,future=x;50\\xZZ off, cut \\x4\n",
        b"4,171,40,c;first half\n",
        b"190,172,50,+;m\n DRIVER=a\\x0ab\n K\\x3dY=v\n NOEQUALS\n",
    ];
    let mut plain = Builder::new(&[0]);
    for record in records {
        plain = plain.fill(record);
    }
    let mut seeds = vec![plain.build()];
    seeds.push(
        Builder::new(&[1, 41, 0])
            .fill(b"6,50,1,-;after the cursor\n")
            .errno(EPIPE)
            .fill(b"6,60,2,-;after an overrun\n")
            .fill(b"6,59,3,-;backwards\n")
            .fill(b"6,x,4,-;bad seq\n")
            .fill(b"6,62,5,-;no newline")
            .fill(b"6,63,6;no flag\n")
            .fill(b"6,64,7,-;m\nnot a dictionary line\n")
            .backend_style()
            .build(),
    );
    seeds.push(
        Builder::new(&[0])
            .errno(EPIPE)
            .errno(EPIPE)
            .errno(EINTR)
            .errno(EAGAIN)
            .fill(b"6,1,1,-;first after EPIPE\n")
            // One byte over the largest record: FrameTooLarge, and the stream goes on.
            .fill_len(8193)
            .tail(b"6,3,1,-;")
            .tail(&[b'x'; 8185])
            .fill(b"6,4,1,-;after too large\n")
            // More than the room offered: EINVAL, the record is gone and the stream ends.
            .fill_len(9000)
            .tail(&[b'y'; 9000])
            .build(),
    );
    let mut retries = Builder::new(&[0]).fill(b"6,1,1,-;x\n");
    for _ in 0..70 {
        retries = retries.errno(EPIPE);
    }
    seeds.push(retries.fill(b"6,9,1,-;x\n").build());
    seeds
}

fn proc_kmsg() -> Vec<Vec<u8>> {
    // [limit byte, reads]
    vec![
        Builder::new(&cfg(&[63]))
            .fill(b"<6>[    1.234567] Linux version\n<30>[    2.0")
            .fill(b"00001] udevd[80]: starting\n<4>[drm] no t")
            .tail(b"ime\n<30>[   12.000001][  T412] x\n<14>[ 3.000000][    C1]  two spaces\n")
            .build(),
        Builder::new(&cfg(&[12]))
            .fill(b"no priority\n<x>bad\n<6>this line is much too long\n<7>ok\n<6")
            .eof()
            .build(),
        Builder::new(&cfg(&[40]))
            .tail(b"<6>[  1.23456] short micros\n<6>[    T1] caller only\n<6>")
            .build(),
    ]
}

fn inotify_event(wd: i32, mask: u32, cookie: u32, name: &[u8], field_len: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    raw.extend_from_slice(&wd.to_ne_bytes());
    raw.extend_from_slice(&mask.to_ne_bytes());
    raw.extend_from_slice(&cookie.to_ne_bytes());
    raw.extend_from_slice(&field_len.to_ne_bytes());
    let mut field = name.to_vec();
    field.resize(field_len as usize, 0);
    raw.extend_from_slice(&field);
    raw
}

fn inotify() -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    events.extend(inotify_event(1, 0x100, 0, b"new.txt", 16));
    events.extend(inotify_event(1, 0x40, 7, b"old", 16));
    events.extend(inotify_event(-1, 0x4000, 0, b"", 0));
    events.extend(inotify_event(-1, 0x4000, 0, b"", 0));
    events.extend(inotify_event(1, 0x80, 7, b"moved", 32));
    events.extend(inotify_event(2, 0x4000_0200, 0, b"", 0));
    let mut too_long = inotify_event(3, 0x2, 0, b"", 0);
    too_long[12..16].copy_from_slice(&5000u32.to_ne_bytes());
    vec![
        Builder::new(&SMALL_READS)
            .fill(&events[..20])
            .tail(&events[20..])
            .build(),
        Builder::new(&SMALL_READS)
            .fill(&events[..40])
            .fill_len(7)
            .tail(&events[40..])
            .tail(&too_long)
            .tail(&events[..40])
            .build(),
    ]
}

fn signalfd() -> Vec<Vec<u8>> {
    let mut record = [0u8; 128];
    for (i, b) in record.iter_mut().enumerate() {
        *b = i as u8;
    }
    let mut two = record.to_vec();
    two.extend_from_slice(&[0xee; 128]);
    vec![
        Builder::new(&SMALL_READS)
            .fill(&two[..100])
            .tail(&two[100..])
            .build(),
        Builder::new(&SMALL_READS).tail(&two[..200]).build(),
    ]
}

fn counters() -> Vec<Vec<u8>> {
    let mut data = Vec::new();
    for n in [1u64, 2, u64::MAX, 0x8000_0000_0000_0201] {
        data.extend_from_slice(&n.to_ne_bytes());
    }
    vec![
        Builder::new(&SMALL_READS)
            .fill(&data[..12])
            .tail(&data[12..])
            .build(),
        Builder::new(&SMALL_READS).tail(&data[..13]).build(),
    ]
}

fn input_event(sec: i64, usec: i64, kind: u16, code: u16, value: i32) -> Vec<u8> {
    let mut raw = Vec::new();
    if size_of::<c_long>() == 8 {
        raw.extend_from_slice(&sec.to_ne_bytes());
        raw.extend_from_slice(&usec.to_ne_bytes());
    } else {
        raw.extend_from_slice(&(sec as i32).to_ne_bytes());
        raw.extend_from_slice(&(usec as i32).to_ne_bytes());
    }
    raw.extend_from_slice(&kind.to_ne_bytes());
    raw.extend_from_slice(&code.to_ne_bytes());
    raw.extend_from_slice(&value.to_ne_bytes());
    raw
}

fn evdev() -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    events.extend(input_event(10, 500, 1, 30, 1));
    events.extend(input_event(10, 500, 0, 0, 0));
    events.extend(input_event(11, 0, 0, 3, 0));
    events.extend(input_event(11, 1, 2, 0, -2));
    events.extend(input_event(11, 1, 0, 3, 0));
    vec![
        Builder::new(&SMALL_READS)
            .fill(&events[..30])
            .tail(&events[30..])
            .build(),
        Builder::new(&SMALL_READS).tail(&events[..100]).build(),
    ]
}

fn datagrams() -> Vec<Vec<u8>> {
    // [limit byte]
    vec![
        Builder::new(&[16])
            .fill(b"\x60\0\0\0packet")
            .fill(&[1; 16])
            .fill(&[2; 17])
            .fill(&[3; 40])
            .errno(EAGAIN)
            .fill(b"x")
            .build(),
        Builder::new(&[4])
            .fill(b"ab")
            .errno(EPIPE)
            .fill(b"cd")
            .build(),
    ]
}

/// The seeds of the target named `name`.
pub(crate) fn for_target(name: &str) -> Vec<Vec<u8>> {
    match name {
        "lines" | "utf8-lines" => lines_like(),
        "engine" => engine(),
        "length-delimited" => length_delimited(),
        "fixed" => fixed(),
        "chunks" => chunks(),
        "kmsg" => kmsg(),
        "proc-kmsg" => proc_kmsg(),
        "inotify" => inotify(),
        "signalfd" => signalfd(),
        "counters" => counters(),
        "evdev" => evdev(),
        "datagrams" => datagrams(),
        _ => Vec::new(),
    }
}
