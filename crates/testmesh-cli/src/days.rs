//! Days on the command line (`--from`, `--to`): `YYYY-MM-DD`, `today`, `yesterday` or `Nd` (N
//! days ago), all in UTC, and the period two of them make.

use chrono::{Days, NaiveDate};

use crate::CliError;

/// The furthest back `Nd` goes.
const MAX_DAYS_AGO: u64 = 36_500;

/// A day as given: a date, or a number of days before today (`today` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Day {
    /// A calendar date.
    Date(NaiveDate),
    /// This many days before today.
    Ago(u64),
}

impl std::str::FromStr for Day {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text {
            "today" => return Ok(Day::Ago(0)),
            "yesterday" => return Ok(Day::Ago(1)),
            _ => {}
        }
        if let Some(n) = text.strip_suffix('d')
            && let Ok(n) = n.parse::<u64>()
        {
            // A century back is far enough; more is a typo that would loop over ages of days.
            if n > MAX_DAYS_AGO {
                return Err(format!("`{text}` is too far back: at most {MAX_DAYS_AGO}d"));
            }
            return Ok(Day::Ago(n));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Day::Date)
            .map_err(|_| {
                format!(
                    "`{text}` is not a day: use YYYY-MM-DD, today, yesterday or Nd (N days ago)"
                )
            })
    }
}

impl Day {
    /// The date this is, seen from `today`.
    pub(crate) fn date(self, today: NaiveDate) -> NaiveDate {
        match self {
            Day::Date(date) => date,
            Day::Ago(n) => today
                .checked_sub_days(Days::new(n))
                .unwrap_or(NaiveDate::MIN),
        }
    }
}

/// The period `from`..=`to`: `to` defaults to `default_to`, `from` to `len` days ending at `to`.
pub(crate) fn period(
    from: Option<Day>,
    to: Option<Day>,
    len: u64,
    default_to: NaiveDate,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), CliError> {
    let to = to.map_or(default_to, |d| d.date(today));
    let from = from.map_or_else(
        || {
            to.checked_sub_days(Days::new(len.saturating_sub(1)))
                .unwrap_or(to)
        },
        |d| d.date(today),
    );
    if from > to {
        return Err(CliError::Input(format!(
            "--from ({from}) is after --to ({to})"
        )));
    }
    Ok((from, to))
}

/// The last `len` days up to `to` (default today), or the period given.
pub(crate) fn last_days(
    from: Option<Day>,
    to: Option<Day>,
    len: u64,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), CliError> {
    period(from, to, len, today, today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn days_parse() {
        let today = day("2026-11-22");
        let parse = |t: &str| t.parse::<Day>().map(|d| d.date(today));
        assert_eq!(parse("today"), Ok(today));
        assert_eq!(parse("yesterday"), Ok(day("2026-11-21")));
        assert_eq!(parse("7d"), Ok(day("2026-11-15")));
        assert_eq!(parse("2026-02-28"), Ok(day("2026-02-28")));
        let err = parse("2026-02-30").unwrap_err();
        assert!(err.contains("`2026-02-30` is not a day"), "{err}");
        assert!(parse("last week").is_err());
        assert!(parse("100000d").unwrap_err().contains("too far back"));
    }

    #[test]
    fn periods() {
        let today = day("2026-11-22");
        assert_eq!(
            last_days(None, None, 30, today).ok(),
            Some((day("2026-10-24"), today))
        );
        assert_eq!(
            last_days(Some(Day::Ago(0)), None, 30, today).ok(),
            Some((today, today))
        );
        assert_eq!(
            period(None, None, 1, day("2026-11-21"), today).ok(),
            Some((day("2026-11-21"), day("2026-11-21")))
        );
        let err = last_days(Some(Day::Ago(0)), Some(Day::Ago(3)), 30, today).unwrap_err();
        assert!(
            err.to_string()
                .contains("--from (2026-11-22) is after --to (2026-11-19)")
        );
    }
}
