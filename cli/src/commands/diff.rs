//! `ila diff RUN [--against RUN]`: what changed between two runs, principal by principal,
//! from the runs' indexes (`principals.json`: two reads). Without `--against`, RUN is
//! compared with the run its reports' `changes` were judged against.

use crate::failure::{self, Exit, Failure, Result};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use last_accessed::domain::keys;
use last_accessed::domain::outcome::{PrincipalOutcome, ServiceCell};
use last_accessed::domain::report::history::diff;
use last_accessed::domain::report::ClassChanges;
use last_accessed::domain::usage::Usage;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// In RUN, not in the earlier run.
    pub new: Vec<String>,
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

/// Compares two runs' indexes, with the same rules as a report's `changes`.
pub fn compare(
    run: &str,
    against: &str,
    before: &[PrincipalOutcome],
    now: &[PrincipalOutcome],
) -> RunDiff {
    let earlier: BTreeMap<&str, &PrincipalOutcome> =
        before.iter().map(|o| (o.arn.as_str(), o)).collect();
    let later: BTreeMap<&str, &PrincipalOutcome> =
        now.iter().map(|o| (o.arn.as_str(), o)).collect();
    let mut d = RunDiff {
        run: run.to_string(),
        against: against.to_string(),
        new: Vec::new(),
        gone: earlier
            .keys()
            .filter(|a| !later.contains_key(*a))
            .map(|a| a.to_string())
            .collect(),
        changed: Vec::new(),
        unchanged: 0,
        not_compared: Vec::new(),
    };
    for (arn, o) in later {
        let Some(b) = earlier.get(arn) else {
            d.new.push(arn.to_string());
            continue;
        };
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
    out += &format!(
        "{} new, {} gone, {} changed, {} unchanged, {} not compared\n",
        d.new.len(),
        d.gone.len(),
        d.changed.len(),
        d.unchanged,
        d.not_compared.len()
    );
    for (label, arns) in [("new", &d.new), ("gone", &d.gone)] {
        for arn in arns {
            out += &format!("  {label:<8}{arn}\n");
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
    let against = match (&args.against, &summary.changes.previous_run) {
        (Some(against), _) => against.clone(),
        (None, Some(previous)) => previous.run_id.clone(),
        (None, None) => {
            return Err(Failure::new(
                Exit::Failed,
                format!(
                    "run {:?} is the first completed run of its scope at {}: there is nothing to compare it with. Name an earlier run with --against.",
                    args.run,
                    summary.parameters.granularity.as_str()
                ),
            ))
        }
    };
    let (earlier, _) = stack.summary_of(&against).await?;
    let now = index(stack, &key.dt, &key.run).await?;
    let before = index(stack, &earlier.dt, &earlier.run).await?;
    let d = compare(&args.run, &against, &before, &now);
    match output {
        Output::Json => print_json(&d),
        Output::Text => print!("{}", render(&d)),
    }
    Ok(Exit::Success)
}
