//! The kernel's `\xNN` escaping of message text and dictionary values, undone.
//!
//! The kernel writes every byte below `0x20`, every byte from `0x7f` up, and `\` itself as
//! `\x` and two lowercase hex digits (`msg_add_ext_text` in `kernel/printk/printk.c`), so a raw
//! record never holds a bare backslash. When one appears anyway, as in `\xZZ` or a `\x4` cut
//! short by a full kernel buffer, it is kept literally: the tolerant reading loses nothing and
//! cannot be confused with a real escape, which the kernel always writes whole.

use bytes::Bytes;
use memchr::memchr;

/// Returns `raw[start..end]` with every `\xNN` (either case of hex digit) replaced by its byte.
///
/// Without a backslash in the range this is a zero-copy slice of `raw`.
pub(super) fn unescape(raw: &Bytes, start: usize, end: usize) -> Bytes {
    let Some(text) = raw.get(start..end) else {
        return Bytes::new();
    };
    if memchr(b'\\', text).is_none() {
        return raw.slice(start..end);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..pos]);
        rest = &rest[pos..];
        if let [b'\\', b'x', hi, lo, after @ ..] = rest {
            if let (Some(hi), Some(lo)) = (hex(*hi), hex(*lo)) {
                out.push(hi << 4 | lo);
                rest = after;
                continue;
            }
        }
        // Not an escape the kernel writes: keep the backslash and go on after it.
        out.push(b'\\');
        rest = rest.get(1..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
pub(super) fn escape_like_the_kernel(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &c in text {
        if !(b' '..127).contains(&c) || c == b'\\' {
            out.extend_from_slice(format!("\\x{c:02x}").as_bytes());
        } else {
            out.push(c);
        }
    }
    out
}
