"""Every bad argument to our management commands: exit status 1 (2 for usage) and one line on stderr."""

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT

LONG = "x" * 300


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A migrated SQLite database of its own, for commands run as the operator runs them."""
    folder = tmp_path_factory.mktemp("commands")
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "command-validation-test",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "FOLDER": str(folder),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    return env


CASES = [
    # (command and arguments, exit status, the one stderr line)
    (["create_support_user", ""], 1, "CommandError: The username must not be empty."),
    (["create_support_user", "   "], 1, "CommandError: The username must not be empty."),
    (
        ["create_support_user", "bad user!"],
        1,
        "CommandError: Invalid username 'bad user!': Enter a valid username. This value may contain only letters, "
        "numbers, and @/./+/-/_ characters.",
    ),
    (["create_support_user", LONG], 1, "CommandError: The username is at most 150 characters (this one has 300)."),
    (
        ["create_support_user", "sam"],
        1,
        "CommandError: No terminal to prompt for the password; use --password-from-env VAR.",
    ),
    (
        ["create_support_user", "sam", "--email", "not-an-address"],
        1,
        "CommandError: Invalid --email 'not-an-address': enter a valid email address.",
    ),
    (
        ["create_support_user", "sam", "--password-from-env", "NO_SUCH_VARIABLE"],
        1,
        "CommandError: Environment variable NO_SUCH_VARIABLE is not set or empty.",
    ),
    (
        ["create_support_user"],
        2,
        "manage.py create_support_user: error: the following arguments are required: username (see --help)",
    ),
    (["ensure_admin", ""], 1, "CommandError: The username must not be empty."),
    (
        ["ensure_admin", "bad user!"],
        1,
        "CommandError: Invalid username 'bad user!': Enter a valid username. This value may contain only letters, "
        "numbers, and @/./+/-/_ characters.",
    ),
    (
        ["ensure_admin", "admin", "--password-file", "/nonexistent/dir/pw"],
        1,
        "CommandError: Cannot write --password-file /nonexistent/dir/pw: No such file or directory.",
    ),
    (["create_lookup_token", ""], 1, "CommandError: A token needs a name, e.g. genesys-prod."),
    (["create_lookup_token", LONG], 1, "CommandError: A token name is at most 100 characters (this one has 300)."),
    (
        ["create_lookup_token", "genesys", "--token", "short"],
        1,
        "CommandError: A token must be at least 20 characters without spaces.",
    ),
    (
        ["create_lookup_token", "genesys", "--token", "y" * 600],
        1,
        "CommandError: A token must be at most 512 printable ASCII characters.",
    ),
    (["revoke_lookup_token", "ghost"], 1, "CommandError: No token named 'ghost'."),
    (["revoke_lookup_token", LONG], 1, f"CommandError: No token named '{LONG}'."),
    (
        ["ensure_lookup_token", LONG, "--token-file", "{FOLDER}/token"],
        1,
        "CommandError: A token name is at most 100 characters (this one has 300).",
    ),
    (
        ["ensure_lookup_token", "demo", "--token-file", "/nonexistent/dir/token"],
        1,
        "CommandError: Cannot write --token-file /nonexistent/dir/token: No such file or directory.",
    ),
    (
        ["ensure_lookup_token", "demo"],
        2,
        "manage.py ensure_lookup_token: error: the following arguments are required: --token-file (see --help)",
    ),
    (
        ["prune_lookup_events", "--days", "99999999"],
        1,
        "CommandError: --days must be between 1 and 36500 (got 99999999).",
    ),
    (["prune_lookup_events", "--days", "0"], 1, "CommandError: --days must be between 1 and 36500 (got 0)."),
    (
        ["prune_lookup_events", "--days", "abc"],
        2,
        "manage.py prune_lookup_events: error: argument --days: invalid int value: 'abc' (see --help)",
    ),
    (
        ["prune_interactions", "--days", "99999999"],
        1,
        "CommandError: --days must be between 1 and 36500 (got 99999999).",
    ),
    (
        ["prune_interactions", "--days", "abc"],
        2,
        "manage.py prune_interactions: error: argument --days: invalid int value: 'abc' (see --help)",
    ),
    (["seed_lookup_events", "--count", "0"], 1, "CommandError: --count must be between 1 and 100000000 (got 0)."),
    (
        ["seed_lookup_events", "--count", "10", "--days", "99999999"],
        1,
        "CommandError: --days must be between 1 and 3650 (got 99999999).",
    ),
    (
        ["seed_lookup_events", "--count", "1e3"],
        2,
        "manage.py seed_lookup_events: error: argument --count: invalid int value: '1e3' (see --help)",
    ),
]


# Runs every case in one process (Django starts once, not 26 times): each through
# ManagementUtility, as `manage.py ARGS` does, with its own stdout/stderr and exit status.
DRIVER = """
import contextlib, io, json, sys
import django
django.setup()
from django.core.management import ManagementUtility
results = []
for args in json.load(sys.stdin):
    out, err, status = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            ManagementUtility(["manage.py", *args]).execute()
        except SystemExit as exit:
            status = exit.code
    results.append([status, err.getvalue(), out.getvalue()])
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def results(env):
    import json

    cases = [[arg.replace("{FOLDER}", env["FOLDER"]) for arg in args] for args, _, _ in CASES]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        cwd=ROOT,
        env=env,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no controlling terminal, as in a script or CI
    )
    assert done.returncode == 0, done.stderr
    return {" ".join(args): result for args, result in zip(cases, json.loads(done.stdout), strict=True)}


@pytest.mark.parametrize(("args", "status", "line"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_is_one_line(env, results, args, status, line):
    key = " ".join(arg.replace("{FOLDER}", env["FOLDER"]) for arg in args)
    returncode, stderr, stdout = results[key]
    assert (returncode, stderr.splitlines(), stdout) == (status, [line], "")


def test_the_driver_matches_a_real_command_line(env):
    """One case as a real `manage.py` process, to show the driver changes nothing."""
    result = subprocess.run(
        [sys.executable, "manage.py", "prune_lookup_events", "--days", "99999999"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr, result.stdout) == (
        1,
        "CommandError: --days must be between 1 and 36500 (got 99999999).\n",
        "",
    )
