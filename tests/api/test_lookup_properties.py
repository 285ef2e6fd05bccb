"""Property: whatever a caller sends as phoneNumber, the answer is one of the contract's."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract import ALICE_BODY, NOT_FOUND_BODY, URL

pytestmark = pytest.mark.django_db

# Any Unicode text that JSON can carry (lone surrogates are refused by the parser: see below).
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
ALLOWED_400 = {
    b'{"error":"phoneNumber must be a string or null"}',
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=texts | json_values)
def test_any_phone_number_value_gets_a_contract_answer(api, alice, value):
    response = api.post(URL, data=json.dumps({"phoneNumber": value}), content_type="application/json")
    if isinstance(value, str) or value is None:
        assert response.status_code == 200
        assert response.content in (ALICE_BODY, NOT_FOUND_BODY)
    else:
        assert (response.status_code, response.content) in {(400, body) for body in ALLOWED_400}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=texts)
def test_any_query_string_value_gets_a_contract_answer(api, alice, value):
    response = api.get(URL, {"phoneNumber": value})
    assert response.status_code == 200
    assert response.content in (ALICE_BODY, NOT_FOUND_BODY)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_any_body_bytes_never_give_5xx(api, alice, body):
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code in (200, 400)
    assert response["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert list(response.json()) == ["error"]


def test_lone_surrogate_is_malformed_json(api):
    response = api.post(URL, data=b'{"phoneNumber": "\\ud800"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "Malformed JSON body: no low surrogate in string: line 1 column 18 (char 17)"}
