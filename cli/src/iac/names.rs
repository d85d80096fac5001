//! Resource names that are valid where they go and unique in one output: Terraform's
//! `resource "TYPE" "NAME"` (letters, digits, `_` and `-`, starting with a letter or
//! `_`) and CloudFormation's logical ids (letters and digits, at most 255). IAM names
//! also hold `+=,.@`: those become `_` (Terraform) or word breaks (CloudFormation), and
//! two names that end up equal get `_2`, `_3`… (`2`, `3`…) in the order they come.

use std::collections::HashSet;

/// CloudFormation's longest logical id.
const MAX_LOGICAL_ID: usize = 255;

#[derive(Debug, Default)]
pub struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// A Terraform name from `words` (`["role", "app", "s3-read"]` → `role_app_s3-read`).
    pub fn terraform(&mut self, words: &[&str]) -> String {
        let joined: String = words
            .iter()
            .map(|w| {
                w.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("_");
        let base = match joined.chars().next() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => joined,
            _ => format!("_{joined}"),
        };
        self.unique(base, "_")
    }

    /// A CloudFormation logical id from `words`, each part capitalized
    /// (`["role", "app", "s3-read"]` → `RoleAppS3Read`).
    pub fn logical_id(&mut self, words: &[&str]) -> String {
        let mut id = String::new();
        for word in words {
            for part in word.split(|c: char| !c.is_ascii_alphanumeric()) {
                let mut chars = part.chars();
                if let Some(first) = chars.next() {
                    id.push(first.to_ascii_uppercase());
                    id.extend(chars);
                }
            }
        }
        if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
            id.insert(0, 'R');
        }
        // Room for a suffix that makes it unique.
        id.truncate(MAX_LOGICAL_ID - 6);
        self.unique(id, "")
    }

    fn unique(&mut self, base: String, separator: &str) -> String {
        let mut name = base.clone();
        let mut n = 1;
        while !self.taken.insert(name.to_ascii_lowercase()) {
            n += 1;
            name = format!("{base}{separator}{n}");
        }
        name
    }
}
