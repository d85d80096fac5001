"""Reports people act on: field by field against the seeded truth at both
granularities, every report valid against the schema, and the stack's Athena
queries answering right (run with DuckDB over a local run's reports)."""
import json
import os

import jsonschema
import pytest

from conftest import ROOT
from helpers import named_queries, principal_reports, reports_of

USED = {"iam", "s3", "dynamodb", "sqs", "ec2"}  # every namespace anyone used


def svc(report, namespace):
    return next(s for s in report["services"] if s["namespace"] == namespace)


@pytest.mark.parametrize("run", ["service_run", "action_run"])
def test_reports_match_the_seeded_truth(stack, account, run):
    t, a = account, account["at"]
    summary, reports = reports_of(stack, t[run])
    action_level = run == "action_run"
    extras = not action_level  # the SERVICE_LEVEL run asked for entities and granting policies
    assert set(reports) == {t[k] for k in ("admin", "actor", "r1", "r2", "policy", "group", "m1", "m2")}
    assert summary["counts"]["by_status"] == {"COMPLETED": 8}

    admin = reports[t["admin"]]
    namespaces = [s["namespace"] for s in admin["services"]]
    assert len(namespaces) >= 350 and namespaces == sorted(namespaces), "a `*` principal sees every service"
    page = int(os.environ.get("IAM_PAGE_SIZE", "1000"))
    assert len(namespaces) > 2 * page, f"make test-e2e reads IAM pages of {page}: the `*` report must span several"
    assert svc(admin, "iam")["last_authenticated"] == a["admin_iam"]
    assert (admin["findings"]["services_active"], admin["findings"]["services_stale"]) == (1, 0)
    assert len(admin["findings"]["never_used_services"]) == len(namespaces) - 1

    group = reports[t["group"]]
    assert [s["namespace"] for s in group["services"]] == ["dynamodb", "s3", "sns"]
    ddb = svc(group, "dynamodb")
    assert (ddb["last_authenticated"], ddb["last_authenticated_entity"], ddb["last_authenticated_region"]) == (a["m1_ddb"], t["m1"], "eu-west-1")
    assert ddb["total_authenticated_entities"] == 2 and ddb["usage"] == "stale"
    assert svc(group, "s3")["usage"] == "active" and svc(group, "sns")["usage"] == "never_used"
    assert group["findings"]["stale_services"] == ["dynamodb"] and group["findings"]["never_used_services"] == ["sns"]
    if extras:
        assert sorted(e["arn"] for e in ddb["entities"]) == sorted([t["m1"], t["m2"]])
        assert {e["arn"]: e["last_authenticated"] for e in ddb["entities"]} == {t["m1"]: a["m1_ddb"], t["m2"]: a["m2_ddb"]}
        assert [(g["policy_name"], g["policy_type"], g["entity_type"]) for g in svc(group, "sns")["granting_policies"]] == [("team-inline", "INLINE", "GROUP")]
        assert "entities" not in svc(group, "sns"), "entities only for used services"
    else:
        assert all("entities" not in s and "granting_policies" not in s for r in reports.values() for s in r["services"])

    policy = reports[t["policy"]]
    sqs = svc(policy, "sqs")
    assert (sqs["last_authenticated"], sqs["last_authenticated_entity"], sqs["total_authenticated_entities"]) == (a["r2_sqs"], t["r2"], 2)
    assert svc(policy, "kms")["usage"] == "never_used"
    if extras:
        assert sorted(e["arn"] for e in sqs["entities"]) == sorted([t["r1"], t["r2"]])
        r1_kms = svc(reports[t["r1"]], "kms")["granting_policies"]
        assert [(g["policy_type"], g["policy_arn"]) for g in r1_kms] == [("MANAGED", t["policy"])]

    actor = reports[t["actor"]]
    assert actor["job"]["job_type"] == ("ACTION_LEVEL" if action_level else "SERVICE_LEVEL")
    s3 = svc(actor, "s3")
    assert (s3["last_authenticated"], s3["last_authenticated_region"]) == (a["actor_get"], "eu-west-1")
    if action_level:
        assert [(x["action"], x["usage"], x["last_accessed_time"]) for x in s3["tracked_actions"]] == [
            ("s3:GetObject", "active", a["actor_get"]), ("s3:PutObject", "never_used", None)]
        assert [(x["action"], x["usage"]) for x in svc(actor, "ec2")["tracked_actions"]] == [("ec2:DescribeInstances", "stale")]
        assert actor["findings"]["stale_actions"] == ["ec2:DescribeInstances"]
        assert actor["findings"]["never_used_actions"] == ["s3:PutObject"]
        assert s3["action_tracking"] is True
    else:
        assert "tracked_actions" not in s3 and "action_tracking" not in s3


def test_every_report_the_pipeline_wrote_validates(stack, account):
    principal_schema = json.load(open(os.path.join(ROOT, "schemas", "principal-report.v3.schema.json")))
    summary_schema = json.load(open(os.path.join(ROOT, "schemas", "run-summary.v4.schema.json")))
    access_schema = json.load(open(os.path.join(ROOT, "schemas", "org-access-report.v1.schema.json")))
    schemas = {"summary": summary_schema, "principal": principal_schema, "access": access_schema}
    checked = {"principal": 0, "summary": 0, "access": 0}
    for key in stack.keys("reports/"):
        if key.startswith("reports/runs/") and not key.endswith("/summary.json"):
            continue  # the run's index and page
        kind = ("summary" if key.startswith("reports/runs/")
                else "access" if key.startswith("reports/access/") else "principal")
        doc = stack.json(key)
        jsonschema.validate(doc, schemas[kind], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        checked[kind] += 1
    assert checked["principal"] >= 16 and checked["summary"] >= 2, checked


def test_the_stacks_athena_queries_answer_right_over_the_reports(stack, account, tmp_path):
    t = account
    summary, reports = reports_of(stack, t["service_run"])
    con = principal_reports(stack, summary["report_keys"], tmp_path)
    queries = named_queries()
    assert set(queries) == {"UnusedServicesQuery", "NeverUsedServicesQuery", "GrantingPoliciesQuery", "ChangesQuery",
                            "RecommendationsQuery"}
    run_id = summary["run_id"]
    catalog = len(reports[t["admin"]]["services"])

    unused = {row[0]: row[3] for row in con.execute(queries["UnusedServicesQuery"], [run_id]).fetchall()}
    stale = {row[0]: (row[4], row[5]) for row in con.execute(queries["UnusedServicesQuery"], [run_id]).fetchall()}
    assert stale[t["group"]] == (1, 1), "dynamodb stale, sns never used"
    assert unused == {t["admin"]: catalog - 1, t["group"]: 2, t["m1"]: 2, t["m2"]: 3, t["policy"]: 1, t["r1"]: 1, t["r2"]: 1, t["actor"]: 1}

    never = dict(con.execute(queries["NeverUsedServicesQuery"], [run_id]).fetchall())
    assert len(never) == catalog - len(USED) and not USED & set(never)
    assert (never["kms"], never["sns"], never["lambda"]) == (4, 4, 1)

    changed = con.execute(queries["ChangesQuery"], [run_id]).fetchall()
    previous = summary["changes"]["previous_run"]
    if previous is None:  # the first SERVICE_LEVEL run of the stack: every principal is new
        assert {row[0] for row in changed} == set(reports) and all(row[2] for row in changed)
    else:
        assert {row[0] for row in changed} == {a for a, r in reports.items() if r["changes"]["new"] or any(
            r["changes"][k] for k in ("newly_used", "newly_stale", "newly_never_used", "granted_added", "granted_removed"))}

    granting = con.execute(queries["GrantingPoliciesQuery"], [run_id]).fetchall()
    assert (f"{t['tag']}-shared", "MANAGED", t["policy"], "kms", t["r1"]) in granting
    assert ("team-inline", "INLINE", None, "sns", t["group"]) in granting
    assert ("actor-inline", "INLINE", None, "ec2", t["actor"]) in granting
    assert not any(row[4] == t["policy"] for row in granting), "IAM names granting policies of users, roles and groups only"
