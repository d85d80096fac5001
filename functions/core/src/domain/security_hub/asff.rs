//! The ASFF shapes a finding is sent in (field names as BatchImportFindings takes
//! them), and what a run's findings came to.

use crate::domain::sfn::cut_to;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SeverityLabel {
    Informational,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordState {
    Active,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Severity {
    pub label: SeverityLabel,
    /// The provider's own word for it: what made it this severe.
    pub original: String,
}

/// `FindingProviderFields`: where a finding provider sets severity and types (Security
/// Hub keeps a customer's BatchUpdateFindings changes of the top-level ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderFields {
    pub severity: Severity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// `AwsIamRole`, `AwsIamUser`, `AwsIamGroup` or `AwsIamPolicy`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The principal's ARN.
    pub id: String,
    pub partition: String,
    pub region: String,
}

/// One ASFF finding, as BatchImportFindings takes it (field names as in the JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub title: String,
    pub description: String,
    pub resources: Vec<Resource>,
    pub product_fields: BTreeMap<String, String>,
    pub record_state: RecordState,
    pub finding_provider_fields: ProviderFields,
}

/// What the run's Security Hub findings came to (the summary's `security_hub`, 4.1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SecurityHubOutcome {
    /// ACTIVE findings Security Hub accepted (one per principal with something unused).
    pub imported: u64,
    /// ARCHIVED findings Security Hub accepted (principals clean or gone since).
    pub archived: u64,
    /// Findings not accepted: refused one by one, in a failed call, or never sent.
    pub failed: u64,
    /// BatchImportFindings calls made.
    pub calls: u64,
    /// The first error, when some finding was not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SecurityHubOutcome {
    /// `n` findings not accepted, and why (the first reason is kept).
    pub fn fail(&mut self, n: u64, why: impl Into<String>) {
        self.failed += n;
        if self.error.is_none() {
            self.error = Some(cut_to(why.into(), 1000));
        }
    }
}
