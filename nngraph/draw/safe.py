"""Every user string (labels, names, descriptions) lands in a diagram as text, never as markup.

One function per destination, so a writer never decides by itself what is safe:

- ``plain``: control, bidirectional-override and invisible format characters and lone surrogates
  become visible symbols (an escape sequence or a NUL byte is shown, not obeyed, and cannot make
  XML or DOT unparseable or a writer fail to encode); the characters are those
  ``nngraph.text.terminal`` escapes, drawn as pictures (␛) instead of backslash escapes;
- ``dot``: a Graphviz string attribute: backslashes lose their meaning (``\\N``, ``\\l``, a final
  ``\\``), ``<...>`` is not an HTML-like label, ``&`` is not an entity;
- ``xml``: text or an attribute value in SVG/HTML (``<``, ``>``, ``&``, both quotes);
- ``js``: a value inside an inline ``<script>`` (JSON that cannot close the element);
- ``dot_attrs``: every string of an attribute dict through ``dot``, except ``Markup`` built here
  from escaped pieces (``markup``, or ``assemble`` of ``fragment``s: the only way an HTML-like
  label reaches Graphviz).
"""
from __future__ import annotations

import json
import re

from ..text import UNSAFE

# The same characters the terminal escapes (controls, bidi and invisible format characters, lone
# surrogates that no file encoding can hold), shown here as pictures rather than backslash escapes.
_CONTROL = re.compile(f"[{UNSAFE}]")


def _visible(m: re.Match) -> str:
    c = ord(m.group())
    if c < 0x20:
        return chr(0x2400 + c)  # the Unicode "control pictures": ESC shows as ␛
    return "\u2421" if c == 0x7F else "\ufffd"


def plain(s) -> str:
    """``s`` as a one-line printable string (tabs and newlines become spaces)."""
    return _CONTROL.sub(_visible, str(s).replace("\t", " ").replace("\n", " ").replace("\r", " "))


def xml(s) -> str:
    """Text for SVG/HTML content or a quoted attribute value."""
    return (plain(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def dot(s):
    """A Graphviz string attribute that shows ``s`` literally."""
    from graphviz import escape

    return escape(plain(s).replace("&", "&amp;"))


class Markup(str):
    """An HTML-like Graphviz label assembled by ``markup`` from escaped pieces."""


def fragment(template: str, *args) -> str:
    """A piece of an HTML-like label: ``template.format(*escaped args)``, for ``assemble``."""
    return template.format(*(xml(a) for a in args))


def assemble(*fragments: str) -> Markup:
    """An HTML-like label from pieces made by ``fragment`` (only those: each escaped its arguments)."""
    return Markup("<" + "".join(fragments) + ">")


def markup(template: str, *args) -> Markup:
    """``<`` + ``template.format(*escaped args)`` + ``>``: user strings inside are text."""
    return assemble(fragment(template, *args))


def dot_attrs(attrs: dict) -> dict:
    return {k: v if isinstance(v, Markup) else dot(v) for k, v in attrs.items() if v is not None}


def js(value) -> str:
    """JSON for an inline script: ``</script>``, ``<!--`` and U+2028/9 cannot end or break it."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
