//! Synthetic principals with `page_bench`'s mix (5–60 services each, a few with 300+,
//! mixed classes, some changes, granting policies, a few ACTION_LEVEL actions, one hostile
//! policy name), for the page and scale benchmarks and the browser tests. Deterministic.

use last_accessed::domain::arn::PrincipalType;
use last_accessed::domain::job::{JobError, JobStatus};
use last_accessed::domain::outcome::{ActionCell, PrincipalOutcome, ServiceCell};
use last_accessed::domain::report::ClassChanges;
use last_accessed::domain::run::RunRef;
use last_accessed::domain::usage::Usage;

pub const AS_OF: i64 = 1_795_564_800; // 2026-11-25T00:00:00Z
pub const AS_OF_TEXT: &str = "2026-11-25T00:00:00Z";
const UNUSED_DAYS: i64 = 90;
const HOSTILE_POLICY: &str = "</script><script>alert(1)</script> (Inline)";

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Some 380 service namespaces: the common ones first (most granted), then the long tail.
pub fn namespaces() -> Vec<String> {
    let common = [
        "s3",
        "sts",
        "iam",
        "ec2",
        "lambda",
        "logs",
        "cloudwatch",
        "kms",
        "dynamodb",
        "sqs",
        "sns",
        "ssm",
        "secretsmanager",
        "ecr",
        "ecs",
        "eks",
        "elasticloadbalancing",
        "autoscaling",
        "cloudformation",
        "route53",
        "rds",
        "events",
        "states",
        "apigateway",
        "execute-api",
        "kinesis",
        "firehose",
        "glue",
        "athena",
        "xray",
        "cloudtrail",
        "config",
        "tag",
        "organizations",
        "acm",
        "elasticache",
        "es",
        "redshift",
        "sagemaker",
        "codebuild",
        "codepipeline",
        "codecommit",
        "codedeploy",
        "cognito-idp",
        "cognito-identity",
        "backup",
        "guardduty",
        "securityhub",
        "inspector2",
        "access-analyzer",
        "support",
        "trustedadvisor",
        "ce",
        "budgets",
        "health",
        "servicequotas",
        "ram",
        "wafv2",
        "shield",
        "cloudfront",
    ];
    let mut all: Vec<String> = common.iter().map(|s| s.to_string()).collect();
    for i in 0..(380 - common.len()) {
        all.push(format!("svc{i:03}"));
    }
    all
}

pub fn iso(t: i64) -> String {
    last_accessed::domain::clock::utc::format(
        time::OffsetDateTime::from_unix_timestamp(t).expect("a valid instant"),
    )
}

/// Picks `n` distinct services, skewed towards the common ones.
pub fn pick_services(rng: &mut Rng, all: &[String], n: usize) -> Vec<usize> {
    let n = n.min(all.len());
    let mut chosen = Vec::with_capacity(n);
    let mut taken = vec![false; all.len()];
    while chosen.len() < n {
        // Half the draws from the 60 common services, half from everything.
        let i = if rng.chance(50) {
            rng.below(60) as usize
        } else {
            rng.below(all.len() as u64) as usize
        };
        if !taken[i] {
            taken[i] = true;
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    chosen
}

pub fn outcome(rng: &mut Rng, i: usize, all: &[String], policies: &[String]) -> PrincipalOutcome {
    let roll = if i == 0 { 0 } else { rng.below(10) };
    let (kind, name) = match roll {
        0..=4 => (PrincipalType::Role, format!("role/app-{i:05}")),
        5..=7 => (PrincipalType::User, format!("user/person-{i:05}")),
        8 => (PrincipalType::Group, format!("group/team-{i:05}")),
        _ => (PrincipalType::Policy, format!("policy/policy-{i:05}")),
    };
    let arn = format!("arn:aws:iam::123456789012:{name}");
    let report_key = format!("reports/principals/{}.json", name.replace('/', "_"));
    // The first principal is a role with a report, and carries the hostile policy name.
    let first = i == 0;
    let status = match rng.below(1000) {
        _ if first => JobStatus::Completed,
        0..=4 => JobStatus::Failed,
        5..=9 => JobStatus::NotFound,
        10..=12 => JobStatus::Denied,
        13 => JobStatus::TimedOut,
        _ => JobStatus::Completed,
    };
    if status != JobStatus::Completed {
        return PrincipalOutcome {
            arn,
            principal_id: Some(format!("AROA{i:017}")),
            principal_type: kind,
            status,
            report_key,
            account: "123456789012".into(),
            services_granted: 0,
            services_active: 0,
            services_stale: 0,
            services_never_used: 0,
            error: Some(JobError {
                code: status.as_str().to_string(),
                message: format!("IAM said no to {name}"),
            }),
            services: Vec::new(),
            changes: None,
            recommended: None,
            fingerprint: None,
            data_as_of: None,
            entities: false,
            incremental: None,
        };
    }
    let count = if rng.chance(1) {
        300 + rng.below(80) as usize
    } else {
        5 + rng.below(56) as usize
    };
    let with_policies = first || (kind != PrincipalType::Policy && rng.chance(60));
    let with_actions = rng.chance(5);
    let mut services = Vec::with_capacity(count);
    let (mut active, mut stale, mut never) = (0, 0, 0);
    for s in pick_services(rng, all, count) {
        let ns = &all[s];
        let roll = if first && services.is_empty() {
            50
        } else {
            rng.below(100)
        };
        let (class, days, last) = if roll < 45 {
            let ago = rng.below((UNUSED_DAYS * 86_400) as u64) as i64;
            active += 1;
            (Usage::Active, Some(ago / 86_400), Some(iso(AS_OF - ago)))
        } else if roll < 70 {
            let ago = UNUSED_DAYS * 86_400 + rng.below(310 * 86_400) as i64;
            stale += 1;
            (Usage::Stale, Some(ago / 86_400), Some(iso(AS_OF - ago)))
        } else {
            never += 1;
            (Usage::NeverUsed, None, None)
        };
        let mut cell_policies = Vec::new();
        if with_policies && class != Usage::Active {
            for _ in 0..(1 + rng.below(3)) {
                cell_policies.push(policies[rng.below(policies.len() as u64) as usize].clone());
            }
            if first {
                cell_policies.push(HOSTILE_POLICY.to_string());
            }
        }
        let mut actions = Vec::new();
        if with_actions && s < 4 {
            for a in 0..(10 + rng.below(30)) {
                let used = class != Usage::NeverUsed && rng.chance(40);
                let ago = rng.below(200 * 86_400) as i64;
                actions.push(ActionCell {
                    action: format!("{ns}:Action{a:02}"),
                    class: if !used {
                        Usage::NeverUsed
                    } else if ago >= UNUSED_DAYS * 86_400 {
                        Usage::Stale
                    } else {
                        Usage::Active
                    },
                    last: used.then(|| iso(AS_OF - ago)),
                });
            }
        }
        services.push(ServiceCell {
            ns: ns.clone(),
            class,
            days,
            last,
            policies: cell_policies,
            actions,
        });
    }
    let previous = RunRef {
        run_id: "previous-run".into(),
        dt: "2026-11-24".into(),
        as_of: "2026-11-24T00:00:00Z".into(),
        account_keys: true,
    };
    let changes = match rng.below(100) {
        0..=4 => None,
        5..=14 => Some(last_accessed::domain::report::Changes {
            previous_run: Some(previous),
            new: true,
            recreated: false,
            services: ClassChanges::default(),
            actions: None,
        }),
        15..=34 => {
            let mut c = ClassChanges::default();
            for s in services.iter().take(1 + rng.below(4) as usize) {
                match s.class {
                    Usage::Active => c.newly_used.push(s.ns.clone()),
                    Usage::Stale => c.newly_stale.push(s.ns.clone()),
                    Usage::NeverUsed => c.granted_added.push(s.ns.clone()),
                }
            }
            if rng.chance(30) {
                c.granted_removed
                    .push(all[rng.below(all.len() as u64) as usize].clone());
            }
            Some(last_accessed::domain::report::Changes {
                previous_run: Some(previous),
                new: false,
                recreated: false,
                services: c,
                actions: None,
            })
        }
        _ => Some(last_accessed::domain::report::Changes {
            previous_run: Some(previous),
            new: false,
            recreated: false,
            services: ClassChanges::default(),
            actions: None,
        }),
    };
    PrincipalOutcome {
        arn,
        principal_id: Some(format!("AROA{i:017}")),
        principal_type: kind,
        status,
        report_key,
        account: "123456789012".into(),
        services_granted: services.len() as u32,
        services_active: active,
        services_stale: stale,
        services_never_used: never,
        error: None,
        services,
        changes,
        recommended: None,
        fingerprint: None,
        data_as_of: None,
        entities: false,
        incremental: None,
    }
}

/// The policy names principals are granted through.
pub fn policies() -> Vec<String> {
    (0..200)
        .map(|i| match i % 3 {
            0 => format!("AppPolicy{i:03} (Managed)"),
            1 => format!("inline-{i:03} (Inline)"),
            _ => format!("ReadOnly{i:03} (AWS Managed)"),
        })
        .collect()
}
