"""YAML as scenario files may write it: PyYAML's safe loader, stricter where a loose
reading would change a drill or crash the loader.

* a key written twice in one mapping is refused, naming the key and both lines (PyYAML
  silently keeps the last one);
* nesting deeper than ``MAX_DEPTH`` levels is refused before PyYAML's recursive composer
  runs out of stack;
* an integer longer than Python's int-string limit (``sys.get_int_max_str_digits``, 4,300
  digits) is refused with its line instead of escaping as a ValueError;
* more than ``MAX_VALUES`` values once aliases are expanded (a "billion laughs" file, a
  recursive alias) is refused before anything walks the data.

``parse_yaml(text)`` returns the data or raises ``YamlProblem`` (a message with its line).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from sim.scenario.limits import MAX_DEPTH, MAX_VALUES


class YamlProblem(ValueError):
    """Text that is not a scenario's YAML; the message says what and where."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with a depth guard, duplicate-key refusal and a guarded int."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConstructorError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                       mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` merges; keys written beside it override, by design
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise ConstructorError(None, None, f"duplicate key {key!r} (first at "
                                           f"line {seen[key]})", key_node.start_mark)
                seen[key] = line
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]

    def construct_yaml_int(self, node: Node) -> int:
        try:
            return super().construct_yaml_int(node)  # type: ignore[no-any-return]
        except ValueError:  # Python's int-string conversion limit
            limit = sys.get_int_max_str_digits()
            raise ConstructorError(None, None, "an integer with too many digits (at most "
                                   f"{limit})", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def parse_yaml(text: str) -> Any:
    """The data in ``text``; raises YamlProblem saying what is wrong and on which line."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise YamlProblem(_describe(exc)) from None
    except RecursionError:  # a guard above should always fire first; never a traceback
        raise YamlProblem(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_size(data)
    return data


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return f"not valid YAML{where}: {problem}"


def _check_size(data: Any) -> None:
    """Raises YamlProblem when ``data``, aliases expanded, holds over MAX_VALUES values."""
    stack, count = [data], 0
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise YamlProblem(f"more than {MAX_VALUES:,} values once aliases are expanded "
                              "(an alias that repeats or contains itself?)")
        if isinstance(node, dict):
            stack += node.values()
        elif isinstance(node, list):
            stack += node
