#!/usr/bin/env bash
# Measures `rampart audit --cluster` against the fake API server of
# rampart-testkit, serving a generated cluster, and prints a Markdown table
# on stdout: objects served, objects audited, findings, wall time and peak
# RSS of rampart.
#
# Usage: benches/audit-cluster.sh [OBJECTS...]
#   OBJECTS is the size of a generated cluster (default: 10000). Each size
#   is generated once with `benches/k8s_gen.py --layout api` into BENCH_OUT
#   and reused by later runs.
#
# Environment:
#   BENCH_OUT         folder for the generated clusters, kubeconfigs and
#                     GNU time logs (default: bench-out/ in the repository
#                     root)
#   K8S_GEN           the generator (default: benches/k8s_gen.py)
#   RUNS              measured runs per size (default: 3); the table shows
#                     the median wall time and the largest peak RSS
#   CARGO_TARGET_DIR  is honoured by the cargo builds.
#
# Requires: cargo, python3 with PyYAML (for the generator), GNU time at
# /usr/bin/time, jq. The API server runs in its own process on 127.0.0.1,
# so its memory is not part of rampart's peak RSS. Run it on an otherwise
# idle machine.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${BENCH_OUT:-$repo_root/bench-out}
generator=${K8S_GEN:-$repo_root/benches/k8s_gen.py}
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000)

for tool in cargo python3 jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found on PATH" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "error: GNU time not found at /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ -f "$generator" ] || { echo "error: generator $generator not found; set K8S_GEN" >&2; exit 1; }

mkdir -p "$out_dir"
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}

echo "audit-cluster.sh: building rampart and the fake API server (release)" >&2
cargo build --release --locked -p rampart-cli --manifest-path "$repo_root/Cargo.toml" >&2
cargo build --release --locked -p rampart-testkit --example apiserver --manifest-path "$repo_root/Cargo.toml" >&2
rampart="$target_dir/release/rampart"
apiserver="$target_dir/release/examples/apiserver"

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

# The lists that `rampart audit --cluster` requests; the generator also
# writes Services and ConfigMaps, which it does not.
list_paths=(
    api/v1/namespaces api/v1/serviceaccounts api/v1/pods api/v1/podtemplates api/v1/replicationcontrollers
    apis/apps/v1/deployments apis/apps/v1/replicasets apis/apps/v1/statefulsets apis/apps/v1/daemonsets
    apis/batch/v1/jobs apis/batch/v1/cronjobs
    apis/rbac.authorization.k8s.io/v1/roles apis/rbac.authorization.k8s.io/v1/clusterroles
    apis/rbac.authorization.k8s.io/v1/rolebindings apis/rbac.authorization.k8s.io/v1/clusterrolebindings
    apis/networking.k8s.io/v1/networkpolicies
    apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations
    apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations
    apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings
)

# Prints the median of the numbers on stdin.
median() {
    sort -n | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'
}

echo "| objects served | objects audited | findings | wall time (s, median of $runs) | peak RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|"
for size in "${sizes[@]}"; do
    cluster="$out_dir/cluster-api-$size"
    if [ ! -d "$cluster" ]; then
        echo "audit-cluster.sh: generating $size objects into $cluster" >&2
        python3 "$generator" --objects "$size" --layout api "$cluster" >&2
    fi

    kubeconfig="$out_dir/kubeconfig-$size"
    rm -f "$kubeconfig"
    "$apiserver" "$cluster" "$kubeconfig" --tls 2>"$out_dir/apiserver-$size.log" &
    server_pid=$!
    for _ in $(seq 100); do
        [ -f "$kubeconfig" ] && break
        sleep 0.1
    done
    [ -f "$kubeconfig" ] || { echo "error: the API server did not start; see $out_dir/apiserver-$size.log" >&2; exit 1; }

    # One unmeasured run fills the page cache and the server's cache of
    # parsed recordings, and gives the counts.
    report=$("$rampart" -q audit --cluster --kubeconfig "$kubeconfig" -o json)
    served=0
    for path in "${list_paths[@]}"; do
        [ -f "$cluster/$path.json" ] && served=$((served + $(jq '.items | length' "$cluster/$path.json")))
    done
    audited=$(jq '.summary.objects' <<<"$report")
    findings=$(jq '.summary.findings' <<<"$report")

    walls=()
    peak_kib=0
    for run in $(seq "$runs"); do
        log="$out_dir/time-cluster-$size-$run.log"
        /usr/bin/time -v "$rampart" -q audit --cluster --kubeconfig "$kubeconfig" -o json=/dev/null 2>"$log"
        walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, part, ":"); seconds = 0; for (i = 1; i <= n; i++) seconds = seconds * 60 + part[i]; print seconds }' "$log")")
        kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
        [ "$kib" -gt "$peak_kib" ] && peak_kib=$kib
    done
    stop_server

    wall=$(printf '%s\n' "${walls[@]}" | median)
    printf '| %s | %s | %s | %.2f | %.1f |\n' "$served" "$audited" "$findings" "$wall" "$(jq -n "$peak_kib / 1024")"
done
