"""The masker's shortcut for lines with neither ':' nor '=' still masks every shape it knows."""

from __future__ import annotations

from ordo.masking import Masker


def test_a_plain_line_is_left_alone_but_known_secrets_in_it_are_masked() -> None:
    masker = Masker(["hunter2"])
    line = "[1/3] sql 'load' started (attempt 1)"
    assert masker.mask(line) == line
    assert masker.mask("step 'load' used hunter2 today") == "step 'load' used *** today"


def test_shapes_with_a_colon_or_an_equals_sign_are_still_masked() -> None:
    masker = Masker()
    assert masker.mask("postgresql://app:pw@db/x") == "postgresql://app:***@db/x"
    assert masker.mask("password=pw1234") == "password=***"
    assert masker.mask("bot123456:" + "A" * 35) == "bot***"
