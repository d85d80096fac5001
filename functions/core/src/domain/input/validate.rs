//! Parsing and checking the run input: strict JSON (unknown fields rejected), then
//! every field against its rules; each error names its field.

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::input::options::{
    AccountSelection, Discovery, Granularity, Organization, OrganizationOptions, PollOptions,
    ReportOptions,
};
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
}

/// Defaults that come from the deployment rather than the input.
#[derive(Debug, Clone)]
pub struct InputDefaults {
    pub batch_size: u32,
    pub max_concurrency: u32,
    /// The partition and account the scan reads; ARNs elsewhere are refused.
    pub partition: String,
    pub account: Option<String>,
    /// `organization.member_role` unless given (the stack's `MemberRoleName`).
    pub member_role: String,
    /// `organization.max_accounts_in_parallel` unless given.
    pub max_accounts_in_parallel: u32,
}

fn check_range(field: &str, value: u32, low: u32, high: u32) -> Result<u32, InputError> {
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
        Self::check(raw, defaults)
    }

    fn check(raw: RawRunInput, defaults: &InputDefaults) -> Result<RunInput, InputError> {
        if raw.arns.len() > MAX_ARNS {
            return Err(InputError::invalid(
                "arns",
                format!("{} ARNs; at most {MAX_ARNS} per run", raw.arns.len()),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut arns = Vec::with_capacity(raw.arns.len());
        for (i, text) in raw.arns.iter().enumerate() {
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
            if let (Some(account), None) = (&defaults.account, &raw.organization) {
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
        if let Some(rate) = raw.iam_requests_per_second {
            if !(0.1..=100.0).contains(&rate) {
                return Err(InputError::invalid(
                    "iam_requests_per_second",
                    format!("{rate} is out of range 0.1..=100"),
                ));
            }
        }
        let poll = raw.poll;
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
        let report = raw.report;
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
        if report.exclude.arns.len() > 100
            || report
                .exclude
                .arns
                .iter()
                .any(|g| g.is_empty() || g.len() > 2048)
        {
            return Err(InputError::invalid(
                "report.exclude.arns",
                "give at most 100 ARN globs of 1-2048 characters (* any run of characters, ? one)",
            ));
        }
        if report.exclude.tags.len() > 50
            || report
                .exclude
                .tags
                .iter()
                .any(|(k, v)| k.is_empty() || k.len() > 128 || v.len() > 256)
        {
            return Err(InputError::invalid(
                "report.exclude.tags",
                "give at most 50 tags, keys of 1-128 characters and values of at most 256 (IAM's tag limits)",
            ));
        }
        let organization = raw
            .organization
            .map(|o| check_organization(o, defaults))
            .transpose()?;
        Ok(RunInput {
            organization,
            arns,
            discover,
            granularity: raw.granularity,
            batch_size,
            max_concurrency,
            iam_requests_per_second: raw.iam_requests_per_second,
            poll,
            report,
        })
    }
}

/// A 12-digit account id, or why not.
pub fn check_account_id(field: &str, id: &str) -> Result<(), InputError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(InputError::invalid(
            field,
            format!("{id:?} is not an AWS account id (12 digits)"),
        ))
    }
}

/// An OU id (`ou-` root id part, then 8-32 characters) or a root id (`r-…`), as
/// Organizations' API model patterns them.
fn is_unit_id(id: &str) -> bool {
    let lower = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = id.strip_prefix("ou-") {
        return match rest.split_once('-') {
            Some((root, ou)) => {
                (4..=32).contains(&root.len())
                    && (8..=32).contains(&ou.len())
                    && lower(root)
                    && lower(ou)
            }
            None => false,
        };
    }
    id.strip_prefix("r-")
        .is_some_and(|root| (4..=32).contains(&root.len()) && lower(root))
}

fn check_organization(
    o: OrganizationOptions,
    defaults: &InputDefaults,
) -> Result<Organization, InputError> {
    let chosen = [!o.accounts.is_empty(), o.all, !o.units.is_empty()]
        .iter()
        .filter(|c| **c)
        .count();
    if chosen != 1 {
        return Err(InputError::invalid(
            "organization",
            "give exactly one of accounts (ids), all (true) or units (OU ids)",
        ));
    }
    let unique = |field: &str, ids: &[String]| -> Result<(), InputError> {
        let set: BTreeSet<&String> = ids.iter().collect();
        if set.len() == ids.len() {
            Ok(())
        } else {
            Err(InputError::invalid(field, "lists an id twice"))
        }
    };
    for (i, id) in o.accounts.iter().enumerate() {
        check_account_id(&format!("organization.accounts[{i}]"), id)?;
    }
    for (i, id) in o.exclude.iter().enumerate() {
        check_account_id(&format!("organization.exclude[{i}]"), id)?;
    }
    for (i, id) in o.units.iter().enumerate() {
        if !is_unit_id(id) {
            return Err(InputError::invalid(
                &format!("organization.units[{i}]"),
                format!("{id:?} is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"),
            ));
        }
    }
    unique("organization.accounts", &o.accounts)?;
    unique("organization.units", &o.units)?;
    let member_role = o
        .member_role
        .unwrap_or_else(|| defaults.member_role.clone());
    let role_ok = (1..=64).contains(&member_role.len())
        && member_role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !role_ok {
        return Err(InputError::invalid(
            "organization.member_role",
            format!("{member_role:?} is not an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)"),
        ));
    }
    if member_role != defaults.member_role {
        // The stack may assume only its MemberRoleName: another name would make every
        // account UNREACHABLE with an AccessDenied that looks like a member's problem.
        return Err(InputError::invalid(
            "organization.member_role",
            format!(
                "{member_role:?}: this stack may assume only its MemberRoleName {:?}; deploy it with MemberRoleName={member_role} to use that role",
                defaults.member_role
            ),
        ));
    }
    let max_accounts_in_parallel = check_range(
        "organization.max_accounts_in_parallel",
        o.max_accounts_in_parallel
            .unwrap_or(defaults.max_accounts_in_parallel),
        1,
        1000,
    )?;
    let selection = if o.all {
        AccountSelection::All
    } else if !o.units.is_empty() {
        AccountSelection::Units(o.units)
    } else {
        AccountSelection::Accounts(o.accounts)
    };
    Ok(Organization {
        selection,
        exclude: o.exclude,
        member_role,
        max_accounts_in_parallel,
        access_report: o.access_report,
    })
}

fn check_discovery(d: Discovery) -> Result<Discovery, InputError> {
    if d.types.is_empty() {
        return Err(InputError::invalid(
            "discover.types",
            "must name at least one of user, role, group, policy",
        ));
    }
    let unique: BTreeSet<_> = d.types.iter().collect();
    if unique.len() != d.types.len() {
        return Err(InputError::invalid("discover.types", "lists a type twice"));
    }
    let p = &d.path_prefix;
    if !p.starts_with('/') || p.len() > 512 || !p.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(InputError::invalid(
            "discover.path_prefix",
            format!("{p:?} must start with / and hold printable ASCII"),
        ));
    }
    if let Some(pattern) = &d.name_pattern {
        if pattern.is_empty() || pattern.len() > 128 {
            return Err(InputError::invalid(
                "discover.name_pattern",
                "must hold 1 to 128 characters",
            ));
        }
    }
    if d.tags.len() > 50 {
        return Err(InputError::invalid("discover.tags", "at most 50 tags"));
    }
    for key in d.tags.keys() {
        if key.is_empty() || key.len() > 128 {
            return Err(InputError::invalid(
                "discover.tags",
                format!("tag key {key:?} must hold 1 to 128 characters"),
            ));
        }
    }
    Ok(d)
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
