"""Known secrets are masked as whole tokens with one fixed mask; short ones are warned about."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from ordo.config import Settings
from ordo.masking import MASK, MIN_SECRET_LENGTH, Masker


def test_a_secret_inside_another_word_is_left_alone() -> None:
    masker = Masker(["hunter2"])
    assert masker.mask("hunter22 and xhunter2 stay") == "hunter22 and xhunter2 stay"
    assert masker.mask("used hunter2 today") == f"used {MASK} today"
    assert masker.mask("'hunter2'") == f"'{MASK}'"
    assert masker.mask("pw=hunter2;next") == f"pw={MASK};next"
    assert masker.mask("hunter2") == MASK


def test_every_secret_gets_the_same_mask_whatever_its_length() -> None:
    masker = Masker(["abcdef", "a-much-longer-secret-value"])
    assert masker.mask("abcdef a-much-longer-secret-value") == f"{MASK} {MASK}"


def test_a_secret_with_punctuation_at_its_edges_is_masked_next_to_words() -> None:
    masker = Masker(["@pw-secret!"])
    assert masker.mask("user@pw-secret!x") == f"user{MASK}x"


def test_a_url_is_masked_whole_before_the_password_inside_it() -> None:
    url = "postgresql://app:Wh1sper-9@db/warehouse"
    masker = Masker([url, "Wh1sper-9"])
    assert masker.mask(f"connect to {url} now") == f"connect to {MASK} now"
    assert masker.mask("Wh1sper-9 alone") == f"{MASK} alone"


def test_a_short_secret_is_not_masked_as_a_word_and_is_warned_about_once(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    name = f"DB_PASS_{uuid.uuid4().hex[:8].upper()}"  # one this process has not warned about
    with caplog.at_level(logging.WARNING, logger="ordo"):
        first = Settings(values={name: "data"}, root=tmp_path).masker()
        Settings(values={name: "data"}, root=tmp_path).masker()
    assert first.mask("load data step") == "load data step"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert name in warnings[0]
    assert f"shorter than {MIN_SECRET_LENGTH} characters" in warnings[0]
    assert "data" not in warnings[0].replace(name, "")


def test_a_short_secret_is_still_masked_in_a_url_and_a_password_pair() -> None:
    masker = Masker(["data"])
    assert masker.mask("postgresql://app:data@db/x") == f"postgresql://app:{MASK}@db/x"
    assert masker.mask("password=data") == f"password={MASK}"


def test_mysqls_using_password_yes_is_not_taken_for_a_password() -> None:
    # "(using password: YES)" says one was given; masking it ate the bracket and the word.
    masker = Masker(["s3cret-pw"])
    said = "Access denied for user 'app'@'localhost' (using password: YES)"
    assert masker.mask(said) == said
    assert masker.mask("password: hunter22 given") == "password: *** given"
