//! The run input: what a person, the CLI or the schedule asks for. Parsed strictly
//! (unknown fields rejected), checked field by field, and every error names its field.

use crate::arn::{PrincipalArn, PrincipalType};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Step Functions caps an execution input at 256 KiB; 5,000 ARNs fit, more would not.
/// Larger scans use discovery.
pub const MAX_ARNS: usize = 5_000;
pub const MAX_BATCH_SIZE: u32 = 500;

/// IAM's two report granularities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Granularity {
    #[default]
    #[serde(rename = "SERVICE_LEVEL")]
    ServiceLevel,
    #[serde(rename = "ACTION_LEVEL")]
    ActionLevel,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::ServiceLevel => "SERVICE_LEVEL",
            Granularity::ActionLevel => "ACTION_LEVEL",
        }
    }
}

/// The entity types discovery can list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    User,
    Role,
    Group,
    Policy,
}

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
}

/// Discover principals in the account instead of (or besides) naming them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discovery {
    #[serde(default = "Discovery::all_types")]
    pub types: Vec<EntityType>,
    /// Only principals whose IAM path starts with this (e.g. `/service/`).
    #[serde(default = "Discovery::root_path")]
    pub path_prefix: String,
    /// Glob over the name: `*` any run of characters, `?` one character.
    pub name_pattern: Option<String>,
    /// Users and roles must carry every one of these tags (key → value).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default = "yes")]
    pub skip_service_linked_roles: bool,
    /// Also report the AWS-managed policies attached in the account.
    #[serde(default)]
    pub aws_managed_policies: bool,
}

fn yes() -> bool {
    true
}

impl Discovery {
    fn all_types() -> Vec<EntityType> {
        vec![
            EntityType::User,
            EntityType::Role,
            EntityType::Group,
            EntityType::Policy,
        ]
    }
    fn root_path() -> String {
        "/".into()
    }
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            types: Discovery::all_types(),
            path_prefix: Discovery::root_path(),
            name_pattern: None,
            tags: BTreeMap::new(),
            skip_service_linked_roles: true,
            aws_managed_policies: false,
        }
    }
}

/// How Check polls IAM's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollOptions {
    pub initial_wait_seconds: u32,
    pub max_wait_seconds: u32,
    pub max_attempts: u32,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            initial_wait_seconds: 5,
            max_wait_seconds: 60,
            max_attempts: 60,
        }
    }
}

/// What each report contains beyond IAM's service list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportOptions {
    /// A service unused for this many days is a finding.
    pub unused_days: u32,
    /// Groups and policies: list the users and roles behind each used service.
    pub entities: bool,
    /// At most this many services per principal get an entity listing.
    pub max_entity_services: u32,
    /// Users, roles, groups: name the policies granting each unused service.
    pub granting_policies: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            unused_days: 90,
            entities: false,
            max_entity_services: 50,
            granting_policies: false,
        }
    }
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
}

/// Defaults that come from the deployment rather than the input.
#[derive(Debug, Clone)]
pub struct InputDefaults {
    pub batch_size: u32,
    pub max_concurrency: u32,
    /// The partition and account the scan reads; ARNs elsewhere are refused.
    pub partition: String,
    pub account: Option<String>,
}

fn check_range(field: &str, value: u32, low: u32, high: u32) -> Result<u32, Error> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(Error::invalid(
            field,
            format!("{value} is out of range {low}..={high}"),
        ))
    }
}

impl RunInput {
    /// Parses and checks a run input. An empty object (or `null`) scans every
    /// principal type with the defaults.
    pub fn parse(input: &serde_json::Value, defaults: &InputDefaults) -> Result<RunInput, Error> {
        let raw: RawRunInput = match input {
            serde_json::Value::Null => RawRunInput::default(),
            serde_json::Value::Object(_) => {
                serde_path_to_error::deserialize(input).map_err(|e| {
                    let path = e.path().to_string();
                    let field = if path == "." {
                        "input".to_string()
                    } else {
                        path
                    };
                    Error::invalid(&field, e.into_inner())
                })?
            }
            other => {
                return Err(Error::invalid(
                    "input",
                    format!("expected a JSON object, got {}", json_kind(other)),
                ))
            }
        };
        Self::check(raw, defaults)
    }

    fn check(raw: RawRunInput, defaults: &InputDefaults) -> Result<RunInput, Error> {
        if raw.arns.len() > MAX_ARNS {
            return Err(Error::invalid(
                "arns",
                format!("{} ARNs; at most {MAX_ARNS} per run", raw.arns.len()),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut arns = Vec::with_capacity(raw.arns.len());
        for (i, text) in raw.arns.iter().enumerate() {
            let field = format!("arns[{i}]");
            let arn = PrincipalArn::parse(text).map_err(|why| Error::invalid(&field, why))?;
            if arn.partition() != defaults.partition {
                return Err(Error::invalid(
                    &field,
                    format!(
                        "{text:?} is in partition {:?}; this scan reads {:?}",
                        arn.partition(),
                        defaults.partition
                    ),
                ));
            }
            if let Some(account) = &defaults.account {
                if arn.kind() != PrincipalType::AwsManagedPolicy && arn.account() != account {
                    return Err(Error::invalid(
                        &field,
                        format!(
                            "{text:?} is in account {}; this scan reads account {account}",
                            arn.account()
                        ),
                    ));
                }
            }
            if !seen.insert(arn.identity()) {
                return Err(Error::invalid(
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
                return Err(Error::invalid(
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
            return Err(Error::invalid(
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
        Ok(RunInput {
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

fn check_discovery(d: Discovery) -> Result<Discovery, Error> {
    if d.types.is_empty() {
        return Err(Error::invalid(
            "discover.types",
            "must name at least one of user, role, group, policy",
        ));
    }
    let unique: BTreeSet<_> = d.types.iter().collect();
    if unique.len() != d.types.len() {
        return Err(Error::invalid("discover.types", "lists a type twice"));
    }
    let p = &d.path_prefix;
    if !p.starts_with('/') || p.len() > 512 || !p.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid(
            "discover.path_prefix",
            format!("{p:?} must start with / and hold printable ASCII"),
        ));
    }
    if let Some(pattern) = &d.name_pattern {
        if pattern.is_empty() || pattern.len() > 128 {
            return Err(Error::invalid(
                "discover.name_pattern",
                "must hold 1 to 128 characters",
            ));
        }
    }
    if d.tags.len() > 50 {
        return Err(Error::invalid("discover.tags", "at most 50 tags"));
    }
    for key in d.tags.keys() {
        if key.is_empty() || key.len() > 128 {
            return Err(Error::invalid(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> InputDefaults {
        InputDefaults {
            batch_size: 50,
            max_concurrency: 4,
            partition: "aws".into(),
            account: Some("123456789012".into()),
        }
    }

    fn invalid(input: serde_json::Value) -> String {
        match RunInput::parse(&input, &defaults()) {
            Err(Error::InvalidInput(message)) => message,
            other => panic!("expected InvalidInput for {input}, got {other:?}"),
        }
    }

    #[test]
    fn empty_input_discovers_everything_with_defaults() {
        for input in [json!({}), serde_json::Value::Null] {
            let run = RunInput::parse(&input, &defaults()).unwrap();
            assert_eq!(run.discover, Some(Discovery::default()));
            assert!(run.arns.is_empty());
            assert_eq!((run.batch_size, run.max_concurrency), (50, 4));
            assert_eq!(run.granularity, Granularity::ServiceLevel);
            assert_eq!(run.report.unused_days, 90);
        }
    }

    #[test]
    fn explicit_arns_alone_do_not_discover() {
        let run = RunInput::parse(
            &json!({"arns": ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                    "granularity": "ACTION_LEVEL", "batch_size": 10,
                    "poll": {"initial_wait_seconds": 0, "max_wait_seconds": 1, "max_attempts": 3},
                    "report": {"entities": true, "granting_policies": true, "unused_days": 30}}),
            &defaults(),
        )
        .unwrap();
        assert_eq!(run.discover, None);
        assert_eq!(run.arns.len(), 2);
        assert_eq!(run.granularity, Granularity::ActionLevel);
        assert!(run.report.entities && run.report.granting_policies);
        assert_eq!(run.poll.max_attempts, 3);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (json!([1]), "input: expected a JSON object, got an array"),
            (json!("x"), "input: expected a JSON object"),
            (json!({"arnz": []}), "arnz: unknown field `arnz`"),
            (
                json!({"arns": "arn:aws:iam::123456789012:role/a"}),
                "arns: invalid type",
            ),
            (json!({"arns": ["nope"]}), "arns[0]: \"nope\" is not an ARN"),
            (
                json!({"arns": ["arn:aws-cn:iam::123456789012:role/a"]}),
                "arns[0]: \"arn:aws-cn",
            ),
            (
                json!({"arns": ["arn:aws:iam::999999999999:role/a"]}),
                "arns[0]: \"arn:aws:iam::999999999999:role/a\" is in account 999999999999",
            ),
            (
                json!({"arns": ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/A"]}),
                "arns[1]: \"arn:aws:iam::123456789012:role/A\" is listed twice",
            ),
            (
                json!({"granularity": "FINE"}),
                "granularity: unknown variant `FINE`",
            ),
            (
                json!({"batch_size": 0}),
                "batch_size: 0 is out of range 1..=500",
            ),
            (json!({"batch_size": -1}), "batch_size: invalid value"),
            (json!({"batch_size": 1.5}), "batch_size: invalid type"),
            (
                json!({"iam_requests_per_second": 0}),
                "iam_requests_per_second: 0 is out of range",
            ),
            (
                json!({"max_concurrency": 5000}),
                "max_concurrency: 5000 is out of range",
            ),
            (
                json!({"poll": {"max_attempts": 0}}),
                "poll.max_attempts: 0 is out of range",
            ),
            (
                json!({"poll": {"wait": 1}}),
                "poll.wait: unknown field `wait`",
            ),
            (
                json!({"poll": {"initial_wait_seconds": 10, "max_wait_seconds": 5}}),
                "poll.max_wait_seconds",
            ),
            (
                json!({"report": {"unused_days": 0}}),
                "report.unused_days: 0 is out of range",
            ),
            (
                json!({"discover": {"types": []}}),
                "discover.types: must name",
            ),
            (
                json!({"discover": {"types": ["bucket"]}}),
                "discover.types[0]: unknown variant `bucket`",
            ),
            (
                json!({"discover": {"path_prefix": "service/"}}),
                "discover.path_prefix",
            ),
        ];
        for (input, expected) in cases {
            let message = invalid(input.clone());
            assert!(
                message.contains(expected),
                "{input}: {message:?} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn too_many_arns_is_refused() {
        let arns: Vec<String> = (0..=MAX_ARNS)
            .map(|i| format!("arn:aws:iam::123456789012:role/r{i}"))
            .collect();
        assert!(invalid(json!({ "arns": arns })).starts_with("arns: 5001 ARNs"));
    }
}
