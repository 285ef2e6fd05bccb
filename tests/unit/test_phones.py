"""The one normalisation function (design §6)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.phones import normalize_phone

ALICE = "+15551234567"

ACCEPTED = [
    "+15551234567",
    "5551234567",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "555 123 4567",
    "15551234567",
    "1-555-123-4567",
    "+1 (555) 123-4567",
    " +15551234567 ",
    "tel:+15551234567",
    "tel: +15551234567",
    "TEL:+1-555-123-4567",
    "tel:+15551234567;ext=12",
    "sip:+15551234567@sbc.example.com;user=phone",
    "sips:+15551234567@sbc.example.com",
    "sip:5551234567@10.0.0.1",
]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_accepted_formats_normalise_to_e164(raw):
    assert normalize_phone(raw) == ALICE


NO_NUMBER = [
    "",
    "   ",
    None,
    "anonymous",
    "Anonymous",
    "sip:anonymous@anonymous.invalid",
    "tel:anonymous",
    "unknown",
    "restricted",
    "tel:",
    "tel: ",
    "sip:",
    "not a number",
    "{{contact.attributes.caller.phoneNumber}}",
    "${input.phoneNumber}",
    "123",
    "555-1234",  # local only: no area code, so no E.164 form
    "+1555123456789012",
    "5" * 200,
    15551234567,
    ["+15551234567"],
    {"number": "+15551234567"},
]


@pytest.mark.parametrize("raw", NO_NUMBER)
def test_no_usable_number_gives_none(raw):
    assert normalize_phone(raw) is None


def test_default_region_applies_to_national_numbers():
    assert normalize_phone("020 8366 1177", region="GB") == "+442083661177"
    assert normalize_phone("+44 20 8366 1177") == "+442083661177"


def test_fictional_555_number_is_possible_though_not_valid():
    import phonenumbers

    parsed = phonenumbers.parse(ALICE)
    assert not phonenumbers.is_valid_number(parsed)  # why is_valid_number is the wrong test
    assert normalize_phone(ALICE) == ALICE


@given(area=st.integers(200, 999), rest=st.integers(0, 10**7 - 1))
def test_nanp_fast_path_agrees_with_phonenumbers(area, rest):
    from crm.phones import parse_to_e164

    text = f"+1{area}{rest:07d}"
    assert normalize_phone(text) == parse_to_e164(text) == text


@given(text=st.from_regex(r"\+1[0-9]{8,12}", fullmatch=True))
def test_nanp_shaped_input_normalises_like_phonenumbers(text):
    from crm.phones import parse_to_e164

    assert normalize_phone(text) == parse_to_e164(text)
