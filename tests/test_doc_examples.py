"""Every console example in README.md and docs/*.md runs as the page shows it, so an example can
no longer drift from what the program does.

The convention (docs/index.md, "The examples in these pages"):
- A ```console block is an example. Each line starting with `$ ` is a command; the lines after
  it, up to the next command, are what it prints (standard output and error together). Every
  shown line must appear in the real output, in order; `...` stands for text left out, and runs
  of spaces count as one. `$ echo $?` shows the previous command's exit status; without it a
  command must exit 0.
- The examples of one page run in order, sharing a fresh data folder (so the default store is
  new for each page) and a working folder in which the repository's folders (`tests/`,
  `docs/`...) are at hand and `../shared` is the project's public data folder.
- `<!-- example: shared -->` on the line before a block: it needs `../shared`, and is skipped
  when that is absent.
- `<!-- example: not run: REASON -->`: it cannot run in a test (a server that runs until
  stopped, a long benchmark); each `caregraph` line must still parse, and its command's
  `--help` must work.
- caregraph commands appear only in console blocks (the Quick start's two install lines aside),
  so none escapes the test.
`caregraph` lines run in this process through the CLI's main function; other commands (`head`,
`ls`) run in a shell in the working folder. The curl examples (```sh blocks that call
http://127.0.0.1:8765) are sent to a live server holding the register fixtures, and each must
get a 2xx answer; the ```python examples run as written.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from caregraph.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 300

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
MARKER = re.compile(r"^<!--\s*example:\s*(?P<what>.*?)\s*-->$")
CAREGRAPH_LINE = re.compile(r"^\s*(\$\s+)?(\S*/)?caregraph(\s|$)")


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)


@dataclass
class Example:
    page: Path
    line: int
    marker: str
    steps: list[Step]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


@dataclass
class Block:
    line: int
    info: str
    body: list[str]
    before: str


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, each with the last non-blank line before it."""
    found, lines = [], page.read_text(encoding="utf-8").splitlines()
    before, i = "", 0
    while i < len(lines):
        opening = FENCE.match(lines[i].strip())
        if not opening:
            if lines[i].strip():
                before = lines[i].strip()
            i += 1
            continue
        fence, body, start = opening["fence"], [], i + 1
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence) and not lines[i].strip().strip(fence[0])):
            body.append(lines[i])
            i += 1
        found.append(Block(start, opening["info"].strip(), body, before))
        before, i = "", i + 1
    return found


def examples(page: Path) -> list[Example]:
    found = []
    for block in blocks(page):
        if block.info.split()[:1] != ["console"]:
            continue
        marker = MARKER.match(block.before)
        steps: list[Step] = []
        for text in block.body:
            if text.startswith("$ "):
                steps.append(Step(text[2:].strip()))
            elif steps:
                steps[-1].shown.append(text)
        found.append(Example(page, block.line, marker["what"] if marker else "", steps))
    return found


ALL = [example for page in PAGES for example in examples(page)]


def normal(text: str) -> str:
    return " ".join(text.split())


def check_shown(example: Example, step: Step, output: str) -> None:
    """Each shown line, in order, appears within one line of the real output; `...` skips text."""
    actual = [normal(line) for line in output.splitlines()]
    at = 0
    for shown in step.shown:
        parts = [normal(part) for part in shown.split("...") if normal(part)]
        if not parts:
            continue
        for index in range(at, len(actual)):
            position = 0
            for part in parts:
                position = actual[index].find(part, position)
                if position < 0:
                    break
                position += len(part)
            else:
                at = index + 1
                break
        else:
            pytest.fail(f"{example.where}: `$ {step.command}` did not print\n  {shown.strip()}\n"
                        f"(in order after the lines before it); it printed:\n{output}")


def run_caregraph(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(argv, out=out)
        except SystemExit as exc:  # argparse's usage errors and --help
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue()


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default store holding the curated build, made once by a caregraph process of its own
    (which closes it), so that each page's fresh data folder starts from a copy, not a build."""
    store = tmp_path_factory.mktemp("doc-examples-template") / "caregraph.oxigraph"
    env = {k: v for k, v in os.environ.items() if k != "CAREGRAPH_STORE"}
    subprocess.run([sys.executable, "-m", "caregraph.cli", "--store", str(store), "store", "info"],
                   check=True, capture_output=True, env=env, timeout=600)
    return store


@pytest.fixture(scope="module")
def workspaces() -> dict[Path, Path]:
    return {}


@pytest.fixture
def workspace(request, workspaces, built_store, tmp_path_factory, monkeypatch) -> Path:
    """The page's working folder (made for its first example, kept for the rest) and data folder."""
    page = request.node.callspec.params["example"].page
    if page not in workspaces:
        root = tmp_path_factory.mktemp("doc-examples")
        shutil.copytree(built_store, root / "data" / built_store.name)
        work = root / "work"
        work.mkdir()
        for entry in REPO.iterdir():
            if not entry.name.startswith("."):
                (work / entry.name).symlink_to(entry)
        if SHARED.is_dir():
            (root / "shared").symlink_to(SHARED)
        workspaces[page] = work
    work = workspaces[page]
    monkeypatch.chdir(work)
    monkeypatch.setenv("CAREGRAPH_DATA_DIR", str(work.parent / "data"))
    monkeypatch.delenv("CAREGRAPH_STORE", raising=False)
    return work


def subcommands(argv: list[str]) -> list[str]:
    """The command and subcommand words of a caregraph command line (`store`, `info`)."""
    chain, parser = [], build_parser()
    for word in argv:
        choices = next((a.choices for a in parser._actions if isinstance(a.choices, dict)), None)
        if choices and word in choices:
            chain.append(word)
            parser = choices[word]
    return chain


@pytest.mark.parametrize("example", ALL, ids=[e.where for e in ALL])
def test_console_example_runs_as_shown(example: Example, workspace: Path) -> None:
    assert example.steps, f"{example.where}: a console block with no `$ ` command"
    if example.marker.startswith("not run"):
        assert re.match(r"not run: \S", example.marker), f"{example.where}: say why it is not run"
        for step in example.steps:
            if not CAREGRAPH_LINE.match(step.command):
                continue
            argv = shlex.split(step.command)[1:]
            parsed = build_parser()
            try:
                parsed.parse_args(argv)
            except SystemExit as exc:
                pytest.fail(f"{example.where}: `{step.command}` does not parse (exit {exc.code})")
            code, text = run_caregraph([*subcommands(argv), "--help"])
            assert code == 0 and "usage: caregraph" in text, f"{example.where}: --help failed: {text}"
        return
    assert example.marker in ("", "shared"), f"{example.where}: unknown marker {example.marker!r}"
    if example.marker == "shared" and not SHARED.is_dir():
        pytest.skip(f"needs the public data at {SHARED}")
    last = None
    for index, step in enumerate(example.steps):
        if step.command == "echo $?":
            assert last is not None, f"{example.where}: `echo $?` before any command"
            shown = normal(" ".join(step.shown))
            assert shown == str(last[1]), (f"{example.where}: `$ {last[0].command}` exited {last[1]}, "
                                           f"the page shows {shown}; it printed:\n{last[2]}")
            continue
        if CAREGRAPH_LINE.match(step.command):
            code, output = run_caregraph(shlex.split(step.command)[1:])
        else:
            done = subprocess.run(step.command, shell=True, cwd=workspace, capture_output=True, text=True,
                                  timeout=120)
            code, output = done.returncode, done.stdout + done.stderr
        following = example.steps[index + 1] if index + 1 < len(example.steps) else None
        if not (following and following.command == "echo $?"):
            assert code == 0, f"{example.where}: `$ {step.command}` exited {code}:\n{output}"
        check_shown(example, step, output)
        last = (step, code, output)


PYTHON = [(page, block) for page in PAGES for block in blocks(page) if block.info.split()[:1] == ["python"]]


@pytest.mark.parametrize("page, block", PYTHON, ids=[f"{p.relative_to(REPO)}:{b.line}" for p, b in PYTHON])
def test_python_example_runs(page: Path, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python examples run as written, from the repository's folder (they read its fixtures)."""
    monkeypatch.chdir(REPO)
    exec(compile("\n".join(block.body), f"{page.relative_to(REPO)}:{block.line}", "exec"), {})


DOC_SERVER = "http://127.0.0.1:8765"
CURL = [(page, block) for page in PAGES for block in blocks(page)
        if block.info.split()[:1] == ["sh"] and any(DOC_SERVER in line for line in block.body)]
SERVED_FIXTURES = [("cqc-directory", "16_September_2026_CQC_directory.csv"),
                   ("cqc-export", "asc_locations_export.csv")]


@pytest.fixture(scope="module")
def doc_server(built_store: Path, tmp_path_factory: pytest.TempPathFactory):
    """`caregraph serve` as the pages describe it: the register fixtures imported, updates
    allowed with a token."""
    from fixtures.api.live_server import LiveServer

    store = tmp_path_factory.mktemp("doc-server") / built_store.name
    shutil.copytree(built_store, store)
    env = {k: v for k, v in os.environ.items() if k != "CAREGRAPH_STORE"}
    for source, name in SERVED_FIXTURES:
        subprocess.run([sys.executable, "-m", "caregraph.cli", "--store", str(store), "import", source,
                        str(REPO / "tests" / "fixtures" / "registers" / name), "--as-of", "2025-03-01"],
                       check=True, capture_output=True, env=env, timeout=300)
    live = LiveServer(env={"CAREGRAPH_UPDATE_TOKEN": "doc-token"}, store=store)
    yield live
    live.stop()


@pytest.mark.parametrize("page, block", CURL, ids=[f"{p.relative_to(REPO)}:{b.line}" for p, b in CURL])
def test_curl_example_is_answered(page: Path, block: Block, doc_server) -> None:
    """Each curl example, sent to a live server, gets a 2xx answer (curl --fail): the endpoints,
    parameters and files the pages name exist."""
    script = "\n".join(block.body).replace(DOC_SERVER, doc_server.url)
    wrapper = 'set -e\ncurl() { command curl -sS --fail --max-time 60 -o /dev/null "$@"; }\n'
    done = subprocess.run(["bash", "-c", wrapper + script], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CAREGRAPH_UPDATE_TOKEN": "doc-token"})
    assert done.returncode == 0, f"{page.relative_to(REPO)}:{block.line}: {done.stderr}"


def test_caregraph_commands_appear_only_in_console_examples() -> None:
    hidden = []
    for page in PAGES:
        for block in blocks(page):
            if block.info.split()[:1] == ["console"]:
                continue
            hidden += [f"{page.relative_to(REPO)}:{block.line}: {line.strip()}"
                       for line in block.body if CAREGRAPH_LINE.match(line)]
    assert not hidden, "caregraph commands outside a console example (make them one):\n" + "\n".join(hidden)


def quick_start() -> list[str]:
    """The README's Quick start commands: the ```sh blocks of that section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.group(1).strip() for block in re.finditer(r"```sh\n(.*?)```", section, re.S)]


def test_the_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    install_and_ask, install_and_test = quick_start()
    assert "\n" not in install_and_ask and "\n" not in install_and_test
    assert install_and_test in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    question = install_and_ask.split(".venv/bin/caregraph ", 1)[1]
    code, output = run_caregraph(shlex.split(question))
    assert code == 0 and "law:" in output, output


def test_the_readme_is_a_front_page() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move reference into docs/"
    links = re.findall(r"\]\((docs/[^)#]+)", "\n".join(lines))
    assert links, "the README links into docs/"
    missing = [link for link in links if not (REPO / link).exists()]
    assert not missing, f"README links to missing files: {missing}"
