use std::time::Duration;

use bytes::Bytes;

use super::{one_read, parse};
use crate::Decoder;
use crate::kmsg::{
    Caller, Facility, KmsgDecoder, KmsgErrorKind, KmsgField, KmsgFlag, KmsgRecord, Level,
};

// The example from Documentation/ABI/testing/dev-kmsg, one record per read as the device
// returns them.
const DOC_RECORD_1: &[u8] = b"7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n";
const DOC_RECORD_2: &[u8] = b"6,339,5140900,-;NET: Registered protocol family 10\n";
const DOC_RECORD_3: &[u8] = b"30,340,5690716,-;udevd[80]: starting version 181\n";

#[test]
fn kernel_documentation_example_with_dictionary_decodes_exactly() {
    let record = parse(DOC_RECORD_1);
    assert_eq!(record.priority(), 7);
    assert_eq!(record.facility(), Facility::KERN);
    assert_eq!(record.level(), Level::Debug);
    assert_eq!(record.seq(), 160);
    assert_eq!(record.timestamp_us(), 424_069);
    assert_eq!(record.timestamp(), Duration::from_micros(424_069));
    assert_eq!(record.flag(), &KmsgFlag::None);
    assert!(record.extra_fields().is_empty());
    assert_eq!(record.caller(), None);
    assert_eq!(
        record.message(),
        "pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)"
    );
    let dict: Vec<(Bytes, Bytes)> = record.dictionary().iter().cloned().collect();
    assert_eq!(
        dict,
        [
            (Bytes::from("SUBSYSTEM"), Bytes::from("acpi")),
            (Bytes::from("DEVICE"), Bytes::from("+acpi:PNP0A03:00")),
        ]
    );
    assert_eq!(record.get("SUBSYSTEM").unwrap(), "acpi");
    assert_eq!(record.raw(), DOC_RECORD_1);
}

#[test]
fn kernel_documentation_examples_decode_one_per_read() {
    let mut decoder = KmsgDecoder::new();
    let mut got = Vec::new();
    for raw in [DOC_RECORD_1, DOC_RECORD_2, DOC_RECORD_3] {
        let mut read = one_read(raw);
        let record = decoder.decode(&mut read).unwrap().unwrap();
        assert!(read.is_empty(), "the whole read is consumed");
        assert_eq!(decoder.decode(&mut read).unwrap(), None);
        got.push((
            record.facility(),
            record.level(),
            record.seq(),
            record.timestamp_us(),
            record.message_lossy().into_owned(),
            record.dictionary().len(),
        ));
    }
    assert_eq!(
        got,
        [
            (
                Facility::KERN,
                Level::Debug,
                160,
                424_069,
                "pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)".into(),
                2
            ),
            (
                Facility::KERN,
                Level::Info,
                339,
                5_140_900,
                "NET: Registered protocol family 10".into(),
                0
            ),
            (
                Facility::DAEMON,
                Level::Info,
                340,
                5_690_716,
                "udevd[80]: starting version 181".into(),
                0
            ),
        ]
    );
}

#[test]
fn two_records_in_one_read_are_an_unexpected_line() {
    let both = [DOC_RECORD_2, DOC_RECORD_3].concat();
    let err = KmsgRecord::parse(Bytes::from(both.clone())).unwrap_err();
    assert_eq!(err.kind(), KmsgErrorKind::UnexpectedLine);
    assert_eq!(err.seq(), Some(339));
    assert_eq!(err.raw(), &both[..]);
}

#[test]
fn escapes_become_bytes() {
    let record = parse(b"6,1,10,-;a\\x7fb \\x5c c\\x09d\\x0ae \\xc3\\xa9 \\xff\\x00\n");
    assert_eq!(
        record.message(),
        &b"a\x7fb \\ c\td\ne \xc3\xa9 \xff\x00"[..]
    );
    assert_eq!(record.message_str(), None, "\\xff is not UTF-8");
    assert_eq!(record.message_lossy(), "a\u{7f}b \\ c\td\ne é \u{fffd}\0");
}

#[test]
fn uppercase_hex_escapes_are_accepted() {
    assert_eq!(parse(b"6,1,10,-;\\x4A\\x4a\n").message(), "JJ");
}

#[test]
fn invalid_escapes_are_kept_literally() {
    let cases: [(&[u8], &[u8]); 6] = [
        (b"6,1,1,-;\\xZZ\n", b"\\xZZ"),
        (b"6,1,1,-;cut \\x4\n", b"cut \\x4"),
        (b"6,1,1,-;cut \\x\n", b"cut \\x"),
        (b"6,1,1,-;cut \\\n", b"cut \\"),
        (b"6,1,1,-;\\\\x41\n", b"\\A"),
        (b"6,1,1,-;\\q\\x4g\\x41\n", b"\\q\\x4gA"),
    ];
    for (raw, message) in cases {
        assert_eq!(parse(raw).message(), message, "{}", raw.escape_ascii());
    }
}

#[test]
fn message_without_escapes_is_a_view_of_the_raw_record() {
    let record = parse(DOC_RECORD_2);
    let raw = record.raw().as_ptr_range();
    assert!(raw.contains(&record.message().as_ptr()));
}

#[test]
fn dictionary_values_are_unescaped_and_keys_keep_order() {
    let record =
        parse(b"3,5,6,-;msg\n DRIVER=e1000\\x5cx\n MODALIAS=pci:v\\x3dx\n EMPTY=\n NOEQUALS\n");
    let dict: Vec<(&[u8], &[u8])> = record
        .dictionary()
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    assert_eq!(
        dict,
        [
            (&b"DRIVER"[..], &b"e1000\\x"[..]),
            (b"MODALIAS", b"pci:v=x"),
            (b"EMPTY", b""),
            (b"NOEQUALS", b""),
        ]
    );
    assert_eq!(record.get("MODALIAS").unwrap(), "pci:v=x");
    assert_eq!(record.get("SUBSYSTEM"), None);
}

#[test]
fn value_may_contain_equals_signs() {
    let record = parse(b"6,1,1,-;m\n KEY=a=b\n");
    assert_eq!(record.get("KEY").unwrap(), "a=b");
}

#[test]
fn continuation_flags_are_typed() {
    assert_eq!(parse(b"4,1,1,-;x\n").flag(), &KmsgFlag::None);
    assert_eq!(parse(b"4,1,1,c;x\n").flag(), &KmsgFlag::Fragment);
    assert_eq!(parse(b"4,1,1,+;x\n").flag(), &KmsgFlag::Continuation);
    assert_eq!(
        parse(b"4,1,1,z;x\n").flag(),
        &KmsgFlag::Other(Bytes::from_static(b"z"))
    );
    assert_eq!(parse(b"4,1,1,;x\n").flag(), &KmsgFlag::Other(Bytes::new()));
    assert!(parse(b"4,1,1,c;x\n").flag().is_fragment());
    assert!(!parse(b"4,1,1,-;x\n").flag().is_fragment());
    assert_eq!(parse(b"4,1,1,+;x\n").flag().as_bytes(), b"+");
}

#[test]
fn caller_field_is_parsed() {
    let record = parse(b"6,1,1,-,caller=T123;x\n");
    assert_eq!(record.caller(), Some(Caller::Thread(123)));
    assert_eq!(record.extra_fields(), ["caller=T123"]);
    let record = parse(b"6,1,1,-,caller=C7;x\n");
    assert_eq!(record.caller(), Some(Caller::Cpu(7)));
    let record = parse(b"6,1,1,-,caller=Q7;x\n");
    assert_eq!(record.caller(), None, "unknown caller kinds are no caller");
    assert_eq!(record.field("caller"), Some(&b"Q7"[..]));
}

#[test]
fn unknown_extra_fields_are_kept_in_order() {
    let record = parse(b"6,1,1,-,future=1,caller=T5,flagonly;x\n");
    assert_eq!(record.extra_fields(), ["future=1", "caller=T5", "flagonly"]);
    assert_eq!(record.field("future"), Some(&b"1"[..]));
    assert_eq!(record.field("flagonly"), None);
    assert_eq!(record.field("fut"), None);
    assert_eq!(record.caller(), Some(Caller::Thread(5)));
    assert_eq!(record.message(), "x");
}

#[test]
fn semicolons_in_the_message_belong_to_the_message() {
    assert_eq!(parse(b"6,1,1,-;a;b;c\n").message(), "a;b;c");
}

#[test]
fn empty_message_is_a_record() {
    let record = parse(b"6,1,1,-;\n");
    assert_eq!(record.message(), "");
}

#[test]
fn missing_final_newline_is_tolerated() {
    let record = parse(b"6,1,1,-;truncated by the kernel's buffer");
    assert_eq!(record.message(), "truncated by the kernel's buffer");
}

#[test]
fn non_kern_facilities_split_the_priority() {
    let cases = [
        (14, Facility::USER, Level::Info, "user"),
        (190, Facility::LOCAL7, Level::Info, "local7"),
        (134, Facility::LOCAL0, Level::Info, "local0"),
        (30, Facility::DAEMON, Level::Info, "daemon"),
        (0, Facility::KERN, Level::Emerg, "kern"),
        (103, Facility::RES0, Level::Debug, "res0"),
    ];
    for (priority, facility, level, name) in cases {
        let record = parse(format!("{priority},1,1,-;x\n").as_bytes());
        assert_eq!((record.facility(), record.level()), (facility, level));
        assert_eq!(record.facility().name(), Some(name));
        assert_eq!(record.priority(), priority);
    }
}

#[test]
fn unknown_facility_numbers_are_kept() {
    let record = parse(b"2047,1,1,-;x\n");
    assert_eq!(record.facility().number(), 255);
    assert_eq!(record.facility().name(), None);
    assert_eq!(record.facility().to_string(), "255");
    assert_eq!(record.level(), Level::Debug);
    let record = parse(b"4294967295,1,1,-;x\n");
    assert_eq!(record.facility().number(), u32::MAX >> 3);
}

#[test]
fn sequence_numbers_near_u64_max_parse() {
    let record = parse(b"6,18446744073709551615,18446744073709551615,-;last\n");
    assert_eq!(record.seq(), u64::MAX);
    assert_eq!(record.timestamp_us(), u64::MAX);
    assert_eq!(record.timestamp(), Duration::from_micros(u64::MAX));
}

#[test]
fn malformed_prefixes_are_typed_errors_and_the_next_record_decodes() {
    let cases: [(&[u8], KmsgErrorKind, Option<u64>); 12] = [
        (
            b"no semicolon here\n",
            KmsgErrorKind::MissingSemicolon,
            None,
        ),
        (
            b"6,1,1,-\n;late\n",
            KmsgErrorKind::MissingSemicolon,
            Some(1),
        ),
        (
            b";message only\n",
            KmsgErrorKind::BadNumber(KmsgField::Priority),
            None,
        ),
        (
            b"x,1,1,-;m\n",
            KmsgErrorKind::BadNumber(KmsgField::Priority),
            Some(1),
        ),
        (
            b"-6,1,1,-;m\n",
            KmsgErrorKind::BadNumber(KmsgField::Priority),
            Some(1),
        ),
        (
            b"4294967296,1,1,-;m\n",
            KmsgErrorKind::BadNumber(KmsgField::Priority),
            Some(1),
        ),
        (
            b"6;m\n",
            KmsgErrorKind::MissingField(KmsgField::Sequence),
            None,
        ),
        (
            b"6,1;m\n",
            KmsgErrorKind::MissingField(KmsgField::Timestamp),
            Some(1),
        ),
        (
            b"6,1,2;m\n",
            KmsgErrorKind::MissingField(KmsgField::Flags),
            Some(1),
        ),
        (
            b"6,18446744073709551616,1,-;m\n",
            KmsgErrorKind::BadNumber(KmsgField::Sequence),
            None,
        ),
        (
            b"6, 1,1,-;m\n",
            KmsgErrorKind::BadNumber(KmsgField::Sequence),
            None,
        ),
        (
            b"6,1,1.5,-;m\n",
            KmsgErrorKind::BadNumber(KmsgField::Timestamp),
            Some(1),
        ),
    ];
    let mut decoder = KmsgDecoder::new();
    for (i, (raw, kind, seq)) in cases.into_iter().enumerate() {
        let mut read = one_read(raw);
        let err = decoder.decode(&mut read).unwrap_err();
        assert_eq!(err.kind(), kind, "{}", raw.escape_ascii());
        assert_eq!(err.seq(), seq, "{}", raw.escape_ascii());
        assert_eq!(err.raw(), raw);
        assert!(read.is_empty(), "a malformed record is consumed");

        let good = format!("6,{},1,-;good {i}\n", 100 + i);
        let record = decoder
            .decode(&mut one_read(good.as_bytes()))
            .unwrap()
            .unwrap();
        assert_eq!(record.message_str(), Some(format!("good {i}").as_str()));
    }
}

#[test]
fn dictionary_line_without_leading_space_is_an_error() {
    let err = KmsgRecord::parse(Bytes::from_static(b"6,9,1,-;m\nKEY=v\n")).unwrap_err();
    assert_eq!(err.kind(), KmsgErrorKind::UnexpectedLine);
    assert_eq!(err.seq(), Some(9));
    let err = KmsgRecord::parse(Bytes::from_static(b"6,9,1,-;m\n\n")).unwrap_err();
    assert_eq!(err.kind(), KmsgErrorKind::UnexpectedLine);
}

#[test]
fn empty_read_decodes_to_nothing() {
    let mut decoder = KmsgDecoder::new();
    assert_eq!(decoder.decode(&mut one_read(b"")).unwrap(), None);
    assert_eq!(decoder.decode_eof(&mut one_read(b"")).unwrap(), None);
}

#[test]
fn error_display_names_the_problem_and_caps_the_record() {
    let long = [&b"6,1,x,-;"[..], &[b'a'; 500][..]].concat();
    let err = KmsgRecord::parse(Bytes::from(long)).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("malformed /dev/kmsg record: timestamp is not a decimal number"));
    assert!(text.ends_with("...)"), "{text}");
    assert!(text.len() < 300, "{text}");
}

#[test]
fn level_names_parse_and_print_like_dmesg() {
    let names = [
        "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
    ];
    for (n, name) in names.iter().enumerate() {
        let level: Level = name.parse().unwrap();
        assert_eq!(level.as_str(), *name);
        assert_eq!(level.to_string(), *name);
        assert_eq!(usize::from(level.number()), n);
        assert_eq!(Level::from_number(level.number()), Some(level));
        assert_eq!(n.to_string().parse::<Level>().unwrap(), level);
    }
    assert_eq!("WARNING".parse::<Level>().unwrap(), Level::Warn);
    assert_eq!("error".parse::<Level>().unwrap(), Level::Err);
    assert_eq!("panic".parse::<Level>().unwrap(), Level::Emerg);
    assert!("8".parse::<Level>().is_err());
    assert!("".parse::<Level>().is_err());
    assert_eq!(Level::from_number(8), None);
    assert_eq!(format!("{:<6}|", Level::Err), "err   |");
}

#[test]
fn level_threshold_keeps_warn_and_worse() {
    let kept: Vec<Level> = Level::ALL
        .into_iter()
        .filter(|l| l.is_at_least(Level::Warn))
        .collect();
    assert_eq!(
        kept,
        [
            Level::Emerg,
            Level::Alert,
            Level::Crit,
            Level::Err,
            Level::Warn
        ]
    );
    let mut sorted = [Level::Debug, Level::Emerg, Level::Warn];
    sorted.sort();
    assert_eq!(sorted, [Level::Emerg, Level::Warn, Level::Debug]);
}

#[test]
fn facility_names_parse_and_print_like_dmesg() {
    let names = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp", "res0", "res1", "res2", "res3", "local0", "local1", "local2", "local3",
        "local4", "local5", "local6", "local7",
    ];
    for (n, name) in names.iter().enumerate() {
        let facility: Facility = name.parse().unwrap();
        assert_eq!(facility.number() as usize, n);
        assert_eq!(facility.name(), Some(*name));
        assert_eq!(facility.to_string(), *name);
        assert_eq!(Facility::from_priority(facility.number() * 8 + 6), facility);
    }
    assert_eq!("LOCAL3".parse::<Facility>().unwrap(), Facility::LOCAL3);
    assert_eq!("security".parse::<Facility>().unwrap(), Facility::AUTH);
    assert_eq!("99".parse::<Facility>().unwrap(), Facility::from_number(99));
    assert!("local8".parse::<Facility>().is_err());
    assert!("-1".parse::<Facility>().is_err());
    assert_eq!(Facility::from_number(24).name(), None);
}
