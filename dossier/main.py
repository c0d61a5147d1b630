"""The `dossier` console script: the CLI, where Ctrl-C at any moment (while its modules are still being
imported too) ends with exit 130 and one line, never a traceback. SIGTERM (`kill`, a CI timeout) takes the
same path, exit 143, and so does SIGHUP (the terminal closed, an ssh session dropped), exit 129: files being
written are left as they were (see :mod:`dossier.files`). A standard error
that cannot be written (closed, `2>&-`; a reader gone; a read-only descriptor) costs no error line: see
:class:`ErrorsReachTheUser`; a standard output that refuses a write is named in the error line
(:class:`OutputNamesItself`)."""

from __future__ import annotations

import codecs
import os
import signal
import sys

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports
TERMINATED_EXIT = 128 + signal.SIGTERM
#: the signals that end a command as Ctrl-C does (SIGHUP where the platform has it), with the line each prints
STOP_SIGNALS = {signal.SIGTERM: "terminated", **({signal.SIGHUP: "hung up"} if hasattr(signal, "SIGHUP") else {})}


#: how the text begins that ends a command without its answer, what a user must see: an error line, an interrupt's,
#: the help that a command given no arguments answers with (exit 2)
ERROR_LINES = ("error:", "interrupted", "terminated", "Usage:")


class ErrorsReachTheUser:
    """Standard error that never fails the command: when it cannot be written, what was meant for it is dropped
    (a warning, progress, a summary), except an error line (:data:`ERROR_LINES`), which goes to standard output
    instead: exit 2 with no word said left the user guessing, and a failed write of the error line itself became
    exit 1."""

    def __init__(self, stream):
        self.stream = stream  # None once it has failed (or when stderr was closed at start)
        self._line_start, self._forward = True, False

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream does: click asks with b"" whether it takes bytes
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        if self.stream is not None:
            try:
                self.stream.write(text)
                self.stream.flush()  # a failure shows now, with the text it lost
                return len(text)
            except (OSError, ValueError):  # ValueError: the stream was closed
                self.stream = None
        if self._line_start:  # a print is one write: an error's lines go with its first
            self._forward = text.startswith(ERROR_LINES)
        if self._forward and sys.stdout is not None:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
        self._line_start = text.endswith("\n")
        return len(text)

    def flush(self) -> None:
        if self.stream is not None:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self.stream = None

    def isatty(self) -> bool:
        return self.stream is not None and self.stream.isatty()

    def fileno(self) -> int:
        if self.stream is None:
            raise OSError("standard error cannot be written")
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:
        return getattr(self.stream, "errors", None) or "backslashreplace"


class OutputNamesItself:
    """Standard output whose failed write raises :class:`~dossier.errors.OutputRefused`, so the error line can say
    it was standard output (a bare `[Errno 28] No space left on device` named nothing). A reader that left
    (`| head`) stays a BrokenPipeError. Click probes the stream with empty writes and ignores what they raise, so
    the stream is kept after a failure; whoever reports one calls :meth:`drop`."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self.stream.write, text)

    def flush(self) -> None:
        self._guarded(self.stream.flush)

    def drop(self) -> None:
        """Forget what is still held: it cannot be written, and exit's own flush would fail again."""
        self.stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (standard output's stand-in until exit)

    @staticmethod
    def _guarded(call, *args):
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            from dossier.errors import OutputRefused

            raise OutputRefused(exc.errno, exc.strerror) from exc

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def output_refused(exc: OSError) -> str:
    """The error line's text for ``exc`` raised by standard output, whose held bytes are dropped."""
    if hasattr(sys.stdout, "drop"):
        sys.stdout.drop()
    return str(exc)


class Terminated(KeyboardInterrupt):
    """SIGTERM (or another of :data:`STOP_SIGNALS`), raised where the main thread is, so that it unwinds as Ctrl-C
    does."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame) -> None:
    raise Terminated(signum)


def interrupted(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one line and the exit code for an interrupt."""
    if isinstance(exc, Terminated):
        return STOP_SIGNALS.get(exc.signum, "terminated"), 128 + exc.signum
    return "interrupted", INTERRUPTED_EXIT


def _as_read(exc: UnicodeEncodeError) -> tuple[bytes, int]:
    """The console streams' encoding error handler: a byte of a file name that is not UTF-8 (Python reads it as
    U+DC80..U+DCFF) is written as that byte, as `ls` writes the name; any other character the stream cannot encode
    as its backslash escape. Under a UTF-8 locale Python's own handler ("strict") made such a name an internal
    error of `dossier lint`, and stderr's ("backslashreplace") printed it as '\\udce9'."""
    out = b""
    for ch in exc.object[exc.start:exc.end]:
        code = ord(ch)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else ch.encode("ascii", "backslashreplace")
    return out, exc.end


def main() -> None:
    codecs.register_error("dossier.as_read", _as_read)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # None when closed (`>&-`)
            stream.reconfigure(errors="dossier.as_read")
    if sys.stdout is not None:
        sys.stdout = OutputNamesItself(sys.stdout)
    real = sys.stderr
    sys.stderr = wrapped = ErrorsReachTheUser(real)
    try:
        for signum in STOP_SIGNALS:
            signal.signal(signum, _terminate)
        from dossier.cli import app

        app()
    except KeyboardInterrupt as exc:
        line, code = interrupted(exc)
        sys.stderr.write(line + "\n")
        sys.exit(code)
    except OSError as exc:
        from dossier.errors import OutputRefused

        if not isinstance(exc, OutputRefused):
            raise
        sys.stderr.write(f"error: {output_refused(exc)}\n")  # outside a command's handler: `--help > /dev/full`
        sys.exit(2)
    finally:
        # the command's answer is given: a Ctrl-C or SIGTERM now would land in the interpreter's shutdown as a
        # traceback with the command's exit code
        for signum in (signal.SIGINT, *STOP_SIGNALS):
            signal.signal(signum, signal.SIG_IGN)
        if sys.stderr is wrapped and wrapped.stream is not None:  # a failed one stays out of reach: exit would
            sys.stderr = real  # flush it, fail, and exit 120


if __name__ == "__main__":
    main()
