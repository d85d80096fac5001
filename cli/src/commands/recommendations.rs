//! `ila recommendations RUN [--arn ARN] [--write DIR]`: a run's least-privilege
//! recommendations, policy by policy, as a before/after diff of the document; with
//! `--write`, each recommended document as a file ready for the AWS CLI.

use crate::failure::{self, Exit, Failure, Result};
use crate::stack::Stack;
use crate::{print_json, Output};
use clap::Args;
use futures::stream::{self, StreamExt, TryStreamExt};
use last_accessed::domain::keys;
use last_accessed::domain::outcome::PrincipalOutcome;
use last_accessed::domain::recommend::{Action, Recommendation};
use last_accessed::domain::report::PrincipalReport;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct RecommendationsArgs {
    /// The run (the execution's name); it must have been run with report.recommendations.
    pub run: String,
    /// Only this principal's recommendations.
    #[arg(long, value_name = "ARN")]
    pub arn: Option<String>,
    /// Write each recommended document to DIR/TYPE-NAME/KIND-POLICY.json.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrincipalRecommendations {
    pub arn: String,
    pub report_key: String,
    pub recommendations: Vec<Recommendation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<PathBuf>,
}

fn action_name(a: Action) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn pretty(v: &serde_json::Value) -> Vec<String> {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A line diff (longest common subsequence): ` ` kept, `-` removed, `+` added.
pub fn line_diff(before: &[String], after: &[String]) -> Vec<String> {
    let (n, m) = (before.len(), after.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if before[i] == after[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && before[i] == after[j] {
            out.push(format!("  {}", before[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", before[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", after[j]));
            j += 1;
        }
    }
    out
}

pub fn render(all: &[PrincipalRecommendations]) -> String {
    let count: usize = all.iter().map(|p| p.recommendations.len()).sum();
    let mut out = format!("{count} recommendations for {} principals\n", all.len());
    for p in all {
        out += &format!("\n{}\n", p.arn);
        for r in &p.recommendations {
            let what = r
                .policy
                .as_ref()
                .map(|pol| {
                    format!(
                        " {} policy {:?}",
                        serde_json::to_value(pol.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        pol.name
                    )
                })
                .or_else(|| r.access_key_id.as_ref().map(|k| format!(" {k}")))
                .unwrap_or_default();
            out += &format!("  {}{what}: {}\n", action_name(r.action), r.reason);
            if !r.removes.services.is_empty() {
                out += &format!("    removes {}\n", r.removes.services.join(", "));
            }
            if !r.removes.actions.is_empty() {
                out += &format!("    removes actions {}\n", r.removes.actions.join(", "));
            }
            for k in &r.kept {
                let why = serde_json::to_value(k.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                out += &format!("    keeps {} ({why})\n", k.action);
            }
            if let Some(doc) = &r.recommended_document {
                let before = r.current_document.as_ref().map(pretty).unwrap_or_default();
                for line in line_diff(&before, &pretty(doc)) {
                    out += &format!("    {line}\n");
                }
            }
        }
        for path in &p.written {
            out += &format!("  wrote {}\n", path.display());
        }
    }
    out
}

fn write_documents(
    dir: &Path,
    report: &PrincipalReport,
    recs: &[Recommendation],
) -> Result<Vec<PathBuf>> {
    let folder = dir.join(format!(
        "{}-{}",
        report.principal_type.as_str(),
        keys::url_safe(&report.name)
    ));
    let mut written = Vec::new();
    for r in recs {
        let (Some(doc), Some(policy)) = (&r.recommended_document, &r.policy) else {
            continue;
        };
        std::fs::create_dir_all(&folder)
            .and_then(|_| {
                // The kind first: an inline policy may share an AWS-managed policy's name.
                let kind = serde_json::to_value(policy.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let path = folder.join(format!("{kind}-{}.json", keys::url_safe(&policy.name)));
                std::fs::write(
                    &path,
                    serde_json::to_string_pretty(doc).unwrap_or_default() + "\n",
                )?;
                written.push(path);
                Ok(())
            })
            .map_err(|e| {
                Failure::new(
                    Exit::Failed,
                    format!(
                        "could not write under {}: {e}. Pick another --write.",
                        folder.display()
                    ),
                )
            })?;
    }
    Ok(written)
}

pub async fn recommendations(
    stack: &Stack,
    args: &RecommendationsArgs,
    output: Output,
) -> Result<Exit> {
    let (key, summary) = stack.summary_of(&args.run).await?;
    if !summary.parameters.report.recommendations {
        return Err(Failure::new(
            Exit::Failed,
            format!(
                "run {:?} was not run with recommendations. Start one with {{\"report\": {{\"recommendations\": true}}}} in the run input.",
                args.run
            ),
        ));
    }
    let store = stack.store()?;
    let index: Vec<PrincipalOutcome> = store
        .get_json(&keys::index_key(&key.dt, &key.run))
        .await
        .map_err(failure::store)?;
    let wanted: Vec<PrincipalOutcome> = index
        .into_iter()
        .filter(|o| {
            o.recommended
                .as_ref()
                .is_some_and(|r| r.recommendations > 0)
        })
        .filter(|o| args.arn.as_ref().is_none_or(|a| *a == o.arn))
        .collect();
    let reports: Vec<PrincipalReport> = stream::iter(wanted.iter())
        .map(|o| async move { store.get_json::<PrincipalReport>(&o.report_key).await })
        .buffered(16)
        .try_collect()
        .await
        .map_err(failure::store)?;
    let mut all = Vec::new();
    for (o, report) in wanted.iter().zip(reports) {
        let recommendations = report.recommendations.clone().unwrap_or_default();
        let written = match &args.write {
            Some(dir) => write_documents(dir, &report, &recommendations)?,
            None => Vec::new(),
        };
        all.push(PrincipalRecommendations {
            arn: o.arn.clone(),
            report_key: o.report_key.clone(),
            recommendations,
            written,
        });
    }
    match output {
        Output::Json => print_json(&all),
        Output::Text => print!("{}", render(&all)),
    }
    Ok(Exit::Success)
}
