"""Last-used data derived from seeded activity (RoleLastUsed, PasswordLastUsed,
GetAccessKeyLastUsed) and the credential report, driven through boto3."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

ACCT = "123456789012"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"}]})
NOW = datetime.now(timezone.utc).replace(microsecond=0)
COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated").split(",")


def at(days=0, minutes=0) -> datetime:
    return NOW - timedelta(days=days, minutes=minutes)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def err(exc: ClientError):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def rec(entity, days=0, minutes=0, service="s3", region="us-east-1", **extra):
    return {"entity": entity, "service": service, "region": region,
            "at": iso(at(days, minutes)), **extra}


def role(iam, name):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def user(iam, name, password=False, keys=0):
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if password:
        iam.create_login_profile(UserName=name, Password="Passw0rd!Passw0rd!")
    ids = [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(keys)]
    return arn, ids


def report(iam):
    """Generates (until COMPLETE) and reads the credential report: (response, rows by user)."""
    for _ in range(50):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        time.sleep(0.1)
    resp = iam.get_credential_report()
    rows = list(csv.reader(io.StringIO(resp["Content"].decode("utf-8"))))
    assert rows[0] == COLUMNS
    assert all(len(r) == len(COLUMNS) for r in rows)
    return resp, {r[0]: dict(zip(COLUMNS, r)) for r in rows[1:]}


# ------------------------------------------------------------------ RoleLastUsed
def test_role_last_used_on_get_role_and_gaad_not_list_roles(api):
    iam = api.iam()
    used = role(iam, "used")
    role(iam, "never")
    old = role(iam, "old")
    api.activity([
        rec(used, days=10, region="eu-west-1"),
        rec(f"arn:aws:sts::{ACCT}:assumed-role/used/session-1", days=2, region="us-west-2"),
        rec(old, days=401, region="eu-west-1"),  # outside the 400-day tracking period
    ])
    got = iam.get_role(RoleName="used")["Role"]["RoleLastUsed"]
    assert got == {"LastUsedDate": at(2), "Region": "us-west-2"}
    assert iam.get_role(RoleName="never")["Role"]["RoleLastUsed"] == {}
    assert iam.get_role(RoleName="old")["Role"]["RoleLastUsed"] == {}
    details = {r["RoleName"]: r for r in iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]}
    assert details["used"]["RoleLastUsed"] == {"LastUsedDate": at(2), "Region": "us-west-2"}
    assert details["never"]["RoleLastUsed"] == {}
    assert all("RoleLastUsed" not in r for r in iam.list_roles()["Roles"])  # ListRoles omits it


def test_age_moves_role_last_used_and_out_of_the_window(api):
    iam = api.iam()
    recent, older = role(iam, "recent"), role(iam, "older")
    api.activity([rec(recent, days=1), rec(older, days=300)])
    assert iam.get_role(RoleName="older")["Role"]["RoleLastUsed"]["LastUsedDate"] == at(300)
    assert api.control("age", {"days": 101}).status_code == 200
    assert iam.get_role(RoleName="recent")["Role"]["RoleLastUsed"]["LastUsedDate"] == at(102)
    assert iam.get_role(RoleName="older")["Role"]["RoleLastUsed"] == {}


# -------------------------------------------------------------- PasswordLastUsed
def test_role_last_used_can_be_made_to_lag_behind_the_activity(api):
    iam = api.iam()
    busy = role(iam, "busy")
    api.activity([rec(busy, days=30, region="eu-west-1"), rec(busy, minutes=5, region="us-west-2")])
    assert iam.get_role(RoleName="busy")["Role"]["RoleLastUsed"]["LastUsedDate"] == at(0, 5)
    api.config(role_last_used_lag_seconds=86400)
    lagging = {"LastUsedDate": at(30), "Region": "eu-west-1"}
    assert iam.get_role(RoleName="busy")["Role"]["RoleLastUsed"] == lagging
    details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert [d["RoleLastUsed"] for d in details if d["RoleName"] == "busy"] == [lagging]
    assert api.control("config", {"role_last_used_lag_seconds": -1}).status_code == 400
    api.config(role_last_used_lag_seconds=0)
    assert iam.get_role(RoleName="busy")["Role"]["RoleLastUsed"]["LastUsedDate"] == at(0, 5)


def test_password_last_used_on_get_user_and_list_users(api):
    iam = api.iam()
    console, _ = user(iam, "console", password=True)
    nopass, _ = user(iam, "nopass")
    user(iam, "unused", password=True)
    api.activity([
        rec(console, days=3, via="console"),
        rec(console, days=1, service="iam"),       # no via, no key, a password: console use
        rec(console, days=1, minutes=-4, via="console"),  # 4 min later: not recorded (5-min span)
        rec(nopass, days=1),                         # no key, no password: no credential
    ])
    assert iam.get_user(UserName="console")["User"]["PasswordLastUsed"] == at(1)
    assert "PasswordLastUsed" not in iam.get_user(UserName="nopass")["User"]
    assert "PasswordLastUsed" not in iam.get_user(UserName="unused")["User"]
    users = {u["UserName"]: u for u in iam.list_users()["Users"]}
    assert users["console"]["PasswordLastUsed"] == at(1)
    assert "PasswordLastUsed" not in users["nopass"] and "PasswordLastUsed" not in users["unused"]
    gaad = iam.get_account_authorization_details(Filter=["User"])["UserDetailList"]
    assert gaad and all("PasswordLastUsed" not in u for u in gaad)  # not in UserDetail's model
    # no tracking window for passwords: 500 days ago still counts; age moves it
    iam.delete_login_profile(UserName="console")
    assert iam.get_user(UserName="console")["User"]["PasswordLastUsed"] == at(1)  # had a password
    api.control("age", {"days": 499})
    assert iam.get_user(UserName="console")["User"]["PasswordLastUsed"] == at(500)


# ----------------------------------------------------------- GetAccessKeyLastUsed
def test_access_key_last_used(api):
    iam = api.iam()
    arn, (k1, k2) = user(iam, "dev", password=True, keys=2)
    api.activity([
        rec(arn, days=5, service="ec2", region="eu-west-1"),           # default: first active key
        rec(arn, days=4, service="sts", region="eu-west-1", via="access_key", access_key_id=k1),
        rec(arn, days=4, minutes=-10, service="s3", access_key_id=k1),  # 10 min later: not recorded
        rec(arn, days=2, via="console"),                                # not a key use
    ])
    got = iam.get_access_key_last_used(AccessKeyId=k1)
    assert got["UserName"] == "dev"
    assert got["AccessKeyLastUsed"] == {"LastUsedDate": at(4), "ServiceName": "sts", "Region": "eu-west-1"}
    never = iam.get_access_key_last_used(AccessKeyId=k2)
    assert never["UserName"] == "dev"
    assert never["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    # the default goes to the first *active* key, settled when the record is seeded
    iam.update_access_key(UserName="dev", AccessKeyId=k1, Status="Inactive")
    api.activity([rec(arn, days=1, service="lambda", region="us-west-2")])
    assert iam.get_access_key_last_used(AccessKeyId=k2)["AccessKeyLastUsed"] == {
        "LastUsedDate": at(1), "ServiceName": "lambda", "Region": "us-west-2"}
    assert iam.get_access_key_last_used(AccessKeyId=k1)["AccessKeyLastUsed"]["LastUsedDate"] == at(4)
    # no 400-day window for keys (tracked since April 22, 2015)
    api.control("age", {"days": 600})
    assert iam.get_access_key_last_used(AccessKeyId=k1)["AccessKeyLastUsed"]["LastUsedDate"] == at(604)
    with pytest.raises(ClientError) as e:
        iam.get_access_key_last_used(AccessKeyId="AKIAIOSFODNN7EXAMPLE")
    assert err(e.value) == ("NoSuchEntity", 404)


def test_activity_credential_fields_are_validated(api):
    iam = api.iam()
    arn, (key,) = user(iam, "a", keys=1)
    other, (other_key,) = user(iam, "b", keys=1)
    bare, _ = user(iam, "c")
    r_arn = role(iam, "r")
    cases = [
        (rec(arn, via="web"), "via"),
        (rec(arn, access_key_id="not a key"), "access_key_id"),
        (rec(arn, access_key_id=other_key), "access_key_id"),          # b's key
        (rec(arn, via="console"), "via"),                               # a has no password
        (rec(arn, via="console", access_key_id=key), "access_key_id"),
        (rec(bare, via="access_key"), "via"),                           # c has no key
        (rec(r_arn, via="console"), "via"),                             # roles: no credential
        (rec(f"arn:aws:iam::{ACCT}:root", via="access_key"), "via"),
    ]
    for i, (record, field) in enumerate(cases):
        r = api.control("activity", [rec(arn), record])
        assert r.status_code == 400, (i, r.text)
        assert r.json()["field"] == field and r.json()["index"] == 1, (i, r.text)
    assert api.activity([rec(arn, access_key_id=key), rec(other, via="access_key"),
                         rec(f"arn:aws:iam::{ACCT}:root", via="console")]) == {"added": 3}


# ------------------------------------------------------------- credential report
def test_credential_report_not_present_then_started_then_complete(api):
    iam = api.iam()
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert err(e.value) == ("ReportNotPresent", 410)
    first = iam.generate_credential_report()
    assert first["State"] == "STARTED" and first["Description"]
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    resp, rows = report(iam)
    assert resp["ReportFormat"] == "text/csv"
    assert abs((resp["GeneratedTime"] - datetime.now(timezone.utc)).total_seconds()) < 60
    assert list(rows)[0] == "<root_account>"


def test_credential_report_rows(api):
    iam = api.iam()
    t0 = datetime.now(timezone.utc)
    bare, _ = user(iam, "bare")
    pw, _ = user(iam, "pw", password=True)
    dev, (k1, k2) = user(iam, "dev", password=True, keys=2)
    api.activity([
        rec(dev, days=3, service="dynamodb", region="eu-central-1", access_key_id=k2),
        rec(dev, days=6, via="console"),
        rec(f"arn:aws:iam::{ACCT}:root", days=30),
    ])
    _, rows = report(iam)
    assert list(rows) == ["<root_account>", "bare", "pw", "dev"]
    root = rows["<root_account>"]
    assert root["arn"] == f"arn:aws:iam::{ACCT}:root"
    assert root["user_creation_time"] <= csv_time(at(30))
    assert {k: root[k] for k in ("password_enabled", "password_last_used", "password_last_changed",
                                 "password_next_rotation")} == {
        "password_enabled": "not_supported", "password_last_used": csv_time(at(30)),
        "password_last_changed": "not_supported", "password_next_rotation": "not_supported"}
    assert [root[c] for c in COLUMNS[7:]] == (["false"] + ["false", "N/A", "N/A", "N/A", "N/A"] * 2
                                              + ["false", "N/A"] * 2)

    b = rows["bare"]
    assert b["arn"] == bare and b["user_creation_time"] >= csv_time(t0 - timedelta(seconds=1))
    assert [b[c] for c in COLUMNS[3:]] == (["false", "N/A", "N/A", "N/A", "false"]
                                           + ["false", "N/A", "N/A", "N/A", "N/A"] * 2
                                           + ["false", "N/A"] * 2)
    p = rows["pw"]
    assert (p["password_enabled"], p["password_last_used"]) == ("true", "no_information")
    assert p["password_last_changed"] >= csv_time(t0 - timedelta(seconds=1))
    assert p["password_next_rotation"] == "N/A"  # no password policy requiring rotation

    d = rows["dev"]
    assert d["password_last_used"] == csv_time(at(6))
    assert d["access_key_1_active"] == "true" and d["access_key_1_last_rotated"] != "N/A"
    assert [d[f"access_key_1_last_used_{c}"] for c in ("date", "region", "service")] == ["N/A"] * 3
    assert [d[f"access_key_2_last_used_{c}"] for c in ("date", "region", "service")] == [
        csv_time(at(3)), "eu-central-1", "dynamodb"]


def test_credential_report_password_next_rotation(api):
    iam = api.iam()
    iam.update_account_password_policy(MaxPasswordAge=90)
    user(iam, "pw", password=True)
    _, rows = report(iam)
    changed = datetime.strptime(rows["pw"]["password_last_changed"], "%Y-%m-%dT%H:%M:%S+00:00")
    assert rows["pw"]["password_next_rotation"] == (changed + timedelta(days=90)).strftime(
        "%Y-%m-%dT%H:%M:%S+00:00")


def test_credential_report_in_progress(api):
    iam = api.iam()
    api.config(job_seconds=1.5)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert err(e.value) == ("ReportInProgress", 404)
    # Ready job_seconds after it started (polled: a loaded machine answers late), and not
    # much later.
    started = time.time()
    while iam.generate_credential_report()["State"] != "COMPLETE":
        assert time.time() - started < 6, "the report never completed"
        time.sleep(0.2)
    assert iam.get_credential_report()["ReportFormat"] == "text/csv"


def test_credential_report_is_a_snapshot_for_four_hours_and_ages(api):
    iam = api.iam()
    arn, (key,) = user(iam, "dev", keys=1)
    api.activity([rec(arn, days=2, service="s3")])
    first, rows = report(iam)
    assert rows["dev"]["access_key_1_last_used_date"] == csv_time(at(2))
    api.activity([rec(arn, days=1, service="sqs")])  # after the report: not in it
    assert iam.generate_credential_report()["State"] == "COMPLETE"  # reused (< 4 hours old)
    again, rows = report(iam)
    assert again["GeneratedTime"] == first["GeneratedTime"]
    assert rows["dev"]["access_key_1_last_used_service"] == "s3"
    # one day passes: the report is older than four hours
    api.control("age", {"days": 1})
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert err(e.value) == ("ReportExpired", 410)
    assert iam.generate_credential_report()["State"] == "STARTED"
    fresh, rows = report(iam)
    assert abs((fresh["GeneratedTime"] - datetime.now(timezone.utc)).total_seconds()) < 60
    assert [rows["dev"][f"access_key_1_last_used_{c}"] for c in ("date", "service")] == [
        csv_time(at(2)), "sqs"]
    assert iam.get_access_key_last_used(AccessKeyId=key)["AccessKeyLastUsed"]["LastUsedDate"] == at(2)


def test_reset_clears_reports(api, emulator_url):
    import requests

    iam = api.iam()
    report(iam)
    assert requests.post(f"{emulator_url}/moto-api/reset", timeout=10).status_code == 200
    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert err(e.value) == ("ReportNotPresent", 410)
