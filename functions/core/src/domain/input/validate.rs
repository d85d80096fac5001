//! Parsing and checking the run input: strict JSON (unknown fields rejected), then
//! every field against its rules; each error names its field.

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::incremental::IncrementalOptions;
use crate::domain::input::doctor::check_doctor_fields;
use crate::domain::input::incremental::check_incremental;
use crate::domain::input::options::{
    Discovery, Granularity, Organization, OrganizationOptions, PollOptions, ReportOptions,
};
use crate::domain::input::scope::{check_discovery, check_organization};
use crate::domain::input::InputError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Step Functions caps an execution input at 256 KiB; 5,000 ARNs fit, more would not.
/// Larger scans use discovery.
pub const MAX_ARNS: usize = 5_000;
pub const MAX_BATCH_SIZE: u32 = 500;

/// Run input exactly as received (after JSON parsing); see [`RunInput::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunInput {
    #[serde(default)]
    arns: Vec<String>,
    discover: Option<Discovery>,
    #[serde(default)]
    granularity: Granularity,
    batch_size: Option<u32>,
    max_concurrency: Option<u32>,
    iam_requests_per_second: Option<f64>,
    #[serde(default)]
    poll: PollOptions,
    #[serde(default)]
    report: ReportOptions,
    organization: Option<OrganizationOptions>,
    #[serde(default)]
    incremental: bool,
    full_refresh_days: Option<u32>,
    incremental_sample_percent: Option<f64>,
    #[serde(default)]
    doctor: bool,
}

/// A validated run input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInput {
    pub arns: Vec<PrincipalArn>,
    pub discover: Option<Discovery>,
    pub granularity: Granularity,
    pub batch_size: u32,
    pub max_concurrency: u32,
    /// Each Lambda's IAM rate for this run; `None`: the stack's `IAM_REQUESTS_PER_SECOND`.
    /// The run's total is about `max_concurrency` times this.
    pub iam_requests_per_second: Option<f64>,
    pub poll: PollOptions,
    pub report: ReportOptions,
    /// Scan these accounts of the Organization; `None`: the stack's own account.
    pub organization: Option<Organization>,
    /// Carry the principals whose answer cannot have changed; `None`: scan every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalOptions>,
    /// Check the deployment instead of scanning (`ila doctor`): Plan checks the accounts
    /// a scan would select, the preflight proves the reader and the JobId rule, and the
    /// run ends there (no batch, report or summary).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub doctor: bool,
}

/// Defaults that come from the deployment rather than the input. The pace a run may ask
/// of IAM is the stack's to set: `max_concurrency`, `iam_requests_per_second` and
/// `organization.max_accounts_in_parallel` are ceilings as well as defaults (whoever may
/// start the state machine must not be able to throttle IAM in every account).
#[derive(Debug, Clone)]
pub struct InputDefaults {
    pub batch_size: u32,
    /// The stack's `MaxConcurrency`: default and ceiling.
    pub max_concurrency: u32,
    /// The stack's `IamRequestsPerSecond`: default and ceiling.
    pub iam_requests_per_second: f64,
    /// The partition and account the scan reads; ARNs elsewhere are refused.
    pub partition: String,
    pub account: Option<String>,
    /// `organization.member_role` unless given (the stack's `MemberRoleName`).
    pub member_role: String,
    /// The stack's `MaxAccountsInParallel`: `organization.max_accounts_in_parallel`'s
    /// default and ceiling.
    pub max_accounts_in_parallel: u32,
    /// The stack's `ReservedConcurrency` of each batch function (0: none).
    pub reserved_concurrency: u32,
    /// The stack's `SecurityHubFindings`: whether it may import findings (its Summarize
    /// role holds `securityhub:BatchImportFindings`), and `report.security_hub`'s default.
    pub security_hub_findings: bool,
}

/// Child workflow executions running at once in one run, at most: Step Functions runs
/// up to 10,000 child workflow executions of a Distributed Map in parallel (Developer
/// Guide, Distributed Map state), and a run keeps its accounts' children and their
/// batches' children together under that, whatever the stack's parameters.
pub const MAX_RUNNING_CHILDREN: u64 = 10_000;

/// A run input asking more than the stack allows: `InvalidInput` naming the field, the
/// stack's parameter and its value.
pub(super) fn within_ceiling<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    parameter: &str,
    ceiling: T,
) -> Result<T, InputError> {
    if value > ceiling {
        return Err(InputError::invalid(
            field,
            format!(
                "{value} is above this stack's {parameter} ({ceiling}), its ceiling: deploy the stack with a higher {parameter} to ask for more"
            ),
        ));
    }
    Ok(value)
}

pub(super) fn check_range(field: &str, value: u32, low: u32, high: u32) -> Result<u32, InputError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(InputError::invalid(
            field,
            format!("{value} is out of range {low}..={high}"),
        ))
    }
}

impl RunInput {
    /// Parses and checks a run input. An empty object (or `null`) scans every
    /// principal type with the defaults.
    pub fn parse(
        input: &serde_json::Value,
        defaults: &InputDefaults,
    ) -> Result<RunInput, InputError> {
        let raw: RawRunInput = match input {
            serde_json::Value::Null => RawRunInput::default(),
            serde_json::Value::Object(_) => {
                // The run input's fields are named from its top: `arns`, `poll.max_attempts`.
                serde_path_to_error::deserialize(input)
                    .map_err(|e| InputError::malformed("input", "", e))?
            }
            other => {
                return Err(InputError::invalid(
                    "input",
                    format!("expected a JSON object, got {}", json_kind(other)),
                ))
            }
        };
        if raw.doctor {
            check_doctor_fields(input)?;
        }
        Self::check(raw, defaults)
    }

    fn check(raw: RawRunInput, defaults: &InputDefaults) -> Result<RunInput, InputError> {
        let arns = check_arns(&raw.arns, raw.organization.is_some(), defaults)?;
        let discover = match (raw.discover, arns.is_empty()) {
            (Some(d), _) => Some(check_discovery(d)?),
            (None, true) => Some(Discovery::default()),
            (None, false) => None,
        };
        let batch_size = check_range(
            "batch_size",
            raw.batch_size.unwrap_or(defaults.batch_size),
            1,
            MAX_BATCH_SIZE,
        )?;
        let max_concurrency = check_range(
            "max_concurrency",
            raw.max_concurrency.unwrap_or(defaults.max_concurrency),
            1,
            1000,
        )?;
        let max_concurrency = within_ceiling(
            "max_concurrency",
            max_concurrency,
            "MaxConcurrency",
            defaults.max_concurrency,
        )?;
        if let Some(rate) = raw.iam_requests_per_second {
            if !(0.1..=100.0).contains(&rate) {
                return Err(InputError::invalid(
                    "iam_requests_per_second",
                    format!("{rate} is out of range 0.1..=100"),
                ));
            }
            within_ceiling(
                "iam_requests_per_second",
                rate,
                "IamRequestsPerSecond",
                defaults.iam_requests_per_second,
            )?;
        }
        check_poll(&raw.poll)?;
        check_report(&raw.report)?;
        let mut report = raw.report;
        report.security_hub = security_hub(report.security_hub, defaults.security_hub_findings)?;
        let organization = raw
            .organization
            .map(|o| check_organization(o, defaults))
            .transpose()?;
        check_fan_out(max_concurrency, organization.as_ref(), defaults)?;
        let incremental = check_incremental(
            raw.incremental,
            raw.full_refresh_days,
            raw.incremental_sample_percent,
        )?;
        Ok(RunInput {
            incremental,
            organization,
            arns,
            discover,
            granularity: raw.granularity,
            batch_size,
            max_concurrency,
            iam_requests_per_second: raw.iam_requests_per_second,
            poll: raw.poll,
            report,
            doctor: raw.doctor,
        })
    }
}

/// What a run may run at once: its batch functions' invocations within the stack's
/// reserved concurrency (when set), an Organization run's child executions within Step
/// Functions' limit.
fn check_fan_out(
    max_concurrency: u32,
    organization: Option<&Organization>,
    defaults: &InputDefaults,
) -> Result<(), InputError> {
    let accounts = organization.map_or(1, |o| o.max_accounts_in_parallel);
    let invocations = u64::from(max_concurrency) * u64::from(accounts);
    if defaults.reserved_concurrency > 0 && invocations > u64::from(defaults.reserved_concurrency) {
        // The batches in flight would queue on the functions' reserved concurrency and
        // time out as throttled invocations.
        return Err(InputError::invalid(
            "max_concurrency",
            format!(
                "{max_concurrency} batches in flight in each of {accounts} accounts need {invocations} invocations of each batch function at once; this stack reserves {} (ReservedConcurrency): lower max_concurrency or organization.max_accounts_in_parallel, or raise ReservedConcurrency",
                defaults.reserved_concurrency
            ),
        ));
    }
    if let Some(o) = organization {
        // Each account scanned is a child execution running its batches' children.
        let children = u64::from(o.max_accounts_in_parallel) * u64::from(max_concurrency + 1);
        if children > MAX_RUNNING_CHILDREN {
            return Err(InputError::invalid(
                "organization.max_accounts_in_parallel",
                format!(
                    "{} accounts side by side, each with {max_concurrency} batches in flight, make {children} child executions running at once; Step Functions runs at most {MAX_RUNNING_CHILDREN}: lower organization.max_accounts_in_parallel or max_concurrency",
                    o.max_accounts_in_parallel
                ),
            ));
        }
    }
    Ok(())
}

/// The explicit ARNs: each parsed, in the scan's partition (and, outside an
/// organization run, its account), none twice.
fn check_arns(
    texts: &[String],
    organization: bool,
    defaults: &InputDefaults,
) -> Result<Vec<PrincipalArn>, InputError> {
    if texts.len() > MAX_ARNS {
        return Err(InputError::invalid(
            "arns",
            format!("{} ARNs; at most {MAX_ARNS} per run", texts.len()),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut arns = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let field = format!("arns[{i}]");
        let arn = PrincipalArn::parse(text).map_err(|source| InputError::Arn {
            field: field.clone(),
            source,
        })?;
        if arn.partition() != defaults.partition {
            return Err(InputError::invalid(
                &field,
                format!(
                    "{text:?} is in partition {:?}; this scan reads {:?}",
                    arn.partition(),
                    defaults.partition
                ),
            ));
        }
        // An organization's accounts are known once Plan resolves them: it checks then.
        if let (Some(account), false) = (&defaults.account, organization) {
            if arn.kind() != PrincipalType::AwsManagedPolicy && arn.account() != account {
                return Err(InputError::invalid(
                    &field,
                    format!(
                        "{text:?} is in account {}; this scan reads account {account}",
                        arn.account()
                    ),
                ));
            }
        }
        if !seen.insert(arn.identity()) {
            return Err(InputError::invalid(
                &field,
                format!("{text:?} is listed twice (IAM names ignore case)"),
            ));
        }
        arns.push(arn);
    }
    Ok(arns)
}

fn check_poll(poll: &PollOptions) -> Result<(), InputError> {
    check_range(
        "poll.initial_wait_seconds",
        poll.initial_wait_seconds,
        0,
        3600,
    )?;
    check_range("poll.max_wait_seconds", poll.max_wait_seconds, 0, 3600)?;
    check_range("poll.max_attempts", poll.max_attempts, 1, 1000)?;
    if poll.max_wait_seconds < poll.initial_wait_seconds {
        return Err(InputError::invalid(
            "poll.max_wait_seconds",
            "must not be below poll.initial_wait_seconds",
        ));
    }
    Ok(())
}

/// Whether the run imports Security Hub findings: `Some(true)` when it does, `None` when
/// not. Asking for them on a stack deployed without `SecurityHubFindings` is refused
/// (its Summarize may not import them).
fn security_hub(asked: Option<bool>, stack: bool) -> Result<Option<bool>, InputError> {
    match (asked, stack) {
        (Some(true), false) => Err(InputError::invalid(
            "report.security_hub",
            "true, but this stack was deployed with SecurityHubFindings false, so it may not \
             import findings: deploy it with SecurityHubFindings=true to ask for them"
                .to_string(),
        )),
        (Some(on), _) => Ok(on.then_some(true)),
        (None, stack) => Ok(stack.then_some(true)),
    }
}

fn check_report(report: &ReportOptions) -> Result<(), InputError> {
    check_range("report.unused_days", report.unused_days, 1, 400)?;
    check_range(
        "report.max_entity_services",
        report.max_entity_services,
        1,
        500,
    )?;
    if let Some(days) = report.min_age_days {
        check_range("report.min_age_days", days, 0, 3650)?;
    }
    let exclude = &report.exclude;
    if exclude.arns.len() > 100 || exclude.arns.iter().any(|g| g.is_empty() || g.len() > 2048) {
        return Err(InputError::invalid(
            "report.exclude.arns",
            "give at most 100 ARN globs of 1-2048 characters (* any run of characters, ? one)",
        ));
    }
    if exclude.tags.len() > 50
        || exclude
            .tags
            .iter()
            .any(|(k, v)| k.is_empty() || k.len() > 128 || v.len() > 256)
    {
        return Err(InputError::invalid(
            "report.exclude.tags",
            "give at most 50 tags, keys of 1-128 characters and values of at most 256 (IAM's tag limits)",
        ));
    }
    Ok(())
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
