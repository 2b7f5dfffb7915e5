"""weft's own checks: the project's real checkers run on the open document, in the background.

``runner`` runs one checker process (bounded, cancellable; the only place a checker process
starts), ``checkers`` knows each tool (when it is present, its argv, how to read its output),
``syntax`` finds tree-sitter syntax errors in-process, ``service`` schedules runs per document
(after a pause in typing, a newer version cancelling an older run) and keeps the findings,
``feature`` wires it into the server: the document listener, the ``weft/clientDiagnostics``
notification and, when ``checks.publish`` is on, ``textDocument/publishDiagnostics``.
"""
