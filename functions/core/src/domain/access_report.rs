//! IAM's Organizations access report (the SCP view): for the root, each OU and each
//! account of an organization run, which services the principals under it used and
//! when, and which none used — the candidates for an SCP deny. Asked from the management
//! account (`GenerateOrganizationsAccessReport` / `GetOrganizationsAccessReport`), a few
//! jobs at a time: IAM answers `ReportGenerationLimitExceeded` when too many are pending,
//! and the state machine loops (Plan's access-report step, a Wait) until all are done.

use serde::{Deserialize, Serialize};

pub const ACCESS_REPORT_SCHEMA_VERSION: &str = "1.0.0";

/// Where one entity's report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityState {
    /// Not generated yet (the pending-report limit, or not reached yet).
    Waiting,
    Pending,
    Done,
    Failed,
    /// Still waiting or pending when the loop's deadline passed
    /// (`organization.access_report_timeout_seconds`).
    TimedOut,
}

/// `organization.access_report_timeout_seconds`: the loop's default deadline, and its range.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 3600;
pub const TIMEOUT_SECONDS_RANGE: (u32, u32) = (60, 86_400);

/// The longest wait between two rounds: rounds without news back off to it.
pub const MAX_WAIT_SECONDS: u32 = 300;

/// The wait before the next round: 5 s after a round that changed something (reports
/// come and go), else 30 s doubling with each idle round up to [`MAX_WAIT_SECONDS`]; never
/// past the deadline (`remaining` seconds) by more than a second.
pub fn next_wait(changed: bool, idle_rounds: u32, remaining: u64) -> u32 {
    let wait = if changed {
        5
    } else {
        30u32
            .saturating_mul(1 << idle_rounds.saturating_sub(1).min(4))
            .min(MAX_WAIT_SECONDS)
    };
    wait.min(remaining.saturating_add(1).min(u64::from(u32::MAX)) as u32)
        .max(1)
}

/// The most rounds a loop makes: at ~9 history events a round (Task, Choice, Wait), 2,000
/// rounds keep the parent execution well under Step Functions' 25,000 events whatever the
/// Organization's size. Rounds without news back off, so an idle loop makes at most
/// [`idle_rounds`] before its deadline; rounds with news (a report started or finished)
/// are what could reach the cap, in an Organization of thousands of OUs and accounts: the
/// entities left then are TIMED_OUT, as at the deadline.
pub const MAX_ROUNDS: u32 = 2_000;
const _: () = assert!(
    9 * MAX_ROUNDS + 5_000 < 25_000,
    "the parent's history holds the loop"
);

/// How many rounds a loop that never changes anything makes before `timeout_seconds`.
pub fn idle_rounds(timeout_seconds: u32) -> u32 {
    let (mut t, mut rounds) = (0u64, 0u32);
    while t < u64::from(timeout_seconds) {
        rounds += 1;
        t += u64::from(next_wait(false, rounds, u64::from(timeout_seconds) - t));
    }
    rounds
}

/// One entity of the report: `o-…/r-…[/ou-…]*[/ACCOUNT]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityJob {
    pub entity_path: String,
    pub state: EntityState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_key: Option<String>,
    #[serde(default)]
    pub services_used: u32,
    #[serde(default)]
    pub services_never_used: u32,
}

impl EntityJob {
    /// The job failed: IAM's error, or ours.
    pub fn fail(&mut self, why: String) {
        self.state = EntityState::Failed;
        self.error = Some(why);
    }

    /// The loop's deadline passed before the job finished.
    pub fn time_out(&mut self, why: String) {
        self.state = EntityState::TimedOut;
        self.error = Some(why);
    }

    /// The job's report is stored at `report_key`.
    pub fn done(&mut self, report: &EntityReport, report_key: String) {
        self.services_used = (report.services.len() - report.never_used.len()) as u32;
        self.services_never_used = report.never_used.len() as u32;
        self.report_key = Some(report_key);
        self.state = EntityState::Done;
    }

    pub fn new(entity_path: String) -> EntityJob {
        EntityJob {
            entity_path,
            state: EntityState::Waiting,
            job_id: None,
            error: None,
            report_key: None,
            services_used: 0,
            services_never_used: 0,
        }
    }

    /// The last element of the path: a root, OU or account id (unique in the Organization).
    pub fn entity_id(&self) -> &str {
        self.entity_path.rsplit('/').next().unwrap_or_default()
    }

    /// `root`, `ou` or `account`.
    pub fn entity_type(&self) -> &'static str {
        let id = self.entity_id();
        if id.starts_with("r-") {
            "root"
        } else if id.starts_with("ou-") {
            "ou"
        } else {
            "account"
        }
    }
}

/// The entities of a run's report: its roots, the OUs above its accounts, its accounts.
/// `ou_paths` are the accounts' `r-…/ou-…` paths (`OrgAccount::ou_path`).
pub fn entities(org_id: &str, accounts: &[(String, String)]) -> Vec<EntityJob> {
    let mut paths = std::collections::BTreeSet::new();
    for (id, ou_path) in accounts {
        let mut path = org_id.to_string();
        for unit in ou_path.split('/').filter(|u| !u.is_empty()) {
            path = format!("{path}/{unit}");
            paths.insert(path.clone());
        }
        paths.insert(format!("{path}/{id}"));
    }
    // Roots first, then OUs top down, then accounts: shortest paths first.
    let mut paths: Vec<String> = paths.into_iter().collect();
    paths.sort_by_key(|p| (p.matches('/').count(), p.clone()));
    paths.into_iter().map(EntityJob::new).collect()
}

/// Whether any principal under an entity used a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessUsage {
    Used,
    /// No principal under the entity used it in IAM's tracking period (about 400
    /// days): a candidate for an SCP deny.
    NeverUsed,
}

impl AccessUsage {
    /// `Used` when IAM gave a last use.
    pub fn of(last_authenticated: Option<&str>) -> Self {
        if last_authenticated.is_some() {
            AccessUsage::Used
        } else {
            AccessUsage::NeverUsed
        }
    }
}

/// What IAM said of a finished job besides its services.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobHead {
    pub created: Option<String>,
    pub completed: Option<String>,
    pub services_accessible: Option<i32>,
    pub services_not_accessed: Option<i32>,
}

/// One service of an entity's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessedService {
    pub namespace: String,
    pub name: String,
    pub usage: AccessUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_authenticated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account (entity path) that used it last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_authenticated_entity_path: Option<String>,
    /// Accounts under the entity that used it (IAM's `TotalAuthenticatedEntities`).
    #[serde(default)]
    pub total_authenticated_entities: i32,
}

impl EntityReport {
    /// The report of `job` from its services (any order) and IAM's head of the job.
    pub fn new(
        run_id: &str,
        job: &EntityJob,
        job_id: &str,
        head: JobHead,
        mut services: Vec<AccessedService>,
    ) -> Self {
        services.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        let never_used = services
            .iter()
            .filter(|s| s.usage == AccessUsage::NeverUsed)
            .map(|s| s.namespace.clone())
            .collect();
        EntityReport {
            schema_version: ACCESS_REPORT_SCHEMA_VERSION.into(),
            run_id: run_id.into(),
            entity_path: job.entity_path.clone(),
            entity_type: job.entity_type().into(),
            job_id: job_id.into(),
            created: head.created,
            completed: head.completed,
            services_accessible: head.services_accessible,
            services_not_accessed: head.services_not_accessed,
            services,
            never_used,
        }
    }
}

/// `reports/access/dt=…/run=…/ENTITY.json`: one entity's access report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityReport {
    pub schema_version: String,
    pub run_id: String,
    pub entity_path: String,
    pub entity_type: String,
    pub job_id: String,
    pub created: Option<String>,
    pub completed: Option<String>,
    pub services_accessible: Option<i32>,
    pub services_not_accessed: Option<i32>,
    pub services: Vec<AccessedService>,
    /// Namespaces no principal under the entity used: the SCP deny candidates.
    pub never_used: Vec<String>,
}

/// The Organizations access report of a run (schema 3.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessReportSummary {
    pub entities: u32,
    pub done: u32,
    pub failed: u32,
    /// Entities still unfinished at the loop's deadline (schema 3.2).
    #[serde(default)]
    pub timed_out: u32,
    /// `reports/access/dt=…/run=…/`: one report per entity.
    pub reports_prefix: String,
    /// Why the access-report loop stopped, when it failed beyond its retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every entity: its path, state, report key, services used and never used.
    pub lines: Vec<crate::domain::access_report::EntityJob>,
}

impl AccessReportSummary {
    /// The summary of the access report's entities; `error` when the loop failed.
    pub fn of(lines: Vec<EntityJob>, reports_prefix: String, error: Option<String>) -> Self {
        let count = |s: EntityState| lines.iter().filter(|j| j.state == s).count() as u32;
        AccessReportSummary {
            entities: lines.len() as u32,
            done: count(EntityState::Done),
            failed: count(EntityState::Failed),
            timed_out: count(EntityState::TimedOut),
            reports_prefix,
            error,
            lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_the_roots_the_ous_above_the_accounts_and_the_accounts() {
        let got = entities(
            "o-abcdefghij",
            &[
                ("111111111111".into(), "r-ab12/ou-ab12-aaaaaaaa".into()),
                (
                    "222222222222".into(),
                    "r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb".into(),
                ),
                ("333333333333".into(), "r-ab12".into()),
            ],
        );
        let paths: Vec<&str> = got.iter().map(|e| e.entity_path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "o-abcdefghij/r-ab12",
                "o-abcdefghij/r-ab12/333333333333",
                "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa",
                "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa/111111111111",
                "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb",
                "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb/222222222222",
            ]
        );
        assert_eq!(got[0].entity_type(), "root");
        assert_eq!(got[2].entity_type(), "ou");
        assert_eq!(got[1].entity_type(), "account");
        assert!(got.iter().all(|e| e.state == EntityState::Waiting));
    }

    #[test]
    fn the_loop_backs_off_and_never_waits_past_its_deadline() {
        assert_eq!(next_wait(true, 0, 3600), 5);
        let idle: Vec<u32> = (1..=7).map(|i| next_wait(false, i, 86_400)).collect();
        assert_eq!(idle, [30, 60, 120, 240, 300, 300, 300]);
        assert_eq!(
            next_wait(false, 3, 10),
            11,
            "the deadline's round comes on time"
        );
        assert_eq!(next_wait(true, 0, 0), 1);
        // An idle loop at the longest deadline makes ~300 rounds, far under the cap; the
        // cap's rounds fit the parent's history (25,000 events, ~9 a round) with room for
        // the rest of the run.
        assert_eq!(idle_rounds(60), 2);
        assert!(
            idle_rounds(86_400) <= 86_400 / MAX_WAIT_SECONDS + 6,
            "{}",
            idle_rounds(86_400)
        );
        assert!(idle_rounds(86_400) < MAX_ROUNDS);
    }
}
