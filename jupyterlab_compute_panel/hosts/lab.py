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
  bus, and the front end's poll of ``/compute-panel/*`` keeps the panel current.
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import httpclient, web

GATEWAY_AWAY = (
    "The lab's compute gateway is not answering, so paid tiers, grants and spend are unavailable "
    "for now; Local CPU kernels in your own server still work."
)
# Headers of the gateway's answer that describe the body as sent (tornado sets its own).
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding", "server", "date"}

MIXER_CONFIG = {
    "kernel_spec_manager_class": "kernels_mixer.kernelspecs.MixingKernelSpecManager",
    "kernel_manager_class": "kernels_mixer.kernels.MixingMappingKernelManager",
    "session_manager_class": "jupyter_server.services.sessions.sessionmanager.SessionManager",
    "kernel_websocket_connection_class": "kernels_mixer.websockets.DelegatingWebsocketConnection",
}


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
        query = f"?{self.request.query}" if self.request.query else ""
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
        self.finish(response.body or b"")

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
