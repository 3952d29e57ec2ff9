"""The words of a SOQL query: tokens and literals, and the errors Salesforce answers with.

Features
--------
- `Lexer` splits a query into `Token` s: names (``Account.Name`` is one dotted name; keywords are
  names the parser recognises, in any case), punctuation ``( ) ,``, operators ``= != < <= > >=``
  and literals: single-quoted strings, numbers (``42``, ``-1.5``, ``1e-05`` as ``str(float)``
  writes them), ``true``/``false``/``null`` (by the parser) and unquoted date-times
  (``2026-11-20T09:30:00Z``, ``...00.000+0000``, ``...00+00:00``) and dates (``2026-11-20``).
- Strings take Salesforce's escapes (``\\' \\" \\\\ \\n \\r \\t \\b \\f \\uXXXX``, and ``\\%``
  ``\\_`` for a literal ``%``/``_`` in LIKE); any other backslash is MALFORMED_QUERY. A string
  token keeps both its value and, for LIKE, a compiled pattern in which ``%`` matches any run,
  ``_`` one character and the escaped ones themselves.
- `SoqlError` is a refusal: Salesforce's ``errorCode`` and message. `located` builds the
  message Salesforce writes for a parse error: the query line, a caret, ``ERROR at Row:R:
  Column:C`` and the reason (``unexpected token: 'FORM'``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"


class SoqlError(Exception):
    """A query Salesforce refuses: its ``errorCode`` and message (HTTP 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def located(query: str, position: int, reason: str, code: str = MALFORMED_QUERY) -> SoqlError:
    """Return an error pointing at ``position`` of ``query`` as Salesforce draws it."""
    position = max(0, min(position, len(query)))
    row = query.count("\n", 0, position) + 1
    line_start = query.rfind("\n", 0, position) + 1
    line_end = query.find("\n", position)
    line = query[line_start : len(query) if line_end < 0 else line_end]
    column = position - line_start
    caret = " " * column + "^"
    return SoqlError(code, f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column + 1}\n{reason}")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme: its kind, its text, where it starts, and a literal's value."""

    kind: str  # name, string, number, datetime, date, op, punct or end
    text: str
    start: int
    value: Any = None
    like: re.Pattern[str] | None = None  # strings only: the value as a LIKE pattern


_DATETIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)(?![\w:.+-])"
)
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?![\w:.+-])")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
_PUNCTUATION = "(),"
_SPACE = " \t\r\n"
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


class Lexer:
    """Split a SOQL query into tokens."""

    def __init__(self, text: str) -> None:
        self.text = text

    def tokens(self) -> list[Token]:
        text, i, found = self.text, 0, []
        while True:
            while i < len(text) and text[i] in _SPACE:
                i += 1
            if i >= len(text):
                found.append(Token("end", "<EOF>", len(text)))
                return found
            token, i = self._token(i)
            found.append(token)

    def _token(self, i: int) -> tuple[Token, int]:
        text, char = self.text, self.text[i]
        if char == "'":
            return self._string(i)
        if char in _PUNCTUATION:
            return Token("punct", char, i), i + 1
        if match := _DATETIME.match(text, i):
            return Token("datetime", match.group(), i, self._datetime(match)), match.end()
        if match := _DATE.match(text, i):
            return Token("date", match.group(), i, self._date(match)), match.end()
        if match := _NUMBER.match(text, i):
            return Token("number", match.group(), i, float(match.group())), match.end()
        if match := _NAME.match(text, i):
            return Token("name", match.group(), i), match.end()
        for operator in _OPERATORS:
            if text.startswith(operator, i):
                return Token("op", operator, i), i + len(operator)
        raise SoqlError(
            MALFORMED_QUERY,
            f"line {_line_column(text, i)} no viable alternative at character '{char}'",
        )

    def _string(self, start: int) -> tuple[Token, int]:
        """Read a quoted literal at ``start``: its value and its LIKE pattern."""
        text, i = self.text, start + 1
        value: list[str] = []
        pattern: list[str] = []
        while True:
            if i >= len(text):
                raise SoqlError(
                    MALFORMED_QUERY,
                    f"line {_line_column(text, len(text))} mismatched character '<EOF>'"
                    " expecting '''",
                )
            char = text[i]
            if char == "'":
                return Token(
                    "string",
                    text[start : i + 1],
                    start,
                    "".join(value),
                    re.compile("".join(pattern), re.IGNORECASE | re.DOTALL),
                ), i + 1
            if char != "\\":
                value.append(char)
                pattern.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
                i += 1
                continue
            escaped = text[i + 1 : i + 2]
            if escaped in _ESCAPES:
                decoded, i = _ESCAPES[escaped], i + 2
            elif escaped in ("%", "_"):
                decoded, i = escaped, i + 2
            elif escaped == "u" and _HEX4.fullmatch(text, i + 2, i + 6):
                decoded, i = self._unicode(i)
            else:
                literal = text[start + 1 : min(len(text), i + 2)]
                raise SoqlError(
                    MALFORMED_QUERY,
                    f"Invalid string literal '{literal}'. Illegal character sequence"
                    f" '\\{escaped}' in string literal.",
                )
            value.append(decoded)
            pattern.append(re.escape(decoded))

    def _unicode(self, i: int) -> tuple[str, int]:
        """Decode ``\\uXXXX`` at ``i`` (joining a surrogate pair written as two escapes)."""
        code = int(self.text[i + 2 : i + 6], 16)
        if 0xD800 <= code < 0xDC00 and self.text.startswith("\\u", i + 6):
            low_text = self.text[i + 8 : i + 12]
            if _HEX4.fullmatch(low_text) and 0xDC00 <= (low := int(low_text, 16)) < 0xE000:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), i + 12
        return chr(code), i + 6

    def _datetime(self, match: re.Match[str]) -> dt.datetime:
        year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
        fraction, zone = match.group(7) or "", match.group(8)
        try:
            offset = dt.timedelta(0)
            if zone != "Z":
                digits = zone[1:].replace(":", "")
                offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                offset = -offset if zone[0] == "-" else offset
            value = dt.datetime(
                year,
                month,
                day,
                hour,
                minute,
                second,
                int(fraction[:6].ljust(6, "0")),
                dt.timezone(offset),
            ).astimezone(dt.UTC)
        except (ValueError, OverflowError):
            raise located(
                self.text, match.start(), f"value of the date-time '{match.group()}' is invalid"
            ) from None
        return value

    def _date(self, match: re.Match[str]) -> dt.date:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise located(
                self.text, match.start(), f"value of the date '{match.group()}' is invalid"
            ) from None


def _line_column(text: str, position: int) -> str:
    """Return ``line:column`` of ``position`` as Salesforce's lexer writes it (column from 0)."""
    line_start = text.rfind("\n", 0, position) + 1
    return f"{text.count(chr(10), 0, position) + 1}:{position - line_start}"
