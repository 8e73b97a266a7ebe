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

__all__ = ["BOOLEANS", "StepLocation", "alias_line", "locate_all", "locate_step"]


# What the loader (pydantic) accepts as a boolean; only used to tell which steps are off.
BOOLEANS = dict.fromkeys(("true", "yes", "on", "y", "t", "1"), True) | dict.fromkeys(
    ("false", "no", "off", "n", "f", "0"), False
)


@dataclass(frozen=True)
class StepLocation:
    """Where one step's ``enabled`` value is, or where one would be inserted (0-based lines).

    ``value_line``/``value_col`` point at the step's own ``enabled`` value (at its anchor or tag
    when it has one, as the parser reports it); both are None when the step has no ``enabled``
    key of its own. ``default`` is then what it is without one: true, or what a merge key
    (``<<: *defaults``) brings in; the anchor is never edited, an own key is added instead.

    A block step gets a new line before ``insert_at`` at column ``indent``: the step's second
    key, so never inside a multi-line value of the first, or the line after the only key
    (``lone_value_col`` is then that key's value column, so the state can check the value fits
    on its line).

    A flow step (``flow``, ``- {name: a, file: b}``) is edited inside its braces: a new
    ``, enabled: false`` goes at ``insert_line``/``insert_col`` (right after its last value, or
    ``enabled: false, `` after the brace when ``insert_front``),
    an existing value ends at ``value_end_col``, and the Done comment goes at the end of
    ``close_line``, the line of its closing brace, which ends at ``close_col``.
    """

    name: str
    line: int
    indent: int
    value_line: int | None
    value_col: int | None
    insert_at: int
    lone_value_col: int | None = None
    default: bool | None = True
    flow: bool = False
    value_end_col: int | None = None
    insert_line: int = 0
    insert_col: int = 0
    close_line: int = 0
    close_col: int = 0
    insert_front: bool = False  # the new pair goes first, right after the opening brace


def locate_step(node: MappingNode) -> StepLocation:
    """Record where a step's ``enabled`` value is; raise ValueError for shapes it cannot edit."""
    found = mapping_get(node, "name", merged=True)
    name_node = found[1] if found else None
    if not isinstance(name_node, ScalarNode) or not name_node.value or name_node.tag != _STR:
        raise ValueError("a step needs a 'name' that is a non-empty string")
    name = name_node.value
    keys = node.value
    line, indent = node.start_mark.line, node.start_mark.column
    if keys:
        line, indent = keys[0][0].start_mark.line, keys[0][0].start_mark.column
    value_line = value_col = None
    default: bool | None = True
    enabled = mapping_get(node, "enabled")
    if enabled is not None:
        if enabled[1].start_mark.index < enabled[0].end_mark.index:
            raise ValueError("'enabled' must be written out (true or false), not an alias")
        if not _one_word(enabled[1]):
            raise ValueError(
                "'enabled' must be a one-line value such as true or false, not one that "
                "goes on over several lines"
            )
        value_line, value_col = enabled[1].start_mark.line, enabled[1].start_mark.column
    elif (inherited := mapping_get(node, "enabled", merged=True)) is not None:
        value = inherited[1]
        default = BOOLEANS.get(value.value.lower()) if isinstance(value, ScalarNode) else None
    if node.flow_style:
        last_key, last_value = keys[-1]
        # after the last value, unless it is an alias (its marks are the anchor's): then first
        front = last_value.start_mark.index < last_key.end_mark.index
        last = node.start_mark if front else last_value.end_mark
        end = enabled[1].end_mark.column if enabled is not None else None
        return StepLocation(
            name, line, indent, value_line, value_col, line, None, default, True, end,
            last.line, last.column + front, node.end_mark.line, node.end_mark.column, front,
        )  # fmt: skip
    if len(keys) > 1:
        second = keys[1][0].start_mark.line
        return StepLocation(name, line, indent, value_line, value_col, second, None, default)
    only_key, only_value = keys[0]
    if only_value is name_node and name_node.style in ("|", ">"):
        raise ValueError("a step with one key needs its value on one line; add a second key")
    lone = only_value.start_mark
    if lone.index < only_key.end_mark.index:  # ``- <<: *defaults``: the alias is on the key's line
        lone = only_key.end_mark
    return StepLocation(
        name, line, indent, value_line, value_col, lone.line + 1, lone.column, default
    )


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
    written_up_to = steps.start_mark.index
    for node in steps.value:
        line = node.start_mark.line + 1
        if node.start_mark.index < written_up_to:
            raise InvalidInput(
                "a step that is an alias cannot be marked done in place",
                file=path,
                line=alias_line(text, written_up_to),
                hint="write it as a mapping that merges the anchor: `- {<<: *anchor}`",
            )
        written_up_to = node.end_mark.index
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


def alias_line(text: str, after: int) -> int:
    """The 1-based line of the first alias (``*name``) after character ``after``: a step that
    is an alias has only the anchor's positions, so its own line is found in the text."""
    star = text.find("*", after)
    return text.count("\n", 0, star if star >= 0 else after) + 1
