"""SGD and Adam against torch.optim's own, step by step, bit for bit on the CPU."""

import subprocess
import sys

import pytest
import torch
from torch import nn
from workflow_runs import REPO

from memdissect.training.optim import SGD, Adam

STEPS = 6


def small_network(seed=0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 5),
    )


def batches(count=STEPS):
    generator = torch.Generator().manual_seed(1)
    return [
        (
            torch.randn(16, 3, 8, 8, generator=generator),
            torch.randint(0, 5, (16,), generator=generator),
        )
        for _ in range(count)
    ]


def train_steps(network, optimizer, steps=None, sign=1.0):
    for x, y in steps if steps is not None else batches():
        optimizer.zero_grad()
        (sign * nn.functional.cross_entropy(network(x), y)).backward()
        optimizer.step()
    return network


def assert_same_bits(first: nn.Module, second: nn.Module):
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize(
    "momentum, weight_decay, maximize", [(0.9, 1e-4, False), (0.0, 0.0, False), (0.9, 0.0, True)]
)
def test_sgd_gives_the_weights_of_torch_sgd(foreach, momentum, weight_decay, maximize):
    sign = -1.0 if maximize else 1.0
    ours = small_network()
    ours_optimizer = SGD(
        ours.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay, maximize=maximize
    )
    train_steps(ours, ours_optimizer, sign=sign)
    theirs = small_network()
    train_steps(
        theirs,
        torch.optim.SGD(
            theirs.parameters(),
            lr=0.05,
            momentum=momentum,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
        ),
        sign=sign,
    )
    assert_same_bits(ours, theirs)
    assert not torch.equal(ours[0].weight, small_network()[0].weight)  # it trained


@pytest.mark.parametrize("maximize", [False, True])
def test_adam_gives_the_weights_of_torch_adam(maximize):
    sign = -1.0 if maximize else 1.0
    ours, theirs = small_network(), small_network()
    train_steps(
        ours, Adam(ours.parameters(), lr=2e-3, betas=(0.5, 0.999), maximize=maximize), sign=sign
    )
    train_steps(
        theirs,
        torch.optim.Adam(
            theirs.parameters(), lr=2e-3, betas=(0.5, 0.999), maximize=maximize, foreach=False
        ),
        sign=sign,
    )
    assert_same_bits(ours, theirs)


def test_a_parameter_without_a_gradient_is_left_alone_as_by_torch_sgd():
    network = small_network()
    unused = nn.Parameter(torch.ones(3))
    optimizer = SGD([*network.parameters(), unused], lr=0.1, momentum=0.9, weight_decay=0.1)
    train_steps(network, optimizer)
    assert torch.equal(unused, torch.ones(3))
    assert optimizer.momentum_buffers[-1] is None


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
        lambda p: Adam(p, lr=2e-3, betas=(0.5, 0.999)),
    ],
    ids=["sgd", "adam"],
)
def test_a_run_resumed_from_the_state_dict_equals_one_never_stopped(make):
    steps = batches(2 * STEPS)
    straight = small_network()
    train_steps(straight, make(straight.parameters()), steps)

    stopped = small_network()
    optimizer = make(stopped.parameters())
    train_steps(stopped, optimizer, steps[:STEPS])
    resumed = small_network(seed=5)
    resumed.load_state_dict(stopped.state_dict())
    resumed_optimizer = make(resumed.parameters())
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    train_steps(resumed, resumed_optimizer, steps[STEPS:])
    assert_same_bits(resumed, straight)


def test_stepping_them_imports_no_compiler():
    script = (
        "import sys; sys.path.insert(0, 'src'); import torch; from memdissect.training.optim import SGD, Adam\n"
        "w = torch.nn.Parameter(torch.ones(3))\n"
        "for o in (SGD([w], lr=0.1, momentum=0.9), Adam([w], lr=0.1)):\n"
        "    w.grad = torch.ones(3); o.step(); o.zero_grad()\n"
        "print('torch._dynamo' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "False", result.stderr
