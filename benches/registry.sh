#!/usr/bin/env bash
# Benchmarks pulling an image from a local OCI registry: `rampart scan` of
# the image in the registry (cold layer cache: every blob is downloaded,
# decompressed, cataloged and matched) beside `skopeo copy` of the same
# image to a local directory (download only), and `rampart scan` again with
# a warm cache. Prints a Markdown table on stdout. The target: the cold
# pull-and-scan takes at most 1.2 times as long as skopeo's copy.
#
# Usage: benches/registry.sh [IMAGE]
#   IMAGE is a folder name under $RAMPART_CORPUS/images (default:
#   debian-standard-python).
#
# The script starts Debian's docker-registry on 127.0.0.1 with a throwaway
# configuration and storage, pushes the image with skopeo, and stops the
# registry at the end. Nothing leaves the machine.
#
# Environment: RAMPART_CORPUS, BENCH_OUT and CARGO_TARGET_DIR as for
# benches/scan.sh; REGISTRY_PORT (default 5077).
#
# Requires: cargo, hyperfine (1.13 or later), jq, skopeo, docker-registry.

set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
corpus=${RAMPART_CORPUS:-$repo_root/../shared/corpus}
out_dir=${BENCH_OUT:-$repo_root/bench-out}
image=${1:-debian-standard-python}
port=${REGISTRY_PORT:-5077}

for tool in cargo hyperfine jq skopeo docker-registry; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found on PATH" >&2; exit 1; }
done
[ -d "$corpus/images/$image" ] || { echo "error: no image $corpus/images/$image (set RAMPART_CORPUS)" >&2; exit 1; }

mkdir -p "$out_dir"
work=$(mktemp -d "$out_dir/registry.XXXXXX")
cleanup() {
    [ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/config.yml" <<CONFIG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
CONFIG
docker-registry serve "$work/config.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done

echo "registry.sh: building rampart (release)" >&2
cargo build --release --locked -p rampart-cli --manifest-path "$repo_root/Cargo.toml" >&2
rampart="${CARGO_TARGET_DIR:-$repo_root/target}/release/rampart"
cache="$out_dir/registry-cache"
echo "registry.sh: building the corpus database" >&2
"$rampart" --cache-dir "$cache" -q db build --from "$corpus/advisories" >&2

tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$corpus/images/$image/index.json")
reference="127.0.0.1:$port/corpus/$image:$tag"
skopeo copy -q --dest-tls-verify=false "oci:$corpus/images/$image:$tag" "docker://$reference" >&2

json="$out_dir/registry-$image.json"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
hyperfine --shell=none --warmup 2 --min-runs 15 --export-json "$json" \
    --prepare "rm -rf $work/copy" \
    "skopeo copy -q --src-tls-verify=false docker://$reference dir:$work/copy" \
    --prepare "rm -rf $cache/blobs" \
    "$rampart -q --cache-dir $cache scan $reference --insecure-registry 127.0.0.1:$port -o json=$work/scan.json" \
    --prepare "true" \
    "$rampart -q --cache-dir $cache scan $reference --insecure-registry 127.0.0.1:$port -o json=$work/scan.json" >&2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

skopeo_mean=$(jq '.results[0].mean' "$json")
labels=("skopeo copy to dir:" "rampart scan, cold cache (pull and scan)" "rampart scan, warm cache")
echo "| command | mean ± σ (ms) | median (ms) | against skopeo copy |"
echo "|---|---:|---:|---:|"
for index in 0 1 2; do
    printf '| %s | %.1f ± %.1f | %.1f | %.2f× |\n' "${labels[$index]}" \
        "$(jq ".results[$index].mean * 1000" "$json")" \
        "$(jq ".results[$index].stddev * 1000" "$json")" \
        "$(jq ".results[$index].median * 1000" "$json")" \
        "$(jq -n "$(jq ".results[$index].mean" "$json") / $skopeo_mean")"
done
