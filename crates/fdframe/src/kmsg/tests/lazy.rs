//! Records parse their message, extra fields and dictionary on first access: the results are
//! those of the eager parser this crate had before (kept here as the reference), whenever and
//! wherever they are asked for.

use bytes::{Bytes, BytesMut};
use memchr::memchr;
use proptest::prelude::*;

use super::one_read;
use super::props::{any_input, built};
use crate::kmsg::escape::unescape;
use crate::kmsg::{Caller, KmsgDecoder, KmsgErrorKind, KmsgField, KmsgFlag, KmsgRecord};
use crate::{Decoder, Framer};

/// Everything a record says, parsed the old way: all at once.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Eager {
    priority: u32,
    seq: u64,
    timestamp_us: u64,
    flag: KmsgFlag,
    extra_fields: Vec<Bytes>,
    message: Bytes,
    dictionary: Vec<(Bytes, Bytes)>,
}

/// The parser as it was before fields became lazy, verbatim but for the types it returns.
fn eager_reference(raw: &Bytes) -> Result<Eager, (KmsgErrorKind, Option<u64>)> {
    fn checked_field(field: Option<&[u8]>, which: KmsgField) -> Result<u64, KmsgErrorKind> {
        let field = field.ok_or(KmsgErrorKind::MissingField(which))?;
        decimal(field).ok_or(KmsgErrorKind::BadNumber(which))
    }
    fn decimal(digits: &[u8]) -> Option<u64> {
        if digits.is_empty() {
            return None;
        }
        digits.iter().try_fold(0u64, |n, &d| {
            if d.is_ascii_digit() {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            } else {
                None
            }
        })
    }
    let line_end = memchr(b'\n', raw).unwrap_or(raw.len());
    let first_line = raw.get(..line_end).unwrap_or_default();
    let semicolon = memchr(b';', first_line);
    let prefix = first_line
        .get(..semicolon.unwrap_or(line_end))
        .unwrap_or_default();
    let mut fields = prefix.split(|&b| b == b',');
    let priority_field = fields.next();
    let seq_field = fields.next();
    let ts_field = fields.next();
    let flag_field = fields.next();
    let seq = seq_field.and_then(decimal);
    let fail = |kind| Err((kind, seq));
    let Some(semicolon) = semicolon else {
        return fail(KmsgErrorKind::MissingSemicolon);
    };
    let priority = priority_field
        .and_then(decimal)
        .and_then(|p| u32::try_from(p).ok());
    let Some(priority) = priority else {
        return fail(KmsgErrorKind::BadNumber(KmsgField::Priority));
    };
    let seq = match checked_field(seq_field, KmsgField::Sequence) {
        Ok(seq) => seq,
        Err(kind) => return fail(kind),
    };
    let timestamp_us = match checked_field(ts_field, KmsgField::Timestamp) {
        Ok(ts) => ts,
        Err(kind) => return fail(kind),
    };
    let Some(flag_field) = flag_field else {
        return fail(KmsgErrorKind::MissingField(KmsgField::Flags));
    };
    let flag = KmsgFlag::from_field(flag_field);
    let extra_fields = fields.map(|field| raw.slice_ref(field)).collect();
    let message = unescape(raw, semicolon + 1, line_end);
    let mut dictionary = Vec::new();
    let mut pos = line_end + 1;
    while pos < raw.len() {
        let rest = raw.get(pos..).unwrap_or_default();
        let end = memchr(b'\n', rest).map_or(raw.len(), |i| pos + i);
        if rest.first() != Some(&b' ') {
            return fail(KmsgErrorKind::UnexpectedLine);
        }
        let key_start = pos + 1;
        let line = raw.get(key_start..end).unwrap_or_default();
        let (key_end, value_start) = match memchr(b'=', line) {
            Some(eq) => (key_start + eq, key_start + eq + 1),
            None => (end, end),
        };
        dictionary.push((
            unescape(raw, key_start, key_end),
            unescape(raw, value_start, end),
        ));
        pos = end + 1;
    }
    Ok(Eager {
        priority,
        seq,
        timestamp_us,
        flag,
        extra_fields,
        message,
        dictionary,
    })
}

/// Everything a record says, through its accessors.
fn through_accessors(record: &KmsgRecord) -> Eager {
    Eager {
        priority: record.priority(),
        seq: record.seq(),
        timestamp_us: record.timestamp_us(),
        flag: record.flag().clone(),
        extra_fields: record.extra_fields().to_vec(),
        message: record.message().clone(),
        dictionary: record.dictionary().iter().cloned().collect(),
    }
}

/// The lazy parse agrees with the eager one: same errors for the same bytes, same fields.
fn agrees_with_the_eager_parser(input: &[u8]) -> Result<(), TestCaseError> {
    let raw = Bytes::copy_from_slice(input);
    let expected = eager_reference(&raw);
    // The decoder takes its own fast path to the same answer.
    if !input.is_empty() {
        match KmsgDecoder::new().decode(&mut BytesMut::from(input)) {
            Ok(record) => {
                let record = record.expect("a non-empty read is a record or an error");
                prop_assert_eq!(Ok(through_accessors(&record)), expected.clone());
            }
            Err(error) => {
                prop_assert_eq!(
                    Err((error.kind(), error.seq())),
                    expected.clone().map(|_| ())
                );
            }
        }
    }
    match KmsgRecord::parse(raw) {
        Ok(record) => {
            prop_assert_eq!(Ok(through_accessors(&record)), expected);
            // `field` reads the prefix without building `extra_fields`: same answers.
            let caller = record
                .extra_fields()
                .iter()
                .find_map(|f| f.strip_prefix(b"caller=".as_slice()).map(|v| v.to_vec()));
            prop_assert_eq!(record.field("caller").map(<[u8]>::to_vec), caller);
        }
        Err(error) => {
            prop_assert_eq!(Err((error.kind(), error.seq())), expected.map(|_| ()));
            prop_assert_eq!(error.raw(), input);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn lazy_fields_match_the_eager_parser_on_any_bytes(input in any_input()) {
        agrees_with_the_eager_parser(&input)?;
    }

    #[test]
    fn lazy_fields_match_the_eager_parser_on_kernel_records(b in built()) {
        agrees_with_the_eager_parser(&b.raw())?;
    }
}

#[test]
fn prefixes_the_fast_path_declines_still_agree_with_the_eager_parser() {
    // Each is a corner of the one-pass prefix reader: a 19- and a 20-digit number, a priority
    // past u32, an empty field, `\n` before `;`, a flag ending the line, extra fields that do.
    let cases: [&[u8]; 18] = [
        b"6,1,2,zz,caller=T1;m\n",
        b"6,1,2,c\x41;m\n",
        b"6,9999999999999999999,1,-;m\n",
        b"6,99999999999999999999,1,-;m\n",
        b"6,1,36893488147419103232,-;m\n",
        b"6,10000000000000000000,1,-;m\n",
        b"6,18446744073709551615,1,-;m\n",
        b"4294967295,1,1,-;m\n",
        b"4294967296,1,1,-;m\n",
        b"6,,1,-;m\n",
        b"6,1,,-;m\n",
        b"6,1,2,;m\n",
        b"6,1,2,-,;m\n",
        b"6,1,2,-\n;m\n",
        b"6,1,2,-,x\n;m\n",
        b"6,1,2,-,a,,b;m\n",
        b"06,01,002,-;m",
        b"6,1,2,-;m\n KEY\n",
    ];
    for case in cases {
        if let Err(e) = agrees_with_the_eager_parser(case) {
            panic!("{}: {e}", case.escape_ascii());
        }
    }
}

#[test]
fn a_broken_escape_read_long_after_decoding_stays_literal() {
    let mut decoder = KmsgDecoder::new();
    let kept = decoder
        .decode(&mut one_read(b"6,1,10,-;50\\xZZ off, cut \\x4\n"))
        .unwrap()
        .unwrap();
    // The decoder moves on; the kept record's message has not been looked at yet.
    for seq in 2..100 {
        let raw = format!("6,{seq},10,-;next \\x41 {seq}\n");
        let record = decoder
            .decode(&mut one_read(raw.as_bytes()))
            .unwrap()
            .unwrap();
        assert_eq!(record.message_str(), Some(format!("next A {seq}").as_str()));
    }
    assert_eq!(kept.message(), "50\\xZZ off, cut \\x4");
    assert_eq!(kept.message_str(), Some("50\\xZZ off, cut \\x4"));
}

#[test]
fn malformed_dictionary_lines_are_errors_at_decode_time_not_on_access() {
    let mut decoder = KmsgDecoder::new();
    let err = decoder
        .decode(&mut one_read(
            b"6,5,1,-;m\n SUBSYSTEM=acpi\nDEVICE=+acpi:x\n",
        ))
        .unwrap_err();
    assert_eq!(err.kind(), KmsgErrorKind::UnexpectedLine);
    assert_eq!(err.seq(), Some(5));
    assert_eq!(
        decoder.last_seq(),
        Some(5),
        "the malformed record counts as seen"
    );
}

#[test]
fn dictionary_and_fields_read_after_the_decoder_moved_on() {
    let mut framer = Framer::new(KmsgDecoder::new());
    let reads: [&[u8]; 3] = [
        b"3,7,1,c,caller=T42,future=x;sd 0:0:0:0: [sda] tab\\x09\n SUBSYSTEM=scsi\n DEVICE=+scsi:0:0:0:0\n DRIVER=a\\x0ab\n",
        b"6,8,2,-;second\n",
        b"6,9,3,-;third\n",
    ];
    let mut reads = reads.into_iter();
    let mut kept = Vec::new();
    while let std::task::Poll::Ready(Some(item)) = framer.poll_next_with(|buf| match reads.next() {
        Some(read) => {
            buf.put_slice(read);
            Ok(())
        }
        None => Err(std::io::ErrorKind::WouldBlock.into()),
    }) {
        kept.push(item.unwrap());
    }
    assert_eq!(
        kept.iter().map(KmsgRecord::seq).collect::<Vec<_>>(),
        [7, 8, 9]
    );
    // Only now, with the engine's read buffer long reused, are the lazy parts asked for.
    let first = &kept[0];
    assert_eq!(first.get("DRIVER").unwrap(), "a\nb");
    assert_eq!(first.get("SUBSYSTEM").unwrap(), "scsi");
    let keys: Vec<_> = first.dictionary().iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, ["SUBSYSTEM", "DEVICE", "DRIVER"]);
    assert_eq!(first.caller(), Some(Caller::Thread(42)));
    assert_eq!(first.field("future"), Some(&b"x"[..]));
    assert_eq!(first.extra_fields(), ["caller=T42", "future=x"]);
    assert_eq!(first.message(), "sd 0:0:0:0: [sda] tab\t");
    assert_eq!(first.flag(), &KmsgFlag::Fragment);
    assert!(kept[1].dictionary().is_empty());
    assert!(kept[2].extra_fields().is_empty());
}

#[test]
fn lazy_parts_are_parsed_once_and_shared_by_clones_made_after() {
    let record = KmsgRecord::parse(Bytes::from_static(b"6,1,1,-;a\\x5cb\n K=v\\x09\n")).unwrap();
    let first = record.message().as_ptr();
    assert_eq!(
        record.message().as_ptr(),
        first,
        "the unescaped message is kept"
    );
    let clone = record.clone();
    assert_eq!(clone.message(), "a\\b");
    assert_eq!(clone.get("K").unwrap(), "v\t");
    assert_eq!(clone, record);
    // A record sent to another thread answers the same there.
    let message = std::thread::spawn(move || clone.message().clone())
        .join()
        .unwrap();
    assert_eq!(message, "a\\b");
}

#[test]
fn debug_shows_the_parsed_fields() {
    let record =
        KmsgRecord::parse(Bytes::from_static(b"6,1,2,-,caller=C1;hi\\x21\n K=v\n")).unwrap();
    let shown = format!("{record:?}");
    for part in [
        "priority: 6",
        "seq: 1",
        "timestamp_us: 2",
        "flag: None",
        "extra_fields: [b\"caller=C1\"]",
        "message: b\"hi!\"",
        "raw: ",
    ] {
        assert!(shown.contains(part), "{part} missing from {shown}");
    }
    assert!(shown.contains("b\"K\", b\"v\""), "{shown}");
}

#[test]
fn a_decoded_record_owns_just_its_bytes() {
    // The engine hands the decoder a buffer holding one small record; the record keeps that
    // buffer itself rather than a view into a larger one.
    let mut src = BytesMut::with_capacity(64);
    src.extend_from_slice(b"6,1,2,-;small\n");
    let record = KmsgDecoder::new().decode(&mut src).unwrap().unwrap();
    assert_eq!(record.raw(), &b"6,1,2,-;small\n"[..]);
    assert!(src.is_empty());
    // Taken whole, not split off (a split would leave the rest of the capacity behind, and
    // allocate a shared header for the two halves).
    assert_eq!(src.capacity(), 0, "the buffer went with the record");
}
