//! Cutting a run's principals into batches: explicit ARNs merged with discovered ones,
//! batches bounded by count, by one invocation's time budget at the run's IAM rate, and
//! by payload bytes. Pure code.

use crate::domain::arn::PrincipalArn;
use crate::domain::batch::Batch;
use crate::domain::input::{InputError, ReportOptions};
use std::collections::BTreeSet;

/// Explicit ARNs first (in their order), then discovered ones, each once.
pub fn merge(explicit: &[PrincipalArn], discovered: Vec<PrincipalArn>) -> Vec<PrincipalArn> {
    let mut seen = BTreeSet::new();
    explicit
        .iter()
        .cloned()
        .chain(discovered)
        .filter(|a| seen.insert(a.identity()))
        .collect()
}

/// The share of an invocation's time (its start to its deadline) its paced IAM calls may
/// take: two thirds, leaving the rest for the SDK's retry backoff and S3 (600 s of
/// Lambda's 900).
pub const PACED_SHARE: f64 = 2.0 / 3.0;

/// The seconds of paced IAM calls an invocation of a function with this Timeout may make.
pub fn budget_seconds(timeout_seconds: u32) -> f64 {
    f64::from(timeout_seconds) * PACED_SHARE
}

/// A batch's state travels between Generate, Check and Write (payloads are capped at
/// 256 KiB): its estimate stays below this.
pub const MAX_BATCH_STATE_BYTES: usize = 160 * 1024;

/// The IAM calls Write may make to re-read a user's credentials the credential report
/// calls unused: GetUser, ListAccessKeys and GetAccessKeyLastUsed of its (at most) two
/// access keys.
pub const CREDENTIAL_CALLS: u64 = 4;

/// The IAM calls Generate makes per principal under the `session` JobId binding, before
/// any entities: the job, its read, and one more poll for a job not done at the first
/// (each its own read; jobs take seconds, and the batch's generation takes longer).
pub const SESSION_CALLS: u64 = 3;

/// The most IAM calls one principal can cost in one invocation, and the run-input field
/// that drives it. Plan cuts batches before the preflight says how IAM binds JobIds, so
/// this holds under either binding:
/// - `role_session_name`: Generate and Check make one call per principal; Write makes
///   one per used service asked about for entities (each at least a page), up to two
///   for granting policies (200 services a call, ~400 services at most) and, with
///   recommendations, up to [`CREDENTIAL_CALLS`] re-reading a user's credentials;
/// - `session`: Generate makes [`SESSION_CALLS`] and the entity calls; Write the rest.
pub fn calls_per_principal(report: &ReportOptions) -> (u64, &'static str) {
    let entities = if report.entities {
        u64::from(report.max_entity_services)
    } else {
        0
    };
    let granting = if report.granting_policies { 2 } else { 0 };
    let credentials = if report.recommendations {
        CREDENTIAL_CALLS
    } else {
        0
    };
    let write = entities + granting + credentials;
    let generate = SESSION_CALLS + entities;
    if generate >= write {
        let field = if entities > 0 {
            "report.max_entity_services"
        } else {
            "iam_requests_per_second"
        };
        (generate, field)
    } else if entities >= granting.max(credentials) {
        (write, "report.max_entity_services")
    } else if granting >= credentials {
        (write, "report.granting_policies")
    } else {
        (write, "report.recommendations")
    }
}

/// The batch size that lets every invocation of the batch functions (Generate, Check,
/// Write, whose Timeout is `timeout_seconds`) finish within its budget at `rate` IAM
/// requests per second: the requested size, or smaller. Work that cannot fit even one
/// principal is refused, naming the field to change.
pub fn fitted_batch_size(
    requested: u32,
    rate: f64,
    report: &ReportOptions,
    timeout_seconds: u32,
) -> Result<u32, InputError> {
    let (per_principal, field) = calls_per_principal(report);
    let budget = budget_seconds(timeout_seconds);
    let capacity = (budget * rate).floor() as u64;
    let fit = capacity / per_principal;
    if fit == 0 {
        return Err(InputError::invalid(
            field,
            format!(
                "one principal may need {per_principal} IAM calls in one invocation: {:.0} s at {rate} requests/s, over the {budget:.0} s an invocation may spend (the functions stop at {timeout_seconds} s); lower report.max_entity_services or raise iam_requests_per_second",
                per_principal as f64 / rate
            ),
        ));
    }
    Ok(requested.min(u32::try_from(fit).unwrap_or(u32::MAX)).max(1))
}

/// A generous estimate of one job's bytes in a batch's state: its ARN, its unique id
/// (up to 128 characters, IAM's API model), its fingerprint and incremental mark (64),
/// and an error message that may quote the ARN and the caller (IAM's AccessDenied does),
/// JSON-escaped.
pub fn job_state_bytes(arn: &PrincipalArn) -> usize {
    3 * arn.as_str().len() + 512 + 160 + 64
}

/// Cuts principals into batches of at most `size` principals and at most
/// [`MAX_BATCH_STATE_BYTES`] of estimated state, numbered from 0.
pub fn batches(principals: Vec<PrincipalArn>, size: u32) -> Vec<Batch> {
    let size = size.max(1) as usize;
    let mut out: Vec<Batch> = Vec::new();
    let mut bytes = 0;
    for arn in principals {
        let cost = job_state_bytes(&arn);
        let full = out.last().is_none_or(|b| {
            b.arns.len() >= size || (!b.arns.is_empty() && bytes + cost > MAX_BATCH_STATE_BYTES)
        });
        if full {
            out.push(Batch {
                index: out.len() as u32,
                ..Batch::default()
            });
            bytes = 0;
        }
        bytes += cost;
        out.last_mut()
            .expect("a batch was just pushed")
            .arns
            .push(arn);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(text: &str) -> PrincipalArn {
        PrincipalArn::parse(text).unwrap()
    }

    #[test]
    fn merge_dedupes_keeping_order_and_batches_cover_everything() {
        let explicit = vec![
            arn("arn:aws:iam::123456789012:role/b"),
            arn("arn:aws:iam::123456789012:role/a"),
        ];
        let discovered = (0..5)
            .map(|i| {
                arn(&format!(
                    "arn:aws:iam::123456789012:role/{}",
                    ["a", "c", "d", "b", "e"][i]
                ))
            })
            .collect();
        let merged = merge(&explicit, discovered);
        let names: Vec<&str> = merged.iter().map(|a| a.name()).collect();
        assert_eq!(names, ["b", "a", "c", "d", "e"]);
        let b = batches(merged, 2);
        assert_eq!(
            b.iter().map(|b| b.arns.len()).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert_eq!(b.iter().map(|b| b.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(batches(Vec::new(), 50).is_empty());
    }

    #[test]
    fn batches_are_bounded_by_bytes_as_well_as_count() {
        // 500 principals with 512-character paths: a batch of 500 would be ~1 MiB.
        let path = format!("/{}/", "p".repeat(510));
        let arns: Vec<PrincipalArn> = (0..500)
            .map(|i| arn(&format!("arn:aws:iam::123456789012:role{path}r{i}")))
            .collect();
        let b = batches(arns, 500);
        assert!(b.len() > 1, "one batch of 500 long ARNs");
        for batch in &b {
            let bytes: usize = batch.arns.iter().map(job_state_bytes).sum();
            assert!(bytes <= MAX_BATCH_STATE_BYTES, "{bytes}");
        }
        assert_eq!(b.iter().map(|x| x.arns.len()).sum::<usize>(), 500);
        let indexes: Vec<u32> = b.iter().map(|x| x.index).collect();
        assert_eq!(indexes, (0..b.len() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn batch_size_shrinks_to_fit_the_invocation_budget() {
        let plain = ReportOptions::default();
        // 600 s at 0.1 requests/s: 60 calls, 3 per principal were Generate to read its
        // jobs itself (the session binding), so 20 principals per batch, not 500.
        assert_eq!(fitted_batch_size(500, 0.1, &plain, 900).unwrap(), 20);
        assert_eq!(calls_per_principal(&plain), (3, "iam_requests_per_second"));
        assert_eq!(fitted_batch_size(50, 5.0, &plain, 900).unwrap(), 50);
        // Entities on 50 services at 5 requests/s: 3000 calls / (3 + 50) = 56 principals.
        let entities = ReportOptions {
            entities: true,
            max_entity_services: 50,
            ..ReportOptions::default()
        };
        assert_eq!(fitted_batch_size(500, 5.0, &entities, 900).unwrap(), 56);
        assert_eq!(
            calls_per_principal(&entities),
            (53, "report.max_entity_services")
        );
    }

    #[test]
    fn batches_are_cut_from_the_functions_timeout() {
        let plain = ReportOptions::default();
        // Timeout 60: 40 s of paced calls, 80 at 2 requests/s, 3 a principal: 26.
        assert_eq!(budget_seconds(60), 40.0);
        assert_eq!(fitted_batch_size(500, 2.0, &plain, 60).unwrap(), 26);
        // The same run at Timeout 900: 1,200 calls, 400 principals.
        assert_eq!(fitted_batch_size(500, 2.0, &plain, 900).unwrap(), 400);
        // One principal that can't fit a short Timeout names the Timeout it was cut from.
        let err = fitted_batch_size(500, 0.1, &plain, 3).unwrap_err();
        assert!(err.to_string().contains("stop at 3 s"), "{err}");
    }

    #[test]
    fn a_batch_with_recommendations_fits_its_users_credential_reads() {
        let recommendations = ReportOptions {
            recommendations: true,
            ..ReportOptions::default()
        };
        // 600 s at 1 request/s: 600 calls, 4 per user re-read (more than the session
        // binding's 3), so 150 principals.
        assert_eq!(
            fitted_batch_size(500, 1.0, &recommendations, 900).unwrap(),
            150
        );
        assert_eq!(
            calls_per_principal(&recommendations),
            (4, "report.recommendations")
        );
        // 2,000 users that all look dormant, at the stack's default 5 requests/s: every
        // batch's re-reads fit its invocation (none is left to Plan).
        let size = fitted_batch_size(500, 5.0, &recommendations, 900).unwrap();
        let batches = 2_000_u64.div_ceil(u64::from(size));
        assert!(u64::from(size) * CREDENTIAL_CALLS <= (budget_seconds(900) * 5.0) as u64);
        assert_eq!((size, batches), (500, 4));
    }

    #[test]
    fn work_that_cannot_fit_one_principal_names_the_field() {
        let heavy = ReportOptions {
            entities: true,
            max_entity_services: 100,
            ..ReportOptions::default()
        };
        let err = crate::error::Error::from(fitted_batch_size(50, 0.1, &heavy, 900).unwrap_err());
        assert_eq!(err.name(), "InvalidInput");
        assert!(
            err.to_string().starts_with("report.max_entity_services:"),
            "{err}"
        );
    }
}
