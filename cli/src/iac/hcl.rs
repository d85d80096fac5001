//! HCL (Terraform's native syntax) for JSON values: a policy document becomes the object
//! expression `jsonencode` turns back into the same JSON. No heredoc and no template: every
//! string is a quoted literal with `${` and `%{` escaped, so a policy variable such as
//! `${aws:username}` reaches IAM as written instead of being interpolated by Terraform.

use super::model::ordered;
use serde_json::Value;

/// Terraform's reserved words and HCL's keywords: as object keys they are quoted, so a
/// key `for` never starts a for expression.
const KEYWORDS: [&str; 9] = [
    "true", "false", "null", "for", "in", "if", "else", "endif", "endfor",
];

/// Longest one-line list of strings; a longer one has one element per line.
const LINE_WIDTH: usize = 80;

/// A quoted HCL string literal: `"`, `\` and control characters escaped as HCL's
/// escapes, `${` as `$${` and `%{` as `%%{` (literal, not a template).
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An object key: a bare identifier when it is one (`Effect`), else a quoted string
/// (`"aws:SecureTransport"`).
pub fn key(text: &str) -> String {
    let mut chars = text.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !KEYWORDS.contains(&text);
    if identifier {
        text.to_string()
    } else {
        string(text)
    }
}

/// The value as an HCL expression; `indent` is the column of the line it starts on, for
/// the lines it continues on.
pub fn value(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(items) => tuple(items, indent),
        Value::Object(map) => {
            if map.is_empty() {
                return "{}".to_string();
            }
            let entries: Vec<(String, String)> = ordered(map)
                .into_iter()
                .map(|(k, v)| (key(k), value(v, indent + 2)))
                .collect();
            format!("{{\n{}{}}}", attributes(&entries, indent + 2), pad(indent))
        }
    }
}

fn tuple(items: &[Value], indent: usize) -> String {
    if items.is_empty() {
        return "[]".to_string();
    }
    let scalars = items
        .iter()
        .all(|v| !matches!(v, Value::Array(_) | Value::Object(_)));
    if scalars {
        let line = items
            .iter()
            .map(|v| value(v, indent))
            .collect::<Vec<_>>()
            .join(", ");
        if indent + line.len() <= LINE_WIDTH {
            return format!("[{line}]");
        }
    }
    let mut out = "[\n".to_string();
    for item in items {
        out += &format!("{}{},\n", pad(indent + 2), value(item, indent + 2));
    }
    out + &pad(indent) + "]"
}

/// `key = value` lines at `indent`, with the `=` of consecutive one-line values aligned
/// as `terraform fmt` aligns them (a multi-line value ends a group).
pub fn attributes(entries: &[(String, String)], indent: usize) -> String {
    let mut out = String::new();
    let mut group_start = 0;
    while group_start < entries.len() {
        let one_line = |(_, v): &(String, String)| !v.contains('\n');
        let group_end = entries[group_start..]
            .iter()
            .position(|e| !one_line(e))
            .map_or(entries.len(), |p| group_start + p);
        let width = entries[group_start..group_end]
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, v) in &entries[group_start..group_end] {
            let gap = width - k.chars().count();
            out += &format!("{}{k}{} = {v}\n", pad(indent), pad(gap));
        }
        if let Some((k, v)) = entries.get(group_end) {
            out += &format!("{}{k} = {v}\n", pad(indent));
        }
        group_start = group_end + 1;
    }
    out
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// `# text` lines; a line break inside `text` starts another comment line.
pub fn comment(lines: &[String]) -> String {
    lines
        .iter()
        .flat_map(|l| l.lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| format!("# {l}").trim_end().to_string() + "\n")
        .collect()
}
