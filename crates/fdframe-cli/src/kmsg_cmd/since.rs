//! `--since` and `--until`: the time syntax of `dmesg` and `journalctl` (util-linux's and
//! systemd's `parse_timestamp`), read with jiff in the local time zone.
//!
//! | form                                   | means                                          |
//! |----------------------------------------|------------------------------------------------|
//! | `2026-12-01 11:29:21`, `...T11:29:21`  | that local time (`:SS` may be left out)        |
//! | `2026-12-01 11:29:21.167737`           | sub-second, to the microsecond (fdframe's own) |
//! | `2026-12-01`                           | that day's midnight                            |
//! | `11:29`, `11:29:21`                    | that time today                                |
//! | `20261201112921`                       | `YYYYMMDDHHMMSS`                               |
//! | `now`, `today`, `yesterday`, `tomorrow`| now; the midnights of today, yesterday, ...    |
//! | `-5min`, `+1h 30min`, `5min ago`       | relative to now (`s`, `min`, `h`, `d`, `w`, `ms`, `us`, ...) |
//! | `@1796124561.5`                        | a Unix time (fdframe's own)                    |
//!
//! A time may end in a time zone (`UTC`, `Europe/Paris`, `+01:00`) instead of the local one.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// Parses a `--since`/`--until` value into a Unix time in microseconds, relative to `now`.
pub(crate) fn parse(text: &str, now: &Zoned) -> Result<i64, String> {
    let invalid = || {
        format!(
            "invalid time {text:?}: use e.g. `2026-12-01 11:29:21`, `11:29`, `yesterday`, \
             `-5min`, `1h ago` or `@1796124561`"
        )
    };
    let trimmed = text.trim();
    let micros = |z: &Zoned| z.timestamp().as_microsecond();
    let midnight = |days: i64| -> Result<i64, String> {
        let date = now
            .date()
            .checked_add(Span::new().days(days))
            .map_err(|_| invalid())?;
        let zoned = date
            .to_zoned(now.time_zone().clone())
            .map_err(|_| invalid())?;
        Ok(micros(&zoned))
    };
    match trimmed {
        "now" => return Ok(micros(now)),
        "today" => return midnight(0),
        "yesterday" => return midnight(-1),
        "tomorrow" => return midnight(1),
        _ => {}
    }
    if let Some(epoch) = trimmed.strip_prefix('@') {
        return unix_seconds(epoch).ok_or_else(invalid);
    }
    if let Some(rest) = trimmed.strip_suffix(" ago") {
        return relative(now, rest, -1).ok_or_else(invalid);
    }
    if let Some(rest) = trimmed.strip_prefix('-') {
        return relative(now, rest, -1).ok_or_else(invalid);
    }
    if let Some(rest) = trimmed.strip_prefix('+') {
        return relative(now, rest, 1).ok_or_else(invalid);
    }
    absolute(trimmed, now).ok_or_else(invalid)
}

/// `1796124561` or `1796124561.5`: seconds since the epoch, up to six decimals.
fn unix_seconds(text: &str) -> Option<i64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 6 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(6 - frac.len() as u32)
    };
    let us = whole.checked_mul(1_000_000)?.checked_add(frac)?;
    Timestamp::from_microsecond(us)
        .ok()
        .map(|t| t.as_microsecond())
}

/// `now` moved by a span such as `5min`, `1h 30min`, `2 days`, `1.5s` (`sign` -1 or 1).
fn relative(now: &Zoned, text: &str, sign: i64) -> Option<i64> {
    let span: Span = text.trim().parse().ok()?;
    let span = if sign < 0 { span.negate() } else { span };
    Some(now.checked_add(span).ok()?.timestamp().as_microsecond())
}

/// A local date and/or time, with an optional time zone after it.
fn absolute(text: &str, now: &Zoned) -> Option<i64> {
    let (civil, tz) = split_zone(text);
    let tz = tz.unwrap_or_else(|| now.time_zone().clone());
    let datetime = civil_datetime(civil, now)?;
    Some(datetime.to_zoned(tz).ok()?.timestamp().as_microsecond())
}

/// Splits a trailing ` ZONE` off (`UTC`, `Europe/Paris`, `+01:00`), if it names one.
fn split_zone(text: &str) -> (&str, Option<TimeZone>) {
    if let Some((civil, zone)) = text.rsplit_once(' ') {
        if let Some(tz) = zone_named(zone) {
            return (civil, Some(tz));
        }
    }
    (text, None)
}

fn zone_named(zone: &str) -> Option<TimeZone> {
    if zone == "UTC" || zone == "Z" {
        return Some(TimeZone::UTC);
    }
    if let Some(sign) = zone.chars().next().filter(|c| *c == '+' || *c == '-') {
        // `+HH:MM` or `+HHMM`.
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
        let seconds = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
        return jiff::tz::Offset::from_seconds(seconds)
            .ok()
            .map(TimeZone::fixed);
    }
    if zone.contains('/') {
        return TimeZone::get(zone).ok();
    }
    None
}

/// The date-time forms dmesg takes (and sub-second seconds); a time alone is today.
fn civil_datetime(text: &str, now: &Zoned) -> Option<DateTime> {
    if text.len() == 14 && text.bytes().all(|b| b.is_ascii_digit()) {
        // YYYYMMDDHHMMSS
        let n = |r: std::ops::Range<usize>| text[r].parse::<i16>().ok();
        let date = Date::new(n(0..4)?, n(4..6)? as i8, n(6..8)? as i8).ok()?;
        let time = Time::new(n(8..10)? as i8, n(10..12)? as i8, n(12..14)? as i8, 0).ok()?;
        return Some(date.to_datetime(time));
    }
    let (date, time) = match text.split_once([' ', 'T']) {
        Some((date, time)) => (Some(date), Some(time)),
        None if text.contains(':') => (None, Some(text)),
        None => (Some(text), None),
    };
    let date = match date {
        Some(date) => parse_date(date)?,
        None => now.date(),
    };
    let time = match time {
        Some(time) => parse_time(time)?,
        None => Time::midnight(),
    };
    Some(date.to_datetime(time))
}

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    Date::new(number(y)?, number(m)? as i8, number(d)? as i8).ok()
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.ffffff`.
fn parse_time(text: &str) -> Option<Time> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next().unwrap_or("0"));
    if parts.next().is_some() {
        return None;
    }
    let (s, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        frac.parse::<i32>().ok()? * 10i32.pow(9 - frac.len() as u32)
    };
    Time::new(number(h)? as i8, number(m)? as i8, number(s)? as i8, nanos).ok()
}

/// A small decimal field: digits only (no sign), at most four of them.
fn number(text: &str) -> Option<i16> {
    let ok = !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Zoned {
        "2026-12-01T11:29:21.5+01:00[Europe/Paris]".parse().unwrap()
    }

    fn at(text: &str) -> i64 {
        let zoned: Zoned = text.parse().unwrap();
        zoned.timestamp().as_microsecond()
    }

    #[test]
    fn absolute_times_are_local_unless_a_zone_is_given() {
        let now = now();
        let paris = |s: &str| at(&format!("{s}+01:00[Europe/Paris]"));
        assert_eq!(
            parse("2026-11-30 08:00:05", &now),
            Ok(paris("2026-11-30T08:00:05"))
        );
        assert_eq!(
            parse("2026-11-30T08:00:05", &now),
            Ok(paris("2026-11-30T08:00:05"))
        );
        assert_eq!(
            parse("2026-11-30 08:00", &now),
            Ok(paris("2026-11-30T08:00:00"))
        );
        assert_eq!(parse("2026-11-30", &now), Ok(paris("2026-11-30T00:00:00")));
        assert_eq!(
            parse("20261130080005", &now),
            Ok(paris("2026-11-30T08:00:05"))
        );
        assert_eq!(parse("08:00", &now), Ok(paris("2026-12-01T08:00:00")));
        assert_eq!(
            parse("2026-11-30 08:00:05.167737", &now),
            Ok(paris("2026-11-30T08:00:05.167737"))
        );
        assert_eq!(
            parse("2026-11-30 08:00:05 UTC", &now),
            Ok(at("2026-11-30T08:00:05+00:00[UTC]"))
        );
        assert_eq!(
            parse("2026-11-30 08:00:05 +05:45", &now),
            Ok(at("2026-11-30T02:15:05+00:00[UTC]"))
        );
    }

    #[test]
    fn words_and_spans_are_relative_to_now() {
        let now = now();
        let paris = |s: &str| at(&format!("{s}+01:00[Europe/Paris]"));
        let now_us = now.timestamp().as_microsecond();
        assert_eq!(parse("now", &now), Ok(now_us));
        assert_eq!(parse("today", &now), Ok(paris("2026-12-01T00:00:00")));
        assert_eq!(parse("yesterday", &now), Ok(paris("2026-11-30T00:00:00")));
        assert_eq!(parse("tomorrow", &now), Ok(paris("2026-12-02T00:00:00")));
        assert_eq!(parse("-5min", &now), Ok(now_us - 300_000_000));
        assert_eq!(parse("5min ago", &now), Ok(now_us - 300_000_000));
        assert_eq!(parse("+1h 30min", &now), Ok(now_us + 5_400_000_000));
        assert_eq!(parse("-1.5s", &now), Ok(now_us - 1_500_000));
        assert_eq!(parse("-2 days", &now), Ok(now_us - 2 * 86_400_000_000));
        assert_eq!(parse("@1796124561.5", &now), Ok(1_796_124_561_500_000));
        assert_eq!(parse("@1796124561", &now), Ok(1_796_124_561_000_000));
    }

    #[test]
    fn nonsense_is_an_error_that_names_the_input() {
        let now = now();
        for bad in [
            "",
            "soon",
            "-",
            "5min later",
            "2026-13-01",
            "2026-12-01 25:00",
            "12:60",
            "@",
            "@-5",
            "@1.1234567",
            "2026-12-01 11:29:21.x",
            "1:2:3:4",
            "+",
            "26-12-01",
        ] {
            let err = parse(bad, &now).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad:?}: {err}");
        }
    }

    proptest::proptest! {
        /// `--since`/`--until` text never panics the parser (jiff's arithmetic at the ends of
        /// its range included): a time or a clear error.
        #[test]
        fn any_time_text_parses_or_is_an_error(text in "[-+@ 0-9a-zA-Z:./]{0,40}") {
            if let Err(why) = parse(&text, &now()) {
                // The one error there is, which quotes what was typed.
                proptest::prop_assert!(why.contains(&format!("invalid time {text:?}")), "{why}");
            }
        }

        #[test]
        fn any_relative_time_parses_or_is_an_error(sign in "[-+]?", n: u64, unit in "(us|ms|s|sec|min|h|hours?|d|days?|w|weeks?|months?|y|years?)?", ago in "( ago)?") {
            let text = format!("{sign}{n}{unit}{ago}");
            if let Err(why) = parse(&text, &now()) {
                proptest::prop_assert!(why.contains(&format!("{text:?}")), "{why}");
            }
        }
    }
}
