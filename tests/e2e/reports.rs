//! Reports against the seeded truth: explicit ARNs of each type at service level with
//! entities and granting policies, and discovery at action level over several polls.

use e2e::{allow, days_ago, entity_arns, namespaces, service, summary_of, unique, Stack};
use serde_json::json;

#[tokio::test]
async fn explicit_arns_of_each_type_match_the_seeded_truth() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": []}));
    let run = unique("explicit");
    let path = format!("/e2e/{run}/");
    let role_a = stack
        .create_role(
            &path,
            &format!("{run}-a"),
            allow(&["s3:*", "ec2:Describe*", "kms:Decrypt"]),
        )
        .await;
    let role_b = stack
        .create_role(&path, &format!("{run}-b"), allow(&["logs:*"]))
        .await;
    let user_1 = stack
        .create_user(
            &path,
            &format!("{run}-u1"),
            Some(allow(&["sqs:SendMessage"])),
        )
        .await;
    let user_2 = stack.create_user(&path, &format!("{run}-u2"), None).await;
    let group = stack
        .create_group(
            &path,
            &format!("{run}-g"),
            allow(&["dynamodb:*", "sns:Publish"]),
            &[&format!("{run}-u1"), &format!("{run}-u2")],
        )
        .await;
    let policy = stack
        .create_policy(
            &path,
            &format!("{run}-p"),
            allow(&["lambda:InvokeFunction"]),
            &[&format!("{run}-a"), &format!("{run}-b")],
        )
        .await;
    let (s3_at, ec2_at, lambda_a_at, lambda_b_at) =
        (days_ago(5), days_ago(200), days_ago(100), days_ago(30));
    let (ddb_1_at, ddb_2_at, sqs_at) = (days_ago(3), days_ago(10), days_ago(1));
    stack.seed_activity(json!([
        {"entity": role_a, "service": "s3", "region": "eu-west-1", "at": s3_at},
        {"entity": role_a, "service": "ec2", "region": "us-east-1", "at": ec2_at},
        {"entity": role_a, "service": "lambda", "region": "us-east-1", "at": lambda_a_at},
        {"entity": role_b, "service": "lambda", "region": "eu-central-1", "at": lambda_b_at},
        {"entity": user_1, "service": "dynamodb", "region": "us-west-2", "at": ddb_1_at},
        {"entity": user_2, "service": "dynamodb", "region": "us-west-2", "at": ddb_2_at},
        {"entity": user_1, "service": "sqs", "region": "us-west-2", "at": sqs_at},
    ]));

    let execution = stack
        .run(
            &run,
            json!({
                "arns": [role_a, user_1, group, policy],
                "batch_size": 2,
            "iam_requests_per_second": 20,
                "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 30},
                "report": {"entities": true, "granting_policies": true, "unused_days": 90}
            }),
        )
        .await;
    let output = execution.succeeded();
    assert_eq!(
        (
            output["principals"].as_u64(),
            output["reports_written"].as_u64()
        ),
        (Some(4), Some(4))
    );
    assert_eq!(output["by_status"], json!({"COMPLETED": 4}));
    let summary = summary_of(&stack, &output).await;
    assert_eq!(summary["status"], "SUCCEEDED");
    assert_eq!(summary["counts"]["batches_planned"], 2);
    assert_eq!(
        summary["counts"]["by_type"],
        json!({"group": 1, "policy": 1, "role": 1, "user": 1})
    );

    let a = stack.report(&summary, &role_a).await;
    assert_eq!(a["type"], "role");
    assert_eq!(a["job"]["status"], "COMPLETED");
    assert_eq!(a["job"]["granularity"], "SERVICE_LEVEL");
    assert_eq!(
        namespaces(&a),
        ["ec2", "kms", "lambda", "s3"],
        "inline + attached policy"
    );
    let s3 = service(&a, "s3");
    assert_eq!(
        (
            s3["last_authenticated"].as_str(),
            s3["last_authenticated_region"].as_str()
        ),
        (Some(s3_at.as_str()), Some("eu-west-1"))
    );
    assert_eq!(s3["last_authenticated_entity"], role_a.as_str());
    assert_eq!(s3["usage"], "active");
    assert_eq!(s3["days_since_last_authenticated"], 5);
    assert_eq!(service(&a, "ec2")["last_authenticated"], ec2_at.as_str());
    assert_eq!(a["findings"]["stale_services"], json!(["ec2", "lambda"]));
    assert_eq!(a["findings"]["never_used_services"], json!(["kms"]));
    let kms_grants = service(&a, "kms")["granting_policies"]
        .as_array()
        .expect("granting policies of an unused service")
        .clone();
    assert_eq!(kms_grants.len(), 1);
    assert_eq!(
        (
            kms_grants[0]["policy_name"].as_str(),
            kms_grants[0]["policy_type"].as_str()
        ),
        (Some("inline"), Some("INLINE"))
    );
    let lambda_grants = service(&a, "lambda")["granting_policies"]
        .as_array()
        .unwrap();
    assert_eq!(lambda_grants[0]["policy_arn"], policy.as_str());
    assert!(
        service(&a, "s3").get("granting_policies").is_none(),
        "used services need no grant listing"
    );

    let u1 = stack.report(&summary, &user_1).await;
    assert_eq!(
        namespaces(&u1),
        ["dynamodb", "sns", "sqs"],
        "a user's view includes its groups' policies"
    );
    assert_eq!(
        service(&u1, "dynamodb")["last_authenticated"],
        ddb_1_at.as_str(),
        "a user sees only its own activity"
    );

    let g = stack.report(&summary, &group).await;
    assert_eq!(namespaces(&g), ["dynamodb", "sns"]);
    let ddb = service(&g, "dynamodb");
    assert_eq!(
        (
            ddb["last_authenticated"].as_str(),
            ddb["last_authenticated_entity"].as_str()
        ),
        (Some(ddb_1_at.as_str()), Some(user_1.as_str()))
    );
    assert_eq!(ddb["total_authenticated_entities"], 2);
    assert_eq!(entity_arns(ddb), [user_1.clone(), user_2.clone()]);
    assert_eq!(service(&g, "sns")["usage"], "never_used");

    let p = stack.report(&summary, &policy).await;
    assert_eq!(p["type"], "policy");
    let lambda = service(&p, "lambda");
    assert_eq!(
        (
            lambda["last_authenticated"].as_str(),
            lambda["last_authenticated_entity"].as_str()
        ),
        (Some(lambda_b_at.as_str()), Some(role_b.as_str()))
    );
    assert_eq!(lambda["total_authenticated_entities"], 2);
    assert_eq!(entity_arns(lambda), [role_a.clone(), role_b.clone()]);
}

#[tokio::test]
async fn discovery_at_action_level_waits_through_several_polls() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 5.0, "fail": []}));
    let run = unique("discover");
    let path = format!("/e2e/{run}/");
    let role = stack
        .create_role(
            &path,
            &format!("{run}-r"),
            allow(&[
                "s3:GetObject",
                "s3:PutObject",
                "ec2:DescribeInstances",
                "cloud9:*",
            ]),
        )
        .await;
    let user = stack
        .create_user(&path, &format!("{run}-u"), Some(allow(&["iam:ListRoles"])))
        .await;
    let get_at = days_ago(2);
    stack.seed_activity(json!([{"entity": role, "service": "s3", "action": "GetObject", "region": "eu-west-1", "at": get_at}]));
    let polls_before = stack.stats()["calls"]["GetServiceLastAccessedDetails"]
        .as_u64()
        .unwrap_or(0);

    let execution = stack
        .run(
            &run,
            json!({
                "discover": {"path_prefix": path, "types": ["user", "role", "group", "policy"]},
                "granularity": "ACTION_LEVEL",
                "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 60}
            }),
        )
        .await;
    stack.configure(json!({"job_seconds": 1.0}));
    let output = execution.succeeded();
    assert_eq!(
        output["principals"], 2,
        "discovery finds exactly the principals under the path"
    );
    let polls = stack.stats()["calls"]["GetServiceLastAccessedDetails"]
        .as_u64()
        .unwrap()
        - polls_before;
    assert!(
        polls >= 2 * 3,
        "2 jobs IN_PROGRESS for 5 s, polled every ~1 s: at least 2 polls each find them running, a third reads them: {polls} calls"
    );

    let summary = summary_of(&stack, &output).await;
    let r = stack.report(&summary, &role).await;
    assert_eq!(r["job"]["granularity"], "ACTION_LEVEL");
    assert_eq!(r["job"]["job_type"], "ACTION_LEVEL");
    let s3 = service(&r, "s3");
    assert_eq!(s3["action_tracking"], true);
    let actions: Vec<(String, String)> = s3["tracked_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["usage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("s3:GetObject".to_string(), "active".to_string()),
            ("s3:PutObject".to_string(), "never_used".to_string())
        ]
    );
    assert_eq!(
        s3["tracked_actions"][0]["last_accessed_time"],
        get_at.as_str()
    );
    assert_eq!(
        s3["tracked_actions"][0]["last_accessed_region"],
        "eu-west-1"
    );
    assert_eq!(
        service(&r, "cloud9")["action_tracking"],
        false,
        "untracked services are marked, not shown as unused actions"
    );
    assert!(service(&r, "cloud9").get("tracked_actions").is_none());
    assert_eq!(
        r["findings"]["never_used_actions"],
        json!(["ec2:DescribeInstances", "s3:PutObject"])
    );
    assert_eq!(
        r["findings"]["services_without_action_tracking"],
        json!(["cloud9"])
    );
    let u = stack.report(&summary, &user).await;
    assert_eq!(namespaces(&u), ["iam"]);
}
