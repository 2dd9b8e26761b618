//! Timestamps as the console writes them: UTC, RFC 3339, whole seconds.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Now, in UTC, truncated to whole seconds.
pub fn now() -> OffsetDateTime {
    #[cfg(feature = "fault-injection")]
    if let Some(fake) = std::env::var("CUSTODIAN_FAKE_NOW")
        .ok()
        .and_then(|v| parse(&v))
    {
        // Test builds only (the fault-injection feature): a clock set wrong.
        return fake;
    }
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Formats a timestamp as RFC 3339 (`2026-11-22T09:30:00Z`).
pub fn format(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Parses an RFC 3339 timestamp.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Now, formatted.
pub fn now_string() -> String {
    format(now())
}

/// `t` plus a number of days.
pub fn plus_days(t: OffsetDateTime, days: i64) -> OffsetDateTime {
    t + Duration::days(days)
}
