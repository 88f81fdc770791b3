"""Request limits enforced while the request is read, before it can do harm.

- `BodyLimit` (ASGI middleware): a body declared larger than the upload limit is refused
  before any of it is read; a body without a length (chunked) is counted as it arrives and
  refused the moment it passes the limit. The 413 closes the connection, so the server
  never reads the rest.
- `LimitedHTTPProtocol` (uvicorn's HTTP/1.1 protocol on httptools): a request line longer than
  `URL_LIMIT` gets 414 and a request head longer than `HEAD_LIMIT` gets 431, answered while
  the client is still sending rather than by resetting the connection.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

URL_LIMIT = 64 * 1024  # bytes of request line (method, URL, version): long queries go by POST
HEAD_LIMIT = URL_LIMIT + 64 * 1024  # bytes of request line and headers together
LINGER = 2.0  # seconds a refused client may go on sending before the connection is closed


class BodyTooLarge(HTTPException):
    """Raised by the counting receive: routes answer it as 413 (FastAPI passes HTTP errors on)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than this server's limit of {limit} bytes",
                         headers={"Connection": "close"})


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        size = 0
        started = False

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send, self.limit)


async def _too_large(send: Send, limit: int) -> None:
    body = f"the request body is larger than this server's limit of {limit} bytes\n".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LimitedHTTPProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools' C parser) with limits on the request head that
    answer instead of resetting."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the bytes arriving belong to a request head
        self._arrived = 0  # bytes received since this head began (not counting the chunk it began in)
        self._parsed = 0  # bytes of this head the parser has handed over (URL and headers)
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # a refused client still sending: its bytes are dropped until the connection closes
        if self._in_head:
            self._arrived += len(data)
        try:
            super().data_received(data)  # a refusal in a parser callback ends as a parser error there
            # A head still incomplete after all of these bytes: everything since it began is head.
            if self._in_head and self._arrived > HEAD_LIMIT:
                self._too_long_head()
        except _Refused:
            pass

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._arrived, self._parsed = True, 0, 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._parsed += len(url)
        if len(self.url) > URL_LIMIT:
            self._refuse(414, "URI Too Long", f"the request line is longer than this server's limit of "
                                              f"{URL_LIMIT} bytes: send a long SPARQL query by POST")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed += len(name) + len(value) + 4
        if self._parsed > HEAD_LIMIT:
            self._too_long_head()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _too_long_head(self) -> None:
        self._refuse(431, "Request Header Fields Too Large",
                     f"the request headers are longer than this server's limit of {HEAD_LIMIT} bytes")

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # the parser's error after a refusal: the answer is already on its way
            super().send_400_response(msg)

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._refused = True
        body = (message + "\n").encode()
        self.transport.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                             f"connection: close\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        # Closing now would reset the connection under a client still sending, and it would never
        # read the answer: close once it has had time to.
        asyncio.get_running_loop().call_later(LINGER, self.transport.close)
        raise _Refused  # stops the parser (from its callbacks); the rest of the request is dropped


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a refused request."""
