//! Organizations and the Organizations access report: every loop on the one cursor
//! (NextToken, Marker), refusals told by their codes.

use super::{failure, iam_client};
use crate::adapters::access_report::{OrgAccessReports, Polled};
use crate::adapters::organizations::{OrgError, Organizations, ORGANIZATIONS_REQUESTS_PER_SECOND};
use crate::domain::access_report::{AccessUsage, EntityJob};
use crate::domain::account::OrgState;
use aws_sdk_iam::operation::get_organizations_access_report::GetOrganizationsAccessReportOutput;
use aws_sdk_iam::types::{AccessDetail, JobStatusType};
use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
use aws_sdk_organizations::operation::list_roots::ListRootsOutput;
use aws_sdk_organizations::types::{Account, AccountState, Root};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::DateTime;

fn client(rules: &[&Rule]) -> aws_sdk_organizations::Client {
    mock_client!(aws_sdk_organizations, RuleMode::MatchAny, rules, |c| c
        .retry_config(
            aws_sdk_organizations::config::retry::RetryConfig::standard().with_max_attempts(1)
        ))
}

/// Organizations through `rules`, at a pace the tests never wait for.
fn organizations(rules: &[&Rule]) -> Organizations {
    Organizations::paced(client(rules), 1_000_000.0)
}

fn account(id: &str, state: AccountState) -> Account {
    Account::builder()
        .id(id)
        .name(format!("n{id}"))
        .state(state)
        .build()
}

/// A root with two accounts, each listing in two pages: ListAccounts ×2, ListRoots,
/// ListOrganizationalUnitsForParent, ListAccountsForParent ×2.
fn two_page_tree() -> [Rule; 4] {
    let accounts = mock!(aws_sdk_organizations::Client::list_accounts)
        .sequence()
        .output(|| {
            ListAccountsOutput::builder()
                .accounts(account("111111111111", AccountState::Active))
                .next_token("t1")
                .build()
        })
        .output(|| {
            ListAccountsOutput::builder()
                .accounts(account("222222222222", AccountState::Suspended))
                .build()
        })
        .build();
    let roots = mock!(aws_sdk_organizations::Client::list_roots).then_output(|| {
        ListRootsOutput::builder()
            .roots(Root::builder().id("r-ab12").build())
            .build()
    });
    let units = mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
        .then_output(|| ListOrganizationalUnitsForParentOutput::builder().build());
    let in_root = mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
        .sequence()
        .output(|| {
            ListAccountsForParentOutput::builder()
                .accounts(account("111111111111", AccountState::Active))
                .next_token("t1")
                .build()
        })
        .output(|| {
            ListAccountsForParentOutput::builder()
                .accounts(account("222222222222", AccountState::Suspended))
                .build()
        })
        .build();
    [accounts, roots, units, in_root]
}

#[tokio::test]
async fn the_tree_follows_next_tokens_on_every_listing() {
    let [accounts, roots, units, in_root] = two_page_tree();
    let tree = organizations(&[&accounts, &roots, &units, &in_root])
        .tree()
        .await
        .unwrap();
    let got: Vec<_> = tree
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a.status.clone(), a.ou_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("111111111111", OrgState::Active, "r-ab12"),
            ("222222222222", OrgState::Suspended, "r-ab12"),
        ]
    );
    assert_eq!((accounts.num_calls(), in_root.num_calls()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn the_walk_is_paced_at_the_organizations_rate() {
    // Six calls at 5 a second, burst 1: five waits of 0.2 s (tokio's clock, paused: no
    // real time passes).
    let rules = two_page_tree();
    let refs: Vec<&Rule> = rules.iter().collect();
    let started = tokio::time::Instant::now();
    Organizations::new(client(&refs)).tree().await.unwrap();
    let waited = started.elapsed().as_secs_f64();
    let calls: usize = rules.iter().map(Rule::num_calls).sum();
    assert_eq!(calls, 6);
    let floor = (calls - 1) as f64 / ORGANIZATIONS_REQUESTS_PER_SECOND;
    assert!(waited >= floor - 1e-6, "{waited} s for {calls} calls");
}

#[tokio::test]
async fn organizations_refusing_the_account_is_told_by_its_code() {
    for code in ["AccessDeniedException", "AWSOrganizationsNotInUseException"] {
        // Organizations' JSON protocol: the code in `__type`.
        let body = format!(r#"{{"__type":"{code}","Message":"not the management account"}}"#);
        let describe = mock!(aws_sdk_organizations::Client::describe_organization)
            .sequence()
            .http_status(400, Some(body))
            .build();
        match organizations(&[&describe]).describe().await {
            Err(OrgError::Refused { code: got, message }) => {
                assert_eq!(
                    (got.as_str(), message.as_str()),
                    (code, "not the management account")
                );
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_organization_is_described_with_its_management_account() {
    let describe = mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
        aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput::builder()
            .organization(
                aws_sdk_organizations::types::Organization::builder()
                    .id("o-abcdefghij")
                    .master_account_id("123456789012")
                    .build(),
            )
            .build()
    });
    let (id, management) = organizations(&[&describe]).describe().await.unwrap();
    assert_eq!(
        (id.as_str(), management.as_deref()),
        ("o-abcdefghij", Some("123456789012"))
    );
}

fn report_page(
    marker: Option<&str>,
    services: &[(&str, bool)],
) -> GetOrganizationsAccessReportOutput {
    let details = services
        .iter()
        .map(|(ns, used)| {
            let d = AccessDetail::builder()
                .service_name(format!("Amazon {ns}"))
                .service_namespace(*ns);
            if *used {
                d.last_authenticated_time(DateTime::from_secs(1_764_000_000))
                    .entity_path("o-abcdefghij/r-ab12/111111111111")
                    .total_authenticated_entities(1)
            } else {
                d
            }
            .build()
            .unwrap()
        })
        .collect();
    GetOrganizationsAccessReportOutput::builder()
        .job_status(JobStatusType::Completed)
        .job_creation_date(DateTime::from_secs(1_764_000_000))
        .set_access_details(Some(details))
        .is_truncated(marker.is_some())
        .set_marker(marker.map(str::to_string))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_access_report_is_read_over_every_page() {
    let first = mock!(aws_sdk_iam::Client::get_organizations_access_report)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| report_page(Some("p1"), &[("s3", true)]));
    let second = mock!(aws_sdk_iam::Client::get_organizations_access_report)
        .match_requests(|r| r.marker() == Some("p1"))
        .then_output(|| report_page(None, &[("ec2", false)]));
    let reports = OrgAccessReports::new(iam_client(RuleMode::MatchAny, &[&first, &second], 1));
    let job = EntityJob::new("o-abcdefghij/r-ab12".into());
    let Polled::Done(report) = reports.poll("run", &job, "job-1").await.unwrap() else {
        panic!("a completed job is done");
    };
    let got: Vec<_> = report
        .services
        .iter()
        .map(|s| (s.namespace.as_str(), s.usage))
        .collect();
    assert_eq!(
        got,
        [("ec2", AccessUsage::NeverUsed), ("s3", AccessUsage::Used)]
    );
    assert_eq!(report.never_used, ["ec2"]);
}

#[tokio::test]
async fn a_truncated_access_report_page_without_a_marker_is_an_error() {
    let broken = mock!(aws_sdk_iam::Client::get_organizations_access_report).then_output(|| {
        let mut page = report_page(None, &[("s3", true)]);
        page.is_truncated = true;
        page
    });
    let reports = OrgAccessReports::new(iam_client(RuleMode::MatchAny, &[&broken], 1));
    let job = EntityJob::new("o-abcdefghij/r-ab12".into());
    let e = failure(reports.poll("run", &job, "job-1").await);
    assert_eq!(e.name(), "IamError");
    assert!(
        e.to_string().contains("GetOrganizationsAccessReport"),
        "{e}"
    );
}
