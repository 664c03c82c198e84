//! Self-tests of the fake Kubernetes API server: pagination, the error
//! statuses, the bearer token, HTTPS with the test CA and the request log.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use rampart_testkit::apiserver::{ApiServer, ApiServerOptions, KubeconfigContext, kubeconfig};
use serde_json::{Value, json};

/// Writes a PodList of `count` pods at `root/api/v1/pods.json`.
fn write_pods(root: &Path, count: usize) {
    let items: Vec<Value> = (0..count)
        .map(|index| json!({"metadata": {"name": format!("pod-{index}"), "namespace": "default"}}))
        .collect();
    let list = json!({
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "77"},
        "items": items,
    });
    std::fs::create_dir_all(root.join("api/v1")).unwrap();
    std::fs::write(
        root.join("api/v1/pods.json"),
        serde_json::to_vec(&list).unwrap(),
    )
    .unwrap();
}

fn agent(ca_pem: Option<&str>) -> ureq::Agent {
    let certificates: Vec<ureq::tls::Certificate<'static>> = ca_pem
        .iter()
        .map(|pem| {
            ureq::tls::Certificate::from_pem(pem.as_bytes())
                .unwrap()
                .to_owned()
        })
        .collect();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&certificates))
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .tls_config(tls)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// Sends a GET and returns the status and JSON body.
fn get(agent: &ureq::Agent, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = agent.get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    let body: Value = serde_json::from_slice(&response.body_mut().read_to_vec().unwrap()).unwrap();
    (status, body)
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn pages_follow_limit_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    write_pods(dir.path(), 5);
    let server = ApiServer::start(dir.path(), ApiServerOptions::default());
    let agent = agent(None);

    let (status, first) = get(
        &agent,
        &format!("{}/api/v1/pods?limit=2", server.url()),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(names(&first), ["pod-0", "pod-1"]);
    assert_eq!(first["kind"], "PodList");
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let token = first["metadata"]["continue"].as_str().unwrap();

    let encoded: String = token.replace('=', "%3D");
    let url = format!("{}/api/v1/pods?limit=2&continue={encoded}", server.url());
    let (_, second) = get(&agent, &url, None);
    assert_eq!(names(&second), ["pod-2", "pod-3"]);
    let token = second["metadata"]["continue"]
        .as_str()
        .unwrap()
        .replace('=', "%3D");

    let url = format!("{}/api/v1/pods?limit=2&continue={token}", server.url());
    let (_, last) = get(&agent, &url, None);
    assert_eq!(names(&last), ["pod-4"]);
    assert!(last["metadata"].get("continue").is_none());

    let (_, whole) = get(&agent, &format!("{}/api/v1/pods", server.url()), None);
    assert_eq!(names(&whole).len(), 5);
}

#[test]
fn errors_are_status_objects() {
    let dir = tempfile::tempdir().unwrap();
    write_pods(dir.path(), 1);
    let server = ApiServer::start(
        dir.path(),
        ApiServerOptions {
            forbidden: vec!["/api/v1/pods".to_owned()],
            ..ApiServerOptions::default()
        },
    );
    let agent = agent(None);

    let (status, body) = get(&agent, &format!("{}/api/v1/pods", server.url()), None);
    assert_eq!(status, 403);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(body["code"], 403);

    let (status, body) = get(&agent, &format!("{}/api/v1/secrets", server.url()), None);
    assert_eq!(status, 404);
    assert_eq!(body["reason"], "NotFound");

    let mut response = agent
        .post(format!("{}/api/v1/pods", server.url()))
        .send("{}")
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let _ = response.body_mut().read_to_vec();
}

#[test]
fn expired_continue_token_gets_410_once() {
    let dir = tempfile::tempdir().unwrap();
    write_pods(dir.path(), 3);
    let server = ApiServer::start(dir.path(), ApiServerOptions::default());
    server.expire_next_continue("/api/v1/pods");
    let agent = agent(None);

    let (_, first) = get(
        &agent,
        &format!("{}/api/v1/pods?limit=1", server.url()),
        None,
    );
    let token = first["metadata"]["continue"]
        .as_str()
        .unwrap()
        .replace('=', "%3D");
    let url = format!("{}/api/v1/pods?limit=1&continue={token}", server.url());
    let (status, body) = get(&agent, &url, None);
    assert_eq!(status, 410);
    assert_eq!(body["reason"], "Expired");
    let (status, _) = get(&agent, &url, None);
    assert_eq!(status, 200);
}

#[test]
fn token_is_required_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    write_pods(dir.path(), 1);
    let server = ApiServer::start(
        dir.path(),
        ApiServerOptions {
            token: Some("right".to_owned()),
            ..ApiServerOptions::default()
        },
    );
    let agent = agent(None);
    let url = format!("{}/api/v1/pods", server.url());

    assert_eq!(get(&agent, &url, None).0, 401);
    assert_eq!(get(&agent, &url, Some("wrong")).0, 401);
    assert_eq!(get(&agent, &url, Some("right")).0, 200);
}

#[test]
fn https_is_signed_by_the_test_ca() {
    let dir = tempfile::tempdir().unwrap();
    write_pods(dir.path(), 2);
    let server = ApiServer::start(
        dir.path(),
        ApiServerOptions {
            tls: true,
            ..ApiServerOptions::default()
        },
    );
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let ca = server.ca_pem().unwrap();

    let (status, page) = get(
        &agent(Some(&ca)),
        &format!("{}/api/v1/pods", server.url()),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(names(&page).len(), 2);
}

#[test]
fn requests_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    write_pods(dir.path(), 1);
    let server = ApiServer::start(dir.path(), ApiServerOptions::default());
    get(
        &agent(None),
        &format!("{}/api/v1/pods?limit=500", server.url()),
        None,
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/api/v1/pods");
    assert_eq!(requests[0].param("limit"), Some("500"));
    assert_eq!(requests[0].status, 200);
}

#[test]
fn kubeconfig_carries_ca_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start(
        dir.path(),
        ApiServerOptions {
            tls: true,
            ..ApiServerOptions::default()
        },
    );
    let text = kubeconfig(
        &[KubeconfigContext {
            name: "test",
            server: &server,
            token: Some("t0k3n"),
        }],
        "test",
    );
    let ca_data = base64::engine::general_purpose::STANDARD.encode(server.ca_pem().unwrap());

    assert!(
        text.contains(&format!("server: {}", server.url())),
        "{text}"
    );
    assert!(text.contains(&format!("certificate-authority-data: {ca_data}")));
    assert!(text.contains("token: t0k3n"));
    assert!(text.contains("current-context: test"));
}
