//! The S3 layout (DESIGN.md §4). Reports sit under Hive-style `dt=`/`run=` prefixes so
//! Athena partitions them; the run's working files sit apart under `work/`.

use crate::domain::arn::PrincipalArn;

pub const PRINCIPALS_PREFIX: &str = "reports/principals/";
pub const RUNS_PREFIX: &str = "reports/runs/";
pub const WORK_PREFIX: &str = "work/";

pub fn work_prefix(run_id: &str) -> String {
    format!("{WORK_PREFIX}run={run_id}/")
}

/// How the run ended (the `Scan Finished` event's detail), written by Summarize for the
/// state machine, which puts it on the default bus when the run ends unsuccessfully.
pub fn scan_finished_key(run_id: &str) -> String {
    format!("{}scan-finished.json", work_prefix(run_id))
}

/// What Plan decided (parameters, counts), read back by Summarize.
pub fn plan_key(run_id: &str) -> String {
    format!("{}plan.json", work_prefix(run_id))
}

pub fn results_prefix(run_id: &str) -> String {
    format!("{}results/", work_prefix(run_id))
}

/// One batch's outcome, written by Write.
pub fn result_key(run_id: &str, index: u32) -> String {
    format!("{}{index:06}.json", results_prefix(run_id))
}

pub fn failures_prefix(run_id: &str) -> String {
    format!("{}failures/", work_prefix(run_id))
}

/// Why a batch failed beyond its retries, written by Write's failure step for Summarize.
pub fn failure_key(run_id: &str, index: u32) -> String {
    format!("{}{index:06}.json", failures_prefix(run_id))
}

/// What one batch's principals hold, written by Plan for recommendations.
pub fn holdings_key(run_id: &str, index: u32) -> String {
    format!("{}holdings/{index:06}.json", work_prefix(run_id))
}

/// A finished job as Check read it, for Write.
pub fn job_key(run_id: &str, job_id: &str) -> String {
    format!("{}jobs/{}.json", work_prefix(run_id), url_safe(job_id))
}

pub fn reports_prefix(dt: &str, run_id: &str) -> String {
    format!("{PRINCIPALS_PREFIX}dt={dt}/run={run_id}/")
}

/// A principal's report: `…/dt=…/run=…/account=ACCOUNT/{type}/NAME.json` (schema 3: the
/// account scanned, which for an AWS-managed policy is the account it was judged in).
pub fn report_key(dt: &str, run_id: &str, account: &str, arn: &PrincipalArn) -> String {
    format!(
        "{}account={account}/{}/{}.json",
        reports_prefix(dt, run_id),
        arn.kind().as_str(),
        url_safe(arn.name())
    )
}

/// A principal's report in a run written before schema 3 (no `account=` level).
pub fn report_key_before_accounts(dt: &str, run_id: &str, arn: &PrincipalArn) -> String {
    format!(
        "{}{}/{}.json",
        reports_prefix(dt, run_id),
        arn.kind().as_str(),
        url_safe(arn.name())
    )
}

/// The Organizations access report's progress (its entities and their jobs).
pub fn access_state_key(run_id: &str) -> String {
    format!("{}access-report.json", work_prefix(run_id))
}

pub const ACCESS_PREFIX: &str = "reports/access/";

/// The run's Organizations access reports, one per entity.
pub fn access_reports_prefix(dt: &str, run_id: &str) -> String {
    format!("{ACCESS_PREFIX}dt={dt}/run={run_id}/")
}

/// One entity's Organizations access report (the root, an OU or an account).
pub fn access_report_key(dt: &str, run_id: &str, entity_id: &str) -> String {
    format!(
        "{}{}.json",
        access_reports_prefix(dt, run_id),
        url_safe(entity_id)
    )
}

/// The validated run input, kept for the accounts' steps (it may hold 5,000 ARNs: too
/// large for every item of the Map).
pub fn input_key(run_id: &str) -> String {
    format!("{}input.json", work_prefix(run_id))
}

/// What a doctor run's Plan found (`ila doctor`): its checks, and the accounts a scan
/// would select.
pub fn doctor_key(run_id: &str) -> String {
    format!("{}doctor.json", work_prefix(run_id))
}

/// The run's accounts, resolved by Plan: the outer Map's item list.
pub fn accounts_key(run_id: &str) -> String {
    format!("{}accounts.json", work_prefix(run_id))
}

pub fn account_prefix(run_id: &str, account: &str) -> String {
    format!("{}{account}/", accounts_work_prefix(run_id))
}

/// One account's batch list: its Map's item list.
pub fn account_batches_key(run_id: &str, account: &str) -> String {
    format!("{}batches.json", account_prefix(run_id, account))
}

/// Where the accounts' work files are (`…/accounts/ID/…`).
pub fn accounts_work_prefix(run_id: &str) -> String {
    format!("{}accounts/", work_prefix(run_id))
}

/// Whether `key` is an account's record (`…/accounts/ID/account.json`).
pub fn is_account_record_key(key: &str) -> bool {
    key.ends_with("/account.json")
}

/// What Plan's account step found (or why the account could not be read).
pub fn account_record_key(run_id: &str, account: &str) -> String {
    format!("{}account.json", account_prefix(run_id, account))
}

/// An incremental run's account: its batches of carriable principals (a second pass of
/// its batches Map, after VerifySample).
pub fn account_carry_batches_key(run_id: &str, account: &str) -> String {
    format!("{}carry-batches.json", account_prefix(run_id, account))
}

/// What the next incremental run needs of an account's principals in this run
/// (`CarryRow`s, one per report; written by Summarize).
pub fn carry_key(dt: &str, run_id: &str, account: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/carry/{account}.json")
}

/// Why an account's scan stopped before its batches (its preflight failed).
pub fn account_failure_key(run_id: &str, account: &str) -> String {
    format!("{}failure.json", account_prefix(run_id, account))
}

pub fn summary_key(dt: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/summary.json")
}

/// The run's index: every principal's outcome (compact), for the page, `ila diff` and the
/// next run's summary.
pub fn index_key(dt: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/principals.json")
}

/// The run's self-contained HTML page.
pub fn page_key(dt: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/index.html")
}

/// Every planned principal without a report, and why (summary 4.0: the summary lists
/// the first [`crate::domain::summary::LIST_CAP`]).
pub fn missing_key(dt: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/missing.json")
}

/// Every principal gone since the previous run (summary 4.0, as [`missing_key`]).
pub fn gone_key(dt: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/gone.json")
}

/// An Organization run's page of one account; the run's page is then its overview.
pub fn account_page_key(dt: &str, run_id: &str, account: &str) -> String {
    format!("{RUNS_PREFIX}dt={dt}/run={run_id}/accounts/{account}.html")
}

/// `(dt, run_id)` of a run summary's key.
pub fn parse_summary_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(RUNS_PREFIX)?.strip_prefix("dt=")?;
    let (dt, rest) = rest.split_once("/run=")?;
    let run = rest.strip_suffix("/summary.json")?;
    (!run.contains('/')).then_some((dt, run))
}

/// Percent-encodes every byte outside `[A-Za-z0-9._-]` (IAM names may hold `+=,@`).
pub fn url_safe(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_keys_are_partitioned_and_url_safe() {
        let arn = PrincipalArn::parse("arn:aws:iam::123456789012:user/ops/alice+admin@example.com")
            .unwrap();
        assert_eq!(
            report_key("2026-11-25", "run-1", "123456789012", &arn),
            "reports/principals/dt=2026-11-25/run=run-1/account=123456789012/user/alice%2Badmin%40example.com.json"
        );
        assert_eq!(
            report_key_before_accounts("2026-11-25", "run-1", &arn),
            "reports/principals/dt=2026-11-25/run=run-1/user/alice%2Badmin%40example.com.json"
        );
        let managed = PrincipalArn::parse("arn:aws:iam::aws:policy/ReadOnlyAccess").unwrap();
        assert_eq!(
            report_key("2026-11-25", "r", "111111111111", &managed),
            "reports/principals/dt=2026-11-25/run=r/account=111111111111/aws_managed_policy/ReadOnlyAccess.json"
        );
        assert_eq!(
            summary_key("2026-11-25", "r"),
            "reports/runs/dt=2026-11-25/run=r/summary.json"
        );
        assert_eq!(result_key("r", 7), "work/run=r/results/000007.json");
        assert_eq!(
            account_batches_key("r", "111111111111"),
            "work/run=r/accounts/111111111111/batches.json"
        );
        assert_eq!(
            parse_summary_key(&summary_key("2026-11-25", "r")),
            Some(("2026-11-25", "r"))
        );
        assert_eq!(
            parse_summary_key("reports/runs/dt=2026-11-25/run=r/index.html"),
            None
        );
    }
}
