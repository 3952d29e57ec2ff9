"""The words of a Dataverse ``$filter``: tokens, literals and ``PropertyValues`` JSON arrays.

Features
--------
- `Lexer` splits a ``$filter`` (or a parameter alias's value) into `Token` s: names (dotted ones
  such as ``Microsoft.Dynamics.CRM.In``), ``@aliases``, punctuation, and literals with their Edm
  type: single-quoted strings (``''`` is one quote), numbers (Int32, Int64, Decimal, Double),
  ``true``/``false``/``null``, unquoted GUIDs, ISO date-times and dates.
- A JSON array literal (``["a","o'brien"]``) is read as Dataverse does, leniently: items may
  also be single-quoted, but then end at the next quote, so ``['o'brien']`` fails with
  Dataverse's "Invalid JSON. A comma character ',' was expected..." message.
- `ODataError` carries a refusal's message, HTTP status and Dataverse error code; lexing fails
  only with it ("There is an unterminated literal at position N in '...'.", "Syntax error:
  character '#' is not valid at position N in '...'.").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

NAMESPACE = "Microsoft.Dynamics.CRM"
BAD_REQUEST = "0x80060888"


class ODataError(Exception):
    """A request Dataverse would refuse: its message, HTTP status and error code."""

    def __init__(self, message: str, *, status: int = 400, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def property_error(name: str, entity: str) -> ODataError:
    """Return Dataverse's error for a property the entity does not have."""
    return ODataError(f"Could not find a property named '{name}' on type '{NAMESPACE}.{entity}'.")


_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}(?![\w-])")
_DATETIME = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:\d\d)(?![\w:.])"
)
_DATE = re.compile(r"\d{4}-\d\d-\d\d(?![\w:.-])")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.])")
_NAME = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_ALIAS = re.compile(r"@[^\W\d]\w*")
_PUNCTUATION = frozenset("(),/:=")
_SPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme of a ``$filter``: its kind, value and where it ends in the text."""

    kind: str  # name, alias, literal, or the punctuation character itself, or "end"
    text: str
    end: int
    value: Any = None
    type: str | None = None  # the Edm type of a literal (None for null)


class Lexer:
    """Split a ``$filter`` (or an alias value) into tokens."""

    def __init__(self, text: str) -> None:
        self.text = text

    def syntax_error(self, position: int) -> ODataError:
        return ODataError(f"Syntax error at position {position} in '{self.text}'.")

    def tokens(self) -> list[Token]:
        text, i, found = self.text, 0, []
        while True:
            while i < len(text) and text[i] in _SPACE:
                i += 1
            if i >= len(text):
                found.append(Token("end", "", len(text)))
                return found
            token = self._token(i)
            found.append(token)
            i = token.end

    def _token(self, i: int) -> Token:
        text, char = self.text, self.text[i]
        if char == "'":
            value, end = self._string(i)
            return Token("literal", text[i:end], end, value, "Edm.String")
        if char == "[":
            values, end = _JsonArray(text).parse(i)
            return Token("literal", text[i:end], end, values, "Collection")
        if char in _PUNCTUATION:
            return Token(char, char, i + 1)
        for pattern, parse, edm in _LITERALS:
            if found := pattern.match(text, i):
                try:
                    value = parse(found)
                except (ValueError, InvalidOperation):
                    raise self.syntax_error(found.end()) from None
                return Token("literal", found.group(), found.end(), value, edm(found))
        if found := _NAME.match(text, i):
            word = found.group()
            if word in _KEYWORD_LITERALS:
                value, keyword_type = _KEYWORD_LITERALS[word]
                return Token("literal", word, found.end(), value, keyword_type)
            return Token("name", word, found.end())
        if found := _ALIAS.match(text, i):
            return Token("alias", found.group(), found.end())
        raise ODataError(
            f"Syntax error: character '{char}' is not valid at position {i} in '{text}'."
        )

    def _string(self, start: int) -> tuple[str, int]:
        """Read a single-quoted literal at ``start``; ``''`` inside is one quote."""
        text, i, parts = self.text, start + 1, []
        while True:
            close = text.find("'", i)
            if close < 0:
                raise ODataError(
                    f"There is an unterminated literal at position {len(text)} in '{text}'."
                )
            parts.append(text[i:close])
            if text.startswith("''", close):
                parts.append("'")
                i = close + 2
                continue
            return "".join(parts), close + 1


def _number(found: re.Match[str]) -> int | Decimal | float:
    if found.group(2):
        return float(found.group())
    if found.group(1):
        return Decimal(found.group())
    return int(found.group())


def _number_type(found: re.Match[str]) -> str:
    if found.group(2):
        return "Edm.Double"
    if found.group(1):
        return "Edm.Decimal"
    return "Edm.Int32" if -(2**31) <= int(found.group()) < 2**31 else "Edm.Int64"


_LITERALS: tuple[
    tuple[re.Pattern[str], Callable[[re.Match[str]], Any], Callable[..., str]], ...
] = (
    (_GUID, lambda m: m.group().lower(), lambda m: "Edm.Guid"),
    (_DATETIME, lambda m: parse_datetime(m.group()), lambda m: "Edm.DateTimeOffset"),
    (_DATE, lambda m: dt.date.fromisoformat(m.group()), lambda m: "Edm.Date"),
    (_NUMBER, _number, _number_type),
)
_KEYWORD_LITERALS: dict[str, tuple[Any, str | None]] = {
    "true": (True, "Edm.Boolean"),
    "false": (False, "Edm.Boolean"),
    "null": (None, None),
}


def parse_datetime(text: str) -> dt.datetime:
    """Return an ISO date-time (``Z`` or an offset; none means UTC) as an aware datetime."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class _JsonArray:
    """Dataverse's lenient JSON array of ``PropertyValues``: items may also be single-quoted.

    A single-quoted item ends at the next quote, so ``['o'brien']`` fails as Dataverse's does:
    double-quoted JSON strings are the way to send an apostrophe.
    """

    _ATOM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")

    def __init__(self, text: str) -> None:
        self.text = text

    def invalid(self, detail: str) -> ODataError:
        return ODataError(f"Invalid JSON. {detail}")

    def parse(self, start: int) -> tuple[list[Any], int]:
        text, values = self.text, list[Any]()
        i = self._skip(start + 1)
        if text.startswith("]", i):
            return values, i + 1
        while True:
            value, i = self._value(self._skip(i))
            values.append(value)
            i = self._skip(i)
            if text.startswith("]", i):
                return values, i + 1
            if not text.startswith(",", i):
                raise self.invalid(
                    "A comma character ',' was expected in scope 'Array'. Every two elements"
                    " in an array and properties of an object must be separated by commas."
                )
            i += 1

    def _skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in _SPACE:
            i += 1
        return i

    def _value(self, i: int) -> tuple[Any, int]:
        text = self.text
        if text.startswith('"', i):
            try:
                return json.JSONDecoder().raw_decode(text, i)
            except json.JSONDecodeError:
                raise self.invalid("There is an unterminated string in the array.") from None
        if text.startswith("'", i):
            close = text.find("'", i + 1)
            if close < 0:
                raise self.invalid("There is an unterminated string in the array.")
            return text[i + 1 : close], close + 1
        if found := self._ATOM.match(text, i):
            try:
                return json.loads(found.group()), found.end()
            except json.JSONDecodeError:  # 00, 1e999 and other near-numbers
                raise self.invalid(f"'{found.group()}' is not a valid JSON value.") from None
        if i >= len(text):
            raise self.invalid("Unexpected end of input reached while processing an array.")
        raise self.invalid(f"Unexpected token '{text[i]}' in the array at position {i}.")
