"""Who may talk to the backend: loopback-only unless CURVE keys are used.

``s2t-backend keys DIR`` (:func:`make_keys`) writes a server key pair, a client key pair and
``DIR/authorized_clients/``. The server (:func:`curve_server`) encrypts and admits only
clients whose public key is in that folder; a client (:func:`curve_client`) needs the
server's public key and its own pair. Imports pyzmq only, so the client and the add-on can
use it.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator


class ConfigError(Exception):
    """A configuration the backend refuses to start with; the message says what to do."""


def is_loopback(endpoint: str) -> bool:
    """True for ``tcp://`` on a loopback address or ``localhost``, and for ``ipc://``/``inproc://``."""
    scheme, _, address = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # "*", an interface name or a host name
        return False


def check_bind(endpoint: str, curve: bool) -> None:
    """Refuse to serve beyond this machine without CURVE encryption and client keys."""
    if not curve and not is_loopback(endpoint):
        raise ConfigError(
            f"refusing to bind {endpoint} without CURVE: anyone who can reach it could run jobs and read "
            "results. Make keys with `s2t-backend keys KEYS_DIR` and start with `--curve-keys KEYS_DIR`, "
            "or bind tcp://127.0.0.1:PORT and tunnel (ssh -L)."
        )


def make_keys(folder: str | Path) -> dict[str, Path]:
    """Key pairs for a server and one client, and ``authorized_clients/`` holding the client's public key.

    The server needs ``server.key_secret`` and ``authorized_clients/``; a workstation needs
    ``server.key`` and ``client.key_secret``. More clients: add their public ``.key`` files
    to ``authorized_clients/``. Existing keys are never overwritten.
    """
    folder = Path(folder)
    if (folder / "server.key_secret").exists():
        raise ConfigError(f"{folder} already holds keys; remove them or choose another folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new folder is private; an existing one is the user's
    authorized = folder / "authorized_clients"
    mask = os.umask(0o077)  # secret keys are created 0600 (and folders 0700), never readable for a moment
    try:
        server_public, server_secret = zmq.auth.create_certificates(folder, "server")
        client_public, client_secret = zmq.auth.create_certificates(folder, "client")
        authorized.mkdir(mode=0o700, exist_ok=True)
        shutil.copy(client_public, authorized / "client.key")
    finally:
        os.umask(mask)
    os.chmod(authorized, 0o700)  # an existing folder too: it decides who may run jobs
    for public in (server_public, client_public, authorized / "client.key"):
        os.chmod(public, 0o644)
    return {"server_public": Path(server_public), "server_secret": Path(server_secret),
            "client_public": Path(client_public), "client_secret": Path(client_secret), "authorized": authorized}


def curve_server(context: zmq.Context, sock: zmq.Socket, keys: Path) -> ThreadAuthenticator:
    """Make ``sock`` a CURVE server admitting ``keys/authorized_clients/*.key``; stop the returned
    authenticator when the socket closes."""
    secret_file, authorized = keys / "server.key_secret", keys / "authorized_clients"
    if not secret_file.is_file() or not any(authorized.glob("*.key")):
        raise ConfigError(f"{keys} must hold server.key_secret and authorized_clients/*.key "
                          "(make them with `s2t-backend keys DIR`)")
    public, secret = zmq.auth.load_certificate(secret_file)
    authenticator = ThreadAuthenticator(context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=str(authorized))
    sock.curve_secretkey, sock.curve_publickey, sock.curve_server = secret, public, True
    return authenticator


def curve_client(sock: zmq.Socket, keys: Path) -> None:
    """Encrypt ``sock`` with ``keys/client.key_secret``, trusting ``keys/server.key``."""
    sock.curve_serverkey, _ = zmq.auth.load_certificate(keys / "server.key")
    sock.curve_publickey, sock.curve_secretkey = zmq.auth.load_certificate(keys / "client.key_secret")
