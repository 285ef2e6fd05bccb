"""SQLite files (the database, its -wal and -shm) readable by this account only."""

import os

from django.db.backends.signals import connection_created
from django.dispatch import receiver

MODE = 0o600


@receiver(connection_created)
def _restrict_sqlite_files(sender, connection, **kwargs):
    """chmod 600 on connect: also fixes a db.sqlite3 an older version created 0644."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, MODE)
        except FileNotFoundError:
            pass
