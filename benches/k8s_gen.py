#!/usr/bin/env python3
"""Generate a synthetic Kubernetes object set for benches/audit.sh.

The set contains exactly --objects objects, and every run with the same
--objects, --seed and --layout writes the same bytes. The two layouts are
generated independently, so the same seed gives two different clusters.

Layouts:
  files  Manifests as a Git repository keeps them. OUT_DIR has one folder per
         namespace and a cluster-scoped/ folder for ClusterRoles,
         ClusterRoleBindings and webhook configurations. A file contains 20
         to 100 objects, fewer only if it is the last of its folder. About
         7 % of the files are JSON List objects. The others are
         multi-document YAML, and in about 8 % of them the last document is
         of kind List.
  api    What kube-apiserver returns to cluster-wide list calls: one
         <Kind>List JSON object per resource at its REST path, for example
         OUT_DIR/api/v1/pods.json or OUT_DIR/apis/apps/v1/deployments.json.
         Items carry the fields that the server sets: uid, resourceVersion,
         creationTimestamp, defaulted spec fields, status, ownerReferences,
         and managedFields on about 40 % of them. As in the API server's
         responses, the items have no apiVersion or kind of their own. Each
         list is sorted by namespace and name. The set also contains what
         controllers create in a real cluster: the ReplicaSets and Pods of
         Deployments and the Pods of StatefulSets, DaemonSets and Jobs. It
         also has the Jobs of CronJobs, the default ServiceAccount and
         kube-root-ca.crt ConfigMap of each namespace, and mirror Pods of the
         control plane.

The mix resembles a multi-team cluster: one namespace per about 50 objects,
kube-system and platform namespaces with privileged node agents, team
namespaces with Deployments, StatefulSets, CronJobs and the Services,
ConfigMaps, ServiceAccounts and RBAC objects around them. Security contexts
range from the Pod Security Standards' restricted profile to privileged
containers, hostPath mounts of the container runtime socket and added
capabilities. Env vars hold literal passwords or secretKeyRefs, and images
are pinned by digest, tagged, tagged latest or untagged. Some namespaces
deny all traffic by default, some select pods with matchExpressions, and
some carry pod-security.kubernetes.io/enforce labels.

A one-line summary (objects per kind) goes to stderr.
"""

import argparse
import base64
import collections
import copy
import datetime
import json
import os
import random
import sys

import yaml

try:
    from yaml import CSafeDumper as YamlDumper
except ImportError:
    from yaml import SafeDumper as YamlDumper

MAX_OBJECTS = 5_000_000

# Start of the simulated cluster's history. Every timestamp is derived from it
# and the seed, never from the clock, so the output does not change between runs.
EPOCH = datetime.datetime(2026, 1, 5, 8, 0, 0, tzinfo=datetime.timezone.utc)

# (REST path prefix, resource, namespaced) for each kind.
KINDS = {
    "Namespace": ("api/v1", "namespaces", False),
    "Pod": ("api/v1", "pods", True),
    "Service": ("api/v1", "services", True),
    "ConfigMap": ("api/v1", "configmaps", True),
    "ServiceAccount": ("api/v1", "serviceaccounts", True),
    "Deployment": ("apis/apps/v1", "deployments", True),
    "StatefulSet": ("apis/apps/v1", "statefulsets", True),
    "DaemonSet": ("apis/apps/v1", "daemonsets", True),
    "ReplicaSet": ("apis/apps/v1", "replicasets", True),
    "Job": ("apis/batch/v1", "jobs", True),
    "CronJob": ("apis/batch/v1", "cronjobs", True),
    "Role": ("apis/rbac.authorization.k8s.io/v1", "roles", True),
    "ClusterRole": ("apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "RoleBinding": ("apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ClusterRoleBinding": ("apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "NetworkPolicy": ("apis/networking.k8s.io/v1", "networkpolicies", True),
    "ValidatingWebhookConfiguration": (
        "apis/admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", False),
}


def api_version(kind):
    prefix = KINDS[kind][0]
    return prefix[len("api/"):] if prefix.startswith("api/") else prefix[len("apis/"):]


# Images: (repository, tags). Repositories without a registry host resolve to
# the container runtime's default registry, as bare names do in real manifests.
PUBLIC_IMAGES = {
    "web": [("nginx", ["1.27.3", "1.26.2-alpine", "1.25"]), ("httpd", ["2.4.62", "2.4"])],
    "db": [("postgres", ["16.4", "15.8-alpine", "17.2"]), ("mysql", ["8.0.39", "8.4"]),
           ("mongo", ["7.0.14", "6.0"])],
    "cache": [("redis", ["7.4.1", "7.2-alpine", "6.2.16"]), ("memcached", ["1.6.31"])],
    "queue": [("bitnami/kafka", ["3.8.0", "3.7"]), ("rabbitmq", ["3.13-management", "4.0.3"])],
    "batch": [("python", ["3.12-slim", "3.11"]), ("busybox", ["1.37", "1.36.1"]),
              ("alpine", ["3.20", "3.21.0"]), ("curlimages/curl", ["8.11.0"])],
    "sidecar": [("envoyproxy/envoy", ["v1.31.2", "v1.30.4"]), ("fluent/fluent-bit", ["3.1.9"])],
}
PRIVATE_REGISTRIES = ["registry.example.com", "registry.example.com:5000",
                      "images.corp.example", "mirror.example.net/hub"]
APP_WORDS = ["api", "web", "worker", "cart", "checkout", "payments", "ledger", "search", "auth",
             "gateway", "notifier", "billing", "inventory", "orders", "reports", "scheduler",
             "ingest", "etl", "profile", "catalog", "pricing", "shipping", "invoices", "media",
             "thumbnailer", "mailer", "sessions", "analytics", "feeds", "recommender", "audit",
             "exporter", "sync", "indexer", "webhooks", "uploads", "quotes", "ratings"]
TEAM_WORDS = ["shop", "data", "core", "growth", "identity", "risk", "ops", "media", "mobile",
              "search", "finance", "support", "partners", "ml", "edge", "billing"]
ENVIRONMENTS = ["prod", "staging", "dev", "qa", "sandbox"]
# Characters that Kubernetes uses for generated name suffixes and pod-template-hash.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Pod security profiles and their weights per namespace type. "hostsock"
# mounts the container runtime socket, "caps" adds capabilities, "root"
# sets runAsUser 0, "unconfined" disables seccomp and AppArmor.
PROFILE_WEIGHTS = {
    "team": {"restricted": 30, "nonroot": 20, "none": 38, "root": 5, "caps": 3,
             "privileged": 1.5, "hostsock": 1.5, "unconfined": 1},
    "platform": {"restricted": 15, "nonroot": 15, "none": 30, "root": 10, "caps": 10,
                 "privileged": 8, "hostsock": 8, "unconfined": 4},
    "system": {"restricted": 15, "nonroot": 20, "none": 15, "caps": 25, "privileged": 25},
    "default": {"none": 60, "root": 15, "nonroot": 10, "privileged": 5, "hostsock": 5, "caps": 5},
}
UNIT_WEIGHTS = {
    "team": {"deployment": 55, "statefulset": 10, "cronjob": 8, "job": 5, "pod": 4,
             "replicaset": 1.5, "daemonset": 1},
    "platform": {"deployment": 35, "daemonset": 20, "statefulset": 15, "cronjob": 5, "job": 5,
                 "pod": 5},
    "system": {"daemonset": 40, "deployment": 45, "pod": 10},
    "default": {"deployment": 40, "pod": 40, "job": 10, "replicaset": 10},
}
# Special namespaces, created first when the set is large enough.
SPECIAL_NAMESPACES = [("kube-system", "system"), ("default", "default"),
                      ("monitoring", "platform"), ("logging", "platform"),
                      ("ingress", "platform"), ("ci-runners", "platform")]

# Node agents of the system and platform namespaces. Their host access is
# what such agents need in real clusters, so it does not follow the profiles.
NODE_AGENTS = [
    {"name": "kube-proxy", "image": "registry.example.com/k8s/kube-proxy:v1.37.1",
     "host_network": True, "privileged": True,
     "host_paths": [("/run/xtables.lock", "/run/xtables.lock", False, "FileOrCreate"),
                    ("/lib/modules", "/lib/modules", True, "")]},
    {"name": "cni-agent", "image": "registry.example.com/platform/cni-agent:1.16.3",
     "host_network": True, "host_pid": False, "caps": ["NET_ADMIN", "SYS_ADMIN", "NET_RAW"],
     "host_paths": [("/opt/cni/bin", "/host/opt/cni/bin", False, "DirectoryOrCreate"),
                    ("/etc/cni/net.d", "/host/etc/cni/net.d", False, "DirectoryOrCreate")]},
    {"name": "csi-node", "image": "registry.example.com/storage/csi-node-driver:2.12.0",
     "privileged": True,
     "host_paths": [("/var/lib/kubelet", "/var/lib/kubelet", False, "Directory"),
                    ("/dev", "/dev", False, "Directory")]},
    {"name": "node-exporter", "image": "prom/node-exporter:v1.8.2", "host_network": True,
     "host_pid": True, "run_as_user": 65534,
     "host_paths": [("/", "/host/root", True, ""), ("/proc", "/host/proc", True, ""),
                    ("/sys", "/host/sys", True, "")]},
    {"name": "log-collector", "image": "fluent/fluent-bit:3.1.9", "run_as_user": 0,
     "host_paths": [("/var/log", "/var/log", True, ""),
                    ("/var/lib/docker/containers", "/var/lib/docker/containers", True, "")]},
    {"name": "build-agent", "image": "registry.example.com/ci/build-agent:4.2.0",
     "host_paths": [("/var/run/docker.sock", "/var/run/docker.sock", False, "Socket")]},
    {"name": "image-cleaner", "image": "registry.example.com/platform/image-cleaner:latest",
     "privileged": True, "host_ipc": True,
     "host_paths": [("/run/containerd/containerd.sock", "/run/containerd/containerd.sock",
                     False, "Socket")]},
    {"name": "security-agent", "image": "registry.example.com/security/runtime-sensor:0.9.4",
     "host_pid": True, "host_network": True, "caps": ["SYS_ADMIN", "SYS_PTRACE", "SYS_RESOURCE"],
     "host_paths": [("/proc", "/host/proc", True, ""), ("/sys/kernel/debug", "/sys/kernel/debug",
                                                         False, "")]},
]
CONTROL_PLANE = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]


def pick(rng, weights):
    """Return a key of `weights` drawn with probability proportional to its value."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def timestamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def image_repository(image):
    """Return `image` without its tag and digest."""
    name = image.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    return name


class Namespace:
    """Generation settings of one namespace."""

    def __init__(self, name, kind, rng):
        self.name = name
        self.kind = kind
        self.label_style = rng.choice(["recommended", "recommended", "simple"])
        self.psa = None
        if kind == "team" and rng.random() < 0.45:
            self.psa = rng.choice(["restricted", "baseline", "baseline", "privileged"])
        elif kind == "platform" and rng.random() < 0.3:
            self.psa = "privileged"
        if kind == "default":
            self.network_policy = "none"
        elif kind == "system":
            self.network_policy = rng.choice(["none", "partial"])
        else:
            self.network_policy = pick(rng, {"default-deny": 30, "selectors": 20,
                                             "partial": 20, "none": 30})
        self.names = collections.defaultdict(set)
        self.created = None


class Generator:
    def __init__(self, objects, seed, layout):
        self.rng = random.Random(seed)
        self.total = objects
        self.api = layout == "api"
        self.objects = []  # (folder, object) in creation order
        self.resource_version = 1_000
        self.nodes = [f"node-{i:02d}" for i in range(1, min(3 + objects // 5_000, 12) + 1)]
        self.node_uids = {node: self.uid() for node in self.nodes}
        self.cluster_names = collections.defaultdict(set)
        self.namespace_accounts = []  # (namespace, ServiceAccount name) for ClusterRoleBindings

    # -- identifiers -------------------------------------------------------

    def uid(self):
        value = self.rng.getrandbits(128)
        value = (value & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
        value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def suffix(self, length):
        return "".join(self.rng.choice(NAME_ALPHABET) for _ in range(length))

    def digest(self):
        return f"sha256:{self.rng.getrandbits(256):064x}"

    def unique(self, names, base):
        name = base
        while name in names:
            name = f"{base}-{self.suffix(3)}"
        names.add(name)
        return name

    def later(self, moment, max_seconds):
        return moment + datetime.timedelta(seconds=self.rng.randint(1, max_seconds))

    # -- object assembly ---------------------------------------------------

    def new_object(self, kind, name, namespace=None, labels=None, annotations=None):
        metadata = {"name": name}
        if namespace is not None:
            metadata["namespace"] = namespace
        if labels:
            metadata["labels"] = dict(labels)
        if annotations:
            metadata["annotations"] = dict(annotations)
        return {"apiVersion": api_version(kind), "kind": kind, "metadata": metadata}

    def app_labels(self, ns, app, component, release):
        if ns.label_style == "simple":
            return {"app": app, "tier": component}, {"app": app}
        labels = {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": release,
            "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": f"{app}-{self.rng.randint(0, 4)}.{self.rng.randint(0, 30)}."
                             f"{self.rng.randint(0, 9)}",
        }
        return labels, {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": release}

    def image(self, role, team, app):
        """Return an image reference: tagged, latest, untagged or pinned by digest."""
        if role in PUBLIC_IMAGES and self.rng.random() < 0.7:
            repository, tags = self.rng.choice(PUBLIC_IMAGES[role])
            tag = self.rng.choice(tags)
            if self.rng.random() < 0.25:
                repository = f"{self.rng.choice(PRIVATE_REGISTRIES)}/{repository}"
        else:
            registry = self.rng.choice(PRIVATE_REGISTRIES)
            repository = f"{registry}/{team}/{app}"
            tag = pick(self.rng, {
                f"{self.rng.randint(0, 5)}.{self.rng.randint(0, 40)}.{self.rng.randint(0, 20)}": 6,
                f"git-{self.rng.getrandbits(28):07x}": 2,
                f"v{self.rng.randint(1, 3)}.{self.rng.randint(0, 12)}": 1})
        form = pick(self.rng, {"tag": 55, "latest": 10, "untagged": 5, "digest": 20,
                               "tag+digest": 10})
        if form == "latest":
            return f"{repository}:latest"
        if form == "untagged":
            return repository
        if form == "digest":
            return f"{repository}@{self.digest()}"
        if form == "tag+digest":
            return f"{repository}:{tag}@{self.digest()}"
        return f"{repository}:{tag}"

    def env(self, app, configmap, profile):
        variables = [{"name": "LOG_LEVEL", "value": self.rng.choice(["info", "debug", "warn"])}]
        if self.rng.random() < 0.5:
            variables.append({"name": "PORT", "value": str(self.rng.choice([8080, 8000, 3000]))})
        if self.rng.random() < 0.3:
            variables.append({"name": "POD_NAME",
                              "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
            variables.append({"name": "POD_NAMESPACE",
                              "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}})
        if configmap and self.rng.random() < 0.5:
            variables.append({"name": "FEATURE_FLAGS", "valueFrom": {
                "configMapKeyRef": {"name": configmap, "key": "features"}}})
        if self.rng.random() < 0.3:
            variables.append({"name": "DB_PASSWORD", "valueFrom": {
                "secretKeyRef": {"name": f"{app}-db", "key": "password"}}})
        # Workloads without a hardened security context get literal credentials more often.
        literal_rate = 0.2 if profile in ("none", "root") else 0.06
        if self.rng.random() < literal_rate:
            name = self.rng.choice(["DB_PASSWORD", "API_TOKEN", "SECRET_KEY", "REDIS_PASSWORD",
                                    "ADMIN_PASSWORD", "CLIENT_SECRET"])
            value = pick(self.rng, {
                "changeme": 1, "hunter2": 1, f"{app}-Passw0rd!": 2,
                "k" + "".join(self.rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                              for _ in range(31)): 4})
            variables.append({"name": name, "value": value})
        if self.rng.random() < 0.1:
            variables.append({"name": "HTTP_PROXY", "value": "http://proxy.corp.example:3128"})
        return variables

    def container(self, name, image, profile, role, configmap):
        container = {"name": name, "image": image}
        if self.rng.random() < 0.15:
            container["imagePullPolicy"] = self.rng.choice(["Always", "IfNotPresent"])
        if role in ("web", "api", "db", "cache", "queue"):
            port = {"web": 8080, "api": 8080, "db": 5432, "cache": 6379, "queue": 9092}[role]
            container["ports"] = [{"name": "http" if role in ("web", "api") else role,
                                   "containerPort": port}]
            if self.rng.random() < 0.05:
                container["ports"][0]["hostPort"] = port

        if role == "batch" and self.rng.random() < 0.6:
            container["command"] = ["/bin/sh", "-c"]
            container["args"] = [self.rng.choice([
                "python -m jobs.run --since 24h", "pg_dump $DATABASE_URL | gzip > /backup/db.gz",
                "curl -fsS http://reports:8080/rebuild", "/app/bin/compact --max-age 720h"])]

        variables = self.env(name, configmap, profile)
        if variables:
            container["env"] = variables
        if configmap and self.rng.random() < 0.3:
            container["envFrom"] = [{"configMapRef": {"name": configmap}}]
            if self.rng.random() < 0.3:
                container["envFrom"].append({"secretRef": {"name": f"{name}-env"}})

        resources = pick(self.rng, {"both": 45, "requests": 15, "limits": 5, "none": 35})
        if resources != "none":
            container["resources"] = {}
            cpu = self.rng.choice(["50m", "100m", "250m", "500m", "1"])
            memory = self.rng.choice(["64Mi", "128Mi", "256Mi", "512Mi", "1Gi"])
            if resources in ("both", "requests"):
                container["resources"]["requests"] = {"cpu": cpu, "memory": memory}
            if resources in ("both", "limits"):
                limits = {"memory": memory}
                if self.rng.random() < 0.6:
                    limits["cpu"] = cpu
                container["resources"]["limits"] = limits

        if role in ("web", "api", "db", "cache", "queue"):
            port = container["ports"][0]["containerPort"]
            probe = ({"httpGet": {"path": "/healthz", "port": port}} if role in ("web", "api")
                     else {"tcpSocket": {"port": port}})
            if self.rng.random() < 0.6:
                container["livenessProbe"] = dict(probe, initialDelaySeconds=10)
            if self.rng.random() < 0.65:
                container["readinessProbe"] = dict(probe, periodSeconds=5)

        security = self.container_security(profile)
        if security:
            container["securityContext"] = security
        return container

    def container_security(self, profile):
        rng = self.rng
        if profile == "restricted":
            security = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
            if rng.random() < 0.8:
                security["readOnlyRootFilesystem"] = True
            return security
        if profile == "nonroot":
            security = {"runAsUser": rng.choice([1000, 1001, 10001, 65532])}
            if rng.random() < 0.5:
                security["allowPrivilegeEscalation"] = False
            return security
        if profile == "root":
            security = {"runAsUser": 0}
            if rng.random() < 0.3:
                security["allowPrivilegeEscalation"] = True
            return security
        if profile == "privileged":
            return {"privileged": True}
        if profile == "caps":
            added = rng.sample(["NET_ADMIN", "SYS_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_TIME",
                                "NET_BIND_SERVICE", "CHOWN", "DAC_OVERRIDE"], rng.randint(1, 3))
            return {"capabilities": {"add": added}}
        if profile == "unconfined":
            return {"seccompProfile": {"type": "Unconfined"}}
        if profile == "hostsock":
            return {"runAsUser": 0} if rng.random() < 0.5 else None
        return None

    def pod_security(self, profile):
        rng = self.rng
        if profile == "restricted":
            return {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                    "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
        if profile == "nonroot":
            security = {"runAsNonRoot": True}
            if rng.random() < 0.4:
                security["seccompProfile"] = {"type": "RuntimeDefault"}
            return security
        if profile == "unconfined" and rng.random() < 0.5:
            return {"seccompProfile": {"type": "Unconfined"}}
        if rng.random() < 0.1:
            return {"fsGroup": 2000}
        return None

    def pod_template(self, ns, app, role, profile, labels, configmap, account, team,
                     restart_policy=None):
        """Return (template metadata, pod spec) for a workload's pod."""
        rng = self.rng
        annotations = {}
        if rng.random() < 0.3:
            annotations["prometheus.io/scrape"] = "true"
            annotations["prometheus.io/port"] = "9102"
        if profile == "unconfined" and rng.random() < 0.5:
            annotations[f"container.apparmor.security.beta.kubernetes.io/{app}"] = "unconfined"
        containers = [self.container(app, self.image(role, team, app), profile, role, configmap)]
        if rng.random() < 0.15:
            sidecar_profile = profile if rng.random() < 0.5 else "none"
            containers.append(self.container(
                rng.choice(["envoy", "log-shipper", "metrics-proxy"]),
                self.image("sidecar", "platform", "proxy"), sidecar_profile, "sidecar", None))
        spec = {"containers": containers}
        if rng.random() < 0.12:
            spec["initContainers"] = [self.container(
                rng.choice(["init-permissions", "wait-for-db", "migrate"]),
                self.image("batch", team, f"{app}-init"), rng.choice([profile, "root"]), "batch",
                None)]
        if restart_policy:
            spec["restartPolicy"] = restart_policy
        if account:
            spec["serviceAccountName"] = account
        if rng.random() < 0.15:
            spec["automountServiceAccountToken"] = False
        security = self.pod_security(profile)
        if security:
            spec["securityContext"] = security
        volumes = []
        if configmap and rng.random() < 0.5:
            volumes.append({"name": "config", "configMap": {"name": configmap}})
            containers[0].setdefault("volumeMounts", []).append(
                {"name": "config", "mountPath": "/etc/app", "readOnly": True})
        if profile == "restricted" and containers[0]["securityContext"].get("readOnlyRootFilesystem"):
            volumes.append({"name": "tmp", "emptyDir": {}})
            containers[0].setdefault("volumeMounts", []).append({"name": "tmp", "mountPath": "/tmp"})
        if profile == "hostsock":
            socket = rng.choice(["/var/run/docker.sock", "/var/run/docker.sock",
                                 "/run/containerd/containerd.sock", "/var/run/crio/crio.sock"])
            volumes.append({"name": "runtime-socket", "hostPath": {"path": socket, "type": "Socket"}})
            containers[0].setdefault("volumeMounts", []).append(
                {"name": "runtime-socket", "mountPath": socket})
        elif profile in ("privileged", "root") and rng.random() < 0.3:
            path = rng.choice(["/var/log", "/etc", "/var/lib/kubelet", "/"])
            volumes.append({"name": "host", "hostPath": {"path": path}})
            containers[0].setdefault("volumeMounts", []).append(
                {"name": "host", "mountPath": "/host" + (path if path != "/" else "")})
        if profile == "privileged" and rng.random() < 0.3:
            spec[rng.choice(["hostPID", "hostNetwork", "hostIPC"])] = True
        if volumes:
            spec["volumes"] = volumes
        if ns.kind == "team" and rng.random() < 0.2:
            spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
        if rng.random() < 0.08:
            spec["imagePullSecrets"] = [{"name": "registry-credentials"}]
        metadata = {"labels": dict(labels)}
        if annotations:
            metadata["annotations"] = annotations
        return metadata, spec

    def agent_template(self, agent, labels):
        """Return (template metadata, pod spec) for a node agent DaemonSet."""
        security = {}
        if agent.get("privileged"):
            security["privileged"] = True
        if agent.get("caps"):
            security["capabilities"] = {"add": list(agent["caps"])}
        if "run_as_user" in agent:
            security["runAsUser"] = agent["run_as_user"]
        image = agent["image"]
        if self.rng.random() < 0.3 and "@" not in image:
            image = f"{image}@{self.digest()}"
        container = {"name": agent["name"], "image": image,
                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
        if security:
            container["securityContext"] = security
        volumes = []
        mounts = []
        for index, (path, mount_path, read_only, path_type) in enumerate(agent["host_paths"]):
            source = {"path": path}
            if path_type:
                source["type"] = path_type
            volumes.append({"name": f"host-{index}", "hostPath": source})
            mount = {"name": f"host-{index}", "mountPath": mount_path}
            if read_only:
                mount["readOnly"] = True
            mounts.append(mount)
        container["volumeMounts"] = mounts
        spec = {"containers": [container], "volumes": volumes,
                "tolerations": [{"operator": "Exists"}],
                "priorityClassName": "system-node-critical"}
        for flag, field in (("host_network", "hostNetwork"), ("host_pid", "hostPID"),
                            ("host_ipc", "hostIPC")):
            if agent.get(flag):
                spec[field] = True
        spec["serviceAccountName"] = agent["name"]
        return {"labels": dict(labels)}, spec

    # -- units: a workload and the objects around it -----------------------

    def unit(self, ns):
        """Return the objects of one application unit in `ns`."""
        kind = pick(self.rng, UNIT_WEIGHTS[ns.kind])
        if kind == "daemonset":
            return self.daemonset_unit(ns)
        if kind == "pod" and ns.kind == "system" and self.api:
            return self.mirror_pod(ns)
        return self.app_unit(ns, kind)

    def app_unit(self, ns, kind):
        rng = self.rng
        team = ns.name.split("-")[1] if ns.name.startswith("team-") else "platform"
        role = {"statefulset": rng.choice(["db", "cache", "queue"]),
                "cronjob": "batch", "job": "batch"}.get(kind) or pick(
                    rng, {"api": 5, "web": 3, "worker": 2})
        app = self.unique(ns.names["app"], rng.choice(APP_WORDS))
        release = app if rng.random() < 0.7 else f"{app}-{rng.choice(ENVIRONMENTS)}"
        labels, selector = self.app_labels(ns, app, role, release)
        profile = pick(rng, PROFILE_WEIGHTS[ns.kind])
        objects = []

        configmap = None
        if kind != "replicaset" and rng.random() < 0.6:
            configmap = f"{app}-config"
            objects.append(self.configmap(ns, configmap, labels))
        account = None
        if rng.random() < 0.4:
            account = app
            objects.append(self.service_account(ns, account, labels))
            if rng.random() < 0.35:
                objects.extend(self.role_pair(ns, app, account, labels))
        restart = "OnFailure" if kind in ("job", "cronjob") and rng.random() < 0.5 else (
            "Never" if kind in ("job", "cronjob") else None)
        template = self.pod_template(ns, app, role, profile, labels, configmap, account, team,
                                     restart)
        workload = self.workload(ns, kind, app, labels, selector, template)
        objects.insert(0, workload)
        if kind in ("deployment", "statefulset") and rng.random() < 0.85:
            objects.append(self.service(ns, app, labels, selector, role,
                                        headless=kind == "statefulset"))
        if ns.network_policy != "none" and kind in ("deployment", "statefulset", "pod"):
            if rng.random() < (0.4 if ns.network_policy == "partial" else 0.75):
                objects.append(self.app_network_policy(ns, app, selector))
        if self.api:
            objects.extend(self.children(ns, workload))
        return objects

    def daemonset_unit(self, ns):
        agent = self.rng.choice(NODE_AGENTS)
        name = self.unique(ns.names["app"], agent["name"])
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "node-agent"}
        selector = {"app.kubernetes.io/name": name}
        template = self.agent_template(dict(agent, name=name), labels)
        objects = [self.workload(ns, "daemonset", name, labels, selector, template),
                   self.service_account(ns, name, labels)]
        role_name = self.unique(self.cluster_names["ClusterRole"], f"{ns.name}:{name}")
        objects.append(self.cluster_role(role_name, labels, self.rng.choice([
            [{"apiGroups": [""], "resources": ["nodes", "pods", "namespaces"],
              "verbs": ["get", "list", "watch"]}],
            [{"apiGroups": [""], "resources": ["nodes/proxy", "nodes/metrics"], "verbs": ["get"]},
             {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
            [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}],
        ])))
        objects.append(self.cluster_role_binding(
            self.unique(self.cluster_names["ClusterRoleBinding"], role_name), role_name,
            [{"kind": "ServiceAccount", "name": name, "namespace": ns.name}], labels))
        if self.api:
            objects.extend(self.children(ns, objects[0]))
        return objects

    def workload(self, ns, kind, app, labels, selector, template):
        kind_name = {"deployment": "Deployment", "statefulset": "StatefulSet",
                     "daemonset": "DaemonSet", "job": "Job", "cronjob": "CronJob",
                     "pod": "Pod", "replicaset": "ReplicaSet"}[kind]
        name = self.unique(ns.names[kind_name], app)
        metadata, spec = template
        annotations = {}
        if self.rng.random() < 0.2:
            annotations["meta.helm.sh/release-name"] = labels.get("app.kubernetes.io/instance", app)
            annotations["meta.helm.sh/release-namespace"] = ns.name
        obj = self.new_object(kind_name, name, ns.name, labels, annotations)
        pod_template = {"metadata": metadata, "spec": spec}
        if kind_name == "Pod":
            obj["metadata"]["labels"] = dict(metadata["labels"])
            if "annotations" in metadata:
                obj["metadata"].setdefault("annotations", {}).update(metadata["annotations"])
            obj["spec"] = spec
        elif kind_name == "CronJob":
            obj["spec"] = {
                "schedule": self.rng.choice(["*/15 * * * *", "0 * * * *", "30 2 * * *",
                                             "0 3 * * 0", "@daily"]),
                "jobTemplate": {"spec": {"template": pod_template}},
            }
            if self.rng.random() < 0.4:
                obj["spec"]["concurrencyPolicy"] = "Forbid"
        elif kind_name == "Job":
            obj["spec"] = {"template": pod_template}
            if self.rng.random() < 0.5:
                obj["spec"]["backoffLimit"] = self.rng.choice([0, 2, 4])
            if self.rng.random() < 0.3:
                obj["spec"]["ttlSecondsAfterFinished"] = 86400
        else:
            obj["spec"] = {"selector": {"matchLabels": dict(selector)}, "template": pod_template}
            if kind_name in ("Deployment", "StatefulSet", "ReplicaSet"):
                obj["spec"]["replicas"] = pick(self.rng, {1: 40, 2: 30, 3: 20,
                                                          self.rng.randint(4, 6): 10})
            if kind_name == "StatefulSet":
                obj["spec"]["serviceName"] = f"{app}-headless"
                obj["spec"]["volumeClaimTemplates"] = [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": self.rng.choice(
                                 ["1Gi", "10Gi", "50Gi"])}}}}]
                spec["containers"][0].setdefault("volumeMounts", []).append(
                    {"name": "data", "mountPath": "/data"})
        return obj

    def configmap(self, ns, name, labels):
        name = self.unique(ns.names["ConfigMap"], name)
        data = {"features": ",".join(self.rng.sample(
            ["new-checkout", "dark-mode", "beta-search", "fast-sync", "audit-log"], 2))}
        if self.rng.random() < 0.5:
            data["app.properties"] = "\n".join([
                f"server.port={self.rng.choice([8080, 8000])}",
                f"cache.ttl={self.rng.randint(30, 600)}s",
                f"upstream.url=http://{self.rng.choice(APP_WORDS)}.{ns.name}.svc:8080", ""])
        if self.rng.random() < 0.05:
            data["database.url"] = f"postgres://app:{self.suffix(12)}@db.{ns.name}.svc/app"
        obj = self.new_object("ConfigMap", name, ns.name, labels)
        obj["data"] = data
        return obj

    def service_account(self, ns, name, labels):
        name = self.unique(ns.names["ServiceAccount"], name)
        obj = self.new_object("ServiceAccount", name, ns.name, labels)
        if self.rng.random() < 0.3:
            obj["automountServiceAccountToken"] = False
        if self.rng.random() < 0.1:
            obj["imagePullSecrets"] = [{"name": "registry-credentials"}]
        self.namespace_accounts.append((ns.name, name))
        return obj

    def role_pair(self, ns, app, account, labels):
        role = self.new_object("Role", self.unique(ns.names["Role"], app), ns.name, labels)
        rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
        extra = pick(self.rng, {"none": 50, "secrets": 20, "leases": 15, "exec": 7, "wildcard": 8})
        if extra == "secrets":
            rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]})
        elif extra == "leases":
            rules.append({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                          "verbs": ["get", "create", "update"]})
        elif extra == "exec":
            rules.append({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})
        elif extra == "wildcard":
            rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
        role["rules"] = rules
        binding = self.new_object("RoleBinding", self.unique(ns.names["RoleBinding"], app),
                                  ns.name, labels)
        binding["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                              "name": role["metadata"]["name"]}
        binding["subjects"] = [{"kind": "ServiceAccount", "name": account, "namespace": ns.name}]
        return [role, binding]

    def service(self, ns, app, labels, selector, role, headless):
        name = self.unique(ns.names["Service"], f"{app}-headless" if headless else app)
        obj = self.new_object("Service", name, ns.name, labels)
        port = {"db": 5432, "cache": 6379, "queue": 9092}.get(role, 8080)
        spec = {"selector": dict(selector),
                "ports": [{"name": "http" if port == 8080 else role, "port": 80 if port == 8080
                           else port, "targetPort": port}]}
        if headless:
            spec["clusterIP"] = "None"
        else:
            service_type = pick(self.rng, {"ClusterIP": 87, "NodePort": 8, "LoadBalancer": 5})
            if service_type != "ClusterIP":
                spec["type"] = service_type
        obj["spec"] = spec
        return obj

    def selector_expression(self, ns, selector):
        """Return a label selector that matches `selector` through matchExpressions."""
        key, value = next(iter(selector.items()))
        expressions = [{"key": key, "operator": "In",
                        "values": sorted({value, self.rng.choice(APP_WORDS)})}]
        if self.rng.random() < 0.4:
            expressions.append({"key": "app.kubernetes.io/component" if ns.label_style ==
                                "recommended" else "tier", "operator": "Exists"})
        if self.rng.random() < 0.2:
            expressions.append({"key": "canary", "operator": "NotIn", "values": ["true"]})
        return {"matchExpressions": expressions}

    def app_network_policy(self, ns, app, selector):
        name = self.unique(ns.names["NetworkPolicy"], f"allow-{app}")
        obj = self.new_object("NetworkPolicy", name, ns.name)
        if ns.network_policy == "selectors":
            pod_selector = self.selector_expression(ns, selector)
            peer = {"namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In",
                 "values": sorted({ns.name, "ingress", "monitoring"})}]}}
        else:
            pod_selector = {"matchLabels": dict(selector)}
            peer = {"podSelector": {"matchLabels": {
                next(iter(selector)): self.rng.choice(["gateway", "web", "api"])}}}
        obj["spec"] = {"podSelector": pod_selector, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [peer], "ports": [{"protocol": "TCP", "port": 8080}]}]}
        return obj

    def namespace_policies(self, ns):
        if ns.network_policy != "default-deny":
            return []
        deny = self.new_object("NetworkPolicy", "default-deny", ns.name)
        types = self.rng.choice([["Ingress"], ["Ingress", "Egress"]])
        deny["spec"] = {"podSelector": {}, "policyTypes": types}
        ns.names["NetworkPolicy"].add("default-deny")
        policies = [deny]
        if "Egress" in types:
            dns = self.new_object("NetworkPolicy", "allow-dns", ns.name)
            dns["spec"] = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}
            ns.names["NetworkPolicy"].add("allow-dns")
            policies.append(dns)
        return policies

    def namespace_object(self, ns):
        labels = {}
        if ns.kind == "team":
            labels["team"] = ns.name.split("-")[1]
            labels["environment"] = ns.name.split("-")[-1]
        if ns.psa:
            labels["pod-security.kubernetes.io/enforce"] = ns.psa
            if self.rng.random() < 0.5:
                labels["pod-security.kubernetes.io/enforce-version"] = self.rng.choice(
                    ["latest", "v1.30", "v1.33"])
            if self.rng.random() < 0.4:
                labels["pod-security.kubernetes.io/warn"] = "restricted"
                labels["pod-security.kubernetes.io/audit"] = "restricted"
        return self.new_object("Namespace", ns.name, None, labels)

    def mirror_pod(self, ns):
        """Return a control-plane static Pod as the kubelet mirrors it to the API server."""
        component = self.rng.choice(CONTROL_PLANE)
        node = self.rng.choice(self.nodes)
        name = self.unique(ns.names["Pod"], f"{component}-{node}")
        labels = {"component": component, "tier": "control-plane"}
        obj = self.new_object("Pod", name, ns.name, labels, {
            "kubernetes.io/config.hash": f"{self.rng.getrandbits(128):032x}",
            "kubernetes.io/config.mirror": f"{self.rng.getrandbits(128):032x}",
            "kubernetes.io/config.source": "file"})
        obj["spec"] = {
            "containers": [{
                "name": component,
                "image": f"registry.example.com/k8s/{component}:v1.37.1",
                "command": [component, "--profiling=false"],
                "resources": {"requests": {"cpu": "250m"}},
                "livenessProbe": {"httpGet": {"host": "127.0.0.1", "path": "/livez",
                                              "port": 10257, "scheme": "HTTPS"}},
                "volumeMounts": [{"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki",
                                  "readOnly": True}]}],
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki",
                                                           "type": "DirectoryOrCreate"}}],
        }
        self.finish(obj, ns.created, owner={"apiVersion": "v1", "kind": "Node", "name": node,
                                            "uid": self.node_uids[node], "controller": True},
                    node=node)
        return [obj]

    def filler(self, ns):
        """Return one small object that completes the budget of `ns`."""
        kind = pick(self.rng, {"ConfigMap": 6, "ServiceAccount": 2, "Role": 1})
        base = self.rng.choice(APP_WORDS)
        if kind == "ConfigMap":
            obj = self.configmap(ns, f"{base}-settings", None)
        elif kind == "ServiceAccount":
            obj = self.service_account(ns, f"{base}-runner", None)
        else:
            obj = self.new_object("Role", self.unique(ns.names["Role"], f"{base}-reader"), ns.name)
            obj["rules"] = [{"apiGroups": [""], "resources": ["pods", "services"],
                             "verbs": ["get", "list", "watch"]}]
        return obj

    # -- cluster-scoped objects --------------------------------------------

    def cluster_role(self, name, labels, rules, aggregate_to=None):
        obj = self.new_object("ClusterRole", name, None, labels)
        if aggregate_to:
            obj["aggregationRule"] = {"clusterRoleSelectors": [
                {"matchLabels": {f"rbac.example.com/aggregate-to-{aggregate_to}": "true"}}]}
            obj["rules"] = []
        else:
            obj["rules"] = rules
        return obj

    def cluster_role_binding(self, name, role, subjects, labels=None):
        obj = self.new_object("ClusterRoleBinding", name, None, labels)
        obj["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": role}
        obj["subjects"] = subjects
        return obj

    def cluster_objects(self, count):
        """Return `count` ClusterRoles, ClusterRoleBindings and webhook configurations."""
        rng = self.rng
        objects = []
        core = [
            ("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                               {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
            ("admin", None), ("edit", None),
            ("view", [{"apiGroups": ["", "apps", "batch"],
                       "resources": ["pods", "services", "deployments", "jobs", "configmaps"],
                       "verbs": ["get", "list", "watch"]}]),
        ]

        webhooks = min(max(1, self.total // 5_000), 8) if count >= 20 else 0
        for index in range(webhooks):
            objects.append(self.webhook_configuration(index))
        for name, rules in core:
            if len(objects) >= count:
                break
            self.cluster_names["ClusterRole"].add(name)
            objects.append(self.cluster_role(name, {"kubernetes.io/bootstrapping": "rbac-defaults"},
                                             rules, aggregate_to=None if rules else name))

        dangerous = [
            [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}],
            [{"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create"]}],
            [{"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"],
              "verbs": ["impersonate"]}],
            [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "roles"],
              "verbs": ["escalate", "bind"]}],
            [{"apiGroups": ["admissionregistration.k8s.io"],
              "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
              "verbs": ["create", "update", "patch", "delete"]}],
            [{"apiGroups": ["certificates.k8s.io"],
              "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]}],
            [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get", "create"]}],
            [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        ]
        benign = [
            [{"apiGroups": [""], "resources": ["pods", "nodes", "namespaces"],
              "verbs": ["get", "list", "watch"]}],
            [{"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"],
              "verbs": ["get", "list", "watch", "update", "patch"]}],
            [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
              "verbs": ["get", "create", "update"]}],
            [{"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]}],
            [{"nonResourceURLs": ["/metrics", "/healthz"], "verbs": ["get"]}],
        ]

        roles = [o["metadata"]["name"] for o in objects if o["kind"] == "ClusterRole"]
        while len(objects) < count:
            if rng.random() < 0.55 or not roles:
                prefix = pick(rng, {"system:controller": 3, "platform": 2, "team": 3, "ci": 1})
                name = self.unique(self.cluster_names["ClusterRole"],
                                   f"{prefix}:{rng.choice(APP_WORDS)}-{rng.choice(['reader', 'operator', 'manager'])}")
                rules = rng.choice(dangerous) if rng.random() < 0.15 else rng.choice(benign)
                labels = {"rbac.example.com/aggregate-to-view": "true"} if rng.random() < 0.1 else None
                objects.append(self.cluster_role(name, labels, copy.deepcopy(rules)))
                roles.append(name)
            else:
                role = rng.choice(roles)
                name = self.unique(self.cluster_names["ClusterRoleBinding"], role.replace(":", "-"))
                kind = pick(rng, {"ServiceAccount": 7, "Group": 2, "User": 1})
                if kind == "ServiceAccount" and self.namespace_accounts:
                    namespace, account = rng.choice(self.namespace_accounts)
                    subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
                elif kind == "Group":
                    subject = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                               "name": pick(rng, {"system:authenticated": 3, "oidc:platform-admins": 3,
                                                  "system:serviceaccounts": 1,
                                                  "system:unauthenticated": 0.2})}
                else:
                    subject = {"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                               "name": f"{rng.choice(['alice', 'bob', 'carol', 'dave'])}@corp.example"}
                objects.append(self.cluster_role_binding(name, role, [subject]))
        return objects[:count]

    def webhook_configuration(self, index):
        name = ["policy-validator", "cert-issuer-webhook", "ingress-admission", "quota-guard",
                "image-policy", "label-enforcer", "mesh-validator", "backup-guard"][index]
        self.cluster_names["ValidatingWebhookConfiguration"].add(name)
        obj = self.new_object("ValidatingWebhookConfiguration", name, None,
                              {"app.kubernetes.io/name": name})
        webhooks = []
        for hook in range(self.rng.randint(1, 3)):
            webhook = {
                "name": f"v{hook}.{name}.example.com",
                "admissionReviewVersions": ["v1"],
                "clientConfig": {"service": {"name": name, "namespace": "kube-system",
                                             "path": f"/validate-{hook}", "port": 443}},
                "failurePolicy": self.rng.choice(["Fail", "Ignore"]),
                "sideEffects": "None",
                "rules": [{"apiGroups": self.rng.choice([[""], ["apps"], ["*"]]),
                           "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                           "resources": self.rng.choice([["pods"], ["deployments"], ["*"]])}],
            }
            if self.rng.random() < 0.6:
                webhook["namespaceSelector"] = {"matchExpressions": [{
                    "key": "kubernetes.io/metadata.name", "operator": "NotIn",
                    "values": ["kube-system"]}]}
            if self.api:
                webhook["clientConfig"]["caBundle"] = base64.b64encode(
                    self.rng.randbytes(96)).decode()
            webhooks.append(webhook)
        obj["webhooks"] = webhooks
        return obj

    # -- server-side fields (api layout) -----------------------------------

    def finish(self, obj, after, owner=None, node=None):
        """Add what the API server sets on `obj`: identity, defaults and status."""
        if not self.api:
            return
        metadata = obj["metadata"]
        created = self.later(after, 3_600)
        self.resource_version += self.rng.randint(1, 40)
        server = {"name": metadata["name"]}
        if "generateName" in metadata:
            server["generateName"] = metadata.pop("generateName")
        if "namespace" in metadata:
            server["namespace"] = metadata["namespace"]
        server["uid"] = self.uid()
        server["resourceVersion"] = str(self.resource_version)
        if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
                           "CronJob", "NetworkPolicy", "ValidatingWebhookConfiguration"):
            server["generation"] = self.rng.choice([1, 1, 1, 2, 3])
        server["creationTimestamp"] = timestamp(created)
        for key in ("labels", "annotations"):
            if key in metadata:
                server[key] = metadata[key]
        if owner:
            server["ownerReferences"] = [dict(owner, blockOwnerDeletion=True)]
        obj["metadata"] = server
        self.defaults(obj, created, node)
        if self.rng.random() < 0.4:
            obj["metadata"]["managedFields"] = self.managed_fields(obj, created, owner)

    def defaults(self, obj, created, node):
        kind = obj["kind"]
        spec = obj.get("spec")
        if kind == "Namespace":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
                obj["metadata"]["name"]
            obj["spec"] = {"finalizers": ["kubernetes"]}
            obj["status"] = {"phase": "Active"}
        elif kind == "Service":
            self.service_defaults(spec)
            obj["status"] = {"loadBalancer": {}}
        elif kind == "Pod":
            self.pod_spec_defaults(spec, spec.get("restartPolicy", "Always"))
            self.pod_defaults(obj, created, node)
        elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            restart = spec["template"]["spec"].get("restartPolicy", "Always")
            self.pod_spec_defaults(spec["template"]["spec"], restart)
            spec["template"]["metadata"]["creationTimestamp"] = None
            self.workload_defaults(obj)
        elif kind == "CronJob":
            template = spec["jobTemplate"]["spec"]["template"]
            self.pod_spec_defaults(template["spec"], template["spec"].get("restartPolicy", "Never"))
            template["metadata"]["creationTimestamp"] = None
            spec["jobTemplate"]["metadata"] = {"creationTimestamp": None}
            spec.setdefault("concurrencyPolicy", "Allow")
            spec.update({"failedJobsHistoryLimit": 1, "successfulJobsHistoryLimit": 3,
                         "suspend": False})
            last = self.later(created, 86_400)
            obj["status"] = {"lastScheduleTime": timestamp(last),
                             "lastSuccessfulTime": timestamp(self.later(last, 120))}
        elif kind == "NetworkPolicy":
            spec.setdefault("policyTypes", ["Ingress"])
        elif kind == "ValidatingWebhookConfiguration":
            for webhook in obj["webhooks"]:
                webhook.setdefault("matchPolicy", "Equivalent")
                webhook.setdefault("namespaceSelector", {})
                webhook["objectSelector"] = {}
                webhook["timeoutSeconds"] = 10
                for rule in webhook["rules"]:
                    rule["scope"] = "*"

    def service_defaults(self, spec):
        address = f"10.96.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        if spec.get("clusterIP") == "None":
            address = "None"
        spec["clusterIP"] = address
        spec["clusterIPs"] = [address]
        spec.setdefault("type", "ClusterIP")
        spec["sessionAffinity"] = "None"
        spec["ipFamilies"] = ["IPv4"]
        spec["ipFamilyPolicy"] = "SingleStack"
        spec["internalTrafficPolicy"] = "Cluster"
        if spec["type"] != "ClusterIP":
            spec["externalTrafficPolicy"] = "Cluster"
        for port in spec["ports"]:
            port.setdefault("protocol", "TCP")
            if spec["type"] != "ClusterIP":
                port["nodePort"] = self.rng.randint(30000, 32767)
        if spec["type"] == "LoadBalancer":
            spec["allocateLoadBalancerNodePorts"] = True

    def pod_spec_defaults(self, spec, restart):
        for container in spec.get("initContainers", []) + spec["containers"]:
            image = container["image"]
            reference = image.split("@")[0]
            untagged = ":" not in reference.rsplit("/", 1)[-1]
            default_policy = ("Always" if "@" not in image and
                              (untagged or reference.endswith(":latest")) else "IfNotPresent")
            container.setdefault("imagePullPolicy", default_policy)
            container.setdefault("resources", {})
            container["terminationMessagePath"] = "/dev/termination-log"
            container["terminationMessagePolicy"] = "File"
            for port in container.get("ports", []):
                port.setdefault("protocol", "TCP")
            for probe_name in ("livenessProbe", "readinessProbe"):
                probe = container.get(probe_name)
                if probe:
                    probe.setdefault("timeoutSeconds", 1)
                    probe.setdefault("periodSeconds", 10)
                    probe.setdefault("successThreshold", 1)
                    probe.setdefault("failureThreshold", 3)
                    if "httpGet" in probe:
                        probe["httpGet"].setdefault("scheme", "HTTP")
        spec["restartPolicy"] = restart
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirstWithHostNet" if spec.get("hostNetwork")
                        else "ClusterFirst")
        spec.setdefault("securityContext", {})
        spec.setdefault("schedulerName", "default-scheduler")
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                volume["configMap"].setdefault("defaultMode", 420)
            if "hostPath" in volume:
                volume["hostPath"].setdefault("type", "")

    def pod_defaults(self, pod, created, node):
        """Add the fields that admission, the scheduler and the kubelet set on a Pod."""
        spec = pod["spec"]
        # The ServiceAccount admission plugin leaves mirror Pods alone.
        mirror = "kubernetes.io/config.mirror" in pod["metadata"].get("annotations", {})
        if not mirror:
            account = spec.get("serviceAccountName", "default")
            spec["serviceAccountName"] = account
            spec["serviceAccount"] = account
        spec["nodeName"] = node or self.rng.choice(self.nodes)

        spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            spec["tolerations"].append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                        "tolerationSeconds": 300})
        priority = 2_000_001_000 if spec.get("priorityClassName") == "system-node-critical" else 0
        spec["priority"] = priority
        spec["enableServiceLinks"] = True
        spec["preemptionPolicy"] = "PreemptLowerPriority"

        if spec.get("automountServiceAccountToken") is not False and not mirror:
            volume = f"kube-api-access-{self.suffix(5)}"
            spec.setdefault("volumes", []).append({"name": volume, "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})
            for container in spec.get("initContainers", []) + spec["containers"]:
                container.setdefault("volumeMounts", []).append({
                    "name": volume, "readOnly": True,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})

        pod["status"] = self.pod_status(pod, created)

    def pod_status(self, pod, created):
        spec = pod["spec"]
        started = self.later(created, 30)
        succeeded = spec["restartPolicy"] != "Always"
        host_ip = f"10.0.{self.nodes.index(spec['nodeName'])}.{10 + self.nodes.index(spec['nodeName'])}"
        pod_ip = host_ip if spec.get("hostNetwork") else \
            f"10.244.{self.rng.randint(0, 255)}.{self.rng.randint(2, 254)}"
        statuses = [self.container_status(c, started, done=succeeded) for c in spec["containers"]]
        init_statuses = [self.container_status(c, created, done=True)
                         for c in spec.get("initContainers", [])]

        resources = [c.get("resources", {}) for c in spec["containers"]]
        if all(not r for r in resources):
            qos = "BestEffort"
        elif all(r.get("limits", {}).keys() >= {"cpu", "memory"} and r.get("requests") in
                 (None, r.get("limits")) for r in resources):
            qos = "Guaranteed"
        else:
            qos = "Burstable"
        ready = "False" if succeeded else "True"
        status = {
            "phase": "Succeeded" if succeeded else "Running",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": ready,
                 "lastTransitionTime": timestamp(started)},
                {"type": "Initialized", "status": "True", "lastTransitionTime": timestamp(created),
                 **({"reason": "PodCompleted"} if succeeded else {})},
                {"type": "Ready", "status": ready, "lastTransitionTime": timestamp(started),
                 **({"reason": "PodCompleted"} if succeeded else {})},
                {"type": "ContainersReady", "status": ready,
                 "lastTransitionTime": timestamp(started),
                 **({"reason": "PodCompleted"} if succeeded else {})},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": timestamp(created)},
            ],
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": timestamp(created),
            "containerStatuses": statuses,
            "qosClass": qos,
        }
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        return status

    def container_status(self, container, started, done):
        container_id = f"containerd://{self.rng.getrandbits(256):064x}"
        image = container["image"]
        repository = image_repository(image)
        # NOTE: the kubelet reports image and imageID with the registry host
        # filled in for short names. These keep the spec's spelling.
        image_id = f"{repository}@{image.split('@')[1]}" if "@" in image else \
            f"{repository}@{self.digest()}"
        if done:
            state = {"terminated": {"exitCode": 0, "reason": "Completed",
                                    "startedAt": timestamp(started), "containerID": container_id,
                                    "finishedAt": timestamp(self.later(started, 600))}}
        else:
            state = {"running": {"startedAt": timestamp(started)}}
        return {"name": container["name"], "state": state, "lastState": {},
                "ready": not done, "restartCount": self.rng.choice([0, 0, 0, 0, 1, 3]),
                "image": image, "imageID": image_id, "containerID": container_id,
                "started": not done}

    def workload_defaults(self, obj):
        kind = obj["kind"]
        spec = obj["spec"]
        generation = obj["metadata"].get("generation", 1)
        if kind == "Deployment":
            spec.update({"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                         "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                             "maxUnavailable": "25%", "maxSurge": "25%"}}})
            replicas = spec["replicas"]
            obj["status"] = {"observedGeneration": generation, "replicas": replicas,
                             "updatedReplicas": replicas, "readyReplicas": replicas,
                             "availableReplicas": replicas, "conditions": [
                                 {"type": "Available", "status": "True",
                                  "reason": "MinimumReplicasAvailable",
                                  "message": "Deployment has minimum availability."},
                                 {"type": "Progressing", "status": "True",
                                  "reason": "NewReplicaSetAvailable",
                                  "message": "ReplicaSet has successfully progressed."}]}
        elif kind == "StatefulSet":
            spec.update({"podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                         "updateStrategy": {"type": "RollingUpdate",
                                            "rollingUpdate": {"partition": 0}},
                         "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain",
                                                                  "whenScaled": "Retain"}})
            for claim in spec.get("volumeClaimTemplates", []):
                claim["apiVersion"] = "v1"
                claim["kind"] = "PersistentVolumeClaim"
                claim["spec"]["volumeMode"] = "Filesystem"
                claim["status"] = {"phase": "Pending"}
            replicas = spec["replicas"]
            revision = f"{obj['metadata']['name']}-{self.suffix(10)}"
            obj["status"] = {"observedGeneration": generation, "replicas": replicas,
                             "readyReplicas": replicas, "currentReplicas": replicas,
                             "updatedReplicas": replicas, "availableReplicas": replicas,
                             "currentRevision": revision, "updateRevision": revision,
                             "collisionCount": 0}
        elif kind == "DaemonSet":
            spec.update({"revisionHistoryLimit": 10, "updateStrategy": {
                "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}})
            nodes = len(self.nodes)
            obj["status"] = {"currentNumberScheduled": nodes, "numberMisscheduled": 0,
                             "desiredNumberScheduled": nodes, "numberReady": nodes,
                             "observedGeneration": generation, "updatedNumberScheduled": nodes,
                             "numberAvailable": nodes}
        elif kind == "ReplicaSet":
            replicas = spec["replicas"]
            obj["status"] = {"replicas": replicas, "fullyLabeledReplicas": replicas,
                             "readyReplicas": replicas, "availableReplicas": replicas,
                             "observedGeneration": generation}
            if replicas == 0:
                obj["status"] = {"replicas": 0, "observedGeneration": generation}
        elif kind == "Job":
            uid = obj["metadata"]["uid"]
            name = obj["metadata"]["name"]
            job_labels = {"batch.kubernetes.io/controller-uid": uid,
                          "batch.kubernetes.io/job-name": name,
                          "controller-uid": uid, "job-name": name}
            spec.setdefault("backoffLimit", 6)
            spec.update({"completions": 1, "parallelism": 1, "completionMode": "NonIndexed",
                         "suspend": False, "manualSelector": False,
                         "podReplacementPolicy": "TerminatingOrFailed",
                         "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}})
            spec["template"]["metadata"].setdefault("labels", {}).update(job_labels)
            start = self.later(datetime.datetime.strptime(
                obj["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=datetime.timezone.utc), 5)
            done = self.later(start, 900)
            obj["status"] = {"conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods",
                 "lastProbeTime": timestamp(done), "lastTransitionTime": timestamp(done)},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods",
                 "lastProbeTime": timestamp(done), "lastTransitionTime": timestamp(done)}],
                "startTime": timestamp(start), "completionTime": timestamp(done),
                "succeeded": 1, "terminating": 0, "ready": 0, "uncountedTerminatedPods": {}}

    def managed_fields(self, obj, created, owner):
        """Return managedFields entries that name the fields each manager set."""
        declared = {k: v for k, v in obj.items() if k not in ("status", "apiVersion", "kind")}
        declared_metadata = {k: v for k, v in obj["metadata"].items()
                             if k in ("labels", "annotations", "ownerReferences")}
        declared = dict(declared, metadata=declared_metadata)
        entries = []
        if owner:
            manager = "kubelet" if owner["kind"] == "Node" else "kube-controller-manager"
            entries.append({"manager": manager, "operation": "Update",
                            "apiVersion": obj["apiVersion"], "time": timestamp(created),
                            "fieldsType": "FieldsV1", "fieldsV1": field_set(declared, 4)})
        else:
            manager, operation = self.rng.choice([("kubectl-client-side-apply", "Update"),
                                                  ("helm", "Update"), ("argocd-controller", "Apply"),
                                                  ("kubectl", "Apply")])
            entries.append({"manager": manager, "operation": operation,
                            "apiVersion": obj["apiVersion"], "time": timestamp(created),
                            "fieldsType": "FieldsV1", "fieldsV1": field_set(declared, 4)})
        if "status" in obj:
            status_manager = "kubelet" if obj["kind"] == "Pod" else "kube-controller-manager"
            entries.append({"manager": status_manager, "operation": "Update",
                            "apiVersion": obj["apiVersion"],
                            "time": timestamp(self.later(created, 120)),
                            "fieldsType": "FieldsV1",
                            "fieldsV1": field_set({"status": obj["status"]}, 3),
                            "subresource": "status"})
        return entries

    # -- controller-created objects (api layout) ---------------------------

    def children(self, ns, workload):
        """Return what the controllers create for `workload`, after finishing it."""
        self.finish(workload, ns.created)
        kind = workload["kind"]
        created = datetime.datetime.strptime(workload["metadata"]["creationTimestamp"],
                                             "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        if kind == "Deployment":
            return self.deployment_children(workload, created)
        if kind == "StatefulSet":
            return [self.owned_pod(workload, created, index=i)
                    for i in range(workload["spec"]["replicas"])]
        if kind == "DaemonSet":
            return [self.owned_pod(workload, created, node=node) for node in self.nodes]
        if kind == "ReplicaSet":
            return [self.owned_pod(workload, created) for _ in range(workload["spec"]["replicas"])]
        if kind == "Job":
            return [self.owned_pod(workload, created)]
        if kind == "CronJob":
            return self.cronjob_children(workload, created)
        return []

    def owner_reference(self, owner):
        return {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                "controller": True}

    def deployment_children(self, deployment, created):
        objects = []
        replicas = deployment["spec"]["replicas"]
        revisions = self.rng.choice([1, 1, 2, 3])
        name = deployment["metadata"]["name"]
        for revision in range(1, revisions + 1):
            template_hash = self.suffix(self.rng.choice([9, 10]))
            template = copy.deepcopy(deployment["spec"]["template"])
            template["metadata"]["labels"]["pod-template-hash"] = template_hash
            if revision < revisions:
                # Older revisions ran an older tag of the same repository.
                container = template["spec"]["containers"][0]
                repository = image_repository(container["image"])
                container["image"] = (f"{repository}:{self.rng.randint(0, 2)}."
                                      f"{self.rng.randint(0, 9)}.{self.rng.randint(0, 9)}")
            labels = dict(template["metadata"]["labels"])
            current = revision == revisions
            replica_set = self.new_object("ReplicaSet", f"{name}-{template_hash}",
                                          deployment["metadata"]["namespace"], labels, {
                                              "deployment.kubernetes.io/desired-replicas": str(replicas),
                                              "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                              "deployment.kubernetes.io/revision": str(revision)})
            selector = dict(deployment["spec"]["selector"]["matchLabels"],
                            **{"pod-template-hash": template_hash})
            replica_set["spec"] = {"replicas": replicas if current else 0,
                                   "selector": {"matchLabels": selector},
                                   "template": template}
            self.finish(replica_set, created, owner=self.owner_reference(deployment))
            objects.append(replica_set)
            if current:
                for _ in range(replicas):
                    objects.append(self.owned_pod(replica_set, created))
        return objects

    def owned_pod(self, owner, created, index=None, node=None):
        template = copy.deepcopy(owner["spec"]["template"])
        owner_name = owner["metadata"]["name"]
        labels = dict(template["metadata"].get("labels", {}))
        spec = template["spec"]
        if owner["kind"] == "StatefulSet":
            name = f"{owner_name}-{index}"
            labels.update({"apps.kubernetes.io/pod-index": str(index),
                           "controller-revision-hash": owner["status"]["currentRevision"],
                           "statefulset.kubernetes.io/pod-name": name})
            spec["hostname"] = name
            spec["subdomain"] = owner["spec"]["serviceName"]
            for claim in owner["spec"].get("volumeClaimTemplates", []):
                spec.setdefault("volumes", []).insert(0, {
                    "name": claim["metadata"]["name"],
                    "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{name}"}})
        elif owner["kind"] == "DaemonSet":
            name = f"{owner_name}-{self.suffix(5)}"
            labels.update({"controller-revision-hash": self.suffix(10),
                           "pod-template-generation": "1"})
            spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                        "values": [node]}]}]}}}
            extra = ["disk-pressure", "memory-pressure", "pid-pressure", "unschedulable"]
            if spec.get("hostNetwork"):
                extra.append("network-unavailable")
            tolerations = spec.setdefault("tolerations", [])
            for key in ("not-ready", "unreachable"):
                tolerations.append({"key": f"node.kubernetes.io/{key}", "operator": "Exists",
                                    "effect": "NoExecute"})
            for key in extra:
                tolerations.append({"key": f"node.kubernetes.io/{key}", "operator": "Exists",
                                    "effect": "NoSchedule"})
        else:
            name = f"{owner_name}-{self.suffix(5)}"
        pod = self.new_object("Pod", name, owner["metadata"]["namespace"], labels,
                              template["metadata"].get("annotations"))
        pod["metadata"]["generateName"] = f"{owner_name}-"
        if owner["kind"] == "StatefulSet":
            del pod["metadata"]["generateName"]
        pod["spec"] = spec
        self.finish(pod, created, owner=self.owner_reference(owner), node=node)
        return pod

    def cronjob_children(self, cronjob, created):
        objects = []
        scheduled = created
        for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
            scheduled = self.later(scheduled, 7_200)
            minutes = int(scheduled.timestamp() // 60)
            template = copy.deepcopy(cronjob["spec"]["jobTemplate"]["spec"]["template"])
            job = self.new_object("Job", f"{cronjob['metadata']['name']}-{minutes}",
                                  cronjob["metadata"]["namespace"],
                                  template["metadata"].get("labels"), {
                                      "batch.kubernetes.io/cronjob-scheduled-timestamp":
                                          timestamp(scheduled)})
            job["spec"] = {"template": template}
            self.finish(job, scheduled, owner=self.owner_reference(cronjob))
            objects.append(job)
            objects.append(self.owned_pod(job, scheduled))
        return objects

    def namespace_defaults(self, ns):
        """Return the ServiceAccount and ConfigMap that controllers add to each namespace."""
        account = self.new_object("ServiceAccount", "default", ns.name)
        ns.names["ServiceAccount"].add("default")
        configmap = self.new_object("ConfigMap", "kube-root-ca.crt", ns.name, None, {
            "kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                                         "kube-apiserver when using internal endpoints such as "
                                         "the internal service IP or kubernetes.default.svc. "
                                         "No other usage is guaranteed across distributions "
                                         "of Kubernetes clusters."})
        ns.names["ConfigMap"].add("kube-root-ca.crt")
        certificate = base64.encodebytes(self.rng.randbytes(720)).decode().replace("\n", "")
        lines = [certificate[i:i + 64] for i in range(0, len(certificate), 64)]
        configmap["data"] = {"ca.crt": "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) +
                             "\n-----END CERTIFICATE-----\n"}
        self.finish(account, ns.created)
        self.finish(configmap, ns.created)
        return [account, configmap]

    # -- the whole set -----------------------------------------------------

    def namespace_names(self, count):
        names = []
        specials = SPECIAL_NAMESPACES[:max(0, min(len(SPECIAL_NAMESPACES), count // 4 + 1))]
        names.extend(specials)
        used = {name for name, _ in names}
        while len(names) < count:
            name = (f"team-{self.rng.choice(TEAM_WORDS)}-{self.rng.choice(APP_WORDS)}-"
                    f"{self.rng.choice(ENVIRONMENTS)}")
            if name not in used:
                used.add(name)
                names.append((name, "team"))
        return names[:count]

    def build(self):
        total = self.total
        namespace_count = max(1, round(total / 50))
        cluster_budget = 0
        if total >= 100:
            cluster_budget = min(60 + total // 200 + 50 + total // 250, total * 6 // 100)
        namespaces = [Namespace(name, kind, self.rng)
                      for name, kind in self.namespace_names(namespace_count)]
        weights = [self.rng.uniform(0.6, 1.4) for _ in namespaces]
        remaining = total - cluster_budget
        budgets = [int(remaining * weight / sum(weights)) for weight in weights]
        budgets[0] += remaining - sum(budgets)
        moment = EPOCH
        for ns, budget in zip(namespaces, budgets):
            moment = self.later(moment, 600)
            ns.created = moment
            self.build_namespace(ns, budget)
        for obj in self.cluster_objects(cluster_budget):
            self.finish(obj, EPOCH)
            self.objects.append(("cluster-scoped", obj))

    def build_namespace(self, ns, budget):
        objects = []
        if budget <= 0:
            return

        namespace = self.namespace_object(ns)
        self.finish(namespace, ns.created - datetime.timedelta(seconds=3_600))
        objects.append(namespace)
        if self.api and budget - len(objects) >= 2:
            objects.extend(self.namespace_defaults(ns))
        for policy in self.namespace_policies(ns):
            if len(objects) < budget:
                self.finish(policy, ns.created)
                objects.append(policy)

        misses = 0
        while len(objects) < budget and misses < 4:
            unit = self.unit(ns)
            if len(objects) + len(unit) <= budget:
                for obj in unit:
                    if "uid" not in obj["metadata"]:
                        self.finish(obj, ns.created)
                objects.extend(unit)
            else:
                misses += 1
        while len(objects) < budget:
            obj = self.filler(ns)
            self.finish(obj, ns.created)
            objects.append(obj)

        # Cluster-scoped objects that a unit brings (DaemonSet ClusterRoles) go to
        # the cluster-scoped folder.
        for obj in objects:
            folder = ns.name if KINDS[obj["kind"]][2] or obj["kind"] == "Namespace" \
                else "cluster-scoped"
            self.objects.append((folder, obj))


# -- output -------------------------------------------------------------


def field_set(value, depth):
    """Return a FieldsV1 map, as managedFields records, of the fields in `value`."""
    if depth == 0 or not isinstance(value, dict):
        return {}
    fields = {}
    for key, item in value.items():
        if isinstance(item, list) and item and all(isinstance(e, dict) and "name" in e for e in item):
            fields[f"f:{key}"] = {
                ".": {},
                **{f'k:{{"name":"{e["name"]}"}}': dict({".": {}}, **field_set(e, depth - 1))
                   for e in item}}
        elif isinstance(item, dict) and item:
            fields[f"f:{key}"] = dict({".": {}}, **field_set(item, depth - 1))
        else:
            fields[f"f:{key}"] = {}
    return fields


def dump_yaml(documents, rng):
    parts = []
    for document in documents:
        text = yaml.dump(document, Dumper=YamlDumper, sort_keys=False, default_flow_style=False,
                         width=120)
        if rng.random() < 0.3:
            text = f"# Source: {document['kind'].lower()}.yaml\n" + text
        parts.append(text)
    if rng.random() < 0.05:
        # Template engines leave empty documents behind.
        parts.insert(rng.randrange(len(parts) + 1), "")
    return "---\n" + "---\n".join(parts)


WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}


def as_list(objects):
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": objects}


def write_files(generator, out_dir, rng):
    folders = collections.OrderedDict()
    for folder, obj in generator.objects:
        folders.setdefault(folder, []).append(obj)
    for folder, objects in folders.items():
        os.makedirs(os.path.join(out_dir, folder), exist_ok=True)
        start = 0
        number = 1
        while start < len(objects):
            size = rng.randint(20, 100)
            chunk = objects[start:start + size]
            start += size
            workloads = [o for o in chunk if o["kind"] in WORKLOAD_KINDS] or chunk
            stem = f"{number:02d}-{workloads[0]['metadata']['name'].replace(':', '-')}"
            number += 1
            form = pick(rng, {"yaml": 75, "yml": 5, "json-list": 7, "yaml-list": 8,
                              "json-single": 5 if len(chunk) == 1 else 0})
            if form == "json-list":
                path, text = f"{stem}.json", json.dumps(as_list(chunk), indent=4) + "\n"
            elif form == "json-single":
                path, text = f"{stem}.json", json.dumps(chunk[0], indent=4) + "\n"
            elif form == "yaml-list":
                split = rng.randint(0, len(chunk))
                documents = chunk[:split] + ([as_list(chunk[split:])] if split < len(chunk) else [])
                path, text = f"{stem}.yaml", dump_yaml(documents, rng)
            else:
                path, text = f"{stem}.{'yml' if form == 'yml' else 'yaml'}", dump_yaml(chunk, rng)
            with open(os.path.join(out_dir, folder, path), "w", encoding="utf-8") as handle:
                handle.write(text)


def write_api(generator, out_dir):
    lists = collections.defaultdict(list)
    for _, obj in generator.objects:
        lists[obj["kind"]].append(obj)
    for kind, (prefix, resource, _) in KINDS.items():
        items = sorted(lists.get(kind, []), key=lambda o: (o["metadata"].get("namespace", ""),
                                                          o["metadata"]["name"]))
        # List items from the API server carry no apiVersion or kind.
        items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        body = {"kind": f"{kind}List", "apiVersion": api_version(kind),
                "metadata": {"resourceVersion": str(generator.resource_version)}, "items": items}
        folder = os.path.join(out_dir, *prefix.split("/"))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{resource}.json"), "w", encoding="utf-8") as handle:
            json.dump(body, handle, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, required=True, help="number of objects to write")
    parser.add_argument("--seed", type=int, default=20260105, help="random seed (default 20260105)")
    parser.add_argument("--layout", choices=["files", "api"], required=True,
                        help="files: manifest folders; api: API server list responses")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="output folder (must be empty or absent)")
    args = parser.parse_args()
    if not 1 <= args.objects <= MAX_OBJECTS:
        parser.error(f"--objects must be between 1 and {MAX_OBJECTS}, got {args.objects}")
    if os.path.exists(args.out_dir) and (not os.path.isdir(args.out_dir) or os.listdir(args.out_dir)):
        print(f"k8s_gen.py: error: {args.out_dir} exists and is not an empty folder; "
              "remove it or choose another OUT_DIR", file=sys.stderr)
        sys.exit(2)

    generator = Generator(args.objects, args.seed, args.layout)
    generator.build()
    assert len(generator.objects) == args.objects, (len(generator.objects), args.objects)
    os.makedirs(args.out_dir, exist_ok=True)
    if args.layout == "files":
        write_files(generator, args.out_dir, random.Random(args.seed ^ 0x5EED))
    else:
        write_api(generator, args.out_dir)

    counts = collections.Counter(obj["kind"] for _, obj in generator.objects)
    summary = ", ".join(f"{kind} {count}" for kind, count in counts.most_common())
    print(f"k8s_gen.py: {args.objects} objects ({args.layout} layout, seed {args.seed}): {summary}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
