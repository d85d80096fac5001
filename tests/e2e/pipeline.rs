use e2e::{allow, days_ago, unique, Stack};
use serde_json::{json, Value};

fn namespaces(report: &Value) -> Vec<String> {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["namespace"].as_str().unwrap().to_string())
        .collect()
}

fn service<'a>(report: &'a Value, namespace: &str) -> &'a Value {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["namespace"] == namespace)
        .unwrap_or_else(|| panic!("{} has no {namespace}", report["arn"]))
}

fn entity_arns(service: &Value) -> Vec<String> {
    let mut arns: Vec<String> = service["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["arn"].as_str().unwrap().to_string())
        .collect();
    arns.sort();
    arns
}

async fn summary_of(stack: &Stack, output: &Value) -> Value {
    stack
        .json(output["summary_key"].as_str().expect("summary_key"))
        .await
}

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
    assert_eq!(s3["usage"], "used");
    assert_eq!(s3["days_since_last_authenticated"], 5);
    assert_eq!(service(&a, "ec2")["last_authenticated"], ec2_at.as_str());
    assert_eq!(a["findings"]["unused_services"], json!(["ec2", "lambda"]));
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
            ("s3:GetObject".to_string(), "used".to_string()),
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

#[tokio::test]
async fn failed_and_vanished_principals_are_reported_and_the_run_succeeds() {
    let stack = Stack::from_env().await;
    let run = unique("faults");
    let path = format!("/e2e/{run}/");
    let ok = stack
        .create_role(&path, &format!("{run}-ok"), allow(&["s3:ListBucket"]))
        .await;
    let failing = stack
        .create_role(&path, &format!("{run}-fail"), allow(&["s3:ListBucket"]))
        .await;
    let vanished = stack
        .create_role(&path, &format!("{run}-gone"), allow(&["s3:ListBucket"]))
        .await;
    stack
        .iam
        .delete_role_policy()
        .role_name(format!("{run}-gone"))
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    stack
        .iam
        .delete_role()
        .role_name(format!("{run}-gone"))
        .send()
        .await
        .unwrap();
    stack.configure(json!({"job_seconds": 1.0, "fail": [failing]}));

    let execution = stack.run(&run, json!({"arns": [ok, failing, vanished], "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1}})).await;
    stack.configure(json!({"fail": []}));
    let output = execution.succeeded();
    assert_eq!(
        output["by_status"],
        json!({"COMPLETED": 1, "FAILED": 1, "NOT_FOUND": 1})
    );
    let summary = summary_of(&stack, &output).await;
    assert_eq!(summary["errors"].as_array().unwrap().len(), 2);

    let f = stack.report(&summary, &failing).await;
    assert_eq!(f["job"]["status"], "FAILED");
    assert!(f["job"]["id"].is_string());
    assert!(
        !f["job"]["error"]["message"].as_str().unwrap().is_empty(),
        "IAM's error is kept: {}",
        f["job"]["error"]
    );
    assert!(f["services"].as_array().unwrap().is_empty());
    let v = stack.report(&summary, &vanished).await;
    assert_eq!(v["job"]["status"], "NOT_FOUND");
    assert_eq!(v["job"]["error"]["code"], "NoSuchEntity");
    assert!(v["job"]["id"].is_null());
    let o = stack.report(&summary, &ok).await;
    assert_eq!(namespaces(&o), ["s3"]);
}

#[tokio::test]
async fn discovery_filters_by_name_and_tags_skips_service_linked_roles_and_merges_arns() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": []}));
    let run = unique("filters");
    let path = format!("/e2e/{run}/");
    let tag = |team: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key("team")
            .value(team)
            .build()
            .unwrap()
    };
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string();
    let mut arns = Vec::new();
    for (role_path, name, team) in [
        (path.as_str(), format!("{run}-app-web"), "web"),
        (path.as_str(), format!("{run}-app-db"), "db"),
        (path.as_str(), format!("{run}-batch"), "web"),
        (
            "/aws-service-role/ecs.amazonaws.com/",
            format!("{run}-app-slr"),
            "web",
        ),
    ] {
        let created = stack
            .iam
            .create_role()
            .role_name(&name)
            .path(role_path)
            .assume_role_policy_document(&trust)
            .tags(tag(team))
            .send()
            .await
            .unwrap();
        arns.push(created.role.unwrap().arn);
    }
    let filter = json!({"types": ["role"], "path_prefix": "/", "name_pattern": format!("{run}-app-*"), "tags": {"team": "web"}});
    let poll = json!({"initial_wait_seconds": 1, "max_wait_seconds": 1});

    let execution = stack
        .run(
            &run,
            json!({"discover": filter, "arns": [arns[0]], "poll": poll}),
        )
        .await;
    let output = execution.succeeded();
    let summary = summary_of(&stack, &output).await;
    let reported: Vec<&str> = summary["report_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        reported,
        [format!("{run}-app-web.json")],
        "name and tag filters, no service-linked role, the explicit ARN once"
    );

    let mut with_slr = filter.clone();
    with_slr["skip_service_linked_roles"] = json!(false);
    let execution = stack
        .run(
            &format!("{run}-slr"),
            json!({"discover": with_slr, "poll": poll}),
        )
        .await;
    let summary = summary_of(&stack, &execution.succeeded()).await;
    let mut reported: Vec<String> = summary["report_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        [format!("{run}-app-slr.json"), format!("{run}-app-web.json")]
    );
}

#[tokio::test]
async fn jobs_still_running_at_the_poll_limit_are_reported_timed_out() {
    let stack = Stack::from_env().await;
    let run = unique("timeout");
    let role = stack
        .create_role(
            &format!("/e2e/{run}/"),
            &format!("{run}-slow"),
            allow(&["s3:ListBucket"]),
        )
        .await;
    stack.configure(json!({"job_seconds": 60.0, "fail": []}));
    let execution = stack
        .run(&run, json!({"arns": [role], "poll": {"initial_wait_seconds": 1, "max_wait_seconds": 1, "max_attempts": 2}}))
        .await;
    stack.configure(json!({"job_seconds": 1.0}));
    let output = execution.succeeded();
    assert_eq!(output["by_status"], json!({"TIMED_OUT": 1}));
    let summary = summary_of(&stack, &output).await;
    let report = stack.report(&summary, &role).await;
    assert_eq!(report["job"]["status"], "TIMED_OUT");
    assert_eq!(report["job"]["error"]["code"], "TimedOut");
    assert_eq!(
        report["job"]["error"]["message"],
        "job still IN_PROGRESS after 2 polls"
    );
    assert!(
        report["job"]["id"].is_string(),
        "the JobId is kept, to read the job later"
    );
    assert_eq!(summary["errors"][0]["status"], "TIMED_OUT");
}

/// `{}` — what the schedule sends by default — scans every user, role, group and
/// customer-managed policy of the account.
#[tokio::test]
async fn an_empty_input_scans_every_principal_of_the_account() {
    let stack = Stack::from_env().await;
    stack.configure(json!({"job_seconds": 1.0, "fail": []}));
    let run = unique("everything");
    stack
        .create_user(
            &format!("/e2e/{run}/"),
            &format!("{run}-u"),
            Some(allow(&["sqs:SendMessage"])),
        )
        .await;
    let iam = &stack.iam;
    let mut expected: Vec<String> = Vec::new();
    expected.extend(
        iam.list_users()
            .max_items(1000)
            .send()
            .await
            .unwrap()
            .users
            .into_iter()
            .map(|u| u.arn),
    );
    expected.extend(
        iam.list_roles()
            .max_items(1000)
            .send()
            .await
            .unwrap()
            .roles
            .into_iter()
            .map(|r| r.arn)
            .filter(|a| !a.contains(":role/aws-service-role/")),
    );
    expected.extend(
        iam.list_groups()
            .max_items(1000)
            .send()
            .await
            .unwrap()
            .groups
            .into_iter()
            .map(|g| g.arn),
    );
    expected.extend(
        iam.list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .max_items(1000)
            .send()
            .await
            .unwrap()
            .policies
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.arn),
    );
    expected.sort();

    let execution = stack.run(&run, json!({})).await;
    let summary = summary_of(&stack, &execution.succeeded()).await;
    assert_eq!(summary["parameters"]["granularity"], "SERVICE_LEVEL");
    let mut reported = Vec::new();
    for key in summary["report_keys"].as_array().unwrap() {
        reported.push(
            stack.json(key.as_str().unwrap()).await["arn"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    reported.sort();
    assert_eq!(reported, expected);
}
