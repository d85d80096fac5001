//! Plan: validate the run input, resolve the run's accounts, find each account's
//! principals, write the batch lists and the records to S3, hand the Maps small handles;
//! and record an account's failure for Summarize.

use crate::helpers::{
    account_answer, account_event, account_work, deadline, event, expect_error, iam_refuses, json,
    member_plan_deps, org_plan_deps, org_planned, org_tree, plan_deps, planned, run_answer,
    sts_refusing, work, Bucket, ACCOUNT, ADMINS, ALICE, BUCKET, DEPLOYER, MEMBER, MEMBER_ROLE,
    ORG_RUN_ID, OU, PLAN_FUNCTION, ROOT, RUN_ID, STARTED_AT, SUSPENDED, SUSPENDED_WEB, WEB,
};
use aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput;
use aws_sdk_iam::operation::list_roles::ListRolesOutput;
use aws_sdk_iam::types::{Role, Tag};
use aws_sdk_iam::Client;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;
use last_accessed::handlers::events::{
    AccessReportProgress, AccountOutput, PlanAnswer, PlanOutput,
};
use last_accessed::handlers::plan;
use last_accessed::Error;
use serde_json::{json, Value};
use std::time::Duration;

async fn run(bucket: &Bucket, iam: &[&Rule], event: Value) -> Result<PlanAnswer, Error> {
    plan::handle(
        &plan_deps(bucket, iam),
        event,
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
}

/// Plan's start of the run `event`.
async fn start(bucket: &Bucket, iam: &[&Rule], event: Value) -> PlanOutput {
    run_answer(run(bucket, iam, event).await.unwrap())
}

/// Plan's step for the `i`th account of the run `out` started.
async fn account(bucket: &Bucket, iam: &[&Rule], out: &PlanOutput, i: usize) -> AccountOutput {
    account_answer(
        run(bucket, iam, account_event(bucket, out, i))
            .await
            .unwrap(),
    )
}

/// The sizes of the batches in the batch list Plan wrote for the own account of `run_id`.
fn batch_sizes(bucket: &Bucket, run_id: &str) -> Vec<usize> {
    let batches = bucket.json(&format!(
        "work/run={run_id}/accounts/{ACCOUNT}/batches.json"
    ));
    let batches = batches.as_array().unwrap();
    for (i, batch) in batches.iter().enumerate() {
        assert_eq!(batch["index"], i, "batches are numbered from 0");
    }
    batches
        .iter()
        .map(|b| b["arns"].as_array().unwrap().len())
        .collect()
}

/// The run's one account, as Plan resolves it outside an organization run.
fn own_account_item() -> Value {
    json!({"id": ACCOUNT, "name": "", "status": "ACTIVE", "ou_path": "", "first_batch": 0, "probe": false})
}

#[tokio::test]
async fn explicit_arns_become_a_batch_list_and_a_plan_record_in_s3() {
    let bucket = Bucket::new();
    // No IAM rule of the test's: naming the principals costs a Get call each for their
    // unique ids (the helpers answer app-web's and alice's; deployer and admins are
    // NoSuchEntity, so theirs stay unknown and their jobs will say why).
    let out = start(&bucket, &[], event("plan", "explicit-arns")).await;

    // Outside an organization run, the stack's own account is planned at once.
    assert_eq!(
        bucket.json(&account_work("batches.json")),
        json!([
            {"index": 0, "arns": [WEB, ALICE, DEPLOYER], "ids": {WEB: "AROAQAPPWEB000000001", ALICE: "AIDAQALICE0000000001"}},
            {"index": 1, "arns": [ADMINS]},
        ])
    );
    let mut record = own_account_item();
    record.as_object_mut().unwrap().extend(
        json!({"state": "PLANNED", "principals": 4, "batches": 2, "batch_size": 3, "skipped": []})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(bucket.json(&account_work("account.json")), record);
    assert_eq!(
        bucket.json(&work("accounts.json")),
        json!([own_account_item()])
    );
    let record = bucket.json(&work("plan.json"));
    assert_eq!(record["run_id"], RUN_ID);
    assert_eq!(record["dt"], "2026-11-25");
    assert_eq!(
        record["started_at"], STARTED_AT,
        "the execution's start, to the second"
    );
    assert_eq!(record["granularity"], "SERVICE_LEVEL");
    assert_eq!(record["batch_size"], 3);
    assert_eq!(record["batch_size_requested"], 3);
    assert_eq!(record["explicit_arns"], 4);
    assert_eq!(record["accounts"], 1);
    assert_eq!(record.get("organization"), None);
    assert_eq!(
        (&record["principals"], &record["batches"]),
        (&json!(0), &json!(0)),
        "the run's totals are its accounts' records, summed by Summarize"
    );
    assert_eq!(record["discover"], Value::Null);
    assert_eq!(record["skipped"], json!([]));
    let input = bucket.json(&work("input.json"));
    assert_eq!(input["arns"], json!([WEB, ALICE, DEPLOYER, ADMINS]));
    assert_eq!(
        bucket.keys(""),
        [
            work("accounts.json"),
            account_work("account.json"),
            account_work("batches.json"),
            work("input.json"),
            work("plan.json"),
        ],
        "Plan writes nothing else"
    );

    // The accounts Map gets handles, never the principals: its items are read from S3.
    let output = json(&out);
    assert_eq!(
        output,
        json!({
            "run": event("summarize", "complete")["run"],
            "bucket": BUCKET,
            "accounts_key": work("accounts.json"),
            "accounts": 1,
            "organization": false,
            "max_accounts_in_parallel": 1,
            "access_report": false,
            "doctor": false,
        })
    );
    assert_eq!(output["run"]["run_id"], RUN_ID);
    assert_eq!(output["run"]["started_at"], STARTED_AT);
    assert_eq!(
        output["run"].get("account"),
        None,
        "the run, not an account"
    );
    let text = output.to_string();
    assert!(
        !text.contains("arn:aws:iam"),
        "no ARN in the output: {text}"
    );
    assert!(text.len() < 1024, "{} bytes", text.len());
}

#[tokio::test]
async fn the_account_step_of_a_run_of_its_own_account_returns_the_account_already_planned() {
    let (bucket, out) = planned().await;
    let before = bucket.snapshot();
    // No IAM rule: the account was planned at the run's start; its record is read, not
    // planned again.
    let step = run(&bucket, &[], event("plan", "account")).await.unwrap();
    let mut scoped = json(&out.run);
    scoped["account"] = json!({"id": ACCOUNT});
    scoped["preflight"] = json!({"job_id": "preflight-job", "job_binding": "role_session_name"});
    assert_eq!(
        json(&step),
        json!({
            "run": scoped,
            "bucket": BUCKET,
            "batches_key": account_work("batches.json"),
            "principals": 4,
            "batches": 2,
            "max_concurrency": 2,
            "scan": true,
            "probe": false,
            "carry": false,
        }),
        "the batches Map's input; no probe: the run's Preflight probed the stack's reader"
    );
    assert!(bucket.snapshot() == before, "the step wrote nothing");
    let text = json(&step).to_string();
    assert!(!text.contains("arn:aws:iam"), "no ARN: {text}");
}

#[tokio::test]
async fn a_batch_size_the_invocation_budget_cannot_fit_is_shrunk() {
    let bucket = Bucket::new();
    // 61 explicit roles: more than a Get call each is worth, so their ids come from one
    // ListRoles, which here lists two of them (and a role not asked for).
    let listed = |name: &str, id: &str| {
        Role::builder()
            .path("/workers/")
            .role_name(name)
            .role_id(id)
            .arn(format!("arn:aws:iam::123456789012:role/workers/{name}"))
            .create_date(DateTime::from_secs(1_700_000_000))
            .build()
            .unwrap()
    };
    let list = mock!(Client::list_roles).then_compute_output(move |r| {
        assert_eq!(r.path_prefix(), Some("/"), "the whole account's roles");
        ListRolesOutput::builder()
            .roles(listed("worker-00", "AROAWORKER0000000000"))
            .roles(listed("worker-59", "AROAWORKER0000000059"))
            .roles(listed("other", "AROAOTHER00000000000"))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    // 61 principals in batches of 500 at 0.3 IAM requests/s: 600 s buy 180 calls, 3 a
    // principal were Generate to read its own jobs (the session binding): 60 principals.
    let out = start(&bucket, &[&list], event("plan", "slow-rate")).await;
    assert_eq!(list.num_calls(), 1, "one listing, no Get call");
    let batches = bucket.json(&format!(
        "work/run=slow-2026-11-25/accounts/{ACCOUNT}/batches.json"
    ));
    assert_eq!(
        (&batches[0]["ids"], &batches[1].get("ids")),
        (
            &json!({
                "arn:aws:iam::123456789012:role/workers/worker-00": "AROAWORKER0000000000",
                "arn:aws:iam::123456789012:role/workers/worker-59": "AROAWORKER0000000059",
            }),
            &None
        ),
        "the ids the listing gave, in each principal's batch; unlisted ones unknown"
    );
    let record = bucket.json("work/run=slow-2026-11-25/plan.json");
    assert_eq!(record["batch_size"], 60);
    assert_eq!(record["batch_size_requested"], 500);
    assert_eq!(record["iam_requests_per_second"], 0.3);
    assert_eq!(batch_sizes(&bucket, "slow-2026-11-25"), [60, 1]);
    let step = account(&bucket, &[], &out, 0).await;
    assert_eq!((step.principals, step.batches), (61, 2));
    assert_eq!(
        (
            out.run.iam_requests_per_second,
            step.run.iam_requests_per_second
        ),
        (Some(0.3), Some(0.3)),
        "every batch step paces at the run's rate"
    );
}

/// ListRoles answering no role.
fn no_roles() -> aws_smithy_mocks::Rule {
    mock!(Client::list_roles).then_output(|| {
        ListRolesOutput::builder()
            .set_roles(Some(Vec::new()))
            .is_truncated(false)
            .build()
            .unwrap()
    })
}

#[tokio::test]
async fn batches_are_cut_from_the_functions_timeout_not_a_constant() {
    // 61 roles in batches of 500 at 0.3 requests/s. At a 900 s Timeout, 600 s of paced
    // calls make batches of 60 (above); at 60 s (40 s: 12 calls, 3 a principal), of 4.
    let list = no_roles();
    let sixty = || last_accessed::adapters::deadline::Deadline::after(Duration::from_secs(60));
    // The template says 60 s.
    let bucket = Bucket::new();
    let mut deps = plan_deps(&bucket, &[&list]);
    deps.config.function_timeout_seconds = 60;
    plan::handle(
        &deps,
        event("plan", "slow-rate"),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    assert_eq!(
        bucket.json("work/run=slow-2026-11-25/plan.json")["batch_size"],
        4
    );
    // The template still says 900 s, but the invocation's own deadline (Lambda's) is 60 s
    // away: every function has the same Timeout, so the batches are cut from 60 s too.
    let bucket = Bucket::new();
    let deps = plan_deps(&bucket, &[&list]);
    plan::handle(
        &deps,
        event("plan", "slow-rate"),
        Some(PLAN_FUNCTION),
        sixty(),
    )
    .await
    .unwrap();
    assert_eq!(
        bucket.json("work/run=slow-2026-11-25/plan.json")["batch_size"],
        4
    );
    assert_eq!(batch_sizes(&bucket, "slow-2026-11-25").len(), 16);
}

#[tokio::test]
async fn bad_input_is_invalid_input_naming_the_field_and_writes_nothing() {
    let with_input = |input: Value| {
        let mut e = event("plan", "explicit-arns");
        e["start"]["input"] = input;
        e
    };
    let with = |field: &str, value: Value| {
        let mut e = event("plan", "explicit-arns");
        e["start"][field] = value;
        e
    };
    let cases = [
        (event("plan", "bad-arn"), "arns[1]: ", "instance-profile"),
        (
            with_input(json!({"arns": ["arn:aws:iam::210987654321:role/app-web"]})),
            "arns[0]: ",
            "this scan reads account 123456789012",
        ),
        (
            with_input(json!({"arns": [WEB], "batch_size": 0})),
            "batch_size: ",
            "0 is out of range 1..=500",
        ),
        (
            with_input(json!({"arns": [WEB], "poll": {"max_attempts": 0}})),
            "poll.max_attempts: ",
            "out of range",
        ),
        (
            with_input(json!({"arns": [WEB], "iam_requests_per_second": 500})),
            "iam_requests_per_second: ",
            "out of range 0.1..=100",
        ),
        (
            with_input(json!({"arns": [WEB], "organization": {"all": true, "units": [ROOT]}})),
            "organization: ",
            "give exactly one of accounts",
        ),
        (
            with_input(json!(["not", "an", "object"])),
            "input: ",
            "expected a JSON object",
        ),
        (
            with("execution_name", json!("daily/2026")),
            "execution name: ",
            "names the run's S3 prefix",
        ),
        (
            with("start_time", json!("yesterday")),
            "start_time: ",
            "not RFC 3339",
        ),
    ];
    for (event, field, why) in cases {
        let bucket = Bucket::new();
        let message = expect_error(run(&bucket, &[], event).await, "InvalidInput", &[why]);
        assert!(message.starts_with(field), "{message:?} names {field:?}");
        assert_eq!(bucket.keys(""), Vec::<String>::new(), "{field}");
    }
}

fn role(name: &str) -> Role {
    Role::builder()
        .path("/apps/")
        .role_name(name)
        .role_id("AROA0000000000000000")
        .arn(format!("arn:aws:iam::123456789012:role/apps/{name}"))
        .create_date(DateTime::from_secs(1_700_000_000))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_principal_that_vanishes_during_discovery_is_recorded_as_skipped() {
    let list = mock!(Client::list_roles)
        .match_requests(|r| r.path_prefix() == Some("/apps/"))
        .then_output(|| {
            ListRolesOutput::builder()
                .roles(role("app-web"))
                .roles(role("app-gone"))
                .roles(role("app-db"))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let gone = iam_refuses(
        mock!(Client::list_role_tags).match_requests(|r| r.role_name() == Some("app-gone")),
        404,
        "NoSuchEntity",
        "The role with name app-gone cannot be found.",
    );
    let tags = mock!(Client::list_role_tags).then_compute_output(|r| {
        let team = if r.role_name() == Some("app-web") {
            "web"
        } else {
            "db"
        };
        ListRoleTagsOutput::builder()
            .tags(Tag::builder().key("team").value(team).build().unwrap())
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let bucket = Bucket::new();
    let iam: [&Rule; 3] = [&list, &gone, &tags];
    let out = start(&bucket, &iam, event("plan", "discover-tagged")).await;
    let calls = (list.num_calls(), tags.num_calls());
    let step = account(&bucket, &iam, &out, 0).await;

    assert_eq!(step.principals, 1);
    assert_eq!(
        (list.num_calls(), tags.num_calls()),
        calls,
        "the account's step reads what the run's start discovered: no IAM call"
    );
    let prefix = format!("work/run=tagged-2026-11-25/accounts/{ACCOUNT}/");
    assert_eq!(
        bucket.json(&format!("{prefix}batches.json")),
        json!([{
            "index": 0,
            "arns": ["arn:aws:iam::123456789012:role/apps/app-web"],
            "ids": {"arn:aws:iam::123456789012:role/apps/app-web": "AROA0000000000000000"},
        }]),
        "each principal with the unique id ListRoles gave"
    );
    let skipped = json!([{
        "arn": "arn:aws:iam::123456789012:role/apps/app-gone",
        "reason": "vanished: NoSuchEntity: The role with name app-gone cannot be found.",
    }]);
    assert_eq!(
        bucket.json(&format!("{prefix}account.json"))["skipped"],
        skipped
    );
    let record = bucket.json("work/run=tagged-2026-11-25/plan.json");
    assert_eq!(
        record["skipped"],
        json!([]),
        "the account's record holds them; Summarize gathers them"
    );
    assert_eq!(record["explicit_arns"], 0);
    assert_eq!(record["discover"]["tags"], json!({"team": "web"}));
    assert_eq!(
        tags.num_calls(),
        2,
        "one ListRoleTags per remaining candidate"
    );
}

#[tokio::test]
async fn a_discovery_that_finds_nothing_is_invalid_input_and_writes_nothing() {
    let list = no_roles();
    let bucket = Bucket::new();
    let message = expect_error(
        run(&bucket, &[&list], event("plan", "discover-tagged")).await,
        "InvalidInput",
        &["no principal in the account matches the discovery filters"],
    );
    assert!(message.starts_with("discover: "), "{message}");
    assert_eq!(list.num_calls(), 1);
    assert_eq!(
        bucket.keys(""),
        Vec::<String>::new(),
        "the InvalidInput state says nothing was written"
    );
}

/// The organization run's accounts, as Plan resolved them: id, role, first batch, probe.
fn org_items() -> Value {
    let role = |id: &str| format!("arn:aws:iam::{id}:role/{MEMBER_ROLE}");
    json!([
        {"id": ACCOUNT, "name": "security", "status": "ACTIVE", "ou_path": ROOT,
         "first_batch": 0, "probe": true},
        {"id": MEMBER, "name": "workloads", "status": "ACTIVE", "ou_path": format!("{ROOT}/{OU}"),
         "role_arn": role(MEMBER), "first_batch": 2000, "probe": true},
        {"id": SUSPENDED, "name": "retired", "status": "SUSPENDED", "ou_path": format!("{ROOT}/{OU}"),
         "role_arn": role(SUSPENDED), "first_batch": 4000, "probe": true},
    ])
}

#[tokio::test]
async fn an_organization_run_resolves_its_accounts_and_plans_none_yet() {
    let (bucket, out) = org_planned().await;
    let org_work = |path: &str| format!("work/run={ORG_RUN_ID}/{path}");
    assert_eq!(
        json(&out),
        json!({
            "run": out.run,
            "bucket": BUCKET,
            "accounts_key": org_work("accounts.json"),
            "accounts": 3,
            "organization": true,
            "max_accounts_in_parallel": 5,
            "access_report": false,
            "doctor": false,
        })
    );
    assert_eq!(out.run.run_id, ORG_RUN_ID);
    assert_eq!(out.run.account, None);
    // The stack's own account is read through the stack's reader, each other account
    // through its member role; every account probes its reader; batch indices never
    // collide across accounts.
    assert_eq!(bucket.json(&out.accounts_key), org_items());
    let record = bucket.json(&org_work("plan.json"));
    assert_eq!(record["accounts"], 3);
    assert_eq!(
        record["organization"]["selection"],
        json!({"units": [ROOT]})
    );
    assert_eq!(record["organization"]["member_role"], MEMBER_ROLE);
    assert_eq!(
        bucket.keys(""),
        [
            org_work("accounts.json"),
            org_work("input.json"),
            org_work("plan.json")
        ],
        "each account is planned in its own step of the accounts Map"
    );
}

#[tokio::test]
async fn an_arn_of_an_account_the_organization_does_not_select_is_invalid_input() {
    let mut event = event("plan", "organization");
    event["start"]["input"]["organization"] = json!({"accounts": [ACCOUNT, MEMBER]});
    let bucket = Bucket::new();
    let tree = org_tree();
    let rules: Vec<&Rule> = tree.iter().collect();
    let deps = org_plan_deps(&bucket, &[], &rules);
    let message = expect_error(
        plan::handle(&deps, event, Some(PLAN_FUNCTION), deadline()).await,
        "InvalidInput",
        &[&format!(
            "{SUSPENDED_WEB} is in account {SUSPENDED}, which `organization` does not select"
        )],
    );
    assert!(message.starts_with("arns[3]: "), "{message}");
    assert_eq!(bucket.keys(""), Vec::<String>::new());
}

#[tokio::test]
async fn the_own_account_of_an_organization_run_is_planned_in_its_step_and_probed() {
    let (bucket, out) = org_planned().await;
    // No IAM rule: the principals are named; the stack's own IAM client would list.
    let step = account(&bucket, &[], &out, 0).await;
    assert_eq!(
        (step.principals, step.batches, step.scan, step.probe),
        (2, 1, true, true)
    );
    assert_eq!(
        json(&step.run.account),
        json!({"id": ACCOUNT}),
        "no role: the stack's reader"
    );
    let prefix = format!("work/run={ORG_RUN_ID}/accounts/{ACCOUNT}/");
    assert_eq!(step.batches_key, format!("{prefix}batches.json"));
    assert_eq!(
        bucket.json(&step.batches_key),
        json!([{
            "index": 0,
            "arns": [WEB, ALICE],
            "ids": {WEB: "AROAQAPPWEB000000001", ALICE: "AIDAQALICE0000000001"},
        }]),
        "only the account's own principals, each with its unique id (a Get call each)"
    );
    assert_eq!(
        bucket.json(&format!("{prefix}account.json"))["state"],
        "PLANNED"
    );
    // A retried step finds the record and plans nothing again.
    let before = bucket.snapshot();
    assert_eq!(account(&bucket, &[], &out, 0).await, step);
    assert!(bucket.snapshot() == before, "the retry wrote nothing");
}

#[tokio::test]
async fn an_account_not_active_is_recorded_unreachable_and_not_scanned() {
    let (bucket, out) = org_planned().await;
    // Neither IAM nor STS is asked: the account's status says it can't be read.
    let step = account(&bucket, &[], &out, 2).await;
    assert_eq!(
        json(&step.run.account),
        json!({"id": SUSPENDED, "role_arn": format!("arn:aws:iam::{SUSPENDED}:role/{MEMBER_ROLE}")})
    );
    assert_eq!(
        (step.principals, step.batches, step.scan),
        (0, 0, false),
        "AccountScan sends it straight to AccountDone"
    );
    let prefix = format!("work/run={ORG_RUN_ID}/accounts/{SUSPENDED}/");
    let mut record = org_items()[2].clone();
    record.as_object_mut().unwrap().extend(
        json!({
            "state": "UNREACHABLE",
            "error": "the account is SUSPENDED in the Organization",
            "principals": 0, "batches": 0, "batch_size": 50, "skipped": [],
        })
        .as_object()
        .unwrap()
        .clone(),
    );
    assert_eq!(bucket.json(&format!("{prefix}account.json")), record);
    assert_eq!(
        bucket.keys(&prefix),
        [format!("{prefix}account.json")],
        "no batch list"
    );
}

#[tokio::test]
async fn an_account_failure_is_recorded_for_summarize() {
    let (bucket, _) = planned().await;
    let fixture = event("plan", "account-failed");
    let before = bucket.keys("");
    let out = run(&bucket, &[], fixture.clone()).await.unwrap();
    let key = account_work("failure.json");
    assert_eq!(json(&out), json!({"recorded": key}));
    assert_eq!(
        bucket.json(&key),
        fixture["account_failed"]["failure"],
        "Step Functions' Error and Cause, as caught"
    );
    let mut after = before.clone();
    after.push(key);
    after.sort();
    assert_eq!(bucket.keys(""), after, "nothing else");

    // PlanAccount itself failed: the Catch has the account's item, the run unscoped.
    let (bucket, out) = org_planned().await;
    let mut failed = account_event(&bucket, &out, 1)["account"].clone();
    failed["failure"] = json!({"Error": "IamError", "Cause": "ListRoles failed"});
    let answer = run(&bucket, &[], json!({"account_failed": failed}))
        .await
        .unwrap();
    let key = format!("work/run={ORG_RUN_ID}/accounts/{MEMBER}/failure.json");
    assert_eq!(json(&answer), json!({"recorded": key}));
    assert_eq!(
        bucket.json(&key),
        json!({"Error": "IamError", "Cause": "ListRoles failed"})
    );
}

const STS_REFUSAL: &str = "User: arn:aws:sts::123456789012:assumed-role/last-accessed-plan/last-accessed-plan is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/iam-last-accessed-member";

#[tokio::test]
async fn a_member_role_sts_refuses_is_recorded_unreachable_with_the_refusal() {
    let (bucket, out) = org_planned().await;
    let deps = member_plan_deps(&bucket, &sts_refusing(STS_REFUSAL)).await;
    let answer = plan::handle(
        &deps,
        account_event(&bucket, &out, 1),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    let step = account_answer(answer);
    assert_eq!(
        (step.principals, step.batches, step.scan),
        (0, 0, false),
        "AccountScan sends it straight to AccountDone"
    );
    let prefix = format!("work/run={ORG_RUN_ID}/accounts/{MEMBER}/");
    let record = bucket.json(&format!("{prefix}account.json"));
    assert_eq!(record["state"], "UNREACHABLE");
    let error = record["error"].as_str().unwrap();
    let role = format!("arn:aws:iam::{MEMBER}:role/{MEMBER_ROLE}");
    assert!(
        error.starts_with(&format!("cannot assume {role}: ")),
        "{error}"
    );
    assert!(
        error.contains(STS_REFUSAL),
        "STS's refusal, in full: {error}"
    );
    assert_eq!(
        bucket.keys(&prefix),
        [format!("{prefix}account.json")],
        "no batch list"
    );
}

/// The access-report loop's event: Plan's output at the run's start, as the state
/// machine passes it (`{"access_report.$": "$"}`).
fn access_round_event(out: &PlanOutput) -> Value {
    json!({"access_report": json(out)})
}

fn access_state(bucket: &Bucket, paths: &[&str]) {
    let entities: Vec<_> = paths
        .iter()
        .map(|p| last_accessed::domain::access_report::EntityJob::new(p.to_string()))
        .collect();
    bucket.put(
        &format!("work/run={ORG_RUN_ID}/access-report.json"),
        &entities,
    );
}

/// One access-report round of Plan, as the state machine sees its answer.
async fn access_round(
    deps: &last_accessed::runtime::deps::PlanDeps,
    event: Value,
) -> AccessReportProgress {
    match plan::handle(deps, event, Some(PLAN_FUNCTION), deadline())
        .await
        .unwrap()
    {
        PlanAnswer::AccessReport(progress) => progress,
        other => panic!("not an access-report round: {other:?}"),
    }
}

/// GenerateOrganizationsAccessReport: one JobId (`job-1`), then `status` and `body` for
/// every later call.
fn one_report_then(status: u16, body: Option<String>) -> Rule {
    mock!(Client::generate_organizations_access_report)
        .sequence()
        .output(|| {
            aws_sdk_iam::operation::generate_organizations_access_report::GenerateOrganizationsAccessReportOutput::builder()
                .job_id("job-1")
                .build()
        })
        .http_status(status, body)
        .repeatedly()
        .build()
}

fn iam_limit_exceeded() -> String {
    crate::helpers::iam_error(
        "ReportGenerationLimitExceeded",
        "Too many reports are pending for this account",
    )
}

#[tokio::test]
async fn an_access_report_round_starts_reports_until_iam_says_too_many_are_pending() {
    let (bucket, out) = org_planned().await;
    let paths = [
        "o-abcdefghij/r-ab12",
        "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa",
        "o-abcdefghij/r-ab12/111111111111",
    ];
    access_state(&bucket, &paths);
    let generate = one_report_then(409, Some(iam_limit_exceeded()));
    let deps = org_plan_deps(&bucket, &[&generate], &[]);
    let progress = access_round(&deps, access_round_event(&out)).await;
    assert_eq!(
        (
            progress.entities,
            progress.pending,
            progress.done,
            progress.failed
        ),
        (3, 3, 0, 0)
    );
    assert_eq!(
        progress.wait_seconds, 5,
        "a report started: look again soon"
    );
    assert_eq!(generate.num_calls(), 2, "it stops at the first refusal");
    let state = bucket.json(&format!("work/run={ORG_RUN_ID}/access-report.json"));
    assert_eq!(state[0]["state"], "PENDING");
    assert_eq!(state[0]["job_id"], "job-1");
    assert_eq!(state[1]["state"], "WAITING", "started by a later round");
    assert_eq!(state[2]["state"], "WAITING");
}

#[tokio::test]
async fn a_throttled_access_report_round_keeps_the_job_ids_it_was_given() {
    let (bucket, out) = org_planned().await;
    let paths = ["o-abcdefghij/r-ab12", "o-abcdefghij/r-ab12/111111111111"];
    access_state(&bucket, &paths);
    let generate = one_report_then(
        400,
        Some(crate::helpers::iam_error("Throttling", "Rate exceeded")),
    );
    let deps = org_plan_deps(&bucket, &[&generate], &[]);
    plan::handle(
        &deps,
        access_round_event(&out),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .expect("throttling ends the round, not the run");
    let state = bucket.json(&format!("work/run={ORG_RUN_ID}/access-report.json"));
    assert_eq!(
        (state[0]["state"].as_str(), state[0]["job_id"].as_str()),
        (Some("PENDING"), Some("job-1"))
    );
    assert_eq!(state[1]["state"], "WAITING");
}

#[tokio::test]
async fn an_access_report_loop_past_its_deadline_times_out_what_is_unfinished() {
    let (bucket, out) = org_planned().await;
    let paths = ["o-abcdefghij/r-ab12", "o-abcdefghij/r-ab12/111111111111"];
    access_state(&bucket, &paths);
    // The state machine hands each round the last one's clock: this loop began long ago.
    let mut event = access_round_event(&out);
    event["access_report"]["access_report_progress"] = json!({
        "pending": 2, "wait_seconds": 300, "started_at": "2026-11-25T01:00:00Z",
        "round": 40, "idle_rounds": 12
    });
    // No IAM rule: nothing is polled or started past the deadline.
    let deps = org_plan_deps(&bucket, &[], &[]);
    let progress = access_round(&deps, event).await;
    assert_eq!(
        (progress.pending, progress.timed_out, progress.clock.round),
        (0, 2, 41),
        "the loop ends: nothing pending, both entities timed out"
    );
    assert_eq!(
        progress.clock.started_at, "2026-11-25T01:00:00Z",
        "the clock is kept"
    );
    let state = bucket.json(&format!("work/run={ORG_RUN_ID}/access-report.json"));
    for line in state.as_array().unwrap() {
        assert_eq!(line["state"], "TIMED_OUT");
        assert!(
            line["error"]
                .as_str()
                .unwrap()
                .contains("3600 s after its first round"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn an_access_report_round_without_news_backs_off() {
    let (bucket, out) = org_planned().await;
    access_state(&bucket, &["o-abcdefghij/r-ab12"]);
    let generate = one_report_then(409, Some(iam_limit_exceeded()));
    let deps = org_plan_deps(&bucket, &[&generate], &[]);
    let first = access_round(&deps, access_round_event(&out)).await;
    assert_eq!(
        (first.clock.round, first.wait_seconds),
        (1, 5),
        "a report started"
    );
    // The job stays IN_PROGRESS: each round without news waits longer.
    let read = mock!(Client::get_organizations_access_report).then_output(|| {
        aws_sdk_iam::operation::get_organizations_access_report::GetOrganizationsAccessReportOutput::builder()
            .job_status(aws_sdk_iam::types::JobStatusType::InProgress)
            .job_creation_date(aws_smithy_types::DateTime::from_secs(1_764_000_000))
            .build()
            .unwrap()
    });
    let deps = org_plan_deps(&bucket, &[&read], &[]);
    let mut waits = Vec::new();
    let mut clock = serde_json::to_value(&first).unwrap();
    for _ in 0..3 {
        let mut event = access_round_event(&out);
        event["access_report"]["access_report_progress"] = clock.clone();
        let p = access_round(&deps, event).await;
        waits.push(p.wait_seconds);
        clock = serde_json::to_value(&p).unwrap();
    }
    assert_eq!(waits, [30, 60, 120]);
    assert_eq!(clock["round"], 4);
}

/// DescribeOrganization: the Organization `o-abcdefghij`, its management account `management`.
fn organization_managed_by(management: &'static str) -> Rule {
    mock!(aws_sdk_organizations::Client::describe_organization).then_output(move || {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput::builder()
            .organization(
                aws_sdk_organizations::types::Organization::builder()
                    .id("o-abcdefghij")
                    .master_account_id(management)
                    .build(),
            )
            .build()
    })
}

/// An organization run asking for the access report, Organizations answering with
/// `rules` (then the usual tree): the InvalidInput's text; nothing may be written.
async fn access_report_refused(rules: &[&Rule]) -> String {
    let bucket = Bucket::new();
    let tree = org_tree();
    let mut all: Vec<&Rule> = rules.to_vec();
    all.extend(tree.iter());
    let deps = org_plan_deps(&bucket, &[], &all);
    let mut event = event("plan", "organization");
    event["start"]["input"]["organization"]["access_report"] = json!(true);
    let e = plan::handle(&deps, event, Some(PLAN_FUNCTION), deadline())
        .await
        .unwrap_err();
    assert_eq!(e.name(), "InvalidInput");
    assert!(bucket.keys("").is_empty(), "nothing written");
    e.to_string()
}

/// IAM answers the Organizations access report to the management account only; any
/// member account may describe the Organization. A stack elsewhere is refused before
/// anything is written, naming both accounts.
#[tokio::test]
async fn an_access_report_outside_the_management_account_is_invalid_input() {
    let text = access_report_refused(&[&organization_managed_by("999999999999")]).await;
    assert!(
        text.starts_with("organization.access_report: ") && text.contains("999999999999"),
        "{text}"
    );
}

/// "SCPs must be enabled for your organization root" (GenerateOrganizationsAccessReport):
/// a root without them is refused up front, naming it.
#[tokio::test]
async fn an_access_report_of_a_root_without_scps_is_invalid_input() {
    // The roots answer without policy types (this rule comes before the tree's).
    let bare = mock!(aws_sdk_organizations::Client::list_roots).then_output(|| {
        aws_sdk_organizations::operation::list_roots::ListRootsOutput::builder()
            .roots(
                aws_sdk_organizations::types::Root::builder()
                    .id("r-ab12")
                    .build(),
            )
            .build()
    });
    let text =
        access_report_refused(&[&bare, &organization_managed_by(crate::helpers::ACCOUNT)]).await;
    assert!(
        text.starts_with("organization.access_report: service control policies are not enabled on the root r-ab12"),
        "{text}"
    );
}

/// `n` IAM users, `dormant-0` …, each with a password and two access keys the
/// credential report says were last used in January 2025 (long before the run's 90
/// days): every one a user whose credentials Write must re-read before judging them.
mod dormant {
    use aws_sdk_iam::operation::generate_credential_report::GenerateCredentialReportOutput;
    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::operation::get_credential_report::GetCredentialReportOutput;
    use aws_sdk_iam::operation::list_users::ListUsersOutput;
    use aws_sdk_iam::primitives::Blob;
    use aws_sdk_iam::types::{ReportStateType, User, UserDetail};
    use aws_sdk_iam::Client;
    use aws_smithy_mocks::{mock, Rule};
    use aws_smithy_types::DateTime;

    pub fn arn(i: usize) -> String {
        format!("arn:aws:iam::123456789012:user/dormant-{i}")
    }

    /// Pages of 1,000, as IAM gives them at MaxItems 1000: the page a marker names.
    fn page(marker: Option<&str>, n: usize) -> (std::ops::Range<usize>, Option<String>) {
        let from: usize = marker.map_or(0, |m| m.parse().unwrap());
        let to = (from + 1000).min(n);
        (from..to, (to < n).then(|| to.to_string()))
    }

    pub fn rules(n: usize) -> Vec<Rule> {
        let users = mock!(Client::list_users).then_compute_output(move |r| {
            let (range, marker) = page(r.marker(), n);
            let users = range.map(|i| {
                User::builder()
                    .path("/")
                    .user_name(format!("dormant-{i}"))
                    .user_id(format!("AIDA{i:016}"))
                    .arn(arn(i))
                    .create_date(DateTime::from_secs(1_600_000_000))
                    .build()
                    .unwrap()
            });
            ListUsersOutput::builder()
                .set_users(Some(users.collect()))
                .is_truncated(marker.is_some())
                .set_marker(marker)
                .build()
                .unwrap()
        });
        let gaad = mock!(Client::get_account_authorization_details).then_compute_output(move |r| {
            let (range, marker) = page(r.marker(), n);
            let details = range.map(|i| {
                UserDetail::builder()
                    .arn(arn(i))
                    .user_name(format!("dormant-{i}"))
                    .create_date(DateTime::from_secs(1_600_000_000))
                    .build()
            });
            GetAccountAuthorizationDetailsOutput::builder()
                .set_user_detail_list(Some(details.collect()))
                .is_truncated(marker.is_some())
                .set_marker(marker)
                .build()
        });
        let generate = mock!(Client::generate_credential_report).then_output(|| {
            GenerateCredentialReportOutput::builder()
                .state(ReportStateType::Complete)
                .build()
        });
        let report = mock!(Client::get_credential_report).then_output(move || {
            let mut csv = String::from("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n");
            csv.push_str("<root_account>,arn:aws:iam::123456789012:root,2020-09-13T12:26:40+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
            for i in 0..n {
                let old = "2025-01-06T10:00:00+00:00";
                let made = "2020-09-13T12:26:40+00:00";
                csv.push_str(&format!(
                    "dormant-{i},{},{made},true,{old},{made},N/A,false,true,{made},{old},us-east-1,s3,true,{made},{old},us-east-1,ec2,false,N/A,false,N/A\n",
                    arn(i)
                ));
            }
            GetCredentialReportOutput::builder()
                .content(Blob::new(csv))
                .build()
        });
        vec![users, gaad, generate, report]
    }
}

#[tokio::test(start_paused = true)]
async fn plan_with_recommendations_over_2000_dormant_users_fits_every_invocations_budget() {
    use last_accessed::domain::batch::sizing;
    use last_accessed::domain::input::ReportOptions;
    // At the stack's default rate (5 requests/s), paced on tokio's paused clock: what
    // Plan's own calls take is what they would take on Lambda.
    let rate = 5.0;
    let rules = dormant::rules(2_000);
    let iam: Vec<&Rule> = rules.iter().collect();
    let bucket = Bucket::new();
    let own = deadline();
    let answer = plan::handle(
        &plan_deps(&bucket, &iam),
        json!({"start": {
            "input": {"discover": {"types": ["user"]}, "batch_size": 500,
                      "iam_requests_per_second": rate, "report": {"recommendations": true}},
            "execution_name": "dormant-2026-11-25",
            "start_time": "2026-11-25T01:00:00Z",
        }}),
        Some(PLAN_FUNCTION),
        own,
    )
    .await
    .unwrap();
    run_answer(answer);

    // Plan's own invocation: a few list and report calls, however many users are dormant
    // (none is re-read here), ended well within its budget.
    let calls: usize = rules.iter().map(Rule::num_calls).sum();
    assert_eq!(
        calls,
        2 + 2 + 1 + 1,
        "ListUsers and GAAD pages, the report: {calls}"
    );
    assert!(
        own.budget_left() > std::time::Duration::ZERO,
        "Plan past its budget"
    );

    // Each batch's invocations: its principals' planned IAM calls fit one invocation's
    // budget at the run's rate (a Write re-reads up to 4 per dormant user).
    let report = ReportOptions {
        recommendations: true,
        ..ReportOptions::default()
    };
    let (per_principal, _) = sizing::calls_per_principal(&report);
    assert_eq!(per_principal, sizing::CREDENTIAL_CALLS);
    let capacity = (sizing::budget_seconds(900) * rate) as u64;
    let sizes = batch_sizes(&bucket, "dormant-2026-11-25");
    // Cut by count (500 fit: 2,000 calls of 3,000) and then by state bytes (~205 ARNs).
    assert_eq!(sizes.iter().sum::<usize>(), 2_000);
    for size in &sizes {
        assert!(
            *size as u64 * per_principal <= capacity,
            "{size} × {per_principal} > {capacity}"
        );
    }

    // Every user is judged: each is in a batch whose holdings carry its report row, for
    // Write to confirm and judge.
    let mut judged = 0;
    for index in 0..sizes.len() {
        let slice = bucket.json(&format!(
            "work/run=dormant-2026-11-25/holdings/{index:06}.json"
        ));
        for (arn, holdings) in slice["principals"].as_object().unwrap() {
            assert!(arn.contains(":user/dormant-"), "{arn}");
            let credentials = &holdings["credentials"];
            assert_eq!(credentials["password_enabled"], true, "{arn}");
            assert_eq!(
                credentials["access_keys"].as_array().unwrap().len(),
                2,
                "{arn}"
            );
            judged += 1;
        }
    }
    assert_eq!(judged, 2_000);
}
