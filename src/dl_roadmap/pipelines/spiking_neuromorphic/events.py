"""Event-based input from moving digits: what a dynamic vision sensor (DVS) would report.

A DVS pixel does not report intensity; it reports *changes* of log intensity. Each pixel
keeps the log intensity at its last event, L_ref, and emits an ON event when the current
log intensity has risen by a contrast threshold C since then, an OFF event when it has
fallen by C, and then resets its reference (Lichtsteiner, Posch & Delbruck 2008):

    L[t]  = log(eps + I[t] / 255)
    ON[t]  = L[t] - L_ref >= C,    OFF[t] = L[t] - L_ref <= -C
    L_ref <- L[t]  where an event fired

N-MNIST (Orchard et al. 2015) was recorded by moving such a sensor in three saccades in
front of static MNIST digits on a screen: the digit only appears through its motion. Here
the digit moves instead (the image library's Moving-MNIST generator, one digit, bouncing
on a 34 x 34 canvas, N-MNIST's size), and the frames are turned into two-channel event
frames (ON, OFF), (T - 1, 2, H, W) per clip. A still digit would produce no events at all.
"""

from __future__ import annotations

import numpy as np


def dvs_events(video: np.ndarray, threshold: float, eps: float = 0.1) -> np.ndarray:
    """Frames (clips, T, H, W) uint8 -> events (clips, T - 1, 2, H, W) uint8 (ON, OFF)."""
    if video.ndim != 4:
        raise ValueError(f"dvs_events: expected frames (clips, T, H, W), got shape {video.shape}")
    log_intensity = np.log(eps + video.astype(np.float32) / 255)
    reference = log_intensity[:, 0].copy()
    clips, frames, height, width = video.shape
    events = np.zeros((clips, frames - 1, 2, height, width), np.uint8)
    for t in range(1, frames):
        change = log_intensity[:, t] - reference
        on, off = change >= threshold, change <= -threshold
        events[:, t - 1, 0], events[:, t - 1, 1] = on, off
        fired = on | off
        reference[fired] = log_intensity[:, t][fired]
    return events
