//! IAM's size quotas for policy documents, and the last check before a recommended
//! document is emitted: it is valid, it reads back as itself, and it fits.
//!
//! From the IAM User Guide, "IAM and AWS STS quotas" (character quotas, which can't be
//! raised): the inline policies of one entity may total 2,048 characters for a user,
//! 10,240 for a role and 5,120 for a group; one managed policy may have 6,144. "IAM does
//! not count white space when calculating the size of a policy against these quotas."
//! Policy documents may hold only tab, line feed, carriage return and U+0020–U+00FF
//! (same page, "IAM name requirements").
//!
//! We count the compact JSON (no white space between tokens) character by character,
//! including any white space inside strings: never less than IAM counts, so a document
//! we pass is one IAM takes.

use crate::domain::policy::document::PolicyDocument;
use serde::Serialize;

/// Which quota a document is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyLimit {
    /// One customer-managed policy (a version of it).
    Managed,
    /// All the inline policies of one user, together.
    UserInline,
    /// All the inline policies of one role, together.
    RoleInline,
    /// All the inline policies of one group, together.
    GroupInline,
}

impl PolicyLimit {
    /// The most characters IAM allows.
    pub fn max_chars(self) -> usize {
        match self {
            PolicyLimit::Managed => 6_144,
            PolicyLimit::UserInline => 2_048,
            PolicyLimit::RoleInline => 10_240,
            PolicyLimit::GroupInline => 5_120,
        }
    }

    fn what(self) -> &'static str {
        match self {
            PolicyLimit::Managed => "a managed policy",
            PolicyLimit::UserInline => "a user's inline policies together",
            PolicyLimit::RoleInline => "a role's inline policies together",
            PolicyLimit::GroupInline => "a group's inline policies together",
        }
    }
}

/// Why a recommended document can't be emitted. The caller makes no recommendation
/// for the policy and says this instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the recommended documents have {size} characters; {what} may have {max}", what = .limit.what(), max = .limit.max_chars())]
    TooLarge { limit: PolicyLimit, size: usize },
    #[error("the recommended document is not a valid policy: {0}")]
    Invalid(String),
    #[error("the recommended document holds {0:?}, a character IAM refuses in policies")]
    Character(char),
}

/// The size IAM counts, or more (see the module doc).
pub fn size(document: &PolicyDocument) -> usize {
    document.to_json().chars().count()
}

/// The JSON of each document, ready for `put-role-policy` or `create-policy-version`,
/// once each is valid and reads back as itself, and they fit `limit`: each one for a
/// managed policy, all of them together for an entity's inline policies (pass the
/// holder's other inline policies too, rewritten or not).
pub fn ready(documents: &[&PolicyDocument], limit: PolicyLimit) -> Result<Vec<String>, LimitError> {
    let mut texts = Vec::with_capacity(documents.len());
    for document in documents {
        document
            .validate()
            .map_err(|e| LimitError::Invalid(e.to_string()))?;
        let text = document.to_json();
        if let Some(c) = text.chars().find(|&c| !allowed(c)) {
            return Err(LimitError::Character(c));
        }
        match PolicyDocument::parse(&text) {
            Ok(back) if &back == *document => {}
            Ok(_) => {
                return Err(LimitError::Invalid(
                    "it does not read back as itself".into(),
                ))
            }
            Err(e) => return Err(LimitError::Invalid(e.to_string())),
        }
        texts.push(text);
    }
    let sizes = texts.iter().map(|t| t.chars().count());
    let size = match limit {
        PolicyLimit::Managed => sizes.max().unwrap_or(0),
        _ => sizes.sum(),
    };
    if size > limit.max_chars() {
        return Err(LimitError::TooLarge { limit, size });
    }
    Ok(texts)
}

/// The characters IAM accepts in a policy document.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}
