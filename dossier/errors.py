"""The one error type a command raises for a usage or environment problem (the CLI prints `error: ...`, exit 2)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class DossierError(Exception):
    """Bad usage or an unusable environment: ``str(exc)`` is one line for the user, printed as ``error: ...``."""


class Unjudgeable(DossierError):
    """What the rules read besides the cards is broken (SGLang's sources, dossier's own templates): no finding would
    be the cards', so lint stops with one `error:` line (exit 2) instead of blaming them."""


class OutputRefused(OSError):
    """Standard output refused a write (`> /dev/full`, a full disk behind `>`): an OSError that names no file, which
    the error line must call standard output's."""

    def __str__(self) -> str:
        return (f"standard output: {self.strerror} (what this command prints was cut short: send it to a file on a "
                "disk with room, or to /dev/null)")


def redact_url(url: str) -> str:
    """``url`` without user:password (``https://x:TOKEN@host/api`` -> ``https://***@host/api``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def url_host(url: str) -> str:
    """The host[:port] of ``url``, without credentials."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return "<unparsable URL>"
    return netloc.rsplit("@", 1)[-1] or url
