"""SGD and Adam as the study uses them, step for step the arithmetic of torch.optim's.

torch.optim imports torch._dynamo on the first optimizer a process builds, about 1.4 s, which
every training and pattern job would pay at start-up; these two do without it. Each update
is the same sequence of tensor operations as torch.optim's single-tensor path (SGD's and
Adam's without amsgrad, decoupled decay or a tensor learning rate), written with the
_foreach_ operations that run them over all parameters at once, so the weights are
bit-identical to those torch.optim gives on a CPU (tests/unit/training/test_optim.py). Nothing in a step
reads a value back to the host, so a step can be captured in a CUDA graph.
"""

import torch


class Optimizer:
    """The parameters of one network, updated in place; state_dict / load_state_dict for resume states."""

    def __init__(self, params):
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("the optimizer got no parameters that require a gradient")

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    def with_gradients(self) -> list[int]:
        """The parameters that received a gradient; as in torch.optim, the others are left as they are."""
        return [index for index, param in enumerate(self.params) if param.grad is not None]


class SGD(Optimizer):
    """torch.optim.SGD without dampening or Nesterov momentum."""

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay, self.maximize = (
            lr,
            momentum,
            weight_decay,
            maximize,
        )
        self.momentum_buffers: list[torch.Tensor | None] = [None] * len(
            self.params
        )  # made from first gradients

    @torch.no_grad()
    def step(self) -> None:
        active = self.with_gradients()
        params = [self.params[i] for i in active]
        grads = [self.params[i].grad for i in active]
        if self.maximize:
            grads = torch._foreach_neg(grads)
        if self.weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        if self.momentum != 0:
            grads = self.momentum_step(active, grads)
        torch._foreach_add_(params, grads, alpha=-self.lr)

    def momentum_step(self, active: list[int], grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each active parameter's momentum buffer after this step's gradient: a copy of it the first time."""
        running = [
            (i, grad) for i, grad in zip(active, grads) if self.momentum_buffers[i] is not None
        ]
        if running:
            buffers = [self.momentum_buffers[i] for i, _ in running]
            torch._foreach_mul_(buffers, self.momentum)
            torch._foreach_add_(buffers, [grad for _, grad in running])
        for i, grad in zip(active, grads):
            if self.momentum_buffers[i] is None:
                self.momentum_buffers[i] = torch.clone(grad).detach()
        return [self.momentum_buffers[i] for i in active]

    def state_dict(self) -> dict:
        return {"momentum_buffers": self.momentum_buffers}

    def load_state_dict(self, state: dict) -> None:
        self.momentum_buffers = [
            None if buffer is None else buffer.to(param.device, param.dtype).clone()
            for buffer, param in zip(state["momentum_buffers"], self.params, strict=True)
        ]


class Adam(Optimizer):
    """torch.optim.Adam without weight decay or amsgrad."""

    def __init__(
        self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, maximize: bool = False
    ):
        super().__init__(params)
        self.lr, (self.beta1, self.beta2), self.eps, self.maximize = lr, betas, eps, maximize
        self.steps = 0
        self.exp_avgs = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]
        self.exp_avg_sqs = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]

    @torch.no_grad()
    def step(self) -> None:
        if len(self.with_gradients()) != len(self.params):
            raise ValueError("Adam here updates networks whose every parameter receives a gradient")
        grads = [param.grad for param in self.params]
        if self.maximize:
            grads = torch._foreach_neg(grads)
        self.steps += 1
        torch._foreach_lerp_(self.exp_avgs, grads, 1 - self.beta1)
        torch._foreach_mul_(self.exp_avg_sqs, self.beta2)
        torch._foreach_addcmul_(self.exp_avg_sqs, grads, grads, value=1 - self.beta2)
        bias_correction1 = 1 - self.beta1**self.steps
        bias_correction2 = 1 - self.beta2**self.steps
        step_size = self.lr / bias_correction1
        denominators = torch._foreach_sqrt(self.exp_avg_sqs)
        torch._foreach_div_(denominators, bias_correction2**0.5)
        torch._foreach_add_(denominators, self.eps)
        torch._foreach_addcdiv_(self.params, self.exp_avgs, denominators, value=-step_size)

    def state_dict(self) -> dict:
        return {"steps": self.steps, "exp_avgs": self.exp_avgs, "exp_avg_sqs": self.exp_avg_sqs}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        for name in ("exp_avgs", "exp_avg_sqs"):
            for mine, saved in zip(getattr(self, name), state[name], strict=True):
                mine.copy_(saved)
