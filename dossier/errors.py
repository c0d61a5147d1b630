"""The one error type a command raises for a usage or environment problem (the CLI prints `error: ...`, exit 2)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class DossierError(Exception):
    """Bad usage or an unusable environment: ``str(exc)`` is one line for the user, printed as ``error: ...``."""


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
