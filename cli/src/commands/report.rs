//! `ila report ARN [--run RUN]`: one principal's report as a table of its services, their
//! usage and last use. Without --run: the newest run that has a report for it.

use crate::failure::{self, Exit, Failure, Result};
use crate::format::table;
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use last_accessed::domain::arn::{PrincipalArn, PrincipalType};
use last_accessed::domain::keys;
use last_accessed::domain::report::PrincipalReport;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The principal's ARN (user, role, group or managed policy).
    #[arg(value_parser = parse_arn)]
    pub arn: PrincipalArn,
    /// The run to read it from; default: the newest run with a report for it.
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
}

fn parse_arn(text: &str) -> std::result::Result<PrincipalArn, String> {
    PrincipalArn::parse(text).map_err(|e| e.to_string())
}

pub async fn report(stack: &Stack, args: &ReportArgs, output: Output) -> Result<Exit> {
    let (key, report) = match &args.run {
        Some(run) => in_run(stack, &args.arn, run).await?,
        None => newest(stack, &args.arn).await?,
    };
    match output {
        Output::Json => print_json(&report),
        Output::Text => print!("{}", render(&report, &stack.store()?.bucket, &key)),
    }
    Ok(Exit::Success)
}

/// The principal's report in one run: under its account's `account=` level (schema 3),
/// else where a run before organization scans put it.
async fn report_in(
    stack: &Stack,
    dt: &str,
    run: &str,
    arn: &PrincipalArn,
) -> Result<Option<(String, PrincipalReport)>> {
    let store = stack.store()?;
    let mut candidates = vec![
        keys::report_key(dt, run, arn.account(), arn),
        keys::report_key_before_accounts(dt, run, arn),
    ];
    if arn.kind() == PrincipalType::AwsManagedPolicy {
        // Judged in each account scanned: the first account's report (the keys name them all).
        let suffix = format!("/aws_managed_policy/{}.json", keys::url_safe(arn.name()));
        let mut found: Vec<String> = store
            .list_keys(&keys::reports_prefix(dt, run))
            .await
            .map_err(failure::store)?
            .into_iter()
            .filter(|k| k.ends_with(&suffix))
            .collect();
        found.sort();
        candidates.splice(0..0, found);
    }
    for key in candidates {
        if let Some(r) = store
            .get_json_opt::<PrincipalReport>(&key)
            .await
            .map_err(failure::store)?
        {
            return Ok(Some((key, r)));
        }
    }
    Ok(None)
}

async fn in_run(stack: &Stack, arn: &PrincipalArn, run: &str) -> Result<(String, PrincipalReport)> {
    match report_in(stack, &stack.run_dt(run).await?, run, arn).await? {
        Some(found) => Ok(found),
        None => Err(Failure::new(
            Exit::Failed,
            format!(
                "run {run} has no report for {arn}: it was not in the run's scope, or its batch failed (`ila summary {run}` names the principals without a report)."
            ),
        )),
    }
}

/// The report of the newest date partition that has one, the latest written among that
/// day's runs.
async fn newest(stack: &Stack, arn: &PrincipalArn) -> Result<(String, PrincipalReport)> {
    let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for k in stack.summary_keys().await? {
        by_day.entry(k.dt).or_default().push(k.run);
    }
    for (dt, runs) in by_day.iter().rev() {
        let mut found: Option<(String, PrincipalReport)> = None;
        for run in runs {
            if let Some((key, r)) = report_in(stack, dt, run, arn).await? {
                if found
                    .as_ref()
                    .is_none_or(|(_, f)| r.generated_at > f.generated_at)
                {
                    found = Some((key, r));
                }
            }
        }
        if let Some(found) = found {
            return Ok(found);
        }
    }
    Err(Failure::new(
        Exit::Failed,
        format!(
            "no run has a report for {arn} ({} runs with a summary searched). Scan it with `ila run --arn {arn}`.",
            by_day.values().map(Vec::len).sum::<usize>()
        ),
    ))
}

fn or_dash(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

pub fn render(r: &PrincipalReport, bucket: &str, key: &str) -> String {
    let f = &r.findings;
    let mut out = format!("{} {} ({})\n", r.principal_type.as_str(), r.name, r.arn);
    out += &format!(
        "run {}, as of {}, {}; stale = last used {}+ days ago\n",
        r.run_id,
        r.as_of,
        r.job.granularity.as_str(),
        f.unused_days
    );
    out += &format!(
        "{} services granted: {} active, {} stale, {} never used\n",
        f.services_granted, f.services_active, f.services_stale, f.services_never_used
    );
    if let Some(e) = &r.job.error {
        out += &format!("job {}: {}: {}\n", r.job.status.as_str(), e.code, e.message);
    }
    out += &format!("report: s3://{bucket}/{key}\n\n");
    let mut rows = Vec::new();
    for s in &r.services {
        rows.push(vec![
            s.namespace.clone(),
            s.usage.as_str().to_string(),
            or_dash(
                s.last_authenticated
                    .as_deref()
                    .or(s.last_authenticated_ever.as_ref().map(|e| e.time.as_str())),
            ),
            s.days_since_last_authenticated
                .map_or("-".into(), |d| d.to_string()),
            or_dash(s.last_authenticated_region.as_deref()),
            or_dash(s.last_authenticated_entity.as_deref()),
        ]);
        for a in s.tracked_actions.iter().flatten() {
            rows.push(vec![
                format!("  {}", a.action),
                a.usage.as_str().to_string(),
                or_dash(
                    a.last_accessed_time
                        .as_deref()
                        .or(a.last_accessed_ever.as_ref().map(|e| e.time.as_str())),
                ),
                String::new(),
                or_dash(a.last_accessed_region.as_deref()),
                or_dash(a.last_accessed_entity.as_deref()),
            ]);
        }
    }
    if rows.is_empty() {
        out += "no services granted\n";
    } else {
        out += &table(
            &["SERVICE", "USAGE", "LAST USED", "DAYS AGO", "REGION", "BY"],
            &rows,
        );
    }
    out
}
