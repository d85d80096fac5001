//! The run's work files under `work/run=…/`: what Plan decided, what each batch produced
//! or why it failed. Written by the Lambdas, read back by Summarize.

use crate::arn::PrincipalType;
use crate::history::{Changes, RunRef};
use crate::input::{Discovery, Granularity, PollOptions, ReportOptions};
use crate::model::{JobError, JobStatus};
use crate::recommend::{Action, Recommendation};
use crate::report::{PrincipalReport, ServiceReport, Usage};
use crate::selection::Skipped;
use serde::{Deserialize, Serialize};

/// Written by Plan under the run's work prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub run_id: String,
    pub dt: String,
    pub started_at: String,
    pub granularity: Granularity,
    /// The batch size used: the requested one, or smaller to fit one invocation's budget.
    pub batch_size: u32,
    #[serde(default)]
    pub batch_size_requested: u32,
    pub max_concurrency: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_requests_per_second: Option<f64>,
    pub poll: PollOptions,
    pub report: ReportOptions,
    pub explicit_arns: u32,
    pub discover: Option<Discovery>,
    pub principals: u32,
    pub batches: u32,
    /// What the run scans, as an id ([`crate::history::scope_of`]): runs compare only
    /// with runs of the same scope.
    #[serde(default)]
    pub scope: String,
    /// The previous completed run at this granularity: what reports' `changes` compare
    /// against (absent on the first such run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<RunRef>,
    /// The organization run's selection (absent: the stack's own account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<crate::input::Organization>,
    /// Accounts resolved (1 outside an organization run).
    #[serde(default)]
    pub accounts: u32,
    /// Principals discovery listed but skipped (gone before their tags were read, or an
    /// ARN IAM accepts and this scanner can't parse), each with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

/// One principal's outcome, as Write saw it: its report's counts and, compact, each
/// granted service's class. Summarize folds these into the summary, the run's page and
/// the run's index (`principals.json`, which `ila diff` and the next run read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalOutcome {
    pub arn: String,
    #[serde(rename = "type")]
    pub principal_type: PrincipalType,
    pub status: JobStatus,
    pub report_key: String,
    /// The account it was scanned in (schema 3.0; empty in an older index).
    #[serde(default)]
    pub account: String,
    pub services_granted: u32,
    pub services_active: u32,
    pub services_stale: u32,
    pub services_never_used: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    #[serde(default)]
    pub services: Vec<ServiceCell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// With `report.recommendations`: what they add up to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended: Option<Recommended>,
}

/// A report's recommendations, counted for the summary.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Recommended {
    pub recommendations: u32,
    /// Distinct services the recommendations take away.
    pub services_removable: u32,
    pub policies_to_detach: u32,
    /// Roles to delete, passwords to remove, access keys to deactivate.
    pub unused_credentials: u32,
    /// Set when nothing was judged (fail closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// One line per recommendation, for the run's page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
}

/// `UPDATE_POLICY inline policy "x": removes ec2, sns`, and the like.
fn line(rec: &Recommendation) -> String {
    let action = serde_json::to_value(rec.action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let what = match (&rec.policy, &rec.access_key_id) {
        (Some(p), _) => format!(" {:?} ({})", p.name, p.arn.as_deref().unwrap_or("inline")),
        (None, Some(key)) => format!(" {key}"),
        (None, None) => String::new(),
    };
    let removes = if rec.removes.services.is_empty() {
        String::new()
    } else {
        format!(": removes {}", rec.removes.services.join(", "))
    };
    format!("{action}{what}{removes}")
}

impl Recommended {
    fn of(report: &PrincipalReport) -> Option<Recommended> {
        let recs = report.recommendations.as_ref()?;
        let mut services = std::collections::BTreeSet::new();
        let mut r = Recommended {
            recommendations: recs.len() as u32,
            withheld: report.recommendations_withheld.clone(),
            ..Recommended::default()
        };
        for rec in recs {
            services.extend(rec.removes.services.iter().cloned());
            match rec.action {
                Action::DetachPolicy => r.policies_to_detach += 1,
                Action::DeletePrincipal
                | Action::DeactivateAccessKey
                | Action::RemoveConsolePassword => r.unused_credentials += 1,
                _ => {}
            }
        }
        r.services_removable = services.len() as u32;
        r.lines = recs.iter().map(line).collect();
        if let Some(why) = &r.withheld {
            r.lines.push(format!("no recommendation: {why}"));
        }
        Some(r)
    }
}

impl PrincipalOutcome {
    /// Stale or never used: the services worth cutting.
    pub fn services_unused(&self) -> u32 {
        self.services_stale + self.services_never_used
    }

    /// The outcome of a stored report.
    pub fn of(report: &PrincipalReport, report_key: String) -> PrincipalOutcome {
        let f = &report.findings;
        PrincipalOutcome {
            arn: report.arn.clone(),
            principal_type: report.principal_type,
            status: report.job.status,
            report_key,
            account: report.scanned_account.clone(),
            services_granted: f.services_granted,
            services_active: f.services_active,
            services_stale: f.services_stale,
            services_never_used: f.services_never_used,
            error: report.job.error.clone(),
            services: report.services.iter().map(ServiceCell::of).collect(),
            changes: report.changes.clone(),
            recommended: Recommended::of(report),
        }
    }
}

/// One granted service of a principal, as the page and `ila diff` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCell {
    pub ns: String,
    pub class: Usage,
    /// Days since the last use (IAM's, or the one history kept); `None`: never used.
    pub days: Option<i64>,
    /// The last use: IAM's, or `last_authenticated_ever`'s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// The policies granting it, as `name (TYPE)`, when the run asked for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// ACTION_LEVEL: its tracked actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionCell {
    pub action: String,
    pub class: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

impl ServiceCell {
    fn of(s: &ServiceReport) -> ServiceCell {
        ServiceCell {
            ns: s.namespace.clone(),
            class: s.usage,
            days: s.days_since_last_authenticated,
            last: s
                .last_authenticated
                .clone()
                .or_else(|| s.last_authenticated_ever.as_ref().map(|e| e.time.clone())),
            policies: s
                .granting_policies
                .iter()
                .flatten()
                .map(|p| format!("{} ({})", p.policy_name, p.policy_type))
                .collect(),
            actions: s
                .tracked_actions
                .iter()
                .flatten()
                .map(|a| ActionCell {
                    action: a.action.clone(),
                    class: a.usage,
                    last: a
                        .last_accessed_time
                        .clone()
                        .or_else(|| a.last_accessed_ever.as_ref().map(|e| e.time.clone())),
                })
                .collect(),
        }
    }
}

/// Written by Write for each batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    pub index: u32,
    pub principals: Vec<PrincipalOutcome>,
}

/// Why the batches' Map failed, as Step Functions reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// A batch that failed beyond its retries, as the child's Catch saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFailure {
    pub index: u32,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// A Step Functions error and the Lambda's message, short: `Error: message` (the cause's
/// `errorMessage` when it is a Lambda's error document, cut before the SDK's debug dump,
/// at most 600 characters).
pub fn failed_briefly(error: Option<&str>, cause: Option<&str>) -> String {
    let message = cause
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .or_else(|| cause.map(str::to_string))
        .unwrap_or_default();
    let message = message
        .split(" (ServiceError(")
        .next()
        .unwrap_or_default()
        .to_string();
    cut_to(format!("{}: {message}", error.unwrap_or("an error")), 600)
}

/// `text`, cut to at most `max` bytes (on a character boundary) with `…` when longer.
pub fn cut_to(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// A Step Functions error and cause, as one phrase: `Error: Cause`.
pub fn what_failed(error: Option<&str>, cause: Option<&str>) -> String {
    format!("{}: {}", error.unwrap_or("an error"), cause.unwrap_or(""))
}

/// One account of a run, as Plan resolved it: the outer Map's item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountItem {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Organizations' status (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`); `ACTIVE` for the
    /// stack's own account outside an organization run.
    pub status: String,
    #[serde(default)]
    pub ou_path: String,
    /// The member role; `None`: the stack's own account, through its reader role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The account's batches are numbered from here, so batch indices (and the work
    /// files named by them) are unique across the run.
    pub first_batch: u32,
    /// Whether its reader is probed before its batches (organization runs: the run's
    /// own preflight probes the stack's reader otherwise).
    #[serde(default)]
    pub probe: bool,
}

/// Whether Plan could plan an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    Planned,
    /// Its member role is missing or refuses us, or the account is not ACTIVE.
    Unreachable,
}

/// What Plan found in one account, under `work/run=…/accounts/ID/account.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    #[serde(flatten)]
    pub item: AccountItem,
    pub state: AccountState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub principals: u32,
    pub batches: u32,
    pub batch_size: u32,
    #[serde(default)]
    pub skipped: Vec<crate::selection::Skipped>,
}
