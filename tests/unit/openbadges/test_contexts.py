"""The pinned, offline-first JSON-LD document loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lti_badges.openbadges import contexts
from lti_badges.openbadges.contexts import (
    ContextError,
    ContextIntegrityError,
    ContextLoader,
    UnknownContextError,
    canonical_json_sha256,
)


def test_every_pinned_context_matches_the_shared_copies(contexts_dir: Path):
    index = json.loads((contexts_dir / "index.json").read_text())
    assert set(contexts.PINNED_CONTEXTS) == set(index)
    loader = ContextLoader(contexts_dir, allow_fetch=False)
    for url in contexts.PINNED_CONTEXTS:
        assert loader(url)["document"]["@context"]


def test_pyld_remote_document_shape(loader):
    doc = loader(contexts.VC_V2, {})
    assert doc["documentUrl"] == contexts.VC_V2
    assert doc["contentType"] == "application/ld+json"
    assert "VerifiableCredential" in doc["document"]["@context"]


def test_unknown_urls_are_refused_with_a_clear_error(loader):
    with pytest.raises(UnknownContextError, match="unknown JSON-LD context"):
        loader("https://evil.example/context.jsonld", {})


def _copy_dir(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
        (dst / f.name).chmod(0o644)
    return dst


def test_a_local_copy_that_differs_from_its_pin_is_refused(contexts_dir: Path, tmp_path: Path):
    d = _copy_dir(contexts_dir, tmp_path / "ctx")
    name = json.loads((d / "index.json").read_text())[contexts.OB3_CONTEXT]
    doc = json.loads((d / name).read_text())
    doc["@context"]["name"] = {"@id": "https://evil.example/name"}
    (d / name).write_text(json.dumps(doc))
    loader = ContextLoader(d, allow_fetch=False)
    with pytest.raises(ContextIntegrityError, match="pinned"):
        loader(contexts.OB3_CONTEXT, {})
    # whitespace-only differences are fine: the pin is over canonical JSON
    (d / name).write_text(json.dumps(json.loads((contexts_dir / name).read_text()), indent=7))
    assert ContextLoader(d, allow_fetch=False)(contexts.OB3_CONTEXT, {})["document"]


def test_fetch_once_check_pin_and_cache(contexts_dir: Path, tmp_path: Path):
    body = (contexts_dir / "w3c-credentials-v2.jsonld").read_bytes()
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return body

    cache = tmp_path / "cache"
    loader = ContextLoader(cache_dir=cache, fetch=fetch)
    assert loader(contexts.VC_V2, {})["document"]["@context"]
    assert loader(contexts.VC_V2, {})["document"]["@context"]
    assert calls == [contexts.VC_V2]  # once, then memory
    # a new process (new loader) reads the cache dir, no fetch
    again = ContextLoader(cache_dir=cache, fetch=lambda url: pytest.fail("fetched again"))
    assert again.document(contexts.VC_V2) == json.loads(body)


def test_fetched_content_must_match_the_pin(tmp_path: Path):
    loader = ContextLoader(cache_dir=tmp_path, fetch=lambda url: b'{"@context": {"x": "y"}}')
    with pytest.raises(ContextIntegrityError):
        loader(contexts.VC_V2, {})
    assert not list(tmp_path.iterdir())  # nothing cached


def test_offline_block_never_fetches(tmp_path: Path):
    loader = ContextLoader(fetch=lambda url: pytest.fail("network used while offline"))
    with loader.offline(), pytest.raises(ContextError, match="offline"):
        loader(contexts.VC_V2, {})


def test_fetching_can_be_disabled_and_is_https_only():
    with pytest.raises(ContextError, match="fetching is off"):
        ContextLoader(allow_fetch=False)(contexts.VC_V2, {})
    # The core does no network: without a fetch function nothing is fetched.
    with pytest.raises(ContextError, match="fetching is off"):
        ContextLoader()(contexts.VC_V2, {})
    # The tool's fetch function (net) is HTTPS only.
    from lti_badges.net import fetch_context

    with pytest.raises(ContextError, match="non-HTTPS"):
        fetch_context("http://w3id.org/openbadges/v2")


def test_loader_from_config(contexts_dir: Path):
    loader = contexts.loader_from_config({"CONTEXTS_DIR": str(contexts_dir), "CONTEXTS_FETCH": False})
    assert loader.document(contexts.OB2_CONTEXT)["@context"]["obi"] == "https://w3id.org/openbadges#"
    assert canonical_json_sha256({"b": 1, "a": "é"}) == canonical_json_sha256({"a": "é", "b": 1})


def test_index_must_stay_inside_the_directory(tmp_path: Path):
    (tmp_path / "index.json").write_text(json.dumps({"https://x.example/c": "../etc/passwd"}))
    with pytest.raises(ContextError, match="outside"):
        ContextLoader(tmp_path)


def test_a_document_with_an_unknown_context_gets_the_loader_error(loader):
    from lti_badges.openbadges import ob3

    doc = {"@context": ["https://evil.example/ctx"], "id": "urn:x", "name": "n"}
    with pytest.raises(UnknownContextError):
        ob3.check_terms_expand(doc, loader)
