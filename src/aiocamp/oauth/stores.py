"""Where grants live between runs, and the lock that keeps two processes from spending the
same refresh token.

A store maps a key (the authorization server's name, e.g. ``launchpad``) to a
:class:`~aiocamp.oauth.tokens.Grant`. ``lock(key)`` is held across "read the grant, refresh
it, write it back": whoever waited on it re-reads the grant and finds it already renewed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import stat
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..core._errors import AuthError
from .tokens import Grant

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "FileTokenStore",
    "MemoryTokenStore",
    "RedisTokenStore",
    "TokenStore",
    "default_token_path",
]

log = logging.getLogger("aiocamp.oauth")

#: How long a process waits for another one's refresh before giving up.
LOCK_TIMEOUT = 30.0
_LOCK_POLL = 0.01


class TokenStore(Protocol):
    """A pluggable grant store. A ``location`` attribute (a string naming where the grants
    live), when present, keeps the clients' cache keys apart per store."""

    async def load(self, key: str) -> Grant | None: ...

    async def save(self, key: str, grant: Grant) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def keys(self) -> list[str]: ...

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]: ...


def default_token_path() -> Path:
    """``$AIOCAMP_TOKEN_FILE``, else ``$XDG_CONFIG_HOME/aiocamp/tokens.json`` (``~/.config``)."""
    explicit = os.environ.get("AIOCAMP_TOKEN_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aiocamp" / "tokens.json"


class MemoryTokenStore:
    """Grants in this process only (tests, or tokens your app keeps elsewhere)."""

    def __init__(self, grants: dict[str, Grant] | None = None) -> None:
        self._grants = dict(grants or {})
        self.location = f"memory:{id(self)}"
        self._locks: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={sorted(self._grants)!r})"

    async def load(self, key: str) -> Grant | None:
        return self._grants.get(key)

    async def save(self, key: str, grant: Grant) -> None:
        self._grants[key] = grant

    async def delete(self, key: str) -> None:
        self._grants.pop(key, None)

    async def keys(self) -> list[str]:
        return sorted(self._grants)

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        loop = asyncio.get_running_loop()
        held = self._locks.get(key)
        if held is None or held[0] is not loop:
            held = self._locks[key] = (loop, asyncio.Lock())
        return held[1]


class FileTokenStore:
    """A JSON file readable by its owner only (0600, in a 0700 directory when we create it).

    Writes go to a temporary file in the same directory, fsynced, then renamed over the old
    one, so a reader never sees half a file. A sidecar ``<file>.lock`` carries an exclusive
    ``flock`` between processes (POSIX); within a process an asyncio lock does the same.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, lock_timeout: float = LOCK_TIMEOUT
    ) -> None:
        self.path = Path(path) if path is not None else default_token_path()
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self.location = f"file:{self.path.resolve()}"
        self._lock_timeout = lock_timeout
        self._local = asyncio.Lock()
        self._local_loop: asyncio.AbstractEventLoop | None = None
        self._owner: asyncio.Task[Any] | None = None

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    async def load(self, key: str) -> Grant | None:
        data = await asyncio.to_thread(self._read)
        raw = data.get(key)
        return None if raw is None else Grant.from_json(raw, where=str(self.path))

    def load_now(self, key: str) -> Grant | None:
        """:meth:`load` without an event loop (one small local read)."""
        raw = self._read().get(key)
        return None if raw is None else Grant.from_json(raw, where=str(self.path))

    async def keys(self) -> list[str]:
        return sorted((await asyncio.to_thread(self._read)).keys())

    async def save(self, key: str, grant: Grant) -> None:
        async with self._held():
            data = await asyncio.to_thread(self._read)
            data[key] = grant.to_json()
            await asyncio.to_thread(self._write, data)

    async def delete(self, key: str) -> None:
        async with self._held():
            data = await asyncio.to_thread(self._read)
            if data.pop(key, None) is not None:
                await asyncio.to_thread(self._write, data)

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        # One file holds every key, so one lock covers them all.
        return self._held()

    @contextlib.asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            yield  # re-entered by the task that holds it (save inside lock)
            return
        loop = asyncio.get_running_loop()
        if loop is not self._local_loop:  # an asyncio lock belongs to one event loop
            self._local, self._local_loop = asyncio.Lock(), loop
        async with self._local:
            fd = await self._acquire_file_lock()
            self._owner = task
            try:
                yield
            finally:
                self._owner = None
                os.close(fd)  # closing the descriptor releases the flock

    async def _acquire_file_lock(self) -> int:
        import fcntl

        self._ensure_dir()
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self._lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise AuthError(
                        f"cannot lock the token store {self._lock_path}: {exc}"
                    ) from None
            if time.monotonic() > deadline:
                os.close(fd)
                raise AuthError(
                    f"another process held the token store lock {self._lock_path} "
                    f"for over {self._lock_timeout:.0f}s"
                )
            await asyncio.sleep(_LOCK_POLL)

    def _ensure_dir(self) -> None:
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _read(self) -> dict[str, Any]:
        try:
            with open(self.path, "rb") as f:
                mode = os.fstat(f.fileno()).st_mode
                raw = f.read()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AuthError(f"cannot read the token store {self.path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("token store %s was readable by others; made it 0600", self.path)
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(raw)
        except ValueError:
            raise AuthError(
                f"the token store {self.path} is not valid JSON; log in again"
            ) from None
        grants = data.get("grants") if isinstance(data, dict) else None
        if not isinstance(grants, dict):
            raise AuthError(f"the token store {self.path} has no grants table; log in again")
        return grants

    def _write(self, grants: dict[str, Any]) -> None:
        self._ensure_dir()
        payload = json.dumps({"version": 1, "grants": grants}, indent=2, sort_keys=True).encode()
        # mkstemp creates the file 0600 from the start: no moment where others could read it.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class RedisTokenStore:
    """Grants in Redis (``pip install aiocamp[redis]``), for services on several machines.

    Each grant is one JSON string (``SET`` is atomic); ``lock(key)`` is a Redis lock with a
    time-to-live, so a crashed holder cannot block refreshes for longer than ``lock_ttl``.
    Redis keeps the grant readable to anyone with access to the database: protect it.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "aiocamp:oauth:",
        lock_ttl: float = LOCK_TIMEOUT,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        where = redis.connection_pool.connection_kwargs
        self.location = (
            f"redis:{where.get('host', '')}:{where.get('port', '')}/{where.get('db', 0)}/{prefix}"
        )
        self._lock_ttl = lock_ttl
        self._lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r})"

    def _key(self, key: str) -> str:
        return f"{self._prefix}grant:{key}"

    async def load(self, key: str) -> Grant | None:
        raw = await self._redis.get(self._key(key))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            raise AuthError(f"Redis token store: grant {key!r} is not valid JSON") from None
        return Grant.from_json(data, where=f"Redis token store, grant {key!r}")

    async def save(self, key: str, grant: Grant) -> None:
        await self._redis.set(self._key(key), json.dumps(grant.to_json()))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def keys(self) -> list[str]:
        head = f"{self._prefix}grant:"
        found = [
            k.decode() if isinstance(k, bytes) else str(k)
            async for k in self._redis.scan_iter(match=head + "*")
        ]
        return sorted(k[len(head) :] for k in found)

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        from redis.exceptions import LockError

        lock = self._redis.lock(
            f"{self._prefix}lock:{key}",
            timeout=self._lock_ttl,
            blocking_timeout=self._lock_timeout,
            sleep=_LOCK_POLL,
        )
        if not await lock.acquire():
            raise AuthError(
                f"another process held the Redis token lock for {key!r} "
                f"for over {self._lock_timeout:.0f}s"
            )
        try:
            yield
        finally:
            with contextlib.suppress(LockError):  # expired while held: nothing to release
                await lock.release()
