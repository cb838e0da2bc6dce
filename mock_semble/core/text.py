"""Text as Semble's JavaScript backend sees it: UTF-16 length and ``trim()``'s blanks."""

from __future__ import annotations

# What JavaScript's String.prototype.trim() removes (ECMA-262 WhiteSpace and
# LineTerminator): Python's str.strip() also strips \x1c-\x1f and \x85 but keeps \ufeff.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript's ``String.length`` counts it."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def is_blank(text: str) -> bool:
    """True when JavaScript's ``text.trim()`` would be empty."""
    return not text.strip(JS_WHITESPACE)
