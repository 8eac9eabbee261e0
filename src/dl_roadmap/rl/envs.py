"""Gymnasium environments by id, with an error that names the id and its nearest matches.

Gymnasium's own errors for a wrong id (``NameNotFound``, ``DeprecatedEnv`` for ``Taxi-v3``,
``VersionNotFound``) are clear but do not say which parameter held the id; ``make_env``
re-raises them as ``ValueError`` with the id, the cause and the registered ids that look
closest, so a typo in a YAML file is fixed at once.
"""

from __future__ import annotations

import difflib
import os
from typing import Any


def check_env_id(env_id: str, key: str = "env_id") -> str:
    """``env_id`` if Gymnasium knows it; otherwise a ValueError naming ``key``, the id and
    the closest registered ids."""
    import gymnasium as gym

    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"{key}: expected a Gymnasium environment id such as 'CartPole-v1', got {env_id!r}")
    if env_id in gym.registry:
        return env_id
    close = difflib.get_close_matches(env_id, list(gym.registry), n=4, cutoff=0.5)
    hint = f"; did you mean one of {close}?" if close else ""
    raise ValueError(f"{key}: unknown Gymnasium environment {env_id!r}{hint}")


def make_env(env_id: str, *, render_mode: str | None = None, key: str = "env_id", **kwargs: Any):
    """``gym.make(env_id, render_mode=..., **kwargs)`` after checking the id.

    Rendering without a display: MuJoCo needs an off-screen OpenGL back end chosen before
    ``mujoco`` is first imported (``MUJOCO_GL=egl``), and pygame's classic-control drawing
    needs no window (``SDL_VIDEODRIVER=dummy``, which also stops SDL complaining about a
    missing XDG_RUNTIME_DIR). Both are set only where the user has not chosen.
    """
    import gymnasium as gym

    check_env_id(env_id, key)
    if render_mode is not None:
        os.environ.setdefault("MUJOCO_GL", "egl")
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        return gym.make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.Error as error:  # e.g. a bad keyword for this environment
        raise ValueError(f"{key}: could not make {env_id!r} with {kwargs}: {error}") from error
    except TypeError as error:
        raise ValueError(f"{key}: could not make {env_id!r} with {kwargs}: {error}") from error
