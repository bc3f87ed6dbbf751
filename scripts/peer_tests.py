"""jupyter_server's own tests, run without and with jupyterlab_compute_panel: `make peers`.

An extension that patches the server's kernel manager and mounts routes beside its session
and kernel routes can break the server for everyone else. This runs the server's own
kernels, sessions, kernelspecs and gateway-client tests, from the sdist of the installed
jupyter_server, twice with this Python: once as they are, once with the extension enabled
in every test's server as an installed wheel enables it (scripts/peer_plugin.py, which also
checks in each of those servers that it loaded: metering, or disabled with its one line
where the gateway client is configured). The runs are compared test by test:

- a test that passes without the extension and not with it is a regression, and the step
  fails (after one rerun of such tests, so that a timing flake on a busy machine is named
  as one and not counted);
- a test that fails without the extension too is listed by id with its first line: the
  server's, or this machine's, not ours.

    python scripts/peer_tests.py                      # the four suites (about 3 minutes)
    python scripts/peer_tests.py tests/test_gateway.py

The sdist is downloaded once with pip into .make/peers/ (a fresh CI checkout downloads it).
Exit status: 0 when nothing regressed, 1 when something did, 2 when the step could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).resolve().parent
PEER = "jupyter_server"
EXTENSION = "jupyterlab_compute_panel"
SUITES = (
    "tests/services/kernels",
    "tests/services/sessions",
    "tests/services/kernelspecs",
    "tests/test_gateway.py",
)
RUN_TIMEOUT = 900  # seconds for one run of the suites (the sdist gives each test 100 s)
PASSING = ("passed", "xfailed")  # xfail is strict in the sdist's config: an xpass is a failure


class StepError(Exception):
    """The step could not run (no sdist, no outcomes): one sentence."""


# ---- the sdist ------------------------------------------------------------------------------


def download_sdist(release: str, cache: Path) -> Path:
    """The sdist of ``jupyter_server==release`` in ``cache``, downloaded by pip when absent."""
    found = sorted(cache.glob(f"jupyter[-_]server-{release}.tar.gz"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as folder:
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
        done = subprocess.run(
            [*command, f"{PEER}=={release}", "-d", folder], capture_output=True, text=True, timeout=600
        )
        got = sorted(Path(folder).glob("*.tar.gz"))
        if done.returncode != 0 or len(got) != 1:
            said = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise StepError(f"pip could not download the sdist of {PEER} {release}: {' / '.join(said) or 'no file'}")
        return Path(shutil.move(str(got[0]), cache / got[0].name))


def unpack_tests(sdist: Path, release: str, cache: Path) -> Path:
    """The sdist's tests/ and pyproject.toml (its pytest settings) in a folder of ``cache``,
    unpacked once. Its jupyter_server/ stays packed: the tests import the installed one."""
    target = cache / f"{PEER}-{release}"
    stamp = target / ".unpacked"
    if stamp.exists():
        return target
    with tarfile.open(sdist) as archive:
        members = archive.getmembers()
        tops = {PurePosixPath(m.name).parts[0] for m in members if m.name}
        if len(tops) != 1:
            raise StepError(f"{sdist.name} is not an sdist with one top folder ({sorted(tops)[:3]})")
        top = tops.pop()
        stated = _stated_version(archive, top)
        if stated != release:
            raise StepError(f"{sdist.name} says it is version {stated}, not the installed {release}")
        wanted = [m for m in members if _wanted(m, top)]
        if not any(m.name == f"{top}/tests/conftest.py" for m in wanted):
            raise StepError(f"{sdist.name} has no tests/conftest.py: it cannot be the test suite's source")
        if target.exists():
            shutil.rmtree(target)
        with tempfile.TemporaryDirectory(dir=cache) as folder:
            # _wanted keeps plain files and folders inside the top one; the data filter where Python has it.
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(folder, members=wanted, **safe)  # noqa: S202 (members checked by _wanted)
            shutil.move(str(Path(folder) / top), target)
    stamp.write_text(f"{sdist.name}\n")
    return target


def _stated_version(archive: tarfile.TarFile, top: str) -> str | None:
    """The Version: line of the sdist's PKG-INFO."""
    try:
        info = archive.extractfile(f"{top}/PKG-INFO")
    except KeyError:
        return None
    for line in info.read().decode(errors="replace").splitlines() if info else ():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return None


def _wanted(member: tarfile.TarInfo, top: str) -> bool:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
        return False
    return member.name == f"{top}/pyproject.toml" or path.parts[1:2] == ("tests",)


# ---- the runs -------------------------------------------------------------------------------


@dataclass
class Run:
    """One pytest run of the peer's suites, and what it left."""

    name: str  # "without" or "with"
    folder: Path  # the unpacked sdist
    paths: list[str]
    load_extension: bool
    logs: Path
    outcomes_file: Path = field(init=False)
    log_file: Path = field(init=False)
    seconds: float = 0.0
    tests: dict[str, dict] = field(default_factory=dict)
    servers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.outcomes_file = self.logs / f"{self.name}.json"
        self.log_file = self.logs / f"{self.name}.log"

    def start(self, basetemp: Path) -> subprocess.Popen:
        self.outcomes_file.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "peer_plugin",
            f"--peer-outcomes={self.outcomes_file}", f"--basetemp={basetemp}", "--color=no",
        ]  # fmt: skip
        if self.load_extension:
            command.append("--peer-load-extension")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SCRIPTS), env.get("PYTHONPATH", "")) if p)
        self._started = time.monotonic()
        with open(self.log_file, "wb") as log:
            return subprocess.Popen(
                [*command, *self.paths], cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def finish(self, process: subprocess.Popen) -> None:
        try:
            process.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise StepError(
                f"the run {self.name} the extension took over {RUN_TIMEOUT} s; see {self.log_file}"
            ) from None
        self.seconds = time.monotonic() - self._started
        if not self.outcomes_file.exists():
            raise StepError(
                f"the run {self.name} the extension ended (exit {process.returncode}) without recording outcomes; "
                f"its output ends:\n{tail(self.log_file)}"
            )
        recorded = json.loads(self.outcomes_file.read_text())
        self.tests, self.servers = recorded["tests"], recorded["servers"]


def run_all(runs: list[Run], parallel: bool) -> None:
    """Run ``runs``, at the same time when ``parallel`` (their tests mostly wait on kernels)."""
    with tempfile.TemporaryDirectory(prefix="peer-tests-") as temp:
        if parallel:
            started = [(run, run.start(Path(temp) / run.name)) for run in runs]
            for run, process in started:
                run.finish(process)
        else:
            for run in runs:
                run.finish(run.start(Path(temp) / run.name))


def tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# ---- the comparison -------------------------------------------------------------------------


@dataclass
class Comparison:
    regressions: list[str]  # pass (or skip) without the extension, not with it
    both: list[str]  # fail without it and with it
    only_without: list[str]  # fail without it, pass with it (flaky here)


def compare(without: dict[str, dict], with_: dict[str, dict]) -> Comparison:
    """Test ids by how their outcomes differ; a test missing from the run with the extension
    (its module failed to import there) counts as failing there."""
    regressions, both, only_without = [], [], []
    for nodeid in sorted(set(without) | set(with_)):
        before = without.get(nodeid, {}).get("outcome")
        after = with_.get(nodeid, {}).get("outcome", "missing")
        if before is None:
            if after not in PASSING and after != "skipped":
                regressions.append(nodeid)  # only the run with the extension has it, and it fails
        elif before == "failed":
            (both if after not in PASSING else only_without).append(nodeid)
        elif before in PASSING and after not in PASSING:
            regressions.append(nodeid)
        elif before == "skipped" and after not in (*PASSING, "skipped"):
            regressions.append(nodeid)
    return Comparison(regressions, both, only_without)


def counts(tests: dict[str, dict]) -> str:
    tally: dict[str, int] = {}
    for test in tests.values():
        tally[test["outcome"]] = tally.get(test["outcome"], 0) + 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items(), key=lambda kv: -kv[1])) or "no tests"


def _listed(ids: list[str], *runs: dict[str, dict]) -> list[str]:
    lines = []
    for nodeid in ids:
        message = next((run[nodeid]["message"] for run in runs if run.get(nodeid, {}).get("message")), "")
        lines.append(f"  {nodeid}" + (f"\n      {message}" if message else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=list(SUITES), help=f"test paths of the sdist ({' '.join(SUITES)})")
    parser.add_argument("--cache", type=Path, default=ROOT / ".make" / "peers", help="where the sdist is kept")
    parser.add_argument("--sequential", action="store_true", help="one run after the other, not side by side")
    args = parser.parse_args(argv)
    try:
        return _main(args)
    except StepError as e:
        print(f"peer tests: {e}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    try:
        release, ours = version(PEER), version(EXTENSION)
    except PackageNotFoundError as e:
        raise StepError(f"{e.name} is not installed in {sys.prefix}: pip install -e '.[test]'") from None
    import jupyterlab_compute_panel

    where = Path(jupyterlab_compute_panel.__file__).resolve().parent
    sdist = download_sdist(release, args.cache)
    folder = unpack_tests(sdist, release, args.cache)
    missing = [path for path in args.paths if not (folder / path).exists()]
    if missing:
        raise StepError(f"{sdist.name} has no {', '.join(missing)}")
    logs = args.cache / f"logs-{release}"
    logs.mkdir(parents=True, exist_ok=True)
    print(
        f"peer tests: {PEER} {release}'s own {' '.join(args.paths)} (from {sdist.name}), "
        f"without and with {EXTENSION} {ours} ({where})",
        flush=True,
    )
    without = Run("without", folder, args.paths, load_extension=False, logs=logs)
    with_ = Run("with", folder, args.paths, load_extension=True, logs=logs)
    run_all([without, with_], parallel=not args.sequential)
    for run in (without, with_):
        print(f"  {run.name + ' the extension:':24} {counts(run.tests)} in {run.seconds:.0f} s ({run.log_file})")
    loaded = with_.servers
    print(
        f"  the extension loaded and metered in {loaded.get('metering', 0)} of the tests' servers, and disabled "
        f"itself with its one line in {loaded.get('gateway', 0)} whose gateway client is configured"
    )
    if not without.tests:
        raise StepError(f"no test ran; see {without.log_file}")
    result = compare(without.tests, with_.tests)
    flaky: list[str] = []
    if result.regressions:
        # One more try, with the extension, of those alone: a timing flake passes now.
        print(f"  {len(result.regressions)} test(s) failed with the extension only: running them once more", flush=True)
        again = Run("with-rerun", folder, result.regressions, load_extension=True, logs=logs)
        run_all([again], parallel=False)
        flaky = [t for t in result.regressions if again.tests.get(t, {}).get("outcome") in PASSING]
        result.regressions = [t for t in result.regressions if t not in flaky]
    if result.both:
        print(
            f"\n{len(result.both)} test(s) fail on this machine without the extension too, and the same with it "
            "(the server's or this machine's, not the extension's; not counted against it):"
        )
        print("\n".join(_listed(result.both, without.tests)))
    if result.only_without:
        print(f"\n{len(result.only_without)} test(s) failed without the extension only (flaky here?):")
        print("\n".join(_listed(result.only_without, without.tests)))
    if flaky:
        print(f"\n{len(flaky)} test(s) failed once with the extension and passed when run again (flaky here?):")
        print("\n".join(_listed(flaky, with_.tests)))
    if result.regressions:
        print(f"\nREGRESSION: {len(result.regressions)} test(s) pass without the extension and fail with it:")
        print("\n".join(_listed(result.regressions, with_.tests)))
        print(f"(outputs: {with_.log_file}, {without.log_file})")
        return 1
    # Nothing regressed: prove that it was there to regress anything.
    if not loaded.get("metering") or (any("gateway" in p for p in args.paths) and not loaded.get("gateway")):
        raise StepError(
            f"no test failed, but the extension was found loaded in too few servers ({loaded}): "
            f"scripts/peer_plugin.py did not enable it or did not see the servers start; see {with_.log_file}"
        )
    print(f"\npeer tests passed: every test of {PEER} {release} that passes without the extension passes with it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
