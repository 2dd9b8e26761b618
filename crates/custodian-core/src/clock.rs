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

// ── Operator-confirmed time (custody hygiene) ─────────────────────────────
//
// Air-gapped laptops drift. Drills, incidents and the ceremony record ask
// an operator to confirm the system's date and time once (a day); the
// confirmation is audited and kept in the registry. A clock more than a
// day later than the last confirmation is said before any audited
// operation: either a long gap between sessions (fine, confirm again) or a
// clock that jumped.

/// The registry section.
pub const SECTION: &str = "clockConfirmations";
/// Audit event of [`confirm`].
pub const EVENT_CONFIRMED: &str = "CLOCK_CONFIRMED";
/// Hours after the last confirmation beyond which the clock is questioned.
pub const CONFIRM_VALID_HOURS: i64 = 24;

/// An operator confirmed that the system clock showed the right time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockConfirmation {
    /// The system time that was confirmed (RFC 3339).
    pub at: String,
    /// What asked for it (`drill run`, `incident open`, `onboard`…).
    pub context: String,
    /// The operator, when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The audit op that recorded it.
    pub op: String,
}

/// The newest confirmed time.
pub fn last_confirmed(reg: &crate::workspace::Registry) -> Option<OffsetDateTime> {
    reg.clock_confirmations
        .iter()
        .filter_map(|c| parse(&c.at))
        .max()
}

/// True when no confirmation was made in the last [`CONFIRM_VALID_HOURS`]
/// (or the clock is now before the last one).
pub fn needs_confirmation(reg: &crate::workspace::Registry, now: OffsetDateTime) -> bool {
    match last_confirmed(reg) {
        Some(t) => now < t || now - t > Duration::hours(CONFIRM_VALID_HOURS),
        None => true,
    }
}

/// A warning when `now` is more than a day later than the last
/// operator-confirmed time; None when it is not, or when no time was ever
/// confirmed here.
pub fn drift_warning(reg: &crate::workspace::Registry, now: OffsetDateTime) -> Option<String> {
    drifted_since(reg, now).map(|last| {
        format!(
            "the system clock says {}, more than a day after the last operator-confirmed time ({}); check the date and time against a trusted clock (drills, incidents and onboarding ask to confirm it: --confirm-time)",
            format(now),
            format(last)
        )
    })
}

/// The last operator-confirmed time when `now` is more than a day past it
/// (what [`drift_warning`] says); None when it is not, or when no time was
/// ever confirmed here.
pub fn drifted_since(
    reg: &crate::workspace::Registry,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let last = last_confirmed(reg)?;
    (now - last > Duration::hours(CONFIRM_VALID_HOURS)).then_some(last)
}

/// Records, audited, that an operator confirmed the system clock now.
pub fn confirm(
    ws: &crate::workspace::Workspace,
    context: &str,
    operator: Option<&str>,
) -> Result<ClockConfirmation, crate::workspace::WorkspaceError> {
    let at = now_string();
    let tx = ws.begin(
        EVENT_CONFIRMED,
        serde_json::json!({ "systemTime": at, "context": context, "operator": operator }),
    )?;
    let record = ClockConfirmation {
        at,
        context: context.to_string(),
        operator: operator.map(str::to_string),
        op: tx.op_id().to_string(),
    };
    let r = record.clone();
    tx.commit(
        move |reg| {
            reg.clock_confirmations.push(r);
            Ok::<_, crate::workspace::WorkspaceError>(())
        },
        |_| serde_json::json!({}),
    )?;
    Ok(record)
}

/// How long a one-time display of a recovered key stays on screen:
/// `default`, except in test builds (the `fault-injection` feature), where
/// `CUSTODIAN_FAKE_SHOW_SECONDS` shortens it so a terminal test can watch
/// the countdown run out.
pub fn show_seconds(default: u64) -> u64 {
    #[cfg(feature = "fault-injection")]
    if let Some(s) = std::env::var("CUSTODIAN_FAKE_SHOW_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return s;
    }
    default
}
