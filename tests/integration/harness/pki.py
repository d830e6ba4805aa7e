"""A throw-away test CA with a server and a client certificate, made with the openssl CLI."""
import os
import subprocess


def _run(*args: str, cwd: str) -> None:
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class TestPki:
    def __init__(self, directory: str, server_name: str = "mx.mailsec.test"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca = os.path.join(directory, "ca.pem")
        self.server_cert = os.path.join(directory, "server.pem")
        self.server_key = os.path.join(directory, "server.key")
        self.client_cert = os.path.join(directory, "client.pem")
        self.client_key = os.path.join(directory, "client.key")
        d = directory
        _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "7", "-subj", "/CN=mailsec Test CA", cwd=d)
        for name, cn in (("server", server_name), ("client", "client.mailsec.test")):
            _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
            _run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey",
                 "ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "7", cwd=d)
        for key in ("ca.key", "server.key", "client.key"):
            os.chmod(os.path.join(d, key), 0o600)
