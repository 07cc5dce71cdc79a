//! Human output: dmesg-style lines, dmesg's colours, and escaping that keeps control bytes away
//! from the terminal.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use fdframe::Loss;
use fdframe::kmsg::{Caller, Facility, Level};

use crate::time::Emphasis;

/// `--color`: when to colour human output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// When stdout is a terminal, `TERM` is not `dumb` and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    pub(crate) fn enabled(self) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_some_and(|t| t != "dumb")
            }
        }
    }
}

/// What a stretch of text is, for colouring; the colours are dmesg's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Paint {
    Time,
    TimeBreak,
    Subsystem,
    Level(Level),
    Loss,
}

impl Paint {
    /// The SGR sequence, or `None` for text dmesg leaves plain.
    fn sgr(self) -> Option<&'static str> {
        Some(match self {
            Paint::Time => "\x1b[32m",
            Paint::TimeBreak => "\x1b[1;32m",
            Paint::Subsystem => "\x1b[33m",
            Paint::Level(Level::Emerg | Level::Alert) => "\x1b[7;31m",
            Paint::Level(Level::Crit) | Paint::Loss => "\x1b[1;31m",
            Paint::Level(Level::Err) => "\x1b[31m",
            Paint::Level(Level::Warn) => "\x1b[1m",
            Paint::Level(_) => return None,
        })
    }
}

const RESET: &str = "\x1b[0m";

/// Writes text, coloured or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Painter {
    pub(crate) color: bool,
}

impl Painter {
    /// Writes `bytes` escaped (see [`write_escaped`]) in `paint`'s colour.
    pub(crate) fn write(
        &self,
        out: &mut (impl Write + ?Sized),
        paint: Paint,
        bytes: &[u8],
    ) -> io::Result<()> {
        match paint.sgr().filter(|_| self.color && !bytes.is_empty()) {
            Some(sgr) => {
                out.write_all(sgr.as_bytes())?;
                write_escaped(out, bytes)?;
                out.write_all(RESET.as_bytes())
            }
            None => write_escaped(out, bytes),
        }
    }
}

/// Writes `bytes` for a terminal: valid UTF-8 as it is, but every control character (C0 but
/// tab, DEL, C1) and every byte of invalid UTF-8 as `\xNN`, as the kernel escapes them. A
/// message cannot move the cursor, change colours or start a new line.
pub(crate) fn write_escaped(out: &mut (impl Write + ?Sized), bytes: &[u8]) -> io::Result<()> {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0;
        for (i, c) in valid.char_indices() {
            if c == '\t' || !c.is_control() {
                continue;
            }
            out.write_all(&valid.as_bytes()[start..i])?;
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                write!(out, "\\x{byte:02x}")?;
            }
            start = i + c.len_utf8();
        }
        out.write_all(&valid.as_bytes()[start..])?;
        for byte in chunk.invalid() {
            write!(out, "\\x{byte:02x}")?;
        }
    }
    Ok(())
}

/// Where dmesg ends a message's subsystem prefix: the first `:` followed by a blank
/// (`usb 1-1: new device` -> `usb 1-1:`).
fn subsystem_end(message: &[u8]) -> Option<usize> {
    message
        .windows(2)
        .position(|w| w[0] == b':' && (w[1] == b' ' || w[1] == b'\t'))
        .map(|i| i + 1)
}

/// What one human line of a record shows.
pub(crate) struct Line<'a> {
    pub(crate) time: &'a str,
    pub(crate) emphasis: Emphasis,
    pub(crate) decode: Option<(Facility, Level)>,
    pub(crate) caller: Option<Caller>,
    pub(crate) level: Level,
    pub(crate) message: &'a [u8],
}

/// Writes a record as dmesg does: `[time] [caller] fac   :level : subsystem: message`.
pub(crate) fn write_line(
    out: &mut (impl Write + ?Sized),
    painter: Painter,
    line: &Line<'_>,
) -> io::Result<()> {
    if let Some((facility, level)) = line.decode {
        write!(out, "{:<6}:{:<6}: ", facility.to_string(), level.as_str())?;
    }
    if !line.time.is_empty() {
        let paint = match line.emphasis {
            Emphasis::Normal => Paint::Time,
            Emphasis::Break => Paint::TimeBreak,
        };
        painter.write(out, paint, line.time.as_bytes())?;
        out.write_all(b" ")?;
    }
    if let Some(caller) = line.caller {
        write!(out, "[{:>6}] ", caller.to_string())?;
    }
    let (subsystem, rest) = match subsystem_end(line.message) {
        Some(end) => line.message.split_at(end),
        None => (&b""[..], line.message),
    };
    painter.write(out, Paint::Subsystem, subsystem)?;
    painter.write(out, Paint::Level(line.level), rest)?;
    out.write_all(b"\n")
}

/// Writes one dictionary entry under its record: `    KEY=VALUE`.
pub(crate) fn write_dict_entry(
    out: &mut (impl Write + ?Sized),
    key: &[u8],
    value: &[u8],
) -> io::Result<()> {
    out.write_all(b"    ")?;
    write_escaped(out, key)?;
    out.write_all(b"=")?;
    write_escaped(out, value)?;
    out.write_all(b"\n")
}

/// Writes a loss notice as its own line, in stream order.
pub(crate) fn write_loss(
    out: &mut (impl Write + ?Sized),
    painter: Painter,
    loss: &Loss,
) -> io::Result<()> {
    painter.write(out, Paint::Loss, format!("fdframe: {loss}").as_bytes())?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_escaped(&mut out, bytes).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn control_bytes_and_invalid_utf8_are_escaped_text_is_kept() {
        assert_eq!(escaped(b"plain text"), "plain text");
        assert_eq!(escaped("café ✓".as_bytes()), "café ✓");
        assert_eq!(escaped(b"tab\tstays"), "tab\tstays");
        assert_eq!(escaped(b"new\nline\r"), "new\\x0aline\\x0d");
        assert_eq!(escaped(b"\x1b[31mred"), "\\x1b[31mred");
        assert_eq!(escaped(b"nul\0del\x7f"), "nul\\x00del\\x7f");
        assert_eq!(escaped(b"bad \xff\xc3 utf8"), "bad \\xff\\xc3 utf8");
        // C1 controls (U+0080..U+009F) are valid UTF-8 that terminals obey: CSI is U+009B.
        assert_eq!(escaped("c1 \u{9b}2J".as_bytes()), "c1 \\xc2\\x9b2J");
        assert_eq!(escaped(b"back\\slash"), "back\\slash");
    }

    fn line(message: &[u8], level: Level, color: bool, decode: bool) -> String {
        let mut out = Vec::new();
        let line = Line {
            time: "[    1.000000]",
            emphasis: Emphasis::Normal,
            decode: decode.then_some((Facility::USER, level)),
            caller: None,
            level,
            message,
        };
        write_line(&mut out, Painter { color }, &line).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_look_like_dmesg() {
        assert_eq!(
            line(b"usb 1-1: new device", Level::Info, false, false),
            "[    1.000000] usb 1-1: new device\n"
        );
        assert_eq!(
            line(b"hello", Level::Info, false, true),
            "user  :info  : [    1.000000] hello\n"
        );
    }

    #[test]
    fn colours_are_dmesgs() {
        assert_eq!(
            line(b"usb 1-1: gone", Level::Err, true, false),
            "\x1b[32m[    1.000000]\x1b[0m \x1b[33musb 1-1:\x1b[0m\x1b[31m gone\x1b[0m\n"
        );
        assert_eq!(
            line(b"calm", Level::Info, true, false),
            "\x1b[32m[    1.000000]\x1b[0m calm\n"
        );
        assert_eq!(
            line(b"x", Level::Alert, true, false),
            "\x1b[32m[    1.000000]\x1b[0m \x1b[7;31mx\x1b[0m\n"
        );
    }

    #[test]
    fn a_subsystem_needs_a_blank_after_its_colon() {
        assert_eq!(subsystem_end(b"usb 1-1: x"), Some(8));
        assert_eq!(subsystem_end(b"time 12:30 x"), None);
        assert_eq!(subsystem_end(b"ends with:"), None);
    }
}
