"""The bench's incremental part (INCREMENTAL=1): churn, an incremental scan, a full scan, compared.

Run by bench.py after its full scan (the baseline figures, unchanged), on the same stack:

1. **Churn** (`plan_churn`, then `apply_churn`): CHURN x the seeded principals, picked
   deterministically (by SEED and CHURN). For most of them (CHURN_NEW_USE, 80 %) a new use
   now, of a service they are granted, seeded as seeding seeds activity (the emulator's
   activity endpoint): a role uses it itself; a user with its own access key (created
   for it: a seeded user has none, and IAM records a user's use against a credential, which
   the credential report the rule reads shows); a group through one of its members, a
   managed policy through one of its entities (a member of a group it is attached to). For
   the rest a new permission: an inline policy granting a service the principal lacked
   (PutRolePolicy / PutUserPolicy / PutGroupPolicy), for a managed policy a new default
   version granting one more (CreatePolicyVersion). A group without members or a policy
   attached to nothing cannot be used: it gets the new permission instead, and a
   principal granted every service (`*`) gets the new use. The emulator's throttle is off
   meanwhile (the churn is not the scan's), then back at R.
2. **The incremental scan**: the same run input plus `"incremental": true` (and
   INCREMENTAL_RUN_INPUT, JSON merged into it alone, e.g. `{"full_refresh_days": 3}`), its IAM calls
   (the emulator's stats, throttled ones included, as in iam_calls_per_principal) and its
   wall time (the execution's start to stop). `carried`, `scanned` and `sampled` are its
   summary's `incremental`.
3. **A full scan** right after it (the same run input as the baseline).
4. **The comparison**: the two runs' indexes (`reports/runs/dt=…/run=…/principals.json`),
   principal by principal: the status and every service cell's class and last use (and at
   ACTION_LEVEL every tracked action's). `incremental_matches_full: true` only when every
   principal is in both with the same cells; on false the first differences are printed.

Figures (after bench.py's): incremental_iam_calls_per_principal, incremental_wall_s,
carried, scanned, sampled, incremental_matches_full. The `#` lines say what the churn
touched and why the scanned ones were scanned: the principals the churn changed and
those whose rule outcome it moves (a used user's groups, a used entity's managed
policies, a changed group's members, a changed policy's entities); the sample; the
others (the stack's own roles, used within the rule's margins before the baseline scan).

Reading the figures. A scanned principal costs two IAM calls (Generate + Get), a carried
one none; Plan adds a handful (the lists, GetAccountAuthorizationDetails, the credential
report). So incremental_iam_calls_per_principal ~ 2 x scanned / principals. scanned is
more than CHURN x principals: a new permission moves the fingerprint of the principal's
members or entities, and a used entity's groups and managed policies that grant the
service it used are rescanned (the others are carried on its word: its fresh report,
scanned first, shows it used none of their services). In the seeded account (each
customer-managed policy attached to ~2.5 random entities, 60 % of the users in a group of
~6), at N=2000 CHURN=0.1 the 200 changes and those they moved were 401 scanned, plus the
2 % sample (31) and 3 roles used in the 16 h before the baseline scan (IAM's 4 h + a 12 h
session) = 435 scanned, 883 calls over 2,009 principals, 0.440 (0.539 before groups and
policies were carried on their witnesses' word). Seeded users' old activity uses no credential (they have none), which the
credential report cannot show: the rule (rightly, by what IAM says) treats them as quiet.
The baseline reads no credential report (recommendations off), so the incremental run's
report is generated after the churn and shows the churn's key uses; a baseline that read
one (RUN_INPUT='{"report": {"recommendations": true}}') leaves a report younger than four
hours that IAM does not regenerate, the churned users look quiet, the sample catches it
(mismatches, fallback_accounts) and the account is scanned in full.
"""
from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from seed import SERVICES

CHURN_NEW_USE = 0.8  # the share of the churned principals given a new use (the rest: a new permission)
CHURN_POLICY = "bench-churn"
DIFFERENCES_SHOWN = 10


def kind_of(arn: str) -> str:
    return arn.split(":", 5)[5].split("/", 1)[0]


def name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


@dataclass
class Change:
    """One churned principal: `use` (by `actor`, of `service`) or `policy` (granting `service`)."""
    arn: str
    what: str
    service: str
    actor: str | None = None


@dataclass
class Churn:
    changes: list = field(default_factory=list)
    touched: set = field(default_factory=set)  # principals whose rule outcome the changes move
    keys_created: int = 0
    iam_calls: int = 0
    records: int = 0


# ---------------------------------------------------------------- the plan (pure)
def _users_of(truth, arn):
    """The users and roles that act for `arn`: itself, a group's members, a policy's entities
    (a group it is attached to: the group's members)."""
    kind = kind_of(arn)
    if kind in ("user", "role"):
        return [arn]
    if kind == "group":
        return sorted(truth.members.get(arn, []))
    out = []
    for entity in truth.attached.get(arn, []):
        out += _users_of(truth, entity) if kind_of(entity) == "group" else [entity]
    return sorted(set(out))


def _services(granted):
    return [s[0] for s in SERVICES] if "*" in granted else sorted(set(granted))


def _lacking(granted):
    return [] if "*" in granted else [s[0] for s in SERVICES if s[0] not in set(granted)]


def plan_churn(truth, share: float, seed_value: int = 42) -> list[Change]:
    """CHURN x the seeded principals and what changes for each, deterministically."""
    rng = random.Random(f"churn:{seed_value}:{share}")
    arns = sorted(truth.arns)
    picked = rng.sample(arns, min(len(arns), round(share * len(arns))))
    uses = round(CHURN_NEW_USE * len(picked))
    changes = []
    for i, arn in enumerate(picked):
        granted = truth.granted.get(arn, [])
        actors, services, lacking = _users_of(truth, arn), _services(granted), _lacking(granted)
        can_use, can_grant = bool(actors and services), bool(lacking)
        if can_use and (i < uses or not can_grant):
            changes.append(Change(arn, "use", rng.choice(services), actor=rng.choice(actors)))
        elif can_grant:
            changes.append(Change(arn, "policy", rng.choice(lacking)))
    return changes


def touched_by(truth, changes) -> set:
    """The principals whose rule outcome the changes move: a used principal, and those of
    its groups and of the managed policies attached to it or them that grant the service it
    used (the others are carried on its word: its fresh report shows it used none of theirs);
    a changed principal, and, for a group its members, for a managed policy its entities
    (and their members): their fingerprints include it (docs/design.md, "Incremental
    scans")."""
    def grants(arn, service):
        granted = truth.granted.get(arn, [])
        return "*" in granted or service in granted

    groups_of, policies_of = {}, {}
    for group, users in truth.members.items():
        for u in users:
            groups_of.setdefault(u, []).append(group)
    for policy, entities in truth.attached.items():
        for e in entities:
            policies_of.setdefault(e, []).append(policy)
    out = set()
    for c in changes:
        if c.what == "use":
            out.add(c.actor)
            holders = [c.actor] + groups_of.get(c.actor, [])
            out.update(g for g in holders[1:] if grants(g, c.service))
            for h in holders:
                out.update(p for p in policies_of.get(h, []) if grants(p, c.service))
        else:
            out.add(c.arn)
            if kind_of(c.arn) == "group":
                out.update(truth.members.get(c.arn, []))
            elif kind_of(c.arn) == "policy":
                for e in truth.attached.get(c.arn, []):
                    out.add(e)
                    out.update(truth.members.get(e, []))
    return out


# ---------------------------------------------------------------- applying it
def grant(service):
    actions = dict(SERVICES)[service]
    return {"Effect": "Allow", "Action": [f"{service}:{a}" for a in actions], "Resource": "*"}


def apply_churn(endpoint, truth, changes, post, now=None) -> Churn:
    """Makes the changes: IAM calls as the administrator, activity through the emulator
    (`post(url, records)`)."""
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    now = now or datetime.now(timezone.utc)
    at = (now - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    churn = Churn(changes=changes, touched=touched_by(truth, changes))
    keys, records = {}, []
    for c in changes:
        if c.what == "use":
            record = {"entity": c.actor, "service": c.service, "action": dict(SERVICES)[c.service][0],
                      "region": "us-east-1", "at": at}
            if kind_of(c.actor) == "user":
                if c.actor not in keys:
                    keys[c.actor] = iam.create_access_key(UserName=name_of(c.actor))["AccessKey"]["AccessKeyId"]
                    churn.iam_calls += 1
                record["access_key_id"] = keys[c.actor]
            records.append(record)
            continue
        doc = {"Version": "2012-10-17", "Statement": [grant(c.service)]}
        kind, name = kind_of(c.arn), name_of(c.arn)
        if kind == "policy":
            old = truth.documents[c.arn]
            doc = {**old, "Statement": list(old["Statement"]) + [grant(c.service)]}
            iam.create_policy_version(PolicyArn=c.arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)
        else:
            put = {"role": iam.put_role_policy, "user": iam.put_user_policy, "group": iam.put_group_policy}[kind]
            put(**{f"{kind.capitalize()}Name": name, "PolicyName": CHURN_POLICY, "PolicyDocument": json.dumps(doc)})
        churn.iam_calls += 1
    if records:
        post(endpoint.rstrip("/") + "/moto-api/iam-access-advisor/activity", records)
    churn.keys_created, churn.records = len(keys), len(records)
    return churn


# ---------------------------------------------------------------- a scan
@dataclass
class Scan:
    name: str
    status: str
    wall: float
    iam_calls: int
    throttled: int
    by_action: dict
    principals: int
    summary: dict
    index: list


def scan(sfn, s3, bucket, state_machine, control, http_json, run_input, name, say) -> Scan:
    """One execution to its end: its IAM calls (the emulator's stats), wall time, summary and index."""
    stats0 = http_json(control + "/stats")
    t0 = time.time()
    arn = sfn.start_execution(stateMachineArn=state_machine, name=name, input=json.dumps(run_input))["executionArn"]
    say(f"execution: {arn}")
    say(f"run input: {json.dumps(run_input)}")
    note = t0
    while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.time() - note > 60:
            st = http_json(control + "/stats")
            say(f"  … {time.time() - t0:.0f}s, IAM calls {st['total_calls'] - stats0['total_calls']}")
            note = time.time()
        time.sleep(0.5)
    stats1 = http_json(control + "/stats")
    wall = (d["stopDate"] - d["startDate"]).total_seconds() if d.get("stopDate") else time.time() - t0
    if d["status"] != "SUCCEEDED":
        say(f"execution ended {d['status']}: error={d.get('error')} cause={(d.get('cause') or '')[:500]}")
    key = json.loads(d.get("output") or "{}").get("summary_key")
    summary, index = {}, []
    if key:
        summary = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        index_key = key.rsplit("/", 1)[0] + "/principals.json"
        index = json.loads(s3.get_object(Bucket=bucket, Key=index_key)["Body"].read())
        say(f"summary: s3://{bucket}/{key}")
    by_action = {k: v - stats0["calls"].get(k, 0) for k, v in sorted(stats1["calls"].items()) if v - stats0["calls"].get(k, 0)}
    return Scan(name=name, status=d["status"], wall=wall, iam_calls=stats1["total_calls"] - stats0["total_calls"],
                throttled=stats1["total_throttled"] - stats0["total_throttled"], by_action=by_action,
                principals=summary.get("counts", {}).get("principals_planned", 0), summary=summary, index=index)


# ---------------------------------------------------------------- the comparison (pure)
def cells(row) -> dict:
    """A principal's index row as compared: its status, and per service its class and last
    use (with each tracked action's)."""
    out = {"status": row.get("status")}
    for c in row.get("services") or []:
        actions = tuple((a.get("action"), a.get("class"), a.get("last")) for a in c.get("actions") or [])
        out[c["ns"]] = (c.get("class"), c.get("last")) + ((actions,) if actions else ())
    return out


def compare(incremental_rows, full_rows):
    """(every principal in both with the same cells, [differences])."""
    a = {r["arn"]: cells(r) for r in incremental_rows}
    b = {r["arn"]: cells(r) for r in full_rows}
    diffs = []
    for arn in sorted(set(a) | set(b)):
        if arn not in a or arn not in b:
            diffs.append(f"{arn}: only in the {'full' if arn not in a else 'incremental'} run")
            continue
        for key in sorted(set(a[arn]) | set(b[arn])):
            if a[arn].get(key) != b[arn].get(key):
                diffs.append(f"{arn} {key}: incremental {a[arn].get(key)} / full {b[arn].get(key)}")
    return not diffs and bool(a), diffs


# ---------------------------------------------------------------- the whole part
def scanned_why(index, churn) -> Counter:
    """Why the incremental run's scanned principals were scanned, by what the bench knows:
    `sampled`, `churned` (changed or moved by the churn), `other` (per type)."""
    why = Counter()
    for row in index:
        mark = row.get("incremental")
        if mark == "carried":
            continue
        if mark in ("sample_matched", "sample_mismatched"):
            why["sampled"] += 1
        elif mark == "fallback":
            why["fallback"] += 1
        elif row["arn"] in churn.touched:
            why["churned"] += 1
        else:
            why[f"other {kind_of(row['arn'])}"] += 1
            why.setdefault("_others", []).append(row["arn"])
    return why


def run(ctx, run_input, say):
    """Churn, the incremental scan, a full scan, compared. `ctx`: sfn, s3, env, control,
    http_json, post, endpoint, truth, n, rate, job_seconds, fraction. Returns (comment lines,
    figure lines, ok)."""
    share = float(os.environ.get("CHURN", "0.1"))
    if not 0 <= share <= 1:
        raise SystemExit(f"bench: CHURN must be a share of the principals, 0 to 1 (got {share})")
    control, http_json, env = ctx["control"], ctx["http_json"], ctx["env"]
    throttle = {"rate": ctx["rate"], "burst": ctx["rate"], "fraction": ctx["fraction"]}
    http_json(control + "/config", {"throttle": {"rate": None, "burst": None, "fraction": 0.0}})
    changes = plan_churn(ctx["truth"], share, int(os.environ.get("SEED", "42")))
    churn = apply_churn(ctx["endpoint"], ctx["truth"], changes, ctx["post"])
    http_json(control + "/config", {"job_seconds": ctx["job_seconds"], "throttle": throttle})
    what = Counter(f"{c.what} {kind_of(c.arn)}" for c in changes)
    say(f"churn: {len(changes)} of {len(ctx['truth'].arns)} seeded principals (CHURN={share:g}): {json.dumps(dict(sorted(what.items())))}; "
        f"{churn.records} activity records, {churn.keys_created} access keys created, {churn.iam_calls} IAM calls (throttle off)")

    args = (ctx["sfn"], ctx["s3"], env["REPORT_BUCKET"], env["STATE_MACHINE_ARN"], control, http_json)
    stamp = int(time.time())
    extra = json.loads(os.environ.get("INCREMENTAL_RUN_INPUT") or "{}")  # e.g. {"incremental_sample_percent": 1}
    inc = scan(*args, {**run_input, "incremental": True, **extra}, f"bench-{ctx['n']}-incremental-{stamp}", say)
    full = scan(*args, dict(run_input), f"bench-{ctx['n']}-full-{stamp}", say)
    matches, diffs = compare(inc.index, full.index) if inc.index and full.index else (False, ["no index to compare"])
    for d in diffs[:DIFFERENCES_SHOWN]:
        say(f"difference: {d}")
    if len(diffs) > DIFFERENCES_SHOWN:
        say(f"difference: … {len(diffs) - DIFFERENCES_SHOWN} more")
    counts = inc.summary.get("incremental") or {}
    why = scanned_why(inc.index, churn)
    others = why.pop("_others", [])
    comments = [
        f"# incremental: CHURN={share:g} changed {len(changes)} principals ({sum(1 for c in changes if c.what == 'use')} a new use, "
        f"{sum(1 for c in changes if c.what == 'policy')} a new permission), which moves the rule for {len(churn.touched)} "
        f"(a used entity's groups and managed policies that grant what it used, a changed group's members, a changed "
        f"policy's entities)",
        f"# incremental: its scanned principals by why: {json.dumps(dict(sorted(why.items())))} (other: not touched by the churn: "
        f"the stack's own roles, or used within the rule's margins before the baseline scan); mismatches "
        f"{counts.get('mismatches')}, fallback_accounts {counts.get('fallback_accounts')}"
        + (f"; the others: {', '.join(others[:5])}{' …' if len(others) > 5 else ''}" if others else ""),
        f"# incremental: iam calls {inc.iam_calls} (throttled {inc.throttled}) over {inc.principals} principals, by action "
        f"{json.dumps(inc.by_action)}; the full scan after it: "
        f"{full.iam_calls} calls in {full.wall:.1f}s, compared principal by principal ({len(full.index)} rows, {len(diffs)} differences)",
    ]
    figures = [
        f"incremental_iam_calls_per_principal: {f'{inc.iam_calls / inc.principals:.3f}' if inc.principals else 'n/a'}",
        f"incremental_wall_s: {inc.wall:.1f}",
        f"carried: {counts.get('carried', 'n/a')}",
        f"scanned: {counts.get('scanned', 'n/a')}",
        f"sampled: {counts.get('sampled', 'n/a')}",
        f"incremental_matches_full: {'true' if matches else 'false'}",
    ]
    ok = inc.status == "SUCCEEDED" and full.status == "SUCCEEDED" and matches
    return comments, figures, ok
