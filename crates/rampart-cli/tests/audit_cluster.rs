//! `rampart audit --cluster` against a fake API server on 127.0.0.1 that
//! serves the recorded list responses in tests/fixtures/cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rampart_testkit::apiserver::{ApiServer, ApiServerOptions, KubeconfigContext, kubeconfig};
use serde_json::{Value, json};

const TOKEN: &str = "audit-reader-token";

/// The list paths that `--cluster` reads, as the fixture stores them.
const LIST_PATHS: &[&str] = &[
    "/api/v1/namespaces",
    "/api/v1/serviceaccounts",
    "/apis/rbac.authorization.k8s.io/v1/roles",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    "/apis/networking.k8s.io/v1/networkpolicies",
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
    "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
    "/apis/batch/v1/cronjobs",
    "/apis/batch/v1/jobs",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
    "/api/v1/replicationcontrollers",
    "/api/v1/podtemplates",
    "/api/v1/pods",
];

const TIMESTAMP: &str = "2026-06-01T00:00:00Z";

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

/// Proxy variables that kube honours. The tests talk to 127.0.0.1 directly.
const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Runs rampart with HOME in `dir`, no KUBECONFIG and no proxy, so that no
/// kubeconfig of the machine is read and no request leaves 127.0.0.1.
fn rampart(args: &[&str], dir: &Path) -> Output {
    rampart_with_env(args, dir, &[])
}

fn rampart_with_env(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("KUBECONFIG")
        .env_remove("RUST_LOG");
    for name in PROXY_VARIABLES {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn report(output: &Output) -> Value {
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "exit {:?}: {}",
        output.status.code(),
        stderr(output)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Writes a kubeconfig with one context, `test`, for `server`.
fn write_kubeconfig(dir: &Path, server: &ApiServer, token: Option<&str>) -> PathBuf {
    let path = dir.join("kubeconfig");
    let context = KubeconfigContext {
        name: "test",
        server,
        token,
    };
    std::fs::write(&path, kubeconfig(&[context], "test")).unwrap();
    path
}

fn audit_cluster(dir: &Path, kubeconfig: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        "--cluster",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "-o",
        "json",
        "--timestamp",
        TIMESTAMP,
    ];
    args.extend_from_slice(extra);
    rampart(&args, dir)
}

/// Returns the findings without their locations, which name files for
/// manifests and API paths for a cluster, sorted.
fn findings(report: &Value) -> Vec<Value> {
    let mut findings: Vec<Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            let mut finding = finding.clone();
            finding.as_object_mut().unwrap().remove("location");
            finding
        })
        .collect();
    findings.sort_by_key(|finding| finding.to_string());
    findings
}

fn objects_by_kind(report: &Value) -> BTreeMap<String, u64> {
    report["summary"]["objects_by_kind"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(kind, count)| (kind.clone(), count.as_u64().unwrap()))
        .collect()
}

/// Copies the fixture into `dir` so that a test can change it.
fn copy_fixture(dir: &Path) -> PathBuf {
    let root = dir.join("recordings");
    copy_tree(&fixture_dir(), &root);
    root
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Returns the `apiVersion` of the items of a list path.
fn api_version(path: &str) -> String {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", version, _] => (*version).to_owned(),
        ["apis", group, version, _] => format!("{group}/{version}"),
        _ => panic!("not a list path: {path}"),
    }
}

fn read_list(root: &Path, path: &str) -> Value {
    let file = root.join(format!("{}.json", path.trim_start_matches('/')));
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

fn controller_uid(item: &Value) -> Option<&str> {
    item["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|owner| owner["controller"] == true)?["uid"]
        .as_str()
}

/// Writes the fixture's objects as manifest files, one `List` per list
/// path, with `apiVersion` and `kind` on each item as `kubectl get -o yaml`
/// writes them, leaving out the objects whose controller is also listed.
fn write_manifests(root: &Path, out: &Path) {
    let mut owner_uids = BTreeSet::new();
    for path in LIST_PATHS {
        for item in read_list(root, path)["items"].as_array().unwrap() {
            if let Some(uid) = item["metadata"]["uid"].as_str() {
                owner_uids.insert(uid.to_owned());
            }
        }
    }
    std::fs::create_dir_all(out).unwrap();
    for path in LIST_PATHS {
        let list = read_list(root, path);
        let kind = list["kind"].as_str().unwrap().trim_end_matches("List");
        let items: Vec<Value> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| controller_uid(item).is_none_or(|uid| !owner_uids.contains(uid)))
            .map(|item| {
                let mut item = item.clone();
                item["apiVersion"] = json!(api_version(path));
                item["kind"] = json!(kind);
                item
            })
            .collect();
        let document = json!({"apiVersion": "v1", "kind": "List", "items": items});
        let name = path.trim_start_matches('/').replace('/', "_");
        std::fs::write(
            out.join(format!("{name}.json")),
            serde_json::to_vec_pretty(&document).unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn cluster_findings_equal_manifest_findings() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(
        &fixture_dir(),
        ApiServerOptions {
            tls: true,
            token: Some(TOKEN.to_owned()),
            ..ApiServerOptions::default()
        },
    );
    let kubeconfig = write_kubeconfig(dir.path(), &server, Some(TOKEN));
    let cluster = report(&audit_cluster(dir.path(), &kubeconfig, &[]));

    let manifests_dir = dir.path().join("manifests");
    write_manifests(&fixture_dir(), &manifests_dir);
    let manifests = report(&rampart(
        &[
            "audit",
            manifests_dir.to_str().unwrap(),
            "-o",
            "json",
            "--timestamp",
            TIMESTAMP,
        ],
        dir.path(),
    ));

    assert_eq!(cluster["target"]["sources"], json!(["cluster:test"]));
    assert_eq!(cluster["gaps"], json!([]), "{:#}", cluster["gaps"]);
    assert_eq!(cluster["errors"], json!([]), "{:#}", cluster["errors"]);
    assert!(!findings(&cluster).is_empty());
    // Only a whole cluster can show that no image verifier is installed.
    let cluster_findings: Vec<_> = findings(&cluster)
        .into_iter()
        .filter(|finding| finding["control"] != "no-image-verification-admission")
        .collect();
    assert_eq!(
        cluster_findings.len() + 1,
        findings(&cluster).len(),
        "the cluster audit reports the missing image verifier once"
    );
    let manifest_findings = findings(&manifests);
    let only_cluster: Vec<_> = cluster_findings
        .iter()
        .filter(|f| !manifest_findings.contains(f))
        .collect();
    let only_manifests: Vec<_> = manifest_findings
        .iter()
        .filter(|f| !cluster_findings.contains(f))
        .collect();
    assert!(
        only_cluster.is_empty() && only_manifests.is_empty(),
        "only in the cluster audit: {only_cluster:#?}\nonly in the manifest audit: {only_manifests:#?}"
    );
    assert_eq!(objects_by_kind(&cluster), objects_by_kind(&manifests));
}

#[test]
fn owned_objects_are_audited_at_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&fixture_dir(), ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let cluster = report(&audit_cluster(dir.path(), &kubeconfig, &[]));

    let counts = objects_by_kind(&cluster);
    // Of 11 recorded pods, two have no listed controller: a pod started by
    // hand and a static (mirror) pod, which its Node owns.
    assert_eq!(counts["Pod"], 2);
    // Of 3 ReplicaSets, the Deployment `web` controls 2.
    assert_eq!(counts["ReplicaSet"], 1);
    // Of 2 Jobs, the CronJob `report` controls 1.
    assert_eq!(counts["Job"], 1);
    assert_eq!(counts["Deployment"], 1);
    assert_eq!(counts["CronJob"], 1);
    assert_eq!(counts["DaemonSet"], 1);
    assert_eq!(counts["StatefulSet"], 1);
    assert_eq!(counts["ReplicationController"], 1);

    let pods: BTreeSet<&str> = cluster["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["resource"]["kind"] == "Pod")
        .map(|finding| finding["resource"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        pods,
        BTreeSet::from(["debug-shell", "kube-apiserver-node-1"])
    );
}

#[test]
fn only_list_requests_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(
        &fixture_dir(),
        ApiServerOptions {
            token: Some(TOKEN.to_owned()),
            ..ApiServerOptions::default()
        },
    );
    let kubeconfig = write_kubeconfig(dir.path(), &server, Some(TOKEN));
    report(&audit_cluster(dir.path(), &kubeconfig, &[]));

    let requests = server.requests();
    let paths: BTreeSet<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, LIST_PATHS.iter().copied().collect());
    for request in &requests {
        assert_eq!(request.method, "GET", "{request:?}");
        assert_eq!(request.status, 200, "{request:?}");
        assert_eq!(request.param("limit"), Some("500"), "{request:?}");
        for (name, _) in &request.query {
            assert!(
                name == "limit" || name == "continue",
                "unexpected parameter in {request:?}"
            );
        }
    }
    assert!(
        !requests
            .iter()
            .any(|r| r.path.contains("secrets") || r.path.contains("configmaps"))
    );
}

#[test]
fn forbidden_list_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(
        &fixture_dir(),
        ApiServerOptions {
            forbidden: vec!["/apis/rbac.authorization.k8s.io/v1/clusterroles".to_owned()],
            ..ApiServerOptions::default()
        },
    );
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let output = audit_cluster(dir.path(), &kubeconfig, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let cluster = report(&output);

    assert_eq!(
        cluster["gaps"],
        json!([
            "cannot list rbac.authorization.k8s.io/v1 clusterroles: forbidden; RBAC findings are incomplete"
        ])
    );
    assert!(!objects_by_kind(&cluster).contains_key("ClusterRole"));
    assert_eq!(objects_by_kind(&cluster)["ClusterRoleBinding"], 2);
}

#[test]
fn forbidden_list_keeps_fail_on_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(
        &fixture_dir(),
        ApiServerOptions {
            forbidden: vec!["/apis/rbac.authorization.k8s.io/v1/clusterroles".to_owned()],
            ..ApiServerOptions::default()
        },
    );
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let output = audit_cluster(dir.path(), &kubeconfig, &["--fail-on", "high"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--fail-on high"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unserved_resource_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let root = copy_fixture(dir.path());
    // Clusters before Kubernetes 1.30 do not serve admissionregistration.k8s.io/v1
    // ValidatingAdmissionPolicyBindings.
    std::fs::remove_file(
        root.join("apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings.json"),
    )
    .unwrap();
    let server = ApiServer::start(&root, ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let output = audit_cluster(dir.path(), &kubeconfig, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let gaps = report(&output)["gaps"].clone();
    assert_eq!(
        gaps,
        json!([
            "cannot list admissionregistration.k8s.io/v1 validatingadmissionpolicybindings: not served by the API server (404); admission findings are incomplete"
        ])
    );
}

#[test]
fn rejected_token_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(
        &fixture_dir(),
        ApiServerOptions {
            token: Some(TOKEN.to_owned()),
            ..ApiServerOptions::default()
        },
    );
    let kubeconfig = write_kubeconfig(dir.path(), &server, Some("expired-token"));
    let output = audit_cluster(dir.path(), &kubeconfig, &[]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(message.contains(&server.url()), "{message}");
    assert!(message.contains("context test"), "{message}");
    assert!(message.contains("401"), "{message}");
}

#[test]
fn unreachable_server_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago, so nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: gone\n  user: {{}}\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: gone\n\
             current-context: gone\n"
        ),
    )
    .unwrap();
    let output = audit_cluster(dir.path(), &path, &[]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("http://127.0.0.1:{port}")),
        "{message}"
    );
    assert!(message.contains("context gone"), "{message}");
}

/// Replaces the fixture's pods with `count` pods that no controller owns.
fn write_many_pods(root: &Path, count: usize) {
    let pods = read_list(root, "/api/v1/pods");
    let template = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pod| pod["metadata"]["name"] == "debug-shell")
        .unwrap()
        .clone();
    let items: Vec<Value> = (0..count)
        .map(|index| {
            let mut pod = template.clone();
            pod["metadata"]["name"] = json!(format!("worker-{index:05}"));
            pod["metadata"]["uid"] = json!(format!("0c5e0000-0000-4000-8000-{index:012}"));
            pod
        })
        .collect();
    let list = json!({
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "52000"},
        "items": items,
    });
    std::fs::write(
        root.join("api/v1/pods.json"),
        serde_json::to_vec(&list).unwrap(),
    )
    .unwrap();
}

#[test]
fn pages_follow_continue_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let root = copy_fixture(dir.path());
    write_many_pods(&root, 1234);
    let server = ApiServer::start(&root, ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let cluster = report(&audit_cluster(dir.path(), &kubeconfig, &[]));

    assert_eq!(objects_by_kind(&cluster)["Pod"], 1234);
    let pod_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|request| request.path == "/api/v1/pods")
        .collect();
    assert_eq!(pod_requests.len(), 3);
    assert_eq!(pod_requests[0].param("continue"), None);
    assert!(pod_requests[1].param("continue").is_some());
    assert!(pod_requests[2].param("continue").is_some());
    assert_ne!(
        pod_requests[1].param("continue"),
        pod_requests[2].param("continue")
    );
}

#[test]
fn expired_continue_token_restarts_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let root = copy_fixture(dir.path());
    write_many_pods(&root, 1234);
    let server = ApiServer::start(&root, ApiServerOptions::default());
    server.expire_next_continue("/api/v1/pods");
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let cluster = report(&audit_cluster(dir.path(), &kubeconfig, &[]));

    // Each pod is counted once although the first page was read twice.
    assert_eq!(objects_by_kind(&cluster)["Pod"], 1234);
    let statuses: Vec<(bool, u16)> = server
        .requests()
        .into_iter()
        .filter(|request| request.path == "/api/v1/pods")
        .map(|request| (request.param("continue").is_some(), request.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (false, 200),
            (true, 410),
            (false, 200),
            (true, 200),
            (true, 200)
        ]
    );
}

/// Writes recordings of a small second cluster: one namespace.
fn write_other_cluster(root: &Path) {
    std::fs::create_dir_all(root.join("api/v1")).unwrap();
    let list = json!({
        "kind": "NamespaceList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "310"},
        "items": [{
            "metadata": {
                "name": "staging-only",
                "uid": "8d1f3c2a-5b6e-4f70-9a81-b2c3d4e5f607",
                "resourceVersion": "12",
                "creationTimestamp": "2026-02-01T10:00:00Z",
                "labels": {"kubernetes.io/metadata.name": "staging-only"}
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        }],
    });
    std::fs::write(
        root.join("api/v1/namespaces.json"),
        serde_json::to_vec(&list).unwrap(),
    )
    .unwrap();
}

#[test]
fn context_flag_selects_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let production = ApiServer::start(&fixture_dir(), ApiServerOptions::default());
    let staging_root = dir.path().join("staging");
    write_other_cluster(&staging_root);
    let staging = ApiServer::start(&staging_root, ApiServerOptions::default());
    let path = dir.path().join("kubeconfig");
    let contexts = [
        KubeconfigContext {
            name: "production",
            server: &production,
            token: None,
        },
        KubeconfigContext {
            name: "staging",
            server: &staging,
            token: None,
        },
    ];
    std::fs::write(&path, kubeconfig(&contexts, "production")).unwrap();

    let selected = report(&audit_cluster(dir.path(), &path, &["--context", "staging"]));
    assert_eq!(selected["target"]["sources"], json!(["cluster:staging"]));
    assert_eq!(
        objects_by_kind(&selected),
        BTreeMap::from([("Namespace".to_owned(), 1)])
    );
    assert!(production.requests().is_empty());

    let current = report(&audit_cluster(dir.path(), &path, &[]));
    assert_eq!(current["target"]["sources"], json!(["cluster:production"]));
    assert_eq!(objects_by_kind(&current)["Namespace"], 4);
}

#[test]
fn unknown_context_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&fixture_dir(), ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let output = audit_cluster(dir.path(), &kubeconfig, &["--context", "prod"]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("context prod"), "{message}");
    assert!(message.contains("test"), "{message}");
    assert!(server.requests().is_empty());
}

#[test]
fn kubeconfig_variable_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&fixture_dir(), ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let output = rampart_with_env(
        &["audit", "--cluster", "-o", "json"],
        dir.path(),
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(
        report(&output)["target"]["sources"],
        json!(["cluster:test"])
    );
}

/// Returns the URL of a port that was free a moment ago, so nothing
/// listens on it.
fn dead_proxy() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

fn audit_cluster_with_env(kubeconfig: &Path, dir: &Path, env: &[(&str, &str)]) -> Output {
    let args = [
        "audit",
        "--cluster",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "-o",
        "json",
    ];
    rampart_with_env(&args, dir, env)
}

#[test]
fn https_proxy_variable_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&fixture_dir(), ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let proxy = dead_proxy();
    let output = audit_cluster_with_env(&kubeconfig, dir.path(), &[("HTTPS_PROXY", &proxy)]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(server.requests().is_empty());
}

#[test]
fn no_proxy_bypasses_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&fixture_dir(), ApiServerOptions::default());
    let kubeconfig = write_kubeconfig(dir.path(), &server, None);
    let proxy = dead_proxy();
    let output = audit_cluster_with_env(
        &kubeconfig,
        dir.path(),
        &[("HTTPS_PROXY", &proxy), ("NO_PROXY", "127.0.0.1")],
    );

    assert_eq!(
        report(&output)["target"]["sources"],
        json!(["cluster:test"])
    );
    assert!(!server.requests().is_empty());
}

#[test]
fn missing_kubeconfig_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-kubeconfig");
    let output = audit_cluster(dir.path(), &missing, &[]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&missing.display().to_string()),
        "{}",
        stderr(&output)
    );
}
