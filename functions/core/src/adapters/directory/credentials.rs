//! The account's credentials in one read: the credential report
//! (GenerateCredentialReport until COMPLETE, then GetCredentialReport), every user's
//! password and access keys with their last use. What it says is unused is re-read,
//! fresh, for the scanned users only (GetUser; ListAccessKeys for the keys' ids, which
//! the report does not carry; GetAccessKeyLastUsed).

use crate::adapters::directory::Directory;
use crate::adapters::{classify, time};
use crate::domain::recommend::{AccessKeyUse, Credentials};
use crate::error::IamError;
use aws_sdk_iam::types::{ReportStateType, StatusType};
use std::collections::BTreeMap;
use std::time::Duration;
// tokio's clock: a test's paused clock drives the wait.
use tokio::time::Instant;

/// How long Plan waits for IAM to generate the report (IAM: seconds, usually), at most:
/// less when its invocation's budget ends first.
const REPORT_ATTEMPTS: u32 = 60;
const REPORT_PAUSE: Duration = Duration::from_secs(2);

/// A credential-report value: `N/A`, `no_information`, `not_supported` and empty mean none.
fn value(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim())
        .filter(|s| !s.is_empty() && !matches!(*s, "N/A" | "no_information" | "not_supported"))
        .map(str::to_string)
}

/// The fields of one CSV line (RFC 4180): a quoted field may hold commas, and `""` in it
/// is a quote.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}

/// One row's cells, as many as the header's. IAM user names may contain commas ("+=,.@_-",
/// IAM's name rules), and the user's name stands in both `user` and `arn`: unquoted,
/// such a row has more cells than the header. Every later column holds no comma (times,
/// booleans, Regions, service names), so the extra cells belong to the first two
/// columns, split where the ARN starts.
fn row(line: &str, columns: usize) -> Vec<String> {
    let mut cells = fields(line);
    let extra = cells.len().saturating_sub(columns);
    if extra == 0 || columns < 2 {
        return cells;
    }
    let rest = cells.split_off(cells.len() - (columns - 2));
    let Some(arn_at) = cells.iter().position(|c| c.starts_with("arn:")) else {
        cells.extend(rest);
        return cells;
    };
    let arn = cells.split_off(arn_at).join(",");
    let mut out = vec![cells.join(","), arn];
    out.extend(rest);
    out
}

/// Each user's row of the report's CSV (IAM's documented columns, found by header):
/// its ARN and a reader of its cells by column name. The root account's row
/// (`<root_account>`) is left out: it is no principal of the scan.
fn user_rows(csv: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<String> = fields(header)
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let cells: BTreeMap<String, String> = columns
            .iter()
            .cloned()
            .zip(row(line, columns.len()))
            .collect();
        let (Some(user), Some(arn)) = (cells.get("user"), value(cells.get("arn"))) else {
            continue;
        };
        if user == "<root_account>" {
            continue;
        }
        out.push((arn, cells));
    }
    out
}

/// The report's CSV, each user's credentials by ARN.
pub fn parse_credential_report(csv: &str) -> BTreeMap<String, Credentials> {
    let mut out = BTreeMap::new();
    for (arn, cells) in user_rows(csv) {
        let get = |name: &str| cells.get(name);
        let mut access_keys = Vec::new();
        for n in 1..=2 {
            let active = get(&format!("access_key_{n}_active")).is_some_and(|v| v == "true");
            if active {
                access_keys.push(AccessKeyUse {
                    id: None,
                    created: value(get(&format!("access_key_{n}_last_rotated"))),
                    last_used: value(get(&format!("access_key_{n}_last_used_date"))),
                    last_used_service: value(get(&format!("access_key_{n}_last_used_service"))),
                });
            }
        }
        out.insert(
            arn,
            Credentials {
                password_enabled: get("password_enabled").is_some_and(|v| v == "true"),
                password_last_used: value(get("password_last_used")),
                password_last_changed: value(get("password_last_changed")),
                access_keys,
            },
        );
    }
    out
}

/// Each user's latest use of its password or of either access key, active or not (a
/// key deactivated after its last use was used all the same), by ARN: what an
/// incremental run asks of the report. `None`: no use recorded.
pub fn latest_uses(csv: &str) -> BTreeMap<String, Option<String>> {
    let used = [
        "password_last_used",
        "access_key_1_last_used_date",
        "access_key_2_last_used_date",
    ];
    user_rows(csv)
        .into_iter()
        .map(|(arn, cells)| {
            let latest = used
                .iter()
                .filter_map(|c| value(cells.get(*c)))
                .filter_map(|t| Some((crate::domain::clock::utc::parse(&t)?, t)))
                .max()
                .map(|(_, t)| t);
            (arn, latest)
        })
        .collect()
}

/// The credential report as read: each user's credentials, each user's latest use, and
/// when IAM generated it.
#[derive(Debug, Clone, Default)]
pub struct CredentialReport {
    pub users: BTreeMap<String, Credentials>,
    pub latest_uses: BTreeMap<String, Option<String>>,
    pub generated: Option<String>,
}

/// Two times name the same instant (the report and ListAccessKeys spell them apart).
fn same_instant(a: &str, b: &str) -> bool {
    match (
        crate::domain::clock::utc::parse(a),
        crate::domain::clock::utc::parse(b),
    ) {
        (Some(x), Some(y)) => x.unix_timestamp() == y.unix_timestamp(),
        _ => false,
    }
}

/// An IAM answer about one user: NoSuchEntity means the user is gone (the credential
/// report may be up to four hours old), anything else is an error of the run.
fn gone_or<E, R>(operation: &str, err: aws_sdk_iam::error::SdkError<E, R>) -> Result<(), IamError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    if err.code() == Some("NoSuchEntity") {
        Ok(())
    } else {
        Err(classify(operation, err))
    }
}

impl Directory {
    /// Every user's credentials, by ARN, as the credential report has them (IAM serves a
    /// report up to four hours old; key ids are not in it). IAM's generation is waited
    /// for until `until` (the invocation's budget) at the latest.
    pub async fn credential_report(&self, until: Instant) -> Result<CredentialReport, IamError> {
        let iam = &self.iam;
        let started = Instant::now();
        let mut complete = false;
        for _ in 0..REPORT_ATTEMPTS {
            self.pacer.acquire().await;
            let out = iam
                .generate_credential_report()
                .send()
                .await
                .map_err(|e| classify("GenerateCredentialReport", e))?;
            if out.state == Some(ReportStateType::Complete) {
                complete = true;
                break;
            }
            if Instant::now() + REPORT_PAUSE >= until {
                break;
            }
            tokio::time::sleep(REPORT_PAUSE).await;
        }
        if !complete {
            return Err(IamError::ReportNotReady {
                seconds: started.elapsed().as_secs() as u32,
            });
        }
        self.pacer.acquire().await;
        let report = iam
            .get_credential_report()
            .send()
            .await
            .map_err(|e| classify("GetCredentialReport", e))?;
        let csv = report.content.map(|b| b.into_inner()).unwrap_or_default();
        let csv = String::from_utf8_lossy(&csv);
        Ok(CredentialReport {
            users: parse_credential_report(&csv),
            latest_uses: latest_uses(&csv),
            generated: report.generated_time.as_ref().and_then(time),
        })
    }

    /// Re-reads, fresh, what the report says is unused (`stale`): the password's last use
    /// (GetUser) and each such key's id and last use (ListAccessKeys,
    /// GetAccessKeyLastUsed), so nothing is judged on data up to four hours old. `None`:
    /// the user is gone.
    pub async fn confirm_credentials(
        &self,
        arn: &str,
        mut creds: Credentials,
        stale: impl Fn(Option<&str>) -> bool,
    ) -> Result<Option<Credentials>, IamError> {
        let iam = &self.iam;
        let name = arn.rsplit('/').next().unwrap_or_default();
        if creds.password_enabled && stale(creds.password_last_used.as_deref()) {
            self.pacer.acquire().await;
            match iam.get_user().user_name(name).send().await {
                Ok(out) => {
                    creds.password_last_used = out
                        .user
                        .and_then(|u| u.password_last_used)
                        .as_ref()
                        .and_then(time);
                }
                Err(e) => return gone_or("GetUser", e).map(|_| None),
            }
        }
        if !creds
            .access_keys
            .iter()
            .any(|k| stale(k.last_used.as_deref()))
        {
            return Ok(Some(creds));
        }
        self.pacer.acquire().await;
        let keys = match iam.list_access_keys().user_name(name).send().await {
            Ok(out) => out.access_key_metadata,
            Err(e) => return gone_or("ListAccessKeys", e).map(|_| None),
        };
        // The report names keys by position, not id: each is matched to an active key
        // created at the same instant, one not matched yet (two keys created in the same
        // second are two keys, each re-read by its own id).
        let mut taken: Vec<String> = Vec::new();
        for key in creds.access_keys.iter_mut() {
            if !stale(key.last_used.as_deref()) {
                continue;
            }
            key.id = keys
                .iter()
                .filter(|k| k.status == Some(StatusType::Active))
                .filter(|k| {
                    k.access_key_id
                        .as_ref()
                        .is_some_and(|id| !taken.contains(id))
                })
                .find(|k| {
                    let created = k.create_date.as_ref().and_then(time);
                    matches!((&created, &key.created), (Some(c), Some(r)) if same_instant(c, r))
                })
                .and_then(|k| k.access_key_id.clone());
            taken.extend(key.id.clone());
            let Some(id) = key.id.clone() else { continue };
            self.pacer.acquire().await;
            match iam
                .get_access_key_last_used()
                .access_key_id(&id)
                .send()
                .await
            {
                Ok(out) => {
                    let used = out.access_key_last_used;
                    key.last_used = used
                        .as_ref()
                        .and_then(|u| u.last_used_date.as_ref())
                        .and_then(time);
                    key.last_used_service = used
                        .map(|u| u.service_name)
                        .filter(|s| !s.is_empty() && s != "N/A");
                }
                Err(e) => {
                    gone_or("GetAccessKeyLastUsed", e)?;
                    key.id = None;
                }
            }
        }
        Ok(Some(creds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_report_reads_by_column_name() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
quiet,arn:aws:iam::123456789012:user/quiet,2026-01-01T00:00:00+00:00,true,no_information,2026-01-01T00:00:00+00:00,N/A,false,true,2026-01-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
busy,arn:aws:iam::123456789012:user/busy,2026-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-01-02T00:00:00+00:00,2026-11-20T00:00:00+00:00,us-east-1,s3,true,2026-02-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A";
        let all = parse_credential_report(csv);
        assert_eq!(all.len(), 2, "the root row is no principal");
        let quiet = &all["arn:aws:iam::123456789012:user/quiet"];
        assert!(quiet.password_enabled);
        assert_eq!(quiet.password_last_used, None, "no_information: never used");
        assert_eq!(
            quiet.password_last_changed.as_deref(),
            Some("2026-01-01T00:00:00+00:00")
        );
        assert_eq!(quiet.access_keys.len(), 1);
        assert_eq!(quiet.access_keys[0].last_used, None);
        let busy = &all["arn:aws:iam::123456789012:user/busy"];
        assert!(!busy.password_enabled);
        assert_eq!(busy.access_keys.len(), 2);
        assert_eq!(busy.access_keys[0].last_used_service.as_deref(), Some("s3"));
        assert_eq!(
            busy.access_keys[1].created.as_deref(),
            Some("2026-02-02T00:00:00+00:00")
        );
        assert!(same_instant(
            "2026-02-02T00:00:00+00:00",
            "2026-02-02T00:00:00Z"
        ));
        assert!(parse_credential_report("").is_empty());
    }

    #[test]
    fn a_users_latest_use_counts_every_key_active_or_not() {
        let csv = "user,arn,password_last_used,access_key_1_active,access_key_1_last_used_date,access_key_2_active,access_key_2_last_used_date\n\
<root_account>,arn:aws:iam::123456789012:root,2026-11-30T00:00:00+00:00,false,N/A,false,N/A\n\
ann,arn:aws:iam::123456789012:user/ann,2026-10-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,false,2026-11-20T00:00:00+00:00\n\
idle,arn:aws:iam::123456789012:user/idle,no_information,false,N/A,false,N/A";
        let latest = latest_uses(csv);
        assert_eq!(latest.len(), 2, "the root row is no principal");
        assert_eq!(
            latest["arn:aws:iam::123456789012:user/ann"].as_deref(),
            Some("2026-11-20T00:00:00+00:00"),
            "the key deactivated after its last use was used all the same"
        );
        assert_eq!(latest["arn:aws:iam::123456789012:user/idle"], None);
    }

    #[test]
    fn a_user_name_with_commas_keeps_its_row_quoted_or_not() {
        let header = "user,arn,user_creation_time,password_enabled,password_last_used,access_key_1_active,access_key_1_last_used_date";
        for row in [
            r#""a,b","arn:aws:iam::123456789012:user/ops/a,b",2026-01-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,true,N/A"#,
            "a,b,arn:aws:iam::123456789012:user/ops/a,b,2026-01-01T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,true,N/A",
        ] {
            let all = parse_credential_report(&format!("{header}\n{row}"));
            let user = &all["arn:aws:iam::123456789012:user/ops/a,b"];
            assert!(user.password_enabled, "{row}");
            assert_eq!(
                user.password_last_used.as_deref(),
                Some("2026-11-01T00:00:00+00:00"),
                "{row}"
            );
            assert_eq!(user.access_keys.len(), 1, "{row}");
        }
        assert_eq!(fields(r#"x,"say ""hi""",y"#), ["x", r#"say "hi""#, "y"]);
    }
}
