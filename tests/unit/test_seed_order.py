"""Parents before children (``ordo.data.ordering``)."""

from __future__ import annotations

import pytest

from ordo.data.ordering import CycleError, parents_first


def test_parents_come_first_and_the_rest_keep_their_order() -> None:
    names = ["a_lines", "b_orders", "c_customers", "d_other"]
    parents = {"a_lines": ["b_orders"], "b_orders": ["c_customers"]}
    assert parents_first(names, parents) == ["c_customers", "b_orders", "a_lines", "d_other"]


def test_unknown_parents_and_self_references_are_ignored() -> None:
    assert parents_first(["a", "b"], {"a": ["zz", "a"], "b": []}) == ["a", "b"]


def test_a_cycle_is_shown() -> None:
    with pytest.raises(CycleError) as caught:
        parents_first(["a", "b", "c"], {"a": ["b"], "b": ["c"], "c": ["a"]})
    assert caught.value.cycle == ("a", "b", "c", "a")
    assert "a -> b -> c -> a" in str(caught.value)
