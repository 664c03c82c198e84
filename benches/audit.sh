#!/usr/bin/env bash
# Benchmarks `rampart audit` of Kubernetes manifests beside Checkov's
# kubernetes framework, and prints a Markdown report on stdout.
#
# Usage: benches/audit.sh [OBJECTS]
#   OBJECTS is the size of the manifest set for rampart's throughput runs
#   (default 50000).
#
# The script generates its inputs with benches/k8s_gen.py (files layout,
# seed $SEED) into a folder under $BENCH_OUT, which it removes at the end:
#   - OBJECTS objects: hyperfine times `rampart audit DIR -o json=/dev/null`,
#     and the throughput is objects / mean seconds;
#   - CHECKOV_OBJECTS objects: hyperfine times Checkov and rampart on this
#     same set. Checkov is much slower, so by default it gets a smaller set
#     than rampart's throughput runs;
#   - 10,000 objects: GNU time measures rampart's peak RSS.
# Checkov runs as a pool of Python processes. GNU time's "Maximum resident
# set size" is the peak of the largest single process, so the report also
# gives the peak of the whole process tree, sampled every 0.1 s.
#
# Checkov runs with --skip-download and its update check off. When strace is
# installed, Checkov first runs once on a small set under strace, and the
# script stops if Checkov connects to an IPv4 or IPv6 address.
#
# Environment:
#   BENCH_OUT         folder for the results (hyperfine JSON, GNU time and
#                     strace logs in audit/) and, while the script runs, the
#                     generated sets (default: bench-out/ in the repository
#                     root)
#   CHECKOV_BIN       Checkov executable (default:
#                     ~/.cache/rampart-bench/checkov-venv/bin/checkov, the
#                     venv that `python3 -m venv` and `pip install checkov`
#                     create there)
#   CHECKOV_OBJECTS   size of the set that Checkov and rampart both audit
#                     (default 2000); 0 skips Checkov
#   CHECKOV_RUNS      hyperfine runs of Checkov (default 3)
#   SEED              generator seed (default 20260105)
#   CARGO_TARGET_DIR  is honoured by the cargo build.
#
# Requires: cargo, python3 with PyYAML, hyperfine (1.13 or later), jq, GNU
# time. Run it on an otherwise idle machine: hyperfine runs the commands one
# after another, so background load skews the ratios between them. The
# report prints the load average at start and end.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${BENCH_OUT:-$repo_root/bench-out}
objects=${1:-50000}
checkov_objects=${CHECKOV_OBJECTS:-2000}
checkov_runs=${CHECKOV_RUNS:-3}
seed=${SEED:-20260105}
rss_objects=10000
checkov=${CHECKOV_BIN:-$HOME/.cache/rampart-bench/checkov-venv/bin/checkov}

# Checkov must not reach the network: no update check against the package
# index and no download of check metadata (see also check_checkov_offline).
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE
checkov_flags=(--framework kubernetes -o json --quiet --compact --skip-download --soft-fail)

fail() {
    echo "error: $*" >&2
    exit 1
}

log() {
    echo "audit.sh: $*" >&2
}

require_tool() {
    command -v "$1" >/dev/null 2>&1 || fail "$1 not found on PATH; install it to run this benchmark"
}

# Prints the mean wall time, its standard deviation and the mean CPU time
# (user + system) in seconds of result $2 in hyperfine JSON $1.
hyperfine_s() {
    jq -r --argjson i "$2" '.results[$i] | "\(.mean) \(.stddev) \(.user + .system)"' "$1"
}

# Prints the peak RSS in KiB from a `/usr/bin/time -v` log.
peak_rss_kib() {
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$1"
}

# Runs "$@" once under GNU time, logging to $1 (the first argument).
measure_rss() {
    local log_file=$1
    shift
    /usr/bin/time -v -o "$log_file" "$@" >/dev/null
}

# Runs "$@" once and prints the peak, in KiB, of the summed RSS of the
# command and all its descendants, sampled every 0.1 s. Short-lived workers
# between two samples are missed, so the value is a lower bound.
peak_tree_rss_kib() {
    "$@" >/dev/null 2>&1 &
    local root=$! peak=0 total
    while kill -0 "$root" 2>/dev/null; do
        total=$(ps -e -o pid=,ppid=,rss= | awk -v root="$root" '
            { parent[$1] = $2; rss[$1] = $3 }
            END {
                for (pid in parent) {
                    for (p = pid; p != "" && p != 0 && p != 1; p = parent[p]) {
                        if (p == root) { sum += rss[pid]; break }
                    }
                }
                print sum + 0
            }')
        (( total > peak )) && peak=$total
        sleep 0.1
    done
    wait "$root" || fail "$* exited with $?"
    echo "$peak"
}

# Stops the benchmark if Checkov connects to an IPv4 or IPv6 address while
# scanning. Only connect calls count: Checkov 3.3.30 creates one IPv6 socket
# at start-up and connects it nowhere.
check_checkov_offline() {
    local manifests=$1
    local trace=$results/checkov-strace.txt
    strace -f -qq -e trace=connect -o "$trace" \
        "$checkov" -d "$manifests" "${checkov_flags[@]}" >/dev/null 2>&1 \
        || fail "Checkov failed on $manifests under strace; see $trace"
    if grep -E 'sa_family=AF_INET6?' "$trace" >&2; then
        fail "Checkov connected to a network address while scanning (lines above, full trace in $trace); stopping"
    fi
}

# Generates a files-layout set of $1 objects into $2.
generate() {
    log "generating $1 objects into $2"
    python3 "$repo_root/benches/k8s_gen.py" --objects "$1" --seed "$seed" --layout files "$2" 2>&1 \
        | sed 's/^/  /' >&2
}

# Prints the results row for the peak RSS of `rampart audit --cluster`.
# TODO: serve the generated set from a fake API server on 127.0.0.1 and
# measure `rampart audit --cluster` against it. The set is a
# `k8s_gen.py --layout api` set of $rss_objects objects: each file is the
# list response of its REST path (api/v1/pods.json and so on).
cluster_rss() {
    local api_set=$work/api-$rss_objects
    log "generating $rss_objects objects (API layout) into $api_set"
    python3 "$repo_root/benches/k8s_gen.py" --objects "$rss_objects" --seed "$seed" --layout api "$api_set" 2>&1 \
        | sed 's/^/  /' >&2
    printf '| rampart audit --cluster (fake API server) | %d | – | – | – | – | not measured yet |\n' "$rss_objects"
}

require_tool cargo
require_tool python3
require_tool hyperfine
require_tool jq
[[ -x /usr/bin/time ]] || fail "/usr/bin/time (GNU time) not found; install the time package"
time_probe=$(/usr/bin/time -v true 2>&1 || true)
[[ $time_probe == *"Maximum resident set size"* ]] || fail "/usr/bin/time is not GNU time (no -v support)"
python3 -c 'import yaml' 2>/dev/null || fail "PyYAML not found for python3; install it (python3-yaml or pip install pyyaml)"
[[ $objects =~ ^[1-9][0-9]*$ ]] || fail "OBJECTS must be a positive number, got $objects"
[[ $checkov_objects =~ ^[0-9]+$ ]] || fail "CHECKOV_OBJECTS must be a number, got $checkov_objects"
if (( checkov_objects > 0 )); then
    [[ -x $checkov ]] || fail "Checkov not found at $checkov; create the venv (python3 -m venv ~/.cache/rampart-bench/checkov-venv, then its pip install checkov) or set CHECKOV_BIN"
fi

results=$out_dir/audit
mkdir -p "$results"
work=$(mktemp -d "$out_dir/audit-sets.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "building rampart (release)"
cargo build --release --locked --quiet -p rampart-cli --manifest-path "$repo_root/Cargo.toml"
rampart="${CARGO_TARGET_DIR:-$repo_root/target}/release/rampart"

big_set=$work/files-$objects
rss_set=$work/files-$rss_objects
checkov_set=$work/files-$checkov_objects
generate "$objects" "$big_set"
[[ -d $rss_set ]] || generate "$rss_objects" "$rss_set"
if (( checkov_objects > 0 )) && [[ ! -d $checkov_set ]]; then
    generate "$checkov_objects" "$checkov_set"
fi

# rampart must read every generated object, or the throughput is wrong.
# The JSON report counts the objects of kinds without controls (ConfigMaps,
# Services) as skipped.
"$rampart" -q audit "$big_set" -o "json=$work/audit.json" \
    || fail "rampart audit failed on $big_set (exit code $?)"
jq '.summary' "$work/audit.json" > "$results/audit-summary.json"
audited=$(jq '.objects + ([.skipped_by_kind[]] | add // 0)' "$results/audit-summary.json")
[[ $audited == "$objects" ]] || fail "rampart audited $audited objects of $objects in $big_set; see $results/audit-summary.json"

if (( checkov_objects > 0 )) && command -v strace >/dev/null 2>&1; then
    small_set=$work/files-200
    [[ -d $small_set ]] || generate 200 "$small_set"
    log "checking that Checkov stays offline (strace)"
    check_checkov_offline "$small_set"
elif (( checkov_objects > 0 )); then
    log "NOTE: strace not installed; Checkov's network access is not checked"
fi

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo_root" status --porcelain 2>/dev/null) ]]; then
    commit="$commit (working tree has uncommitted changes)"
fi

echo "# rampart audit benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) CPUs (nproc), $cpu_model, $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "- rampart: $("$rampart" --version) at commit $commit, $(rustc --version)"
if (( checkov_objects > 0 )); then
    echo "- Checkov: $("$checkov" --version) ($checkov), $("$(dirname "$checkov")/python" --version)"
    echo "- Checkov flags: ${checkov_flags[*]}"
fi
echo "- input: benches/k8s_gen.py --layout files --seed $seed; $objects objects ($(du -sh "$big_set" | cut -f1), $(find "$big_set" -type f | wc -l) files)"
echo "- $(hyperfine --version); wall time is the hyperfine mean ± standard deviation with a warm page cache, CPU time the mean user + system time, objects/s the objects over the mean wall time; peak RSS is GNU time's \"Maximum resident set size\" of one run"
echo "- load average at start (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
echo

rows=()

log "timing rampart audit on $objects objects"
json=$results/rampart-$objects.json
hyperfine --shell=none --style basic --warmup 1 --min-runs 5 --export-json "$json" \
    -n "rampart audit ($objects)" "$rampart -q audit $big_set -o json=/dev/null" >&2
read -r mean stddev cpu < <(hyperfine_s "$json" 0)
measure_rss "$results/rampart-big.time.txt" "$rampart" -q audit "$big_set" -o json=/dev/null
big_rss=$(peak_rss_kib "$results/rampart-big.time.txt")
rows+=("$(awk -v n="$objects" -v m="$mean" -v s="$stddev" -v c="$cpu" -v rss="$big_rss" \
    -v r="$(jq '.results[0].times | length' "$json")" 'BEGIN {
    printf "| rampart audit | %d | %d | %.3f ± %.3f | %.3f | %.0f | %.1f |", n, r, m, s, c, n / m, rss / 1024 }')")

if (( checkov_objects > 0 )); then
    log "timing Checkov and rampart audit on $checkov_objects objects"
    json=$results/checkov-$checkov_objects.json
    hyperfine --shell=none --style basic --runs "$checkov_runs" --export-json "$json" \
        -n "checkov ($checkov_objects)" "$checkov -d $checkov_set ${checkov_flags[*]}" >&2
    read -r checkov_mean checkov_stddev checkov_cpu < <(hyperfine_s "$json" 0)
    measure_rss "$results/checkov.time.txt" "$checkov" -d "$checkov_set" "${checkov_flags[@]}"
    checkov_rss=$(peak_rss_kib "$results/checkov.time.txt")
    checkov_tree_rss=$(peak_tree_rss_kib "$checkov" -d "$checkov_set" "${checkov_flags[@]}")

    json=$results/rampart-$checkov_objects.json
    hyperfine --shell=none --style basic --warmup 1 --min-runs 5 --export-json "$json" \
        -n "rampart audit ($checkov_objects)" "$rampart -q audit $checkov_set -o json=/dev/null" >&2
    read -r small_mean small_stddev small_cpu < <(hyperfine_s "$json" 0)
    measure_rss "$results/rampart-small.time.txt" "$rampart" -q audit "$checkov_set" -o json=/dev/null
    small_rss=$(peak_rss_kib "$results/rampart-small.time.txt")

    rows+=("$(awk -v n="$checkov_objects" -v m="$small_mean" -v s="$small_stddev" -v c="$small_cpu" \
        -v rss="$small_rss" -v r="$(jq '.results[0].times | length' "$json")" 'BEGIN {
        printf "| rampart audit | %d | %d | %.3f ± %.3f | %.3f | %.0f | %.1f |", n, r, m, s, c, n / m, rss / 1024 }')")
    rows+=("$(awk -v n="$checkov_objects" -v m="$checkov_mean" -v s="$checkov_stddev" -v c="$checkov_cpu" \
        -v r="$checkov_runs" -v rss="$checkov_rss" -v tree="$checkov_tree_rss" 'BEGIN {
        printf "| Checkov | %d | %d | %.1f ± %.1f | %.1f | %.0f | %.1f (largest process), %.1f (process tree) |", n, r, m, s, c, n / m, rss / 1024, tree / 1024 }')")
fi

log "measuring rampart's peak RSS on $rss_objects objects"
measure_rss "$results/rampart-rss.time.txt" "$rampart" -q audit "$rss_set" -o json=/dev/null
rss=$(peak_rss_kib "$results/rampart-rss.time.txt")
rows+=("$(awk -v n="$rss_objects" -v rss="$rss" 'BEGIN {
    printf "| rampart audit | %d | 1 | – | – | – | %.1f |", n, rss / 1024 }')")

rows+=("$(cluster_rss)")

echo "| command | objects | runs | mean ± σ (s) | CPU, user + system (s) | objects/s | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
if (( checkov_objects > 0 )); then
    awk -v c="$checkov_mean" -v r="$small_mean" -v n="$checkov_objects" 'BEGIN {
        printf "On the same %d objects, rampart audit takes %.4f of Checkov'\''s wall time (%.0f× faster).\n", n, r / c, c / r }'
    echo
fi
echo "Load average at end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Raw hyperfine JSON, GNU time and strace logs: $results"
