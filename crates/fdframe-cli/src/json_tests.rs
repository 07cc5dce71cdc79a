//! Tests of `json.rs`: escaping, and the exact shape of every object.

use bytes::Bytes;

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

#[test]
fn a_record_has_every_field() {
    let got = text(|out| {
        write_record(
            out,
            &record(b"14,1137,1598236208,-,caller=T42;tab\\x09q\\x22\n SUBSYSTEM=acpi\n DEVICE=+acpi:x\n"),
            None,
        )
    });
    assert_eq!(
        got,
        "{\"type\":\"record\",\"seq\":1137,\"timestamp_us\":1598236208,\"facility\":\"user\",\
         \"facility_num\":1,\"level\":\"info\",\"level_num\":6,\"priority\":14,\"flag\":\"-\",\
         \"caller\":\"T42\",\"message\":\"tab\\tq\\\"\",\
         \"dictionary\":{\"SUBSYSTEM\":\"acpi\",\"DEVICE\":\"+acpi:x\"}}\n"
    );
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["message"], "tab\tq\"");
}

#[test]
fn invalid_utf8_keeps_its_bytes_in_hex() {
    let got = text(|out| write_record(out, &record(b"6,1,2,-;bad \\xff!\n"), Some("W")));
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["message"], "bad \u{fffd}!");
    assert_eq!(value["message_hex"], "62616420ff21");
    assert_eq!(value["wall_time"], "W");
    assert_eq!(value["caller"], serde_json::Value::Null);
}

#[test]
fn loss_objects_carry_count_range_and_cause() {
    let loss = Loss::sequence_gap(LossCause::KmsgOverrun, 100, 112);
    assert_eq!(
        text(|out| write_loss(out, &loss)),
        "{\"type\":\"loss\",\"count\":12,\"first_seq\":100,\"last_seq\":111,\
         \"cause\":\"kmsg-overrun\",\"message\":\"12 kernel log records lost (seq 100..=111): \
         the ring buffer overwrote them before they were read\"}\n"
    );
    let unknown = Loss::unknown(LossCause::InotifyOverflow);
    let got = text(|out| write_loss(out, &unknown));
    assert!(
        got.starts_with("{\"type\":\"loss\",\"count\":null,\"cause\":\"inotify-overflow\""),
        "{got}"
    );
}

#[test]
fn error_objects_name_the_problem() {
    assert_eq!(
        text(|out| write_error(out, "bad \"record\"", Some(7))),
        "{\"type\":\"error\",\"message\":\"bad \\\"record\\\"\",\"seq\":7}\n"
    );
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
fn an_empty_dmesg_json_document_is_still_json() {
    let got = text(|out| DmesgJson::begin(out)?.end(out));
    let value: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(value["dmesg"].as_array().unwrap().len(), 0);
}
