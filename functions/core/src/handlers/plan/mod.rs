//! Plan, one Lambda for four steps of the state machine, each in its file: the run's
//! start (`start`: validate the input, resolve the accounts), one account of the
//! accounts Map (`account`: its discovery and batches), an account's failure
//! (`account_failed`), and a round of the Organizations access report
//! (`access_report`); a doctor run's start is `doctor`'s checks instead. The ASL names the step in the payload's envelope ([`PlanStep`]).

mod access_report;
mod account;
mod account_failed;
mod doctor;
mod incremental;
mod start;

use crate::adapters::deadline::Deadline;
use crate::error::Error;
use crate::handlers::decode;
use crate::handlers::events::{PlanAnswer, PlanStep};
use crate::runtime::deps::PlanDeps;

/// Runs the step the event names, within the invocation's `deadline`.
#[tracing::instrument(skip(deps, event, deadline))]
pub async fn handle(
    deps: &PlanDeps,
    event: serde_json::Value,
    function_arn: Option<&str>,
    deadline: Deadline,
) -> Result<PlanAnswer, Error> {
    match decode::<PlanStep>("event", event)? {
        PlanStep::Start(start) => start::plan_run(deps, start, function_arn, deadline)
            .await
            .map(PlanAnswer::Run),
        PlanStep::Account(event) => {
            account::plan_account_step(deps, event.run, event.account, deadline)
                .await
                .map(|out| PlanAnswer::Account(Box::new(out)))
        }
        PlanStep::VerifySample(output) => incremental::verify_sample(&deps.store, *output)
            .await
            .map(|out| PlanAnswer::Account(Box::new(out))),
        PlanStep::AccountFailed(failed) => account_failed::record(deps, failed).await,
        PlanStep::AccessReport(event) => access_report::round(deps, event)
            .await
            .map(PlanAnswer::AccessReport),
    }
}
