#!/usr/bin/env bash
# Benchmarks `rampart scan` beside `rampart sbom` on the corpus images, with a
# warm database built from the corpus advisories, and prints a Markdown
# table on stdout. The difference between the two is what matching costs:
# opening the database, one lookup per package, evaluating the ranges, and
# enrichment with severities, KEV and EPSS.
#
# Usage: benches/scan.sh [IMAGE...]
#   IMAGE is a folder name under $RAMPART_CORPUS/images (default: all seven
#   corpus OCI layouts).
#
# Environment:
#   RAMPART_CORPUS    corpus root with images/ and advisories/ (default:
#                     ../shared/corpus relative to the repository root)
#   BENCH_OUT         folder for hyperfine JSON and the database (default:
#                     bench-out/ in the repository root)
#   CARGO_TARGET_DIR  is honoured by the cargo build.
#
# Requires: cargo, hyperfine (1.13 or later), jq. Both commands write JSON to
# /dev/null; both read the image files from the page cache after hyperfine's
# warm-up runs. Run it on an otherwise idle machine.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpus=${RAMPART_CORPUS:-$repo_root/../shared/corpus}
out_dir=${BENCH_OUT:-$repo_root/bench-out}
default_images=(alpine-3.10 alpine-3.11 alpine-3.16 alpine-3.20 debian-standard-python debian-minimal-python polyglot-app)
images=("$@")
[ ${#images[@]} -gt 0 ] || images=("${default_images[@]}")

for tool in cargo hyperfine jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found on PATH" >&2; exit 1; }
done
[ -d "$corpus/images" ] || { echo "error: no corpus at $corpus (set RAMPART_CORPUS)" >&2; exit 1; }

mkdir -p "$out_dir"
cache="$out_dir/scan-cache"

echo "scan.sh: building rampart (release)" >&2
cargo build --release --locked -p rampart-cli --manifest-path "$repo_root/Cargo.toml" >&2
rampart="${CARGO_TARGET_DIR:-$repo_root/target}/release/rampart"

echo "scan.sh: building the corpus database" >&2
"$rampart" --cache-dir "$cache" -q db build --from "$corpus/advisories" >&2

echo "| image | packages | findings | rampart sbom (ms) | rampart scan (ms) | matching adds |"
echo "|---|---:|---:|---:|---:|---:|"
for image in "${images[@]}"; do
    layout="oci-dir:$corpus/images/$image"
    json="$out_dir/scan-$image.json"
    hyperfine --shell=none --warmup 2 --min-runs 10 --export-json "$json" \
        "$rampart -q sbom $layout -o json=/dev/null" \
        "$rampart -q --cache-dir $cache scan $layout -o json=/dev/null" >&2
    sbom_ms=$(jq '.results[0].mean * 1000' "$json")
    scan_ms=$(jq '.results[1].mean * 1000' "$json")
    report=$("$rampart" -q --cache-dir "$cache" scan "$layout" -o json)
    packages=$("$rampart" -q sbom "$layout" -o json | jq '.packages | length')
    findings=$(jq '.summary.total' <<<"$report")
    printf '| %s | %s | %s | %.1f | %.1f | %+.0f%% |\n' "$image" "$packages" "$findings" \
        "$sbom_ms" "$scan_ms" "$(jq -n "($scan_ms / $sbom_ms - 1) * 100")"
done
