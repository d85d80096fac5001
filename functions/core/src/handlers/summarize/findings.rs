//! Summarize's Security Hub findings (`report.security_hub`): each principal's finding
//! sent as its outcome is folded, and the archive of those that had one.
//!
//! Who had a finding: the previous run's index, which Summarize already streams to tell
//! who is gone. A principal the previous run of its account found with something unused
//! had an ACTIVE finding (if that run did not send it, archiving an unknown `Id` only
//! stores an archived finding); now clean (COMPLETED with nothing unused, or NOT_FOUND) or
//! gone, it gets the same `Id` ARCHIVED. Memory: 8 bytes per clean principal (their ARNs
//! hashed, like the run's scope), and the 100 findings of one call.

use crate::adapters::deadline::Deadline;
use crate::adapters::security_hub::FindingSink;
use crate::domain::arn::PrincipalType;
use crate::domain::clock::utc;
use crate::domain::job::JobStatus;
use crate::domain::outcome::PrincipalOutcome;
use crate::domain::run::PlanRecord;
use crate::domain::security_hub::{self, FindingContext, SecurityHubOutcome};
use crate::runtime::deps::SummarizeDeps;
use serde::Deserialize;
use std::collections::HashSet;
use time::OffsetDateTime;

/// The run's findings on their way to Security Hub.
pub(super) struct Findings {
    sink: FindingSink,
    ctx: FindingContext,
    /// Principals of this run with nothing unused (or gone), their ARNs hashed.
    clean: HashSet<u64>,
}

/// What `gone` and the archive need of a previous run's index: each principal, its
/// account, and whether it had something unused (the fields default: an index without
/// them archives nothing).
#[derive(Debug, Default, Deserialize)]
pub(super) struct IndexedRow {
    pub(super) arn: String,
    /// Empty in an index before schema 3.0: the ARN's account then.
    #[serde(default)]
    pub(super) account: String,
    #[serde(rename = "type", default)]
    principal_type: Option<PrincipalType>,
    #[serde(default)]
    status: Option<JobStatus>,
    #[serde(default)]
    services_stale: u32,
    #[serde(default)]
    services_never_used: u32,
    #[serde(default)]
    recommended: Option<PreviousCredentials>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PreviousCredentials {
    #[serde(default)]
    unused_credentials: u32,
}

impl IndexedRow {
    /// The previous run found something unused: the principal had an ACTIVE finding.
    fn had_unused(&self) -> bool {
        let creds = self
            .recommended
            .as_ref()
            .map_or(0, |r| r.unused_credentials);
        self.status == Some(JobStatus::Completed)
            && (self.services_stale + self.services_never_used > 0 || creds > 0)
    }
}

impl Findings {
    /// The run's findings, when it sends any: `Ok(None)` when it does not, `Err` with the
    /// outcome to record when it asked for them and this Summarize can't send them.
    pub(super) fn of_run(
        deps: &SummarizeDeps,
        plan: &PlanRecord,
        deadline: Deadline,
    ) -> Result<Option<Findings>, SecurityHubOutcome> {
        if plan.report.security_hub != Some(true) {
            return Ok(None);
        }
        let Some(hub) = &deps.security_hub else {
            let mut outcome = SecurityHubOutcome::default();
            outcome.fail(
                0,
                "this stack's Summarize may not import findings (SecurityHubFindings is false)",
            );
            return Err(outcome);
        };
        let ctx = FindingContext {
            partition: deps.config.partition.clone(),
            region: hub.region.clone(),
            account: hub.account.clone(),
            run_id: plan.run_id.clone(),
            as_of: plan.started_at.clone(),
            updated_at: utc::format(OffsetDateTime::now_utc()),
            unused_days: plan.report.unused_days,
        };
        Ok(Some(Findings {
            sink: FindingSink::new(hub.client.clone(), deadline),
            ctx,
            clean: HashSet::new(),
        }))
    }

    /// One principal of this run: its ACTIVE finding sent, or noted clean.
    pub(super) async fn principal(&mut self, o: &PrincipalOutcome, hash: u64) {
        if let Some(finding) = security_hub::active(o, &self.ctx) {
            self.sink.push(finding).await;
        } else if security_hub::is_clean(o) {
            self.clean.insert(hash);
        }
    }

    /// One row of the previous run's index: archived when it had something unused and
    /// is now clean, or gone (`in_scope` false).
    pub(super) async fn previous(&mut self, row: &IndexedRow, hash: u64, in_scope: bool) {
        if !row.had_unused() || (in_scope && !self.clean.contains(&hash)) {
            return;
        }
        let (arn, account) = (row.arn.as_str(), row.account.as_str());
        let kind = row.principal_type.or_else(|| {
            crate::domain::arn::PrincipalArn::parse(arn)
                .ok()
                .map(|a| a.kind())
        });
        let Some(kind) = kind else {
            return;
        };
        let finding = security_hub::archived(arn, kind, account, &self.ctx);
        self.sink.push(finding).await;
    }

    pub(super) async fn finish(self) -> SecurityHubOutcome {
        self.sink.finish().await
    }
}
