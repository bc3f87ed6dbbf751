"""Check that every endpoint of jupyterlab-compute-panel requires authentication.

With ``allow_unauthenticated_access=False``, Jupyter Server warns about every
extension handler method that lacks ``@web.authenticated`` (or an explicit
``@allow_unauthenticated`` / ``@ws_authenticated``). This script starts a server
app with only this extension enabled, records those warnings and fails if any of
them names one of OUR handlers. Other extensions' handlers (today
jupyter_server_terminals' TermSocket, when it is enabled) are reported but do
not fail the check.

It also fails when the extension's handlers were not registered at all, so that
a broken extension cannot pass by having nothing to complain about.

Run it with:

    python scripts/check_auth.py

Exit status: 0 when every endpoint requires authentication, 1 otherwise.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import tempfile
import warnings

EXTENSION = "jupyterlab_compute_panel"
URL_PREFIX = "/compute-panel/"
# "- GET of VersionHandler registered for /compute-panel/version"
_UNDECORATED = re.compile(r"^- (?P<method>\S+) of (?P<handler>\S+) registered for (?P<pattern>.*)$")


def our_handler_classes() -> dict[str, type]:
    """Every request handler class the extension defines, by name."""
    from tornado.web import RequestHandler

    from jupyterlab_compute_panel import rest
    from jupyterlab_compute_panel.rest import base, dashboard, grants, meta, reproduce, runs

    classes = {cls.__name__: cls for _, cls, *_ in rest.handlers()}
    for module in (base, meta, grants, runs, dashboard, reproduce):
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, RequestHandler) and obj.__module__.startswith(EXTENSION):
                classes[name] = obj
    return classes


def is_ours(handler: str, pattern: str, classes: dict[str, type]) -> bool:
    return handler in classes or URL_PREFIX in pattern or EXTENSION in pattern


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="compute-panel-check-auth-") as tmp:
        # A throwaway Jupyter environment: no user config, data or runtime files are read or written,
        # and only the extensions named below are enabled.
        for var, sub in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
        ):
            path = os.path.join(tmp, sub)
            os.makedirs(path)
            os.environ[var] = path
        os.environ["JUPYTER_NO_CONFIG"] = "1"

        from jupyter_server.serverapp import ServerApp
        from jupyter_server.utils import JupyterServerAuthWarning

        app = ServerApp(
            allow_unauthenticated_access=False,
            jpserver_extensions={EXTENSION: True},
            # Fail loudly if the extension cannot be loaded at all, rather than report nothing to complain about.
            reraise_server_extension_failures=True,
            root_dir=tmp,
            open_browser=False,
            allow_root=True,
        )
        app.config.ComputePanel.db_url = f"sqlite:///{os.path.join(tmp, 'ledger.sqlite')}"

        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            app.initialize(argv=[], find_extensions=False, new_httpserver=False)

        classes = our_handler_classes()
        registered = {
            rule.target.__name__
            for host_rule in app.web_app.default_router.rules
            for rule in getattr(host_rule.target, "rules", [])
            if isinstance(rule.target, type) and rule.target.__name__ in classes
        }
        error = app.web_app.settings.get("compute_panel_error")

    ours: list[str] = []
    others: list[str] = []
    for record in records:
        if not issubclass(record.category, JupyterServerAuthWarning):
            continue
        for line in str(record.message).splitlines():
            match = _UNDECORATED.match(line.strip())
            if match is None:
                continue
            if is_ours(match["handler"], match["pattern"], classes):
                ours.append(line.strip())
            else:
                others.append(line.strip())

    if others:
        print("Ignored (other extensions' endpoints without authentication):")
        print("\n".join(f"  {line}" for line in others))
    if error:
        print(f"Note: the extension is disabled in this check's empty environment: {error}")

    from jupyterlab_compute_panel import rest

    expected = {cls.__name__ for _, cls, *_ in rest.handlers()}
    missing = sorted(expected - registered)
    if missing:
        print(f"FAIL: {EXTENSION} did not register its handlers ({', '.join(missing)}); nothing was checked.")
        return 1
    if ours:
        print(f"FAIL: {EXTENSION} endpoints that do not require authentication:")
        print("\n".join(f"  {line}" for line in ours))
        print(
            "\nAdd @tornado.web.authenticated (then @authorized) to each verb listed above. If an endpoint must be"
            " public, say so with @allow_unauthenticated (or @ws_authenticated for a websocket) from"
            " jupyter_server.auth.decorator."
        )
        return 1
    print(f"All {len(registered)} endpoints of {EXTENSION} require authentication.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
