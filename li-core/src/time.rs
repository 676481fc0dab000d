//! Time: [`Timestamp`], with the GeneralizedTime and `MicroSecondTimeStamp` forms of
//! TS 102 232-1.
//!
//! `li-core` never reads a clock: callers pass timestamps in. A [`Timestamp`] is a count of
//! microseconds since the Unix epoch (UTC, leap seconds not counted, as in POSIX time),
//! restricted to `1970-01-01T00:00:00Z..=9999-12-31T23:59:59.999999Z` so that every value
//! has a four-digit-year GeneralizedTime form. Calendar arithmetic is done here with the
//! days-from-civil algorithm (proleptic Gregorian calendar), without external crates.

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use crate::error::{Error, Result, excerpt};

/// An instant in UTC with microsecond resolution, between 1970-01-01T00:00:00Z and
/// 9999-12-31T23:59:59.999999Z inclusive.
///
/// Used for `PSHeader.timeStamp` (GeneralizedTime) and `PSHeader.microSecondTimeStamp`
/// (TS 102 232-1 clause 5.2.6 and annex A), and for every instant in the model.
///
/// ```
/// use li_core::Timestamp;
///
/// let t = Timestamp::from_secs_micros(1_704_164_645, 678_901)?;
/// assert_eq!(t.to_generalized_time(), "20240102030405.678901Z");
/// assert_eq!(t.to_string(), "2024-01-02T03:04:05.678901Z");
/// assert_eq!(Timestamp::parse_generalized_time("20240102040405.678901+0100")?, t);
/// assert_eq!(t.to_micro_second_time_stamp(), (1_704_164_645, 678_901));
/// # Ok::<(), li_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Microseconds since the Unix epoch, at most [`MAX_MICROS`].
    micros: u64,
}

/// The calendar and clock fields of a [`Timestamp`] in UTC.
///
/// Plain data; [`Timestamp::from_utc`] checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UtcDateTime {
    /// Year, 1970..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=28, 29, 30 or 31 depending on the month and year.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59 (leap seconds are not representable).
    pub second: u8,
    /// Microsecond within the second, 0..=999 999.
    pub microsecond: u32,
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z, the Unix epoch and the earliest timestamp.
    pub const UNIX_EPOCH: Self = Self { micros: 0 };
    /// The earliest timestamp (the Unix epoch).
    pub const MIN: Self = Self::UNIX_EPOCH;
    /// The latest timestamp, 9999-12-31T23:59:59.999999Z.
    pub const MAX: Self = Self { micros: MAX_MICROS };

    /// The timestamp `micros` microseconds after the Unix epoch; fails with
    /// [`Error::TimestampOutOfRange`] after 9999-12-31T23:59:59.999999Z.
    pub const fn from_unix_micros(micros: u64) -> Result<Self> {
        if micros > MAX_MICROS {
            return Err(Error::TimestampOutOfRange {
                seconds: micros / MICROS_PER_SEC,
            });
        }
        Ok(Self { micros })
    }

    /// The one wall-clock conversion of the suite: a [`std::time::SystemTime`] (say,
    /// `SystemTime::now()` read by a driver) as a timestamp, truncated to the microsecond and
    /// clamped to the representable range (a clock before 1970 gives [`Timestamp::UNIX_EPOCH`],
    /// one past 9999 [`Timestamp::MAX`]). Reading the clock stays with the caller: decisions
    /// in this suite take time as an argument.
    pub fn from_system_time(time: std::time::SystemTime) -> Self {
        match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => u64::try_from(since.as_micros())
                .ok()
                .and_then(|micros| Self::from_unix_micros(micros).ok())
                .unwrap_or(Self::MAX),
            Err(_) => Self::UNIX_EPOCH,
        }
    }

    /// The timestamp `secs` seconds and `micros` microseconds after the Unix epoch.
    ///
    /// Fails with [`Error::MicrosecondsOutOfRange`] unless `micros < 1_000_000`, and with
    /// [`Error::TimestampOutOfRange`] after 9999-12-31T23:59:59.999999Z.
    pub const fn from_secs_micros(secs: u64, micros: u32) -> Result<Self> {
        if micros >= 1_000_000 {
            return Err(Error::MicrosecondsOutOfRange { micros });
        }
        if secs > MAX_SECS {
            return Err(Error::TimestampOutOfRange { seconds: secs });
        }
        Ok(Self {
            micros: secs * MICROS_PER_SEC + micros as u64,
        })
    }

    /// The timestamp of a TS 102 232-1 `MicroSecondTimeStamp` (`seconds` since the Unix
    /// epoch, `microSeconds` 0..999999); the same checks as [`Timestamp::from_secs_micros`].
    pub const fn from_micro_second_time_stamp(seconds: u64, micro_seconds: u32) -> Result<Self> {
        Self::from_secs_micros(seconds, micro_seconds)
    }

    /// The timestamp of a UTC calendar date and time; fails with [`Error::DateTimeField`]
    /// naming the first field out of range.
    pub fn from_utc(utc: UtcDateTime) -> Result<Self> {
        let field = |field: &'static str, value: u32| Error::DateTimeField { field, value };
        if !(MIN_YEAR..=MAX_YEAR).contains(&utc.year) {
            return Err(field("year", utc.year.into()));
        }
        if !(1..=12).contains(&utc.month) {
            return Err(field("month", utc.month.into()));
        }
        if utc.day == 0 || utc.day > days_in_month(utc.year, utc.month) {
            return Err(field("day", utc.day.into()));
        }
        if utc.hour > 23 {
            return Err(field("hour", utc.hour.into()));
        }
        if utc.minute > 59 {
            return Err(field("minute", utc.minute.into()));
        }
        if utc.second > 59 {
            return Err(field("second", utc.second.into()));
        }
        if utc.microsecond >= 1_000_000 {
            return Err(field("microsecond", utc.microsecond));
        }
        let days = days_from_civil(utc.year.into(), utc.month.into(), utc.day.into());
        let secs = days * SECS_PER_DAY
            + i64::from(utc.hour) * 3600
            + i64::from(utc.minute) * 60
            + i64::from(utc.second);
        // 1970..=9999 gives 0..=MAX_SECS, so the conversion cannot fail.
        let secs = u64::try_from(secs).map_err(|_| field("year", utc.year.into()))?;
        Self::from_secs_micros(secs, utc.microsecond)
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> u64 {
        self.micros
    }

    /// Whole seconds since the Unix epoch.
    pub const fn unix_secs(self) -> u64 {
        self.micros / MICROS_PER_SEC
    }

    /// Microseconds within the second, 0..=999 999.
    pub const fn subsec_micros(self) -> u32 {
        // Below 1 000 000, so the cast is lossless.
        (self.micros % MICROS_PER_SEC) as u32
    }

    /// The TS 102 232-1 `MicroSecondTimeStamp` form: `(seconds, microSeconds)`.
    pub const fn to_micro_second_time_stamp(self) -> (u64, u32) {
        (self.unix_secs(), self.subsec_micros())
    }

    /// The UTC calendar date and time.
    pub fn to_utc(self) -> UtcDateTime {
        let secs = self.unix_secs();
        let (year, month, day) = civil_from_days(secs / SECS_PER_DAY_U64);
        let secs_of_day = secs % SECS_PER_DAY_U64;
        UtcDateTime {
            year,
            month,
            day,
            // Each quotient is below 24 or 60: the casts are lossless.
            hour: (secs_of_day / 3600) as u8,
            minute: (secs_of_day / 60 % 60) as u8,
            second: (secs_of_day % 60) as u8,
            microsecond: self.subsec_micros(),
        }
    }

    /// `self + duration`, or `None` past [`Timestamp::MAX`].
    pub fn checked_add(self, duration: Duration) -> Option<Self> {
        let micros = u64::try_from(duration.as_micros()).ok()?;
        Self::from_unix_micros(self.micros.checked_add(micros)?).ok()
    }

    /// `self - duration`, or `None` before the Unix epoch.
    pub fn checked_sub(self, duration: Duration) -> Option<Self> {
        let micros = u64::try_from(duration.as_micros()).ok()?;
        Some(Self {
            micros: self.micros.checked_sub(micros)?,
        })
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn duration_since(self, earlier: Self) -> Option<Duration> {
        self.micros
            .checked_sub(earlier.micros)
            .map(Duration::from_micros)
    }

    /// The GeneralizedTime (X.680 clause 46) form in UTC with six fractional digits,
    /// `YYYYMMDDhhmmss.ffffffZ` (22 characters).
    pub fn to_generalized_time(&self) -> String {
        let mut buf = [0u8; GENERALIZED_TIME_LEN];
        self.write_generalized_time(&mut buf);
        buf.iter().map(|&b| char::from(b)).collect()
    }

    /// Writes the form of [`Timestamp::to_generalized_time`] into `out` without allocating.
    pub fn write_generalized_time(&self, out: &mut [u8; GENERALIZED_TIME_LEN]) {
        let utc = self.to_utc();
        put_digits(out, 0, 4, utc.year.into());
        put_digits(out, 4, 2, utc.month.into());
        put_digits(out, 6, 2, utc.day.into());
        put_digits(out, 8, 2, utc.hour.into());
        put_digits(out, 10, 2, utc.minute.into());
        put_digits(out, 12, 2, utc.second.into());
        out[14] = b'.';
        put_digits(out, 15, 6, utc.microsecond);
        out[21] = b'Z';
    }

    /// Parses a GeneralizedTime (X.680 clause 46) in any of the forms vendors send:
    ///
    /// `YYYYMMDDhh[mm[ss]][(.|,)fraction][Z|+hhmm|-hhmm|+hh|-hh]`
    ///
    /// * The fraction is of the last unit given: of a second if seconds are present, else of
    ///   a minute, else of an hour. Digits after the 18th are ignored; the result is truncated
    ///   (not rounded) to the microsecond.
    /// * `Z` means UTC. An offset `+hhmm` / `-hhmm` (or `+hh` / `-hh`) gives local time
    ///   ahead of / behind UTC and is converted to UTC.
    /// * Without `Z` or an offset the text is local time of an unknown zone; it is **taken as
    ///   UTC**.
    /// * Fields are range-checked: month 1..12, day 1..28/29/30/31 (leap years included),
    ///   hour 0..23, minute 0..59, second 0..59. Hour 24 and leap second 60 are rejected.
    /// * The resulting instant must lie in 1970..=9999 (UTC).
    ///
    /// * Tolerated from peers: a two-digit year (`YYMMDDhhmm[ss]`, as in UTCTime; a widely
    ///   deployed agency-side implementation sends `210526012853.615Z`), read only when the
    ///   text is not a valid four-digit-year time; `50`..`99` are 1950..1999, `00`..`49`
    ///   2000..2049 (X.509's rule).
    ///
    /// Every failure is [`Error::InvalidTime`] (the four-digit reading's reason). Never
    /// panics, whatever the input.
    pub fn parse_generalized_time(text: &str) -> Result<Self> {
        Self::parse_generalized(text, 4).or_else(|error| {
            // Ten or twelve digits before the fraction or zone: possibly a two-digit year.
            let digits = text.bytes().take_while(u8::is_ascii_digit).count();
            if matches!(digits, 10 | 12) {
                Self::parse_generalized(text, 2).map_err(|_| error)
            } else {
                Err(error)
            }
        })
    }

    /// [`Timestamp::parse_generalized_time`] with a year of `year_digits` (4, or 2).
    fn parse_generalized(text: &str, year_digits: usize) -> Result<Self> {
        let invalid = |reason| Error::InvalidTime {
            input: excerpt(text),
            reason,
        };
        let mut c = Cursor::new(text);
        let year = if year_digits == 2 {
            let yy = c
                .digits(2)
                .ok_or_else(|| invalid("expected a two-digit year"))?;
            if yy < 50 { 2000 + yy } else { 1900 + yy }
        } else {
            c.digits(4)
                .ok_or_else(|| invalid("expected a four-digit year"))?
        };
        let month = c
            .digits(2)
            .ok_or_else(|| invalid("expected a two-digit month"))?;
        let day = c
            .digits(2)
            .ok_or_else(|| invalid("expected a two-digit day"))?;
        let hour = c
            .digits(2)
            .ok_or_else(|| invalid("expected a two-digit hour"))?;
        let (minute, second, unit_micros) = if c.peek_digit() {
            let minute = c
                .digits(2)
                .ok_or_else(|| invalid("expected two-digit minutes"))?;
            if c.peek_digit() {
                let second = c
                    .digits(2)
                    .ok_or_else(|| invalid("expected two-digit seconds"))?;
                (minute, second, MICROS_PER_SEC)
            } else {
                (minute, 0, 60 * MICROS_PER_SEC)
            }
        } else {
            (0, 0, 3600 * MICROS_PER_SEC)
        };
        let fraction = if c.eat(b'.') || c.eat(b',') {
            c.fraction(unit_micros)
                .ok_or_else(|| invalid("expected digits after the decimal mark"))?
        } else {
            0
        };
        let offset_secs = match c.bump() {
            None => 0,
            Some(b'Z') => 0,
            Some(sign @ (b'+' | b'-')) => {
                let hh = c
                    .digits(2)
                    .ok_or_else(|| invalid("expected a two-digit offset hour"))?;
                let mm = if c.peek_digit() {
                    c.digits(2)
                        .ok_or_else(|| invalid("expected a two-digit offset minute"))?
                } else {
                    0
                };
                if hh > 23 || mm > 59 {
                    return Err(invalid("time zone offset out of range"));
                }
                let offset = i64::from(hh * 3600 + mm * 60);
                if sign == b'+' { offset } else { -offset }
            }
            Some(_) => return Err(invalid("unexpected character")),
        };
        if !c.at_end() {
            return Err(invalid("unexpected characters after the time"));
        }
        let fields = Fields {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        fields.to_timestamp(fraction, offset_secs).map_err(invalid)
    }
}

impl fmt::Display for Timestamp {
    /// ISO 8601 / RFC 3339 in UTC with six fractional digits:
    /// `2024-01-02T03:04:05.678901Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = self.to_utc();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses RFC 3339 (ISO 8601 extended form):
    /// `YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)`, with `T`/`t` and `Z`/`z` in either
    /// case. Fraction digits beyond the sixth are truncated. Fails with
    /// [`Error::InvalidTime`].
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidTime {
            input: excerpt(s),
            reason,
        };
        let mut c = Cursor::new(s);
        let mut field = |width: usize, reason, separator: Option<&[u8]>| {
            let value = c.digits(width).ok_or_else(|| invalid(reason))?;
            match separator {
                Some(allowed) if !c.bump().is_some_and(|b| allowed.contains(&b)) => {
                    Err(invalid("expected YYYY-MM-DDThh:mm:ss"))
                }
                _ => Ok(value),
            }
        };
        let year = field(4, "expected a four-digit year", Some(b"-"))?;
        let month = field(2, "expected a two-digit month", Some(b"-"))?;
        let day = field(2, "expected a two-digit day", Some(b"Tt"))?;
        let hour = field(2, "expected a two-digit hour", Some(b":"))?;
        let minute = field(2, "expected two-digit minutes", Some(b":"))?;
        let second = field(2, "expected two-digit seconds", None)?;
        let fraction = if c.eat(b'.') {
            c.fraction(MICROS_PER_SEC)
                .ok_or_else(|| invalid("expected digits after the decimal point"))?
        } else {
            0
        };
        let offset_secs = match c.bump() {
            Some(b'Z' | b'z') => 0,
            Some(sign @ (b'+' | b'-')) => {
                let hh = c
                    .digits(2)
                    .ok_or_else(|| invalid("expected offset hh:mm"))?;
                let mm = if c.eat(b':') { c.digits(2) } else { None }
                    .ok_or_else(|| invalid("expected offset hh:mm"))?;
                if hh > 23 || mm > 59 {
                    return Err(invalid("time zone offset out of range"));
                }
                let offset = i64::from(hh * 3600 + mm * 60);
                if sign == b'+' { offset } else { -offset }
            }
            _ => return Err(invalid("expected Z or a +hh:mm/-hh:mm offset")),
        };
        if !c.at_end() {
            return Err(invalid("unexpected characters after the time"));
        }
        let fields = Fields {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        fields.to_timestamp(fraction, offset_secs).map_err(invalid)
    }
}

/// Length of the GeneralizedTime form written by [`Timestamp::write_generalized_time`].
pub const GENERALIZED_TIME_LEN: usize = 22;

const MICROS_PER_SEC: u64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;
const SECS_PER_DAY_U64: u64 = 86_400;
const MIN_YEAR: u16 = 1970;
const MAX_YEAR: u16 = 9999;
/// 9999-12-31T23:59:59Z in seconds since the Unix epoch.
const MAX_SECS: u64 = 253_402_300_799;
/// 9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch.
const MAX_MICROS: u64 = MAX_SECS * MICROS_PER_SEC + 999_999;

/// Parsed but unchecked calendar and clock fields of a time text.
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Fields {
    /// Range-checks the fields and converts local time at `offset_secs` ahead of UTC, plus
    /// `fraction_micros`, to a timestamp.
    fn to_timestamp(
        &self,
        fraction_micros: u64,
        offset_secs: i64,
    ) -> core::result::Result<Timestamp, &'static str> {
        // The year is checked after applying the offset; 0..=9999 keeps arithmetic small.
        let year = u16::try_from(self.year).map_err(|_| "year out of range")?;
        let month = u8::try_from(self.month)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or("month out of range")?;
        if self.day == 0 || self.day > u32::from(days_in_month(year, month)) {
            return Err("day out of range for the month");
        }
        if self.hour > 23 {
            return Err("hour out of range");
        }
        if self.minute > 59 {
            return Err("minute out of range");
        }
        if self.second > 59 {
            return Err("second out of range (leap seconds are not supported)");
        }
        let days = days_from_civil(year.into(), month.into(), self.day.into());
        let local_secs = days * SECS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        let utc_secs =
            u64::try_from(local_secs - offset_secs).map_err(|_| "before 1970-01-01T00:00:00Z")?;
        let micros = utc_secs
            .checked_mul(MICROS_PER_SEC)
            .and_then(|m| m.checked_add(fraction_micros))
            .ok_or("after 9999-12-31T23:59:59.999999Z")?;
        Timestamp::from_unix_micros(micros).map_err(|_| "after 9999-12-31T23:59:59.999999Z")
    }
}

/// A reader over the octets of a time text that never runs past its end.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.as_bytes(),
        }
    }

    fn bump(&mut self) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first)
    }

    fn eat(&mut self, expected: u8) -> bool {
        match self.rest.split_first() {
            Some((&first, rest)) if first == expected => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    fn peek_digit(&self) -> bool {
        self.rest.first().is_some_and(u8::is_ascii_digit)
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    /// Exactly `width` (at most 9) decimal digits.
    fn digits(&mut self, width: usize) -> Option<u32> {
        let (head, rest) = self.rest.split_at_checked(width)?;
        let mut value = 0u32;
        for &b in head {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
        }
        self.rest = rest;
        Some(value)
    }

    /// One or more fraction digits, as microseconds of a unit of `unit_micros`, truncated.
    /// Digits after the 18th are consumed and ignored.
    fn fraction(&mut self, unit_micros: u64) -> Option<u64> {
        let count = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        let (digits, rest) = self.rest.split_at_checked(count)?;
        self.rest = rest;
        let (numerator, denominator) = digits.iter().take(18).fold((0u128, 1u128), |(n, d), &b| {
            (n * 10 + u128::from(b - b'0'), d * 10)
        });
        u64::try_from(numerator * u128::from(unit_micros) / denominator).ok()
    }
}

/// Writes `value` as `width` decimal digits at `at` (leading zeros; higher digits dropped).
fn put_digits(out: &mut [u8], at: usize, width: usize, value: u32) {
    let mut value = value;
    if let Some(slot) = out.get_mut(at..at + width) {
        for digit in slot.iter_mut().rev() {
            // `value % 10` is below 10: the cast is lossless.
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
}

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
const fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// The number of days in `month` (1..=12) of `year`.
const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative before it).
///
/// Howard Hinnant's `days_from_civil`
/// (<https://howardhinnant.github.io/date_algorithms.html#days_from_civil>).
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `days` days after 1970-01-01, for dates up to 9999-12-31.
///
/// Howard Hinnant's `civil_from_days`, restricted to non-negative day counts.
const fn civil_from_days(days: u64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    // Callers pass at most the days up to 9999-12-31, so every cast is lossless.
    (year as u16, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn utc(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> UtcDateTime {
        UtcDateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            microsecond: 0,
        }
    }

    fn gt(text: &str) -> Timestamp {
        Timestamp::parse_generalized_time(text)
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn reason(result: Result<Timestamp>) -> &'static str {
        match result {
            Err(Error::InvalidTime { reason, .. }) => reason,
            other => panic!("expected InvalidTime, got {other:?}"),
        }
    }

    #[test]
    fn days_from_civil_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 1, 2), 19_724);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2400, 2), 29);
    }

    #[test]
    fn known_instants() {
        let t = Timestamp::from_utc(UtcDateTime {
            microsecond: 678_000,
            ..utc(2024, 1, 2, 3, 4, 5)
        })
        .unwrap();
        assert_eq!(t.unix_secs(), 1_704_164_645);
        assert_eq!(t.subsec_micros(), 678_000);
        assert_eq!(t.unix_micros(), 1_704_164_645_678_000);
        assert_eq!(gt("20240102030405.678Z"), t);

        assert_eq!(
            Timestamp::from_utc(utc(1970, 1, 1, 0, 0, 0)).unwrap(),
            Timestamp::UNIX_EPOCH
        );
        assert_eq!(
            Timestamp::from_utc(UtcDateTime {
                microsecond: 999_999,
                ..utc(9999, 12, 31, 23, 59, 59)
            })
            .unwrap(),
            Timestamp::MAX
        );
        assert_eq!(
            Timestamp::from_utc(utc(2000, 2, 29, 0, 0, 0))
                .unwrap()
                .unix_secs(),
            951_782_400
        );
    }

    #[test]
    fn range_checks_of_constructors() {
        assert_eq!(
            Timestamp::from_secs_micros(0, 1_000_000),
            Err(Error::MicrosecondsOutOfRange { micros: 1_000_000 })
        );
        assert_eq!(
            Timestamp::from_secs_micros(MAX_SECS + 1, 0),
            Err(Error::TimestampOutOfRange {
                seconds: MAX_SECS + 1
            })
        );
        assert_eq!(
            Timestamp::from_secs_micros(MAX_SECS, 999_999),
            Ok(Timestamp::MAX)
        );
        assert_eq!(
            Timestamp::from_unix_micros(MAX_MICROS + 1),
            Err(Error::TimestampOutOfRange {
                seconds: MAX_SECS + 1
            })
        );
        assert_eq!(
            Timestamp::from_micro_second_time_stamp(u64::MAX, 0),
            Err(Error::TimestampOutOfRange { seconds: u64::MAX })
        );
    }

    #[test]
    fn from_utc_rejects_each_field() {
        let base = utc(2023, 2, 28, 23, 59, 59);
        let cases = [
            (UtcDateTime { year: 1969, ..base }, "year", 1969),
            (
                UtcDateTime {
                    year: 10000,
                    ..base
                },
                "year",
                10000,
            ),
            (UtcDateTime { month: 0, ..base }, "month", 0),
            (UtcDateTime { month: 13, ..base }, "month", 13),
            (UtcDateTime { day: 0, ..base }, "day", 0),
            (UtcDateTime { day: 29, ..base }, "day", 29),
            (UtcDateTime { hour: 24, ..base }, "hour", 24),
            (UtcDateTime { minute: 60, ..base }, "minute", 60),
            (UtcDateTime { second: 60, ..base }, "second", 60),
            (
                UtcDateTime {
                    microsecond: 1_000_000,
                    ..base
                },
                "microsecond",
                1_000_000,
            ),
        ];
        for (input, field, value) in cases {
            assert_eq!(
                Timestamp::from_utc(input),
                Err(Error::DateTimeField { field, value }),
                "{input:?}"
            );
        }
        assert!(
            Timestamp::from_utc(UtcDateTime {
                day: 29,
                ..utc(2024, 2, 1, 0, 0, 0)
            })
            .is_ok()
        );
    }

    #[test]
    fn generalized_time_format() {
        let t = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
        assert_eq!(t.to_generalized_time(), "20240102030405.678901Z");
        let mut buf = [0u8; GENERALIZED_TIME_LEN];
        t.write_generalized_time(&mut buf);
        assert_eq!(&buf, b"20240102030405.678901Z");
        assert_eq!(
            Timestamp::UNIX_EPOCH.to_generalized_time(),
            "19700101000000.000000Z"
        );
        assert_eq!(
            Timestamp::MAX.to_generalized_time(),
            "99991231235959.999999Z"
        );
    }

    #[test]
    fn generalized_time_vendor_forms() {
        let base = Timestamp::from_secs_micros(1_704_164_645, 0).unwrap(); // 2024-01-02T03:04:05Z
        assert_eq!(gt("20240102030405Z"), base);
        assert_eq!(gt("20240102030405"), base, "local time is taken as UTC");
        assert_eq!(
            gt("20240102030405,5Z").unix_micros(),
            base.unix_micros() + 500_000
        );
        assert_eq!(
            gt("20240102030405.1234567899Z").subsec_micros(),
            123_456,
            "truncated, not rounded"
        );
        // Offsets: local time ahead of UTC by the offset.
        assert_eq!(gt("20240102050405+0200"), base);
        assert_eq!(gt("20240102050405+02"), base);
        assert_eq!(gt("20240101223405-0430"), base);
        // Minutes only, hours only, with fractions of the last unit.
        let minute = Timestamp::from_secs_micros(1_704_164_640, 0).unwrap();
        assert_eq!(gt("202401020304Z"), minute);
        assert_eq!(
            gt("202401020304.5Z").unix_micros(),
            minute.unix_micros() + 30_000_000
        );
        let hour = Timestamp::from_secs_micros(1_704_164_400, 0).unwrap();
        assert_eq!(gt("2024010203Z"), hour);
        assert_eq!(
            gt("2024010203.25Z").unix_micros(),
            hour.unix_micros() + 900_000_000
        );
        assert_eq!(
            gt("2024010203,0000001Z").unix_micros(),
            hour.unix_micros() + 360
        );
        // Offsets crossing a day, a year and the range limits.
        assert_eq!(gt("19700101010000+0100"), Timestamp::UNIX_EPOCH);
        assert_eq!(gt("99991231225959.999999-0100"), Timestamp::MAX);
        // Leap day.
        assert_eq!(gt("20000229000000Z").unix_secs(), 951_782_400);
    }

    #[test]
    fn generalized_time_with_a_two_digit_year_from_peers() {
        let parse = |t: &str| Timestamp::parse_generalized_time(t).map(|t| t.to_string());
        // The form a widely deployed agency-side implementation puts in its keep-alive answers.
        assert_eq!(
            parse("210526012853.615Z").unwrap(),
            "2021-05-26T01:28:53.615000Z"
        );
        assert_eq!(parse("9912312359Z").unwrap(), "1999-12-31T23:59:00.000000Z");
        assert_eq!(parse("4901010000Z").unwrap(), "2049-01-01T00:00:00.000000Z");
        // A valid four-digit-year time keeps its reading.
        assert_eq!(
            parse("202105260128Z").unwrap(),
            "2021-05-26T01:28:00.000000Z"
        );
        assert_eq!(parse("2021052601Z").unwrap(), "2021-05-26T01:00:00.000000Z");
        // Invalid either way: the four-digit reading's reason.
        assert_eq!(
            reason(Timestamp::parse_generalized_time("211326012853Z")),
            "month out of range"
        );
    }

    #[test]
    fn generalized_time_rejections() {
        let cases = [
            ("", "expected a four-digit year"),
            ("2024", "expected a two-digit month"),
            ("20240102", "expected a two-digit hour"),
            ("202401020", "expected a two-digit hour"),
            ("20240102030", "expected two-digit minutes"),
            ("2024010203040", "expected two-digit seconds"),
            ("20241302030405Z", "month out of range"),
            ("20240002030405Z", "month out of range"),
            ("20230229030405Z", "day out of range for the month"),
            ("20240431030405Z", "day out of range for the month"),
            ("20240100030405Z", "day out of range for the month"),
            ("20240102240000Z", "hour out of range"),
            ("20240102036005Z", "minute out of range"),
            (
                "20241231235960Z",
                "second out of range (leap seconds are not supported)",
            ),
            ("20240102030405.Z", "expected digits after the decimal mark"),
            ("20240102030405ZZ", "unexpected characters after the time"),
            ("20240102030405 Z", "unexpected character"),
            ("20240102030405+1", "expected a two-digit offset hour"),
            ("20240102030405+0160", "time zone offset out of range"),
            ("20240102030405+2400", "time zone offset out of range"),
            (
                "20240102030405+01000",
                "unexpected characters after the time",
            ),
            ("19691231235959Z", "before 1970-01-01T00:00:00Z"),
            ("19700101000000+0001", "before 1970-01-01T00:00:00Z"),
            ("99991231235959-0001", "after 9999-12-31T23:59:59.999999Z"),
            ("+2024102030405Z", "expected a four-digit year"),
            ("２０２４0102030405Z", "expected a four-digit year"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                reason(Timestamp::parse_generalized_time(input)),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn iso_display_and_parse() {
        let t = Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap();
        assert_eq!(t.to_string(), "2024-01-02T03:04:05.678901Z");
        assert_eq!(format!("{t:?}"), "Timestamp(2024-01-02T03:04:05.678901Z)");
        assert_eq!("2024-01-02T03:04:05.678901Z".parse::<Timestamp>(), Ok(t));
        assert_eq!("2024-01-02t03:04:05.6789019z".parse::<Timestamp>(), Ok(t));
        assert_eq!(
            "2024-01-02T04:34:05.678901+01:30".parse::<Timestamp>(),
            Ok(t)
        );
        assert_eq!(
            "2024-01-02T03:04:05Z"
                .parse::<Timestamp>()
                .map(Timestamp::unix_secs),
            Ok(1_704_164_645)
        );
        for bad in [
            "2024-01-02 03:04:05Z",
            "2024-01-02T03:04:05",
            "2024-01-02T03:04:05+0100",
            "2024-01-02T03:04Z",
            "2024-02-30T03:04:05Z",
            "2024-01-02T03:04:05.Z",
            "20240102T030405Z",
        ] {
            assert!(
                matches!(bad.parse::<Timestamp>(), Err(Error::InvalidTime { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn arithmetic() {
        let t = Timestamp::from_secs_micros(10, 5).unwrap();
        let later = t.checked_add(Duration::from_micros(1_000_001)).unwrap();
        assert_eq!(later.to_micro_second_time_stamp(), (11, 6));
        assert_eq!(
            later.duration_since(t),
            Some(Duration::from_micros(1_000_001))
        );
        assert_eq!(t.duration_since(later), None);
        assert_eq!(later.checked_sub(Duration::from_micros(1_000_001)), Some(t));
        assert_eq!(t.checked_sub(Duration::from_secs(11)), None);
        assert_eq!(Timestamp::MAX.checked_add(Duration::from_micros(1)), None);
        assert_eq!(Timestamp::MAX.checked_add(Duration::MAX), None);
    }

    fn any_timestamp() -> impl Strategy<Value = Timestamp> {
        prop_oneof![
            (0..=MAX_MICROS).prop_map(|m| Timestamp::from_unix_micros(m).unwrap()),
            (0..=MAX_SECS).prop_map(|s| Timestamp::from_secs_micros(s, 0).unwrap()),
            Just(Timestamp::MAX),
            Just(Timestamp::UNIX_EPOCH),
        ]
    }

    proptest! {
        #[test]
        fn generalized_time_round_trip(t in any_timestamp()) {
            let text = t.to_generalized_time();
            prop_assert_eq!(text.len(), GENERALIZED_TIME_LEN);
            prop_assert_eq!(Timestamp::parse_generalized_time(&text), Ok(t));
        }

        #[test]
        fn iso_text_round_trip(t in any_timestamp()) {
            prop_assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        }

        #[test]
        fn utc_round_trip(t in any_timestamp()) {
            prop_assert_eq!(Timestamp::from_utc(t.to_utc()), Ok(t));
        }

        #[test]
        fn micro_second_time_stamp_round_trip(secs in 0..=MAX_SECS, micros in 0u32..1_000_000) {
            let t = Timestamp::from_micro_second_time_stamp(secs, micros).unwrap();
            prop_assert_eq!(t.to_micro_second_time_stamp(), (secs, micros));
            prop_assert_eq!(t.unix_micros(), secs * 1_000_000 + u64::from(micros));
        }

        #[test]
        fn days_from_civil_inverts_civil_from_days(days in 0u64..=2_932_896) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y.into(), m.into(), d.into()), days as i64);
            prop_assert!((1..=12).contains(&m));
            prop_assert!(d >= 1 && d <= days_in_month(y, m));
        }

        #[test]
        fn offsets_convert_to_utc(
            micros in SECS_PER_DAY_U64 * MICROS_PER_SEC..=(MAX_SECS - SECS_PER_DAY_U64) * MICROS_PER_SEC,
            minutes in -(23 * 60 + 59)..=(23i64 * 60 + 59),
        ) {
            // Render local time at the offset, then parse it back. A day away from the range
            // limits, every offset stays in range (the limits have unit tests).
            let t = Timestamp::from_unix_micros(micros).unwrap();
            let shifted = i64::try_from(t.unix_secs()).unwrap() + minutes * 60;
            let local = Timestamp::from_secs_micros(shifted as u64, t.subsec_micros()).unwrap();
            let mut text = local.to_generalized_time();
            text.pop(); // 'Z'
            let sign = if minutes < 0 { '-' } else { '+' };
            let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
            text.push_str(&format!("{sign}{h:02}{m:02}"));
            prop_assert_eq!(Timestamp::parse_generalized_time(&text), Ok(t));
        }

        #[test]
        fn generalized_time_parse_never_panics(text in "\\PC{0,40}") {
            let _ = Timestamp::parse_generalized_time(&text);
            let _ = text.parse::<Timestamp>();
        }

        #[test]
        fn generalized_time_parse_near_miss_never_panics(text in "[0-9]{8,16}[.,]?[0-9]{0,25}[Z+-]?[0-9]{0,5}") {
            if let Ok(t) = Timestamp::parse_generalized_time(&text) {
                prop_assert!(t <= Timestamp::MAX);
            }
        }
    }

    #[test]
    fn system_time_converts_truncated_and_clamped() {
        use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};
        let t = UNIX_EPOCH + StdDuration::new(1_704_164_645, 678_901_999);
        assert_eq!(
            Timestamp::from_system_time(t),
            Timestamp::from_secs_micros(1_704_164_645, 678_901).unwrap()
        );
        assert_eq!(
            Timestamp::from_system_time(UNIX_EPOCH - StdDuration::from_secs(1)),
            Timestamp::UNIX_EPOCH
        );
        if let Some(far) = SystemTime::UNIX_EPOCH.checked_add(StdDuration::from_secs(MAX_SECS + 10))
        {
            assert_eq!(Timestamp::from_system_time(far), Timestamp::MAX);
        }
    }
}
