"""Where the lakehouse lives: a local folder or an object store (`s3://bucket/prefix`, also `gs://`, `az://`).

Every place that opens a Lance dataset (the LanceDB connection, `lance.dataset` for SQL, version reads) takes
its object-store settings from `storage_options(uri)`, so one configuration reaches all of them. For S3 and
S3-compatible stores (MinIO, Ceph, R2, ...) that configuration is the standard AWS environment:

    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN)   credentials
    AWS_REGION (or AWS_DEFAULT_REGION)                             region; any value for most S3-compatible stores
    AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3, AWS_ENDPOINT)        a store other than AWS, e.g. http://minio:9000
    AWS_ALLOW_HTTP=true                                            plain-http endpoint (implied by an http:// endpoint)

Lance reads the rest of the object_store settings from the environment itself (e.g. AWS_VIRTUAL_HOSTED_STYLE_REQUEST,
TIMEOUT). A lakehouse that cannot be opened fails with `LakeStorageError`: one sentence naming the URI, what
went wrong and the variables to set, not the object store's retry dump.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager

ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")
S3_SCHEMES = ("s3", "s3a", "s3+ddb")
S3_SETTINGS = ("set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION, and AWS_ENDPOINT_URL for a store "
               "other than AWS (MinIO, Ceph: e.g. http://host:9000)")


class LakeStorageError(ValueError):
    """The lakehouse's object store cannot be reached or refuses the request."""


def is_remote(uri: str) -> bool:
    """An object-store URI (scheme://...), as opposed to a folder on local disk."""
    return "://" in str(uri) and not str(uri).startswith("file://")


def scheme(uri: str) -> str:
    return str(uri).split("://", 1)[0].lower() if "://" in str(uri) else ""


def s3_endpoint() -> str | None:
    return next((os.environ[v] for v in ENDPOINT_VARS if os.environ.get(v)), None)


def storage_options(uri: str) -> dict[str, str]:
    """The object-store options for every dataset under `uri` (empty on local disk): the endpoint, whether
    plain http is allowed and the region, from the AWS environment. Credentials stay in the environment,
    where Lance reads them (with the rest of AWS's credential chain)."""
    if scheme(uri) not in S3_SCHEMES:
        return {}
    options: dict[str, str] = {}
    endpoint = s3_endpoint()
    if endpoint:
        options["aws_endpoint"] = endpoint
    allow_http = os.environ.get("AWS_ALLOW_HTTP")
    if allow_http:
        options["allow_http"] = allow_http
    elif endpoint and endpoint.lower().startswith("http://"):
        options["allow_http"] = "true"      # the user named a plain-http endpoint: refusing it helps nobody
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["aws_region"] = region
    return options


def _reason(text: str, uri: str) -> str:
    """The object store's error in a few words."""
    endpoint = s3_endpoint() if scheme(uri) in S3_SCHEMES else None
    where = (f"the endpoint {endpoint}" if endpoint
             else "AWS S3" if scheme(uri) in S3_SCHEMES else "the object store")
    bucket = uri.split("://", 1)[1].split("/", 1)[0] if "://" in uri else uri
    code = re.search(r"<Code>([^<]+)</Code>", text)
    code = code.group(1) if code else None
    if code == "NoSuchBucket" or "NoSuchBucket" in text:
        return f"the bucket {bucket!r} does not exist at {where}"
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken") \
            or re.search(r"\b403\b|Forbidden", text):
        return f"{where} refused the credentials ({code or '403 Forbidden'})"
    if "BadScheme" in text or "builder error" in text or "URL scheme is not allowed" in text:
        return f"{where} is plain http, which is refused while AWS_ALLOW_HTTP is false"
    if "resolve region" in text:
        return f"the region of the bucket {bucket!r} could not be found (no AWS_REGION, no endpoint)"
    if re.search(r"ConnectError|kind: Connect\b|tcp connect|[Cc]onnection refused|error sending request|dns error|"
                 r"timed out|TimedOut|\bTimeout\b", text):   # not retry_timeout: every error names it
        return f"{where} could not be reached"
    if re.search(r"credential|Credential", text):
        return "no credentials were found"
    first = text.strip().splitlines()[0] if text.strip() else type(text).__name__
    return first if len(first) <= 200 else first[:197] + "..."


def storage_error(uri: str, exc: BaseException) -> LakeStorageError:
    hint = S3_SETTINGS if scheme(uri) in S3_SCHEMES else "check the URI and the object store's credentials"
    return LakeStorageError(f"cannot open the lakehouse at {uri}: {_reason(str(exc), uri)}; {hint}")


@contextmanager
def storage_errors(uri: str):
    """Turn the object store's failures while opening a remote lakehouse into one `LakeStorageError`."""
    try:
        yield
    except LakeStorageError:
        raise
    except Exception as exc:
        if not is_remote(uri):
            raise
        error = storage_error(uri, exc)
        error.detail = str(exc)           # the object store's own words, for a debugger
        raise error from None
