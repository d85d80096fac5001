//! Roles an Organization cannot lose, however idle: never DELETE_PRINCIPAL. They sit
//! unused for months by nature (an account's way in for its management account, Control
//! Tower's and StackSets' execution roles, the scanner's own roles), and deleting one
//! locks the Organization out of the account. Their policy recommendations stand,
//! marked.

use crate::domain::selection::glob_match;

/// Role names (globs, compared ignoring case as IAM compares names) never to delete:
/// Organizations' role in an account it created, Control Tower's, and the StackSets
/// execution roles (self-managed and service-managed).
pub const VITAL_ROLE_NAMES: &[&str] = &[
    "OrganizationAccountAccessRole",
    "AWSControlTowerExecution",
    "AWSCloudFormationStackSetExecutionRole",
    "stacksets-exec-*",
];

/// Service principals whose trust makes a role a StackSets execution role.
pub const STACKSETS_SERVICES: &[&str] = &[
    "cloudformation.amazonaws.com",
    "member.org.stacksets.cloudformation.amazonaws.com",
];

/// Why the role `name` is vital, or `None`. `trusted_services` are the service principals
/// its trust policy allows; `own_roles` the scanner's own role names (its reader and its
/// member role).
pub fn vital_role(name: &str, trusted_services: &[String], own_roles: &[String]) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if let Some(pattern) = VITAL_ROLE_NAMES
        .iter()
        .find(|p| glob_match(&p.to_ascii_lowercase(), &lower))
    {
        return Some(format!("a vital role ({pattern})"));
    }
    if own_roles.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Some("a vital role (this scanner's own)".into());
    }
    trusted_services
        .iter()
        .find(|s| STACKSETS_SERVICES.contains(&s.as_str()))
        .map(|s| format!("a vital role (trusted by {s}: StackSets)"))
}

/// The service principals a trust policy (JSON) allows: `Principal.Service` of its Allow
/// statements. A document that can't be read names none.
pub fn trusted_services(trust_policy: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(trust_policy) else {
        return Vec::new();
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut out: Vec<String> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| match &s["Principal"]["Service"] {
            serde_json::Value::String(one) => vec![one.clone()],
            serde_json::Value::Array(many) => many
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organizations_roles_and_the_scanners_own_are_vital() {
        let none: &[String] = &[];
        for name in [
            "OrganizationAccountAccessRole",
            "organizationaccountaccessrole",
            "AWSControlTowerExecution",
            "AWSCloudFormationStackSetExecutionRole",
            "stacksets-exec-0123456789abcdef",
        ] {
            assert!(vital_role(name, none, none).is_some(), "{name}");
        }
        assert_eq!(vital_role("legacy-admin", none, none), None);
        let own = ["iam-last-accessed-member".to_string()];
        assert_eq!(
            vital_role("iam-last-accessed-member", none, &own).as_deref(),
            Some("a vital role (this scanner's own)")
        );
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","member.org.stacksets.cloudformation.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
        let services = trusted_services(trust);
        assert_eq!(
            services,
            [
                "lambda.amazonaws.com",
                "member.org.stacksets.cloudformation.amazonaws.com"
            ]
        );
        assert!(vital_role("my-deployer", &services, none)
            .unwrap()
            .contains("StackSets"));
        let lambda = trusted_services(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}}"#,
        );
        assert_eq!(vital_role("worker", &lambda, none), None);
        assert!(trusted_services("not json").is_empty());
        let denied = r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"cloudformation.amazonaws.com"}}]}"#;
        assert!(
            trusted_services(denied).is_empty(),
            "only Allow statements trust"
        );
    }
}
