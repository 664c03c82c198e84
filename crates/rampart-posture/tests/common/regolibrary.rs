//! Kubescape regolibrary rule test cases: reading them, and comparing
//! rampart's findings with the rule responses a case expects.
//!
//! A case directory contains the objects under `input/` (a few cases keep
//! them beside `expected.json` instead), the expected rule responses in
//! `expected.json`, and for configurable rules the control inputs in
//! `data.json`. `cases.tsv` lists the cases as `case_dir`, `rule`, `case`
//! and `expected_findings` (the length of `expected.json`).
//!
//! Kubescape and rampart count findings in different units (one response
//! per mount where rampart reports the volume, one per missing setting where
//! rampart reports the container), so a comparison first maps both sides to
//! a common [`Unit`] and then compares the sets of units.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rampart_posture::{Finding, Object, PlacedObject, parse_manifests};
use serde_json::Value;

/// Where the cases come from. The copies under `tests/fixtures/regolibrary`
/// keep the upstream license, Apache-2.0.
pub const ORIGIN: &str = "kubescape/regolibrary @ ce7ef32aef7a7d272016c3f0d1105c60d6b266fb";

/// One row of `cases.tsv`.
#[derive(Clone, Debug)]
pub struct CaseRow {
    /// Case directory, relative to the directory of `cases.tsv`.
    pub case_dir: String,
    pub rule: String,
    pub case: String,
    /// Number of rule responses in the case's `expected.json`.
    pub expected_findings: usize,
}

/// Reads `cases.tsv`, skipping `#` comments and the header row.
pub fn read_cases_tsv(path: &Path) -> Vec<CaseRow> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with("case_dir\t") {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert!(
            fields.len() >= 4,
            "malformed line in {}: {line:?}",
            path.display()
        );
        rows.push(CaseRow {
            case_dir: fields[0].to_owned(),
            rule: fields[1].to_owned(),
            case: fields[2].to_owned(),
            expected_findings: fields[3]
                .parse()
                .unwrap_or_else(|_| panic!("invalid expected_findings in {line:?}")),
        });
    }
    rows
}

/// One expected rule response: the object it is about and the field paths
/// it names (failed, delete, fix and review paths, in that order).
#[derive(Clone, Debug)]
pub struct Expected {
    pub kind: String,
    pub name: String,
    pub paths: Vec<String>,
}

/// A case read from its directory.
pub struct Case {
    pub dir: PathBuf,
    pub objects: Vec<Object>,
    /// The objects of kinds that only the default-namespace control reads.
    pub placed: Vec<PlacedObject>,
    pub expected: Vec<Expected>,
    /// The case's `data.json`, if it has one.
    pub data: Option<Value>,
}

impl Case {
    /// Returns the string list `postureControlInputs.<key>` of `data.json`,
    /// or an empty list.
    pub fn control_input(&self, key: &str) -> Vec<String> {
        let list = self
            .data
            .as_ref()
            .and_then(|data| data.pointer(&format!("/postureControlInputs/{key}")))
            .and_then(Value::as_array);
        list.into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }
}

/// Reads the case in `dir`. Panics on an input that rampart cannot parse,
/// since every case input is a valid manifest.
pub fn load_case(dir: &Path) -> Case {
    let mut objects = Vec::new();
    let mut placed = Vec::new();
    for file in input_files(dir) {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
        let source = file.display().to_string();
        let manifests = parse_manifests(&text, &source).unwrap_or_else(|error| panic!("{error}"));
        assert!(
            manifests.invalid.is_empty(),
            "{source}: {:?}",
            manifests.invalid
        );
        objects.extend(manifests.objects);
        placed.extend(manifests.placed);
    }

    let expected_path = dir.join("expected.json");
    let expected: Value = read_json(&expected_path);
    let responses = expected
        .as_array()
        .unwrap_or_else(|| panic!("{} is not a JSON array", expected_path.display()));
    let expected = responses.iter().map(read_response).collect();

    let data_path = dir.join("data.json");
    let data = data_path.exists().then(|| read_json(&data_path));
    Case {
        dir: dir.to_owned(),
        objects,
        placed,
        expected,
        data,
    }
}

/// Returns the manifest files of a case: those under `input/`, or when
/// there is no such directory, the manifests beside `expected.json`.
fn input_files(dir: &Path) -> Vec<PathBuf> {
    let input = dir.join("input");
    let (folder, beside) = if input.is_dir() {
        (input, false)
    } else {
        (dir.to_owned(), true)
    };
    let entries = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", folder.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let manifest = [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext));
            let case_file = beside && (name == "expected.json" || name == "data.json");
            path.is_file() && manifest && !case_file
        })
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{}: invalid JSON: {error}", path.display()))
}

fn read_response(response: &Value) -> Expected {
    let object = response
        .pointer("/alertObject/k8sApiObjects/0")
        .unwrap_or_else(|| panic!("response without alertObject.k8sApiObjects: {response}"));
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();

    let mut paths = Vec::new();
    for list in ["failedPaths", "deletePaths", "fixPaths", "reviewPaths"] {
        let entries = response.get(list).and_then(Value::as_array);
        for entry in entries.into_iter().flatten() {
            // fixPaths entries are {path, value}; the others are strings.
            let path = entry.as_str().or_else(|| entry.get("path")?.as_str());
            if let Some(path) = path.filter(|path| !path.is_empty()) {
                paths.push(path.to_owned());
            }
        }
    }
    Expected {
        kind: text(object.get("kind")),
        name: text(object.pointer("/metadata/name")),
        paths,
    }
}

/// Returns the ids of the Kubescape controls (`C-0057`) that use `rule`,
/// read from the corpus layout: `rules/<rule>/rule.metadata.json` names
/// the rule (which may differ from its directory), and `controls/*.json`
/// list rule names in `rulesNames`.
pub fn kubescape_controls_of(root: &Path, rule: &str) -> Vec<String> {
    let metadata = read_json(&root.join("rules").join(rule).join("rule.metadata.json"));
    let name = metadata.get("name").and_then(Value::as_str).unwrap_or(rule);

    let folder = root.join("controls");
    let entries = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", folder.display()));
    let mut ids = Vec::new();
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let control = read_json(&path);
        let rules = control.get("rulesNames").and_then(Value::as_array);
        let uses_rule = rules
            .into_iter()
            .flatten()
            .any(|rule_name| rule_name.as_str() == Some(name));
        let id = control.get("controlID").and_then(Value::as_str);
        if let Some(id) = id.filter(|_| uses_rule) {
            ids.push(id.to_owned());
        }
    }
    ids.sort();
    ids
}

/// What one finding counts as when the two sides are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// The object: it fails the rule or it does not.
    Object,
    /// One container, named by the `containers[i]`, `initContainers[i]` or
    /// `ephemeralContainers[i]` segment of the path. Pod-level findings
    /// are not counted.
    Container,
    /// One list element, named by the path up to its last index (an env
    /// var, a volume, a port), or one pod field such as `spec.hostPID`.
    Element,
}

impl Unit {
    /// Returns the part of `path` that names this unit, or `None` when the
    /// path names none (a pod-level field in a per-container rule).
    pub fn locate(self, path: &str) -> Option<String> {
        match self {
            Unit::Object => None,
            Unit::Container => {
                let segments: Vec<&str> = path.split('.').collect();
                let is_container = |segment: &&str| {
                    ["containers[", "initContainers[", "ephemeralContainers["]
                        .iter()
                        .any(|list| segment.starts_with(list))
                };
                let index = segments.iter().position(is_container)?;
                Some(segments[..=index].join("."))
            }
            Unit::Element => match path.rfind(']') {
                Some(end) => Some(path[..=end].to_owned()),
                None => Some(path.to_owned()),
            },
        }
    }
}

/// One counted unit: the object's kind and name, and where in it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub kind: String,
    pub name: String,
    pub locator: Option<String>,
}

/// The units each side reports for one case.
#[derive(Debug)]
pub struct Outcome {
    pub expected: BTreeSet<Key>,
    /// Expected responses with no path that names a unit; each matches any
    /// one otherwise unmatched rampart unit on the same object.
    pub unlocated: Vec<(String, String)>,
    pub actual: BTreeSet<Key>,
}

impl Outcome {
    /// Returns whether rampart reports exactly the expected units.
    pub fn agrees(&self) -> bool {
        if !self.expected.is_subset(&self.actual) {
            return false;
        }
        let mut extra: Vec<&Key> = self.actual.difference(&self.expected).collect();
        for (kind, name) in &self.unlocated {
            let Some(index) = extra
                .iter()
                .position(|key| &key.kind == kind && &key.name == name)
            else {
                return false;
            };
            extra.remove(index);
        }
        extra.is_empty()
    }

    /// Describes both sides for a failure message.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        let show = |key: &Key| {
            let locator = key.locator.as_deref().unwrap_or("-");
            format!("{}/{} {locator}", key.kind, key.name)
        };
        let _ = writeln!(text, "  expected:");
        for key in &self.expected {
            let _ = writeln!(text, "    {}", show(key));
        }
        for (kind, name) in &self.unlocated {
            let _ = writeln!(text, "    {kind}/{name} (no path)");
        }
        let _ = writeln!(text, "  rampart:");
        for key in &self.actual {
            let _ = writeln!(text, "    {}", show(key));
        }
        text
    }
}

/// Maps the expected responses of `case` and rampart's `findings` (already
/// narrowed to the rule's controls) to `unit`s.
pub fn compare(case: &Case, unit: Unit, findings: &[&Finding]) -> Outcome {
    let mut expected = BTreeSet::new();
    let mut unlocated = Vec::new();
    for response in &case.expected {
        let key = |locator| Key {
            kind: response.kind.clone(),
            name: response.name.clone(),
            locator,
        };
        if unit == Unit::Object {
            expected.insert(key(None));
            continue;
        }
        match response.paths.iter().find_map(|path| unit.locate(path)) {
            Some(locator) => {
                expected.insert(key(Some(locator)));
            }
            None => unlocated.push((response.kind.clone(), response.name.clone())),
        }
    }

    let mut actual = BTreeSet::new();
    for finding in findings {
        let locator = match unit {
            Unit::Object => None,
            _ => match finding
                .field
                .as_deref()
                .and_then(|field| unit.locate(field))
            {
                Some(locator) => Some(locator),
                None => continue,
            },
        };
        actual.insert(Key {
            kind: finding.resource.kind.to_owned(),
            name: finding.resource.name.clone(),
            locator,
        });
    }
    Outcome {
        expected,
        unlocated,
        actual,
    }
}
