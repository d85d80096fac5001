//! End-to-end: real executions of the real ASL on moto's Step Functions engine, our
//! binaries served through the local Lambda runtime API, IAM from the emulator; assertions on the
//! reports in S3 against the seeded truth. Tests run one at a time (.config/nextest.toml):
//! they share the emulator's configuration.

mod bad_input;
mod budgets;
mod cli;
mod discovery;
mod doctor;
mod history;
mod incremental;
mod job_binding;
mod outcomes;
mod reports;
mod resilience;
mod sdk_parses;
mod stop;
