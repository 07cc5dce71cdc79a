//! Tests of `serde_impls.rs`: the exact JSON of every type, and the way back where there is one.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::{Loss, LossCause};

use super::*;

fn record(raw: &'static [u8]) -> KmsgRecord {
    KmsgRecord::parse(Bytes::from_static(raw)).unwrap()
}

#[test]
fn a_record_serializes_every_field_in_order() {
    let record = record(
        b"14,1137,1598236208,-,caller=T42;tab\\x09q\\x22\n SUBSYSTEM=acpi\n DEVICE=+acpi:x\n",
    );
    assert_eq!(
        serde_json::to_string(&record).unwrap(),
        "{\"seq\":1137,\"timestamp_us\":1598236208,\"priority\":14,\"facility\":\"user\",\
         \"facility_num\":1,\"level\":\"info\",\"level_num\":6,\"flag\":\"-\",\"caller\":\"T42\",\
         \"message\":\"tab\\tq\\\"\",\"dictionary\":{\"SUBSYSTEM\":\"acpi\",\"DEVICE\":\"+acpi:x\"}}"
    );
}

#[test]
fn invalid_utf8_keeps_its_bytes_in_hex_in_message_and_dictionary() {
    let value =
        serde_json::to_value(record(b"6,1,2,c;bad \\xff!\n KEY=v\\xfe\n OK=yes\n")).unwrap();
    assert_eq!(value["message"], "bad \u{fffd}!");
    assert_eq!(value["message_hex"], "62616420ff21");
    assert_eq!(value["flag"], "c");
    assert_eq!(value["caller"], Value::Null);
    assert_eq!(
        value["dictionary"],
        json!({"KEY": "v\u{fffd}", "OK": "yes"})
    );
    assert_eq!(
        value["dictionary_hex"],
        json!({"KEY": "76fe", "OK": "796573"})
    );
}

#[test]
fn text_records_have_no_hex_fields() {
    let value = serde_json::to_value(record(b"6,1,2,-;fine\n K=v\n")).unwrap();
    assert!(value.get("message_hex").is_none(), "{value}");
    assert!(value.get("dictionary_hex").is_none(), "{value}");
}

#[test]
fn levels_and_facilities_round_trip_by_name_and_read_numbers() {
    for n in 0..8 {
        let level = Level::from_priority(n);
        let text = serde_json::to_string(&level).unwrap();
        assert_eq!(text, format!("\"{}\"", level.as_str()));
        assert_eq!(serde_json::from_str::<Level>(&text).unwrap(), level);
        assert_eq!(
            serde_json::from_str::<Level>(&n.to_string()).unwrap(),
            level
        );
    }
    assert!(serde_json::from_str::<Level>("8").is_err());
    assert!(serde_json::from_str::<Level>("\"loud\"").is_err());
    for n in [0, 1, 16, 23, 24, 200] {
        let facility = Facility::from_number(n);
        let text = serde_json::to_string(&facility).unwrap();
        assert_eq!(serde_json::from_str::<Facility>(&text).unwrap(), facility);
        assert_eq!(
            serde_json::from_str::<Facility>(&n.to_string()).unwrap(),
            facility
        );
    }
    assert_eq!(
        serde_json::to_string(&Facility::LOCAL7).unwrap(),
        "\"local7\""
    );
    assert_eq!(
        serde_json::to_string(&Facility::from_number(200)).unwrap(),
        "\"200\""
    );
}

#[test]
fn callers_round_trip() {
    for caller in [Caller::Thread(42), Caller::Cpu(3)] {
        let text = serde_json::to_string(&caller).unwrap();
        assert_eq!(serde_json::from_str::<Caller>(&text).unwrap(), caller);
    }
    assert!(serde_json::from_str::<Caller>("\"X1\"").is_err());
}

#[test]
fn losses_have_flat_sequence_numbers_and_round_trip() {
    let loss = Loss::sequence_gap(LossCause::KmsgOverrun, 100, 112);
    let text = serde_json::to_string(&loss).unwrap();
    assert_eq!(
        text,
        "{\"cause\":\"kmsg-overrun\",\"count\":12,\"first_seq\":100,\"last_seq\":111}"
    );
    assert_eq!(serde_json::from_str::<Loss>(&text).unwrap(), loss);

    let unknown = Loss::unknown(LossCause::InotifyOverflow);
    let text = serde_json::to_string(&unknown).unwrap();
    assert_eq!(text, "{\"cause\":\"inotify-overflow\",\"count\":null}");
    assert_eq!(serde_json::from_str::<Loss>(&text).unwrap(), unknown);

    let half = "{\"cause\":\"kmsg-overrun\",\"count\":1,\"first_seq\":4}";
    assert!(serde_json::from_str::<Loss>(half).is_err());
}

#[test]
fn loss_causes_are_named_in_kebab_case() {
    let names = [
        (LossCause::KmsgOverrun, "kmsg-overrun"),
        (LossCause::KmsgResumeGap, "kmsg-resume-gap"),
        (LossCause::InotifyOverflow, "inotify-overflow"),
        (LossCause::EvdevDropped, "evdev-dropped"),
    ];
    for (cause, name) in names {
        assert_eq!(serde_json::to_value(cause).unwrap(), name);
        assert_eq!(
            serde_json::from_value::<LossCause>(name.into()).unwrap(),
            cause
        );
    }
}

#[test]
fn a_third_party_loss_cause_round_trips_and_keeps_its_display() {
    let cause = LossCause::Other(&crate::OtherCause {
        what: "CAN frames",
        why: "the receive FIFO overflowed",
    });
    let loss = Loss::sequence_gap(cause, 7, 10);
    let text = serde_json::to_string(&loss).unwrap();
    assert_eq!(
        text,
        "{\"cause\":{\"other\":{\"what\":\"CAN frames\",\"why\":\"the receive FIFO overflowed\"}},\"count\":3,\"first_seq\":7,\"last_seq\":9}"
    );
    let back = serde_json::from_str::<Loss>(&text).unwrap();
    assert_eq!(back, loss);
    assert_eq!(back.to_string(), loss.to_string());
    // An escaped text cannot be borrowed from the input: it is kept all the same.
    let escaped = "{\"other\":{\"what\":\"\\\"quoted\\\" frames\",\"why\":\"w\"}}";
    assert_eq!(
        serde_json::from_str::<LossCause>(escaped).unwrap(),
        LossCause::Other(&crate::OtherCause {
            what: "\"quoted\" frames",
            why: "w"
        })
    );
}

#[test]
fn deserialized_loss_cause_texts_are_bounded() {
    let long = format!(
        "{{\"other\":{{\"what\":\"{}\",\"why\":\"w\"}}}}",
        "x".repeat(257)
    );
    assert!(serde_json::from_str::<LossCause>(&long).is_err());
    // Distinct causes past the bound fail instead of growing the kept set (other tests keep
    // a few causes too, so this counts up to the bound from wherever it is).
    let failed = (0..100).find(|i| {
        let text = format!("{{\"other\":{{\"what\":\"bounded {i}\",\"why\":\"w\"}}}}");
        serde_json::from_str::<LossCause>(&text).is_err()
    });
    assert!(failed.is_some_and(|i| i <= 64), "{failed:?}");
}
