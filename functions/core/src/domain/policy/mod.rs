//! Policy documents: IAM's grammar, action patterns, the least-privilege rewrite and
//! IAM's size limits. Pure code, no I/O: the foundation of issue 12's recommendations.
//!
//! - [`document`] parses and serialises a policy document as IAM spells it, refusing
//!   what IAM refuses (unknown elements, `Action` with `NotAction`).
//! - [`actions`] matches actions against patterns (`*`, `s3:*`, `s3:Get*`) the way IAM
//!   does: case-insensitive, `*` and `?` as wildcards.
//! - [`rewrite`] removes from a document what the principal's access-advisor report says
//!   it did not use, keeping what the report can't see ([`permission_only`], services
//!   without tracking data) and saying so.
//! - [`limits`] checks that a recommended document is valid and within IAM's quotas, and
//!   returns its text; a document that can't be made to fit is an error, never emitted.
//!
//! Where it is called from: Write, once a principal's job is COMPLETED, with the report it
//! has just built ([`rewrite::AdvisorView::from_services`]) and each policy document the
//! principal holds (a customer-managed policy with the policy's own report, a group's
//! policies with the group's report). Not done yet (issue 12): reading the documents
//! (GetAccountAuthorizationDetails), choosing the recommendation (UPDATE / DETACH /
//! DELETE_INLINE / REPLACE_AWS_MANAGED), the report and summary fields, the exclusions
//! (`min_age_days`, `exclude`, service-linked and Identity Center roles), unused
//! credentials, and the CLI diff.

pub mod actions;
pub mod document;
pub mod limits;
pub mod permission_only;
pub mod rewrite;

pub use actions::ActionPattern;
pub use document::{Effect, OneOrMany, PolicyDocument, PolicyError, Statement};
pub use limits::{ready, LimitError, PolicyLimit};
pub use rewrite::{rewrite, AdvisorView, Narrowing, Rewrite, ServiceUse, Unseen, UnseenReason};

#[cfg(test)]
mod tests;
