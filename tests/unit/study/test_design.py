import pytest
import yaml

from memdissect.study import design


@pytest.fixture
def paper_config(repo):
    return yaml.safe_load((repo / "config" / "config.yaml").read_text())


def test_paper_config_expands_to_the_study(paper_config):
    classifiers = design.expand_classifiers(paper_config)
    assert (
        len(classifiers) == 20 + 12 + 4 + 4
    )  # Fig. 4 seeds, Fig. 5 pairs and ablations, VGG13, ResNet32
    assert "true_labels-vgg11-s1" in classifiers and "random_labels-resnet32-s1" in classifiers
    vgg = classifiers["true_labels-vgg11-s1"]
    assert (
        vgg.noise == 0.0 and vgg.settings["weight_decay"] == 1e-4 and vgg.settings["epochs"] == 100
    )
    assert classifiers["random_labels-vgg11-s1"].settings["weight_decay"] == 0.0
    assert classifiers["random_labels_aug-vgg13-s1"].settings["augment"] is True
    noise_levels = {c.noise for c in classifiers.values() if c.network in ("vgg11-s1", "vgg11-s2")}
    assert noise_levels == {0.0, 0.2, 0.4, 0.6, 0.8, 1.0}


def test_paper_pairs_are_the_reference_against_each_compared_network(paper_config):
    classifiers = design.expand_classifiers(paper_config)
    pairs = design.dissection_pairs(paper_config, classifiers)
    assert ("true_labels-vgg11-s1", "true_labels-resnet32-s1") in pairs
    assert ("noise0.4-vgg11-s1", "noise0.4-vgg11-s2") in pairs
    assert ("noise0.4-vgg11-s1", "noise0.4-vgg13-s1") not in pairs  # never trained
    assert len(pairs) == 4 * 3 + 4  # four conditions with all three f2, four noise levels with one
    assert len(design.pattern_sources(pairs)) == 8


def test_group_overrides_condition_overrides_training(paper_config):
    paper_config["conditions"]["random_labels"]["epochs"] = 7
    paper_config["models"][3]["epochs"] = 3  # the resnet32 group
    classifiers = design.expand_classifiers(paper_config)
    assert classifiers["random_labels-vgg11-s1"].settings["epochs"] == 7
    assert classifiers["random_labels-resnet32-s1"].settings["epochs"] == 3
    assert classifiers["true_labels-vgg11-s1"].settings["epochs"] == 100


def test_repeated_model_id_is_refused(paper_config):
    paper_config["models"].append({"arch": "vgg13", "seeds": [1], "conditions": ["true_labels"]})
    with pytest.raises(
        ValueError,
        match=r"models\[4\]: the model id 'true_labels-vgg13-s1' is taken by another model",
    ):
        design.expand_classifiers(paper_config)


def test_all_pairs_compares_every_ordered_pair_within_a_condition(paper_config):
    paper_config["dissection"]["all_pairs"] = True
    classifiers = design.expand_classifiers(paper_config)
    pairs = design.dissection_pairs(paper_config, classifiers)
    members = sum(1 for c in classifiers.values() if c.condition == "true_labels")
    assert sum(1 for f1, _ in pairs if f1.startswith("true_labels-")) == members * (members - 1)
    assert all(classifiers[f1].condition == classifiers[f2].condition for f1, f2 in pairs)


def test_canonical_sorts_every_mapping_and_keeps_every_list_order():
    value = {"b": 1, "a": {"z": [3, {"y": 1, "x": 2}], "c": (2, 1)}, 10: None}
    canonical = design.canonical(value)
    assert canonical == value | {"a": {"z": [3, {"y": 1, "x": 2}], "c": [2, 1]}}
    assert list(canonical) == [10, "a", "b"]  # keys compared as text
    assert list(canonical["a"]) == ["c", "z"] and list(canonical["a"]["z"][1]) == ["x", "y"]


def test_canonical_of_two_key_orders_is_the_same_text(paper_config):
    """Snakemake compares params as text: the order of a config file's keys must not show."""

    def reversed_keys(value):
        if isinstance(value, dict):
            return {key: reversed_keys(value[key]) for key in reversed(list(value))}
        return [reversed_keys(item) for item in value] if isinstance(value, list) else value

    assert repr(reversed_keys(paper_config)) != repr(paper_config)
    assert repr(design.canonical(reversed_keys(paper_config))) == repr(
        design.canonical(paper_config)
    )


def test_without_how_settings_drops_device_and_chunk_size_only(paper_config):
    paper_config["device"] = "cuda"
    paper_config["patterns"]["chunk_size"] = 250
    kept = design.without_how_settings(paper_config)
    assert "device" not in kept and "chunk_size" not in kept["patterns"]
    assert kept["patterns"] == design.canonical(
        {k: v for k, v in paper_config["patterns"].items() if k != "chunk_size"}
    )
    assert kept["training"] == design.canonical(paper_config["training"])
    assert (
        paper_config["device"] == "cuda" and paper_config["patterns"]["chunk_size"] == 250
    )  # the config untouched


def test_without_how_settings_is_the_same_whatever_they_are(paper_config):
    other = {
        **paper_config,
        "device": "cpu",
        "patterns": {**paper_config["patterns"], "chunk_size": 7},
    }
    assert design.without_how_settings(other) == design.without_how_settings(paper_config)
    assert design.without_how_settings({"training": {"epochs": 1}}) == {
        "training": {"epochs": 1}
    }  # none set


def test_the_paper_config_restates_the_schema_defaults_without_drifting_from_them(
    repo, paper_config
):
    """config/config.yaml spells out the paper's recipe; the schema's defaults are that recipe."""
    schema = yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text())
    for section in ("training", "gan", "patterns"):
        properties = schema["properties"][section]["properties"]
        for key, value in paper_config[section].items():
            assert properties[key]["default"] == value, (
                f"{section}.{key}: config.yaml {value!r}, schema default"
            )


def test_the_maker_of_an_imported_classifier_is_import_classifier_and_of_the_others_train_classifier(
    paper_config,
):
    paper_config["checkpoints"] = [
        {
            "name": "outside",
            "arch": "vgg11",
            "weights": "resources/outside.pt",
            "condition": "true_labels",
            "seed": 4,
        }
    ]
    assert design.classifier_maker(paper_config, "true_labels-outside-s4") == "import_classifier"
    assert design.classifier_maker(paper_config, "true_labels-vgg11-s1") == "train_classifier"
    assert design.classifier_maker(paper_config, "true_labels-outside-s1") == "train_classifier"
