"""SPARQL queries at /sparql answered by a remote engine (`caregraph serve --backend sparql+http://...`).

Stands in for the worker pool of sparql_workers.py when the graph lives in a SPARQL 1.1
server shared by several API replicas: each query is forwarded to the engine's query
endpoint, with this server's limits kept. The query was already checked by make_job (no
SERVICE but those allowed); the time limit bounds the wait for the engine's answer and its
whole transfer; a result larger than the byte limit is cut with the same marker the workers
write; relative IRIs resolve against this server's /sparql, sent as a BASE declaration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx

from caregraph.api.sparql_output import FORMATS, cut_marker
from caregraph.api.sparql_workers import Execution, Job, QueryFailed, answers_ask

# The format key of each media type an engine may answer with, so a cut result ends with the right marker.
_BY_MEDIA_TYPE = {f.media_type.split(";")[0]: key for key, f in FORMATS.items()}
_FIRST_PART = 65536  # as the worker pool: smaller answers go out whole, with their length


class RemotePool:
    """The worker pool's interface (start, stop, execute, probe) over a remote SPARQL endpoint."""

    def __init__(self, query_url: str, *, timeout: float, result_limit: int) -> None:
        self.query_url, self.timeout, self.result_limit = query_url, timeout, result_limit
        self.killed = 0  # queries stopped at the time limit (reported by /health)
        self._client: httpx.AsyncClient | None = None

    @property
    def workers(self) -> int:
        return 0  # queries run in the engine, not in processes of this server

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout),
                                         limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def execute(self, job: Job) -> Execution:
        """Send the query; returns once the engine's head and first output (or all of it) are in."""
        if self._client is None:
            raise QueryFailed(503, "the server is starting or stopping; try again")
        deadline = asyncio.get_running_loop().time() + self.timeout
        form = [("query", f"BASE <{job.base_iri}>\n{job.query}" if job.base_iri else job.query)]
        form += [("default-graph-uri", g) for g in job.default_graphs]
        form += [("named-graph-uri", g) for g in job.named_graphs]
        headers = {"Content-Type": "application/x-www-form-urlencoded"} | ({"Accept": job.accept} if job.accept else {})
        request = self._client.build_request("POST", self.query_url, content=urlencode(form), headers=headers)
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
                if response.status_code != 200:
                    text = (await response.aread()).decode("utf-8", "replace")[:1000].strip()
                    await response.aclose()
                    status = response.status_code if response.status_code in (400, 406, 415) else 502
                    raise QueryFailed(status, f"the SPARQL engine answered {response.status_code}: {text}")
                media_type = response.headers.get("content-type", "application/octet-stream")
                fmt = _BY_MEDIA_TYPE.get(media_type.split(";")[0].strip(), "")
                chunks = response.aiter_raw()
                body: list[bytes] = []
                collected = 0
                async for chunk in chunks:
                    body.append(chunk)
                    collected += len(chunk)
                    if collected >= _FIRST_PART:
                        break
                else:
                    await response.aclose()
                    return Execution(media_type, fmt, body, True)
        except TimeoutError:
            if response is not None:
                await response.aclose()
            self.killed += 1
            raise QueryFailed(503, f"the query ran past this server's time limit of {self.timeout:g} s "
                                   "and was stopped; simplify it or add a LIMIT") from None
        except httpx.TransportError as exc:
            if response is not None:
                await response.aclose()
            raise QueryFailed(502, f"the SPARQL engine could not be reached: {exc or type(exc).__name__}") from None
        return Execution(media_type, fmt, body, False, self._rest(response, chunks, fmt, collected, deadline))

    async def _rest(self, response: httpx.Response, chunks: AsyncIterator[bytes], fmt: str, sent: int,
                    deadline: float) -> AsyncIterator[bytes]:
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(chunks, None)
                except TimeoutError:
                    self.killed += 1
                    yield cut_marker(fmt, f"the query ran past this server's time limit of {self.timeout:g} s "
                                          "and was stopped; the result was cut")
                    return
                except httpx.TransportError:
                    yield cut_marker(fmt, "the SPARQL engine stopped while sending the result; the result was cut")
                    return
                if chunk is None:
                    return
                if sent + len(chunk) > self.result_limit:
                    yield cut_marker(fmt, f"the result passed this server's limit of {self.result_limit} bytes "
                                          "and was cut")
                    return
                sent += len(chunk)
                yield chunk
        finally:
            await response.aclose()

    async def probe(self) -> str | None:
        """Why a query cannot be answered now, or None when the engine answered a trivial one."""
        return await answers_ask(self.execute, "the SPARQL engine gave a wrong answer to ASK {}")
