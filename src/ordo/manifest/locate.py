"""Where each step's ``enabled`` value is in the manifest's text, found once at load time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ordo.errors import InvalidInput
from ordo.manifest.yaml_source import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    YAMLError,
    compose,
    mapping_get,
)

__all__ = ["BOOLEANS", "StepLocation", "locate_all", "locate_step"]


# What the loader (pydantic) accepts as a boolean; only used to tell which steps are off.
BOOLEANS = dict.fromkeys(("true", "yes", "on", "y", "t", "1"), True) | dict.fromkeys(
    ("false", "no", "off", "n", "f", "0"), False
)


@dataclass(frozen=True)
class StepLocation:
    """Where one step's ``enabled`` value is, or where one would be inserted (0-based lines).

    ``value_line``/``value_col`` point at the ``enabled`` value (at its anchor or tag when it
    has one, as the parser reports it); both are None when the step has no ``enabled`` key. A new
    line then goes before ``insert_at`` at column ``indent``: the step's second key, so never
    inside a multi-line value of the first, or the line after the only key (``lone_value_col``
    is then that key's value column, so the state can check the value fits on its line).
    """

    name: str
    line: int
    indent: int
    value_line: int | None
    value_col: int | None
    insert_at: int
    lone_value_col: int | None = None


def locate_step(node: MappingNode) -> StepLocation:
    """Record where a step's ``enabled`` value is; raise ValueError for shapes it cannot edit."""
    if node.flow_style:
        raise ValueError(
            "a step must be a block mapping (one key per line), not a flow mapping like "
            "'- {name: a, file: b}', so that its 'enabled' line can be edited on its own"
        )
    found = mapping_get(node, "name")
    name_node = found[1] if found else None
    if not isinstance(name_node, ScalarNode) or not name_node.value or name_node.tag != _STR:
        raise ValueError("a step needs a 'name' that is a non-empty string")
    name = name_node.value
    keys = node.value
    line, indent = keys[0][0].start_mark.line, keys[0][0].start_mark.column
    value_line = value_col = None
    enabled = mapping_get(node, "enabled")
    if enabled is not None:
        if not _one_word(enabled[1]):
            raise ValueError(
                "'enabled' must be a one-line value such as true or false, not one that "
                "goes on over several lines"
            )
        value_line, value_col = enabled[1].start_mark.line, enabled[1].start_mark.column
    if len(keys) > 1:
        return StepLocation(name, line, indent, value_line, value_col, keys[1][0].start_mark.line)
    if name_node.style in ("|", ">"):
        raise ValueError("a step with one key needs its value on one line; add a second key")
    lone = keys[0][1].start_mark
    return StepLocation(name, line, indent, value_line, value_col, lone.line + 1, lone.column)


_STR = "tag:yaml.org,2002:str"


def _one_word(node: object) -> bool:
    """True for a scalar that sits on one line: a bool, a number or a word without spaces."""
    if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
        return False  # a block scalar ('|-' then 'true') starts on the line after its key
    if node.start_mark.line != node.end_mark.line:
        return False
    return bool(node.value) and not any(ch.isspace() for ch in node.value)


def locate_all(path: Path, text: str) -> dict[str, StepLocation]:
    """Parse the manifest once and locate every item of its top-level ``steps`` list."""
    try:
        root = compose(text)
    except YAMLError as exc:
        raise InvalidInput(f"the manifest is not valid YAML: {exc}", file=path) from exc
    steps: Node | None = None
    if isinstance(root, SequenceNode):
        steps = root
    elif isinstance(root, MappingNode) and (found := mapping_get(root, "steps")) is not None:
        steps = found[1]
    if not isinstance(steps, SequenceNode):
        raise InvalidInput("the manifest has no 'steps' list", file=path, hint="see ordo init")
    located: dict[str, StepLocation] = {}
    for node in steps.value:
        line = node.start_mark.line + 1
        if not isinstance(node, MappingNode):
            raise InvalidInput("a step must be a mapping", file=path, line=line)
        try:
            loc = locate_step(node)
        except ValueError as exc:
            raise InvalidInput(str(exc), file=path, line=line) from exc
        if loc.name in located:
            raise InvalidInput("two steps have this name", file=path, line=line, step=loc.name)
        located[loc.name] = loc
    return located
