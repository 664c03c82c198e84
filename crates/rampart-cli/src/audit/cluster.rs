//! Reading a live cluster through kubeconfig with read-only list calls.
//!
//! Each resource in [`RESOURCES`] is listed cluster-wide with `GET`, in
//! pages of [`PAGE_SIZE`] items joined by `continue` tokens. Every page is
//! converted to typed objects as it arrives and then dropped, so only the
//! typed objects and one page of JSON stay in memory. Secrets and
//! ConfigMaps are never requested.
//!
//! A list that the credentials may not read (403) or that the API server
//! does not serve (404) becomes a gap in the report; the other lists are
//! still audited. A rejected credential (401) or an unreachable server ends
//! the command.
//!
//! An object whose controller is listed too is audited once, at the top
//! owner: a Pod of a ReplicaSet of a Deployment is audited as the
//! Deployment, and a Job of a CronJob as the CronJob. The owner's template
//! is what the controller stamps out, so the owned copies would only repeat
//! its findings. Objects whose controller is not listed (a static Pod owned
//! by its Node, a ReplicaSet of a custom controller) are audited as they
//! are.

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use rampart_posture::{Manifests, Origin, read_object};
use rampart_report::audit::InputError;
use serde_json::Value;

use super::ClusterArgs;

/// Items requested per list call. kube-apiserver may return fewer.
const PAGE_SIZE: u32 = 500;

/// Maximum wait for the next bytes of a response. The kubeconfig sets no
/// such limit, and without one a stalled server would hang the audit.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The objects listed from a cluster.
pub struct Listed {
    /// The kubeconfig context used.
    pub context: String,
    pub manifests: Manifests,
    pub errors: Vec<InputError>,
    /// Lists that could not be read (forbidden or not served), each with
    /// the findings it leaves incomplete.
    pub gaps: Vec<String>,
}

/// A resource listed cluster-wide.
struct ListedResource {
    /// `v1` for the core group, else `GROUP/VERSION`.
    api_version: &'static str,
    plural: &'static str,
    kind: &'static str,
    /// The findings that are incomplete without this list, for gap messages.
    findings: &'static str,
    /// Whether objects of this kind may be the controller of other listed
    /// objects, so their uids are kept for the owner check.
    owns: bool,
}

impl ListedResource {
    const fn new(
        api_version: &'static str,
        plural: &'static str,
        kind: &'static str,
        findings: &'static str,
    ) -> Self {
        ListedResource {
            api_version,
            plural,
            kind,
            findings,
            owns: false,
        }
    }

    const fn owner(mut self) -> Self {
        self.owns = true;
        self
    }

    /// Returns the REST path of the cluster-wide list, without a leading
    /// slash, such as `apis/apps/v1/deployments`.
    fn path(&self) -> String {
        if self.api_version.contains('/') {
            format!("apis/{}/{}", self.api_version, self.plural)
        } else {
            format!("api/{}/{}", self.api_version, self.plural)
        }
    }

    fn is_workload(&self) -> bool {
        self.findings == WORKLOAD
    }
}

const WORKLOAD: &str = "workload";
const RBAC_V1: &str = "rbac.authorization.k8s.io/v1";
const ADMISSION_V1: &str = "admissionregistration.k8s.io/v1";

/// The resources listed, in order. Each controller comes before the kinds
/// it creates (CronJob, Job, then Pod; Deployment, ReplicaSet, then Pod), so
/// that owned objects are recognized and dropped as their pages arrive.
const RESOURCES: [ListedResource; 19] = [
    ListedResource::new("v1", "namespaces", "Namespace", "namespace"),
    ListedResource::new("v1", "serviceaccounts", "ServiceAccount", "service account"),
    ListedResource::new(RBAC_V1, "roles", "Role", "RBAC"),
    ListedResource::new(RBAC_V1, "clusterroles", "ClusterRole", "RBAC"),
    ListedResource::new(RBAC_V1, "rolebindings", "RoleBinding", "RBAC"),
    ListedResource::new(RBAC_V1, "clusterrolebindings", "ClusterRoleBinding", "RBAC"),
    ListedResource::new(
        "networking.k8s.io/v1",
        "networkpolicies",
        "NetworkPolicy",
        "NetworkPolicy",
    ),
    ListedResource::new(
        ADMISSION_V1,
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        "admission",
    ),
    ListedResource::new(
        ADMISSION_V1,
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        "admission",
    ),
    ListedResource::new(
        ADMISSION_V1,
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        "admission",
    ),
    ListedResource::new("batch/v1", "cronjobs", "CronJob", WORKLOAD).owner(),
    ListedResource::new("batch/v1", "jobs", "Job", WORKLOAD).owner(),
    ListedResource::new("apps/v1", "deployments", "Deployment", WORKLOAD).owner(),
    ListedResource::new("apps/v1", "replicasets", "ReplicaSet", WORKLOAD).owner(),
    ListedResource::new("apps/v1", "statefulsets", "StatefulSet", WORKLOAD).owner(),
    ListedResource::new("apps/v1", "daemonsets", "DaemonSet", WORKLOAD).owner(),
    ListedResource::new(
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        WORKLOAD,
    )
    .owner(),
    ListedResource::new("v1", "podtemplates", "PodTemplate", WORKLOAD),
    ListedResource::new("v1", "pods", "Pod", WORKLOAD),
];

/// Lists the cluster of the selected kubeconfig context.
pub fn load(args: &ClusterArgs, quiet: bool) -> anyhow::Result<Listed> {
    let (kubeconfig, described) = read_kubeconfig(args.kubeconfig.as_deref())?;
    let context = select_context(&kubeconfig, args.context.as_deref(), &described)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime for API requests")?;
    runtime.block_on(list_cluster(kubeconfig, context, described, quiet))
}

/// Reads the kubeconfig from `--kubeconfig`, else from the files in
/// `$KUBECONFIG` (merged), else from `~/.kube/config`. Returns it with a
/// description of where it came from, for messages.
fn read_kubeconfig(path: Option<&Path>) -> anyhow::Result<(Kubeconfig, String)> {
    if let Some(path) = path {
        let described = format!("kubeconfig {}", path.display());
        let kubeconfig = Kubeconfig::read_from(path).map_err(|error| {
            anyhow!(
                "cannot read {described}: {}; check the --kubeconfig path",
                kubeconfig_error(&error)
            )
        })?;
        return Ok((kubeconfig, described));
    }
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|value| !value.is_empty()) {
        let described = format!("kubeconfig $KUBECONFIG={}", value.to_string_lossy());
        let kubeconfig = Kubeconfig::from_env()
            .map_err(|error| anyhow!("cannot read {described}: {error}"))?
            .unwrap_or_default();
        return Ok((kubeconfig, described));
    }
    let default_path = std::env::home_dir()
        .map(|home| home.join(".kube").join("config"))
        .unwrap_or_else(|| PathBuf::from("~/.kube/config"));
    let described = format!("kubeconfig {}", default_path.display());
    let kubeconfig = Kubeconfig::read_from(&default_path).map_err(|error| {
        anyhow!(
            "cannot read {described}: {}; set KUBECONFIG or give --kubeconfig FILE",
            kubeconfig_error(&error)
        )
    })?;
    Ok((kubeconfig, described))
}

/// Returns the message of a kubeconfig error without the path that kube
/// repeats in it, since the caller's message names the file.
fn kubeconfig_error(error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::ReadConfig(source, _) => source.to_string(),
        other => other.to_string(),
    }
}

/// Returns the context named by `--context`, else the current context,
/// after checking that the kubeconfig defines it.
fn select_context(
    kubeconfig: &Kubeconfig,
    requested: Option<&str>,
    described: &str,
) -> anyhow::Result<String> {
    let names: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|context| context.name.as_str())
        .collect();
    let available = if names.is_empty() {
        "it defines no contexts".to_owned()
    } else {
        format!("its contexts are {}", names.join(", "))
    };
    let name = match requested.or(kubeconfig.current_context.as_deref()) {
        Some(name) if !name.is_empty() => name,
        _ => bail!("{described} sets no current-context; give --context NAME ({available})"),
    };
    if !names.contains(&name) {
        bail!("context {name} not found in {described}; {available}");
    }
    Ok(name.to_owned())
}

/// The API server and context, for messages.
struct Target {
    server: String,
    context: String,
}

async fn list_cluster(
    kubeconfig: Kubeconfig,
    context: String,
    described: String,
    quiet: bool,
) -> anyhow::Result<Listed> {
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|error| anyhow!("cannot use context {context} of {described}: {error}"))?;
    config.read_timeout = Some(READ_TIMEOUT);
    let target = Target {
        server: config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned(),
        context,
    };
    let client = kube::Client::try_from(config).map_err(|error| {
        anyhow!(
            "cannot set up a client for the API server at {} (context {}): {}; check the certificate settings of the context's cluster and user in the kubeconfig",
            target.server,
            target.context,
            client_error(&error)
        )
    })?;

    let progress = Progress::new(quiet);
    let mut collector = Collector::default();
    for resource in &RESOURCES {
        list_resource(&client, resource, &target, &mut collector, &progress).await?;
    }
    progress.finish();

    if !collector.owned.is_empty() {
        let counts: Vec<String> = collector
            .owned
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        tracing::info!(
            "audited at their listed controllers instead of one by one: {}",
            counts.join(", ")
        );
    }
    let errors = invalid_object_errors(&collector.manifests);
    Ok(Listed {
        context: target.context,
        manifests: collector.manifests,
        errors,
        gaps: collector.gaps,
    })
}

/// The objects listed so far.
#[derive(Default)]
struct Collector {
    manifests: Manifests,
    /// The uids of listed objects that may control other objects.
    owner_uids: HashSet<String>,
    /// Objects left out because their controller is listed, by kind.
    owned: BTreeMap<&'static str, usize>,
    gaps: Vec<String>,
}

/// The objects of one resource's list, kept apart until the list is
/// complete so that a list cut short leaves nothing behind.
#[derive(Default)]
struct Batch {
    manifests: Manifests,
    owner_uids: Vec<String>,
    owned: usize,
}

impl Collector {
    fn commit(&mut self, resource: &ListedResource, batch: Batch) {
        self.manifests.extend(batch.manifests);
        self.owner_uids.extend(batch.owner_uids);
        if batch.owned > 0 {
            *self.owned.entry(resource.kind).or_default() += batch.owned;
        }
    }

    /// Converts one list item and files it in `batch`, unless its
    /// controller was listed.
    fn add(&self, batch: &mut Batch, resource: &ListedResource, mut item: Value, origin: Origin) {
        strip_server_fields(&mut item);
        if let Value::Object(map) = &mut item {
            // List items carry no apiVersion or kind of their own.
            map.entry("apiVersion")
                .or_insert_with(|| Value::from(resource.api_version));
            map.entry("kind")
                .or_insert_with(|| Value::from(resource.kind));
        }
        if resource.is_workload() {
            if resource.owns
                && let Some(uid) = item.pointer("/metadata/uid").and_then(Value::as_str)
            {
                batch.owner_uids.push(uid.to_owned());
            }
            if controller_uid(&item).is_some_and(|uid| self.owner_uids.contains(uid)) {
                batch.owned += 1;
                return;
            }
        }
        read_object(item, origin, &mut batch.manifests);
    }
}

/// Removes what no control reads and what makes objects large: the status,
/// the field managers and kubectl's copy of the applied manifest.
fn strip_server_fields(item: &mut Value) {
    let Value::Object(map) = item else {
        return;
    };
    map.remove("status");
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        metadata.remove("managedFields");
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
}

/// Returns the uid in the owner reference marked `controller: true`.
fn controller_uid(item: &Value) -> Option<&str> {
    item.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|owner| owner.get("controller").and_then(Value::as_bool) == Some(true))?
        .get("uid")?
        .as_str()
}

/// Lists one resource page by page into `collector`. A 403 or 404 becomes
/// a gap, and a continue token that expired (410) restarts the list once.
async fn list_resource(
    client: &kube::Client,
    resource: &ListedResource,
    target: &Target,
    collector: &mut Collector,
    progress: &Progress,
) -> anyhow::Result<()> {
    let path = resource.path();
    let source: Arc<str> = Arc::from(path.as_str());
    let mut batch = Batch::default();
    let mut continue_token: Option<String> = None;
    let mut restarted = false;
    let mut index = 0;
    loop {
        progress.show(resource, index);
        let mut params = ListParams::default().limit(PAGE_SIZE);
        if let Some(token) = &continue_token {
            params = params.continue_token(token);
        }
        let request = kube::core::Request::new(format!("/{path}"))
            .list(&params)
            .with_context(|| format!("cannot build the list request for {path}"))?;
        let mut page: Value = match client.request(request).await {
            Ok(page) => page,
            Err(kube::Error::Api(status)) => {
                match status.code {
                    403 => {
                        collector.gaps.push(format!(
                            "cannot list {} {}: forbidden; {} findings are incomplete",
                            resource.api_version, resource.plural, resource.findings
                        ));
                        return Ok(());
                    }
                    404 => {
                        collector.gaps.push(format!(
                            "cannot list {} {}: not served by the API server (404); {} findings are incomplete",
                            resource.api_version, resource.plural, resource.findings
                        ));
                        return Ok(());
                    }
                    // The token outlived the server's compaction window, so
                    // the list starts again. The items read so far come
                    // again, so they are dropped first.
                    410 if continue_token.is_some() && !restarted => {
                        tracing::info!("continue token for {path} expired; listing it again");
                        batch = Batch::default();
                        continue_token = None;
                        restarted = true;
                        index = 0;
                        continue;
                    }
                    401 => bail!(
                        "the API server at {} rejected the credentials of context {} (401 Unauthorized); \
                         log in again or check the user that the context names in the kubeconfig",
                        target.server,
                        target.context
                    ),
                    code => bail!(
                        "cannot list {path} from the API server at {} (context {}): {code} {}: {}",
                        target.server,
                        target.context,
                        status.reason,
                        status.message
                    ),
                }
            }
            Err(error) => bail!(
                "cannot list {path} from the API server at {} (context {}): {}; check that the cluster is reachable and that the server address and certificate authority in the kubeconfig are right",
                target.server,
                target.context,
                client_error(&error)
            ),
        };

        let next_token = page
            .pointer("/metadata/continue")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(str::to_owned);
        // A server that hands back the token it was given would make the
        // loop endless.
        if next_token.is_some() && next_token == continue_token {
            bail!(
                "the API server at {} (context {}) returned the same continue token twice for {path}; the list cannot be completed",
                target.server,
                target.context
            );
        }
        continue_token = next_token;
        if let Value::Array(items) = page["items"].take() {
            for item in items {
                let origin = Origin {
                    source: Arc::clone(&source),
                    document: 1,
                    item: Some(index),
                    line: 0,
                };
                collector.add(&mut batch, resource, item, origin);
                index += 1;
            }
        }
        drop(page);
        if continue_token.is_none() {
            break;
        }
    }
    collector.commit(resource, batch);
    Ok(())
}

/// Returns the message of a client error with its causes, without kube's
/// `ServiceError:` or `HyperError:` prefix.
fn client_error(error: &kube::Error) -> String {
    match error {
        kube::Error::Service(inner) => error_chain(inner.as_ref()),
        kube::Error::HyperError(inner) => error_chain(inner),
        other => error_chain(other),
    }
}

/// Returns an error and its sources joined with `: `, leaving out a
/// source whose text the previous message already contains.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Reports the listed objects that did not match their schema, which the
/// API server should never return.
fn invalid_object_errors(manifests: &Manifests) -> Vec<InputError> {
    manifests
        .invalid
        .iter()
        .map(|invalid| InputError {
            source: invalid.origin.source.to_string(),
            line: None,
            message: format!(
                "item {}: {} {:?} does not match its schema: {}",
                invalid.origin.item.unwrap_or_default(),
                invalid.kind,
                invalid.name.as_deref().unwrap_or("(no name)"),
                invalid.message
            ),
        })
        .collect()
}

/// A spinner on stderr naming the list being read, shown only on a
/// terminal.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    fn show(&self, resource: &ListedResource, items: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "listing {} {} ({items} so far)",
                resource.api_version, resource.plural
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_paths_of_core_and_named_groups() {
        let paths: Vec<String> = RESOURCES.iter().map(ListedResource::path).collect();
        assert!(paths.contains(&"api/v1/pods".to_owned()));
        assert!(paths.contains(&"apis/apps/v1/deployments".to_owned()));
        assert!(
            paths.contains(&"apis/rbac.authorization.k8s.io/v1/clusterrolebindings".to_owned())
        );
    }

    #[test]
    fn secrets_and_configmaps_are_not_listed() {
        for resource in &RESOURCES {
            assert!(!matches!(resource.plural, "secrets" | "configmaps"));
        }
    }

    #[test]
    fn controllers_are_listed_before_what_they_own() {
        let position = |plural: &str| {
            RESOURCES
                .iter()
                .position(|resource| resource.plural == plural)
                .unwrap()
        };
        assert!(position("cronjobs") < position("jobs"));
        assert!(position("deployments") < position("replicasets"));
        for owner in [
            "jobs",
            "replicasets",
            "statefulsets",
            "daemonsets",
            "replicationcontrollers",
        ] {
            assert!(position(owner) < position("pods"), "{owner}");
        }
    }

    #[test]
    fn server_fields_are_stripped() {
        let mut item = json!({
            "metadata": {
                "name": "web",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    "team": "shop"
                }
            },
            "spec": {"replicas": 1},
            "status": {"replicas": 1}
        });
        strip_server_fields(&mut item);
        assert_eq!(
            item,
            json!({
                "metadata": {"name": "web", "annotations": {"team": "shop"}},
                "spec": {"replicas": 1}
            })
        );
    }

    #[test]
    fn controller_uid_ignores_other_owners() {
        let item = json!({"metadata": {"ownerReferences": [
            {"kind": "ConfigMap", "uid": "a"},
            {"kind": "ReplicaSet", "uid": "b", "controller": true}
        ]}});
        assert_eq!(controller_uid(&item), Some("b"));
        assert_eq!(controller_uid(&json!({"metadata": {}})), None);
    }

    #[test]
    fn context_must_exist() {
        let kubeconfig = Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context:\n    cluster: a\ncurrent-context: a\n",
        )
        .unwrap();
        assert_eq!(
            select_context(&kubeconfig, None, "kubeconfig k").unwrap(),
            "a"
        );
        let error = select_context(&kubeconfig, Some("b"), "kubeconfig k").unwrap_err();
        assert_eq!(
            error.to_string(),
            "context b not found in kubeconfig k; its contexts are a"
        );
    }
}
