//! Every payload the state machine moves between steps, in one place: what each step
//! is sent and what it answers. A Lambda that serves several steps is sent a tagged
//! envelope (`{"start": {…}}`, `{"account": {…}}`, …: the ASL's `Payload` names the step),
//! decoded once into its step enum, so no handler guesses its step from the fields it
//! finds.

use crate::domain::account::AccountItem;
use crate::domain::batch::{BatchEvent, BatchState};
use crate::domain::job::{JobStatus, Preflight};
use crate::domain::run::RunContext;
use crate::domain::sfn::StepFunctionsError;
use crate::domain::summary::{by_name, RunStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Plan's steps: the run's start (`Plan`), one account (`PlanAccount`), an account's
/// failure (`RecordAccountFailure`) and a round of the access report (`AccessReport`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PlanStep {
    Start(StartEvent),
    Account(AccountEvent),
    /// An incremental run's account, after its scanned batches: judge the sample and
    /// hand the batches Map the carry batches (`VerifySample`).
    VerifySample(Box<AccountOutput>),
    AccountFailed(AccountFailure),
    AccessReport(AccessReportRun),
}

/// What the state machine passes to Plan at the start of a run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartEvent {
    /// The execution input, as the person, CLI or schedule gave it.
    #[serde(default)]
    pub input: serde_json::Value,
    /// `$$.Execution.Name`: the run id.
    pub execution_name: String,
    /// `$$.Execution.StartTime`.
    pub start_time: String,
}

/// Plan's output at the start of a run: the accounts Map's input, and Summarize's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutput {
    pub run: RunContext,
    pub bucket: String,
    /// The accounts Map's item list (`AccountItem`s).
    pub accounts_key: String,
    pub accounts: u32,
    /// An organization run: each account probes its own reader.
    pub organization: bool,
    pub max_accounts_in_parallel: u32,
    /// The run makes IAM's Organizations access report (`organization.access_report`).
    #[serde(default)]
    pub access_report: bool,
    /// A doctor run (`ila doctor`): the preflight, then the end. Always written, as the
    /// state machine's Choice reads it.
    #[serde(default)]
    pub doctor: bool,
    /// A doctor run's findings (`work/run=…/doctor.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_key: Option<String>,
}

/// The accounts Map's item: one account of the run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEvent {
    pub run: RunContext,
    /// The report bucket (Plan's output carries it to every account).
    pub bucket: String,
    pub account: AccountItem,
}

/// Plan's output for one account: its batches Map's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountOutput {
    /// The run, scoped to the account.
    pub run: RunContext,
    pub bucket: String,
    pub batches_key: String,
    pub principals: u32,
    pub batches: u32,
    pub max_concurrency: u32,
    /// Anything to scan: false for an unreachable account, or one without principals.
    pub scan: bool,
    /// Probe the account's reader before its batches.
    pub probe: bool,
    /// Carry batches follow the scanned ones (an incremental run): the state machine
    /// calls VerifySample after the batches Map, then runs it again over them.
    #[serde(default)]
    pub carry: bool,
}

/// The account child's Catch: the state the failed step had, with Step Functions' error.
#[derive(Debug, Deserialize)]
pub struct AccountFailure {
    pub run: RunContext,
    #[serde(default)]
    pub account: Option<AccountItem>,
    pub failure: StepFunctionsError,
}

/// The access-report loop's event: the run's handles (Plan's output at its start) and,
/// after the first round, what the last round said (the loop's clock).
#[derive(Debug, Deserialize)]
pub struct AccessReportRun {
    pub run: RunContext,
    #[serde(default)]
    pub access_report_progress: Option<AccessReportClock>,
}

/// What a round hands the next: when the loop began, how many rounds it made, and how
/// many in a row changed nothing (the wait backs off with them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessReportClock {
    pub started_at: String,
    pub round: u32,
    #[serde(default)]
    pub idle_rounds: u32,
}

/// One round of the access report: how many entities are left, and the next wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessReportProgress {
    pub entities: u32,
    pub pending: u32,
    pub done: u32,
    pub failed: u32,
    #[serde(default)]
    pub timed_out: u32,
    pub wait_seconds: u32,
    #[serde(flatten)]
    pub clock: AccessReportClock,
}

/// What Plan answers, by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // one answer per invocation: size is moot
pub enum PlanAnswer {
    Run(PlanOutput),
    Account(Box<AccountOutput>),
    Recorded { recorded: String },
    AccessReport(AccessReportProgress),
}

/// Generate's steps: the preflight of a reader (`Preflight`, `AccountPreflight`) and a
/// batch's jobs (`Generate`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GenerateStep {
    Probe(ProbeEvent),
    Batch(BatchEvent),
}

/// A preflight: the run whose reader to probe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeEvent {
    pub run: RunContext,
}

/// What Generate answers: a batch's state, or the preflight's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GenerateOutput {
    /// Boxed: a batch's state is large beside the probe's verdict.
    Batch(Box<BatchState>),
    Probe(ProbeOutput),
}

/// What Check answers: a batch's state, or the preflight's second read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CheckOutput {
    Batch(Box<BatchState>),
    Probe(Preflight),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeOutput {
    pub reader: String,
    pub job_id: String,
    pub job_status: JobStatus,
}

/// Write's steps: a batch whose jobs are done (`Write`), or a batch that failed beyond
/// its retries (`RecordFailure`, from the child's Catch).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteStep {
    Batch(BatchState),
    Failed(FailureEvent),
}

/// The child's Catch: the state the failed step had (a batch event or a batch state),
/// with Step Functions' error under `failure`.
#[derive(Debug, Deserialize)]
pub struct FailureEvent {
    pub failure: StepFunctionsError,
    pub run: RunContext,
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub batch: Option<BatchIndex>,
}

#[derive(Debug, Deserialize)]
pub struct BatchIndex {
    pub index: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOutput {
    pub index: u32,
    pub written: u32,
    #[serde(serialize_with = "by_name")]
    pub by_status: BTreeMap<JobStatus, u32>,
}

/// Summarize's event: Plan's output, and the Map's error when the Map itself failed.
#[derive(Debug, Deserialize)]
pub struct SummarizeEvent {
    #[serde(flatten)]
    pub plan: PlanOutput,
    #[serde(default)]
    pub error: Option<StepFunctionsError>,
    /// The access-report loop's error, when it failed beyond its retries.
    #[serde(default)]
    pub access_report_error: Option<StepFunctionsError>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummarizeOutput {
    pub run_id: String,
    pub status: RunStatus,
    pub bucket: String,
    pub summary_key: String,
    pub as_of: String,
    pub principals: u32,
    pub reports_written: u32,
    #[serde(serialize_with = "by_name")]
    pub by_status: BTreeMap<JobStatus, u32>,
    /// The `Scan Finished` event's detail, which the state machine puts on the default
    /// bus (with the run's page key, the accounts not fully scanned, Security Hub's
    /// outcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_finished: Option<crate::domain::scan_finished::ScanFinished>,
}
