"""Kubernetes tiers through gateway_provisioners: the configuration its provisioner receives.

No cluster runs here: these tests stop where the provisioner would talk to one. They
check that a tier's backend.config from the catalog reaches gateway_provisioners'
KubernetesProvisioner as its traits, through our metering provisioner and
jupyter_client's factory, exactly as a kernel start builds it; and that a mistyped
or ill-typed setting stops the catalog at start-up with one line.
"""

from __future__ import annotations

import pytest

from jupyterlab_compute_panel.domain.catalog import CatalogError, parse_catalog
from jupyterlab_compute_panel.hosts.app import installed_provisioners

K8S_CONFIG = {
    "image_name": "registry.example.org/lab/kernel-py-cuda:2026.11",
    "launch_timeout": 120,
    "port_range": "40000..41000",
}


def k8s_tier(config: dict) -> dict:
    return {
        "id": "a100-k8s",
        "label": "A100 (Kubernetes)",
        "reliability": "datacenter",
        "hardware": {"gpu": {"model": "NVIDIA A100 SXM", "count": 1, "memory_gb": 80}},
        "price": {"per_hour": "1.85", "currency": "USD", "source": "recharge rate FY2027", "date": "2026-07-01"},
        "backend": {"provisioner": "kubernetes-provisioner", "config": config},
    }


@pytest.fixture
def panel_config(db_url):
    local = {
        "id": "local-cpu",
        "label": "Local CPU",
        "reliability": "local",
        "price": {"per_hour": "0", "currency": "USD"},
    }
    return {"db_url": db_url, "owner": "alice", "capture_environment": False, "tiers": [local, k8s_tier(K8S_CONFIG)]}


def test_gateway_provisioners_kubernetes_is_installed_for_the_tests():
    assert "kubernetes-provisioner" in installed_provisioners()


def test_the_kubernetes_provisioner_receives_the_catalog_config(jp_serverapp, service):
    from gateway_provisioners.k8s import KubernetesProvisioner
    from jupyter_client.provisioning import KernelProvisionerFactory

    from jupyterlab_compute_panel.metering.provisioner import ComputePanelProvisioner

    spec = jp_serverapp.kernel_spec_manager.get_kernel_spec("compute-panel-a100-k8s-python3")
    assert spec.metadata["kernel_provisioner"] == {
        "provisioner_name": "compute-panel-provisioner",
        "config": {"tier": "a100-k8s", "base_kernel": "python3"},
    }
    km = jp_serverapp.kernel_manager.kernel_manager_factory(parent=jp_serverapp.kernel_manager)
    outer = KernelProvisionerFactory.instance(parent=km).create_provisioner_instance("k-1", spec, parent=km)
    assert isinstance(outer, ComputePanelProvisioner)
    inner = outer._make_inner(service.catalog.get("a100-k8s"))
    assert isinstance(inner, KubernetesProvisioner)
    assert inner.image_name == K8S_CONFIG["image_name"]
    assert inner.launch_timeout == 120
    assert inner.port_range == "40000..41000"
    assert inner.kernel_id == "k-1" and inner.parent is km


@pytest.mark.parametrize(
    ("config", "line"),
    [
        (
            {"image": "x"},
            "tier 'a100-k8s': backend.config.image: is not a setting of kubernetes-provisioner (its settings: ",
        ),
        (
            {"launch_timeout": "soon"},
            "tier 'a100-k8s': backend.config.launch_timeout: kubernetes-provisioner does not accept 'soon' (",
        ),
    ],
)
def test_a_bad_kubernetes_setting_stops_the_catalog(config, line):
    with pytest.raises(CatalogError) as error:
        parse_catalog([k8s_tier(config)], installed_provisioners())
    assert str(error.value).startswith(line)
    if "image:" in line:
        assert "image_name" in str(error.value)
