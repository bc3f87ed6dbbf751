"""Who is asking, from the Hub; what they may reach, from who launched each kernel.

Identity: the ``Authorization: token <user's Hub API token>`` header, checked with
JupyterHub's ``HubAuth`` against the service's access scope
(``access:services!service=<name>``). Nothing a client names (``KERNEL_USERNAME``, a
query string) is read. The user found becomes the metering core's acting user for
the rest of the request (``metering.identity``), so grant roles and the provisioner's
launching user are theirs. No token, an unknown one, or one without the access scope:
no user, which jupyter_server answers 403 on REST and refuses on the websocket.

Authorization: a kernel (``/api/kernels/{id}``, its actions and its ``channels``
websocket) is reachable only by the user who started it; the sessions API is not
offered (a user's own server keeps their sessions); ``/compute-panel/*`` is open to
every authenticated user, whose grant roles then decide what each route shows.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from jupyterhub.services.auth import HubAuth
from kernel_gateway.auth.identity import GatewayIdentityProvider
from traitlets import Instance, List, Unicode, default

from ...metering.identity import ACTING_ADMIN, ACTING_USER

OPEN_RESOURCES = frozenset({"compute_panel", "kernelspecs", "api"})


def token_of(handler: Any) -> str | None:
    header = handler.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


class HubIdentityProvider(GatewayIdentityProvider):
    """A request's user is the owner of the Hub API token it carries (and nobody else)."""

    service_name = Unicode(
        help="The gateway's service name in JupyterHub; a token must carry access:services!service=<name>."
    ).tag(config=True)
    admin_groups = List(
        Unicode(), help="Hub groups whose members administer every grant (as ComputePanel.admins)."
    ).tag(config=True)
    hub_auth = Instance(HubAuth)

    @default("hub_auth")
    def _default_hub_auth(self) -> HubAuth:
        auth = HubAuth(parent=self)
        if self.service_name:
            auth.access_scopes = {f"access:services!service={self.service_name}"}
        return auth

    @property
    def token(self) -> str:  # jupyter_server's own token login is off: the Hub's token decides
        return ""

    @property
    def auth_enabled(self) -> bool:
        return True

    async def get_user(self, handler: Any) -> User | None:
        token = token_of(handler)
        if token is None:
            return None
        try:
            model = await self.hub_auth.user_for_token(token, sync=False)
        except Exception:
            self.log.warning("compute-gateway: the Hub could not check a token", exc_info=True)
            return None
        if not model or model.get("kind", "user") != "user":
            return None
        if not self.hub_auth.check_scopes(self.hub_auth.access_scopes, model):
            return None
        name = model["name"]
        ACTING_USER.set(name)
        ACTING_ADMIN.set(bool(set(model.get("groups") or ()) & set(self.admin_groups)))
        return User(username=name, name=name)

    def validate_security(self, app: Any, ssl_options: Any = None) -> None:
        return None


class OwnerAuthorizer(Authorizer):
    """A kernel is reachable only by the user who started it."""

    def is_authorized(self, handler: Any, user: User, action: str, resource: str) -> bool:
        if resource in OPEN_RESOURCES:
            return True
        if resource != "kernels":
            return False  # sessions, contents, terminals: not offered by the gateway
        kernel_id = handler.path_kwargs.get("kernel_id")
        if kernel_id is None:
            return True  # the list (filtered to the user's own) and a start
        owners = getattr(handler.settings["kernel_manager"], "owners", {})
        return owners.get(kernel_id) == user.username
