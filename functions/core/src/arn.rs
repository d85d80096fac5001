//! IAM principal ARNs: parsed and checked once, at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of IAM principal an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    User,
    Role,
    Group,
    /// A customer-managed policy.
    Policy,
    /// An AWS-managed policy (`arn:aws:iam::aws:policy/...`).
    AwsManagedPolicy,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::Role => "role",
            PrincipalType::Group => "group",
            PrincipalType::Policy => "policy",
            PrincipalType::AwsManagedPolicy => "aws_managed_policy",
        }
    }

    /// Groups and policies are used *through* other entities; IAM can list those.
    pub fn has_entities(self) -> bool {
        matches!(
            self,
            PrincipalType::Group | PrincipalType::Policy | PrincipalType::AwsManagedPolicy
        )
    }

    /// IAM's ListPoliciesGrantingServiceAccess accepts users, roles and groups only.
    pub fn has_granting_policies(self) -> bool {
        matches!(
            self,
            PrincipalType::User | PrincipalType::Role | PrincipalType::Group
        )
    }
}

const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];

/// A checked ARN of an IAM user, role, group or managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrincipalArn {
    arn: String,
    partition: String,
    account: String,
    kind: PrincipalType,
    path: String,
    name: String,
}

impl PrincipalArn {
    /// Parses `arn:PARTITION:iam::ACCOUNT:(user|role|group|policy)/PATH/NAME`.
    /// The error says what is wrong, without the field name (the caller adds it).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 2048 {
            return Err("ARN is longer than 2048 characters".into());
        }
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(format!(
                "{text:?} is not an ARN (expected arn:aws:iam::ACCOUNT:TYPE/NAME)"
            ));
        };
        if prefix != "arn" {
            return Err(format!(
                "{text:?} is not an ARN (it must start with \"arn:\")"
            ));
        }
        if !PARTITIONS.contains(&partition) {
            return Err(format!("{text:?} has an unknown partition {partition:?}"));
        }
        if service != "iam" {
            return Err(format!("{text:?} is not an IAM ARN (service {service:?})"));
        }
        if !region.is_empty() {
            return Err(format!("{text:?} has a region; IAM ARNs have none"));
        }
        let (type_name, rest) = resource
            .split_once('/')
            .ok_or_else(|| format!("{text:?} has no resource type/name"))?;
        let aws_managed = account == "aws";
        let kind = match (type_name, aws_managed) {
            ("user", false) => PrincipalType::User,
            ("role", false) => PrincipalType::Role,
            ("group", false) => PrincipalType::Group,
            ("policy", false) => PrincipalType::Policy,
            ("policy", true) => PrincipalType::AwsManagedPolicy,
            (_, true) => return Err(format!("{text:?}: only policies may have account \"aws\"")),
            (other, false) => {
                return Err(format!(
                    "{text:?} names a {other:?}; expected a user, role, group or policy"
                ))
            }
        };
        if !aws_managed && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit())) {
            return Err(format!(
                "{text:?} has an invalid account id {account:?} (12 digits)"
            ));
        }
        let (path, name) = match rest.rsplit_once('/') {
            Some((path, name)) => (format!("/{path}/"), name),
            None => ("/".to_string(), rest),
        };
        let name_ok = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b));
        if !name_ok {
            return Err(format!("{text:?} has an invalid name {name:?}"));
        }
        if path.contains("//") || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(format!("{text:?} has an invalid path {path:?}"));
        }
        Ok(PrincipalArn {
            arn: text.to_string(),
            partition: partition.to_string(),
            account: account.to_string(),
            kind,
            path,
            name: name.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
    /// Which principal this is, whatever the spelling: IAM names are unique per type
    /// regardless of case and path, so `role/App` and `role/ops/app` are one role.
    pub fn identity(&self) -> String {
        format!(
            "{}:{}:{}",
            self.account,
            self.kind.as_str(),
            self.name.to_ascii_lowercase()
        )
    }
    pub fn partition(&self) -> &str {
        &self.partition
    }
    /// The account id, or `aws` for AWS-managed policies.
    pub fn account(&self) -> &str {
        &self.account
    }
    pub fn kind(&self) -> PrincipalType {
        self.kind
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for PrincipalArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl Serialize for PrincipalArn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.arn)
    }
}

impl<'de> Deserialize<'de> for PrincipalArn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PrincipalArn::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_principal_type() {
        let role =
            PrincipalArn::parse("arn:aws:iam::123456789012:role/service/app/deployer").unwrap();
        assert_eq!(role.kind(), PrincipalType::Role);
        assert_eq!(role.name(), "deployer");
        assert_eq!(role.path(), "/service/app/");
        assert_eq!(role.account(), "123456789012");
        let user = PrincipalArn::parse("arn:aws:iam::123456789012:user/alice@example.com").unwrap();
        assert_eq!(
            (user.kind(), user.path(), user.name()),
            (PrincipalType::User, "/", "alice@example.com")
        );
        let group = PrincipalArn::parse("arn:aws-cn:iam::123456789012:group/admins").unwrap();
        assert_eq!(
            (group.kind(), group.partition()),
            (PrincipalType::Group, "aws-cn")
        );
        let policy = PrincipalArn::parse("arn:aws:iam::123456789012:policy/ReadOnly").unwrap();
        assert_eq!(policy.kind(), PrincipalType::Policy);
        let managed =
            PrincipalArn::parse("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").unwrap();
        assert_eq!(managed.kind(), PrincipalType::AwsManagedPolicy);
        assert_eq!(managed.account(), "aws");
    }

    #[test]
    fn rejects_malformed_arns_saying_why() {
        let cases = [
            ("", "not an ARN"),
            ("role/x", "not an ARN"),
            ("arm:aws:iam::123456789012:role/x", "must start with"),
            ("arn:aws-mars:iam::123456789012:role/x", "unknown partition"),
            ("arn:aws:s3:::bucket/key", "not an IAM ARN"),
            ("arn:aws:iam:us-east-1:123456789012:role/x", "has a region"),
            ("arn:aws:iam::12345:role/x", "invalid account id"),
            ("arn:aws:iam::aws:role/x", "only policies"),
            (
                "arn:aws:iam::123456789012:instance-profile/x",
                "expected a user, role",
            ),
            ("arn:aws:iam::123456789012:role/", "invalid name"),
            ("arn:aws:iam::123456789012:role/bad name", "invalid name"),
            ("arn:aws:iam::123456789012:role", "no resource"),
        ];
        for (text, why) in cases {
            let err = PrincipalArn::parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
