//! The layering rules of `docs/design.md` §5, checked on the source tree:
//!
//! - nothing under `functions/core/src/domain/` names I/O: `aws_sdk_*`, `aws_config`,
//!   `aws_smithy_*`, `tokio`, `lambda_runtime`, `futures`, or `crate::{error, adapters,
//!   runtime, handlers}`;
//! - the core's folders form layers (domain, error, adapters, runtime, handlers): a file
//!   imports only files of its own layer or of the layers below it;
//! - no import circle joins files of different folders, in the core or in the CLI;
//! - no production file is over 400 lines (test modules and fixtures aside).
//!
//! An "import" is any `crate::`/`super::`/`self::` path a file names outside comments (in a
//! `use`, or inline), resolved to the file that defines it, following `pub use`
//! re-exports. Test modules (`tests.rs`, `tests/` folders, an inline `#[cfg(test)] mod
//! tests`) are not production code and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module's path below the crate root (`["domain", "report"]`); the root is `[]`.
type ModPath = Vec<String>;

struct File {
    path: PathBuf,
    /// The production text, comments, string contents and test modules removed.
    text: String,
    /// Lines of the file before its inline test module.
    lines: usize,
    /// `pub use` re-exports: the name this module exports → the path it stands for.
    exports: BTreeMap<String, ModPath>,
}

struct Tree {
    files: BTreeMap<ModPath, File>,
}

const MAX_LINES: usize = 400;
const LAYERS: [&str; 5] = ["domain", "error", "adapters", "runtime", "handlers"];

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn cli_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cli/src")
}

impl Tree {
    fn read(root: &Path) -> Tree {
        let mut paths = Vec::new();
        walk(root, &mut paths);
        let mut files = BTreeMap::new();
        for path in paths {
            let rel = path.strip_prefix(root).unwrap();
            let mut module: ModPath = rel
                .iter()
                .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if rel.iter().any(|c| c == "tests") || module.last().is_some_and(|m| m == "tests") {
                continue;
            }
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let raw = fs::read_to_string(&path).unwrap();
            let lines = inline_tests(&raw).unwrap_or(raw.lines().count());
            let text = production(&raw);
            files.insert(
                module,
                File {
                    path,
                    text,
                    lines,
                    exports: BTreeMap::new(),
                },
            );
        }
        let modules: BTreeSet<ModPath> = files.keys().cloned().collect();
        let is_module = |m: &[String]| modules.contains(m);
        for (module, file) in files.iter_mut() {
            for (public, paths) in use_statements(&file.text) {
                for (name, target) in paths.into_iter().filter(|_| public) {
                    if let Some(target) = absolute(module, &target, &is_module) {
                        file.exports.insert(name, target);
                    }
                }
            }
        }
        Tree { files }
    }

    /// The file defining `path`, following re-exports.
    fn resolve(&self, path: &[String], depth: usize) -> Option<&ModPath> {
        let (module, file) = (0..=path.len())
            .rev()
            .find_map(|n| self.files.get_key_value(&path[..n]))?;
        let rest = &path[module.len()..];
        if let (Some(name), true) = (rest.first(), depth < 8) {
            if let Some(target) = file.exports.get(name) {
                let mut next = target.clone();
                next.extend(rest[1..].iter().cloned());
                if next.as_slice() != path {
                    return self.resolve(&next, depth + 1);
                }
            }
        }
        Some(module)
    }

    /// Every file each file imports.
    fn edges(&self) -> BTreeMap<&ModPath, BTreeSet<&ModPath>> {
        let mut edges = BTreeMap::new();
        for (module, file) in &self.files {
            let mut targets = BTreeSet::new();
            for path in referenced(&file.text) {
                if let Some(abs) = absolute(module, &path, &|m| self.files.contains_key(m)) {
                    if let Some(target) = self.resolve(&abs, 0) {
                        if target != module {
                            targets.insert(target);
                        }
                    }
                }
            }
            edges.insert(module, targets);
        }
        edges
    }

    fn name(&self, module: &ModPath) -> String {
        self.files[module].path.display().to_string()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The line where an inline `#[cfg(test)] mod tests { … }` starts (by the house style,
/// it ends its file).
fn inline_tests(raw: &str) -> Option<usize> {
    let lines: Vec<&str> = raw.lines().collect();
    lines.windows(2).position(|pair| {
        pair[0].trim() == "#[cfg(test)]" && pair[1].trim_start().starts_with("mod tests {")
    })
}

/// The text before its inline tests, without comments and string contents.
fn production(raw: &str) -> String {
    let end = inline_tests(raw).unwrap_or(usize::MAX);
    let kept: String = raw.lines().take(end).flat_map(|l| [l, "\n"]).collect();
    let chars: Vec<char> = kept.chars().collect();
    let mut out = String::with_capacity(kept.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1).copied()) {
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            ('"', _) => {
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    } else if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            ('\'', Some(c)) if chars.get(i + 2) == Some(&'\'') || c == '\\' => {
                let close = (i + 2..chars.len())
                    .find(|&j| chars[j] == '\'')
                    .unwrap_or(i);
                out.push_str("' '");
                i = close + 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// What one `use` brings in: `(name, path)` each.
type Imports = Vec<(String, Vec<String>)>;

/// Every `use` statement: whether it is `pub`, and what it brings in.
fn use_statements(text: &str) -> Vec<(bool, Imports)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = find_word(rest, "use ") {
        let before = rest[..at].trim_end();
        let public = ["pub", "pub(crate)", "pub(super)"]
            .iter()
            .any(|p| before.ends_with(p));
        let body_start = at + 4;
        let statement = public || before.is_empty() || before.ends_with([';', '{', '}', ']']);
        if !statement {
            rest = &rest[body_start..];
            continue;
        }
        let Some(end) = rest[body_start..].find(';') else {
            break;
        };
        let body = rest[body_start..body_start + end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut paths = Vec::new();
        expand(&[], &body, &mut paths);
        out.push((public, paths));
        rest = &rest[body_start + end + 1..];
    }
    out
}

/// `a::{b, c::{d as e}}` → `(b, [a, b])`, `(e, [a, c, d])`; globs are left out.
fn expand(prefix: &[String], body: &str, out: &mut Imports) {
    let body = body.trim().trim_start_matches("::");
    if let Some(open) = body.find('{') {
        let head: Vec<String> = split_path(&body[..open]);
        let mut full = prefix.to_vec();
        full.extend(head);
        let inner = &body[open + 1..body.rfind('}').unwrap_or(body.len())];
        for part in split_top(inner) {
            expand(&full, part, out);
        }
        return;
    }
    let (path, alias) = match body.split_once(" as ") {
        Some((p, a)) => (p, Some(a.trim())),
        None => (body, None),
    };
    let mut full = prefix.to_vec();
    full.extend(split_path(path));
    match full.last().map(String::as_str) {
        None | Some("*") => {
            if full.last().is_some() {
                full.pop();
                out.push((String::new(), full));
            }
        }
        Some("self") => {
            full.pop();
            let name = alias.map(str::to_string).or_else(|| full.last().cloned());
            out.push((name.unwrap_or_default(), full));
        }
        Some(last) => {
            let name = alias.unwrap_or(last).to_string();
            out.push((name, full));
        }
    }
}

fn split_path(path: &str) -> Vec<String> {
    path.split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits `a, b::{c, d}, e` at its top-level commas.
fn split_top(inner: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The position of `word` where it starts a token.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Every `crate::`, `super::` and `self::` path the text names: from `use` statements
/// (expanded) and inline.
fn referenced(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = use_statements(text)
        .into_iter()
        .flat_map(|(_, paths)| paths.into_iter().map(|(_, p)| p))
        .collect();
    for root in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(root) {
            let at = from + i;
            from = at + root.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let tail: String = text[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = split_path(&tail);
            if path.len() > 1 {
                out.push(path);
            }
        }
    }
    out
}

/// `path` as seen from `module`, from the crate root; `None` for an outside crate.
/// `is_module` tells a child module named first (`use error::Error` in `lib.rs`).
fn absolute(
    module: &ModPath,
    path: &[String],
    is_module: &dyn Fn(&[String]) -> bool,
) -> Option<ModPath> {
    let mut base = module.clone();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = module.clone();
            child.push(first.to_string());
            if !is_module(&child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The folder a file sits in (`domain/report` for `domain/report/history.rs` and
/// `domain/report/mod.rs`).
fn folder(tree: &Tree, module: &ModPath) -> PathBuf {
    tree.files[module].path.parent().unwrap().to_path_buf()
}

/// The strongly connected components of more than one file (Tarjan).
fn circles<'a>(edges: &BTreeMap<&'a ModPath, BTreeSet<&'a ModPath>>) -> Vec<Vec<&'a ModPath>> {
    struct State<'a> {
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        out: Vec<Vec<&'a ModPath>>,
    }
    fn visit<'a>(
        v: &'a ModPath,
        edges: &BTreeMap<&'a ModPath, BTreeSet<&'a ModPath>>,
        s: &mut State<'a>,
    ) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for &v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(v, edges, &mut s);
        }
    }
    s.out
}

/// Circles that join files of more than one folder, each as its files' names.
fn cross_folder_circles(tree: &Tree) -> Vec<Vec<String>> {
    let edges = tree.edges();
    circles(&edges)
        .into_iter()
        .filter(|c| {
            c.iter()
                .map(|m| folder(tree, m))
                .collect::<BTreeSet<_>>()
                .len()
                > 1
        })
        .map(|c| c.into_iter().map(|m| tree.name(m)).collect())
        .collect()
}

/// What the domain may not name: I/O crates and the layers above it.
const BANNED_IN_DOMAIN: [&str; 12] = [
    "aws_sdk_",
    "aws_config",
    "aws_smithy_",
    "aws_credential_types",
    "tokio",
    "lambda_runtime",
    "futures",
    "tracing",
    "crate::error",
    "crate::adapters",
    "crate::runtime",
    "crate::handlers",
];

/// `FILE names WORD` for each banned word a file under `domain/` names.
fn impure(tree: &Tree) -> Vec<String> {
    let mut found = Vec::new();
    let domain = tree
        .files
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|d| d == "domain"));
    for (_, file) in domain {
        for word in BANNED_IN_DOMAIN {
            if find_word(&file.text, word).is_some() {
                found.push(format!("{} names {word}", file.path.display()));
            }
        }
    }
    found
}

/// `FILE: N lines` for each file over the limit.
fn too_long(tree: &Tree) -> Vec<String> {
    tree.files
        .values()
        .filter(|f| f.lines > MAX_LINES)
        .map(|f| format!("{}: {} lines", f.path.display(), f.lines))
        .collect()
}

#[test]
fn the_domain_names_no_io_and_no_outer_layer() {
    let tree = Tree::read(&core_src());
    let domain = tree
        .files
        .keys()
        .filter(|m| m.first().is_some_and(|d| d == "domain"));
    assert!(
        domain.count() > 10,
        "functions/core/src/domain/ holds the pure core"
    );
    let found = impure(&tree);
    assert!(
        found.is_empty(),
        "the domain must stay pure:\n{}",
        found.join("\n")
    );
}

#[test]
fn each_layer_imports_only_itself_and_the_layers_below() {
    let tree = Tree::read(&core_src());
    let rank = |m: &ModPath| m.first().and_then(|d| LAYERS.iter().position(|l| l == d));
    let mut found = Vec::new();
    for (from, targets) in tree.edges() {
        let Some(own) = rank(from) else { continue };
        for to in targets {
            if rank(to).is_some_and(|r| r > own) {
                found.push(format!("{} imports {}", tree.name(from), tree.name(to)));
            }
        }
    }
    assert!(
        found.is_empty(),
        "layers, from the bottom: {LAYERS:?}\n{}",
        found.join("\n")
    );
    // Every file but the crate root sits in a layer's folder.
    let outside: Vec<_> = tree
        .files
        .keys()
        .filter(|m| !m.is_empty() && rank(m).is_none())
        .map(|m| tree.name(m))
        .collect();
    assert!(
        outside.is_empty(),
        "every file of the core sits in a layer's folder: {outside:?}"
    );
}

#[test]
fn no_import_circle_joins_two_folders_in_the_core_or_the_cli() {
    for root in [core_src(), cli_src()] {
        let tree = Tree::read(&root);
        assert!(tree.files.len() > 5, "{} is read", root.display());
        let found = cross_folder_circles(&tree);
        assert!(
            found.is_empty(),
            "import circles across folders: {found:#?}"
        );
    }
}

#[test]
fn no_production_file_is_over_400_lines() {
    let found: Vec<String> = [core_src(), cli_src()]
        .iter()
        .flat_map(|root| too_long(&Tree::read(root)))
        .collect();
    assert!(
        found.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        found.join("\n")
    );
}

/// The checker itself: a circle across folders is found, one inside a folder is not,
/// re-exports are followed and comments are not imports; the domain naming I/O and a
/// long file are found.
#[test]
fn the_checker_finds_what_it_is_for() {
    let dir = std::env::temp_dir().join(format!("architecture-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub use a::thing::Thing;\n",
    );
    write("a/mod.rs", "pub mod thing;\npub mod other;\n");
    write("a/thing.rs", "use super::other::X;\npub struct Thing;\n");
    write(
        "a/other.rs",
        "use crate::a::thing::Thing; // crate::b::Never\npub struct X;\n",
    );
    write("b/mod.rs", "use crate::{Thing, a::{other::X as Y}};\n");
    let tree = Tree::read(&dir);
    assert!(
        cross_folder_circles(&tree).is_empty(),
        "a circle inside a/ is allowed"
    );
    let edges = tree.edges();
    let b = edges[&vec!["b".to_string()]]
        .iter()
        .map(|m| m.join("/"))
        .collect::<Vec<_>>();
    assert_eq!(b, ["a/other", "a/thing"], "re-export and alias followed");
    write("a/other.rs", "use crate::b::Z;\npub struct X;\n");
    write("b/mod.rs", "use crate::Thing;\npub struct Z;\n");
    let found = cross_folder_circles(&Tree::read(&dir));
    assert_eq!(found.len(), 1, "a → b → a across folders: {found:?}");
    assert_eq!(found[0].len(), 3, "{found:?}");

    // The domain names I/O: found, but not in a comment, a string or its inline tests.
    write(
        "domain/mod.rs",
        "// tokio\nconst S: &str = \"tokio\";\nuse crate::adapters::X;\n#[cfg(test)]\nmod tests {\n    use tokio::time;\n}\n",
    );
    let found = impure(&Tree::read(&dir));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("names crate::adapters"), "{found:?}");
    // A long file is found; its inline tests don't count.
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    write("b/mod.rs", &long);
    write(
        "a/other.rs",
        &format!(
            "{}#[cfg(test)]\nmod tests {{\n{long}}}\n",
            "fn g() {}\n".repeat(10)
        ),
    );
    let found = too_long(&Tree::read(&dir));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("b/mod.rs: 401 lines"), "{found:?}");
    let _ = fs::remove_dir_all(&dir);
}
