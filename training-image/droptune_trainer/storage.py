"""Object storage by URI scheme: `file://` and `gs://` (the only module that imports
google-cloud-storage).

`file://` URIs come in two shapes, both accepted:
- `file:///abs/path` (empty netloc): an absolute local path;
- `file://<bucket>/<object>` (non-empty netloc): the local stack's bucket layout, resolved to
  `$DROPTUNE_HOME/buckets/<bucket>/<object>` (DROPTUNE_HOME defaults to `.droptune`), the same
  rule as the TypeScript file store.

A URI is split at its scheme and first `/` only, never URL-parsed: the object part is taken
literally (no `%`-decoding, no `#` fragment or `?` query cut), so the trainer reads exactly the
object the trigger validated. A `file://<bucket>/` object must stay inside its bucket directory.

Writes are create-only (the artifacts are immutable): writing an existing object raises
`already_exists`, on local disk via a hard link of a finished temp file, on GCS via
`if_generation_match=0`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import TrainerError

KNOWN_SCHEMES = ("file://", "gs://")


# Readers decode by content type: the workflow's storage connector returns a JSON object only for
# application/json (a `text/plain` manifest arrives as bytes).
CONTENT_TYPES = {".json": "application/json", ".jsonl": "application/x-ndjson", ".onnx": "application/octet-stream",
                 ".safetensors": "application/octet-stream"}


def content_type_for(uri: str) -> str:
    """The content type an object is uploaded with, by its name's extension."""
    name = uri.rsplit("/", 1)[-1]
    ext = name[name.rfind("."):] if "." in name else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


class ObjectStore(Protocol):
    """The port every storage adapter implements (the Python side of shared/storage/object-store.ts).

    Objects are named by full URIs. Writes are create-only: an existing object raises
    `TrainerError("already_exists")`; a missing one on read raises `TrainerError("not_found")`.
    """

    scheme: str

    def read_bytes(self, uri: str) -> bytes: ...
    def exists(self, uri: str) -> bool: ...
    def generation(self, uri: str) -> str | None: ...
    def upload_file(self, local: Path, uri: str) -> None: ...
    def write_bytes(self, uri: str, data: bytes) -> None: ...
    def list_names(self, prefix: str) -> list[str]: ...
    def download_file(self, uri: str, local: Path) -> None: ...


def split_uri(uri: str) -> tuple[str, str, str]:
    """`(scheme, bucket, object)` of `scheme://bucket/object`, taken literally (see the module doc)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return "", "", uri
    bucket, _, name = rest.partition("/")
    return scheme, bucket, name


def join(prefix: str, name: str) -> str:
    """Joins an object name onto a prefix URI with exactly one slash."""
    return prefix.rstrip("/") + "/" + name.lstrip("/")


class FileStore:
    """Local directories standing in for buckets."""

    scheme = "file"

    def path(self, uri: str) -> Path:
        _, bucket, name = split_uri(uri)
        if not bucket:
            return Path("/" + name)
        if bucket in (".", ".."):
            raise TrainerError("invalid_argument", f"{uri!r} has no valid bucket name")
        root = (Path(os.environ.get("DROPTUNE_HOME", ".droptune")).resolve() / "buckets" / bucket).resolve()
        path = (root / name.lstrip("/")).resolve()
        if path != root and root not in path.parents:
            raise TrainerError("invalid_argument", f"{uri!r} names a file outside its bucket")
        return path

    def read_bytes(self, uri: str) -> bytes:
        p = self.path(uri)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            raise TrainerError("not_found", f"{uri} does not exist (looked at {p})") from None
        except IsADirectoryError:
            raise TrainerError("invalid_argument", f"{uri} is a directory, not a file") from None
        except PermissionError:
            raise TrainerError("invalid_argument", f"{uri} is not readable") from None

    def exists(self, uri: str) -> bool:
        return self.path(uri).is_file()

    def generation(self, uri: str) -> str | None:
        p = self.path(uri)
        return str(p.stat().st_mtime_ns) if p.exists() else None

    def upload_file(self, local: Path, uri: str, content_type: str | None = None) -> None:
        dest = self.path(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(local, 0o644)
        try:
            os.link(local, dest)  # same filesystem: no copy; atomic and create-only
            return
        except FileExistsError:
            raise TrainerError("already_exists", f"{uri} already exists (artifacts are create-only)") from None
        except OSError:
            pass  # another filesystem (EXDEV) or no hard links: copy, then link
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        os.close(fd)
        try:
            # No fsync: a preempted VM shuts down cleanly (page cache flushed); a checkpoint cut
            # short anyway has no state.json and is skipped on resume.
            shutil.copyfile(local, tmp)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; artifacts are read by other processes
            try:
                os.link(tmp, dest)  # atomic and fails if dest exists: create-only
            except FileExistsError:
                raise TrainerError("already_exists", f"{uri} already exists (artifacts are create-only)") from None
        finally:
            os.unlink(tmp)

    def write_bytes(self, uri: str, data: bytes, content_type: str | None = None) -> None:
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            self.upload_file(Path(f.name), uri)
        finally:
            os.unlink(f.name)

    def list_names(self, prefix: str) -> list[str]:
        root = self.path(prefix)
        if not root.is_dir():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))

    def download_file(self, uri: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(self.read_bytes(uri))


@dataclass
class GcsStore:
    """Google Cloud Storage; `client` is injectable (tests, emulators)."""

    client: Any = None  # a google.cloud.storage.Client (untyped SDK)
    scheme = "gs"

    def _client(self) -> Any:
        if self.client is None:
            from google.cloud import storage  # only adapter that imports the GCS SDK

            self.client = storage.Client()
        return self.client

    def _blob(self, uri: str) -> Any:
        _, bucket, name = split_uri(uri)
        return self._client().bucket(bucket).blob(name)

    def _translate(self, uri: str, err: Exception) -> TrainerError:
        from google.api_core import exceptions as gexc

        if isinstance(err, gexc.NotFound):
            return TrainerError("not_found", f"{uri} does not exist")
        if isinstance(err, gexc.PreconditionFailed):
            return TrainerError("already_exists", f"{uri} already exists (artifacts are create-only)")
        if isinstance(err, gexc.Forbidden):
            return TrainerError("invalid_argument", f"no permission to access {uri}")
        return TrainerError("unavailable", f"storage error on {uri}: {err}")

    def read_bytes(self, uri: str) -> bytes:
        try:
            data: bytes = self._blob(uri).download_as_bytes()
            return data
        except Exception as err:  # noqa: BLE001 - translated to a stable code
            raise self._translate(uri, err) from err

    def exists(self, uri: str) -> bool:
        return bool(self._blob(uri).exists())

    def generation(self, uri: str) -> str | None:
        blob = self._blob(uri)
        blob.reload()
        return str(blob.generation) if blob.generation is not None else None

    def upload_file(self, local: Path, uri: str, content_type: str | None = None) -> None:
        try:
            self._blob(uri).upload_from_filename(str(local), content_type=content_type or content_type_for(uri), if_generation_match=0)
        except Exception as err:  # noqa: BLE001
            raise self._translate(uri, err) from err

    def write_bytes(self, uri: str, data: bytes, content_type: str | None = None) -> None:
        try:
            self._blob(uri).upload_from_string(data, content_type=content_type or content_type_for(uri), if_generation_match=0)
        except Exception as err:  # noqa: BLE001
            raise self._translate(uri, err) from err

    def list_names(self, prefix: str) -> list[str]:
        _, bucket, name = split_uri(prefix)
        key = name.rstrip("/") + "/"
        blobs = self._client().list_blobs(bucket, prefix=key)
        return sorted(b.name[len(key):] for b in blobs)

    def download_file(self, uri: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._blob(uri).download_to_filename(str(local))
        except Exception as err:  # noqa: BLE001
            raise self._translate(uri, err) from err


_STORES: dict[str, ObjectStore] = {"file": FileStore(), "gs": GcsStore()}


def store_for(uri: str) -> ObjectStore:
    """The adapter for a URI's scheme; an unknown scheme lists the known ones."""
    scheme = split_uri(uri)[0]
    if scheme not in _STORES:
        raise TrainerError("invalid_argument", f"unsupported URI {uri!r}: expected one of {', '.join(KNOWN_SCHEMES)}")
    return _STORES[scheme]
