"""File-digest deploys: what ``netlify deploy --dir DIR`` sends, file by file.

netlify-cli (netlify/cli ``src/commands/deploy/deploy.ts`` and ``src/utils/deploy/``)
creates the deploy (``createSiteDeploy``), then PUTs the digest of the folder
(``updateSiteDeploy`` with ``files: {"/path": sha1}``, ``deploy-site.ts``), uploads each
file Netlify lists in ``required`` (``uploadDeployFile``: ``PUT
/deploys/{id}/files/{path}``, ``upload-files.ts``) and polls ``getSiteDeploy`` until
``ready`` (``waitForDeploy`` in ``util.ts``; ``uploading``, ``uploaded``, ``prepared``
are not ready yet). ``FileDigest`` is the bookkeeping of one such deploy: which paths
it holds, under which SHA-1, and which contents Netlify still lacks. Netlify
deduplicates by content: a SHA-1 is required once however many paths share it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from fakes.netlify.errors import NotFound, Unprocessable

_SHA1 = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class FileDigest:
    """One deploy's files (path → SHA-1) and the contents received so far."""

    files: dict[str, str]
    received: set[str] = field(default_factory=set)

    @property
    def required(self) -> list[str]:
        """SHA-1s still to upload, each once, in path order."""
        return list(dict.fromkeys(sha for _, sha in sorted(self.files.items())
                                  if sha not in self.received))

    def receive(self, path: str, content: bytes) -> dict[str, Any]:
        """Take the upload of ``path``; returns the file record Netlify answers.

        Raises NotFound (a path not in the digest) or Unprocessable (content whose SHA-1
        is not the digest's)."""
        path = normalise(path)
        if path not in self.files:
            raise NotFound(f"File {path} is not part of this deploy")
        sha = hashlib.sha1(content).hexdigest()
        if sha != self.files[path]:
            raise Unprocessable(f"File {path} does not match its SHA-1 in the deploy digest")
        self.received.add(sha)
        return {"id": path, "path": path, "sha": sha, "size": len(content),
                "mime_type": "application/octet-stream"}


def parse_digest(body: Any) -> FileDigest:
    """The ``files`` of an ``updateSiteDeploy`` body; raises Unprocessable."""
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not all(
            isinstance(p, str) and isinstance(s, str) and _SHA1.match(s)
            for p, s in files.items()):
        raise Unprocessable("files must be an object of path → SHA-1 (40 hex digits)")
    if body.get("functions") not in (None, {}) or body.get("edge_functions") not in (None, {}):
        raise Unprocessable("function uploads are not supported by this fake")
    return FileDigest({normalise(p): s for p, s in files.items()})


def normalise(path: str) -> str:
    """``index.html`` and ``/index.html`` name the same file."""
    return "/" + path.lstrip("/")
