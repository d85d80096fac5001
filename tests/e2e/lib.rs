//! Helpers for the end-to-end tests: the local stack's clients (from `.local/env`),
//! seeding the emulator, running an execution to its end, reading reports.

use last_accessed::adapters::s3::ReportStore;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const ACCOUNT: &str = "123456789012";

/// The local stack, as `tests/local/stack.py up` described it in `.local/env`.
pub struct Stack {
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub state_machine: String,
    pub bucket: String,
    emulator: String,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `make test-e2e` (or `make local-up && source .local/env`)")
    })
}

impl Stack {
    pub async fn from_env() -> Stack {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let s3_conf = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build();
        Stack {
            iam: aws_sdk_iam::Client::new(&conf),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            sfn: aws_sdk_sfn::Client::new(&conf),
            state_machine: env("STATE_MACHINE_ARN"),
            bucket: env("REPORT_BUCKET"),
            emulator: env("EMULATOR_URL"),
        }
    }

    /// A JSON request to one of the emulator's control endpoints (GET sends no body),
    /// through ureq (HTTP/1.1 with chunked bodies, keep-alive and timeouts handled): a
    /// stuck server fails the test after 30 s instead of hanging it, and any answer but a
    /// 2xx fails it with the body.
    pub fn control(&self, method: &str, path: &str, body: &Value) -> Value {
        let url = format!("{}{path}", self.emulator.trim_end_matches('/'));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let sent = if method == "GET" {
            agent.get(&url).call()
        } else {
            agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string())
        };
        let mut response = sent.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(text.trim()).unwrap_or(Value::Null)
    }

    pub fn configure(&self, config: Value) {
        self.control("POST", "/moto-api/iam-access-advisor/config", &config);
    }

    pub fn seed_activity(&self, records: Value) {
        self.control("POST", "/moto-api/iam-access-advisor/activity", &records);
    }

    pub fn stats(&self) -> Value {
        self.control("GET", "/moto-api/iam-access-advisor/stats", &Value::Null)
    }

    /// Starts an execution and waits for its end; returns (status, output or error, cause).
    pub async fn run(&self, name: &str, input: Value) -> Execution {
        let started = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .expect("StartExecution");
        let arn = started.execution_arn;
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let d = self
                .sfn
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .expect("DescribeExecution");
            if d.status.as_str() != "RUNNING" {
                return Execution {
                    status: d.status.as_str().to_string(),
                    output: d
                        .output
                        .as_deref()
                        .map(|o| serde_json::from_str(o).expect("JSON output")),
                    error: d.error,
                    cause: d.cause,
                };
            }
            assert!(
                Instant::now() < deadline,
                "execution {name} still running after 300 s"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Every key under `prefix` (all pages: the bucket outgrows one listing).
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        ReportStore::new(self.s3.clone(), self.bucket.clone())
            .list_keys(prefix)
            .await
            .expect("ListObjectsV2")
    }

    pub async fn json(&self, key: &str) -> Value {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {key}: {e:?}"));
        let bytes = out.body.collect().await.unwrap().into_bytes();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert_eq!(
            text.trim_end().lines().count(),
            1,
            "{key} is one line of JSON"
        );
        serde_json::from_str(text).unwrap()
    }

    /// The report of `arn` in run `run`, found through the run summary's key list.
    pub async fn report(&self, summary: &Value, arn: &str) -> Value {
        let keys = summary["report_keys"].as_array().expect("report_keys");
        for key in keys {
            let report = self.json(key.as_str().unwrap()).await;
            if report["arn"] == arn {
                return report;
            }
        }
        panic!("no report for {arn} in {}", summary["run_id"]);
    }

    pub async fn create_role(&self, path: &str, name: &str, policy: Value) -> String {
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let arn = self
            .iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("CreateRole")
            .role
            .unwrap()
            .arn;
        self.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("inline")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("PutRolePolicy");
        arn
    }

    /// Creates `n` roles `{prefix}-{i}` under `path` (allowed s3:ListBucket), 25 at a time.
    pub async fn create_roles(&self, path: &str, prefix: &str, n: usize) -> Vec<String> {
        let mut arns = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(25) {
            let created = futures::future::join_all(chunk.iter().map(|i| {
                let name = format!("{prefix}-{i}");
                async move {
                    self.create_role(path, &name, allow(&["s3:ListBucket"]))
                        .await
                }
            }))
            .await;
            arns.extend(created);
        }
        arns
    }

    /// The name of the stack's role whose name contains `part` (CloudFormation names
    /// roles `STACK-LogicalId-SUFFIX`).
    pub async fn role_named_like(&self, part: &str) -> String {
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_roles()
                .set_marker(marker)
                .send()
                .await
                .expect("ListRoles");
            if let Some(role) = out.roles.iter().find(|r| r.role_name.contains(part)) {
                return role.role_name.clone();
            }
            marker = out.marker;
            assert!(marker.is_some(), "no role named like {part}");
        }
    }

    pub async fn create_user(&self, path: &str, name: &str, policy: Option<Value>) -> String {
        let arn = self
            .iam
            .create_user()
            .user_name(name)
            .path(path)
            .send()
            .await
            .expect("CreateUser")
            .user
            .unwrap()
            .arn;
        if let Some(policy) = policy {
            self.iam
                .put_user_policy()
                .user_name(name)
                .policy_name("inline")
                .policy_document(policy.to_string())
                .send()
                .await
                .expect("PutUserPolicy");
        }
        arn
    }

    pub async fn create_group(
        &self,
        path: &str,
        name: &str,
        policy: Value,
        members: &[&str],
    ) -> String {
        let arn = self
            .iam
            .create_group()
            .group_name(name)
            .path(path)
            .send()
            .await
            .expect("CreateGroup")
            .group
            .unwrap()
            .arn;
        self.iam
            .put_group_policy()
            .group_name(name)
            .policy_name("inline")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("PutGroupPolicy");
        for member in members {
            self.iam
                .add_user_to_group()
                .group_name(name)
                .user_name(*member)
                .send()
                .await
                .expect("AddUserToGroup");
        }
        arn
    }

    pub async fn create_policy(
        &self,
        path: &str,
        name: &str,
        policy: Value,
        roles: &[&str],
    ) -> String {
        let arn = self
            .iam
            .create_policy()
            .policy_name(name)
            .path(path)
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("CreatePolicy")
            .policy
            .unwrap()
            .arn
            .unwrap();
        for role in roles {
            self.iam
                .attach_role_policy()
                .role_name(*role)
                .policy_arn(&arn)
                .send()
                .await
                .expect("AttachRolePolicy");
        }
        arn
    }
}

pub struct Execution {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Execution {
    /// The output of an execution that must have succeeded (else the test fails with
    /// the execution's error and cause).
    pub fn succeeded(self) -> Value {
        assert_eq!(
            self.status, "SUCCEEDED",
            "{:?} {:?}",
            self.error, self.cause
        );
        self.output.expect("a succeeded execution has an output")
    }
}

/// An IAM policy allowing `actions` on everything.
pub fn allow(actions: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

/// RFC 3339 (second precision, `Z`) for `days` ago.
pub fn days_ago(days: i64) -> String {
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
        - time::Duration::days(days)
        - time::Duration::hours(1);
    t.format(&Rfc3339).unwrap()
}

/// A unique execution / resource name for one test run.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}", nanos % 1_000_000_000_000)
}

/// The namespaces of a report's services, in the report's order.
pub fn namespaces(report: &Value) -> Vec<String> {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["namespace"].as_str().unwrap().to_string())
        .collect()
}

/// One service of a report (the test fails if it is missing).
pub fn service<'a>(report: &'a Value, namespace: &str) -> &'a Value {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["namespace"] == namespace)
        .unwrap_or_else(|| panic!("{} has no {namespace}", report["arn"]))
}

/// The ARNs of a service's entities, sorted.
pub fn entity_arns(service: &Value) -> Vec<String> {
    let mut arns: Vec<String> = service["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["arn"].as_str().unwrap().to_string())
        .collect();
    arns.sort();
    arns
}

/// The run summary a succeeded execution's output names.
pub async fn summary_of(stack: &Stack, output: &Value) -> Value {
    stack
        .json(output["summary_key"].as_str().expect("summary_key"))
        .await
}

// ------------------------------------------------------------------ the `ila` binary

pub fn ila_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = target.join("debug/ila");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --all-targets` first",
        path.display()
    );
    path
}

/// Runs `ila ARGS` with the test's environment (the stack's settings from `.local/env`).
pub fn ila(args: &[&str]) -> Output {
    Command::new(ila_path())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ila {args:?}: {e}"))
}

pub fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// `ila ARGS`, which must exit with `code`; returns its stdout.
pub fn ila_ok(args: &[&str], code: i32) -> String {
    let out = ila(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "ila {args:?}\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn ila_json(args: &[&str]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let stdout = ila_ok(&all, 0);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("ila {all:?}: not JSON ({e}):\n{stdout}"))
}

pub fn assert_has(haystack: &str, needles: &[&str]) {
    for needle in needles {
        assert!(haystack.contains(needle), "no {needle:?} in:\n{haystack}");
    }
}
