"""Session cookies and CSRF tokens of the web UI, on a real SQLite store's tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ordo.service.tokens import create_token, revoke_token
from ordo.service.ui.sessions import SESSION_LIFETIME, SessionKeys
from ordo.store.sqlite import SqliteStore
from ordo.store.tokens import Role

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    made = SqliteStore(tmp_path / "state.db")
    yield made
    made.close()


def test_a_session_names_its_token_and_holds_no_token(store: SqliteStore) -> None:
    made = create_token(store, "ann", Role.OPERATOR, now=T0)
    keys = SessionKeys("key")
    cookie = keys.new_session(made.token, made.record, now=T0)
    assert made.token not in cookie
    assert made.token.removeprefix("ordo_") not in cookie
    session = keys.read_session(cookie, store, now=T0 + timedelta(minutes=5))
    assert session is not None
    assert session.token.name == "ann"
    assert session.token.role is Role.OPERATOR
    assert keys.csrf_ok(session, session.csrf)
    assert not keys.csrf_ok(session, session.csrf[:-1] + "x")
    assert not keys.csrf_ok(session, "")


def test_a_changed_or_foreign_cookie_is_no_session(store: SqliteStore) -> None:
    made = create_token(store, "ann", Role.ADMIN, now=T0)
    cookie = SessionKeys("key").new_session(made.token, made.record, now=T0)
    body, signature = cookie.split(".")
    assert SessionKeys("another key").read_session(cookie, store, now=T0) is None
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    assert SessionKeys("key").read_session(f"{flipped}.{signature}", store, now=T0) is None
    for junk in ("", "x", "a.b.c", "....", None):
        assert SessionKeys("key").read_session(junk, store, now=T0) is None


def test_a_session_ends_with_its_lifetime_its_token_or_a_revocation(store: SqliteStore) -> None:
    keys = SessionKeys("key")
    lasting = create_token(store, "ann", Role.VIEWER, now=T0)
    cookie = keys.new_session(lasting.token, lasting.record, now=T0)
    assert keys.read_session(cookie, store, now=T0 + SESSION_LIFETIME) is None
    brief = create_token(store, "bob", Role.VIEWER, now=T0, expires="1h")
    short = keys.new_session(brief.token, brief.record, now=T0)
    assert keys.read_session(short, store, now=T0 + timedelta(minutes=59)) is not None
    assert keys.read_session(short, store, now=T0 + timedelta(minutes=61)) is None
    revoke_token(store, "ann", now=T0 + timedelta(minutes=1))
    assert keys.read_session(cookie, store, now=T0 + timedelta(minutes=2)) is None


def test_the_sign_in_form_token_is_tied_to_its_nonce() -> None:
    keys = SessionKeys("key")
    nonce = keys.new_signin_nonce()
    assert keys.signin_ok(nonce, keys.signin_csrf(nonce))
    assert not keys.signin_ok(keys.new_signin_nonce(), keys.signin_csrf(nonce))
    assert not keys.signin_ok(None, keys.signin_csrf(nonce))
    assert not keys.signin_ok(nonce, None)


def test_without_a_secret_each_process_signs_with_a_key_of_its_own(store: SqliteStore) -> None:
    made = create_token(store, "ann", Role.VIEWER, now=T0)
    cookie = SessionKeys(None).new_session(made.token, made.record, now=T0)
    assert SessionKeys(None).read_session(cookie, store, now=T0) is None
