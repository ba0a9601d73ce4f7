"""Run the IMS Open Badges 2.0 validator (``openbadges`` 1.1.2) offline.

This script runs INSIDE .venv-obv (see install-ob2-validator.sh), not in the
project's virtualenv: the validator's pins clash with ours. It must stay
importable on the validator's Python and use nothing from ``lti_badges``.

The validator always fetches ``https://w3id.org/openbadges/v2`` over HTTP and
has no document loader option, so every ``requests.Session`` gets a transport
adapter that

* answers mapped context URLs from local files (``index.json`` in the
  contexts directory: URL -> file name),
* passes loopback URLs (127.0.0.0/8, ::1, localhost) through to the network,
* refuses everything else (and records the URL in the report).

It also decodes the bytes that openbadges-bakery 1.2.x returns for a baked
SVG (see :func:`patch_svg_unbake`); nothing else in the validator is touched.

Usage::

    python ob2_validator_runner.py [--contexts-dir DIR] [--recipient EMAIL] INPUT
    python ob2_validator_runner.py [--contexts-dir DIR] --batch < items.json

INPUT is a URL, a JSON assertion, a compact JWS, or a path to a baked PNG/SVG
(or to a .json/.jws file). ``--batch`` reads ``[{"input": ..., "recipient_email":
...}, ...]`` from stdin and prints a JSON list of reports, so several inputs
share one interpreter start-up. The contexts directory defaults to
$LTI_BADGES_CONTEXTS_DIR, then ../shared/standards/contexts beside the repo.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import traceback
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONTEXTS_DIR = REPO_ROOT.parent / "shared" / "standards" / "contexts"

# URLs the adapter refused during the current verification.
BLOCKED: list[str] = []


def load_context_map(contexts_dir: Path) -> dict[str, bytes]:
    index = json.loads((contexts_dir / "index.json").read_text(encoding="utf-8"))
    mapping: dict[str, bytes] = {}
    for url, filename in index.items():
        body = (contexts_dir / filename).read_bytes()
        base = url.rstrip("/")
        # The same document under http/https and with/without a trailing slash.
        for scheme_url in {base, base.replace("https://", "http://", 1)}:
            mapping[scheme_url] = body
            mapping[scheme_url + "/"] = body
    return mapping


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalOnlyAdapter(HTTPAdapter):
    """Serve mapped URLs from memory, loopback from the network, refuse the rest."""

    def __init__(self, contexts: dict[str, bytes]) -> None:
        super().__init__()
        self.contexts = contexts

    def send(self, request, **kwargs):  # type: ignore[override]
        url, _ = urldefrag(request.url)
        body = self.contexts.get(url)
        if body is not None:
            response = requests.Response()
            response.status_code = 200
            response._content = body
            response.headers = CaseInsensitiveDict({"Content-Type": "application/ld+json"})
            response.encoding = "utf-8"
            response.url = request.url
            response.request = request
            response.reason = "OK"
            return response
        if is_loopback(url):
            return super().send(request, **kwargs)
        BLOCKED.append(request.url)
        raise requests.ConnectionError(f"ob2 harness: refusing non-loopback URL {request.url}")


def install_adapter(contexts: dict[str, bytes]) -> None:
    """Make every requests.Session (and requests_cache's subclass) use the adapter."""
    original_init = requests.Session.__init__
    if getattr(original_init, "_ob2_harness", False):
        return

    def patched_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        adapter = LocalOnlyAdapter(contexts)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    patched_init._ob2_harness = True  # type: ignore[attr-defined]
    requests.Session.__init__ = patched_init  # type: ignore[method-assign]

    # pyld's own default loader uses urllib, not requests: route it through a
    # patched session too, in case any code path calls jsonld without options.
    from pyld import jsonld

    session = requests.Session()

    def loader(url):
        response = session.get(url, headers={"Accept": "application/ld+json, application/json"})
        return {"contextUrl": None, "documentUrl": url, "document": response.text}

    jsonld.set_document_loader(loader)


def patch_svg_unbake() -> None:
    """Let the validator read baked SVGs.

    openbadges 1.1.2 allows openbadges-bakery >= 1.1.0, but the bakery 1.2.x
    we install (2.x needs an rfc3986 the validator's pin forbids) returns the
    SVG ``verify`` attribute as *bytes*, which the validator's input detection
    rejects ("only URL, JSON, or JWS input implemented"). Decode it; nothing
    else about unbaking changes.
    """
    from openbadges.verifier import verifier

    original = verifier.unbake
    if getattr(original, "_ob2_harness", False):
        return

    def unbake(image_file):
        data = original(image_file)
        return data.decode("utf-8") if isinstance(data, bytes) else data

    unbake._ob2_harness = True  # type: ignore[attr-defined]
    verifier.unbake = unbake


def _classify(value: str) -> str:
    v = value.strip()
    if v.startswith(("http://", "https://")):
        return "url"
    if v.startswith("{"):
        return "json"
    if v.count(".") == 2 and " " not in v and "\n" not in v and not os.path.exists(v):
        return "jws"
    if os.path.exists(v):
        return "file"
    return "text"


def verify_one(badge_input: str, recipient_email: str | None) -> dict:
    import openbadges

    BLOCKED.clear()
    kind = _classify(badge_input)
    profile = {"email": recipient_email} if recipient_email else None
    # No caching: a batch may contain the same URL before and after a change
    # (e.g. a revocation list that gained an entry).
    options = {"use_cache": False, "cache_backend": None}
    try:
        if kind == "file":
            path = Path(badge_input)
            raw = path.read_bytes()
            if raw.startswith(b"\x89PNG") or b"<svg" in raw[:4096]:
                with path.open("rb") as fh:
                    result = openbadges.verify(fh, recipient_profile=profile, **options)
            else:
                result = openbadges.verify(raw.decode("utf-8").strip(), recipient_profile=profile, **options)
        else:
            result = openbadges.verify(badge_input.strip(), recipient_profile=profile, **options)
    except Exception as exc:  # the validator itself blew up
        return {
            "input": badge_input if len(badge_input) < 300 else badge_input[:300] + "...",
            "input_kind": kind,
            "valid": False,
            "revoked": False,
            "crashed": True,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "messages": [],
            "blocked_urls": list(BLOCKED),
        }
    report = result.get("report", {})
    messages = report.get("messages", [])
    return {
        "input": badge_input if len(badge_input) < 300 else badge_input[:300] + "...",
        "input_kind": kind,
        "valid": bool(report.get("valid")),
        "revoked": any("has been revoked" in (m.get("result") or "") for m in messages),
        "crashed": False,
        "error": None,
        "errorCount": report.get("errorCount"),
        "warningCount": report.get("warningCount"),
        "messages": messages,
        "validationSubject": report.get("validationSubject"),
        "openBadgesVersion": report.get("openBadgesVersion"),
        "recipientProfile": report.get("recipientProfile"),
        "blocked_urls": list(BLOCKED),
        "report": report,
        "graph": result.get("graph", []),
        "input_type": result.get("input", {}).get("input_type"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", nargs="?", help="URL, JSON, JWS or path to a baked image")
    parser.add_argument("--recipient", help="the recipient's email address")
    parser.add_argument(
        "--contexts-dir",
        default=os.environ.get("LTI_BADGES_CONTEXTS_DIR") or str(DEFAULT_CONTEXTS_DIR),
    )
    parser.add_argument("--batch", action="store_true", help="read a JSON list from stdin")
    args = parser.parse_args(argv)

    contexts_dir = Path(args.contexts_dir)
    if not (contexts_dir / "index.json").is_file():
        print(f"no index.json in contexts dir {contexts_dir}", file=sys.stderr)
        return 2
    install_adapter(load_context_map(contexts_dir))
    patch_svg_unbake()
    if not os.environ.get("OB2_VALIDATOR_DEBUG"):
        # The validator logs a traceback for every failed task (including the
        # URLs we refuse on purpose); the report already carries the message.
        import logging

        logging.getLogger("openbadges.verifier").setLevel(logging.CRITICAL)
    if not args.batch and not args.input:
        parser.error("give an INPUT or --batch")

    # Anything the validator prints goes to stderr; stdout carries only JSON.
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        if args.batch:
            items = json.load(sys.stdin)
            result = [verify_one(i["input"], i.get("recipient_email")) for i in items]
        else:
            result = verify_one(args.input, args.recipient)
    finally:
        sys.stdout = out
    json.dump(result, out, indent=None if args.batch else 2)
    out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
