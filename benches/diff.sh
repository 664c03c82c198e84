#!/usr/bin/env bash
# Benchmarks `rampart diff` of a standard image and its hardened equivalent
# beside `rampart scan` of each image alone, with a warm database built from
# the corpus advisories, and prints a Markdown table on stdout. The target:
# the diff takes at most 1.2 times the scan of the larger image, because it
# opens the database once and reads both images at the same time.
#
# Usage: benches/diff.sh [A B]
#   A and B are folder names under $RAMPART_CORPUS/images (default:
#   debian-standard-python debian-minimal-python).
#
# Environment:
#   RAMPART_CORPUS    corpus root with images/ and advisories/ (default:
#                     ../shared/corpus relative to the repository root)
#   BENCH_OUT         folder for hyperfine JSON and the database (default:
#                     bench-out/ in the repository root)
#   CARGO_TARGET_DIR  is honoured by the cargo build.
#
# Requires: cargo, hyperfine (1.13 or later), jq, GNU time. Run it on an
# otherwise idle machine: hyperfine runs each command's runs back to back.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpus=${RAMPART_CORPUS:-$repo_root/../shared/corpus}
out_dir=${BENCH_OUT:-$repo_root/bench-out}
image_a=${1:-debian-standard-python}
image_b=${2:-debian-minimal-python}

for tool in cargo hyperfine jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found on PATH" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "error: GNU time (/usr/bin/time) not found" >&2; exit 1; }
[ -d "$corpus/images" ] || { echo "error: no corpus at $corpus (set RAMPART_CORPUS)" >&2; exit 1; }

mkdir -p "$out_dir"
cache="$out_dir/diff-cache"

echo "diff.sh: building rampart (release)" >&2
cargo build --release --locked -p rampart-cli --manifest-path "$repo_root/Cargo.toml" >&2
rampart="${CARGO_TARGET_DIR:-$repo_root/target}/release/rampart"

echo "diff.sh: building the corpus database" >&2
"$rampart" --cache-dir "$cache" -q db build --from "$corpus/advisories" >&2

a="oci-dir:$corpus/images/$image_a"
b="oci-dir:$corpus/images/$image_b"
json="$out_dir/diff-$image_a-$image_b.json"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
reports="$out_dir/diff-reports"
mkdir -p "$reports"
labels=("scan $image_a" "scan $image_b" "diff (json)" "diff (json, html, markdown)")
commands=(
    "$rampart -q --cache-dir $cache scan $a -o json=$reports/scan-a.json"
    "$rampart -q --cache-dir $cache scan $b -o json=$reports/scan-b.json"
    "$rampart -q --cache-dir $cache diff $a $b -o json=$reports/diff.json"
    "$rampart -q --cache-dir $cache diff $a $b -o json=$reports/diff.json -o html=$reports/diff.html -o markdown=$reports/diff.md"
)
hyperfine --shell=none --warmup 3 --min-runs 30 --export-json "$json" "${commands[@]}" >&2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

rss() {
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }'
}
scan_a=$(jq '.results[0].mean' "$json")
scan_b=$(jq '.results[1].mean' "$json")
larger=$(jq -n "[$scan_a, $scan_b] | max")

larger_median=$(jq -n "[$(jq '.results[0].median' "$json"), $(jq '.results[1].median' "$json")] | max")

echo "| command | mean ± σ (ms) | median (ms) | mean against the larger scan | median against the larger scan | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|"
for index in 0 1 2 3; do
    mean=$(jq ".results[$index].mean * 1000" "$json")
    stddev=$(jq ".results[$index].stddev * 1000" "$json")
    median=$(jq ".results[$index].median * 1000" "$json")
    ratio=$(jq -n "$(jq ".results[$index].mean" "$json") / $larger")
    median_ratio=$(jq -n "$(jq ".results[$index].median" "$json") / $larger_median")
    # shellcheck disable=SC2086
    peak=$(rss ${commands[$index]})
    printf '| %s | %.1f ± %.1f | %.1f | %.2f× | %.2f× | %s |\n' "${labels[$index]}" "$mean" "$stddev" "$median" "$ratio" "$median_ratio" "$peak"
done
