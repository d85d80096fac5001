//! The directory: listing the account's principals and reading their tags.

use crate::adapters::directory::{Directory, Skipped};
use crate::adapters::pages::MAX_LIST_PAGES;
use crate::adapters::tests::{free_pacer, iam_client, iam_error, marker_after, page_of};
use crate::domain::input::{Discovery, EntityType};
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::operation::list_groups::ListGroupsOutput;
use aws_sdk_iam::operation::list_policies::ListPoliciesOutput;
use aws_sdk_iam::operation::list_policy_tags::ListPolicyTagsOutput;
use aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput;
use aws_sdk_iam::operation::list_roles::ListRolesOutput;
use aws_sdk_iam::operation::list_user_tags::ListUserTagsOutput;
use aws_sdk_iam::operation::list_users::ListUsersOutput;
use aws_sdk_iam::types::{
    EntityType as GaadFilter, Group, Policy, PolicyScopeType, Role, RoleDetail, Tag, User,
    UserDetail,
};
use aws_sdk_iam::Client;
use aws_smithy_mocks::{mock, Rule, RuleMode};
use aws_smithy_types::DateTime;

const ACCOUNT: &str = "123456789012";

fn directory(rules: &[&Rule]) -> Directory {
    Directory::new(iam_client(RuleMode::MatchAny, rules, 1), free_pacer())
}

fn arn(kind: &str, path_and_name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{path_and_name}")
}

fn path_of(path_and_name: &str) -> String {
    match path_and_name.rsplit_once('/') {
        Some((path, _)) => format!("/{path}/"),
        None => "/".into(),
    }
}

fn name_of(path_and_name: &str) -> &str {
    path_and_name.rsplit('/').next().unwrap()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn user(path_and_name: &str) -> User {
    User::builder()
        .path(path_of(path_and_name))
        .user_name(name_of(path_and_name))
        .user_id(format!("AIDA{:016}", path_and_name.len()))
        .arn(arn("user", path_and_name))
        .create_date(DateTime::from_secs(1_700_000_000))
        .build()
        .unwrap()
}

fn role(path_and_name: &str) -> Role {
    role_arn(&arn("role", path_and_name))
}

fn role_arn(arn: &str) -> Role {
    let path_and_name = arn.split_once(":role/").map_or("", |(_, rest)| rest);
    Role::builder()
        .path(path_of(path_and_name))
        .role_name(name_of(path_and_name))
        .role_id("AROA0000000000000000")
        .arn(arn)
        .create_date(DateTime::from_secs(1_700_000_000))
        .build()
        .unwrap()
}

/// ListRoles answering `roles` split over pages of `per_page`.
fn list_roles(roles: &'static [&'static str], per_page: usize) -> Rule {
    mock!(Client::list_roles)
        .match_requests(|r| r.max_items() == Some(1000) && r.path_prefix().is_some())
        .then_compute_output(move |r| {
            let page = page_of(r.marker());
            let pages = roles.len().div_ceil(per_page).max(1);
            let marker = marker_after(page, Some(pages));
            ListRolesOutput::builder()
                .set_roles(Some(
                    roles
                        .iter()
                        .skip(page * per_page)
                        .take(per_page)
                        .map(|r| {
                            if r.starts_with("arn:") {
                                role_arn(r)
                            } else {
                                role(r)
                            }
                        })
                        .collect(),
                ))
                .is_truncated(marker.is_some())
                .set_marker(marker)
                .build()
                .unwrap()
        })
}

/// ListRoleTags: `team=web` for names starting with `web`, `team=db` for the others.
fn role_tags() -> Rule {
    mock!(Client::list_role_tags).then_compute_output(|r| {
        let team = if r.role_name().unwrap_or_default().starts_with("web") {
            "web"
        } else {
            "db"
        };
        ListRoleTagsOutput::builder()
            .tags(tag("team", team))
            .is_truncated(false)
            .build()
            .unwrap()
    })
}

fn only(types: &[EntityType]) -> Discovery {
    Discovery {
        types: types.to_vec(),
        ..Discovery::default()
    }
}

fn web(filter: Discovery) -> Discovery {
    Discovery {
        tags: [("team".to_string(), "web".to_string())].into(),
        ..filter
    }
}

fn names(found: &[crate::domain::arn::PrincipalArn]) -> Vec<&str> {
    found.iter().map(|a| a.name()).collect()
}

#[tokio::test]
async fn lists_every_type_over_every_page_in_iams_order() {
    let users = mock!(Client::list_users)
        .match_requests(|r| r.max_items() == Some(1000) && r.path_prefix() == Some("/"))
        .then_compute_output(|r| {
            let page = page_of(r.marker());
            let marker = marker_after(page, Some(2));
            ListUsersOutput::builder()
                .users(user(&format!("people/u{page}")))
                .is_truncated(marker.is_some())
                .set_marker(marker)
                .build()
                .unwrap()
        });
    let roles = list_roles(
        &[
            "r0",
            "aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
            "r1",
            "r2",
        ],
        2,
    );
    let groups = mock!(Client::list_groups).then_compute_output(|_| {
        ListGroupsOutput::builder()
            .groups(
                Group::builder()
                    .path("/")
                    .group_name("admins")
                    .group_id("AGPA0000000000000000")
                    .arn(arn("group", "admins"))
                    .create_date(DateTime::from_secs(1_700_000_000))
                    .build()
                    .unwrap(),
            )
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let local = mock!(Client::list_policies)
        .match_requests(|r| {
            r.scope() == Some(&PolicyScopeType::Local) && r.only_attached().is_none()
        })
        .then_compute_output(|_| {
            ListPoliciesOutput::builder()
                .policies(Policy::builder().arn(arn("policy", "ReadOnly")).build())
                .is_truncated(false)
                .build()
        });
    let managed = mock!(Client::list_policies)
        .match_requests(|r| {
            r.scope() == Some(&PolicyScopeType::Aws) && r.only_attached() == Some(true)
        })
        .then_compute_output(|r| {
            let page = page_of(r.marker());
            let marker = marker_after(page, Some(2));
            ListPoliciesOutput::builder()
                .policies(
                    Policy::builder()
                        .arn(format!("arn:aws:iam::aws:policy/Managed{page}"))
                        .build(),
                )
                .is_truncated(marker.is_some())
                .set_marker(marker)
                .build()
        });
    let rules = [&users, &roles, &groups, &local, &managed];
    let filter = Discovery {
        aws_managed_policies: true,
        ..Discovery::default()
    };
    let found = directory(&rules).discover(&filter, 0).await.unwrap();
    assert_eq!(
        names(&found.principals),
        ["u0", "u1", "r0", "r1", "r2", "admins", "ReadOnly", "Managed0", "Managed1"],
        "service-linked roles skipped by the filter, not recorded"
    );
    assert!(found.skipped.is_empty());
    assert_eq!(
        (
            users.num_calls(),
            roles.num_calls(),
            groups.num_calls(),
            local.num_calls(),
            managed.num_calls()
        ),
        (2, 2, 1, 1, 2),
        "one call per page"
    );
}

#[tokio::test]
async fn a_listing_truncated_without_a_marker_is_an_error_naming_it() {
    let users = mock!(Client::list_users).then_compute_output(|_| {
        ListUsersOutput::builder()
            .users(user("u0"))
            .is_truncated(true)
            .build()
            .unwrap()
    });
    let err = directory(&[&users])
        .discover(&only(&[EntityType::User]), 0)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "IamError", "{err:?}");
    assert!(
        err.to_string()
            .contains("ListUsers: IsTruncated without a Marker"),
        "{err}"
    );

    let groups = mock!(Client::list_groups).then_compute_output(|_| {
        ListGroupsOutput::builder()
            .set_groups(Some(vec![]))
            .is_truncated(true)
            .marker("")
            .build()
            .unwrap()
    });
    let err = directory(&[&groups])
        .discover(&only(&[EntityType::Group]), 0)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ListGroups: IsTruncated without a Marker"),
        "{err}"
    );

    let policies = mock!(Client::list_policies)
        .then_compute_output(|_| ListPoliciesOutput::builder().is_truncated(true).build());
    let err = directory(&[&policies])
        .discover(&only(&[EntityType::Policy]), 0)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ListPolicies: IsTruncated without a Marker"),
        "{err}"
    );
}

#[tokio::test]
async fn a_listing_beyond_the_page_guard_is_an_error_naming_it() {
    let roles = mock!(Client::list_roles).then_compute_output(|r| {
        let marker = marker_after(page_of(r.marker()), None);
        ListRolesOutput::builder()
            .set_roles(Some(vec![]))
            .is_truncated(true)
            .set_marker(marker)
            .build()
            .unwrap()
    });
    let err = directory(&[&roles])
        .discover(&only(&[EntityType::Role]), 0)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "IamError", "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("ListRoles: more than {MAX_LIST_PAGES} pages")),
        "{err}"
    );
    assert_eq!(roles.num_calls(), MAX_LIST_PAGES);
}

#[tokio::test]
async fn an_arn_the_parser_rejects_is_skipped_and_recorded() {
    let roles = list_roles(
        &["r0", "arn:aws:iam::123456789012:role/has space", "r1"],
        1000,
    );
    let found = directory(&[&roles])
        .discover(&only(&[EntityType::Role]), 0)
        .await
        .unwrap();
    assert_eq!(names(&found.principals), ["r0", "r1"]);
    assert_eq!(found.skipped.len(), 1);
    let Skipped { arn, reason } = &found.skipped[0];
    assert_eq!(arn, "arn:aws:iam::123456789012:role/has space");
    assert!(reason.starts_with("unsupported ARN: "), "{reason}");
    assert!(reason.contains("invalid name"), "{reason}");
}

#[tokio::test]
async fn a_principal_vanishing_before_its_tags_are_read_is_skipped_and_recorded() {
    // Under /apps/ the tags are read one call each (see a_narrow_path_reads_tags…).
    let roles = list_roles(&["apps/web-a", "apps/web-gone", "apps/db-b"], 1000);
    let gone = mock!(Client::list_role_tags)
        .match_requests(|r| r.role_name() == Some("web-gone"))
        .sequence()
        .http_status(
            404,
            Some(iam_error(
                "NoSuchEntity",
                "The role with name web-gone cannot be found.",
            )),
        )
        .build();
    let tags = role_tags();
    let filter = Discovery {
        path_prefix: "/apps/".into(),
        ..web(only(&[EntityType::Role]))
    };
    let found = directory(&[&roles, &gone, &tags])
        .discover(&filter, u64::MAX)
        .await
        .unwrap();
    assert_eq!(names(&found.principals), ["web-a"]);
    assert_eq!(
        found.skipped,
        [Skipped {
            arn: arn("role", "apps/web-gone"),
            reason: "vanished: NoSuchEntity: The role with name web-gone cannot be found.".into(),
        }]
    );
    assert_eq!((gone.num_calls(), tags.num_calls()), (1, 2));
}

#[tokio::test]
async fn few_candidates_read_tags_one_call_each() {
    // One candidate after the name filter: one ListRoleTags beats a GAAD page.
    let roles = list_roles(&["web-a", "db-b", "db-c"], 1000);
    let tags = role_tags();
    let gaad = mock!(Client::get_account_authorization_details)
        .then_compute_output(|_| GetAccountAuthorizationDetailsOutput::builder().build());
    let filter = Discovery {
        name_pattern: Some("web-*".into()),
        ..web(only(&[EntityType::Role]))
    };
    let found = directory(&[&roles, &tags, &gaad])
        .discover(&filter, 1)
        .await
        .unwrap();
    assert_eq!(names(&found.principals), ["web-a"]);
    assert_eq!((tags.num_calls(), gaad.num_calls()), (1, 0));
}

#[tokio::test]
async fn other_tag_failures_fail_discovery() {
    let roles = list_roles(&["web-a"], 1000);
    let tags = mock!(Client::list_role_tags)
        .sequence()
        .http_status(403, Some(super::denied()))
        .build();
    let err = directory(&[&roles, &tags])
        .discover(&web(only(&[EntityType::Role])), u64::MAX)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "AccessDenied", "{err:?}");
    assert!(err.to_string().contains("ListRoleTags"), "{err}");
}

fn gaad_users(page: usize, pages: usize, per_page: usize) -> GetAccountAuthorizationDetailsOutput {
    let marker = marker_after(page, Some(pages));
    GetAccountAuthorizationDetailsOutput::builder()
        .set_user_detail_list(Some(
            (page * per_page..(page + 1) * per_page)
                .map(|i| {
                    let team = if i % 2 == 0 { "web" } else { "db" };
                    UserDetail::builder()
                        .user_name(format!("U{i}"))
                        .arn(arn("user", &format!("u{i}")))
                        .tags(tag("team", team))
                        .build()
                })
                .collect(),
        ))
        .is_truncated(marker.is_some())
        .set_marker(marker)
        .build()
}

#[tokio::test]
async fn many_users_and_roles_read_their_tags_in_bulk() {
    // Six users listed (two pages of GAAD < six calls), three roles (one page < three).
    let users = mock!(Client::list_users).then_compute_output(|_| {
        ListUsersOutput::builder()
            .set_users(Some((0..6).map(|i| user(&format!("u{i}"))).collect()))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let roles = list_roles(&["web-a", "web-b", "db-c", "web-gone"], 1000);
    let gaad_users_rule = mock!(Client::get_account_authorization_details)
        .match_requests(|r| r.filter() == [GaadFilter::User] && r.max_items() == Some(1000))
        // Names differ in case from the listing: IAM names ignore case. u5 is not there.
        .then_compute_output(|r| {
            let mut out = gaad_users(page_of(r.marker()), 2, 3);
            if let Some(list) = out.user_detail_list.as_mut() {
                list.retain(|u| u.user_name.as_deref() != Some("U5"));
            }
            out
        });
    let gaad_roles = mock!(Client::get_account_authorization_details)
        .match_requests(|r| r.filter() == [GaadFilter::Role])
        .then_compute_output(|_| {
            let detail = |name: &str, team: &str| {
                RoleDetail::builder()
                    .role_name(name)
                    .arn(arn("role", name))
                    .tags(tag("team", team))
                    .tags(tag("owner", "x"))
                    .build()
            };
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(detail("web-a", "web"))
                .role_detail_list(detail("web-b", "web"))
                .role_detail_list(detail("db-c", "db"))
                .is_truncated(false)
                .build()
        });
    let user_tags = mock!(Client::list_user_tags).then_compute_output(|_| {
        ListUserTagsOutput::builder()
            .set_tags(Some(vec![]))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let role_tags = role_tags();
    let found = directory(&[
        &users,
        &roles,
        &gaad_users_rule,
        &gaad_roles,
        &user_tags,
        &role_tags,
    ])
    .discover(&web(only(&[EntityType::User, EntityType::Role])), 0)
    .await
    .unwrap();
    assert_eq!(
        names(&found.principals),
        ["u0", "u2", "u4", "web-a", "web-b"]
    );
    assert_eq!(
        found
            .skipped
            .iter()
            .map(|s| s.arn.as_str())
            .collect::<Vec<_>>(),
        [arn("user", "u5"), arn("role", "web-gone")],
        "listed, then gone from GetAccountAuthorizationDetails"
    );
    assert!(
        found.skipped[0].reason.starts_with("vanished"),
        "{:?}",
        found.skipped
    );
    assert_eq!(
        (
            gaad_users_rule.num_calls(),
            gaad_roles.num_calls(),
            user_tags.num_calls(),
            role_tags.num_calls()
        ),
        (2, 1, 0, 0),
        "no per-principal tag call, so max_tag_calls 0 is enough"
    );
}

#[tokio::test]
async fn bulk_tag_pages_follow_the_same_rules() {
    let users = mock!(Client::list_users).then_compute_output(|_| {
        ListUsersOutput::builder()
            .set_users(Some((0..3).map(|i| user(&format!("u{i}"))).collect()))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let no_marker = mock!(Client::get_account_authorization_details).then_compute_output(|_| {
        let mut out = gaad_users(0, 1, 3);
        out.is_truncated = true;
        out
    });
    let err = directory(&[&users, &no_marker])
        .discover(&web(only(&[EntityType::User])), 0)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("GetAccountAuthorizationDetails: IsTruncated without a Marker"),
        "{err}"
    );
    let endless = mock!(Client::get_account_authorization_details).then_compute_output(|r| {
        let page = page_of(r.marker());
        let mut out = gaad_users(page, usize::MAX, 0);
        out.marker = marker_after(page, None);
        out
    });
    let err = directory(&[&users, &endless])
        .discover(&web(only(&[EntityType::User])), 0)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "GetAccountAuthorizationDetails: more than {MAX_LIST_PAGES} pages"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn a_narrow_path_reads_tags_one_call_each_and_tag_pages_are_followed() {
    // Under /apps/ the listing does not count the account's roles: GAAD's cost is
    // unknown, so one call each (and each of those follows its own markers).
    let roles = mock!(Client::list_roles)
        .match_requests(|r| r.path_prefix() == Some("/apps/"))
        .then_compute_output(|_| {
            ListRolesOutput::builder()
                .set_roles(Some(vec![
                    role("apps/web-a"),
                    role("apps/web-b"),
                    role("apps/db-c"),
                ]))
                .is_truncated(false)
                .build()
                .unwrap()
        });
    let tags = mock!(Client::list_role_tags).then_compute_output(|r| {
        let page = page_of(r.marker());
        let marker = marker_after(page, Some(2));
        let team = if r.role_name().unwrap_or_default().starts_with("web") {
            "web"
        } else {
            "db"
        };
        let t = if page == 0 {
            tag("owner", "x")
        } else {
            tag("team", team)
        };
        ListRoleTagsOutput::builder()
            .tags(t)
            .is_truncated(marker.is_some())
            .set_marker(marker)
            .build()
            .unwrap()
    });
    let gaad = mock!(Client::get_account_authorization_details)
        .then_compute_output(|_| GetAccountAuthorizationDetailsOutput::builder().build());
    let filter = Discovery {
        path_prefix: "/apps/".into(),
        ..web(only(&[EntityType::Role]))
    };
    let found = directory(&[&roles, &tags, &gaad])
        .discover(&filter, 3)
        .await
        .unwrap();
    assert_eq!(names(&found.principals), ["web-a", "web-b"]);
    assert_eq!(
        (tags.num_calls(), gaad.num_calls()),
        (6, 0),
        "two tag pages per role"
    );
}

#[tokio::test]
async fn too_many_tag_calls_for_the_budget_is_invalid_input_naming_discover_tags() {
    let roles = mock!(Client::list_roles).then_compute_output(|_| {
        ListRolesOutput::builder()
            .set_roles(Some(vec![role("apps/web-a"), role("apps/web-b")]))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let policies = mock!(Client::list_policies).then_compute_output(|_| {
        ListPoliciesOutput::builder()
            .policies(Policy::builder().arn(arn("policy", "apps/p1")).build())
            .is_truncated(false)
            .build()
    });
    let tags = role_tags();
    let policy_tags = mock!(Client::list_policy_tags).then_compute_output(|_| {
        ListPolicyTagsOutput::builder()
            .set_tags(Some(vec![]))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let filter = Discovery {
        path_prefix: "/apps/".into(),
        ..web(only(&[EntityType::Role, EntityType::Policy]))
    };
    let err = directory(&[&roles, &policies, &tags, &policy_tags])
        .discover(&filter, 2)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "InvalidInput");
    let message = err.to_string();
    assert!(message.starts_with("discover.tags: "), "{message}");
    for part in [
        "3 IAM calls",
        "2 roles",
        "1 policies",
        "more than the 2",
        "discover.path_prefix",
        "discover.types",
        "iam_requests_per_second",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert_eq!(
        (tags.num_calls(), policy_tags.num_calls()),
        (0, 0),
        "refused before any tag call"
    );

    let found = directory(&[&roles, &policies, &tags, &policy_tags])
        .discover(&filter, 3)
        .await
        .unwrap();
    assert_eq!(names(&found.principals), ["web-a", "web-b"]);
    assert_eq!((tags.num_calls(), policy_tags.num_calls()), (2, 1));
}

#[tokio::test]
async fn authorization_details_carry_a_roles_trusted_services_and_a_policys_older_versions() {
    use aws_sdk_iam::types::{ManagedPolicyDetail, PolicyVersion};
    // GAAD's documents are URL-encoded (RFC 3986).
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22member.org.stacksets.cloudformation.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let version = |id: &str, secs: i64, default: bool| {
        PolicyVersion::builder()
            .version_id(id)
            .create_date(DateTime::from_secs(secs))
            .is_default_version(default)
            .set_document(default.then(|| {
                "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D".to_string()
            }))
            .build()
    };
    let gaad = mock!(Client::get_account_authorization_details).then_output(move || {
        GetAccountAuthorizationDetailsOutput::builder()
            .role_detail_list(
                RoleDetail::builder()
                    .arn(arn("role", "deployer"))
                    .role_name("deployer")
                    .assume_role_policy_document(trust)
                    .build(),
            )
            .policies(
                ManagedPolicyDetail::builder()
                    .arn(arn("policy", "shared"))
                    .policy_name("shared")
                    .policy_version_list(version("v7", 700, true))
                    .policy_version_list(version("v5", 500, false))
                    .policy_version_list(version("v3", 300, false))
                    .policy_version_list(version("v6", 600, false))
                    .policy_version_list(version("v4", 400, false))
                    .build(),
            )
            .is_truncated(false)
            .build()
    });
    let all = directory(&[&gaad]).authorization().await.unwrap();
    assert_eq!(
        all.principals[&arn("role", "deployer")].trusted_services,
        ["member.org.stacksets.cloudformation.amazonaws.com"]
    );
    let shared = &all.policies[&arn("policy", "shared")];
    assert_eq!(
        shared.older_versions,
        ["v3", "v4", "v5", "v6"],
        "oldest first"
    );
    assert_eq!(
        shared.version_to_delete_first(),
        Some("v3"),
        "5 versions: IAM's most"
    );
    assert!(
        shared.document.contains("2012-10-17"),
        "the default version's document"
    );
}

#[tokio::test]
async fn two_keys_created_in_the_same_second_are_each_re_read_by_their_own_id() {
    use crate::domain::recommend::{AccessKeyUse, Credentials};
    use aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput;
    use aws_sdk_iam::operation::list_access_keys::ListAccessKeysOutput;
    use aws_sdk_iam::types::{AccessKeyLastUsed, AccessKeyMetadata, StatusType};
    // The credential report names keys 1 and 2 by their creation time alone.
    let created = DateTime::from_secs(1_764_614_447);
    let listed = mock!(Client::list_access_keys).then_output(move || {
        let key = |id: &str| {
            AccessKeyMetadata::builder()
                .access_key_id(id)
                .status(StatusType::Active)
                .create_date(created)
                .build()
        };
        ListAccessKeysOutput::builder()
            .access_key_metadata(key("AKIAFIRST0000000000A"))
            .access_key_metadata(key("AKIASECOND000000000B"))
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let last_used = mock!(Client::get_access_key_last_used).then_compute_output(|r| {
        let service = if r.access_key_id() == Some("AKIAFIRST0000000000A") {
            "s3"
        } else {
            "ec2"
        };
        GetAccessKeyLastUsedOutput::builder()
            .access_key_last_used(
                AccessKeyLastUsed::builder()
                    .last_used_date(DateTime::from_secs(1_736_157_600))
                    .service_name(service)
                    .region("us-east-1")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let key = AccessKeyUse {
        id: None,
        created: Some("2025-12-01T18:40:47+00:00".into()),
        last_used: Some("2025-01-06T10:00:00Z".into()),
        last_used_service: None,
    };
    let creds = Credentials {
        access_keys: vec![key.clone(), key],
        ..Credentials::default()
    };
    let confirmed = directory(&[&listed, &last_used])
        .confirm_credentials("arn:aws:iam::123456789012:user/twins", creds, |_| true)
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<_> = confirmed
        .access_keys
        .iter()
        .map(|k| (k.id.as_deref(), k.last_used_service.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            (Some("AKIAFIRST0000000000A"), Some("s3")),
            (Some("AKIASECOND000000000B"), Some("ec2"))
        ]
    );
    assert_eq!(last_used.num_calls(), 2);
}
