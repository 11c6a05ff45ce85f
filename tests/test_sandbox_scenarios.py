"""Per product, through the generated client over HTTP: every list endpoint to its end."""

from __future__ import annotations

import pytest

from aiocamp.sandbox import available_products, serve
from aiocamp.sandbox._app import gear
from aiocamp.sandbox._examples import SAMPLE, path_params
from aiocamp.sandbox._table import Paging

# every product whose generated package ships a table: new products are covered as they land
PRODUCTS = available_products()


#: What these settings must reach for the products whose data sizes we know.
MIN_LISTED = {"highrise": 1000, "basecamp4": 1000}
MIN_MULTI_PAGE = {"highrise": 2, "basecamp4": 2}


def expected_pages(paging: Paging | None, total: int) -> int:
    """Requests a client needs to list ``total`` records as the product pages them."""
    if paging is None or paging.style == "none":
        return 1
    if paging.style == "link":  # geared pages; the last one carries no next link
        pages = 1
        while gear(pages)[0] + gear(pages)[1] < total:
            pages += 1
        return pages
    if paging.style == "continued_at":  # the last page names no continuation
        return max(1, -(-total // (paging.page_size or 50)))
    return total // paging.page_size + 1  # offset/page: a short page ends the listing


@pytest.mark.parametrize("product", PRODUCTS)
async def test_client_lists_every_list_endpoint_to_the_end(product: str) -> None:
    # counts large enough that the first parent of each paged list spans several pages
    counts = {
        "basecamp4": {"Project": 200, "Todo": 150, "Person": 120},
        "harvest": {"Invoice": 120, "Client": 40},
    }.get(product)
    async with serve(product, scale=0.2, rate_limit="off", counts=counts) as sb:
        app = sb.app
        listed = 0
        multi_page: list[str] = []
        async with sb.client() as client:
            for route in app.schema.routes:
                if route.action != "list":
                    continue
                e = route.endpoint
                values = path_params(app, route, set())
                assert values is not None, e.key
                args = [values[name] for name in e.placeholders]
                kwargs = {q.name: SAMPLE.get(q.type.name, "x") for q in e.query if q.required}
                # a listing that sends a body (Backpack's POST /ws/pages/search with a term)
                body = e.body.params if e.body is not None else ()
                kwargs |= {b.name: SAMPLE.get(b.type.name, "x") for b in body if b.required}
                method = getattr(getattr(client, e.resource), e.name)
                it = method(*args, **kwargs)
                records = [r async for r in it]
                filters = app._filters(route, values)  # what the sandbox files them under
                # ... narrowed as the product documents for this endpoint (open cases...)
                expected = app.conv.list_filter(route, {}, app.listed(route.model, filters))
                if kwargs:
                    continue  # a required filter (e.g. recordings by type) narrows the list
                assert len(records) == len(expected), e.key
                if app.table.models[route.model].field("id") is not None:
                    assert [r.id for r in records] == [x["id"] for x in expected], e.key
                assert it.pages_fetched == expected_pages(e.paging, len(expected)), e.key
                if it.pages_fetched >= 3:
                    multi_page.append(e.key)
                listed += len(records)
        assert listed > MIN_LISTED.get(product, 100)
        assert len(multi_page) >= MIN_MULTI_PAGE.get(product, 0)
        assert sb.stats()["sandbox_errors"] == 0
