//! The operator's text of warrants and targets: what `li-admf warrant list` and `warrant show`
//! print, the help of a target field and the parsing of a target typed by an operator, and
//! the check that a window entered is not already over. A vendor's own ADMF front-end (a
//! console, a web form) reuses them to show and accept the same text.
//!
//! These texts include target identifiers: they are for the operator's screen, never for
//! logs.
//!
//! ```
//! use li_core::{TargetKind, Timestamp, ValidityWindow};
//! use li_handover::admf::text::{check_window_not_past, parse_target};
//!
//! assert_eq!(parse_target("ipv4-prefix:192.0.2.0/24")?.kind(), TargetKind::Ipv4Prefix);
//! let error = parse_target("prefix:192.0.2.0/24").unwrap_err();
//! assert!(error.to_string().contains("valid kinds: ipv4:, ipv6:, ipv4-prefix:"));
//!
//! let now = Timestamp::from_secs_micros(1_800_000_000, 0)?;
//! let ended = ValidityWindow::new(
//!     Timestamp::from_secs_micros(1_700_000_000, 0)?,
//!     Some(Timestamp::from_secs_micros(1_700_003_600, 0)?),
//! )?;
//! assert!(check_window_not_past(&ended, now).is_err());
//! assert!(check_window_not_past(&ValidityWindow::new(now, None)?, now).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use li_core::{DeliveryAddress, TargetIdentifier, TargetKind, Timestamp, ValidityWindow};

use super::hi3_did;
use super::store::{Refusal, Warrant, agency_name, scope_to_text};

/// A target text that is not `kind:value` of a known kind with a valid value. The message
/// gives the reason and lists the valid kinds; it does not repeat the value, which may be a
/// target identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a valid kind:value target ({reason}); valid kinds: {}",
    target_kinds()
)]
pub struct TargetError {
    /// Why `li-core` refused it.
    pub reason: li_core::Error,
}

/// A window that is entirely in the past: nothing would ever be intercepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the window ends at {end}, which is not after now ({now}): live traffic would never be \
     intercepted"
)]
pub struct WindowInPast {
    /// The window's end.
    pub end: Timestamp,
    /// The time it was checked at.
    pub now: Timestamp,
}

/// The target kinds a warrant may name, as written before the `:` (from
/// [`TargetKind::ALL`], the one list `li-core` parses), e.g. `ipv4:, ipv6:, ipv4-prefix:, ...`.
pub fn target_kinds() -> String {
    TargetKind::ALL
        .iter()
        .map(|k| format!("{k}:"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help of a target field (`li-admf warrant add --target`): the syntax and every valid
/// kind.
pub fn target_help() -> String {
    format!(
        "A target, kind:value (e.g. ipv4:192.0.2.1, ipv4-prefix:192.0.2.0/24, username:alice, \
         sip:alice@example.com, tel:+4930123456); repeatable. Kinds: {}",
        target_kinds()
    )
}

/// Parses a target typed by an operator.
///
/// # Errors
///
/// [`TargetError`]: the text is not `kind:value` of a known kind with a valid value.
pub fn parse_target(text: &str) -> Result<TargetIdentifier, TargetError> {
    text.parse().map_err(|reason| TargetError { reason })
}

/// Refuses a warrant window that is entirely in the past at `now` (it ends at or before
/// `now`). A front-end may let the operator override it, to replay a recorded capture
/// against its own time.
///
/// # Errors
///
/// [`WindowInPast`], naming the end and `now`.
pub fn check_window_not_past(window: &ValidityWindow, now: Timestamp) -> Result<(), WindowInPast> {
    match window.end() {
        Some(end) if end <= now => Err(WindowInPast { end, now }),
        _ => Ok(()),
    }
}

/// How the mediator reaches an agency's HI address: `TLS` or `plain TCP` (the agency's
/// `tls`, which the ADMF sends with the destination and the mediator applies, or refuses
/// when it has no `hi_tls`).
pub fn transport_text(address: &DeliveryAddress) -> &'static str {
    if address.tls { "TLS" } else { "plain TCP" }
}

/// The window's end, or `(open)`.
fn end_text(w: &Warrant) -> String {
    w.task
        .window()
        .end()
        .map_or_else(|| "(open)".to_owned(), |e| e.to_string())
}

/// One line of `li-admf warrant list`: LIID, state, scope, window, number of targets,
/// agencies, XID, and the NEs that refused its task.
pub fn list_line(w: &Warrant, refusals: &[Refusal]) -> String {
    let agencies: Vec<String> = w.task.destinations().iter().map(agency_name).collect();
    let mut line = format!(
        "{:<25} {:<8} {:<6} {} .. {}  {} target(s)  agencies: {}  XID {}",
        w.task.liid().to_string(),
        w.state.as_str(),
        scope_to_text(w.task.scope()),
        w.task.window().start(),
        end_text(w),
        w.task.targets().len(),
        agencies.join(", "),
        w.task.xid()
    );
    for r in refusals {
        let _ = write!(line, "  REFUSED by {}: {}", r.ne, r.reason);
    }
    line
}

/// A human-readable description of a warrant (`li-admf warrant show`), one field a line,
/// with how the mediator reaches each agency and the NEs that refused its task; it
/// includes the target identifiers, so it is for the operator's screen, never for logs.
pub fn describe(w: &Warrant, refusals: &[Refusal]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "LIID:     {}", w.task.liid());
    let _ = writeln!(out, "XID:      {}", w.task.xid());
    let _ = writeln!(out, "state:    {}", w.state);
    let _ = writeln!(out, "scope:    {}", scope_to_text(w.task.scope()));
    let _ = writeln!(out, "start:    {}", w.task.window().start());
    let _ = writeln!(out, "end:      {}", end_text(w));
    for t in w.task.targets() {
        let _ = writeln!(out, "target:   {t}");
    }
    for a in w.task.destinations() {
        let _ = write!(
            out,
            "agency:   {} (DID {}): HI2 {}:{} over {}",
            agency_name(a),
            a.id,
            a.hi2.host,
            a.hi2.port,
            transport_text(&a.hi2),
        );
        if let Some(h) = &a.hi3 {
            let _ = write!(
                out,
                ", HI3 {}:{} over {} (DID {})",
                h.host,
                h.port,
                transport_text(h),
                hi3_did(a.id)
            );
        }
        out.push('\n');
    }
    for r in refusals {
        let _ = writeln!(out, "REFUSED:  by {} at {}: {}", r.ne, r.at, r.reason);
    }
    let _ = writeln!(out, "created:  {}", w.created);
    let _ = writeln!(out, "updated:  {}", w.updated);
    out
}

#[cfg(test)]
mod tests;
