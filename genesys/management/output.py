"""The commands that print a Genesys artefact, or write it to the file given with -o."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genesys.actions import GenesysError


class PrintOrWriteCommand(BaseCommand):
    """handle() builds the text with build(); GenesysError and an unwritable file are one-line CommandErrors."""

    written = "Wrote {output}."  # said on stderr once the file is written

    def build(self, **options) -> str:
        raise NotImplementedError

    def handle(self, *args, output, **options):
        try:
            text = self.build(**options)
        except GenesysError as exc:
            raise CommandError(str(exc)) from exc
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from exc
        self.stderr.write(self.written.format(output=output))
