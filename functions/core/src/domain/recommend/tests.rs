//! Recommendations from a report and the policies held: each rule of the module doc.

use super::*;
use crate::domain::policy::{PolicyDocument, UnseenReason};
use crate::domain::report::ServiceReport;
use crate::domain::usage::Usage;
use serde_json::json;
use std::collections::BTreeMap;
use time::macros::datetime;

const AS_OF: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);
const ACCOUNT: &str = "arn:aws:iam::123456789012";

fn svc(ns: &str, usage: Usage) -> ServiceReport {
    ServiceReport {
        namespace: ns.into(),
        name: ns.to_uppercase(),
        usage,
        days_since_last_authenticated: None,
        last_authenticated: None,
        last_authenticated_entity: None,
        last_authenticated_region: None,
        total_authenticated_entities: None,
        last_authenticated_ever: None,
        action_tracking: None,
        tracked_actions: None,
        entities: None,
        granting_policies: None,
    }
}

fn doc(statements: serde_json::Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn allow(actions: &[&str]) -> String {
    doc(json!([{"Effect": "Allow", "Action": actions, "Resource": "*"}]))
}

fn holdings(inline: &[(&str, String)], attached: &[&str]) -> Holdings {
    Holdings {
        created: Some("2025-01-01T00:00:00Z".into()),
        inline: inline
            .iter()
            .map(|(n, d)| InlinePolicy {
                name: n.to_string(),
                document: d.clone(),
            })
            .collect(),
        attached: attached.iter().map(|a| a.to_string()).collect(),
        role_last_used: Some("2026-11-24T00:00:00Z".into()),
        ..Holdings::default()
    }
}

fn managed(arn: &str, document: String) -> (String, ManagedPolicy) {
    (
        arn.to_string(),
        ManagedPolicy {
            arn: arn.into(),
            name: arn.rsplit('/').next().unwrap().into(),
            aws_managed: arn.contains("::aws:policy/"),
            document,
            older_versions: Vec::new(),
        },
    )
}

fn judge(
    arn: &str,
    services: &[ServiceReport],
    slice: &Slice,
    options: &ReportOptions,
    completed: bool,
) -> Judgement {
    let arn = PrincipalArn::parse(arn).unwrap();
    recommend(&Subject {
        arn: &arn,
        completed,
        view: &AdvisorView::from(services),
        options,
        as_of: AS_OF,
        slice,
        own_roles: &[],
    })
}

fn slice_of(arn: &str, h: Holdings, policies: Vec<(String, ManagedPolicy)>) -> Slice {
    Slice {
        principals: [(arn.to_string(), h)].into_iter().collect(),
        policies: policies.into_iter().collect(),
    }
}

fn actions(j: &Judgement) -> Vec<Action> {
    j.recommendations.iter().map(|r| r.action).collect()
}

#[test]
fn a_star_inline_policy_is_narrowed_to_the_used_services() {
    let role = format!("{ACCOUNT}:role/app");
    let slice = slice_of(&role, holdings(&[("all", allow(&["*"]))], &[]), vec![]);
    let services = [
        svc("s3", Usage::Active),
        svc("logs", Usage::Active),
        svc("ec2", Usage::NeverUsed),
        svc("kms", Usage::Stale),
    ];
    let j = judge(&role, &services, &slice, &ReportOptions::default(), true);
    assert_eq!(j.withheld, None);
    assert_eq!(actions(&j), [Action::UpdatePolicy]);
    let r = &j.recommendations[0];
    let p = r.policy.as_ref().unwrap();
    assert_eq!(
        (p.kind, p.name.as_str(), p.holder.as_deref()),
        (PolicyKind::Inline, "all", Some(role.as_str()))
    );
    // Every action but those of the listed services it did not use: s3 and logs stay
    // whole, and so does every service the report does not list.
    let excluded = r.recommended_document.as_ref().unwrap()["Statement"][0]["NotAction"].clone();
    let excluded: Vec<String> = serde_json::from_value(excluded).unwrap();
    assert_eq!(excluded, ["ec2:*", "kms:*"]);
    assert!(
        r.kept
            .iter()
            .any(|k| k.action == "*" && k.reason == UnseenReason::NotReported),
        "{:?}",
        r.kept
    );
    assert!(
        r.removes.services.contains(&"ec2".to_string())
            && r.removes.services.contains(&"kms".to_string())
    );
    assert!(!r.narrowed.is_empty(), "the wildcard's narrowing is named");
    PolicyDocument::parse(&r.recommended_document.as_ref().unwrap().to_string())
        .expect("a valid document");
}

#[test]
fn an_inline_policy_of_only_unused_services_is_deleted_and_an_unchanged_one_left() {
    let user = format!("{ACCOUNT}:user/idle");
    let slice = slice_of(
        &user,
        holdings(
            &[
                ("queues", allow(&["sqs:SendMessage"])),
                ("s3", allow(&["s3:GetObject"])),
            ],
            &[],
        ),
        vec![],
    );
    let services = [svc("sqs", Usage::Stale), svc("s3", Usage::Active)];
    let j = judge(&user, &services, &slice, &ReportOptions::default(), true);
    assert_eq!(actions(&j), [Action::DeleteInlinePolicy]);
    assert_eq!(j.recommendations[0].policy.as_ref().unwrap().name, "queues");
    assert_eq!(j.recommendations[0].removes.services, ["sqs"]);
}

#[test]
fn pass_role_is_kept_and_said_so() {
    let role = format!("{ACCOUNT}:role/deployer");
    let slice = slice_of(
        &role,
        holdings(
            &[("deploy", allow(&["iam:PassRole", "lambda:InvokeFunction"]))],
            &[],
        ),
        vec![],
    );
    let services = [
        svc("iam", Usage::NeverUsed),
        svc("lambda", Usage::NeverUsed),
    ];
    let j = judge(&role, &services, &slice, &ReportOptions::default(), true);
    assert_eq!(actions(&j), [Action::UpdatePolicy]);
    let r = &j.recommendations[0];
    assert_eq!(
        r.recommended_document.as_ref().unwrap()["Statement"][0]["Action"],
        json!(["iam:PassRole"])
    );
    assert_eq!(r.kept.len(), 1);
    assert_eq!(r.kept[0].action, "iam:PassRole");
    assert_eq!(r.removes.services, ["lambda"]);
}

#[test]
fn shared_managed_policies_are_detached_from_idle_holders_and_rewritten_on_their_own_report() {
    let shared = format!("{ACCOUNT}:policy/shared");
    let idle = format!("{ACCOUNT}:role/idle");
    let busy = format!("{ACCOUNT}:role/busy");
    let policies = vec![managed(&shared, allow(&["dynamodb:*", "kms:Decrypt"]))];
    let options = ReportOptions::default();
    let j = judge(
        &idle,
        &[
            svc("dynamodb", Usage::NeverUsed),
            svc("kms", Usage::NeverUsed),
        ],
        &slice_of(&idle, holdings(&[], &[&shared]), policies.clone()),
        &options,
        true,
    );
    assert_eq!(actions(&j), [Action::DetachPolicy]);
    let p = j.recommendations[0].policy.as_ref().unwrap();
    assert_eq!(
        (p.kind, p.arn.as_deref(), p.holder.as_deref()),
        (
            PolicyKind::Managed,
            Some(shared.as_str()),
            Some(idle.as_str())
        )
    );
    let j = judge(
        &busy,
        &[svc("dynamodb", Usage::Active), svc("kms", Usage::NeverUsed)],
        &slice_of(&busy, holdings(&[], &[&shared]), policies.clone()),
        &options,
        true,
    );
    assert!(
        j.recommendations.is_empty(),
        "a holder that used part of it leaves it to the policy's report"
    );
    let own = judge(
        &shared,
        &[svc("dynamodb", Usage::Active), svc("kms", Usage::NeverUsed)],
        &slice_of(
            &shared,
            Holdings {
                created: Some("2025-01-01T00:00:00Z".into()),
                ..Holdings::default()
            },
            policies,
        ),
        &options,
        true,
    );
    assert_eq!(actions(&own), [Action::UpdatePolicy]);
    let r = &own.recommendations[0];
    assert_eq!(r.policy.as_ref().unwrap().holder, None);
    assert_eq!(
        r.recommended_document.as_ref().unwrap()["Statement"][0]["Action"],
        json!(["dynamodb:*"])
    );
}

#[test]
fn aws_managed_policies_are_replaced_or_detached() {
    let ro = "arn:aws:iam::aws:policy/ReadOnlyLike";
    let role = format!("{ACCOUNT}:role/reader");
    let policies = vec![managed(ro, allow(&["s3:Get*", "ec2:Describe*"]))];
    let j = judge(
        &role,
        &[svc("s3", Usage::Active), svc("ec2", Usage::NeverUsed)],
        &slice_of(&role, holdings(&[], &[ro]), policies.clone()),
        &ReportOptions::default(),
        true,
    );
    assert_eq!(actions(&j), [Action::ReplaceAwsManagedPolicy]);
    let r = &j.recommendations[0];
    assert_eq!(r.policy.as_ref().unwrap().kind, PolicyKind::AwsManaged);
    assert_eq!(
        r.recommended_document.as_ref().unwrap()["Statement"][0]["Action"],
        json!(["s3:Get*"])
    );
    let j = judge(
        &role,
        &[svc("s3", Usage::Stale), svc("ec2", Usage::NeverUsed)],
        &slice_of(&role, holdings(&[], &[ro]), policies),
        &ReportOptions::default(),
        true,
    );
    assert_eq!(actions(&j), [Action::DetachPolicy]);
    let aws = judge(ro, &[], &Slice::default(), &ReportOptions::default(), true);
    assert!(aws.withheld.unwrap().contains("can't be edited"));
}

#[test]
fn documents_that_cannot_fit_are_notes_not_recommendations() {
    let user = format!("{ACCOUNT}:user/busy");
    // A NotAction of 300 unused services: over a user's 2,048 characters.
    let unused: Vec<ServiceReport> = (0..300)
        .map(|i| svc(&format!("service{i:03}"), Usage::NeverUsed))
        .collect();
    let mut services = unused;
    services.push(svc("ec2", Usage::Active));
    let slice = slice_of(&user, holdings(&[("all", allow(&["*"]))], &[]), vec![]);
    let j = judge(&user, &services, &slice, &ReportOptions::default(), true);
    assert!(j.recommendations.is_empty(), "{:?}", actions(&j));
    assert_eq!(j.notes.len(), 1);
    assert!(j.notes[0].contains("2048"), "{}", j.notes[0]);
}

#[test]
fn unused_roles_are_named_for_deletion() {
    let role = format!("{ACCOUNT}:role/old");
    let mut h = holdings(&[], &[]);
    h.role_last_used = Some("2026-01-01T00:00:00Z".into());
    let j = judge(
        &role,
        &[],
        &slice_of(&role, h.clone(), vec![]),
        &ReportOptions::default(),
        true,
    );
    assert_eq!(actions(&j), [Action::DeletePrincipal]);
    assert!(
        j.recommendations[0].reason.contains("328 days"),
        "{}",
        j.recommendations[0].reason
    );
    h.role_last_used = None;
    let j = judge(
        &role,
        &[],
        &slice_of(&role, h.clone(), vec![]),
        &ReportOptions::default(),
        true,
    );
    assert!(j.recommendations[0].reason.contains("never used"));
    let in_use = [svc("s3", Usage::Active)];
    assert!(
        judge(
            &role,
            &in_use,
            &slice_of(&role, h.clone(), vec![]),
            &ReportOptions::default(),
            true
        )
        .recommendations
        .is_empty(),
        "a role its report shows in use is not deleted, whatever RoleLastUsed says"
    );
    h.role_last_used = Some("2026-11-20T00:00:00Z".into());
    assert!(judge(
        &role,
        &[],
        &slice_of(&role, h, vec![]),
        &ReportOptions::default(),
        true
    )
    .recommendations
    .is_empty());
}

#[test]
fn nothing_is_recommended_where_the_judgement_would_be_unsafe() {
    let role = format!("{ACCOUNT}:role/app");
    let h = holdings(&[("all", allow(&["*"]))], &[]);
    let services = [svc("s3", Usage::NeverUsed)];
    let options = ReportOptions::default();
    let slice = slice_of(&role, h.clone(), vec![]);
    assert!(judge(&role, &services, &slice, &options, false)
        .withheld
        .unwrap()
        .contains("not COMPLETED"));
    assert!(judge(&role, &services, &Slice::default(), &options, true)
        .withheld
        .unwrap()
        .contains("GetAccountAuthorizationDetails"));

    let mut young = h.clone();
    young.created = Some("2026-11-20T00:00:00Z".into());
    let j = judge(
        &role,
        &services,
        &slice_of(&role, young.clone(), vec![]),
        &options,
        true,
    );
    assert!(
        j.withheld
            .unwrap()
            .starts_with("too new to judge: created 5 days"),
        "defaults to unused_days"
    );
    let zero = ReportOptions {
        min_age_days: Some(0),
        ..ReportOptions::default()
    };
    assert!(judge(
        &role,
        &services,
        &slice_of(&role, young, vec![]),
        &zero,
        true
    )
    .withheld
    .is_none());

    let by_arn = ReportOptions {
        exclude: crate::domain::input::Exclude {
            arns: vec!["arn:aws:iam::*:role/ap*".into()],
            tags: BTreeMap::new(),
        },
        ..ReportOptions::default()
    };
    assert_eq!(
        judge(&role, &services, &slice, &by_arn, true)
            .withheld
            .as_deref(),
        Some("excluded by report.exclude")
    );
    let mut tagged = h.clone();
    tagged.tags.insert("break-glass".into(), "true".into());
    let by_tag = ReportOptions {
        exclude: crate::domain::input::Exclude {
            arns: vec![],
            tags: [("break-glass".to_string(), "true".to_string())]
                .into_iter()
                .collect(),
        },
        ..ReportOptions::default()
    };
    assert!(judge(
        &role,
        &services,
        &slice_of(&role, tagged, vec![]),
        &by_tag,
        true
    )
    .withheld
    .is_some());
    assert!(
        judge(&role, &services, &slice, &by_tag, true)
            .withheld
            .is_none(),
        "untagged: judged"
    );

    let slr = format!("{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS");
    assert!(judge(
        &slr,
        &services,
        &slice_of(&slr, h.clone(), vec![]),
        &options,
        true
    )
    .withheld
    .unwrap()
    .contains("service-linked"));
    let sso = format!(
        "{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PowerUser_0123456789abcdef"
    );
    let why = judge(&sso, &services, &slice_of(&sso, h, vec![]), &options, true)
        .withheld
        .unwrap();
    assert!(why.contains("permission set \"PowerUser\""), "{why}");
    assert_eq!(
        permission_set("AWSReservedSSO_Admin_Team_0123"),
        Some("Admin_Team")
    );
    assert_eq!(permission_set("app"), None);
}

#[test]
fn unused_passwords_and_access_keys_are_found() {
    let user = format!("{ACCOUNT}:user/quiet");
    let key = |id: Option<&str>, created: &str, last: Option<&str>| AccessKeyUse {
        id: id.map(str::to_string),
        created: Some(created.into()),
        last_used: last.map(str::to_string),
        last_used_service: last.map(|_| "s3".to_string()),
    };
    let mut h = holdings(&[], &[]);
    h.credentials = Some(Credentials {
        password_enabled: true,
        password_last_used: None,
        password_last_changed: Some("2025-01-01T00:00:00Z".into()),
        access_keys: vec![
            key(Some("AKIAOLDUNUSED0000001"), "2025-01-01T00:00:00Z", None),
            key(
                Some("AKIAOLDBUTUSED000002"),
                "2025-01-01T00:00:00Z",
                Some("2026-11-20T00:00:00Z"),
            ),
            key(Some("AKIANEWUNUSED0000003"), "2026-11-24T00:00:00Z", None),
            key(None, "2025-01-01T00:00:00Z", Some("2025-06-01T00:00:00Z")),
        ],
    });
    let j = judge(
        &user,
        &[],
        &slice_of(&user, h.clone(), vec![]),
        &ReportOptions::default(),
        true,
    );
    assert_eq!(
        actions(&j),
        [Action::RemoveConsolePassword, Action::DeactivateAccessKey]
    );
    assert!(j.recommendations[0].reason.contains("never used"));
    assert_eq!(
        j.recommendations[1].access_key_id.as_deref(),
        Some("AKIAOLDUNUSED0000001")
    );
    assert_eq!(
        j.unused_credentials,
        ["password", "access_key:AKIAOLDUNUSED0000001"]
    );
    assert_eq!(
        j.notes.len(),
        1,
        "a stale key without an id is a note: {:?}",
        j.notes
    );
    assert!(j.notes[0].contains("last used 542 days"), "{}", j.notes[0]);

    let mut fresh = h.clone();
    fresh.credentials.as_mut().unwrap().password_last_changed = Some("2026-11-24T00:00:00Z".into());
    let j = judge(
        &user,
        &[],
        &slice_of(&user, fresh, vec![]),
        &ReportOptions::default(),
        true,
    );
    assert!(
        !actions(&j).contains(&Action::RemoveConsolePassword),
        "a password set yesterday is too new to judge"
    );

    h.credentials.as_mut().unwrap().password_last_used = Some("2026-11-01T00:00:00Z".into());
    h.credentials.as_mut().unwrap().access_keys.clear();
    let j = judge(
        &user,
        &[],
        &slice_of(&user, h, vec![]),
        &ReportOptions::default(),
        true,
    );
    assert!(
        j.recommendations.is_empty() && j.unused_credentials.is_empty(),
        "{:?}",
        actions(&j)
    );
}

#[test]
fn vital_roles_are_never_named_for_deletion_and_their_policy_changes_are_marked() {
    let services = [svc("s3", Usage::Active), svc("ec2", Usage::NeverUsed)];
    let judged = |name: &str, trusted: &[&str]| {
        let role = format!("{ACCOUNT}:role/{name}");
        let mut h = holdings(&[("inline", allow(&["s3:*", "ec2:*"]))], &[]);
        h.role_last_used = None;
        h.trusted_services = trusted.iter().map(|s| s.to_string()).collect();
        // Idle (RoleLastUsed never) though its report shows s3 used: judged on the view
        // without it, so the role reads unused.
        judge(
            &role,
            &services[1..],
            &slice_of(&role, h, vec![]),
            &ReportOptions::default(),
            true,
        )
    };
    let ordinary = judged("legacy-admin", &[]);
    assert!(
        actions(&ordinary).contains(&Action::DeletePrincipal),
        "{:?}",
        actions(&ordinary)
    );
    assert_eq!(ordinary.withheld, None);
    for (name, trusted) in [
        ("OrganizationAccountAccessRole", &[][..]),
        ("AWSControlTowerExecution", &[]),
        ("stacksets-exec-5f2d0c1e9a7b4c3d", &[]),
        ("AWSCloudFormationStackSetExecutionRole", &[]),
        (
            "deploys-for-stacksets",
            &["member.org.stacksets.cloudformation.amazonaws.com"],
        ),
    ] {
        let j = judged(name, trusted);
        assert!(
            !actions(&j).contains(&Action::DeletePrincipal),
            "{name}: {:?}",
            actions(&j)
        );
        let why = j.withheld.as_deref().unwrap_or_default();
        assert!(
            why.starts_with("a vital role") && why.contains("never DELETE_PRINCIPAL"),
            "{name}: {why}"
        );
        assert_eq!(j.unused_credentials, ["role"], "the finding stays: {name}");
        // The policy recommendation stands, marked.
        let policy = j
            .recommendations
            .iter()
            .find(|r| r.action != Action::DeletePrincipal);
        let policy = policy.unwrap_or_else(|| panic!("{name}: its policy recommendation stands"));
        assert!(
            policy.reason.starts_with("a vital role"),
            "{}",
            policy.reason
        );
    }
    // The scanner's own roles are vital too.
    let role = format!("{ACCOUNT}:role/iam-last-accessed-member");
    let mut h = holdings(&[], &[]);
    h.role_last_used = None;
    let own = ["iam-last-accessed-member".to_string()];
    let j = recommend(&Subject {
        arn: &PrincipalArn::parse(&role).unwrap(),
        completed: true,
        view: &AdvisorView::from(&[][..]),
        options: &ReportOptions::default(),
        as_of: AS_OF,
        slice: &slice_of(&role, h, vec![]),
        own_roles: &own,
    });
    assert!(j.recommendations.is_empty(), "{j:?}");
    assert!(
        j.withheld
            .as_deref()
            .unwrap_or_default()
            .contains("scanner's own"),
        "{j:?}"
    );
}

#[test]
fn a_principal_used_within_access_advisors_lag_is_not_judged() {
    // s3 was used an hour before as_of, but access advisor does not show it yet.
    let role = format!("{ACCOUNT}:role/fresh");
    let services = [svc("s3", Usage::NeverUsed), svc("ec2", Usage::NeverUsed)];
    let mut h = holdings(&[("inline", allow(&["s3:*", "ec2:*"]))], &[]);
    h.role_last_used = Some(utc::format(AS_OF - time::Duration::hours(1)));
    let j = judge(
        &role,
        &services,
        &slice_of(&role, h.clone(), vec![]),
        &ReportOptions::default(),
        true,
    );
    assert!(j.recommendations.is_empty(), "{:?}", actions(&j));
    assert!(
        j.withheld
            .as_deref()
            .unwrap_or_default()
            .starts_with("recent_activity: RoleLastUsed"),
        "{j:?}"
    );
    // Five hours before: past the lag, judged as usual.
    h.role_last_used = Some(utc::format(AS_OF - time::Duration::hours(5)));
    let j = judge(
        &role,
        &services,
        &slice_of(&role, h, vec![]),
        &ReportOptions::default(),
        true,
    );
    assert!(
        !j.recommendations.is_empty() && j.withheld.is_none(),
        "{j:?}"
    );
    // A user's access key used after as_of (read at planning) counts too.
    let user = format!("{ACCOUNT}:user/keyed");
    let mut h = holdings(&[("inline", allow(&["s3:*"]))], &[]);
    h.credentials = Some(Credentials {
        access_keys: vec![AccessKeyUse {
            last_used: Some(utc::format(AS_OF + time::Duration::minutes(3))),
            ..AccessKeyUse::default()
        }],
        ..Credentials::default()
    });
    let j = judge(
        &user,
        &services[..1],
        &slice_of(&user, h, vec![]),
        &ReportOptions::default(),
        true,
    );
    assert!(
        j.withheld
            .as_deref()
            .unwrap_or_default()
            .starts_with("recent_activity: an access key"),
        "{j:?}"
    );
}

#[test]
fn a_managed_policy_at_iams_five_versions_names_the_version_to_delete_first() {
    let arn = format!("{ACCOUNT}:policy/shared");
    let services = [svc("s3", Usage::Active), svc("ec2", Usage::NeverUsed)];
    let judged = |older: &[&str]| {
        let (key, mut policy) = managed(&arn, allow(&["s3:*", "ec2:*"]));
        policy.older_versions = older.iter().map(|v| v.to_string()).collect();
        let slice = slice_of(&arn, holdings(&[], &[]), vec![(key, policy)]);
        judge(&arn, &services, &slice, &ReportOptions::default(), true)
    };
    let four = judged(&["v1", "v2", "v3"]);
    assert_eq!(actions(&four), [Action::UpdatePolicy]);
    assert_eq!(
        four.recommendations[0].delete_version_first, None,
        "room for one more"
    );
    let five = judged(&["v2", "v3", "v4", "v5"]);
    let rec = &five.recommendations[0];
    assert_eq!(
        rec.delete_version_first.as_deref(),
        Some("v2"),
        "the oldest not default"
    );
    assert!(
        rec.reason.contains("delete-policy-version v2"),
        "{}",
        rec.reason
    );
}
