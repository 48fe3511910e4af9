"""Parse spec text (YAML or JSON) into plain Python data, strictly and safely.

YAML is read from libyaml's event stream (the C parser where available) by an iterative
composer of our own, so that:

* no YAML tag, anchor or alias is ever honoured (nothing can name code, no alias bombs);
* scalars follow the YAML 1.2 core schema (``no`` is the string "no", ``1e3`` is a float) and
  ambiguous YAML 1.1 forms (``012``) are refused rather than guessed;
* duplicate keys and non-finite numbers are errors that name both places;
* nesting depth is bounded without recursion.

Values are returned as plain dicts/lists/str/int/float/bool/None. Positions are not stored per
value (that would double the memory of a 100k-edge spec); :meth:`Source.locate` re-reads the
text once for all the paths an error report needs.
"""
from __future__ import annotations

import gc
import json
import math
import re
from dataclasses import dataclass
from json.decoder import JSONDecodeError, scanstring

from ..errors import Diagnostic, LimitError, SpecError
from ..limits import Limits

# PyYAML and the event parser, imported by _load_yaml() when a YAML text is first read: a JSON
# spec needs neither (importing PyYAML is some 8% of the instructions `nngraph validate` runs)
yaml = _SafeEventLoader = None


def _load_yaml() -> None:
    global yaml, _SafeEventLoader
    if yaml is not None:
        return
    import yaml as module

    try:  # libyaml's parser is ~10x faster; fall back to the pure-Python one
        from yaml._yaml import CParser as loader
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class loader(Reader, Scanner, Parser):  # type: ignore[no-redef]
            """Only a parser: events, no constructor that could build objects."""

            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                Parser.__init__(self)

            def dispose(self):
                pass
    _SafeEventLoader = loader
    yaml = module


Path = tuple  # a spec path: ("edges", 3, "to")

_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_OTHER = re.compile(r"0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF_NAN = re.compile(r"[-+]?\.(inf|Inf|INF)\Z|\.(nan|NaN|NAN)\Z")
_NULLS = {"~", "null", "Null", "NULL", ""}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


def format_path(path) -> str:
    """``("edges", 3, "to")`` -> ``edges[3].to``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class Source:
    """A spec's text and where it came from; locates spec paths on demand."""

    text: str | None  # None: a spec given as a Python mapping (see ``data``)
    name: str  # file name as the user gave it, or "<string>"
    format: str  # "yaml" or "json"
    data: object = None  # a mapping given in code: it has no lines, so it is located by spec path only

    def diag(self, path, message, code, *, key=False, severity="error", position=None) -> Diagnostic:
        line, col = position if position else self.locate([path], key=key).get(tuple(path), (0, 0))
        return Diagnostic(self.name, line, col, format_path(path), code, message, severity)

    def locate(self, paths, key=False) -> dict:
        """Map each path to its 1-based (line, column); a missing path maps to its nearest parent.

        With ``key=True`` the position of a mapping key is given instead of its value's. A spec
        given as a mapping has no text: every path maps to (0, 0), which diagnostics show as the
        spec path alone (``<dict>: edges[3].to: ...``).
        """
        wanted = {tuple(p) for p in paths}
        if not wanted:
            return {}
        if self.text is None:
            return {p: (0, 0) for p in wanted}
        prefixes = {p[:i] for p in wanted for i in range(len(p) + 1)}
        try:
            found = (_locate_json if self.format == "json" else _locate_yaml)(self.text, prefixes, key)
        except Exception:  # locating is best effort: a position is never worth a crash
            found = {}
        out = {}
        for p in wanted:
            q = p
            while q not in found and q:
                q = q[:-1]
            out[p] = found.get(q, (1, 1))
        return out


# --------------------------------------------------------------------------------------------
# YAML


# An integer literal longer than this is no size, index or weight any spec can use (the largest
# finite float has 309 digits); refusing it first also keeps Python's int() from raising on
# literals over its 4,300-digit conversion limit.
MAX_INT_DIGITS = 400


def _too_long(value: str) -> str:
    return (f"a number of {len(value.lstrip('+-')):,} digits ({value[:12]}...); numbers in a spec have at most "
            f"{MAX_INT_DIGITS} digits")


def _plain_scalar(value: str, where, src: Source, errors: list):
    c = value[:1]
    if c and (c.isdigit() or c in "-+."):
        if len(value) > MAX_INT_DIGITS and (_INT.match(value) or _INT_OTHER.match(value)):
            errors.append((where, "number_too_long", _too_long(value)))
            return 0
        if _INT.match(value):
            digits = value.lstrip("+-")
            if len(digits) > 1 and digits[0] == "0":
                errors.append((where, "ambiguous_number",
                               f"'{value}' is ambiguous (YAML 1.1 reads it as octal): write "
                               f"{int(value)} or quote it as a string"))
            return int(value)
        if _FLOAT.match(value):
            number = float(value)
            if math.isinf(number):  # 1e400: too large for any number, not silently infinity
                errors.append((where, "not_finite", f"'{value[:40]}' is too large for a number (the largest is "
                               "about 1.8e308); only finite numbers are allowed"))
                return 0.0
            return number
        if _INF_NAN.match(value):
            errors.append((where, "not_finite", f"'{value}' is not a finite number; only finite numbers are allowed"))
            return 0.0
        if _INT_OTHER.match(value):
            return int(value, 0)
        return value
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return value


def _pos(event):
    return (event.start_mark.line + 1, event.start_mark.column + 1)


def parse_yaml(src: Source, limits: Limits):
    """Compose YAML events into Python data, without recursion, tags, anchors or aliases.

    Long ``edges:`` / ``edge_table:`` lists written one flow collection per line of plain,
    quoted or numeric scalars are read by :func:`_row_blocks` instead (a regular expression per
    line, not eight parser events); anything it is not certain of goes the whole way through
    the parser, which also gives every error its position."""
    from . import columns

    _refuse_surrogates(src, src.text)
    if limits.max_depth > 2 and columns.FAST and not _OTHER_BREAKS.search(src.text):
        try:
            found = _row_blocks(src.text)
            if found is not None:
                text, blocks = found
                root = _compose(src, limits, text)
                if type(root) is dict and all(root.get(key) == [mark] for key, mark, _ in blocks):
                    for key, _, rows in blocks:
                        root[key] = rows
                    return root
        except (SpecError, LimitError):
            pass  # said again, with its position in the text as written, by the parser below
    return _compose(src, limits, src.text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(src: Source, text: str) -> None:
    """A lone surrogate (a str made in code, or JSON's "\\ud800" decoded) is no character:
    the YAML reader cannot even encode the text. Said with its position, as any bad character."""
    found = _SURROGATE.search(text)
    if found is None:
        return
    at = found.start()
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    raise SpecError([Diagnostic(src.name, line, col, "", "yaml_syntax",
                                f"invalid YAML: a lone surrogate {found.group()!a} is not a character; "
                                "write the text as valid Unicode")])


# Line breaks other than "\n" (libyaml also ends a line at "\r", U+0085, U+2028 and U+2029): the
# line reader below splits at "\n" only, so such a text goes through the parser.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
# What a comment may hold: YAML's printable characters, without line breaks (libyaml refuses
# the others, so the fast path must not blank them out unseen). Written as the few characters it
# may not hold: the same set as [\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff],
# which `re` compiles a code point at a time (some 60k each, a noticeable part of start-up).
_COMMENT = "#[^\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]*"
_ROW_KEYS = ("edges", "edge_table")
_ROW_HEAD = re.compile(r"(edges|edge_table):[ ]*(?:[ ]%s)?\Z" % _COMMENT)
_ROW_SKIP = re.compile(r"[ ]*(?:%s)?\Z" % _COMMENT)  # a blank or comment-only line
_ROW_SCALAR = r"""(?:"[A-Za-z0-9_\[\]:.+\-]*"|'[A-Za-z0-9_\[\]:.+\-]*'|[A-Za-z0-9_][A-Za-z0-9_.+\-]*|[-+.][A-Za-z0-9_.][A-Za-z0-9_.+\-]*)"""
_ROW_MAP_ITEM = re.compile(r"([ ]*)- \{[ ]*((?:[A-Za-z_][A-Za-z0-9_]*:[ ]+%s[ ]*,[ ]*)*[A-Za-z_][A-Za-z0-9_]*:[ ]+%s)[ ]*\}"
                           r"[ ]*(?:[ ]%s)?\Z" % (_ROW_SCALAR, _ROW_SCALAR, _COMMENT))
_ROW_SEQ_ITEM = re.compile(r"([ ]*)- \[[ ]*((?:%s[ ]*,[ ]*)*%s)[ ]*\][ ]*(?:[ ]%s)?\Z" % (_ROW_SCALAR, _ROW_SCALAR, _COMMENT))
_ROW_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):[ ]+(%s)" % _ROW_SCALAR)
_ROW_VALUE = re.compile(_ROW_SCALAR)


_ROW_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,20}\Z")  # a float whatever the reader


def _row_scalar(token: str, errors: list):
    if token[0] in "\"'":
        return token[1:-1]
    if _ROW_DECIMAL.match(token):  # what _plain_scalar makes of it, without its other checks
        return float(token)
    return _plain_scalar(token, (0, 0), None, errors)


def _row_blocks(text: str):
    """Find the top-level ``edges:`` and ``edge_table:`` block lists whose every item is one
    line ``- {key: scalar, ...}`` (edges) or ``- [scalar, ...]`` (table rows), scalars being
    plain, or quoted without escapes; read those items; return the text with each list blanked
    out (its lines kept, empty, so positions stay) and the key's value replaced by a one-item
    mark, and the blocks as (key, mark, items). None when there is nothing of the kind, or
    anything is not certain: a scalar the parser would refuse or read otherwise, a repeated
    key, a line of another form. The caller checks that each mark came back where the key's
    value is, then puts the items in its place."""
    lines = text.split("\n")
    blocks = []
    keys_ok = set()  # mapping keys read as plain strings already
    k = 0
    n = len(lines)
    while k < n:
        head = _ROW_HEAD.match(lines[k])
        if head is None:
            k += 1
            continue
        key = head.group(1)
        item = _ROW_MAP_ITEM if key == "edges" else _ROW_SEQ_ITEM
        start, k, indent, items, errors = k, k + 1, None, [], []
        while k < n:
            line = lines[k]
            m = item.match(line)
            if m is None:
                if _ROW_SKIP.match(line):
                    k += 1
                    continue
                if line[:1] not in (" ", "-") or (indent and not line.startswith(" ")):
                    break  # the next top-level key: the list ends here
                return None  # an item (or more of one) of another form
            if indent is None:
                indent = m.group(1)
            elif m.group(1) != indent:
                return None
            body = m.group(2)
            if key == "edges":
                row = {}
                pairs = _ROW_PAIR.findall(body)
                for name, token in pairs:
                    if name in row or (name not in keys_ok and _plain_scalar(name, (0, 0), None, errors) != name):
                        return None
                    keys_ok.add(name)
                    row[name] = _row_scalar(token, errors)
                found = len(pairs)
            else:
                row = [_row_scalar(token, errors) for token in _ROW_VALUE.findall(body)]
                found = len(row)
            if errors or found != body.count(",") + 1:  # no comma is in a scalar: one per item
                return None
            items.append(row)
            lines[k] = ""
            k += 1
        if not items:
            return None
        mark = f"__nngraph_rows_{len(blocks)}_{id(items):x}__"
        if mark in text:
            return None
        lines[start] = f"{key}: [{mark}]"
        blocks.append((key, mark, items))
    if not blocks:
        return None
    return "\n".join(lines), blocks


def _compose(src: Source, limits: Limits, text: str):
    errors = []  # (position, code, message)
    stack = []  # frames: [container, pending_key, key_positions]
    root = None
    documents = 0
    _load_yaml()
    try:
        events = yaml.parse(text, Loader=_SafeEventLoader)
        for ev in events:
            kind = type(ev)
            if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if ev.anchor is not None:
                    errors.append((_pos(ev), "anchor", f"YAML anchors (&{ev.anchor}) and aliases are not "
                                   "allowed in specs; write the value out"))
                if ev.tag is not None and ev.tag != "!" and not (kind is yaml.ScalarEvent and ev.implicit[0]):
                    errors.append((_pos(ev), "tag", f"YAML tags ({ev.tag}) are not allowed in specs: a spec is "
                                   "plain data and can never name code"))
                if kind is yaml.ScalarEvent:
                    if ev.implicit[0] and not ev.style:
                        value = _plain_scalar(ev.value, _pos(ev), src, errors)
                    else:
                        value = ev.value
                    container = None
                else:
                    value = container = {} if kind is yaml.MappingStartEvent else []
                    if len(stack) >= limits.max_depth:
                        raise _Abort(_pos(ev), "too_deep", f"nesting is deeper than {limits.max_depth} levels")
                if stack:
                    frame = stack[-1]
                    parent = frame[0]
                    if type(parent) is list:
                        parent.append(value)
                    elif frame[1] is _NO_KEY:
                        if container is not None or not isinstance(value, str):
                            errors.append((_pos(ev), "bad_key", "mapping keys must be plain strings"))
                            value = repr(value)
                        if value in parent:
                            first = frame[2][value]
                            errors.append((_pos(ev), "duplicate_key",
                                           f"duplicate key '{value}' (first at line {first[0]}); "
                                           "each key may appear once"))
                        frame[1] = value
                        frame[2][value] = _pos(ev)
                        if container is not None:
                            stack.append([container, _NO_KEY, {}])
                        continue
                    else:
                        parent[frame[1]] = value
                        frame[1] = _NO_KEY
                else:
                    root = value
                if container is not None:
                    stack.append([container, _NO_KEY, {}])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
            elif kind is yaml.AliasEvent:
                errors.append((_pos(ev), "alias", f"YAML aliases (*{ev.anchor}) are not allowed in specs; "
                               "write the value out"))
                if stack and type(stack[-1][0]) is dict and stack[-1][1] is not _NO_KEY:
                    stack[-1][1] = _NO_KEY
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Abort(_pos(ev), "many_documents", "a spec file holds one YAML document; "
                                 "remove the second '---'")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if "nesting depth" in str(exc.problem):  # newer libyaml stops deep documents itself
            raise LimitError([Diagnostic(src.name, line, col, "", "too_deep",
                                         f"nesting is deeper than {limits.max_depth} levels")])
        msg = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            msg = f"invalid YAML: {exc.problem} ({exc.context})"
        lines = text.split("\n")
        line_text = lines[line - 1] if 0 < line <= len(lines) else ""
        if line_text[col - 1:col] == "\t":
            msg += "; YAML indents with spaces, not tabs: replace the tab with spaces"
        opened = exc.context_mark
        if opened and mark and opened.line < mark.line and "flow" in str(exc.context):
            msg += (f"; the '{'{' if 'mapping' in str(exc.context) else '['}' opened at line {opened.line + 1}, "
                    f"column {opened.column + 1} is not closed")
        if re.search(r"[{\[,:]\s*[A-Za-z_]\w*\[-?[0-9]*:?-?[0-9]*\]", line_text) and re.search(r"[{\[]", line_text):
            msg += ("; a neuron reference like h1[3] inside {...} or [...] must be quoted: \"h1[3]\" "
                    "(or write the mapping in block style)")
        raise SpecError([Diagnostic(src.name, line, col, "", "yaml_syntax", msg)])
    except yaml.reader.ReaderError as exc:  # a character YAML refuses: say where it is
        at = exc.position if isinstance(exc.position, int) and 0 <= exc.position <= len(text) else 0
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        raise SpecError([Diagnostic(src.name, line, col, "", "yaml_syntax",
                                    f"invalid YAML: unacceptable character #x{exc.character:04x}: "
                                    "control characters are not allowed")])
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(src.name, 1, 1, "", "yaml_syntax", f"invalid YAML: {exc}")])
    except _Abort as exc:
        cls = LimitError if exc.code == "too_deep" else SpecError
        raise cls([Diagnostic(src.name, *exc.position, "", exc.code, exc.message)])
    if errors:
        raise SpecError([Diagnostic(src.name, p[0], p[1], "", code, msg) for p, code, msg in errors])
    return root


_NO_KEY = object()


class _Abort(Exception):
    def __init__(self, position, code, message):
        self.position, self.code, self.message = position, code, message


def _locate_yaml(text: str, wanted: set, key: bool) -> dict:
    found = {}
    stack = []  # [path, is_map, index_or_pending_key, expecting_key]
    _load_yaml()
    for ev in yaml.parse(text, Loader=_SafeEventLoader):
        kind = type(ev)
        if kind in (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.AliasEvent):
            if not stack:
                path = ()
            else:
                frame = stack[-1]
                if frame[1]:  # mapping
                    if frame[3]:  # this event is a key
                        frame[2] = ev.value if kind is yaml.ScalarEvent else None
                        frame[3] = False
                        kpath = frame[0] + (frame[2],)
                        if key and kpath in wanted:
                            found[kpath] = _pos(ev)
                        if kind is yaml.ScalarEvent or kind is yaml.AliasEvent:
                            continue
                        path = kpath
                    else:
                        path = frame[0] + (frame[2],)
                        frame[3] = True
                else:
                    path = frame[0] + (frame[2],)
                    frame[2] += 1
            if path in wanted and not (key and path in found):
                found.setdefault(path, _pos(ev))
            if kind is yaml.MappingStartEvent:
                stack.append([path, True, None, True])
            elif kind is yaml.SequenceStartEvent:
                stack.append([path, False, 0, False])
        elif kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
            stack.pop()
    return found


# --------------------------------------------------------------------------------------------
# JSON


def _no_constant(name):
    raise _JSONValueError(f"'{name}' is not a finite number; only finite numbers are allowed", "not_finite")


class _JSONValueError(ValueError):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _pairs(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _JSONValueError(f"duplicate key '{k}'; each key may appear once", "duplicate_key")
            seen.add(k)
    return out


# A number json turns into a non-finite float (1e999) or an over-long integer needs an exponent of
# three digits or a run of hundreds of digits: text with neither (found by one byte translation
# and three substring searches, a fraction of json's own time) is parsed without per-number hooks.
_NUMBER_SHAPES = bytes(ord("0") if chr(c).isdigit() and c < 128 else ord("e") if c in b"eE" else
                       ord("+") if c in b"+-" else ord(" ") for c in range(256))
_LONG_DIGITS = b"0" * min(MAX_INT_DIGITS + 1, 300)


def _may_hold_risky_numbers(text: str) -> bool:
    shapes = text.encode("utf-8", "surrogatepass").translate(_NUMBER_SHAPES)
    return b"e000" in shapes or b"e+000" in shapes or _LONG_DIGITS in shapes


def parse_json(src: Source, limits: Limits):
    # Deep nesting: the C scanner raises RecursionError (caught below) long before the stack is at
    # risk, and the spec models reject any structure deeper than the language's few levels.
    text = src.text
    try:
        if not _may_hold_risky_numbers(text):
            return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant,
                          parse_float=_finite_float, parse_int=_bounded_int)
    except JSONDecodeError as exc:
        raise SpecError([Diagnostic(src.name, exc.lineno, exc.colno, "", "json_syntax",
                                    f"invalid JSON: {exc.msg}")])
    except _JSONValueError as exc:
        # json does not say where a hook failed: find the first offending token ourselves
        pos = _find_json_problem(text, exc.code)
        line, col = _line_col(text, pos)
        raise SpecError([Diagnostic(src.name, line, col, "", exc.code, str(exc))])
    except RecursionError:
        raise LimitError([Diagnostic(src.name, 1, 1, "", "too_deep", "nesting is too deep (a spec's structure "
                                     f"is a few levels deep; the YAML reader stops at {limits.max_depth})")])


def _finite_float(s):
    v = float(s)
    if not math.isfinite(v):
        raise _JSONValueError(f"'{s}' is not a finite number; only finite numbers are allowed", "not_finite")
    return v


def _bounded_int(s):
    if len(s) > MAX_INT_DIGITS:
        raise _JSONValueError(_too_long(s), "number_too_long")
    return int(s)


def _line_col(text: str, pos: int):
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


_WS = re.compile(r"[ \t\n\r]*")


def _find_json_problem(text: str, code: str) -> int:
    if code == "number_too_long":
        for m in re.finditer(r'"(?:[^"\\]|\\.)*"|(-?[0-9]{%d,})' % (MAX_INT_DIGITS + 1), text):
            if m.group(1):
                return m.start()
        return 0
    if code == "not_finite":
        for m in re.finditer(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|-?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)', text):
            if m.group(1) and not math.isfinite(float(m.group(1).replace("Infinity", "inf"))):
                return m.start()
        return 0
    found = {}
    try:
        _walk_json(text, 0, (), None, found, dup=True)
    except (JSONDecodeError, IndexError, ValueError):  # a syntax error after the duplicate: json met the
        pass  # duplicate first, and the walk has recorded it before stopping there
    return found.get("dup", 0)


def _walk_json(text, i, path, wanted, found, key=False, dup=False):
    """Walk one JSON value at offset ``i``; record positions of wanted paths; return end offset."""
    i = _WS.match(text, i).end()
    if wanted is not None and path in wanted and not (key and path in found):
        found.setdefault(path, i)
    c = text[i]
    if c == "{":
        i = _WS.match(text, i + 1).end()
        seen = set()
        if text[i] == "}":
            return i + 1
        while True:
            kpos = i
            k, i = scanstring(text, i + 1)
            if dup and k in seen and "dup" not in found:
                found["dup"] = kpos
            seen.add(k)
            if key and wanted is not None and path + (k,) in wanted:
                found[path + (k,)] = kpos
            i = _WS.match(text, i).end() + 1  # the colon
            sub = path + (k,)
            if dup or (wanted is not None and sub in wanted):
                i = _walk_json(text, i, sub, wanted, found, key, dup)
            else:
                i = _skip_json(text, i)
            i = _WS.match(text, i).end()
            if text[i] == "}":
                return i + 1
            i = _WS.match(text, i + 1).end()
    if c == "[":
        i = _WS.match(text, i + 1).end()
        n = 0
        if text[i] == "]":
            return i + 1
        while True:
            sub = path + (n,)
            if dup or (wanted is not None and sub in wanted):
                i = _walk_json(text, i, sub, wanted, found, key, dup)
            else:
                i = _skip_json(text, i)
            n += 1
            i = _WS.match(text, i).end()
            if text[i] == "]":
                return i + 1
            i = _WS.match(text, i + 1).end()
    return _skip_json(text, i)


_DECODER = json.JSONDecoder()


def _skip_json(text, i):
    i = _WS.match(text, i).end()
    return _DECODER.raw_decode(text, i)[1]


def _locate_json(text: str, wanted: set, key: bool) -> dict:
    found = {}
    _walk_json(text, 0, (), wanted, found, key)
    return {p: _line_col(text, pos) for p, pos in found.items()}


# --------------------------------------------------------------------------------------------


def parse(src: Source, limits: Limits):
    """Parse ``src`` by its format, after bounding its size."""
    size = len(src.text.encode("utf-8", "surrogatepass")) if len(src.text) * 4 > limits.max_document_bytes else len(src.text)
    if size > limits.max_document_bytes:
        raise LimitError([Diagnostic(src.name, 1, 1, "", "document_too_large",
                                     f"the spec is {size:,} bytes, over the limit of {limits.max_document_bytes:,} "
                                     f"bytes; {Limits.how_to_raise('max_document_bytes')}")])
    # Building hundreds of thousands of small containers triggers the cyclic garbage collector
    # again and again for nothing (a spec's data holds no cycles): pause it while parsing.
    paused = gc.isenabled()
    gc.disable()
    try:
        if src.format == "json":
            return parse_json(src, limits)
        return parse_yaml(src, limits)
    finally:
        if paused:
            gc.enable()
