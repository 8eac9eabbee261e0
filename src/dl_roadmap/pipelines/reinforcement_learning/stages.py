"""What the shared explain stage needs from this area (core/stages/README.md): the best
CartPole policy (``model(observations)`` gives the two action logits), the observations it
meets in its own greedy episodes, and the action it takes as the explained output.

tune and compress do not run here (README, "Stages"): one CartPole config is 1-2 minutes
of training for each of five seeds, and the policy is a 4.6k-parameter MLP.
"""

from __future__ import annotations

from dl_roadmap.core.stages import StageTask

TASK = StageTask(
    example_inputs=lambda data: data["observations"],
    background_inputs=lambda data: data["observations"],
    explain_output=lambda logits: logits.argmax(1),  # the action taken: 0 push left, 1 push right
    input_kind="observation",
    feature_names=["cart position", "cart velocity", "pole angle", "pole angular velocity"],
    metric="return",
    direction="maximize",
)
