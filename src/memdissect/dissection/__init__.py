"""The dissection itself: patterns, divergences on them, the Dist table, every pair evaluated in one pass, bootstrap
intervals, diagnostics of the patterns.

- diagnostics: Diagnostics of a pattern file: did the search reach its class, how far it moved, how alike and how
  natural the patterns are.
- diagnostics_table: Per f1, the summary of the diagnostics tables that `diagnostics.pattern_diagnostics` and
  `diagnostics.diversity_table` write.
- dist_table: Dist from the long table of divergences that `distance.pattern_divergence_table` writes: per start,
  and per pair with its relabeled reference.
- distance: Dist(f1, f2) = (1/C) sum_j KL(f1(x_j*) || f2(x_j*)), with reverse KL and Jensen-Shannon beside it, and
  the relabeled reference: the same KL against f2 with its classes relabeled.
- evaluation: Dist's rows for a whole study in one pass: each f2 on the patterns of every f1 it is paired with, and
  each f1's patterns through its untrained twin (a freshly initialized network of f1's architecture, width and
  classes: about log C when f1 is certain, a scale for Dist, not evidence).
- patterns: Pattern synthesis: for class j of f1, z* = argmax_z f1_j(G(z)) and x* = G(z*).
- statistics: Percentile-bootstrap confidence intervals for Dist: over pattern starts, and over seeds.
"""
