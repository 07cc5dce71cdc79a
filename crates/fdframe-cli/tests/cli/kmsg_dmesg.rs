//! `fdframe kmsg --json` agrees with `dmesg` record for record: time and message against
//! `dmesg --json`, facility and level against the names `dmesg -x` prints (which
//! `dmesg --json --decode` gives as `fac` and `pri`), including records this test writes with
//! escapes, facilities other than kern and long messages.
//!
//! Normalisations, all from util-linux's `dmesg.c` (as in the core crate's own comparison):
//! dmesg skips records with an empty message; its JSON writer stops a string at a NUL byte;
//! util-linux 2.38 names facilities 0..=11 only and prints neither `fac` nor `pri` for the rest;
//! it may print invalid UTF-8 as is, so messages are compared lossily.

use std::process::Command;

use serde_json::Value;

use crate::support::{fdframe, json, marker, privileged, skip, stdout, write_record};

/// What this test writes: priority and message (after the marker).
fn records(marker: &str) -> Vec<(u32, String)> {
    // /dev/kmsg takes records of up to 1024 bytes from a writer, prefix included.
    let long: String = (b'a'..=b'z')
        .cycle()
        .take(1000 - marker.len() - " long ".len())
        .map(char::from)
        .collect();
    vec![
        (
            134,
            format!("{marker} escapes tab\there del\u{7f} ctl\u{1} utf8 é backslash\\ end"),
        ),
        (14, format!("{marker} user info")),
        (31, format!("{marker} daemon debug")),
        (190, format!("{marker} local7 info")),
        (102, format!("{marker} facility 12 info")),
        (15, format!("{marker} long {long}")),
    ]
}

/// One record as `dmesg --json --decode` prints it.
#[derive(Debug)]
struct Theirs {
    fac: Option<String>,
    pri: Option<String>,
    time_us: u64,
    msg: String,
}

fn dmesg_entries() -> Vec<Theirs> {
    let output = Command::new("dmesg")
        .args(["--json", "--decode"])
        .output()
        .expect("run dmesg");
    assert!(output.status.success(), "dmesg failed: {output:?}");
    let root: Value =
        serde_json::from_str(&String::from_utf8_lossy(&output.stdout)).expect("dmesg prints JSON");
    let items = root["dmesg"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|item| Theirs {
            fac: item["fac"].as_str().map(str::to_owned),
            pri: item["pri"].as_str().map(str::to_owned),
            time_us: (item["time"].as_f64().expect("a time") * 1e6).round() as u64,
            msg: item["msg"].as_str().expect("a msg").to_owned(),
        })
        .collect()
}

/// Our records (type "record") from `fdframe kmsg --json`, as dmesg would show them.
fn our_records() -> Vec<Value> {
    let output = fdframe(&["kmsg", "--json-lines"]);
    assert!(output.status.success(), "{output:?}");
    stdout(&output)
        .lines()
        .map(json)
        .filter(|v| v["type"] == "record" && v["message"] != "")
        .collect()
}

fn matches(ours: &Value, theirs: &Theirs) -> Result<(), String> {
    let msg = ours["message"].as_str().unwrap_or_default();
    let msg = msg.split('\0').next().unwrap_or_default();
    if ours["timestamp_us"].as_u64() != Some(theirs.time_us) || msg != theirs.msg {
        return Err("time or message differ".into());
    }
    match (&theirs.fac, &theirs.pri) {
        (Some(fac), Some(pri)) if ours["facility"] == **fac && ours["level"] == **pri => Ok(()),
        (None, None) if ours["facility_num"].as_u64() > Some(11) => Ok(()),
        _ => Err(format!(
            "dmesg says {:?}.{:?}, we say {}.{}",
            theirs.fac, theirs.pri, ours["facility"], ours["level"]
        )),
    }
}

/// dmesg ran after us: from its first record on it must agree with ours, up to our last, and
/// that stretch must hold every record of ours that carries `marker`.
fn compare(ours: &[Value], theirs: &[Theirs], marker: &str, expected: usize) -> Result<(), String> {
    let first = theirs.first().ok_or("dmesg printed nothing")?;
    let start = ours
        .iter()
        .position(|o| matches(o, first).is_ok())
        .ok_or_else(|| format!("dmesg's first record {first:?} is not among ours"))?;
    let tail = &ours[start..];
    if theirs.len() < tail.len() {
        return Err(format!(
            "dmesg has {} records, we have {}",
            theirs.len(),
            tail.len()
        ));
    }
    for (i, (o, t)) in tail.iter().zip(theirs).enumerate() {
        matches(o, t).map_err(|why| {
            format!("record {i} after alignment: {why}\n ours: {o}\n dmesg: {t:?}")
        })?;
    }
    let covered = tail
        .iter()
        .filter(|o| o["message"].as_str().is_some_and(|m| m.starts_with(marker)))
        .count();
    if covered != expected {
        return Err(format!(
            "the compared stretch holds {covered} of our {expected} records"
        ));
    }
    Ok(())
}

#[test]
fn json_agrees_with_dmesg_record_for_record() {
    if !privileged("json_agrees_with_dmesg_record_for_record") {
        return;
    }
    if Command::new("dmesg").arg("--version").output().is_err() {
        skip("json_agrees_with_dmesg_record_for_record", "no dmesg(1)");
        return;
    }
    // Other writers share the ring buffer; if it wraps past our records between the two reads,
    // try again with new ones.
    let mut failures = Vec::new();
    for attempt in 0..3 {
        let marker = marker(&format!("dmesg{attempt}"));
        let written = records(&marker);
        for (priority, message) in &written {
            write_record(*priority, message.as_bytes());
        }
        let ours = our_records();
        let theirs = dmesg_entries();
        check_written_records(&ours, &marker, &written);
        match compare(&ours, &theirs, &marker, written.len()) {
            Ok(()) => return,
            Err(why) => failures.push(why),
        }
    }
    panic!("fdframe and dmesg disagree:\n{}", failures.join("\n"));
}

/// Our own records come back exactly, with the facility and level they were written with.
fn check_written_records(ours: &[Value], marker: &str, written: &[(u32, String)]) {
    let mine: Vec<&Value> = ours
        .iter()
        .filter(|o| o["message"].as_str().is_some_and(|m| m.starts_with(marker)))
        .collect();
    assert_eq!(mine.len(), written.len(), "{mine:?}");
    for (o, (priority, message)) in mine.iter().zip(written) {
        assert_eq!(o["message"], message.as_str());
        assert_eq!(o["priority"].as_u64(), Some(u64::from(*priority)));
        assert_eq!(o["facility_num"].as_u64(), Some(u64::from(priority >> 3)));
        assert_eq!(o["level_num"].as_u64(), Some(u64::from(priority & 7)));
    }
}

#[test]
fn dmesg_json_document_has_correct_pri_for_every_facility() {
    if !privileged("dmesg_json_document_has_correct_pri_for_every_facility") {
        return;
    }
    let marker = marker("dmesgjson");
    let written = records(&marker);
    for (priority, message) in &written {
        write_record(*priority, message.as_bytes());
    }
    let output = fdframe(&["kmsg", "-J"]);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(
        text.starts_with("{\n   \"dmesg\": [\n      {\n         \"pri\": "),
        "{text}"
    );
    let root = json(&text);
    let entries = root["dmesg"].as_array().expect("a dmesg array");
    let mine: Vec<&Value> = entries
        .iter()
        .filter(|e| e["msg"].as_str().is_some_and(|m| m.starts_with(&marker)))
        .collect();
    assert_eq!(mine.len(), written.len());
    for (entry, (priority, message)) in mine.iter().zip(&written) {
        assert_eq!(entry["pri"].as_u64(), Some(u64::from(*priority)), "{entry}");
        assert_eq!(entry["msg"], message.as_str());
        assert!(entry["time"].as_f64().is_some_and(|t| t > 0.0));
        let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "only pri, time and msg: {keys:?}");
    }
}

#[test]
fn level_and_facility_filters_select_records() {
    if !privileged("level_and_facility_filters_select_records") {
        return;
    }
    let marker = marker("filters");
    write_record(12, format!("{marker} user warning").as_bytes());
    write_record(15, format!("{marker} user debug").as_bytes());
    write_record(132, format!("{marker} local0 warning").as_bytes());
    let ours = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["kmsg", "--json-lines"];
        all.extend_from_slice(args);
        let output = fdframe(&all);
        assert!(output.status.success(), "{output:?}");
        stdout(&output)
            .lines()
            .map(json)
            .filter_map(|v| v["message"].as_str().map(str::to_owned))
            .filter(|m| m.starts_with(&marker))
            .map(|m| m[marker.len() + 1..].to_owned())
            .collect()
    };
    assert_eq!(
        ours(&["--level", "warn"]),
        ["user warning", "local0 warning"]
    );
    assert_eq!(
        ours(&["--level", "debug", "--facility", "user"]),
        ["user debug"]
    );
    assert_eq!(
        ours(&["--level", "debug+", "--facility", "user"]),
        ["user warning", "user debug"]
    );
    assert_eq!(ours(&["--level", "+notice"]), ["user debug"]);
    assert_eq!(
        ours(&["-l", "debug,emerg", "-f", "user,local0"]),
        ["user debug"]
    );
    assert_eq!(
        ours(&["-l", "notice..emerg", "-f", "local0"]),
        ["local0 warning"]
    );
}

#[test]
fn human_output_escapes_control_bytes_and_colours_like_dmesg() {
    if !privileged("human_output_escapes_control_bytes_and_colours_like_dmesg") {
        return;
    }
    let marker = marker("human");
    write_record(12, format!("{marker}: esc\u{1b}[2J warned").as_bytes());
    let output = fdframe(&["kmsg", "--color", "always", "-x"]);
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|l| l.contains(&marker))
        .expect("our record");
    // dmesg -x prefix, green time, brown subsystem, bold warning text, ESC shown as \x1b
    // (the blanks after the time and the subsystem coloured with them, as dmesg does).
    assert!(line.starts_with("user  :warn  : \u{1b}[32m["), "{line:?}");
    assert!(
        line.ends_with(&format!(
            "] \u{1b}[0m\u{1b}[33m{marker}: \u{1b}[0m\u{1b}[1mesc\\x1b[2J warned\u{1b}[0m"
        )),
        "{line:?}"
    );
    let plain = stdout(&fdframe(&["kmsg", "--color", "never"]));
    assert!(
        plain
            .lines()
            .any(|l| l.ends_with(&format!("] {marker}: esc\\x1b[2J warned"))),
        "{plain}"
    );
}
