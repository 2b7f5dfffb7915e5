"""weft: an editor language server that brings AI completion and verified agent edits into any LSP editor."""

__version__ = "0.1.0"
