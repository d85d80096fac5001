//! Summarize's notifications: with `report.security_hub` one ACTIVE finding per principal
//! with something unused, the same Id ARCHIVED for those the previous run found unused
//! and now clean or gone; and the Scan Finished detail, in its output and, for the state
//! machine, under `work/` (also when the run fails).

use crate::helpers::{
    batch_result, expect_error, planned, summarize_deps, work, Bucket, ACCOUNT, ADMINS, ALICE,
    DEPLOYER, RUN_ID, WEB,
};
use aws_sdk_securityhub::operation::batch_import_findings::BatchImportFindingsOutput;
use aws_sdk_securityhub::types::RecordState;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use last_accessed::domain::account::AccountItem;
use last_accessed::domain::job::JobStatus::{Completed, Failed};
use last_accessed::domain::keys;
use last_accessed::domain::run::RunRef;
use last_accessed::handlers::summarize;
use last_accessed::runtime::deps::{SecurityHub, SummarizeDeps};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const GONE: &str = "arn:aws:iam::123456789012:role/retired";
const PREVIOUS: &str = "daily-2026-11-24";

/// What BatchImportFindings was sent: each finding's resource and record state.
type Sent = Arc<Mutex<Vec<(String, RecordState)>>>;

fn hub(sent: &Sent) -> (SecurityHub, Rule) {
    let seen = sent.clone();
    let rule = mock!(aws_sdk_securityhub::Client::batch_import_findings)
        .match_requests(move |r| {
            let mut seen = seen.lock().unwrap();
            for f in r.findings() {
                let resource = f.resources()[0].id().unwrap_or_default().to_string();
                seen.push((resource, f.record_state().cloned().unwrap()));
            }
            true
        })
        .then_output(|| {
            BatchImportFindingsOutput::builder()
                .failed_count(0)
                .success_count(3)
                .set_failed_findings(Some(vec![]))
                .build()
        });
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, &[&rule]);
    let hub = SecurityHub {
        client,
        region: "us-east-1".into(),
        account: ACCOUNT.into(),
    };
    (hub, rule)
}

/// The fixtures' run with batch 0 (app-web with a never-used service, alice clean,
/// deployer FAILED) and batch 1 (admins clean), `report.security_hub` as given, and a
/// previous run whose index found app-web, alice, deployer and a role since deleted
/// with something unused and admins clean.
async fn run_with_previous(security_hub: Option<bool>) -> Bucket {
    let (bucket, _) = planned().await;
    let mut first = batch_result(
        0,
        &[(WEB, Completed), (ALICE, Completed), (DEPLOYER, Failed)],
    );
    first.principals[0].services_granted = 3;
    first.principals[0].services_never_used = 2;
    bucket.put(&work("results/000000.json"), &first);
    bucket.put(
        &work("results/000001.json"),
        &batch_result(1, &[(ADMINS, Completed)]),
    );
    let mut plan = bucket.json(&keys::plan_key(RUN_ID));
    plan["report"]["security_hub"] = json!(security_hub);
    bucket.put(&keys::plan_key(RUN_ID), &plan);
    let accounts_key = keys::accounts_key(RUN_ID);
    let mut accounts: Vec<AccountItem> =
        serde_json::from_value(bucket.json(&accounts_key)).unwrap();
    accounts[0].previous_runs = vec![RunRef {
        run_id: PREVIOUS.into(),
        dt: "2026-11-24".into(),
        as_of: "2026-11-24T01:00:00Z".into(),
        account_keys: true,
    }];
    bucket.put(&accounts_key, &accounts);
    let row = |arn: &str, kind: &str, unused: u32| {
        json!({"arn": arn, "type": kind, "status": "COMPLETED", "report_key": "k", "account": ACCOUNT,
               "services_granted": 2, "services_active": 2 - unused, "services_stale": unused,
               "services_never_used": 0})
    };
    let previous = json!([
        row(WEB, "role", 1),
        row(ALICE, "user", 1),
        row(DEPLOYER, "role", 2),
        row(ADMINS, "group", 0),
        row(GONE, "role", 1),
    ]);
    bucket.put(&keys::index_key("2026-11-24", PREVIOUS), &previous);
    bucket
}

fn deps(bucket: &Bucket, hub: SecurityHub) -> SummarizeDeps {
    SummarizeDeps {
        security_hub: Some(hub),
        ..summarize_deps(bucket)
    }
}

fn event() -> Value {
    crate::helpers::event("summarize", "complete")
}

#[tokio::test]
async fn findings_for_the_unused_and_the_archive_for_the_clean_and_the_gone() {
    let bucket = run_with_previous(Some(true)).await;
    let sent = Sent::default();
    let (hub, rule) = hub(&sent);
    let out = summarize::handle(&deps(&bucket, hub), event())
        .await
        .unwrap();
    let mut sent = sent.lock().unwrap().clone();
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        sent,
        vec![
            (WEB.to_string(), RecordState::Active),
            (GONE.to_string(), RecordState::Archived),
            (ALICE.to_string(), RecordState::Archived),
        ],
        "deployer's job FAILED: its finding stays; admins had none"
    );
    assert_eq!(rule.num_calls(), 1, "three findings, one call");
    let summary = bucket.json(&out.summary_key);
    assert_eq!(summary["schema_version"], "4.1.0");
    assert_eq!(
        summary["security_hub"],
        json!({"imported": 1, "archived": 2, "failed": 0, "calls": 1})
    );
    let detail = serde_json::to_value(out.scan_finished.unwrap()).unwrap();
    assert_eq!(detail["security_hub"], summary["security_hub"]);
    assert_eq!(detail["status"], "SUCCEEDED");
    assert_eq!(bucket.json(&keys::scan_finished_key(RUN_ID)), detail);
}

#[tokio::test]
async fn a_run_with_security_hub_off_sends_nothing_and_records_nothing() {
    let bucket = run_with_previous(None).await;
    let sent = Sent::default();
    let (hub, rule) = hub(&sent);
    let out = summarize::handle(&deps(&bucket, hub), event())
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 0);
    let summary = bucket.json(&out.summary_key);
    assert!(
        summary.get("security_hub").is_none(),
        "{}",
        summary["security_hub"]
    );
    assert_eq!(summary["schema_version"], "4.1.0");
}

#[tokio::test]
async fn a_run_asking_for_findings_a_stack_cannot_send_says_so_and_succeeds() {
    let bucket = run_with_previous(Some(true)).await;
    let out = summarize::handle(&summarize_deps(&bucket), event())
        .await
        .unwrap();
    let summary = bucket.json(&out.summary_key);
    assert_eq!(summary["status"], "SUCCEEDED");
    let error = summary["security_hub"]["error"].as_str().unwrap();
    assert!(error.contains("SecurityHubFindings is false"), "{error}");
}

#[tokio::test]
async fn a_failing_run_leaves_its_scan_finished_detail_for_the_state_machine() {
    let (bucket, _) = planned().await;
    let failed = batch_result(0, &[(WEB, Failed), (ALICE, Failed), (DEPLOYER, Failed)]);
    bucket.put(&work("results/000000.json"), &failed);
    bucket.put(
        &work("results/000001.json"),
        &batch_result(1, &[(ADMINS, Completed)]),
    );
    let result = summarize::handle(&summarize_deps(&bucket), event()).await;
    expect_error(result, "TooManyFailures", &["3 of 4 principals FAILED"]);
    let detail = bucket.json(&keys::scan_finished_key(RUN_ID));
    assert_eq!(detail["status"], "FAILED");
    assert_eq!(detail["error"], "TooManyFailures");
    assert!(detail["cause"]
        .as_str()
        .unwrap()
        .contains("3 of 4 principals FAILED"));
    assert_eq!(
        detail["counts"]["by_status"],
        json!({"COMPLETED": 1, "FAILED": 3})
    );
    assert_eq!(
        detail["summary_key"],
        keys::summary_key("2026-11-25", RUN_ID)
    );
    assert_eq!(detail["page_key"], keys::page_key("2026-11-25", RUN_ID));
    assert_eq!(detail["accounts_not_fully_scanned"], json!([]));
}

/// Where a state may go next: `Next`, `Default`, its Choices' and its Catchers'.
fn targets(s: &Value) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for (key, how) in [("Next", "Next"), ("Default", "Default")] {
        if let Some(n) = s[key].as_str() {
            out.push((n.to_string(), how));
        }
    }
    for c in s["Choices"].as_array().into_iter().flatten() {
        out.push((c["Next"].as_str().unwrap().to_string(), "Choice"));
    }
    for c in s["Catch"].as_array().into_iter().flatten() {
        out.push((c["Next"].as_str().unwrap().to_string(), "Catch"));
    }
    out
}

#[test]
fn every_end_of_the_run_passes_its_scan_finished_event() {
    let asl = crate::helpers::read_json("statemachine/last-accessed.asl.json");
    let states = asl["States"].as_object().unwrap();
    let is_event = |s: &Value| s["Resource"] == "arn:${Partition}:states:::events:putEvents";
    for (name, s) in states {
        for (next, how) in targets(s) {
            if states[&next]["Type"] != "Fail" {
                continue;
            }
            // Only when S3 would not give back the detail Summarize wrote (after retries).
            let unreadable = name == "ReadScanFinished" && how == "Catch";
            assert!(
                is_event(s) || unreadable,
                "{name} goes to the Fail state {next} without the Scan Finished event"
            );
        }
        if !is_event(s) {
            continue;
        }
        let entry = &s["Parameters"]["Entries"][0];
        assert_eq!(entry["Source"], "iam-last-accessed", "{name}");
        assert_eq!(entry["DetailType"], "Scan Finished", "{name}");
        assert!(
            s["ResultPath"].is_null(),
            "{name}: the run's data passes on as it was"
        );
        let caught = &s["Catch"][0];
        assert_eq!(caught["ErrorEquals"], json!(["States.ALL"]), "{name}");
        let after = s["Next"].as_str().unwrap_or("RunSucceeded");
        assert_eq!(
            caught["Next"], after,
            "{name}: an event not sent changes nothing"
        );
    }
    let summarize = &states["Summarize"];
    assert_eq!(summarize["Next"], "ScanFinished");
    assert_eq!(
        summarize["Catch"][0]["ErrorEquals"],
        json!(["IncompleteRun", "TooManyFailures"])
    );
    assert_eq!(summarize["Catch"][0]["Next"], "ReadScanFinished");
    assert_eq!(states["ScanFinished"]["End"], true);
    assert_eq!(
        states["ReadScanFinished"]["Parameters"]["Key.$"],
        format!(
            "States.Format('{}', $.run.run_id)",
            keys::scan_finished_key("{}")
        ),
        "the key Summarize writes"
    );
    let ended = &states["RunEnded"];
    assert_eq!(
        (ended["ErrorPath"].as_str(), ended["CausePath"].as_str()),
        (Some("$.run_error.Error"), Some("$.run_error.Cause")),
        "Summarize's own error and cause"
    );
}
