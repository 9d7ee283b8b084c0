"""The SQL pieces both dialects share: the database errors, identifier checks, scripts.

``DatabaseError`` (and ``BadInput``) carry the exit code a CLI maps them to;
``identifier`` lets only plain SQL identifiers into statements built from names;
``split_sql`` cuts a script into statements on ``;``, minding quotes and comments.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DatabaseError(Exception):
    """The database could not be opened or refused a statement; ``exit_code`` for CLIs."""

    exit_code = 1


class BadInput(DatabaseError):
    """Bad input (exit code 2): a DSN this tool cannot open, a missing or foreign backup."""

    exit_code = 2


def identifier(name: str) -> str:
    """``name`` if it is a plain SQL identifier; raises DatabaseError otherwise."""
    if not _IDENTIFIER.match(name):
        raise DatabaseError(f"not a plain SQL identifier: {name!r}")
    return name


def split_sql(script: str) -> list[str]:
    """Split a SQL script into statements on ``;``, minding quotes and ``--`` comments."""
    statements, current, quote, i = [], [], "", 0
    while i < len(script):
        char = script[i]
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
            continue
        elif char == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]
