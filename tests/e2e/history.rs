//! Runs over time, on the local stack: scan, then seed new activity, let time pass (the
//! emulator's `age`), delete a principal, create one, attach a policy, and scan again.
//! The second run's reports carry `changes` and the summary counts them, against the
//! seeded truth; a last use that aged out of IAM's 400-day window is kept as
//! `last_authenticated_ever`, also through a run where the principal's job failed;
//! `ila diff` and `ila open` read the runs back.

use e2e::{allow, assert_has, days_ago, ila_json, ila_ok, summary_of, unique, Stack};
use serde_json::{json, Value};

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_second_scan_reports_what_changed_and_what_iam_forgot() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": []}));
    let tag = unique("history");
    let path = format!("/e2e/{tag}/");
    let role = |n: &str| format!("{tag}-{n}");
    let keep = stack
        .create_role(
            &path,
            &role("keep"),
            allow(&[
                "s3:GetObject",
                "sqs:SendMessage",
                "sns:Publish",
                "ec2:DescribeInstances",
            ]),
        )
        .await;
    let gone = stack
        .create_role(&path, &role("gone"), allow(&["s3:GetObject"]))
        .await;
    let grows = stack
        .create_role(&path, &role("grows"), allow(&["s3:GetObject"]))
        .await;
    let sns_at = days_ago(395);
    stack.seed_activity(json!([
        {"entity": keep, "service": "s3", "region": "eu-west-1", "at": days_ago(3)},
        {"entity": keep, "service": "sqs", "region": "eu-west-1", "at": days_ago(85)},
        {"entity": keep, "service": "sns", "region": "us-east-2", "at": sns_at},
    ]));
    let input = json!({
        "discover": {"types": ["role"], "path_prefix": path},
        "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}
    });

    // 1. Scan: the first run of this scope, every principal new.
    let first_run = format!("{tag}-1");
    let first = stack.run(&first_run, input.clone()).await.succeeded();
    let s1 = summary_of(&stack, &first).await;
    assert_eq!(s1["changes"]["previous_run"], Value::Null);
    assert_eq!(s1["changes"]["principals_new"], 3);
    let keep1 = stack.report(&s1, &keep).await;
    assert_eq!(keep1["changes"]["new"], true);
    let sns1 = e2e::service(&keep1, "sns");
    assert_eq!(
        (sns1["usage"].as_str(), sns1["last_authenticated"].as_str()),
        (Some("stale"), Some(sns_at.as_str()))
    );

    // 2. Ten days pass: s3 stays active, sqs (85 → 95 days) turns stale, sns (395 → 405)
    //    leaves IAM's window. keep now uses ec2; `gone` is deleted; `new` is created;
    //    `grows` gets a managed policy granting DynamoDB.
    stack.control(
        "POST",
        "/moto-api/iam-access-advisor/age",
        &json!({"days": 10}),
    );
    stack.seed_activity(json!([
        {"entity": keep, "service": "ec2", "region": "eu-west-1", "at": days_ago(1)},
    ]));
    stack
        .iam
        .delete_role_policy()
        .role_name(role("gone"))
        .policy_name("inline")
        .send()
        .await
        .expect("DeleteRolePolicy");
    stack
        .iam
        .delete_role()
        .role_name(role("gone"))
        .send()
        .await
        .expect("DeleteRole");
    let new = stack
        .create_role(&path, &role("new"), allow(&["s3:GetObject"]))
        .await;
    stack
        .create_policy(
            &path,
            &role("tables"),
            allow(&["dynamodb:GetItem"]),
            &[&role("grows")],
        )
        .await;

    // 3. Scan again.
    let second_run = format!("{tag}-2");
    let second = stack.run(&second_run, input.clone()).await.succeeded();
    let s2 = summary_of(&stack, &second).await;
    let changes = &s2["changes"];
    assert_eq!(changes["previous_run"]["run_id"], first_run.as_str());
    assert_eq!(
        (
            &changes["principals_new"],
            &changes["principals_gone"],
            &changes["principals_changed"],
            &changes["principals_unchanged"],
            &changes["principals_not_compared"]
        ),
        (&json!(1), &json!(1), &json!(2), &json!(0), &json!(0)),
        "{changes}"
    );
    assert_eq!(names(&changes["gone"]), [gone.as_str()]);
    let largest: Vec<(&str, u64)> = changes["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["arn"].as_str().unwrap(), l["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(largest, [(keep.as_str(), 2), (grows.as_str(), 1)]);

    let keep2 = stack.report(&s2, &keep).await;
    let c = &keep2["changes"];
    assert_eq!(
        (c["new"].as_bool(), c["previous_run"]["run_id"].as_str()),
        (Some(false), Some(first_run.as_str()))
    );
    assert_eq!(names(&c["newly_used"]), ["ec2"]);
    assert_eq!(names(&c["newly_stale"]), ["sqs"]);
    for empty in ["newly_never_used", "granted_added", "granted_removed"] {
        assert_eq!(names(&c[empty]), Vec::<String>::new(), "{empty}");
    }
    // History: IAM no longer reports sns; the report keeps run 1's last use.
    let sns = e2e::service(&keep2, "sns");
    assert_eq!(sns["last_authenticated"], Value::Null, "IAM forgot it");
    assert_eq!(
        sns["last_authenticated_ever"],
        json!({"time": sns_at, "entity": keep, "region": "us-east-2", "run_id": first_run})
    );
    assert_eq!(
        sns["usage"], "stale",
        "stale with that date, not never used"
    );
    assert_eq!(
        (
            keep2["findings"]["services_active"].as_u64(),
            keep2["findings"]["services_stale"].as_u64(),
            keep2["findings"]["services_never_used"].as_u64()
        ),
        (Some(2), Some(2), Some(0)),
        "s3, ec2 active; sqs, sns stale"
    );

    let grows2 = stack.report(&s2, &grows).await;
    assert_eq!(grows2["changes"]["new"], false);
    assert_eq!(names(&grows2["changes"]["granted_added"]), ["dynamodb"]);
    assert_eq!(
        names(&grows2["changes"]["newly_used"]),
        Vec::<String>::new()
    );
    let new2 = stack.report(&s2, &new).await;
    assert_eq!(new2["changes"]["new"], true);
    assert_eq!(
        new2["changes"]["previous_run"]["run_id"],
        first_run.as_str()
    );

    // 4. A transient failure: keep's job FAILS in a third scan, and a fourth scan still
    //    knows sns's last use from the first (carried through the failed report).
    stack.configure(json!({"job_seconds": 1.0, "fail": [keep]}));
    let third = stack
        .run(&format!("{tag}-3"), input.clone())
        .await
        .succeeded();
    let failed = stack.report(&summary_of(&stack, &third).await, &keep).await;
    assert_eq!(failed["job"]["status"], "FAILED");
    assert_eq!(failed["carried_history"][0]["namespace"], "ec2");
    stack.configure(json!({"job_seconds": 1.0, "fail": []}));
    let fourth = stack
        .run(&format!("{tag}-4"), input.clone())
        .await
        .succeeded();
    let keep4 = stack
        .report(&summary_of(&stack, &fourth).await, &keep)
        .await;
    let sns4 = e2e::service(&keep4, "sns");
    assert_eq!(
        (
            sns4["usage"].as_str(),
            sns4["last_authenticated_ever"]["run_id"].as_str()
        ),
        (Some("stale"), Some(first_run.as_str())),
        "one failed job does not erase history"
    );

    // ila diff: by default against the previous run; the same truth from the indexes.
    let d = ila_json(&["diff", &second_run]);
    assert_eq!(d["against"], first_run.as_str());
    assert_eq!(names(&d["new"]), [new.as_str()]);
    assert_eq!(names(&d["gone"]), [gone.as_str()]);
    let changed: Vec<&str> = d["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["arn"].as_str().unwrap())
        .collect();
    assert_eq!(changed, [grows.as_str(), keep.as_str()]);
    let text = ila_ok(&["diff", &second_run, "--against", &first_run], 0);
    assert_has(
        &text,
        &[
            &format!("run {second_run} against {first_run}"),
            "1 new, 1 gone, 2 changed, 0 unchanged",
            "    newly stale      sqs",
        ],
    );
    let first_alone = e2e::ila(&["diff", &first_run]);
    assert_eq!(first_alone.status.code(), Some(1));
    assert_has(
        &e2e::text(&first_alone.stderr),
        &["is the first run of its scope", "--against"],
    );

    // ila open: the run's page, downloaded.
    let dir = std::env::temp_dir().join(&tag);
    std::fs::create_dir_all(&dir).unwrap();
    let opened = ila_ok(&["open", &second_run, "--dir", dir.to_str().unwrap()], 0);
    let page = std::fs::read_to_string(opened.trim()).expect("the page ila open printed");
    assert!(
        page.starts_with("<!doctype html>") || page.starts_with("<!DOCTYPE html>"),
        "{}",
        &page[..80.min(page.len())]
    );
    for arn in [&keep, &grows, &new] {
        assert!(page.contains(arn.as_str()), "the page names {arn}");
    }
}
