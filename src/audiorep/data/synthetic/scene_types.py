"""Scene types: which source classes co-occur, and what the room sounds like underneath.

Each scene has a prior (weights over classes; zero = never occurs there) and a background
recipe, read from the table `scene_types.yaml` beside this file. Every class appears in at
least two scenes and every scene shares classes with others, so no single event gives the
scene away; the scene is in the *combination* of events and the background, as with real
acoustic scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

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


def load_scene_types(path: Path) -> tuple[SceneType, ...]:
    """The scene table: `name: {description, prior: {class: weight}, background: {slope, cutoff_hz, hum_prob}}`."""
    table = yaml.safe_load(path.read_text())
    return tuple(
        SceneType(name, dict(entry["prior"]),
                  Background(tuple(entry["background"]["slope"]), tuple(entry["background"]["cutoff_hz"]),
                             entry["background"].get("hum_prob", 0.0)),
                  entry.get("description", ""))
        for name, entry in table.items()
    )


SCENE_TYPES: tuple[SceneType, ...] = load_scene_types(Path(__file__).with_name("scene_types.yaml"))


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
