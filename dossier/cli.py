"""The `dossier` command line: parses options, calls the modules, sets exit codes.

Exit codes (every command): 0 success / clean, 1 findings or failures, 2 usage or environment error.
One error path: a command (or anything it calls) raises :class:`DossierError` for bad usage or an unusable
environment; :func:`command` turns it, and any OSError, into one ``error:`` line and exit 2. Console output
never interprets card text as markup.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from typer._click import exceptions as usage  # typer vendors click: its parser raises these, not click's own

from dossier.errors import DossierError, OutputRefused
from dossier.main import interrupted, output_refused
from dossier.model import MAX_PR
from dossier.project import Project, find_root
from dossier.prose import first_few
from dossier.terminal import first_control, one_line, visible


class OneLineUsage(usage.ClickException):
    """A usage error click would print as four lines (the usage, a hint, a blank line, `Error: ...`): one
    ``error:`` line like every other error, exit 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        typer.echo(f"error: {one_line(self.message)}", file=file, err=True)


class Commands(typer.core.TyperGroup):
    """The command group: a usage error, at any level (no such command or option, a bad value, a value missing),
    becomes :class:`OneLineUsage`; no command at all still prints the help."""

    @contextmanager
    def _one_line(self) -> Iterator[None]:
        try:
            yield
        except usage.NoArgsIsHelpError:
            raise
        except usage.UsageError as exc:
            where = f"; `{exc.ctx.command_path} --help` says more" if exc.ctx is not None else ""
            message = " ".join(exc.format_message().split()).rstrip(".")
            raise OneLineUsage(f"{message} ({where.removeprefix('; ')})" if where else message) from None

    def make_context(self, *args, **kwargs):
        with self._one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with self._one_line():
            return super().invoke(ctx)


app = typer.Typer(
    cls=Commands,
    help="Build, check and render the PR-diff-backed Qwen3-Next optimization manual.\n\n"
    "Exit codes: 0 clean, 1 findings or failures, 2 usage or environment error.\n\n"
    "Check the project: dossier lint; dossier render --check; dossier drift. "
    "Add a card: dossier fetch PR; dossier new PR; write its prose; dossier lint cards/PR.yaml; "
    "dossier lint --record cards/PR.yaml (proves its key fragment against the diff, and vouches for its claims' "
    "figures and files as checked against the PR's page); dossier releases verify --record --cache-dir DIR (the "
    "releases that shipped it); dossier drift --record (where it is today); dossier render.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
#: the narrowest layout: narrower, a table drops whole columns and a panel crops its text (`COLUMNS=0 dossier show N`
#: printed nothing, `findings` at 40 columns the names alone); a terminal narrower than this wraps the lines instead
MIN_WIDTH = 80
#: the widest layout: a panel pads every line to the width, and COLUMNS=1000000 printed 46 MB for one card (1e11: an
#: internal MemoryError); a terminal wider than this gets this layout
MAX_WIDTH = 1000
for _console in (out, err):
    _console.width = min(max(_console.width, MIN_WIDTH), MAX_WIDTH)

USAGE = 2
DEBUG_ENV = "DOSSIER_DEBUG"
#: DEBUG_ENV's values, case-insensitive: these show an internal error's traceback, those (and unset) do not
DEBUG_ON, DEBUG_OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def debug_wanted() -> bool:
    """Whether $DOSSIER_DEBUG asks for tracebacks; a value that is neither on nor off is a usage error, not a
    guess (``DOSSIER_DEBUG=0`` turned them on)."""
    raw = os.environ.get(DEBUG_ENV, "")
    value = raw.strip().lower()
    if value not in DEBUG_ON + DEBUG_OFF:
        raise DossierError(f"{DEBUG_ENV} must be {', '.join(DEBUG_ON[:-1])} or {DEBUG_ON[-1]} (tracebacks) or "
                           f"{', '.join(DEBUG_OFF[:-1])} or empty (none), got {raw!r}")
    return value in DEBUG_ON


@contextmanager
def working(what: str) -> Iterator[None]:
    """Say what a step of seconds is doing: a spinner on a terminal, cleared after; one line in a log. The spinner's
    line fits the terminal's real width (the layout's 80-column floor is for output that stays): a wrapped line
    would leave a stale row each time it is redrawn."""
    if err.is_terminal:
        room = _stderr_columns() - 3  # the spinner and its space, and a margin
        with err.status(what if len(what) <= room else what[:max(room - 3, 1)] + "..."):
            yield
    else:
        err.print(what, markup=False)
        yield


@contextmanager
def stepping(what: str) -> Iterator[Callable[[str], None]]:
    """A step of minutes that says how far it got: yields ``say(line)``, which updates the spinner's line on a
    terminal and prints the line in a log (CI), one per call."""
    with err.status(what) as status:
        def say(line: str) -> None:
            if err.is_terminal:
                status.update(line)
            else:
                err.print(line, markup=False)

        yield say


def _stderr_columns() -> int:
    """The width of the terminal the spinner is drawn on (stderr), whatever stdout is piped to; $COLUMNS first. A
    width below 1 (`COLUMNS=0`, a pty that reports 0 columns, as `docker exec -t` can) is no width: MIN_WIDTH."""
    try:
        if (given := int(os.environ["COLUMNS"])) > 0:
            return given
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or MIN_WIDTH
    except (OSError, ValueError, AttributeError):
        return MIN_WIDTH


def fail(message: str) -> None:
    """Print ``error: message`` and exit 2 (usage or environment)."""
    err.print(f"error: {one_line(message)}")
    raise typer.Exit(USAGE)


def _os_error(exc: OSError) -> str:
    from dossier.files import write_failure

    if isinstance(exc, OutputRefused):
        return output_refused(exc)
    return write_failure(exc) if exc.filename is not None else str(exc)


def command(*name: str, group: typer.Typer | None = None, **kw):
    """Register a command (on ``group``, default the app) whose DossierError/OSError becomes `error: ...` + exit 2 instead of a traceback.
    Anything else is a bug: one `error: internal error` line (DOSSIER_DEBUG=1 re-raises it: :func:`debug_wanted`,
    read before the command runs)."""

    def register(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            debug = False
            try:
                debug = debug_wanted()
                if sys.stdout is None:  # `>&-`: print() writes nowhere, silently; sys.stdout.write raises
                    raise DossierError("standard output is closed: what this command prints would be lost (send it "
                                       "to a file or to /dev/null instead)")
                return fn(*args, **kwargs)
            except (typer.Exit, typer.Abort, usage.ClickException):
                raise
            except KeyboardInterrupt as exc:  # Ctrl-C: one line and 130 (SIGTERM 143), not click's exit 1
                line, code = interrupted(exc)
                err.print(line)
                raise typer.Exit(code) from None
            except DossierError as exc:
                fail(str(exc))
            except BrokenPipeError:  # the reader left (`| head`): click exits 1 without a word
                raise
            except OSError as exc:
                fail(_os_error(exc))
            except Exception as exc:
                if debug:
                    raise
                fail(f"internal error: {type(exc).__name__}: {exc} (a bug in dossier; {DEBUG_ENV}=1 shows where)")

        (group or app).command(*name, **kw)(run)
        return fn

    return register


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class TextJson(StrEnum):
    """--format of the commands without workflow annotations."""

    text = "text"
    json = "json"


def _given(raw: str, what: str) -> str:
    if not raw.strip():
        raise typer.BadParameter(f"is empty (an unset shell variable?): {what}, or leave the option out")
    return raw


def _as_utf8(raw: str) -> str:
    """``raw`` read as UTF-8 where the locale read its bytes otherwise: under a strict C locale (PYTHONUTF8=0) Python
    takes each byte past ASCII for a lone surrogate, so valid UTF-8 ("tïtle") looked like bytes that are not."""
    try:
        return raw.encode(sys.getfilesystemencoding(), "surrogateescape").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def given_text(raw: str, what: str = "give a value") -> str:
    """A value given on the command line that means nothing empty (a rule prefix, a host, a title): an empty one
    (an unset shell variable) is a usage error, not the default it would otherwise silently fall back to; so is
    one holding a control character (a pasted line break, an escape sequence)."""
    odd = first_control(_given(raw, what))
    if odd is not None:
        raise typer.BadParameter(f"holds a control character (U+{ord(raw[odd]):04X} at position {odd + 1})")
    raw = _as_utf8(raw)
    bad = next((i for i, ch in enumerate(raw) if "\ud800" <= ch <= "\udfff"), None)
    if bad is not None:  # a byte that is not UTF-8 (Python reads it as a lone surrogate): no card can hold it
        raise typer.BadParameter(f"holds a byte that is not UTF-8 (0x{ord(raw[bad]) - 0xDC00:02X} at position "
                                 f"{bad + 1}; check the terminal's or the script's encoding)")
    return raw


def given_path(raw: str) -> Path:
    """A path given on the command line; an empty one is a usage error, not the current directory it would
    otherwise mean (any other character may be in a file name)."""
    return _home(Path(_given(raw, "name a path")))


def _home(path: Path) -> Path:
    """``path`` with a leading `~` read as the shell would (a quoted '~/x' reaches us unexpanded; left as written
    it would name, or create, a folder called `~`)."""
    try:
        return path.expanduser()
    except RuntimeError:  # ~user of no user: a name after all
        return path


def given_output(raw: str) -> str:
    """An output path as given: `-` (standard output) stays apart from `./-` (a file), which a Path would merge."""
    given = _given(raw, "name a path")
    return given if given == "-" else str(_home(Path(given))) if given.startswith("~") else given


def given_seconds(raw: str) -> float:
    """A duration of 0.1 s to a day (--deadline): anything else, NaN and infinity too, is a usage error naming it
    (no clock or thread wait takes those)."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.1 <= value <= 86400:  # NaN fails too
        raise typer.BadParameter(f"must be seconds from 0.1 to 86400 (a day), got {raw!r}")
    return value


def given_pr(raw: str) -> int:
    """A PR number as the manual writes it (`#19321`) or bare (`19321`): anything else, `19321.0` or a number past
    the largest PR, is a usage error naming it."""
    text = _given(raw, "name a PR")
    m = re.fullmatch(r"#?([0-9]{1,7})", text.strip())  # ASCII digits: '١٩٣٢١' is no PR number as written
    if m is None or not 1 <= int(m[1]) <= MAX_PR:
        raise typer.BadParameter(f"{raw!r} is not a PR number (1 to {MAX_PR}, as 19321 or #19321)")
    return int(m[1])


def pr_argument(help: str, **kw) -> typer.models.ArgumentInfo:
    """A PR-number argument: :func:`given_pr` parses it."""
    return typer.Argument(parser=given_pr, help=help, **kw)


def path_option(*names: str, **kw) -> typer.models.OptionInfo:
    """A path option: :func:`given_path` parses it."""
    return typer.Option(*names, parser=given_path, metavar="<path>", **kw)


def given_options(*names: str) -> list[str]:
    """The parameters among ``names`` (their Python names) that this command's caller set, on the command line or
    through the environment, as the caller spells them (``--record``; an argument by its name, ``PATHS``)."""
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    ctx = get_current_context()
    spelled = {p.name: p.opts[0] if p.param_type_name == "option" else p.name.upper()
               for p in ctx.command.params}
    return [spelled[n] for n in names if ctx.get_parameter_source(n) not in (None, ParameterSource.DEFAULT)]


def ignored_with(option: str, does: str, *names: str) -> None:
    """A usage error when ``option`` (which ``does`` something else than the command's work, then exits) comes with
    any of ``names`` set: each would be ignored, and the caller would take it for done (a `--record`)."""
    if ignored := given_options(*names):
        fail(f"{option} {does}: {', '.join(ignored)} would be ignored")


def not_a_folder(path: Path) -> str | None:
    """Why ``path`` is no folder ("does not exist", "is not a folder"), or None when it is one."""
    return None if path.is_dir() else "is not a folder" if path.exists() else "does not exist"


def given_folder(raw: str) -> Path:
    """A folder given on the command line that must be there (:func:`given_path`): a typo is a usage error, not a
    folder that a command would create or search in vain."""
    path = given_path(raw)
    if why := not_a_folder(path):
        raise typer.BadParameter(f"{path} {why}")
    return path


RootOpt = Annotated[Path | None, typer.Option(
    "--root", parser=given_folder, metavar="<path>",
    help="Project root (default: nearest dir whose pyproject has [tool.dossier]).")]


def _project(root: Path | None, paths: list[Path] | None = None) -> Project:
    return Project.load(root or find_root(), paths)


@command()
def fetch(
    prs: Annotated[list[int] | None, pr_argument("PR numbers to fetch (19321 or #19321).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Fetch every card's own PR and the PRs its superseded_by "
                                                     "names (not PRs its prose cites: name those); a card with no "
                                                     "PR number to read is named in a warning.")] = False,
    repo: Annotated[str | None, typer.Option(
        parser=given_text, help="OWNER/NAME (default: [tool.dossier] repo).")] = None,
    source: Annotated[str, typer.Option(metavar="<github|git>", help="github or git.")] = "github",
    git_repo: Annotated[Path | None, path_option("--git-repo", help="Local clone for --source git.")] = None,
    import_: Annotated[Path | None, path_option(
        "--import", help="Bring a saved unified diff (`git diff`, GitHub's .diff page) into the cache as the one "
        "PR named; a pipe (`<(curl ...)`) works too; read up to 256 MiB.")] = None,
    cache_dir: Annotated[Path | None, path_option(
        "--cache-dir", help="Fetch cache (default: $DOSSIER_CACHE, else <root>/.dossier/cache).")] = None,
    refresh: Annotated[bool, typer.Option(help="Fetch again even when cached.")] = False,
    jobs: Annotated[int, typer.Option(help="Concurrent fetches, 1 to 32.")] = 4,
    deadline: Annotated[float | None, typer.Option(
        envvar="DOSSIER_FETCH_DEADLINE", parser=given_seconds, metavar="SECONDS",
        help="Seconds the whole fetch may take, at most a day; what has not finished then fails (also "
        "$DOSSIER_FETCH_DEADLINE).")] = None,
    root: RootOpt = None,
) -> None:
    """Fetch PR metadata and diffs (GitHub, a local clone, or a saved diff) into the cache.

    GitHub: token from $GITHUB_TOKEN (optional), API base from $GITHUB_API_URL, else pyproject.toml's
    [tool.dossier] api_url; retries, backoff, timeout, pause between requests and page size from
    $DOSSIER_HTTP_{RETRIES,BACKOFF,TIMEOUT,THROTTLE,PER_PAGE}.
    A fetch waits when GitHub asks: out a rate limit (Retry-After, in seconds or as a date, else a minute; or
    the hourly reset), every PR holding, one line per pause; and for a PR answered "202 still computing"
    (asked again every 2 s). A run's waits, both kinds, share one budget: $DOSSIER_HTTP_WAIT seconds of
    waiting in all (default 300; 0 never waits); a wait it cannot cover, or --deadline would cut, fails that
    PR at once, saying why. A PR limited inside its file list goes on from the page it stopped at. Ctrl-C
    ends a wait at once and keeps what landed.
    A cached PR costs no request unless --refresh. A file whose diff is not UTF-8 (--source git; from GitHub, an
    answer holding U+FFFD: bytes that were not UTF-8, replaced on reading or by GitHub) is cached with U+FFFD in
    place of each byte it cannot read, named (warning) and recorded in the entry's provenance; so is a title.
    Exit 1 if any PR failed (the others still land in the cache). After 3 consecutive connection failures
    to a host its remaining PRs fail at once (one summary line). The cache must be writable before any
    request is made (exit 2).
    """
    import re
    import time

    from dossier.fetching import (
        INTERRUPTED,
        MAX_JOBS,
        FetchInterrupted,
        cited_prs,
        fetch_with_progress,
        summary_table,
    )
    from dossier.files import signals_deferred
    from dossier.project import REPO_PATTERN, read_config
    from dossier.sources import SAVED_CRLF, SourceError, meta_not_utf8, not_utf8
    from dossier.sources.cache import Cache


    source = source.lower()
    if source not in ("github", "git"):
        fail(f"--source must be github or git, got {source!r}")
    if import_ is not None and (all_ or len(prs or []) != 1 or source != "github"):
        fail("--import takes exactly one PR number and no --all or --source")
    if import_ is not None and given_options("jobs"):
        fail("--import reads one saved diff: --jobs (concurrent fetches) would be ignored")
    if source == "git" and git_repo is None:
        fail("--source git needs --git-repo PATH (a local clone)")
    if git_repo is not None and source != "git":
        fail("--git-repo is for --source git: without it the PRs would come from GitHub")
    if not 1 <= jobs <= MAX_JOBS:
        fail(f"--jobs must be from 1 to {MAX_JOBS}, got {jobs}")
    if all_:
        project = _project(root)
    else:  # explicit PR numbers need no cards, only the configuration
        base = (root or find_root()).resolve()
        project = Project(root=base, config=read_config(base))
    repo = repo or project.repo
    if not re.fullmatch(REPO_PATTERN, repo):
        fail(f"--repo must be OWNER/NAME, got {repo!r}")
    cited, left_out = cited_prs(project) if all_ else ([], [])
    if left_out:
        err.print(f"warning: not fetched, as no PR number can be read there: {first_few(left_out, 4)} (`dossier lint` "
                  "says what is wrong)", markup=False)
    numbers = [*(prs or []), *cited]
    if not numbers:
        fail("no card cites a PR" if all_ else "name PR numbers, or pass --all")
    try:
        if import_ is not None:
            from dossier.sources.saved import SavedDiffSource

            src = SavedDiffSource(import_, repo)
        elif source == "git":
            from dossier.sources.git import GitSource

            src = GitSource(git_repo, repo)
        else:
            from dossier.sources.github import GithubSource

            src = GithubSource.from_env(repo, project.config.get("api_url"))
    except SourceError as exc:
        fail(str(exc))
    cache = Cache.for_project(project, cache_dir, repo)
    taken = {n: other for n in dict.fromkeys(numbers) if (other := cache.other_repo(n))}
    if taken and repo != project.repo:  # entries are kept by number: the project's own would be replaced
        first = next(iter(taken))
        fail(f"the fetch cache {cache.root} holds #{first} of {taken[first]}"
             + (f" (and {len(taken) - 1} more PR(s) of another repository)" if len(taken) > 1 else "")
             + f" under the number asked; fetching {repo}'s would replace it: fetch {repo}'s PRs into a cache of "
             f"their own (--cache-dir .dossier/cache-{repo.replace('/', '-')})")
    for n, other in taken.items():
        err.print(f"warning: #{n}: the cache holds #{n} of {other} under this number; {repo}'s replaces it")
    held = cache.get(numbers[0]) if import_ is not None and not refresh else None
    if held is not None and held.provenance.get("source") not in (None, "import"):
        fail(f"#{numbers[0]} is cached from {held.provenance['source']} (its title, state, merge day and whole diff); "
             "a saved diff would replace that with less: pass --refresh to replace it anyway")
    if refresh or import_ is not None or any(cache.get(n) is None for n in numbers):
        cache.check_writable()  # before the first request, not after it
    if deadline is not None and hasattr(src, "deadline"):
        src.deadline = time.monotonic() + deadline
    try:
        outcomes = fetch_with_progress(numbers, src, cache, err, refresh=refresh or import_ is not None, jobs=jobs,
                                       deadline=deadline)
    except FetchInterrupted as stop:  # say what landed and what did not, then exit as Ctrl-C (SIGTERM) does
        outcomes, cause = stop.outcomes, stop.cause
    else:
        cause = None
    # a second Ctrl-C (a terminal's, or `timeout` signalling the group as well) waits until that report is out
    with signals_deferred() if cause is not None else nullcontext():
        # the PRs an interrupt left unfinished are named on one line, not tabled one by one (185 rows of them)
        if shown := [o for o in outcomes if o.result != INTERRUPTED]:
            out.print(summary_table(shown))
        if unfinished := [f"#{o.pr}" for o in outcomes if o.result == INTERRUPTED]:
            err.print(f"not fetched (interrupted): {first_few(unfinished, 20)}")
        for o in outcomes:
            if o.error and not o.skipped:
                err.print(f"error: #{o.pr}: {one_line(o.error)}")
        skipped: dict[str, int] = {}
        for o in outcomes:
            if o.skipped and o.result != INTERRUPTED:  # the summary line counts those
                skipped[o.error] = skipped.get(o.error, 0) + 1
        for why, n in skipped.items():
            err.print(f"error: {n} PR(s) failed at once: {one_line(why)}")
        for o in outcomes:
            if o.note:
                err.print(f"note: #{o.pr}: {o.note}")
            provenance = o.entry.provenance if o.result == "fetched" and o.entry else {}
            for path, lines in not_utf8(provenance).items():
                err.print(f"warning: #{o.pr}: {path}: {lines} diff line(s) not UTF-8, cached with U+FFFD (\ufffd) in "
                          "place of each byte UTF-8 cannot read: a key fragment there is checked against that text")
            if fields := meta_not_utf8(provenance):
                whose = "commit's" if provenance.get("source") == "git" else "PR's"
                err.print(f"warning: #{o.pr}: the {whose} {' and '.join(fields)} not UTF-8, cached with U+FFFD (\ufffd) "
                          "in place of each byte UTF-8 cannot read: write the card's title yourself (lint refuses "
                          "U+FFFD in a card, D112)")
            if lines := provenance.get(SAVED_CRLF):
                err.print(f"note: #{o.pr}: every line of the saved diff ended in CRLF (saved on Windows?), which git never "
                          f"writes: cached with LF, the text git gives ({lines} lines; provenance: {SAVED_CRLF})")
        counts = {r: sum(o.result == r for o in outcomes) for r in ("fetched", "cached", "failed", INTERRUPTED)}
        if not counts[INTERRUPTED]:
            del counts[INTERRUPTED]
        err.print(", ".join(f"{n} {r}" for r, n in counts.items()) + f" (cache: {one_line(str(cache.root))})")
        if counts.get(INTERRUPTED):
            line, code = interrupted(cause)
            err.print(f"{line}: run the same command again to fetch the rest (what landed is cached)")
            raise typer.Exit(code)
        raise typer.Exit(1 if counts["failed"] else 0)


@command()
def lint(
    paths: Annotated[list[Path] | None, typer.Argument(
        parser=given_path, help="Card files or directories (default: cards/).")] = None,
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors (not D301 unverified evidence).")] = False,
    strict_evidence: Annotated[bool, typer.Option(
        "--strict-evidence", help="Treat unverified key fragments (D301: no cached diff, no lock entry) as errors.")] = False,
    record: Annotated[bool, typer.Option(
        help="First write cards/evidence.lock from the cached diffs of the cards checked, the numbers and files of "
        "their claims into cards/checked.lock (vouching that they were checked against the PR's page: D236, D337, "
        "D338), and the days GitHub says their PRs were opened into cards/opened.lock (D405's floors). A card with no "
        "entry in checked.lock gets one; a card named gets its entry replaced.")] = False,
    allow_host: Annotated[list[str] | None, typer.Option(
        "--allow-host", parser=given_text, help="With --record: also accept diffs fetched from this API host (repeatable); "
        "by default only the configured GitHub API ([tool.dossier] api_url, else api.github.com).")] = None,
    cache_dir: Annotated[Path | None, path_option(
        "--cache-dir", help="Fetch cache (default: $DOSSIER_CACHE, else <root>/.dossier/cache).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, json or github annotations.")] = Format.text,
    select: Annotated[list[str] | None, typer.Option(
        parser=given_text, help="Only rules whose code starts so, in any case (repeatable, or comma-separated: D319,D343).")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        parser=given_text, help="Leave out rules whose code starts so, in any case (repeatable, or comma-separated).")] = None,
    list_rules: Annotated[bool, typer.Option(
        "--list-rules", help="List the rule codes (those --select and --ignore choose) and exit.")] = False,
    explain: Annotated[str | None, typer.Option(
        "--explain", metavar="CODE", parser=given_text,
        help="Print what a rule checks and what it lets pass, and exit.")] = None,
    sglang_src: Annotated[Path | None, path_option(
        "--sglang-src", help="SGLang checkout or package the claims (D6xx) are checked against "
        "(default: the installed sglang, as drift).")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="List every unverified card (D301) instead of one summary line (--format json always "
        "lists them).")] = False,
    root: RootOpt = None,
) -> None:
    """Check cards: schema, depth of prose, diff evidence, state/status, links, coverage, and claims
    (flags, env vars, paths, commands) against today's SGLang.

    Naming some card files checks them against the whole project and reports only on them. Exit 0 when no
    error is found (warnings pass unless --strict), 1 when one is, 2 for a usage or environment error (an
    unknown --select code, a folder that holds no card, an unreadable fetch cache).
    """
    from dossier.lint import RULES, LintContext, has_errors, run_lint
    from dossier.lint.engine import chosen_rules, code_prefix, split_codes, unknown_selectors
    from dossier.lint.evidence import UNVERIFIED

    select, ignore = split_codes(select), split_codes(ignore)
    for option, given in (("--select", select), ("--ignore", ignore)):
        if unknown := unknown_selectors(given or []):
            fail(f"{option} {', '.join(unknown)} matches no rule code (see `dossier lint --list-rules`)")
    if not chosen_rules(select, ignore or ()):
        fail(f"--ignore {', '.join(ignore or [])} leaves out every rule --select chose: nothing would be checked")
    if list_rules and explain is not None:
        fail("--list-rules and --explain do not go together: each prints what rules check and exits")
    if list_rules or explain is not None:
        ignored_with("--list-rules" if list_rules else "--explain", "prints what rules check and exits, checking no "
                     "card", "paths", "record", "allow_host", "cache_dir", "fmt", "sglang_src", "strict",
                     "strict_evidence", "verbose", *(() if list_rules else ("select", "ignore")))
    if allow_host and not record:
        fail("--allow-host is for --record: it names the hosts whose cached diffs may be recorded")
    if list_rules:  # those --select and --ignore choose
        for rule in chosen_rules(select, ignore or ()):
            out.print(f"{rule.code}  {rule.family:<9} {rule.severity:<7} {rule.summary}")
        return
    if explain is not None:
        found = RULES.get(code_prefix(explain))
        if found is None:
            family = chosen_rules([explain]) if not unknown_selectors([explain]) else []
            fail(f"--explain {explain}: " + (f"not one rule but the first part of {len(family)} (`dossier lint "
                                             f"--list-rules --select {code_prefix(explain)}` lists them)" if family
                                             else "no such rule (see `dossier lint --list-rules`)"))
        out.print(f"{found.code}  {found.family} {found.severity}: {found.summary}")
        doc = inspect.getdoc(found.check)
        out.print(doc or "(no further text: the summary is the rule)")
        return
    project = _project(root, paths)
    cache = _cache(project, cache_dir)
    _explicit_paths(project, sglang_src)
    ctx = LintContext(project, cache_dir=cache.root, sglang_src=sglang_src)
    recorded: list[str] = []  # the locks written so far, for the line an interrupt prints
    try:
        if record:
            _record_locks(project, cache, allow_host or [], recorded)
        with working(f"checking {_checked(project)}"):
            diags = run_lint(ctx, select=select, ignore=ignore or (), strict=strict,
                             promote=[UNVERIFIED] if strict_evidence else [])
    except KeyboardInterrupt as exc:
        if not record:
            raise
        line, code = interrupted(exc)
        err.print(f"{line}: {_recorded_so_far(recorded)}")
        raise typer.Exit(code) from None
    from dossier.diagnostics import fold_warnings, format_diagnostics, summarize

    shown, folded = (diags, "") if verbose or fmt is Format.json else fold_warnings(
        diags, UNVERIFIED, fmt.value, "card(s) have an unverified key fragment",
        "dossier fetch --all && dossier lint --record; --verbose lists them")
    if shown or folded or fmt is Format.json:  # json: `[]` when clean, so a tool always parses the output
        print("\n".join(x for x in (format_diagnostics(shown, fmt.value), folded) if x))
    if fmt is Format.text:
        counts = summarize(diags)
        err.print(f"{_checked(project)} checked: {counts['error']} error(s), {counts['warning']} warning(s)")
    raise typer.Exit(1 if has_errors(diags) else 0)


def _checked(project: Project) -> str:
    """What lint reports on, in words: "3 card(s), 1 finding(s)", and the lanes file where it was named (on its own
    it is no "0 card(s)")."""
    n, f = len(project.checked_docs()), len(project.checked_findings())
    named = [f"{n} card(s)"] if n or project.selected is None else []
    named += [f"{f} finding(s)"] if f else []
    if project.selected is not None and project.lanes_doc.path in project.selected:
        return " and ".join([", ".join(named), project.rel(project.lanes_doc.path)] if named else
                            [project.rel(project.lanes_doc.path)])
    return ", ".join(named) or "0 card(s)"


def _cache(project: Project, cache_dir: Path | None, *, must_exist: bool = True):
    """The fetch cache: --cache-dir, else $DOSSIER_CACHE, else <root>/.dossier/cache. One named explicitly
    must be a directory (exit 2): a typo would silently check every card as unfetched."""
    from dossier.sources.cache import ENV as CACHE_ENV
    from dossier.sources.cache import Cache

    cache = Cache.for_project(project, cache_dir)
    named = "--cache-dir" if cache_dir is not None else f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else None
    if must_exist and named and not cache.root.is_dir():
        fail(f"{named} {cache.root} " + ("is not a directory" if cache.root.exists() else "does not exist")
             + " (the fetch cache: `dossier fetch` fills one)")
    return cache


def _explicit_paths(project: Project, sglang_src: Path | None) -> None:
    """Exit 2 when a path given explicitly (--sglang-src, $DOSSIER_RELEASES) holds nothing to read: lint would
    otherwise silently check less."""
    from dossier import releases as rl
    from dossier.source_tree import SourceTree

    if sglang_src is not None:
        SourceTree.at(sglang_src)
    rl.cache_dir(project.root, must_exist=True)


def _record_locks(project, cache, allow_host: list[str], recorded: list[str]) -> None:
    """`lint --record`: the cached diffs' evidence, the claims' numbers and listed files, and the days GitHub says
    the PRs were opened; all three locks land together or none does, named in ``recorded`` once landed."""
    from dossier.errors import url_host
    from dossier.evidence import LOCK_FILE, foreign_hosts, record_lock
    from dossier.files import recorded_together
    from dossier.lint.checked import CHECKED_LOCK, record_checked
    from dossier.opened import OPENED_LOCK, fetched_anchors, record_opened
    from dossier.sources import DEFAULT_API_URL

    cards_dir = project.root / "cards"
    outside = sorted(c.path for c in project.cards if c.path and not c.path.resolve().is_relative_to(cards_dir))
    if outside:  # the locks record cards/: a draft's numbers would stand for the project's card, which then fails
        fail(f"not recording: {outside[0]}{f' and {len(outside) - 1} more' if len(outside) > 1 else ''} "
             f"is not under {cards_dir}; the locks record the project's cards only: copy the card into cards/ "
             "(or commit it there) and run `dossier lint --record` on it")
    configured = url_host(str(project.config.get("api_url", DEFAULT_API_URL)))
    foreign = foreign_hosts(project, cache.get, {configured, *allow_host})
    if foreign:
        hosts = sorted(set(foreign.values()))
        fail(f"not recording: the cached diffs of {len(foreign)} card(s) ("
             + ", ".join(f"#{n}" for n in sorted(foreign)[:5]) + ("..." if len(foreign) > 5 else "")
             + f") come from {', '.join(hosts)}, not the configured GitHub API ({configured}); fetch them "
             f"again from it, or pass --allow-host {hosts[0]} to record them with their host")
    named = [c for c in project.cards if project.in_scope(c.path)]
    changed: list[str] = []
    opened = fetched_anchors([c.pr for c in named], cache.get)
    try:
        with recorded_together((project.root / LOCK_FILE).parent):
            entries = record_lock(project, cache.get)
            written = record_checked(project.root, named, project.selected is not None, changed)
            new_days = record_opened(project.root, opened) if opened else 0
    except OSError as exc:
        fail(f"not recorded: {_lock_name(project, exc.filename)}: {exc.strerror or exc}; the locks are as they "
             "were: make cards/ and its locks writable (chmod u+w; chattr -i on an immutable one) and run "
             "`dossier lint --record` again")
    recorded += [p.as_posix() for p in (LOCK_FILE, CHECKED_LOCK, OPENED_LOCK)]
    err.print(f"recorded evidence for {len(entries)} card(s) in {LOCK_FILE.as_posix()}")
    err.print(f"recorded the claims' numbers and listed files of {written} card(s) in {CHECKED_LOCK}"
              + "".join(f"\n  {line}" for line in changed))
    if opened:  # nothing fetched: nothing to record
        err.print(f"recorded {new_days} new opening day(s) of {len(opened)} fetched PR(s) in {OPENED_LOCK}")


def _lock_name(project, filename: object) -> str:
    """A lock's path as the user knows it (relative to the project), from an OSError's filename."""
    path = Path(str(filename)) if filename else project.root / "cards"
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return str(path)


def _recorded_so_far(recorded: list[str]) -> str:
    """What an interrupted `lint --record` had written: the three locks land together, or none does."""
    if recorded:
        return "the locks were all recorded before it, the cards not all checked: run `dossier lint` to check them"
    return "nothing recorded (the locks land together: each is as it was): run `dossier lint --record` again"


@command()
def render(
    check: Annotated[bool, typer.Option(help="Exit 1 naming stale outputs instead of writing.")] = False,
    root: RootOpt = None,
) -> None:
    """Render the installable skill, skills/<name>/ (SKILL.md and references/), from the cards and
    cards/lanes.yaml (deterministic). The skill folder must hold only what render writes (an install copies
    all of it): --check also fails on any other file there, on any byte that differs (CRLF line ends, a
    BOM), and on a manual rendered beside it under an earlier skill name (skills/<old name>/).

    Refuses (exit 1, nothing written), so that bad input never silently drops or garbles content of the
    manual, while lint reports an error of: the schema family (D1xx: a card, finding or lanes.yaml that cannot
    be read as written, a YAML file under cards/ never read, control characters, over-long text), a lock that
    cannot be read or names a PR without a card (D311: cards/evidence.lock, cards/drift.lock; D316: the
    releases section), a lock cut short at an entry boundary (still YAML): a card drift judges with no verdict in
    cards/drift.lock (D332; or the card added since `dossier drift --record`), a card with no release evidence
    (D326), a PR-diff section that is not the one `lint --record` sealed (D329); two cards for one
    PR or a card under another PR's file name (D506, D507); a card's lane, a lane's answer block, an item's
    finding or a release note's release that is not defined (D501, D513, D514); or while cards/lanes.yaml is
    missing. A stored
    GPU result (results/cuda/<pr>.json) that cannot be read is an error (exit 2). An interrupted render leaves
    the old manual or the new one, never a mix (the folder is built aside and swapped in whole; what a kill -9
    mid-swap left, --check names and the next render recovers).
    """
    from dossier.diagnostics import format_diagnostics
    from dossier.files import serialized
    from dossier.folder_swap import leftovers
    from dossier.manual import blockers, render_manual
    from dossier.render import other_renders, skill_dir, stale_documents, unexpected_files, write_documents

    project = _project(root)
    found = blockers(project)
    if found:
        files = sorted({d.file for d in found})
        err.print(f"error: not rendering: {len(files)} file(s) would make the manual wrong or incomplete: "
                  + ", ".join(f"{f} ({', '.join(sorted({d.code for d in found if d.file == f}))})" for f in files))
        shown = sorted(found)[:10]
        err.print(format_diagnostics(shown, "text")
                  + (f"\n... and {len(found) - len(shown)} more" if len(found) > len(shown) else ""))
        err.print("fix these (`dossier lint` lists them); the rendered files are left as they are")
        raise typer.Exit(1)
    if not project.cards:
        err.print("error: no valid cards to render (run `dossier lint` to see why)")
        raise typer.Exit(USAGE)
    docs = render_manual(project)
    folder = skill_dir(project)
    if check:
        with serialized(folder.parent) if folder.parent.is_dir() else nullcontext():  # never mid-swap
            extra = unexpected_files(docs, folder)
            stale = stale_documents(docs, folder)
            killed = leftovers(folder)
            earlier = other_renders(folder)
        for rel in stale:
            out.print(f"stale: {project.rel(folder / rel)}")
        for rel in extra:
            out.print(f"not rendered: {project.rel(folder / rel)} (an install would carry it)")
        for path in killed:
            out.print(f"left by an earlier render: {project.rel(path)} (killed, or it could not remove it; the next "
                      "`dossier render` recovers it or says why it cannot)")
        for path in earlier:
            out.print(f"rendered under another skill name: {project.rel(path)}/ (an install would carry it beside "
                      f"{project.rel(folder)}/)")
        if stale or extra or killed or earlier:
            todo = ["run `dossier render` and commit the result"] if stale or killed else []
            if extra:  # render leaves a file it did not write where it is
                todo.append("remove what render does not write from the skill folder")
            if earlier:
                todo.append("remove the manual rendered under the earlier skill name")
            err.print("; ".join(todo))
            raise typer.Exit(1)
        err.print(f"up to date: {project.rel(folder)}/ ({', '.join(docs)})")
        return
    try:
        written = write_documents(docs, folder)  # also removes what killed renders left of these files
    except KeyboardInterrupt as exc:  # held during the swap, an interrupt lands after it: say which manual is there
        if stale_documents(docs, folder):
            raise
        line, code = interrupted(exc)
        err.print(f"{line}: the new manual was in place before it ({project.rel(folder)}/, `dossier render --check` "
                  "says up to date)")
        raise typer.Exit(code) from None
    err.print(f"wrote {', '.join(project.rel(folder / rel) for rel in written)}" if written else "nothing changed")
    for rel in unexpected_files(docs, folder):
        err.print(f"warning: {project.rel(folder / rel)} is not rendered; remove it (an install would carry it)")
    for path in other_renders(folder):
        err.print(f"warning: {project.rel(path)}/ is a manual rendered under another skill name, never updated "
                  f"again; remove it (an install would carry it beside {project.rel(folder)}/)")


@command()
def drift(
    sglang_src: Annotated[Path | None, path_option(
        "--sglang-src", help="SGLang checkout or sglang package dir (default: the installed sglang).")] = None,
    fmt: Annotated[TextJson, typer.Option("--format", help="text or json.")] = TextJson.text,
    record: Annotated[bool, typer.Option(help="Write the result to cards/drift.lock (shown by render).")] = False,
    root: RootOpt = None,
) -> None:
    """Are the key fragments of current cards still in today's SGLang source?

    Each card's fragment is in-place (its file, at the lines shown), relocated (a file of the same name
    elsewhere: SGLang moved the code), rewritten (gone, but the card's key_fragment.today is found), missing
    (nowhere), or outside (its file is not in the sglang package: pass a checkout). Exit 1 when a current
    card's added fragment is missing, or when cards/drift.lock (what the manual shows) records this SGLang version
    otherwise than this run finds (the PRs are named; --record writes this run) or cannot be read, 2 when no SGLang
    source is found (neither --sglang-src nor the installed sglang) or --record would put the lock back to an older
    release, record a pre-release build, or record a tree that lacks most current cards' code (a partial tree).
    """
    from dossier import drift as dr
    from dossier.evidence import LockError, read_lock

    project = _project(root)
    tree = dr.locate(sglang_src)
    if record and (why := dr.older_than_recorded(project.root, tree) or dr.not_a_release(tree)):
        fail(why)
    try:
        evidence = read_lock(project.root)
    except LockError as exc:
        err.print(f"warning: {exc}: removals it records are not known, so a removed fragment reads as missing")
        evidence = {}
    with working(f"checking {len(project.cards)} card(s) against {tree.label}"):
        results = dr.check(project.cards, tree, evidence)
    if record and (why := dr.partial_tree(tree, results)):
        fail(why)
    absent = dr.absent_files(project.cards, tree)
    stale, unreadable = [], None
    if not record:
        try:
            stale = dr.unrecorded(project.root, results, tree, absent)
        except LockError as exc:
            _not_compared(exc, "its drift notes", "dossier drift --record")
            unreadable = one_line(str(exc))
    if record:  # before the report: a reader that closes early (`| head`) must not cost the recording
        dr.write_lock(project.root, results, tree, absent)
    print(dr.format_json(results, tree, stale, unreadable) if fmt is TextJson.json
          else visible(dr.format_text(results, tree)))
    if record:
        err.print(f"wrote {dr.DRIFT_LOCK}")
    elif stale:
        err.print(f"{dr.DRIFT_LOCK} records SGLang {tree.version} otherwise for {first_few(stale, 8)}: the manual "
                  "shows the lock, not this run; `dossier drift --record` records this run")
    raise typer.Exit(1 if stale or unreadable or any(r.problem for r in results) else 0)


def _not_compared(exc: Exception, shows: str, fix: str) -> bool:
    """Say that a lock that cannot be read (``exc``) was not compared with the run (render refuses such a lock; this
    passed silently as agreement); True, for the exit status."""
    err.print(f"{one_line(str(exc))}: the manual cannot show {shows} from it, and this run is not compared; "
              f"`{fix}` rewrites it", markup=False)
    return True


releases_app = typer.Typer(
    help="Published SGLang releases as source trees (the release cache): sync them, list them, follow the "
    "cards through them (verify), record their flags and env vars (surface).\n\n"
    "Cache: --cache-dir, else $DOSSIER_RELEASES, else <root>/.dossier/releases.",
    no_args_is_help=True,
)
app.add_typer(releases_app, name="releases")
ReleasesDirOpt = Annotated[Path | None, path_option(
    "--cache-dir", help="Release cache (default: $DOSSIER_RELEASES, else <root>/.dossier/releases).")]


@command("sync", group=releases_app)
def releases_sync(
    from_: Annotated[str, typer.Option("--from", help="First version (inclusive; the default is the release line "
                                                      "before Qwen3-Next came, as cards/evidence.lock records it).")] = "0.5.1",
    to: Annotated[str | None, typer.Option("--to", help="Last version (inclusive; default: the newest).")] = None,
    cache_dir: ReleasesDirOpt = None,
    index_url: Annotated[str | None, typer.Option(
        "--index-url", parser=given_text, help="Package index (default: pip's).")] = None,
    find_links: Annotated[Path | None, path_option(
        "--find-links", help="A directory of wheels to use instead of any index (offline).")] = None,
    root: RootOpt = None,
) -> None:
    """Download every SGLang release from --from to --to (post releases included) with pip and keep its
    Python sources and build date in the release cache (~2 min, ~1.2 GB for 0.5.2..0.5.23).

    Each version is committed atomically; a complete one is skipped, so an interrupted sync resumes.
    Exit 1 if a version failed (the others are kept), 2 if the index is unreachable.
    """
    from packaging.version import InvalidVersion, Version

    from dossier import releases as rl

    def version(option: str, text: str) -> Version:
        try:
            return Version(text)
        except InvalidVersion:
            fail(f"{option} {text!r} is not a release version (such as 0.5.9 or 0.5.10.post1)")

    first, last = version("--from", from_), version("--to", to) if to else None
    if last is not None and first > last:  # the index was asked, then said to hold no such release
        fail(f"--from {from_} is after --to {to}: name the older release first")
    if index_url and find_links is not None:
        fail("--index-url and --find-links do not go together: --find-links reads only that folder of wheels, no "
             "index")
    pip_args: tuple[str, ...] = ()
    if index_url:
        pip_args += ("--index-url", index_url)
    if find_links is not None:
        if why := not_a_folder(find_links):  # pip reads it as an index without sglang
            fail(f"--find-links {find_links} {why} (a folder of sglang wheels)")
        pip_args += ("--no-index", "--find-links", str(find_links.resolve()))
    base = root or find_root()
    cache = rl.cache_dir(base, cache_dir)
    try:
        versions = rl.select(rl.available(pip_args), from_, to)
    except rl.ReleaseError as exc:
        err.print(f"error: {one_line(str(exc))}", markup=False)
        raise typer.Exit(USAGE) from None
    if not versions:
        err.print(f"error: the index has no sglang release from {from_} to {to or 'the newest'}")
        raise typer.Exit(USAGE)
    outcomes = _sync_with_progress(rl, versions, cache, pip_args)
    for o in outcomes:
        if o.error:
            err.print(f"error: {o.version}: {one_line(o.error)}", markup=False)
    counts = {r: sum(o.result == r for o in outcomes) for r in ("synced", "cached", "failed")}
    pinned = [o.version for o in outcomes if o.release and rl.platform_specific(o.release)]
    if pinned:
        err.print(f"platform-specific wheels (resolved with {' '.join(rl.PIN)}): {', '.join(pinned)}")
    err.print(", ".join(f"{n} {r}" for r, n in counts.items()) + f" (cache: {cache})", markup=False)
    raise typer.Exit(1 if counts["failed"] else 0)


def _sync_with_progress(rl, versions: list[str], cache: Path, pip_args: tuple[str, ...]):
    """A progress bar on a terminal; one plain line per version otherwise (logs, CI)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    def line(o) -> str:
        if o.release is None:
            return f"{o.version:<14} failed"
        return f"{o.version:<14} {o.result:<7} built {o.release.built}, {o.release.files} .py files"

    if not err.is_terminal:
        return rl.sync(versions, cache, pip_args, on_done=lambda o: err.print(line(o), markup=False))
    columns = (TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("", total=len(versions))

        def tick(o) -> None:
            progress.console.print(line(o), markup=False)
            progress.update(task, advance=1, description=o.version)

        return rl.sync(versions, cache, pip_args, on_done=tick)


def _other_builds(rv, project: Project, trees, cache: Path, record: bool) -> None:
    """Warn when the cache holds another build of a release evidence.lock recorded (its build date differs):
    the shipped-in releases and date findings follow the dates, so they can differ from the recorded ones."""
    from dossier.locks import LockError

    try:
        others = rv.read_release_lock(project.root).other_builds(trees)
    except LockError:
        return  # lint reports an unreadable lock; --record rewrites it
    if not others:
        return
    listed = first_few([f"{v} built {cached or 'on no known day'} (the lock: {locked or 'no day'})"
                        for v, locked, cached in others], 4)
    then = ("--record writes the cache's dates" if record else
            "the verdicts below follow the cache's dates, not the recorded ones")
    err.print(f"warning: {cache} holds other builds than cards/evidence.lock recorded: {listed}; {then} "
              f"(to get the recorded build back, remove that version's folder and run `dossier releases sync` "
              f"for it)", markup=False)


@command("verify", group=releases_app)
def releases_verify(
    record: Annotated[bool, typer.Option(
        help="Write what the releases show into cards/evidence.lock (section `releases`).")] = False,
    cache_dir: ReleasesDirOpt = None,
    root: RootOpt = None,
) -> None:
    """Follow every card's key fragment through the synced releases: the release diff that added it
    (or removed it), shipped-in / removed-in, and the date and fragment findings lint reports (D312-D315).

    Also, for the files references/by-file.md lists: the releases that changed each, and where each file the last
    release lacks went (the file its deleting release added that is most alike, at least half, else one it already
    had that newly defines at least half of its top-level functions and classes; a lead, not proof).

    A release diff holds every change merged between two releases: it bounds when a line landed, it is not
    the PR's own diff. Exit 1 when a card has a finding, or when cards/evidence.lock records the same releases
    otherwise than this scan finds (the PRs and files are named; --record writes this scan) or cannot be read, 2
    when no release is synced.
    """
    from dossier import release_evidence as rv
    from dossier import releases as rl
    from dossier.evidence import today
    from dossier.locks import LockError
    from dossier.manual import by_file_paths
    from dossier.source_tree import SourceTree

    project = _project(root)
    cache = rl.cache_dir(project.root, cache_dir, must_exist=True)
    named = cache if cache_dir is not None else None  # in the commands the messages suggest
    found = rl.synced(cache)
    if len(found) < 2:
        err.print(f"error: {len(found)} release(s) in {cache}: run `{rl.sync_command(named)}` first")
        raise typer.Exit(USAGE)
    _left_out(rl, cache, named)
    if record:  # before the trees are read and scanned (seconds to minutes): a partial cache would drop history
        rl.refuse_to_drop(rv.read_release_lock(project.root).built, [r.version for r in found], rv.LOCK_FILE, named)
    else:
        _scan_lacks_recorded(rl, rv, project.root, found, named)
    trees = [SourceTree.release(r) for r in found]
    _other_builds(rv, project, trees, cache, record)
    listed, unmoved = by_file_paths(project)
    if unmoved:
        err.print(f"warning: {unmoved}: the files drift found key fragments moved to are left out of by-file's "
                  "releases of change", markup=False)
    err.print(f"scanning {len(project.cards)} card(s) through {len(trees)} releases "
              f"({trees[0].version} .. {trees[-1].version}) in {cache}")
    with stepping("scanning") as say:
        def progress(tree) -> None:
            say(f"scanned SGLang {tree.version}")

        if record:
            lock = rv.record(project, trees, today(), on_release=progress, files=listed)
        else:
            lock = rv.ReleaseLock({t.version: t.built or "" for t in trees},
                                  rv.scan(project.cards, trees, today(), on_release=progress),
                                  rv.file_changes(listed, trees), rv.moves(listed, trees))
    dates = rv.merge_dates(project.cards)
    problems = 0
    for card in project.cards:
        v = lock.verdict(card, dates)
        if v is None:
            continue
        ev = v.evidence
        proof = (f"{ev.change} {ev.old.version} -> {ev.new.version} {ev.file}:{','.join(map(str, ev.lines[:4]))}"
                 if ev else "")
        shipped = rv.shipped_line(v, current=card.status == "current")
        if not (proof or shipped or v.findings):
            shipped = rv.unproven_why(card, v, lock.cards.get(card.pr))
        out.print(f"#{card.pr:<6} {card.state:<6} {card.status:<10} {v.kind:<12} {proof}"
                  + (f"  [{shipped}]" if shipped else ""), markup=False)
        for code, msg in v.findings:
            out.print(f"        {code} {msg}", markup=False)
        problems += bool(v.findings)
    kinds = {k: sum(1 for c in project.cards if (v := lock.verdict(c, dates)) and v.kind == k)
             for k in (rv.RELEASE_DIFF, rv.RELEASE_SCAN)}
    err.print(f"{kinds[rv.RELEASE_DIFF]} card(s) proven by a release diff, {kinds[rv.RELEASE_SCAN]} scanned "
              f"without proof, {problems} with findings" + (" (recorded in cards/evidence.lock)" if record else ""))
    stale, files, unreadable = [], [], False
    if not record:
        try:
            stale, files = rv.unrecorded(project.root, lock)
        except LockError as exc:
            unreadable = _not_compared(exc, "its release lines", "dossier releases verify --record")
    if stale:
        err.print(f"{rv.LOCK_FILE} records these releases otherwise for {first_few([f'#{pr}' for pr in stale], 8)}: "
                  "the manual shows the lock, not this scan; `dossier releases verify --record` records this scan")
    if files:
        err.print(f"{rv.LOCK_FILE} records other releases of change or moves for {first_few(files, 4)} (by-file.md shows the "
                  "lock's); `dossier releases verify --record` records this scan", markup=False)
    raise typer.Exit(1 if problems or stale or files or unreadable else 0)


@command("surface", group=releases_app)
def releases_surface(
    record: Annotated[bool, typer.Option(
        help="Write cards/surface.lock (every --flag and SGLANG_*/SGL_* env var with the first and last release "
        "that had it: lint's D610 and the 'last in' of D601/D603 read it), cards/names.lock (the code names of older "
        "releases the manual uses: D621) and cards/messages.lock (the releases that print each message the error page "
        "or a dated quote or metric of cards/lanes.yaml gives: D626, D627, D637, D638); CI has no release cache.")] = False,
    cache_dir: ReleasesDirOpt = None,
    root: RootOpt = None,
) -> None:
    """Read the flags and env vars of every synced release and compare them with cards/surface.lock
    (--record writes it). Exit 1 when the lock differs from the releases (or is missing), 2 when fewer
    than 2 releases are synced."""
    from dossier import releases as rl
    from dossier import surface_history as sh
    from dossier.files import recorded_together, signals_deferred
    from dossier.source_tree import SourceTree

    base = root or find_root()
    cache = rl.cache_dir(base, cache_dir, must_exist=True)
    named = cache if cache_dir is not None else None  # in the commands the messages suggest
    found = rl.synced(cache)
    if len(found) < 2:
        fail(f"{len(found)} release(s) in {cache}: run `{rl.sync_command(named)}` first")
    _left_out(rl, cache, named)

    with stepping("reading releases") as say:
        history = sh.scan((SourceTree.release(r) for r in found), on_release=lambda t: say(f"read SGLang {t.version}"))
    summary = (f"{len(history.flags)} flag(s), {len(history.env)} env var(s) in {len(history.releases)} releases "
               f"({history.releases[0]} .. {history.newest})")
    if record:  # both locks are read first and written together: an interrupt leaves neither half-done
        from dossier.lint.code_names import NAMES_LOCK, manual_names, names_of_releases, write_names
        from dossier.lint.error_sources import dated_quotes, error_messages
        from dossier.printed import MESSAGES_LOCK, messages_of_releases, write_messages
        from dossier.project import Project

        project = Project.load(base)

        with stepping("reading releases for the cards' code names") as say:
            def read_for_names(tree):
                say(f"read SGLang {tree.version} for the cards' code names")
                return tree

            names = names_of_releases(manual_names(project), SourceTree.installed(),
                                      (read_for_names(SourceTree.release(r)) for r in found))
        with stepping("reading releases for the messages the manual quotes") as say:
            def read_for_messages(tree):
                say(f"read SGLang {tree.version} for the messages the manual quotes")
                return tree

            messages = messages_of_releases(dict.fromkeys(error_messages(project) + dated_quotes(project)),
                                            (read_for_messages(SourceTree.release(r)) for r in found))
        try:  # a lock that cannot be written (read-only, immutable) leaves the others as they were too
            with signals_deferred(), recorded_together(sh.lock_path(base).parent):
                sh.write_history(base, history)
                write_names(base, names)
                write_messages(base, messages)
        except OSError as exc:
            fail(f"not recorded: {exc.filename or sh.lock_path(base).parent}: {exc.strerror or exc}; the locks are as "
                 "they were: make cards/ and its locks writable and run `dossier releases surface --record` again")
        err.print(f"{summary}: wrote {sh.SURFACE_LOCK}")
        err.print(f"{len(names)} code name(s) of older releases the cards use: wrote {NAMES_LOCK}")
        err.print(f"{len(messages)} quoted message(s) SGLang releases print: wrote {MESSAGES_LOCK}")
        return
    try:
        committed = sh.read_history(base)
        lost = committed and rl.would_drop(committed.releases, history.releases, str(sh.SURFACE_LOCK), named)
        state = ("is missing" if committed is None else "is up to date" if committed.to_data() == history.to_data()
                 else "differs from the releases")
        if committed is not None and state != "is up to date":
            differ = committed.differences(history)
            state += f" for {first_few(differ, 8, '; ')}" if differ else ""
    except sh.SurfaceLockError as exc:
        lost, state = None, f"cannot be read ({exc})"
    err.print(f"{summary}; " + (lost or f"{sh.SURFACE_LOCK} {state}" + ("" if state == "is up to date" else
                                                                         ": run with --record")))
    raise typer.Exit(0 if state == "is up to date" else 1)


@command("for-version")
def for_version(
    version: Annotated[str | None, typer.Argument(help="SGLang version, e.g. 0.5.10 (default: the installed sglang).")] = None,
    cache_dir: ReleasesDirOpt = None,
    fmt: Annotated[TextJson, typer.Option("--format", help="text or json.")] = TextJson.text,
    root: RootOpt = None,
) -> None:
    """Which current optimizations and fixes an SGLang version has, which later ones it lacks, and which
    bugs described in the manual it is exposed to (answered from the release evidence in cards/evidence.lock;
    the version's sources, from the release cache or the installed package, sharpen the bug list).

    Exit 0 with the answer (an exposed bug is an answer, not a failure), 2 when cards/evidence.lock holds no
    release evidence, the version is not a version number or is newer than every release scanned (nothing
    vouches for it), the release cache named does not exist, or the version's sources lack the files of most
    changes it has (a partial tree, a stub package: its bug list would be empty for want of files).
    """
    from dossier import for_version as fv
    from dossier import releases as rl
    from dossier.release_evidence import read_release_lock
    from dossier.source_tree import SourceTree

    project = _project(root)
    lock = read_release_lock(project.root)
    if not lock.cards:
        fail("no release evidence in cards/evidence.lock: run `dossier releases sync && dossier releases verify --record`")
    cache = rl.cache_dir(project.root, cache_dir, must_exist=True)
    at = cache if cache_dir is not None else None  # in the commands the messages suggest
    synced = {r.version: r for r in rl.synced(cache)} if cache.is_dir() else {}
    if version is None:
        tree = SourceTree.installed()
        version = tree.version
        label = tree.label
    else:
        fv.parse_version(version)
        given, version = version, fv.release_name(version, [*lock.built, *synced])
        if fv.parse_version(given).local and version in lock.built:
            err.print(f"note: {given} is a local build of SGLang {version}; answered for {version}")
        tree = SourceTree.release(synced[version]) if version in synced else None
        built = lock.built.get(version)
        label = f"SGLang {version}" + (f" (release built {built})" if built else " (not among the releases scanned)")
    report = fv.query(project, lock, version, tree, {v: SourceTree.release(r) for v, r in synced.items()})
    if report.between:
        err.print(f"warning: SGLang {version} is not among the {len(lock.built)} releases cards/evidence.lock "
                  f"scanned; it is answered as lying between {report.between[0]} and {report.between[1]}. No such "
                  f"release may exist (check the version), or the scan skipped it (`{rl.sync_command(at, version, version)} && "
                  f"dossier releases verify --record`)", markup=False)
    if tree is None and not report.exposed_not_judged:
        why = next((why for path, why in rl.incomplete(cache) if path.name == version), None)
        where = (f"are incomplete in the release cache {cache} ({why}; remove {cache / version} first)" if why
                 else f"are not in the release cache {cache}")
        err.print(f"warning: SGLang {version}'s sources {where}: a fix counts as an exposed bug even where its file "
                  f"is absent from that version (`{rl.sync_command(at, version, version)}` sharpens the list)")
    elif report.unsynced_fix_releases:
        missing = sorted(report.unsynced_fix_releases, key=fv.parse_version)
        named = ", ".join(missing) if len(missing) <= 4 else f"{len(missing)} releases from {missing[0]} to {missing[-1]}"
        err.print(f"warning: the release diffs of some fixes need SGLang {named}, not in the release "
                  f"cache {cache}: those fixes are judged by their file alone, so a bug may be listed as exposed where "
                  f"the code around the fix is gone (`{rl.sync_command(at, missing[0], missing[-1])}` sharpens the "
                  "list)")
    print(fv.format_json(report) if fmt is TextJson.json else visible(fv.format_text(report, label)))


@command("list", group=releases_app)
def releases_list(cache_dir: ReleasesDirOpt = None, root: RootOpt = None) -> None:
    """The synced releases with their build dates and file counts; an incomplete one is named (warning).
    Exit 0, also when none is synced or the default folder is absent (it says so), 2 when the folder --cache-dir or
    $DOSSIER_RELEASES names is not there (a typo)."""
    from dossier import releases as rl

    cache = rl.cache_dir(root or find_root(), cache_dir, must_exist=True)
    named = cache if cache_dir is not None else None  # in the commands the messages suggest
    found = rl.synced(cache)
    for r in found:
        out.print(f"{r.version:<14} built {r.built}  {r.files:>5} .py files  {r.wheel}", markup=False)
    broken = rl.incomplete(cache)
    for path, why in broken:
        err.print(f"warning: {path}: not a complete release ({why}); `{rl.sync_command(named)}` fills it again "
                  "once it is removed", markup=False)
    err.print(f"{len(found)} release(s) in {cache}" + (f", {len(broken)} incomplete" if broken else "")
              + ("" if found else f": run `{rl.sync_command(named)}`"))


def _scan_lacks_recorded(rl, rv, root: Path, found: list, named: Path | None) -> None:
    """Warn when the cache lacks releases cards/evidence.lock records: the scan then dates a change those releases
    shipped by the next one synced, or by none, and its findings say so (a lock that cannot be read is said later)."""
    from dossier.locks import LockError

    try:
        recorded = rv.read_release_lock(root).built
    except LockError:
        return
    missing = rl.unsynced(recorded, [r.version for r in found])
    if missing:
        err.print(f"warning: {rl.lacks(missing, rv.LOCK_FILE, named)}: the findings below date a change those "
                  f"releases shipped by the next release synced, or by none (`{rl.sync_command(named, missing[0], missing[-1])}` "
                  "fills them)", markup=False)


def _left_out(rl, cache: Path, named: Path | None = None) -> None:
    """Say which folders of the release cache a scan leaves out (incomplete): without them a change reads as made by
    the next release."""
    for path, why in rl.incomplete(cache):
        err.print(f"warning: {path}: not a complete release ({why}): left out of the scan, so its changes read as the "
                  f"next release's; `{rl.sync_command(named)}` syncs it again", markup=False)


def _reused_benches(specs: list[str], modules: set[str], facts: dict) -> dict[str, dict]:
    """--bench-json MODULE=FILE values as loaded benchmark documents, by module."""
    from dossier import regress as rg

    benches: dict[str, dict] = {}
    for spec in specs:
        module, sep, file = spec.partition("=")
        if not sep or not module or not file:
            fail(f"--bench-json wants MODULE=FILE, got {spec!r}")
        if module not in modules:
            fail(f"--bench-json {module}: no job in this run uses that benchmark ({', '.join(sorted(modules))})")
        if module in benches:  # the last would replace the first without a word
            fail(f"--bench-json {module} is given twice: one document per benchmark")
        benches[module] = rg.reuse_bench(module, Path(file), facts)
    return benches


@command()
def regress(
    prs: Annotated[list[int] | None, pr_argument(
        "Cards to run (default with --all: every card with a runtime reference).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every card with a runtime reference.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="Print the jobs as a CI matrix (JSON) and exit; with no job "
                                         "to run it prints nothing and exits 2 (GitHub Actions refuses an empty "
                                         "matrix). The matrix is the same for every --device (a typo is still "
                                         "refused): the step that runs a job passes its own.")] = False,
    device: Annotated[str, typer.Option(
        metavar="<cuda|cpu|auto>", help="cuda, cpu, or auto: cuda when torch sees a CUDA device, else cpu.")] = "auto",
    fmt: Annotated[TextJson, typer.Option("--format", help="text or json.")] = TextJson.text,
    results: Annotated[Path | None, path_option(
        help="Results directory (default: <root>/results for cuda, the untracked <root>/.dossier/results for cpu; "
        "render shows results/cuda only).")] = None,
    bench_json: Annotated[list[str] | None, typer.Option(
        "--bench-json", metavar="MODULE=FILE",
        help="Reuse the document MODULE's benchmark wrote with --json on this GPU instead of running it "
        "again (repeatable; the file must name the same device; CUDA only: the CPU runs no benchmark).")] = None,
    junit: Annotated[Path | None, path_option(
        "--junit", help="Take the tests' outcomes from this JUnit report (pytest --junitxml) of a run of the "
        "suite on this machine (CI's on CPU; on CUDA one run of the GPU tests instead of a process per job) instead "
        "of running them again. A card's test the report lacks is its job's error, and on CUDA so is a `gpu` test "
        "that run skipped for want of CUDA; a report from another machine, from a run older than the tests' or "
        "references' files, or holding none of the cards' tests is refused (exit 2).")] = None,
    root: RootOpt = None,
) -> None:
    """Run each card's runtime tests and benchmark (GPU or CPU) and store one result per card,
    <results>/<device>/<pr>.json.

    CPU: the tests of every job run in one pytest process under TRITON_INTERPRET=1, `gpu` tests skipped, and no
    benchmark runs (a check, not a measurement); with --junit they are read from the report of a run that ran them
    (CI's pytest run), where `gpu` tests are skipped ones. CUDA: one pytest process per job (a kernel fault poisons a
    process), or with --junit the outcomes of one run of the suite on that GPU; then each benchmark module once. A job's result is written whole as soon as it ends, so Ctrl-C (or SIGTERM) keeps the finished ones,
    and ends the running pytest or benchmark with everything it started (xdist workers too). Exit 1 when a
    job failed (its failures are printed, and listed in its result), 2 for bad usage, no CUDA with
    --device cuda, a report it refuses, or no job to run (no valid card has a runtime reference; --list then prints no matrix).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from dossier import regress as rg
    from dossier.json_out import dumps

    device = device.lower()
    if device not in rg.DEVICES:  # --list too: a typo in a CI matrix step must not pass
        fail(f"--device must be one of {', '.join(rg.DEVICES)}, got {device!r}")
    if prs and all_:
        fail("name PRs or pass --all, not both: with PRs named, --all would be ignored")
    if list_:  # --format json asks for what --list prints; text does not
        ignored_with("--list", "prints the jobs as a CI matrix (JSON) and exits, running none", "results",
                     "bench_json", "junit", *(("fmt",) if fmt is TextJson.text else ()))
    project = _project(root)
    jobs = rg.jobs_for(project.cards)
    if prs:
        unknown = sorted(set(prs) - {j.pr for j in jobs})
        if unknown:
            fail("no valid card with a runtime reference for " + ", ".join(
                f"#{n}" + (" (card invalid: see `dossier lint`)" if project.invalid_card_for(n) else "")
                for n in unknown))
        jobs = [j for j in jobs if j.pr in prs]
    elif not (all_ or list_):
        fail("name PRs or pass --all (or --list)")
    if not jobs:
        invalid = sum(isinstance(d.data, dict) and isinstance(d.data.get("runtime"), dict)
                      and bool(d.data["runtime"].get("reference")) for d in project.invalid_docs())
        fail("no valid card has a runtime reference, so there is no job to run"
             + (f" ({invalid} invalid card{'s' if invalid > 1 else ''} name{'' if invalid > 1 else 's'} one: "
                "see `dossier lint`)" if invalid else "")
             + ("; no matrix printed: GitHub Actions refuses an empty one" if list_ else ""))
    if list_:
        print(rg.matrix(jobs))
        return
    kind = rg.resolve_device(device, project.root)
    if kind == "cpu" and bench_json:  # it would be recorded in the CPU results as a measurement of this run
        fail("--bench-json: no benchmark runs on the CPU (a check, not a measurement), so there is none to replace"
             + ("" if device == "cpu" else "; --device auto found no CUDA device"))
    together = rg.tests_from_report(jobs, junit, project.root, kind) if junit is not None else {}
    facts = rg.device_facts(kind, project.root)
    results_dir = results or rg.default_results(project.root, kind)
    from dossier.files import check_writable, kind_of

    results_dir = check_writable(results_dir / kind).parent  # an unwritable place fails now, not after minutes
    blocked = next((p for j in jobs if (p := results_dir / kind / f"{j.pr}.json").exists() and not p.is_file()),
                   None)
    if blocked is not None:  # found only when the first result is written, after the tests' minutes
        fail(f"{blocked} is {kind_of(blocked)}, where a job writes its result: move it away")
    err.print(f"device: {facts.get('name')} ({kind}); torch {facts.get('torch')}, triton {facts.get('triton')}")
    benches = _reused_benches(bench_json or [], {j.bench for j in jobs}, facts)
    if junit is not None:
        err.print(f"the tests of {len(jobs)} job(s) from {junit}")
    elif kind == "cpu":  # one pytest process for every job's tests (CUDA keeps one per job: a fault poisons it)
        err.print(f"running the tests of {len(jobs)} job(s) in one pytest process")
        with stepping("pytest: starting") as say:  # minutes on a small machine
            together = rg.run_tests_together(jobs, kind, project.root,
                                             lambda percent: say(f"pytest: {percent}% of the tests run"))
    done = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                  transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=len(jobs))
        for i, job in enumerate(jobs, 1):
            what = f"#{job.pr}: {len(job.tests)} test target(s)" + (f", bench {job.bench}" if kind == "cuda" else
                                                                      " (no bench: CUDA only)")
            progress.update(task, description=what)
            if not err.is_terminal:  # a log gets one line per job instead of a bar
                err.print(f"[{i}/{len(jobs)}] {what}")
            result = rg.run_job(job, kind, project.root, facts, benches, together.get(job.pr))
            rg.write_result(results_dir, result)
            done.append(result)
            progress.advance(task)
    if fmt is TextJson.json:
        print(dumps(done, indent=2))
    else:
        table = Table("PR", "tests", "parity (worst)", "bench", "verdict")
        for r in done:
            worst = max(r["parity"].values(), key=lambda v: v["err"] / max(v["tol"], 1e-30), default=None)
            bench = r["bench"]
            table.add_row(
                f"#{r['pr']}", f"{r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped",
                f"{worst['err']:.1e} (tol {worst['tol']:.0e})" if worst else "-",
                "error" if "error" in bench else bench.get("skipped", f"{len(bench.get('rows', []))} rows"),
                Text("ok", style="green") if r["ok"] else Text("FAIL", style="red"),
            )
        out.print(table)
        for r in done:
            lines = rg.failures(r)
            for line in lines[:5]:  # a test's own message: shown, never acted on by the terminal
                err.print(f"#{r['pr']}: {one_line(line)}", markup=False)
            if len(lines) > 5:
                err.print(f"#{r['pr']}: ... and {len(lines) - 5} more (the result JSON lists them)")
        err.print(f"results in {results_dir / kind}")
    raise typer.Exit(0 if all(r["ok"] for r in done) else 1)


@command()
def show(
    pr: Annotated[int, pr_argument("PR number (19321 or #19321).")],
    diff: Annotated[bool, typer.Option("--diff", help="Also print the changed lines around the key fragment "
                                       "(from the local fetch cache; for a PR not fetched, from the release diff "
                                       "that shipped it, when both releases are in the release cache: "
                                       "$DOSSIER_RELEASES, else <root>/.dossier/releases).")] = False,
    context: Annotated[int, typer.Option(help="Diff lines shown around each matched line.", min=0, max=1000)] = 3,
    cache_dir: Annotated[Path | None, path_option(
        "--cache-dir", help="Fetch cache (default: $DOSSIER_CACHE, else <root>/.dossier/cache).")] = None,
    root: RootOpt = None,
) -> None:
    """Print one card (with --diff: the real changed lines its key fragment lands on).

    Exit 1 when --diff finds no changed line the key fragment matches, 2 when the card is missing or invalid
    or (with --diff) neither the PR's diff nor the release diff that shipped it is at hand."""
    from dossier.manual import card_notes, unreadable_locks
    from dossier.show import print_card

    if not diff:
        ignored_with("without --diff", "the card alone is printed", "context", "cache_dir")
    project = _project(root)
    card = project.card(pr)
    if card is None:
        missing_card(project, pr)
    entry = shipped = None
    if diff:  # before the card is printed: a card followed by an error reads as a half answer
        cache = _cache(project, cache_dir)
        entry = cache.get(pr)
        if entry is None and (why := cache.damaged(pr)):
            fail(f"the fetch cache entry of #{pr} is damaged ({why}): {cache.remedy(pr)}")
        if entry is None:
            shipped = _release_diff(project, card)
    print_card(card, project, out, notes=card_notes(project, card))
    for problem in unreadable_locks(project):
        err.print(f"warning: {problem}: what it records is left out above (`dossier lint` says more)")
    if entry is not None:
        from dossier.excerpt import print_excerpt

        if not print_excerpt(card, entry, out, context):
            raise typer.Exit(1)
    if shipped is not None:
        from dossier.excerpt import print_release_excerpt

        if not print_release_excerpt(card, *shipped, out, context):
            raise typer.Exit(1)


def _release_diff(project: Project, card):
    """(event, old tree, new tree) of the release diff that shipped ``card``, for `show --diff` without the PR's
    diff; a usage error saying what to fetch or sync when it is not at hand."""
    from dossier import releases as rl
    from dossier.locks import LockError
    from dossier.release_evidence import RELEASE_DIFF, merge_dates, read_release_lock
    from dossier.source_tree import SourceTree

    fetch = f"#{card.pr} is not in the fetch cache: run `dossier fetch {card.pr}`"
    try:
        verdict = read_release_lock(project.root).verdict(card, merge_dates(project.cards))
    except LockError:
        verdict = None
    event = verdict.evidence if verdict is not None and verdict.kind == RELEASE_DIFF else None
    if event is None:
        fail(fetch + " (no release diff proves it)")
    cache = rl.cache_dir(project.root)
    if os.path.lexists(cache) and not cache.is_dir():  # "sync ... into" a file would fail there, after minutes
        from dossier.files import kind_of

        fail(f"{fetch}; the release cache {cache} ($DOSSIER_RELEASES) is {kind_of(cache)}, not a folder: point it at "
             "the folder `dossier releases sync` fills")
    trees = {r.version: r for r in rl.synced(cache)} if cache.is_dir() else {}
    wanted = [v for v in (event.old.version, event.new.version) if v not in trees]
    if wanted:
        fail(f"{fetch}, or sync SGLang {' and '.join(wanted)} (`dossier releases sync --from {wanted[0]} --to "
             f"{wanted[-1]}`, into {cache}) to see the release diff that shipped it")
    return event, SourceTree.release(trees[event.old.version]), SourceTree.release(trees[event.new.version])


@command()
def findings(
    name: Annotated[str | None, typer.Argument(parser=given_text,
                                               help="A finding's name, or its file (cards/findings/NAME.yaml).")] = None,
    root: RootOpt = None,
) -> None:
    """List the findings (upstream bugs without a PR, cards/findings/), or print one. Exit 2 when NAME is not
    a valid finding (`dossier lint cards/findings/` says why a file is invalid)."""
    from dossier.show import print_finding, print_findings

    project = _project(root)
    if name is None:
        if not project.findings:  # not a table of no row
            err.print("no valid findings in cards/findings/ (`dossier lint cards/findings/` says why a file is invalid)")
        else:
            print_findings(project.findings, out)
        listed = {f.path for f in project.findings}
        left = sorted(project.rel(d.path) for d in project.finding_docs if d.path not in listed)
        if left:  # the list was silently one short
            err.print(f"warning: not listed: {', '.join(left)} (not a valid finding, or another file's name; "
                      "`dossier lint cards/findings/` says why)")
        for f in project.findings:
            if f.path.stem != f.name:  # D701: the name a reader asks for is not the file's
                err.print(f"warning: {project.rel(f.path)} is listed as {f.name!r}, the name it gives itself, not its "
                          "file's (D701: rename one)")
        return
    found = next((f for f in project.findings if name in (f.name, f.path.name) or _names_file(name, f.path)), None)
    if found is None:
        known = ", ".join(f.name for f in project.findings) or "none"
        fail(f"no valid finding {name!r} (known: {known}; `dossier lint cards/findings/` says why a file is "
             "invalid)")
    print_finding(found, project, out)


def _names_file(given: str, path: Path) -> bool:
    """Whether ``given`` (a command-line argument) is a path to the file ``path``."""
    try:
        return os.path.samefile(given, path)
    except (OSError, ValueError):
        return False


def missing_card(project: Project, pr: int) -> None:
    """Exit 2 saying why ``pr`` has no usable card: its file is invalid, or there is none."""
    bad = project.invalid_card_for(pr)
    if bad is not None:
        rel = project.rel(bad.path)
        fail(f"the card for #{pr} is invalid: run `dossier lint {rel}`")
    fail(f"no card for #{pr} (cards/{pr}.yaml does not exist; `dossier new {pr}` starts one)")


@command()
def new(
    pr: Annotated[int, pr_argument("PR number (19321 or #19321).")],
    title: Annotated[str | None, typer.Option(parser=given_text, help="PR title (default: from the fetch cache).")] = None,
    state: Annotated[str | None, typer.Option(
        parser=given_text, metavar="<merged|open|closed>",
        help="merged, open or closed (default: from the fetch cache).")] = None,
    merged_at: Annotated[str | None, typer.Option(
        "--merged-at", parser=given_text, help="YYYY-MM-DD, for a merged PR (default: from the fetch cache).")] = None,
    lane: Annotated[str | None, typer.Option(
        parser=given_text, help="Lane id from cards/lanes.yaml (default: left empty for you).")] = None,
    root: RootOpt = None,
) -> None:
    """Scaffold cards/PR.yaml from known facts; the prose is left for you to write.

    Without `dossier fetch PR` first, --title and --state are needed (and --merged-at for a merged PR). Never
    replaces a card: exit 2 when cards/PR.yaml exists or another card holds the PR."""
    from dossier.scaffold import scaffold_card

    project = _project(root)
    path = scaffold_card(project, pr, title=title, state=state, merged_at=merged_at, lane=lane or "")
    err.print(f"wrote {project.rel(path)}: fill in motivation, implementation, key_fragment, validation")


@command()
def schema(
    output: Annotated[str | None, typer.Option(
        "--output", "-o", parser=given_output, metavar="<path>",
        help="Write to a file instead of stdout (`-`: stdout; `./-`: a file named '-').")] = None,
) -> None:
    """Print the card schema as JSON Schema (for editors: point yaml-language-server at it). Exit 2 when
    --output cannot be written (the file is then left as it was)."""
    from dossier.model import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is not None and output != "-":  # `-o -` is standard output, as everywhere; `./-` is a file
        from dossier.files import write_atomic

        write_atomic(Path(output), text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    from dossier.main import main

    main()
