//! The deployed stack as the CLI sees it: the state machine (Step Functions) and the
//! report bucket (through the core's `ReportStore`), and how runs are found in them.

use crate::failure::{self, setting, AwsError, Exit, Failure, Result};
use crate::format::date;
use crate::Cli;
use last_accessed::adapters::s3::ReportStore;
use last_accessed::domain::account::AccountRecord;
use last_accessed::domain::keys;
use last_accessed::domain::run::PlanRecord;
use last_accessed::domain::summary::RunSummary;
use serde::Serialize;

/// Principals and batches of each account record read, by key.
pub type AccountCounts = std::collections::HashMap<String, (u32, u32)>;

/// The run's batches, as its work files count them (a result or a failure per batch done).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatchCounts {
    pub total: i64,
    /// Planned and not done yet (running or not started).
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
}

impl BatchCounts {
    pub fn done(&self) -> i64 {
        self.succeeded + self.failed
    }
}

/// A run as DescribeExecution (and the run's work files) tell it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunState {
    pub run_id: String,
    pub execution_arn: String,
    pub status: String,
    pub started_at: String,
    pub stopped_at: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// `None` before Plan recorded the run (or where the bucket can't be read).
    pub batches: Option<BatchCounts>,
    /// The execution's output (SUCCEEDED only).
    #[serde(skip)]
    pub output: Option<String>,
}

impl RunState {
    pub fn is_running(&self) -> bool {
        matches!(self.status.as_str(), "RUNNING" | "PENDING_REDRIVE")
    }

    /// 0 while running or after success, 1 once it failed, timed out or was aborted.
    pub fn exit(&self) -> Exit {
        if self.is_running() || self.status == "SUCCEEDED" {
            Exit::Success
        } else {
            Exit::Failed
        }
    }
}

pub struct Stack {
    pub sfn: aws_sdk_sfn::Client,
    /// Who is calling (`ila stop` names the caller in the stop's cause).
    pub sts: aws_sdk_sts::Client,
    pub state_machine: Option<String>,
    pub store: Option<ReportStore>,
}

impl Stack {
    /// The clients; a setting a command needs but lacks fails when it is first used.
    pub async fn new(cli: &Cli) -> Stack {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let path_style =
            std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true" || v == "1");
        let s3 = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(path_style)
            .build();
        let bucket = setting(&cli.bucket, "--bucket", "REPORT_BUCKET").ok();
        Stack {
            sfn: aws_sdk_sfn::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            state_machine: cli.state_machine.clone().filter(|v| !v.is_empty()),
            store: bucket
                .map(|b| ReportStore::new(aws_sdk_s3::Client::from_conf(s3), b.to_string())),
        }
    }

    pub fn state_machine(&self) -> Result<&str> {
        setting(&self.state_machine, "--state-machine", "STATE_MACHINE_ARN")
    }

    pub fn store(&self) -> Result<&ReportStore> {
        self.store
            .as_ref()
            .ok_or_else(|| setting(&None, "--bucket", "REPORT_BUCKET").unwrap_err())
    }

    /// A run's execution ARN: the run id is the execution's name.
    pub fn execution_arn(&self, run: &str) -> Result<String> {
        Ok(execution_arn(self.state_machine()?, run))
    }

    /// Every run summary's key, by run id (one listing of `reports/runs/`).
    pub async fn summary_keys(&self) -> Result<Vec<SummaryKey>> {
        let keys = self
            .store()?
            .list_keys(keys::RUNS_PREFIX)
            .await
            .map_err(failure::store)?;
        Ok(keys.iter().filter_map(|k| SummaryKey::parse(k)).collect())
    }

    /// The key of run `run`'s summary, or `None` when it has none (yet).
    pub async fn find_summary(&self, run: &str) -> Result<Option<SummaryKey>> {
        Ok(self
            .summary_keys()
            .await?
            .into_iter()
            .find(|k| k.run == run))
    }

    pub async fn summary(&self, key: &str) -> Result<RunSummary> {
        self.store()?.get_json(key).await.map_err(failure::store)
    }

    /// The summary of `run`, which must have one.
    pub async fn summary_of(&self, run: &str) -> Result<(SummaryKey, RunSummary)> {
        let key = match self.find_summary(run).await? {
            Some(k) => k,
            None => {
                return Err(Failure::new(
                    Exit::Failed,
                    format!(
                        "run {run:?} has no summary in s3://{}/reports/runs/: it is still running, failed before Summarize, or does not exist. `ila status {run}` says which.",
                        self.store()?.bucket
                    ),
                ))
            }
        };
        let summary = self.summary(&key.key).await?;
        Ok((key, summary))
    }

    /// The sentence for an object that runs of report schema 2.0 and later write beside
    /// their summary (`what`: its name for people) and that `run` lacks; ends with `hint`.
    pub fn missing_since_2_0(&self, run: &str, key: &str, what: &str, hint: &str) -> Failure {
        let bucket = self.store().map(|s| s.bucket.as_str()).unwrap_or("?");
        Failure::new(
            Exit::Failed,
            format!("run {run:?} has no {what} (s3://{bucket}/{key}): runs before report schema 2.0 wrote none.{hint}"),
        )
    }

    /// What Plan decided for `run` (not there before Plan ran, nor after the work files expired).
    /// The run's plan record, its principals and batches summed over the accounts
    /// planned so far (each account's step records its own).
    pub async fn plan(&self, run: &str) -> Result<Option<PlanRecord>> {
        self.plan_counted(run, &mut AccountCounts::new()).await
    }

    /// [`Stack::plan`], reading each account's record once: `seen` keeps the ones read
    /// (a record is written once), so following a run of 1,000 accounts doesn't read
    /// 1,000 records every poll.
    pub async fn plan_counted(
        &self,
        run: &str,
        seen: &mut AccountCounts,
    ) -> Result<Option<PlanRecord>> {
        let store = self.store()?;
        let Some(mut plan) = store
            .get_json_opt::<PlanRecord>(&keys::plan_key(run))
            .await
            .map_err(failure::store)?
        else {
            return Ok(None);
        };
        let prefix = keys::accounts_work_prefix(run);
        for key in store.list_keys(&prefix).await.map_err(failure::store)? {
            if !keys::is_account_record_key(&key) {
                continue;
            }
            if !seen.contains_key(&key) {
                if let Some(a) = store
                    .get_json_opt::<AccountRecord>(&key)
                    .await
                    .map_err(failure::store)?
                {
                    seen.insert(key.clone(), (a.principals, a.batches));
                }
            }
            if let Some((principals, batches)) = seen.get(&key) {
                plan.principals += principals;
                plan.batches += batches;
            }
        }
        Ok(Some(plan))
    }

    /// The run's state now; `batches` only when `with_batches`.
    pub async fn describe(&self, run: &str, with_batches: bool) -> Result<RunState> {
        let stack = self;
        let execution_arn = stack.execution_arn(run)?;
        let d = stack
            .sfn
            .describe_execution()
            .execution_arn(&execution_arn)
            .send()
            .await
            .map_err(|e| {
                let e = AwsError::from_sdk("DescribeExecution", &e);
                if e.code() == "ExecutionDoesNotExist" {
                    Failure::new(
                        Exit::Failed,
                        format!(
                            "no run named {run:?} in the state machine {} ({}). `ila runs` lists the recent runs.",
                            stack.state_machine.as_deref().unwrap_or_default(),
                            e.what()
                        ),
                    )
                } else {
                    e.failure()
                }
            })?;
        let batches = if with_batches {
            // The counts are extra: where the bucket can't be read, the status still stands.
            match stack.plan(run).await {
                Ok(Some(plan)) => stack.batch_counts(run, plan.batches).await.ok(),
                _ => None,
            }
        } else {
            None
        };
        Ok(RunState {
            run_id: run.to_string(),
            execution_arn,
            status: d.status().as_str().to_string(),
            started_at: date(d.start_date()),
            stopped_at: d.stop_date().map(date),
            error: d.error().map(str::to_string),
            cause: d.cause().map(str::to_string),
            batches,
            output: d.output().map(str::to_string),
        })
    }

    /// The run's batches so far, from its work files: one result per batch done, one
    /// failure per batch failed (the same count on AWS and locally, however the Maps nest).
    pub async fn batch_counts(&self, run: &str, planned: u32) -> Result<BatchCounts> {
        let store = self.store()?;
        let count = |prefix: String| async move {
            store
                .list_keys(&prefix)
                .await
                .map(|k| k.len() as i64)
                .map_err(failure::store)
        };
        let succeeded = count(keys::results_prefix(run)).await?;
        let failed = count(keys::failures_prefix(run)).await?;
        let total = i64::from(planned).max(succeeded + failed);
        Ok(BatchCounts {
            total,
            running: total - succeeded - failed,
            succeeded,
            failed,
        })
    }

    /// The date partition (`dt=`) of run `run`: from its summary, else from its plan.
    pub async fn run_dt(&self, run: &str) -> Result<String> {
        if let Some(key) = self.find_summary(run).await? {
            return Ok(key.dt);
        }
        match self.plan(run).await? {
            Some(plan) => Ok(plan.dt),
            None => Err(Failure::new(
                Exit::Failed,
                format!(
                    "no run {run:?} in s3://{}: it has neither a summary nor a plan. `ila runs` lists the recent runs.",
                    self.store()?.bucket
                ),
            )),
        }
    }
}

pub fn execution_arn(state_machine: &str, run: &str) -> String {
    format!(
        "{}:{run}",
        state_machine.replacen(":stateMachine:", ":execution:", 1)
    )
}

/// `reports/runs/dt=DT/run=RUN/summary.json`, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryKey {
    pub key: String,
    pub dt: String,
    pub run: String,
}

impl SummaryKey {
    pub fn parse(key: &str) -> Option<SummaryKey> {
        let (dt, run) = keys::parse_summary_key(key)?;
        Some(SummaryKey {
            key: key.to_string(),
            dt: dt.to_string(),
            run: run.to_string(),
        })
    }
}
