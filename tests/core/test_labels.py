"""A typed label: printable characters only, one space between words, at most 64 characters."""

from __future__ import annotations

import pytest

from core.access import mail_auth_tokens
from core.mailboxes import app_passwords
from core.platform.errors import BadInput

CLEANERS = {
    "app password": (app_passwords.clean_label, "needs a label naming the device", "An app password label"),
    "mail-server token": (
        mail_auth_tokens.clean_label,
        "needs a label naming the server",
        "A mail-server token label",
    ),
}


@pytest.mark.parametrize("kind", CLEANERS)
def test_a_label_keeps_only_printable_text_with_single_spaces(kind):
    clean, _missing, _what = CLEANERS[kind]
    assert clean("  iPhone \t Mail\n") == "iPhone Mail"
    assert clean("Phone\x1b[31m\x00 2") == "Phone[31m 2"
    assert clean("x" * 64) == "x" * 64


@pytest.mark.parametrize("kind", CLEANERS)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n", "\x00\x07", None])
def test_a_blank_label_is_refused_with_what_to_write(kind, blank):
    clean, missing, _what = CLEANERS[kind]
    with pytest.raises(BadInput, match=missing):
        clean(blank)


@pytest.mark.parametrize("kind", CLEANERS)
def test_a_label_of_65_characters_is_refused_saying_the_limit(kind):
    clean, _missing, what = CLEANERS[kind]
    with pytest.raises(BadInput, match=f"^{what} has at most 64 characters.$"):
        clean("x" * 65)
