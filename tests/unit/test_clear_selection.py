"""``Selection.matches``: names compared as stored, a prefix literally, keep and views."""

from __future__ import annotations

import pytest

from ordo.data.catalog import Relation
from ordo.data.clearing import Selection


def t(name: str) -> Relation:
    return Relation(name, None, False)


def v(name: str) -> Relation:
    return Relation(name, None, True)


@pytest.mark.parametrize(
    ("name", "matched"),
    [
        ("stg_orders", True),
        ("stg_", True),
        ("stgx", False),  # '_' is no wildcard
        ("stg1", False),
        ("STG_orders", False),  # case as stored
        ("a_b", True),
        ("ab", False),
        ("x_stg_orders", False),  # a prefix, not a part
        ("%", False),
    ],
)
def test_a_prefix_is_matched_literally(name: str, matched: bool) -> None:
    assert Selection(prefixes=("stg_", "a_")).matches(t(name)) is matched


def test_tables_keep_and_views() -> None:
    selection = Selection(prefixes=("stg_",), tables=("Orders",), keep=("stg_dates",))
    assert selection.matches(t("Orders"))
    assert not selection.matches(t("orders"))
    assert not selection.matches(t("stg_dates"))
    assert selection.matches(v("stg_totals"))
    no_views = Selection(prefixes=("stg_",), tables=("report",), views=False)
    assert not no_views.matches(v("stg_totals"))
    assert not no_views.matches(v("report"))
    assert no_views.matches(t("report"))


def test_a_selection_must_match_something() -> None:
    with pytest.raises(ValueError, match="needs prefixes, tables or both"):
        Selection()
    with pytest.raises(ValueError, match="a prefix is empty"):
        Selection(prefixes=("stg_", ""))
