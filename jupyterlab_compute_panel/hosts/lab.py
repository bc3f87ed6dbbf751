"""Lab mode: the user's server under JupyterHub, where the lab's compute gateway meters.

In lab mode (``c.ComputePanel.lab_mode = True`` with jupyter_server's gateway client
configured, ``c.GatewayClient.url``) the user's server builds no metering service and holds
no ledger URL, node key or catalog. Instead:

- its ``/compute-panel/*`` routes are a proxy to the gateway's, sent with the user's own Hub
  token (``JUPYTERHUB_API_TOKEN``): every method, body, status code and JSON error passes
  through; a gateway that is away is a 503 with one sentence saying so;
- its kernels are mixed (kernels-mixer): Local CPU and the other local kernelspecs stay in
  the user's server with the user's files, the paid tiers are the gateway's kernels;
- server events (runs, budgets) are the gateway's: they do not reach this server's event
  bus, and the front end's poll of ``/compute-panel/*`` keeps the panel current;
- a restart of a gateway kernel that the gateway refuses (a restart is a new start) is
  this server's 403 (503 when a part is away) with the gateway's sentence, as in the
  embedded host, not jupyter_server's 500 "Exception restarting kernel".
"""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.services.sessions.sessionmanager import SessionManager
from tornado import httpclient, web

from ..errors import LaunchRefused, LaunchUnavailable
from .sessions import REFUSED

GATEWAY_AWAY = (
    "The lab's compute gateway is not answering, so paid tiers, grants and spend are unavailable "
    "for now; Local CPU kernels in your own server still work."
)
# Headers of the gateway's answer that describe the body as sent (tornado sets its own).
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding", "server", "date"}

MIXER_CONFIG = {
    "kernel_spec_manager_class": "kernels_mixer.kernelspecs.MixingKernelSpecManager",
    "kernel_manager_class": "kernels_mixer.kernels.MixingMappingKernelManager",
    "session_manager_class": "jupyterlab_compute_panel.hosts.lab.LabSessionManager",
    "kernel_websocket_connection_class": "jupyterlab_compute_panel.hosts.lab_websocket.LabWebsocketConnection",
}


# What a user's server sends the gateway with a kernel start (besides KERNEL_*, which the
# gateway drops): the notebook, as the user's bindings name it.
NOTEBOOK_ENV = "COMPUTE_PANEL_NOTEBOOK"
GATEWAY_CLIENT_CONFIG = {"allowed_envs": NOTEBOOK_ENV}


class LabSessionManager(SessionManager):
    """Sessions whose kernels learn their notebook's path as the contents API names it.

    jupyter_server tells a kernel its notebook as an absolute path of this server
    (``JPY_SESSION_NAME``), which means nothing on the gateway; the user's grant bindings
    name notebooks relative to the user's root, so that path travels as
    ``COMPUTE_PANEL_NOTEBOOK`` (``GatewayClient.allowed_envs``).
    """

    def get_kernel_env(self, path: str | None, name: Any = None) -> dict[str, str]:
        env = super().get_kernel_env(path, name)
        root = os.path.realpath(getattr(self.contents_manager, "root_dir", "") or os.getcwd())
        real = os.path.realpath(env["JPY_SESSION_NAME"])
        if real.startswith(root + os.sep):
            env[NOTEBOOK_ENV] = os.path.relpath(real, root).replace(os.sep, "/")
        else:
            env.pop(NOTEBOOK_ENV, None)
        return env


_MARK = "_compute_panel"


def gateway_refusal(error: Exception) -> LaunchRefused | None:
    """The refusal in an error of jupyter_server's gateway client, if the gateway refused.

    The client raises ``web.HTTPError(code, "Error from Gateway: [%s] %s. ...", message,
    reason)`` with the gateway's JSON ``message`` and ``reason`` as its arguments; a
    refused start is ``reason`` ``refused`` (403) or ``unavailable`` (503).
    """
    if not isinstance(error, web.HTTPError) or error.status_code not in (403, 503):
        return None
    args = error.args
    if len(args) != 2 or not isinstance(args[0], str) or args[1] not in ("refused", "unavailable"):
        return None
    return (LaunchUnavailable if args[1] == "unavailable" else LaunchRefused)(args[0])


def attach_refusals(kernel_manager: Any) -> None:
    """Record the gateway's refusal of a restart for this server's restart route (``sessions.py``)."""
    restart = getattr(kernel_manager, "restart_kernel", None)
    if restart is None or getattr(restart, _MARK, False):
        return

    @functools.wraps(restart)
    async def restart_kernel(*args: Any, **kwargs: Any) -> Any:
        try:
            return await restart(*args, **kwargs)
        except Exception as e:
            refusal = gateway_refusal(e)
            if refusal is not None:
                REFUSED.set(refusal)
            raise

    setattr(restart_kernel, _MARK, True)
    kernel_manager.restart_kernel = restart_kernel


_KERNEL_PATH = re.compile(r"^kernels/([^/]+)(/.*)?$")
LOCAL_DESCRIPTION = "The CPU of your own server, beside your files. Free, and not metered by the lab's gateway."


def local_tier(kernelspecs: list[str], running: int) -> dict[str, Any]:
    """This server's own Local CPU, as ``GET /compute-panel/tiers`` describes a tier: the
    demo catalog's free local tier, on this server's own kernelspecs."""
    from ..domain.catalog import DEMO_CATALOG, read_catalog_file

    tier = read_catalog_file(DEMO_CATALOG).get("local-cpu")
    assert tier is not None
    return {
        "id": tier.id,
        "label": tier.label,
        "description": LOCAL_DESCRIPTION,
        "hardware": tier.hardware.to_json(),
        "price": {**tier.price_json(), "source": "Runs in your own server; no charge."},
        "free": True,
        "reliability": tier.reliability,
        "simulated": False,
        "sensitive_data_allowed": tier.sensitive_data_allowed,
        "idle_timeout_s": None,
        "backend": {"provisioner": tier.backend.provisioner},
        "kernelspecs": {name: name for name in kernelspecs},
        "running": running,
        "availability": None,
        "price_list": None,
    }


def with_local_tier(body: bytes, kernelspecs: list[str], running: int) -> bytes:
    """The gateway's tiers with this server's Local CPU first: the gateway offers paid tiers
    only (a tier on its own machine would run students' code beside its secrets), and Local
    CPU stays in the user's own server, with the user's files."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    tiers = data.get("tiers") if isinstance(data, dict) else None
    if not isinstance(tiers, list) or not kernelspecs or any(t.get("reliability") == "local" for t in tiers):
        return body
    data["tiers"] = [local_tier(kernelspecs, running), *tiers]
    return json.dumps(data).encode()


def gateway_kernel_ids(kernel_manager: Any) -> dict[str, str]:
    """This server's kernels that run on the gateway: this server's kernel id -> the gateway's.

    kernels-mixer registers every kernel under an id of this server (the one JupyterLab
    knows) and keeps the gateway's own id of a remote kernel beside it; the gateway's
    ledger knows the gateway's. The proxy translates between the two.
    """
    ids: dict[str, str] = {}
    for local_id, km in list(getattr(kernel_manager, "_kernels", {}).items()):
        delegate = getattr(km, "delegate_kernel_id", None) if getattr(km, "is_remote", False) else None
        if delegate:
            ids[local_id] = delegate
    return ids


def to_gateway(path: str, query: str, ids: dict[str, str]) -> tuple[str, str]:
    """The path and query of a ``/compute-panel/*`` call with this server's kernel ids as the gateway's."""
    found = _KERNEL_PATH.match(path)
    if found and unquote(found.group(1)) in ids:
        path = f"kernels/{quote(ids[unquote(found.group(1))], safe='')}{found.group(2) or ''}"
    if "kernel=" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, ids.get(v, v) if k == "kernel" else v) for k, v in pairs])
    return path, query


def from_gateway(body: bytes, ids: dict[str, str]) -> bytes:
    """The gateway's JSON answer with its kernel ids of this server's kernels as this server's."""
    back = {gateway: local for local, gateway in ids.items()}
    if not back or not any(gateway.encode() in body for gateway in back):
        return body

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: back.get(v, v) if k == "kernel_id" and isinstance(v, str) else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    try:
        return json.dumps(walk(json.loads(body))).encode()
    except ValueError:
        return body


def gateway_url(serverapp: Any) -> str | None:
    """The gateway's base URL from jupyter_server's gateway client, or None when unset."""
    gateway = getattr(serverapp, "gateway_config", None)
    url = getattr(gateway, "url", None) if gateway is not None else None
    return url.rstrip("/") if url else None


def not_configured(serverapp: Any) -> str | None:
    """One sentence naming what lab mode lacks in this server's settings, or None."""
    if not gateway_url(serverapp):
        return (
            "lab mode (ComputePanel.lab_mode) needs the lab's compute gateway in GatewayClient.url "
            "(docs/deployment.md, JupyterHub)"
        )
    if not user_token():
        return (
            "lab mode needs the user's Hub token (JUPYTERHUB_API_TOKEN) to reach the compute gateway: "
            "start this server from JupyterHub"
        )
    return None


def user_token() -> str | None:
    return os.environ.get("JUPYTERHUB_API_TOKEN") or None


class GatewayProxyHandler(ExtensionHandlerMixin, APIHandler):
    """``/compute-panel/*`` answered by the gateway with this user's Hub token."""

    auth_resource = "compute_panel"

    async def _forward(self, path: str) -> None:
        base = self.settings["compute_panel_gateway_url"]
        ids = gateway_kernel_ids(self.kernel_manager)
        path, query = to_gateway(path, self.request.query, ids)
        query = f"?{query}" if query else ""
        headers = {"Authorization": f"token {user_token()}", "Accept": self.request.headers.get("Accept", "*/*")}
        content_type = self.request.headers.get("Content-Type")
        if content_type:
            headers["Content-Type"] = content_type
        # The browser's cookies and XSRF token are this server's: checked here, never forwarded.
        has_body = self.request.method in ("POST", "PUT", "PATCH")
        request = httpclient.HTTPRequest(
            f"{base}/compute-panel/{path}{query}",
            method=self.request.method,
            headers=headers,
            body=self.request.body if has_body else None,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            request_timeout=self.settings.get("compute_panel_gateway_timeout", 60.0),
            validate_cert=True,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, httpclient.HTTPClientError):
            response = None
        if response is None or response.code == 599:
            self.log.warning("compute-panel: the gateway at %s did not answer %s", base, self.request.uri)
            self.set_status(503)
            self.set_header("Content-Type", "application/json")
            self.finish({"message": GATEWAY_AWAY, "field": None})
            return
        self.set_status(response.code, response.reason)
        for name, value in response.headers.get_all():
            if name.lower() not in _HOP_HEADERS:
                self.set_header(name, value)
        if response.code in (204, 304):
            self.finish()
            return
        body = response.body or b""
        if "json" in (response.headers.get("Content-Type") or ""):
            body = from_gateway(body, ids)
            if path == "tiers" and self.request.method == "GET" and response.code == 200:
                body = with_local_tier(body, *self._local_kernels())
        self.finish(body)

    def _local_kernels(self) -> tuple[list[str], int]:
        """This server's own kernelspecs (kernels-mixer's local ones) and its running local kernels."""
        specs = self.kernel_spec_manager
        local = getattr(specs, "local_manager", specs)
        names = sorted(local.find_kernel_specs())
        remote = set(gateway_kernel_ids(self.kernel_manager))
        running = sum(1 for kid in getattr(self.kernel_manager, "_kernels", {}) if kid not in remote)
        return names, running

    @web.authenticated
    async def get(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def post(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def put(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def patch(self, path: str) -> None:
        await self._forward(path)

    @web.authenticated
    async def delete(self, path: str) -> None:
        await self._forward(path)


handlers = [(r"/compute-panel/(.*)", GatewayProxyHandler)]
