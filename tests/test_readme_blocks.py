"""README's shell blocks run as written, and README's test command passes on a fresh clone.

Every fenced ``sh``/``bash``/``console``/``shell`` block of README.md is either marked
``<!-- runnable -->`` on the line before it, or listed in ``NOT_RUNNABLE`` below with why
it is not run here; a block that is neither fails the test, so README cannot grow a command
nobody runs. The runnable blocks run in README's order, in one ``bash`` (so the server one
block starts serves the next), in a temporary folder whose ``.venv`` is the virtual
environment under test, with ``PORT`` set to a free port, which replaces README's 8000 in
the commands and their outputs. A comment ``# → …`` under a command is what README says it
prints; it must match (``…`` stands for anything, a timestamp for any timestamp, white space
for any white space). A command that fails stops the run (``set -e``) and fails the test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sim.stack import free_port
from tests import shared

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELLS = {"sh", "bash", "console", "shell"}
RUNNABLE = "<!-- runnable -->"
OUTPUT = "# → "

# (section heading, how the block's first line starts; None: every block of the section)
# -> why it is not run here. Sections other helpers rewrite are listed whole.
NOT_RUNNABLE: dict[tuple[str, str | None], str] = {
    ("TinyDesk", "# install and start the server"): (
        "installs the package, then serves until stopped or runs this very suite; .ci/run "
        "runs the test command verbatim"
    ),
    ("Try it: `tinydesk demo`", "python3 -m venv .venv"): (
        "installs the package, then plays until Ctrl-C; tests/test_demo.py runs `demo --once`"
    ),
    ("Register the GitHub App", None): (
        "needs an App registered on GitHub (its credentials, a public URL)"
    ),
    ("Running on PostgreSQL with several processes", "export DATABASE_URL="): (
        "needs a PostgreSQL server at db.internal; tests/test_shared_limits_processes.py runs "
        "two `serve` processes on PostgreSQL"
    ),
    ("Running on PostgreSQL with several processes", "export REDIS_URL="): (
        "names a Redis server at redis.internal; tests/test_storage_limits.py uses a real one"
    ),
    ("Running the workers in their own process", "TINYDESK_WORKERS=false"): (
        "starts two processes that serve until stopped; tests/test_cli_worker.py runs the "
        "pair as real processes on both databases"
    ),
}


# --------------------------------------------------------------------------- reading README


@dataclasses.dataclass(frozen=True)
class Block:
    section: str
    line: int  # of the opening fence, 1-based
    text: str
    runnable: bool

    @property
    def first_line(self) -> str:
        return next((line for line in self.text.splitlines() if line.strip()), "")

    def where(self) -> str:
        return f"README.md:{self.line} (section {self.section!r}, {self.first_line[:50]!r})"


def shell_blocks(markdown: str) -> list[Block]:
    """The fenced shell blocks, each with the heading it is under and whether the line
    before its fence is the runnable marker. Fences may be indented (inside a list item)."""
    blocks: list[Block] = []
    section = ""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"#{1,6} (.+)", line)
        fence = re.match(r"( *)(```|~~~)(\S*)", line)
        if heading:
            section = heading.group(1).strip()
        elif fence:
            indent, marks, lang = fence.groups()
            body: list[str] = []
            start = i
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marks):
                body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            if lang.lower() in SHELLS:
                before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
                blocks.append(
                    Block(section, start + 1, "\n".join(body) + "\n", before.strip() == RUNNABLE)
                )
        i += 1
    return blocks


def reason_not_run(block: Block) -> str | None:
    for (section, start), reason in NOT_RUNNABLE.items():
        if section == block.section and (start is None or block.first_line.startswith(start)):
            return reason
    return None


# --------------------------------------------------------------------------- commands


@dataclasses.dataclass(frozen=True)
class Command:
    text: str  # as README has it, possibly several lines (quotes, backslashes)
    shows: str | None  # what README says it prints (its "# →" lines), or None


def _complete(text: str) -> bool:
    """Whether ``text`` is a whole shell command: no quote, ``$(`` or ``\\`` left open."""
    quote: str | None = None
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if quote == "'":
            quote = None if c == "'" else quote
        elif quote == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                quote = None
        elif c == "\\":
            if i + 2 >= len(text):  # it escapes the line's end: the command goes on
                return False
            i += 1
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1].isspace()):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif text.startswith("$(", i):
            depth += 1
            i += 1
        elif c == ")" and depth:
            depth -= 1
        i += 1
    return quote is None and depth == 0


def commands_of(block_text: str) -> list[Command]:
    """The block's commands, each with the ``# →`` lines right under it (continued by
    comment lines indented further than ``#``)."""
    commands: list[Command] = []
    pending = ""
    lines = block_text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            if line.startswith(OUTPUT):
                shown = [line[len(OUTPUT) :]]
                while i + 1 < len(lines) and re.match(r"#\s{2,}\S", lines[i + 1]):
                    i += 1
                    shown.append(lines[i][1:].strip())
                assert commands, f"{OUTPUT!r} before any command: {line!r}"
                assert commands[-1].shows is None, f"two outputs for {commands[-1].text!r}"
                commands[-1] = dataclasses.replace(commands[-1], shows=" ".join(shown))
            i += 1
            continue
        pending += line + "\n"
        if _complete(pending):
            commands.append(Command(pending.rstrip("\n"), None))
            pending = ""
        i += 1
    assert not pending, f"unfinished command at the end of a block: {pending!r}"
    return commands


TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"


def shown_pattern(shown: str) -> re.Pattern[str]:
    """README's ``# →`` text as a pattern: ``…`` is anything, a timestamp any timestamp,
    white space any (or no) white space; everything else is literal."""
    parts = []
    for token in re.split(rf"(…|\s+|{TIMESTAMP})", shown.strip()):
        if token == "…":
            parts.append(".*?")
        elif token and token.isspace():
            parts.append(r"\s*")
        elif re.fullmatch(TIMESTAMP, token):
            parts.append(TIMESTAMP)
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.DOTALL)


def printed(output: str) -> str:
    """A command's output for comparing: JSON compacted (README may space it out)."""
    text = output.strip()
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return text


def on_port(text: str, port: int) -> str:
    return re.sub(r"\b(localhost|127\.0\.0\.1):8000\b", rf"\g<1>:{port}", text)


# --------------------------------------------------------------------------- running


MARK = "@@tinydesk-readme-command-{}@@"


@dataclasses.dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    commands: list[Command]
    outputs: dict[int, str]  # command index -> what it printed on stdout

    def mismatches(self, port: int) -> list[str]:
        found = []
        for index, command in enumerate(self.commands):
            if command.shows is None:
                continue
            got = printed(self.outputs.get(index, ""))
            if not shown_pattern(on_port(command.shows, port)).fullmatch(got):
                found.append(
                    f"{command.text.splitlines()[0]}\n  README shows: {command.shows}\n"
                    f"  it printed:   {got[:600]}"
                )
        return found


def run_blocks(blocks: list[Block], workdir: Path, venv: Path, port: int) -> Run:
    """Run ``blocks`` in one bash in ``workdir`` (``.venv`` -> ``venv``), README's port 8000
    replaced by ``port``; each command's stdout is told apart by a marker line."""
    (workdir / ".venv").symlink_to(venv)
    commands = [c for block in blocks for c in commands_of(block.text)]
    script = [
        "set -e",
        # Whatever the blocks left running in the background (the server) stops at the end.
        "trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT",
    ]
    for index, command in enumerate(commands):
        script.append(f"printf '\\n{MARK.format(index)}\\n'")
        script.append(on_port(command.text, port))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PORT": str(port),
    }
    proc = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        stderr += "\n[timed out after 180 s]"
    outputs = {}
    pieces = re.split(r"\n" + MARK.format(r"(\d+)") + r"\n", "\n" + stdout)
    for number, text in zip(pieces[1::2], pieces[2::2], strict=True):
        outputs[int(number)] = text
    return Run(proc.returncode, stdout, stderr, commands, outputs)


def venv_under_test() -> Path:
    if sys.prefix == sys.base_prefix or not (Path(sys.prefix) / "bin" / "tinydesk").exists():
        pytest.skip("not run from a virtual environment with tinydesk installed (.venv)")
    return Path(sys.prefix)


# --------------------------------------------------------------------------- the tests


def test_every_shell_block_is_runnable_or_says_why_not():
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert sum(b.runnable for b in blocks) >= 2  # "Five minutes" and "Help-desk API"
    unexplained = [b.where() for b in blocks if not b.runnable and reason_not_run(b) is None]
    assert unexplained == [], (
        "mark each with <!-- runnable --> on the line before it (tests/test_readme_blocks.py "
        "runs it), or add it to NOT_RUNNABLE there with why not:\n  " + "\n  ".join(unexplained)
    )
    marked_and_listed = [b.where() for b in blocks if b.runnable and reason_not_run(b)]
    assert marked_and_listed == []
    for (section, start), _reason in NOT_RUNNABLE.items():
        if start is not None:  # an entry for one block must still name one
            assert any(b.section == section and b.first_line.startswith(start) for b in blocks), (
                f"NOT_RUNNABLE names no block of README any more: {section!r}, {start!r}"
            )


def test_commands_are_in_fenced_blocks_where_the_test_sees_them():
    """An indented code block holding a command would escape the test above."""
    outside, fenced = [], False
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r" {4}(\.venv/|tinydesk |curl |python|export )", line):
            outside.append(f"README.md:{number}: {line.strip()}")
    assert outside == []


def test_each_runnable_block_shows_what_it_prints():
    """A runnable block with no ``# →`` line would only be checked for not failing."""
    for block in shell_blocks(README.read_text(encoding="utf-8")):
        if block.runnable:
            assert any(c.shows for c in commands_of(block.text)), block.where()


@pytest.mark.slow
def test_readme_runnable_blocks_run_as_written(tmp_path):
    """The "Five minutes" block and the desk API example, pasted into a shell: the server
    starts in the background, `tinydesk wait` waits for it, the curl answers are the ones
    README shows, and nothing prints a traceback."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    blocks = [b for b in shell_blocks(README.read_text(encoding="utf-8")) if b.runnable]
    port = free_port()
    run = run_blocks(blocks, tmp_path, venv_under_test(), port)
    report = f"--- stdout\n{run.stdout[-4000:]}\n--- stderr\n{run.stderr[-4000:]}"
    assert run.returncode == 0, report
    assert len(run.outputs) == len(run.commands), report  # every command ran
    mismatches = run.mismatches(port)
    assert not mismatches, "\n".join(mismatches) + "\n" + report
    assert "Traceback" not in run.stderr, report


# -- the checker has teeth: a synthetic README ---------------------------------------------


def test_a_block_is_split_into_whole_commands_with_their_outputs():
    text = (
        "# a comment\n"
        "export T=$(python3 -c 'print(\"(x)\")')\n"
        "echo one \\\n  two   # trailing comment\n"
        "# → one two\n"
        "curl -d '{\n  \"a\": 1\n}' x\n"
        '# → {"a": 1,\n'
        '#    "b": "…"}\n'
    )
    assert commands_of(text) == [
        Command("export T=$(python3 -c 'print(\"(x)\")')", None),
        Command("echo one \\\n  two   # trailing comment", "one two"),
        Command("curl -d '{\n  \"a\": 1\n}' x", '{"a": 1, "b": "…"}'),
    ]


def test_shown_output_matches_only_what_it_says():
    shown = '{"publicId": "TK-00001", "createdAt": "2026-11-25T22:42:28.525Z", "token": "…"}'
    pattern = shown_pattern(shown)
    assert pattern.fullmatch(
        '{"publicId":"TK-00001","createdAt":"2030-01-02T03:04:05Z","token":"q"}'
    )
    assert not pattern.fullmatch(
        '{"publicId":"TK-00002","createdAt":"2030-01-02T03:04:05Z","token":"q"}'
    )
    assert not pattern.fullmatch('{"publicId":"TK-00001","token":"q"}')


def test_a_readme_command_that_stops_working_fails_the_run(tmp_path):
    """The runner catches a failing command and an output README no longer tells."""
    markdown = (
        "## Try\n\n<!-- runnable -->\n```sh\n"
        "echo ready on localhost:8000\n# → ready on localhost:8000\n"
        'printf \'%s\' \'{"status": "ok"}\'\n# → {"status": "degraded"}\n'
        "```\n"
    )
    blocks = shell_blocks(markdown)
    assert [b.runnable for b in blocks] == [True]
    port = free_port()
    (tmp_path / "a").mkdir()
    run = run_blocks(blocks, tmp_path / "a", Path(sys.prefix), port)
    assert run.returncode == 0
    [mismatch] = run.mismatches(port)  # the port is substituted; the status is not "ok"
    assert 'README shows: {"status": "degraded"}' in mismatch
    failing = shell_blocks(markdown.replace("echo ready", "false; echo ready"))
    (tmp_path / "b").mkdir()
    run = run_blocks(failing, tmp_path / "b", Path(sys.prefix), port)
    assert run.returncode != 0 and len(run.outputs) < len(run.commands)


# -- README's test command on a fresh clone: what needs ../shared is skipped, saying so ----


def test_without_shared_a_test_that_needs_it_is_skipped_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(shared, "BESIDE", tmp_path / "no-shared")
    monkeypatch.delenv("TINYDESK_SHARED_DIR", raising=False)
    monkeypatch.delenv(shared.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        shared.shared_dir()
    assert str(skipped.value) == (
        "needs ../shared (GitHub's payload captures and OpenAPI description); CI runs it"
    )
    monkeypatch.setenv("TINYDESK_SHARED_DIR", str(tmp_path))
    assert shared.shared_dir() == tmp_path


def test_where_shared_is_required_its_absence_fails_the_test(monkeypatch, tmp_path):
    """.ci/run sets TINYDESK_REQUIRE_SHARED=1: there, nothing is skipped for want of it."""
    monkeypatch.setattr(shared, "BESIDE", tmp_path / "no-shared")
    monkeypatch.delenv("TINYDESK_SHARED_DIR", raising=False)
    monkeypatch.setenv(shared.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        shared.shared_dir()
    assert "needs ../shared" in str(failed.value) and "TINYDESK_REQUIRE_SHARED=1" in str(
        failed.value
    )
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nexport TINYDESK_REQUIRE_SHARED=1\n" in ci
