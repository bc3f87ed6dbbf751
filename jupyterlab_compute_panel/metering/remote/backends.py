"""Checks of a tier's ``backend.config`` when the catalog is read.

A typo in a backend setting must stop the server at start-up with one line naming the
tier and the field, not fail every kernel start later. Our SSH provisioner's settings
are checked in full by ``ssh_settings.SshSettings``, the traits the provisioner itself
has. Any other installed provisioner (the Kubernetes one of gateway_provisioners, a
Slurm one) is checked the way jupyter_client will use the config: every key must be a configurable trait of its class, and each
value must be accepted by that trait.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from ...domain.catalog import BackendProblem

GROUP = "jupyter_client.kernel_provisioners"


class BackendConfigError(BackendProblem):
    """A backend setting refused: ``path`` under the tier's ``backend`` and the problem."""


class InstalledProvisioners(tuple):
    """The names of the installed kernel provisioners, which can check a tier's backend
    config (what ``domain.catalog.parse_catalog`` asks of its ``known_provisioners``)."""

    @staticmethod
    def check(provisioner: str, config: Mapping[str, Any]) -> None:
        check_backend_config(provisioner, config)


def installed_provisioners() -> InstalledProvisioners:
    return InstalledProvisioners(sorted(ep.name for ep in entry_points(group=GROUP)))


def provisioner_class(name: str) -> type | None:
    for ep in entry_points(group=GROUP):
        if ep.name == name:
            return ep.load()
    return None


def check_backend_config(provisioner: str, config: Mapping[str, Any]) -> None:
    """Raise BackendConfigError for a config ``provisioner`` would refuse or ignore."""
    if provisioner == "local-provisioner" and not config:
        return
    from .ssh_settings import PROVISIONER_NAME, SshConfigError, SshSettings

    if provisioner == PROVISIONER_NAME:
        try:
            SshSettings.from_config(config)
        except SshConfigError as e:
            field, _, problem = str(e).partition(": ")
            raise BackendConfigError(f"config.{field}", problem) from None
        return
    try:
        cls = provisioner_class(provisioner)
    except Exception as e:  # noqa: BLE001 - a provisioner that cannot load is one line
        raise BackendConfigError(
            "provisioner", f"{provisioner!r} is installed but cannot be loaded ({_first_line(e)})"
        ) from None
    if cls is None:
        return  # not installed: the catalog says so itself
    traits = cls.class_traits(config=True)
    for key, value in config.items():
        trait = traits.get(key)
        if trait is None:
            known = ", ".join(sorted(traits)) or "none"
            raise BackendConfigError(f"config.{key}", f"is not a setting of {provisioner} (its settings: {known})")
        try:
            trait.validate(None, value) if _validates_without_owner(trait) else None
        except Exception as e:  # noqa: BLE001 - traitlets raises TraitError and friends
            raise BackendConfigError(
                f"config.{key}", f"{provisioner} does not accept {value!r} ({_first_line(e)})"
            ) from None


def _validates_without_owner(trait: Any) -> bool:
    # Container and Instance traits need an owner object to validate; scalars do not.
    from traitlets import Bool, Float, Int, Unicode

    return isinstance(trait, (Bool, Float, Int, Unicode))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
