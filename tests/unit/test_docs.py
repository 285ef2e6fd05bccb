"""The docs match the code: every variable the code reads has a row, every shell command exists."""

import ast
import importlib.util
import inspect
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.test import override_settings

ROOT = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent
OPERATIONS = ROOT / "docs" / "operations.md"
BENCH_README = ROOT / "bench" / "README.md"
SHELL_DOCS = sorted([ROOT / "README.md", BENCH_README, *(ROOT / "docs").glob("*.md")])
PRODUCTION_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # config/settings.py's default
# Read by a library, not by our code: the module whose source names the variable.
THIRD_PARTY = {"FORWARDED_ALLOW_IPS": "gunicorn.config"}


# -- environment variables read by the code -----------------------------------------------


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "TEXT" assignments, so `os.environ.get(ENV)` resolves to its name."""
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _environ_env_names(tree: ast.Module) -> set[str]:
    """Module-level names bound to django-environ's `environ.Env()` (a local dict called env is not one)."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "Env"
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _imports_os_environ(tree: ast.Module) -> bool:
    """`from os import environ`: a bare `environ` is then the process environment, not a WSGI environ."""
    return any(
        isinstance(node, ast.ImportFrom) and node.module == "os" and any(a.name == "environ" for a in node.names)
        for node in ast.walk(tree)
    )


def python_env_reads(source: str, *, setdefault: bool = True) -> set[str]:
    """Names of the environment variables a Python module reads (django-environ's env.* and os.environ)."""
    tree = ast.parse(source)
    constants = _string_constants(tree)
    bare_environ = _imports_os_environ(tree)
    env_objects = _environ_env_names(tree)

    def is_os_environ(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
        return bare_environ and isinstance(node, ast.Name) and node.id == "environ"

    def name(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    reads = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Name) and func.id in env_objects:  # env("NAME")
                key = name(node.args[0])
            elif isinstance(func, ast.Attribute):
                owner = func.value
                if (
                    isinstance(owner, ast.Name) and owner.id in env_objects and func.attr != "read_env"
                ):  # env.bool("NAME")
                    key = name(node.args[0])
                elif isinstance(owner, ast.Name) and owner.id == "os" and func.attr == "getenv":
                    key = name(node.args[0])
                elif is_os_environ(owner) and (func.attr == "get" or (setdefault and func.attr == "setdefault")):
                    key = name(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and is_os_environ(node.value):
            key = name(node.slice)
        elif isinstance(node, ast.Compare) and any(is_os_environ(c) for c in node.comparators):
            key = name(node.left)  # "NAME" in os.environ
        if key:
            reads.add(key)
    return reads


def shell_env_reads(source: str) -> set[str]:
    """Variables a shell script lets the caller set: ${NAME:-default}, ${NAME-default}, ${NAME:=default}."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=]", source))


def makefile_env_reads(source: str) -> set[str]:
    """Make variables the environment may set: NAME ?= default, and $(NAME) never assigned in the file."""
    defaulted = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\?=", source, re.M))
    assigned = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[:+]?=", source, re.M))
    used = set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", source))
    return defaulted | (used - assigned - {"MAKE", "SHELL", "CURDIR"})


def first_party_modules() -> list[Path]:
    """Every Python module of the apps and config (any top-level package but tests and bench), and manage.py."""
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in {"tests", "bench"}]
    modules = [m for p in packages for m in p.rglob("*.py") if "migrations" not in m.parts]
    return sorted([ROOT / "manage.py", *modules, *(ROOT / "scripts").glob("*.py")])


def code_env_reads() -> dict[str, set[str]]:
    """Variable -> the files (relative paths) that read it, over everything operations.md covers."""
    found: dict[str, set[str]] = {}

    def add(names: set[str], path: Path) -> None:
        for key in names:
            found.setdefault(key, set()).add(str(path.relative_to(ROOT)))

    for module in first_party_modules():
        add(python_env_reads(module.read_text()), module)
    for conftest in (ROOT / "tests").rglob("conftest.py"):
        # The suite's own opt-outs; its os.environ.setdefault calls set values for libraries, not for readers.
        add(python_env_reads(conftest.read_text(), setdefault=False), conftest)
    for script in [*(ROOT / "scripts").glob("*.sh"), ROOT / ".ci" / "run"]:
        add(shell_env_reads(script.read_text()), script)
    makefile = ROOT / "Makefile"
    add(makefile_env_reads(makefile.read_text()) - bench_env_reads(), makefile)
    return found


def bench_env_reads() -> set[str]:
    """What `make bench` lets the caller set: bench/run.py's reads and the bench target's $(BENCH_*)."""
    reads = python_env_reads((ROOT / "bench" / "run.py").read_text())
    return reads | {v for v in makefile_env_reads((ROOT / "Makefile").read_text()) if v.startswith("BENCH_")}


def table_variables(path: Path, heading: str | None = None) -> set[str]:
    """The `NAME` in the first column of the markdown table rows (under `heading`, if given)."""
    text = path.read_text()
    if heading is not None:
        start = text.index(f"\n{heading}\n")
        end = text.find("\n## ", start + 1)
        text = text[start : end if end != -1 else None]
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", text, re.M))


def test_the_scanner_finds_each_way_of_reading_the_environment():
    source = (
        "import os\nimport environ\nenv = environ.Env()\nENV = 'VIA_CONSTANT'\n"
        "env.read_env('/x')\na = env.bool('ENV_BOOL', default=False)\nb = env('ENV_CALL')\n"
        "c = env.db('ENV_DB')\nd = os.environ.get('OS_GET')\ne = os.environ['OS_ITEM']\nf = os.getenv('OS_GETENV')\n"
        "os.environ.setdefault('OS_SETDEFAULT', 'x')\ng = os.environ.get(ENV)\nh = 'OS_IN' in os.environ\n"
        "os.environ['WRITTEN'] = 'x'\ni = os.environ.get(some_variable)\n"
        "def app(environ, start_response):\n    return environ.get('PATH_INFO')\n"
    )
    assert python_env_reads(source) == {
        "VIA_CONSTANT",
        "ENV_BOOL",
        "ENV_CALL",
        "ENV_DB",
        "OS_GET",
        "OS_ITEM",
        "OS_GETENV",
        "OS_SETDEFAULT",
        "OS_IN",
    }
    assert "OS_SETDEFAULT" not in python_env_reads(source, setdefault=False)
    assert python_env_reads("def manage():\n    env = {}\n    env.setdefault('A_LOCAL_DICT', 'x')\n") == set()
    assert shell_env_reads('DB=${DB:-crm}; P=${PGPORT-5432}; X=${Y:=1}; echo "$HOME ${PATH}"') == {"DB", "PGPORT", "Y"}
    makefile = "PYTHON ?= python3\nPY := $(VENV)/bin/python\nVENV ?= .venv\nrun:\n\t$(PY) run.py $(ARGS) $(MAKE)\n"
    assert makefile_env_reads(makefile) == {"PYTHON", "VENV", "ARGS"}


def test_the_scan_covers_settings_gunicorn_and_scripts():
    """A scan that found nothing would pass the next test: these reads are known to exist."""
    found = code_env_reads()
    assert found["DJANGO_SECRET_KEY"] == {"config/settings.py"}
    assert found["GUNICORN_LOG_LEVEL"] == {"config/gunicorn.conf.py"}
    assert found["DJANGO_ENV_FILE"] == {"config/settings.py"}
    assert found["PGPORT"] == {"scripts/postgres.sh"}
    assert found["SKIP_BROWSER_TESTS"] == {"tests/conftest.py"}
    assert "PROMETHEUS_MULTIPROC_DIR" in found
    assert "BENCH_PEER_DIR" not in found  # bench/README.md documents it


def test_every_environment_variable_the_code_reads_is_in_the_operations_table():
    documented = table_variables(OPERATIONS, "## Configuration")
    missing = {key: sorted(paths) for key, paths in code_env_reads().items() if key not in documented}
    assert missing == {}, f"add a row to the table in docs/operations.md#configuration for each of {missing}"


def test_every_row_of_the_operations_table_is_read_by_the_code():
    stale = table_variables(OPERATIONS, "## Configuration") - set(code_env_reads())
    assert stale == set(THIRD_PARTY)
    for key, module in THIRD_PARTY.items():
        assert key in inspect.getsource(importlib.import_module(module))


def test_every_variable_make_bench_reads_is_in_the_bench_readme():
    assert bench_env_reads() == {"BENCH_PEER_DIR", "BENCH_ARGS", "CLUSTER_PORT"}
    assert table_variables(BENCH_README) == bench_env_reads()


# -- shell commands in the docs -----------------------------------------------------------

OPERATORS = {";", "&&", "||", "|", "&", "(", ")"}
REDIRECTS = {">", ">>", "<", "&>"}
BUILTINS = {"cd", "export", "source", ".", "set", "unset", "echo", "test", "[", "true", "false", "read", "trap"}
PREFIXES = {"sudo", "env", "time", "exec", "nohup"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, logical line) of every line in ```bash / sh / shell / console blocks, continuations joined."""
    lines, inside, pending, start = [], False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not inside:
            inside = re.match(r"^\s*```(bash|sh|shell|console)\s*$", line) is not None
            continue
        if re.match(r"^\s*```\s*$", line):
            inside = False
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append((start, pending + line))
        pending = ""
    return lines


def commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line: words, without assignments, redirections and comments."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    result, current, skip_next = [], [], False
    for token in lexer:
        if skip_next:
            skip_next = False
        elif token in OPERATORS:
            result.append(current)
            current = []
        elif token in REDIRECTS:
            skip_next = True
        else:
            current.append(token)
    result.append(current)
    words_list = []
    for words in result:
        while words and (ASSIGNMENT.match(words[0]) or words[0] in PREFIXES):
            words = words[1:]
        if words:
            words_list.append(words)
    return words_list


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))


def problem(words: list[str]) -> str | None:
    """Why this command would not run from a fresh clone after `make run`, or None."""
    program, args = words[0], words[1:]
    if program in BUILTINS:
        return None
    python = Path(program).name.startswith("python")
    if python and args and args[0].endswith(".py") and not program.startswith(".venv/"):
        return f"{program} has no Django: write .venv/bin/python {args[0]}"
    if program == "make":
        unknown = [a for a in args if not a.startswith("-") and "=" not in a and a not in make_targets()]
        return f"make has no target {unknown}" if unknown else None
    if program.startswith(".venv/bin/"):
        if not (VENV_BIN / program.removeprefix(".venv/bin/")).exists():
            return f"{program} is not installed by requirements.txt"
    elif "/" in program:
        path = ROOT / program
        if not path.is_file() or not os.access(path, os.X_OK):
            return f"{program} is not an executable file in the repository"
    elif shutil.which(program) is None and not (VENV_BIN / program).exists():
        return f"{program} is not a program on PATH or in .venv/bin"
    if python and args[:1] == ["manage.py"]:
        return manage_problem(args[1:])
    if python and args and args[0].endswith(".py") and not (ROOT / args[0]).is_file():
        return f"{args[0]} is not a file in the repository"
    if python and args[:1] == ["-m"] and importlib.util.find_spec(args[1]) is None:
        return f"no module {args[1]}"
    return None


def manage_problem(args: list[str]) -> str | None:
    """The management command exists and accepts these arguments."""
    if not args:
        return None
    name, rest = args[0], args[1:]
    app = get_commands().get(name)
    if app is None:
        return f"manage.py has no command {name!r}"
    parser = load_command_class(app, name).create_parser("manage.py", name)
    try:
        # As on a server: tests/settings.py runs jobs at enqueue, and db_worker checks the backend.
        with override_settings(TASKS=PRODUCTION_TASKS):
            parser.parse_args(rest)
    except CommandError as error:  # argparse's usage error, raised instead of exiting
        return f"manage.py {name} {' '.join(rest)}: {error}"
    return None


DOC_COMMANDS = [
    pytest.param(words, id=f"{doc.relative_to(ROOT)}:{number}:{words[0]}")
    for doc in SHELL_DOCS
    for number, line in shell_blocks(doc.read_text())
    for words in commands(line)
]


@pytest.mark.parametrize("words", DOC_COMMANDS)
def test_every_command_in_the_docs_exists(words):
    assert problem(words) is None


def test_the_docs_commands_include_the_two_readme_commands_and_manage_py():
    assert ["make", "run"] in [p.values[0] for p in DOC_COMMANDS]
    assert ["make", "test"] in [p.values[0] for p in DOC_COMMANDS]
    assert len([p for p in DOC_COMMANDS if p.values[0][1:2] == ["manage.py"]]) >= 10


def test_shell_blocks_join_continuations_and_skip_other_blocks():
    text = (
        "```bash\nmake run  # serve\nA=1 .venv/bin/python manage.py migrate \\\n    --noinput\n```\n```json\n{}\n```\n"
    )
    assert shell_blocks(text) == [
        (2, "make run  # serve"),
        (3, "A=1 .venv/bin/python manage.py migrate      --noinput"),
    ]
    assert commands("sudo B=2 scripts/x.sh start | tail -1 > out.txt && echo $(cat f) # note") == [
        ["scripts/x.sh", "start"],
        ["tail", "-1"],
        ["echo", "$"],
        ["cat", "f"],
    ]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["python", "manage.py", "migrate"], "python has no Django: write .venv/bin/python manage.py"),
        ([".venv/bin/python", "manage.py", "no_such_command"], "manage.py has no command 'no_such_command'"),
        (
            [".venv/bin/python", "manage.py", "prune_lookup_events"],
            "manage.py prune_lookup_events : Error: the following arguments are required: --days",
        ),
        (["make", "no-such-target"], "make has no target ['no-such-target']"),
        (["scripts/no-such.sh"], "scripts/no-such.sh is not an executable file in the repository"),
        (["no-such-program-xyz"], "no-such-program-xyz is not a program on PATH or in .venv/bin"),
        ([".venv/bin/python", "bench/no_such.py"], "bench/no_such.py is not a file in the repository"),
    ],
)
def test_a_command_that_would_fail_is_named_with_its_reason(words, expected):
    assert problem(words) == expected


# -- links in the docs --------------------------------------------------------------------

MARKDOWN_DOCS = sorted({*SHELL_DOCS, *(ROOT / "docs").glob("*.md")})


# Written by the Genesys branch (design §2 gives it the contact-center engineer's doc). The
# test below fails once it exists, so this exception cannot outlive its reason.
def anchors(path: Path) -> set[str]:
    """GitHub's anchors for a markdown file's headings: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", path.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def links(path: Path) -> list[str]:
    """Relative link targets of a markdown file (web addresses and mail links left out)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", path.read_text())
    return [t for t in targets if not re.match(r"^[a-z]+:", t)]


LINKS = [
    pytest.param(doc, target, id=f"{doc.relative_to(ROOT)}->{target}") for doc in MARKDOWN_DOCS for target in links(doc)
]


@pytest.mark.parametrize(("doc", "target"), LINKS)
def test_every_link_in_the_docs_points_into_the_clone(doc, target):
    file, _, anchor = target.partition("#")
    path = (doc.parent / file).resolve() if file else doc
    assert path.is_relative_to(ROOT), f"{target} leaves the repository"
    assert path.is_file(), f"{target}: no such file"
    if anchor:
        assert anchor in anchors(path), f"{target}: no heading with that anchor"


def test_the_docs_name_no_folder_beside_the_clone():
    for doc in MARKDOWN_DOCS:
        assert "../shared" not in doc.read_text(), doc


def test_anchors_follow_github():
    assert {"tests-and-ci", "behind-a-tls-proxy", "the-lookup-api", "gunicorn"} <= anchors(OPERATIONS)
