"""A small Highrise-shaped server for the export engine's tests (people -> notes -> comments).

The sandbox (aiocamp.sandbox) serves the whole API; this one is a few routes with exact,
countable data and programmable faults, so engine behaviour (paging, resume, retries,
exactly-once) can be checked precisely.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

TOKEN = "s3cret-tok3n-for-export-tests"
PEOPLE_PAGE = 500
NOTES_PAGE = 25

EMPTY = {
    "/companies.xml": "companies",
    "/deals.xml": "deals",
    "/kases/open.xml": "kases",
    "/kases/closed.xml": "kases",
}

Fault = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


def _person(i: int) -> str:
    return (
        f'<person><id type="integer">{i}</id><first-name>Ann {i}</first-name>'
        f"<last-name>Ünïcode &amp; Co</last-name>"
        f'<created-at type="datetime">2024-01-02T03:04:05Z</created-at>'
        f"<favourite-colour>teal</favourite-colour></person>"
    )


def _note(note_id: int, person: int, with_file: bool) -> str:
    files = ""
    if with_file:
        files = (
            f'<attachments type="array"><attachment><id type="integer">{note_id}</id>'
            f"<url>/files/{note_id}</url><name>report {note_id}.txt</name>"
            f'<size type="integer">12</size></attachment></attachments>'
        )
    return (
        f'<note><id type="integer">{note_id}</id><body>Note {note_id}</body>'
        f'<subject-id type="integer">{person}</subject-id><subject-type>Party</subject-type>'
        f"{files}</note>"
    )


def _comment(comment_id: int, note_id: int) -> str:
    return (
        f'<comment><id type="integer">{comment_id}</id>'
        f'<parent-id type="integer">{note_id}</parent-id><body>Re {note_id}</body></comment>'
    )


class MiniHighrise:
    """People (paged by 500), their notes (paged by 25) and the notes' comments.

    Person ``i`` has ``i % 3`` notes, except person 1 who has ``big_notes``; notes with an
    odd id have one comment. ``fault`` may answer any request instead of the handler.
    """

    def __init__(self, people: int = 520, big_notes: int = 60) -> None:
        self.people = people
        self.notes: dict[int, list[int]] = {}
        next_id = 1
        for person in range(1, people + 1):
            count = big_notes if person == 1 else person % 3
            self.notes[person] = list(range(next_id, next_id + count))
            next_id += count
        self.note_owner = {n: p for p, ns in self.notes.items() for n in ns}
        self.comments = {n: [n * 10] for n in self.note_owner if n % 2}
        self.hits: Counter[str] = Counter()
        self.since: list[str] = []
        self.fault: Fault | None = None
        self.inactive = False
        self.changed: set[int] = set()

    # -- expectations ----------------------------------------------------------------------

    @property
    def note_ids(self) -> list[int]:
        return sorted(self.note_owner)

    @property
    def comment_ids(self) -> list[int]:
        return sorted(c for cs in self.comments.values() for c in cs)

    # -- app ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/people.xml", self._people)
        app.router.add_get("/people/{id:\\d+}/notes.xml", self._notes)
        app.router.add_get("/people/{id:\\d+}/emails.xml", self._emails)
        # Companies, deals and cases lead to notes (hence comments) too: none here.
        for path, root in EMPTY.items():
            app.router.add_get(path, self._empty(root))
        app.router.add_get("/notes/{id:\\d+}/comments.xml", self._comments)
        app.router.add_get("/files/{id:\\d+}", self._file)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hits[request.path_qs] += 1
        expected = "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.Response(status=401, text="HTTP Basic: Access denied.")
        if self.inactive:
            return web.Response(status=404, headers={"Reason": "Account Inactive"})
        if self.fault is not None:
            answer = await self.fault(request)
            if answer is not None:
                return answer
        return await handler(request)

    def _xml(self, request: web.Request, body: str) -> web.Response:
        data = ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=data, content_type="application/xml", headers={"ETag": etag})

    async def _people(self, request: web.Request) -> web.Response:
        if "since" in request.query:
            self.since.append(request.query["since"])
        n = int(request.query.get("n", "0"))
        ids = range(n + 1, min(n + PEOPLE_PAGE, self.people) + 1)
        items = "".join(_person(i) for i in ids)
        return self._xml(request, f'<people type="array">{items}</people>')

    async def _notes(self, request: web.Request) -> web.Response:
        person = int(request.match_info["id"])
        if person not in self.notes:
            raise web.HTTPNotFound()
        n = int(request.query.get("n", "0"))
        ids = self.notes[person][n : n + NOTES_PAGE]
        items = "".join(_note(i, person, i in self.changed or i % 5 == 0) for i in ids)
        return self._xml(request, f'<notes type="array">{items}</notes>')

    def _empty(self, root: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return self._xml(request, f'<{root} type="array"></{root}>')

        return handler

    async def _emails(self, request: web.Request) -> web.Response:
        return self._xml(request, '<emails type="array"></emails>')

    async def _comments(self, request: web.Request) -> web.Response:
        note = int(request.match_info["id"])
        items = "".join(_comment(c, note) for c in self.comments.get(note, []))
        return self._xml(request, f'<comments type="array">{items}</comments>')

    async def _file(self, request: web.Request) -> web.Response:
        note = int(request.match_info["id"])
        return web.Response(body=f"file {note:07d}\n".encode(), content_type="text/plain")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, each parsed (a torn line fails the test)."""
    with path.open("rb") as f:
        return [json.loads(line) for line in f]


def ids_of(path: Path) -> list[int]:
    return sorted(record["id"] for record in read_jsonl(path))


async def truncated(request: web.Request) -> web.StreamResponse:
    """A 200 whose body stops half-way (Content-Length promises more)."""
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/xml"})
    response.content_length = 400
    await response.prepare(request)
    await response.write(b'<?xml version="1.0"?><people type="array"><person><id type="int')
    await asyncio.sleep(0)
    if request.transport is not None:
        request.transport.close()
    return response


async def dropped(request: web.Request) -> web.StreamResponse:
    """The connection closes before any reply."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)
