"""Manifests shared by more than one test file, and small readers of manifest text."""

from __future__ import annotations

from pathlib import Path

import yaml

# seed 004's workflow, its modes as tags:
#   clear -> seeds -> foundation -> config_models -> validate -> report
#                  \-> census (independent of the models) ----------/
SELECTION_MANIFEST = """\
steps:
  - name: clear
    sql: SELECT 1
    tags: [complete]
  - name: seeds
    sql: SELECT 1
    tags: [complete, quick]
  - name: foundation
    sql: SELECT 1
    tags: [complete, quick]
  - name: config_models
    sql: SELECT 1
    tags: [complete]
  - name: census
    sql: SELECT 1
    depends_on: [seeds]
    tags: [complete, quick]
  - name: validate
    sql: SELECT 1
    depends_on: [config_models, census]
    tags: [complete, quick]
  - name: g_one
    sql: SELECT 1
    transaction_group: g
    depends_on: []
  - name: g_two
    sql: SELECT 1
    transaction_group: g
  - name: report
    sql: SELECT 1
    depends_on: [validate]
"""


def enabled_values(text: str) -> dict[str, object]:
    """Each step's enabled value, or "missing"."""
    return {step["name"]: step.get("enabled", "missing") for step in yaml.safe_load(text)["steps"]}


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path
