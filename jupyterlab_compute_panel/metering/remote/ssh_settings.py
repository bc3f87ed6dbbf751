"""The settings of an SSH tier (its ``backend.config``) and how they are checked.

Checked when the catalog is read, so that a typo is a start-up error naming the tier and
the field, not a failed kernel; the provisioner (``ssh.py``) and the availability check
(``health.py``) use the checked settings.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROVISIONER_NAME = "compute-panel-ssh"


@dataclass(frozen=True)
class Host:
    address: str
    port: int = 22

    @property
    def label(self) -> str:
        return self.address if self.port == 22 else f"{self.address}:{self.port}"


@dataclass(frozen=True)
class SshSettings:
    """The checked ``backend.config`` of an SSH tier."""

    hosts: tuple[Host, ...]
    user: str
    key_file: str | None
    known_hosts: str
    python: str = "python3"
    kernel_cmd: tuple[str, ...] = ()
    cwd: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    max_kernels: int = 0
    tunnel: bool = True
    connect_timeout: float = 10.0
    launch_timeout: float = 60.0
    keepalive_interval: float = 5.0
    orphan_timeout: float = 30.0

    def argv(self) -> list[str]:
        if self.kernel_cmd:
            return list(self.kernel_cmd)
        return [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


FIELDS = (
    "hosts",
    "user",
    "key_file",
    "known_hosts",
    "python",
    "kernel_cmd",
    "cwd",
    "env",
    "max_kernels",
    "tunnel",
    "connect_timeout",
    "launch_timeout",
    "keepalive_interval",
    "orphan_timeout",
)


class SshConfigError(ValueError):
    """``backend.config.<field>: problem``; the catalog prefixes the tier."""


def parse_host(text: Any) -> Host:
    if not isinstance(text, str) or not text.strip() or any(c.isspace() for c in text.strip()):
        raise SshConfigError(f"hosts: each host must be 'name' or 'name:port', got {text!r}")
    text = text.strip()
    if text.startswith("["):  # [v6 address]:port
        address, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        address, port_text = text.split(":")
    else:
        address, port_text = text, ""
    port = 22
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SshConfigError(f"hosts: {text!r} has no valid port")
        port = int(port_text)
    return Host(address, port)


def parse_settings(config: Mapping[str, Any]) -> SshSettings:
    """Check an SSH tier's ``backend.config``; SshConfigError names the field."""
    unknown = sorted(set(config) - set(FIELDS))
    if unknown:
        raise SshConfigError(f"{unknown[0]}: is not a setting of {PROVISIONER_NAME} (known: {', '.join(FIELDS)})")
    hosts = config.get("hosts")
    if isinstance(hosts, str):
        hosts = [hosts]
    if not isinstance(hosts, (list, tuple)) or not hosts:
        raise SshConfigError("hosts: list at least one host ('name' or 'name:port')")
    parsed = tuple(parse_host(h) for h in hosts)
    if len(set(parsed)) != len(parsed):
        twice = next(h for i, h in enumerate(parsed) if h in parsed[:i])
        raise SshConfigError(f"hosts: a host is listed twice: {twice.label}; list each once")

    def text(name: str, default: str | None, required: bool = False) -> str | None:
        value = config.get(name, default)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise SshConfigError(f"{name}: must be a non-empty string, got {value!r}")
        return value.strip()

    def number(name: str, default: float, low: float, high: float) -> float:
        value = config.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise SshConfigError(f"{name}: must be a number of seconds between {low:g} and {high:g}, got {value!r}")
        return float(value)

    kernel_cmd = config.get("kernel_cmd") or ()
    if not isinstance(kernel_cmd, (list, tuple)) or not all(isinstance(a, str) for a in kernel_cmd):
        raise SshConfigError(f"kernel_cmd: must be a list of strings, got {kernel_cmd!r}")
    if kernel_cmd and not any("{connection_file}" in a for a in kernel_cmd):
        raise SshConfigError("kernel_cmd: must pass the kernel its connection file as {connection_file}")
    env = config.get("env") or {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise SshConfigError(f"env: must map names to strings, got {env!r}")
    max_kernels = config.get("max_kernels", 0)
    if isinstance(max_kernels, bool) or not isinstance(max_kernels, int) or max_kernels < 0:
        raise SshConfigError(f"max_kernels: must be a whole number (0: no limit), got {max_kernels!r}")
    tunnel = config.get("tunnel", True)
    if not isinstance(tunnel, bool):
        raise SshConfigError(f"tunnel: must be true or false, got {tunnel!r}")
    known_hosts = text("known_hosts", "~/.ssh/known_hosts", required=True)
    key_file = text("key_file", None)
    keepalive = number("keepalive_interval", 5.0, 1, 600)
    orphan = number("orphan_timeout", 30.0, 0, 86400)
    if orphan and orphan < 2 * keepalive:
        raise SshConfigError(
            f"orphan_timeout: must be 0 (off) or at least twice keepalive_interval ({2 * keepalive:g} s), got {orphan:g}"
        )
    return SshSettings(
        hosts=parsed,
        user=text("user", getpass.getuser(), required=True) or "",
        key_file=os.path.expanduser(key_file) if key_file else None,
        known_hosts=os.path.expanduser(known_hosts or ""),
        python=text("python", "python3", required=True) or "python3",
        kernel_cmd=tuple(kernel_cmd),
        cwd=config.get("cwd") or "",
        env=dict(env),
        max_kernels=max_kernels,
        tunnel=tunnel,
        connect_timeout=number("connect_timeout", 10.0, 0.5, 600),
        launch_timeout=number("launch_timeout", 60.0, 1, 3600),
        keepalive_interval=keepalive,
        orphan_timeout=orphan,
    )
