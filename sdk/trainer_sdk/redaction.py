"""Keep secrets out of logs, reprs, error messages and callbacks: one mechanism for all of them.

A `Redactor` knows the secret values of one process (the values of the env vars the contract marks
secret, and any token the caller adds) and scrubs them, plus credentials embedded in URLs, from
any text before it is shown to a person or sent as a log line. The same redactor is applied

- to text: messages, tracebacks (`run()`'s stderr), the dry-run's output;
- to JSON values (`scrub`): every callback body before it is validated, spooled and sent, so a
  secret in `data` / `extra_data` reaches neither the outbox, nor a `file://` sink, nor the backend;
- to log records (`RedactingFilter`, `install_log_filter`): boto3 / botocore / urllib3 debug logs
  show request headers (the access key in `Credential=`), which the filter masks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from trainer_contract.env import SECRET_ENV_VARS, is_secret_name

__all__ = [
    "LIBRARY_LOGGERS",
    "MASK",
    "RedactingFilter",
    "Redactor",
    "credential_paths",
    "install_log_filter",
    "is_secret_name",
    "redact_url",
    "secret_values",
]

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


def credential_paths(value: Any) -> list[str]:
    """JSON paths (`$`, `$.advanced.wandb_api_key`) of the credentials inside a value.

    A credential is a string holding URL credentials (`user:password@`, `?token=...`), or a
    non-empty string under a key named like a secret (`api_key`, `password`, `hf_token`, ...).
    Used to keep such values out of plain text (a manifest's `env`, a message).
    """
    found: list[str] = []
    stack: list[tuple[Any, str, bool]] = [(value, "$", False)]
    while stack:
        item, path, named_secret = stack.pop()
        if isinstance(item, str):
            if (named_secret and item) or redact_url(item) != item:
                found.append(path)
        elif isinstance(item, dict):
            for key, child in item.items():
                name = str(key)
                stack.append((child, f"{path}.{name}", is_secret_name(name)))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}[{i}]", named_secret) for i, child in enumerate(item))
    return sorted(found)


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values of the contract's secret variables set in `env` (empty values skipped)."""
    return [env[name] for name in SECRET_ENV_VARS if env.get(name)]


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

    @property
    def known(self) -> tuple[str, ...]:
        """The secret values this redactor masks (for another redactor to `add`; never print)."""
        return self._secrets

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Redactor:
        """A redactor knowing the secret variables' values of `env` (e.g. `os.environ`)."""
        return cls(secret_values(env))

    def scrub(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys included) redacted.

        Iterative, not recursive: the value may be nested deeper than the interpreter's recursion
        limit (its validation refuses that later, with a clear error). Containers other than
        dict, list and tuple, and non-string leaves, are returned as they are.
        """
        if isinstance(value, str):
            return self(value)
        if not isinstance(value, dict | list | tuple):
            return value
        stack: list[tuple[Any, Any]] = []  # (a container, its copy still to be filled)

        def copy_of(item: Any) -> Any:
            if isinstance(item, str):
                return self(item)
            made: Any
            if isinstance(item, dict):
                made = {}
            elif isinstance(item, list | tuple):
                made = []
            else:
                return item
            stack.append((item, made))
            return made

        result = copy_of(value)
        while stack:
            source, target = stack.pop()
            if isinstance(source, dict):
                for key, child in source.items():
                    target[self(key) if isinstance(key, str) else key] = copy_of(child)
            else:
                target.extend(copy_of(child) for child in source)
        return result

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret values)"


# Loggers that may write credentials: botocore logs every request with its headers at DEBUG
# (`Authorization: AWS4-HMAC-SHA256 Credential=<access key>/...`), urllib3 and httpx the URLs;
# the SDK's own, as a second line of defence behind the redaction at each call site.
LIBRARY_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3", "httpx", "httpcore", "trainer_sdk")


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in a record's message and traceback, keeping the record.

    The redactor is shared and may learn more secrets later (`Redactor.add`).
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's text with secrets masked; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            return True
        masked = self.redactor(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


_LIBRARY_REDACTOR = Redactor()
_LIBRARY_FILTER = RedactingFilter(_LIBRARY_REDACTOR)


def install_log_filter(secrets: Iterable[str], prefixes: Iterable[str] = LIBRARY_LOGGERS) -> None:
    """Mask `secrets` in the records of the loggers under `prefixes` (botocore and co.).

    A logger's filters see only the records logged to that very logger, not those of its
    children, so the filter goes on every existing logger under each prefix; call this after
    the library has been imported and its client created (the SDK does, when it creates its S3
    clients). Idempotent; the secrets accumulate in one process-wide redactor.
    """
    _LIBRARY_REDACTOR.add(secrets)
    wanted = tuple(prefixes)
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if any(name == p or name.startswith(p + ".") for p in wanted)
    ]
    for name in (*wanted, *names):
        logger = logging.getLogger(name)
        if _LIBRARY_FILTER not in logger.filters:
            logger.addFilter(_LIBRARY_FILTER)
