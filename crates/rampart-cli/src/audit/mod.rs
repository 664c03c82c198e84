//! `rampart audit`: Kubernetes posture of manifests or of a live cluster.
//!
//! Exit codes as for `rampart scan`: 0 when done, 1 when `--fail-on` meets
//! a finding, 2 on an error. An input that cannot be read is reported in
//! every output and gives exit code 2 after the other inputs are audited.

mod cluster;
mod input;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use rampart_posture::{
    AuditOptions, Exceptions, Framework, Grant, Manifests, PolicyVersion, Query, RbacGraph, Scope,
    Severity, audit_with_placed, catalogue, locate_findings,
};
use rampart_report::audit::{AuditFormat, AuditReport, write_audit};

use crate::output::{OutputTarget, check_targets, parse_target, stdout_is_terminal, write_each};
use crate::scan::ScanOutcome;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,

    /// Manifest files or directories (read recursively: *.yaml, *.yml,
    /// *.json), or - for stdin, such as `helm template` output.
    #[arg(value_name = "PATH", required_unless_present_any = ["cluster", "list_controls"])]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    cluster: ClusterArgs,

    /// Pod Security Standards version: v1.N or latest.
    #[arg(long, value_name = "VERSION", default_value = "latest")]
    pss_version: PolicyVersion,

    /// Frameworks to report and score: pss-baseline, pss-restricted, cis,
    /// nsa, mitre or all; repeat or separate with commas.
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        default_value = "all"
    )]
    framework: Vec<String>,

    /// YAML file of accepted findings by control, namespace, kind and name,
    /// each with a reason and an expiry date.
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,

    /// Registry (or registry/path) that images may come from, such as
    /// registry.example.com or registry.example.com/team; repeat for
    /// several. Without it the allow-list control is off.
    #[arg(long, value_name = "PREFIX", value_parser = parse_registry_prefix)]
    allowed_registry: Vec<String>,

    /// Output as FORMAT or FORMAT=FILE; repeat for several. Formats: table,
    /// json, sarif, junit, policyreport. Default: table.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", value_parser = parse_target::<AuditFormat>)]
    outputs: Vec<OutputTarget<AuditFormat>>,

    /// Exit with code 1 when a finding that no exception accepts has this
    /// severity or a higher one (low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,

    /// Print the controls with their severities and mappings, and exit.
    #[arg(long)]
    list_controls: bool,

    /// Report timestamp (RFC 3339), for reproducible output. Default: now.
    #[arg(long, value_name = "RFC3339")]
    timestamp: Option<DateTime<Utc>>,
}

/// Where a live cluster is read from.
#[derive(Args, Clone, Debug)]
pub struct ClusterArgs {
    /// Audit the live cluster of the current kubeconfig context, with
    /// read-only list calls.
    #[arg(long)]
    pub cluster: bool,

    /// Kubeconfig context to use instead of the current one.
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,

    /// Kubeconfig file. Default: $KUBECONFIG, else ~/.kube/config.
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Answer RBAC questions, such as which subjects may perform a verb on
    /// a resource.
    Rbac(RbacArgs),
}

#[derive(Args)]
struct RbacArgs {
    /// List the subjects that may perform VERB on RESOURCE (such as `get
    /// secrets`, `create pods/exec` or `update deployments.apps`).
    #[arg(long, num_args = 2, value_names = ["VERB", "RESOURCE"], required = true)]
    who_can: Vec<String>,

    /// Namespace of the request. Without it, the grants of every namespace
    /// are listed, each labelled with its scope.
    #[arg(short, long, value_name = "NS")]
    namespace: Option<String>,

    /// Print the grants as JSON instead of a table.
    #[arg(long)]
    json: bool,

    /// Manifest files or directories, or - for stdin.
    #[arg(value_name = "PATH", required_unless_present = "cluster")]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn run(args: AuditArgs, quiet: bool) -> anyhow::Result<ScanOutcome> {
    if let Some(AuditCommand::Rbac(rbac)) = args.command {
        return run_rbac(rbac, quiet);
    }
    if args.list_controls {
        print!("{}", list_controls());
        return Ok(ScanOutcome::Passed);
    }

    let mut outputs = args.outputs.clone();
    if outputs.is_empty() {
        outputs.push(OutputTarget {
            format: AuditFormat::Table,
            file: None,
        });
    }
    check_targets(&outputs)?;
    let frameworks = parse_frameworks(&args.framework)?;
    // The exceptions file is read before the inputs, so a mistake in it
    // fails fast.
    let exceptions = match &args.exceptions {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read exceptions file {}", path.display()))?;
            Exceptions::parse(&text, &path.display().to_string())?
        }
        None => Exceptions::default(),
    };

    let started = std::time::Instant::now();
    let (loaded, sources, whole_cluster) = load_objects(&args.paths, &args.cluster, quiet)?;
    tracing::info!(
        objects = loaded.manifests.objects.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read the inputs"
    );
    let options = AuditOptions {
        pss_version: args.pss_version,
        allowed_registries: args.allowed_registry.clone(),
        whole_cluster,
    };
    let started = std::time::Instant::now();
    let mut result = audit_with_placed(
        &loaded.manifests.objects,
        &loaded.manifests.placed,
        &options,
    );
    tracing::info!(
        findings = result.findings.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "audited the objects"
    );
    result.retain_frameworks(&frameworks);
    let today = args.timestamp.unwrap_or_else(Utc::now).date_naive();
    let applied = exceptions.apply(&mut result.findings, today);

    let mut objects: BTreeMap<String, usize> = BTreeMap::new();
    for object in &loaded.manifests.objects {
        *objects.entry(object.kind().to_owned()).or_default() += 1;
    }
    let mut report = AuditReport::new(
        args.timestamp.unwrap_or_else(Utc::now),
        sources,
        args.pss_version,
        frameworks,
        args.allowed_registry,
        objects,
        loaded.manifests.skipped.clone(),
        result,
        applied,
    );
    if let Some(texts) = loaded.texts {
        let started = std::time::Instant::now();
        let positions = locate_findings(&report.result.findings, |source| texts.text_of(source));
        report.set_positions(positions);
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "located the findings' fields"
        );
        for source in texts.changed() {
            report.warnings.push(format!(
                "{source} changed or vanished during the audit; its findings have no line numbers"
            ));
        }
    }
    report.errors = loaded.errors;
    report.gaps = loaded.gaps;
    report.warnings.extend(
        report
            .result
            .warnings
            .iter()
            .map(|warning| format!("{}: {}", warning.resource.display(), warning.message)),
    );
    for unused in &report.exceptions.unused {
        report
            .warnings
            .push(format!("exception {unused} matched no finding"));
    }

    let table_on_stdout = outputs
        .iter()
        .any(|target| target.format == AuditFormat::Table && target.file.is_none());
    if !table_on_stdout {
        for error in &report.errors {
            let line = error
                .line
                .map(|line| format!(":{line}"))
                .unwrap_or_default();
            eprintln!("error: {}{line}: {}", error.source, error.message);
        }
        for gap in &report.gaps {
            eprintln!("gap: {gap}");
        }
    }
    let started = std::time::Instant::now();
    let color = stdout_is_terminal();
    write_each(
        outputs,
        |target| target.file.as_deref(),
        |target, out| write_audit(&report, target.format, color && target.file.is_none(), out),
    )?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rendered and wrote the outputs"
    );

    let outcome = if report.errors.is_empty() {
        Ok(policy_outcome(&report, args.fail_on))
    } else {
        Err(anyhow::anyhow!(
            "{} input error(s) listed above; fix those inputs and run again (the other inputs were audited and the outputs written)",
            report.errors.len()
        ))
    };
    // The process ends right after this, so the objects and findings (a
    // gigabyte for 50,000 objects) are left to the OS instead of being
    // freed one allocation at a time.
    std::mem::forget(report);
    std::mem::forget(loaded.manifests);
    outcome
}

/// The objects of the inputs, input errors and cluster gaps.
struct LoadedObjects {
    manifests: Manifests,
    errors: Vec<rampart_report::audit::InputError>,
    gaps: Vec<String>,
    /// The manifest texts, for the line numbers of findings; `None` for a
    /// cluster.
    texts: Option<input::SourceTexts>,
}

fn load_objects(
    paths: &[PathBuf],
    cluster: &ClusterArgs,
    quiet: bool,
) -> anyhow::Result<(LoadedObjects, Vec<String>, bool)> {
    if cluster.cluster {
        if !paths.is_empty() {
            bail!("give either manifest paths or --cluster, not both");
        }
        let listed = cluster::load(cluster, quiet)?;
        let sources = vec![format!("cluster:{}", listed.context)];
        let loaded = LoadedObjects {
            manifests: listed.manifests,
            errors: listed.errors,
            gaps: listed.gaps,
            texts: None,
        };
        return Ok((loaded, sources, true));
    }
    if paths.iter().filter(|path| path.as_os_str() == "-").count() > 1 {
        bail!("stdin (-) can be read only once");
    }
    let loaded = input::load(paths)?;
    let sources = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    let loaded = LoadedObjects {
        manifests: loaded.manifests,
        errors: loaded.errors,
        gaps: Vec::new(),
        texts: Some(loaded.texts),
    };
    Ok((loaded, sources, false))
}

/// Checks an `--allowed-registry` value: a registry host, optionally with
/// a port and a repository path, as image references write it.
fn parse_registry_prefix(text: &str) -> Result<String, String> {
    let prefix = text.trim().trim_end_matches('/');
    if prefix.is_empty() {
        return Err("the registry prefix is empty".to_owned());
    }
    if prefix.contains("://") {
        return Err(format!(
            "{text:?} is a URL; give the registry as image references write it, such as registry.example.com/team"
        ));
    }
    if prefix.contains(['@', ' ']) || prefix.split('/').any(str::is_empty) {
        return Err(format!(
            "{text:?} is not a registry or registry/path prefix, such as registry.example.com/team"
        ));
    }
    Ok(prefix.to_owned())
}

fn parse_frameworks(values: &[String]) -> anyhow::Result<Vec<Framework>> {
    let mut frameworks = Vec::new();
    for value in values {
        for framework in Framework::parse_selection(value.trim()).map_err(anyhow::Error::msg)? {
            if !frameworks.contains(&framework) {
                frameworks.push(framework);
            }
        }
    }
    frameworks.sort();
    Ok(frameworks)
}

fn policy_outcome(report: &AuditReport, fail_on: Option<Severity>) -> ScanOutcome {
    if let Some(threshold) = fail_on {
        let count = report.result.count_at_least(threshold);
        if count > 0 {
            return ScanOutcome::PolicyFailed(format!(
                "{count} finding(s) of severity {threshold} or higher (--fail-on {threshold})"
            ));
        }
    }
    ScanOutcome::Passed
}

fn list_controls() -> String {
    let mut out = String::new();
    for control in catalogue() {
        let mut mappings = Vec::new();
        if !control.cis.is_empty() {
            mappings.push(format!("CIS {}", control.cis.join(", ")));
        }
        if !control.mitre.is_empty() {
            mappings.push(control.mitre.join(", "));
        }
        out.push_str(&format!(
            "{:<40} {:<9} {}{}\n",
            control.id,
            control.severity.as_str(),
            control.title,
            if mappings.is_empty() {
                String::new()
            } else {
                format!(" [{}]", mappings.join("; "))
            }
        ));
    }
    out
}

fn run_rbac(args: RbacArgs, quiet: bool) -> anyhow::Result<ScanOutcome> {
    let [verb, resource] = args.who_can.as_slice() else {
        bail!("--who-can takes a verb and a resource, such as --who-can get secrets");
    };
    let query = Query::parse(verb, resource)?;
    let (loaded, _sources, whole_cluster) = load_objects(&args.paths, &args.cluster, quiet)?;
    for error in &loaded.errors {
        let line = error
            .line
            .map(|line| format!(":{line}"))
            .unwrap_or_default();
        eprintln!("error: {}{line}: {}", error.source, error.message);
    }
    for gap in &loaded.gaps {
        eprintln!("gap: {gap}");
    }
    let graph = RbacGraph::build(&loaded.manifests.objects, whole_cluster);
    for warning in graph.warnings() {
        eprintln!("warning: {}", warning.message);
    }
    let grants = graph.who_can(&query, args.namespace.as_deref());
    if args.json {
        let mut text = serde_json::to_string_pretty(&grants)?;
        text.push('\n');
        print!("{text}");
    } else {
        print!("{}", grants_table(&grants));
    }
    if !loaded.errors.is_empty() {
        bail!(
            "{} input error(s) listed above; fix those inputs and run again",
            loaded.errors.len()
        );
    }
    Ok(ScanOutcome::Passed)
}

fn grants_table(grants: &[Grant]) -> String {
    if grants.is_empty() {
        return "No subject is allowed this request.\n".to_owned();
    }
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.force_no_tty();
    table.set_header(["SUBJECT", "SCOPE", "ROLE", "BINDING", "RESTRICTED TO"]);
    for grant in grants {
        let scope = match &grant.scope {
            Scope::Cluster => "cluster".to_owned(),
            Scope::Namespace(namespace) => format!("namespace {namespace}"),
        };
        table.add_row([
            grant.subject.to_string(),
            scope,
            grant.via_role.to_string(),
            grant.via_binding.to_string(),
            grant.resource_names.join(", "),
        ]);
    }
    for index in 0..5 {
        if let Some(column) = table.column_mut(index) {
            column.set_padding((0, 2));
        }
    }
    table.trim_fmt() + "\n"
}
