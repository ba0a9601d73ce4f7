"""Fast, exact RDFC-1.0 canonical N-Quads for the JSON-LD documents this tool signs.

pyld (the reference, :func:`lti_badges.openbadges.proofs.canonicalize`) spends
most of an ``eddsa-rdfc-2022`` signature re-processing the same pinned
contexts and walking general-purpose JSON-LD machinery. This module produces
the *same bytes* faster, in three parts:

1. **Contexts, once.** Every context operation (the document's ``@context``,
   type-scoped and property-scoped contexts, reverting non-propagated
   contexts) is done by pyld's own ``_process_context`` and memoised: pinned
   contexts never change, so the active contexts reachable from a given
   ``@context`` form a small fixed set. Key, type and ``@vocab`` IRI
   expansions are pyld's ``_expand_iri`` results, memoised per context.
2. **JSON-LD to RDF, directly.** A walker that mirrors pyld's Expansion
   (JSON-LD 1.1 API §5.1.2) and Deserialize JSON-LD to RDF (§8.2, via the
   node map of §7.2) for a *subset* of JSON-LD, emitting quads straight away.
   Anything outside the subset raises :class:`Unsupported` and the caller
   falls back to pyld: value objects, lists, ``@graph``/``@index``/language
   containers, ``@json``, ``@reverse``, ``@nest``, ``@included``, nested
   ``@context``, blank node identifiers in the input, floats, base
   directions, and — important for signing — any key, type or IRI that
   would not expand to an absolute IRI (pyld would drop it or sign a
   relative IRI). So a document the fast path accepts also passes
   :func:`lti_badges.openbadges.ob3.check_terms_expand`.
3. **RDFC-1.0** (W3C RDF Dataset Canonicalization, 2024), implemented in
   full — first-degree hashing (§4.6), related-node hashing (§4.7) and
   N-degree hashing with permutations (§4.8) — over quads whose terms are
   already serialised, with pyld's N-Quads escaping (``\\\\ \\t \\n \\r "``).

Byte-identity with pyld is what the tests check: every credential shape the
tool builds, hypothesis-generated variants, random blank-node graphs for the
RDFC-1.0 part, and the fallback for documents outside the subset.
"""

from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver

__all__ = [
    "Unsupported",
    "canonical_nquads",
    "canonicalize",
    "canonicalize_or_none",
    "hash_data",
    "quads",
]

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RDF_TYPE_TERM = "<" + RDF_TYPE + ">"

# pyld's _is_absolute_iri: what toRDF keeps (anything else is silently dropped).
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
# Bounds on the memo tables: documents being verified are untrusted and could
# otherwise grow them without limit (arbitrary keys, types, @context lists).
_VOCAB_CACHE_MAX = 4096
_KEYS_CACHE_MAX = 1024
_TYPED_CACHE_MAX = 1024
_ROOTS_MAX = 64
_CONTEXT_LIST_MAX = 8


class Unsupported(Exception):
    """The document is outside what the fast path reproduces exactly: use pyld."""


# -- N-Quads terms ---------------------------------------------------------------------


def _escape(value: str) -> str:
    # pyld.nquads.escape, the escaping pyld's canonical N-Quads use.
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


def _literal(value: str, datatype: str | None, language: str | None) -> str:
    text = '"' + _escape(value) + '"'
    if language is not None:
        return text + "@" + language
    if datatype is None or datatype == XSD_STRING:
        return text
    return text + "^^<" + datatype + ">"


# -- RDFC-1.0 --------------------------------------------------------------------------

Quad = tuple[str, str, str, str | None]  # subject, predicate, object, graph (None: default)


def _line(s: str, p: str, o: str, g: str | None) -> str:
    return f"{s} {p} {o} .\n" if g is None else f"{s} {p} {o} {g} .\n"


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Issuer:
    """RDFC-1.0 §4.5 Issue Identifier: an identifier issuer (prefix, counter, issued map)."""

    __slots__ = ("issued", "order", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = {}
        self.order: list[str] = []

    def issue(self, existing: str) -> str:
        found = self.issued.get(existing)
        if found is None:
            found = self.prefix + str(len(self.order))
            self.issued[existing] = found
            self.order.append(existing)
        return found

    def copy(self) -> _Issuer:
        twin = _Issuer(self.prefix)
        twin.issued = dict(self.issued)
        twin.order = list(self.order)
        return twin


def _permutations(elements: list[str]) -> Iterator[tuple[str, ...]]:
    """Every order of ``elements``: Steinhaus-Johnson-Trotter from the sorted
    list, the order pyld and rdf-canonize use (§4.8.3 step 5.4 leaves the order
    open; using theirs keeps even tie-breaking between equal paths the same)."""
    elements = sorted(elements)
    left = dict.fromkeys(elements, True)
    length = len(elements)
    while True:
        yield tuple(elements)
        # the largest "mobile" element: greater than the neighbour it looks at
        mobile: str | None = None
        pos = 0
        for i, e in enumerate(elements):
            looks_left = left[e]
            if (mobile is None or e > mobile) and (
                (looks_left and i > 0 and e > elements[i - 1])
                or (not looks_left and i < length - 1 and e > elements[i + 1])
            ):
                mobile, pos = e, i
        if mobile is None:
            return
        swap = pos - 1 if left[mobile] else pos + 1
        elements[pos], elements[swap] = elements[swap], mobile
        for e in elements:
            if e > mobile:
                left[e] = not left[e]


class _Canonicalizer:
    """RDFC-1.0 §4.4 over quads whose terms are serialised N-Quads terms."""

    def __init__(self, quads: Sequence[Quad]) -> None:
        self.quads = quads
        self.bnode_quads: dict[str, list[Quad]] = {}
        self.first_degree: dict[str, str] = {}
        self.canonical = _Issuer("_:c14n")
        # §4.4.3 step 2: the blank node to quads map. Like pyld, a quad is
        # listed once per blank-node position it occupies.
        for quad in quads:
            s, _p, o, g = quad
            for term in (s, o, g):
                if term is not None and term.startswith("_:"):
                    self.bnode_quads.setdefault(term, []).append(quad)

    def hash_first_degree(self, node: str) -> str:
        # §4.6 Hash First Degree Quads: the node's quads with itself as _:a and
        # every other blank node as _:z, sorted, hashed.
        cached = self.first_degree.get(node)
        if cached is not None:
            return cached
        lines = []
        for s, p, o, g in self.bnode_quads[node]:
            if s.startswith("_:"):
                s = "_:a" if s == node else "_:z"
            if o.startswith("_:"):
                o = "_:a" if o == node else "_:z"
            if g is not None and g.startswith("_:"):
                g = "_:a" if g == node else "_:z"
            lines.append(_line(s, p, o, g))
        lines.sort()
        digest = _sha256_hex("".join(lines))
        self.first_degree[node] = digest
        return digest

    def hash_related(self, related: str, quad: Quad, issuer: _Issuer, position: str) -> str:
        # §4.7 Hash Related Blank Node.
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        if identifier is None:
            identifier = self.hash_first_degree(related)
        text = position + (quad[1] if position != "g" else "") + identifier
        return _sha256_hex(text)

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        # §4.8 Hash N-Degree Quads.
        related_map: dict[str, list[str]] = {}
        for quad in self.bnode_quads[node]:
            s, _p, o, g = quad
            for term, position in ((s, "s"), (o, "o"), (g, "g")):
                if term is not None and term.startswith("_:") and term != node:
                    digest = self.hash_related(term, quad, issuer, position)
                    related_map.setdefault(digest, []).append(term)
        data = []
        for related_hash in sorted(related_map):
            data.append(related_hash)
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in _permutations(related_map[related_hash]):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    canonical = self.canonical.issued.get(related)
                    if canonical is not None:
                        path += canonical
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    # §4.8.3 step 5.4.4.3: prune paths that can no longer be the least.
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related)
                    path += "<" + result_hash + ">"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.append(chosen_path)
            assert chosen_issuer is not None
            issuer = chosen_issuer
        return _sha256_hex("".join(data)), issuer

    def run(self) -> str:
        # §4.4.3 steps 3-4: issue canonical identifiers to blank nodes with a
        # unique first-degree hash, in code point order of the hashes.
        by_hash: dict[str, list[str]] = {}
        for node in self.bnode_quads:
            by_hash.setdefault(self.hash_first_degree(node), []).append(node)
        shared = []
        for digest in sorted(by_hash):
            nodes = by_hash[digest]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append(nodes)
        # Step 5: the rest through N-degree hashing, ordered by resulting hash.
        for nodes in shared:
            results = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.issue(node)
                results.append(self.hash_n_degree(node, temporary))
            for _digest, issuer in sorted(results, key=lambda r: r[0]):
                for existing in issuer.order:
                    self.canonical.issue(existing)
        # Step 6: relabel, serialise, sort in code point order.
        issued = self.canonical.issued
        lines = []
        for s, p, o, g in self.quads:
            if s.startswith("_:"):
                s = issued[s]
            if o.startswith("_:"):
                o = issued[o]
            if g is not None and g.startswith("_:"):
                g = issued[g]
            lines.append(_line(s, p, o, g))
        lines.sort()
        return "".join(lines)


def canonical_nquads(quads: Iterable[Sequence[str | None]]) -> str:
    """RDFC-1.0 canonical N-Quads of ``quads``: ``(subject, predicate, object)``
    or ``(subject, predicate, object, graph)`` tuples of serialised N-Quads
    terms (``<iri>``, ``_:label``, ``"literal"...``; graph ``None`` = default).
    Duplicates are kept, as pyld keeps them."""
    normal: list[Quad] = []
    for quad in quads:
        if len(quad) == 3:
            s, p, o = quad
            g = None
        else:
            s, p, o, g = quad
        if s is None or p is None or o is None:
            raise ValueError("a quad needs a subject, a predicate and an object")
        normal.append((s, p, o, g))
    return _Canonicalizer(normal).run()


# -- JSON-LD to quads over memoised pyld contexts ----------------------------------------


class _Ctx:
    """A pyld active context (an immutable frozendict) and memoised lookups on it."""

    __slots__ = ("engine", "keys", "mappings", "previous", "raw", "scoped", "typed", "vocab")

    def __init__(self, engine: _Engine, raw: Mapping[str, Any]) -> None:
        self.engine = engine
        self.raw = raw
        self.mappings = raw["mappings"]
        self.previous = raw.get("previousContext")
        self.keys: dict[str, _Key] = {}
        self.typed: dict[tuple[str, ...], _Ctx] = {}
        self.scoped: dict[tuple[int, bool, bool], _Ctx] = {}
        self.vocab: dict[str, Any] = {}

    def vocab_iri(self, value: str) -> Any:
        """pyld ``_expand_iri(ctx, value, vocab=True, base=None)``, memoised."""
        try:
            return self.vocab[value]
        except KeyError:
            pass
        if len(self.vocab) >= _VOCAB_CACHE_MAX:
            self.vocab.clear()
        result = self.engine.processor._expand_iri(self.raw, value, vocab=True, base=None)
        self.vocab[value] = result
        return result

    def id_iri(self, value: str) -> str:
        """pyld ``_expand_iri(ctx, value, base=None)`` (document-relative, no base),
        which must give an absolute IRI that is not a blank node."""
        # Mirrors pyld's _expand_iri for vocab=False, base=None: keywords and
        # keyword-like values are not IRIs; "prefix:suffix" expands through a
        # prefix term unless the suffix starts with "//"; anything else stays as is.
        if value.startswith("@"):
            raise Unsupported(f"@id value {value!r} looks like a keyword")
        colon = value.find(":")
        if colon > 0:
            prefix = value[:colon]
            suffix = value[colon + 1 :]
            if prefix == "_":
                raise Unsupported("blank node identifiers in the input")
            if not suffix.startswith("//"):
                mapping = self.mappings.get(prefix)
                if mapping and mapping["_prefix"]:
                    value = mapping["@id"] + suffix
        if value.startswith("_:") or not _ABSOLUTE_IRI.match(value):
            raise Unsupported(f"IRI {value!r} is not absolute")
        return value

    def process(self, local: Any, *, propagate: bool, override_protected: bool) -> _Ctx:
        """pyld ``_process_context(self, local, ...)``, memoised. ``local`` is
        part of a context kept alive by the engine, so its id is stable."""
        key = (id(local), propagate, override_protected)
        found = self.scoped.get(key)
        if found is None:
            with self.engine.offline():
                raw = self.engine.processor._process_context(
                    self.raw,
                    local,
                    self.engine.options,
                    override_protected=override_protected,
                    propagate=propagate,
                )
            found = self.engine.wrap(raw, keep=local)
            self.scoped[key] = found
        return found

    def reverted(self) -> _Ctx:
        # pyld _revert_to_previous_context: drop non-propagated (type-scoped) terms.
        return self if self.previous is None else self.engine.wrap(self.previous)

    def with_types(self, types: tuple[str, ...]) -> _Ctx:
        """pyld ``_prepare_nested_context`` for a node with these (sorted) types:
        apply each type-scoped context, looked up in ``self``, with propagate=False."""
        found = self.typed.get(types)
        if found is None:
            found = self
            for type_ in types:
                entry = self.mappings.get(type_)
                scoped = entry.get("@context") if entry else None
                if scoped is not None and scoped is not False:
                    found = found.process(scoped, propagate=False, override_protected=False)
            if len(self.typed) < _TYPED_CACHE_MAX:
                self.typed[types] = found
        return found

    def key(self, key: str) -> _Key:
        found = self.keys.get(key)
        if found is None:
            found = _Key(self, key)
            if len(self.keys) < _KEYS_CACHE_MAX:
                self.keys[key] = found
        return found


class _Key:
    """What a key of a node object means in a given active context."""

    __slots__ = (
        "_node_ctx",
        "datatype",
        "iri",
        "keyword",
        "language",
        "mode",
        "name",
        "owner",
        "predicate",
        "problem",
        "term_ctx",
    )

    def __init__(self, owner: _Ctx, key: str) -> None:
        self.owner = owner
        self.name = key
        self.problem: str | None = None
        self.keyword: str | None = None
        self.term_ctx = owner
        self.mode = "literal"
        self.datatype: str | None = None
        self.language: str | None = None
        self._node_ctx: dict[bool, _Ctx] = {}
        iri = owner.vocab_iri(key)
        self.iri = iri
        self.predicate = "<" + iri + ">" if isinstance(iri, str) else ""
        if iri is None or not isinstance(iri, str):
            self.problem = f"{key!r} is not defined by the contexts (dropped)"
            return
        if iri in jsonld.KEYWORDS:
            self.keyword = iri
            if iri not in ("@id", "@type"):
                self.problem = f"keyword {iri} is not handled by the fast path"
            return
        if iri.startswith("_:") or not _ABSOLUTE_IRI.match(iri):
            self.problem = f"{key!r} expands to the non-absolute IRI {iri!r}"
            return
        if iri == RDF_TYPE:
            self.problem = "a property expanding to rdf:type"
            return
        entry = owner.mappings.get(key)
        if entry is None:
            self.problem = f"{key!r} is not a term"
            return
        if entry.get("reverse"):
            self.problem = "reverse property"
            return
        scoped = entry.get("@context")
        if scoped is not None:
            # pyld _expand_object: the term's scoped context, propagated.
            self.term_ctx = owner.process(scoped, propagate=True, override_protected=True)
        tmappings = self.term_ctx.mappings
        for mappings in (owner.mappings, tmappings):
            container = (mappings.get(key) or {}).get("@container")
            if container not in (None, [], ["@set"], "@set"):
                self.problem = f"container {container!r}"
                return
        tentry = tmappings.get(key)
        if tentry is None or tentry.get("@id") != iri:
            self.problem = f"{key!r} means something else inside its own scoped context"
            return
        # pyld _expand_value: coercion from the term definition in term_ctx.
        type_ = tentry.get("@type")
        if type_ == "@id":
            self.mode = "id"
        elif type_ == "@vocab":
            self.mode = "vocab"
        elif type_ is not None and type_ != "@none":
            if type_ in ("@json", XSD_DOUBLE) or not isinstance(type_, str):
                self.problem = f"values typed {type_!r}"
                return
            if type_.startswith("_:") or not _ABSOLUTE_IRI.match(type_):
                self.problem = f"datatype {type_!r} is not absolute"
                return
            self.datatype = type_
        if self.datatype is None:
            language = tentry.get("@language", self.term_ctx.raw.get("@language"))
            direction = tentry.get("@direction", self.term_ctx.raw.get("@direction"))
            if direction is not None:
                self.problem = "base direction"
                return
            if language is not None:
                if not isinstance(language, str) or not language:
                    self.problem = f"language {language!r}"
                    return
                self.language = language

    def node_ctx(self, revert: bool) -> _Ctx:
        """The context a nested node object under this key starts from (pyld
        ``_expand``: revert type-scoped terms, then the property-scoped context)."""
        found = self._node_ctx.get(revert)
        if found is None:
            term_ctx = self.term_ctx
            found = term_ctx.reverted() if revert else term_ctx
            entry = term_ctx.mappings.get(self.name)
            scoped = entry.get("@context") if entry else None
            if scoped is not None:
                found = found.process(scoped, propagate=True, override_protected=True)
            self._node_ctx[revert] = found
        return found


class _Engine:
    """Memoised pyld contexts for one document loader."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.processor = jsonld.JsonLdProcessor()
        self.options: dict[str, Any] = {
            "base": None,
            "documentLoader": loader,
            "isFrame": False,
            "keepFreeFloatingNodes": False,
            "extractAllScripts": False,
            "processingMode": "json-ld-1.1",
        }
        self.options["contextResolver"] = ContextResolver(jsonld._resolved_context_cache, loader)
        self.initial = _Ctx(self, self.processor._get_initial_context(self.options))
        self.roots: dict[str, _Ctx] = {}
        self._wrapped: dict[int, _Ctx] = {}
        self._keep: list[Any] = []

    def wrap(self, raw: Mapping[str, Any], keep: Any = None) -> _Ctx:
        found = self._wrapped.get(id(raw))
        if found is None or found.raw is not raw:
            found = _Ctx(self, raw)
            self._wrapped[id(raw)] = found
            self._keep.append(raw)
        if keep is not None:
            self._keep.append(keep)
        return found

    def offline(self) -> Any:
        """The loader's offline mode (never fetch while signing), if it has one."""
        return self.loader.offline() if hasattr(self.loader, "offline") else nullcontext()

    def root(self, context: Any) -> _Ctx:
        """The active context for a document's ``@context``: context URLs only
        (the tool never embeds context objects), processed once."""
        urls = context if isinstance(context, list) else [context]
        if not urls or len(urls) > _CONTEXT_LIST_MAX or not all(isinstance(u, str) for u in urls):
            raise Unsupported("@context must be a short list of context URLs")
        key = json.dumps(context, separators=(",", ":"))
        found = self.roots.get(key)
        if found is None:
            if len(self.roots) >= _ROOTS_MAX:
                raise Unsupported("too many distinct @context values")
            with self.offline():
                raw = self.processor._process_context(self.initial.raw, json.loads(key), self.options)
            found = self.wrap(raw)
            self.roots[key] = found
        return found


class _Builder:
    """Walks a compact document and emits its quads the way pyld's expansion,
    node map and toRDF would, including the node map's duplicate removal."""

    __slots__ = ("counter", "quads", "seen")

    def __init__(self) -> None:
        self.quads: list[Quad] = []
        self.seen: set[tuple[Any, ...]] = set()
        self.counter = 0

    def emit(self, s: str, p: str, o: str, same: tuple[Any, ...]) -> None:
        # pyld's node map adds each value once per (subject, property), with
        # JSON-LD value equality (bools never equal numbers): ``same`` is
        # ("N", object term) for node references, ("L", is bool, value,
        # datatype, language) for literals.
        key = (s, p, same)
        if key not in self.seen:
            self.seen.add(key)
            self.quads.append((s, p, o, None))

    def node(self, ctx: _Ctx, element: Mapping[str, Any], *, top: bool = False) -> str:
        """Expand one node object with ``ctx`` already prepared (scoped and
        reverted) for it; return its subject term."""
        # pyld _prepare_nested_context: the key for @type is found, and the
        # type-scoped contexts applied (in code point order of the types),
        # with the context the node starts from.
        type_key = None
        for key in element:
            if key == "@context":
                if top:
                    continue
                raise Unsupported("nested @context")
            if ctx.key(key).keyword == "@type":
                if type_key is not None:
                    raise Unsupported("two keys for @type")
                type_key = key
        types: tuple[str, ...] = ()
        if type_key is not None:
            raw_types = element[type_key]
            listed = raw_types if isinstance(raw_types, list) else [raw_types]
            if not all(isinstance(t, str) for t in listed):
                raise Unsupported("non-string type")
            types = tuple(sorted(listed))
        active = ctx.with_types(types) if types else ctx
        # pyld _expand_object: keys expand with the type-scoped context.
        id_value: Any = None
        properties: list[tuple[_Key, Any]] = []
        count = 0
        for key, value in element.items():
            if key == "@context":
                continue
            spec = active.key(key)
            keyword = spec.keyword
            if keyword == "@type":
                if key != type_key:
                    raise Unsupported("a key means @type only inside a type-scoped context")
                count += 1
                continue
            if type_key is not None and key == type_key:
                raise Unsupported("a type-scoped context redefines the @type key")
            if keyword == "@id":
                if id_value is not None:
                    raise Unsupported("two keys for @id")
                if not isinstance(value, str):
                    raise Unsupported("non-string @id")
                id_value = value
                continue
            if spec.problem is not None:
                raise Unsupported(spec.problem)
            if value is not None:
                count += 1
                properties.append((spec, value))
        if top and count == 0:
            # pyld drops a top-level node with nothing but an @id (free-floating).
            raise Unsupported("top-level node without statements")
        if id_value is not None:
            subject = "<" + active.id_iri(id_value) + ">"
        else:
            subject = "_:b" + str(self.counter)
            self.counter += 1
        for type_ in types:
            # Types expand against the context before type-scoped contexts apply.
            iri = ctx.vocab_iri(type_)
            if not isinstance(iri, str) or iri.startswith("_:") or not _ABSOLUTE_IRI.match(iri):
                raise Unsupported(f"type {type_!r} is not defined by the contexts")
            obj = "<" + iri + ">"
            self.emit(subject, _RDF_TYPE_TERM, obj, ("N", obj))
        for spec, value in properties:
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, list):
                        raise Unsupported("nested arrays")
                    if item is not None:
                        self.value(subject, spec, item)
            else:
                self.value(subject, spec, value)
        return subject

    def value(self, subject: str, spec: _Key, value: Any) -> None:
        predicate = spec.predicate
        if isinstance(value, dict):
            obj = self.nested(spec, value)
            self.emit(subject, predicate, obj, ("N", obj))
            return
        mode = spec.mode
        if isinstance(value, str):
            if mode == "id":
                obj = "<" + spec.term_ctx.id_iri(value) + ">"
                self.emit(subject, predicate, obj, ("N", obj))
                return
            if mode == "vocab":
                iri = spec.term_ctx.vocab_iri(value)
                if not isinstance(iri, str) or iri.startswith("_:") or not _ABSOLUTE_IRI.match(iri):
                    raise Unsupported(f"vocabulary value {value!r} is not absolute")
                obj = "<" + iri + ">"
                self.emit(subject, predicate, obj, ("N", obj))
                return
            datatype = spec.datatype
            language = spec.language
            self.emit(
                subject,
                predicate,
                _literal(value, datatype, language),
                ("L", False, value, datatype, language),
            )
            return
        if isinstance(value, bool):
            datatype = spec.datatype
            self.emit(
                subject,
                predicate,
                _literal("true" if value else "false", datatype or XSD_BOOLEAN, None),
                ("L", True, value, datatype, None),
            )
            return
        if type(value) is int and abs(value) < 10**21:
            datatype = spec.datatype
            self.emit(
                subject,
                predicate,
                _literal(str(value), datatype or XSD_INTEGER, None),
                ("L", False, value, datatype, None),
            )
            return
        raise Unsupported(f"value of type {type(value).__name__}")

    def nested(self, spec: _Key, element: Mapping[str, Any]) -> str:
        # pyld _expand: a node object under a type-scoped context reverts to the
        # previous context unless it is a bare subject reference ({"id": ...}).
        term_ctx = spec.term_ctx
        revert = True
        if term_ctx.previous is not None and len(element) <= 2:
            for key in element:
                keyword = term_ctx.key(key).keyword
                if keyword == "@value":
                    raise Unsupported("value object")
                if keyword == "@id" and len(element) == 1:
                    revert = False
        return self.node(spec.node_ctx(revert), element)


_ENGINES: weakref.WeakKeyDictionary[Any, _Engine] = weakref.WeakKeyDictionary()
_ENGINES_STRONG: dict[int, tuple[Any, _Engine]] = {}


def _engine(loader: Any) -> _Engine:
    try:
        found = _ENGINES.get(loader)
        if found is None:
            found = _ENGINES[loader] = _Engine(loader)
        return found
    except TypeError:  # a loader that cannot be weakly referenced (e.g. a bound method)
        entry = _ENGINES_STRONG.get(id(loader))
        if entry is None or entry[0] is not loader:
            entry = (loader, _Engine(loader))
            _ENGINES_STRONG[id(loader)] = entry
        return entry[1]


def quads(doc: Mapping[str, Any], loader: Any) -> list[Quad]:
    """The RDF quads pyld's ``toRDF`` would produce for the compact document
    ``doc`` (blank node labels aside), or :class:`Unsupported`."""
    if not isinstance(doc, dict):
        raise Unsupported("only a compact JSON-LD object is handled")
    engine = _engine(loader)
    try:
        ctx = engine.root(doc.get("@context"))
    except Unsupported:
        raise
    except Exception as exc:  # context errors: let pyld report them its own way
        raise Unsupported(f"context processing: {exc}") from exc
    builder = _Builder()
    try:
        builder.node(ctx, doc, top=True)
    except Unsupported:
        raise
    except Exception as exc:  # pyld errors from scoped contexts (e.g. protected terms)
        raise Unsupported(f"{type(exc).__name__}: {exc}") from exc
    return builder.quads


def canonicalize(doc: Mapping[str, Any], loader: Any) -> str:
    """RDFC-1.0 canonical N-Quads of ``doc``, byte-identical to
    :func:`lti_badges.openbadges.proofs.canonicalize`; raises
    :class:`Unsupported` when the document is outside the fast path."""
    return _Canonicalizer(quads(doc, loader)).run()


def canonicalize_or_none(doc: Any, loader: Any) -> str | None:
    """:func:`canonicalize`, or ``None`` when the caller must use pyld."""
    try:
        return canonicalize(doc, loader)
    except Unsupported:
        return None


def hash_data(unsecured: Any, proof_config: Any, loader: Any) -> bytes | None:
    """eddsa-rdfc-2022 "Hashing": SHA-256(canonical proof config) ||
    SHA-256(canonical document), or ``None`` when either is outside the fast
    path (the caller then uses pyld for both)."""
    config = canonicalize_or_none(proof_config, loader)
    if config is None:
        return None
    document = canonicalize_or_none(unsecured, loader)
    if document is None:
        return None
    return hashlib.sha256(config.encode("utf-8")).digest() + hashlib.sha256(document.encode("utf-8")).digest()
