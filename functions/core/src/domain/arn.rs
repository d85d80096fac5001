//! IAM principal ARNs: parsed and checked once, at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An AWS account id: 12 digits. The one place that says so.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// An AWS account id, checked: 12 digits (JSON: the digits as a string; anything else
/// does not deserialize).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// `text` as an account id, or `None` when it is not 12 digits.
    pub fn parse(text: &str) -> Option<AccountId> {
        is_account_id(text).then(|| AccountId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for AccountId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = ArnError;
    fn try_from(text: String) -> Result<Self, ArnError> {
        AccountId::parse(&text).ok_or(ArnError::NotAnAccount { text })
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for AccountId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for AccountId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for AccountId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

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

/// The partitions IAM ARNs are documented for (`aws`, `aws-cn`, `aws-us-gov`), and the
/// isolated ones.
const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];
/// The longest ARN accepted (IAM's ARN parameters allow 2048 characters).
pub const MAX_ARN_LEN: usize = 2048;
/// The longest IAM path (IAM API reference: `Path`, 1 to 512 characters).
pub const MAX_PATH_LEN: usize = 512;

/// What is wrong with an ARN. The message says it, quoting the ARN, without the field
/// name (the caller adds it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("ARN is longer than {MAX_ARN_LEN} characters ({len})")]
    TooLong { len: usize },
    #[error("{text:?} is not an ARN (expected arn:aws:iam::ACCOUNT:TYPE/NAME)")]
    NotAnArn { text: String },
    #[error("{text:?} is not an ARN (it must start with \"arn:\")")]
    NoArnPrefix { text: String },
    #[error("{text:?} has an unknown partition {partition:?} (aws, aws-cn, aws-us-gov)")]
    UnknownPartition { text: String, partition: String },
    #[error("{text:?} is not an IAM ARN (service {service:?})")]
    NotIam { text: String, service: String },
    #[error("{text:?} has a region; IAM ARNs have none")]
    HasRegion { text: String },
    #[error("{text:?} has no resource type/name")]
    NoResource { text: String },
    #[error("{text:?}: only policies may have account \"aws\"")]
    AwsAccountNotPolicy { text: String },
    #[error("{text:?} names a {kind:?}; expected a user, role, group or policy")]
    UnsupportedType { text: String, kind: String },
    #[error("{text:?} has an invalid account id {account:?} (12 digits)")]
    InvalidAccount { text: String, account: String },
    #[error("{text:?} is not an AWS account id (12 digits)")]
    NotAnAccount { text: String },
    #[error("{text:?} has an invalid name {name:?} (1 to {max} of A-Z a-z 0-9 _ + = , . @ -)")]
    InvalidName {
        text: String,
        name: String,
        max: usize,
    },
    #[error(
        "{text:?} has an invalid path {path:?} (/ or /…/ of printable ASCII, at most {MAX_PATH_LEN} characters)"
    )]
    InvalidPath { text: String, path: String },
}

/// IAM's name pattern `[\w+=,.@-]+`, with `\w` the ASCII word characters.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b)
}

/// IAM's path pattern `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, at most 512 characters:
/// `/`, or `/`, one or more printable ASCII characters (`/` included, so `//` may
/// appear inside), `/`.
pub fn is_valid_path(path: &str) -> bool {
    let b = path.as_bytes();
    let printable = |b: &u8| (0x21..=0x7e).contains(b);
    path.len() <= MAX_PATH_LEN
        && (path == "/"
            || (b.len() >= 3
                && b[0] == b'/'
                && b[b.len() - 1] == b'/'
                && b[1..b.len() - 1].iter().all(printable)))
}

impl PrincipalType {
    /// IAM's longest name of this type: users and roles 64, groups and policies 128.
    pub fn max_name_len(self) -> usize {
        match self {
            PrincipalType::User | PrincipalType::Role => 64,
            PrincipalType::Group | PrincipalType::Policy | PrincipalType::AwsManagedPolicy => 128,
        }
    }
}

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
    /// Parses `arn:PARTITION:iam::ACCOUNT:(user|role|group|policy)/PATH/NAME` by IAM's
    /// documented rules: the path `/` or `/…/` of printable ASCII up to 512 characters,
    /// the name `[\w+=,.@-]+` of 1 to 64 (users, roles) or 128 (groups, policies).
    pub fn parse(text: &str) -> Result<Self, ArnError> {
        let owned = || text.to_string();
        if text.len() > MAX_ARN_LEN {
            return Err(ArnError::TooLong { len: text.len() });
        }
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(ArnError::NotAnArn { text: owned() });
        };
        if prefix != "arn" {
            return Err(ArnError::NoArnPrefix { text: owned() });
        }
        if !PARTITIONS.contains(&partition) {
            return Err(ArnError::UnknownPartition {
                text: owned(),
                partition: partition.to_string(),
            });
        }
        if service != "iam" {
            return Err(ArnError::NotIam {
                text: owned(),
                service: service.to_string(),
            });
        }
        if !region.is_empty() {
            return Err(ArnError::HasRegion { text: owned() });
        }
        let (type_name, rest) = resource
            .split_once('/')
            .ok_or_else(|| ArnError::NoResource { text: owned() })?;
        let aws_managed = account == "aws";
        let kind = match (type_name, aws_managed) {
            ("user", false) => PrincipalType::User,
            ("role", false) => PrincipalType::Role,
            ("group", false) => PrincipalType::Group,
            ("policy", false) => PrincipalType::Policy,
            ("policy", true) => PrincipalType::AwsManagedPolicy,
            (_, true) => return Err(ArnError::AwsAccountNotPolicy { text: owned() }),
            (other, false) => {
                return Err(ArnError::UnsupportedType {
                    text: owned(),
                    kind: other.to_string(),
                })
            }
        };
        if !aws_managed && !is_account_id(account) {
            return Err(ArnError::InvalidAccount {
                text: owned(),
                account: account.to_string(),
            });
        }
        let (path, name) = match rest.rsplit_once('/') {
            Some((path, name)) => (format!("/{path}/"), name),
            None => ("/".to_string(), rest),
        };
        let max = kind.max_name_len();
        if name.is_empty() || name.len() > max || !name.bytes().all(is_name_char) {
            return Err(ArnError::InvalidName {
                text: owned(),
                name: name.to_string(),
                max,
            });
        }
        if !is_valid_path(&path) {
            return Err(ArnError::InvalidPath {
                text: owned(),
                path,
            });
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
mod tests;
