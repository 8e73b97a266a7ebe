"""Reads a manifest file into typed objects, reporting every problem with its line at once.

The file is parsed once, with ruamel.yaml's round-trip loader because it keeps the position
of every key; those positions give error lines and let ``ManifestState`` edit the file in place
later without parsing it again.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ordo.errors import ManifestInvalid, Problem
from ordo.kinds import available_kinds, get_kind
from ordo.manifest.model import Manifest, PipelineOptions, StepEntry
from ordo.manifest.state import locate_step

__all__ = ["load_manifest", "parse_manifest"]


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
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestInvalid(
            [Problem("manifest is not UTF-8 text", file=path, hint="save it as UTF-8")]
        ) from exc
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise ManifestInvalid([Problem(message, file=path, line=line)]) from exc
    except YAMLError as exc:
        raise ManifestInvalid([Problem(f"YAML error: {exc}", file=path)]) from exc

    problems: list[Problem] = []

    def problem(
        message: str, line: int | None = None, step: str | None = None, hint: str | None = None
    ) -> None:
        problems.append(Problem(message, file=path, line=line, step=step, hint=hint))

    if isinstance(data, CommentedSeq):  # a bare list of steps is a manifest too
        data_map: CommentedMap = CommentedMap()
        data_map["steps"] = data
        steps_node: Any = data
    elif isinstance(data, CommentedMap):
        data_map = data
        steps_node = data.get("steps")
    else:
        raise ManifestInvalid(
            [Problem("manifest must be a mapping with a 'steps' list", file=path, line=1)]
        )

    top = {k: v for k, v in data_map.items() if k != "steps"}
    pipeline = _validate(PipelineOptions, top, data_map, problem, step=None)
    if steps_node is None:
        problem("manifest has no 'steps' list", line=1, hint="add `steps:` with at least one step")
    elif not isinstance(steps_node, CommentedSeq):
        problem("'steps' must be a list of steps", line=_key_line(data_map, "steps"))

    entries: list[StepEntry] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(steps_node if isinstance(steps_node, CommentedSeq) else []):
        line = steps_node.lc.item(index)[0] + 1
        if not isinstance(node, CommentedMap):
            problem(f"step {index + 1} must be a mapping of keys (name, file, type...)", line=line)
            continue
        raw_name = node.get("name")
        if isinstance(raw_name, str) and raw_name:
            name_line = node.lc.key("name")[0] + 1
            if raw_name in seen:
                problem(
                    f"duplicate step name '{raw_name}' (first used on line {seen[raw_name]})",
                    line=name_line,
                    step=raw_name,
                    hint="step names must be unique: the manifest records done steps by name",
                )
            seen.setdefault(raw_name, name_line)
        entry = _step_entry(index, node, line, problem)
        if entry is not None:
            entries.append(entry)

    return Manifest(
        path=path,
        text=text,
        pipeline=pipeline or PipelineOptions(),
        steps=tuple(entries),
        problems=tuple(problems),
    )


def _step_entry(index: int, node: CommentedMap, line: int, problem: Any) -> StepEntry | None:
    raw_name = node.get("name")
    name = str(raw_name) if isinstance(raw_name, str | int) and raw_name != "" else None
    key_lines = {str(k): node.lc.key(k)[0] + 1 for k in node}
    try:
        location = locate_step(node)
    except ValueError as exc:
        problem(str(exc), line=line, step=name)
        return None
    kind_name = node.get("type")
    if kind_name is None:
        file = str(node.get("file") or "")
        kind_name = "python" if file.endswith(".py") else "sql"
    kind_name = str(kind_name)
    if kind_name not in available_kinds():
        problem(
            f"unknown step type '{kind_name}'",
            line=key_lines.get("type", line),
            step=name,
            hint=_did_you_mean(
                kind_name, available_kinds(), "types: " + ", ".join(available_kinds())
            ),
        )
        return None
    values = dict(node)
    values["type"] = kind_name
    options = _validate(get_kind(kind_name).options_model, values, node, problem, step=name)
    if options is None:
        return None
    return StepEntry(index, options, line, key_lines, location)


def _validate(
    model: type[BaseModel],
    values: Mapping[str, Any],
    node: CommentedMap,
    problem: Any,
    step: str | None,
) -> Any:
    """Validate ``values`` with ``model``, each pydantic error a Problem with a line."""
    try:
        return model.model_validate(_plain(values))
    except ValidationError as exc:
        fields = list(model.model_fields)
        for error in exc.errors():
            loc = error["loc"]
            key = str(loc[0]) if loc else None
            line = _nested_line(node, loc)
            where = ".".join(str(p) for p in loc)
            if error["type"] == "extra_forbidden":
                hint = (
                    _did_you_mean(key or "", fields, "allowed keys: " + ", ".join(fields))
                    if len(loc) == 1
                    else None
                )
                problem(f"unknown key '{where}'", line=line, step=step, hint=hint)
            elif error["type"] == "missing":
                problem(f"missing required key '{where}'", line=line, step=step)
            else:
                got = error.get("input")
                shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
                problem(f"'{where}': {error['msg']}{shown}", line=line, step=step)
        # Unknown keys alone still leave a usable model: keep it, so planning can go on to find
        # this step's other problems (a missing file, a template error) in the same pass.
        unknown = {
            str(e["loc"][0])
            for e in exc.errors()
            if e["type"] == "extra_forbidden" and len(e["loc"]) == 1
        }
        if unknown and len(unknown) == len(exc.errors()):
            return model.model_validate(
                _plain({k: v for k, v in values.items() if k not in unknown})
            )
        return None


def _nested_line(node: Any, loc: Sequence[int | str]) -> int | None:
    line = node.lc.line + 1 if hasattr(node, "lc") else None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _key_line(node: CommentedMap, key: str) -> int | None:
    return node.lc.key(key)[0] + 1 if key in node else None


def _did_you_mean(word: str, choices: Sequence[str], fallback: str) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else fallback


def _plain(value: Any) -> Any:
    """ruamel's commented containers and scalar subclasses to plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for plain in (int, float, str):
        if isinstance(value, plain):
            return plain(value)
    return value
