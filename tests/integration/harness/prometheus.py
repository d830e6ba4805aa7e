"""A private Prometheus server (Debian's /usr/bin/prometheus): its own config, rules and TSDB
under one directory, on a free loopback port, scraping every second."""
import json
import os
import shutil
import subprocess
import urllib.request

from .ports import free_port, wait_until

_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
{rule_files}
scrape_configs:
{jobs}
"""


class Prometheus:
    """`targets`: {job_name: "host:port"}; `rule_files`: paths copied into the directory."""

    BINARY = "/usr/bin/prometheus"

    def __init__(self, directory: str, targets: dict, rule_files: list[str]):
        self.dir = directory
        self.port = free_port()
        os.makedirs(os.path.join(directory, "data"), exist_ok=True)
        rules = []
        for path in rule_files:
            copy = os.path.join(directory, os.path.basename(path))
            shutil.copyfile(path, copy)
            rules.append(f"  - {copy}")
        jobs = "\n".join(f"  - job_name: {job}\n    static_configs:\n"
                         f"      - targets: [\"{target}\"]" for job, target in targets.items())
        self.config = os.path.join(directory, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(_CONFIG.format(rule_files="\n".join(rules) or "  []", jobs=jobs))
        self.log_path = os.path.join(directory, "prometheus.log")
        self.proc = None

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.BINARY, f"--config.file={self.config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1d"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready",
                                            timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(ready, timeout=30, interval=0.2, what="prometheus ready")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._log.close()

    def api(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/{path}",
                                    timeout=5) as r:
            body = json.loads(r.read().decode("utf-8"))
        if body.get("status") != "success":
            raise AssertionError(f"prometheus API {path}: {body}")
        return body["data"]

    def alerts(self) -> list[dict]:
        """The active alerts: [{labels, annotations, state, activeAt, value}]."""
        return self.api("alerts")["alerts"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query?query=" + urllib.request.quote(expr))["result"]

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()
