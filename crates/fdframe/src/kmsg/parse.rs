//! Parsing one raw `/dev/kmsg` record into a [`KmsgRecord`].

use bytes::Bytes;
use memchr::memchr;

use super::escape::unescape;
use super::{Dictionary, KmsgError, KmsgErrorKind, KmsgField, KmsgFlag, KmsgRecord};

/// Parses a decimal number: one or more ASCII digits, no sign, no spaces, no overflow.
pub(super) fn decimal_u64(digits: &[u8]) -> Option<u64> {
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

pub(super) fn parse_record(raw: Bytes) -> Result<KmsgRecord, KmsgError> {
    let line_end = memchr(b'\n', &raw).unwrap_or(raw.len());
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
    // Read early so that even a record rejected for another reason counts as seen.
    let seq = seq_field.and_then(decimal_u64);
    let fail = |kind| Err(KmsgError::new(kind, raw.clone(), seq));

    let Some(semicolon) = semicolon else {
        return fail(KmsgErrorKind::MissingSemicolon);
    };
    // `split` yields at least one field, so the priority is never missing, only malformed.
    let priority = priority_field
        .and_then(decimal_u64)
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

    let message = unescape(&raw, semicolon + 1, line_end);

    let mut dictionary = Dictionary::default();
    let mut pos = line_end + 1;
    while pos < raw.len() {
        let rest = raw.get(pos..).unwrap_or_default();
        let end = memchr(b'\n', rest).map_or(raw.len(), |i| pos + i);
        if rest.first() != Some(&b' ') {
            return fail(KmsgErrorKind::UnexpectedLine);
        }
        let key_start = pos + 1;
        let line = raw.get(key_start..end).unwrap_or_default();
        // The kernel never writes a line without `=`; keep one as a key with an empty value.
        let (key_end, value_start) = match memchr(b'=', line) {
            Some(eq) => (key_start + eq, key_start + eq + 1),
            None => (end, end),
        };
        dictionary.push(
            unescape(&raw, key_start, key_end),
            unescape(&raw, value_start, end),
        );
        pos = end + 1;
    }

    Ok(KmsgRecord {
        priority,
        seq,
        timestamp_us,
        flag,
        extra_fields,
        message,
        dictionary,
        raw,
    })
}

fn checked_field(field: Option<&[u8]>, which: KmsgField) -> Result<u64, KmsgErrorKind> {
    let field = field.ok_or(KmsgErrorKind::MissingField(which))?;
    decimal_u64(field).ok_or(KmsgErrorKind::BadNumber(which))
}
