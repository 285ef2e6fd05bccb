"""Execute the exported data action exactly as Genesys would and say which exit the caller takes."""

import json
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from genesys.actions import LOOKUP_BY_ID_PATH, LOOKUP_PATH, METHODS, STEP_TIMEOUT_SECONDS, GenesysError, build_action
from genesys.probe import matrix as run_matrix
from genesys.probe import run
from genesys.tutorial import node_configuration
from genesys.tutorial_probe import Flow, endpoint_url
from genesys.tutorial_probe import probe as probe_tutorial_node


class Command(BaseCommand):
    help = (
        "Execute the data action that genesys_action exports (or --action FILE) for one caller as Genesys does: "
        "Velocity request, translation map, defaults, success template, output contract. Print the exit the Call "
        "Data Action takes (Success / Failure / Timeout), the outputs, the prompt and, on failure, the cause. "
        "--matrix runs every caller identity Genesys sends, one line each; --tutorial-node FILE follows the "
        "tutorial's node instead. Exit code 0 when the caller is routed as intended, 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="The server (https://crm.example.com) or its lookup endpoint.")
        parser.add_argument("--action", metavar="FILE", help="An exported data action JSON (default: built for --url).")
        parser.add_argument("--token", required=True, help="The token the integration's credential field holds.")
        parser.add_argument("--phone", help="The caller as Architect gives it (Call.Ani), e.g. tel:+15551234567.")
        parser.add_argument("--customer-id", help="A typed customer number: runs the lookup-by-id action instead.")
        parser.add_argument("--matrix", action="store_true", help="Run every caller identity for --phone's number.")
        parser.add_argument("--method", type=str.upper, choices=METHODS, help="POST (default) or GET.")
        parser.add_argument(
            "--timeout-ms", type=int, help=f"The step's timeout in ms (default {STEP_TIMEOUT_SECONDS * 1000})."
        )
        parser.add_argument("--tutorial-node", metavar="FILE", help="Follow the tutorial's node JSON instead.")

    def handle(
        self, *args, url, action, token, phone, customer_id, matrix, method, timeout_ms, tutorial_node, **options
    ):
        if not token.isascii() or not token.isprintable():
            raise CommandError("--token has characters an HTTP header cannot carry (line breaks, non-ASCII).")
        if timeout_ms is not None and not 1 <= timeout_ms <= 60000:
            raise CommandError("--timeout-ms must be between 1 and 60000.")
        if tutorial_node:
            report = self.tutorial(tutorial_node, url, token, phone, timeout_ms, method)
        else:
            if phone is not None and customer_id is not None:
                raise CommandError("Give --phone (the caller) or --customer-id (typed digits), not both.")
            if matrix and customer_id is not None:
                raise CommandError("--matrix varies a phone number; give --phone, not --customer-id.")
            if not matrix and phone is None and customer_id is None:
                raise CommandError("Give --phone (the caller as Call.Ani gives it) or --customer-id.")
            kind = "by-id" if customer_id is not None else "phone"
            definition = self.action(action, url, method, kind)
            step = (timeout_ms / 1000) if timeout_ms else STEP_TIMEOUT_SECONDS
            if matrix:
                try:
                    report = run_matrix(definition, phone or "+15551234567", token, step_timeout_s=step)
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
            else:
                inputs = {"customerId": customer_id} if kind == "by-id" else {"phoneNumber": phone}
                report = run(definition, inputs, token, step_timeout_s=step, by_id=kind == "by-id")
        for line in report.lines:
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"the flow would not route the caller as intended: {report.cause}")

    def action(self, path, url, method, kind) -> dict:
        if path:
            try:
                definition = json.loads(Path(path).read_text(encoding="utf-8"))
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
            except ValueError as exc:
                raise CommandError(f"{path}: {exc}") from exc
            if not isinstance(definition, dict) or not isinstance(definition.get("config", {}).get("request"), dict):
                raise CommandError(f"{path}: not a data action export (no config.request).")
            return definition
        if not url:
            raise CommandError("Give --url (the server) or --action FILE.")
        parts = urlsplit(url.strip())
        base = url.strip()
        for suffix in (LOOKUP_BY_ID_PATH, LOOKUP_PATH):
            if parts.path.rstrip("/").endswith(suffix):
                base = url.strip().rstrip("/")[: -len(suffix)]
        try:
            return build_action(base, method=method or "POST", kind=kind)
        except GenesysError as exc:
            raise CommandError(str(exc).replace("--base-url", "--url")) from exc

    def tutorial(self, node_file, url, token, phone, timeout_ms, method):
        if phone is None:
            raise CommandError("--tutorial-node needs --phone (the caller).")
        try:
            config = node_configuration(json.loads(Path(node_file).read_text(encoding="utf-8")))
        except OSError as exc:
            raise CommandError(f"Cannot read {node_file}: {exc.strerror or exc}") from exc
        except ValueError as exc:  # GenesysError is a ValueError, and so is bad JSON
            raise CommandError(f"{node_file}: {exc}") from exc
        try:
            target = endpoint_url(url or config["url"])
        except (ValueError, GenesysError) as exc:
            raise CommandError(str(exc)) from exc
        flow = Flow(
            target,
            token,
            method or config["method"],
            timeout_ms or config["timeout"],
            node=config,
            response_mapping=config["responseMapping"],
        )
        return probe_tutorial_node(flow, phone)
