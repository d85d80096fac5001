//! The options of a run: what to scan, how to poll, what each report holds, and
//! their defaults (what an empty run input means).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

/// Principals never given recommendations (`report.exclude`): ARN globs, or every one
/// of these tags.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exclude {
    pub arns: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Exclude {
    pub fn is_empty(&self) -> bool {
        self.arns.is_empty() && self.tags.is_empty()
    }
}

/// What each report contains beyond IAM's service list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Least-privilege recommendations in every report (documents read in bulk by Plan).
    pub recommendations: bool,
    /// No recommendation for a principal younger than this; `None`: `unused_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_age_days: Option<u32>,
    #[serde(skip_serializing_if = "Exclude::is_empty")]
    pub exclude: Exclude,
    /// One ASFF finding per principal with something unused, imported into Security Hub
    /// (and archived once it has none). `None` in the input: the stack's
    /// `SecurityHubFindings`; Plan records what the run does (`Some(true)` when on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_hub: Option<bool>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            unused_days: 90,
            entities: false,
            max_entity_services: 50,
            granting_policies: false,
            recommendations: false,
            min_age_days: None,
            exclude: Exclude::default(),
            security_hub: None,
        }
    }
}

/// `organization` in the run input, as given: which accounts of the Organization to scan.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationOptions {
    /// These accounts (12-digit ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Every ACTIVE account of the Organization.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    /// The accounts under these OUs (or roots), recursively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// Accounts taken out of the scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// The role assumed in each account; default: the stack's `MemberRoleName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_role: Option<String>,
    /// Accounts scanned side by side; default: the stack's `MaxAccountsInParallel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accounts_in_parallel: Option<u32>,
    /// IAM's Organizations access report (the SCP view), from the management account.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub access_report: bool,
    /// The access report's deadline, from its first round; what is unfinished then is
    /// TIMED_OUT. Default 3600; 60–86,400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_report_timeout_seconds: Option<u32>,
}

/// Which accounts a validated `organization` selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSelection {
    Accounts(Vec<String>),
    All,
    Units(Vec<String>),
}

/// A validated `organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub selection: AccountSelection,
    pub exclude: Vec<String>,
    pub member_role: String,
    pub max_accounts_in_parallel: u32,
    pub access_report: bool,
    #[serde(default = "default_access_report_timeout")]
    pub access_report_timeout_seconds: u32,
}

fn default_access_report_timeout() -> u32 {
    crate::domain::access_report::DEFAULT_TIMEOUT_SECONDS
}
