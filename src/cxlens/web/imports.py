"""Imports started from the web app: uploads kept under ``<workspace>.uploads/``, a preview with a
guessed column mapping, and import jobs run on a worker thread whose progress pages poll.

Each upload and job belongs to the person who made it: another user cannot preview, run or read
it, even with its id (ids are random, but guessing is not the only way ids leak).
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cxlens.errors import CxLensError, InvalidInput, NotFound, PayloadTooLarge
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_file
from cxlens.storage.store import Store

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
SUFFIXES = (".csv", ".csv.gz", ".tsv", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet")
_CHUNK = 1 << 20


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
    def __init__(self, store: Store, folder: Path, *, max_bytes: int) -> None:
        self._store = store
        self._folder = folder
        self._max_bytes = max_bytes
        self._uploads: dict[str, Upload] = {}
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def save(self, stream: BinaryIO, filename: str, owner: str) -> Upload:
        """Copy an uploaded file to disk, refusing it past the size limit (nothing half-kept)."""
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
        with self._lock:
            found = self._uploads.get(upload_id)
        if found is None or found.owner != owner:
            raise NotFound("No such upload (uploads are kept until the server restarts).")
        return found

    def start(self, upload: Upload, entity: str, options: ImportOptions) -> ImportJob:
        job = ImportJob(secrets.token_urlsafe(16), upload.owner, entity, upload.filename)
        with self._lock:
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
            with self._lock:
                self._uploads.pop(upload.id, None)
            shutil.rmtree(upload.path.parent, ignore_errors=True)
