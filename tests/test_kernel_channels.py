"""A kernel's websocket whose client leaves before it opens (the race of issue 12, item 7).

jupyter_server prepares a kernel's websocket before accepting it: it waits for the
kernel's ``kernel_info`` reply. A client that closes the connection meanwhile (a
notebook that moved on, a browser that gave up) had tornado call ``on_close``, which
sets the handler's ``connection`` to None, and the accept that followed raised
``AttributeError: 'NoneType' object has no attribute 'kernel_ws_protocol'`` (a 500 in
the log). The embedded host's handler of the route stops there instead, and the kernel
takes the next connection as usual.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
import time

import pytest
from jupyter_client.session import Session, json_default
from servers import Server
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

SLOW_START_S = 3.0


def _install_slow_kernel(server: Server) -> str:
    """A python3 kernel that answers its first message only SLOW_START_S after its process starts."""
    spec = server.home / "data" / "kernels" / "slow-python3"
    spec.mkdir(parents=True, exist_ok=True)
    code = (
        f"import time; time.sleep({SLOW_START_S}); "
        "from ipykernel.kernelapp import launch_new_instance; launch_new_instance()"
    )
    argv = [sys.executable, "-c", code, "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Slow", "language": "python"}))
    return "slow-python3"


def _message(session: Session, msg_type: str, content: dict, channel: str) -> str:
    msg = session.msg(msg_type, content)
    msg["channel"] = channel
    msg["buffers"] = []
    return json.dumps(msg, default=json_default)


async def _connect(server: Server, kernel_id: str, session_id: str):
    request = HTTPRequest(
        f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?session_id={session_id}",
        headers={"Authorization": f"token {server.token}"},
        request_timeout=30,
    )
    return await websocket_connect(request)


async def _until(ws, predicate, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no such message from the kernel in time")
        raw = await asyncio.wait_for(ws.read_message(), left)
        if raw is None:
            raise AssertionError("the kernel's websocket closed")
        msg = json.loads(raw)
        if predicate(msg):
            return msg


def _abandoned_upgrade(server: Server, kernel_id: str) -> None:
    """Ask for the kernel's websocket, then close the connection while the server prepares it."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /api/kernels/{kernel_id}/channels?session_id=abandoned HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: v1.kernel.websocket.jupyter.org\r\n"
        f"Authorization: token {server.token}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request.encode())
        time.sleep(0.5)  # the server now waits for the new kernel's first kernel_info reply


@pytest.mark.slow
def test_a_client_that_leaves_before_the_websocket_opens_leaves_no_error(tmp_path):
    server = Server(tmp_path, {"db_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "owner": "alice"})
    name = _install_slow_kernel(server)
    server.start()
    try:
        status, kernel = server.request("POST", "/api/kernels", {"name": name})
        assert status == 201, kernel
        # The first websocket of a new kernel (a move's) waits for its first kernel_info reply:
        # this client leaves meanwhile.
        _abandoned_upgrade(server, kernel["id"])

        async def reconnect() -> None:
            session = Session(key=b"")
            ws = await _connect(server, kernel["id"], session.session)
            try:
                ws.write_message(_message(session, "kernel_info_request", {}, "shell"))
                reply = await _until(ws, lambda m: m["msg_type"] == "kernel_info_reply", 30)
                assert reply["content"]["status"] == "ok", reply
            finally:
                ws.close()

        asyncio.run(reconnect())  # the kernel takes the next connection and answers it
        time.sleep(0.5)
        log = server.log.read_text()
        assert "kernel_ws_protocol" not in log, log[-3000:]
        assert "Uncaught exception" not in log, log[-3000:]
        assert "left before its websocket opened" in log, log[-3000:]
    finally:
        server.close()
