#!/usr/bin/env python3
"""Compare the findings of Checkov and `rampart audit` on a manifest folder.

Runs Checkov's kubernetes framework (JSON output) and `rampart audit -o json`
on the same folder and prints, for each resource, which checks of each tool
failed, grouped by topic (privileged, hostPID, capabilities, image digest
and so on). A summary table counts, for each topic, the resources that only
Checkov flags, only rampart flags, or both flag.

Usage: benches/checkov_compare.py MANIFEST_DIR [--rampart PATH] [--checkov PATH]
       [--checkov-json FILE] [--rampart-json FILE] [--summary-only]

With --checkov-json or --rampart-json the script reads that tool's earlier
report instead of running it. Checkov runs with --skip-download and with its
update check off, so it makes no network requests.

Limits:
- Checkov's kubernetes framework has no check for literal secrets in env
  values. CKV_K8S_35 flags secretKeyRef env vars, and literal values are
  left to its secrets framework, which reports files and lines, not
  resources. The "secrets in env" topic therefore compares CKV_K8S_35
  with both of rampart's env controls.
- Checkov reports one result per resource and check. rampart reports one
  finding per container, so its findings are merged per resource.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_CHECKOV = os.path.expanduser("~/.cache/rampart-bench/checkov-venv/bin/checkov")

# Checkov check id -> topic. The ids and their meaning are those of Checkov
# 3.3.30 (`checkov --list --framework kubernetes`). The PodSecurityPolicy
# checks (CKV_K8S_1 to 7, 24, 32, 36) are listed for completeness; they only
# fire on PodSecurityPolicy objects.
CHECKOV_TOPICS = {
    "CKV_K8S_16": "privileged",  # Container should not be privileged
    "CKV_K8S_2": "privileged",  # PSP: Do not admit privileged containers
    "CKV_K8S_17": "hostPID",  # Containers should not share the host process ID namespace
    "CKV_K8S_1": "hostPID",  # PSP
    "CKV_K8S_19": "hostNetwork",  # Containers should not share the host network namespace
    "CKV_K8S_4": "hostNetwork",  # PSP
    "CKV_K8S_18": "hostIPC",  # Containers should not share the host IPC namespace
    "CKV_K8S_3": "hostIPC",  # PSP
    "CKV_K8S_27": "container runtime socket",  # Do not expose the docker daemon socket
    "CKV_K8S_25": "capabilities",  # Minimize the admission of containers with added capability
    "CKV_K8S_24": "capabilities",  # PSP: Do not allow containers with added capability
    "CKV_K8S_28": "capabilities",  # Minimize the admission of containers with NET_RAW
    "CKV_K8S_7": "capabilities",  # PSP: NET_RAW
    "CKV_K8S_37": "capabilities",  # Minimize the admission of containers with capabilities assigned
    "CKV_K8S_36": "capabilities",  # PSP: capabilities assigned
    "CKV_K8S_39": "capabilities",  # Do not use the CAP_SYS_ADMIN linux capability
    "CKV_K8S_20": "allowPrivilegeEscalation",  # Containers should not run with allowPrivilegeEscalation
    "CKV_K8S_5": "allowPrivilegeEscalation",  # PSP
    "CKV_K8S_23": "runAsNonRoot",  # Minimize the admission of root containers
    "CKV_K8S_6": "runAsNonRoot",  # PSP: Do not admit root containers
    "CKV_K8S_40": "runAsNonRoot",  # Containers should run as a high UID to avoid host conflict
    "CKV_K8S_22": "readOnlyRootFilesystem",  # Use read-only filesystem for containers
    "CKV_K8S_43": "image digest",  # Image should use digest
    "CKV_K8S_14": "image latest tag",  # Image Tag should be fixed - not latest or blank
    "CKV_K8S_35": "secrets in env",  # Prefer using secrets as files over secrets as env vars
    "CKV_K8S_10": "limits/requests",  # CPU requests should be set
    "CKV_K8S_11": "limits/requests",  # CPU limits should be set
    "CKV_K8S_12": "limits/requests",  # Memory requests should be set
    "CKV_K8S_13": "limits/requests",  # Memory limits should be set
    "CKV_K8S_8": "liveness probe",  # Liveness Probe Should be Configured
    "CKV_K8S_9": "readiness probe",  # Readiness Probe Should be Configured
    "CKV_K8S_21": "default namespace",  # The default namespace should not be used
    "CKV_K8S_38": "automountServiceAccountToken",  # Service Account Tokens only mounted where necessary
    "CKV_K8S_41": "automountServiceAccountToken",  # default ServiceAccount: automount not false
    "CKV_K8S_31": "seccomp",  # seccomp profile set to docker/default or runtime/default
    "CKV_K8S_32": "seccomp",  # PSP: default seccomp profile
    "CKV_K8S_26": "hostPort",  # Do not specify hostPort unless absolutely necessary
    "CKV_K8S_42": "rbac",  # default service accounts are not actively used (bindings)
    "CKV_K8S_49": "rbac",  # Minimize wildcard use in Roles and ClusterRoles
    "CKV_K8S_155": "rbac",  # ClusterRoles that control admission webhook configurations
    "CKV_K8S_156": "rbac",  # ClusterRoles that approve CertificateSigningRequests
    "CKV_K8S_157": "rbac",  # Roles that bind RoleBindings or ClusterRoleBindings
    "CKV_K8S_158": "rbac",  # Roles that escalate Roles or ClusterRoles
    "CKV2_K8S_1": "rbac",  # RoleBinding privilege escalation to a ServiceAccount or Node
    "CKV2_K8S_2": "rbac",  # create on nodes/proxy or pods/exec
    "CKV2_K8S_3": "rbac",  # impersonate
    "CKV2_K8S_4": "rbac",  # modify services/status
    "CKV2_K8S_5": "rbac",  # read all secrets
    "CKV2_K8S_6": "network policy",  # pods without an associated NetworkPolicy
}

# rampart control id -> topic, for the ids of the posture control catalogue.
# RAMPART_TOPIC_WORDS maps ids that are not listed by a word they contain.
RAMPART_TOPICS = {
    "privileged-container": "privileged",
    "pss-privileged": "privileged",
    "host-pid": "hostPID",
    "host-network": "hostNetwork",
    "host-ipc": "hostIPC",
    "container-runtime-socket": "container runtime socket",
    "host-path-mount": "hostPath volume",
    "pss-hostPathVolumes": "hostPath volume",
    # Of the volume types that the restricted level rejects, the generated
    # sets use only hostPath.
    "pss-restrictedVolumes": "hostPath volume",
    "added-dangerous-capability": "capabilities",
    "pss-capabilities_baseline": "capabilities",
    "pss-capabilities_restricted": "capabilities",
    "allow-privilege-escalation": "allowPrivilegeEscalation",
    "pss-allowPrivilegeEscalation": "allowPrivilegeEscalation",
    "pss-runAsNonRoot": "runAsNonRoot",
    "pss-runAsUser": "runAsNonRoot",
    "image-not-pinned-by-digest": "image digest",
    "image-latest-tag": "image latest tag",
    "secret-in-env-literal": "secrets in env",
    "secret-as-env-var": "secrets in env",
    "missing-memory-limit-or-request": "limits/requests",
    "missing-cpu-limit-or-request": "limits/requests",
    "missing-liveness-probe": "liveness probe",
    "missing-readiness-probe": "readiness probe",
    "writable-root-filesystem": "readOnlyRootFilesystem",
    "service-account-token-automount": "automountServiceAccountToken",
    "pss-seccompProfile_baseline": "seccomp",
    "pss-seccompProfile_restricted": "seccomp",
    "pss-hostPorts": "hostPort",
    "workload-not-selected-by-networkpolicy": "network policy",
}
RAMPART_TOPIC_WORDS = [
    ("default-namespace", "default namespace"),
    ("read-only", "readOnlyRootFilesystem"),
    ("readonly", "readOnlyRootFilesystem"),
    ("seccomp", "seccomp"),
    ("automount", "automountServiceAccountToken"),
    ("run-as", "runAsNonRoot"),
    ("root", "runAsNonRoot"),
    ("rbac", "rbac"),
    ("networkpolicy", "network policy"),
    ("network-policy", "network policy"),
]
# pss-hostNamespaces covers hostPID, hostNetwork and hostIPC. The finding's
# field path names the one that failed.
HOST_NAMESPACE_FIELDS = ["hostPID", "hostNetwork", "hostIPC"]

TOPIC_ORDER = [
    "privileged", "hostPID", "hostNetwork", "hostIPC", "hostPath volume",
    "container runtime socket", "capabilities", "allowPrivilegeEscalation", "runAsNonRoot",
    "readOnlyRootFilesystem", "image digest", "image latest tag", "secrets in env",
    "limits/requests", "liveness probe", "readiness probe", "default namespace",
    "automountServiceAccountToken", "seccomp", "hostPort", "rbac", "network policy", "other",
]

CLUSTER_SCOPED_KINDS = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "PodSecurityPolicy", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "Node", "PriorityClass", "IngressClass",
}


def resource_key(kind, namespace, name):
    if kind in CLUSTER_SCOPED_KINDS:
        namespace = ""
    return (kind, namespace or "", name)


def run_checkov(checkov, manifest_dir, output):
    env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true", BC_SKIP_MAPPING="TRUE")
    command = [checkov, "-d", manifest_dir, "--framework", "kubernetes", "-o", "json",
               "--quiet", "--compact", "--skip-download", "--soft-fail"]
    print(f"checkov_compare.py: running {' '.join(command)}", file=sys.stderr)
    with open(output, "w", encoding="utf-8") as handle:
        result = subprocess.run(command, stdout=handle, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"checkov_compare.py: error: checkov exited with {result.returncode}")


def run_rampart(rampart, manifest_dir, output):
    command = [rampart, "audit", manifest_dir, "-o", f"json={output}"]
    print(f"checkov_compare.py: running {' '.join(command)}", file=sys.stderr)
    result = subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
    # Exit code 2 means that some input was invalid; the other files are still audited.
    if result.returncode == 2 and os.path.exists(output):
        print("checkov_compare.py: NOTE: rampart audit exited with 2 (invalid input); "
              "comparing the files it audited", file=sys.stderr)
    elif result.returncode not in (0, 1):
        sys.exit(f"checkov_compare.py: error: rampart audit exited with {result.returncode}")


def read_checkov(path):
    """Return {resource key: {check id}} for the failed checks in a Checkov JSON report."""
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    # One framework gives one report object, several give a list of them.
    # When no resource was checked, Checkov 3.3.30 prints only the summary.
    reports = report if isinstance(report, list) else [report]
    failed = collections.defaultdict(set)
    for framework in reports:
        for check in framework.get("results", {}).get("failed_checks", []):
            # Checkov names resources "Kind.namespace.name"; object names may contain dots.
            kind, namespace, name = check["resource"].split(".", 2)
            failed[resource_key(kind, namespace, name)].add(check["check_id"])
    return failed


def read_rampart(path):
    """Return {resource key: {(control id, field)}} for the findings in a rampart JSON report.

    Reads the `rampart.audit/v1` report: a top-level "findings" list whose
    items have "control", "resource" {"kind", "namespace", "name"} and an
    optional "field" and "exception". Excepted findings are left out.
    """
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    findings = collections.defaultdict(set)
    for finding in report["findings"]:
        if finding.get("exception"):
            continue
        resource = finding["resource"]
        key = resource_key(resource["kind"], resource.get("namespace"), resource["name"])
        findings[key].add((finding["control"], finding.get("field") or ""))
    return findings


def rampart_topic(control, field):
    if control in RAMPART_TOPICS:
        return RAMPART_TOPICS[control]
    if control == "pss-hostNamespaces":
        for name in HOST_NAMESPACE_FIELDS:
            if name in field:
                return name
        return "hostPID"
    for word, topic in RAMPART_TOPIC_WORDS:
        if word in control.lower():
            return topic
    return "other"


def group(checkov, rampart):
    """Return {resource key: {topic: (checkov ids, rampart ids)}}."""
    grouped = collections.defaultdict(lambda: collections.defaultdict(lambda: (set(), set())))
    for key, ids in checkov.items():
        for check_id in ids:
            grouped[key][CHECKOV_TOPICS.get(check_id, "other")][0].add(check_id)
    for key, controls in rampart.items():
        for control, field in controls:
            grouped[key][rampart_topic(control, field)][1].add(control)
    return grouped


def sort_ids(ids):
    def natural(text):
        head, _, number = text.rpartition("_")
        return (head, int(number)) if number.isdigit() else (text, 0)
    return sorted(ids, key=natural)


def print_resources(grouped):
    for key in sorted(grouped):
        kind, namespace, name = key
        print(f"{kind} {namespace + '/' if namespace else ''}{name}")
        topics = grouped[key]
        for topic in TOPIC_ORDER:
            if topic not in topics:
                continue
            checkov_ids, rampart_ids = topics[topic]
            print(f"  {topic:<29} checkov: {', '.join(sort_ids(checkov_ids)) or '-':<34} "
                  f"rampart: {', '.join(sorted(rampart_ids)) or '-'}")
        print()


def print_summary(grouped, checkov, rampart):
    counts = {topic: collections.Counter() for topic in TOPIC_ORDER}
    for topics in grouped.values():
        for topic, (checkov_ids, rampart_ids) in topics.items():
            if checkov_ids and rampart_ids:
                counts[topic]["both"] += 1
            elif checkov_ids:
                counts[topic]["checkov"] += 1
            else:
                counts[topic]["rampart"] += 1
    print(f"Resources with a finding: Checkov {len(checkov)}, rampart {len(rampart)}, "
          f"either {len(grouped)}.")
    print()
    print("| topic | both | only Checkov | only rampart |")
    print("|---|---:|---:|---:|")
    for topic in TOPIC_ORDER:
        count = counts[topic]
        if count:
            print(f"| {topic} | {count['both']} | {count['checkov']} | {count['rampart']} |")
    unmapped_checkov = sorted({i for ids in checkov.values() for i in ids} - set(CHECKOV_TOPICS))
    unmapped_rampart = sorted({c for controls in rampart.values() for c, f in controls
                               if rampart_topic(c, f) == "other"})
    if unmapped_checkov or unmapped_rampart:
        print()
        print(f"Counted as other: Checkov {', '.join(sort_ids(unmapped_checkov)) or '-'}; "
              f"rampart {', '.join(unmapped_rampart) or '-'}.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest_dir", metavar="MANIFEST_DIR", help="folder of Kubernetes manifests")
    parser.add_argument("--rampart", default="rampart", help="rampart executable (default: rampart on PATH)")
    parser.add_argument("--checkov", default=DEFAULT_CHECKOV,
                        help=f"checkov executable (default: {DEFAULT_CHECKOV})")
    parser.add_argument("--checkov-json", help="read this Checkov JSON report instead of running Checkov")
    parser.add_argument("--rampart-json", help="read this rampart JSON report instead of running rampart")
    parser.add_argument("--summary-only", action="store_true", help="print only the summary table")
    args = parser.parse_args()
    if not os.path.isdir(args.manifest_dir):
        sys.exit(f"checkov_compare.py: error: {args.manifest_dir} is not a folder")

    with tempfile.TemporaryDirectory(prefix="checkov-compare-") as work:
        checkov_json = args.checkov_json or os.path.join(work, "checkov.json")
        rampart_json = args.rampart_json or os.path.join(work, "rampart.json")
        if not args.checkov_json:
            run_checkov(args.checkov, args.manifest_dir, checkov_json)
        if not args.rampart_json:
            run_rampart(args.rampart, args.manifest_dir, rampart_json)
        checkov = read_checkov(checkov_json)
        rampart = read_rampart(rampart_json)

    grouped = group(checkov, rampart)
    if not args.summary_only:
        print_resources(grouped)
    print_summary(grouped, checkov, rampart)


if __name__ == "__main__":
    main()
