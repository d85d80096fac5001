//! Security Hub findings (`report.security_hub`, stack parameter `SecurityHubFindings`):
//! one ASFF finding per principal with stale or never-used services or unused
//! credentials, its `Id` stable so each run updates it, ARCHIVED once a later run finds
//! nothing unused. Pure: an outcome in, the finding's JSON (ASFF 2018-10-08) out; the
//! adapter (`adapters/security_hub.rs`) sends them in batches.
//!
//! Where a finding lives: BatchImportFindings with the default product ARN must be called
//! by the account the finding names in `AwsAccountId` (Security Hub's API reference,
//! BatchImportFindings). So every finding, of any scanned account, is imported into the
//! scanner's own account (`AwsAccountId`: the scanner's), the principal's account named
//! by its resource ARN and `ProductFields`; deploy the scanner in the Security Hub
//! delegated administrator account to see them beside the members' own.

use crate::domain::arn::{PrincipalArn, PrincipalType};
use crate::domain::job::JobStatus;
use crate::domain::outcome::PrincipalOutcome;
use crate::domain::sfn::cut_to;
use crate::domain::usage::Usage;
use std::collections::BTreeMap;

mod asff;
pub use asff::{
    Finding, ProviderFields, RecordState, Resource, SecurityHubOutcome, Severity, SeverityLabel,
};

pub const SCHEMA_VERSION: &str = "2018-10-08";
pub const GENERATOR_ID: &str = "iam-last-accessed/unused-access";
/// The finding type, in ASFF's `namespace/category/classifier` taxonomy.
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/Unused access";
/// BatchImportFindings takes at most 100 findings, 240 KB each and 6 MB a call (Security
/// Hub partner guide, "Guidelines for using the BatchImportFindings API").
pub const MAX_FINDINGS_PER_CALL: usize = 100;
pub const MAX_FINDING_BYTES: usize = 240 * 1024;
pub const MAX_BYTES_PER_CALL: usize = 6 * 1024 * 1024;
/// ASFF's `Id`, `Title` and `Description` length limits.
const MAX_ID: usize = 512;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
/// ASFF: a `ProductFields` value is at most 2,048 characters.
const MAX_FIELD: usize = 2048;
/// Services whose unused grant lets a principal change who may do what: an unused grant
/// of one of them is HIGH.
pub const ADMIN_SERVICES: [&str; 5] = ["iam", "organizations", "account", "sts", "kms"];
/// A principal granted at least this many services holds an admin-like grant (`*`, or
/// near it: AdministratorAccess grants ~370): HIGH when it has anything unused.
pub const ADMIN_LIKE_GRANTED: u32 = 100;
/// This many unused services, or any unused credential, is MEDIUM.
pub const MEDIUM_UNUSED: u32 = 10;

/// What every finding of a run shares.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingContext {
    pub partition: String,
    pub region: String,
    /// The scanner's account: where the findings are imported, and their `AwsAccountId`.
    pub account: String,
    pub run_id: String,
    /// The run's `as_of`: the findings' `CreatedAt` (when the run judged them).
    pub as_of: String,
    /// When the findings are sent: their `UpdatedAt`.
    pub updated_at: String,
    pub unused_days: u32,
}

impl FindingContext {
    /// The account's default product: a finding provider's own integration.
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            self.partition, self.region, self.account, self.account
        )
    }
}

/// A principal's finding `Id`: the same in every run (`iam-last-accessed/unused-access/`
/// and its ARN; an ARN too long for ASFF's 512 characters is cut and its FNV-1a hash
/// added, still one `Id` per ARN).
pub fn finding_id(arn: &str) -> String {
    let id = format!("{GENERATOR_ID}/{arn}");
    if id.len() <= MAX_ID {
        return id;
    }
    let hash = arn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut cut = MAX_ID - 17;
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{hash:016x}", &id[..cut])
}

/// A finding is kept ACTIVE for a principal whose job completed with something unused.
pub fn has_unused(o: &PrincipalOutcome) -> bool {
    o.status == JobStatus::Completed && (o.services_unused() > 0 || unused_credentials(o) > 0)
}

/// Unused credentials (a role, a password, access keys), as the report's recommendations
/// count them: judged only with `report.recommendations`.
pub fn unused_credentials(o: &PrincipalOutcome) -> u32 {
    o.recommended.as_ref().map_or(0, |r| r.unused_credentials)
}

/// The principal has nothing unused any more (its job completed clean), or is gone
/// (NOT_FOUND): a finding it had is archived. Other statuses say nothing new.
pub fn is_clean(o: &PrincipalOutcome) -> bool {
    match o.status {
        JobStatus::Completed => !has_unused(o),
        JobStatus::NotFound => true,
        _ => false,
    }
}

/// How severe a principal's unused access is, and why.
pub fn severity(o: &PrincipalOutcome, unused: &[&str]) -> Severity {
    let admin: Vec<&str> = unused
        .iter()
        .copied()
        .filter(|ns| ADMIN_SERVICES.contains(ns))
        .collect();
    let (label, original) = if !admin.is_empty() {
        let why = format!("unused admin services: {}", admin.join(", "));
        (SeverityLabel::High, why)
    } else if o.services_granted >= ADMIN_LIKE_GRANTED && !unused.is_empty() {
        let why = format!("admin-like grant: {} services granted", o.services_granted);
        (SeverityLabel::High, why)
    } else if unused_credentials(o) > 0 {
        (SeverityLabel::Medium, "unused credentials".to_string())
    } else if o.services_unused() >= MEDIUM_UNUSED {
        (SeverityLabel::Medium, unused_services(o.services_unused()))
    } else {
        (SeverityLabel::Low, unused_services(o.services_unused()))
    };
    Severity { label, original }
}

/// `1 unused service`, `3 unused services`.
fn unused_services(n: u32) -> String {
    if n == 1 {
        "1 unused service".to_string()
    } else {
        format!("{n} unused services")
    }
}

fn resource_type(t: PrincipalType) -> &'static str {
    match t {
        PrincipalType::User => "AwsIamUser",
        PrincipalType::Role => "AwsIamRole",
        PrincipalType::Group => "AwsIamGroup",
        PrincipalType::Policy | PrincipalType::AwsManagedPolicy => "AwsIamPolicy",
    }
}

/// `ns (N days)` or `ns (never used)`, for the text.
fn service_days(ns: &str, class: Usage, days: Option<i64>) -> String {
    match (class, days) {
        (Usage::Stale, Some(d)) => format!("{ns} ({d} days)"),
        _ => format!("{ns} (never used)"),
    }
}

/// The principal's account: its outcome's, else its ARN's.
fn account_of(arn: &str, account: &str) -> String {
    if account.is_empty() {
        PrincipalArn::parse(arn)
            .map(|a| a.account().to_string())
            .unwrap_or_default()
    } else {
        account.to_string()
    }
}

/// `text` within `max` bytes, an ellipsis marking a cut (ASFF counts the whole).
fn fit(text: String, max: usize) -> String {
    cut_to(text, max - '…'.len_utf8())
}

fn field(name: &str) -> String {
    format!("iam-last-accessed/{name}")
}

/// The ACTIVE finding of a principal with something unused; `None` when it has nothing
/// unused (see [`archived`]).
pub fn active(o: &PrincipalOutcome, ctx: &FindingContext) -> Option<Finding> {
    if !has_unused(o) {
        return None;
    }
    let unused: Vec<&crate::domain::outcome::ServiceCell> = o
        .services
        .iter()
        .filter(|s| s.class != Usage::Active)
        .collect();
    let names: Vec<&str> = unused.iter().map(|s| s.ns.as_str()).collect();
    let described: Vec<String> = unused
        .iter()
        .map(|s| service_days(&s.ns, s.class, s.days))
        .collect();
    let severity = severity(o, &names);
    let mut f = base(&o.arn, o.principal_type, &o.account, ctx, severity);
    f.title = fit(
        format!(
            "{} {} has {}{}",
            o.principal_type.as_str(),
            name_of(&o.arn),
            unused_services(o.services_unused()),
            credentials_part(unused_credentials(o)),
        ),
        MAX_TITLE,
    );
    f.description = fit(
        format!(
            "Granted {} services; not used for {} days or more as of {}: {}.{} Report: {}",
            o.services_granted,
            ctx.unused_days,
            ctx.as_of,
            if described.is_empty() {
                "none".to_string()
            } else {
                described.join(", ")
            },
            credentials_part(unused_credentials(o)),
            o.report_key,
        ),
        MAX_DESCRIPTION,
    );
    let pf = &mut f.product_fields;
    pf.insert(field("ServicesGranted"), o.services_granted.to_string());
    pf.insert(field("ServicesStale"), o.services_stale.to_string());
    pf.insert(
        field("ServicesNeverUsed"),
        o.services_never_used.to_string(),
    );
    pf.insert(field("UnusedServices"), fit(names.join(","), MAX_FIELD));
    pf.insert(
        field("UnusedServiceDays"),
        fit(described.join(","), MAX_FIELD),
    );
    pf.insert(
        field("UnusedCredentials"),
        unused_credentials(o).to_string(),
    );
    pf.insert(field("ReportKey"), fit(o.report_key.clone(), MAX_FIELD));
    Some(f)
}

/// The same `Id`, ARCHIVED: the principal has nothing unused any more, or is gone.
pub fn archived(
    arn: &str,
    principal_type: PrincipalType,
    account: &str,
    ctx: &FindingContext,
) -> Finding {
    let severity = Severity {
        label: SeverityLabel::Informational,
        original: "nothing unused".into(),
    };
    let mut f = base(arn, principal_type, account, ctx, severity);
    f.record_state = RecordState::Archived;
    f.title = fit(
        format!(
            "{} {} has no unused access",
            principal_type.as_str(),
            name_of(arn)
        ),
        MAX_TITLE,
    );
    f.description = fit(
        format!(
            "As of {} the principal has nothing unused for {} days, or no longer exists: the finding is archived.",
            ctx.as_of, ctx.unused_days
        ),
        MAX_DESCRIPTION,
    );
    f
}

fn credentials_part(creds: u32) -> String {
    match creds {
        0 => String::new(),
        1 => " and 1 unused credential".to_string(),
        n => format!(" and {n} unused credentials"),
    }
}

fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn base(
    arn: &str,
    principal_type: PrincipalType,
    account: &str,
    ctx: &FindingContext,
    severity: Severity,
) -> Finding {
    let types = vec![FINDING_TYPE.to_string()];
    let mut product_fields = BTreeMap::new();
    product_fields.insert(field("Account"), account_of(arn, account));
    product_fields.insert(field("PrincipalType"), principal_type.as_str().into());
    product_fields.insert(field("RunId"), ctx.run_id.clone());
    product_fields.insert(field("UnusedDays"), ctx.unused_days.to_string());
    Finding {
        schema_version: SCHEMA_VERSION.into(),
        id: finding_id(arn),
        product_arn: ctx.product_arn(),
        generator_id: GENERATOR_ID.into(),
        aws_account_id: ctx.account.clone(),
        types: types.clone(),
        created_at: ctx.as_of.clone(),
        updated_at: ctx.updated_at.clone(),
        title: String::new(),
        description: String::new(),
        resources: vec![Resource {
            kind: resource_type(principal_type).into(),
            id: arn.to_string(),
            partition: ctx.partition.clone(),
            region: ctx.region.clone(),
        }],
        product_fields,
        record_state: RecordState::Active,
        finding_provider_fields: ProviderFields { severity, types },
    }
}

#[cfg(test)]
mod tests;
