//! The one source of time. Retention, code expiry, sessions and rate-limit windows all read
//! it, so tests can move time forward instead of waiting.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch. DynamoDB TTL attributes use the same unit.
pub type UnixSeconds = i64;

pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> UnixSeconds;
}

/// The wall clock, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixSeconds {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as UnixSeconds)
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn at(start: UnixSeconds) -> Self {
        Self(Arc::new(AtomicI64::new(start)))
    }

    /// Starts at the current wall-clock time, so stored TTLs look realistic.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now())
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixSeconds {
        self.0.load(Ordering::SeqCst)
    }
}

/// Another clock moved by a fixed offset: for trying retention by hand on the local stack
/// (`CLOCK_OFFSET_SECONDS`). Never in production; see [`clock_from_env`].
#[derive(Debug)]
pub struct OffsetClock {
    inner: Arc<dyn Clock>,
    offset: i64,
}

impl OffsetClock {
    pub fn new(inner: Arc<dyn Clock>, offset: i64) -> Self {
        Self { inner, offset }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> UnixSeconds {
        self.inner.now() + self.offset
    }
}

/// The system clock, moved by `CLOCK_OFFSET_SECONDS` when set outside production. In
/// production (`APP_ENV=prod`) a set offset is refused, so the function does not start.
pub fn clock_from_env(
    source: &dyn crate::config::EnvSource,
) -> Result<Arc<dyn Clock>, crate::config::ConfigError> {
    let offset: i64 = crate::config::Settings::new(source).parsed_or("CLOCK_OFFSET_SECONDS", 0)?;
    if offset == 0 {
        return Ok(Arc::new(SystemClock));
    }
    if crate::config::stage(source)? == crate::config::Stage::Prod {
        return Err(crate::config::ConfigError::Invalid {
            name: "CLOCK_OFFSET_SECONDS",
            reason: "production runs on the real clock".into(),
        });
    }
    tracing::warn!(
        offset,
        "the clock is moved by CLOCK_OFFSET_SECONDS (not production)"
    );
    Ok(Arc::new(OffsetClock::new(Arc::new(SystemClock), offset)))
}

/// RFC 3339 in UTC, e.g. `2026-11-22T07:48:54Z`, for API responses.
pub fn rfc3339(at: UnixSeconds) -> String {
    aws_smithy_types::DateTime::from_secs(at)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share_time() {
        let clock = ManualClock::at(1_000);
        let other = clock.clone();
        assert_eq!(clock.now(), 1_000);
        other.advance(61);
        assert_eq!(clock.now(), 1_061);
    }

    #[test]
    fn an_offset_clock_moves_its_inner_clock_and_prod_refuses_an_offset() {
        let manual = ManualClock::at(1_000);
        let offset = OffsetClock::new(Arc::new(manual.clone()), 31 * 24 * 3600);
        manual.advance(5);
        assert_eq!(offset.now(), 1_005 + 31 * 24 * 3600);

        let env = |stage: &str, offset: &str| -> std::collections::HashMap<String, String> {
            [("APP_ENV", stage), ("CLOCK_OFFSET_SECONDS", offset)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let dev = clock_from_env(&env("dev", "2678400")).unwrap();
        assert!(dev.now() >= SystemClock.now() + 2_678_400 - 5);
        assert!(clock_from_env(&env("prod", "2678400")).is_err());
        let prod = clock_from_env(&env("prod", "0")).unwrap();
        assert!((prod.now() - SystemClock.now()).abs() <= 5);
    }

    #[test]
    fn system_clock_is_after_2026() {
        assert!(SystemClock.now() > 1_767_225_600);
    }

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(rfc3339(1_795_333_734), "2026-11-22T07:48:54Z");
    }
}
