"""The columns of a classifier's per-epoch history (results/models/<model>/history.parquet), torch-free for the
tables and figures that read it.

HISTORY_COLUMNS, then GROUP_COLUMNS where the run's label set has relabeled samples: those
memdissect.training.group_metrics computes."""

HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "grad_magnitude",
    "lr",
    "seconds",
    "images_per_second",
    "grad_mode",
    "device",
    "precision",
    "cuda_graph",
    "cuda_graph_note",
]
GROUP_COLUMNS = [
    "clean_train_acc",
    "relabeled_train_acc",
    "relabeled_true_class",
    "clean_grad_magnitude",
    "relabeled_grad_magnitude",
    "clean_samples",
    "relabeled_samples",
]
