"""Scene types: which source classes co-occur, and what the room sounds like underneath.

Each scene has a prior (weights over classes; zero = never occurs there) and a background
recipe. Every class appears in at least two scenes and every scene shares classes with
others, so no single event gives the scene away; the scene is in the *combination* of events
and the background, as with real acoustic scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audiorep.data.synthetic import signal_blocks as sb


@dataclass(frozen=True)
class Background:
    """Scene-typical background: 1/f^slope noise under a low-pass, plus optional mains hum."""

    slope: tuple[float, float]  # noise colour range: 0 white, 1 pink, 2 brown
    cutoff_hz: tuple[float, float]  # low-pass corner range
    hum_prob: float = 0.0  # probability that a hum (50/60 Hz + harmonics) is present


@dataclass(frozen=True)
class SceneType:
    name: str
    prior: dict[str, float]
    background: Background
    description: str = field(default="", compare=False)


SCENE_TYPES: tuple[SceneType, ...] = (
    SceneType(
        "street",
        {"engine": 3, "siren": 1.5, "footsteps": 2, "speech": 2, "bird_chirp": 1, "wind": 1, "rain": 1, "bell": 0.5, "knock": 0.5},
        Background(slope=(1.5, 2.0), cutoff_hz=(800, 3000)),
        "traffic rumble; engines, sirens, passers-by",
    ),
    SceneType(
        "kitchen",
        {"alarm_beep": 2, "knock": 2, "click_train": 1, "speech": 1.5, "crackle": 1.5, "mains_hum": 1.5, "footsteps": 1, "rain": 0.5},
        Background(slope=(0.8, 1.3), cutoff_hz=(2000, 6000), hum_prob=0.5),
        "appliances, frying, chopping, talk",
    ),
    SceneType(
        "forest",
        {"bird_chirp": 3, "wind": 2.5, "rain": 1.5, "crackle": 1, "footsteps": 1, "knock": 1, "flute": 0.5},
        Background(slope=(1.0, 1.6), cutoff_hz=(1500, 5000)),
        "birds, wind, rain, twigs, a woodpecker",
    ),
    SceneType(
        "office",
        {"speech": 3, "click_train": 2.5, "alarm_beep": 1, "mains_hum": 1.5, "footsteps": 1.5, "knock": 1},
        Background(slope=(0.7, 1.2), cutoff_hz=(1000, 4000), hum_prob=0.6),
        "HVAC room tone, typing, talk, phones",
    ),
    SceneType(
        "factory",
        {"engine": 2.5, "mains_hum": 2.5, "knock": 2, "click_train": 1.5, "siren": 1, "alarm_beep": 1, "speech": 1},
        Background(slope=(1.4, 2.0), cutoff_hz=(500, 2500), hum_prob=0.7),
        "machines, hammering, alarms",
    ),
    SceneType(
        "concert",
        {"plucked_string": 2, "bowed_string": 2, "bell": 1, "reed": 2, "flute": 2, "speech": 0.5, "click_train": 0.5},
        Background(slope=(0.9, 1.4), cutoff_hz=(2000, 6000)),
        "instruments in a quiet hall",
    ),
    SceneType(
        "home",
        {"plucked_string": 1, "bowed_string": 0.5, "flute": 0.5, "reed": 0.5, "speech": 2, "knock": 1.5, "footsteps": 1.5, "alarm_beep": 1, "bell": 0.7, "mains_hum": 1, "crackle": 0.5},
        Background(slope=(0.8, 1.4), cutoff_hz=(1500, 5000), hum_prob=0.3),
        "a living room: talk, music practice, door, doorbell",
    ),
)


def prior_matrix(scenes, class_names) -> np.ndarray:
    """`[S, C]` prior weights, rows normalised to sum to 1."""
    index = {name: i for i, name in enumerate(class_names)}
    weights = np.zeros((len(scenes), len(class_names)))
    for s, scene in enumerate(scenes):
        for name, w in scene.prior.items():
            if name not in index:
                raise KeyError(f"scene '{scene.name}' names unknown class '{name}'")
            weights[s, index[name]] = w
    return weights / weights.sum(1, keepdims=True)


def render_backgrounds(rng: np.random.Generator, scene_ids: np.ndarray, scenes, n_samples: int, sample_rate: int) -> np.ndarray:
    """One unit-RMS background per clip `[n, T]`, drawn from each clip's scene recipe."""
    n = scene_ids.size
    lo = np.array([[s.background.slope[0], s.background.cutoff_hz[0]] for s in scenes])[scene_ids]
    hi = np.array([[s.background.slope[1], s.background.cutoff_hz[1]] for s in scenes])[scene_ids]
    draw = lo + (hi - lo) * rng.random((n, 2))
    noise = sb.coloured_noise(rng, n, n_samples, sample_rate, draw[:, 0], 30.0, draw[:, 1])
    hum_prob = np.array([s.background.hum_prob for s in scenes])[scene_ids]
    has_hum = rng.random(n) < hum_prob
    f0 = np.where(rng.random(n) < 0.5, 50.0, 60.0)
    level = rng.uniform(0.2, 0.7, n)
    rows = np.flatnonzero(has_hum)
    if rows.size:
        tables = sb.harmonic_tables(np.repeat(1.0 / np.arange(1, 9)[None], rows.size, axis=0), rng)
        hum = sb.read_wavetable(tables, sb.linear_phase(f0[rows], n_samples, sample_rate))
        noise[rows] += sb.normalise_rms(hum) * sb.col32(level[rows])
    return sb.normalise_rms(noise)
