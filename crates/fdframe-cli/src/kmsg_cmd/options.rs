//! The options of `fdframe kmsg` resolved as dmesg resolves them: which time format wins,
//! what `-d`, `-H`, `-W`, `-k`, `-u` add up to, the refused write-side options, `-b`.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use regex::{Regex, RegexBuilder};

use super::KmsgArgs;
use super::dump::Format;
use super::since;
use crate::cursor::{self, Cursor};
use crate::failure::Failure;
use crate::filter::FacilityFilter;
use crate::render::warn;
use crate::time::TimeFormat;

/// dmesg's options that change the kernel's state rather than read its log: refused with a
/// message that says so (not clap's "unexpected argument ... did you mean").
#[derive(Debug, Args)]
pub(crate) struct Refused {
    #[arg(short = 'C', long, hide = true)]
    clear: bool,
    #[arg(short = 'c', long, hide = true)]
    read_clear: bool,
    #[arg(short = 'D', long, hide = true)]
    console_off: bool,
    #[arg(short = 'E', long, hide = true)]
    console_on: bool,
    #[arg(long, hide = true, value_name = "LEVEL")]
    console_level: Option<String>,
    #[arg(short = 'S', long, hide = true)]
    syslog: bool,
    /// dmesg's `-s SIZE` sizes a syslog(2) buffer; /dev/kmsg needs none, so it is taken and
    /// ignored, as dmesg itself ignores it when reading /dev/kmsg.
    #[arg(short = 's', long, hide = true, value_name = "SIZE")]
    buffer_size: Option<String>,
}

impl Refused {
    fn check(&self) -> Result<(), Failure> {
        let used = [
            (self.clear, "-C/--clear"),
            (self.read_clear, "-c/--read-clear"),
            (self.console_off, "-D/--console-off"),
            (self.console_on, "-E/--console-on"),
            (self.console_level.is_some(), "--console-level"),
        ];
        if let Some((_, name)) = used.iter().find(|(used, _)| *used) {
            return Err(usage(format_args!(
                "{name} is one of dmesg's options that change the kernel log or console; \
                 fdframe kmsg only reads the log: use dmesg {} for that",
                name.split('/').next().unwrap_or(name)
            )));
        }
        if self.syslog {
            return Err(usage(format_args!(
                "-S/--syslog: fdframe kmsg reads /dev/kmsg only (it has sequence numbers, so \
                 losses can be counted); `fdframe read --codec proc-kmsg` reads the syslog form"
            )));
        }
        Ok(())
    }
}

fn usage(text: std::fmt::Arguments<'_>) -> Failure {
    Failure::Message {
        text: text.to_string(),
        code: 2,
    }
}

/// The options, resolved.
pub(super) struct Options<'a> {
    pub(super) args: &'a KmsgArgs,
    pub(super) time: TimeFormat,
    /// `-d` with the raw or ctime format: the delta inside the time's brackets.
    pub(super) with_delta: bool,
    pub(super) follow: bool,
    pub(super) since_now: bool,
    pub(super) facility: Option<FacilityFilter>,
    pub(super) grep: Option<Regex>,
    /// `--since`/`--until` as Unix microseconds.
    pub(super) since: Option<i64>,
    pub(super) until: Option<i64>,
    pub(super) after_cursor: Option<Cursor>,
    pub(super) color: bool,
    pub(super) pager: bool,
    pub(super) file: Option<(PathBuf, Format)>,
}

impl<'a> Options<'a> {
    pub(super) fn resolve(
        args: &'a KmsgArgs,
        matches: Option<&ArgMatches>,
    ) -> Result<Options<'a>, Failure> {
        args.refused.check()?;
        check_boot(args.boot.as_deref())?;
        if std::env::args_os().any(|a| a == "--dmesg-json") {
            warn(format_args!(
                "--dmesg-json is deprecated: it is -J/--json now (JSON lines are --json-lines)"
            ))?;
        }
        let follow = args.follow || args.follow_new;
        let file = match (&args.file, &args.kmsg_file) {
            (Some(path), _) => Some((path.clone(), Format::Syslog)),
            (None, Some(path)) => Some((path.clone(), Format::Kmsg)),
            (None, None) => None,
        };
        if file.is_some() {
            let live = [
                (follow, "--follow"),
                (args.since_now, "--since-now"),
                (args.cursor.is_some(), "--cursor"),
                (args.after_cursor.is_some(), "--after-cursor"),
            ];
            if let Some((_, name)) = live.iter().find(|(used, _)| *used) {
                return Err(usage(format_args!(
                    "{name} is about the live ring buffer; -F and -K read a saved file"
                )));
            }
        }
        let (time, with_delta) = time_format(args, matches)?;
        let grep = args.grep.as_deref().map(grep_regex).transpose()?;
        let now = jiff::Zoned::now();
        let when = |text: &Option<String>, name: &str| {
            text.as_deref()
                .map(|t| since::parse(t, &now).map_err(|e| usage(format_args!("{name}: {e}"))))
                .transpose()
        };
        let after_cursor = args
            .after_cursor
            .as_deref()
            .map(|text| {
                Cursor::parse_printable(text)
                    .map_err(|e| usage(format_args!("--after-cursor {text:?}: {e}")))
            })
            .transpose()?;
        let json = args.json || args.json_lines;
        Ok(Options {
            args,
            time,
            with_delta,
            follow,
            since_now: args.since_now || args.follow_new,
            facility: FacilityFilter::combine(args.facility.clone(), args.kernel, args.userspace),
            grep,
            since: when(&args.since, "--since")?,
            until: when(&args.until, "--until")?,
            after_cursor,
            color: !json && !args.raw && args.color.enabled(),
            pager: args.human && !args.nopager && !follow && !json,
            file,
        })
    }
}

/// The time format as dmesg (util-linux 2.38) resolves it: the last of `-T`, `-t`, `-e`,
/// `-H` and `--time-format` wins; `-d` then turns raw into raw+delta, ctime into ctime+delta,
/// is ignored with iso (with a warning, as dmesg's), and makes anything else the delta alone.
fn time_format(
    args: &KmsgArgs,
    matches: Option<&ArgMatches>,
) -> Result<(TimeFormat, bool), Failure> {
    let given = |id: &str| {
        let m = matches?;
        (m.value_source(id) == Some(ValueSource::CommandLine))
            .then(|| m.indices_of(id).and_then(Iterator::max))
            .flatten()
    };
    let candidates = [
        ("ctime", args.ctime.then_some(TimeFormat::Ctime)),
        ("notime", args.notime.then_some(TimeFormat::Notime)),
        ("reltime", args.reltime.then_some(TimeFormat::Reltime)),
        ("human", args.human.then_some(TimeFormat::Reltime)),
        ("time_format", args.time_format),
    ];
    let format = candidates
        .iter()
        .filter_map(|(id, format)| Some((given(id).unwrap_or(0), (*format)?)))
        .max_by_key(|(index, _)| *index)
        .map_or(TimeFormat::Raw, |(_, format)| format);
    if !args.show_delta {
        return Ok((format, false));
    }
    Ok(match format {
        TimeFormat::Raw => (TimeFormat::Raw, true),
        TimeFormat::Ctime => (TimeFormat::Ctime, true),
        TimeFormat::Iso => {
            warn(format_args!(
                "--show-delta is ignored when used together with iso8601 time format"
            ))?;
            (TimeFormat::Iso, false)
        }
        _ => (TimeFormat::Delta, false),
    })
}

/// `-g`: journalctl's smart case (no capital letter: case-insensitive).
fn grep_regex(pattern: &str) -> Result<Regex, Failure> {
    RegexBuilder::new(pattern)
        .case_insensitive(!pattern.chars().any(char::is_uppercase))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| usage(format_args!("-g/--grep {pattern:?}: {e}")))
}

/// `-b [ID]`: this boot (0, or its id with or without dashes) is all /dev/kmsg has.
fn check_boot(boot: Option<&str>) -> Result<(), Failure> {
    let Some(boot) = boot else { return Ok(()) };
    if boot == "0" || boot == "this" {
        return Ok(());
    }
    let this = cursor::current_boot_id()
        .map_err(|e| Failure::new(format_args!("cannot read this boot's id: {e}")))?;
    let bare = |id: &str| id.replace('-', "").to_ascii_lowercase();
    if bare(boot) == bare(&this) {
        return Ok(());
    }
    Err(Failure::new(format_args!(
        "-b {boot}: /dev/kmsg holds only this boot's kernel log ({this}); earlier boots' logs \
         exist only where something saved them: `journalctl -k -b -1` (a persistent journal), \
         /var/log/kern.log (a syslog daemon), /sys/fs/pstore (after a crash), or a \
         `fdframe kmsg -w --json-lines` pipeline run during that boot"
    )))
}
