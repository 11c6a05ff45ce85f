"""The OAuth 2 authorization servers aiocamp knows, and which products each one serves.

Launchpad (``launchpad.37signals.com``) issues the tokens of Basecamp 4, Basecamp Classic,
Highrise and Backpack; Harvest runs its own server (``api.harvestapp.com`` for any account,
or an account's own host to limit the grant to that account).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from yarl import URL

from ..core._errors import ConfigError

__all__ = ["HARVEST", "LAUNCHPAD", "PRODUCT_PROVIDERS", "OAuthProvider", "provider_for"]


@dataclass(frozen=True)
class OAuthProvider:
    """Endpoints and quirks of one authorization server."""

    name: str
    authorize_url: str
    token_url: str
    #: Where a token's identity and accounts are listed (Launchpad's authorization.json).
    accounts_url: str | None = None
    #: Launchpad also takes the legacy ``type=web_server`` / ``type=refresh`` parameters;
    #: we send them beside the standard ones so older deployments understand the request.
    legacy_type: bool = False

    def at(self, origin: str) -> OAuthProvider:
        """The same server at another origin (a sandbox or a proxy), paths unchanged."""
        base = URL(origin)
        if base.scheme not in ("http", "https") or not base.host:
            raise ConfigError(f"not an http(s) origin: {origin!r}")

        def moved(url: str | None) -> str | None:
            if url is None:
                return None
            u = URL(url)
            return str(base.with_path(u.path).with_query(u.query))

        return replace(
            self,
            authorize_url=moved(self.authorize_url) or "",
            token_url=moved(self.token_url) or "",
            accounts_url=moved(self.accounts_url),
        )

    @property
    def origin(self) -> str:
        return str(URL(self.token_url).origin())


LAUNCHPAD = OAuthProvider(
    name="launchpad",
    authorize_url="https://launchpad.37signals.com/authorization/new",
    token_url="https://launchpad.37signals.com/authorization/token",  # noqa: S106 - a URL
    accounts_url="https://launchpad.37signals.com/authorization.json",
    legacy_type=True,
)

HARVEST = OAuthProvider(
    name="harvest",
    authorize_url="https://api.harvestapp.com/oauth2/authorize",
    token_url="https://api.harvestapp.com/oauth2/token",  # noqa: S106 - a URL
)

#: product -> (provider, the product's name in Launchpad's account list)
PRODUCT_PROVIDERS: dict[str, tuple[OAuthProvider, str]] = {
    "basecamp4": (LAUNCHPAD, "bc3"),
    "basecamp_classic": (LAUNCHPAD, "basecamp"),
    "highrise": (LAUNCHPAD, "highrise"),
    "backpack": (LAUNCHPAD, "backpack"),
    "harvest": (HARVEST, "harvest"),
}


def provider_for(product: str) -> tuple[OAuthProvider, str]:
    try:
        return PRODUCT_PROVIDERS[product]
    except KeyError:
        raise ConfigError(
            f"no OAuth 2 server for product {product!r}; one of {sorted(PRODUCT_PROVIDERS)}"
        ) from None
