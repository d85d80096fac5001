//! Action patterns as IAM reads them: `*`, `s3:*`, `s3:Get*`, `s3:GetObject`.
//! A pattern is `service:name` (or `*` alone); either part may hold the wildcards `*` (any
//! run of characters) and `?` (one character). IAM matches them without regard to case
//! (IAM User Guide, "IAM JSON policy elements: Action": "The prefix and the action name
//! are case insensitive").

use std::fmt;

/// An action pattern from a policy's `Action` or `NotAction`, its spelling kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionPattern {
    text: String,
    /// Where `service` and `name` split: the colon, or the end for `*`.
    colon: Option<usize>,
}

/// A string that is not an action pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an action (service:action or *): {why}")]
pub struct ActionError {
    pub text: String,
    pub why: &'static str,
}

impl ActionPattern {
    pub fn parse(text: &str) -> Result<Self, ActionError> {
        let fail = |why| {
            Err(ActionError {
                text: text.to_string(),
                why,
            })
        };
        if text.chars().any(char::is_whitespace) {
            return fail("it holds white space");
        }
        if text == "*" {
            return Ok(ActionPattern {
                text: text.into(),
                colon: None,
            });
        }
        let Some(colon) = text.find(':') else {
            return fail("it has no colon");
        };
        let (service, name) = (&text[..colon], &text[colon + 1..]);
        if service.is_empty() || name.is_empty() {
            return fail("a part is empty");
        }
        if name.contains(':') {
            return fail("it has more than one colon");
        }
        Ok(ActionPattern {
            text: text.into(),
            colon: Some(colon),
        })
    }

    /// The pattern as the document spells it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The service part (`*` for the pattern `*`).
    fn service_part(&self) -> &str {
        self.colon.map_or("*", |c| &self.text[..c])
    }

    /// The action-name part (`*` for the pattern `*`).
    pub fn name(&self) -> &str {
        self.colon.map_or("*", |c| &self.text[c + 1..])
    }

    /// The one service prefix the pattern is about, when its service part has no wildcard
    /// (`s3` for `s3:Get*`; `None` for `*` or `*:Get*`).
    pub fn service(&self) -> Option<&str> {
        let s = self.service_part();
        (!has_wildcard(s)).then_some(s)
    }

    /// Whether the pattern may grant actions of service `namespace`.
    pub fn covers_service(&self, namespace: &str) -> bool {
        glob(self.service_part(), namespace)
    }

    /// Whether the pattern grants every action of each service it covers (`s3:*`, `*`).
    pub fn is_service_wide(&self) -> bool {
        self.name().chars().all(|c| c == '*')
    }

    /// Whether the pattern grants every action of every service (`*`, `*:*`).
    pub fn grants_everything(&self) -> bool {
        self.service_part().chars().all(|c| c == '*') && self.is_service_wide()
    }

    /// Whether the name part has a wildcard (`s3:Get*`, `s3:*`).
    pub fn has_wildcard(&self) -> bool {
        has_wildcard(&self.text)
    }

    /// Whether `action` (`service:Name`) is granted by this pattern.
    pub fn matches(&self, action: &str) -> bool {
        match action.split_once(':') {
            Some((service, name)) => glob(self.service_part(), service) && glob(self.name(), name),
            None => false,
        }
    }
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The service prefix of an action or pattern (`s3` of `s3:GetObject`).
pub fn service_of(action: &str) -> Option<&str> {
    action.split_once(':').map(|(s, _)| s)
}

fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// IAM's wildcard match, ASCII case-insensitive: `*` is any run of characters (none
/// too), `?` any one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` take one more character and try again.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> ActionPattern {
        ActionPattern::parse(text).unwrap()
    }

    #[test]
    fn patterns_match_without_regard_to_case() {
        assert!(pattern("*").matches("s3:GetObject"));
        assert!(pattern("s3:*").matches("S3:getobject"));
        assert!(pattern("S3:Get*").matches("s3:GetObject"));
        assert!(pattern("s3:get*").matches("s3:GetBucketPolicy"));
        assert!(!pattern("s3:Get*").matches("s3:PutObject"));
        assert!(!pattern("s3:Get*").matches("s3express:GetObject"));
        assert!(pattern("s3:GetObject").matches("s3:getObject"));
        assert!(!pattern("s3:GetObject").matches("s3:GetObjectAcl"));
        assert!(pattern("ec2:Describe?pcs").matches("ec2:DescribeVpcs"));
        assert!(pattern("iam:*AccessKey*").matches("iam:CreateAccessKey"));
        assert!(pattern("*:Get*").matches("kms:GetKeyPolicy"));
        assert!(!pattern("s3:*").matches("s3"));
    }

    #[test]
    fn the_service_of_a_pattern() {
        assert_eq!(pattern("S3:Get*").service(), Some("S3"));
        assert_eq!(pattern("*").service(), None);
        assert_eq!(pattern("*:Get*").service(), None);
        assert!(pattern("*").covers_service("logs"));
        assert!(pattern("s3:Get*").covers_service("S3"));
        assert!(!pattern("s3:Get*").covers_service("s3express"));
        assert_eq!(service_of("iam:PassRole"), Some("iam"));
    }

    #[test]
    fn service_wide_patterns_and_the_one_that_grants_everything() {
        assert!(pattern("s3:*").is_service_wide() && pattern("*").is_service_wide());
        assert!(!pattern("s3:Get*").is_service_wide());
        assert!(pattern("*").grants_everything() && pattern("*:*").grants_everything());
        assert!(!pattern("s3:*").grants_everything() && !pattern("*:Get*").grants_everything());
    }

    #[test]
    fn what_is_not_a_pattern() {
        for bad in [
            "",
            "s3",
            "s3:",
            ":GetObject",
            "s3:Get:Object",
            "s3: GetObject",
        ] {
            assert!(ActionPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn glob_backtracks() {
        assert!(glob("*a*b", "xaxxab"));
        assert!(glob("a*", "a"));
        assert!(!glob("a?", "a"));
        assert!(glob("**", ""));
        assert!(!glob("*x", "abc"));
    }
}
