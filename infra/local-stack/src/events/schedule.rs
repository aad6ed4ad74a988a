//! EventBridge schedule expressions (`rate(...)`, `cron(...)`) and the event a schedule
//! delivers to its function.
//!
//! Locally a cron expression is evaluated on its minute and hour fields only, in UTC: the
//! day-of-month, month, day-of-week and year fields are checked for shape and then ignored,
//! so `cron(0 3 ? * MON *)` runs at 03:00 every day. `ScheduleExpressionTimezone` is
//! ignored too. `local-stack trigger` runs any schedule on demand.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::{Value, json};
use thiserror::Error;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Why a schedule expression is not one EventBridge would accept (or we can run).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("{0:?} is neither rate(...) nor cron(...)")]
    UnknownForm(String),
    #[error("{0:?}: a rate is `rate(N unit)` with N a positive whole number")]
    RateValue(String),
    #[error("{0:?}: the unit must be minute(s), hour(s) or day(s); singular exactly when N is 1")]
    RateUnit(String),
    #[error("{0:?}: cron takes six fields (minutes hours day-of-month month day-of-week year)")]
    CronFieldCount(String),
    #[error("{expression:?}: cron {field} field {value:?} is not valid")]
    CronField {
        expression: String,
        field: &'static str,
        value: String,
    },
    #[error("{0:?}: one of day-of-month and day-of-week must be `?`")]
    CronDayFields(String),
}

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// `rate(N unit)`: every `N` units, counted from when the schedule was created.
    Rate(Duration),
    Cron(Cron),
}

/// A cron expression reduced to the minutes and hours (UTC) at which it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    /// The six fields as written, for messages.
    fields: String,
    minutes: [bool; 60],
    hours: [bool; 24],
    /// Whether a day-of-month, month, day-of-week or year restriction is ignored locally.
    ignores_day_fields: bool,
}

impl ScheduleExpression {
    pub fn parse(text: &str) -> Result<ScheduleExpression, ScheduleError> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            return parse_rate(text, inner).map(ScheduleExpression::Rate);
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            return Cron::parse(text, inner).map(ScheduleExpression::Cron);
        }
        Err(ScheduleError::UnknownForm(text.to_owned()))
    }

    /// Whether part of the expression has no effect locally (see the module docs).
    pub fn has_ignored_fields(&self) -> bool {
        matches!(self, ScheduleExpression::Cron(cron) if cron.ignores_day_fields)
    }

    /// The first time after `now` (seconds since the epoch) the schedule fires, given when
    /// it started: rates count whole intervals from `started`, crons follow the clock.
    pub fn next_after(&self, started: u64, now: u64) -> u64 {
        match self {
            ScheduleExpression::Rate(interval) => {
                let interval = interval.as_secs().max(1);
                let elapsed = now.saturating_sub(started);
                started + (elapsed / interval + 1) * interval
            }
            ScheduleExpression::Cron(cron) => cron.next_after(now),
        }
    }
}

impl fmt::Display for ScheduleExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleExpression::Rate(interval) => {
                let seconds = interval.as_secs();
                let (value, unit) = match seconds {
                    s if s % DAY == 0 => (s / DAY, "day"),
                    s if s % HOUR == 0 => (s / HOUR, "hour"),
                    s => (s / MINUTE, "minute"),
                };
                let plural = if value == 1 { "" } else { "s" };
                write!(f, "rate({value} {unit}{plural})")
            }
            ScheduleExpression::Cron(cron) => write!(f, "cron({})", cron.fields),
        }
    }
}

fn parse_rate(expression: &str, inner: &str) -> Result<Duration, ScheduleError> {
    let mut parts = inner.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ScheduleError::RateValue(expression.to_owned()));
    };
    let value: u64 = value
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ScheduleError::RateValue(expression.to_owned()))?;
    let unit_seconds = match (unit, value == 1) {
        ("minute", true) | ("minutes", false) => MINUTE,
        ("hour", true) | ("hours", false) => HOUR,
        ("day", true) | ("days", false) => DAY,
        _ => return Err(ScheduleError::RateUnit(expression.to_owned())),
    };
    Ok(Duration::from_secs(value * unit_seconds))
}

impl Cron {
    fn parse(expression: &str, inner: &str) -> Result<Cron, ScheduleError> {
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = fields.as_slice() else {
            return Err(ScheduleError::CronFieldCount(expression.to_owned()));
        };
        let invalid = |field: &'static str, value: &str| ScheduleError::CronField {
            expression: expression.to_owned(),
            field,
            value: value.to_owned(),
        };
        let minutes = time_field::<60>(minutes).ok_or_else(|| invalid("minutes", minutes))?;
        let hours = time_field::<24>(hours).ok_or_else(|| invalid("hours", hours))?;
        for (field, value) in [
            ("day-of-month", day_of_month),
            ("month", month),
            ("day-of-week", day_of_week),
            ("year", year),
        ] {
            if !date_field_shape(value) {
                return Err(invalid(field, value));
            }
        }
        if *day_of_month != "?" && *day_of_week != "?" {
            return Err(ScheduleError::CronDayFields(expression.to_owned()));
        }
        let wildcard = |value: &str| value == "*" || value == "?";
        let ignores_day_fields = ![day_of_month, month, day_of_week, year]
            .iter()
            .all(|value| wildcard(value));
        Ok(Cron {
            fields: fields.join(" "),
            minutes,
            hours,
            ignores_day_fields,
        })
    }

    /// The next whole minute after `now` whose hour and minute match.
    fn next_after(&self, now: u64) -> u64 {
        let mut candidate = (now / MINUTE + 1) * MINUTE;
        // Both sets are non-empty (parsing guarantees it), so a match comes within a day.
        for _ in 0..(DAY / MINUTE) {
            let minute = (candidate / MINUTE % 60) as usize;
            let hour = (candidate / HOUR % 24) as usize;
            if self.minutes[minute] && self.hours[hour] {
                return candidate;
            }
            candidate += MINUTE;
        }
        candidate
    }
}

/// A minutes or hours field: `*`, `N`, `A-B`, `*/S`, `A/S`, `A-B/S`, or a comma list of
/// those, with values below `LIMIT`.
fn time_field<const LIMIT: usize>(field: &str) -> Option<[bool; LIMIT]> {
    let mut allowed = [false; LIMIT];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<usize>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (first, last) = match range {
            "*" => (0, LIMIT - 1),
            _ => match range.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                // `A/S` runs from A to the end; a plain `N` is only N.
                None if part.contains('/') => (range.parse().ok()?, LIMIT - 1),
                None => {
                    let n = range.parse().ok()?;
                    (n, n)
                }
            },
        };
        if first > last || last >= LIMIT {
            return None;
        }
        for value in (first..=last).step_by(step) {
            allowed[value] = true;
        }
    }
    Some(allowed)
}

/// The characters EventBridge allows in the day, month and year fields (numbers, names
/// such as `MON` or `JAN`, and `* ? , - / L W #`); their meaning is not evaluated locally.
fn date_field_shape(field: &str) -> bool {
    !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "*?,-/#".contains(c))
}

/// Which EventBridge service delivers a schedule: SAM's `Schedule` makes an EventBridge
/// rule, `ScheduleV2` an EventBridge Scheduler schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    Rule,
    Scheduler,
}

/// A schedule of one function, ready to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget {
    /// The event's name under the function's `Events`.
    pub event: String,
    pub expression: ScheduleExpression,
    /// The rule's or schedule's ARN, the event's `resources`.
    pub arn: String,
    /// The template's `Input`: when set, the function receives exactly this JSON instead
    /// of the scheduled event, as on AWS.
    pub input: Option<Value>,
    pub enabled: bool,
}

impl ScheduleTarget {
    /// The event delivered when the schedule fires at `time`.
    pub fn payload(&self, region: &str, account: &str, time: SystemTime) -> Value {
        match &self.input {
            Some(input) => input.clone(),
            None => scheduled_event(&self.arn, region, account, time),
        }
    }
}

/// The ARN of a schedule named `name`.
pub fn schedule_arn(kind: ScheduleKind, region: &str, account: &str, name: &str) -> String {
    match kind {
        ScheduleKind::Rule => format!("arn:aws:events:{region}:{account}:rule/{name}"),
        ScheduleKind::Scheduler => {
            format!("arn:aws:scheduler:{region}:{account}:schedule/default/{name}")
        }
    }
}

/// The "Scheduled Event" EventBridge sends for a rule
/// (<https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduled.html>).
/// EventBridge Scheduler only documents a "default notification" for targets without
/// `Input`; we send the same shape with the schedule's ARN.
pub fn scheduled_event(arn: &str, region: &str, account: &str, time: SystemTime) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": iso_seconds(time),
        "region": region,
        "resources": [arn],
        "detail": {},
    })
}

/// `2015-10-08T16:53:06Z`: whole seconds, UTC, as EventBridge writes `time`.
fn iso_seconds(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    DateTime::from_secs(seconds)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ScheduleExpression {
        ScheduleExpression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// 2024-05-01T10:20:30Z.
    const T: u64 = 1_714_558_830;

    #[test]
    fn rates_with_aws_singular_and_plural_units() {
        assert_eq!(
            parse("rate(1 hour)"),
            ScheduleExpression::Rate(Duration::from_secs(3600))
        );
        assert_eq!(
            parse("rate(5 minutes)"),
            ScheduleExpression::Rate(Duration::from_secs(300))
        );
        assert_eq!(
            parse(" rate(2 days) "),
            ScheduleExpression::Rate(Duration::from_secs(2 * 86400))
        );
        for bad in [
            "rate(1 hours)",
            "rate(2 hour)",
            "rate(0 minutes)",
            "rate(-1 minute)",
            "rate(1 week)",
            "rate(minute)",
            "rate(1 minute extra)",
        ] {
            assert!(ScheduleExpression::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            ScheduleExpression::parse("every hour"),
            Err(ScheduleError::UnknownForm(_))
        ));
    }

    #[test]
    fn expressions_display_as_written() {
        for text in [
            "rate(1 hour)",
            "rate(90 minutes)",
            "rate(2 days)",
            "cron(0 * * * ? *)",
        ] {
            assert_eq!(parse(text).to_string(), text);
        }
    }

    #[test]
    fn a_rate_fires_whole_intervals_after_its_start() {
        let hourly = parse("rate(1 hour)");
        assert_eq!(hourly.next_after(T, T), T + 3600);
        assert_eq!(hourly.next_after(T, T + 3599), T + 3600);
        assert_eq!(hourly.next_after(T, T + 3600), T + 7200);
    }

    #[test]
    fn cron_on_the_hour_fires_at_the_next_full_hour() {
        let hourly = parse("cron(0 * * * ? *)");
        assert!(!hourly.has_ignored_fields());
        // 10:20:30 -> 11:00:00.
        assert_eq!(hourly.next_after(T, T), T - 20 * 60 - 30 + 3600);
    }

    #[test]
    fn cron_lists_ranges_and_steps() {
        let cron = parse("cron(*/15 9-17 ? * MON-FRI *)");
        assert!(cron.has_ignored_fields());
        // 10:20:30 -> 10:30:00.
        assert_eq!(cron.next_after(T, T), T - 30 + 10 * 60);
        let evening = parse("cron(5,35 22 * * ? *)");
        // 10:20:30 -> 22:05:00 the same day.
        let midnight = T - T % 86400;
        assert_eq!(evening.next_after(T, T), midnight + 22 * 3600 + 5 * 60);
        // From 22:40 -> 22:05 the next day.
        let late = midnight + 22 * 3600 + 40 * 60;
        assert_eq!(
            evening.next_after(T, late),
            midnight + 86400 + 22 * 3600 + 5 * 60
        );
        let from_ten = parse("cron(10/20 0 * * ? *)");
        assert_eq!(from_ten.next_after(T, midnight), midnight + 10 * 60);
    }

    #[test]
    fn cron_mistakes_are_reported() {
        for bad in [
            "cron(0 * * * *)",
            "cron(60 * * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(5-1 * * * ? *)",
            "cron(*/0 * * * ? *)",
            "cron(0 * * * * *)",
            "cron(0 * % * ? *)",
        ] {
            assert!(ScheduleExpression::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            ScheduleExpression::parse("cron(0 * 1 * MON *)"),
            Err(ScheduleError::CronDayFields(_))
        ));
    }

    #[test]
    fn the_scheduled_event_has_eventbridges_fields() {
        let time = UNIX_EPOCH + Duration::from_secs(T);
        let arn = schedule_arn(ScheduleKind::Rule, "ap-northeast-1", "123456789012", "r");
        let event = scheduled_event(&arn, "ap-northeast-1", "123456789012", time);
        assert_eq!(event["version"], "0");
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["account"], "123456789012");
        assert_eq!(event["region"], "ap-northeast-1");
        assert_eq!(event["time"], "2024-05-01T10:20:30Z");
        assert_eq!(
            event["resources"],
            json!(["arn:aws:events:ap-northeast-1:123456789012:rule/r"])
        );
        assert_eq!(event["detail"], json!({}));
        assert_eq!(event["id"].as_str().map(str::len), Some(36));
    }

    #[test]
    fn an_input_replaces_the_scheduled_event() {
        let target = ScheduleTarget {
            event: "Hourly".into(),
            expression: parse("rate(1 hour)"),
            arn: "arn".into(),
            input: Some(json!({"job": "retention"})),
            enabled: true,
        };
        assert_eq!(
            target.payload("r", "a", SystemTime::now()),
            json!({"job": "retention"})
        );
    }
}
