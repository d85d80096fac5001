"""Helpers of the report tests: seeding, reading a run's reports, the stack's Athena
queries over them with DuckDB. (A module of its own: tests/stack has a conftest too, and
`from conftest import …` would find either.)"""
import datetime as dt
import json
import os

import duckdb
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ago(days):
    """An RFC 3339 time `days` days (and an hour) before now."""
    t = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=days, hours=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def allow(*actions):
    """A policy document allowing `actions` on every resource."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


def reports_of(stack, output):
    """A run's summary, and its reports by ARN."""
    summary = stack.json(output["summary_key"])
    return summary, {r["arn"]: r for r in (stack.json(k) for k in summary["report_keys"])}


def named_queries():
    """The template's Athena named queries, as DuckDB runs them over `principal_reports`."""
    class Loader(yaml.SafeLoader):
        pass
    Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None)
    template = yaml.load(open(os.path.join(ROOT, "infra", "template.yaml")), Loader=Loader)
    return {name: r["Properties"]["QueryString"].replace('"${ReportsDatabase}"."principal_reports"', "principal_reports")
            for name, r in template["Resources"].items() if r["Type"] == "AWS::Athena::NamedQuery"}


def principal_reports(stack, keys, tmp_path):
    """A DuckDB connection with the view `principal_reports` over these reports, copied
    into `tmp_path` under their keys (the Glue table's partitions: dt=, run=, account=)."""
    for key in keys:
        target = tmp_path / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    con = duckdb.connect()
    # The key's levels are Hive partitions (dt=, run=, account=); DuckDB reads `account`
    # from the key (the account scanned), as a number: back to the 12-digit text.
    con.execute(f"CREATE VIEW principal_reports AS SELECT * REPLACE (lpad(CAST(account AS VARCHAR), 12, '0') AS account) "
                f"FROM read_json('{tmp_path}/reports/principals/*/*/*/*/*.json', "
                "hive_partitioning = true, format = 'newline_delimited', union_by_name = true)")
    return con
