"""The workspace as the predictor sees it: open documents first, files on disk through the
workspace index (so a file the index excludes — ignored, private, too big — is never read)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

from weft.documents import UTF16, Document
from weft.index.workspace import WorkspaceIndex

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024
"""Closed files bigger than this are not read."""


class IndexProject:
    """:class:`weft.nes.rename.Project` over a :class:`WorkspaceIndex` and the open documents."""

    def __init__(
        self,
        index: WorkspaceIndex,
        documents: Mapping[str, Document],
        encoding: str = UTF16,
    ) -> None:
        self.index = index
        self.documents = documents
        self.encoding = encoding

    def document(self, uri: str) -> Document | None:
        open_document = self.documents.get(uri) or self._open_by_path(uri)
        if open_document is not None:
            return open_document
        rel = self._rel(uri)
        if rel is None or self.index.file_language(rel) is None:
            return None
        path = self.index.root / rel
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return None
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            logger.debug("next edit: cannot read %s: %s", path, exc)
            return None
        return Document(uri, text, None, "", self.encoding)

    def importers(self, uri: str) -> list[str]:
        rel = self._rel(uri)
        return [self._uri(path) for path in self.index.importers_of(rel)] if rel else []

    def import_sources(self, uri: str, name: str) -> list[str]:
        rel = self._rel(uri)
        if rel is None:
            return []
        return [
            self._uri(path)
            for imported in self.index.imports_of(rel)
            if name in imported.names
            for path in imported.paths
        ]

    def _open_by_path(self, uri: str) -> Document | None:
        """The open document of the same file under another spelling of its URI."""
        rel = self._rel(uri)
        if rel is None:
            return None
        return next((d for d in self.documents.values() if self._rel(d.uri) == rel), None)

    def _rel(self, uri: str) -> str | None:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return self.index.rel(path) if path else None

    def _uri(self, rel: str) -> str:
        return from_fs_path(str(Path(self.index.root) / rel)) or rel
