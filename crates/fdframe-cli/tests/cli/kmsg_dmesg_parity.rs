//! `fdframe kmsg` side by side with the installed `dmesg` (util-linux) on the same ring buffer,
//! for each of dmesg's read-side options: the same records, in the same form.
//!
//! Both read the whole ring, which other writers share and which moves: ours runs first, then
//! dmesg's, and the comparison covers the stretch both saw (from dmesg's first line to our last),
//! aligned on the message text. Marker records this test writes (user.info, user.debug) must
//! lie inside the stretch, so that no comparison passes on nothing. A case that fails is tried
//! again (up to three times) with fresh markers, in case the ring moved under it.
//!
//! Where the installed dmesg differs on purpose or by a bug fdframe does not copy, the
//! difference allowed is exactly that, and nothing else:
//! - util-linux before 2.40 drops the fraction of a second of the boot time, so its wall-clock
//!   times (`-T`, `--time-format iso`, `--since`) are up to a second early, by the same amount
//!   for every record;
//! - util-linux 2.38 prints `-r`'s `<N>` as `facility | level` (glibc's `LOG_MAKEPRI` on an
//!   unshifted facility) where the kernel's priority is `facility * 8 + level`;
//! - util-linux 2.38 names facilities 0..=11 only: `-u` leaves out the records of higher ones;
//! - before 2.40, dmesg's delta counts from the previous *printed* record, fdframe's (as 2.40's)
//!   from the previous record in the log: `-d` is compared without a filter;
//! - reading a file (`-F`), dmesg pads a message's trailing empty line with the indent.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::Timestamp;

use crate::kmsg_dmesg_human::{
    NAMED_BY_OLD_DMESG, as_old_dmesg_shows_them, dmesg_knows_plus, dmesg_or_skip, dmesg_version,
    lines_of, minute_boundary_shift,
};
use crate::support::{BIN, TempDir, marker, privileged, skip, write_record};

/// What the two outputs are aligned on: the message, past the prefix (`[...] `, `fac:lev: [...] `,
/// `<N>[...] `, or an ISO time and its blank).
fn key(line: &str) -> &str {
    if let Some((_, rest)) = line.split_once("] ") {
        return rest;
    }
    if line.starts_with(|c: char| c.is_ascii_digit()) {
        if let Some((_, rest)) = line.split_once(' ') {
            return rest;
        }
    }
    line
}

/// Whether a line is our loss notice (dmesg prints none: the difference fdframe makes on
/// purpose).
fn is_loss_notice(line: &str) -> bool {
    line.contains("fdframe: ") && line.contains("kernel log records lost")
}

/// Compares the stretch both saw; `allowed` may excuse a differing pair. Our loss notices
/// are left out first (they must be well-formed ones).
fn compare_window(
    what: &str,
    ours: &[String],
    theirs: &[String],
    marker: Option<&str>,
    allowed: &dyn Fn(&str, &str) -> bool,
) -> Result<(), String> {
    if let Some(odd) = ours
        .iter()
        .find(|l| l.contains("fdframe: ") && !is_loss_notice(l))
    {
        return Err(format!("{what}: an unexpected notice: {odd}"));
    }
    let ours: Vec<String> = ours
        .iter()
        .filter(|l| !is_loss_notice(l))
        .cloned()
        .collect();
    let ours = &ours[..];
    let start = (0..=ours.len())
        .find(|&start| {
            ours[start..].len() <= theirs.len()
                && ours[start..]
                    .iter()
                    .zip(theirs)
                    .all(|(o, t)| key(o) == key(t))
        })
        .ok_or_else(|| {
            format!(
                "{what}: dmesg's lines are not a continuation of ours\n ours: {:?}\n dmesg: {:?}",
                ours.iter().rev().take(3).collect::<Vec<_>>(),
                theirs.iter().take(3).collect::<Vec<_>>()
            )
        })?;
    let stretch = &ours[start..];
    if marker.is_some_and(|m| !stretch.iter().any(|line| line.contains(m))) {
        return Err(format!("{what}: the compared stretch misses the marker"));
    }
    if stretch.is_empty() && marker.is_some() {
        return Err(format!("{what}: nothing in common"));
    }
    for (o, t) in stretch.iter().zip(theirs) {
        if o != t && !allowed(o, t) {
            return Err(format!(
                "{what}: lines differ\n ours:  {o:?}\n dmesg: {t:?}"
            ));
        }
    }
    Ok(())
}

/// util-linux before 2.40 (wall-clock times up to a second early).
fn old_times() -> bool {
    dmesg_version().is_none_or(|v| v < (2, 40))
}

/// The `[Tue Dec  1 11:46:33 2026` time of a ctime line, as a Unix second.
fn ctime_of(line: &str) -> Option<i64> {
    let inner = line.strip_prefix('[')?;
    let end = inner.find([']', '<'])?;
    let text = inner[..end].trim_end();
    let tm = jiff::fmt::strtime::parse("%a %b %e %H:%M:%S %Y", text).ok()?;
    Some(
        tm.to_datetime()
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// Old dmesg's ctime is ours or one second earlier; the rest of the line is the same.
fn ctime_second_early(ours: &str, theirs: &str) -> bool {
    let rest = |line: &str| line.split_once(['>', ']']).map(|(_, r)| r.to_owned());
    let delta = |line: &str| line.split_once('<').map(|(_, d)| d.to_owned());
    match (ctime_of(ours), ctime_of(theirs)) {
        (Some(o), Some(t)) => {
            o - t == 1 && rest(ours) == rest(theirs) && delta(ours) == delta(theirs)
        }
        _ => false,
    }
}

/// The ISO time in front of a line, in microseconds.
fn iso_of(line: &str) -> Option<i64> {
    let (time, _) = line.split_once(' ')?;
    let ts: Timestamp = time.replacen(',', ".", 1).parse().ok()?;
    Some(ts.as_microsecond())
}

/// `<N>` of a `-r` line, and the rest.
fn raw_priority(line: &str) -> Option<(i64, &str)> {
    let (n, rest) = line.strip_prefix('<')?.split_once('>')?;
    Some((n.parse().ok()?, rest))
}

/// util-linux 2.38's `-r` priority: `facility | level`, or -1 for a facility above 12.
fn raw_priority_2_38(ours: &str, theirs: &str) -> bool {
    match (raw_priority(ours), raw_priority(theirs)) {
        (Some((o, o_rest)), Some((t, t_rest))) => {
            let expected = if o >> 3 > 12 { -1 } else { (o >> 3) | (o & 7) };
            o_rest == t_rest && t == expected
        }
        _ => false,
    }
}

/// Our `-x` lines as util-linux 2.38 shows them without a level or facility filter: records
/// of a facility it has no name for, without the `facility:level:` prefix.
fn unnamed_without_prefix(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| {
            let facility = line.split(':').next().unwrap_or("").trim();
            let prefixed = line.len() > 15 && line.as_bytes()[6] == b':';
            if prefixed && !NAMED_BY_OLD_DMESG.contains(&facility) {
                line[15..].to_owned()
            } else {
                line
            }
        })
        .collect()
}

/// Our `-x` lines without the facilities util-linux 2.38 has no name for (its `-u` leaves
/// their records out).
fn named_by_old_dmesg_only(lines: Vec<String>) -> Vec<String> {
    let mut keep = true;
    lines
        .into_iter()
        .filter(|line| {
            if !line.starts_with(' ') {
                let facility = line.split(':').next().unwrap_or("").trim();
                keep = NAMED_BY_OLD_DMESG.contains(&facility);
            }
            keep
        })
        .collect()
}

/// Whether this dmesg shows records of facilities above 11 (util-linux 2.39 and later).
fn names_every_facility(marker: &str) -> bool {
    write_record(134, format!("{marker} local0 probe").as_bytes());
    let probe = format!("{marker} local0 probe");
    lines_of("dmesg", &["-l", "info"], "UTC")
        .iter()
        .any(|line| line.ends_with(&probe))
}

/// Writes this attempt's markers: info, debug, and one with a control character.
fn write_markers(marker: &str) {
    write_record(14, format!("{marker} info").as_bytes());
    write_record(15, format!("{marker} debug").as_bytes());
    write_record(14, format!("{marker} ctl\u{1}bell\u{7} done").as_bytes());
}

type Allowed = Box<dyn Fn(&str, &str) -> bool>;

/// One option set: ours, dmesg's, whether the marker must be in the stretch, what may differ.
struct Case {
    ours: Vec<&'static str>,
    theirs: Vec<&'static str>,
    marked: bool,
    /// How old dmesg shows facilities it has no name for.
    old_facilities: OldFacilities,
    allowed: Allowed,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OldFacilities {
    /// No -x: nothing to do.
    Same,
    /// -x alone: shown without the prefix.
    Unprefixed,
    /// -x -l: left out from 13 up, 12 without the prefix.
    LevelFiltered,
    /// -x -u: left out from 12 up.
    Userspace,
}

fn case(ours: &[&'static str], theirs: &[&'static str], marked: bool) -> Case {
    Case {
        ours: ours.to_vec(),
        theirs: theirs.to_vec(),
        marked,
        old_facilities: if !ours.contains(&"-x") {
            OldFacilities::Same
        } else if ours.contains(&"-u") {
            OldFacilities::Userspace
        } else if ours.contains(&"-l") {
            OldFacilities::LevelFiltered
        } else {
            OldFacilities::Unprefixed
        },
        allowed: Box::new(|_, _| false),
    }
}

fn cases() -> Vec<Case> {
    let old = old_times();
    let plus = dmesg_knows_plus();
    let mut cases = vec![
        case(&[], &[], true),
        case(&["-t"], &["-t"], true),
        case(&["-d"], &["-d"], true),
        case(&["-t", "-d"], &["-t", "-d"], true),
        case(&["-x"], &["-x"], true),
        case(&["-p"], &["-p"], true),
        case(&["-p", "-x"], &["-p", "-x"], true),
        case(&["--noescape"], &["--noescape"], true),
        case(&["-L=always"], &["--color=always"], true),
        case(
            &["-L=always", "-x", "-d"],
            &["--color=always", "-x", "-d"],
            true,
        ),
        case(&["-x", "-l", "warn"], &["-x", "-l", "warn"], false),
        case(&["-x", "-l", "info"], &["-x", "-l", "info"], true),
        case(&["-x", "-l", "debug"], &["-x", "-l", "debug"], true),
        case(&["-x", "-k"], &["-x", "-k"], false),
        case(&["-x", "-u"], &["-x", "-u"], true),
        Case {
            allowed: Box::new(raw_priority_2_38),
            ..case(&["-r"], &["-r"], true)
        },
    ];
    // `warn` is warn alone, `warn+` warn and worse: the same with info, which this test writes
    // (and debug, which `info+` must leave out).
    cases.push(if plus {
        case(&["-x", "-l", "warn+"], &["-x", "-l", "warn+"], false)
    } else {
        case(
            &["-x", "-l", "warn+"],
            &["-x", "-l", "emerg,alert,crit,err,warn"],
            false,
        )
    });
    cases.push(if plus {
        case(&["-x", "-l", "info+"], &["-x", "-l", "info+"], true)
    } else {
        case(
            &["-x", "-l", "info+"],
            &["-x", "-l", "emerg,alert,crit,err,warn,notice,info"],
            true,
        )
    });
    for (ours, theirs) in [
        (&["-e"][..], &["-e"][..]),
        (&["-H"], &["-H"]),
        (&["-T", "-e"], &["-T", "-e"]),
    ] {
        cases.push(Case {
            allowed: Box::new(move |o, t| old && minute_boundary_shift(o, t)),
            ..case(ours, theirs, true)
        });
    }
    for (ours, theirs) in [
        (&["-T"][..], &["-T"][..]),
        (&["-d", "-T"], &["-d", "-T"]),
        (&["-e", "-T"], &["-e", "-T"]),
    ] {
        cases.push(Case {
            allowed: Box::new(move |o, t| old && ctime_second_early(o, t)),
            ..case(ours, theirs, true)
        });
    }
    // The same shift for every record: a constant, under a second.
    let shift = Cell::new(None::<i64>);
    cases.push(Case {
        allowed: Box::new(move |o, t| {
            let (Some(a), Some(b)) = (iso_of(o), iso_of(t)) else {
                return false;
            };
            let d = a - b;
            let first = shift.get().unwrap_or(d);
            shift.set(Some(first));
            let same = first == d;
            old && same && (0..1_000_000).contains(&d) && key(o) == key(t)
        }),
        ..case(&["--time-format", "iso"], &["--time-format", "iso"], true)
    });
    cases
}

#[test]
fn every_read_side_option_prints_what_dmesg_prints() {
    if !dmesg_or_skip("every_read_side_option_prints_what_dmesg_prints") {
        return;
    }
    let names_all = names_every_facility(&marker("parity-probe"));
    let mut failures = Vec::new();
    for case in cases() {
        let what = format!("ours {:?} / dmesg {:?}", case.ours, case.theirs);
        let mut last = None;
        for attempt in 0..3 {
            let marker = marker(&format!("parity{attempt}"));
            write_markers(&marker);
            let mut ours = lines_of(BIN, &[&["kmsg"][..], &case.ours].concat(), "UTC");
            let theirs = lines_of("dmesg", &case.theirs, "UTC");
            if !names_all {
                ours = match case.old_facilities {
                    OldFacilities::Same => ours,
                    OldFacilities::Unprefixed => unnamed_without_prefix(ours),
                    OldFacilities::LevelFiltered => as_old_dmesg_shows_them(ours),
                    OldFacilities::Userspace => named_by_old_dmesg_only(ours),
                };
            }
            let marker = case.marked.then_some(marker.as_str());
            match compare_window(&what, &ours, &theirs, marker, &*case.allowed) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(why) => last = Some(why),
            }
        }
        failures.extend(last);
    }
    assert!(
        failures.is_empty(),
        "fdframe and dmesg disagree:\n{}",
        failures.join("\n")
    );
}

/// Runs `program ARGS` with stdout into `path`.
fn run_into(program: &str, args: &[&str], path: &str) {
    let file = File::create(path).expect("create");
    let status = Command::new(program)
        .args(args)
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8")
        .stdout(Stdio::from(file))
        .status()
        .expect("run");
    assert!(status.success(), "{program} {args:?}");
}

#[test]
fn a_dump_written_by_dmesg_reads_back_as_dmesg_reads_it() {
    if !dmesg_or_skip("a_dump_written_by_dmesg_reads_back_as_dmesg_reads_it") {
        return;
    }
    let dir = TempDir::new("dmesg-dump");
    let marker = marker("dump");
    write_markers(&marker);
    let dump = dir.path("dump");
    // util-linux 2.38 writes `<-1>` for a facility above 12, which is no priority: dmesg
    // prints such a record without facility and level, and so must fdframe. One is there
    // whatever the ring holds.
    let local0 = format!("{marker} local0");
    write_record(134, local0.as_bytes());
    run_into("dmesg", &["-r"], &dump);
    let text = String::from_utf8_lossy(&std::fs::read(&dump).unwrap()).into_owned();
    let old_dump = text
        .lines()
        .any(|line| line.starts_with("<-1>") && line.ends_with(&local0));
    let old = old_times();
    let mut failures = Vec::new();
    for options in [
        &[][..],
        &["-x"],
        &["-t"],
        &["-d"],
        &["-r"],
        &["-x", "-l", "info"],
        &["-x", "-l", "warn"],
        &["-x", "-k"],
        &["-x", "-u"],
        &["-e"],
        &["-T"],
    ] {
        let ours = lines_of(BIN, &[&["kmsg", "-F", &dump][..], options].concat(), "UTC");
        let theirs = lines_of("dmesg", &[&["-F", &dump][..], options].concat(), "UTC");
        if !ours.iter().any(|line| line.contains(&marker)) && options.len() < 2 {
            failures.push(format!("-F {options:?}: the marker is missing"));
        }
        if ours.len() != theirs.len() {
            failures.push(format!(
                "-F {options:?}: {} lines, dmesg {}",
                ours.len(),
                theirs.len()
            ));
            continue;
        }
        for (o, t) in ours.iter().zip(&theirs) {
            let same = o == t
                || o.trim_end() == t.trim_end()
                || raw_priority_2_38(o, t)
                || (old && (ctime_second_early(o, t) || minute_boundary_shift(o, t)));
            if !same {
                failures.push(format!("-F {options:?}:\n ours:  {o:?}\n dmesg: {t:?}"));
                break;
            }
        }
    }
    if old_dump {
        let ours = lines_of(BIN, &["kmsg", "-F", &dump, "-x"], "UTC");
        let bare = ours.iter().find(|line| line.ends_with(&local0));
        if !bare.is_some_and(|line| line.starts_with('[')) {
            failures.push(format!(
                "-F -x: the <-1> record is not shown bare: {bare:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Everything /dev/kmsg holds now, as `cat /dev/kmsg` would write it (without waiting).
fn capture_kmsg() -> Vec<u8> {
    let mut kmsg = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open("/dev/kmsg")
        .expect("open /dev/kmsg");
    let mut capture = Vec::new();
    let mut buf = vec![0; 8192];
    loop {
        match kmsg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => capture.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            // Overwritten while we read: go on from the oldest left, as cat does not.
            Err(e) if e.raw_os_error() == Some(32) => continue,
            Err(e) => panic!("read /dev/kmsg: {e}"),
        }
    }
    capture
}

#[test]
fn a_kmsg_capture_reads_as_the_ring_buffer_it_was_taken_from() {
    if !dmesg_or_skip("a_kmsg_capture_reads_as_the_ring_buffer_it_was_taken_from") {
        return;
    }
    let dir = TempDir::new("kmsg-capture");
    let names_all = names_every_facility(&marker("capture-probe"));
    let old = |lines: Vec<String>| {
        if names_all {
            lines
        } else {
            unnamed_without_prefix(lines)
        }
    };
    let mut failures = Vec::new();
    for attempt in 0..3 {
        failures.clear();
        let marker = marker(&format!("capture{attempt}"));
        write_markers(&marker);
        let capture = capture_kmsg();
        let path = dir.path("capture");
        File::create(&path).unwrap().write_all(&capture).unwrap();
        // The capture was taken first, so dmesg's live view continues it.
        let theirs = lines_of("dmesg", &["-x"], "UTC");
        for options in [&["-x"][..], &["-x", "-d"]] {
            let ours = old(lines_of(
                BIN,
                &[&["kmsg", "-K", &path][..], options].concat(),
                "UTC",
            ));
            let theirs = if options.len() > 1 {
                lines_of("dmesg", options, "UTC")
            } else {
                theirs.clone()
            };
            if let Err(why) = compare_window(
                &format!("-K {options:?}"),
                &ours,
                &theirs,
                Some(&marker),
                &|_, _| false,
            ) {
                failures.push(why);
            }
        }
        if dmesg_version().is_some_and(|v| v >= (2, 40)) {
            // util-linux's own -K format: records separated by NUL bytes.
            let nul: Vec<u8> = capture
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty() && l[0] != b' ')
                .flat_map(|l| [l, b"\n\0"].concat())
                .collect();
            let nul_path = dir.path("capture-nul");
            File::create(&nul_path).unwrap().write_all(&nul).unwrap();
            let ours = lines_of(BIN, &["kmsg", "-K", &nul_path, "-x"], "UTC");
            let theirs = lines_of("dmesg", &["-K", &nul_path, "-x"], "UTC");
            if ours != theirs {
                failures.push("-K with NUL-separated records differs from dmesg -K".into());
            }
        }
        if failures.is_empty() {
            return;
        }
    }
    panic!("{}", failures.join("\n"));
}

/// The ISO lines of `program ARGS --time-format iso`, with their times.
fn iso_lines(program: &str, args: &[&str]) -> Vec<(i64, String)> {
    let args = [args, &["--time-format", "iso"]].concat();
    lines_of(program, &args, "UTC")
        .into_iter()
        .filter_map(|line| Some((iso_of(&line)?, line)))
        .collect()
}

#[test]
fn since_and_until_select_what_dmesg_selects() {
    if !dmesg_or_skip("since_and_until_select_what_dmesg_selects") {
        return;
    }
    let mut failures = Vec::new();
    for attempt in 0..3 {
        failures.clear();
        let marker = marker(&format!("since{attempt}"));
        write_markers(&marker);
        // The marker's time, and dmesg's constant shift (util-linux before 2.40), from iso.
        let ours_all = iso_lines(BIN, &["kmsg"]);
        let theirs_all = iso_lines("dmesg", &[]);
        let Some((t_marker, _)) = ours_all.iter().find(|(_, l)| l.contains(&marker)).cloned()
        else {
            failures.push("the marker is missing".into());
            continue;
        };
        let shift = theirs_all
            .iter()
            .find(|(_, l)| l.contains(&marker))
            .map_or(0, |(t, _)| t_marker - t);
        if !(0..1_000_000).contains(&shift) {
            failures.push(format!("dmesg's times are {shift} µs off ours"));
            continue;
        }
        // Whole seconds, as util-linux 2.38 takes them: one before the marker, and (after
        // waiting for it to pass) two after it.
        let since_s = t_marker.div_euclid(1_000_000) - 1;
        let until_s = t_marker.div_euclid(1_000_000) + 2;
        let format = |s: i64| {
            Timestamp::from_second(s)
                .unwrap()
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        let (since, until) = (format(since_s), format(until_s));
        while Timestamp::now().as_second() <= until_s {
            std::thread::sleep(Duration::from_millis(100));
        }
        let window = ["--since", since.as_str(), "--until", until.as_str()];
        let ours = iso_lines(BIN, &[&["kmsg"][..], &window].concat());
        let theirs = iso_lines("dmesg", &window);
        let (since_us, until_us) = (since_s * 1_000_000, until_s * 1_000_000);
        // Ours: strictly inside the window, by our times.
        if let Some((t, line)) = ours.iter().find(|(t, _)| *t <= since_us || *t >= until_us) {
            failures.push(format!("outside the window ({t}): {line}"));
        }
        // The ring moves: what dmesg no longer had when it ran is not compared.
        let Some(theirs_first) = theirs.first().map(|(t, _)| t + shift) else {
            failures.push("dmesg's window is empty".into());
            continue;
        };
        let marker_in = |lines: &[(i64, String)]| lines.iter().any(|(_, l)| l.contains(&marker));
        if !marker_in(&ours) || (theirs_first <= t_marker && !marker_in(&theirs)) {
            failures.push(format!(
                "the marker is not in both windows {window:?}: ours {:?}, dmesg {:?}",
                ours.iter().map(|(_, l)| key(l)).collect::<Vec<_>>(),
                theirs.iter().map(|(_, l)| key(l)).collect::<Vec<_>>()
            ));
        }
        // dmesg's window is ours moved by its shift: the records in both are the same, and
        // those in one only lie within the shift of an edge.
        let ours_keys: Vec<&str> = ours.iter().map(|(_, l)| key(l)).collect();
        let theirs_keys: Vec<&str> = theirs.iter().map(|(_, l)| key(l)).collect();
        for (t, line) in ours.iter().filter(|(t, _)| *t >= theirs_first) {
            if !theirs_keys.contains(&key(line)) && *t - shift > since_us {
                failures.push(format!("only ours has: {line}"));
            }
        }
        for (t, line) in &theirs {
            if !ours_keys.contains(&key(line)) && *t + shift < until_us {
                failures.push(format!("only dmesg has: {line}"));
            }
        }
        if failures.is_empty() {
            return;
        }
    }
    panic!("{}", failures.join("\n"));
}

#[test]
fn human_pages_on_a_terminal_unless_nopager() {
    if !privileged("human_pages_on_a_terminal_unless_nopager") {
        return;
    }
    if Command::new("script").arg("--version").output().is_err() {
        skip(
            "human_pages_on_a_terminal_unless_nopager",
            "no script(1) for a terminal",
        );
        return;
    }
    let marker = marker("pager");
    write_record(14, format!("{marker} paged").as_bytes());
    // script(1) gives fdframe a terminal; the "pager" marks each line it passes on.
    let run = |flags: &str| {
        let command = format!("{BIN} kmsg {flags} -g {marker}");
        let output = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("PAGER", "sed s/^/PAGED:/")
            .stdin(Stdio::null())
            .output()
            .expect("run script");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let paged = run("-H");
    assert!(
        paged
            .lines()
            .any(|l| l.starts_with("PAGED:") && l.contains(&marker)),
        "{paged:?}"
    );
    let direct = run("-H -P");
    assert!(
        direct.contains(&marker) && !direct.contains("PAGED:"),
        "{direct:?}"
    );
}

#[test]
fn the_old_dmesg_json_name_still_prints_the_document_and_says_it_is_deprecated() {
    if !privileged("the_old_dmesg_json_name_still_prints_the_document_and_says_it_is_deprecated") {
        return;
    }
    let old = crate::support::fdframe(&["kmsg", "--dmesg-json"]);
    assert!(old.status.success(), "{old:?}");
    let doc: serde_json::Value = serde_json::from_slice(&old.stdout).expect("one JSON document");
    assert!(doc["dmesg"].is_array(), "{doc}");
    let err = String::from_utf8_lossy(&old.stderr);
    assert!(
        err.contains("--dmesg-json is deprecated") && err.contains("-J/--json"),
        "{err}"
    );
}

/// The entries of the JSON document `program ARGS` prints: (time, msg, fac, pri).
type Entry = (String, String, Option<String>, Option<String>);

fn document(program: &str, args: &[&str]) -> Vec<Entry> {
    let output = Command::new(program)
        .args(args)
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    let root: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    root["dmesg"]
        .as_array()
        .expect("a dmesg array")
        .iter()
        .map(|e| {
            (
                e["time"].to_string(),
                text(&e["msg"]).expect("a msg"),
                text(&e["fac"]),
                text(&e["pri"]),
            )
        })
        .collect()
}

/// Compares the stretch of two documents both saw (from dmesg's first entry to our last);
/// where util-linux 2.38 has no name for a facility it writes no `fac` and `pri`, and ours
/// must then be one of those facilities.
fn compare_documents(
    ours: &[Entry],
    theirs: &[Entry],
    marker: &str,
    names_all: bool,
) -> Result<(), String> {
    let key = |e: &Entry| (e.0.clone(), e.1.clone());
    let first = theirs.first().ok_or("dmesg printed no entry")?;
    let start = ours
        .iter()
        .position(|o| key(o) == key(first))
        .ok_or("dmesg's first entry is not in ours (the ring moved)")?;
    let ours = &ours[start..];
    let last = ours.last().ok_or("no entry of ours")?;
    let end = theirs
        .iter()
        .position(|t| key(t) == key(last))
        .ok_or("our last entry is not in dmesg's")?;
    let theirs = &theirs[..=end];
    if !ours.iter().any(|o| o.1.contains(marker)) {
        return Err(format!("the marker {marker} is not in the stretch"));
    }
    if ours.len() != theirs.len() {
        return Err(format!("{} entries, dmesg {}", ours.len(), theirs.len()));
    }
    for (o, t) in ours.iter().zip(theirs) {
        let unnamed_by_old = !names_all
            && t.2.is_none()
            && t.3.is_none()
            && o.2
                .as_deref()
                .is_some_and(|f| !NAMED_BY_OLD_DMESG.contains(&f));
        if key(o) != key(t) || (o.2 != t.2 || o.3 != t.3) && !unnamed_by_old {
            return Err(format!("ours {o:?}\n dmesg {t:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_json_document_with_decode_names_facility_and_level_as_dmesg_does() {
    if !dmesg_or_skip("the_json_document_with_decode_names_facility_and_level_as_dmesg_does") {
        return;
    }
    let names_all = names_every_facility(&marker("json-x-probe"));
    let mut last = None;
    for attempt in 0..3 {
        let marker = marker(&format!("json-x{attempt}"));
        write_markers(&marker);
        let ours = document(BIN, &["kmsg", "-J", "-x"]);
        let theirs = document("dmesg", &["-J", "-x"]);
        match compare_documents(&ours, &theirs, &marker, names_all) {
            Ok(()) => return,
            Err(why) => last = Some(why),
        }
    }
    panic!("-J -x: fdframe and dmesg disagree: {}", last.unwrap());
}
