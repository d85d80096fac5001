"""Seeding helpers of the report tests (a module of its own: tests/stack has a conftest
too, and `from conftest import …` would find either)."""
import datetime as dt
import json


def ago(days):
    """An RFC 3339 time `days` days (and an hour) before now."""
    t = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=days, hours=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def allow(*actions):
    """A policy document allowing `actions` on every resource."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})
