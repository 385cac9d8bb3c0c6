"""What a GPU job of the study asks its scheduler for: one GPU, host CPUs, memory, wall time.

Wall times follow the work a job does at the configured scale, with a margin, and grow with
the attempt, so that a retry after a wall-time kill asks for more. The rates are those of a
modest data-centre GPU (about four times slower than an H100 with memdissect's trainer), so
that faster GPUs finish well inside the request:

- a classifier training step: CLASSIFIER_SECONDS_PER_IMAGE per image and epoch at width 1,
  plus a test-set pass each epoch;
- a DCGAN step (generator and discriminator): GAN_SECONDS_PER_IMAGE per image and epoch;
- pattern search: PATTERN_SECONDS_PER_STEP per (class, start, iteration) through the
  generator and the classifier;
- evaluation on patterns: EVALUATION_SECONDS_PER_ROW per pattern (class, start) and network
  it goes through, a classifier's forward pass (a test image's cost in training).

Each estimate is multiplied by MARGIN, then STARTUP_MINUTES are added for start-up, data
loading and checkpoints.
"""

import math

CLASSIFIER_SECONDS_PER_IMAGE = 1.5e-4
GAN_SECONDS_PER_IMAGE = 2.0e-4
PATTERN_SECONDS_PER_STEP = 4.0e-5
EVALUATION_SECONDS_PER_ROW = CLASSIFIER_SECONDS_PER_IMAGE / 3
MARGIN = 3.0
STARTUP_MINUTES = 10


def wall_minutes(seconds_of_work: float, attempt: int = 1) -> int:
    """Minutes to ask for: the work with its margin plus start-up, times the attempt (1, 2, ...)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt!r}")
    return int(math.ceil(STARTUP_MINUTES + MARGIN * seconds_of_work / 60)) * attempt


def classifier_minutes(epochs: int, train_images: int, test_images: int, attempt: int = 1) -> int:
    """Wall time of one classifier: `epochs` over the training set, each with one pass over the
    test set (a third of a training step's cost per image)."""
    images_per_epoch = train_images + test_images / 3
    return wall_minutes(epochs * images_per_epoch * CLASSIFIER_SECONDS_PER_IMAGE, attempt)


def gan_minutes(epochs: int, train_images: int, attempt: int = 1) -> int:
    return wall_minutes(epochs * train_images * GAN_SECONDS_PER_IMAGE, attempt)


def pattern_minutes(classes: int, starts: int, iterations: int, attempt: int = 1) -> int:
    return wall_minutes(classes * starts * iterations * PATTERN_SECONDS_PER_STEP, attempt)


def evaluation_minutes(rows: int, attempt: int = 1) -> int:
    """Wall time of the evaluation job: `rows` patterns, each counted once per network it goes through."""
    return wall_minutes(rows * EVALUATION_SECONDS_PER_ROW, attempt)
