"""memdissect: neural network memorization dissection.

The science lives here as functions of tensors and small typed settings. Nothing in this
package knows about the workflow engine; the workflow's rule scripts are thin adapters around it.
Importing the package itself does not import torch, so the workflow can read configs cheaply.

For notebooks, the functions of `memdissect.api` are attributes of the package, imported (with
torch) on first use: `memdissect.synthesize(f1, generator)`, `memdissect.dist(patterns, f2)`.
"""

__version__ = "0.1.0"

API = (
    "DistResult",
    "Patterns",
    "describe",
    "dist",
    "dist_from_logits",
    "load_classifier",
    "load_generator",
    "load_images",
    "load_patterns",
    "null_baseline",
    "save_patterns",
    "synthesize",
    "train_classifier",
    "train_generator",
    "untrained_twin",
)
INSPECT = ("describe",)  # those of memdissect.inspect
__all__ = list(API)


def __getattr__(name: str):
    if name in API:
        from memdissect import api, inspect

        return getattr(inspect if name in INSPECT else api, name)
    raise AttributeError(f"module 'memdissect' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *API})
