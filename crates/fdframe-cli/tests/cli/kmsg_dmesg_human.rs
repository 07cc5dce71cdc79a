//! `fdframe kmsg` human lines side by side with `dmesg`'s on the same ring buffer: `-l` level
//! lists mean what they mean to dmesg, and `--time-format reltime` prints what `dmesg
//! --time-format reltime` prints, in the same time zone.
//!
//! Both read the whole ring, which other writers share: ours runs first, then dmesg, and the
//! comparison starts at dmesg's first line (older ones may have been overwritten meanwhile) and
//! ends at our last (newer ones may have been logged meanwhile). A marker record written first
//! must lie inside the compared stretch, so the comparison cannot pass on nothing.

use std::process::Command;

use crate::support::{BIN, marker, privileged, skip, write_record};

/// `program ARGS` under `tz` and the C.UTF-8 locale (dmesg's `%b` is the locale's month name,
/// and it escapes what the locale's charset cannot print); its stdout lines.
pub(crate) fn lines_of(program: &str, args: &[&str], tz: &str) -> Vec<String> {
    let output = Command::new(program)
        .args(args)
        .env("TZ", tz)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A line without its time prefix (`[...] `): what the two outputs are aligned on.
pub(crate) fn text(line: &str) -> &str {
    match line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
    {
        Some((_, message)) => message,
        None => line,
    }
}

/// Where `theirs` (printed after `ours`) starts in `ours`: the first position from which every
/// line of `ours` has the text of the line of `theirs` beside it.
pub(crate) fn alignment(ours: &[String], theirs: &[String]) -> Option<usize> {
    (0..=ours.len()).find(|&start| {
        ours[start..].len() <= theirs.len()
            && ours[start..]
                .iter()
                .zip(theirs)
                .all(|(o, t)| text(o) == text(t))
    })
}

/// Compares the overlapping stretch line by line; `allowed` may excuse a differing pair. The
/// stretch must hold a line with `marker`, if given.
pub(crate) fn compare(
    what: &str,
    ours: &[String],
    theirs: &[String],
    marker: Option<&str>,
    allowed: impl Fn(&str, &str) -> bool,
) -> Result<(), String> {
    let start = alignment(ours, theirs).ok_or_else(|| {
        format!(
            "{what}: dmesg's lines are not a continuation of ours\n ours: {:?}\n dmesg: {:?}",
            ours.iter().rev().take(5).collect::<Vec<_>>(),
            theirs.iter().take(5).collect::<Vec<_>>()
        )
    })?;
    let stretch = &ours[start..];
    if marker.is_some_and(|marker| !stretch.iter().any(|line| line.contains(marker))) {
        return Err(format!("{what}: the compared stretch misses the marker"));
    }
    for (o, t) in stretch.iter().zip(theirs) {
        if o != t && !allowed(o, t) {
            return Err(format!("{what}: lines differ\n ours:  {o}\n dmesg: {t}"));
        }
    }
    Ok(())
}

/// Whether this dmesg takes `-l warn+` (util-linux 2.39 and later).
pub(crate) fn dmesg_knows_plus() -> bool {
    Command::new("dmesg")
        .args(["-l", "warn+"])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn dmesg_or_skip(test: &str) -> bool {
    if !privileged(test) {
        return false;
    }
    if Command::new("dmesg").arg("--version").output().is_err() {
        return skip(test, "no dmesg(1)");
    }
    true
}

/// The facilities util-linux 2.38 has names for (0..=11). Its `parse_faclev` takes a facility
/// up to 12 (`> ARRAY_SIZE` where `>=` was meant), so `-l` output leaves out the records of
/// facilities 13 and up, and shows those of facility 12 (`res0`) without a `-x` prefix.
pub(crate) const NAMED_BY_OLD_DMESG: [&str; 12] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp",
];

/// Our `-x` lines as util-linux 2.38 shows the same records (a continuation line goes with
/// its record).
pub(crate) fn as_old_dmesg_shows_them(lines: Vec<String>) -> Vec<String> {
    let mut keep = true;
    lines
        .into_iter()
        .filter_map(|line| {
            if line.starts_with(' ') {
                return keep.then_some(line);
            }
            let (facility, rest) = line.split_once(':')?;
            let facility = facility.trim();
            keep = NAMED_BY_OLD_DMESG.contains(&facility) || facility == "res0";
            if facility == "res0" {
                // Past `facility:level: `.
                return Some(rest.split_once(": ")?.1.to_owned());
            }
            keep.then_some(line)
        })
        .collect()
}

#[test]
fn level_lists_select_what_dmesg_selects() {
    if !dmesg_or_skip("level_lists_select_what_dmesg_selects") {
        return;
    }
    let plus = dmesg_knows_plus();
    // (ours, dmesg's): a bare level is that level alone; `+` spelled out where dmesg is too old.
    let mut cases: Vec<(&str, &str)> = [
        "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
    ]
    .iter()
    .map(|level| (*level, *level))
    .collect();
    cases.extend([
        ("err,warn", "err,warn"),
        ("info,debug", "info,debug"),
        ("3,6", "3,6"),
        ("WARN", "warn"),
    ]);
    if plus {
        cases.extend([("warn+", "warn+"), ("+notice", "+notice")]);
    } else {
        cases.extend([
            ("warn+", "emerg,alert,crit,err,warn"),
            ("+notice", "notice,info,debug"),
        ]);
    }
    let mut failures = Vec::new();
    'attempt: for attempt in 0..3 {
        failures.clear();
        // Records of both low levels, so that `info` and `debug` can each be told from "this
        // level and more severe"; and one of facility local0, to see whether this dmesg shows
        // such records at all.
        let marker = marker(&format!("levels{attempt}"));
        write_record(14, format!("{marker} info").as_bytes());
        write_record(15, format!("{marker} debug").as_bytes());
        write_record(135, format!("{marker} local0 probe").as_bytes());
        let probe = format!("{marker} local0 probe");
        let names_all = lines_of("dmesg", &["-l", "debug"], "UTC")
            .iter()
            .any(|line| line.ends_with(&probe));
        for (ours, theirs) in &cases {
            // `-x` shows the facility, for `as_old_dmesg_shows_them`.
            let mut our_lines = lines_of(BIN, &["kmsg", "-x", "-l", ours], "UTC");
            if !names_all {
                our_lines = as_old_dmesg_shows_them(our_lines);
            }
            let their_lines = lines_of("dmesg", &["-x", "-l", theirs], "UTC");
            let marked = ["info", "debug", "info,debug", "3,6", "+notice"].contains(ours);
            let marker = marked.then_some(marker.as_str());
            let what = format!("-l {ours}");
            if let Err(why) = compare(&what, &our_lines, &their_lines, marker, |_, _| false) {
                failures.push(why);
                continue 'attempt;
            }
        }
        return;
    }
    panic!("fdframe and dmesg disagree:\n{}", failures.join("\n"));
}

/// util-linux's version of this dmesg, as (major, minor).
pub(crate) fn dmesg_version() -> Option<(u32, u32)> {
    let output = Command::new("dmesg").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split_whitespace().last()?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// dmesg up to 2.39 drops the fraction of a second of the boot time from wall-clock times
/// (util-linux fixed that in 2.40), so a record logged in the first second of a minute may be
/// shown in the minute before: then one side prints a minute where the other prints a delta, or
/// both a minute, one apart. Everything else must be identical.
pub(crate) fn minute_boundary_shift(ours: &str, theirs: &str) -> bool {
    let minute = |line: &str| {
        let prefix = line.strip_prefix('[')?.split_once(']')?.0;
        (!prefix.trim_start().starts_with(['+', '-'])).then(|| prefix.to_owned())
    };
    match (minute(ours), minute(theirs)) {
        (Some(a), Some(b)) => {
            let (a_hm, b_hm) = (a.rsplit(' ').next(), b.rsplit(' ').next());
            a.len() == b.len() && a_hm != b_hm && text(ours) == text(theirs)
        }
        (Some(_), None) | (None, Some(_)) => text(ours) == text(theirs),
        (None, None) => false,
    }
}

#[test]
fn reltime_prints_what_dmesg_reltime_prints() {
    if !dmesg_or_skip("reltime_prints_what_dmesg_reltime_prints") {
        return;
    }
    let zones: Vec<&str> = ["UTC", "Asia/Kathmandu"]
        .into_iter()
        .filter(|tz| {
            *tz == "UTC"
                || std::path::Path::new("/usr/share/zoneinfo")
                    .join(tz)
                    .exists()
        })
        .collect();
    let old_dmesg = dmesg_version().is_none_or(|v| v < (2, 40));
    let mut failures = Vec::new();
    for attempt in 0..3 {
        failures.clear();
        let marker = marker(&format!("reltime{attempt}"));
        write_record(14, format!("{marker} reltime").as_bytes());
        for tz in &zones {
            let ours = lines_of(BIN, &["kmsg", "--time-format", "reltime"], tz);
            let theirs = lines_of("dmesg", &["--time-format", "reltime"], tz);
            let allowed = |o: &str, t: &str| old_dmesg && minute_boundary_shift(o, t);
            if let Err(why) = compare(tz, &ours, &theirs, Some(&marker), allowed) {
                failures.push(why);
            }
        }
        if failures.is_empty() {
            return;
        }
    }
    panic!("fdframe and dmesg disagree:\n{}", failures.join("\n"));
}
