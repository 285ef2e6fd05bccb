"""Call a lookup URL exactly as the Architect flow would and say what the caller would hear."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genesys.actions import METHODS, GenesysError, node_configuration
from genesys.probe import Flow, endpoint_url, probe


class Command(BaseCommand):
    help = (
        "Send the flow's request (headers, body template, timeout) for one caller to URL, apply the flow's "
        "response mapping and print the status, latency, path, variables and prompt. On the error path it names "
        "the cause and the fix. Exit code 0 on the success path, 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="The lookup endpoint, e.g. https://crm.example.com/api/customer/lookup.")
        parser.add_argument("--token", required=True, help="The token the integration's credential field holds.")
        parser.add_argument("--phone", required=True, help="The caller as Architect gives it, e.g. tel:+15551234567.")
        parser.add_argument("--timeout-ms", type=int, help="The step's budget in ms (default 3000, or the node's).")
        parser.add_argument("--node", metavar="FILE", help="A tutorial-style node JSON (url, headers, body, ...).")
        parser.add_argument("--method", type=str.upper, choices=METHODS, help="POST (default) or GET.")

    def handle(self, *args, url, token, phone, timeout_ms, node, method, **options):
        flow = self.flow(url, token, timeout_ms, node, method)
        report = probe(flow, phone)
        for line in report.lines:
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"the flow would take the error path or misroute the caller: {report.cause}")

    def flow(self, url, token, timeout_ms, node_file, method) -> Flow:
        if not token.isascii() or not token.isprintable():
            raise CommandError("--token has characters an HTTP header cannot carry (line breaks, non-ASCII).")
        if timeout_ms is not None and not 1 <= timeout_ms <= 60000:
            raise CommandError("--timeout-ms must be between 1 and 60000.")
        config = None
        if node_file:
            try:
                config = node_configuration(json.loads(Path(node_file).read_text(encoding="utf-8")))
            except OSError as exc:
                raise CommandError(f"Cannot read {node_file}: {exc.strerror or exc}") from exc
            except ValueError as exc:  # GenesysError is a ValueError, and so is bad JSON
                raise CommandError(f"{node_file}: {exc}") from exc
        elif not url:
            raise CommandError("Give --url (the lookup endpoint) or --node FILE with a url.")
        try:
            target = endpoint_url(url or config["url"])
        except (ValueError, GenesysError) as exc:
            raise CommandError(str(exc)) from exc
        if config is None:
            return Flow(target, token, method or "POST", timeout_ms or 3000)
        return Flow(
            target,
            token,
            method or config["method"],
            timeout_ms or config["timeout"],
            node=config,
            response_mapping=config["responseMapping"],
        )
