//! YAML (block style, as CloudFormation templates are written) for JSON values. Every
//! string is a double-quoted scalar with JSON's escapes, which YAML's double-quoted style
//! reads the same: no string can turn into a number, a boolean, a null or a tag.

use super::model::ordered;
use serde_json::Value;

/// Plain scalars YAML 1.1 (PyYAML, cfn-lint) reads as booleans or null: quoted as keys.
const SPECIAL: [&str; 11] = [
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "",
];

/// A double-quoted YAML scalar.
pub fn string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// A mapping key: plain when it is a plain word (`Effect`), else quoted
/// (`"aws:SecureTransport"`, `"Yes"`).
pub fn key(text: &str) -> String {
    let mut chars = text.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !SPECIAL.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_string()
    } else {
        string(text)
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(string(s)),
        Value::Array(items) if items.is_empty() => Some("[]".to_string()),
        Value::Object(map) if map.is_empty() => Some("{}".to_string()),
        _ => None,
    }
}

/// `key: value` for one mapping entry at `indent`, the value's lines below it when it is
/// a mapping or a sequence.
pub fn entry(k: &str, v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match scalar(v) {
        Some(s) => format!("{pad}{}: {s}\n", key(k)),
        None => format!("{pad}{}:\n{}", key(k), block(v, indent + 2)),
    }
}

/// A mapping's or a sequence's lines at `indent`.
fn block(v: &Value, indent: usize) -> String {
    match v {
        Value::Object(map) => ordered(map)
            .into_iter()
            .map(|(k, v)| entry(k, v, indent))
            .collect(),
        Value::Array(items) => items.iter().map(|item| item_lines(item, indent)).collect(),
        other => format!(
            "{}{}\n",
            " ".repeat(indent),
            scalar(other).unwrap_or_default()
        ),
    }
}

/// One sequence item: `- scalar`, or a nested block whose first line carries the `- `.
fn item_lines(item: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    if let Some(s) = scalar(item) {
        return format!("{pad}- {s}\n");
    }
    let nested = block(item, indent + 2);
    // The nested block starts with indent + 2 spaces: the first two become "- ".
    format!("{pad}- {}", &nested[indent + 2..])
}

/// `# text` lines at `indent`.
pub fn comment(lines: &[String], indent: usize) -> String {
    let pad = " ".repeat(indent);
    lines
        .iter()
        .flat_map(|l| l.lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| format!("{pad}# {l}").trim_end().to_string() + "\n")
        .collect()
}
