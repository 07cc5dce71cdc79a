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
    /// A message of a calm level that says `segfault at` (dmesg's own highlight).
    Segfault,
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
            Paint::Segfault => "\x1b[2;31m",
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
        self.write_with(out, paint, bytes, false)
    }

    /// [`write`](Painter::write), or the bytes unescaped with `noescape`.
    fn write_with(
        &self,
        out: &mut (impl Write + ?Sized),
        paint: Paint,
        bytes: &[u8],
        noescape: bool,
    ) -> io::Result<()> {
        let sgr = paint.sgr().filter(|_| self.color && !bytes.is_empty());
        if let Some(sgr) = sgr {
            out.write_all(sgr.as_bytes())?;
        }
        if noescape {
            out.write_all(bytes)?;
        } else {
            write_escaped(out, bytes)?;
        }
        if sgr.is_some() {
            out.write_all(RESET.as_bytes())?;
        }
        Ok(())
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

/// Where dmesg ends a message's subsystem prefix: after the first `:` followed by a blank and
/// something more (`usb 1-1: new device` -> `usb 1-1: `, blank included, as dmesg colours it).
fn subsystem_end(message: &[u8]) -> Option<usize> {
    message
        .windows(3)
        .position(|w| w[0] == b':' && (w[1] == b' ' || w[1] == b'\t'))
        .map(|i| i + 2)
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

/// Writes a record as dmesg does: `[time] [caller] fac   :level : subsystem: message`, every
/// control character escaped (a newline too: one record, one line).
pub(crate) fn write_line(
    out: &mut (impl Write + ?Sized),
    painter: Painter,
    line: &Line<'_>,
) -> io::Result<()> {
    write_record_line(out, painter, line, &LineOptions::default())
}

/// How `fdframe kmsg` lays out a record's message (`dmesg`'s choices).
#[derive(Clone, Debug, Default)]
pub(crate) struct LineOptions {
    pub(crate) multiline: Multiline,
    /// `--noescape`: the message's bytes as they are, control characters included.
    pub(crate) noescape: bool,
}

/// What a newline inside a message becomes.
#[derive(Clone, Debug, Default)]
pub(crate) enum Multiline {
    /// `\x0a`, like every other control character.
    #[default]
    Escape,
    /// A new line indented to where the message starts (dmesg's default).
    Indent,
    /// Each line of the message gets the whole prefix (`dmesg -p`); later lines get this time
    /// instead of the record's when given (reltime's `[  +0.000000]`).
    ForcePrefix(Option<String>),
}

/// Writes a record's line(s) as `dmesg` does, with `options`.
pub(crate) fn write_record_line(
    out: &mut (impl Write + ?Sized),
    painter: Painter,
    line: &Line<'_>,
    options: &LineOptions,
) -> io::Result<()> {
    let prefix = |out: &mut dyn Write, time: &str| -> io::Result<usize> {
        let mut width = 0;
        if let Some((facility, level)) = line.decode {
            let text = format!("{:<6}:{:<6}: ", facility.to_string(), level.as_str());
            width += text.chars().count();
            out.write_all(text.as_bytes())?;
        }
        if !time.is_empty() {
            let paint = match line.emphasis {
                Emphasis::Normal => Paint::Time,
                Emphasis::Break => Paint::TimeBreak,
            };
            // dmesg colours the blank after the time too.
            painter.write(out, paint, format!("{time} ").as_bytes())?;
            width += time.chars().count() + 1;
        }
        if let Some(caller) = line.caller {
            let text = format!("[{:>6}] ", caller.to_string());
            width += text.chars().count();
            out.write_all(text.as_bytes())?;
        }
        Ok(width)
    };
    let mut out = out;
    let out: &mut dyn Write = &mut out;
    match &options.multiline {
        Multiline::ForcePrefix(later) => {
            // dmesg splits with strtok: empty lines are dropped.
            let mut parts = line
                .message
                .split(|&b| b == b'\n')
                .filter(|p| !p.is_empty());
            let Some(first) = parts.next() else {
                prefix(out, line.time)?;
                return out.write_all(b"\n");
            };
            prefix(out, line.time)?;
            write_message(out, painter, line.level, first, None, options.noescape)?;
            out.write_all(b"\n")?;
            for part in parts {
                prefix(out, later.as_deref().unwrap_or(line.time))?;
                write_message(out, painter, line.level, part, None, options.noescape)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Multiline::Indent => {
            let width = prefix(out, line.time)?;
            write_message(
                out,
                painter,
                line.level,
                line.message,
                Some(width),
                options.noescape,
            )?;
            out.write_all(b"\n")
        }
        Multiline::Escape => {
            prefix(out, line.time)?;
            write_message(
                out,
                painter,
                line.level,
                line.message,
                None,
                options.noescape,
            )?;
            out.write_all(b"\n")
        }
    }
}

/// Writes a message, its subsystem prefix and the rest coloured as dmesg colours them; with
/// `indent`, a newline followed by more text becomes a newline and `indent` blanks.
fn write_message(
    out: &mut dyn Write,
    painter: Painter,
    level: Level,
    message: &[u8],
    indent: Option<usize>,
    noescape: bool,
) -> io::Result<()> {
    let (subsystem, rest) = match subsystem_end(message) {
        Some(end) => message.split_at(end),
        None => (&b""[..], message),
    };
    let mut paint = Paint::Level(level);
    if paint.sgr().is_none() && rest.windows(11).any(|w| w == b"segfault at") {
        paint = Paint::Segfault;
    }
    for (part, paint) in [(subsystem, Paint::Subsystem), (rest, paint)] {
        let Some(width) = indent else {
            painter.write_with(out, paint, part, noescape)?;
            continue;
        };
        let mut pieces = part.split(|&b| b == b'\n').peekable();
        let mut start = true;
        while let Some(piece) = pieces.next() {
            if !start {
                out.write_all(b"\n")?;
                if !piece.is_empty() || pieces.peek().is_some() {
                    write!(out, "{:width$}", "")?;
                }
            }
            start = false;
            painter.write_with(out, paint, piece, noescape)?;
        }
    }
    Ok(())
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
            "\x1b[32m[    1.000000] \x1b[0m\x1b[33musb 1-1: \x1b[0m\x1b[31mgone\x1b[0m\n"
        );
        assert_eq!(
            line(b"calm", Level::Info, true, false),
            "\x1b[32m[    1.000000] \x1b[0mcalm\n"
        );
        assert_eq!(
            line(b"x", Level::Alert, true, false),
            "\x1b[32m[    1.000000] \x1b[0m\x1b[7;31mx\x1b[0m\n"
        );
    }

    fn laid_out(message: &[u8], multiline: Multiline, noescape: bool) -> String {
        let mut out = Vec::new();
        let line = Line {
            time: "[    1.000000]",
            emphasis: Emphasis::Normal,
            decode: Some((Facility::USER, Level::Info)),
            caller: None,
            level: Level::Info,
            message,
        };
        let options = LineOptions {
            multiline,
            noescape,
        };
        write_record_line(&mut out, Painter { color: false }, &line, &options).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_message_of_several_lines_is_laid_out_as_dmesg_lays_it_out() {
        let prefix = "user  :info  : [    1.000000] ";
        let indent = " ".repeat(prefix.len());
        // Continuation lines indented to the message; a trailing newline ends the line bare.
        assert_eq!(
            laid_out(b"one\ntwo\x01\n", Multiline::Indent, false),
            format!("{prefix}one\n{indent}two\\x01\n\n")
        );
        // -p: the prefix on every line, empty lines dropped (dmesg's strtok).
        assert_eq!(
            laid_out(b"one\n\ntwo", Multiline::ForcePrefix(None), false),
            format!("{prefix}one\n{prefix}two\n")
        );
        let later = Some("[  +0.000000]".to_owned());
        assert_eq!(
            laid_out(b"one\ntwo", Multiline::ForcePrefix(later), false),
            format!("{prefix}one\nuser  :info  : [  +0.000000] two\n")
        );
        // fdframe read keeps one record on one line.
        assert_eq!(
            laid_out(b"one\ntwo", Multiline::Escape, false),
            format!("{prefix}one\\x0atwo\n")
        );
        // --noescape: the bytes as they are.
        assert_eq!(
            laid_out(b"esc\x1b[2J", Multiline::Indent, true),
            format!("{prefix}esc\x1b[2J\n")
        );
    }

    #[test]
    fn segfaults_of_calm_levels_are_highlighted_as_dmesg_does() {
        assert_eq!(
            line(b"app[1]: segfault at 0 ip", Level::Info, true, false),
            "\x1b[32m[    1.000000] \x1b[0m\x1b[33mapp[1]: \x1b[0m\x1b[2;31msegfault at 0 ip\x1b[0m\n"
        );
    }

    #[test]
    fn a_subsystem_needs_a_blank_after_its_colon() {
        assert_eq!(subsystem_end(b"usb 1-1: x"), Some(9));
        assert_eq!(subsystem_end(b"ends with: "), None);
        assert_eq!(subsystem_end(b"time 12:30 x"), None);
        assert_eq!(subsystem_end(b"ends with:"), None);
    }
}
