"""Reads a manifest file into typed objects, reporting every problem with its line at once.

The file is parsed once (``yaml_source``) into a node tree that keeps the position of every
key; those positions give error lines and let ``ManifestState`` edit the file in place later
without parsing it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, ValidationError

from ordo._hints import did_you_mean
from ordo.errors import ManifestInvalid, Problem
from ordo.kinds import available_kinds, get_kind, kind_for_file
from ordo.manifest.locate import alias_line, locate_step
from ordo.manifest.model import Manifest, PipelineOptions, StepEntry
from ordo.manifest.yaml_source import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    YAMLError,
    compose,
    duplicate_keys,
    mapping_get,
    to_python,
)

__all__ = ["load_manifest", "parse_manifest"]

ProblemSink = Callable[..., None]


def load_manifest(path: Path) -> Manifest:
    """Read and validate ``path``.

    A file that cannot be parsed raises ``ManifestInvalid``; anything else wrong is gathered in
    ``Manifest.problems`` (the valid steps are kept), so planning can add its own findings and
    report everything at once.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestInvalid(
            [Problem(f"cannot read manifest: {exc.strerror}", file=path)]
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestInvalid(
            [Problem("manifest is not UTF-8 text", file=path, hint="save it as UTF-8")]
        ) from exc
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    try:
        root = compose(text)
        data = to_python(root) if root is not None else None
    except YAMLError as exc:
        raise ManifestInvalid([_syntax_problem(exc, path)]) from exc

    problems: list[Problem] = []

    def problem(
        message: str, line: int | None = None, step: str | None = None, hint: str | None = None
    ) -> None:
        problems.append(Problem(message, file=path, line=line, step=step, hint=hint))

    if isinstance(root, SequenceNode):  # a bare list of steps is a manifest too
        top_node: MappingNode | None = None
        steps_node: Node | None = root
        top: dict[str, Any] = {}
        built: object = data
    elif isinstance(root, MappingNode) and isinstance(data, dict):
        top_node = root
        found = mapping_get(root, "steps")
        steps_node = found[1] if found else None
        built = data.get("steps")
        # x-... keys hold anchors for the steps to merge or alias (compose files' convention)
        top = {k: v for k, v in data.items() if k != "steps" and not _free(k)}
    else:
        raise ManifestInvalid(
            [Problem("manifest must be a mapping with a 'steps' list", file=path, line=1)]
        )
    for dup in duplicate_keys(root):
        problem(f"key '{dup.key}' given twice (first on line {dup.first_line})", line=dup.line)

    pipeline = _validate(PipelineOptions, top, top_node, problem, step=None)
    if steps_node is None or (isinstance(steps_node, ScalarNode) and steps_node.value == ""):
        problem("manifest has no 'steps' list", line=1, hint="add `steps:` with at least one step")
    elif not isinstance(steps_node, SequenceNode):
        problem("'steps' must be a list of steps", line=steps_node.start_mark.line + 1)

    entries = _entries(text, steps_node, built, problem)
    return Manifest(
        path=path,
        text=text,
        pipeline=pipeline or PipelineOptions(),
        steps=tuple(entries),
        problems=tuple(problems),
    )


def _entries(
    text: str, steps_node: Node | None, built: object, problem: ProblemSink
) -> list[StepEntry]:
    """The steps of the list, each checked; what is wrong with them goes to ``problem``."""
    entries: list[StepEntry] = []
    seen: dict[str, int] = {}
    nodes = steps_node.value if isinstance(steps_node, SequenceNode) else []
    # Each step's values as the document's construction made them (building them again
    # from each node cost a tenth of a millisecond a step); a file whose 'steps' key is
    # given twice is refused anyway, and then each node is built on its own.
    values_of = built if isinstance(built, list) and len(built) == len(nodes) else None
    written_up_to = steps_node.start_mark.index if steps_node is not None else 0
    for index, node in enumerate(nodes):
        line = node.start_mark.line + 1
        if node.start_mark.index < written_up_to:
            # an alias (``- *step``): the node is the anchor's, written earlier in the file;
            # there is no text of this step's own to record it in
            problem(
                f"step {index + 1} is an alias of a step written elsewhere, so it cannot be "
                "marked done in place",
                line=alias_line(text, written_up_to),
                hint="write it as a mapping that merges the anchor: `- {<<: *anchor}` "
                "(or `- <<: *anchor` on its own lines)",
            )
            continue
        written_up_to = node.end_mark.index
        if not isinstance(node, MappingNode):
            problem(f"step {index + 1} must be a mapping of keys (name, file, type...)", line=line)
            continue
        name_found = mapping_get(node, "name", merged=True)
        if name_found and isinstance(name_found[1], ScalarNode) and name_found[1].value:
            raw_name, name_line = name_found[1].value, name_found[0].start_mark.line + 1
            if raw_name in seen:
                problem(
                    f"duplicate step name '{raw_name}' (first used on line {seen[raw_name]})",
                    line=name_line,
                    step=raw_name,
                    hint="step names must be unique: the manifest records done steps by name",
                )
            seen.setdefault(raw_name, name_line)
        if _inherits_from_a_step(node, nodes):
            problem(
                "this step merges another step and would be switched off when that one is "
                "marked done",
                line=line,
                hint="give it its own 'enabled: true'",
            )
        values = values_of[index] if values_of is not None else to_python(node)
        entry = _step_entry(index, node, values, line, problem)
        if entry is not None:
            entries.append(entry)
    return entries


def _syntax_problem(exc: YAMLError, path: Path) -> Problem:
    """Name the line where the trouble starts: an unclosed quote is found at the end of the
    file (``problem_mark``), but the parser also says where it was opened (``context_mark``)."""
    context = getattr(exc, "context", None)
    mark = getattr(exc, "context_mark", None) if context else None
    mark = mark or getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    if context:
        reason = f"{context}: {reason}"
        found = getattr(exc, "problem_mark", None)
        if found is not None and line is not None and found.line + 1 != line:
            reason += f" (noticed on line {found.line + 1})"
    return Problem(f"YAML syntax error: {reason}", file=path, line=line)


def _inherits_from_a_step(node: MappingNode, steps: Sequence[Node]) -> bool:
    """True when ``enabled`` would come from another step through a merge key: marking that
    step done adds ``enabled: false`` to it, and so to this one."""
    if mapping_get(node, "enabled") is not None:
        return False
    sources: list[Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            is_list = isinstance(value_node, SequenceNode)
            sources.extend(value_node.value if is_list else [value_node])
    return any(source is step for source in sources for step in steps)


def _free(key: object) -> bool:
    return isinstance(key, str) and key.startswith("x-")


def _step_entry(
    index: int, node: MappingNode, values: dict[str, Any], line: int, problem: ProblemSink
) -> StepEntry | None:
    raw_name = values.get("name")
    name = str(raw_name) if isinstance(raw_name, str | int) and raw_name != "" else None
    key_lines = {
        str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, ScalarNode)
    }
    try:
        location = locate_step(node)
    except ValueError as exc:
        problem(str(exc), line=line, step=name)
        return None
    kind_name = values.get("type")
    if kind_name is None:
        kind_name = _kind_from_file(values.get("file"))
        if kind_name is None:
            suffix = PurePath(str(values.get("file"))).suffix
            what = f"'{suffix}' files" if suffix else "files without an extension"
            problem(
                f"no step type handles {what} (file: {values.get('file')})",
                line=key_lines.get("file", line),
                step=name,
                hint="say which with 'type:', one of: " + ", ".join(available_kinds()),
            )
            return None
    kind_name = str(kind_name)
    if kind_name not in available_kinds():
        problem(
            f"unknown step type '{kind_name}'",
            line=key_lines.get("type", line),
            step=name,
            hint=did_you_mean(
                kind_name, available_kinds(), "types: " + ", ".join(available_kinds())
            ),
        )
        return None
    values["type"] = kind_name
    options = _validate(get_kind(kind_name).options_model, values, node, problem, step=name)
    if options is None:
        return None
    return StepEntry(index, options, line, key_lines, location)


def _kind_from_file(file: object) -> str | None:
    """A step without ``type:`` is what its file's extension says; no file means inline SQL."""
    if file is None or file == "":
        return "sql"
    kind = kind_for_file(str(file))
    return None if kind is None else kind.name


def _validate(
    model: type[BaseModel],
    values: Mapping[str, Any],
    node: MappingNode | None,
    problem: ProblemSink,
    step: str | None,
) -> Any:
    """Validate ``values`` with ``model``, each pydantic error a Problem with a line."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        _report(exc, list(model.model_fields), node, problem, step)
        errors = exc.errors()
    # Unknown keys alone still leave a usable model: keep it, so planning can go on to find
    # this step's other problems (a missing file, a template error) in the same pass. Without
    # them the model may still be incomplete (``python: x.py`` for ``file: x.py`` leaves a
    # sql step with neither ``file`` nor ``sql``): that is reported too, never raised.
    unknown = {
        str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1
    }
    if not unknown or len(unknown) != len(errors):
        return None
    try:
        return model.model_validate({k: v for k, v in values.items() if k not in unknown})
    except ValidationError as again:
        _report(again, list(model.model_fields), node, problem, step)
        return None


def _report(
    exc: ValidationError,
    fields: list[str],
    node: MappingNode | None,
    problem: ProblemSink,
    step: str | None,
) -> None:
    for error in exc.errors():
        loc = error["loc"]
        key = str(loc[0]) if loc else None
        line = _nested_line(node, loc)
        where = ".".join(str(p) for p in loc)
        if error["type"] == "extra_forbidden":
            hint = None
            if len(loc) == 1:
                hint = did_you_mean(key or "", fields, "allowed keys: " + ", ".join(fields))
            problem(f"unknown key '{where}'", line=line, step=step, hint=hint)
        elif error["type"] == "missing":
            problem(f"missing required key '{where}'", line=line, step=step)
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            _tag_problem(error, where, line, step, problem)
        else:
            got = error.get("input")
            shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
            message = error["msg"].removeprefix("Value error, ")
            problem(f"'{where}': {message}{shown}" if where else message, line=line, step=step)


def _tag_problem(
    error: Any, where: str, line: int | None, step: str | None, problem: ProblemSink
) -> None:
    """A list of typed entries (a validate step's ``checks``) whose ``type`` is unknown or
    missing: say which types there are, with a did-you-mean, not pydantic's tag words."""
    context = error.get("ctx") or {}
    key = str(context.get("discriminator", "type")).strip("'")
    choices = [tag.strip().strip("'") for tag in str(context.get("expected_tags", "")).split(",")]
    listed = ", ".join(c for c in choices if c)
    if error["type"] == "union_tag_not_found":  # pydantic does not say the tags here
        problem(f"'{where}': missing '{key}': every entry says which it is", line=line, step=step)
        return
    tag = str(context.get("tag", ""))
    hint = did_you_mean(tag, choices, f"one of {listed}")
    problem(f"'{where}': unknown {key} '{tag}'", line=line, step=step, hint=hint)


def _nested_line(node: Node | None, loc: Sequence[int | str]) -> int | None:
    if node is None:
        return 1
    line = node.start_mark.line + 1
    current: Node = node
    for part in loc:
        if isinstance(current, MappingNode) and (found := mapping_get(current, str(part))):
            line = found[0].start_mark.line + 1
            current = found[1]
        elif (
            isinstance(current, SequenceNode)
            and isinstance(part, int)
            and part < len(current.value)
        ):
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            break
    return line
