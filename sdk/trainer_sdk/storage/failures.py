"""Turn botocore failures into the SDK's errors, naming endpoint and bucket, no secret.

A trainer never sees a bare botocore exception: wrong credentials and unreachable endpoints become
`NetworkError`, a missing object the caller's "not found" error (`DatasetError` for datasets,
`CheckpointError` for checkpoints), a missing bucket a `ConfigError` naming the variable to fix.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from trainer_sdk.errors import ConfigError, NetworkError, ResourceError, TrainerSDKError
from trainer_sdk.redaction import Redactor

if TYPE_CHECKING:
    from trainer_sdk.storage.settings import EndpointSettings

__all__ = [
    "AUTH_ERROR_CODES",
    "NOT_FOUND_CODES",
    "auth_error",
    "local_error",
    "scrub",
    "translate",
    "unreachable_error",
]

AUTH_ERROR_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "403"}
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value and URL credential masked (the SDK's shared redactor)."""
    return Redactor(secrets)(text)


def _root_cause(error: BaseException) -> BaseException:
    """The botocore error inside boto3's transfer wrappers (S3UploadFailedError, ...)."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if isinstance(current, ClientError | BotoCoreError):
            return current
        last = getattr(current, "last_exception", None)  # boto3's RetriesExceededError
        current = (
            last if isinstance(last, BaseException) else (current.__cause__ or current.__context__)
        )
        seen += 1
    return error


_LOCAL_HINTS = {
    errno.ENAMETOOLONG: "a file name may have at most 255 bytes and a whole path 4,096: choose a "
    "shorter destination folder",
    errno.EACCES: "the process may not write there: choose a writable destination (TMP_DIR, "
    "WORK_DIR)",
    errno.EPERM: "the process may not write there: choose a writable destination (TMP_DIR, "
    "WORK_DIR)",
    errno.EROFS: "that filesystem is read-only: choose a writable destination (TMP_DIR, WORK_DIR)",
}


def _short_path(path: object, limit: int = 160) -> str:
    """A path for a message: whole when short, else its start and its end (paths can be 4 KB)."""
    text = str(path)
    if len(text) <= limit:
        return text
    return f"{text[: limit // 3]}...{text[-(limit - limit // 3) :]}"


def local_error(error: OSError, action: str) -> TrainerSDKError:
    """The SDK error for a local filesystem failure while `action` (never a network error).

    A full disk is a `ResourceError`; anything else (a name too long, a path too deep, no
    permission, a read-only filesystem) names the local path and says it is local.
    """
    where = f" ({_short_path(error.filename)})" if error.filename else ""
    reason = error.strerror or type(error).__name__
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return ResourceError(
            f"the disk is full while {action}: {reason}{where}; free space or point the "
            "destination (TMP_DIR, DATASET_CACHE_DIR) at a larger volume"
        )
    hint = _LOCAL_HINTS.get(error.errno or 0, "check the destination folder")
    return TrainerSDKError(
        f"local file error while {action}: {reason}{where}; the download itself is fine, the "
        f"local filesystem refused the file: {hint}"
    )


def auth_error(settings: EndpointSettings, code: str, action: str) -> NetworkError:
    """The error for credentials the endpoint rejected (the message names no credential)."""
    access_var, secret_var = settings.credential_vars
    return NetworkError(
        f"S3 at {settings.endpoint} rejected the credentials for bucket {settings.bucket!r} "
        f"({code}) while {action}; check {access_var} and {secret_var}"
    )


def unreachable_error(settings: EndpointSettings, detail: str, action: str) -> NetworkError:
    """The error for an endpoint that cannot be reached or keeps failing."""
    return NetworkError(
        scrub(
            f"cannot reach S3 at {settings.endpoint} (bucket {settings.bucket!r}) while {action}: "
            f"{detail}; check {settings.endpoint_var} and that the storage service is up",
            settings.secrets,
        )
    )


def translate(
    error: BaseException,
    settings: EndpointSettings,
    *,
    action: str,
    bucket: str | None = None,
    key: str | None = None,
    not_found: type[TrainerSDKError] = TrainerSDKError,
) -> TrainerSDKError:
    """Map a botocore or OS error raised while `action` onto an SDK error.

    `not_found` is the class raised for a missing object; `bucket` defaults to the configured one.
    """
    if isinstance(error, TrainerSDKError):
        return error
    error = _root_cause(error)
    bucket = bucket or settings.bucket
    where = f"s3://{bucket}/{key}" if key else f"bucket {bucket!r}"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in AUTH_ERROR_CODES or status == 403:
            return auth_error(settings, code or "HTTP 403", action)
        if code == "NoSuchBucket":
            return ConfigError(
                f"bucket {bucket!r} does not exist at {settings.endpoint} ({action}); "
                f"check {settings.bucket_var} or create the bucket"
            )
        if code in NOT_FOUND_CODES or status == 404:
            return not_found(f"{where} does not exist ({action}); check the key or URI")
        message = scrub(str(details.get("Message", error)), settings.secrets)
        return NetworkError(
            f"S3 at {settings.endpoint} answered {code or status} for {where} while {action}: "
            f"{message}"
        )
    if isinstance(error, BotoCoreError):
        return unreachable_error(settings, f"{type(error).__name__}: {error}", action)
    if isinstance(error, OSError):
        return local_error(error, action if key and key in action else f"{action} ({where})")
    return TrainerSDKError(
        scrub(
            f"unexpected {type(error).__name__} while {action} ({where}): {error}", settings.secrets
        )
    )
