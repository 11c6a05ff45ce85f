"""Mutation kills for ``aiocamp.core._client`` (issue 7): the product a client is built
with, its repr, closing on ``async with`` exit, and what ``download`` passes on (the
record's ``download_url``, progress, resume), over loopback HTTP."""

from __future__ import annotations

import pytest
from aiohttp import web

from aiocamp.basecamp4 import Basecamp4
from aiocamp.basecamp4.models import Upload
from aiocamp.core import Request
from aiocamp.errors import ConfigError
from aiocamp.harvest import Harvest

from .test_download import PAYLOAD, TOKEN, Storage, client, start_pair

UA = "aiocamp-tests (dev@example.com)"


async def test_a_client_uses_its_own_product_and_closes_on_exit(serve) -> None:
    """Kills ``self.settings = None``, ``product or self.product`` -> ``and`` (a Harvest
    client built for XML would talk JSON), the ``__repr__`` mutants, and ``__aexit__`` /
    ``close`` not closing."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Accept", ""))
        return web.Response(
            body=b'<?xml version="1.0"?><client><id type="integer">4</id></client>',
            content_type="application/xml",
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    async with Harvest(
        base_url=base, access_token="tok", user_agent=UA, format="xml", rate_limit=None
    ) as hx:
        assert hx.session.product.format == "xml"
        assert hx.settings.base_url == base
        response = await hx.session.request(Request("GET", "/clients/4"))
        http = hx.session._http
        assert http is not None
        assert not http.closed
        assert repr(hx) == f"Harvest({base!r}, auth={hx.session.auth!r})"
    assert response.data == {"client": {"id": 4}}
    assert "xml" in seen[0]
    assert http.closed
    async with Harvest(base_url=base, access_token="tok", user_agent=UA) as hj:
        assert hj.session.product.format == "json"


async def test_download_takes_a_records_url_and_passes_progress_and_resume(serve, tmp_path) -> None:
    """Kills ``download`` reading the attribute without a default (an object without one
    raises AttributeError), ``or`` -> ``and`` (an empty URL fetched), ``progress=``
    and ``resume=`` not passed on (or passed as None), and the refusal's message."""
    storage = Storage()
    api_server, _, _ = await start_pair(serve, storage)
    url = f"http://127.0.0.1:{api_server.port}/999/buckets/1/uploads/2/download/logo.png"
    dest = tmp_path / "logo.png"
    (tmp_path / "logo.png.part").write_bytes(PAYLOAD[:1000])
    progress: list[int] = []
    async with client(api_server) as bc:
        resumed = await bc.download(
            Upload(download_url=url), dest, progress=lambda d, t: progress.append(d)
        )
        assert resumed.resumed_from == 1000
        assert storage.seen[-1]["Range"] == "bytes=1000-"
        assert progress[-1] == len(PAYLOAD)
        (tmp_path / "again.png.part").write_bytes(b"junk" * 10)
        fresh = await bc.download(url, tmp_path / "again.png", resume=False)
        assert fresh.resumed_from == 0
        assert "Range" not in storage.seen[-1]
        with pytest.raises(ConfigError) as info:
            await bc.download(Upload(), tmp_path / "none")
        assert str(info.value) == "nothing to download: Upload has no download_url"
        with pytest.raises(ConfigError):
            await bc.download("", tmp_path / "none")
        with pytest.raises(ConfigError) as info:
            await bc.download(object(), tmp_path / "none")
        assert str(info.value) == "nothing to download: object has no download_url"
    assert dest.read_bytes() == PAYLOAD
    assert (tmp_path / "again.png").read_bytes() == PAYLOAD
    assert TOKEN not in repr(bc)
    assert isinstance(bc, Basecamp4)
