//! Incremental scans on the local stack: a full scan, then some roles change (new use,
//! a new policy, a re-created role, a role whose job had failed), then an incremental
//! scan and at once a full one. The incremental run carries what cannot have changed,
//! scans the rest, costs a fraction of the IAM calls, and its reports equal the full
//! run's in every service's class and last use. With RoleLastUsed held stale by the
//! emulator, its sample catches the rule not holding and the account is scanned in full.

use e2e::{allow, days_ago, summary_of, unique, Stack, ACCOUNT};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every report of a run, by ARN (the summary lists up to 1,000 keys).
async fn reports(stack: &Stack, summary: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for key in summary["report_keys"].as_array().unwrap() {
        let report = stack.json(key.as_str().unwrap()).await;
        out.insert(report["arn"].as_str().unwrap().to_string(), report);
    }
    out
}

/// What a user reads of a report: each service's class and last use (IAM's, or the one
/// history kept).
fn reading(report: &Value) -> BTreeMap<String, (String, Option<String>)> {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let last = s["last_authenticated"]
                .as_str()
                .or(s["last_authenticated_ever"]["time"].as_str())
                .map(str::to_string);
            (
                s["namespace"].as_str().unwrap().to_string(),
                (s["usage"].as_str().unwrap().to_string(), last),
            )
        })
        .collect()
}

fn total_calls(stack: &Stack) -> u64 {
    stack.stats()["by_account"][ACCOUNT]["total_calls"]
        .as_u64()
        .unwrap_or(0)
}

async fn put_policy(stack: &Stack, role: &str, name: &str, actions: &[&str]) {
    stack
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(allow(actions).to_string())
        .send()
        .await
        .expect("PutRolePolicy");
}

/// Deletes role `name` and creates it again (a CloudFormation replacement): a new RoleId.
async fn recreate(stack: &Stack, path: &str, name: &str) -> String {
    let iam = &stack.iam;
    iam.delete_role_policy()
        .role_name(name)
        .policy_name("inline")
        .send()
        .await
        .expect("DeleteRolePolicy");
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .expect("DeleteRole");
    stack
        .create_role(path, name, allow(&["s3:ListBucket"]))
        .await
}

#[tokio::test]
async fn an_incremental_scan_carries_what_cannot_have_changed_and_equals_a_full_one() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": [], "role_last_used_lag_seconds": 0}));
    let tag = unique("incr");
    let path = format!("/e2e/{tag}/");
    let roles = stack.create_roles(&path, &tag, 200).await;
    let month_ago = days_ago(30);
    let seeded: Vec<Value> = roles
        .iter()
        .map(|r| json!({"entity": r, "service": "s3", "region": "eu-west-1", "at": month_ago}))
        .collect();
    stack.seed_activity(Value::Array(seeded));
    let failing = roles[199].clone();
    stack.configure(json!({"fail": [failing]}));
    let input = |incremental: bool| {
        json!({
            "discover": {"types": ["role"], "path_prefix": path},
            "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1},
            "incremental": incremental,
        })
    };

    // 1. A full scan: every principal's report and carry row.
    let first = stack
        .run(&format!("{tag}-1"), input(false))
        .await
        .succeeded();
    let s1 = summary_of(&stack, &first).await;
    assert_eq!(s1["counts"]["principals_planned"], 200);
    assert!(
        s1.get("incremental").is_none(),
        "a full run has no incremental section"
    );

    // 2. Fourteen roles use s3 now, six get a policy granting sqs, one is re-created,
    //    and the one that failed no longer does.
    stack.configure(json!({"fail": []}));
    let used_now = days_ago(0);
    let busy: Vec<Value> = roles[..14]
        .iter()
        .map(|r| json!({"entity": r, "service": "s3", "region": "eu-west-1", "at": used_now}))
        .collect();
    stack.seed_activity(Value::Array(busy));
    for i in 14..20 {
        put_policy(
            &stack,
            &format!("{tag}-{i}"),
            "queues",
            &["sqs:SendMessage"],
        )
        .await;
    }
    let recreated = recreate(&stack, &path, &format!("{tag}-20")).await;

    // 3. The incremental scan, and at once a full one.
    let before = total_calls(&stack);
    let second = stack
        .run(&format!("{tag}-2"), input(true))
        .await
        .succeeded();
    let calls = total_calls(&stack) - before;
    let third = stack
        .run(&format!("{tag}-3"), input(false))
        .await
        .succeeded();
    let (s2, s3) = (
        summary_of(&stack, &second).await,
        summary_of(&stack, &third).await,
    );
    let incremental = &s2["incremental"];
    let carried = incremental["carried"].as_u64().unwrap();
    assert!(carried >= 170, "{incremental}");
    assert_eq!(
        incremental["scanned"].as_u64().unwrap(),
        200 - carried,
        "{incremental}"
    );
    assert!(
        incremental["sampled"].as_u64().unwrap() >= 1,
        "{incremental}"
    );
    assert_eq!(incremental["mismatches"], 0, "{incremental}");
    assert_eq!(incremental["fallback_accounts"], json!([]), "{incremental}");
    assert!(
        calls as f64 / 200.0 <= 0.5,
        "{calls} IAM calls for 200 principals"
    );
    assert_eq!(s2["counts"]["principals_missing"], 0);

    let (r2, r3) = (reports(&stack, &s2).await, reports(&stack, &s3).await);
    assert_eq!(r2.len(), 200, "every principal has a report");
    assert_eq!(r2.keys().collect::<Vec<_>>(), r3.keys().collect::<Vec<_>>());
    for (arn, report) in &r2 {
        assert_eq!(
            reading(report),
            reading(&r3[arn]),
            "{arn}: incremental vs full"
        );
    }
    // The changed ones were scanned, and say so.
    for (i, arn) in roles.iter().enumerate().take(20) {
        let report = &r2[arn];
        assert!(report.get("carried_from").is_none(), "{arn} was scanned");
        let s3 = e2e::service(report, "s3");
        if i < 14 {
            assert_eq!(s3["usage"], "active", "{arn}");
            assert_eq!(s3["last_authenticated"], json!(used_now), "{arn}");
        } else {
            assert_eq!(e2e::service(report, "sqs")["usage"], "never_used", "{arn}");
        }
    }
    let reborn = &r2[&recreated];
    assert!(
        reborn.get("carried_from").is_none(),
        "a re-created role is scanned"
    );
    assert_eq!(reborn["changes"]["recreated"], true);
    assert!(
        r2[&failing].get("carried_from").is_none(),
        "its previous report failed"
    );
    // A carried report is the first run's data, judged now.
    let carried_one = r2
        .values()
        .find(|r| r.get("carried_from").is_some())
        .expect("a carried report");
    let origin = &r2_origin(&stack, &s1, carried_one).await;
    assert_eq!(carried_one["carried_from"]["run_id"], s1["run_id"]);
    assert_eq!(
        carried_one["job"]["id"], origin["job"]["id"],
        "its job as it was"
    );
    assert_eq!(
        carried_one["carried_from"]["data_as_of"],
        origin["job"]["created"]
    );
    assert_eq!(
        carried_one["as_of"], s2["as_of"],
        "judged at this run's as_of"
    );
}

/// The first run's report of the principal `report` is about.
async fn r2_origin(stack: &Stack, s1: &Value, report: &Value) -> Value {
    stack.report(s1, report["arn"].as_str().unwrap()).await
}

#[tokio::test]
async fn a_sample_that_does_not_hold_scans_the_account_in_full() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": [], "role_last_used_lag_seconds": 0}));
    let tag = unique("incr-lag");
    let path = format!("/e2e/{tag}/");
    let roles = stack.create_roles(&path, &tag, 30).await;
    let month_ago = days_ago(30);
    let seed = |at: &str| -> Value {
        Value::Array(
            roles
                .iter()
                .map(|r| json!({"entity": r, "service": "s3", "region": "eu-west-1", "at": at}))
                .collect(),
        )
    };
    stack.seed_activity(seed(&month_ago));
    let input = json!({
        "discover": {"types": ["role"], "path_prefix": path},
        "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1},
        "incremental": true,
    });
    stack
        .run(&format!("{tag}-1"), input.clone())
        .await
        .succeeded();

    // Every role uses s3 now, but RoleLastUsed lags ten days behind: the rule would
    // carry all of them with last month's answer.
    let used_now = days_ago(0);
    stack.seed_activity(seed(&used_now));
    stack.configure(json!({"role_last_used_lag_seconds": 864000}));
    let second = stack.run(&format!("{tag}-2"), input).await.succeeded();
    stack.configure(json!({"role_last_used_lag_seconds": 0}));
    let s2 = summary_of(&stack, &second).await;
    let incremental = &s2["incremental"];
    assert!(
        incremental["mismatches"].as_u64().unwrap() >= 1,
        "{incremental}"
    );
    assert_eq!(
        incremental["fallback_accounts"],
        json!([ACCOUNT]),
        "{incremental}"
    );
    assert_eq!(incremental["carried"], 0, "{incremental}");
    assert_eq!(incremental["scanned"], 30, "{incremental}");
    let all = reports(&stack, &s2).await;
    assert_eq!(all.len(), 30);
    for (arn, report) in &all {
        let s3 = e2e::service(report, "s3");
        assert_eq!(
            (s3["usage"].as_str(), s3["last_authenticated"].as_str()),
            (Some("active"), Some(used_now.as_str())),
            "{arn}: the reports are still true"
        );
    }
}

#[tokio::test]
async fn a_policy_whose_role_used_only_other_services_is_carried_on_the_roles_word() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": [], "role_last_used_lag_seconds": 0}));
    let tag = unique("incr-wit");
    let path = format!("/e2e/{tag}/");
    let roles = stack.create_roles(&path, &tag, 4).await;
    let names: Vec<String> = (0..4).map(|i| format!("{tag}-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let queues = stack
        .create_policy(
            &path,
            &format!("{tag}-queues"),
            allow(&["sqs:SendMessage"]),
            &names,
        )
        .await;
    let buckets = stack
        .create_policy(
            &path,
            &format!("{tag}-buckets"),
            allow(&["s3:GetObject"]),
            &names,
        )
        .await;
    let month_ago = days_ago(30);
    let seeded: Vec<Value> = roles
        .iter()
        .map(|r| json!({"entity": r, "service": "s3", "region": "eu-west-1", "at": month_ago}))
        .collect();
    stack.seed_activity(Value::Array(seeded));
    let input = |incremental: bool| {
        json!({
            "discover": {"types": ["role", "policy"], "path_prefix": path},
            "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1},
            "incremental": incremental,
        })
    };
    stack
        .run(&format!("{tag}-1"), input(false))
        .await
        .succeeded();

    // The first role uses s3 now: through `buckets` (which grants s3), not `queues`.
    let used_now = days_ago(0);
    stack.seed_activity(
        json!([{"entity": roles[0], "service": "s3", "region": "eu-west-1", "at": used_now}]),
    );
    let second = stack
        .run(&format!("{tag}-2"), input(true))
        .await
        .succeeded();
    let third = stack
        .run(&format!("{tag}-3"), input(false))
        .await
        .succeeded();
    let (s2, s3) = (
        summary_of(&stack, &second).await,
        summary_of(&stack, &third).await,
    );
    let (r2, r3) = (reports(&stack, &s2).await, reports(&stack, &s3).await);
    assert_eq!(r2.len(), 6, "4 roles and 2 policies");
    for (arn, report) in &r2 {
        assert_eq!(
            reading(report),
            reading(&r3[arn]),
            "{arn}: incremental vs full"
        );
    }
    assert!(
        r2[&roles[0]].get("carried_from").is_none(),
        "the role used is scanned"
    );
    assert!(
        r2[&queues].get("carried_from").is_some(),
        "its role used s3, which it does not grant: carried"
    );
    let through = &r2[&buckets];
    assert!(
        through.get("carried_from").is_none(),
        "its role used s3, which it grants"
    );
    assert_eq!(
        e2e::service(through, "s3")["last_authenticated"],
        json!(used_now)
    );
    let incremental = &s2["incremental"];
    assert_eq!(incremental["mismatches"], 0, "{incremental}");
    assert_eq!(
        incremental["carried"].as_u64().unwrap() + incremental["scanned"].as_u64().unwrap(),
        6,
        "{incremental}"
    );
    assert_eq!(
        incremental["scanned"], 3,
        "the role, `buckets` and the sampled role: {incremental}"
    );
}
