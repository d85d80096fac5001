//! Carried or scanned: the rule (docs/design.md, "Incremental scans").
//!
//! A principal is carried when its previous report (the account's first previous run,
//! same scope and granularity) is COMPLETED, is the same principal (`principal_id`),
//! its permissions did not move (fingerprint), its IAM data is younger than
//! `full_refresh_days`, and nothing of it was used since that data was current:
//! every authentication IAM records in bulk is older than the data's time minus IAM's
//! four hours and the longest session that authentication could have opened.
//!
//! A group or managed policy some of whose users or roles were used since is carried
//! on their word instead (`Carry::Witnessed`): they are scanned first, this run, and
//! Generate carries it only when their fresh reports show no use, since its data, of
//! any service it grants (`carried::witnessed_unchanged`).

use crate::domain::clock::utc;
use crate::domain::incremental::fingerprint::hash;
use crate::domain::incremental::{
    CarryRow, ADVISOR_LAG_HOURS, ROLE_SESSION_HOURS, USER_SESSION_HOURS,
};
use crate::domain::job::JobStatus;
use crate::domain::recommend::Holdings;
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};

/// What IAM says in bulk of an account's authentications: each role's RoleLastUsed and
/// each principal's policies and groups (GetAccountAuthorizationDetails), each user's
/// latest password or access-key use (the credential report, and when it was made).
pub struct Activity<'a> {
    holdings: &'a BTreeMap<String, Holdings>,
    users: &'a BTreeMap<String, Option<String>>,
    users_as_of: Option<OffsetDateTime>,
    /// This run's `as_of`.
    pub as_of: OffsetDateTime,
    /// A group's members, by the group's name.
    members: BTreeMap<&'a str, Vec<&'a str>>,
    /// A managed policy's entities, by its ARN.
    attached_to: BTreeMap<&'a str, Vec<&'a str>>,
}

fn before(last: Option<&str>, limit: OffsetDateTime) -> bool {
    match last {
        None => true,
        Some(t) => utc::parse(t).is_some_and(|t| t < limit),
    }
}

/// At most this many witnesses for one group or policy: past it, its own job costs
/// less than reading theirs.
pub const MAX_WITNESSES: usize = 32;

fn kind(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    resource.split('/').next().unwrap_or_default()
}

impl<'a> Activity<'a> {
    /// `users`: a user's latest use of its password or any access key (active or not),
    /// `None` for none (a user missing is not known to be quiet); `users_as_of`: when
    /// the credential report was generated (`None`: none read).
    pub fn new(
        holdings: &'a BTreeMap<String, Holdings>,
        users: &'a BTreeMap<String, Option<String>>,
        users_as_of: Option<OffsetDateTime>,
        as_of: OffsetDateTime,
    ) -> Self {
        let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut attached_to: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (arn, h) in holdings {
            for g in &h.groups {
                members.entry(g.as_str()).or_default().push(arn);
            }
            for p in &h.attached {
                attached_to.entry(p.as_str()).or_default().push(arn);
            }
        }
        Activity {
            holdings,
            users,
            users_as_of,
            as_of,
            members,
            attached_to,
        }
    }

    /// Nothing of `arn` was used since `since` (its data's time), as far as IAM's bulk
    /// reads can tell; when they can't tell, it was.
    pub fn quiet(&self, arn: &str, since: OffsetDateTime) -> bool {
        let lag = Duration::hours(ADVISOR_LAG_HOURS);
        let Some(h) = self.holdings.get(arn) else {
            return false;
        };
        match kind(arn) {
            "role" => before(
                h.role_last_used.as_deref(),
                since - lag - Duration::hours(ROLE_SESSION_HOURS),
            ),
            "user" => self.user_quiet(arn, since),
            "group" => self
                .members_of(arn)
                .iter()
                .all(|member| self.quiet(member, since)),
            "policy" => self
                .entities_of(arn)
                .iter()
                .all(|entity| self.quiet(entity, since)),
            _ => false,
        }
    }

    fn members_of(&self, group: &str) -> &[&'a str] {
        let name = group.rsplit('/').next().unwrap_or_default();
        self.members.get(name).map_or(&[][..], Vec::as_slice)
    }

    fn entities_of(&self, policy: &str) -> &[&'a str] {
        self.attached_to.get(policy).map_or(&[][..], Vec::as_slice)
    }

    /// The users and roles acting for a group (its members) or a managed policy (its
    /// users and roles, and its groups' members) that were used since `since`: whose
    /// fresh reports can say whether any of that use went through it. `None` when `arn`
    /// is neither, none was used (it is quiet), or more than `MAX_WITNESSES` were.
    pub fn witnesses(&self, arn: &str, since: OffsetDateTime) -> Option<Vec<String>> {
        let acting: Vec<&str> = match kind(arn) {
            "group" => self.members_of(arn).to_vec(),
            "policy" => self
                .entities_of(arn)
                .iter()
                .flat_map(|e| match kind(e) {
                    "group" => self.members_of(e).to_vec(),
                    _ => vec![*e],
                })
                .collect(),
            _ => return None,
        };
        let used: std::collections::BTreeSet<String> = acting
            .into_iter()
            .filter(|a| !self.quiet(a, since))
            .map(str::to_string)
            .collect();
        (!used.is_empty() && used.len() <= MAX_WITNESSES).then(|| used.into_iter().collect())
    }

    /// A user's credentials unused since its data (`since`) less IAM's lag and a key's
    /// session, by a credential report made after that data and at most four hours before
    /// this run: its own age is a lag (uses after it is made are not in it), and a report
    /// older than the data (IAM serves the same report for four hours) says nothing of
    /// the time since.
    fn user_quiet(&self, arn: &str, since: OffsetDateTime) -> bool {
        let limit = since - Duration::hours(ADVISOR_LAG_HOURS + USER_SESSION_HOURS);
        let current = self.users_as_of.is_some_and(|made| {
            made > since && self.as_of - made <= Duration::hours(ADVISOR_LAG_HOURS)
        });
        current
            && self
                .users
                .get(arn)
                .is_some_and(|last| before(last.as_deref(), limit))
    }
}

/// Why a principal is scanned, not carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScanReason {
    NotInPreviousRun,
    PreviousNotCompleted,
    OtherPrincipal,
    PermissionsChanged,
    DataTooOld,
    NoEntities,
    UsedSince,
}

/// What the previous run and this one say of one principal.
pub struct Candidate<'a> {
    pub arn: &'a str,
    pub principal_id: Option<&'a str>,
    pub fingerprint: Option<&'a str>,
    pub previous: Option<&'a CarryRow>,
}

/// How a principal the rule carries is carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carry {
    /// Nothing of it was used since its data.
    Quiet,
    /// A group or managed policy some of whose users or roles were used since: carried
    /// when their fresh reports (scanned first, this run) show no use of its services
    /// since its data; else scanned after them.
    Witnessed(Vec<String>),
}

/// The rule, for one principal: carried (`Ok`), or scanned and why.
pub fn decide(
    c: &Candidate<'_>,
    activity: &Activity<'_>,
    full_refresh_days: u32,
    wants_entities: bool,
) -> Result<Carry, ScanReason> {
    let row = c.previous.ok_or(ScanReason::NotInPreviousRun)?;
    if row.status != JobStatus::Completed {
        return Err(ScanReason::PreviousNotCompleted);
    }
    match (c.principal_id, row.principal_id.as_deref()) {
        (Some(now), Some(then)) if now == then => {}
        _ => return Err(ScanReason::OtherPrincipal),
    }
    match (c.fingerprint, row.fingerprint.as_deref()) {
        (Some(now), Some(then)) if now == then => {}
        _ => return Err(ScanReason::PermissionsChanged),
    }
    let data = row
        .data_as_of
        .as_deref()
        .and_then(utc::parse)
        .ok_or(ScanReason::DataTooOld)?;
    if activity.as_of - data >= Duration::days(i64::from(full_refresh_days)) {
        return Err(ScanReason::DataTooOld);
    }
    let grouped = c.arn.contains(":group/") || c.arn.contains(":policy/");
    if wants_entities && grouped && !row.entities {
        return Err(ScanReason::NoEntities);
    }
    if activity.quiet(c.arn, data) {
        return Ok(Carry::Quiet);
    }
    activity
        .witnesses(c.arn, data)
        .map(Carry::Witnessed)
        .ok_or(ScanReason::UsedSince)
}

/// The sample of the carriable `arns` scanned anyway: `percent` of them, at least one,
/// drawn by the run id (the same run draws the same sample).
pub fn sample<'a>(arns: &[&'a str], percent: f64, run_id: &str) -> Vec<&'a str> {
    if arns.is_empty() {
        return Vec::new();
    }
    let wanted = (arns.len() as f64 * percent / 100.0).ceil() as usize;
    let mut drawn: Vec<(String, &str)> = arns
        .iter()
        .map(|a| (hash(&format!("{run_id}\n{a}")), *a))
        .collect();
    drawn.sort();
    drawn
        .into_iter()
        .take(wanted.clamp(1, arns.len()))
        .map(|(_, a)| a)
        .collect()
}
