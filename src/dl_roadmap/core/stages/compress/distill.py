"""Knowledge distillation that reuses the area's own step function.

``TeacherStudent`` runs a frozen teacher next to the student and returns the student's
logits, so the area's step (its augmentation, its loss, its metrics) trains the student
unchanged; ``distillation_step`` then mixes that hard loss with the soft-target loss on
the same (augmented) inputs:

    loss = (1 - alpha) * hard_loss + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))

T^2 keeps the soft term's gradients on the scale of the hard term's (Hinton et al., 2015).
If the step calls the model more than once per batch, the last call's logits are used.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dl_roadmap.core.training import StepFn


class TeacherStudent(nn.Module):
    """Student and frozen teacher on the same inputs; ``forward`` returns the student's logits
    and keeps both for ``distillation_step``."""

    def __init__(self, student: nn.Module, teacher: nn.Module):
        super().__init__()
        self.student = student
        self.teacher = teacher.eval()
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)  # also keeps it out of the optimizer
        self._logits: tuple[torch.Tensor, torch.Tensor] | None = None

    def train(self, mode: bool = True) -> TeacherStudent:
        super().train(mode)
        self.teacher.eval()  # its BatchNorm statistics and dropout stay as trained
        return self

    def forward(self, *inputs: Any) -> torch.Tensor:
        with torch.no_grad():
            teacher_logits = self.teacher(*inputs)
        student_logits = self.student(*inputs)
        self._logits = (student_logits, teacher_logits)
        return student_logits

    def take_logits(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(student, teacher) logits of the last forward call; cleared once taken."""
        if self._logits is None:
            raise RuntimeError("distillation: the step function did not call the model")
        logits, self._logits = self._logits, None
        return logits


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * KL(teacher || student) between the temperature-softened class distributions."""
    t = float(temperature)
    return t * t * F.kl_div(
        F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
        reduction="batchmean", log_target=True,
    )


def distillation_step(
    model: TeacherStudent, batch: Any, hard_step: StepFn, temperature: float, alpha: float
) -> dict[str, torch.Tensor]:
    """The area's step on the student, its loss mixed with the soft-target loss.

    Returns:
        The hard step's scalars, with ``loss`` replaced by the mixture and ``hard_loss``
        and ``soft_loss`` added.
    """
    out = dict(hard_step(model, batch))
    student_logits, teacher_logits = model.take_logits()
    soft = soft_target_loss(student_logits, teacher_logits, temperature)
    out["hard_loss"] = out["loss"].detach()
    out["soft_loss"] = soft.detach()
    out["loss"] = (1 - alpha) * out["loss"] + alpha * soft
    return out
