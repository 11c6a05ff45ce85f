"""Issue 6 item 5 (session part): whatever status and headers a server sends (Link,
Location, Retry-After, ETag, Content-Type, X-Total-Count), a get and a list call of each
product raise only ``aiocamp.errors`` subclasses, never a bare exception or a hang.

Bodies stay the products' documented examples here: fuzzing bodies is the codecs' property
test (tests/test_fuzz_codecs.py). Run a longer search with
``HYPOTHESIS_PROFILE=nightly`` (see ``nox -s fuzz``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aiocamp import errors
from aiocamp.basecamp4 import Basecamp4
from aiocamp.core import MemoryLimiterBackend, RateLimit, RetryPolicy
from aiocamp.highrise import Highrise

from .helpers import FIXTURES, ThreadedServer

EXAMPLES = 500 if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else 60
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("HYPOTHESIS_PROFILE") != "nightly",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

BODIES = {
    "highrise-get": (FIXTURES / "highrise/people/get.response.xml").read_bytes(),
    "basecamp4-get": (FIXTURES / "basecamp4/projects/get.response.json").read_bytes(),
    "basecamp4-list": (FIXTURES / "basecamp4/projects/list.response.json").read_bytes(),
}
BODIES["highrise-list"] = b'<people type="array">' + BODIES["highrise-get"] + b"</people>"

# Header values a server can put on the wire: printable, no line breaks.
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
link = st.one_of(
    header_text,
    st.builds(lambda t: f'<{t}>; rel="next"', header_text),
    st.builds(
        lambda t, rel: f"<{t}>; rel={rel}, <>; rel=next",
        header_text,
        st.sampled_from(['"next"', "NEXT", '"prev next"', "nxt"]),
    ),
    st.sampled_from(
        ["<http://[::1>; rel=next", "<http://127.0.0.1:99999/x>; rel=next", '<//evil>; rel="next"']
    ),
)
location = st.one_of(
    header_text,
    st.sampled_from(["http://user:pw@127.0.0.1/x", "http://[::1", "//other.example/x", "/again"]),
)
retry_after = st.one_of(
    header_text,
    st.sampled_from(["999999999", "1e308", "-1", "nan", "inf", "Fri, 31 Dec 9999 23:59:59 GMT"]),
)
count = st.one_of(header_text, st.integers().map(str))
headers = st.fixed_dictionaries(
    {},
    optional={
        "Link": link,
        "Location": location,
        "Retry-After": retry_after,
        "ETag": header_text,
        "Content-Type": st.one_of(header_text, st.sampled_from(["application/json", "text/xml"])),
        "X-Total-Count": count,
        "X-Records": count,
        "X-Pages": count,
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "x"]),
    },
)
status = st.sampled_from([200, 201, 204, 301, 302, 303, 304, 307, 308, 400, 404, 429, 500, 503])


@st.composite
def replies(draw: st.DrawFn) -> tuple[int, dict[str, str]]:
    """A status with the header that status makes the client read, plus random others."""
    code = draw(status)
    extra = dict(draw(headers))
    if code in (301, 302, 303, 307, 308):
        extra["Location"] = draw(location)
    elif code in (429, 503):
        extra["Retry-After"] = draw(retry_after)
    elif code < 300 and draw(st.booleans()):
        extra["Link"] = draw(link)
    return code, extra


REPLY: dict[str, Any] = {}


async def handler(request: web.Request) -> web.Response:
    product = "highrise" if request.path.endswith(".xml") else "basecamp4"
    kind = "list" if request.path.endswith(("people.xml", "projects.json")) else "get"
    body = BODIES[f"{product}-{kind}"] if REPLY["status"] not in (204, 304) else b""
    return web.Response(status=REPLY["status"], headers=REPLY["headers"], body=body)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    with ThreadedServer(app) as server:
        yield server.url


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def clients(url: str) -> list[Any]:
    common: dict[str, Any] = {
        "base_url": url,
        "user_agent": "aiocamp-fuzz (dev@example.com)",
        "retry": RetryPolicy(max_retries=1, total_budget=2, backoff_max=0.01, max_retry_after=0.02),
        # The limiter runs (pauses included) with its windows scaled 1000x shorter.
        "rate_limit": RateLimit(backend=MemoryLimiterBackend(), time_scale=0.001),
        "timeout": 2,
    }
    return [Highrise(token="fuzz-token-1", **common), Basecamp4(access_token="fuzz-2", **common)]


async def exercise(url: str) -> None:
    for client in clients(url):
        async with client:
            resource = client.people if isinstance(client, Highrise) else client.projects
            for call in (lambda r=resource: r.get(1), lambda r=resource: _drain(r.list())):
                with contextlib.suppress(errors.AiocampError):
                    await asyncio.wait_for(call(), timeout=10)


async def _drain(iterator: Any) -> int:
    n = 0
    async for _ in iterator:
        n += 1
        if n > 1000:
            raise AssertionError("a listing did not end")
    return n


@FUZZ
@given(reply=replies())
# The reproducers always run; the search explores around them.
@example(reply=(302, {"Location": "http://[::1"}))
@example(reply=(301, {"Location": "http://user:pw@127.0.0.1/x"}))
@example(reply=(307, {"Location": "http://127.0.0.1:99999/x"}))
@example(reply=(200, {"Link": "<http://[::1>; rel=next"}))
@example(reply=(200, {"Link": "<>; rel=next"}))
@example(reply=(429, {"Retry-After": "1e308"}))
@example(reply=(503, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}))
@example(reply=(200, {"X-Total-Count": "-5", "X-Pages": str(10**23)}))
@example(reply=(200, {"Content-Encoding": "gzip"}))
def test_any_status_and_headers_raise_only_aiocamp_errors(
    server_url: str, loop: asyncio.AbstractEventLoop, reply: tuple[int, dict[str, str]]
) -> None:
    REPLY["status"], REPLY["headers"] = reply
    loop.run_until_complete(exercise(server_url))
