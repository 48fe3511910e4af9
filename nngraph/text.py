"""User strings on the terminal: shown as text, never obeyed.

A label, a node name, an unknown key, a file name or a value echoed in an error can hold
control characters (``ESC[2J`` clears the screen, ``ESC]0;...BEL`` sets the window title, the
8-bit CSI ``\\x9b``, ``\\r`` overwrites a line), bidirectional overrides that reorder what is
read, or rich markup (``[/]`` crashes a table, ``[bold]`` restyles it). Everything printed goes
through one of these:

- ``terminal(s)``: control, format and bidi characters become visible escapes (``\\x1b``,
  ``\\u202e``); newlines and tabs are kept only when ``lines=True`` (whole messages that nngraph
  itself laid out over several lines);
- ``rich_text(s)``: ``terminal(s)`` with rich markup escaped, for tables and ``Console.print``.
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text:
# Arabic letter mark, zero-width and directional marks, line/paragraph separators, bidi
# embeddings/overrides/isolates, word joiner and invisible operators, BOM, interlinear
# annotations, noncharacters, and lone surrogates (which cannot be encoded for output).
_UNSAFE = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
           "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff")
UNSAFE = _UNSAFE  # the character class, shared with the diagram writers (nngraph.draw.safe.plain)
_ALL = re.compile(f"[\t\n{_UNSAFE}]")
_SOME = re.compile(f"[{_UNSAFE}]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def terminal(s, lines: bool = False) -> str:
    """``s`` with every control or invisible formatting character shown as an escape."""
    return (_SOME if lines else _ALL).sub(_escape, str(s))


def rich_text(s, lines: bool = False) -> str:
    """``terminal(s)`` with rich markup escaped: safe inside a rich table or ``Console.print``."""
    from rich.markup import escape

    text = terminal(s, lines)
    # rich.markup.escape doubles a final backslash so it cannot escape markup that follows
    return escape(text)


def plural(n, word: str) -> str:
    """``1 output``, ``2 outputs``, ``1,234 parameters``: a count with its noun in agreement."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"
