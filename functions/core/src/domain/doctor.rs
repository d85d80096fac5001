//! `ila doctor`'s checklist: one line per check, passed (✓), failed (✗, with what to
//! do) or information (ℹ, never a fault). A doctor run's Plan makes the checks that
//! need the stack's own roles and records them (`work/run=…/doctor.json`, the
//! [`DoctorFindings`]); the CLI adds the ones it sees itself (the stack's outputs, the
//! preflight's verdict, the caller's read rights) and prints them all.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Pass,
    Fail,
    /// Worth knowing, not a fault: never makes the doctor fail.
    Info,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Pass => "✓",
            Mark::Fail => "✗",
            Mark::Info => "ℹ",
        }
    }
}

/// What is checked, in the order the checklist prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    StackOutputs,
    Reader,
    JobIdRule,
    Organizations,
    MemberRoles,
    AccessReport,
    BucketEncryption,
    CallerReads,
    Schedule,
}

impl CheckId {
    /// The check's name on its line.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::StackOutputs => "stack outputs",
            CheckId::Reader => "reader role",
            CheckId::JobIdRule => "JobId rule",
            CheckId::Organizations => "Organizations",
            CheckId::MemberRoles => "member role",
            CheckId::AccessReport => "access report",
            CheckId::BucketEncryption => "bucket encryption",
            CheckId::CallerReads => "your read rights",
            CheckId::Schedule => "schedule",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub check: CheckId,
    pub mark: Mark,
    /// What was found, in one sentence.
    pub summary: String,
    /// Lines under it (e.g. each account the member role can't be assumed in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// What to do (failed checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(check: CheckId, summary: impl Into<String>) -> Check {
        Check {
            check,
            mark: Mark::Pass,
            summary: summary.into(),
            details: Vec::new(),
            fix: None,
        }
    }

    pub fn info(check: CheckId, summary: impl Into<String>) -> Check {
        Check {
            mark: Mark::Info,
            ..Check::pass(check, summary)
        }
    }

    pub fn fail(check: CheckId, summary: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            mark: Mark::Fail,
            fix: Some(fix.into()),
            ..Check::pass(check, summary)
        }
    }

    pub fn with_details(self, details: Vec<String>) -> Check {
        Check { details, ..self }
    }
}

/// One account a scan would select, as the doctor found its member role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCheck {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Organizations' path of roots and OUs above it (`r-…/ou-…`).
    #[serde(default)]
    pub ou_path: String,
    /// A scan would read it (its member role assumed, or the stack's own account).
    pub reachable: bool,
    /// Why not, as STS or Organizations said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Not ACTIVE in the Organization: no role would help.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inactive: bool,
}

/// What a doctor run's Plan found (`work/run=RUN/doctor.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorFindings {
    pub run_id: String,
    pub checks: Vec<Check>,
    /// The accounts a scan would select (an Organization doctor run; else empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountCheck>,
}

/// Nothing failed: the doctor exits 0.
pub fn healthy(checks: &[Check]) -> bool {
    !checks.iter().any(|c| c.mark == Mark::Fail)
}

/// Where the member role is deployed from, for the commands the doctor prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRoleSetup<'a> {
    /// The member role's name (the stack's `MemberRoleName`), also the StackSet's name
    /// the README's commands create.
    pub role_name: &'a str,
    /// The Region the StackSet deploys to (IAM is global: any one).
    pub region: &'a str,
    /// The Organization's management account: StackSets never deploy there.
    pub management: Option<&'a str>,
}

/// The member-role line: assumable in every account a scan would select (✓), or the
/// accounts where it is not, each with why, and the commands that fix them (✗).
pub fn member_roles(accounts: &[AccountCheck], setup: &MemberRoleSetup<'_>) -> Check {
    let role = setup.role_name;
    let unreachable: Vec<&AccountCheck> = accounts.iter().filter(|a| !a.reachable).collect();
    if unreachable.is_empty() {
        return Check::pass(
            CheckId::MemberRoles,
            format!("{role} assumable in all {} selected accounts (the stack's own is read through its reader role)", accounts.len()),
        );
    }
    let details = unreachable
        .iter()
        .map(|a| {
            let name = if a.name.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.name)
            };
            format!(
                "{}{name}: {}",
                a.id,
                a.why.as_deref().unwrap_or("unreachable")
            )
        })
        .collect();
    Check::fail(
        CheckId::MemberRoles,
        format!(
            "{role} not assumable in {} of {} selected accounts: a scan would record them UNREACHABLE and end IncompleteRun",
            unreachable.len(),
            accounts.len()
        ),
        member_role_fix(&unreachable, setup),
    )
    .with_details(details)
}

/// The commands deploying the member role where it is missing: StackSet instances per
/// parent OU (narrowed to those accounts), a plain stack in the management account,
/// and `organization.exclude` for accounts that are not ACTIVE.
fn member_role_fix(unreachable: &[&AccountCheck], setup: &MemberRoleSetup<'_>) -> String {
    let mut by_parent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut inactive = Vec::new();
    for a in unreachable {
        if a.inactive {
            inactive.push(a.id.as_str());
        } else if setup.management == Some(a.id.as_str()) {
            lines.push(format!(
                "StackSets never deploy to the management account {}: deploy infra/member-role.yaml there as a stack (aws cloudformation deploy --template-file infra/member-role.yaml --stack-name {} --capabilities CAPABILITY_NAMED_IAM --parameter-overrides ScannerAccountId=SCANNER_ACCOUNT)",
                a.id, setup.role_name
            ));
        } else {
            let parent = a.ou_path.rsplit('/').next().unwrap_or_default();
            by_parent.entry(parent).or_default().push(a.id.as_str());
        }
    }
    let mut commands: Vec<String> = by_parent
        .into_iter()
        .map(|(parent, ids)| {
            format!(
                "aws cloudformation create-stack-instances --stack-set-name {} --deployment-targets OrganizationalUnitIds={parent},Accounts={},AccountFilterType=INTERSECTION --regions {}",
                setup.role_name,
                ids.join(","),
                setup.region
            )
        })
        .collect();
    if !commands.is_empty() {
        commands.insert(0, "deploy the member role with its StackSet (README, \"The member role\"; add --call-as DELEGATED_ADMIN from a delegated administrator):".to_string());
    }
    commands.extend(lines);
    if !inactive.is_empty() {
        commands.push(format!(
            "not ACTIVE, so no role helps: leave {} out of the scan (organization.exclude)",
            inactive.join(", ")
        ));
    }
    commands.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, ou: &str, reachable: bool) -> AccountCheck {
        AccountCheck {
            id: id.into(),
            name: format!("n{id}"),
            ou_path: ou.into(),
            reachable,
            why: (!reachable).then(|| "cannot assume it: AccessDenied: not authorized".into()),
            inactive: false,
        }
    }

    const SETUP: MemberRoleSetup<'static> = MemberRoleSetup {
        role_name: "iam-last-accessed-member",
        region: "eu-west-1",
        management: Some("111111111111"),
    };

    #[test]
    fn every_account_reachable_passes() {
        let c = member_roles(&[account("222222222222", "r-1", true)], &SETUP);
        assert_eq!(c.mark, Mark::Pass);
        assert!(
            c.summary.contains("all 1 selected accounts"),
            "{}",
            c.summary
        );
        assert!(healthy(&[c]));
    }

    #[test]
    fn unreachable_accounts_are_named_with_the_stackset_command_per_parent_ou() {
        let accounts = [
            account("222222222222", "r-1/ou-a", false),
            account("333333333333", "r-1/ou-a", false),
            account("444444444444", "r-1", false),
            account("555555555555", "r-1", true),
            account("111111111111", "r-1", false),
            AccountCheck {
                inactive: true,
                ..account("666666666666", "r-1", false)
            },
        ];
        let c = member_roles(&accounts, &SETUP);
        assert_eq!(c.mark, Mark::Fail);
        assert!(c.summary.contains("5 of 6"), "{}", c.summary);
        assert_eq!(c.details.len(), 5);
        assert!(c.details[0].starts_with("222222222222 (n222222222222): cannot assume"));
        let fix = c.fix.unwrap();
        assert!(fix.contains("--deployment-targets OrganizationalUnitIds=ou-a,Accounts=222222222222,333333333333,AccountFilterType=INTERSECTION --regions eu-west-1"), "{fix}");
        assert!(
            fix.contains("OrganizationalUnitIds=r-1,Accounts=444444444444,"),
            "{fix}"
        );
        assert!(fix.contains("management account 111111111111"), "{fix}");
        assert!(fix.contains("leave 666666666666 out"), "{fix}");
        assert!(!healthy(&[
            Check::pass(CheckId::Reader, "ok"),
            Check {
                fix: Some(fix),
                ..c
            }
        ]));
    }

    #[test]
    fn information_is_never_a_fault() {
        let checks = [
            Check::pass(CheckId::Reader, "ok"),
            Check::info(CheckId::Schedule, "ENABLED"),
        ];
        assert!(healthy(&checks));
        assert_eq!(Mark::Info.symbol(), "ℹ");
    }

    #[test]
    fn findings_read_back_as_written() {
        let findings = DoctorFindings {
            run_id: "doctor-1".into(),
            checks: vec![Check::fail(CheckId::BucketEncryption, "none", "enable it")],
            accounts: vec![account("222222222222", "r-1", false)],
        };
        let text = serde_json::to_string(&findings).unwrap();
        assert!(
            text.contains(r#""check":"bucket_encryption","mark":"fail""#),
            "{text}"
        );
        let back: DoctorFindings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, findings);
    }
}
