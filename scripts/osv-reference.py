#!/usr/bin/env python3
"""Independent reference for language-package matching.

Reads the packages of a CycloneDX SBOM (for example Syft's) and OSV records
from folders, and prints, as JSON, the OSV record ids that affect each
package: {"pkg:pypi/requests@2.19.1": ["GHSA-...", "PYSEC-..."], ...}.

It shares no code with rampart. Version order comes from `packaging` for
PyPI (PEP 440) and from a Semantic Versioning 2.0.0 comparison for the
SEMVER ranges of Go and crates.io. The range rules follow the OSV schema:
events sorted by version, `introduced` opens, `fixed` closes (exclusive),
`last_affected` closes (inclusive), and an explicit `versions` list also
counts. Withdrawn records are skipped.

Usage: osv-reference.py SBOM.cdx.json OSV_DIR...
"""

import json
import os
import re
import sys
from functools import cmp_to_key
from urllib.parse import unquote

import yaml
from packaging.version import InvalidVersion, Version

SEMVER = re.compile(
    r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)

PURL_ECOSYSTEMS = {"pypi": "PyPI", "golang": "Go", "cargo": "crates.io"}


def semver_key(text):
    """A sort key with Semantic Versioning 2.0.0 precedence."""
    match = SEMVER.match(text)
    if not match:
        raise ValueError(text)
    major, minor, patch, pre = match.groups()
    if pre is None:
        pre_key = (1,)
    else:
        parts = []
        for identifier in pre.split("."):
            if identifier.isdigit():
                parts.append((0, int(identifier), ""))
            else:
                parts.append((1, 0, identifier))
        pre_key = (0, tuple(parts))
    return (int(major), int(minor), int(patch), pre_key)


def compare(scheme, left, right):
    if scheme == "pep440":
        a, b = Version(left), Version(right)
    else:
        a, b = semver_key(left), semver_key(right)
    return (a > b) - (a < b)


def in_range(scheme, version, events):
    """OSV's evaluation: walk the sorted events and track whether the
    version is inside an affected interval."""
    def event_version(event):
        return next(iter(event.values()))

    def order(a, b):
        va, vb = event_version(a), event_version(b)
        if va == "0":
            return -1 if vb != "0" else 0
        if vb == "0":
            return 1
        return compare(scheme, va, vb)

    affected = False
    for event in sorted(events, key=cmp_to_key(order)):
        kind, value = next(iter(event.items()))
        if kind == "introduced":
            if value == "0" or compare(scheme, version, value) >= 0:
                affected = True
        elif kind == "fixed":
            if compare(scheme, version, value) >= 0:
                affected = False
        elif kind == "last_affected":
            if compare(scheme, version, value) > 0:
                affected = False
        elif kind == "limit":
            if compare(scheme, version, value) >= 0:
                affected = False
    return affected


def normalize(ecosystem, name):
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


def load_records(folders):
    for folder in folders:
        for root, _, files in os.walk(folder):
            for file in sorted(files):
                path = os.path.join(root, file)
                with open(path, encoding="utf-8") as handle:
                    if file.endswith(".json"):
                        yield json.load(handle)
                    elif file.endswith((".yaml", ".yml")):
                        yield yaml.safe_load(handle)


def sbom_packages(path):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    for component in document.get("components", []):
        purl = component.get("purl", "")
        match = re.match(r"^pkg:([a-z]+)/(.+)@([^?#]+)", purl)
        if not match or match.group(1) not in PURL_ECOSYSTEMS:
            continue
        purl_type, name, version = match.groups()
        ecosystem = PURL_ECOSYSTEMS[purl_type]
        yield purl.split("#")[0].split("?")[0], ecosystem, unquote(name), unquote(version)


def main():
    sbom, folders = sys.argv[1], sys.argv[2:]
    index = {}
    for record in load_records(folders):
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected", []):
            package = affected.get("package", {})
            key = (package.get("ecosystem"), normalize(package.get("ecosystem"), package.get("name", "")))
            index.setdefault(key, []).append((record["id"], affected))

    result = {}
    for purl, ecosystem, name, version in sbom_packages(sbom):
        scheme = "pep440" if ecosystem == "PyPI" else "semver"
        if ecosystem == "Go" and name == "stdlib":
            version = version.lstrip("v")
        ids = set()
        for record_id, affected in index.get((ecosystem, normalize(ecosystem, name)), []):
            listed = version in affected.get("versions", [])
            ranged = False
            for version_range in affected.get("ranges", []):
                if version_range.get("type") not in ("ECOSYSTEM", "SEMVER"):
                    continue
                try:
                    if in_range(scheme, version, version_range.get("events", [])):
                        ranged = True
                except (InvalidVersion, ValueError):
                    continue
            if listed or ranged:
                ids.add(record_id)
        result[purl] = sorted(ids)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
