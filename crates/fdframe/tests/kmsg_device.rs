//! The kmsg module against the real `/dev/kmsg`: records this test writes come back intact,
//! `KmsgStart::New` skips what was there before, and the whole ring buffer decodes to what
//! `dmesg` prints.
//!
//! Needs root (reading needs `CAP_SYSLOG` where `dmesg_restrict` is set; the test also writes
//! records). Without it every test prints `SKIPPED: <reason>` straight to stderr (past the test
//! harness's capture) and passes, unless `FDFRAME_REQUIRE_PRIVILEGED=1` is set, which turns a
//! skip into a failure for CI jobs that must run these.
//!
//! The records written are info/debug level, user and local0 facility, a handful per run, each
//! tagged with a marker unique to the run.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, Facility, KmsgDecoder, KmsgFlag, KmsgRecord, KmsgStart, Level};

/// Returns `true` when the test can run; otherwise reports the skip loudly (or panics when
/// `FDFRAME_REQUIRE_PRIVILEGED=1`).
///
/// The same check as `fdframe_conformance::fixtures::require_kmsg` (which the conformance
/// cases, the stress scenarios and the workspace's `tests/` share) and the CLI tests'
/// `support::privileged`: root, `/dev/kmsg` open for reading and writing, `printk_devkmsg` not
/// `off`. A copy because this crate is published and its tests must build from its package,
/// where the unpublished conformance crate does not exist.
fn can_run(test: &str) -> bool {
    let reason = if !rustix::process::geteuid().is_root() {
        Some("not running as root".to_owned())
    } else if let Err(e) = OpenOptions::new().read(true).write(true).open("/dev/kmsg") {
        Some(format!(
            "cannot open /dev/kmsg for reading and writing: {e}"
        ))
    } else if std::fs::read_to_string("/proc/sys/kernel/printk_devkmsg")
        .is_ok_and(|setting| setting.trim() == "off")
    {
        Some("kernel.printk_devkmsg=off discards records written to /dev/kmsg".to_owned())
    } else {
        None
    };
    match reason {
        None => true,
        Some(reason) => skip(test, &reason),
    }
}

fn skip(test: &str, reason: &str) -> bool {
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        panic!("{test}: {reason} (and FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)");
    }
    // Straight to the process's stderr: `eprintln!` would be captured and hidden for a test
    // that passes.
    let _ = writeln!(
        io::stderr(),
        "\n*** SKIPPED: {test}: {reason} ***\n*** (set FDFRAME_REQUIRE_PRIVILEGED=1 to fail instead) ***\n"
    );
    false
}

/// A marker no earlier run has written: pid and wall-clock nanoseconds.
fn unique_marker(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{test}-{}-{nanos}", std::process::id())
}

/// Writes one record with one `write(2)` on a fresh descriptor: the rate limit (10 writes per
/// 5 s unless `printk_devkmsg=on`) is per open file, so a new one per record never hits it.
fn write_record(line: &[u8]) {
    assert!(
        line.ends_with(b"\n"),
        "without \\n the kernel holds the record back"
    );
    let mut writer = OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .expect("open /dev/kmsg for writing");
    let written = writer.write(line).expect("write to /dev/kmsg");
    assert_eq!(written, line.len(), "one write(2) per record");
}

/// Reads every record present in the ring buffer through the core's blocking backend, up to the
/// newest one (the reader's `ready()` stops when `/dev/kmsg` would block).
fn read_ring_buffer(fd: OwnedFd) -> Vec<KmsgRecord> {
    let mut reader = FdReader::from_fd(fd, KmsgDecoder::new()).expect("a reader for /dev/kmsg");
    let limits = reader.framer().read_limits();
    assert!(limits.one_record_per_read);
    assert_eq!(limits.min_read_capacity, 8193);
    let mut records = Vec::new();
    for step in reader.ready() {
        match step {
            Ok(record) => records.push(record),
            // The ring buffer wrapped while we read (other writers share it): not our failure.
            Err(Error::Lost(loss)) => {
                let _ = writeln!(io::stderr(), "note: {loss}");
            }
            Err(e) => panic!("reading /dev/kmsg failed: {e}"),
        }
    }
    records
}

fn open(start: KmsgStart) -> OwnedFd {
    kmsg::open(start).unwrap_or_else(|e| panic!("open /dev/kmsg ({start:?}): {e}"))
}

#[test]
fn written_records_come_back_intact() {
    if !can_run("written_records_come_back_intact") {
        return;
    }
    let marker = unique_marker("fdframe-test");
    let mut expected = Vec::new();
    for n in 0..3 {
        let head = format!("fdframe-test {marker} {n} ");
        let padding: String = (b'a'..=b'z')
            .cycle()
            .take(1000 - head.len())
            .map(char::from)
            .collect();
        let message = format!("{head}{padding}");
        write_record(format!("<14>{message}\n").as_bytes());
        expected.push(message);
    }

    let ours: Vec<KmsgRecord> = read_ring_buffer(open(KmsgStart::Oldest))
        .into_iter()
        .filter(|r| {
            r.message()
                .starts_with(format!("fdframe-test {marker} ").as_bytes())
        })
        .collect();

    let messages: Vec<_> = ours
        .iter()
        .map(|r| r.message_lossy().into_owned())
        .collect();
    assert_eq!(messages, expected);
    for record in &ours {
        assert_eq!(record.message().len(), 1000);
        assert_eq!(record.facility(), Facility::USER);
        assert_eq!(record.level(), Level::Info);
        assert_eq!(record.priority(), 14);
        assert_eq!(record.flag(), &KmsgFlag::None);
        assert!(record.dictionary().is_empty());
    }
    assert!(
        ours.windows(2).all(|w| w[0].seq() < w[1].seq()),
        "sequence numbers increase"
    );
    assert!(
        ours.windows(2)
            .all(|w| w[0].timestamp_us() <= w[1].timestamp_us())
    );
}

#[test]
fn start_new_skips_records_logged_before_the_open() {
    if !can_run("start_new_skips_records_logged_before_the_open") {
        return;
    }
    let before = read_ring_buffer(open(KmsgStart::Oldest));
    let last_before = before.last().map(KmsgRecord::seq);
    let fd = open(KmsgStart::New);
    let marker = unique_marker("fdframe-test");
    write_record(format!("<15>fdframe-test {marker} new\n").as_bytes());

    let after = read_ring_buffer(fd);
    if let Some(last_before) = last_before {
        assert!(
            after.iter().all(|r| r.seq() > last_before),
            "a record from before the open was read"
        );
    }
    let ours: Vec<_> = after
        .iter()
        .filter(|r| r.message() == format!("fdframe-test {marker} new").as_bytes())
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        (ours[0].facility(), ours[0].level()),
        (Facility::USER, Level::Debug)
    );
}

#[test]
fn ring_buffer_matches_dmesg() {
    if !can_run("ring_buffer_matches_dmesg") {
        return;
    }
    if Command::new("dmesg").arg("--version").output().is_err() {
        skip("ring_buffer_matches_dmesg", "no dmesg(1) to compare with");
        return;
    }
    // local0 and bytes the kernel must escape: tab, DEL, UTF-8, backslash.
    let marker = unique_marker("fdframe-test");
    let message = format!("fdframe-test {marker} esc tab\there del\u{7f} utf8 é backslash\\ end");
    write_record(format!("<134>{message}\n").as_bytes());

    // `AfterClear` is where dmesg starts (it seeks SEEK_DATA), so both read the same records.
    let ours = read_ring_buffer(open(KmsgStart::AfterClear));
    let output = Command::new("dmesg")
        .args(["--json", "--decode"])
        .output()
        .expect("run dmesg");
    assert!(output.status.success(), "dmesg failed: {output:?}");
    let theirs = dmesg_json::entries(&output.stdout);

    let escaped = ours
        .iter()
        .find(|r| r.message() == message.as_bytes())
        .expect("the record written above is in the ring buffer");
    assert_eq!(
        (escaped.facility(), escaped.level()),
        (Facility::LOCAL0, Level::Info)
    );
    let raw = String::from_utf8_lossy(escaped.raw());
    for escape in ["\\x09", "\\x7f", "\\xc3\\xa9", "\\x5c"] {
        assert!(raw.contains(escape), "the kernel escaped {escape}: {raw}");
    }

    dmesg_json::assert_same_records(&ours, &theirs, escaped.seq());
}

/// Reading `dmesg --json --decode` and comparing it with our records.
///
/// One dmesg run gives everything compared, so no second snapshot has to be aligned: `time`
/// (`%5ld.%06ld` seconds, compared exactly with our microseconds), `msg` (dmesg undoes the
/// kernel's `\xNN` escapes as we do and writes the bytes as a JSON string), and with
/// `--decode` the `fac`/`pri` names, which come from the same tables and validity check as the
/// `kern  :info  : ` prefix of `dmesg -x` (whose text output is not parsed: a message holding
/// `\n` spans several lines there). Normalisations, all from util-linux's `dmesg.c`:
///
/// - records with an empty message are not printed by dmesg, so they are left out of ours;
/// - dmesg's JSON writer stops a string at a NUL byte, so our message is cut there;
/// - util-linux 2.38 names only facilities 0..=11; for others it prints neither `fac` nor
///   `pri`, which is accepted only when our facility is above `ftp`;
/// - the numeric `pri` of plain `--json` is not compared (2.38 gets it wrong for non-kern
///   facilities).
mod dmesg_json {
    use super::{Facility, KmsgRecord};

    /// One record as `dmesg --json --decode` prints it.
    #[derive(Debug)]
    pub(super) struct Entry {
        /// Facility name; util-linux 2.38 omits it (and `pri`) for facilities it has no name
        /// for, 12 and above.
        fac: Option<String>,
        /// Level name (with `--decode`; without it this would be the numeric priority, which
        /// 2.38 computes wrongly for non-kern facilities).
        pri: Option<String>,
        time_us: u64,
        msg: Vec<u8>,
    }

    /// The records, in order, from dmesg's JSON output.
    pub(super) fn entries(json: &[u8]) -> Vec<Entry> {
        if json.iter().all(u8::is_ascii_whitespace) {
            return Vec::new();
        }
        // dmesg writes message bytes as they are, so a record holding invalid UTF-8 makes its
        // output invalid UTF-8: compare both sides lossily (see `matches`).
        let root: serde_json::Value =
            serde_json::from_str(&String::from_utf8_lossy(json)).expect("dmesg prints JSON");
        let items = root["dmesg"].as_array().expect("a \"dmesg\" array");
        items
            .iter()
            .map(|item| {
                let text = |key: &str| item[key].as_str().map(str::to_owned);
                let time = item["time"].as_f64().expect("every record has a time");
                Entry {
                    fac: text("fac"),
                    pri: text("pri"),
                    time_us: seconds_to_micros(time),
                    msg: text("msg").expect("every record has a msg").into_bytes(),
                }
            })
            .collect()
    }

    /// `356.746615` -> 356746615. dmesg prints `%5ld.%06ld`; an f64 holds every such value to
    /// well under half a microsecond for uptimes below ~280 years, so rounding is exact.
    fn seconds_to_micros(seconds: f64) -> u64 {
        (seconds * 1_000_000.0).round() as u64
    }

    /// What dmesg shows of our record: dmesg skips records with an empty message, and its JSON
    /// writer stops a string at a NUL byte.
    fn as_dmesg_shows(record: &KmsgRecord) -> Option<&[u8]> {
        let msg = record.message();
        let msg = msg.split(|&b| b == 0).next().unwrap_or_default();
        (!record.message().is_empty()).then_some(msg)
    }

    fn matches(ours: &KmsgRecord, theirs: &Entry) -> Result<(), String> {
        let msg = as_dmesg_shows(ours).unwrap_or_default();
        let same_text = String::from_utf8_lossy(msg) == String::from_utf8_lossy(&theirs.msg);
        if ours.timestamp_us() != theirs.time_us || !same_text {
            return Err("time or message differ".into());
        }
        match (&theirs.fac, &theirs.pri) {
            (Some(fac), Some(pri)) => {
                if Some(fac.as_str()) != ours.facility().name() || pri != ours.level().as_str() {
                    return Err(format!(
                        "dmesg says {fac}.{pri}, we say {}.{}",
                        ours.facility(),
                        ours.level()
                    ));
                }
            }
            (None, None) if ours.facility() > Facility::FTP => {}
            _ => return Err("dmesg names no facility for a facility every dmesg knows".into()),
        }
        Ok(())
    }

    /// dmesg read after us: it may start later (records overwritten in between) and end later
    /// (records logged in between), but from its first record on it must agree with ours record
    /// for record, up to our last; and the overlap must include `must_cover`.
    pub(super) fn assert_same_records(ours: &[KmsgRecord], theirs: &[Entry], must_cover: u64) {
        let ours: Vec<&KmsgRecord> = ours
            .iter()
            .filter(|r| as_dmesg_shows(r).is_some())
            .collect();
        let first = theirs.first().expect("dmesg printed no records");
        let mut failures = Vec::new();
        for start in 0..ours.len() {
            if matches(ours[start], first).is_err() {
                continue;
            }
            let tail = &ours[start..];
            if theirs.len() < tail.len() {
                failures.push(format!(
                    "aligned at our #{start}: dmesg has {} records, we have {} from there",
                    theirs.len(),
                    tail.len()
                ));
                continue;
            }
            let mismatch = tail
                .iter()
                .zip(theirs)
                .enumerate()
                .find_map(|(i, (o, t))| matches(o, t).err().map(|why| (i, why)));
            match mismatch {
                None => {
                    assert!(
                        tail.iter().any(|r| r.seq() == must_cover),
                        "the compared records miss seq {must_cover}"
                    );
                    assert!(tail.len() > 1, "too few records compared");
                    return;
                }
                Some((i, why)) => failures.push(format!(
                    "aligned at our #{start}, record {i}: {why}\n  ours:  seq {} {} {}.{} {:?}\n  dmesg: {:?}",
                    tail[i].seq(),
                    tail[i].timestamp_us(),
                    tail[i].facility(),
                    tail[i].level(),
                    tail[i].message_lossy(),
                    Shown(&theirs[i]),
                )),
            }
        }
        panic!(
            "no alignment of our {} records with dmesg's {} (first: {:?}):\n{}",
            ours.len(),
            theirs.len(),
            Shown(first),
            failures.join("\n")
        );
    }

    struct Shown<'a>(&'a Entry);

    impl std::fmt::Debug for Shown<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let e = self.0;
            write!(
                f,
                "{} {:?}.{:?} {:?}",
                e.time_us,
                e.fac,
                e.pri,
                String::from_utf8_lossy(&e.msg)
            )
        }
    }
}
