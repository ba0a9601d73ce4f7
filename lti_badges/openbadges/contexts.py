"""JSON-LD document loader for pyld: pinned, offline-first, never fetching while signing.

Where contexts come from, in order:

1. documents given in memory (``documents=``), trusted as given;
2. a local directory (``LTI_BADGES_CONTEXTS_DIR``): its ``index.json`` maps
   context URLs to file names (the layout of ``shared/standards/contexts``);
3. an optional cache directory, written by earlier fetches;
4. otherwise the canonical HTTPS URL, fetched once with the fetch function the tool
   gives (``net.fetch_context``: this module itself does no network).

Every context whose URL is pinned below is checked against its SHA-256
wherever it comes from (dir, cache or network), so a wrong or tampered copy
can never change what gets signed. A URL that is neither pinned nor supplied
locally is refused with :class:`UnknownContextError`.

Why pin the *canonical JSON* (keys sorted, no whitespace, UTF-8) rather than
the raw bytes: the signature depends on the context's content, not its
formatting; servers re-indent files and the OB 2.0 copy in
``shared/standards`` was dumped from a Python module, not downloaded.

Nothing is fetched while signing: call :meth:`ContextLoader.preload` at start
up; :func:`lti_badges.openbadges.proofs.sign_data_integrity` runs the loader
inside :meth:`ContextLoader.offline`, which turns any would-be fetch into an
error.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "DID_V1",
    "MULTIKEY_V1",
    "OB2_CONTEXT",
    "OB3_CONTEXT",
    "PINNED_CONTEXTS",
    "VC_V2",
    "ContextError",
    "ContextIntegrityError",
    "ContextLoader",
    "UnknownContextError",
    "canonical_json_sha256",
    "context_error_in",
    "loader_from_config",
]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB2_CONTEXT = "https://w3id.org/openbadges/v2"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

# SHA-256 of the canonical JSON of each context (see module docstring). The
# sources (repository, path, commit) are listed in shared/standards/SOURCES.md.
PINNED_CONTEXTS: Mapping[str, str] = {
    OB3_CONTEXT: "c5e555a91a5cf48e32ae0a05674c61ddd5c053b680b5643b2f57f9965e386d99",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": (
        "bdd1d11a55a660322f24660862a1d430ee80cce584465f750909daa43684357c"
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": (
        "2c54acaa1cffda2420be32ab61f0a2082051211131c6337686f36f2537aa859b"
    ),
    VC_V2: "b463c8d6a066214123ddd9827b135e1b50e1fc73322cc52a9b12a4f1fc7d86cf",
    "https://www.w3.org/2018/credentials/v1": (
        "b01e671e873981f19a9102a9a57f666dbcaeb31b99e3e124378d143e71549247"
    ),
    DATA_INTEGRITY_V2: "7ba3c50acf2689d5e07927267343eb353249c7c22a9f2d00307cc970e855e305",
    "https://w3id.org/security/data-integrity/v1": (
        "9505bf85338a4c2121ad03992ac90061bc85d43bcfa34d9d47b779381cf08b5f"
    ),
    MULTIKEY_V1: "be20c3ee6af6e9c4102e66a85c26617831218e32216bdf050f870e389e737cdc",
    DID_V1: "a7e146c40fcec005d3f0f14ae745665f446da58d7914a9d8f733746686fad82b",
    OB2_CONTEXT: "4b5f71314b9fef23264b05bab6a03811e8fc1e5e7506b79b092aec91865e7e07",
}

MAX_CONTEXT_BYTES = 1_000_000
Fetcher = Callable[[str], bytes]


class ContextError(Exception):
    """Base class for context loading failures."""


class UnknownContextError(ContextError):
    """The URL is not a pinned context and no local copy was supplied."""


class ContextIntegrityError(ContextError):
    """A context's content does not match its pinned SHA-256."""


def context_error_in(exc: BaseException) -> ContextError | None:
    """The :class:`ContextError` that pyld wrapped (in layers of JsonLdError), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ContextError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def canonical_json_sha256(document: Any) -> str:
    """SHA-256 hex of ``document`` serialised with sorted keys and no whitespace."""
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class ContextLoader:
    """A pyld document loader (callable ``(url, options) -> RemoteDocument``).

    ``contexts_dir``: a directory with ``index.json`` (URL -> file name).
    ``cache_dir``: where fetched contexts are kept between runs (optional).
    ``allow_fetch``: whether pinned contexts missing locally may be fetched.
    ``fetch``: how to get a context's bytes from its URL (this core does no network itself:
    the tool passes ``net.fetch_context``); without one, nothing is fetched.
    ``documents``: extra URL -> parsed JSON documents served as given.
    """

    def __init__(
        self,
        contexts_dir: str | Path | None = None,
        *,
        cache_dir: str | Path | None = None,
        allow_fetch: bool = True,
        fetch: Fetcher | None = None,
        documents: Mapping[str, Any] | None = None,
        pins: Mapping[str, str] = PINNED_CONTEXTS,
    ) -> None:
        self._pins = dict(pins)
        self._memory: dict[str, Any] = {}
        self._local: dict[str, Path] = {}
        self._extra = dict(documents or {})
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._allow_fetch = allow_fetch
        self._fetch = fetch
        self._lock = threading.Lock()
        self._offline = threading.local()
        if contexts_dir is not None:
            self._index_dir(Path(contexts_dir))

    def _index_dir(self, root: Path) -> None:
        index_file = root / "index.json"
        if not index_file.is_file():
            raise ContextError(f"no index.json in contexts directory {root}")
        index = json.loads(index_file.read_text(encoding="utf-8"))
        if not isinstance(index, dict):
            raise ContextError(f"{index_file} must map context URLs to file names")
        for url, name in index.items():
            path = (root / name).resolve()
            if root.resolve() not in path.parents:
                raise ContextError(f"{index_file}: {name!r} points outside the directory")
            self._local[url] = path

    # -- public API ---------------------------------------------------------

    def document(self, url: str) -> Any:
        """The parsed JSON of the context at ``url`` (loading it if needed)."""
        with self._lock:
            if url in self._memory:
                return self._memory[url]
        doc = self._load(url)
        with self._lock:
            self._memory[url] = doc
        return doc

    def preload(self, urls: Iterable[str] | None = None) -> ContextLoader:
        """Load ``urls`` (default: every pinned context available) into memory now.

        With ``urls=None`` a pinned context that is neither local nor fetchable
        is skipped; with an explicit list every URL must load.
        """
        if urls is None:
            for url in self._pins:
                try:
                    self.document(url)
                except ContextError:
                    if url in self._local or url in self._extra:
                        raise
            for url in self._local:
                self.document(url)
        else:
            for url in urls:
                self.document(url)
        return self

    @contextmanager
    def offline(self) -> Iterator[ContextLoader]:
        """Within this block the loader serves memory/local/cache only, never the network."""
        previous = getattr(self._offline, "on", False)
        self._offline.on = True
        try:
            yield self
        finally:
            self._offline.on = previous

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """pyld's loader protocol: return a RemoteDocument for ``url``."""
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": self.document(url),
        }

    # -- internals ----------------------------------------------------------

    def _check(self, url: str, doc: Any, where: str) -> Any:
        pin = self._pins.get(url)
        if pin is not None:
            got = canonical_json_sha256(doc)
            if got != pin:
                raise ContextIntegrityError(
                    f"context {url} from {where} has SHA-256 {got}, pinned {pin}; "
                    "refusing it (a different copy would change every signature)"
                )
        return doc

    def _cache_path(self, url: str) -> Path | None:
        if self._cache_dir is None:
            return None
        return self._cache_dir / (hashlib.sha256(url.encode()).hexdigest() + ".jsonld")

    def _load(self, url: str) -> Any:
        if url in self._extra:
            return self._extra[url]
        if url in self._local:
            path = self._local[url]
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ContextError(f"cannot read context {url} from {path}: {exc}") from exc
            return self._check(url, doc, str(path))
        if url not in self._pins:
            raise UnknownContextError(
                f"unknown JSON-LD context or document {url!r}: only pinned contexts "
                f"({', '.join(sorted(self._pins))}) or ones in LTI_BADGES_CONTEXTS_DIR "
                "are loaded"
            )
        cache = self._cache_path(url)
        if cache is not None and cache.is_file():
            doc = json.loads(cache.read_text(encoding="utf-8"))
            return self._check(url, doc, str(cache))
        if getattr(self._offline, "on", False):
            raise ContextError(
                f"context {url} is not preloaded and the loader is offline (signing); "
                "call ContextLoader.preload() at start-up or set LTI_BADGES_CONTEXTS_DIR"
            )
        if not self._allow_fetch or self._fetch is None:
            raise ContextError(f"context {url} is not available locally and fetching is off")
        try:
            doc = json.loads(self._fetch(url))
        except ContextError:
            raise
        except Exception as exc:
            raise ContextError(f"cannot fetch context {url}: {exc}") from exc
        self._check(url, doc, url)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
            tmp.replace(cache)
        return doc


def loader_from_config(config: Mapping[str, Any], fetch: Fetcher | None = None) -> ContextLoader:
    """Build a loader from settings: ``CONTEXTS_DIR`` (or ``LTI_BADGES_CONTEXTS_DIR``),
    ``CONTEXTS_CACHE_DIR`` and ``CONTEXTS_FETCH`` (default true), fetching with ``fetch``."""
    directory = config.get("CONTEXTS_DIR") or config.get("LTI_BADGES_CONTEXTS_DIR")
    cache = config.get("CONTEXTS_CACHE_DIR") or config.get("LTI_BADGES_CONTEXTS_CACHE_DIR")
    allow = config.get("CONTEXTS_FETCH", True)
    return ContextLoader(directory or None, cache_dir=cache or None, allow_fetch=bool(allow),
                         fetch=fetch)
