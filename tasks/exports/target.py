"""Where an export goes: OUT as a pyarrow filesystem and root path, a local folder (created as needed) or
`s3://bucket/prefix` with the lakehouse's own AWS settings, and the manifest (`export.json`) of the export it
holds. Nothing here decides what is written; publishing.py stages and publishes through a `Target`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs

from ...warehouse.storage import S3_SCHEMES, s3_endpoint
from ...warehouse.storage import scheme as uri_scheme

MANIFEST = "export.json"      # written last: its presence marks a whole export, and it lists the files


class ExportTargetError(ValueError):
    """OUT cannot hold an export (an existing file)."""


@dataclass
class Target:
    """OUT on a pyarrow filesystem: a local folder or an object-store prefix (s3://bucket/prefix)."""
    fs: pafs.FileSystem
    root: str
    uri: str

    @property
    def local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self.path(relative)).type == pafs.FileType.File

    def make_dirs(self, relative: str) -> None:
        if self.local:   # object stores have no folders
            self.fs.create_dir(self.path(relative), recursive=True)

    def open(self, relative: str, gzip: bool = False):
        self.make_dirs(relative.rpartition("/")[0])
        return self.fs.open_output_stream(self.path(relative), compression="gzip" if gzip else None)

    def write_text(self, relative: str, text: str) -> None:
        with self.open(relative) as stream:
            stream.write(text.encode("utf-8"))

    def read_text(self, relative: str) -> str | None:
        try:
            with self.fs.open_input_stream(self.path(relative), compression=None) as stream:
                return stream.read().decode("utf-8")
        except (FileNotFoundError, OSError):
            return None

    def move(self, source: str, dest: str) -> None:
        self.make_dirs(dest.rpartition("/")[0])
        self.fs.move(self.path(source), self.path(dest))

    def delete(self, relative: str) -> None:
        if self.exists(relative):
            self.fs.delete_file(self.path(relative))

    def delete_dir(self, relative: str) -> None:
        if self.fs.get_file_info(self.path(relative)).type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(relative))

    def listing(self, relative: str = "") -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(self.path(relative), allow_not_found=True)
        return self.fs.get_file_info(selector)

    def within(self, relative: str) -> Target:
        """The folder `relative` of OUT as a target of its own: what a format writes into the staging folder."""
        return Target(self.fs, self.path(relative), f"{self.uri}/{relative}")


def export_filesystem(out: str) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem and path of an OUT URI. S3 (and S3-compatible stores) take the lakehouse's own
    AWS settings (warehouse/storage.py: AWS_ENDPOINT_URL, AWS_REGION, AWS_ALLOW_HTTP; credentials from the
    environment), so an export reaches the store the lakehouse does."""
    if uri_scheme(out) in S3_SCHEMES:
        options = {}
        endpoint = s3_endpoint()
        if endpoint:
            parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
            plain = parsed.scheme == "http" or os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true"
            options.update(endpoint_override=parsed.netloc, scheme="http" if plain else "https")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        return pafs.S3FileSystem(**options), out.split("://", 1)[1]
    return pafs.FileSystem.from_uri(out)


def resolve_target(out: str | Path) -> Target:
    """OUT as a filesystem and root path; refused when it is an existing file. Creates nothing."""
    out = str(out)
    if "://" in out:
        fs, root = export_filesystem(out)
        uri = out.rstrip("/")
    else:
        path = Path(out).expanduser().resolve()
        fs, root, uri = pafs.LocalFileSystem(), path.as_posix(), str(path)
    target = Target(fs, root.rstrip("/") or root, uri)
    if fs.get_file_info(target.root).type == pafs.FileType.File:
        raise ExportTargetError(f"{uri} is a file: an export goes into a folder (new, or an earlier export's)")
    return target


def read_manifest(target: Target) -> dict | None:
    """The export.json of the export OUT holds, or None (no export there, or one that never finished)."""
    text = target.read_text(MANIFEST)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
