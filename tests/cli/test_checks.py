"""core.cli.common's option checks, in process: each refusal is one sentence, exit 2."""

from __future__ import annotations

import pytest

from core.cli import common
from core.mailboxes.state import TWOFA_STATES


def refusal(check, value: str) -> common.Exit:
    with pytest.raises(common.Exit) as caught:
        check(value)
    assert caught.value.code == 2
    return caught.value


def test_every_twofa_state_is_accepted_and_the_refusal_lists_them():
    assert [common.check_twofa(s) for s in TWOFA_STATES] == list(TWOFA_STATES)
    assert common.check_twofa(None) is None
    assert refusal(common.check_twofa, "maybe").message == "--twofa must be on, off or dormant, not 'maybe'."


def test_the_twofa_refusal_is_built_from_the_states(monkeypatch):
    monkeypatch.setattr(common, "TWOFA_STATES", ("on", "off", "dormant", "paused"))
    assert refusal(common.check_twofa, "maybe").message == (
        "--twofa must be on, off, dormant or paused, not 'maybe'."
    )
    assert common.check_twofa("paused") == "paused"
