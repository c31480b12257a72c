"""The Admin key never appears in any output, in any form: a key with a character no key has (a wrapped paste's line
break, the invisible characters chat tools and web pages insert) is refused in one sentence before any request, and
should a runtime skip that rule, the escaped key in `requests`' error text is masked all the same."""

from unittest.mock import patch

import freezegun
import pytest

from airbyte_cdk.models import AirbyteMessageSerializer, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_claude import SourceClaude
from source_claude.components import AdminApiKeyRule, mask_key
from unit_tests.builders import config, read_stream

PUBLIC_PREFIX = "sk-ant-admin01-"
SECRET = "Qm4vT9pXw2LkR7sB3nC8dF1hJ6yZ5uA0eGi"
# What pasting a key can add to it, where it lands, and how the refusal names it.
STRAY_CHARACTERS = {
    "a wrapped paste": ("\n", 20, "a line break at position 36"),
    "a zero-width space": ("\u200b", 11, "U+200B (ZERO WIDTH SPACE) at position 27"),
    "a byte-order mark": ("\ufeff", -len(PUBLIC_PREFIX), "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at position 1"),
    "a zero-width non-joiner": ("\u200c", 30, "U+200C (ZERO WIDTH NON-JOINER) at position 46"),
    "a word joiner": ("\u2060", 5, "U+2060 (WORD JOINER) at position 21"),
    "a space inside": (" ", 17, "a space at position 33"),
}


def pasted_key(character: str, position: int) -> str:
    """The key with `character` inserted `position` characters after its public prefix (negative: inside it)."""
    key = PUBLIC_PREFIX + SECRET
    at = len(PUBLIC_PREFIX) + position
    return key[:at] + character + key[at:]


def fragments(key: str) -> set:
    """Every 8 characters of the key, as pasted and without the stray character, that are not all its public prefix."""
    forms = (key, "".join(character for character in key if "!" <= character <= "~"))
    return {form[i:i + 8] for form in forms for i in range(len(form) - 7) if PUBLIC_PREFIX.find(form[i:i + 8]) != 0
            and form[i:i + 8] not in PUBLIC_PREFIX}


def shown_fragments(key: str, text: str) -> list:
    return sorted(fragment for fragment in fragments(key) if fragment in text)


@pytest.mark.package_only  # refused as the source is built; the manifest-only runtime refuses it later
@pytest.mark.parametrize("name", list(STRAY_CHARACTERS))
def test_a_key_with_a_character_no_key_has_is_refused_in_one_sentence_that_does_not_quote_it(name) -> None:
    character, position, named = STRAY_CHARACTERS[name]
    key = pasted_key(character, position)
    with HttpMocker(), freezegun.freeze_time("2025-03-10T12:00:00Z"):  # no request may be sent: none is mocked
        with pytest.raises(AirbyteTracedException) as refused:
            SourceClaude(config=config(admin_api_key=key))
    message = refused.value.message
    assert message.startswith(f"admin_api_key has {named}, a character no Anthropic key has")
    assert "paste the key again as plain text on one line" in message
    assert shown_fragments(key, message) == []


def test_every_printable_key_passes_the_rule() -> None:
    AdminApiKeyRule().validate(PUBLIC_PREFIX + SECRET + "_-")


def test_where_the_rule_is_not_run_the_key_is_refused_before_requests_can_quote_it() -> None:
    """requests refuses a header value with a line break, quoting it (repr) in its error, which the CDK's stream error
    trace does not mask: the authenticator refuses the key first. Every message of the read is swept."""
    key = pasted_key(*STRAY_CHARACTERS["a wrapped paste"][:2])
    with patch.object(AdminApiKeyRule, "validate", lambda self, value: None), patch("time.sleep"), HttpMocker(), \
            freezegun.freeze_time("2025-03-10T12:00:00Z"):
        output = read_stream("messages_usage", config(admin_api_key=key, start_date="2025-03-08"),
                             sync_mode=SyncMode.full_refresh, expecting_exception=True)
    assert output.errors[0].trace.error.message.startswith("admin_api_key has a line break at position 36")
    everything = "\n".join(str(AirbyteMessageSerializer.dump(message)) for message in output.get_message_iterator())
    assert shown_fragments(key, everything) == []


def test_each_form_of_the_key_is_masked_whole_before_its_parts() -> None:
    key = pasted_key("\n", 20)
    mask_key(key)
    for shown in (repr(key), '"' + key.replace("\n", "\\n") + '"', key.replace("\n", "%0A"), key.split("\n")[1]):
        assert filter_secrets(f"header value {shown} refused") in ("header value '****' refused",
                                                                  'header value "****" refused',
                                                                  "header value **** refused")
