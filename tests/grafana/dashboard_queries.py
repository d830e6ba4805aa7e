"""Reads mailsec's Grafana dashboards and the metric contract: every panel query (with Grafana's
variables replaced for a plain Prometheus), every metric selector in it, and docs/metrics.md's
generated table as {metric: {label: allowed values}}. Shared by test_dashboard_names.py (unit)
and tests/integration/test_dashboards.py."""
import glob
import json
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DASHBOARDS = os.path.join(ROOT, "packaging", "grafana", "dashboards")
METRICS_MD = os.path.join(ROOT, "docs", "metrics.md")

# Labels Prometheus adds to every scraped series (not in the catalogue).
TARGET_LABELS = {"instance", "job"}
# Histogram series names and the family they belong to.
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def contract(path: str = METRICS_MD) -> dict:
    """{metric: {"type": str, "labels": {label: set(values)}}} from the generated table."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"<!-- BEGIN GENERATED: mailsec-metrics-doc -->(.*)<!-- END GENERATED -->",
                  text, re.S)
    if not m:
        raise AssertionError(f"{path}: no generated table")
    out = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`mailsec_"):
            continue
        labels = {}
        if cells[2] != "—":
            for part in cells[2].split("<br>"):
                name, _, values = part.partition(":")
                labels[name.strip().strip("`")] = set(re.findall(r"`([^`]*)`", values))
        out[cells[0].strip("`")] = {"type": cells[1], "labels": labels}
    return out


def panels():
    """[(dashboard file, panel title, [expr])] of every panel with queries."""
    out = []
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "*.json"))):
        with open(path) as f:
            board = json.load(f)
        for p in board.get("panels", []):
            exprs = [t["expr"] for t in p.get("targets", []) if t.get("expr")]
            if exprs:
                out.append((os.path.basename(path), p["title"], exprs))
    return out


def for_prometheus(expr: str, range_: str = "10m", rate_interval: str = "30s") -> str:
    """The query Grafana would send with instance = All."""
    return (expr.replace("$__range", range_).replace("$__rate_interval", rate_interval)
            .replace('"$instance"', '".*"'))


_SELECTOR = re.compile(r"\b(mailsec_[a-z0-9_]+)\s*(\{([^}]*)\})?")
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def family(name: str, known: dict) -> str:
    if name in known:
        return name
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return name[: -len(suffix)]
    return name


def problems(expr: str, known: dict) -> list[str]:
    """What in `expr` is not in the contract: unknown metrics, labels a metric does not have,
    label values outside a label's closed set (regex alternations of plain words are checked
    word by word), grouping labels no selected metric has."""
    found = []
    selected_labels = set(TARGET_LABELS)
    for m in _SELECTOR.finditer(expr):
        name = family(m.group(1), known)
        if name not in known:
            found.append(f"unknown metric {m.group(1)}")
            continue
        labels = known[name]["labels"]
        selected_labels |= set(labels)
        if known[name]["type"] == "histogram":
            selected_labels.add("le")
        for label, op, value in _MATCHER.findall(m.group(3) or ""):
            if label in TARGET_LABELS:
                continue
            if label not in labels:
                found.append(f"{name} has no label {label}")
                continue
            allowed = labels[label]
            values = value.split("|") if "~" in op else [value]
            for v in values:
                if not re.fullmatch(r"[A-Za-z0-9_.\-]+", v):
                    found.append(f"{name}{{{label}{op}\"{value}\"}}: not a list of plain values")
                elif v not in allowed:
                    found.append(f"{name}: {label}=\"{v}\" is not one of {sorted(allowed)}")
    for m in _BY.finditer(expr):
        for label in (x.strip() for x in m.group(1).split(",") if x.strip()):
            if label not in selected_labels:
                found.append(f"grouping by {label}, which no selected metric has")
    return found
