//! The dates a token response carries, read without a date library (the two
//! this replaces were a third of the WebAssembly): HTTP dates (`Date`,
//! `Retry-After`) exactly as `httpdate::parse_http_date` reads them, and
//! ISO 8601 instants exactly as `time` reads them with
//! `OffsetDateTime::parse(text, &Rfc3339)`, else
//! `PrimitiveDateTime::parse(text, &Iso8601::DEFAULT)` taken as UTC. The tests
//! hold both to those crates over generated inputs.
// Every quantity here is bounded by what the parsers accept (six-digit years,
// two-digit fields), far inside `i64`: no operation can overflow.
#![allow(clippy::arithmetic_side_effects)]

/// Unix ms of an HTTP date (IMF-fixdate, RFC 850 or asctime; the weekday must
/// match the date, years 1970–9999).
pub(crate) fn http_date_unix_ms(text: &str) -> Option<i64> {
    if !text.is_ascii() {
        return None;
    }
    let s = text.trim().as_bytes();
    let d = imf_fixdate(s)
        .or_else(|| rfc850(s))
        .or_else(|| asctime(s))?;
    let valid = d.sec < 60
        && d.min < 60
        && d.hour < 24
        && (1970..=9999).contains(&d.year)
        && (1..=12).contains(&d.mon)
        && (1..=days_in_month(d.year, d.mon)).contains(&d.day);
    let days = days_from_civil(d.year, d.mon, d.day);
    // 1970-01-01 was a Thursday (4, counting Monday as 1).
    if !valid || (days + 3).rem_euclid(7) + 1 != d.wday {
        return None;
    }
    Some((days * 86_400 + d.hour * 3_600 + d.min * 60 + d.sec) * 1_000)
}

struct HttpDate {
    year: i64,
    mon: i64,
    day: i64,
    hour: i64,
    min: i64,
    sec: i64,
    wday: i64,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `digits` ASCII digits at `s[at..]` as a number.
fn num(s: &[u8], at: usize, digits: usize) -> Option<i64> {
    s.get(at..at + digits)?.iter().try_fold(0, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// 1-based month of a three-letter name (case-sensitive, as `httpdate`).
fn month(name: &[u8]) -> Option<i64> {
    MONTHS
        .iter()
        .position(|m| &m[..] == name)
        .map(|i| i as i64 + 1)
}

/// 1-based weekday of a full (`Sunday`) or three-letter (`Sun`) name.
fn weekday(name: &[u8], full: bool) -> Option<i64> {
    DAYS.iter()
        .position(|d| {
            name == if full {
                d.as_bytes()
            } else {
                &d.as_bytes()[..3]
            }
        })
        .map(|i| i as i64 + 1)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_fixdate(s: &[u8]) -> Option<HttpDate> {
    if s.len() != 29 || &s[25..] != b" GMT" || s[16] != b' ' || s[19] != b':' || s[22] != b':' {
        return None;
    }
    if s[3..5] != *b", " || s[7] != b' ' || s[11] != b' ' {
        return None;
    }
    Some(HttpDate {
        sec: num(s, 23, 2)?,
        min: num(s, 20, 2)?,
        hour: num(s, 17, 2)?,
        day: num(s, 5, 2)?,
        mon: month(&s[8..11])?,
        year: num(s, 12, 4)?,
        wday: weekday(&s[..3], false)?,
    })
}

/// `Sunday, 06-Nov-94 08:49:37 GMT` (years 70–99 are 19xx, 00–69 are 20xx).
fn rfc850(s: &[u8]) -> Option<HttpDate> {
    let comma = s.iter().position(|&b| b == b',')?;
    let wday = weekday(&s[..comma], true)?;
    let s = s[comma..].strip_prefix(b", ")?;
    // (`httpdate` does not look at the byte between the year and the hour.)
    if s.len() != 22 || s[2] != b'-' || s[6] != b'-' || s[12] != b':' || s[15] != b':' {
        return None;
    }
    if &s[18..] != b" GMT" {
        return None;
    }
    let yy = num(s, 7, 2)?;
    Some(HttpDate {
        sec: num(s, 16, 2)?,
        min: num(s, 13, 2)?,
        hour: num(s, 10, 2)?,
        day: num(s, 0, 2)?,
        mon: month(&s[3..6])?,
        year: yy + if yy < 70 { 2000 } else { 1900 },
        wday,
    })
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime(s: &[u8]) -> Option<HttpDate> {
    if s.len() != 24 || s[10] != b' ' || s[13] != b':' || s[16] != b':' || s[19] != b' ' {
        return None;
    }
    if s[3] != b' ' || s[7] != b' ' {
        return None;
    }
    Some(HttpDate {
        sec: num(s, 17, 2)?,
        min: num(s, 14, 2)?,
        hour: num(s, 11, 2)?,
        day: if s[8] == b' ' {
            num(s, 9, 1)?
        } else {
            num(s, 8, 2)?
        },
        mon: month(&s[4..7])?,
        year: num(s, 20, 4)?,
        wday: weekday(&s[..3], false)?,
    })
}

/// Unix ms of an ISO 8601 instant: RFC 3339 with its offset, else an ISO 8601
/// date and time (basic or extended, calendar, ordinal or week date, reduced or
/// fractional time) read as UTC, any offset after it ignored (as `time` does).
pub(crate) fn iso8601_unix_ms(text: &str) -> Option<i64> {
    let s = text.as_bytes();
    let (secs, nanos) = rfc3339(s).or_else(|| iso8601(s))?;
    // `time`'s Unix nanoseconds divided by 10^6, rounding toward zero (without
    // 128-bit arithmetic, which would cost a 1 KB division routine).
    let round_up = if secs < 0 { 999_999 } else { 0 };
    Some(secs * 1_000 + (nanos + round_up) / 1_000_000)
}

/// The smallest and largest year `time` represents.
const YEARS: std::ops::RangeInclusive<i64> = -9999..=9999;

/// A cursor over the input.
#[derive(Clone, Copy)]
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.0.first() == Some(&b);
        if hit {
            self.0 = &self.0[1..];
        }
        hit
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let v = num(self.0, 0, n)?;
        self.0 = &self.0[n..];
        Some(v)
    }

    /// `time`'s ISO 8601 "float": two digits, then optionally `.` or `,` and at
    /// least one digit, the fraction summed digit by digit in `f64`.
    fn float(&mut self) -> Option<(i64, Option<f64>)> {
        let int = self.digits(2)?;
        if !matches!(self.0.first(), Some(b'.' | b',')) {
            return Some((int, None));
        }
        let mut rest = Cur(&self.0[1..]);
        let mut fraction = f64::from(rest.digits(1)? as u8) / 10.;
        let mut divisor = 10.;
        while let Some(d) = rest.digits(1) {
            divisor *= 10.;
            fraction += f64::from(d as u8) / divisor;
        }
        *self = rest;
        Some((int, Some(fraction)))
    }
}

/// `time`'s RFC 3339: `YYYY-MM-DD`, any one byte, `hh:mm:ss`, optional
/// fraction (nanoseconds, further digits ignored), `Z`/`z` or `±hh:mm`. A leap
/// second (`:60`) counts as 23:59:59.999999999 UTC on a month's last day only.
fn rfc3339(s: &[u8]) -> Option<(i64, i64)> {
    let mut c = Cur(s);
    let year = c.digits(4)?;
    let month = c.eat(b'-').then(|| c.digits(2))??;
    let day = c.eat(b'-').then(|| c.digits(2))??;
    c.byte()?;
    let hour = c.digits(2)?;
    let minute = c.eat(b':').then(|| c.digits(2))??;
    let mut second = c.eat(b':').then(|| c.digits(2))??;
    let mut nanos = 0;
    if c.eat(b'.') {
        let mut scale = 100_000_000;
        nanos = c.digits(1)? * scale;
        while let Some(d) = c.digits(1) {
            scale /= 10;
            nanos += d * scale;
        }
    }
    let offset = match c.byte()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let h = c.digits(2).filter(|&h| h <= 23)?;
            let m = c.eat(b':').then(|| c.digits(2))?.filter(|&m| m <= 59)?;
            (h * 3_600 + m * 60) * if sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    let leap = second == 60;
    if leap {
        second = 59;
        nanos = 999_999_999;
    }
    if !c.0.is_empty()
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let utc =
        days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second - offset;
    if leap {
        let (y, m, d) = civil_from_days(utc.div_euclid(86_400));
        if utc.rem_euclid(86_400) != 86_399 || !YEARS.contains(&y) || d != days_in_month(y, m) {
            return None;
        }
    }
    Some((utc, nanos))
}

/// Whether an ISO 8601 value is in the extended format (with separators).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Basic,
    Extended,
}

/// `time`'s ISO 8601 (`Iso8601::DEFAULT`) for a date-time without a date-time
/// library: the date, `T`, the time, an optional offset it then ignores.
fn iso8601(s: &[u8]) -> Option<(i64, i64)> {
    let mut c = Cur(s);
    let (days, mut kind) = iso_date(&mut c)?;
    c.eat(b'T').then_some(())?;
    let (h, m, sec, nanos) = iso_time(&mut c, &mut kind)?;
    iso_offset(&mut c, kind);
    if !c.0.is_empty() || sec > 59 {
        return None;
    }
    Some((days * 86_400 + h * 3_600 + m * 60 + sec, nanos))
}

/// A calendar (`YYYY-MM-DD`), ordinal (`YYYY-DDD`) or week (`YYYY-Www-D`)
/// date, basic or extended, the year 4 digits or a sign and 6: days since 1970.
fn iso_date(c: &mut Cur<'_>) -> Option<(i64, Kind)> {
    let year = match c.0.first() {
        Some(&sign @ (b'+' | b'-')) => {
            c.byte();
            c.digits(6)? * if sign == b'-' { -1 } else { 1 }
        }
        _ => c.digits(4)?,
    };
    let kind = if c.eat(b'-') {
        Kind::Extended
    } else {
        Kind::Basic
    };
    let after_year = *c;

    // Month and day; a parse that gets this far decides.
    let mut d = after_year;
    let month = d.digits(2).filter(|m| (1..=12).contains(m));
    if let Some(month) = month.filter(|_| kind == Kind::Basic || d.eat(b'-')) {
        if let Some(day) = d.digits(2).filter(|&day| day != 0) {
            if !YEARS.contains(&year) || day > 31 || day > days_in_month(year, month) {
                return None;
            }
            *c = d;
            return Some((days_from_civil(year, month, day), kind));
        }
    }
    // Day of the year.
    let mut d = after_year;
    if let Some(ordinal) = d.digits(3).filter(|&o| o != 0) {
        if !YEARS.contains(&year) || ordinal > 365 + i64::from(is_leap(year)) {
            return None;
        }
        *c = d;
        return Some((days_from_civil(year, 1, 1) + ordinal - 1, kind));
    }
    // Week and weekday.
    let mut d = after_year;
    d.eat(b'W').then_some(())?;
    let week = d.digits(2).filter(|&w| w != 0)?;
    if kind == Kind::Extended {
        d.eat(b'-').then_some(())?;
    }
    let weekday = d.digits(1).filter(|w| (1..=7).contains(w))?;
    if !YEARS.contains(&year) || week > weeks_in_year(year) {
        return None;
    }
    // Monday of week 1 is the Monday on or before 4 January.
    let jan4 = days_from_civil(year, 1, 4);
    let days = jan4 - (jan4 + 3).rem_euclid(7) + (week - 1) * 7 + weekday - 1;
    if year == *YEARS.end() && days >= days_from_civil(year + 1, 1, 1) {
        return None;
    }
    *c = d;
    Some((days, kind))
}

/// `hh[:mm[:ss]]` (basic without the colons), any last part with a fraction:
/// (hour, minute, second, nanosecond).
fn iso_time(c: &mut Cur<'_>, kind: &mut Kind) -> Option<(i64, i64, i64, i64)> {
    let (hour, fraction) = c.float()?;
    if hour > 23 {
        return None;
    }
    // `time` truncates `fraction × unit % range` to an integer; for the
    // non-negative values here that is `trunc(fraction × unit) % range`, which
    // spares the 2 KB software `fmod` a float `%` compiles to.
    if let Some(f) = fraction {
        return Some((
            hour,
            (f * 60.) as i64,
            (f * 3_600.) as i64 % 60,
            (f * 3_600_000_000_000.) as i64 % 1_000_000_000,
        ));
    }
    if c.eat(b':') && *kind == Kind::Basic {
        return None;
    }
    let minute = match c.float() {
        Some((m, _)) if m > 59 => return None,
        Some((m, Some(f))) => {
            return Some((
                hour,
                m,
                (f * 60.) as i64,
                (f * 60_000_000_000.) as i64 % 1_000_000_000,
            ))
        }
        Some((m, None)) => m,
        None if *kind == Kind::Extended => return None,
        None => return Some((hour, 0, 0, 0)),
    };
    if *kind == Kind::Extended && !c.eat(b':') {
        return Some((hour, minute, 0, 0));
    }
    let (second, nanos) = match c.float() {
        Some((s, None)) => (s, 0),
        Some((s, Some(f))) => (s, (f * 1_000_000_000.).round() as u32 as i64),
        None if *kind == Kind::Extended => return None,
        None => (0, 0),
    };
    (second <= 60 && nanos <= 999_999_999).then_some((hour, minute, second, nanos))
}

/// `Z`, or `±hh[[:]mm]`: consumed if well-formed, and otherwise left for the
/// caller to find as trailing input. Its value is not used.
fn iso_offset(c: &mut Cur<'_>, kind: Kind) {
    let mut d = *c;
    let ok = match d.byte() {
        Some(b'Z') => true,
        Some(b'+' | b'-') => {
            d.digits(2).is_some_and(|h| h <= 25) && {
                if kind == Kind::Extended {
                    d.eat(b':');
                }
                let mut m = d;
                match m.digits(2) {
                    Some(min) if min > 59 => false,
                    Some(_) => {
                        d = m;
                        true
                    }
                    None => true,
                }
            }
        }
        _ => false,
    };
    if ok {
        *c = d;
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 => 28 + i64::from(is_leap(y)),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 52, or 53 when 1 January is a Thursday (or a Wednesday in a leap year).
fn weeks_in_year(y: i64) -> i64 {
    let jan1 = (days_from_civil(y, 1, 1) + 3).rem_euclid(7); // Monday = 0
    52 + i64::from(jan1 == 3 || (jan1 == 2 && is_leap(y)))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `httpdate` makes of `text`, as Unix ms: the crate this module is held to.
    fn httpdate_ms(text: &str) -> Option<i64> {
        let t = httpdate::parse_http_date(text).ok()?;
        Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
    }

    /// What `time` makes of `text`, as Unix ms: the crate this module is held to.
    fn time_ms(text: &str) -> Option<i64> {
        use time::format_description::well_known::{Iso8601, Rfc3339};
        let parsed = time::OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| {
                time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc())
            })
            .ok()?;
        Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// `text` with one byte removed, replaced or inserted, or as it is.
    fn mutate(rng: &mut Rng, text: &str) -> String {
        let mut b = text.as_bytes().to_vec();
        let at = rng.below(b.len() + 1);
        let byte = b"0123456789 :-+.,TZzW\t"[rng.below(21)];
        match rng.below(4) {
            0 if at < b.len() => {
                b.remove(at);
            }
            1 if at < b.len() => b[at] = byte,
            2 => b.insert(at, byte),
            _ => {}
        }
        String::from_utf8(b).unwrap_or_else(|_| text.to_owned())
    }

    #[test]
    fn http_dates_as_httpdate_reads_them() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut cases: Vec<String> = [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "  Thu, 01 Jan 2026 00:00:00 GMT\t",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Thursday, 01-Jan-70 00:00:00 GMT",
            "Wednesday, 31-Dec-69 23:59:59 GMT",
            "Sunday, 06-Nov-94X08:49:37 GMT",
            "Thu Jan  1 00:00:00 1970",
            "Thu Jan 01 00:00:00 1970",
            "Mon, 29 Feb 2016 00:00:00 GMT",
            "Tue, 29 Feb 2100 00:00:00 GMT",
            "Thu, 01 Jan 2026 24:00:00 GMT",
            "Thu, 01 Jan 2026 23:60:00 GMT",
            "Thu, 01 Jan 2026 23:59:60 GMT",
            "thu, 01 jan 2026 00:00:00 GMT",
            "Thu, 01 Jan 2026 00:00:00 UTC",
            "Thu, 01 Jän 2026 00:00:00 GMT",
            "",
            "1767225600",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let wdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        for _ in 0..20_000 {
            // Mostly real dates (right weekday), some impossible ones.
            let days = rng.below(60_000) as i64 - 1_000;
            let (y, m, d) = civil_from_days(days);
            let d = if rng.below(8) == 0 {
                rng.below(33) as i64
            } else {
                d
            };
            let wd = if rng.below(8) == 0 {
                rng.below(7)
            } else {
                (days + 3).rem_euclid(7) as usize
            };
            let (h, mi, s) = (rng.below(26), rng.below(62), rng.below(62));
            let (wd3, mon) = (wdays[wd], months[(m - 1) as usize]);
            let full = DAYS[wd];
            let text = match rng.below(3) {
                0 => format!("{wd3}, {d:02} {mon} {y:04} {h:02}:{mi:02}:{s:02} GMT"),
                1 => format!(
                    "{full}, {d:02}-{mon}-{:02} {h:02}:{mi:02}:{s:02} GMT",
                    y.rem_euclid(100)
                ),
                _ => format!("{wd3} {mon} {d:>2} {h:02}:{mi:02}:{s:02} {y:04}"),
            };
            cases.push(mutate(&mut rng, &text));
            cases.push(text);
        }
        for text in &cases {
            assert_eq!(http_date_unix_ms(text), httpdate_ms(text), "{text:?}");
        }
    }

    #[test]
    fn iso8601_instants_as_time_reads_them() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let mut cases: Vec<String> = [
            "2026-01-01T00:00:00Z",
            "2026-01-01t00:00:00z",
            "2026-01-01 00:00:00+01:00",
            "2026-01-01X00:00:00-00:30",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00.1234567891234Z",
            "1969-12-31T23:59:59.9999Z",
            "1969-12-31T23:59:59.0001Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2016-12-31T22:59:60-01:00",
            "2016-12-30T23:59:60Z",
            "2016-12-31T23:59:60+01:00",
            "2026-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+23:60",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00",
            "2026-01-01T00",
            "2026-01-01T10.5",
            "2026-01-01T10:30.25",
            "2026-01-01T10:30:15,5",
            "2026-01-01T10:30:15.9999999999",
            "20260101T103015",
            "20260101T1030",
            "2026-01-01T1030",
            "20260101T10:30",
            "2026-001T00:00:00",
            "2026001T000000",
            "2024-366T00:00:00",
            "2026-366T00:00:00",
            "2026-W01-1T00:00:00",
            "2026W011T00",
            "2026-W53-1T00:00:00",
            "2020-W53-7T00:00:00",
            "9999-W52-7T00:00:00",
            "+002026-01-01T00:00:00",
            "-000001-12-31T23:59:59",
            "+099999-01-01T00:00:00",
            "2026-01-01T10:00+05:00",
            "2026-01-01T10:00:00+05",
            "2026-01-01T10:00:00+0530",
            "20260101T1000+0530",
            "20260101T1000+05:30",
            "2026-01-01T10:00:00+26",
            "2026-01-01T10:00:00-05:60",
            "2026-01-01",
            "2026-01-01T",
            "T10:00",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let years = [
            "2026", "1970", "0000", "9999", "2024", "2100", "+002026", "-000400", "+099999", "20x6",
        ];
        let fractions = [
            "",
            "",
            "",
            ".5",
            ",25",
            ".000000001",
            ".9999999999",
            ".",
            ".123456789123",
        ];
        let offsets = [
            "", "", "Z", "z", "+05:30", "-05:30", "+0530", "+05", "-00:30", "+25", "+26", "-05:60",
            "+5",
        ];
        for _ in 0..60_000 {
            let ext = rng.below(3) != 0;
            let sep = if ext { "-" } else { "" };
            let colon = if ext { ":" } else { "" };
            let year = rng.pick(&years);
            let date = match rng.below(6) {
                0 => format!("{year}{sep}{:03}", rng.below(368)),
                1 => format!("{year}{sep}W{:02}{sep}{}", rng.below(55), rng.below(9)),
                _ => format!("{year}{sep}{:02}{sep}{:02}", rng.below(14), rng.below(33)),
            };
            let t = ["T", "T", "T", "t", " ", ""][rng.below(6)];
            let (h, mi, s) = (rng.below(26), rng.below(62), rng.below(62));
            let frac = rng.pick(&fractions);
            let time = match rng.below(4) {
                0 => format!("{h:02}{frac}"),
                1 => format!("{h:02}{colon}{mi:02}{frac}"),
                _ => format!("{h:02}{colon}{mi:02}{colon}{s:02}{frac}"),
            };
            let text = format!("{date}{t}{time}{}", rng.pick(&offsets));
            cases.push(mutate(&mut rng, &text));
            cases.push(text);
        }
        for text in &cases {
            assert_eq!(iso8601_unix_ms(text), time_ms(text), "{text:?}");
        }
    }

    #[test]
    fn calendar_arithmetic_round_trips() {
        for days in -4_000_000..4_000_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
