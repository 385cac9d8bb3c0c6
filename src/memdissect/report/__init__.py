"""What a study shows: the figures in the project's one style, summary.md, the figures of the other claims.

- claims_figures: The figures of the paper's other claims: learn then memorize (per noise level) and paths in
  function space (per model group).
- figures: Figures 1-5 of the paper, in one matplotlib style, saved without timestamps.
- summary: results/summary.md: the study's numbers beside the paper's.
"""
