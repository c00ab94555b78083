"""Secrets never survive the redactor: known values, URL credentials, signed queries, tokens."""

from __future__ import annotations

from trainer_sdk.redaction import Redactor, redact_url


def test_known_values_are_masked_longest_first() -> None:
    redact = Redactor(["abcd1234", "abcd1234-extended", "xy"])
    assert redact("key abcd1234-extended and abcd1234") == "key *** and ***"
    assert redact("xy is too short to be a secret") == "xy is too short to be a secret"


def test_url_credentials_and_signed_queries_are_masked() -> None:
    url = "https://user:pa55@s3.local/b/k?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA&part=1"
    masked = redact_url(url)
    assert "pa55" not in masked and "deadbeef" not in masked and "AKIA" not in masked
    assert masked.endswith("&part=1") and "s3.local/b/k" in masked
    assert redact_url("http://backend:8000/api/v1?token=t0k&x=1") == (
        "http://backend:8000/api/v1?token=***&x=1"
    )


def test_bearer_tokens_are_masked_but_ordinary_words_are_not() -> None:
    redact = Redactor()
    assert redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x") == "Authorization: Bearer ***"
    assert redact("Basic settings and Token usage") == "Basic settings and Token usage"


def test_repr_never_shows_values() -> None:
    assert "abcd1234" not in repr(Redactor(["abcd1234"]))


def test_scrub_masks_keys_and_values_at_any_depth_without_recursing() -> None:
    redact = Redactor(["s3cr3t-value"])
    value = {"a": [{"s3cr3t-value": ("x s3cr3t-value", 1, None)}], "n": 2.5}
    assert redact.scrub(value) == {"a": [{"***": ["x ***", 1, None]}], "n": 2.5}
    deep: list[object] = []
    node = deep
    for _ in range(100_000):  # far beyond the recursion limit
        child: list[object] = []
        node.append(child)
        node = child
    node.append("s3cr3t-value")
    copy = redact.scrub(deep)
    for _ in range(100_000):
        copy = copy[0]
    assert copy == ["***"]


def test_secret_names_are_whole_words() -> None:
    from trainer_sdk.redaction import is_secret_name

    for name in (
        "hf_token",
        "wandb_api_key",
        "wandbApiKey",
        "DB-PASSWORD",
        "aws_secret",
        "apikey",
        "AWS_SECRET_ACCESS_KEY",
        "minio.accessKey",
        "client_secrets",
        "PASSWORD_HASHED",
        "EXTERNAL_STORAGE_SECRET_KEY",  # an `x-secret` variable of the contract
    ):
        assert is_secret_name(name), name
    for name in (
        "max_tokens",
        "tokenizer",
        "keypoints",
        "key_frames",
        "monkey",
        "secretary",
        "PWD",
        "POSTGRES_PASSWORD_FILE",  # where the secret is, not the secret (Docker's convention)
        "hf_token_path",
        "SECRET_NAME",
        "",
    ):
        assert not is_secret_name(name), name


def test_the_sdk_and_the_tools_share_one_secret_name_rule() -> None:
    """The SDK's redaction, k8s-job --env and trainer-lint's TRL104 ask the contract's one
    function (generated from env.json `x-secret-names`), not copies of it."""
    from trainer_contract import env
    from trainer_sdk import redaction
    from trainer_tools.k8s import manifest
    from trainer_tools.trainer_lint.rules import trl104_secret_in_image

    assert redaction.is_secret_name is env.is_secret_name
    assert manifest.is_secret_name is env.is_secret_name
    assert trl104_secret_in_image.is_secret_name is env.is_secret_name


def test_credential_paths_finds_urls_and_secret_named_values() -> None:
    from trainer_sdk.redaction import credential_paths

    config = {
        "epochs": 3,
        "tokenizer": "bert-base",
        "advanced_config": {"hf_token": "hf_abc", "mirror": "https://u:p@m.local/x", "lr": 0.1},
        "callbacks": [{"api_key": ""}, {"url": "http://plain.local"}],
    }
    assert credential_paths(config) == ["$.advanced_config.hf_token", "$.advanced_config.mirror"]
    assert credential_paths("http://user:pw@host/") == ["$"]
    assert credential_paths("http://host/") == []


def test_the_log_filter_masks_messages_arguments_and_tracebacks() -> None:
    import io
    import logging

    from trainer_sdk.redaction import install_log_filter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("botocore.redaction-test")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        install_log_filter(["AKIA-planted-4242"])
        logger.debug("headers %s", {"Authorization": "Credential=AKIA-planted-4242/x"})
        try:
            raise RuntimeError("key AKIA-planted-4242 refused")
        except RuntimeError:
            logger.exception("request to http://u:pw@s3.local failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "AKIA-planted-4242" not in text and "u:pw@" not in text, text
    assert "Credential=***" in text and "key *** refused" in text and "http://***@s3.local" in text
