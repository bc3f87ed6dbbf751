"""A kernel's websocket whose client leaves before it opens: no 500, the kernel carries on.

jupyter_server (2.21) prepares a kernel's websocket before accepting it; the first
connection to a new kernel (a move's) waits there for the kernel's first
``kernel_info`` reply. A client that closes the connection meanwhile has tornado call
``on_close``, which sets the handler's ``connection`` to None, and the accept that
follows raises ``AttributeError: 'NoneType' object has no attribute
'kernel_ws_protocol'`` in ``select_subprotocol`` (an uncaught 500). This subclass,
mounted at the same route, stops once it sees that the client has left; everything else
is jupyter_server's own code. (docs/design-notes.md has the upstream report.)
"""

from __future__ import annotations

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler


class KernelChannelsHandler(KernelWebsocketHandler):
    """``GET /api/kernels/{id}/channels``, safe against a client gone while it is prepared."""

    @ws_authenticated
    async def get(self, kernel_id: str) -> None:
        self.kernel_id = kernel_id
        await self.pre_get()
        if self.connection is None:  # on_close ran while pre_get waited: nobody to accept
            self.log.info("The client of kernel %s left before its websocket opened.", kernel_id)
            return
        # What jupyter_server's own get does next: the websocket upgrade.
        await super(KernelWebsocketHandler, self).get(kernel_id=kernel_id)


_KERNEL_ID = r"(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)"
handlers = [(rf"/api/kernels/{_KERNEL_ID}/channels", KernelChannelsHandler)]
