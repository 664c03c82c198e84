#!/usr/bin/env bash
# Benchmarks the advisory database (crates/rampart-advisory/src/store) with
# its SQLite backend and with the redb 5 backend kept for comparison, and
# prints a Markdown report on stdout.
#
# Usage: benches/advisory-db.sh [COUNT]
#   COUNT is the number of synthetic advisories (default 1000000).
#
# For each backend the script measures two inputs:
#   - synthetic: COUNT OSV records from benches/gen_advisories.py (seed
#     20261204), one compact JSON object per line, parsed by the OSV importer;
#   - corpus: every feed under $RAMPART_CORPUS/advisories, read by the
#     importers into memory before the clock starts.
# For each run, the example `advisory_db_bench` reports the build time (from
# the first record to the synced file), the file size, and the median and
# maximum of 50 opens. It reports the latency of 200,000 `Database::affected`
# lookups of random (namespace, package) keys, timed after one warm-up pass
# over the same keys. It also times the first 50,000 of those keys five times each and
# keeps the fastest call, a percentile that filters out preemption by other
# processes, and the lookup throughput on all cores.
#
# Environment:
#   RAMPART_CORPUS  corpus root that contains advisories/ (default:
#                   ../shared/corpus relative to the repository root)
#   BENCH_OUT       folder for the generated input, the databases and the
#                   raw JSON results (default: bench-out/advisory-db in the
#                   repository root). The 1,000,000-record input takes about
#                   1.5 GB and each database several hundred MB.
#   CARGO_TARGET_DIR is honoured by the cargo build.
#
# Requires: cargo, python3 3.9 or later, jq. Run it on an otherwise idle
# machine: both cores are used by the build and by the parallel lookups.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpus=${RAMPART_CORPUS:-$repo_root/../shared/corpus}
out_dir=${BENCH_OUT:-$repo_root/bench-out/advisory-db}
count=${1:-1000000}
seed=20261204
backends=(sqlite redb)

fail() {
    echo "error: $*" >&2
    exit 1
}

log() {
    echo "advisory-db.sh: $*" >&2
}

for tool in cargo python3 jq; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found on PATH; install it to run this benchmark"
done
[[ -d $corpus/advisories ]] || fail "corpus not found at $corpus/advisories; set RAMPART_CORPUS"
mkdir -p "$out_dir"

log "building advisory_db_bench (release, with the redb backend)"
cargo build --quiet --release --manifest-path "$repo_root/Cargo.toml" \
    -p rampart-advisory --features redb-backend --example advisory_db_bench
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
bench=$target_dir/release/examples/advisory_db_bench

input=$out_dir/synthetic-$count-$seed.osv.jsonl
if [[ ! -s $input ]]; then
    log "generating $count synthetic advisories into $input"
    python3 "$repo_root/benches/gen_advisories.py" --count "$count" --seed "$seed" \
        --text-corpus "$corpus/advisories/osv" --output "$input.part"
    mv "$input.part" "$input"
fi
input_bytes=$(stat -c %s "$input")
# The corpus feeds are JSON, YAML, CSV and text lists. All of them except
# the READMEs are the input of the corpus database.
corpus_bytes=$(find "$corpus/advisories" -type f ! -name 'README*' -printf '%s\n' | awk '{ s += $1 } END { print s }')

echo "Load average at start (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
echo

rows=()
for backend in "${backends[@]}"; do
    for set in synthetic corpus; do
        database=$out_dir/$set.$backend.db
        result=$out_dir/$set.$backend.json
        log "$set, $backend"
        if [[ $set == synthetic ]]; then
            "$bench" --input "$input" --format osv --output "$database" --backend "$backend" > "$result"
            reference=$input_bytes
        else
            "$bench" --corpus "$corpus/advisories" --output "$database" --backend "$backend" > "$result"
            reference=$corpus_bytes
        fi
        rows+=("$(jq -r --arg set "$set" --argjson reference "$reference" '
            "| \($set) | \(.backend) | \(.records) | \(.build_s * 10 | round / 10) s | "
            + "\(.file_bytes / 1048576 * 10 | round / 10) MiB | \(.file_bytes / $reference * 1000 | round / 10) % | "
            + "\(.open_ms_median * 100 | round / 100) ms / \(.open_ms_max * 100 | round / 100) ms | "
            + "\(.lookup_us_p50 * 10 | round / 10) µs | \(.lookup_us_p99 * 10 | round / 10) µs | "
            + "\(.fastest_of_5_us_p99 * 10 | round / 10) µs | "
            + "\(.lookup_us_max | round) µs | \(.parallel_lookups_per_s / 1000 | round) k/s | "
            + "\(.in_place_us_p50 * 10 | round / 10) µs | \(.in_place_us_p99 * 10 | round / 10) µs | "
            + "\(.in_place_fastest_of_5_us_p99 * 10 | round / 10) µs |"' "$result")")
    done
done

echo "| input | backend | advisories | build | file | file / input | open median / max | lookup p50 | lookup p99 | p99 of fastest of 5 | lookup max | lookups on $(nproc) threads | in-place p50 | in-place p99 | in-place p99, fastest of 5 |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "Synthetic JSON input: $input_bytes bytes ($count records)."
echo "Corpus feed files (JSON, YAML, CSV, text lists): $corpus_bytes bytes."
echo "Load average at end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Raw results: $out_dir/*.json"
