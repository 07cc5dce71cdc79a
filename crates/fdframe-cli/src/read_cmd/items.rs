//! How each codec's items are written as raw bytes, hex, or JSON lines.

use std::io::{self, Write};

use bytes::Bytes;
use fdframe::devices::{InotifyEvent, InotifyMask};
use fdframe::kmsg::{KmsgRecord, ProcKmsgLine};

use crate::human::{self, Line, Painter};
use crate::json;
use crate::time::{Emphasis, raw};

/// One item of `fdframe read`, in each output form.
pub(crate) trait Render {
    /// `--output raw`.
    fn raw(&self, out: &mut dyn Write) -> io::Result<()>;
    /// The bytes `--output hex` shows.
    fn payload(&self) -> &[u8];
    /// `--output json`: one object, without the newline.
    fn json(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// A line of the `lines` codec: raw output puts its `\n` back.
pub(crate) struct LineItem(pub(crate) Bytes);
/// A line of the `utf8-lines` codec.
pub(crate) struct TextItem(pub(crate) String);
/// A frame of `len:`, `fixed:` or `chunks`: raw output is the payload exactly.
pub(crate) struct FrameItem(pub(crate) Bytes);

fn json_text(out: &mut dyn Write, kind: &str, bytes: &[u8]) -> io::Result<()> {
    write!(
        out,
        "{{\"type\":\"{kind}\",\"len\":{},\"text\":",
        bytes.len()
    )?;
    json::write_lossy(out, bytes)?;
    if std::str::from_utf8(bytes).is_err() {
        out.write_all(b",\"hex\":")?;
        json::write_hex(out, bytes)?;
    }
    out.write_all(b"}")
}

impl Render for LineItem {
    fn raw(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.0)?;
        out.write_all(b"\n")
    }
    fn payload(&self) -> &[u8] {
        &self.0
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        json_text(out, "line", &self.0)
    }
}

impl Render for TextItem {
    fn raw(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.0)
    }
    fn payload(&self) -> &[u8] {
        self.0.as_bytes()
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        json_text(out, "line", self.0.as_bytes())
    }
}

impl Render for FrameItem {
    fn raw(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.0)
    }
    fn payload(&self) -> &[u8] {
        &self.0
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "{{\"type\":\"frame\",\"len\":{},\"hex\":",
            self.0.len()
        )?;
        json::write_hex(out, &self.0)?;
        if let Ok(text) = std::str::from_utf8(&self.0) {
            out.write_all(b",\"text\":")?;
            json::write_str(out, text)?;
        }
        out.write_all(b"}")
    }
}

impl Render for KmsgRecord {
    fn raw(&self, out: &mut dyn Write) -> io::Result<()> {
        let time = raw(self.timestamp_us());
        let line = Line {
            time: &time,
            emphasis: Emphasis::Normal,
            decode: None,
            caller: self.caller(),
            level: self.level(),
            message: self.message(),
        };
        human::write_line(out, Painter { color: false }, &line)
    }
    fn payload(&self) -> &[u8] {
        self.raw()
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut line = Vec::new();
        json::write_record(&mut line, self, None)?;
        out.write_all(line.strip_suffix(b"\n").unwrap_or(&line))
    }
}

impl Render for ProcKmsgLine {
    fn raw(&self, out: &mut dyn Write) -> io::Result<()> {
        let time = self
            .timestamp
            .map_or(String::new(), |t| raw(t.as_micros() as u64));
        let line = Line {
            time: &time,
            emphasis: Emphasis::Normal,
            decode: None,
            caller: self.caller,
            level: self.level,
            message: &self.message,
        };
        human::write_line(out, Painter { color: false }, &line)
    }
    fn payload(&self) -> &[u8] {
        &self.message
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "{{\"type\":\"record\",\"facility\":\"{}\",\"facility_num\":{},\"level\":\"{}\",\
             \"level_num\":{},\"timestamp_us\":",
            self.facility,
            self.facility.number(),
            self.level,
            self.level.number()
        )?;
        match self.timestamp {
            Some(t) => write!(out, "{}", t.as_micros())?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"caller\":")?;
        match self.caller {
            Some(caller) => json::write_str(out, &caller.to_string())?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"message\":")?;
        json::write_lossy(out, &self.message)?;
        out.write_all(b"}")
    }
}

/// The `IN_*` names of the bits set in `mask`; unknown bits as one hex number.
fn mask_names(mask: InotifyMask) -> Vec<String> {
    let mut names: Vec<String> = mask.names().map(str::to_owned).collect();
    if mask.unknown_bits() != 0 {
        names.push(format!("{:#x}", mask.unknown_bits()));
    }
    names
}

impl Render for InotifyEvent {
    fn raw(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "wd={} mask={} cookie={}",
            self.wd,
            mask_names(self.mask).join("|"),
            self.cookie
        )?;
        if let Some(name) = &self.name {
            out.write_all(b" name=")?;
            human::write_escaped(out, name)?;
        }
        out.write_all(b"\n")
    }
    fn payload(&self) -> &[u8] {
        self.name.as_deref().unwrap_or_default()
    }
    fn json(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(out, "{{\"type\":\"inotify\",\"wd\":{},\"mask\":[", self.wd)?;
        for (i, name) in mask_names(self.mask).iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json::write_str(out, name)?;
        }
        write!(
            out,
            "],\"mask_bits\":{},\"cookie\":{},\"name\":",
            self.mask.bits(),
            self.cookie
        )?;
        match &self.name {
            Some(name) => json::write_lossy(out, name)?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b"}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(item: &dyn Render) -> String {
        let mut out = Vec::new();
        item.json(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn frames_keep_their_bytes_in_hex_and_text_when_it_is_text() {
        assert_eq!(
            json_of(&FrameItem(Bytes::from_static(b"hi"))),
            r#"{"type":"frame","len":2,"hex":"6869","text":"hi"}"#
        );
        assert_eq!(
            json_of(&FrameItem(Bytes::from_static(b"\xff"))),
            r#"{"type":"frame","len":1,"hex":"ff"}"#
        );
    }

    #[test]
    fn inotify_masks_are_named() {
        let event = InotifyEvent {
            wd: 1,
            mask: InotifyMask::CREATE | InotifyMask::ISDIR | InotifyMask::from_bits(0x0100_0000),
            cookie: 0,
            name: Some(Bytes::from_static(b"dir")),
        };
        let mut raw = Vec::new();
        event.raw(&mut raw).unwrap();
        assert_eq!(raw, b"wd=1 mask=CREATE|ISDIR|0x1000000 cookie=0 name=dir\n");
        assert_eq!(
            json_of(&event),
            r#"{"type":"inotify","wd":1,"mask":["CREATE","ISDIR","0x1000000"],"mask_bits":1090519296,"cookie":0,"name":"dir"}"#
        );
    }
}
