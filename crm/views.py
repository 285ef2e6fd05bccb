"""The agent's screen pop: the caller's number in, the caller's customer page out."""

import re
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from crm.models import Customer
from crm.phones import MAX_INPUT_LENGTH, WITHHELD, normalize_phone

_URI_SCHEME = re.compile(r"^\s*(tel|sips?):", re.IGNORECASE)


def candidate_numbers(raw: str) -> list[str]:
    """The E.164 numbers a caller's text may mean: as given, and as international digits without "+".

    "442083661177" is no possible US number but is a UK one written without its "+"; some
    numbers are possible both ways, which is what makes a screen pop ambiguous.
    """
    candidates = []
    e164 = normalize_phone(raw)
    if e164:
        candidates.append(e164)
    text = _URI_SCHEME.sub("", raw).strip()
    # Bare digits only: "(555) 123-4567" is written as a national number and means nothing else.
    digits = re.sub(r"[\s.-]", "", text.split(";", 1)[0].split("@", 1)[0])
    if digits.isdigit():
        international = normalize_phone("+" + digits)
        if international and international not in candidates:
            candidates.append(international)
    return candidates


def is_withheld(raw: str) -> bool:
    """Empty, or the words and URIs telephony puts where a withheld number would be."""
    text = _URI_SCHEME.sub("", raw).strip().lower()
    return not text or text in WITHHELD or text.split("@", 1)[0] in WITHHELD


@staff_member_required
def caller(request):
    """Redirect to the caller's customer page, to the add form with the number filled in, or to a chooser."""
    raw = request.GET.get("phone", "")
    if len(raw) > MAX_INPUT_LENGTH:
        raw = ""
    numbers = candidate_numbers(raw)
    customers = list(
        Customer.objects.filter(phones__number__in=numbers).select_related("tier").order_by("customer_id").distinct()
        if numbers
        else []
    )
    if len(customers) == 1:
        return redirect("admin:crm_customer_change", customers[0].pk)
    if not customers and numbers:
        return redirect(reverse("admin:crm_customer_add") + "?" + urlencode({"phone": numbers[0]}))
    context = {
        **admin.site.each_context(request),
        "title": "Which customer is calling?" if customers else "No caller number",
        "phone": raw,
        "withheld": is_withheld(raw),
        "customers": customers,
        "numbers": numbers,
        "search_url": reverse("admin:crm_customer_changelist"),
    }
    return TemplateResponse(request, "crm/caller.html", context)
