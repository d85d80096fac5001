//! Shared by the handler tests: the fixtures, the deployment's configuration, a bucket
//! kept in memory behind the real S3 client, and IAM's answers, all on aws-smithy-mocks.
//! A call no rule answers panics (the mocks' `must_match`): a test that gives IAM no
//! rule also proves the handler made no IAM call.

use aws_sdk_iam::operation::generate_service_last_accessed_details::{
    GenerateServiceLastAccessedDetailsError as GenerateError,
    GenerateServiceLastAccessedDetailsInput as GenerateInput,
    GenerateServiceLastAccessedDetailsOutput as GenerateOutput,
};
use aws_sdk_iam::operation::get_service_last_accessed_details::{
    GetServiceLastAccessedDetailsError as ReadError,
    GetServiceLastAccessedDetailsInput as ReadInput,
    GetServiceLastAccessedDetailsOutput as ReadOutput,
};
use aws_sdk_iam::types::{ErrorDetails, JobStatusType, ServiceLastAccessed};
use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
use aws_sdk_organizations::operation::list_roots::ListRootsOutput;
use aws_sdk_organizations::types::{
    Account, AccountState, AccountStatus, OrganizationalUnit, Root,
};
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_sdk_s3::types::Object;
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleBuilder, RuleMode};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use last_accessed::adapters::deadline::Deadline;
use last_accessed::adapters::iam::AccessAdvisor;
use last_accessed::adapters::organizations::Organizations;
use last_accessed::adapters::pacing::Pacer;
use last_accessed::adapters::s3::ReportStore;
use last_accessed::domain::arn::PrincipalArn;
use last_accessed::domain::job::JobStatus;
use last_accessed::domain::outcome::{BatchResult, PrincipalOutcome};
use last_accessed::domain::report::{JobDetails, ServiceAccess};
use last_accessed::handlers::events::{AccountOutput, PlanAnswer, PlanOutput};
use last_accessed::handlers::plan;
use last_accessed::runtime::config::Config;
use last_accessed::runtime::deps::{GenerateDeps, JobDeps, PlanDeps, Readers, SummarizeDeps};
use last_accessed::Error;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

pub const BUCKET: &str = "last-accessed-reports-123456789012";
pub const PLAN_FUNCTION: &str = "arn:aws:lambda:eu-west-1:123456789012:function:last-accessed-plan";
pub const READER: &str = "arn:aws:iam::123456789012:role/last-accessed-reader";
/// The stack's own account (Plan takes it from its function ARN).
pub const ACCOUNT: &str = "123456789012";

/// The run of the fixtures (`plan/events/explicit-arns.json` and what follows from it).
pub const RUN_ID: &str = "daily-2026-11-25";
/// `$$.Execution.StartTime` to the second: the run's `started_at` and every report's `as_of`.
pub const STARTED_AT: &str = "2026-11-25T01:00:00Z";
pub const WEB: &str = "arn:aws:iam::123456789012:role/app-web";
pub const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
pub const DEPLOYER: &str = "arn:aws:iam::123456789012:role/ops/deployer";
pub const ADMINS: &str = "arn:aws:iam::123456789012:group/admins";
pub const WEB_JOB: &str = "0c1b2a39-5f3e-4a6b-9d2c-7e8f90a1b2c3";
pub const DEPLOYER_JOB: &str = "7d6e5f40-8a9b-4c1d-b2e3-f4a5b6c7d8e9";
/// IAM's answer when an SCP keeps the reader from alice (as in the fixtures).
pub const SCP_DENIAL: &str = "User: arn:aws:sts::123456789012:assumed-role/last-accessed-reader/iam-last-accessed is not authorized to perform: iam:GenerateServiceLastAccessedDetails on resource: arn:aws:iam::123456789012:user/alice with an explicit deny in a service control policy";

/// What IAM reports for app-web: namespace, name, last use (`None`: never used).
pub const WEB_SERVICES: &[(&str, &str, Option<&str>)] = &[
    ("s3", "Amazon S3", Some("2026-11-20T09:30:00Z")),
    ("ec2", "Amazon EC2", None),
];

/// The organization run of the fixtures (`plan/events/organization.json`): the stack's
/// own account, an ACTIVE member and a SUSPENDED one, all under the root or its OU.
pub const ORG_RUN_ID: &str = "org-2026-11-25";
pub const MEMBER: &str = "210987654321";
pub const SUSPENDED: &str = "333333333333";
pub const ROOT: &str = "r-ab12";
pub const OU: &str = "ou-ab12-11111111";
pub const MEMBER_WEB: &str = "arn:aws:iam::210987654321:role/app-web";
pub const SUSPENDED_WEB: &str = "arn:aws:iam::333333333333:role/app-web";
/// The member role an organization run assumes in an account (the stack's default).
pub const MEMBER_ROLE: &str = "iam-last-accessed-member";

/// A key under the run's work prefix.
pub fn work(path: &str) -> String {
    format!("work/run={RUN_ID}/{path}")
}

/// A key under the work prefix of the run's (own) account.
pub fn account_work(path: &str) -> String {
    work(&format!("accounts/{ACCOUNT}/{path}"))
}

/// A principal's report key in the stack's own account, e.g. `report_key("role/app-web")`.
pub fn report_key(kind_and_name: &str) -> String {
    report_key_in(RUN_ID, ACCOUNT, kind_and_name)
}

/// A principal's report key in `run_id`, scanned in `account`.
pub fn report_key_in(run_id: &str, account: &str, kind_and_name: &str) -> String {
    format!("reports/principals/dt=2026-11-25/run={run_id}/account={account}/{kind_and_name}.json")
}

pub const SUMMARY_KEY: &str = "reports/runs/dt=2026-11-25/run=daily-2026-11-25/summary.json";

/// A fixture: `functions/<function>/events/<name>.json`, as Step Functions sends it.
pub fn event(function: &str, name: &str) -> Value {
    read_json(&format!("functions/{function}/events/{name}.json"))
}

/// A JSON file of the repository, by its path from the repository's root.
pub fn read_json(path: &str) -> Value {
    let full = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// The handler failed with the error named `name`, whose message holds every fragment.
pub fn expect_error<T: Debug>(result: Result<T, Error>, name: &str, fragments: &[&str]) -> String {
    let err = result.expect_err("the handler should fail");
    let message = err.to_string();
    assert_eq!(err.name(), name, "{message}");
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{fragment:?} not in {message:?}"
        );
    }
    message
}

/// An invocation's deadline as Lambda gives one at the template's Timeout (900 s), from now.
pub fn deadline() -> Deadline {
    Deadline::after(std::time::Duration::from_secs(900))
}

/// The deployment's environment, with an IAM pace the tests never wait for.
pub fn config() -> Config {
    Config {
        bucket: Some(BUCKET.into()),
        reader_role_arn: Some(READER.into()),
        reader_session_name: "iam-last-accessed".into(),
        iam_requests_per_second: 1_000_000.0,
        iam_burst: 1_000_000,
        iam_max_attempts: 1,
        batch_size: 50,
        max_concurrency: 2,
        partition: "aws".into(),
        // Unset, as in the stack: Plan takes the account from its own function ARN.
        account_id: None,
        iam_page_size: 1000,
        s3_force_path_style: false,
        max_failed_percent: 50.0,
        member_role_name: MEMBER_ROLE.into(),
        max_accounts_in_parallel: 5,
        reserved_concurrency: 0,
        function_timeout_seconds: 900,
        region: None,
        schedule: None,
        security_hub_findings: false,
    }
}

/// The real IAM client, its calls answered by `rules` (the first that matches), no retries.
pub fn iam(rules: &[&Rule]) -> aws_sdk_iam::Client {
    mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules, |c| c.retry_config(
        aws_sdk_iam::config::retry::RetryConfig::standard().with_max_attempts(1)
    ))
}

fn advisor(rules: &[&Rule]) -> AccessAdvisor {
    AccessAdvisor::new(iam(rules), Arc::new(Pacer::new(1_000_000.0, 1_000_000)))
}

/// The real Organizations client, its calls answered by `rules`, no retries.
pub fn organizations(rules: &[&Rule]) -> Organizations {
    Organizations::paced(
        mock_client!(aws_sdk_organizations, RuleMode::MatchAny, rules, |c| c
            .retry_config(
                aws_sdk_organizations::config::retry::RetryConfig::standard().with_max_attempts(1)
            )),
        1_000_000.0,
    )
}

/// Plan's dependencies. Organizations answers nothing (a run of the stack's own account
/// never asks it), and the SDK configuration Plan assumes member roles with is empty: a
/// test that reached STS would panic (see [`member_plan_deps`]).
pub fn plan_deps(bucket: &Bucket, iam_rules: &[&Rule]) -> PlanDeps {
    org_plan_deps(bucket, iam_rules, &[])
}

/// IAM's unique ids of the fixtures' principals by name: what Plan's Get calls for
/// explicit ARNs answer. Any other name is NoSuchEntity (its id stays unknown).
pub const UNIQUE_IDS: &[(&str, &str)] = &[
    ("app-web", "AROAQAPPWEB000000001"),
    ("alice", "AIDAQALICE0000000001"),
];

fn unique_id(name: Option<&str>) -> Option<&'static str> {
    UNIQUE_IDS
        .iter()
        .find(|(n, _)| Some(*n) == name)
        .map(|e| e.1)
}

/// GetRole and GetUser answering [`UNIQUE_IDS`], after a test's own rules; GetGroup
/// and GetPolicy NoSuchEntity; GetAccountAuthorizationDetails empty.
fn unique_id_rules() -> Vec<Rule> {
    use aws_sdk_iam::operation::get_role::GetRoleOutput;
    use aws_sdk_iam::operation::get_user::GetUserOutput;
    use aws_sdk_iam::types::{Role, User};
    let role = mock!(aws_sdk_iam::Client::get_role)
        .match_requests(|r| unique_id(r.role_name()).is_some())
        .then_compute_output(|r| {
            let name = r.role_name().unwrap();
            let role = Role::builder()
                .path("/")
                .role_name(name)
                .role_id(unique_id(Some(name)).unwrap())
                .arn(format!("arn:aws:iam::{ACCOUNT}:role/{name}"))
                .create_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap();
            GetRoleOutput::builder().role(role).build()
        });
    let user = mock!(aws_sdk_iam::Client::get_user)
        .match_requests(|r| unique_id(r.user_name()).is_some())
        .then_compute_output(|r| {
            let name = r.user_name().unwrap();
            let user = User::builder()
                .path("/")
                .user_name(name)
                .user_id(unique_id(Some(name)).unwrap())
                .arn(format!("arn:aws:iam::{ACCOUNT}:user/{name}"))
                .create_date(DateTime::from_secs(1_700_000_000))
                .build()
                .unwrap();
            GetUserOutput::builder().user(user).build()
        });
    let gone = "The entity cannot be found.";
    // Plan reads every account's permissions (fingerprints): none, unless a test says.
    let authorization = mock!(aws_sdk_iam::Client::get_account_authorization_details).then_output(|| {
        aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput::builder()
            .is_truncated(false)
            .build()
    });
    vec![
        role,
        user,
        authorization,
        iam_refuses(
            mock!(aws_sdk_iam::Client::get_group),
            404,
            "NoSuchEntity",
            gone,
        ),
        iam_refuses(
            mock!(aws_sdk_iam::Client::get_policy),
            404,
            "NoSuchEntity",
            gone,
        ),
        iam_refuses(
            mock!(aws_sdk_iam::Client::get_role),
            404,
            "NoSuchEntity",
            gone,
        ),
        iam_refuses(
            mock!(aws_sdk_iam::Client::get_user),
            404,
            "NoSuchEntity",
            gone,
        ),
    ]
}

/// Plan's dependencies, Organizations answering with `org_rules`.
pub fn org_plan_deps(bucket: &Bucket, iam_rules: &[&Rule], org_rules: &[&Rule]) -> PlanDeps {
    let ids = unique_id_rules();
    let iam_rules: Vec<&Rule> = iam_rules.iter().copied().chain(ids.iter()).collect();
    PlanDeps {
        config: config(),
        base: aws_config::SdkConfig::builder().build(),
        iam: iam(&iam_rules),
        organizations: organizations(org_rules),
        store: bucket.store(),
    }
}

/// Plan's dependencies for an organization run whose member roles are assumed through
/// the STS at `sts_endpoint` (see [`sts_refusing`]), with test credentials, no retries.
pub async fn member_plan_deps(bucket: &Bucket, sts_endpoint: &str) -> PlanDeps {
    let tree = org_tree();
    let rules: Vec<&Rule> = tree.iter().collect();
    let mut deps = org_plan_deps(bucket, &[], &rules);
    deps.base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDPLANFUNCTION",
            "not-a-secret",
            None,
            None,
            "handler-tests",
        ))
        .endpoint_url(sts_endpoint)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    deps
}

/// An STS endpoint on loopback refusing every request as STS refuses an AssumeRole the
/// role's trust policy doesn't allow: HTTP 403, `AccessDenied`, `message`. Its URL.
pub fn sts_refusing(message: &str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut request = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if request.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut form = vec![0; length];
            let _ = request.read_exact(&mut form);
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// Plan's answer at the start of a run.
pub fn run_answer(answer: PlanAnswer) -> PlanOutput {
    match answer {
        PlanAnswer::Run(out) => out,
        other => panic!("not the run's answer: {other:?}"),
    }
}

/// Plan's answer for one account.
pub fn account_answer(answer: PlanAnswer) -> AccountOutput {
    match answer {
        PlanAnswer::Account(out) => *out,
        other => panic!("not an account's answer: {other:?}"),
    }
}

/// PlanAccount's event for the `i`th account of the run: the ScanAccounts ItemSelector
/// applied, in the `account` envelope (fixtures.rs proves this is what the ASL sends).
pub fn account_event(bucket: &Bucket, out: &PlanOutput, i: usize) -> Value {
    let item = bucket.json(&out.accounts_key)[i].clone();
    assert!(item.is_object(), "no account {i} in {}", out.accounts_key);
    serde_json::json!({"account": {"run": out.run, "bucket": out.bucket, "account": item}})
}

/// The bucket after Plan ran on `plan/events/explicit-arns.json` (its plan record, the
/// run's one account planned: batch 0 app-web, alice, deployer; batch 1 admins), and
/// Plan's output.
pub async fn planned() -> (Bucket, PlanOutput) {
    let bucket = Bucket::new();
    let deps = plan_deps(&bucket, &[]);
    let out = plan::handle(
        &deps,
        event("plan", "explicit-arns"),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    (bucket, run_answer(out))
}

/// As [`planned`], and Plan's answer for the run's account (`plan/events/account.json`):
/// the batches Map's input.
pub async fn planned_account() -> (Bucket, PlanOutput, AccountOutput) {
    let (bucket, out) = planned().await;
    let deps = plan_deps(&bucket, &[]);
    let account = plan::handle(
        &deps,
        event("plan", "account"),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    (bucket, out, account_answer(account))
}

/// An account as ListAccounts describes it: its `State`, and the `Status` it replaces.
fn org_account(id: &str, name: &str, state: AccountState) -> Account {
    let status = AccountStatus::from(state.as_str());
    Account::builder()
        .id(id)
        .name(name)
        .state(state)
        .status(status)
        .arn(format!(
            "arn:aws:organizations::{ACCOUNT}:account/o-abcdefghij/{id}"
        ))
        .build()
}

/// The Organization: the stack's own account under the root, the ACTIVE member and the
/// SUSPENDED one under the OU (one page of each listing).
pub fn org_tree() -> Vec<Rule> {
    let list = mock!(aws_sdk_organizations::Client::list_accounts).then_output(|| {
        ListAccountsOutput::builder()
            .accounts(org_account(ACCOUNT, "security", AccountState::Active))
            .accounts(org_account(MEMBER, "workloads", AccountState::Active))
            .accounts(org_account(SUSPENDED, "retired", AccountState::Suspended))
            .build()
    });
    let roots = mock!(aws_sdk_organizations::Client::list_roots).then_output(|| {
        // SCPs enabled, as IAM's Organizations access report requires.
        let scps = aws_sdk_organizations::types::PolicyTypeSummary::builder()
            .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .status(aws_sdk_organizations::types::PolicyTypeStatus::Enabled)
            .build();
        ListRootsOutput::builder()
            .roots(Root::builder().id(ROOT).policy_types(scps).build())
            .build()
    });
    let units = mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
        .then_compute_output(|r| {
            let builder = ListOrganizationalUnitsForParentOutput::builder();
            match r.parent_id() {
                Some(ROOT) => {
                    builder.organizational_units(OrganizationalUnit::builder().id(OU).build())
                }
                _ => builder.set_organizational_units(Some(Vec::new())),
            }
            .build()
        });
    let accounts = mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
        .then_compute_output(|r| {
            let builder = ListAccountsForParentOutput::builder();
            match r.parent_id() {
                Some(ROOT) => {
                    builder.accounts(org_account(ACCOUNT, "security", AccountState::Active))
                }
                Some(OU) => builder
                    .accounts(org_account(MEMBER, "workloads", AccountState::Active))
                    .accounts(org_account(SUSPENDED, "retired", AccountState::Suspended)),
                _ => builder.set_accounts(Some(Vec::new())),
            }
            .build()
        });
    vec![list, roots, units, accounts]
}

/// The bucket after Plan started the organization run `plan/events/organization.json`
/// (no account planned yet), and Plan's output.
pub async fn org_planned() -> (Bucket, PlanOutput) {
    let bucket = Bucket::new();
    let tree = org_tree();
    let rules: Vec<&Rule> = tree.iter().collect();
    let deps = org_plan_deps(&bucket, &[], &rules);
    let out = plan::handle(
        &deps,
        event("plan", "organization"),
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    (bucket, run_answer(out))
}

/// The readers of the stack's own account, through `iam_rules`.
fn readers(iam_rules: &[&Rule]) -> Readers {
    Readers::fixed(
        config(),
        PrincipalArn::parse(READER).unwrap(),
        advisor(iam_rules),
    )
}

/// Generate's dependencies, with a bucket of its own (it writes only under the
/// `session` binding: `generate_deps_in` shows what it wrote).
pub fn generate_deps(iam_rules: &[&Rule]) -> GenerateDeps {
    generate_deps_in(&Bucket::new(), iam_rules)
}

pub fn generate_deps_in(bucket: &Bucket, iam_rules: &[&Rule]) -> GenerateDeps {
    GenerateDeps {
        config: config(),
        readers: readers(iam_rules),
        store: bucket.store(),
    }
}

pub fn job_deps(bucket: &Bucket, iam_rules: &[&Rule]) -> JobDeps {
    JobDeps {
        config: config(),
        readers: readers(iam_rules),
        store: bucket.store(),
    }
}

/// Summarize's, with 1 KiB parts: any index of more than a few principals is a
/// multipart upload.
pub fn summarize_deps(bucket: &Bucket) -> SummarizeDeps {
    SummarizeDeps {
        config: config(),
        store: bucket.store().with_part_bytes(1024),
        security_hub: None,
    }
}

/// A rule answering every matching call with an HTTP error `body`.
fn http_error<I, O, E>(rule: RuleBuilder<I, O, E>, status: u16, body: String) -> Rule
where
    I: Debug + Send + Sync + 'static,
    O: Debug + Send + Sync + 'static,
    E: Debug + Send + Sync + std::error::Error + 'static,
{
    rule.sequence()
        .http_status(status, Some(body))
        .repeatedly()
        .build()
}

/// An IAM error body as IAM's query protocol sends it.
pub fn iam_error(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
    )
}

/// An S3 error body as S3 sends it.
pub fn s3_error(code: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>r</RequestId></Error>"#
    )
}

/// GenerateServiceLastAccessedDetails: for each `(arn, job_id)`, that principal's new job.
pub fn generates(jobs: &'static [(&'static str, &'static str)]) -> Rule {
    let job_of = move |arn: Option<&str>| jobs.iter().find(|(a, _)| Some(*a) == arn).map(|j| j.1);
    mock!(aws_sdk_iam::Client::generate_service_last_accessed_details)
        .match_requests(move |r| job_of(r.arn()).is_some())
        .then_compute_output(move |r| {
            GenerateOutput::builder()
                .set_job_id(job_of(r.arn()).map(str::to_string))
                .build()
        })
}

/// GenerateServiceLastAccessedDetails of `arn`, to answer with [`iam_refuses`].
pub fn generate_of(arn: &'static str) -> RuleBuilder<GenerateInput, GenerateOutput, GenerateError> {
    mock!(aws_sdk_iam::Client::generate_service_last_accessed_details)
        .match_requests(move |r| r.arn() == Some(arn))
}

/// GetServiceLastAccessedDetails of `job_id`, to answer with [`iam_refuses`].
pub fn read_of(job_id: &'static str) -> RuleBuilder<ReadInput, ReadOutput, ReadError> {
    mock!(aws_sdk_iam::Client::get_service_last_accessed_details)
        .match_requests(move |r| r.job_id() == Some(job_id))
}

/// IAM refusing every call `rule` matches: HTTP `status`, IAM's `code` and `message`.
pub fn iam_refuses<I, O, E>(
    rule: RuleBuilder<I, O, E>,
    status: u16,
    code: &str,
    message: &str,
) -> Rule
where
    I: Debug + Send + Sync + 'static,
    O: Debug + Send + Sync + 'static,
    E: Debug + Send + Sync + std::error::Error + 'static,
{
    http_error(rule, status, iam_error(code, message))
}

fn date(text: &str) -> DateTime {
    DateTime::from_str(text, Format::DateTime).unwrap()
}

/// GetServiceLastAccessedDetails of `job_id`: one page with `status`, `services`, and
/// for a FAILED job IAM's `error` (code, message).
pub fn job_read(
    job_id: &'static str,
    status: JobStatusType,
    services: &'static [(&'static str, &'static str, Option<&'static str>)],
    error: Option<(&'static str, &'static str)>,
) -> Rule {
    read_of(job_id).then_compute_output(move |_| read_page(status.clone(), services, error))
}

/// GetServiceLastAccessedDetailsWithEntities of `job_id` for `namespace`: one user, `user`,
/// who used it at `last`.
pub fn entities_of(
    job_id: &'static str,
    namespace: &'static str,
    user: &'static str,
    last: &'static str,
) -> Rule {
    use aws_sdk_iam::operation::get_service_last_accessed_details_with_entities::GetServiceLastAccessedDetailsWithEntitiesOutput as EntitiesOutput;
    use aws_sdk_iam::types::{EntityDetails, EntityInfo, PolicyOwnerEntityType};
    mock!(aws_sdk_iam::Client::get_service_last_accessed_details_with_entities)
        .match_requests(move |r| {
            r.job_id() == Some(job_id) && r.service_namespace() == Some(namespace)
        })
        .then_compute_output(move |_| {
            let info = EntityInfo::builder()
                .arn(user)
                .name(user.rsplit('/').next().unwrap_or_default())
                .r#type(PolicyOwnerEntityType::User)
                .id("AIDAQALICE0000000001")
                .build()
                .unwrap();
            EntitiesOutput::builder()
                .job_status(JobStatusType::Completed)
                .job_creation_date(date("2026-11-25T01:00:05Z"))
                .job_completion_date(date("2026-11-25T01:00:12Z"))
                .entity_details_list(
                    EntityDetails::builder()
                        .entity_info(info)
                        .last_authenticated(date(last))
                        .build(),
                )
                .is_truncated(false)
                .build()
                .unwrap()
        })
}

/// One page of a job's read: `status`, `services`, and for a FAILED job IAM's `error`.
pub fn read_page(
    status: JobStatusType,
    services: &[(&str, &str, Option<&str>)],
    error: Option<(&str, &str)>,
) -> ReadOutput {
    let services = services.iter().map(|&(namespace, name, last)| {
        ServiceLastAccessed::builder()
            .service_namespace(namespace)
            .service_name(name)
            .set_last_authenticated(last.map(date))
            .total_authenticated_entities(i32::from(last.is_some()))
            .build()
            .unwrap()
    });
    let error = error.map(|(code, message)| {
        ErrorDetails::builder()
            .code(code)
            .message(message)
            .build()
            .unwrap()
    });
    ReadOutput::builder()
        .job_status(status)
        .job_type("SERVICE_LEVEL".into())
        .job_creation_date(date("2026-11-25T01:00:05Z"))
        .job_completion_date(date("2026-11-25T01:00:12Z"))
        .set_services_last_accessed(Some(services.collect()))
        .set_error(error)
        .is_truncated(false)
        .build()
        .unwrap()
}

/// A finished job as Check stores it for Write: IAM's `services`, COMPLETED.
pub fn stored_job(services: &[(&str, &str, Option<&str>)]) -> JobDetails {
    JobDetails {
        job_type: Some("SERVICE_LEVEL".into()),
        created: Some("2026-11-25T01:00:05Z".into()),
        completed: Some("2026-11-25T01:00:12Z".into()),
        services: services
            .iter()
            .map(|&(namespace, name, last)| ServiceAccess {
                name: name.into(),
                namespace: namespace.into(),
                last_authenticated: last.map(str::to_string),
                last_authenticated_entity: None,
                last_authenticated_region: None,
                total_authenticated_entities: Some(i32::from(last.is_some())),
                tracked_actions: None,
            })
            .collect(),
        ..JobDetails::default()
    }
}

/// A batch's result as Write stores it: each principal's status, one granted service
/// (unused unless COMPLETED).
pub fn batch_result(index: u32, principals: &[(&str, JobStatus)]) -> BatchResult {
    batch_result_in(RUN_ID, index, principals)
}

/// A batch's result of the run `run_id`, each principal scanned in its own account.
pub fn batch_result_in(run_id: &str, index: u32, principals: &[(&str, JobStatus)]) -> BatchResult {
    BatchResult {
        index,
        job_binding: None,
        principals: principals
            .iter()
            .map(|&(arn, status)| {
                let parsed = PrincipalArn::parse(arn).unwrap();
                let used = u32::from(status == JobStatus::Completed);
                PrincipalOutcome {
                    arn: arn.into(),
                    principal_id: None,
                    principal_type: parsed.kind(),
                    status,
                    report_key: report_key_in(
                        run_id,
                        parsed.account(),
                        &format!("{}/{}", parsed.kind().as_str(), parsed.name()),
                    ),
                    account: parsed.account().to_string(),
                    services_granted: 1,
                    services_active: used,
                    services_stale: 0,
                    services_never_used: 1 - used,
                    error: None,
                    services: Vec::new(),
                    changes: None,
                    recommended: None,
                    fingerprint: None,
                    data_as_of: None,
                    entities: false,
                    incremental: None,
                }
            })
            .collect(),
    }
}

/// The report bucket, kept in memory: the real S3 client's PutObject, GetObject and
/// ListObjectsV2 go to it (a missing key is S3's NoSuchKey), except the GetObjects a
/// test makes fail.
/// A multipart upload begun: its key and its parts by number.
type Upload = (String, BTreeMap<i32, Vec<u8>>);

#[derive(Clone, Default)]
pub struct Bucket {
    objects: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    /// Multipart uploads in progress: upload id → (key, parts by number).
    uploads: Arc<Mutex<BTreeMap<String, Upload>>>,
    /// Keys made of several parts, and uploads aborted.
    pub multipart: Arc<Mutex<Vec<String>>>,
    pub aborted: Arc<Mutex<Vec<String>>>,
    failing: Vec<Rule>,
}

impl Bucket {
    pub fn new() -> Self {
        Bucket::default()
    }

    /// GetObject of `key` answers S3's error `code` with HTTP `status`.
    pub fn failing_get(mut self, key: String, status: u16, code: &str) -> Self {
        let rule = mock!(aws_sdk_s3::Client::get_object)
            .match_requests(move |r| r.key() == Some(key.as_str()));
        self.failing.push(http_error(
            rule,
            status,
            s3_error(code, "refused by the test"),
        ));
        self
    }

    /// Stores `value` at `key`, as a handler would have.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) {
        let body = serde_json::to_vec(value).unwrap();
        self.objects.lock().unwrap().insert(key.into(), body);
    }

    /// The JSON document at `key` (what a PutObject stored).
    pub fn json(&self, key: &str) -> Value {
        let objects = self.objects.lock().unwrap();
        let body = objects.get(key).unwrap_or_else(|| {
            panic!(
                "no {key}; the bucket holds {:?}",
                objects.keys().collect::<Vec<_>>()
            )
        });
        serde_json::from_slice(body).unwrap_or_else(|e| panic!("{key}: {e}"))
    }

    /// Every object, to compare the bucket before and after a step.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.objects.lock().unwrap().clone()
    }

    /// The keys under `prefix`, in S3's order.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let objects = self.objects.lock().unwrap();
        objects
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// S3's multipart upload, as the API reference says it: parts by number, the object
    /// whole at CompleteMultipartUpload, nothing left after AbortMultipartUpload.
    fn multipart_rules(&self) -> Vec<Rule> {
        use aws_sdk_s3::operation::abort_multipart_upload::AbortMultipartUploadOutput;
        use aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput;
        use aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadOutput;
        use aws_sdk_s3::operation::upload_part::UploadPartOutput;
        let uploads = Arc::clone(&self.uploads);
        let create =
            mock!(aws_sdk_s3::Client::create_multipart_upload).then_compute_output(move |r| {
                let mut u = uploads.lock().unwrap();
                let id = format!("upload-{}", u.len() + 1);
                u.insert(id.clone(), (r.key().unwrap().to_string(), BTreeMap::new()));
                CreateMultipartUploadOutput::builder().upload_id(id).build()
            });
        let uploads = Arc::clone(&self.uploads);
        let part = mock!(aws_sdk_s3::Client::upload_part).then_compute_output(move |r| {
            let body = r.body().bytes().expect("an in-memory body").to_vec();
            let mut u = uploads.lock().unwrap();
            let (_, parts) = u.get_mut(r.upload_id().unwrap()).expect("an upload begun");
            parts.insert(r.part_number().unwrap(), body);
            UploadPartOutput::builder()
                .e_tag(format!("etag-{}", r.part_number().unwrap()))
                .build()
        });
        let (uploads, objects, multipart) = (
            Arc::clone(&self.uploads),
            Arc::clone(&self.objects),
            Arc::clone(&self.multipart),
        );
        let complete =
            mock!(aws_sdk_s3::Client::complete_multipart_upload).then_compute_output(move |r| {
                let (key, parts) = uploads
                    .lock()
                    .unwrap()
                    .remove(r.upload_id().unwrap())
                    .expect("an upload begun");
                let listed: Vec<i32> = r
                    .multipart_upload()
                    .map(|m| m.parts().iter().filter_map(|p| p.part_number()).collect())
                    .unwrap_or_default();
                assert_eq!(
                    listed,
                    parts.keys().copied().collect::<Vec<_>>(),
                    "every part listed, in order"
                );
                let body: Vec<u8> = parts.into_values().flatten().collect();
                objects.lock().unwrap().insert(key.clone(), body);
                multipart.lock().unwrap().push(key);
                CompleteMultipartUploadOutput::builder().build()
            });
        let (uploads, aborted) = (Arc::clone(&self.uploads), Arc::clone(&self.aborted));
        let abort =
            mock!(aws_sdk_s3::Client::abort_multipart_upload).then_compute_output(move |r| {
                if let Some((key, _)) = uploads.lock().unwrap().remove(r.upload_id().unwrap()) {
                    aborted.lock().unwrap().push(key);
                }
                AbortMultipartUploadOutput::builder().build()
            });
        vec![create, part, complete, abort]
    }

    /// The store of the handlers' dependencies, on this bucket.
    pub fn store(&self) -> ReportStore {
        let in_bucket = |b: Option<&str>| b == Some(BUCKET);
        let objects = Arc::clone(&self.objects);
        let put = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(move |r| in_bucket(r.bucket()))
            .then_compute_output(move |r| {
                let body = r.body().bytes().expect("an in-memory body").to_vec();
                let key = r.key().unwrap().to_string();
                objects.lock().unwrap().insert(key, body);
                PutObjectOutput::builder().build()
            });
        let objects = Arc::clone(&self.objects);
        let get = mock!(aws_sdk_s3::Client::get_object)
            .match_requests(move |r| in_bucket(r.bucket()))
            .then_compute_response(move |r| {
                match objects.lock().unwrap().get(r.key().unwrap_or_default()) {
                    Some(body) => MockResponse::Output(
                        GetObjectOutput::builder()
                            .body(ByteStream::from(body.clone()))
                            .build(),
                    ),
                    None => {
                        MockResponse::Error(GetObjectError::NoSuchKey(NoSuchKey::builder().build()))
                    }
                }
            });
        let this = self.clone();
        let list = mock!(aws_sdk_s3::Client::list_objects_v2)
            .match_requests(move |r| in_bucket(r.bucket()) && r.continuation_token().is_none())
            .then_compute_output(move |r| {
                let keys = this.keys(r.prefix().unwrap_or_default());
                ListObjectsV2Output::builder()
                    .set_contents(Some(
                        keys.into_iter()
                            .map(|k| Object::builder().key(k).build())
                            .collect(),
                    ))
                    .is_truncated(false)
                    .build()
            });
        let multipart = self.multipart_rules();
        let rules: Vec<&Rule> = self
            .failing
            .iter()
            .chain([&put, &get, &list])
            .chain(multipart.iter())
            .collect();
        let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |c| c.retry_config(
            aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(1)
        ));
        ReportStore::new(s3, BUCKET.into())
    }
}
