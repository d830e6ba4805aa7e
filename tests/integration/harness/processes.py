"""Starting and stopping mailsec daemons under test."""
import os
import signal
import subprocess

from .ports import wait_listening, wait_until


class Daemon:
    """A mailsec daemon run in the foreground, logging to a file; `listen_ports` are waited
    for after start."""

    def __init__(self, argv: list[str], log_path: str, listen_ports: list[int], *,
                 listen_paths: tuple[str, ...] = (), env: dict | None = None):
        """`listen_paths`: unix sockets to wait for (then made writable for Postfix's
        unprivileged processes); `env`: added to the environment."""
        self.argv = argv
        self.log_path = log_path
        self.listen_ports = listen_ports
        self.listen_paths = listen_paths
        self.env = env
        self.proc = None

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **self.env) if self.env else None)
        try:
            for port in self.listen_ports:
                wait_listening(port, timeout=15)
            for path in self.listen_paths:
                wait_until(lambda: os.path.exists(path), timeout=15, what=path)
                os.chmod(path, 0o666)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.argv[0]} did not start:\n{self.log()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=15)
        self._log.close()

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()


def build_dir() -> str:
    return os.environ.get("MAILSEC_BUILD_DIR", os.path.join(os.getcwd(), "build"))


def on_socket(argv: list[str], log_path: str, socket_spec: str, *, ports: tuple[int, ...] = (),
              env: dict | None = None) -> Daemon:
    """A daemon (any milter) listening on a libmilter socket spec, inet:PORT@HOST or
    unix:PATH, and on `ports`; started, and waited for on all of them."""
    if socket_spec.startswith("inet:"):
        d = Daemon(argv, log_path, [int(socket_spec[5:].split("@")[0]), *ports], env=env)
    else:
        d = Daemon(argv, log_path, list(ports), listen_paths=(socket_spec.split(":", 1)[1],),
                   env=env)
    d.start()
    return d


def sanitized() -> str:
    """The sanitizers the daemons under test were built with (MAILSEC_SANITIZE of the build
    directory's CMake cache), or "": memory figures mean nothing under ASan or TSan."""
    try:
        with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("MAILSEC_SANITIZE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def _daemon(name: str, workdir: str, port: int, metrics_port: int, config_text: str,
            config_name: str) -> Daemon:
    """mailsec-`name` from the build directory on 127.0.0.1:`port`, logging to NAME.log."""
    config = os.path.join(workdir, config_name)
    with open(config, "w") as f:
        f.write(config_text)
    binary = os.path.join(build_dir(), name, f"mailsec-{name}")
    return Daemon([binary, "--config", config, "--socket", f"inet:{port}@127.0.0.1",
                   "--metrics-listen", f"127.0.0.1:{metrics_port}", "--log-stderr"],
                  os.path.join(workdir, f"{name}.log"), [port, metrics_port])


def milter(workdir: str, milter_port: int, metrics_port: int, config_text: str) -> Daemon:
    return _daemon("milter", workdir, milter_port, metrics_port, config_text, "mailsec.yaml")


def policyd(workdir: str, policy_port: int, metrics_port: int, config_text: str) -> Daemon:
    """mailsec-policyd on 127.0.0.1:`policy_port`, /metrics on `metrics_port`."""
    return _daemon("policyd", workdir, policy_port, metrics_port, config_text, "policyd.yaml")
