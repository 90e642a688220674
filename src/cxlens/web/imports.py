"""Imports started from the web app: uploads kept under ``<workspace>.uploads/``, a preview with a
guessed column mapping, and import jobs run on a worker thread whose progress pages poll.

Each upload and job belongs to the person who made it: another user cannot preview, run or read
it, even with its id (ids are random, but guessing is not the only way ids leak).

The list of uploads lives in memory, so a file previewed but never imported would stay on disk
forever: at start every upload folder left by an earlier process is deleted (nothing can reach
it any more), and uploads older than ``max_age`` are deleted whenever another one is saved or used.
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from cxlens.errors import CxLensError, InvalidInput, NotFound, PayloadTooLarge
from cxlens.ingest import ImportOptions, import_file
from cxlens.storage.store import Store

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
SUFFIXES = (".csv", ".csv.gz", ".tsv", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet")
_CHUNK = 1 << 20
_UPLOAD_DIR = re.compile(r"[0-9a-f]{16}")  # the random folder each upload is saved in


@dataclass(frozen=True)
class Upload:
    id: str
    owner: str
    filename: str
    path: Path


@dataclass
class ImportJob:
    id: str
    owner: str
    entity: str
    filename: str
    state: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    report: dict[str, Any] | None = None
    error: str | None = None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


def safe_filename(name: str) -> str:
    """The upload's base name with anything unusual replaced: never a path, never hidden."""
    base = _SAFE_NAME.sub("_", Path(name or "upload").name).lstrip(".")
    return base[:120] or "upload"


class ImportJobs:
    def __init__(
        self, store: Store, folder: Path, *, max_bytes: int, max_age: timedelta = timedelta(hours=24)
    ) -> None:
        self._store = store
        self._folder = folder
        self._max_bytes = max_bytes
        self._max_age = max_age
        self._uploads: dict[str, Upload] = {}
        self._running: set[Path] = set()  # upload folders an import is reading: never swept
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()
        self._sweep(older_than=None)  # what an earlier process left: no index points to it now

    def sweep(self) -> int:
        """Delete uploads older than ``max_age`` that no import is reading; returns how many."""
        return self._sweep(older_than=time.time() - self._max_age.total_seconds())

    def _sweep(self, *, older_than: float | None) -> int:
        if not self._folder.is_dir():
            return 0
        with self._lock:
            stale = [
                d
                for d in self._folder.iterdir()
                if d.is_dir()
                and _UPLOAD_DIR.fullmatch(d.name)
                and d not in self._running
                and (older_than is None or d.stat().st_mtime < older_than)
            ]
            for folder in stale:
                shutil.rmtree(folder, ignore_errors=True)
            self._uploads = {k: u for k, u in self._uploads.items() if u.path.parent not in stale}
        return len(stale)

    def save(self, stream: BinaryIO, filename: str, owner: str) -> Upload:
        """Copy an uploaded file to disk, refusing it past the size limit (nothing half-kept)."""
        self.sweep()
        name = safe_filename(filename)
        if not name.lower().endswith(SUFFIXES):
            raise InvalidInput(f"{name}: upload a CSV, JSON Lines or Parquet file ({', '.join(SUFFIXES)}).")
        upload = Upload(secrets.token_urlsafe(16), owner, name, self._folder / secrets.token_hex(8) / name)
        upload.path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with upload.path.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                if written > self._max_bytes:
                    out.close()
                    shutil.rmtree(upload.path.parent, ignore_errors=True)
                    raise PayloadTooLarge(
                        f"{name} is larger than the upload limit ({self._max_bytes >> 20} MB)."
                    )
                out.write(chunk)
        with self._lock:
            self._uploads[upload.id] = upload
        return upload

    def upload(self, upload_id: str, owner: str) -> Upload:
        self.sweep()
        with self._lock:
            found = self._uploads.get(upload_id)
        if found is None or found.owner != owner:
            hours = self._max_age.total_seconds() / 3600
            raise NotFound(
                f"No such upload (an upload is kept for {hours:g} hours, until it is imported, "
                "or until the server restarts): upload the file again."
            )
        return found

    def start(self, upload: Upload, entity: str, options: ImportOptions) -> ImportJob:
        job = ImportJob(secrets.token_urlsafe(16), upload.owner, entity, upload.filename)
        with self._lock:
            if self._uploads.pop(upload.id, None) is None:  # already started (a double submit)
                raise NotFound("This upload is already being imported or is gone: upload the file again.")
            self._running.add(upload.path.parent)
            self._jobs[job.id] = job
        threading.Thread(
            target=self._run, args=(job, upload, options), name=f"import-{job.id[:6]}", daemon=True
        ).start()
        return job

    def job(self, job_id: str, owner: str) -> ImportJob:
        with self._lock:
            found = self._jobs.get(job_id)
        if found is None or found.owner != owner:
            raise NotFound("No such import.")
        return found

    def _run(self, job: ImportJob, upload: Upload, options: ImportOptions) -> None:
        try:
            report = import_file(self._store, job.entity, upload.path, options=options, progress=job.progress)
        except CxLensError as error:
            job.error, job.state = error.message, "failed"
        except Exception as error:
            job.error, job.state = f"The import stopped unexpectedly: {type(error).__name__}.", "failed"
        else:
            job.report, job.state = report.to_dict(), "done"
        finally:  # the rows are in the workspace (or refused): the uploaded copy is not kept
            shutil.rmtree(upload.path.parent, ignore_errors=True)
            with self._lock:
                self._running.discard(upload.path.parent)
