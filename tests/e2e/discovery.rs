//! Discovery: filters by path, name glob and tags, service-linked roles skipped, explicit
//! ARNs merged once, and `{}` scanning the whole account.

use e2e::{allow, summary_of, unique, Stack};
use serde_json::json;

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
