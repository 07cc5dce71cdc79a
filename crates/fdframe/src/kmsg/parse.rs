//! Parsing one raw `/dev/kmsg` record: what decoding checks at once, and what is parsed later.
//!
//! Decoding a record ([`scan`]) does only what framing and loss accounting need and what can
//! make the record malformed: it reads the prefix numbers (the sequence number first, so that
//! even a rejected record counts as seen), finds where the message ends and checks that every
//! line after it is a dictionary line. That is one pass over the bytes, without allocating.
//! Undoing escapes, splitting the extra fields and the dictionary cannot fail, so they wait
//! until an accessor of [`KmsgRecord`](super::KmsgRecord) asks for them ([`message`],
//! [`extra_fields`], [`dictionary`] here): a reader that counts records, or filters on the
//! level or the sequence number, pays for none of it.

use bytes::Bytes;
use memchr::{memchr, memchr2};

use super::escape::unescape;
use super::{Dictionary, KmsgErrorKind, KmsgField, KmsgFlag};

/// Parses a decimal number: one or more ASCII digits, no sign, no spaces, no overflow.
pub(super) fn decimal_u64(digits: &[u8]) -> Option<u64> {
    // Up to 19 digits cannot overflow (10^19 - 1 < u64::MAX): no checked arithmetic needed
    // for the numbers the kernel writes.
    if digits.is_empty() || digits.len() > 19 {
        return decimal_u64_checked(digits);
    }
    let mut n = 0u64;
    for &d in digits {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some(n)
}

fn decimal_u64_checked(digits: &[u8]) -> Option<u64> {
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

/// What decoding found in a record's bytes: the prefix numbers, and where the parts that are
/// parsed on demand begin and end.
///
/// Every field is a word: the layout is copied into the record right after it is written, and a
/// wide copy of narrower fields (or of padding) would wait for the stores to complete.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    /// Checked to fit in `u32`.
    pub(super) priority: u64,
    pub(super) seq: u64,
    pub(super) timestamp_us: u64,
    /// Where the extra prefix fields start, when a `,` follows `FLAG` (they end at `semicolon`);
    /// 0 when there are none (four fields come first, so they never start at 0).
    pub(super) extras: usize,
    /// The `;` that ends the prefix; the message starts after it.
    pub(super) semicolon: usize,
    /// The `\n` that ends the message (or the end of the record, if it has none).
    pub(super) line_end: usize,
    /// The `FLAG` field when it is one the kernel writes; `None` for another value.
    pub(super) flag: Option<&'static KmsgFlag>,
}

/// A malformed record: what is wrong, and its sequence number if that could be read.
pub(super) type ScanError = (KmsgErrorKind, Option<u64>);

/// Checks a record and finds its parts; see the module documentation for what is left for
/// later. The errors, and which one a record with several faults gets, are those of the eager
/// parser this replaced (the tests compare the two on arbitrary bytes).
#[inline]
pub(super) fn scan(raw: &[u8]) -> Result<Layout, ScanError> {
    match scan_well_formed(raw) {
        Some(layout) => Ok(layout),
        None => scan_any(raw),
    }
}

/// The common case in one pass over the prefix: every number all digits (at most 19 of them,
/// so no overflow check is needed), no `\n` before the `;`. `None` for anything else, which
/// [`scan_any`] then takes apart field by field to name the fault.
#[inline]
pub(super) fn scan_well_formed(raw: &[u8]) -> Option<Layout> {
    let mut pos = 0;
    let priority = digits_then_comma(raw, &mut pos).filter(|&p| p <= u64::from(u32::MAX))?;
    let seq = digits_then_comma(raw, &mut pos)?;
    let timestamp_us = digits_then_comma(raw, &mut pos)?;
    let flag_start = pos;
    let flag_len = raw
        .get(flag_start..)?
        .iter()
        .position(|&b| matches!(b, b',' | b';' | b'\n'))?;
    let flag = raw.get(flag_start..flag_start + flag_len)?;
    pos = flag_start + flag_len;
    let mut extras = 0;
    if raw.get(pos) == Some(&b',') {
        extras = pos + 1;
        pos = extras + memchr2(b';', b'\n', raw.get(extras..)?)?;
    }
    if raw.get(pos) != Some(&b';') {
        return None;
    }
    let line_end = dictionary_checked(raw, pos + 1)?;
    Some(Layout {
        priority,
        seq,
        timestamp_us,
        extras,
        semicolon: pos,
        line_end,
        flag: KmsgFlag::known(flag),
    })
}

/// Reads 1 to 19 digits at `*pos` and the `,` after them, moving `*pos` past the comma.
fn digits_then_comma(raw: &[u8], pos: &mut usize) -> Option<u64> {
    let start = *pos;
    let rest = raw.get(start..)?;
    // At most 19 digits and the comma: 19 digits cannot overflow (10^19 - 1 < u64::MAX); a
    // 20th digit may wrap, but then no comma follows within the 20 bytes and it is `None`.
    let field = rest.get(..20).unwrap_or(rest);
    let mut n = 0u64;
    for (i, &b) in field.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit <= 9 {
            n = n.wrapping_mul(10).wrapping_add(u64::from(digit));
        } else if b == b',' && i > 0 {
            *pos = start + i + 1;
            return Some(n);
        } else {
            return None;
        }
    }
    None
}

/// Finds the `\n` that ends the message starting at `message_start`, and checks that every
/// line after it is a dictionary line (` KEY=VALUE`); `None` if one is not.
fn dictionary_checked(raw: &[u8], message_start: usize) -> Option<usize> {
    let line_end = raw
        .get(message_start..)
        .and_then(|message| memchr(b'\n', message))
        .map_or(raw.len(), |i| message_start + i);
    let mut pos = line_end + 1;
    while let Some(rest) = raw.get(pos..).filter(|rest| !rest.is_empty()) {
        if rest.first() != Some(&b' ') {
            return None;
        }
        pos += memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
    }
    Some(line_end)
}

/// [`scan`] for any bytes: the fields one by one, in the order that decides which fault a
/// record with several is reported for.
pub(super) fn scan_any(raw: &[u8]) -> Result<Layout, ScanError> {
    // The prefix ends at the first `;`, unless a `\n` comes first (then there is no `;`).
    let stop = memchr2(b';', b'\n', raw);
    let semicolon = stop.filter(|&i| raw.get(i) == Some(&b';'));
    let prefix_end = stop.unwrap_or(raw.len());
    let prefix = raw.get(..prefix_end).unwrap_or_default();

    let mut fields = Fields {
        prefix,
        next: Some(0),
    };
    let priority_field = fields.next();
    let seq_field = fields.next();
    let ts_field = fields.next();
    let flag_field = fields.next();
    // Read early so that even a record rejected for another reason counts as seen.
    let seq = seq_field.and_then(decimal_u64);
    let fail = |kind| Err((kind, seq));

    let Some(semicolon) = semicolon else {
        return fail(KmsgErrorKind::MissingSemicolon);
    };
    // A prefix always has a first field, so the priority is never missing, only malformed.
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
    let Some(flag) = flag_field else {
        return fail(KmsgErrorKind::MissingField(KmsgField::Flags));
    };

    let Some(line_end) = dictionary_checked(raw, semicolon + 1) else {
        return fail(KmsgErrorKind::UnexpectedLine);
    };
    Ok(Layout {
        priority: u64::from(priority),
        seq,
        timestamp_us,
        extras: fields.next.unwrap_or(0),
        semicolon,
        line_end,
        flag: KmsgFlag::known(flag),
    })
}

fn checked_field(field: Option<&[u8]>, which: KmsgField) -> Result<u64, KmsgErrorKind> {
    let field = field.ok_or(KmsgErrorKind::MissingField(which))?;
    decimal_u64(field).ok_or(KmsgErrorKind::BadNumber(which))
}

/// The `,`-separated fields of a prefix; like `split`, an empty prefix has one empty field.
/// Unlike `split`, it tells where the field after the last one taken starts (the extra fields).
struct Fields<'a> {
    prefix: &'a [u8],
    /// Where the next field starts, `None` after the last one.
    next: Option<usize>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.next?;
        let rest = self.prefix.get(start..).unwrap_or_default();
        match rest.iter().position(|&b| b == b',') {
            Some(comma) => {
                self.next = Some(start + comma + 1);
                rest.get(..comma)
            }
            None => {
                self.next = None;
                Some(rest)
            }
        }
    }
}

/// The `FLAG` field, as written (the fourth field of the prefix, which [`scan`] has checked).
pub(super) fn flag_field<'a>(raw: &'a [u8], layout: &Layout) -> &'a [u8] {
    let mut fields = Fields {
        prefix: raw.get(..layout.semicolon).unwrap_or_default(),
        next: Some(0),
    };
    fields.nth(3).unwrap_or_default()
}

/// The extra prefix fields, as written, without copying or allocating.
pub(super) fn extra_fields<'a>(raw: &'a [u8], layout: &Layout) -> impl Iterator<Item = &'a [u8]> {
    let extras = Some(layout.extras)
        .filter(|&start| start > 0)
        .and_then(|start| raw.get(start..layout.semicolon));
    extras
        .into_iter()
        .flat_map(|extras| extras.split(|&b| b == b','))
}

/// The message, unescaped.
pub(super) fn message(raw: &Bytes, layout: &Layout) -> Bytes {
    unescape(raw, layout.semicolon + 1, layout.line_end)
}

/// The dictionary lines, unescaped. [`scan`] has checked that each starts with a space.
pub(super) fn dictionary(raw: &Bytes, layout: &Layout) -> Dictionary {
    let mut dictionary = Dictionary::default();
    let mut pos = layout.line_end + 1;
    while pos < raw.len() {
        let rest = raw.get(pos..).unwrap_or_default();
        let end = memchr(b'\n', rest).map_or(raw.len(), |i| pos + i);
        let key_start = pos + 1;
        let line = raw.get(key_start..end).unwrap_or_default();
        // The kernel never writes a line without `=`; keep one as a key with an empty value.
        let (key_end, value_start) = match memchr(b'=', line) {
            Some(eq) => (key_start + eq, key_start + eq + 1),
            None => (end, end),
        };
        dictionary.push(
            unescape(raw, key_start, key_end),
            unescape(raw, value_start, end),
        );
        pos = end + 1;
    }
    dictionary
}
