"""The one normalisation function (design §6)."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crm.phones import MAX_INPUT_LENGTH, normalize_phone
from crm.selectors import customer_by_phone

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
    # What telephony really sends (design §6): percent-encoding, name-addr, phone-context.
    "sip:%2B15551234567@sbc.example.com;user=phone",
    "tel:%2B15551234567",
    "tel:%2b1%20555%20123%204567",
    '"Alice Smith" <sip:+15551234567@10.0.0.1>;tag=8c7b6a5d',
    "Alice Smith <sip:+15551234567@10.0.0.1;user=phone>;tag=1",
    '"Smith, Alice <VIP> \\"A\\"" <tel:+15551234567>',
    "<tel:+15551234567>",
    "tel:555-123-4567;phone-context=+1",
    "tel:123-4567;phone-context=+1-555",
    "sip:5551234567;phone-context=+1@sbc.example.com;user=phone",
    "tel:5551234567;phone-context=example.com",  # a domain context: the number stays national
    "sip:+15551234567:secret@sbc.example.com:5061;transport=tls?Subject=x",
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
    "sip:user%40example.com@localhost",  # an internal WebRTC user: a person, not a number
    "sip:5551234567%40example.com@localhost",
    '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a1',
    "<tel:anonymous>",
    "tel:%61nonymous",
    '"Alice" <>',
    "not a number",
    "{{contact.attributes.caller.phoneNumber}}",
    "${input.phoneNumber}",
    "123",
    "555-1234",  # local only: no area code, so no E.164 form
    "+1555123456789012",
    "5" * 200,
    "tel:+15551234567;x=" + "y" * MAX_INPUT_LENGTH,  # too long to be a caller: refused before parsing
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


@pytest.mark.parametrize(
    "raw", ['"Alice Smith" <sip:%2B15551234567@10.0.0.1>;tag=1', "tel:555.123.4567;phone-context=+1"]
)
def test_a_known_customer_is_found_under_a_real_caller_identity(alice, raw):
    caller = customer_by_phone(normalize_phone(raw))
    assert (caller.pk, caller.customer_id) == (alice.pk, "CUST-001")


# -- URIs from the RFC 3966 (tel) and RFC 3261 (sip, name-addr) grammars, around known numbers --

# Known numbers: NANP (+1, area code 2-9) and London (+44 20), with their country code lengths.
nanp = st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True).map(lambda e164: (e164, 1))
london = st.from_regex(r"\+4420[0-9]{8}", fullmatch=True).map(lambda e164: (e164, 2))
numbers = nanp | london

alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
unreserved = alnum + "-_.!~*'()"


def phonedigits(digits: str) -> st.SearchStrategy[str]:
    """The digits with RFC 3966 visual separators ("-" / "." / "(" / ")") between them."""
    separators = st.lists(st.sampled_from(["", "", "", "-", ".", "(", ")"]), min_size=len(digits), max_size=len(digits))
    return separators.map(
        lambda seps: digits[0] + "".join(sep + digit for sep, digit in zip(seps[1:], digits[1:], strict=True))
    )


def percent_encoded(text: str) -> st.SearchStrategy[str]:
    """Text with any of its characters escaped as %XX (either case), as a URI may carry them."""
    flags = st.lists(st.booleans(), min_size=len(text), max_size=len(text))
    lower = st.booleans()
    return st.tuples(flags, lower).map(
        lambda args: "".join(
            (f"%{ord(ch):02x}" if args[1] else f"%{ord(ch):02X}") if escape else ch
            for ch, escape in zip(text, args[0], strict=True)
        )
    )


token = st.text(alphabet=alnum + "-.!%*_+`'~", min_size=1, max_size=8)
pvalue = st.text(alphabet=alnum + "-_.!~*'()[]/:&+$", min_size=1, max_size=8)
pname = st.text(alphabet=alnum + "-", min_size=1, max_size=8).filter(
    lambda name: name.lower() not in ("ext", "isub", "phone-context")
)
# par = parameter / extension / isdn-subaddress
par = st.one_of(
    st.from_regex(r";ext=[0-9]{1,5}", fullmatch=True),
    pvalue.map(lambda value: f";isub={value}"),
    st.tuples(pname, st.none() | pvalue).map(lambda p: f";{p[0]}" + (f"={p[1]}" if p[1] else "")),
)
pars = st.lists(par, max_size=3).map("".join)


@st.composite
def telephone_subscriber(draw, number):
    """global-number *par, or local-number with a phone-context that is a global number prefix."""
    e164, country_digits = number
    digits = e164[1:]
    if draw(st.booleans()):
        return "+" + draw(phonedigits(digits)) + draw(pars)
    split = draw(st.integers(country_digits, len(digits) - 1))
    prefix, local = digits[:split], digits[split:]
    context = ";phone-context=+" + draw(phonedigits(prefix))
    return draw(phonedigits(local)) + draw(pars) + context + draw(pars)


def escaped_number(subscriber: str) -> st.SearchStrategy[str]:
    """The subscriber with its number (before any ;param) percent-encoded here and there."""
    number, sep, rest = subscriber.partition(";")
    return percent_encoded(number).map(lambda escaped: escaped + sep + rest)


def scheme(name: str) -> st.SearchStrategy[str]:
    """A URI scheme in any case (schemes are case-insensitive)."""
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(ch.upper() if up else ch for ch, up in zip(name, upper, strict=True))
    )


@st.composite
def tel_uri(draw, number):
    """tel:telephone-subscriber; Genesys' help also shows a space after the colon."""
    subscriber = draw(telephone_subscriber(number).flatmap(escaped_number))
    return draw(scheme("tel")) + ":" + draw(st.sampled_from(["", " "])) + subscriber


hostname = st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3).map(
    lambda labels: ".".join(labels) + ".example.com"
)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts)))
ipv6 = st.sampled_from(["[2001:db8::1]", "[::1]", "[fe80::a00:27ff:fe4e:66a1]"])
host = hostname | ipv4 | ipv6
uri_param = st.sampled_from([";user=phone", ";transport=udp", ";transport=TLS", ";lr", ";maddr=10.0.0.1", ";ttl=15"])
header = st.tuples(token, pvalue).map(lambda h: f"{h[0]}={h[1]}")


# RFC 3261 user = 1*(unreserved / escaped / user-unreserved): a telephone-subscriber's other
# characters (":", "[", "]" of its parameters) are escaped in a SIP user part (19.1.6).
sip_user_chars = set(unreserved + "&=+$,;?/%")


def sip_user(subscriber: str) -> str:
    """The subscriber with the characters a SIP user part cannot carry escaped."""
    return "".join(ch if ch in sip_user_chars else f"%{ord(ch):02X}" for ch in subscriber)


@st.composite
def sip_uri(draw, number):
    """sip(s):user[:password]@host[:port]*uri-parameter[?headers], the user a telephone-subscriber."""
    user = sip_user(draw(telephone_subscriber(number).flatmap(escaped_number)))
    password = draw(st.none() | st.text(alphabet=alnum + "&=+$,", min_size=1, max_size=6))
    port = draw(st.none() | st.integers(1, 65535))
    headers = draw(st.lists(header, max_size=2))
    return (
        draw(scheme(draw(st.sampled_from(["sip", "sips"]))))
        + ":"
        + user
        + (f":{password}" if password else "")
        + "@"
        + draw(host)
        + (f":{port}" if port else "")
        + "".join(draw(st.lists(uri_param, max_size=3)))
        + ("?" + "&".join(headers) if headers else "")
    )


quoted_string = st.text(alphabet=alnum + " <>@;:,+-()\t" + '\\"', max_size=12).map(
    lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
display_name = st.one_of(st.just(""), quoted_string, st.lists(token, min_size=1, max_size=3).map(" ".join))
header_param = st.sampled_from([";tag=8c7b6a5d", ";tag=as1f2e", ";expires=3600", ";q=0.7", ";+sip.instance=x"])


@st.composite
def name_addr(draw, uri):
    """[display-name] LWS "<" addr-spec ">" *(";" header-param), as in From / P-Asserted-Identity."""
    lws = draw(st.sampled_from(["", " ", "  ", "\t"]))
    params = "".join(draw(st.lists(header_param, max_size=2)))
    return draw(display_name) + lws + "<" + uri + ">" + params


def identities(number):
    """Every shape of caller identity the grammars allow for this number."""
    uris = tel_uri(number) | sip_uri(number)
    return uris | uris.flatmap(name_addr)


@settings(max_examples=250)
@given(data=st.data(), number=numbers)
def test_any_grammatical_uri_for_a_number_normalises_to_it(data, number):
    identity = data.draw(identities(number))
    assume(len(identity) <= MAX_INPUT_LENGTH)
    assert normalize_phone(identity) == number[0]


webrtc_user = st.tuples(token, hostname, host).map(lambda parts: f"sip:{parts[0]}%40{parts[1]}@{parts[2]}")
withheld_uri = st.sampled_from(["sip:anonymous@anonymous.invalid", "tel:anonymous", "sips:Anonymous@host", "tel:"])


@given(identity=(webrtc_user | withheld_uri).flatmap(lambda uri: st.just(uri) | name_addr(uri)))
def test_webrtc_users_and_withheld_callers_are_no_number(identity):
    assert normalize_phone(identity) is None
