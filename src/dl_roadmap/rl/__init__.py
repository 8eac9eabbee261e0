"""Reinforcement-learning pieces the RL areas share: environments by id with clear errors
(``envs``), seeded evaluation of a deterministic policy (``evaluate``), frames of an episode
for a GIF (``video``) and a trained policy as an MLflow pyfunc model (``policy_model``).

The algorithms live in their own modules (tabular methods, dynamic programming, policy
gradients, SAC, DQN, PPO), each written from its equations. Gymnasium and MLflow are
imported inside the functions that need them, so importing this package stays cheap.
"""
