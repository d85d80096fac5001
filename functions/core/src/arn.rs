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
        if !aws_managed && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit())) {
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
            let err = PrincipalArn::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn paths_follow_iams_pattern() {
        // `//` inside a path is legal: the pattern's middle is any printable ASCII.
        let arn = PrincipalArn::parse("arn:aws:iam::123456789012:role/a//b/app").unwrap();
        assert_eq!((arn.path(), arn.name()), ("/a//b/", "app"));
        let arn = PrincipalArn::parse("arn:aws:iam::123456789012:role///app").unwrap();
        assert_eq!(arn.path(), "///");
        assert!(is_valid_path("/"));
        assert!(is_valid_path("/a~!#$/"));
        assert!(
            !is_valid_path("//"),
            "the middle must hold one character or more"
        );
        assert!(!is_valid_path(""));
        assert!(!is_valid_path("/a"));
        assert!(!is_valid_path("/a b/"));
        assert!(!is_valid_path("/é/"));
        // `role//app`: path "//", not IAM's.
        let err = PrincipalArn::parse("arn:aws:iam::123456789012:role//app").unwrap_err();
        assert!(matches!(err, ArnError::InvalidPath { .. }), "{err:?}");
        let err = PrincipalArn::parse("arn:aws:iam::123456789012:role/a b/app").unwrap_err();
        assert!(matches!(err, ArnError::InvalidPath { .. }), "{err:?}");
    }

    #[test]
    fn paths_hold_up_to_512_characters() {
        let segment = "p".repeat(510);
        let longest = format!("arn:aws:iam::123456789012:role/{segment}/app");
        let arn = PrincipalArn::parse(&longest).unwrap();
        assert_eq!(arn.path().len(), 512);
        let too_long = format!("arn:aws:iam::123456789012:role/{segment}x/app");
        let err = PrincipalArn::parse(&too_long).unwrap_err();
        assert!(matches!(err, ArnError::InvalidPath { .. }), "{err:?}");
        assert!(err.to_string().contains("at most 512"), "{err}");
    }

    #[test]
    fn partitions_aws_cn_and_aws_us_gov_are_iams() {
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let text = format!("arn:{partition}:iam::123456789012:user/ops/alice");
            let arn = PrincipalArn::parse(&text).unwrap();
            assert_eq!(arn.partition(), partition);
            let managed = format!("arn:{partition}:iam::aws:policy/ReadOnlyAccess");
            assert_eq!(
                PrincipalArn::parse(&managed).unwrap().kind(),
                PrincipalType::AwsManagedPolicy
            );
        }
        let err = PrincipalArn::parse("arn:aws-mars:iam::123456789012:user/a").unwrap_err();
        assert_eq!(
            err,
            ArnError::UnknownPartition {
                text: "arn:aws-mars:iam::123456789012:user/a".into(),
                partition: "aws-mars".into()
            }
        );
    }

    #[test]
    fn names_follow_iams_pattern_and_lengths_by_type() {
        let ok = |t: &str, n: usize| format!("arn:aws:iam::123456789012:{t}/{}", "n".repeat(n));
        for (kind, max) in [("user", 64), ("role", 64), ("group", 128), ("policy", 128)] {
            assert!(
                PrincipalArn::parse(&ok(kind, max)).is_ok(),
                "{kind} of {max}"
            );
            let err = PrincipalArn::parse(&ok(kind, max + 1)).unwrap_err();
            assert!(
                matches!(&err, ArnError::InvalidName { max: m, .. } if *m == max),
                "{kind}: {err:?}"
            );
            assert!(err.to_string().contains(&format!("1 to {max}")), "{err}");
        }
        let managed = format!("arn:aws:iam::aws:policy/{}", "n".repeat(128));
        assert!(PrincipalArn::parse(&managed).is_ok());
        let every = PrincipalArn::parse("arn:aws:iam::123456789012:user/a_Z9+=,.@-").unwrap();
        assert_eq!(every.name(), "a_Z9+=,.@-");
        for bad in ["a b", "a*b", "a/", "é", "a:b", "a;b", "a!b"] {
            let text = format!("arn:aws:iam::123456789012:user/{bad}");
            let err = PrincipalArn::parse(&text);
            assert!(
                matches!(
                    err,
                    Err(ArnError::InvalidName { .. }) | Err(ArnError::InvalidPath { .. })
                ),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let text = "x".repeat(2049);
        assert_eq!(
            PrincipalArn::parse(&text).unwrap_err(),
            ArnError::TooLong { len: 2049 }
        );
        assert!(matches!(
            PrincipalArn::parse("arn:aws:iam::123456789012:instance-profile/x"),
            Err(ArnError::UnsupportedType { kind, .. }) if kind == "instance-profile"
        ));
        assert!(matches!(
            PrincipalArn::parse("arn:aws:iam::1234:user/x"),
            Err(ArnError::InvalidAccount { account, .. }) if account == "1234"
        ));
        // serde keeps the message.
        let err = serde_json::from_str::<PrincipalArn>("\"role/x\"").unwrap_err();
        assert!(err.to_string().contains("is not an ARN"), "{err}");
    }
}
