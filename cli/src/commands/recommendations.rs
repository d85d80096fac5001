//! `ila recommendations RUN [--arn ARN] [--write DIR] [--iac terraform|cloudformation]`:
//! a run's least-privilege recommendations, policy by policy, as a before/after diff of
//! the document; with `--write`, each recommended document as a file ready for the AWS
//! CLI; with `--iac`, each recommendation as Terraform or CloudFormation instead of the
//! diff (and with `--write`, those files beside the documents, and under `before/` the
//! document as it was at scan time).

use crate::failure::{self, Exit, Failure, Result};
use crate::iac::{self, Format, Principal, Snippet, Subject};
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
    /// Print each recommendation as Terraform or CloudFormation instead of the diff; with
    /// --write, also write them beside the documents (KIND-POLICY.tf, .cfn.yaml) and the
    /// scan-time document under before/.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub iac: Option<Format>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrincipalRecommendations {
    pub arn: String,
    pub report_key: String,
    pub recommendations: Vec<Recommendation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<PathBuf>,
    /// With --iac: each recommendation's code, as its file would hold it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub iac: Vec<IacFile>,
}

/// One recommendation as IaC (`--iac` with `--output json`).
#[derive(Debug, Clone, Serialize)]
pub struct IacFile {
    pub action: Action,
    /// Its file's name under DIR/TYPE-NAME/ (`--write`).
    pub file: String,
    pub code: String,
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

/// DIR/TYPE-NAME: where a principal's files go.
fn folder(dir: &Path, report: &PrincipalReport) -> PathBuf {
    dir.join(format!(
        "{}-{}",
        report.principal_type.as_str(),
        keys::url_safe(&report.name)
    ))
}

fn write_file(path: PathBuf, text: &str) -> Result<PathBuf> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .and_then(|_| std::fs::write(&path, text))
        .map_err(|e| {
            Failure::new(
                Exit::Failed,
                format!(
                    "could not write under {}: {e}. Pick another --write.",
                    parent.display()
                ),
            )
        })?;
    Ok(path)
}

fn pretty_text(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

fn write_documents(
    dir: &Path,
    report: &PrincipalReport,
    recs: &[Recommendation],
) -> Result<Vec<PathBuf>> {
    let folder = folder(dir, report);
    let mut written = Vec::new();
    for r in recs {
        let (Some(doc), Some(policy)) = (&r.recommended_document, &r.policy) else {
            continue;
        };
        // The kind first: an inline policy may share an AWS-managed policy's name.
        let kind = serde_json::to_value(policy.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let path = folder.join(format!("{kind}-{}.json", keys::url_safe(&policy.name)));
        written.push(write_file(path, &pretty_text(doc))?);
    }
    Ok(written)
}

/// Each snippet's file beside the documents; under before/, the scan-time document and
/// its snippet (UPDATE_POLICY).
fn write_iac(
    dir: &Path,
    report: &PrincipalReport,
    format: Format,
    recs: &[Recommendation],
    snippets: &[Snippet],
) -> Result<Vec<PathBuf>> {
    let folder = folder(dir, report);
    let before = folder.join("before");
    let mut written = Vec::new();
    for (r, s) in recs.iter().zip(snippets) {
        if let Some((name, text)) = iac::file(format, s, false) {
            written.push(write_file(folder.join(name), &text)?);
        }
        if let Some(doc) = &r.current_document {
            let path = before.join(format!("{}.json", s.stem));
            written.push(write_file(path, &pretty_text(doc))?);
        }
        if let Some((name, text)) = iac::file(format, s, true) {
            written.push(write_file(before.join(name), &text)?);
        }
    }
    Ok(written)
}

fn subject(report: &PrincipalReport) -> Subject<'_> {
    Subject {
        arn: &report.arn,
        kind: report.principal_type,
        name: &report.name,
        account: &report.account,
    }
}

/// The run's principals with recommendations (or the one `--arn` names) and their reports.
async fn reports_of(
    stack: &Stack,
    args: &RecommendationsArgs,
) -> Result<(Vec<PrincipalOutcome>, Vec<PrincipalReport>)> {
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
    Ok((wanted, reports))
}

/// One principal's recommendations, with what `--write` wrote of them and, with
/// `--iac`, their code.
fn principal(
    args: &RecommendationsArgs,
    outcome: &PrincipalOutcome,
    report: &PrincipalReport,
    recs: &[Recommendation],
    snippets: Option<&[Snippet]>,
) -> Result<PrincipalRecommendations> {
    let mut written = match &args.write {
        Some(dir) => write_documents(dir, report, recs)?,
        None => Vec::new(),
    };
    let mut code = Vec::new();
    if let (Some(format), Some(list)) = (args.iac, snippets) {
        if let Some(dir) = &args.write {
            written.extend(write_iac(dir, report, format, recs, list)?);
        }
        code = list
            .iter()
            .filter_map(|s| {
                iac::file(format, s, false).map(|(file, code)| IacFile {
                    action: s.action,
                    file,
                    code,
                })
            })
            .collect();
    }
    Ok(PrincipalRecommendations {
        arn: outcome.arn.clone(),
        report_key: outcome.report_key.clone(),
        recommendations: recs.to_vec(),
        written,
        iac: code,
    })
}

pub async fn recommendations(
    stack: &Stack,
    args: &RecommendationsArgs,
    output: Output,
) -> Result<Exit> {
    let (wanted, reports) = reports_of(stack, args).await?;
    let recommendations: Vec<Vec<Recommendation>> = reports
        .iter()
        .map(|r| r.recommendations.clone().unwrap_or_default())
        .collect();
    let principals: Vec<Principal<'_>> = reports
        .iter()
        .zip(&recommendations)
        .map(|(report, recs)| Principal {
            subject: subject(report),
            recommendations: recs,
        })
        .collect();
    let snippets = args
        .iac
        .map(|format| iac::snippets(format, &principals))
        .unwrap_or_default();
    let mut all = Vec::new();
    for (i, (o, report)) in wanted.iter().zip(&reports).enumerate() {
        let list = snippets.get(i).map(Vec::as_slice);
        all.push(principal(args, o, report, &recommendations[i], list)?);
    }
    match (output, args.iac) {
        (Output::Json, _) => print_json(&all),
        (Output::Text, None) => print!("{}", render(&all)),
        (Output::Text, Some(format)) => {
            // The code alone on stdout (one file: `> recommendations.tf`); what was
            // written on stderr.
            print!("{}", iac::whole(format, &principals, &snippets));
            for path in all.iter().flat_map(|p| &p.written) {
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(Exit::Success)
}
