"""Keep secrets out of logs, reprs and error messages.

A `Redactor` knows the secret values of one process (the values of the env vars the contract marks
secret, and any token the caller adds) and scrubs them, plus credentials embedded in URLs, from
any text before it is shown to a person or sent as a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MASK", "Redactor", "redact_url"]

MASK = "***"

# Shorter values would mask ordinary words (a secret "abc" would turn "abcde" into "***de"), so
# such values are not treated as secrets; the contract's secrets are keys and tokens, never this short.
_MIN_SECRET_LENGTH = 4

# user:password@ in any URL-looking text.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
# Query parameters whose names say they carry a credential (presigned S3 URLs, API tokens).
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&](?:[A-Za-z0-9_.-]*(?:token|secret|password|passwd|signature|credential|"
    r"api[_-]?key|access[_-]?key|auth)[A-Za-z0-9_.-]*)=)[^&#\s\"']*",
    re.IGNORECASE,
)
# A bearer token rendered into text (an Authorization header in an exception message). Other
# schemes ("Basic", "Token") are ordinary English words, so they are not matched.
_BEARER = re.compile(r"(?P<scheme>\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def redact_url(url: str) -> str:
    """Return `url` with user info and credential-like query parameters masked."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", url)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('name')}{MASK}", text)


class Redactor:
    """Masks known secret values and URL credentials in text.

    The redactor is cheap to call on every log line: it checks the known values with `in` before
    paying for a replacement, and the URL patterns only run when the text contains `://`, `=`
    or an authorization scheme word.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (values shorter than 4 characters are ignored)."""
        known = set(self._secrets)
        known.update(s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET_LENGTH)
        # Longest first, so that a secret containing another is masked whole.
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        """Return `text` with every known secret and URL credential replaced by `***`."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if "://" in text or "=" in text:
            text = redact_url(text)
        if " " in text:
            text = _BEARER.sub(lambda m: f"{m.group('scheme')}{MASK}", text)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret values)"
