"""Next-edit suggestions (NES): after an edit, predict the next one, anywhere nearby.

The parts stand on their own and are pure where they can be:

- :mod:`weft.nes.history`: what the user changed, from ``didChange`` deltas, coalesced into the
  units a person thinks in, bounded in memory;
- :mod:`weft.nes.predict`: the model-free predictor (rename propagation, repeated call-site
  edits) on the syntax tree (:mod:`weft.nes.scopes`) and the workspace index;
- :mod:`weft.nes.prompts` / :mod:`weft.nes.parse`: prompts in the formats of the open next-edit
  models (Sweep Next-Edit, Zeta) and a generic chat prompt, and their answers parsed into edits;
- :mod:`weft.nes.protocol`: candidates as ``textDocument/copilotInlineEdit`` results, inline
  completion items and "Next edit: …" code actions.

Positions are character offsets (Python string indices) in one document snapshot; every
:class:`~weft.nes.candidate.Candidate` names the snapshot (and so the version) it was computed on.
"""
