import torch

from memdissect.data.synthetic import CLASSES, make_synthetic_dataset


def test_same_seed_gives_the_same_bytes():
    first, second = make_synthetic_dataset(200, 50, seed=5), make_synthetic_dataset(200, 50, seed=5)
    for split in ("train", "test"):
        assert first[split]["images"].numpy().tobytes() == second[split]["images"].numpy().tobytes()
        assert torch.equal(first[split]["labels"], second[split]["labels"])


def test_other_seed_gives_other_images():
    assert not torch.equal(
        make_synthetic_dataset(50, 10, 0)["train"]["images"],
        make_synthetic_dataset(50, 10, 1)["train"]["images"],
    )


def test_shapes_types_and_balanced_classes():
    data = make_synthetic_dataset(300, 100, seed=0)
    train = data["train"]
    assert train["images"].shape == (300, 3, 32, 32) and train["images"].dtype == torch.uint8
    assert train["labels"].dtype == torch.int64
    assert torch.bincount(train["labels"], minlength=10).tolist() == [30] * 10
    assert train["classes"] == list(CLASSES) and len(CLASSES) == 10
    assert len(data["test"]["images"]) == 100


def test_images_of_one_class_vary():
    train = make_synthetic_dataset(200, 10, seed=0)["train"]
    disks = train["images"][train["labels"] == 0].float()
    assert disks.std(dim=0).mean() > 20  # position, scale, colours and noise differ per image
