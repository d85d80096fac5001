//! IAM's JSON policy grammar as serde types (IAM User Guide, "Grammar of the IAM JSON
//! policy language"): `Version`, `Id`, `Statement` as one object or a list; each
//! statement's `Sid`, `Effect`, `Principal`/`NotPrincipal`, `Action`/`NotAction`,
//! `Resource`/`NotResource` (a string or a list) and `Condition`.
//!
//! A parse then a serialisation keeps every element, the statement order and the shape
//! of each value (a string stays a string, a list a list). `Principal` and `Condition` are
//! kept verbatim as JSON: nothing here reads them. Elements IAM does not know are an error
//! naming the element, as IAM refuses them too.
//!
//! IAM returns stored documents URL-encoded (GetPolicyVersion, GetRolePolicy, …); decoding
//! them is the adapter's job, [`PolicyDocument::parse`] takes the JSON itself.

use crate::domain::policy::actions::ActionPattern;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use std::fmt;
use std::marker::PhantomData;

/// The two values of `Version` IAM accepts.
pub const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// A document IAM would not accept, or not JSON at all. The Display is always
/// `"{path}: {why}"`, the path naming the element (`Statement[1].Actions`).
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, or not of the grammar's shape (an unknown element, a number for a
    /// string); serde_json says how.
    #[error("{path}: {source}")]
    Malformed {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// Of the grammar's shape, but breaking one of its rules.
    #[error("{path}: {why}")]
    Invalid { path: String, why: String },
}

impl PolicyError {
    fn invalid(path: String, why: impl fmt::Display) -> Self {
        PolicyError::Invalid {
            path,
            why: why.to_string(),
        }
    }
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "Statement")]
    pub statement: OneOrMany<Statement>,
}

/// `Allow` or `Deny`, spelled as IAM spells them (case matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement. Exactly one of `action` / `not_action` is set in a parsed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "Sid", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(rename = "Effect")]
    pub effect: Effect,
    #[serde(rename = "Principal", default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Value>,
    #[serde(
        rename = "NotPrincipal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_principal: Option<Value>,
    #[serde(rename = "Action", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<OneOrMany<String>>,
    #[serde(rename = "NotAction", default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<OneOrMany<String>>,
    #[serde(rename = "Resource", default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany<String>>,
    #[serde(
        rename = "NotResource",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_resource: Option<OneOrMany<String>>,
    #[serde(rename = "Condition", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl PolicyDocument {
    /// Parses a document's JSON and checks the grammar's rules serde can't express.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut json = serde_json::Deserializer::from_str(text);
        let document: PolicyDocument =
            serde_path_to_error::deserialize(&mut json).map_err(|e| {
                let path = e.path().to_string();
                PolicyError::Malformed {
                    path: if path == "." { "document".into() } else { path },
                    source: e.into_inner(),
                }
            })?;
        json.end().map_err(|source| PolicyError::Malformed {
            path: "document".into(),
            source,
        })?;
        document.validate()?;
        Ok(document)
    }

    /// The grammar's rules over a document built in code or parsed.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some(v) = &self.version {
            if !VERSIONS.contains(&v.as_str()) {
                return Err(PolicyError::invalid(
                    "Version".into(),
                    format!("{v:?} is not one of {VERSIONS:?}"),
                ));
            }
        }
        if self.statement.is_empty() {
            return Err(PolicyError::invalid("Statement".into(), "no statement"));
        }
        let many = matches!(self.statement, OneOrMany::Many(_));
        for (i, s) in self.statement.iter().enumerate() {
            let at = if many {
                format!("Statement[{i}]")
            } else {
                "Statement".to_string()
            };
            s.validate(&at)?;
        }
        Ok(())
    }

    /// The statements in order.
    pub fn statements(&self) -> &[Statement] {
        self.statement.as_slice()
    }

    /// The compact JSON IAM is given (no white space, so its length is what IAM counts
    /// or more).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a policy document of strings and JSON serialises")
    }
}

impl Statement {
    fn validate(&self, at: &str) -> Result<(), PolicyError> {
        let actions = match (&self.action, &self.not_action) {
            (Some(a), None) => ("Action", a),
            (None, Some(a)) => ("NotAction", a),
            (Some(_), Some(_)) => {
                return Err(PolicyError::invalid(
                    at.into(),
                    "has both Action and NotAction",
                ))
            }
            (None, None) => {
                return Err(PolicyError::invalid(
                    at.into(),
                    "has neither Action nor NotAction",
                ))
            }
        };
        if self.resource.is_some() && self.not_resource.is_some() {
            return Err(PolicyError::invalid(
                at.into(),
                "has both Resource and NotResource",
            ));
        }
        if self.principal.is_some() && self.not_principal.is_some() {
            return Err(PolicyError::invalid(
                at.into(),
                "has both Principal and NotPrincipal",
            ));
        }
        let (element, list) = actions;
        if list.is_empty() {
            return Err(PolicyError::invalid(
                format!("{at}.{element}"),
                "is an empty list",
            ));
        }
        for a in list.iter() {
            ActionPattern::parse(a)
                .map_err(|e| PolicyError::invalid(format!("{at}.{element}"), e))?;
        }
        Ok(())
    }
}

/// A value IAM accepts as one item or as a list (`"Action": "s3:*"` or `["s3:*"]`). The
/// shape is kept: a serialisation writes back what was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t),
            OneOrMany::Many(v) => v,
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// `items` in the shape of `self`: one item read as a single value stays one.
    pub fn reshaped(&self, mut items: Vec<T>) -> Self {
        match self {
            OneOrMany::One(_) if items.len() == 1 => OneOrMany::One(items.remove(0)),
            _ => OneOrMany::Many(items),
        }
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(t) => t.serialize(serializer),
            OneOrMany::Many(v) => v.serialize(serializer),
        }
    }
}

// By hand rather than `#[serde(untagged)]`: an untagged enum replaces the inner error
// ("unknown field `Actions`") with "did not match any variant", and loses its path.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let d: de::value::StrDeserializer<'_, E> = v.into_deserializer();
                T::deserialize(d).map(OneOrMany::One)
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                let d: de::value::StringDeserializer<E> = v.into_deserializer();
                T::deserialize(d).map(OneOrMany::One)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(OneOrMany::Many)
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}
