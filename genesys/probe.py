"""architect_probe: execute the exported data action as Genesys does and follow the flow for one caller."""

import json
from dataclasses import dataclass

import phonenumbers

from crm.phones import normalize_phone
from genesys.actions import ASK_ID_PROMPT, ERROR_PROMPT, RETRY_ID_PROMPT, VIP_PROMPT
from genesys.diagnosis import (
    Report,
    error_message,
    fail,
    mask,  # noqa: F401  (tests and callers take it from here)
    number_format_mismatch,
    shorten,
    show_headers,
    token_mismatch,
    variants,
)
from genesys.execute import SUCCESS, Execution, execute

ERROR_DESTINATION = "agent queue"


@dataclass(frozen=True)
class Route:
    """Where the flow sends the caller after the Call Data Action step."""

    decision: bool | None  # status == "success"; None on Failure / Timeout
    prompt: str
    destination: str


def route(execution: Execution, *, by_id: bool = False) -> Route:
    """The flow of `genesys_flow` after this step: Decision, prompt, and queue (or the customer-number prompt)."""
    if execution.exit != SUCCESS:
        return Route(None, ERROR_PROMPT, ERROR_DESTINATION)
    outputs = execution.outputs
    if outputs.get("status") == "success":
        return Route(True, VIP_PROMPT.format(firstName=outputs["firstName"], tier=outputs["tier"]), "VIP queue")
    if by_id:
        return Route(False, RETRY_ID_PROMPT, "asks again, then general queue")
    return Route(False, ASK_ID_PROMPT, "asks for the customer number")


def run(action: dict, inputs: dict, token: str, *, step_timeout_s: float, by_id: bool = False) -> Report:
    """Execute the action for these inputs, print what Genesys would do, and name the cause of a failure."""
    report = Report(ok=True)
    out = report.lines.append
    config = action["config"]
    out(
        f"Action: {json.dumps(action.get('name'))} {config['request'].get('requestType')}, "
        f"action timeout {config.get('timeoutSeconds', 60)} s, step timeout {step_timeout_s:g} s"
    )
    execution = execute(action, inputs, {"token": token}, step_timeout_s=step_timeout_s)
    request, answer = execution.request, execution.answer
    out(f"Request: {request.method} {request.url}")
    show_headers(out, request.headers, token)
    out(f"Body: {request.body.decode() if request.body is not None else '(none: GET)'}")
    out(f"HTTP status: {answer.status if answer.status is not None else 'none (' + answer.failure + ')'}")
    out(f"Latency: {answer.latency_ms:.0f} ms (step timeout {step_timeout_s * 1000:.0f} ms)")
    if answer.status is not None:
        out(f"Answer: {shorten(answer.body)}")
    out(f"Exit: {execution.exit}" + (f" ({execution.problem})" if execution.problem else ""))
    if execution.exit == SUCCESS:
        for name, value in execution.outputs.items():
            out(f"Output: {name} = {json.dumps(value)}")
    else:
        out(f"Outputs: none (the {execution.exit} exit sets no success outputs)")
    result = route(execution, by_id=by_id)
    if result.decision is not None:
        out(f'Decision: status == "success" is {str(result.decision).lower()} -> {result.destination}')
    out(f'Prompt: "{result.prompt}" -> {result.destination}')
    if execution.exit != SUCCESS:
        return fail(report, *explain(execution, token))
    phone = inputs.get("phoneNumber")
    if result.decision is False and isinstance(phone, str):
        mismatch = reprobe(action, phone, token, step_timeout_s, out)
        if mismatch:
            return fail(report, *mismatch)
    return report


def reprobe(action: dict, phone: str, token: str, step_timeout_s: float, out) -> tuple[str, str] | None:
    """Not found as sent: does the server know the caller under another spelling (E.164, digits)?"""
    for candidate in variants(phone):
        execution = execute(action, {"phoneNumber": candidate}, {"token": token}, step_timeout_s=step_timeout_s)
        found = execution.exit == SUCCESS and execution.outputs.get("status") == "success"
        out(f"Re-probe: {json.dumps(candidate)} -> {'success' if found else execution.exit}")
        if found:
            return number_format_mismatch(phone, candidate)
    return None


def explain(execution: Execution, token: str) -> tuple[str, str]:
    """The cause of the Failure / Timeout exit and its fix, in the tutorial's terms."""
    answer, kind = execution.answer, execution.kind
    if kind == "timeout":
        return (
            f"timeout: {execution.problem} (waited {answer.latency_ms:.0f} ms); the step takes its {execution.exit} exit.",
            "Make the lookup answer in well under a second (indexed query, database close to the server, enough "
            "workers) and check the network path from the Genesys region. Raising timeouts only makes callers wait.",
        )
    if kind == "connection":
        return (
            f"{execution.problem}.",
            "Check the URL, DNS, TLS certificate and firewall. Genesys Cloud needs a public HTTPS address.",
        )
    if answer.status in (401, 403):
        return token_mismatch(token, execution.request.headers.get("Authorization", ""), answer.status)
    if kind == "http":
        message = error_message(answer.body)
        if answer.status == 400 and "missing" in message.lower():
            return (
                f"missing field: the server answered 400 {message!r} to the body {shorten(execution.request.body or b'')}.",
                "Use the exported request template and map the action's input in the Call Data Action step "
                "(phoneNumber = Call.Ani; customerId = the Collect Input variable).",
            )
        return (
            f"HTTP {answer.status}: the server answered {message!r}.",
            "Any non-2xx answer takes the Failure exit; check the URL, the method and the server's log.",
        )
    if kind == "contract":
        return (
            f"output contract: {execution.problem}.",
            "A JSON null is a value, not a missing path: the translation map's default does not apply, and a null "
            "breaks a string output. The server must send strings (empty when unknown) for every data field.",
        )
    return (
        f"mapping failure: {execution.problem}.",
        'Answer with the envelope {"status": "...", "data": {"customerId": "...", "firstName": "...", '
        '"lastName": "...", "tier": "...", "lastInteractionDate": "..."}}, or change the translation map.',
    )


# -- --matrix: the identities Genesys really sends ----------------------------------------

UNSET = object()  # the input not set at all (Call.Ani empty in a test call)


def identities(phone: str) -> list[tuple[str, object, bool]]:
    """(label, Call.Ani value, carries the number) for the caller shapes of docs/genesys.md."""
    e164 = normalize_phone(phone)
    if e164 is None:
        raise ValueError(f"--phone {phone!r} is not a possible phone number; the matrix needs one to vary.")
    number = phonenumbers.parse(e164)
    national, cc = str(number.national_number), str(number.country_code)
    carrying = [
        e164,
        f"tel:{e164}",
        f"tel: {e164}",
        f"tel:{e164};ext=12",
        f"sip:{e164}@sbc.example.com;user=phone",
        f"sips:{e164}@sbc.example.com:5061;transport=tls",
        f"sip:%2B{e164[1:]}@sbc.example.com;user=phone",
        f"tel:%2B{e164[1:]}",
        f'"Caller Name" <sip:{e164}@10.0.0.1>;tag=8c7b6a5d',
        f"tel:{national};phone-context=+{cc}",
    ]
    none = ["sip:agent%40example.com@localhost", "sip:anonymous@anonymous.invalid", "anonymous", ""]
    rows = [(value, value, True) for value in carrying] + [(value, value, False) for value in none]
    return rows + [("(not set)", UNSET, False)]


def matrix(action: dict, phone: str, token: str, *, step_timeout_s: float) -> Report:
    """One line per identity: the exit, the outputs that route, where the caller goes."""
    report = Report(ok=True)
    rows = identities(phone)
    width = max(len(json.dumps(label)) if label != "(not set)" else len(label) for label, _, _ in rows)
    expected = None
    for label, value, carries in rows:
        inputs = {} if value is UNSET else {"phoneNumber": value}
        execution = execute(action, inputs, {"token": token}, step_timeout_s=step_timeout_s)
        result = route(execution)
        shown = label if value is UNSET else json.dumps(label)
        if execution.exit == SUCCESS:
            outputs = execution.outputs
            detail = f"status={outputs.get('status')} customerId={outputs.get('customerId') or '-'}"
            found = outputs.get("customerId") or None
        else:
            detail, found = execution.problem, None
        verdict = ""
        if carries:
            expected = found if expected is None and execution.exit == SUCCESS else expected
            if execution.exit != SUCCESS or found != expected:
                verdict, report.ok = "  MISMATCH", False
        elif execution.exit != SUCCESS or found is not None:
            verdict, report.ok = "  MISMATCH", False
        report.lines.append(
            f'{shown:<{width}}  {execution.exit:<7}  {detail}  -> {result.destination}: "{result.prompt}"{verdict}'
        )
    if not report.ok:
        report.cause = "an identity took another path than the E.164 number (or no-number callers were matched)"
    return report
