//! Handler tests: each Lambda handler driven by the events Step Functions sends
//! (`functions/<fn>/events/*.json`), its dependencies built from the real IAM and S3
//! clients answered by aws-smithy-mocks. They assert what a user sees: the S3 documents
//! written, the output handed to the state machine, the named errors.

mod check;
mod fixtures;
mod generate;
mod helpers;
mod notifications;
mod plan;
mod summarize;
mod write;
