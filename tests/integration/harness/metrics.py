"""Scrapes /metrics over HTTP and parses the Prometheus text exposition format."""
import re
import urllib.request

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Scrape:
    """One scrape: samples keyed by (name, frozenset of (label, value))."""

    def __init__(self, text: str):
        self.text = text
        self.samples = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE.match(line)
            if not m:
                raise ValueError(f"unparseable exposition line: {line!r}")
            labels = frozenset(_LABEL.findall(m.group(3) or ""))
            self.samples[(m.group(1), labels)] = float(m.group(4))

    def value(self, name: str, **labels) -> float:
        """The sample with exactly these labels (0 when the series does not exist)."""
        return self.samples.get((name, frozenset((k, str(v)) for k, v in labels.items())), 0.0)

    def series(self, name: str):
        """{frozenset(labels): value} of every series of a family."""
        return {lab: v for (n, lab), v in self.samples.items() if n == name}

    def nonzero(self, name: str):
        return {lab: v for lab, v in self.series(name).items() if v != 0}

    def total(self, name: str, **match) -> float:
        want = {(k, str(v)) for k, v in match.items()}
        return sum(v for lab, v in self.series(name).items() if want <= lab)

    def series_count(self) -> int:
        return len(self.samples)


def scrape(port: int, host: str = "127.0.0.1") -> Scrape:
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as r:
        return Scrape(r.read().decode("utf-8"))


def labels(**kv) -> frozenset:
    return frozenset((k, str(v)) for k, v in kv.items())
