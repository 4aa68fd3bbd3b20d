"""Construction from config, in one place: config in, objects out.

Registries are looked up here, and nowhere else: a section's `name` picks a class, and the
class's own config dataclass (`cls.Config`) checks the section's keys. Everything a recipe
describes is built here: front-ends, encoders, embedders (trained, random-init, baselines),
separators, methods (with the parts their constructor names), optimisers, schedules, data
sources and the online probe.
"""

from __future__ import annotations

import dataclasses
import inspect

import torch

from audiorep.config import Config, config_from_dict, from_dict
from audiorep.data.shard_source import ShardSource
from audiorep.data.sources import ArraySource, FolderSource, ManifestSource
from audiorep.data.synthetic import generate_clips
from audiorep.data.training_batches import IndexedBatches, StreamedBatches
from audiorep.data.video_source import VideoSource
from audiorep.errors import CheckpointError, ConfigError
from audiorep.eval.baselines import LogMelStatsEmbedder
from audiorep.eval.online_probe import OnlineProbe
from audiorep.frontend.log_mel import LogMel
from audiorep.frontend.waveform import Waveform
from audiorep.io.checkpoint import load_checkpoint
from audiorep.methods import METHODS
from audiorep.methods.generative import default_fit
from audiorep.models import ENCODERS, VIDEO_ENCODERS
from audiorep.models.embedder import AudioEmbedder
from audiorep.optim.schedule import LearningRateSchedule
from audiorep.separation.tdcn import TDCNConfig, TDCNSeparator
from audiorep.tokenizers import build_tokenizer, load_tokenizer
from audiorep.tokenizers.fit_on_source import fit_on_source

FRONTENDS = {"log_mel": LogMel, "waveform": Waveform}
BASELINES = ("logmel", "random")


# ---- named sections -------------------------------------------------------------------
def _section(registry: dict, section: dict, key: str):
    name = section.get("name")
    if name not in registry:
        raise ConfigError(f"config key '{key}.name': got {name!r}, expected one of {sorted(registry)}")
    return registry[name], from_dict(registry[name].Config, section, key)


def method_config(cfg: Config):
    """The method's class and its validated config dataclass."""
    return _section(METHODS, cfg.method, "method")


def encoder_config(cfg: Config):
    """The encoder's class and its validated config dataclass."""
    return _section(ENCODERS, cfg.encoder, "encoder")


def resolve(cfg: Config) -> Config:
    """`cfg` with the method and encoder sections checked and every default written out,
    as checkpoints store it (so a later default cannot change what a checkpoint builds)."""
    _, method = method_config(cfg)
    _, encoder = encoder_config(cfg)
    method = dataclasses.asdict(method)
    if "video_encoder" in method:
        method["video_encoder"] = dataclasses.asdict(_section(VIDEO_ENCODERS, method["video_encoder"],
                                                              "method.video_encoder")[1])
    return dataclasses.replace(cfg, method=method, encoder=dataclasses.asdict(encoder))


# ---- the representation ---------------------------------------------------------------
def build_frontend(cfg: Config) -> torch.nn.Module:
    f, rate = cfg.frontend, cfg.data.sample_rate
    if f.name not in FRONTENDS:
        raise ConfigError(f"config key 'frontend.name': got {f.name!r}, expected one of {sorted(FRONTENDS)}")
    if f.name == "waveform":
        return Waveform(rate)
    return LogMel(rate, f.n_mels, f.win_ms, f.hop_ms, f.f_min, min(f.f_max, rate / 2))


def build_encoder(cfg: Config, in_features: int) -> torch.nn.Module:
    cls, e = encoder_config(cfg)
    fields = {k: v for k, v in dataclasses.asdict(e).items() if k != "name"}
    return cls(in_features=in_features, **fields)


def build_embedder(cfg: Config) -> AudioEmbedder:
    """Front-end + encoder at random initialisation; the encoder must read what the front-end makes."""
    frontend = build_frontend(cfg)
    cls, _ = encoder_config(cfg)
    if cls.reads != frontend.produces:
        readers = sorted(n for n, c in ENCODERS.items() if c.reads == frontend.produces)
        raise ConfigError(f"config key 'encoder.name': {cfg.encoder['name']} reads {cls.reads}, but "
                          f"frontend.name={cfg.frontend.name} makes {frontend.produces}; use one of {readers}")
    return AudioEmbedder(frontend, build_encoder(cfg, frontend.n_features))


def _trained_config(path, state: dict) -> Config:
    if "config" not in state:
        raise CheckpointError(f"{path}: not an audiorep checkpoint (no config entry)")
    tree = state["config"]
    if state.get("format") == "audiorep-checkpoint/1" and tree.get("encoder", {}).get("name") != "cnn":
        # format 1 wrote one encoder section for all encoders, with the CNN's key in it
        tree = {**tree, "encoder": {k: v for k, v in tree["encoder"].items() if k != "convs_per_stage"}}
    return config_from_dict(tree)


def load_embedder(checkpoint_path, device: str | torch.device = "cpu") -> AudioEmbedder:
    """The trained embedder of an audiorep checkpoint, in eval mode on `device`."""
    state = load_checkpoint(checkpoint_path)
    cfg = _trained_config(checkpoint_path, state)
    if "embedder" not in state:
        raise CheckpointError(f"{checkpoint_path}: holds no embedder (method {cfg.method.get('name')!r} "
                              "trains none)")
    embedder = build_embedder(cfg)
    try:
        missing, unexpected = embedder.load_state_dict(state["embedder"], strict=False)
    except RuntimeError as err:  # a tensor of another shape than its own config builds
        raise CheckpointError(f"{checkpoint_path}: weights do not fit the encoder its config builds "
                              f"({str(err).splitlines()[-1].strip()})") from None
    if missing or unexpected:
        raise CheckpointError(f"{checkpoint_path}: weights do not match the encoder in its config "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return embedder.to(device).eval()


def random_init_embedder(encoder_name: str = "cnn", seed: int = 0, cfg: Config | None = None) -> AudioEmbedder:
    """The same architecture at random initialisation: the floor every method must beat."""
    cfg = cfg or Config(encoder={"name": encoder_name})
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build_embedder(cfg).eval()


def random_init_like(checkpoint_path, seed: int = 0) -> AudioEmbedder:
    """The architecture of a checkpoint at random initialisation (its config, fresh weights)."""
    return random_init_embedder(cfg=_trained_config(checkpoint_path, load_checkpoint(checkpoint_path)), seed=seed)


def build_baseline(name: str, seed: int = 0, cfg: Config | None = None) -> torch.nn.Module:
    """A reference embedder in eval mode: 'logmel' statistics or the 'random' init of `cfg`'s
    architecture (the default CNN without one)."""
    if name == "logmel":
        f = (cfg or Config()).frontend
        return LogMelStatsEmbedder((cfg or Config()).data.sample_rate, f.n_mels, f.hop_ms).eval()
    if name == "random":
        return random_init_embedder(seed=seed, cfg=cfg)
    raise ConfigError(f"baseline {name!r} is unknown; choose one of {list(BASELINES)}")


# ---- separators -----------------------------------------------------------------------
def build_separator(model: dict, sample_rate: int | None = None, key: str = "method.model") -> TDCNSeparator:
    """A separator at random initialisation from TDCN keys; its rate is the data's when given."""
    if sample_rate is not None:
        if model.get("sample_rate", sample_rate) != sample_rate:
            raise ConfigError(f"config key '{key}.sample_rate': got {model['sample_rate']}, expected the data's "
                              f"rate ({sample_rate}); set data.sample_rate instead")
        model = {**model, "sample_rate": sample_rate}
    return TDCNSeparator(from_dict(TDCNConfig, model, key))


def load_separator(path, device: str | torch.device = "cpu") -> TDCNSeparator:
    """A separator in eval mode from a separator method's checkpoint (any of last / early /
    middle / late) or a standalone separator file (`save_separator`)."""
    state = load_checkpoint(path, map_location=device)
    if state.get("kind") == "separator" and isinstance(state.get("model_config"), dict) and \
            isinstance(state.get("state_dict"), dict):
        model, weights = state["model_config"], state["state_dict"]
    elif state.get("config", {}).get("method", {}).get("name") == "separator":
        cfg = config_from_dict(state["config"])
        model = {**cfg.method.get("model", {}), "sample_rate": cfg.data.sample_rate}
        weights = {k.removeprefix("separator."): v for k, v in state["method"].items() if k.startswith("separator.")}
    else:
        raise CheckpointError(f"{path}: not a separator checkpoint (neither 'kind: separator' nor a separator "
                              "method's training checkpoint)")
    try:
        separator = build_separator(model, key="model")
        separator.load_state_dict(weights)
    except (ConfigError, TypeError, RuntimeError) as err:
        raise CheckpointError(f"{path}: separator weights do not match its config ({err})") from err
    return separator.to(device).eval()


def build_video_encoder(section: dict, key: str = "method.video_encoder") -> torch.nn.Module:
    """A video encoder (frames [B, F, 3, H, W] -> [B, D]) from its config section."""
    cls, vcfg = _section(VIDEO_ENCODERS, section, key)
    return cls(**{k: v for k, v in dataclasses.asdict(vcfg).items() if k != "name"})


# ---- methods and their training -------------------------------------------------------
def build_fitted_tokenizer(cfg: Config, source=None, device: str | torch.device = "cpu",
                           progress: bool = True) -> torch.nn.Module:
    """The frozen tokenizer of a `token_lm` encoder: read from `method.tokenizer_path`, or
    fitted on random crops of the recipe's data (or of `source`: a source, or a function that
    returns one, called only when a fit needs it) on `device`."""
    _, enc = encoder_config(cfg)
    _, mcfg = method_config(cfg)
    if not hasattr(enc, "tokenizer"):
        raise ConfigError(f"method {mcfg.name!r} trains on tokens: set encoder.name=token_lm (got {enc.name})")
    n_features = cfg.frontend.n_mels
    wanted = {"tokenizer": enc.tokenizer, "n_features": n_features, "codebook_size": enc.codebook_size,
              "patch_frames": enc.patch_frames}
    if mcfg.tokenizer_path:
        tokenizer = load_tokenizer(mcfg.tokenizer_path, device=device)
        found = {"tokenizer": tokenizer.name, "n_features": tokenizer.n_features,
                 "codebook_size": tokenizer.codebook_size, "patch_frames": tokenizer.patch_frames}
        if found != wanted:
            bad = [f"{k}={found[k]} (the config says {wanted[k]})" for k in wanted if found[k] != wanted[k]]
            raise ConfigError(f"method.tokenizer_path={mcfg.tokenizer_path}: the tokenizer has {', '.join(bad)}; "
                              "set the encoder and front-end sections to match, or fit a new one")
        return tokenizer
    tokenizer = build_tokenizer(enc.tokenizer, n_features, enc.codebook_size, enc.patch_frames)
    fit = {**default_fit(), **mcfg.fit}
    kwargs = ({"iterations": int(fit["iterations"])} if enc.tokenizer == "kmeans"
              else {"steps": int(fit["steps"]), **({"lr": float(fit["lr"])} if "lr" in fit else {})})
    source = source() if callable(source) else source
    source = source if source is not None else build_source(cfg, ("audio",), progress=progress)
    tokenizer.fit_report = fit_on_source(tokenizer, source, build_frontend(cfg), int(fit["clips"]),
                                         cfg.data.clip_seconds, seed=int(fit.get("seed", cfg.seed)), device=device,
                                         num_workers=cfg.data.num_workers, progress=progress,
                                         batch_size=int(fit["batch_size"]), **kwargs)
    return tokenizer


def build_method(cfg: Config, source=None, device: str | torch.device = "cpu", progress: bool = True):
    """The method `cfg.method` names, given the parts its constructor asks for by name (a part
    fitted on data, the tokenizer, reads `source` (or what a function `source` returns) on
    `device`)."""
    cls, mcfg = method_config(cfg)
    parts = {
        "embedder": lambda: build_embedder(cfg),
        "sample_rate": lambda: cfg.data.sample_rate,
        "separators": lambda: [load_separator(p) for p in mcfg.separators],
        "separator": lambda: build_separator(mcfg.model, cfg.data.sample_rate),
        "video_encoder": lambda: build_video_encoder(mcfg.video_encoder),
        "tokenizer": lambda: build_fitted_tokenizer(cfg, source, device, progress),
    }
    wanted = [p for p in inspect.signature(cls).parameters if p != "cfg"]
    unknown = [p for p in wanted if p not in parts]
    if unknown:
        raise TypeError(f"method {mcfg.name!r} asks for parts {unknown} that audiorep.builders cannot build")
    return cls(mcfg, **{p: parts[p]() for p in wanted})


def build_optimizer(cfg: Config, model: torch.nn.Module) -> torch.optim.Optimizer:
    """AdamW; no weight decay on norms and biases (they are not scale-free weights)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.train.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.train.lr)


def build_schedule(cfg: Config) -> LearningRateSchedule:
    t = cfg.train
    return LearningRateSchedule(t.lr, t.warmup_steps, t.lr_schedule, t.final_lr_fraction)


def build_source(cfg: Config, fields: tuple[str, ...] = ("audio",), progress: bool = True):
    """The clip source a config names: the synthetic world (generated in memory, with its
    isolated sources or its video track when `fields` asks for them), a folder or a manifest
    (of audio files; of video files when `fields` asks for `video`), or tar shards."""
    d = cfg.data
    if d.source != "synthetic" and "sources" in fields:
        raise ConfigError(f"this method needs isolated sources, which data.source={d.source} does not have; "
                          "use data.source=synthetic")
    if d.source == "shards":  # WebDataset tar shards: audio, and frames when the method asks for video
        video = "video" in fields
        return ShardSource(d.path, sample_rate=d.sample_rate, fields=tuple(fields),
                           video_size=d.video.size if video else None, video_fps=d.video.fps if video else None,
                           epoch_samples=d.shards.epoch_samples)
    if d.source != "synthetic" and "video" in fields:  # a folder or manifest of video files
        return VideoSource(d.path, sample_rate=d.sample_rate, video_size=d.video.size, video_fps=d.video.fps)
    if d.source == "folder":
        return FolderSource(d.path, sample_rate=d.sample_rate)
    if d.source == "manifest":
        return ManifestSource(d.path, sample_rate=d.sample_rate)
    s = d.synthetic
    clips = generate_clips(s.n_clips, s.seed, d.sample_rate, s.clip_seconds, s.max_events, s.background,
                           sources="sources" in fields, progress=progress,
                           video=d.video if "video" in fields else None)
    extra = {"sources": clips.sources} if clips.sources is not None else {}
    if clips.video is not None:
        extra["video"] = clips.video
    return ArraySource(clips.audio, d.sample_rate, clips.meta, fields=extra or None,
                       field_rates={"video": d.video.fps} if clips.video is not None else None)


def build_training_batches(cfg: Config, source, fields: tuple[str, ...], rank: int = 0, world_size: int = 1,
                           pin_memory: bool = False):
    """What the trainer reads from step N on: streamed batches for shards, indexed ones otherwise."""
    common = dict(seed=cfg.seed, rank=rank, world_size=world_size, batch_size=cfg.train.batch_size,
                  num_workers=cfg.data.num_workers, pin_memory=pin_memory)
    if isinstance(source, ShardSource):
        return StreamedBatches(source, cfg.data.clip_seconds, shuffle_buffer=cfg.data.shards.shuffle_buffer, **common)
    return IndexedBatches(source, cfg.data.sample_rate, cfg.data.clip_seconds, fields=fields, **common)


def build_online_probe(cfg: Config, progress: bool = True) -> OnlineProbe | None:
    """The labelled set the trainer probes every `train.online_probe.every_steps` steps, or None.

    Default: scene labels of synthetic scenes from seeds never used for pretraining.
    """
    p = cfg.train.online_probe
    if not p.every_steps:
        return None
    if p.manifest:
        source = ManifestSource(p.manifest, sample_rate=cfg.data.sample_rate)
        n = min(p.n_clips, len(source))
        audio = torch.stack([torch.from_numpy(source.load(i, p.clip_seconds, crop="start")) for i in range(n)])
        labels = [str(r.label) for r in source.records[:n]]
    else:
        s = cfg.data.synthetic
        clips = generate_clips(p.n_clips, s.seed + 20_000, cfg.data.sample_rate, p.clip_seconds, s.max_events,
                               progress=progress)
        audio, labels = clips.audio, clips.scene
    return OnlineProbe(audio, labels, multilabel=False, every_n_steps=p.every_steps, seed=cfg.seed)


def build_baselines(cfg: Config, seed: int | None = None) -> dict[str, torch.nn.Module]:
    """The references a pretrained encoder is reported beside: its architecture at random
    initialisation, and log-mel statistics at its rate and mel settings."""
    seed = cfg.seed if seed is None else seed
    return {"random_init": build_baseline("random", seed, cfg), "logmel": build_baseline("logmel", cfg=cfg)}
