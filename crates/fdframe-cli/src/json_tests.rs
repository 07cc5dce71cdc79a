//! Tests of `json.rs`: escaping, and the exact shape of every object.

use bytes::Bytes;
use fdframe::LossCause;

use super::*;

fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn record(raw: &'static [u8]) -> KmsgRecord {
    KmsgRecord::parse(Bytes::from_static(raw)).unwrap()
}

#[test]
fn strings_are_escaped_as_json_requires() {
    let cases = [
        ("plain", r#""plain""#),
        ("quote \" backslash \\", r#""quote \" backslash \\""#),
        ("nl\ncr\rtab\tbs\u{8}ff\u{c}", r#""nl\ncr\rtab\tbs\bff\f""#),
        ("nul\0esc\u{1b}us\u{1f}", r#""nul\u0000esc\u001bus\u001f""#),
        ("del\u{7f} é ✓ \u{2028}", "\"del\u{7f} é ✓ \u{2028}\""),
    ];
    for (input, expected) in cases {
        let got = text(|out| write_str(out, input));
        assert_eq!(got, expected);
        // And any JSON parser reads back the same text.
        assert_eq!(serde_json::from_str::<String>(&got).unwrap(), input);
    }
}

#[test]
fn every_string_round_trips_through_a_json_parser() {
    let all: String = (0..0x800u32).filter_map(char::from_u32).collect();
    let got = text(|out| write_str(out, &all));
    assert_eq!(serde_json::from_str::<String>(&got).unwrap(), all);
}

const BOOT: &str = "dd834108-d3a2-4ce0-b560-ececbe563eb9";

/// JSON lines whose clock puts timestamp 1598236208 at 2026-11-22T02:15:58.512097Z.
fn lines(hostname: Option<&str>, plan: fdframe::kmsg::SleepPlan, slept_us: i64) -> JsonLines {
    let (wall_us, ts_us) = (1_795_313_758_512_097i64, 1_598_236_208i64);
    let clocks = Clocks::from_ns(wall_us * 1_000, ts_us * 1_000, (ts_us + slept_us) * 1_000);
    JsonLines::with(
        BOOT.into(),
        hostname.map(str::to_owned),
        WallClock::new(clocks, plan),
    )
}

fn exact_lines(hostname: Option<&str>) -> JsonLines {
    lines(hostname, fdframe::kmsg::SleepPlan::from_sleeps(vec![]), 0)
}

#[test]
fn a_record_has_every_field_of_the_schema() {
    let raw = b"14,1137,1598236208,-,caller=T42;tab\\x09q\\x22\n SUBSYSTEM=acpi\n DEVICE=+acpi:x\n";
    let got = text(|out| exact_lines(None).record(out, &record(raw)));
    assert_eq!(
        got,
        "{\"type\":\"record\",\"schema\":\"fdframe-kmsg/1\",\"boot_id\":\"dd834108-d3a2-4ce0-b560-ececbe563eb9\",\
         \"wall_time\":\"2026-11-22T02:15:58.512097Z\",\"wall_time_uncertain\":false,\
         \"seq\":1137,\"timestamp_us\":1598236208,\"priority\":14,\"facility\":\"user\",\
         \"facility_num\":1,\"level\":\"info\",\"level_num\":6,\"flag\":\"-\",\
         \"caller\":\"T42\",\"message\":\"tab\\tq\\\"\",\
         \"dictionary\":{\"SUBSYSTEM\":\"acpi\",\"DEVICE\":\"+acpi:x\"}}\n"
    );
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["message"], "tab\tq\"");
}

#[test]
fn the_hostname_is_on_every_object_when_asked_for() {
    let json = exact_lines(Some("web-1"));
    let objects = [
        text(|out| json.record(out, &record(b"6,1,2,-;m\n"))),
        text(|out| json.loss(out, &Loss::sequence_gap(LossCause::KmsgOverrun, 1, 3))),
        text(|out| json.error(out, "bad", Some(3))),
    ];
    for line in objects {
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["hostname"], "web-1", "{line}");
        assert_eq!(value["schema"], SCHEMA, "{line}");
        assert_eq!(value["boot_id"], BOOT, "{line}");
    }
    let line = text(|out| exact_lines(None).record(out, &record(b"6,1,2,-;m\n")));
    assert!(!line.contains("hostname"), "{line}");
}

#[test]
fn records_from_before_an_unaccounted_sleep_are_flagged() {
    // Slept an hour, the log tells neither when nor for how long: every record up to the
    // reading may be that much too late.
    let plan = fdframe::kmsg::SleepScan::default().plan(3_600_000_000);
    let json = lines(None, plan, 3_600_000_000);
    let old = text(|out| json.record(out, &record(b"6,1,1000,-;old\n")));
    let value: serde_json::Value = serde_json::from_str(&old).unwrap();
    assert_eq!(value["wall_time_uncertain"], true, "{old}");
    let new = text(|out| json.record(out, &record(b"6,2,1598236208,-;new\n")));
    let value: serde_json::Value = serde_json::from_str(&new).unwrap();
    assert_eq!(value["wall_time_uncertain"], false, "{new}");
    assert_eq!(value["wall_time"], "2026-11-22T02:15:58.512097Z");
}

#[test]
fn invalid_utf8_keeps_its_bytes_in_hex() {
    let raw = b"6,1,2,-;bad \\xff!\n KEY=v\\xfe\n";
    let got = text(|out| exact_lines(None).record(out, &record(raw)));
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["message"], "bad \u{fffd}!");
    assert_eq!(value["message_hex"], "62616420ff21");
    assert_eq!(value["dictionary"]["KEY"], "v\u{fffd}");
    assert_eq!(value["dictionary_hex"]["KEY"], "76fe");
    assert_eq!(value["caller"], serde_json::Value::Null);
}

#[test]
fn read_records_have_no_envelope_but_the_same_fields() {
    let got = text(|out| write_record(out, &record(b"6,1,2,-;m\n"), Some("W")));
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["type"], "record");
    assert_eq!(value["wall_time"], "W");
    assert!(
        value.get("schema").is_none() && value.get("boot_id").is_none(),
        "{got}"
    );
    assert_eq!(value["level_num"], 6);
}

#[test]
fn loss_objects_carry_count_range_and_cause() {
    let loss = Loss::sequence_gap(LossCause::KmsgOverrun, 100, 112);
    assert_eq!(
        text(|out| exact_lines(None).loss(out, &loss)),
        "{\"type\":\"loss\",\"schema\":\"fdframe-kmsg/1\",\"boot_id\":\"dd834108-d3a2-4ce0-b560-ececbe563eb9\",\
         \"cause\":\"kmsg-overrun\",\"count\":12,\"first_seq\":100,\"last_seq\":111,\
         \"message\":\"12 kernel log records lost (seq 100..=111): \
         the ring buffer overwrote them before they were read\"}\n"
    );
    // A `--since-now` start overwritten before the first read (docs/json-schema.md's example).
    assert_eq!(
        text(|out| exact_lines(None).loss(out, &Loss::unknown(LossCause::KmsgOverrun))),
        "{\"type\":\"loss\",\"schema\":\"fdframe-kmsg/1\",\"boot_id\":\"dd834108-d3a2-4ce0-b560-ececbe563eb9\",\
         \"cause\":\"kmsg-overrun\",\"count\":null,\"message\":\"an unknown number of kernel log \
         records lost: the ring buffer overwrote them before they were read\"}\n"
    );
    let unknown = Loss::unknown(LossCause::InotifyOverflow);
    let got = text(|out| write_loss(out, &unknown));
    assert!(
        got.starts_with("{\"type\":\"loss\",\"cause\":\"inotify-overflow\",\"count\":null,"),
        "{got}"
    );
}

#[test]
fn error_objects_name_the_problem() {
    assert_eq!(
        text(|out| write_error(out, "bad \"record\"", Some(7))),
        "{\"type\":\"error\",\"message\":\"bad \\\"record\\\"\",\"seq\":7}\n"
    );
    let got = text(|out| exact_lines(None).error(out, "bad", None));
    assert!(got.starts_with("{\"type\":\"error\",\"schema\":"), "{got}");
    assert!(!got.contains("\"seq\""), "{got}");
}

#[test]
fn dmesg_json_has_dmesgs_exact_layout_with_a_correct_pri() {
    let got = text(|out| {
        let mut doc = DmesgJson::begin(out)?;
        doc.entry(out, &record(b"7,1,1598236161,-;first\n"))?;
        doc.entry(out, &record(b"12,2,1661512097,-;ctl\\x5cx01 tab\\x09end\n"))?;
        doc.end(out)
    });
    assert_eq!(
        got,
        "{\n   \"dmesg\": [\n      {\n         \"pri\": 7,\n         \"time\":  1598.236161,\n\
         \x20        \"msg\": \"first\"\n      },{\n         \"pri\": 12,\n\
         \x20        \"time\":  1661.512097,\n         \"msg\": \"ctl\\\\x01 tab\\tend\"\n      }\n\
         \x20  ]\n}\n"
    );
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["dmesg"][1]["pri"], 12);
}

#[test]
fn dmesg_json_with_decode_names_facility_and_level_as_dmesg_j_x() {
    let got = text(|out| {
        let mut doc = DmesgJson::begin(out)?.decoding(true);
        doc.entry(out, &record(b"6,1,1000000,-;kernel\n"))?;
        doc.entry(out, &record(b"134,2,2000000,-;local0\n"))?;
        doc.entry(out, &record(b"203,3,3000000,-;no name\n"))?;
        doc.entry_without_priority(out, &record(b"7,4,4000000,-;bare\n"))?;
        doc.end(out)
    });
    assert!(
        got.starts_with(
            "{\n   \"dmesg\": [\n      {\n         \"fac\": \"kern\",\n         \"pri\": \"info\",\n\
             \x20        \"time\":     1.000000,\n"
        ),
        "{got}"
    );
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    let entries = value["dmesg"].as_array().unwrap();
    assert_eq!(
        (&entries[1]["fac"], &entries[1]["pri"]),
        (&"local0".into(), &"info".into())
    );
    assert_eq!(
        (&entries[2]["fac"], &entries[2]["pri"]),
        (&"25".into(), &"err".into())
    );
    assert!(entries[3].get("fac").is_none() && entries[3].get("pri").is_none());
    assert_eq!(entries[3]["msg"], "bare");
}

#[test]
fn an_empty_dmesg_json_document_is_still_json() {
    let got = text(|out| DmesgJson::begin(out)?.end(out));
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["dmesg"].as_array().unwrap().len(), 0);
}

/// The examples in `docs/json-schema.md`, one JSON object per line of each `json` block.
fn documented_examples() -> Vec<serde_json::Value> {
    let doc = include_str!("../docs/json-schema.md");
    doc.split("```json\n")
        .skip(1)
        .flat_map(|block| block.split_once("\n```").expect("a closed block").0.lines())
        .map(|line| serde_json::from_str(line).expect("a documented example is JSON"))
        .collect()
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn the_documented_examples_have_exactly_the_fields_printed() {
    let json = exact_lines(Some("web-1"));
    let printed = [
        text(|out| {
            json.record(
                out,
                &record(b"6,1,2,-,caller=T42;usb 1-1: new\n SUBSYSTEM=usb\n DEVICE=c189:1\n"),
            )
        }),
        text(|out| exact_lines(None).record(out, &record(b"14,2,3,-;bad \\xff!\n KEY=v\\xfe\n"))),
        text(|out| exact_lines(None).loss(out, &Loss::sequence_gap(LossCause::KmsgOverrun, 1, 3))),
        text(|out| exact_lines(None).loss(out, &Loss::unknown(LossCause::KmsgOverrun))),
        text(|out| exact_lines(None).error(out, "bad", Some(3))),
    ];
    let documented = documented_examples();
    assert_eq!(
        documented.len(),
        printed.len(),
        "one example per printed object"
    );
    for (doc, line) in documented.iter().zip(&printed) {
        let got: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(keys(doc), keys(&got), "documented {doc}\nprinted {got}");
        assert_eq!(doc["schema"], SCHEMA);
    }
}
