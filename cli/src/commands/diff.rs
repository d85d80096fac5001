//! `ila diff RUN [--against RUN]`: what changed between two runs, principal by principal,
//! from the runs' indexes (`principals.json`). Without `--against`, each account's
//! principals are compared with the run they were judged against (the latest earlier
//! run that scanned the account). Principals of an account one of the runs could not
//! read are not compared: never new, never gone. A principal whose unique id differs
//! from its ARN's in the earlier run was deleted and re-created: new (and `recreated`),
//! never compared with the principal it replaced.

use crate::failure::{self, Exit, Failure, Result};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use last_accessed::domain::account::AccountStatus;
use last_accessed::domain::arn::PrincipalArn;
use last_accessed::domain::keys;
use last_accessed::domain::outcome::{PrincipalOutcome, ServiceCell};
use last_accessed::domain::report::history::diff;
use last_accessed::domain::report::ClassChanges;
use last_accessed::domain::run::RunRef;
use last_accessed::domain::summary::RunSummary;
use last_accessed::domain::usage::Usage;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The run to look at (the execution's name).
    pub run: String,
    /// The earlier run to compare with; default: RUN's previous run (same scope and
    /// granularity), the one its reports' `changes` name.
    #[arg(long, value_name = "RUN")]
    pub against: Option<String>,
}

/// One principal that changed between the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalDiff {
    pub arn: String,
    #[serde(flatten)]
    pub services: ClassChanges,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<ClassChanges>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDiff {
    pub run: String,
    pub against: String,
    /// In RUN, not in the earlier run (or re-created since).
    pub new: Vec<String>,
    /// Of `new`, those the earlier run had under another unique id (`principal_id`).
    pub recreated: Vec<String>,
    /// In the earlier run, not in RUN.
    pub gone: Vec<String>,
    pub changed: Vec<PrincipalDiff>,
    pub unchanged: u32,
    /// In both, but not COMPLETED in one of them: nothing to compare.
    pub not_compared: Vec<String>,
}

fn classes(cells: &[ServiceCell]) -> BTreeMap<String, Usage> {
    cells.iter().map(|c| (c.ns.clone(), c.class)).collect()
}

fn action_classes(cells: &[ServiceCell]) -> BTreeMap<String, Usage> {
    cells
        .iter()
        .flat_map(|c| &c.actions)
        .map(|a| (a.action.clone(), a.class))
        .collect()
}

/// The account a principal of an index was scanned in (an index before schema 3.0
/// names none: its ARN's).
fn account_of(o: &PrincipalOutcome) -> String {
    if o.account.is_empty() {
        PrincipalArn::parse(&o.arn)
            .map(|a| a.account().to_string())
            .unwrap_or_default()
    } else {
        o.account.clone()
    }
}

/// The accounts a run did not read (UNREACHABLE in its summary).
fn unread(summary: &RunSummary) -> BTreeSet<String> {
    summary
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Unreachable)
        .map(|a| a.id.to_string())
        .collect()
}

/// Compares two runs' indexes, with the same rules as a report's `changes`. A principal
/// of an account in `unread` (not read by one of the runs) is not compared: never new,
/// never gone.
pub fn compare<'a>(
    run: &str,
    against: &str,
    before: &'a [PrincipalOutcome],
    now: &'a [PrincipalOutcome],
    unread: &BTreeSet<String>,
) -> RunDiff {
    // By account and ARN: an AWS-managed policy is judged in each account scanned.
    let by_key =
        |all: &'a [PrincipalOutcome]| -> BTreeMap<(String, &'a str), &'a PrincipalOutcome> {
            all.iter()
                .map(|o| ((account_of(o), o.arn.as_str()), o))
                .collect()
        };
    let earlier = by_key(before);
    let later = by_key(now);
    let read = |o: &PrincipalOutcome| !unread.contains(&account_of(o));
    let mut d = RunDiff {
        run: run.to_string(),
        against: against.to_string(),
        new: Vec::new(),
        recreated: Vec::new(),
        gone: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
        not_compared: Vec::new(),
    };
    for (key, b) in &earlier {
        let arn = key.1;
        if !later.contains_key(key) {
            let list = if read(b) {
                &mut d.gone
            } else {
                &mut d.not_compared
            };
            list.push(arn.to_string());
        }
    }
    for (key, o) in &later {
        let arn = key.1;
        let Some(b) = earlier.get(key) else {
            let list = if read(o) {
                &mut d.new
            } else {
                &mut d.not_compared
            };
            list.push(arn.to_string());
            continue;
        };
        if let (Some(was), Some(is)) = (&b.principal_id, &o.principal_id) {
            if was != is {
                d.new.push(arn.to_string());
                d.recreated.push(arn.to_string());
                continue;
            }
        }
        if !(o.status.is_completed() && b.status.is_completed()) {
            d.not_compared.push(arn.to_string());
            continue;
        }
        let services = diff(&classes(&b.services), &classes(&o.services));
        let (ab, an) = (action_classes(&b.services), action_classes(&o.services));
        let actions = (!ab.is_empty() || !an.is_empty()).then(|| diff(&ab, &an));
        if services.is_empty() && actions.as_ref().is_none_or(ClassChanges::is_empty) {
            d.unchanged += 1;
        } else {
            d.changed.push(PrincipalDiff {
                arn: arn.to_string(),
                services,
                actions,
            });
        }
    }
    d
}

fn lines(out: &mut String, label: &str, names: &[String]) {
    if !names.is_empty() {
        out.push_str(&format!("    {label:<17}{}\n", names.join(", ")));
    }
}

fn class_lines(out: &mut String, prefix: &str, c: &ClassChanges) {
    lines(out, &format!("{prefix}newly used"), &c.newly_used);
    lines(out, &format!("{prefix}newly stale"), &c.newly_stale);
    lines(
        out,
        &format!("{prefix}newly never used"),
        &c.newly_never_used,
    );
    lines(out, &format!("{prefix}granted added"), &c.granted_added);
    lines(out, &format!("{prefix}granted removed"), &c.granted_removed);
}

pub fn render(d: &RunDiff) -> String {
    let mut out = format!("run {} against {}\n", d.run, d.against);
    let recreated = match d.recreated.len() {
        0 => String::new(),
        n => format!(" ({n} re-created)"),
    };
    out += &format!(
        "{} new{recreated}, {} gone, {} changed, {} unchanged, {} not compared\n",
        d.new.len(),
        d.gone.len(),
        d.changed.len(),
        d.unchanged,
        d.not_compared.len()
    );
    for (label, arns) in [("new", &d.new), ("gone", &d.gone)] {
        for arn in arns {
            let again = if label == "new" && d.recreated.contains(arn) {
                " (re-created: another unique id)"
            } else {
                ""
            };
            out += &format!("  {label:<8}{arn}{again}\n");
        }
    }
    for c in &d.changed {
        out += &format!("  changed {}\n", c.arn);
        class_lines(&mut out, "", &c.services);
        if let Some(a) = &c.actions {
            class_lines(&mut out, "actions ", a);
        }
    }
    out
}

async fn index(stack: &Stack, dt: &str, run: &str) -> Result<Vec<PrincipalOutcome>> {
    let key = keys::index_key(dt, run);
    stack
        .store()?
        .get_json_opt(&key)
        .await
        .map_err(failure::store)?
        .ok_or_else(|| {
            stack.missing_since_2_0(run, &key, "index", " Pick a later run with --against.")
        })
}

pub async fn run_diff(stack: &Stack, args: &DiffArgs, output: Output) -> Result<Exit> {
    let (key, summary) = stack.summary_of(&args.run).await?;
    let now = index(stack, &key.dt, &key.run).await?;
    let d = match &args.against {
        Some(against) => {
            let (earlier_key, earlier) = stack.summary_of(against).await?;
            let before = index(stack, &earlier_key.dt, &earlier_key.run).await?;
            let unread = &unread(&summary) | &unread(&earlier);
            compare(&args.run, against, &before, &now, &unread)
        }
        None => {
            let previous = summary.changes.previous_run.as_ref().ok_or_else(|| {
                Failure::new(
                    Exit::Failed,
                    format!(
                        "run {:?} is the first run of its scope at {}: there is nothing to compare it with. Name an earlier run with --against.",
                        args.run,
                        summary.parameters.granularity.as_str()
                    ),
                )
            })?;
            let before = previous_rows(stack, &summary, previous).await?;
            compare(
                &args.run,
                &previous.run_id,
                &before,
                &now,
                &unread(&summary),
            )
        }
    };
    match output {
        Output::Json => print_json(&d),
        Output::Text => print!("{}", render(&d)),
    }
    Ok(Exit::Success)
}

/// Each account's principals in the earlier run its reports were compared with (the
/// summary's `accounts[].previous_run`, schema 3.1; else the run's previous run): each
/// earlier index read once.
async fn previous_rows(
    stack: &Stack,
    summary: &RunSummary,
    previous: &RunRef,
) -> Result<Vec<PrincipalOutcome>> {
    let per_account: BTreeMap<String, &RunRef> = summary
        .accounts
        .iter()
        .filter_map(|a| Some((a.id.to_string(), a.previous_run.as_ref()?)))
        .collect();
    if per_account.is_empty() {
        return index(stack, &previous.dt, &previous.run_id).await;
    }
    let mut runs: BTreeMap<&str, &RunRef> = BTreeMap::new();
    for run in per_account.values() {
        runs.insert(run.run_id.as_str(), run);
    }
    let mut rows = Vec::new();
    for run in runs.values() {
        let earlier = index(stack, &run.dt, &run.run_id).await?;
        rows.extend(earlier.into_iter().filter(|o| {
            per_account
                .get(&account_of(o))
                .is_some_and(|p| p.run_id == run.run_id)
        }));
    }
    Ok(rows)
}
