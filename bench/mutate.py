"""Targeted mutation check: break one promise at a time and make sure a test notices.

    .venv/bin/python bench/mutate.py                       # every list in bench/mutations/
    .venv/bin/python bench/mutate.py bench/mutations/core.toml --only "NAME" [--only ...]
    .venv/bin/python bench/mutate.py --list                # names, files and tests; runs nothing

Each `[[mutation]]` in a list names a promise, a file, an exact `find` text (it must occur
exactly once in the file), its `replace`ment, and the pytest arguments (`tests`) that must
fail once the mutation is in place. For each mutation the tool copies the working tree
(uncommitted changes included; not .git, .venv or caches) to a temporary folder, applies
the mutation there and runs the tests with this checkout's Python, the copy first on
PYTHONPATH, so the mutated code is what they import, in-process and in subprocesses.
(The editable install's finder comes after sys.path; the tool checks that `posed` and
every `posed.backends` entry point resolve inside the copy before trusting a result.)

Before any mutation, each distinct test selection runs once on an unmutated copy: a
selection that fails there proves nothing, and the tool stops.

Results: killed (the tests failed), survived (they passed: a promise no test guards),
broken (pytest could not run them: an import or collection error, usually a bad
`replace`). Exit 0 when every mutation was killed, 1 on any survivor or broken mutation,
2 when a list is invalid or a baseline fails. Slow by nature (one pytest run per mutation),
so not part of CI; see docs/development.md, "The mutation check".

Why not mutmut or cosmic-ray: they generate thousands of blind operator swaps; the point
here is a short, reviewed list of the documented promises, each tied to the tests that
guard it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LISTS = REPO / "bench" / "mutations"
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".venv-*", "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", "*.egg-info", "build",
)  # fmt: skip
FIELDS = ("name", "promise", "file", "find", "replace", "tests")
PYTEST_TIMEOUT = 1800.0  # seconds for one selection; pytest-timeout bounds each test inside it

# Prints where posed and every posed.backends entry point come from, one path a line.
WHERE_SCRIPT = """
import importlib, importlib.metadata as md, posed
print(posed.__file__)
for ep in md.entry_points(group="posed.backends"):
    print(importlib.import_module(ep.module).__file__)
"""


@dataclass(frozen=True)
class Mutation:
    name: str
    promise: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    source: Path  # the list it came from


class ListError(Exception):
    pass


def load_lists(paths: Sequence[Path]) -> list[Mutation]:
    mutations: list[Mutation] = []
    problems: list[str] = []
    for path in paths:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        entries = data.get("mutation", [])
        if not isinstance(entries, list) or not entries:
            problems.append(f"{path}: no [[mutation]] entries")
            continue
        for index, entry in enumerate(entries, 1):
            where = f"{path.name} mutation #{index} ({entry.get('name', '?')!r})"
            missing = [key for key in FIELDS if key not in entry]
            unknown = sorted(set(entry) - set(FIELDS))
            if missing or unknown:
                problems.append(f"{where}: missing {missing}, unknown {unknown}; keys are {list(FIELDS)}")
                continue
            tests = entry["tests"]
            if not (isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests)):
                problems.append(f"{where}: tests must be a non-empty list of pytest arguments")
                continue
            mutation = Mutation(
                entry["name"],
                entry["promise"],
                entry["file"],
                entry["find"],
                entry["replace"],
                tuple(tests),
                path,
            )
            problems += [f"{where}: {p}" for p in check(mutation)]
            mutations.append(mutation)
    names = [m.name for m in mutations]
    problems += [f"duplicate name {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise ListError("\n".join(problems))
    return mutations


def check(mutation: Mutation) -> list[str]:
    target = REPO / mutation.file
    if not target.is_file():
        return [f"file {mutation.file} does not exist"]
    count = target.read_text(encoding="utf-8").count(mutation.find)
    problems = []
    if count != 1:
        problems.append(f"`find` occurs {count} times in {mutation.file}; it must occur exactly once")
    if mutation.find == mutation.replace:
        problems.append("`replace` equals `find`")
    return problems


# -- running -------------------------------------------------------------------------------------


class Copy:
    """The working tree in a temporary folder, with an environment that imports it first."""

    def __init__(self, keep: bool) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="posed-mutant-")) / "repo"
        self._keep = keep
        shutil.copytree(REPO, self.root, ignore=IGNORED, symlinks=True)
        env = dict(os.environ)
        paths = [str(self.root), str(self.root / "backends")]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["POSED_SHARED_DIR"] = os.environ.get("POSED_SHARED_DIR", str(REPO.parent / "shared"))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.env = env

    def apply(self, mutation: Mutation) -> None:
        target = self.root / mutation.file
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace(mutation.find, mutation.replace, 1), encoding="utf-8")

    def check_imports(self) -> None:
        result = subprocess.run(
            [sys.executable, "-c", WHERE_SCRIPT], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"cannot import posed from the copy:\n{result.stderr}")
        outside = [p for p in result.stdout.split() if not Path(p).resolve().is_relative_to(self.root)]
        if outside:
            raise RuntimeError(f"these resolve outside the copy {self.root}: {outside}")

    def pytest(self, tests: Sequence[str]) -> tuple[int, str, float]:
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
        started = time.monotonic()
        try:
            result = subprocess.run(
                command, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=PYTEST_TIMEOUT
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout if isinstance(exc.stdout, str) else ""
            return 1, out + f"\n(timed out after {PYTEST_TIMEOUT:.0f} s)", time.monotonic() - started
        return result.returncode, result.stdout + result.stderr, time.monotonic() - started

    def close(self) -> None:
        if self._keep:
            print(f"    kept {self.root}")
        else:
            shutil.rmtree(self.root.parent, ignore_errors=True)

    def __enter__(self) -> Copy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verdict(returncode: int) -> str:
    # pytest: 0 all passed, 1 some failed, 2 interrupted, 3 internal error, 4 usage error, 5 none collected.
    if returncode == 0:
        return "survived"
    if returncode == 1:
        return "killed"
    return "broken"


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("      " + line for line in text.rstrip().splitlines()[-lines:])


def run_baselines(mutations: Sequence[Mutation], keep: bool) -> bool:
    selections = list(dict.fromkeys(m.tests for m in mutations))
    print(f"baseline: {len(selections)} test selection(s) on an unmutated copy")
    ok = True
    with Copy(keep) as copy:
        copy.check_imports()
        for tests in selections:
            code, output, seconds = copy.pytest(tests)
            print(f"  {'pass' if code == 0 else 'FAIL'} {seconds:6.1f} s  {' '.join(tests)}")
            if code != 0:
                print(tail(output))
                ok = False
    return ok


def run_mutation(mutation: Mutation, keep: bool) -> str:
    with Copy(keep) as copy:
        copy.apply(mutation)
        copy.check_imports()
        code, output, seconds = copy.pytest(mutation.tests)
    result = verdict(code)
    print(f"  {result:8s} {seconds:6.1f} s  {mutation.name}")
    if result == "killed":
        # pytest's short summary (-ra in pyproject): which test caught it, and why.
        caught = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
        print("\n".join(f"      {line[:160]}" for line in caught[:2]))
    if result != "killed":
        print(f"      promise: {mutation.promise}\n      {mutation.file}; tests: {' '.join(mutation.tests)}")
        print(tail(output))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "lists", nargs="*", type=Path, help="mutation lists (default: bench/mutations/*.toml)"
    )
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this mutation")
    parser.add_argument("--list", action="store_true", help="print the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies (to debug)")
    args = parser.parse_args(argv)

    paths = args.lists or sorted(LISTS.glob("*.toml"))
    try:
        mutations = load_lists(paths)
    except ListError as exc:
        print(f"invalid mutation list:\n{exc}", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in mutations})
        if unknown:
            print(f"no mutation named {unknown}; see --list", file=sys.stderr)
            return 2
        mutations = [m for m in mutations if m.name in args.only]
    if args.list:
        for m in mutations:
            print(f"{m.name}\n    {m.promise}\n    {m.file}; tests: {' '.join(m.tests)}  [{m.source.name}]")
        return 0

    started = time.monotonic()
    if not args.no_baseline and not run_baselines(mutations, args.keep):
        print("a test selection fails without any mutation: fix it first", file=sys.stderr)
        return 2
    print(f"{len(mutations)} mutation(s)")
    results = [run_mutation(m, args.keep) for m in mutations]
    counts = {r: results.count(r) for r in ("killed", "survived", "broken")}
    print(
        f"{counts['killed']} killed, {counts['survived']} survived, {counts['broken']} broken "
        f"of {len(results)} in {time.monotonic() - started:.0f} s"
    )
    return 0 if counts["killed"] == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
