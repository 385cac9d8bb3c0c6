import dataclasses
import math

import pandas as pd
import pytest
import torch
from hand_made import hand_made_patterns

from memdissect.dissection.diagnostics import diversity_table, pattern_diagnostics
from memdissect.dissection.diagnostics_table import summarize_diagnostics
from memdissect.models.dcgan import Discriminator

C, S, D = 3, 4, 100


@pytest.fixture
def patterns():
    """A hand-made pattern file: C = 3 classes, S = 4 starts, latent size 100."""
    generator = torch.Generator().manual_seed(0)
    z0 = torch.randn(S, D, generator=generator).expand(C, S, D).clone()
    z = z0.clone()
    z[1, 2, :4] += torch.tensor([3.0, 0.0, 0.0, 4.0])  # class 1, start 2 moved by 5
    logits = torch.zeros(C, S, C)
    logits[0, :, 0] = math.log(3.0)  # class 0: hit everywhere, confidence 3 / (3 + 1 + 1)
    logits[1, :, 2] = 1.0  # class 1: always predicted as class 2, a miss
    logits[2, 0, 2] = 5.0  # class 2: hit at start 0 only
    x = torch.rand(C, S, 3, 32, 32, generator=generator)
    x[2] = x[2, 0]  # class 2: four identical patterns
    return hand_made_patterns(
        x=x, logits=logits, z0=z0, z=z, x0=torch.rand(C, S, 3, 32, 32, generator=generator)
    )


@pytest.fixture
def discriminator():
    torch.manual_seed(0)
    return Discriminator(width=0.125).eval()


def test_diagnostics_columns_hits_and_confidence(patterns, discriminator):
    table = pattern_diagnostics(patterns, discriminator, "cpu")
    assert list(table.columns) == [
        "class",
        "start",
        "hit",
        "confidence",
        "z_moved",
        "z0_norm",
        "z_norm",
        "discriminator_score",
    ]
    assert len(table) == C * S
    table = table.set_index(["class", "start"])
    assert table.loc[0, "hit"].all() and not table.loc[1, "hit"].any()
    assert table.loc[2, "hit"].tolist() == [
        True,
        False,
        False,
        False,
    ]  # ties at start 1-3 go to class 0
    assert table.loc[0, "confidence"].tolist() == pytest.approx([0.6] * S)
    assert table.loc[(1, 0), "confidence"] == pytest.approx(1 / (2 + math.e))
    assert table.loc[(2, 1), "confidence"] == pytest.approx(1 / 3)


def test_latent_movement_by_hand(patterns, discriminator):
    table = pattern_diagnostics(patterns, discriminator, "cpu").set_index(["class", "start"])
    moved = table["z_moved"]
    assert moved.loc[(1, 2)] == pytest.approx(5.0)
    assert (moved.drop((1, 2)) == 0).all()
    z0 = patterns.z0.double()
    assert table.loc[(0, 3), "z0_norm"] == pytest.approx(z0[0, 3].norm().item())
    moved_z = z0[1, 2].clone()
    moved_z[:4] += torch.tensor([3.0, 0.0, 0.0, 4.0], dtype=torch.float64)
    assert table.loc[(1, 2), "z_norm"] == pytest.approx(moved_z.norm().item())
    assert table.loc[(1, 2), "z_norm"] != pytest.approx(table.loc[(1, 2), "z0_norm"])


def test_discriminator_score_is_the_probability_on_the_gan_range(patterns, discriminator):
    table = pattern_diagnostics(patterns, discriminator, "cpu").set_index(["class", "start"])
    with torch.no_grad():
        by_hand = torch.sigmoid(discriminator(patterns.x[1, 3:4] * 2 - 1)).item()
        on_pixel_range = torch.sigmoid(discriminator(patterns.x[1, 3:4])).item()
    assert table.loc[(1, 3), "discriminator_score"] == pytest.approx(by_hand, abs=1e-6)
    assert by_hand != pytest.approx(on_pixel_range, abs=1e-6)  # the mapping matters
    assert table["discriminator_score"].between(0, 1).all()


def test_diversity_is_zero_for_identical_patterns_and_an_rms_distance_otherwise(patterns):
    table = diversity_table(patterns)
    assert list(table.columns) == ["class", "diversity", "start_diversity"]
    assert table.loc[2, "diversity"] == 0.0
    # two uniform images differ by an RMS of sqrt(1/6) in expectation
    assert table.loc[0, "diversity"] == pytest.approx(math.sqrt(1 / 6), rel=0.02)
    constant = dataclasses.replace(patterns, x=torch.zeros(C, S, 3, 32, 32))
    constant.x[0, 1] = (
        1.0  # class 0: images 0, 1, 0, 0; 6 of the 12 ordered pairs differ by an RMS of 1
    )
    assert diversity_table(constant).loc[0, "diversity"] == pytest.approx(6 / 12)


def test_summary_per_f1(patterns, discriminator):
    table = pattern_diagnostics(patterns, discriminator, "cpu").assign(f1="m")
    diversity = diversity_table(patterns).assign(f1="m")
    summary = summarize_diagnostics(table).iloc[0]
    assert summary["hit_rate"] == pytest.approx(5 / 12)
    assert summary["z_moved_mean"] == pytest.approx(5 / 12)
    assert summary["confidence_mean"] == pytest.approx(table["confidence"].mean())
    assert summarize_diagnostics(diversity).iloc[0]["diversity_mean"] == pytest.approx(
        diversity["diversity"].mean()
    )
    two = summarize_diagnostics(pd.concat([table, table.assign(f1="n", hit=True)]))
    assert two["f1"].tolist() == ["m", "n"] and two["hit_rate"].tolist() == pytest.approx(
        [5 / 12, 1.0]
    )
