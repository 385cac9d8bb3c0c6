"""Wall times the GPU rules ask for (memdissect.study.resources), checked against minutes computed by hand.

minutes = ceil(10 + 3 * seconds_of_work / 60) * attempt, where the seconds of work are
1.5e-4 s per classifier image (a test image, or a pattern evaluated, a third of that), 2.0e-4 s
per DCGAN image and 4.0e-5 s per pattern step.
"""

import pytest

from memdissect.study import resources


def test_paper_scale_classifier():
    # 100 epochs x (50,000 + 10,000 / 3) images x 1.5e-4 s = 800 s; x 3 = 40 min; + 10 = 50
    assert resources.classifier_minutes(100, 50_000, 10_000) == 50


def test_paper_scale_dcgan():
    # 30 epochs x 50,000 images x 2.0e-4 s = 300 s; x 3 = 15 min; + 10 = 25
    assert resources.gan_minutes(30, 50_000) == 25


def test_paper_scale_pattern_search():
    # 10 classes x 100 starts x 1,000 iterations x 4.0e-5 s = 40 s; x 3 = 2 min; + 10 = 12
    assert resources.pattern_minutes(10, 100, 1000) == 12


def test_paper_scale_evaluation():
    # (16 pairs + 8 untrained twins) x 10 classes x 100 starts x 5.0e-5 s = 1.2 s; x 3 = 0.06 min; + 10, up: 11
    assert resources.evaluation_minutes(24 * 10 * 100) == 11
    # 40 models, all 1,560 ordered pairs and 40 twins on CIFAR-100: 1,600 x 100 x 100 x 5.0e-5 s = 800 s; + 10 = 50
    assert resources.evaluation_minutes(1600 * 100 * 100) == 50


def test_work_is_rounded_up_to_the_next_minute():
    # 25 epochs x (1,000 + 300 / 3) x 1.5e-4 s = 4.125 s; x 3 = 0.206 min; + 10, rounded up: 11
    assert resources.classifier_minutes(25, 1000, 300) == 11
    # 200 epochs x 50,000 x 2.0e-4 s = 2,000 s; x 3 = 100 min; + 10 = 110
    assert resources.gan_minutes(200, 50_000) == 110
    assert resources.wall_minutes(0) == 10


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_each_attempt_asks_for_that_multiple(attempt):
    assert resources.classifier_minutes(100, 50_000, 10_000, attempt) == 50 * attempt
    assert resources.gan_minutes(30, 50_000, attempt) == 25 * attempt
    assert resources.pattern_minutes(10, 100, 1000, attempt) == 12 * attempt
    assert resources.evaluation_minutes(24 * 10 * 100, attempt) == 11 * attempt


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_count_from_one(attempt):
    with pytest.raises(ValueError, match=f"attempt counts from 1, got {attempt}"):
        resources.wall_minutes(60, attempt)
    with pytest.raises(ValueError):
        resources.classifier_minutes(100, 50_000, 10_000, attempt)


def test_minutes_are_whole_numbers_for_the_scheduler():
    assert isinstance(resources.classifier_minutes(3, 200, 100), int)
    assert isinstance(resources.pattern_minutes(10, 2, 5, attempt=2), int)
