"""The background-jobs worker: django-tasks-db's db_worker, kept alive through SQLite lock timeouts."""

import logging
import time

from django.db import OperationalError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.utils import is_locked_database_exception

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = (
        "Run the background-jobs worker (imports, exports): django-tasks-db's db_worker, restarted after "
        "a 'database is locked' error, which db_worker lets end the process when SQLite is busy."
    )

    def handle(self, *args, **options):
        while True:
            try:
                return super().handle(*args, **options)
            except OperationalError as error:
                # db_worker retries a lock met while claiming a task, but not one met while opening
                # the claim's transaction: a busy SQLite (a large import's write) would end the worker.
                if not is_locked_database_exception(error):
                    raise
                logger.warning("database is locked; the jobs worker tries again in 1 s")
                time.sleep(1)
