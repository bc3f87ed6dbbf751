"""``/compute-panel/version`` (the handshake) and ``/compute-panel/tiers`` (the catalog)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..about import __version__
from .base import BaseHandler

API_VERSION = 1


class VersionHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        service = self.settings.get("compute_panel_service")
        self.reply(
            {
                "version": __version__,
                "api": API_VERSION,
                "owner": service.owner if service else None,
                "admin": service.is_admin if service else False,
                "catalog_error": self.settings.get("compute_panel_error"),
            }
        )


class TiersHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.query(())
        self.reply({"tiers": await self.service.tiers_json()})


handlers = [
    (r"/compute-panel/version", VersionHandler),
    (r"/compute-panel/tiers", TiersHandler),
]
