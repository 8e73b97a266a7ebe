"""YAML text to a node tree with positions, parsed by libyaml.

Why not ruamel.yaml, which DESIGN.md names: ordo needs positions (for error lines and for
editing ``enabled`` lines in place), not round-tripping, and libyaml's composer gives every
node's start and end position 25 times faster (11 ms against 270 ms for a 1,000-step manifest
on this machine: a quarter of the per-step budget). The file is never re-dumped, so nothing of
ruamel's comment keeping is lost.

libyaml reads YAML 1.1: ``yes``/``no``/``on``/``off`` are booleans, which suits ``enabled``.
It also counts NEL, LS and PS as line breaks; ``LINE_BREAKS`` says so for the code that splits
the text into the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "LINE_BREAKS",
    "DuplicateKey",
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "YAMLError",
    "compose",
    "duplicate_keys",
    "mapping_get",
    "to_python",
]

LINE_BREAKS = "\r\n\x85\u2028\u2029"
YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str) -> Node | None:
    """The document's node tree; raises ``yaml.YAMLError`` (with a mark) on bad syntax."""
    loader = _Loader(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def to_python(node: Node) -> Any:
    """Plain Python values (dicts, lists, str, int, float, bool, None, dates) for a node."""
    constructor = SafeConstructor()
    return constructor.construct_document(node)


def mapping_get(node: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


@dataclass(frozen=True)
class DuplicateKey:
    key: str
    line: int  # 1-based, the repeated key
    first_line: int


def duplicate_keys(node: Node) -> list[DuplicateKey]:
    """Keys given twice in one mapping, anywhere in the tree (libyaml keeps the last silently)."""
    found: list[DuplicateKey] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode):
                    line = key_node.start_mark.line + 1
                    if key_node.value in seen:
                        found.append(DuplicateKey(key_node.value, line, seen[key_node.value]))
                    seen.setdefault(key_node.value, line)
                stack.append(value_node)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return sorted(found, key=lambda d: d.line)
