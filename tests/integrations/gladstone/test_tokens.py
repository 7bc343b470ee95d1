"""The member token format as docs/member-token.md gives it to app developers."""

import base64
import re
from pathlib import Path

import pytest

from integrations.gladstone.tokens import (
    TokenRefused,
    key_bytes,
    member_token_create,
    member_token_key_generate,
    member_token_read,
)

DOC = (Path(__file__).resolve().parents[3] / "docs" / "member-token.md").read_text()


def test_the_documented_test_vector_is_what_gatehouse_reads():
    key = re.search(r"\| key \| `([^`]+)`", DOC).group(1)
    token = re.search(r"\| token \| `([^`]+)`", DOC).group(1)
    read = member_token_read(key=key, token=token, now=1767225600 + 30)
    assert (read.member_id, read.issued_at, read.nonce) == ("100042", 1767225600, "3f9c1a7e5b2d4c6e8f0a1b2c3d4e5f60")
    with pytest.raises(TokenRefused, match="expired"):
        member_token_read(key=key, token=token)  # it is years old now


def test_the_documented_python_example_makes_tokens_gatehouse_accepts(capsys):
    code = re.search(r"```python\n(.*?)```", DOC, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/member-token.md", "exec"), namespace)  # noqa: S102 - our own document
    key = member_token_key_generate()
    assert member_token_read(key=key, token=namespace["member_token"](key, 777)).member_id == "777"
    printed = capsys.readouterr().out.strip()
    assert member_token_read(key="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", token=printed).member_id == "100042"


def test_keys_in_either_base64_alphabet_and_padding_are_accepted():
    raw = bytes(range(200, 232))
    assert key_bytes(base64.b64encode(raw).decode()) == raw
    assert key_bytes(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    with pytest.raises(ValueError, match="32 bytes"):
        key_bytes(base64.b64encode(raw[:16]).decode())


def test_every_token_is_different_even_for_the_same_member():
    key = member_token_key_generate()
    assert member_token_create(key=key, member_id=1) != member_token_create(key=key, member_id=1)
