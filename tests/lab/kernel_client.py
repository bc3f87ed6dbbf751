"""Run code in a kernel over its websocket, as JupyterLab does (Jupyter messaging, v5)."""

from __future__ import annotations

import asyncio
import json
import uuid

from tornado import httpclient, websocket


async def _execute(ws_url: str, token: str, code: str, timeout: float) -> str:
    request = httpclient.HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}, request_timeout=timeout)
    conn = await websocket.websocket_connect(request)
    msg_id = uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out: list[str] = []
    try:
        while True:
            raw = await asyncio.wait_for(conn.read_message(), timeout)
            if raw is None:
                raise AssertionError(f"the kernel's websocket closed: {''.join(out)}")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        conn.close()


def execute(base_url: str, kernel_id: str, token: str, code: str, timeout: float = 60) -> str:
    """``code``'s printed output (and any error as 'Name: value'), run in the kernel."""
    ws = base_url.replace("http://", "ws://", 1).rstrip("/")
    return asyncio.run(_execute(f"{ws}/api/kernels/{kernel_id}/channels", token, code, timeout))
