"""Knowledge distillation that reuses the area's own step function, or, for an area that
does not train on (input, target) pairs, trains the student on the teacher's outputs alone.

``TeacherStudent`` runs a frozen teacher next to the student and returns the student's
output, so the area's step (its augmentation, its loss, its metrics) trains the student
unchanged; ``distillation_step`` then mixes that hard loss with the distillation loss on
the same (augmented) inputs:

    loss = (1 - alpha) * hard_loss + alpha * distill_loss(student_out, teacher_out, batch, settings)

The distillation loss is the task's ``distill_loss``; a supervised task without one is a
classifier, and gets the soft-target loss on its logits (Hinton et al., 2015):

    T^2 * KL(softmax(teacher / T) || softmax(student / T))

T^2 keeps the soft term's gradients on the scale of the hard term's. If the step calls the
model more than once per batch, the last call's outputs are used.

``input_distillation_step`` is the form without targets (a policy distilled on observed
states, a regressor on its inputs): the loss is the distillation loss alone.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.training import StepFn

DistillLoss = Callable[[Any, Any, Any, dict[str, Any]], torch.Tensor]


class TeacherStudent(nn.Module):
    """Student and frozen teacher on the same inputs; ``forward`` returns the student's output
    and keeps both for the distillation steps."""

    def __init__(self, student: nn.Module, teacher: nn.Module):
        super().__init__()
        self.student = student
        self.teacher = teacher.eval()
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)  # also keeps it out of the optimizer
        self._outputs: tuple[Any, Any] | None = None

    def train(self, mode: bool = True) -> TeacherStudent:
        super().train(mode)
        self.teacher.eval()  # its BatchNorm statistics and dropout stay as trained
        return self

    def forward(self, *inputs: Any) -> Any:
        with torch.no_grad():
            teacher_out = self.teacher(*inputs)
        student_out = self.student(*inputs)
        self._outputs = (student_out, teacher_out)
        return student_out

    def take_outputs(self) -> tuple[Any, Any]:
        """(student, teacher) outputs of the last forward call; cleared once taken."""
        if self._outputs is None:
            raise RuntimeError("distillation: the step function did not call the model")
        outputs, self._outputs = self._outputs, None
        return outputs


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * KL(teacher || student) between the temperature-softened class distributions."""
    t = float(temperature)
    return t * t * F.kl_div(
        F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
        reduction="batchmean", log_target=True,
    )


def classifier_distill_loss(student_out: torch.Tensor, teacher_out: torch.Tensor, batch: Any,
                            settings: dict[str, Any]) -> torch.Tensor:
    """The classifier default: the soft-target loss at the settings' ``temperature``."""
    return soft_target_loss(student_out, teacher_out, settings["temperature"])


def distillation_step(
    model: TeacherStudent, batch: Any, hard_step: StepFn, temperature: float, alpha: float,
    loss: DistillLoss | None = None, settings: dict[str, Any] | None = None,
) -> dict[str, torch.Tensor]:
    """The area's step on the student, its loss mixed with the distillation loss
    (``loss``, default the soft-target loss at ``temperature``).

    Returns:
        The hard step's scalars, with ``loss`` replaced by the mixture and ``hard_loss``
        and ``soft_loss`` added.
    """
    out = dict(hard_step(model, batch))
    student_out, teacher_out = model.take_outputs()
    settings = {"temperature": temperature, "alpha": alpha, **(settings or {})}
    soft = (loss or classifier_distill_loss)(student_out, teacher_out, batch, settings)
    out["hard_loss"] = out["loss"].detach()
    out["soft_loss"] = soft.detach()
    out["loss"] = (1 - alpha) * out["loss"] + alpha * soft
    return out


def input_distillation_step(
    model: TeacherStudent, batch: Any, loss: DistillLoss, settings: dict[str, Any],
) -> dict[str, torch.Tensor]:
    """The student fitted to the teacher's outputs on a batch of inputs (no targets)."""
    inputs = tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)
    model(*inputs)
    student_out, teacher_out = model.take_outputs()
    return {"loss": loss(student_out, teacher_out, batch, settings)}
