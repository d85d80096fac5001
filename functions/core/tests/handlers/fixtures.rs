//! The event fixtures are what Step Functions sends: each is rebuilt here from the state
//! machine's own Parameters, ItemSelector, ResultPath and Choices
//! (statemachine/last-accessed.asl.json), applied to the handlers' real outputs: Plan's
//! at the run's start, then Plan's for each account of the accounts Map, whose child
//! runs the batches Map. A fixture that drifts from the ASL fails here, and each step's
//! payload is handed to the handler that decodes it.

use crate::helpers::{
    account_work, deadline, event, generate_deps, generates, job_deps, job_read, json, org_planned,
    plan_deps, planned, planned_account, read_json, Bucket, ACCOUNT, ALICE, DEPLOYER_JOB, MEMBER,
    ORG_RUN_ID, PLAN_FUNCTION, READER, SUSPENDED, WEB, WEB_JOB,
};
use aws_sdk_iam::types::JobStatusType;
use last_accessed::handlers::{check, generate, plan};
use serde_json::{json, Map, Value};

/// A state of the ASL: `["Plan"]`, or `["ScanAccounts", "ScanBatches", "Check"]` inside
/// the Maps.
fn state(path: &[&str]) -> Value {
    let asl = read_json("statemachine/last-accessed.asl.json");
    let mut states = &asl["States"];
    let mut found = &Value::Null;
    for name in path {
        found = &states[*name];
        assert!(found.is_object(), "no state {name} in the ASL");
        states = &found["ItemProcessor"]["States"];
    }
    found.clone()
}

/// A reference path: `$…` into the state's input, `$$…` into the context object.
fn resolve(path: &str, input: &Value, context: &Value) -> Value {
    let (root, rest) = match path.strip_prefix("$$") {
        Some(rest) => (context, rest),
        None => (input, path.strip_prefix('$').expect("a path")),
    };
    rest.split('.')
        .filter(|k| !k.is_empty())
        .fold(root.clone(), |value, key| {
            value
                .get(key)
                .unwrap_or_else(|| panic!("{path}: no {key}"))
                .clone()
        })
}

/// A payload template applied: each `"key.$": path` field becomes `"key": value`.
fn apply(template: &Value, input: &Value, context: &Value) -> Value {
    match template {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| match key.strip_suffix(".$") {
                    Some(key) => (
                        key.to_string(),
                        resolve(value.as_str().unwrap(), input, context),
                    ),
                    None => (key.clone(), apply(value, input, context)),
                })
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// What a Lambda Task sends its function: its Parameters' `Payload`.
fn payload(task: &Value, input: &Value, context: &Value) -> Value {
    apply(&task["Parameters"], input, context)["Payload"].clone()
}

/// `result` placed into `input` at `ResultPath` (absent: `$`; null: discarded; a path
/// such as `$.run.preflight`: that field, the ones above it kept).
fn place(result_path: Option<&Value>, input: &Value, result: Value) -> Value {
    match result_path.map(|p| p.as_str()) {
        None | Some(Some("$")) => result,
        Some(None) => input.clone(),
        Some(Some(path)) => {
            let mut out = input.clone();
            let keys = path
                .strip_prefix("$.")
                .expect("a ResultPath into the input");
            let slot = keys.split('.').fold(&mut out, |value, key| &mut value[key]);
            *slot = result;
            out
        }
    }
}

/// A Lambda Task's state after it answered `output`: its ResultSelector applied to the
/// invoke's result (`{"Payload": output}`), placed at its ResultPath.
fn after_task(task: &Value, input: &Value, output: &Value) -> Value {
    let invoked = json!({"Payload": output});
    let result = match task.get("ResultSelector") {
        Some(selector) => apply(selector, &invoked, &Value::Null),
        None => invoked,
    };
    place(task.get("ResultPath"), input, result)
}

/// The state after a Task's Catch: its input with the error at the Catch's ResultPath.
fn caught(task: &Value, input: &Value, error: Value) -> Value {
    place(task["Catch"][0].get("ResultPath"), input, error)
}

fn without_failure(event: &Value) -> (Value, Value) {
    let mut event = event.clone();
    let failure = event.as_object_mut().unwrap().remove("failure").unwrap();
    (event, failure)
}

/// Where a Choice state goes with `input`: its first rule that holds, else its Default.
fn choose(choice: &Value, input: &Value) -> String {
    for rule in choice["Choices"].as_array().expect("a Choice state") {
        let value = resolve(rule["Variable"].as_str().unwrap(), input, &Value::Null);
        let holds = if let Some(expected) = rule.get("BooleanEquals") {
            value == *expected
        } else if let Some(bound) = rule.get("NumericGreaterThan") {
            value.as_f64().unwrap() > bound.as_f64().unwrap()
        } else if let Some(pattern) = rule.get("StringMatches") {
            // The ASL's one pattern here is a prefix and `*`.
            let prefix = pattern
                .as_str()
                .unwrap()
                .strip_suffix('*')
                .expect("PREFIX*");
            value.as_str().is_some_and(|v| v.starts_with(prefix))
        } else {
            panic!("a comparison these tests don't know: {rule}")
        };
        if holds {
            return rule["Next"].as_str().unwrap().to_string();
        }
    }
    choice["Default"].as_str().unwrap().to_string()
}

/// A Map's child for item `i` of `items`: its ItemSelector applied to the Map's input,
/// and the context it saw.
fn map_item(map: &Value, input: &Value, items: &Value, i: usize) -> (Value, Value) {
    let value = items[i].clone();
    assert!(value.is_object(), "no item {i}");
    let context = json!({"Map": {"Item": {"Index": i, "Value": value}}});
    (apply(&map["ItemSelector"], input, &context), context)
}

/// A preflight (`task`, a Generate probe whose payload is `probe`) and the second read
/// that follows it (Check's, in its own session; IAM reads the job there too): the state
/// after both, as the ASL's ResultSelectors and ResultPaths make it.
async fn preflight_twice(task: &Value, input: &Value, probe: Value) -> Value {
    let start = generates(&[(READER, "preflight-job")]);
    let read = job_read("preflight-job", JobStatusType::InProgress, &[], None);
    let first = generate::handle(&generate_deps(&[&start, &read]), probe, deadline())
        .await
        .unwrap();
    assert_eq!(
        (start.num_calls(), read.num_calls()),
        (1, 1),
        "Generate probed the reader: a job, and its read in the same session"
    );
    let after_first = after_task(task, input, &json(&first));
    let second = state_named(task["Next"].as_str().unwrap(), task);
    let again = payload(&second, &after_first, &Value::Null);
    assert_eq!(
        again["probe"]["run"]["preflight"]["job_id"],
        "preflight-job"
    );
    let reread = job_read("preflight-job", JobStatusType::InProgress, &[], None);
    let verdict = check::handle(&job_deps(&Bucket::new(), &[&reread]), again)
        .await
        .unwrap();
    assert_eq!(reread.num_calls(), 1, "Check read the job again");
    assert_eq!(second["Catch"], task["Catch"], "failing like the preflight");
    after_task(&second, &after_first, &json(&verdict))
}

/// The state named `name` beside `sibling` (in the same States).
fn state_named(name: &str, sibling: &Value) -> Value {
    let asl = read_json("statemachine/last-accessed.asl.json");
    let top = &asl["States"];
    let nested = &top["ScanAccounts"]["ItemProcessor"]["States"];
    let found = [top, nested]
        .into_iter()
        .find(|states| states.as_object().unwrap().values().any(|s| s == sibling))
        .and_then(|states| states.get(name))
        .unwrap_or_else(|| panic!("no state {name} beside the preflight"))
        .clone();
    found
}

/// Plan's answer to `event`, as the state machine has it (`OutputPath: $.Payload`).
async fn plan_step(bucket: &Bucket, event: Value) -> Value {
    let answer = plan::handle(
        &plan_deps(bucket, &[]),
        event,
        Some(PLAN_FUNCTION),
        deadline(),
    )
    .await
    .unwrap();
    json(&answer)
}

#[tokio::test]
async fn a_run_of_the_stacks_own_account_flows_from_plan_to_each_batch() {
    let plan_event = event("plan", "explicit-arns");
    let start = &plan_event["start"];
    let execution = json!({"Execution": {
        "Input": start["input"],
        "Name": start["execution_name"],
        "StartTime": start["start_time"],
    }});
    let plan = state(&["Plan"]);
    assert_eq!(payload(&plan, &start["input"], &execution), plan_event);

    let (bucket, out) = planned().await;
    assert_eq!(plan["OutputPath"], "$.Payload");
    let after_plan = json(&out);
    assert_eq!(plan["Next"], "IsOrganization");
    assert_eq!(
        choose(&state(&["IsOrganization"]), &after_plan),
        "Preflight",
        "the run probes the stack's reader once, before any account"
    );

    let preflight = state(&["Preflight"]);
    let probe = payload(&preflight, &after_plan, &execution);
    assert_eq!(probe, event("generate", "preflight"));
    let after_preflight = preflight_twice(&preflight, &after_plan, probe).await;
    assert_eq!(
        after_preflight["run"]["preflight"],
        json!({"job_id": "preflight-job", "job_binding": "role_session_name"}),
        "the JobId rule rides in the run's context to every batch"
    );
    let mut without = after_preflight.clone();
    without["run"].as_object_mut().unwrap().remove("preflight");
    assert_eq!(without, after_plan, "nothing else of the state changes");
    assert_eq!(state(&["PreflightSecondSession"])["Next"], "IsDoctor");
    assert_eq!(
        choose(&state(&["IsDoctor"]), &after_preflight),
        "ScanAccounts",
        "a scan goes on to its accounts (a doctor run would end)"
    );
    // A doctor run (`ila doctor`), even of an Organization, probes the stack's reader
    // and ends there: nothing scanned, nothing summarized.
    let mut doctor = after_preflight.clone();
    doctor["doctor"] = json!(true);
    doctor["organization"] = json!(true);
    assert_eq!(choose(&state(&["IsOrganization"]), &doctor), "Preflight");
    assert_eq!(choose(&state(&["IsDoctor"]), &doctor), "DoctorDone");
    assert_eq!(state(&["DoctorDone"])["Type"], "Succeed");

    // The accounts Map reads the account list Plan wrote, one child per account.
    let accounts = state(&["ScanAccounts"]);
    assert_eq!(
        accounts["ItemReader"]["Parameters"]["Key.$"],
        "$.accounts_key"
    );
    assert_eq!(
        resolve(
            accounts["MaxConcurrencyPath"].as_str().unwrap(),
            &after_preflight,
            &Value::Null
        ),
        1
    );
    let items = bucket.json(&out.accounts_key);
    assert_eq!(
        items.as_array().unwrap().len(),
        1,
        "the stack's own account"
    );
    let (account_input, context) = map_item(&accounts, &after_preflight, &items, 0);
    assert_eq!(accounts["ItemProcessor"]["StartAt"], "PlanAccount");
    let plan_account = state(&["ScanAccounts", "PlanAccount"]);
    let account_event = payload(&plan_account, &account_input, &context);
    assert_eq!(account_event, event("plan", "account"));
    assert_eq!(plan_account["OutputPath"], "$.Payload");
    let after_plan_account = plan_step(&bucket, account_event).await;
    assert_eq!(plan_account["Next"], "AccountScan");
    assert_eq!(
        choose(
            &state(&["ScanAccounts", "AccountScan"]),
            &after_plan_account
        ),
        "ScanBatches",
        "no second probe: the run's Preflight probed the same reader"
    );

    // The batches Map reads the account's batch list, one child per batch.
    let map = state(&["ScanAccounts", "ScanBatches"]);
    assert_eq!(map["ItemReader"]["Parameters"]["Key.$"], "$.batches_key");
    let batches = bucket.json(after_plan_account["batches_key"].as_str().unwrap());
    let generate = state(&["ScanAccounts", "ScanBatches", "Generate"]);
    let child = |i: usize| {
        let (input, context) = map_item(&map, &after_plan_account, &batches, i);
        (payload(&generate, &input, &context), input)
    };
    assert_eq!(child(0).0, event("generate", "batch"));

    // Batch 1's Generate failed: the Catch sends the child's input and the error to Write.
    let fixture = event("write", "generate-failed");
    let (failed_event, failure) = without_failure(&fixture["failed"]);
    assert_eq!(failed_event, child(1).1);
    assert_eq!(generate["Catch"][0]["Next"], "RecordFailure");
    let record_failure = state(&["ScanAccounts", "ScanBatches", "RecordFailure"]);
    assert_eq!(
        payload(
            &record_failure,
            &caught(&generate, &child(1).1, failure),
            &Value::Null
        ),
        fixture
    );

    // The batches Map itself failed: its Catch sends the account's state and the error
    // to Plan, which records it for Summarize.
    let account_failed = event("plan", "account-failed");
    let (state_before, failure) = without_failure(&account_failed["account_failed"]);
    assert_eq!(state_before, after_plan_account);
    assert_eq!(map["Catch"][0]["Next"], "RecordAccountFailure");
    let record = state(&["ScanAccounts", "RecordAccountFailure"]);
    let record_event = payload(
        &record,
        &caught(&map, &after_plan_account, failure),
        &Value::Null,
    );
    assert_eq!(record_event, account_failed);
    let recorded = plan_step(&bucket, record_event).await;
    assert_eq!(recorded, json!({"recorded": account_work("failure.json")}));
    assert_eq!(
        (record.get("ResultPath"), &record["Next"], &map["Next"]),
        (
            Some(&Value::Null),
            &json!("AccountDone"),
            &json!("CarryNext")
        )
    );
    // A full run has no carry batches: the account is done after its batches.
    let carry_next = state(&["ScanAccounts", "CarryNext"]);
    assert_eq!(choose(&carry_next, &after_plan_account), "AccountDone");
}

#[tokio::test]
async fn an_organization_run_flows_from_plan_to_each_accounts_preflight_and_batches() {
    let (bucket, out) = org_planned().await;
    let after_plan = json(&out);
    assert_eq!(
        choose(&state(&["IsOrganization"]), &after_plan),
        "ScanAccounts",
        "each account probes its own reader, in its own child"
    );
    let accounts = state(&["ScanAccounts"]);
    assert_eq!(
        resolve(
            accounts["MaxConcurrencyPath"].as_str().unwrap(),
            &after_plan,
            &Value::Null
        ),
        5,
        "the stack's MaxAccountsInParallel"
    );
    let items = bucket.json(&out.accounts_key);
    let plan_account = state(&["ScanAccounts", "PlanAccount"]);
    let account_scan = state(&["ScanAccounts", "AccountScan"]);
    let record = state(&["ScanAccounts", "RecordAccountFailure"]);

    // The stack's own account: planned in its step, its reader probed before its batches.
    let (input, context) = map_item(&accounts, &after_plan, &items, 0);
    let after = plan_step(&bucket, payload(&plan_account, &input, &context)).await;
    assert_eq!(choose(&account_scan, &after), "AccountPreflight");
    let preflight = state(&["ScanAccounts", "AccountPreflight"]);
    let probe = payload(&preflight, &after, &Value::Null);
    assert_eq!(probe, event("generate", "account-preflight"));
    let after_preflight = preflight_twice(&preflight, &after, probe).await;
    assert_eq!(
        after_preflight["run"]["preflight"]["job_binding"], "role_session_name",
        "the account's JobId rule, in its context"
    );
    assert_eq!(
        state(&["ScanAccounts", "AccountPreflightSecondSession"])["Next"],
        "ScanBatches"
    );
    let map = state(&["ScanAccounts", "ScanBatches"]);
    let batches = bucket.json(after["batches_key"].as_str().unwrap());
    let (input, context) = map_item(&map, &after_preflight, &batches, 0);
    let batch = payload(
        &state(&["ScanAccounts", "ScanBatches", "Generate"]),
        &input,
        &context,
    );
    assert_eq!(batch["batch"]["run"]["run_id"], ORG_RUN_ID);
    assert_eq!(
        batch["batch"]["run"]["preflight"]["job_binding"], "role_session_name",
        "each batch knows how IAM binds its jobs"
    );
    assert_eq!(batch["batch"]["run"]["account"], json!({"id": ACCOUNT}));
    assert_eq!(
        batch["batch"]["batch"],
        json!({"index": 0, "arns": [WEB, ALICE], "ids": {WEB: "AROAQAPPWEB000000001", ALICE: "AIDAQALICE0000000001"}})
    );
    let jobs = generates(&[(WEB, WEB_JOB), (ALICE, DEPLOYER_JOB)]);
    let generated = generate::handle(&generate_deps(&[&jobs]), batch, deadline())
        .await
        .unwrap();
    assert_eq!(json(&generated)["pending"], 2);

    // Its preflight failed: the Catch sends the account's state to Plan, which records it.
    let failure = json!({"Error": "AccessDenied", "Cause": "the reader role may not start access-advisor jobs"});
    assert_eq!(preflight["Catch"][0]["Next"], "RecordAccountFailure");
    let failed = payload(
        &record,
        &caught(&preflight, &after, failure.clone()),
        &Value::Null,
    );
    let key = format!("work/run={ORG_RUN_ID}/accounts/{ACCOUNT}/failure.json");
    assert_eq!(plan_step(&bucket, failed).await, json!({"recorded": key}));
    assert_eq!(bucket.json(&key), failure);

    // The member account's PlanAccount failed: its Catch has the account's item.
    let (input, _) = map_item(&accounts, &after_plan, &items, 1);
    assert_eq!(plan_account["Catch"][0]["Next"], "RecordAccountFailure");
    let failed = payload(
        &record,
        &caught(&plan_account, &input, failure.clone()),
        &Value::Null,
    );
    let key = format!("work/run={ORG_RUN_ID}/accounts/{MEMBER}/failure.json");
    assert_eq!(plan_step(&bucket, failed).await, json!({"recorded": key}));
    assert_eq!(bucket.json(&key), failure);

    // The suspended account: nothing to scan.
    let (input, context) = map_item(&accounts, &after_plan, &items, 2);
    let after = plan_step(&bucket, payload(&plan_account, &input, &context)).await;
    assert_eq!(after["run"]["account"]["id"], SUSPENDED);
    assert_eq!(choose(&account_scan, &after), "AccountDone");
}

#[tokio::test]
async fn batch_state_events_follow_from_the_asl() {
    let (_, _, account) = planned_account().await;
    let run = json(&account.run);
    let check = state(&["ScanAccounts", "ScanBatches", "Check"]);
    let write = state(&["ScanAccounts", "ScanBatches", "Write"]);
    let jobs_done = state(&["ScanAccounts", "ScanBatches", "JobsDone"]);
    let choice = &jobs_done["Choices"][0];
    assert_eq!(
        (
            &choice["Variable"],
            &choice["NumericGreaterThan"],
            &choice["Next"]
        ),
        (&json!("$.pending"), &json!(0), &json!("WaitForJobs"))
    );
    for (fixture, pending) in [
        (event("check", "in-progress"), true),
        (event("check", "last-poll"), true),
        (event("write", "completed"), false),
    ] {
        // Check gets the state as is; Write gets it in its `batch` envelope.
        let state = if pending {
            fixture.clone()
        } else {
            fixture["batch"].clone()
        };
        assert_eq!(state["run"], run, "the run, scoped to its account");
        // The Choice loops while jobs are pending.
        assert_eq!(state["pending"].as_u64().unwrap() > 0, pending);
        assert_eq!(
            choose(&jobs_done, &state),
            if pending { "WaitForJobs" } else { "Write" }
        );
        let task = if pending { &check } else { &write };
        assert_eq!(payload(task, &state, &Value::Null), fixture);
    }
    // Check failed beyond its retries: the Catch sends Check's input and the error.
    let fixture = event("write", "batch-failed");
    let (state_before, failure) = without_failure(&fixture["failed"]);
    assert_eq!(state_before, event("check", "in-progress"));
    let record_failure = state(&["ScanAccounts", "ScanBatches", "RecordFailure"]);
    assert_eq!(
        payload(
            &record_failure,
            &caught(&check, &state_before, failure),
            &Value::Null
        ),
        fixture
    );
}

#[tokio::test]
async fn summarize_events_follow_from_the_asl() {
    let (_, out) = planned().await;
    let after_plan = json(&out);
    let map = state(&["ScanAccounts"]);
    let summarize = state(&["Summarize"]);
    // The accounts Map's results are discarded; without an access report the Choice
    // goes on to Summarize, which gets Plan's output.
    assert_eq!(map["Next"], "WantsAccessReport");
    let after_map = place(map.get("ResultPath"), &after_plan, json!([]));
    assert_eq!(
        choose(&state(&["WantsAccessReport"]), &after_map),
        "Summarize"
    );
    assert_eq!(
        payload(&summarize, &after_map, &Value::Null),
        event("summarize", "complete")
    );
    // The accounts Map failed: its Catch adds the error.
    assert_eq!(map["Catch"][0]["Next"], "Summarize");
    let error = event("summarize", "map-failed")["error"].clone();
    assert_eq!(
        payload(&summarize, &caught(&map, &after_plan, error), &Value::Null),
        event("summarize", "map-failed")
    );
}

/// Every child of the accounts Map ends in AccountDone, whose output is `{}`: the Map
/// gathers its children's outputs, and 1,000 accounts' states would pass 256 KiB.
#[test]
fn every_account_child_ends_small() {
    let done = state(&["ScanAccounts", "AccountDone"]);
    assert_eq!(done["Type"], "Pass");
    assert_eq!(done["Result"], json!({}));
    assert_eq!(done["End"], true);
    let asl = read_json("statemachine/last-accessed.asl.json");
    let states = asl["States"]["ScanAccounts"]["ItemProcessor"]["States"]
        .as_object()
        .unwrap();
    for (name, s) in states {
        assert!(
            s.get("End").is_none() || name == "AccountDone",
            "{name} ends the account's child"
        );
        assert_ne!(
            s["Type"], "Succeed",
            "{name}: a Succeed passes its whole input on"
        );
    }
}

#[test]
fn a_run_level_failure_keeps_our_error_names_and_renames_step_functions_ones() {
    // A Fail state may not raise a States.* error (the ASL specification reserves them).
    let how = state(&["HowRunFailed"]);
    for (error, fail) in [
        ("StorageError", "RunFailed"),
        ("IamError", "RunFailed"),
        ("States.Timeout", "RunFailedInStepFunctions"),
        ("States.TaskFailed", "RunFailedInStepFunctions"),
    ] {
        // Through the run's Scan Finished event (tests/handlers/notifications.rs).
        let next = choose(&how, &json!({"Error": error, "Cause": "…"}));
        assert_eq!(next, format!("{fail}Event"), "{error}");
        assert_eq!(state(&[next.as_str()])["Next"], fail, "{error}");
    }
    let renamed = state(&["RunFailedInStepFunctions"]);
    assert_eq!(
        (renamed["Type"].as_str(), renamed["Error"].as_str()),
        (Some("Fail"), Some("RunFailed"))
    );
    assert_eq!(
        state(&["RunFailed"])["ErrorPath"],
        "$.Error",
        "our names as they are"
    );
    let batch = state(&["ScanAccounts", "ScanBatches", "BatchFailed"]);
    assert_eq!(batch["Error"], "BatchFailed");
    assert!(
        batch.get("ErrorPath").is_none(),
        "never the caught States.* name"
    );
}
