"""The kernel websocket of a user's server in lab mode (needs kernels-mixer).

kernels-mixer's ``DelegatingWebsocketConnection`` hands a local kernel's websocket to
jupyter_server's ZMQ connection and a gateway kernel's to the gateway connection, but
tells the browser, for both, to speak the newest kernel protocol
(``v1.kernel.websocket.jupyter.org``, binary frames). The gateway connection relays frames
as they come, in the legacy JSON protocol, so the gateway could not read a single message
from JupyterLab ("Expecting value: line 1 column 1"): the kernel stayed "Unknown". This
connection offers the browser the protocol of its delegate: the newest one for a local
kernel, the legacy one for a gateway kernel.
"""

from __future__ import annotations

from kernels_mixer.websockets import DelegatingWebsocketConnection


class LabWebsocketConnection(DelegatingWebsocketConnection):
    @property  # type: ignore[override]
    def kernel_ws_protocol(self) -> str | None:
        return self.delegate.kernel_ws_protocol
