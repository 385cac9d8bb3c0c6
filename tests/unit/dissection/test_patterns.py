"""Pattern synthesis: every objective and latent constraint of the schema, divergence, the pattern file and what
it records, the ascent replayed as a graph (emulated on a CPU; for real with `pytest -m cuda`)."""

import copy

import pytest
import torch
import yaml

from memdissect.dissection.patterns import (
    NonFiniteObjectiveError,
    chunks_status,
    class_objective,
    constrain_latents,
    read_pattern_file,
    synthesize_patterns,
    write_pattern_file,
)
from memdissect.io import ArtifactError, save_torch
from memdissect.study.settings import ClassifierSettings, GanSettings, PatternSettings
from memdissect.training import runtime
from memdissect.training.gan import build_gan
from memdissect.training.train import build_classifier

CLASSIFIER = ClassifierSettings(arch="vgg11", width=0.125, num_classes=3)


def quiet(*_):
    pass


def schema_enum(repo, key):
    schema = yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return schema["properties"]["patterns"]["properties"][key]["enum"]


@pytest.fixture(scope="module")
def networks():
    generator, _ = build_gan(GanSettings(width=0.125), "cpu")
    return build_classifier(CLASSIFIER, "cpu"), generator


def test_every_objective_of_the_schema_is_its_own_function(repo):
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    target = torch.tensor([0, 1])
    values = {
        objective: class_objective(logits, target, objective)
        for objective in schema_enum(repo, "objective")
    }
    torch.testing.assert_close(values["logit"], torch.tensor([2.0, 1.5]))
    torch.testing.assert_close(values["log_softmax"], torch.log_softmax(logits, 1)[[0, 1], [0, 1]])
    torch.testing.assert_close(values["softmax"], torch.softmax(logits, 1)[[0, 1], [0, 1]])


def test_every_latent_constraint_of_the_schema(repo):
    z = torch.tensor([[4.0, -5.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    constrained = {}
    for constraint in schema_enum(repo, "latent_constraint"):
        constrained[constraint] = z.clone()
        constrain_latents(constrained[constraint], constraint)
    torch.testing.assert_close(constrained["none"], z)
    assert constrained["clamp"].abs().max() == 3.0 and constrained["clamp"][1].equal(z[1])
    torch.testing.assert_close(
        constrained["sphere"].norm(dim=1), torch.full((2,), 2.0)
    )  # sqrt(D), D = 4


def test_every_optimizer_of_the_schema_moves_z_its_own_way(repo, networks):
    found = {}
    for optimizer in schema_enum(repo, "optimizer"):
        settings = PatternSettings(starts=2, iterations=3, optimizer=optimizer, chunk_size=4)
        found[optimizer] = synthesize_patterns(*networks, 3, settings, "cpu", log=quiet)
        assert found[optimizer].z.shape == (3, 2, 100) and found[optimizer].x.shape == (
            3,
            2,
            3,
            32,
            32,
        )
        assert not found[optimizer].z.equal(found[optimizer].z0)
    assert set(found) == {"sgd", "adam"} and not found["sgd"].z.equal(found["adam"].z)


# The graph path on a CPU: runtime.CUDA_GRAPHS emulated (tests/conftest.py), each replay an eager step.

SEARCH = PatternSettings(
    starts=2, iterations=8, chunk_size=4, precision="fp32"
)  # 6 rows: chunks of 4 and 2


def test_the_replayed_ascent_checks_its_first_replay_and_finds_the_eager_latents(
    networks, emulated_graphs
):
    lines = []
    graphed = synthesize_patterns(*networks, 3, SEARCH, "cpu", log=lines.append)
    eager = synthesize_patterns(*networks, 3, SEARCH, "cpu", log=quiet, cuda_graphs=False)
    assert graphed.z.equal(eager.z) and graphed.objective_trace.equal(eager.objective_trace)
    assert graphed.cuda_graph == "replayed" and not any("eagerly" in line for line in lines)
    assert graphed.cuda_graph_note == "first replay within 0 of the eager step (tolerance 0.001)"


def test_an_ascent_whose_first_replay_is_off_goes_on_eagerly_to_the_eager_latents(
    networks, graphs_a_step_off
):
    lines = []
    graphed = synthesize_patterns(*networks, 3, SEARCH, "cpu", log=lines.append)
    eager = synthesize_patterns(*networks, 3, SEARCH, "cpu", log=quiet, cuda_graphs=False)
    assert graphed.z.equal(eager.z) and graphed.objective_trace.equal(eager.objective_trace)
    fallbacks = [line for line in lines if "eagerly" in line]
    assert len(fallbacks) == 2 and fallbacks[0].startswith(
        "searching eagerly: its first replay differs from the eager step by "
    )  # each chunk checks its own graph
    assert (
        graphed.cuda_graph == "eager" and graphed.cuda_graph_note == fallbacks[0].split(": ", 1)[1]
    )


def test_one_status_for_the_chunks_of_a_search():
    replayed, eager = (
        runtime.GraphStatus("replayed", "first replay within 0"),
        runtime.GraphStatus("eager", "off"),
    )
    assert (
        chunks_status([replayed, replayed]) == replayed and chunks_status([eager, eager]) == eager
    )
    assert chunks_status([replayed, eager, replayed]) == runtime.GraphStatus(
        "eager", "2 of 3 chunks replayed; then off"
    )


@pytest.mark.cuda
@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_on_cuda_the_ascent_replays_checked_in_either_precision(networks, precision):
    """bf16 (what auto gives on a GPU of compute capability 8.0 or newer) under capture, and fp32 as IEEE fp32."""
    classifier, generator = (copy.deepcopy(network).to("cuda") for network in networks)
    settings = PatternSettings(starts=4, iterations=12, chunk_size=6, precision=precision)
    graphed = synthesize_patterns(classifier, generator, 3, settings, "cuda", log=quiet)
    eager = synthesize_patterns(
        classifier, generator, 3, settings, "cuda", log=quiet, cuda_graphs=False
    )
    assert graphed.cuda_graph == "replayed", graphed.cuda_graph_note
    assert graphed.precision == precision and graphed.logits_precision == "fp32"
    tolerance = {"bf16": (2e-2, 2e-3), "fp32": (1e-4, 1e-5)}[precision]
    assert torch.allclose(graphed.z, eager.z, *tolerance)


@pytest.mark.cuda
def test_on_cuda_the_replayed_ascent_finds_the_eager_ascents_latents_and_the_same_bytes_twice(
    networks,
):
    classifier, generator = (copy.deepcopy(network).to("cuda") for network in networks)
    settings = PatternSettings(starts=4, iterations=12, chunk_size=6, precision="fp32")
    graphed, again, eager = (
        synthesize_patterns(
            classifier, generator, 3, settings, "cuda", log=quiet, cuda_graphs=graphs
        )
        for graphs in (True, True, False)
    )
    assert graphed.z.equal(again.z) and graphed.objective_trace.equal(again.objective_trace)
    assert torch.allclose(graphed.z, eager.z, rtol=1e-4, atol=1e-5)
    assert torch.allclose(graphed.objective_trace, eager.objective_trace, rtol=1e-4, atol=1e-5)


def test_nan_objective_stops_pattern_search_naming_the_iteration(networks):
    classifier, generator = (
        build_classifier(ClassifierSettings(arch="vgg11", width=0.125), "cpu"),
        networks[1],
    )
    with torch.no_grad():
        classifier.classifier.bias.fill_(float("nan"))
    with pytest.raises(NonFiniteObjectiveError, match="iteration 0"):
        synthesize_patterns(
            classifier, generator, 10, PatternSettings(starts=2, iterations=3), "cpu", log=quiet
        )


def test_pattern_file_layout_and_load(tmp_path, networks):
    settings = PatternSettings(starts=1, iterations=2, chunk_size=2)
    patterns = synthesize_patterns(*networks, 3, settings, "cpu", log=quiet)
    assert list(patterns.to_dict()) == [
        "format",
        "settings",
        "z0",
        "z",
        "x",
        "x0",
        "logits",
        "objective_trace",
        "objective_start",
        "objective_end",
        "precision",
        "logits_precision",
        "cuda_graph",
        "cuda_graph_note",
        "classes",
    ]
    assert (
        patterns.to_dict()["format"] == "memdissect-patterns-v1"
        and patterns.settings == settings.__dict__
    )
    assert (
        patterns.precision in ("fp32", "bf16") and patterns.logits_precision == "fp32"
    )  # what ran
    assert (patterns.cuda_graph, patterns.cuda_graph_note) == (
        "not applicable",
        "CUDA graphs run on CUDA only",
    )
    write_pattern_file(patterns, tmp_path / "patterns.pt")
    again = read_pattern_file(tmp_path / "patterns.pt", made_by="synthesize_patterns")
    assert again.x.equal(patterns.x) and again.classes is None
    assert list(again.to_dict()) == list(patterns.to_dict())


def test_a_pattern_file_lacking_a_field_is_refused_naming_it(tmp_path, networks):
    patterns = synthesize_patterns(*networks, 3, PatternSettings(starts=1, iterations=2), "cpu")
    stored = patterns.to_dict()
    del stored["logits"], stored["precision"]  # a tensor and a record
    save_torch(stored, tmp_path / "patterns.pt")
    with pytest.raises(
        ArtifactError, match=r"patterns.pt lacks logits; a pattern file holds settings, z0"
    ):
        read_pattern_file(tmp_path / "patterns.pt")
    del stored["logits_precision"], stored["cuda_graph"], stored["cuda_graph_note"]
    stored["logits"] = patterns.logits  # as written before the records were kept
    save_torch(stored, tmp_path / "patterns.pt")
    assert read_pattern_file(tmp_path / "patterns.pt").precision is None


def test_truncated_or_foreign_pattern_file_names_the_file_and_rule(tmp_path):
    patterns = tmp_path / "patterns.pt"
    save_torch({"format": "memdissect-patterns-v1", "x": torch.zeros(1)}, patterns)
    broken = tmp_path / "broken-patterns.pt"
    broken.write_bytes(patterns.read_bytes()[: patterns.stat().st_size // 2])
    with pytest.raises(
        ArtifactError, match=r"broken-patterns.pt.*truncated.*rule 'synthesize_patterns'"
    ):
        read_pattern_file(broken, made_by="synthesize_patterns")
    save_torch({"format": "memdissect-classifier-v1"}, patterns)
    with pytest.raises(
        ArtifactError,
        match=r"patterns.pt is not a memdissect pattern file \(made by rule "
        r"'synthesize_patterns'\); delete it and rerun",
    ):
        read_pattern_file(patterns, made_by="synthesize_patterns")
