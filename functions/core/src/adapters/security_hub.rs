//! Security Hub's BatchImportFindings: the run's findings sent as Summarize folds them, in
//! calls of at most 100 findings and 6 MB (Security Hub's limits), paced below its 10
//! requests a second, within Summarize's budget. Throttling (`LimitExceededException`,
//! `TooManyRequestsException`, HTTP 429) is retried by the SDK's standard retries. A
//! refusal is counted and kept in the outcome; it never fails the scan.

use crate::adapters::deadline::Deadline;
use crate::adapters::pacing::Pacer;
use crate::domain::security_hub::{
    Finding, RecordState, SecurityHubOutcome, MAX_BYTES_PER_CALL, MAX_FINDINGS_PER_CALL,
    MAX_FINDING_BYTES,
};
use aws_sdk_securityhub::error::ProvideErrorMetadata;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, FindingProviderFields, FindingProviderSeverity, Partition,
    RecordState as SdkRecordState, Resource, SeverityLabel as SdkLabel,
};
use std::collections::HashMap;

/// BatchImportFindings calls a second: half Security Hub's 10 (burst 30) per account and
/// Region, which the account's other finding providers share.
pub const CALLS_PER_SECOND: f64 = 5.0;

/// Where the findings go: the client and the run's budget.
pub struct FindingSink {
    client: aws_sdk_securityhub::Client,
    pacer: Pacer,
    deadline: Deadline,
    pending: Vec<Finding>,
    pending_bytes: usize,
    outcome: SecurityHubOutcome,
}

impl FindingSink {
    pub fn new(client: aws_sdk_securityhub::Client, deadline: Deadline) -> FindingSink {
        FindingSink {
            client,
            pacer: Pacer::new(CALLS_PER_SECOND, 1),
            deadline,
            pending: Vec::with_capacity(MAX_FINDINGS_PER_CALL),
            pending_bytes: 0,
            outcome: SecurityHubOutcome::default(),
        }
    }

    /// Queues a finding; sends the queue when it holds a call's worth.
    pub async fn push(&mut self, finding: Finding) {
        let bytes = serde_json::to_vec(&finding).map_or(usize::MAX, |b| b.len());
        if bytes > MAX_FINDING_BYTES {
            let why = format!("finding {} is {bytes} bytes, above 240 KB", finding.id);
            self.outcome.fail(1, why);
            return;
        }
        // The request's own JSON adds a few bytes a finding.
        if self.pending_bytes + bytes + 1024 > MAX_BYTES_PER_CALL {
            self.flush().await;
        }
        self.pending_bytes += bytes + 8;
        self.pending.push(finding);
        if self.pending.len() >= MAX_FINDINGS_PER_CALL {
            self.flush().await;
        }
    }

    /// Sends what is queued and gives back what the run's findings came to.
    pub async fn finish(mut self) -> SecurityHubOutcome {
        self.flush().await;
        self.outcome
    }

    async fn flush(&mut self) {
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        if self.deadline.budget_left().is_zero() {
            let why = "Summarize's time budget ran out before these findings were sent";
            self.outcome.fail(n, why);
            return;
        }
        self.pacer.acquire().await;
        let states: HashMap<String, RecordState> = batch
            .iter()
            .map(|f| (f.id.clone(), f.record_state))
            .collect();
        let findings: Vec<AwsSecurityFinding> = batch.into_iter().map(to_sdk).collect();
        self.outcome.calls += 1;
        let sent = self
            .client
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await;
        match sent {
            Ok(out) => {
                let failed = out.failed_findings();
                if let Some(first) = failed.first() {
                    let why = format!(
                        "BatchImportFindings refused {}: {}: {}",
                        first.id().unwrap_or_default(),
                        first.error_code().unwrap_or_default(),
                        first.error_message().unwrap_or_default()
                    );
                    self.outcome.fail(failed.len() as u64, why);
                }
                let refused: Vec<&str> = failed.iter().filter_map(|f| f.id()).collect();
                for (id, state) in &states {
                    if refused.contains(&id.as_str()) {
                        continue;
                    }
                    match state {
                        RecordState::Active => self.outcome.imported += 1,
                        RecordState::Archived => self.outcome.archived += 1,
                    }
                }
            }
            Err(e) => {
                let why = format!(
                    "BatchImportFindings: {}: {}",
                    e.code().unwrap_or("no error code"),
                    e.message().unwrap_or(&e.to_string())
                );
                tracing::warn!(error = why, findings = n, "findings not imported");
                self.outcome.fail(n, why);
            }
        }
    }
}

/// The SDK's finding, field for field.
fn to_sdk(f: Finding) -> AwsSecurityFinding {
    let severity = FindingProviderSeverity::builder()
        .label(SdkLabel::from(label(&f)))
        .original(f.finding_provider_fields.severity.original.clone())
        .build();
    let provider = FindingProviderFields::builder()
        .severity(severity)
        .set_types(Some(f.finding_provider_fields.types.clone()))
        .build();
    let resources = f
        .resources
        .iter()
        .map(|r| {
            Resource::builder()
                .r#type(r.kind.clone())
                .id(r.id.clone())
                .partition(Partition::from(r.partition.as_str()))
                .region(r.region.clone())
                .build()
        })
        .collect();
    let state = match f.record_state {
        RecordState::Active => SdkRecordState::Active,
        RecordState::Archived => SdkRecordState::Archived,
    };
    AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(f.id)
        .product_arn(f.product_arn)
        .generator_id(f.generator_id)
        .aws_account_id(f.aws_account_id)
        .set_types(Some(f.types))
        .created_at(f.created_at)
        .updated_at(f.updated_at)
        .title(f.title)
        .description(f.description)
        .set_resources(Some(resources))
        .set_product_fields(Some(f.product_fields.into_iter().collect()))
        .record_state(state)
        .finding_provider_fields(provider)
        .build()
}

fn label(f: &Finding) -> &'static str {
    use crate::domain::security_hub::SeverityLabel::*;
    match f.finding_provider_fields.severity.label {
        Informational => "INFORMATIONAL",
        Low => "LOW",
        Medium => "MEDIUM",
        High => "HIGH",
    }
}
