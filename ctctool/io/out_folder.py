"""The output folder of a corpus run: a local folder, or a folder on any file system pyarrow reaches by URI
(``s3://bucket/aligned``, ``gs://...``, ``hdfs://...``, ``file:///...``).

Every file goes in whole or not at all: on a local or HDFS file system through a temporary file and a rename,
on an object store as one object, which appears only once it is complete. Names are relative to the folder,
with ``/`` between parts (``scores/a.json``); a temporary file starts with ``.`` and is never listed.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Iterable

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(spec: str | os.PathLike) -> bool:
    """Whether ``spec`` names a folder by URI (``scheme://...``) rather than a local path."""
    return bool(_URI.match(str(spec)))


class LocalFolder:
    """A folder of this machine's file system (or one all workers share)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.path)!r})"

    def __reduce__(self):
        return LocalFolder, (str(self.path),)

    def where(self, name: str = "") -> str:
        """How messages name ``name`` in the folder (the folder itself for "")."""
        return str(self.path / name) if name else str(self.path)

    def local_path(self, name: str = "") -> Path | None:
        return self.path / name if name else self.path

    def check(self, label: str) -> None:
        """Before any work: the folder exists and can be written."""
        from ctctool.io.paths import check_output_folder

        check_output_folder(self.path, label)

    def exists(self, name: str) -> bool:
        return (self.path / name).is_file()

    def names(self) -> set[str]:
        """Every file in the folder and its subfolders, as relative names; temporary files left out."""
        found = set()
        for root, folders, files in os.walk(self.path):
            folders[:] = [f for f in folders if not f.startswith(".")]
            relative = os.path.relpath(root, self.path)
            for file in files:
                if not file.startswith("."):
                    found.add(file if relative == "." else f"{relative.replace(os.sep, '/')}/{file}")
        return found

    def read_bytes(self, name: str) -> bytes:
        from ctctool.io.text import read_bytes

        return read_bytes(self.path / name)

    def write_bytes(self, name: str, data: bytes) -> None:
        target = self.path / name
        if "/" in name:
            target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(target, "wb") as handle:
            handle.write(data)

    def remove(self, name: str) -> None:
        try:
            (self.path / name).unlink()
        except FileNotFoundError:
            pass


class ArrowFolder:
    """A folder on a file system that pyarrow opens by URI (the ray extra installs pyarrow)."""

    def __init__(self, uri: str):
        self.uri = str(uri).rstrip("/")
        try:
            from pyarrow import fs
        except ImportError:
            raise CtcToolError(f"{self.uri}: a folder named by URI needs pyarrow: pip install 'ctctool[ray]'") from None
        try:
            self.fs, self.base = fs.FileSystem.from_uri(self.uri)
        except (ValueError, OSError) as exc:
            raise CtcToolError(f"{self.uri}: pyarrow cannot open this URI ({_first_line(exc)}); expected a folder "
                               "such as s3://bucket/folder, gs://bucket/folder or file:///absolute/folder") from None
        self.base = self.base.rstrip("/")
        self._rename = self.fs.type_name in ("local", "hdfs")

    def __repr__(self) -> str:
        return f"ArrowFolder({self.uri!r})"

    def __reduce__(self):
        return ArrowFolder, (self.uri,)

    def where(self, name: str = "") -> str:
        return f"{self.uri}/{name}" if name else self.uri

    def local_path(self, name: str = "") -> Path | None:
        if self.fs.type_name != "local":
            return None
        return Path(self.base) / name if name else Path(self.base)

    def check(self, label: str) -> None:
        from pyarrow import fs

        info = self._info(self.base)
        if info.type == fs.FileType.File:
            raise CtcToolError(f"{label} {self.uri}: is a file; expected a folder")
        if info.type == fs.FileType.NotFound and self._rename:  # a local or HDFS folder: made if its parent is there
            parent = self.base.rsplit("/", 1)[0] if "/" in self.base.strip("/") else ""
            if parent and self._info(parent).type != fs.FileType.Directory:
                raise CtcToolError(f"{label} {self.uri}: folder {parent} does not exist; create it first")
            try:
                self.fs.create_dir(self.base, recursive=False)
            except OSError as exc:
                if self._info(self.base).type != fs.FileType.Directory:  # not a shard that made it first
                    raise CtcToolError(f"{label} {self.uri}: cannot make this folder ({_first_line(exc)})") from None
        probe = f".ctctool-probe-{uuid.uuid4().hex}"
        try:
            self.write_bytes(probe, b"")
            self.remove(probe)
        except OSError as exc:
            raise CtcToolError(f"{label} {self.uri}: cannot write there ({_first_line(exc)})") from None

    def exists(self, name: str) -> bool:
        from pyarrow import fs

        return self._info(f"{self.base}/{name}").type == fs.FileType.File

    def names(self) -> set[str]:
        from pyarrow import fs

        try:
            infos = self.fs.get_file_info(fs.FileSelector(self.base, recursive=True, allow_not_found=True))
        except OSError as exc:
            raise CtcToolError(f"{self.uri}: cannot list the folder ({_first_line(exc)})") from None
        start = len(self.base) + 1
        names = (info.path[start:] for info in infos if info.type == fs.FileType.File)
        return {name for name in names if not any(part.startswith(".") for part in name.split("/"))}

    def read_bytes(self, name: str) -> bytes:
        try:
            with self.fs.open_input_stream(f"{self.base}/{name}") as stream:
                return stream.read()
        except (OSError, FileNotFoundError) as exc:
            raise CtcToolError(f"{self.where(name)}: cannot read ({_first_line(exc)})") from None

    def write_bytes(self, name: str, data: bytes) -> None:
        target = f"{self.base}/{name}"
        folder, _, file = target.rpartition("/")
        self.fs.create_dir(folder, recursive=True)
        if not self._rename:  # an object store: the object appears once the stream is closed, whole
            with self.fs.open_output_stream(target) as stream:
                stream.write(data)
            return
        temporary = f"{folder}/.{file[:64]}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open_output_stream(temporary) as stream:
                stream.write(data)
            self.fs.move(temporary, target)
        except BaseException:
            try:
                self.fs.delete_file(temporary)
            except OSError:
                pass
            raise

    def remove(self, name: str) -> None:
        try:
            self.fs.delete_file(f"{self.base}/{name}")
        except (OSError, FileNotFoundError):
            pass

    def _info(self, path: str):
        try:
            return self.fs.get_file_info(path)
        except OSError as exc:
            raise CtcToolError(f"{self.uri}: cannot reach the folder ({_first_line(exc)})") from None


OutputFolder = LocalFolder | ArrowFolder


def output_folder(spec: str | os.PathLike | OutputFolder) -> OutputFolder:
    """The folder ``spec`` names: a URI opened with pyarrow, else a local path."""
    if isinstance(spec, (LocalFolder, ArrowFolder)):
        return spec
    return ArrowFolder(str(spec)) if is_uri(spec) else LocalFolder(spec)


def jsonl_bytes(rows: Iterable[dict]) -> bytes:
    """JSON lines (strict JSON, UTF-8) of ``rows``."""
    import json

    return "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in rows).encode("utf-8")


def _first_line(exc: BaseException) -> str:
    from ctctool.errors import first_line

    return first_line(exc)
