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
from yaml.constructor import BaseConstructor, ConstructorError, SafeConstructor
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
    "merged_pairs",
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
    """Plain Python values (dicts, lists, str, int, float, bool, None, dates) for a node.

    The tree is left as it was composed: PyYAML's own constructor flattens merge keys (``<<``)
    into the nodes themselves, which would make merged keys look like the step's own (given twice,
    on the anchor's lines) to the code that reads positions afterwards.
    """
    constructor = _Constructor()
    return constructor.construct_document(node)


class _Constructor(SafeConstructor):
    def construct_mapping(self, node: Node, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            node = MappingNode(
                node.tag, merged_pairs(node), node.start_mark, node.end_mark, node.flow_style
            )
        return BaseConstructor.construct_mapping(self, node, deep=deep)  # type: ignore[arg-type]


_MERGE = "tag:yaml.org,2002:merge"


def merged_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """The mapping's pairs with its merge keys resolved, as YAML's merge key says.

    Merged pairs come first, then the node's own, so a later (own) key wins when the pairs are
    read into a dict; of several mappings merged as a list, the first wins. Nothing is changed.
    """
    merged: list[tuple[Node, Node]] = []
    own: list[tuple[Node, Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE:
            own.append((key_node, value_node))
        elif isinstance(value_node, MappingNode):
            merged.extend(merged_pairs(value_node))
        elif isinstance(value_node, SequenceNode) and all(
            isinstance(sub, MappingNode) for sub in value_node.value
        ):
            for sub in reversed(value_node.value):
                merged.extend(merged_pairs(sub))
        else:
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "a merge key (<<) takes an alias of a mapping or a list of them",
                value_node.start_mark,
            )
    return merged + own


def mapping_get(
    node: MappingNode, key: str, *, merged: bool = False
) -> tuple[ScalarNode, Node] | None:
    """The key and value nodes of ``key``: the node's own, or with ``merged`` the one that wins
    after merge keys (which may sit in an anchor elsewhere in the file)."""
    pairs = merged_pairs(node) if merged else node.value
    for key_node, value_node in reversed(pairs) if merged else pairs:
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
    visited: set[int] = set()  # an anchored node is reached again through each of its aliases
    while stack:
        current = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
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
