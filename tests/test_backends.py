"""Backend settings are checked when the catalog is read: one line naming tier and field."""

from __future__ import annotations

import pytest

from jupyterlab_compute_panel.domain.catalog import CatalogError, parse_catalog
from jupyterlab_compute_panel.hosts.app import installed_provisioners
from jupyterlab_compute_panel.metering.remote.ssh import Host, parse_host, parse_settings

KNOWN = installed_provisioners()


def tier(provisioner: str, config: dict) -> dict:
    return {
        "id": "node",
        "label": "Node",
        "price": {"per_hour": "0", "currency": "USD"},
        "reliability": "community",
        "backend": {"provisioner": provisioner, "config": config},
    }


def test_the_ssh_provisioner_is_installed():
    assert "compute-panel-ssh" in KNOWN


def test_ssh_settings_with_defaults():
    settings = parse_settings({"hosts": ["gpu1", "gpu2:2222"], "user": "kernels", "key_file": "/k"})
    assert settings.hosts == (Host("gpu1"), Host("gpu2", 2222))
    assert settings.tunnel and settings.max_kernels == 0 and settings.orphan_timeout == 30
    assert settings.known_hosts.endswith("/.ssh/known_hosts")
    assert settings.argv() == ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def test_hosts_in_every_form():
    assert parse_host("node") == Host("node", 22)
    assert parse_host("10.0.0.2:2200") == Host("10.0.0.2", 2200)
    assert parse_host("[fd00::2]:2200") == Host("fd00::2", 2200)
    assert parse_host("fd00::2") == Host("fd00::2", 22)


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ({}, "tier 'node': backend.config.hosts: list at least one host ('name' or 'name:port')"),
        (
            {"hosts": ["a"], "max_kernel": 2},
            "tier 'node': backend.config.max_kernel: is not a setting of compute-panel-ssh",
        ),
        ({"hosts": ["a b"]}, "tier 'node': backend.config.hosts: each host must be 'name' or 'name:port', got 'a b'"),
        ({"hosts": ["a:99999"]}, "tier 'node': backend.config.hosts: 'a:99999' has no valid port"),
        ({"hosts": ["a", "a"]}, "tier 'node': backend.config.hosts: a host is listed twice"),
        ({"hosts": ["a"], "max_kernels": -1}, "tier 'node': backend.config.max_kernels: must be a whole number"),
        ({"hosts": ["a"], "tunnel": "yes"}, "tier 'node': backend.config.tunnel: must be true or false, got 'yes'"),
        (
            {"hosts": ["a"], "kernel_cmd": ["python", "-m", "ipykernel"]},
            "tier 'node': backend.config.kernel_cmd: must pass the kernel its connection file as {connection_file}",
        ),
        (
            {"hosts": ["a"], "keepalive_interval": 10, "orphan_timeout": 15},
            "tier 'node': backend.config.orphan_timeout: must be 0 (off) or at least twice keepalive_interval (20 s), got 15",
        ),
        ({"hosts": ["a"], "env": {"A": 1}}, "tier 'node': backend.config.env: must map names to strings"),
    ],
)
def test_ssh_settings_errors_name_the_field(config, line):
    with pytest.raises(CatalogError) as error:
        parse_catalog([tier("compute-panel-ssh", config)], KNOWN)
    assert str(error.value).startswith(line)


def test_other_provisioners_get_only_their_own_settings():
    with pytest.raises(CatalogError) as error:
        parse_catalog([tier("local-provisioner", {"partition": "gpu"})], KNOWN)
    assert (
        str(error.value)
        == "tier 'node': backend.config.partition: is not a setting of local-provisioner (its settings: none)"
    )


def test_the_provisioner_has_the_settings_the_catalog_checks_and_refuses_alike():
    from jupyter_client.kernelspec import KernelSpec

    from jupyterlab_compute_panel.metering.remote.ssh import SshProvisioner
    from jupyterlab_compute_panel.metering.remote.ssh_settings import FIELDS, SshConfigError

    assert set(SshProvisioner.class_traits(config=True)) == set(FIELDS)
    spec = KernelSpec(argv=["python"], display_name="x", language="python")
    with pytest.raises(SshConfigError) as error:
        SshProvisioner(kernel_id="k", kernel_spec=spec, hosts=["a"], keepalive_interval=10, orphan_timeout=15)
    assert str(error.value) == "orphan_timeout: must be 0 (off) or at least twice keepalive_interval (20 s), got 15"
    with pytest.raises(SshConfigError, match=r"^hosts: list at least one host"):
        SshProvisioner(kernel_id="k", kernel_spec=spec)
