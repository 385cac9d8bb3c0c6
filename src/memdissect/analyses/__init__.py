"""The analyses beside Dist: cross-checks on natural images, the hunting stage, learn then memorize, paths in
function space, the lookup table of pure memorization.

- crosscheck: Cross-checks of two classifiers on the test images, beside Dist on the patterns.
- function_paths: Paths in function space: each run's predictions on a fixed probe set, epoch by epoch, and how far
  the paths of two seeds lie apart.
- function_paths_summary: Paths in function space, summarized: the seeds' divergence per epoch and along the whole
  run, with bootstrap intervals over seed pairs, and the spread of the epoch at which the runs fit their labels.
- learning_order_summary: Learn, then memorize, from the histories: when each group of samples is fitted, and what
  the summary says.
- lookup_table: A lookup table as the reference of pure memorization: a k-nearest-neighbour classifier of one
  condition, usable wherever an f2 is.
- lookup_table_summary: The lookup table beside the networks in Dist, as the summary states it.
- stages: The hunting stage: G falls while train accuracy is still near chance; fitting starts as G rises.
"""
