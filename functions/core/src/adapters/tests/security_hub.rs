//! BatchImportFindings: calls of at most 100 findings, throttling retried by the SDK,
//! refusals counted and named, and never an error for the scan.

use crate::adapters::deadline::Deadline;
use crate::adapters::security_hub::FindingSink;
use crate::domain::arn::PrincipalType;
use crate::domain::security_hub::{archived, FindingContext};
use aws_sdk_securityhub::operation::batch_import_findings::BatchImportFindingsOutput;
use aws_sdk_securityhub::types::{ImportFindingsError, RecordState};
use aws_sdk_securityhub::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn ctx() -> FindingContext {
    FindingContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        run_id: "r".into(),
        as_of: "2026-11-25T03:00:00Z".into(),
        updated_at: "2026-11-25T03:10:00Z".into(),
        unused_days: 90,
    }
}

fn hub(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_securityhub, RuleMode::Sequential, rules, |c| c
        .retry_config(
            aws_sdk_securityhub::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2))
        ))
}

fn arn(i: usize) -> String {
    format!("arn:aws:iam::123456789012:role/r{i}")
}

async fn send(
    client: Client,
    n: usize,
    deadline: Deadline,
) -> crate::domain::security_hub::SecurityHubOutcome {
    let mut sink = FindingSink::new(client, deadline);
    for i in 0..n {
        sink.push(archived(&arn(i), PrincipalType::Role, "", &ctx()))
            .await;
    }
    sink.finish().await
}

fn accepted(n: i32) -> BatchImportFindingsOutput {
    BatchImportFindingsOutput::builder()
        .failed_count(0)
        .success_count(n)
        .set_failed_findings(Some(vec![]))
        .build()
}

#[tokio::test(start_paused = true)]
async fn findings_go_in_calls_of_at_most_100() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let rule = mock!(Client::batch_import_findings)
        .match_requests(move |r| {
            seen.lock().unwrap().push(r.findings().len());
            r.findings()
                .iter()
                .all(|f| f.record_state() == Some(&RecordState::Archived))
        })
        .sequence()
        .output(|| accepted(100))
        .times(3)
        .build();
    let out = send(
        hub(&[&rule]),
        250,
        Deadline::after(Duration::from_secs(900)),
    )
    .await;
    assert_eq!(*sizes.lock().unwrap(), vec![100, 100, 50]);
    assert_eq!(
        (out.calls, out.archived, out.imported, out.failed),
        (3, 250, 0, 0)
    );
    assert_eq!(out.error, None);
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_nothing_is_lost() {
    let rule = mock!(Client::batch_import_findings)
        .sequence()
        .http_status(
            429,
            Some(r#"{"__type":"LimitExceededException","Message":"Rate exceeded"}"#.into()),
        )
        .times(2)
        .output(|| accepted(3))
        .build();
    let out = send(hub(&[&rule]), 3, Deadline::after(Duration::from_secs(900))).await;
    assert_eq!((out.calls, out.archived, out.failed), (1, 3, 0), "{out:?}");
}

#[tokio::test(start_paused = true)]
async fn a_refused_finding_is_counted_and_named_the_rest_accepted() {
    let rule = mock!(Client::batch_import_findings).then_output(|| {
        BatchImportFindingsOutput::builder()
            .failed_count(1)
            .success_count(2)
            .failed_findings(
                ImportFindingsError::builder()
                    .id(crate::domain::security_hub::finding_id(&arn(1)))
                    .error_code("InvalidInput")
                    .error_message("Finding does not adhere to ASFF")
                    .build(),
            )
            .build()
    });
    let out = send(hub(&[&rule]), 3, Deadline::after(Duration::from_secs(900))).await;
    assert_eq!((out.archived, out.failed), (2, 1));
    let error = out.error.unwrap();
    assert!(
        error.contains("role/r1") && error.contains("InvalidInput: Finding does not adhere"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_security_hub_refuses_is_recorded_not_raised() {
    let rule = mock!(Client::batch_import_findings)
        .sequence()
        .http_status(
            401,
            Some(
                r#"{"__type":"InvalidAccessException","Message":"Account 123456789012 is not subscribed to AWS Security Hub"}"#
                    .into(),
            ),
        )
        .times(2)
        .build();
    let out = send(
        hub(&[&rule]),
        120,
        Deadline::after(Duration::from_secs(900)),
    )
    .await;
    assert_eq!((out.calls, out.archived, out.failed), (2, 0, 120));
    let error = out.error.unwrap();
    assert!(
        error.starts_with(
            "BatchImportFindings: InvalidAccessException: Account 123456789012 is not subscribed"
        ),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn past_summarizes_budget_nothing_more_is_sent_and_it_says_so() {
    let rule = mock!(Client::batch_import_findings).then_output(|| accepted(100));
    let out = send(hub(&[&rule]), 150, Deadline::after(Duration::ZERO)).await;
    assert_eq!((out.calls, out.failed), (0, 150));
    assert!(out.error.unwrap().contains("time budget"));
    assert_eq!(rule.num_calls(), 0);
}
