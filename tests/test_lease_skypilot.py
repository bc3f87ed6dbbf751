"""The SkyPilot lease provider at its boundary: SkyPilot's SDK answers replayed.

SkyPilot is an optional extra, not installed here, and no cloud is reachable: the adapter
is given an SDK object that records each call and answers it from SkyPilot's recorded
answers (tests/fixtures/skypilot/), or raises the error SkyPilot raises (its exception
classes by name). What is checked: the calls made (autostop and down on every launch,
the cluster named by the tag, the infra and accelerators asked for), the offers and their
exact prices, the states read back, and each error as one sentence.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from jupyterlab_compute_panel.metering.remote.leasing.provider import ProviderError, ProviderUnavailable
from jupyterlab_compute_panel.metering.remote.leasing.skypilot import SkyPilotProvider

FIXTURES = Path(__file__).parent / "fixtures" / "skypilot"


def recorded(name: str):
    return json.loads((FIXTURES / name).read_text())


# SkyPilot's own exception classes, by name (sky.exceptions).
class ResourcesUnavailableError(Exception):
    pass


class CloudUserIdentityError(Exception):
    pass


class ApiServerConnectionError(Exception):
    pass


class ClusterDoesNotExist(Exception):
    pass


class RecordedSky:
    """SkyPilot's SDK surface the adapter uses, answering from recordings: each call
    returns a request id; ``get`` returns the recorded answer or raises the error."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple, dict]] = []
        self._requests: dict[str, object] = {}
        self.launch_gate = None  # an Event the launch waits on (a node still booting)

    def _request(self, name: str, args: tuple, kwargs: dict) -> str:
        self.calls.append((name, args, kwargs))
        request_id = f"req-{len(self.calls)}"
        self._requests[request_id] = self.answers.get(name)
        return request_id

    def list_accelerators(self, *args, **kwargs):
        return self._request("list_accelerators", args, kwargs)

    def launch(self, *args, **kwargs):
        return self._request("launch", args, kwargs)

    def status(self, *args, **kwargs):
        return self._request("status", args, kwargs)

    def down(self, *args, **kwargs):
        return self._request("down", args, kwargs)

    def get(self, request_id: str):
        answer = self._requests[request_id]
        if self.calls[int(request_id.split("-")[1]) - 1][0] == "launch" and self.launch_gate is not None:
            self.launch_gate.wait(10)
        if isinstance(answer, Exception):
            raise answer
        return answer

    class Task:
        def __init__(self, **kwargs) -> None:
            self.kwargs = kwargs
            self.resources = None

        def set_resources(self, resources) -> None:
            self.resources = resources

    class Resources:
        def __init__(self, **kwargs) -> None:
            self.kwargs = kwargs


def provider(answers: dict, **config) -> tuple[SkyPilotProvider, RecordedSky]:
    sky = RecordedSky(answers)
    return SkyPilotProvider({"infra": "aws/us-east-1", **config}, sdk=sky), sky


async def test_offers_are_the_catalogs_prices_exactly_for_the_count_and_region():
    p, sky = provider({"list_accelerators": recorded("list_accelerators-H100-aws.json")})
    offers = await p.offers("H100")
    assert [(o.machine_type, o.region, o.price_micros_per_hour) for o in offers] == [
        ("p5.4xlarge", "us-east-1", 6_880_000)
    ]
    assert offers[0].provider == "skypilot:aws" and offers[0].currency == "USD"
    name, _, kwargs = sky.calls[0]
    assert name == "list_accelerators"
    assert kwargs["name_filter"] == "H100" and kwargs["clouds"] == "aws"

    p, _ = provider({"list_accelerators": recorded("list_accelerators-Trainium-aws.json")})
    (trn1,) = await p.offers("Trainium")
    assert (trn1.machine_type, trn1.price_micros_per_hour) == ("trn1.2xlarge", 1_343_750)


async def test_every_launch_has_autostop_and_down_and_is_named_by_its_tag():
    p, sky = provider(
        {
            "list_accelerators": recorded("list_accelerators-H100-aws.json"),
            "launch": (1, None),
            "status": recorded("status-up.json"),
        }
    )
    (offer,) = await p.offers("H100")
    node = await p.lease(offer, "cp-lab1-l0001", autostop_minutes=15)
    assert node.state == "booting" and node.provider_id == "cp-lab1-l0001"
    await asyncio.sleep(0.05)
    while not p._launches["cp-lab1-l0001"].done():
        await asyncio.sleep(0.01)
    _, (task,), kwargs = next(c for c in sky.calls if c[0] == "launch")
    assert kwargs == {
        "cluster_name": "cp-lab1-l0001",
        "idle_minutes_to_autostop": 15,
        "down": True,
        "retry_until_up": False,
    }
    assert task.resources.kwargs == {
        "infra": "aws/us-east-1",
        "accelerators": {"H100": 1},
        "instance_type": "p5.4xlarge",
    }

    ready = await p.status("cp-lab1-l0001")
    assert (ready.state, ready.address, ready.ssh_user, ready.ssh_port) == ("ready", "203.0.113.17", "ubuntu", 22)
    assert ready.offer == offer and ready.started_at.isoformat() == "2025-12-05T08:40:00+00:00"

    with pytest.raises(ProviderError, match="autostop"):
        await p.lease(offer, "cp-lab1-l0003", autostop_minutes=0)
    with pytest.raises(ProviderError, match="not a SkyPilot cluster name"):
        await p.lease(offer, "CP_Lab1", autostop_minutes=15)


async def test_a_node_still_booting_then_one_the_provider_refused():
    import threading

    p, sky = provider(
        {
            "list_accelerators": recorded("list_accelerators-H100-aws.json"),
            "launch": ResourcesUnavailableError(
                "us-east-1a: InsufficientInstanceCapacity for p5.4xlarge (account 123456789012)"
            ),
        }
    )
    sky.launch_gate = threading.Event()
    (offer,) = await p.offers("H100")
    await p.lease(offer, "cp-lab1-l0004", autostop_minutes=15)
    assert (await p.status("cp-lab1-l0004")).state == "booting"
    sky.launch_gate.set()
    while not p._launches["cp-lab1-l0004"].done():
        await asyncio.sleep(0.01)
    with pytest.raises(ProviderError) as refused:
        await p.status("cp-lab1-l0004")
    # One sentence, without SkyPilot's message (which names the account and the zone).
    assert (
        refused.value.sentence
        == "aws/us-east-1 has no node of this kind free now (capacity or quota); try again later."
    )


@pytest.mark.parametrize(
    ("error", "kind", "sentence"),
    [
        (
            CloudUserIdentityError("AWS credentials for arn:aws:iam::123:user/x expired"),
            ProviderError,
            "refused the server's credentials",
        ),
        (
            ApiServerConnectionError("http://127.0.0.1:46580 refused"),
            ProviderUnavailable,
            "The SkyPilot API server cannot be reached",
        ),
        (RuntimeError("boom"), ProviderError, "SkyPilot could not list the offers on aws/us-east-1 (RuntimeError)."),
    ],
)
async def test_errors_are_sentences_without_hosts_or_accounts(error, kind, sentence):
    p, _ = provider({"list_accelerators": error})
    with pytest.raises(kind) as raised:
        await p.offers("H100")
    assert sentence in raised.value.sentence
    assert "127.0.0.1" not in raised.value.sentence and "arn:" not in raised.value.sentence


async def test_release_is_down_and_a_gone_cluster_counts_as_released():
    p, sky = provider({"down": None})
    await p.release("cp-lab1-l0001")
    assert sky.calls[-1] == ("down", ("cp-lab1-l0001",), {})
    p, _ = provider({"down": ClusterDoesNotExist("cp-lab1-l0001")})
    await p.release("cp-lab1-l0001")  # no error
    p, _ = provider({"down": ApiServerConnectionError("refused")})
    with pytest.raises(ProviderUnavailable):
        await p.release("cp-lab1-l0001")


async def test_tagged_lists_only_the_servers_clusters_for_reconcile():
    p, _ = provider({"status": recorded("status-up.json")})
    nodes = await p.tagged("cp-lab1-")
    assert [(n.provider_id, n.state, n.address) for n in nodes] == [
        ("cp-lab1-l0001", "ready", "203.0.113.17"),
        ("cp-lab1-l0002", "booting", None),
    ]


def test_settings_are_checked():
    with pytest.raises(ProviderError, match="needs infra"):
        SkyPilotProvider({}, sdk=RecordedSky({}))
    with pytest.raises(ProviderError, match="no setting 'zone'"):
        SkyPilotProvider({"infra": "aws", "zone": "a"}, sdk=RecordedSky({}))


async def test_without_skypilot_installed_the_sentence_says_what_to_install():
    p = SkyPilotProvider({"infra": "runpod"})
    try:
        import sky  # noqa: F401
    except ImportError:
        with pytest.raises(ProviderError, match=r"install jupyterlab-compute-panel\[skypilot\]"):
            await p.offers("H100")
    else:
        pytest.skip("SkyPilot is installed here")
