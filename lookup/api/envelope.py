"""The Architect envelope (design §7): the exact bodies the flow maps."""

from crm.selectors import Caller


def caller_envelope(caller: Caller) -> dict:
    """`{"status":"success","data":{...}}`: five string keys in the order the flow maps them."""
    return {
        "status": "success",
        "data": {
            "customerId": caller.customer_id,
            "firstName": caller.first_name,
            "lastName": caller.last_name,
            "tier": caller.tier,
            "lastInteractionDate": caller.last_interaction_date,
        },
    }


NOT_FOUND_ENVELOPE = {"status": "not_found", "data": None}
