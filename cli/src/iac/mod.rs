//! IaC-ready recommendations (`ila recommendations RUN --iac terraform|cloudformation`):
//! each recommendation of a run as a Terraform block or a CloudFormation resource that
//! holds its recommended document, and what IaC can't say as code (a detach, a deletion)
//! as a comment naming what to remove and the AWS CLI command. Pure: text from the
//! recommendations; the command prints and writes it.

mod cloudformation;
mod hcl;
mod model;
mod names;
mod terraform;
mod yaml;

pub use model::{Snippet, Subject};

use clap::ValueEnum;
use last_accessed::domain::recommend::Recommendation;
use names::Names;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `aws_iam_*` resources (AWS provider), documents through `jsonencode`, with `import` blocks.
    Terraform,
    /// An `AWS::IAM::*` resource template (YAML).
    Cloudformation,
}

/// One principal and its recommendations.
pub struct Principal<'a> {
    pub subject: Subject<'a>,
    pub recommendations: &'a [Recommendation],
}

/// Every principal's recommendations as snippets, in order; names are unique across
/// all of them, so the whole output is one valid file.
pub fn snippets(format: Format, principals: &[Principal<'_>]) -> Vec<Vec<Snippet>> {
    let mut names = Names::default();
    principals
        .iter()
        .map(|p| {
            p.recommendations
                .iter()
                .map(|r| match format {
                    Format::Terraform => terraform::snippet(&p.subject, r, &mut names),
                    Format::Cloudformation => cloudformation::snippet(&p.subject, r, &mut names),
                })
                .collect()
        })
        .collect()
}

/// A file of one snippet: its name (the stem and the extension) and text; with
/// `before`, the scan-time version (`None` when there is none).
pub fn file(format: Format, s: &Snippet, before: bool) -> Option<(String, String)> {
    let what = s.comment.first().map_or("", String::as_str);
    let (code, comment, description) = if before {
        let comment = vec![
            "As it was at scan time: the recommendation beside before/ changes it".to_string(),
            what.to_string(),
        ];
        (
            s.before.as_ref()?,
            comment,
            format!("iam-last-accessed: as at scan time, before {what}"),
        )
    } else {
        (
            &s.code,
            s.comment.clone(),
            format!("iam-last-accessed recommendation: {what}"),
        )
    };
    let (extension, text) = match format {
        Format::Terraform if code.is_empty() => ("tf", hcl::comment(&comment)),
        Format::Terraform => ("tf", format!("{}\n{code}", hcl::comment(&comment))),
        Format::Cloudformation if code.is_empty() => ("cfn.txt", yaml::comment(&comment, 0)),
        Format::Cloudformation => (
            "cfn.yaml",
            format!(
                "{}{}Resources:\n{code}",
                yaml::comment(&comment, 0),
                template_head(&description)
            ),
        ),
    };
    Some((format!("{}.{extension}", s.stem), text))
}

fn template_head(description: &str) -> String {
    let mut description = description.to_string();
    // CloudFormation's Description holds 1,024 bytes.
    while description.len() > 1024 {
        description.pop();
    }
    format!(
        "AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: {}\n",
        yaml::string(&description)
    )
}

/// The whole output: every snippet, under a comment naming its principal. Terraform:
/// one configuration; CloudFormation: one template (only comments when none of the
/// recommendations is a resource, as a template needs one).
pub fn whole(format: Format, principals: &[Principal<'_>], snippets: &[Vec<Snippet>]) -> String {
    if principals.is_empty() {
        return hcl::comment(&["no recommendations".to_string()]);
    }
    let pairs = principals.iter().zip(snippets);
    match format {
        Format::Terraform => pairs
            .map(|(p, list)| {
                let mut out = hcl::comment(&[format!("==== {}", p.subject.arn)]);
                for s in list {
                    out += &format!("\n{}", hcl::comment(&s.comment));
                    if !s.code.is_empty() {
                        out += &format!("\n{}", s.code);
                    }
                }
                out + "\n"
            })
            .collect(),
        Format::Cloudformation => {
            let any = snippets.iter().flatten().any(|s| !s.code.is_empty());
            let indent = if any { 2 } else { 0 };
            let mut out = if any {
                template_head("iam-last-accessed: least-privilege recommendations") + "Resources:\n"
            } else {
                yaml::comment(&["no recommendation is a resource to add: what to change in your templates follows".to_string()], 0)
            };
            for (p, list) in pairs {
                out += &format!(
                    "\n{}",
                    yaml::comment(&[format!("==== {}", p.subject.arn)], indent)
                );
                for s in list {
                    out += &format!("\n{}", yaml::comment(&s.comment, indent));
                    out += &s.code;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests;
