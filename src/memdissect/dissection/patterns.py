"""Pattern synthesis: for class j of f1, z* = argmax_z f1_j(G(z)) and x* = G(z*).

All classes x starts run as one batch (chunked to fit memory). Start s uses the same z0 for
every class, so a column of patterns shares its starting image. f1 and G are frozen and in
eval mode, so each row of the batch is optimized independently of the others.
"""

import math
from dataclasses import asdict, dataclass, fields, replace

import torch
import torch.nn.functional as F

from memdissect.io import ArtifactError, save_torch
from memdissect.study.settings import PatternSettings
from memdissect.training.checkpoints import ArtifactFormat, load_artifact
from memdissect.training.gan import to_pixel_range
from memdissect.training.optim import SGD, Adam
from memdissect.training.runtime import (
    GraphStatus,
    RandomState,
    ReplayedStep,
    Runtime,
    compute_on,
    precision_that_ran,
)

LATENT_CLAMP = 3.0
ADAM_NOT_CAPTURED = GraphStatus(
    "eager", "Adam's ascent is not captured: its bias correction follows its step count on the host"
)
PATTERN_FILE = ArtifactFormat("memdissect-patterns-v1", "a memdissect pattern file")


@dataclass(frozen=True)
class Patterns:
    """f1's patterns, as a pattern file holds them: row j of every tensor was searched for class j of f1, column
    s from start s.

    settings: the pattern settings as a dict. z0, z: C x S x D, the starting and the found latents (start s
    shares z0 across classes). x: C x S x 3 x 32 x 32, the patterns x* = G(z*), pixels in [0, 1]; x0: G(z0), the
    same shape. logits: C x S x C, f1's logits at x*. objective_trace: iterations x C, the objective per step
    (mean over starts); objective_start, objective_end: C x S. What ran: precision (the search's),
    logits_precision (f1's logits'), cuda_graph and cuda_graph_note (whether the ascent replayed as a CUDA graph,
    and why not); None in a file written before they were recorded. classes: f1's class names, or None.
    """

    settings: dict
    z0: torch.Tensor
    z: torch.Tensor
    x: torch.Tensor
    x0: torch.Tensor | None
    logits: torch.Tensor
    objective_trace: torch.Tensor
    objective_start: torch.Tensor
    objective_end: torch.Tensor
    precision: str | None = None
    logits_precision: str | None = None
    cuda_graph: str | None = None
    cuda_graph_note: str | None = None
    classes: list | None = None

    @property
    def num_classes(self) -> int:
        return self.logits.shape[0]

    @property
    def starts(self) -> int:
        return self.logits.shape[1]

    def to_dict(self) -> dict:
        """The pattern file's dict, format tag first, then the fields in their order."""
        return {
            "format": PATTERN_FILE.tag,
            **{field.name: getattr(self, field.name) for field in fields(self)},
        }

    @classmethod
    def from_dict(cls, values: dict, where: str = "the pattern dict") -> "Patterns":
        """The patterns of a pattern file's dict, refused with the fields it lacks."""
        names = [field.name for field in fields(cls)]
        required = [field.name for field in fields(cls) if field.default is not None]
        missing = [name for name in required if name not in values]
        if missing:
            raise ArtifactError(
                f"{where} lacks {', '.join(missing)}; a pattern file holds {', '.join(names)}"
            )
        return cls(**{name: values[name] for name in names if name in values})


class NonFiniteObjectiveError(FloatingPointError):
    """Pattern search diverged: the objective became NaN or infinite."""


def initial_latents(num_classes: int, starts: int, latent_dim: int, seed: int) -> torch.Tensor:
    """z0 as C x S x D: one draw per start, shared by every class."""
    z = torch.randn(starts, latent_dim, generator=torch.Generator().manual_seed(seed))
    return z.expand(num_classes, starts, latent_dim).clone()


def class_objective(logits: torch.Tensor, target: torch.Tensor, objective: str) -> torch.Tensor:
    """Each row's objective for its own class: the logit, log-softmax or softmax."""
    if objective == "log_softmax":
        logits = F.log_softmax(logits, dim=1)
    elif objective == "softmax":
        logits = F.softmax(logits, dim=1)
    return logits.gather(1, target[:, None]).squeeze(1)


def constrain_latents(z: torch.Tensor, constraint: str) -> None:
    with torch.no_grad():
        if constraint == "clamp":
            z.clamp_(-LATENT_CLAMP, LATENT_CLAMP)
        elif constraint == "sphere":
            z.mul_(math.sqrt(z.shape[1]) / z.norm(dim=1, keepdim=True))


class AscentStep:
    """One gradient-ascent step of the latents z (B x D) of one chunk on each row's objective, which it leaves
    in `objective` (B). z, its optimizer and the objective are fixed tensors, so that the step can be captured
    as a CUDA graph and replayed."""

    def __init__(
        self, classifier, generator, z0, target, settings: PatternSettings, runtime: Runtime
    ):
        self.classifier, self.generator, self.target, self.settings, self.runtime = (
            classifier,
            generator,
            target,
            settings,
            runtime,
        )
        self.z = z0.clone().requires_grad_(True)
        optimizer_class = Adam if settings.optimizer == "adam" else SGD
        self.optimizer = optimizer_class([self.z], lr=settings.lr, maximize=True)
        self.objective = torch.zeros(len(z0), device=z0.device)

    @property
    def capturable(self) -> bool:
        """Adam's bias correction follows its step count on the host, so only plain ascent is captured."""
        return self.runtime.cuda_graphs and self.settings.optimizer == "sgd"

    def __call__(self, capturing: bool = False) -> None:
        with self.runtime.autocast(cache_enabled=not capturing):
            logits = self.classifier(to_pixel_range(self.generator(self.z)))
        objective = class_objective(logits.float(), self.target, self.settings.objective)  # B
        self.optimizer.zero_grad()
        objective.sum().backward()  # rows are independent, so this is each row's own gradient
        self.optimizer.step()
        constrain_latents(self.z, self.settings.latent_constraint)
        self.objective.copy_(objective.detach())

    def state(self) -> list[torch.Tensor]:
        """Every tensor a step changes (plain SGD keeps no state of its own)."""
        return [self.z, self.objective]

    def graph_status(self) -> GraphStatus:
        """Why the step is not captured, where it is not."""
        return (
            ADAM_NOT_CAPTURED if self.runtime.cuda_graphs else self.runtime.status_without_graphs()
        )


def search_chunk(
    classifier, generator, z0, target, settings: PatternSettings, runtime: Runtime, log=print
):
    """Gradient ascent on one chunk: z*, the objective per step (iterations x B) and whether the step replayed as
    a CUDA graph. Where it can be (plain SGD, runtime.cuda_graphs) the step is captured after
    ReplayedStep.WARM_UP_STEPS eager ones and its first replay checked against the eager step."""
    step = AscentStep(classifier, generator, z0, target, settings, runtime)
    trace = torch.empty(settings.iterations, len(z0), device=z0.device)
    random_state = RandomState(
        z0.device
    )  # the search draws nothing; a capture registers this state, not the process's
    run = step
    if step.capturable:
        stream = torch.cuda.Stream(z0.device) if z0.device.type == "cuda" else None
        run = ReplayedStep(
            step, step.state, random_state, runtime.precision, stream, log, "searching"
        )
    with random_state.installed():
        for iteration in range(settings.iterations):
            run()
            trace[iteration].copy_(step.objective)
    first_bad = (~torch.isfinite(trace)).any(dim=1).nonzero()
    if len(first_bad):
        raise NonFiniteObjectiveError(
            f"the pattern objective became NaN or infinite at iteration {first_bad[0].item()}"
        )
    return step.z.detach(), trace, run.status() if run is not step else step.graph_status()


def ascend(
    classifier, generator, z0, target, settings: PatternSettings, runtime: Runtime, log=print
):
    """Gradient ascent on one chunk; returns z* and the objective per step (iterations x B): search_chunk."""
    z, trace, _ = search_chunk(classifier, generator, z0, target, settings, runtime, log)
    return z, trace


def chunks_status(statuses: list[GraphStatus]) -> GraphStatus:
    """One status for a search's chunks: theirs where they agree, else how many replayed and the first fallback."""
    fallbacks = [status for status in statuses if status.graph != "replayed"]
    if not fallbacks or len(fallbacks) == len(statuses):
        return statuses[0]
    replayed = len(statuses) - len(fallbacks)
    return GraphStatus(
        "eager", f"{replayed} of {len(statuses)} chunks replayed; then {fallbacks[0].note}"
    )


def synthesize_patterns(
    classifier,
    generator,
    num_classes: int,
    settings: PatternSettings,
    device,
    log=print,
    cuda_graphs: bool = True,
    classes=None,
) -> Patterns:
    """z0, z*, x*, f1's logits at x* and the objective per iteration, all as C x S x ... tensors; and what ran: the
    search's precision and that of f1's logits (fp32, bf16 or tf32), and whether the ascent replayed as a CUDA graph
    (cuda_graph, and cuda_graph_note: why not where it did not). classes: f1's class names, kept with them."""
    runtime = Runtime.for_device(device, settings.precision, cuda_graphs)
    memory_format = torch.channels_last if runtime.dcgan_channels_last else torch.contiguous_format
    for network in (classifier, generator):
        network.eval().requires_grad_(False).to(memory_format=memory_format)
    z0 = initial_latents(num_classes, settings.starts, generator.latent_dim, settings.seed)
    flat_z0 = z0.reshape(-1, z0.shape[-1])  # (C * S) x D
    flat_target = torch.arange(num_classes).repeat_interleave(settings.starts)  # C * S
    z_parts, trace_parts, statuses = [], [], []
    for start in range(0, len(flat_z0), settings.chunk_size):
        chunk = slice(start, start + settings.chunk_size)
        z, trace, status = search_chunk(
            classifier,
            generator,
            flat_z0[chunk].to(device),
            flat_target[chunk].to(device),
            settings,
            runtime,
            log,
        )
        z_parts.append(z.cpu())
        trace_parts.append(trace.cpu())
        statuses.append(status)
        log(
            f"patterns {min(start + settings.chunk_size, len(flat_z0))}/{len(flat_z0)}: "
            f"objective {trace[0].mean().item():.3f} -> {trace[-1].mean().item():.3f}"
        )
    z_star = torch.cat(z_parts).view_as(z0)
    trace = torch.cat(trace_parts, dim=1)  # iterations x (C * S)
    x_star = generate(generator, z_star, device)
    logits = logits_on_patterns(classifier, x_star, device, settings.chunk_size)
    return Patterns(
        settings=asdict(settings),
        z0=z0,
        z=z_star,
        x=x_star,
        x0=generate(generator, z0, device),
        logits=logits,
        objective_trace=trace.view(settings.iterations, num_classes, settings.starts).mean(dim=2),
        objective_start=trace[0].view(num_classes, settings.starts),
        objective_end=trace[-1].view(num_classes, settings.starts),
        precision=runtime.precision_that_ran,
        logits_precision=precision_that_ran(device, "fp32"),
        **chunks_status(statuses).as_row(),
        classes=list(classes) if classes is not None else None,
    )


@torch.no_grad()
def generate(generator, z: torch.Tensor, device, chunk_size: int = 1000) -> torch.Tensor:
    """G(z) in pixel space [0, 1], for z of shape ... x D, in fp32."""
    device = compute_on(device)
    flat = z.reshape(-1, z.shape[-1])
    images = torch.cat(
        [
            to_pixel_range(generator(flat[i : i + chunk_size].to(device))).float().cpu()
            for i in range(0, len(flat), chunk_size)
        ]
    )
    return images.view(*z.shape[:-1], *images.shape[1:])


@torch.no_grad()
def logits_on_patterns(
    model, x: torch.Tensor, device, chunk_size: int = 1000, precision="fp32"
) -> torch.Tensor:
    """A model's logits on patterns x (C x S x 3 x 32 x 32), as C x S x K, evaluated in chunks (in IEEE fp32 unless
    asked for bf16; precision_that_ran says what ran)."""
    runtime = Runtime.for_device(device, precision, cuda_graphs=False)
    model.eval()
    flat = x.reshape(-1, *x.shape[-3:])
    parts = []
    for i in range(0, len(flat), chunk_size):
        with runtime.autocast():
            parts.append(model(flat[i : i + chunk_size].to(runtime.device)).float().cpu())
    logits = torch.cat(parts)
    return logits.view(*x.shape[:-3], logits.shape[-1])


def read_pattern_file(path, made_by: str = "") -> Patterns:
    """The patterns of a pattern file (the workflow's results/patterns/<f1>.pt, or one the API or command wrote)."""
    return Patterns.from_dict(load_artifact(path, PATTERN_FILE, made_by), where=str(path))


def write_pattern_file(patterns: Patterns, path) -> None:
    """Patterns as a pattern file, written atomically."""
    save_torch(patterns.to_dict(), path)


def without_starting_images(patterns: Patterns) -> Patterns:
    """The patterns less x0, as large as x* and not read by the evaluation: what it holds of every f1 at once."""
    return replace(patterns, x0=None)
