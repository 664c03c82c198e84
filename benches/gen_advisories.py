#!/usr/bin/env python3
"""Generate a synthetic, OSV-shaped advisory set for benches/advisory-db.sh.

The output is JSON Lines: one advisory per line, compact. Every run with the
same --seed, --count and text corpus writes the same bytes.

Shape of the records (chosen to resemble the public OSV feeds):
- ids: GHSA, PYSEC, GO, RUSTSEC and CVE-style ids for language ecosystems;
  DEBIAN-CVE, ALPINE-CVE and UBUNTU-CVE ids for distro releases.
- 0 to 3 aliases (CVE and GHSA ids), sometimes `related` ids.
- 1 to 3 affected packages: one package in 1 to 3 releases of a distro, or
  1 to 3 packages of one language ecosystem. Package popularity is skewed, so
  popular packages collect thousands of advisories, as `linux` does in Debian.
- ECOSYSTEM or SEMVER ranges with 1 to 3 introduced/fixed pairs, and an
  explicit `versions` list on some records.
- summary and details text from an order-1 word Markov chain trained on the
  `summary` and `details` fields of the real OSV JSON records under
  --text-corpus, so the text has the vocabulary and word statistics of real
  advisories without copying them. Details lengths follow a log-normal
  distribution (median about 450 characters).
- CVSS v3.1 vectors on about half of the records, CWE ids, 1 to 6 references,
  about 1 % withdrawn records, and about 1 % records that repeat an earlier
  (source, id) with other packages, as the Debian tracker does.

--format osv writes OSV schema 1.6 JSON. --format advisory writes the
serde JSON of rampart's `Advisory` type, for harnesses that run without the
OSV importer.
"""

import argparse
import glob
import json
import math
import os
import random
import sys

LANGUAGE_ECOSYSTEMS = [
    # (OSV ecosystem, weight, package pool size, range type, id prefix)
    ("PyPI", 14, 60000, "ECOSYSTEM", "PYSEC"),
    ("npm", 18, 120000, "SEMVER", "GHSA"),
    ("Maven", 12, 50000, "ECOSYSTEM", "GHSA"),
    ("Go", 9, 30000, "SEMVER", "GO"),
    ("crates.io", 4, 12000, "SEMVER", "RUSTSEC"),
    ("RubyGems", 4, 12000, "ECOSYSTEM", "GHSA"),
    ("NuGet", 4, 12000, "ECOSYSTEM", "GHSA"),
    ("Packagist", 4, 12000, "ECOSYSTEM", "GHSA"),
]

DISTROS = [
    # (distro, weight, package pool size, releases as OSV spells them, id prefix)
    ("Debian", 14, 18000, ["Debian:10", "Debian:11", "Debian:12", "Debian:13"], "DEBIAN"),
    ("Ubuntu", 12, 18000, ["Ubuntu:20.04:LTS", "Ubuntu:22.04:LTS", "Ubuntu:24.04:LTS"], "UBUNTU"),
    ("Alpine", 5, 6000, ["Alpine:v3.18", "Alpine:v3.19", "Alpine:v3.20", "Alpine:v3.21"], "ALPINE"),
]

SYLLABLES = (
    "ac al an ar as at ba be bi bo ca ce ch ci co cr da de di do dr ed el en er es "
    "ex fa fe fi fl fo fr ga ge gi gl go gr ha he hi ho hu id im in io ir is ja ka "
    "ke ki la le li lo lu ma me mi mo mu na ne ni no nu ob oc od of ol om on op or "
    "os ot ou pa pe ph pi pl po pr pu qu ra re ri ro ru sa sc se sh si sl so sp st "
    "su ta te th ti to tr tu ul um un up ur us ut va ve vi vo wa we wi xa xe yo za ze"
).split()

CWES = ["CWE-79", "CWE-89", "CWE-20", "CWE-22", "CWE-78", "CWE-125", "CWE-787", "CWE-416",
        "CWE-476", "CWE-400", "CWE-502", "CWE-918", "CWE-352", "CWE-287", "CWE-770",
        "CWE-94", "CWE-190", "CWE-601", "CWE-1321", "CWE-444"]

REFERENCE_TYPES = ["ADVISORY", "WEB", "FIX", "PACKAGE", "REPORT", "ARTICLE"]

CVSS_METRICS = [
    ("AV", "NALP"), ("AC", "LH"), ("PR", "NLH"), ("UI", "NR"),
    ("S", "UC"), ("C", "NLH"), ("I", "NLH"), ("A", "NLH"),
]


class MarkovText:
    """An order-1 word Markov chain over real advisory text."""

    def __init__(self, texts):
        successors = {}
        starts = []
        for text in texts:
            words = text.split()
            if len(words) < 2:
                continue
            starts.append(words[0])
            for current, following in zip(words, words[1:]):
                successors.setdefault(current, []).append(following)
        if not starts:
            raise SystemExit("the text corpus contains no usable summary or details text")
        self.successors = successors
        self.starts = starts

    def words(self, rng, max_chars):
        word = rng.choice(self.starts)
        out = [word]
        length = len(word)
        while length < max_chars:
            following = self.successors.get(word)
            if not following:
                word = rng.choice(self.starts)
            else:
                word = following[int(rng.random() * len(following))]
            out.append(word)
            length += len(word) + 1
        return " ".join(out)


def load_texts(corpus):
    texts = []
    for path in sorted(glob.glob(os.path.join(corpus, "**", "*.json"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as file:
                record = json.load(file)
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict):
            continue
        for field in ("summary", "details"):
            value = record.get(field)
            if isinstance(value, str) and value.strip():
                texts.append(value)
    return texts


def package_pool(rng, size, style):
    names = []
    for index in range(size):
        parts = [rng.choice(SYLLABLES) + rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))]
        if style == "Maven":
            name = f"org.{parts[0]}:{'-'.join(parts)}-{index}"
        elif style == "Go":
            name = f"github.com/{parts[0]}/{'-'.join(parts)}{index}"
        elif style == "npm" and rng.random() < 0.3:
            name = f"@{parts[0]}/{'-'.join(parts)}{index}"
        elif style == "Packagist":
            name = f"{parts[0]}/{'-'.join(parts)}{index}"
        else:
            name = f"{'-'.join(parts)}{index}"
        names.append(name)
    return names


def skewed_index(rng, size):
    """Returns a package index; low indexes are far more popular."""
    return min(size - 1, int(size * rng.random() ** 3))


def version(rng, style):
    major, minor, patch = rng.randint(0, 12), rng.randint(0, 30), rng.randint(0, 20)
    if style == "Debian":
        return f"{major}.{minor}.{patch}-{rng.randint(1, 9)}+deb{rng.randint(10, 13)}u{rng.randint(1, 5)}"
    if style == "Ubuntu":
        return f"{major}.{minor}.{patch}-{rng.randint(1, 9)}ubuntu{rng.randint(1, 5)}.{rng.randint(1, 9)}"
    if style == "Alpine":
        return f"{major}.{minor}.{patch}-r{rng.randint(0, 9)}"
    return f"{major}.{minor}.{patch}"


def ranges(rng, range_type, style):
    events = []
    pairs = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]
    for pair in range(pairs):
        events.append({"introduced": "0" if pair == 0 and rng.random() < 0.5 else version(rng, style)})
        if pair < pairs - 1 or rng.random() < 0.9:
            events.append({"fixed": version(rng, style)})
    return [{"type": range_type, "events": events}]


def timestamp(rng, year_low, year_high):
    year = rng.randint(year_low, year_high)
    return (f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def ghsa(rng):
    alphabet = "23456789cfghjmpqrvwx"
    return "GHSA-" + "-".join("".join(rng.choice(alphabet) for _ in range(4)) for _ in range(3))


def cve(rng):
    return f"CVE-{rng.randint(2010, 2026)}-{rng.randint(1000, 59999)}"


def cvss_vector(rng):
    return "CVSS:3.1/" + "/".join(f"{name}:{rng.choice(values)}" for name, values in CVSS_METRICS)


def make_record(rng, number, text, pools):
    distro = rng.random() < sum(d[1] for d in DISTROS) / 100
    if distro:
        name, _, pool_size, releases, prefix = rng.choices(DISTROS, weights=[d[1] for d in DISTROS])[0]
        primary = cve(rng)
        record_id = f"{prefix}-{primary}" if prefix != "ALPINE" else f"ALPINE-{primary}"
        package = pools[name][skewed_index(rng, pool_size)]
        chosen = rng.sample(releases, rng.choices([1, 2, 3], weights=[45, 35, 20])[0])
        affected = [
            {"package": {"ecosystem": release, "name": package},
             "ranges": ranges(rng, "ECOSYSTEM", name)}
            for release in sorted(chosen)
        ]
        aliases = [primary]
    else:
        ecosystem, _, pool_size, range_type, prefix = rng.choices(
            LANGUAGE_ECOSYSTEMS, weights=[e[1] for e in LANGUAGE_ECOSYSTEMS])[0]
        if prefix == "GHSA":
            record_id = ghsa(rng)
        elif prefix == "RUSTSEC":
            record_id = f"RUSTSEC-{rng.randint(2016, 2026)}-{number % 10000:04d}"
        else:
            record_id = f"{prefix}-{rng.randint(2016, 2026)}-{number}"
        count = rng.choices([1, 2, 3], weights=[75, 18, 7])[0]
        packages = sorted({pools[ecosystem][skewed_index(rng, pool_size)] for _ in range(count)})
        affected = []
        for package in packages:
            entry = {"package": {"ecosystem": ecosystem, "name": package},
                     "ranges": ranges(rng, range_type, ecosystem)}
            if rng.random() < 0.15:
                entry["versions"] = [version(rng, ecosystem) for _ in range(rng.randint(1, 8))]
            affected.append(entry)
        aliases = []
        if rng.random() < 0.8:
            aliases.append(cve(rng))
        if prefix != "GHSA" and rng.random() < 0.6:
            aliases.append(ghsa(rng))
        if rng.random() < 0.1:
            aliases.append(cve(rng))

    published = timestamp(rng, 2014, 2025)
    record = {
        "schema_version": "1.6.0",
        "id": record_id,
        "modified": timestamp(rng, 2025, 2026),
        "published": published,
        "aliases": aliases,
    }
    if rng.random() < 0.05:
        record["related"] = [cve(rng) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.01:
        record["withdrawn"] = timestamp(rng, 2025, 2026)
    record["summary"] = text.words(rng, rng.randint(30, 110))
    details_chars = int(min(6000, max(40, rng.lognormvariate(math.log(450), 0.8))))
    record["details"] = text.words(rng, details_chars)
    if rng.random() < 0.5:
        record["severity"] = [{"type": "CVSS_V3", "score": cvss_vector(rng)}]
    record["affected"] = affected
    host = rng.choice(["github.com", "nvd.nist.gov", "security-tracker.debian.org", "ubuntu.com",
                       "security.alpinelinux.org", "lists.example.org", "bugzilla.redhat.com"])
    record["references"] = [
        {"type": rng.choice(REFERENCE_TYPES),
         "url": f"https://{host}/{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}/{rng.randint(1, 999999)}"}
        for _ in range(rng.randint(1, 6))
    ]
    record["database_specific"] = {
        "cwe_ids": rng.sample(CWES, rng.choices([0, 1, 2], weights=[30, 55, 15])[0]),
        "severity": rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"]),
    }
    return record


def osv_namespace(ecosystem):
    """Mirrors Namespace::from_osv_ecosystem for the ecosystems generated here."""
    parts = ecosystem.split(":")
    if len(parts) == 1:
        return ecosystem.lower()
    distro, release = parts[0].lower(), parts[1].lower()
    if distro == "alpine":
        release = release.removeprefix("v")
    return f"{distro}:{release}"


def pep503(name):
    out, separator = [], False
    for char in name:
        if char in "-_.":
            if not separator:
                out.append("-")
            separator = True
        else:
            out.append(char.lower())
            separator = False
    return "".join(out)


def to_advisory(record):
    """Converts an OSV record to the serde JSON of rampart's `Advisory`."""
    first = record["affected"][0]["package"]["ecosystem"]
    source = "osv:" + osv_namespace(first).split(":")[0]
    affected = []
    for entry in record["affected"]:
        namespace = osv_namespace(entry["package"]["ecosystem"])
        package = entry["package"]["name"]
        if namespace == "pypi":
            package = pep503(package)
        affected.append({
            "namespace": namespace,
            "package": package,
            "ranges": [
                {"range_type": "Semver" if r["type"] == "SEMVER" else "Ecosystem",
                 "events": [{"Introduced" if "introduced" in e else "Fixed": next(iter(e.values()))}
                            for e in r["events"]]}
                for r in entry["ranges"]
            ],
            "versions": entry.get("versions", []),
            "status": "Affected",
            "urgency": None,
            "severities": [],
        })
    severities = [
        {"source": source, "kind": "CvssV3", "vector": s["score"], "score": None, "rating": "Unknown"}
        for s in record.get("severity", [])
    ]
    return {
        "id": record["id"],
        "aliases": record["aliases"],
        "related": record.get("related", []),
        "source": source,
        "published": record["published"],
        "modified": record["modified"],
        "withdrawn": record.get("withdrawn"),
        "summary": record["summary"],
        "details": record["details"],
        "severities": severities,
        "cwes": record["database_specific"]["cwe_ids"],
        "affected": affected,
        "references": [{"kind": r["type"], "url": r["url"]} for r in record["references"]],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="number of records (default 1000000)")
    parser.add_argument("--seed", type=int, default=20261204, help="random seed (default 20261204)")
    parser.add_argument("--format", choices=["osv", "advisory"], default="osv",
                        help="osv: OSV schema JSON; advisory: serde JSON of rampart's Advisory")
    parser.add_argument("--text-corpus", required=True,
                        help="folder searched recursively for OSV JSON files whose text trains the Markov chain")
    parser.add_argument("--output", default="-", help="output file (default: stdout)")
    args = parser.parse_args()

    text = MarkovText(load_texts(args.text_corpus))
    rng = random.Random(args.seed)
    pools = {e[0]: package_pool(rng, e[2], e[0]) for e in LANGUAGE_ECOSYSTEMS}
    pools.update({d[0]: package_pool(rng, d[2], d[0]) for d in DISTROS})

    output = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    earlier = []
    with output:
        for number in range(args.count):
            if earlier and rng.random() < 0.01:
                # A second part of an earlier (source, id): same id and text,
                # other packages, as the Debian tracker lists a CVE per package.
                record = dict(rng.choice(earlier))
                other = make_record(rng, number, text, pools)
                if other["affected"][0]["package"]["ecosystem"].split(":")[0] == \
                        record["affected"][0]["package"]["ecosystem"].split(":")[0]:
                    record["affected"] = other["affected"]
                else:
                    record = other
            else:
                record = make_record(rng, number, text, pools)
            if len(earlier) < 10000:
                earlier.append(record)
            elif rng.random() < 0.01:
                earlier[rng.randrange(len(earlier))] = record
            line = record if args.format == "osv" else to_advisory(record)
            output.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
            output.write("\n")


if __name__ == "__main__":
    main()
