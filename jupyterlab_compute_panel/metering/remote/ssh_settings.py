"""The settings of an SSH tier (its ``backend.config``), declared once.

``SshSettings`` is a traitlets ``Configurable``: each setting is one trait, with its
default, its help and its check, and a refused value is one line, ``<setting>:
<problem>`` (``SshConfigError``; the catalog prefixes ``tier '<id>': backend.config.``).
Everything else derives from these traits:

- the provisioner (``ssh.SshProvisioner``) inherits them: jupyter_client hands it the
  tier's ``backend.config`` as traits, checked here;
- the catalog's backend check (``backends.py``) and the availability check
  (``health.py``) build the settings of a tier with ``SshSettings.from_config``, so that
  a typo is a start-up error naming the tier and the field, not a failed kernel.

To add a setting: one trait below, and its line in docs/configuration.md.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from traitlets import Bool, Dict, Float, Int, TraitError, TraitType, Unicode, default, validate
from traitlets.config import Configurable

PROVISIONER_NAME = "compute-panel-ssh"


class SshConfigError(TraitError, ValueError):
    """``<setting>: problem``; the catalog prefixes the tier."""


@dataclass(frozen=True)
class Host:
    address: str
    port: int = 22

    @property
    def label(self) -> str:
        return self.address if self.port == 22 else f"{self.address}:{self.port}"


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


# -- the kinds of setting: each checks (and normalizes) its value, and names itself in a refusal


def _refuse(trait: TraitType, problem: str) -> NoReturn:
    raise SshConfigError(f"{trait.name}: {problem}")


class Hosts(TraitType):
    """``name``, ``name:port`` or ``[v6 address]:port``, or a list of them: a tuple of Host."""

    default_value = ()
    info_text = "a list of hosts ('name' or 'name:port')"

    def validate(self, obj: Any, value: Any) -> tuple[Host, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not value:
            _refuse(self, "list at least one host ('name' or 'name:port')")
        hosts = tuple(h if isinstance(h, Host) else parse_host(h) for h in value)
        if len(set(hosts)) != len(hosts):
            twice = next(h for i, h in enumerate(hosts) if h in hosts[:i])
            _refuse(self, f"a host is listed twice: {twice.label}; list each once")
        return hosts


class Text(Unicode):
    """A non-empty string, stripped; with ``path``, ``~`` is expanded."""

    def __init__(self, default_value: Any = "", path: bool = False, **kwargs: Any) -> None:
        super().__init__(default_value, **kwargs)
        self.path = path

    def validate(self, obj: Any, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            _refuse(self, f"must be a non-empty string, got {value!r}")
        value = value.strip()
        return os.path.expanduser(value) if self.path else value


class Directory(Unicode):
    """A directory on the node, as given; empty (or none): the login's home."""

    def validate(self, obj: Any, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            _refuse(self, f"must be a directory on the node (a string), got {value!r}")
        return value


class Command(TraitType):
    """A kernel command: a list of strings that passes ``{connection_file}``; none: the default."""

    default_value = ()
    info_text = "a list of strings with {connection_file}"

    def validate(self, obj: Any, value: Any) -> tuple[str, ...]:
        value = value or ()
        if not isinstance(value, (list, tuple)) or not all(isinstance(a, str) for a in value):
            _refuse(self, f"must be a list of strings, got {value!r}")
        if value and not any("{connection_file}" in a for a in value):
            _refuse(self, "must pass the kernel its connection file as {connection_file}")
        return tuple(value)


class Environment(Dict):
    """Names mapped to strings; none: empty."""

    def validate(self, obj: Any, value: Any) -> dict[str, str]:
        value = value or {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            _refuse(self, f"must map names to strings, got {value!r}")
        return dict(value)


class Count(Int):
    """A whole number, 0 or more (0: no limit)."""

    def validate(self, obj: Any, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            _refuse(self, f"must be a whole number (0: no limit), got {value!r}")
        return value


class Flag(Bool):
    """``true`` or ``false``, nothing that merely looks like one."""

    def validate(self, obj: Any, value: Any) -> bool:
        if not isinstance(value, bool):
            _refuse(self, f"must be true or false, got {value!r}")
        return value


class Seconds(Float):
    """A number of seconds between ``min`` and ``max``."""

    def validate(self, obj: Any, value: Any) -> float:
        low, high = self.min, self.max
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            _refuse(self, f"must be a number of seconds between {low:g} and {high:g}, got {value!r}")
        return float(value)


# -- the settings --------------------------------------------------------------------


class SshSettings(Configurable):
    """The checked ``backend.config`` of an SSH tier; see the module docstring."""

    hosts = Hosts(help="Hosts that can run this tier's kernels: 'name' or 'name:port'.").tag(config=True)
    user = Text(help="Login on the hosts. Default: the server's user.").tag(config=True)
    key_file = Text(None, allow_none=True, path=True, help="Private key file of the login.").tag(config=True)
    known_hosts = Text("~/.ssh/known_hosts", path=True, help="known_hosts file with the hosts' keys.").tag(config=True)
    python = Text("python3", help="Python with ipykernel on the hosts.").tag(config=True)
    kernel_cmd = Command(help="Kernel command on the hosts, with {connection_file}.").tag(config=True)
    cwd = Directory("", help="Working directory on the host. Default: the login's home.").tag(config=True)
    env = Environment(help="Extra environment of the kernel on the host.").tag(config=True)
    max_kernels = Count(0, help="Kernels a host runs at most (0: no limit).").tag(config=True)
    tunnel = Flag(True, help="Reach the kernel's ports through the SSH connection.").tag(config=True)
    connect_timeout = Seconds(10.0, min=0.5, max=600, help="Seconds to reach a host.").tag(config=True)
    launch_timeout = Seconds(60.0, min=1, max=3600, help="Seconds for the agent to start the kernel.").tag(config=True)
    keepalive_interval = Seconds(5.0, min=1, max=600, help="Seconds between keepalives on the connection.").tag(
        config=True
    )
    orphan_timeout = Seconds(
        30.0, min=0, max=86400, help="Seconds of silence after which the node stops the kernel (0: never)."
    ).tag(config=True)

    @default("user")
    def _default_user(self) -> str:
        # A static default ('') would be refused as empty: a tier without `user` could
        # not start a kernel.
        return getpass.getuser()

    @validate("keepalive_interval", "orphan_timeout")
    def _orphan_timeout_outlasts_keepalives(self, proposal: Any) -> float:
        keepalive, orphan = self.keepalive_interval, self.orphan_timeout
        if proposal.trait.name == "keepalive_interval":
            keepalive = proposal.value
        else:
            orphan = proposal.value
        if orphan and orphan < 2 * keepalive:
            raise SshConfigError(
                "orphan_timeout: must be 0 (off) or at least twice keepalive_interval "
                f"({2 * keepalive:g} s), got {orphan:g}"
            )
        return proposal.value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not self.trait_has_value("hosts"):
            raise SshConfigError("hosts: list at least one host ('name' or 'name:port')")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SshSettings:
        """The checked settings of a tier's ``backend.config``; SshConfigError names the setting.

        Checked in the order the settings are declared, ``hosts`` first."""
        unknown = sorted(set(config) - set(FIELDS))
        if unknown:
            raise SshConfigError(f"{unknown[0]}: is not a setting of {PROVISIONER_NAME} (known: {', '.join(FIELDS)})")
        return cls(hosts=config.get("hosts"), **{name: config[name] for name in FIELDS[1:] if name in config})

    def argv(self) -> list[str]:
        if self.kernel_cmd:
            return list(self.kernel_cmd)
        return [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


# The settings' names, in the order they are declared (the order of the docs' table).
FIELDS = tuple(name for name, trait in vars(SshSettings).items() if isinstance(trait, TraitType))


def parse_settings(config: Mapping[str, Any]) -> SshSettings:
    """``SshSettings.from_config``: check an SSH tier's ``backend.config``."""
    return SshSettings.from_config(config)
