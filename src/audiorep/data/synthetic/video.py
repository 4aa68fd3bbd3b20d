"""A video track for the synthetic world: what makes each sound is seen while it sounds.

`render_video(batch, size=32, fps=8, seed=0, distractors=1)` draws, for every clip of a
`SceneBatch`, frames `uint8 [n, F, 3, size, size]` with F = round(clip seconds * fps); frame
j shows time (j + 0.5) / fps. What the frames show, and why:

- **one sprite per active source slot**, its look fixed by the event's class (`sprite_style`):
  shape (disc, square, triangle, ring, cross), hue, and texture (plain, stripes, checks), so
  a video model can tell classes apart only by looking, as an audio model does by listening;
- **its opacity and size follow that source's loudness**: the frame-rate RMS of
  `batch.sources[:, k]` over each frame's 1/fps window, in dB relative to the loudest frame of
  the clip's mixture, mapped linearly from -40 dB (invisible) to 0 dB (full size and colour).
  A silent source is exactly invisible, so sight and sound coincide in time as in real video;
- **its position** is drawn per event from `seed` (then drifts slowly, bouncing off the
  borders), so where a sprite is says nothing about what it sounds like;
- **`distractors` grey blobs** that wander on smooth random paths all clip long: motion that
  no sound explains, so "anything moves" is not a shortcut to "something sounds".

The background is a plain dark grey, the same for every scene: a scene tint would make the
scene label visible without any event, and the scene task would stop measuring audio.

Rendering is batched: a pixel grid is compared with per-(clip, slot, frame) centres and
radii; loops run only over slots, shapes and memory-bounding chunks of clips. Positions and
distractor paths come from one torch Generator seeded by `seed` and drawn for the whole
batch, so the same (batch, seed) always gives the same video.
"""

from __future__ import annotations

import math

import torch

from audiorep.data.synthetic.world import SceneBatch
from audiorep.errors import ConfigError

SHAPES = ("disc", "square", "triangle", "ring", "cross")
TEXTURES = ("plain", "stripes", "checks")
BACKGROUND = 0.06  # dark grey, every scene alike
RANGE_DB = 40.0  # a source this far below the clip's loudest frame is invisible
RADIUS = 0.16  # largest sprite radius, as a fraction of the frame side
MIN_RADIUS = 0.35  # a barely audible sprite's radius, as a fraction of RADIUS
DRIFT = 0.06  # fastest sprite drift, frame sides per second
MARGIN = 0.15  # sprite centres stay this far from the borders
_CHUNK_ELEMENTS = 1 << 21  # clips * frames * pixels per rendering chunk (bounds memory)


def frame_count(seconds: float, fps: float) -> int:
    """The number of frames of a clip: round(seconds * fps), at least 1."""
    return max(1, round(seconds * fps))


def sprite_style(class_index: int) -> tuple[str, str, tuple[float, float, float]]:
    """(shape, texture, rgb in [0, 1]) of a class: fixed by the class index alone.

    Shape cycles with the index, texture changes every len(SHAPES) classes and the hue turns
    by the golden angle, so neighbouring classes differ in shape and colour and any two of
    the 17 built-in classes differ in at least two of the three."""
    c = int(class_index)
    hue = (c * 0.381966) % 1.0
    rgb = _hsv_to_rgb(torch.tensor([hue]), 0.85, 1.0)[0]
    return SHAPES[c % len(SHAPES)], TEXTURES[(c // len(SHAPES)) % len(TEXTURES)], tuple(rgb.tolist())


def frame_rms(x: torch.Tensor, sample_rate: int, fps: float, n_frames: int) -> torch.Tensor:
    """[..., T] -> [..., n_frames]: RMS over each frame's window [j / fps, (j + 1) / fps).

    Sums of squares come from a float64 cumulative sum, so an all-zero window is exactly 0
    (a silent source stays exactly invisible) whatever the rate ratio."""
    t = x.shape[-1]
    bounds = torch.tensor([min(t, round(j * sample_rate / fps)) for j in range(n_frames + 1)])
    energy = torch.nn.functional.pad(x.double().square().cumsum(-1), (1, 0))
    width = (bounds[1:] - bounds[:-1]).clamp(min=1)
    mean = (energy[..., bounds[1:]] - energy[..., bounds[:-1]]).clamp(min=0) / width
    return mean.sqrt().float()


def loudness(batch: SceneBatch, fps: float, n_frames: int) -> torch.Tensor:
    """[n, K, F] in [0, 1]: each source's frame RMS in dB relative to the loudest frame of its
    clip's mixture, mapped linearly from -RANGE_DB (0) to 0 dB (1). 0 exactly when silent."""
    ref = frame_rms(batch.audio, batch.sample_rate, fps, n_frames).amax(-1).clamp(min=1e-8)  # [n]
    rms = frame_rms(batch.sources, batch.sample_rate, fps, n_frames)  # [n, K, F]
    db = 20 * torch.log10(rms.clamp(min=1e-12) / ref[:, None, None])
    return torch.where(rms > 0, (1 + db / RANGE_DB).clamp(0, 1), torch.zeros_like(rms))


def render_video(batch: SceneBatch, *, size: int = 32, fps: float = 8, seed: int = 0,
                 distractors: int = 1) -> torch.Tensor:
    """uint8 [n, F, 3, size, size] frames of the batch's clips (see the module docstring)."""
    if int(size) != size or size < 4:
        raise ConfigError(f"video size must be an integer >= 4 pixels, got {size}")
    if not fps > 0:
        raise ConfigError(f"video fps must be > 0, got {fps}")
    if int(distractors) != distractors or distractors < 0:
        raise ConfigError(f"distractors must be a whole number >= 0, got {distractors}")
    size, distractors = int(size), int(distractors)
    n, k_slots, t = batch.sources.shape
    n_frames = frame_count(t / batch.sample_rate, fps)
    times = (torch.arange(n_frames, dtype=torch.float32) + 0.5) / fps  # [F]

    # --- everything random, drawn once for the whole batch
    g = torch.Generator().manual_seed(int(seed))
    start = MARGIN + (1 - 2 * MARGIN) * torch.rand(n, k_slots, 2, generator=g)
    angle = 2 * math.pi * torch.rand(n, k_slots, generator=g)
    speed = DRIFT * torch.rand(n, k_slots, generator=g)
    velocity = torch.stack([angle.cos(), angle.sin()], -1) * speed[..., None]
    centre = _bounce(start[:, :, None] + velocity[:, :, None] * times[None, None, :, None])  # [n, K, F, 2]
    d_mid = 0.3 + 0.4 * torch.rand(n, distractors, 2, generator=g)
    d_amp = 0.15 + 0.2 * torch.rand(n, distractors, 2, generator=g)
    d_freq = 0.15 + 0.35 * torch.rand(n, distractors, 2, generator=g)
    d_phase = 2 * math.pi * torch.rand(n, distractors, 2, generator=g)
    d_centre = d_mid[:, :, None] + d_amp[:, :, None] * torch.sin(
        2 * math.pi * d_freq[:, :, None] * times[None, None, :, None] + d_phase[:, :, None])  # [n, D, F, 2]

    # --- what each slot shows, frame by frame
    level = loudness(batch, fps, n_frames)  # [n, K, F]
    cls = batch.source_class.clamp(min=0)
    level = level * (batch.source_class >= 0)[..., None]
    radius = size * RADIUS * (MIN_RADIUS + (1 - MIN_RADIUS) * level)  # [n, K, F] pixels
    n_classes = max(len(batch.class_names), int(cls.max()) + 1)
    styles = [sprite_style(c) for c in range(n_classes)]
    shape_of = torch.tensor([SHAPES.index(s[0]) for s in styles])[cls]  # [n, K]
    texture_of = torch.tensor([TEXTURES.index(s[1]) for s in styles])[cls]
    colour_of = torch.tensor([s[2] for s in styles], dtype=torch.float32)[cls]  # [n, K, 3]

    out = torch.empty(n, n_frames, 3, size, size, dtype=torch.uint8)
    rows_per_chunk = max(1, _CHUNK_ELEMENTS // (n_frames * size * size))
    for a in range(0, n, rows_per_chunk):  # bounded memory: a few chunks, not a loop per clip
        b = min(n, a + rows_per_chunk)
        out[a:b] = _render_chunk(size, centre[a:b], radius[a:b], level[a:b], shape_of[a:b], texture_of[a:b],
                                 colour_of[a:b], d_centre[a:b])
    return out


def _render_chunk(size, centre, radius, level, shape_of, texture_of, colour_of, d_centre) -> torch.Tensor:
    """Composite distractors, then the slots in order, over the background: uint8 [m, F, 3, H, W]."""
    m, k_slots, n_frames = level.shape
    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size  # pixel centres in [0, 1]
    gy, gx = grid[:, None], grid[None, :]  # [H, 1], [1, W]
    image = torch.full((m, n_frames, 3, size, size), BACKGROUND)

    sigma = 0.07  # distractor: a soft grey blob, frame sides
    for d in range(d_centre.shape[1]):
        dx = gx - d_centre[:, d, :, 0, None, None]  # [m, F, H, W]
        dy = gy - d_centre[:, d, :, 1, None, None]
        alpha = 0.8 * torch.exp(-(dx.square() + dy.square()) / (2 * sigma**2))
        image = image + (0.55 - image) * alpha[:, :, None]

    for k in range(k_slots):
        r = radius[:, k, :, None, None]  # [m, F, 1, 1] pixels
        u = (gx - centre[:, k, :, 0, None, None]) * size / r  # sprite coordinates, radius units
        v = (gy - centre[:, k, :, 1, None, None]) * size / r
        distance = torch.zeros(m, n_frames, size, size)
        for s, name in enumerate(SHAPES):  # a few shape types, each on the clips that use it
            rows = (shape_of[:, k] == s).nonzero().flatten()
            if rows.numel():
                distance[rows] = _signed_distance(name, u[rows], v[rows])
        cover = (0.5 - distance * r).clamp(0, 1)  # ~1 px anti-aliased edge
        shade = _texture(texture_of[:, k, None, None, None], u, v)  # [m, F, H, W]
        alpha = (cover * level[:, k, :, None, None])[:, :, None]  # [m, F, 1, H, W]
        paint = colour_of[:, k, None, :, None, None] * shade[:, :, None]  # [m, F, 3, H, W]
        image = image + (paint - image) * alpha
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


def _signed_distance(name: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Signed distance (radius units, < 0 inside) of a unit-radius shape at the origin."""
    if name == "disc":
        return torch.sqrt(u.square() + v.square()) - 1
    if name == "square":
        return torch.maximum(u.abs(), v.abs()) - 0.85
    if name == "triangle":  # equilateral, pointing up (image rows grow downwards), inradius 0.5
        return torch.maximum(u.abs() * (math.sqrt(3) / 2) - v * 0.5, v) - 0.5
    if name == "ring":
        return (torch.sqrt(u.square() + v.square()) - 0.7).abs() - 0.3
    if name == "cross":
        arm = 0.33
        return torch.minimum(torch.maximum(u.abs() - 1, v.abs() - arm), torch.maximum(u.abs() - arm, v.abs() - 1))
    raise ValueError(name)


def _texture(kind: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Brightness pattern in sprite coordinates (it moves and scales with the sprite)."""
    stripes = torch.where(torch.sin(v * 2.5 * math.pi) > 0, 1.0, 0.4)
    checks = torch.where(torch.sin(u * 2.0 * math.pi) * torch.sin(v * 2.0 * math.pi) > 0, 1.0, 0.4)
    plain = torch.ones_like(u)
    return torch.where(kind == 0, plain, torch.where(kind == 1, stripes, checks))


def _bounce(p: torch.Tensor) -> torch.Tensor:
    """Fold positions into [MARGIN, 1 - MARGIN], reflecting at the borders."""
    span = 1 - 2 * MARGIN
    x = torch.remainder(p - MARGIN, 2 * span)
    return MARGIN + span - (x - span).abs()


def _hsv_to_rgb(hue: torch.Tensor, saturation: float, value: float) -> torch.Tensor:
    """[m] hues in [0, 1) -> [m, 3] RGB."""
    k = torch.remainder(torch.tensor([5.0, 3.0, 1.0]) + hue[:, None] * 6, 6)
    return value - value * saturation * torch.minimum(k, 4 - k).clamp(0, 1)
