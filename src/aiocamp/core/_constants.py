"""Every default number of the core runtime, in one place."""

from __future__ import annotations

#: Deepest element nesting an XML response may have (real payloads stay under 10 levels);
#: deeper documents are refused with DecodeError while parsing, before any recursion.
MAX_NESTING_DEPTH = 128

#: Seconds one HTTP attempt may take (connect + send + read).
DEFAULT_TIMEOUT = 30.0
#: Retries after the first attempt (0 means exactly one request).
DEFAULT_MAX_RETRIES = 5
#: Seconds one call may spend in total, retries and waits included.
DEFAULT_TOTAL_BUDGET = 120.0
#: Exponential backoff: first cap, growth factor and ceiling (seconds), full jitter below the cap.
BACKOFF_INITIAL = 0.5
BACKOFF_FACTOR = 2.0
BACKOFF_MAX = 30.0
#: Statuses retried with backoff for idempotent requests.
RETRY_SERVER_STATUSES = frozenset({500, 502, 503, 504})
#: Statuses that mean "throttled": they honour Retry-After and pause the bucket.
THROTTLE_STATUSES = frozenset({429, 503})
#: Longest pause a server's Retry-After may impose on an account's buckets (seconds). The
#: products document pauses of seconds to a minute; a larger value is a bug or an attack.
MAX_RETRY_AFTER = 300.0

#: Token bucket: burst is this fraction of the limit (at least 1 request) ...
LIMITER_BURST_FRACTION = 0.025
#: ... and the refill rate leaves this fraction of the window as a safety margin, so timer
#: coarseness and send jitter never push a sliding window over the server's limit ...
LIMITER_WINDOW_MARGIN = 0.02
#: ... but never less than this many seconds: jitter is absolute, so a short window (a
#: test's, or a sandbox's "20 per second") keeps room for a late send or a busy loop.
LIMITER_MIN_MARGIN = 0.03
#: Share of that margin a late waiter may still claim as its scheduled slot (see BucketParams).
LIMITER_CATCHUP_SHARE = 0.25
#: A throttled reply (429/503 with Retry-After) means arrivals jitter more than the margin
#: allows on this path: each doubles the bucket's margin, up to this many times ...
LIMITER_MAX_WIDEN = 4.0
#: ... and the margin halves again after this many windows without one.
LIMITER_NARROW_AFTER = 30

#: ETag cache: total bytes kept by the in-memory backend (bodies, headers, keys). Small
#: enough that a long listing reaches it early, so memory stays flat from then on
#: (benchmarks/bench_core.py section 3); pass a MemoryEtagCache(max_bytes=...) for more.
CACHE_MAX_BYTES = 8 * 1024 * 1024
#: A single entry larger than this is never cached.
CACHE_MAX_ENTRY_BYTES = 2 * 1024 * 1024
#: Response headers kept with a cached body (paging needs them on a 304).
CACHE_KEPT_HEADERS = (
    "Content-Type",
    "ETag",
    "Last-Modified",
    "Link",
    "X-Total-Count",
    "X-Records",
    "X-Pages",
)

#: Redirect hops followed (same origin, or http -> https on the same host).
MAX_REDIRECTS = 3

#: Largest decoded (decompressed) body read from one reply; the longest documented page
#: (Highrise, 500 records) is a few MiB.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
#: Bodies at least this large are decoded in a worker thread, so a big page never stalls
#: the event loop (smaller ones decode faster than a thread hop costs).
OFFLOOP_DECODE_BYTES = 256 * 1024

#: ``X-Total-Count`` / ``X-Records`` / ``X-Pages`` above this are treated as unknown.
MAX_HEADER_COUNT = 2**53

#: Downloads: bytes read and written at a time (memory stays at about this much per file).
DOWNLOAD_CHUNK_BYTES = 256 * 1024
