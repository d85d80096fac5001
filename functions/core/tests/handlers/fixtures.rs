//! The event fixtures are what Step Functions sends: each is rebuilt here from the state
//! machine's own Parameters, ItemSelector and ResultPath (statemachine/last-accessed.asl.json),
//! applied to Plan's real output. A fixture that drifts from the ASL fails here.

use crate::helpers::{event, json, planned, read_json};
use serde_json::{json, Map, Value};

/// A state of the ASL: `["Plan"]`, or `["ScanBatches", "Check"]` inside the Map.
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

/// `result` placed into `input` at `ResultPath` (absent: `$`; null: discarded).
fn place(result_path: Option<&Value>, input: &Value, result: Value) -> Value {
    match result_path.map(|p| p.as_str()) {
        None | Some(Some("$")) => result,
        Some(None) => input.clone(),
        Some(Some(path)) => {
            let mut out = input.clone();
            out[path.strip_prefix("$.").expect("a top-level ResultPath")] = result;
            out
        }
    }
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

#[tokio::test]
async fn plan_preflight_and_generate_events_follow_from_the_asl() {
    let plan_event = event("plan", "explicit-arns");
    let execution = json!({"Execution": {
        "Input": plan_event["input"],
        "Name": plan_event["execution_name"],
        "StartTime": plan_event["start_time"],
    }});
    let plan = state(&["Plan"]);
    assert_eq!(payload(&plan, &plan_event["input"], &execution), plan_event);

    let (bucket, out) = planned().await;
    assert_eq!(plan["OutputPath"], "$.Payload");
    let after_plan = json(&out);

    let preflight = state(&["Preflight"]);
    assert_eq!(
        payload(&preflight, &after_plan, &execution),
        event("generate", "preflight")
    );
    let after_preflight = place(preflight.get("ResultPath"), &after_plan, json!({}));
    assert_eq!(
        after_preflight, after_plan,
        "the probe's answer is discarded"
    );

    // The Map reads the batch list Plan wrote, one child per item.
    let map = state(&["ScanBatches"]);
    assert_eq!(map["ItemReader"]["Parameters"]["Key.$"], "$.batches_key");
    let batches = bucket.json(&out.batches_key);
    let generate = state(&["ScanBatches", "Generate"]);
    let child = |i: usize| {
        let item = json!({"Map": {"Item": {"Index": i, "Value": batches[i]}}});
        let input = apply(&map["ItemSelector"], &after_preflight, &item);
        (payload(&generate, &input, &item), input)
    };
    assert_eq!(child(0).0, event("generate", "batch"));

    // Batch 1's Generate failed: the Catch sends the child's input and the error to Write.
    let (failed_event, failure) = without_failure(&event("write", "generate-failed"));
    assert_eq!(failed_event, child(1).1);
    assert_eq!(
        caught(&generate, &child(1).1, failure),
        event("write", "generate-failed")
    );
}

#[tokio::test]
async fn batch_state_events_follow_from_the_asl() {
    let (_, out) = planned().await;
    let run = json(&out.run);
    let check = state(&["ScanBatches", "Check"]);
    let write = state(&["ScanBatches", "Write"]);
    let choice = &state(&["ScanBatches", "JobsDone"])["Choices"][0];
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
        assert_eq!(fixture["run"], run);
        // The Choice loops while jobs are pending; Check and Write get the state as is.
        assert_eq!(fixture["pending"].as_u64().unwrap() > 0, pending);
        let task = if pending { &check } else { &write };
        assert_eq!(payload(task, &fixture, &Value::Null), fixture);
    }
    // Check failed beyond its retries: the Catch sends Check's input and the error.
    let (state_before, failure) = without_failure(&event("write", "batch-failed"));
    assert_eq!(state_before, event("check", "in-progress"));
    assert_eq!(
        caught(&check, &state_before, failure),
        event("write", "batch-failed")
    );
}

#[tokio::test]
async fn summarize_events_follow_from_the_asl() {
    let (_, out) = planned().await;
    let after_plan = json(&out);
    let map = state(&["ScanBatches"]);
    let summarize = state(&["Summarize"]);
    // The Map's results are discarded: Summarize gets Plan's output.
    let after_map = place(map.get("ResultPath"), &after_plan, json!([]));
    assert_eq!(
        payload(&summarize, &after_map, &Value::Null),
        event("summarize", "complete")
    );
    // The Map failed: its Catch adds the error.
    let error = event("summarize", "map-failed")["error"].clone();
    assert_eq!(
        payload(&summarize, &caught(&map, &after_plan, error), &Value::Null),
        event("summarize", "map-failed")
    );
}
