//! A principal's credentials judged: DELETE_PRINCIPAL for an unused role (never a vital
//! one), REMOVE_CONSOLE_PASSWORD and DEACTIVATE_ACCESS_KEY for a user's unused ones; and
//! access advisor's lag (a use too recent to be in the report yet).

use crate::domain::arn::PrincipalType;
use crate::domain::clock::utc;
use crate::domain::recommend::{
    days_before, min_age_days, vital, Action, Holdings, Judgement, Recommendation, Subject,
};
use time::OffsetDateTime;

/// IAM's access advisor lags: "Recent activity usually appears within four hours"
/// (GenerateServiceLastAccessedDetails, IAM API Reference).
pub const ADVISOR_LAG: time::Duration = time::Duration::hours(4);

/// A use of the principal (RoleLastUsed, a user's password or access key) in the four
/// hours before `as_of`, or after it: the report may not show the service it used yet,
/// so nothing is judged until a later scan (`recent_activity: …`).
pub(super) fn recent_activity(as_of: OffsetDateTime, holdings: &Holdings) -> Option<String> {
    let credentials = holdings.credentials.as_ref();
    let uses = [("RoleLastUsed", holdings.role_last_used.as_deref())]
        .into_iter()
        .chain(credentials.map(|c| ("the console password", c.password_last_used.as_deref())))
        .chain(
            credentials
                .into_iter()
                .flat_map(|c| &c.access_keys)
                .map(|k| ("an access key", k.last_used.as_deref())),
        );
    for (what, last) in uses {
        let Some(time) = last else { continue };
        if utc::parse(time).is_some_and(|t| t > as_of - ADVISOR_LAG) {
            return Some(format!(
                "recent_activity: {what} was used at {time}, within the 4 hours before the run's as_of when access advisor may not show the service it used yet; judged at a later scan"
            ));
        }
    }
    None
}

/// DELETE_PRINCIPAL for an unused role; REMOVE_CONSOLE_PASSWORD and
/// DEACTIVATE_ACCESS_KEY for a user's unused credentials.
pub(super) fn judge_credentials(j: &mut Judgement, s: &Subject<'_>, holdings: &Holdings) {
    let unused_days = s.options.unused_days;
    let min_age = min_age_days(s.options);
    let stale = |last: Option<&str>| match last {
        None => Some("never used".to_string()),
        Some(t) => days_before(s.as_of, t)
            .filter(|d| *d >= i64::from(unused_days))
            .map(|d| format!("last used {d} days before the run ({t})")),
    };
    // A role its own report shows in use is not unused, whatever RoleLastUsed says.
    let in_use = s.view.services.iter().any(|svc| svc.used);
    let is_role = s.arn.kind() == PrincipalType::Role;
    let vital = is_role
        .then(|| vital::vital_role(s.arn.name(), &holdings.trusted_services, s.own_roles))
        .flatten();
    if let Some(vital) = &vital {
        for r in &mut j.recommendations {
            r.reason = format!("{vital}: review with care. {}", r.reason);
        }
    }
    if is_role && !in_use {
        if let Some(why) = stale(holdings.role_last_used.as_deref()) {
            j.unused_credentials.push("role".into());
            match vital {
                Some(vital) => {
                    j.withheld = Some(format!(
                        "{vital}: never DELETE_PRINCIPAL, though the role was {why}; its policy recommendations stand"
                    ))
                }
                None => j.recommendations.push(Recommendation::new(
                    Action::DeletePrincipal,
                    format!("the role was {why} (RoleLastUsed, tracked for 400 days; unused_days {unused_days})"),
                )),
            }
        }
    }
    let Some(c) = &holdings.credentials else {
        return;
    };
    let young = |t: Option<&str>| {
        t.and_then(|t| days_before(s.as_of, t))
            .is_some_and(|age| age < i64::from(min_age))
    };
    if c.password_enabled && !young(c.password_last_changed.as_deref()) {
        if let Some(why) = stale(c.password_last_used.as_deref()) {
            j.unused_credentials.push("password".into());
            j.recommendations.push(Recommendation::new(
                Action::RemoveConsolePassword,
                format!(
                    "the console password was {why} (PasswordLastUsed; unused_days {unused_days})"
                ),
            ));
        }
    }
    for key in &c.access_keys {
        let Some(why) = stale(key.last_used.as_deref()).filter(|_| !young(key.created.as_deref()))
        else {
            continue;
        };
        match &key.id {
            Some(id) => {
                j.unused_credentials.push(format!("access_key:{id}"));
                let mut r = Recommendation::new(
                    Action::DeactivateAccessKey,
                    format!(
                        "the access key was {why} (credential report; unused_days {unused_days})"
                    ),
                );
                r.access_key_id = Some(id.clone());
                j.recommendations.push(r);
            }
            None => j.notes.push(format!(
                "an active access key created {} was {why}, but its id was not found",
                key.created.as_deref().unwrap_or("at an unknown time")
            )),
        }
    }
}
