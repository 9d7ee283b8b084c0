"""Git's rules for a reference name, so a release version git would refuse as a tag
(``v<version>``) is refused when the scenario loads, not mid-drill.

The rules are git's own, from ``git check-ref-format`` (git/git,
Documentation/git-check-ref-format.txt) as refs.c ``check_refname_component`` and
``check_refname_format`` implement them; tests/sim/test_refname.py holds this function
to the real ``git check-ref-format``.
"""

from __future__ import annotations

# refs.c `refname_disposition`: control characters, DEL, space and ~ ^ : ? * [ \ .
_FORBIDDEN = frozenset(chr(c) for c in range(0x20)) | frozenset("\x7f ~^:?*[\\")


def refname_problem(name: str) -> str | None:
    """Why git rejects ``name`` as a full reference name (``refs/tags/v1.0``), or None."""
    if name == "@":
        return "is the single character '@'"
    if "@{" in name:
        return "contains '@{'"
    if ".." in name:
        return "contains '..'"
    bad = sorted({c for c in name if c in _FORBIDDEN})
    if bad:
        return f"contains {', '.join(repr(c) for c in bad)}"
    if name.endswith("/") or name.endswith("."):
        return f"ends with {name[-1]!r}"
    for component in name.split("/"):
        problem = _component_problem(component)
        if problem:
            return problem
    return None


def _component_problem(component: str) -> str | None:
    if not component:
        return "has an empty path component ('//')"
    if component.startswith("."):
        return "has a component starting with '.'"
    if component.endswith(".lock"):
        return "has a component ending with '.lock'"
    return None


def tag_problem(version: str) -> str | None:
    """Why git rejects the release tag ``v<version>``, or None."""
    return refname_problem(f"refs/tags/v{version}")
