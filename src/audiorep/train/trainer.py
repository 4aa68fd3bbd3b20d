"""The training loop every method shares.

AdamW with warm-up + cosine (over steps, or over the wall-clock budget when that binds
first), mixed precision on GPU, DDP under torchrun, a progress bar, CSV + TensorBoard logs,
an optional online linear probe, atomic checkpoints and exact resume: the sampler position,
the augmentation generator and the optimiser state are all in the checkpoint, so a killed
run continues as if it had never stopped. Bad files are skipped, counted and listed.
"""

from __future__ import annotations

import csv
import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from audiorep.builders import build_method, build_online_probe, build_optimizer, build_source, lr_factor
from audiorep.config import Config
from audiorep.data.dataset import ClipDataset
from audiorep.data.sampler import ResumableSampler
from audiorep.errors import ConfigError
from audiorep.train.checkpoint import load_checkpoint, save_checkpoint
from audiorep.train.distributed import cleanup_distributed, init_distributed

LAST = "last.pt"


class Trainer:
    def __init__(self, cfg: Config, out_dir: str | os.PathLike | None = None, resume: bool = False,
                 online_probe=None, progress: bool = True, source=None):
        self.cfg = cfg
        self.out_dir = Path(out_dir or cfg.train.out_dir)
        self.resume = resume
        self.online_probe = online_probe
        self.progress = progress
        self.source = source
        self.bad_files: dict[str, int] = {}
        self.stop_requested = False

    # ---- set-up -------------------------------------------------------------------------
    def _amp_context(self):
        amp = self.cfg.train.amp
        if self.device.type != "cuda" or amp == "off":
            return nullcontext()
        if amp in ("auto", "bf16") and torch.cuda.is_bf16_supported():
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cuda", dtype=torch.float16)

    def _uses_grad_scaler(self) -> bool:
        amp = self.cfg.train.amp
        return self.device.type == "cuda" and (amp == "fp16" or (amp in ("auto", "bf16") and not torch.cuda.is_bf16_supported()))

    def _setup(self):
        cfg = self.cfg
        self.dist, self.device = init_distributed(cfg.train.device)
        torch.manual_seed(cfg.seed + self.dist.rank)
        self.method = build_method(cfg).to(self.device)
        self.optimizer = build_optimizer(cfg, self.method)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self._uses_grad_scaler())
        self.generator = torch.Generator().manual_seed(cfg.seed * 7919 + self.dist.rank)
        if self.source is None:
            self.source = build_source(cfg, progress=self.progress and self.dist.is_main)
        if len(self.source) < cfg.train.batch_size * self.dist.world_size:
            raise ConfigError(f"the data source has {len(self.source)} clips, fewer than one batch "
                              f"(train.batch_size={cfg.train.batch_size} x {self.dist.world_size} processes)")
        if self.online_probe is None and self.dist.is_main:
            self.online_probe = build_online_probe(cfg, progress=self.progress)
        self.dataset = ClipDataset(self.source, cfg.data.sample_rate, cfg.data.clip_seconds, crop="random", seed=cfg.seed)
        self.sampler = ResumableSampler(len(self.dataset), cfg.seed, self.dist.rank, self.dist.world_size)
        self.loader = DataLoader(self.dataset, batch_size=cfg.train.batch_size, sampler=self.sampler,
                                 num_workers=cfg.data.num_workers, collate_fn=self.dataset.collate_fn,
                                 drop_last=True, pin_memory=self.device.type == "cuda",
                                 persistent_workers=False)
        self.steps_per_epoch = len(self.sampler) // cfg.train.batch_size
        self.step, self.elapsed_before = 0, 0.0
        if self.resume:
            self._load(self.out_dir / LAST)
        self.model = self.method
        if self.dist.enabled:
            self.model = torch.nn.parallel.DistributedDataParallel(
                self.method, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        if cfg.train.compile:
            self.model = torch.compile(self.model)

    def _load(self, path: Path):
        if not path.is_file():
            raise ConfigError(f"--resume: no checkpoint at {path} (nothing to resume; drop --resume to start)")
        state = load_checkpoint(path, map_location="cpu")
        self.method.load_state_dict(state["method"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.step = int(state["step"])
        self.elapsed_before = float(state["elapsed_s"])
        self.bad_files = dict(state.get("bad_files", {}))
        if self.dist.is_main:
            print(f"resumed from {path} at step {self.step}")

    def _save(self, path: Path):
        if not self.dist.is_main:
            return
        state = {
            "format": "audiorep-checkpoint/1",
            "config": self.cfg.to_dict(),
            "embedder": self.method.embedder.state_dict(),
            "method": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "step": self.step,
            "elapsed_s": self._elapsed(),
            "bad_files": self.bad_files,
        }
        save_checkpoint(path, state)

    # ---- the loop -----------------------------------------------------------------------
    def _elapsed(self) -> float:
        return self.elapsed_before + (time.time() - self.t_start)

    def _progress_fraction(self) -> float:
        t = self.cfg.train
        frac = self.step / t.steps
        if t.minutes:
            frac = max(frac, self._elapsed() / (60 * t.minutes))
        return min(frac, 1.0)

    def _set_lr(self):
        t = self.cfg.train
        factor = lr_factor(self.step, t.warmup_steps, self._progress_fraction())
        for group in self.optimizer.param_groups:
            group["lr"] = t.lr * factor
        return t.lr * factor

    def _batches(self):
        """Batches from the current position on, epoch after epoch, resuming mid-epoch."""
        epoch, offset = divmod(self.step, self.steps_per_epoch)
        while True:
            self.sampler.set_epoch(epoch, offset * self.cfg.train.batch_size)
            self.dataset.set_epoch(epoch)
            yield from self.loader
            epoch, offset = epoch + 1, 0

    def _handle_sigterm(self, *_):
        self.stop_requested = True

    def fit(self) -> dict:
        """Train until `train.steps` or the `train.minutes` budget; return a summary."""
        self._setup()
        cfg, t = self.cfg, self.cfg.train
        self.out_dir.mkdir(parents=True, exist_ok=True)
        main = self.dist.is_main
        log_file = writer = bar = None
        if main:
            (self.out_dir / "config.yaml").write_text(_to_yaml(cfg.to_dict()))
            new = not (self.resume and (self.out_dir / "metrics.csv").exists())
            log_file = open(self.out_dir / "metrics.csv", "a" if not new else "w", newline="")
            log = csv.writer(log_file)
            header_written = not new
            if header_written:  # resuming: keep the columns of the file we append to
                with open(self.out_dir / "metrics.csv") as f:
                    self._log_keys = next(csv.reader(f), [])
            writer = _tensorboard(self.out_dir / "tensorboard")
            from tqdm.auto import tqdm

            bar = tqdm(total=t.steps, initial=self.step, desc=f"pretrain {cfg.method['name']}", unit="step",
                       disable=not self.progress, dynamic_ncols=True)
        old_handler = signal.signal(signal.SIGTERM, self._handle_sigterm) if main and _main_thread() else None
        self.method.train()
        self.t_start = time.time()
        clips_seen, t_window, running = 0, time.time(), {}
        start_step = self.step
        try:
            for batch in self._batches():
                if self.step >= t.steps or self.stop_requested or (t.minutes and self._elapsed() >= 60 * t.minutes):
                    break
                for err in batch["errors"]:
                    self.bad_files[err] = self.bad_files.get(err, 0) + 1
                audio = batch["audio"]
                if audio.shape[0] < 2 and not self.dist.enabled:
                    continue  # (under DDP every rank must step together; the gather handles small batches)
                audio = audio.to(self.device, non_blocking=True)
                lr = self._set_lr()
                with self._amp_context():
                    out = self.model(audio, self.generator)
                loss = out["loss"]
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"loss became {loss.item()} at step {self.step}; lower train.lr or check the data")
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                if t.grad_clip:
                    self.scaler.unscale_(self.optimizer)
                    torch.nn.utils.clip_grad_norm_(self.method.parameters(), t.grad_clip)
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.step += 1
                clips_seen += audio.shape[0] * self.dist.world_size
                for k, v in out.items():
                    running[k] = running.get(k, 0.0) + float(v.detach() if torch.is_tensor(v) else v)
                if main and (self.step % t.log_every == 0 or self.step == t.steps):
                    n_logged = t.log_every if self.step % t.log_every == 0 else max(1, self.step - start_step)
                    row = {k: v / n_logged for k, v in running.items()}
                    row.update(step=self.step, lr=lr, clips_per_s=clips_seen / max(1e-9, time.time() - t_window),
                               elapsed_s=self._elapsed(), bad_files=sum(self.bad_files.values()))
                    running, clips_seen, t_window = {}, 0, time.time()
                    if self.online_probe is not None and self.step % t.online_probe.every_steps == 0:
                        row.update(self._probe())
                    if not header_written:
                        self._log_keys = list(row) + (["probe_accuracy"] if self.online_probe is not None and "probe_accuracy" not in row else [])
                        log.writerow(self._log_keys)
                        header_written = True
                    keys = getattr(self, "_log_keys", list(row))
                    log.writerow([row.get(k, "") for k in keys])
                    log_file.flush()
                    if writer:
                        for k, v in row.items():
                            if k != "step":
                                writer.add_scalar(f"train/{k}", v, self.step)
                    postfix = {k: f"{row[k]:.3g}" for k in ("loss", "lr", "clips_per_s") if k in row}
                    if getattr(self, "_last_probe", None):
                        postfix["probe"] = f"{next(iter(self._last_probe.values())):.3f}"
                    if t.minutes:  # the budget, not the step count, usually ends the run
                        postfix["budget_left"] = f"{max(0.0, 60 * t.minutes - self._elapsed()) / 60:.1f}min"
                    bar.set_postfix(postfix)
                if bar:
                    bar.update(1)
                if self.step % t.checkpoint_every == 0:
                    self._save(self.out_dir / LAST)
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGTERM, old_handler)
            if bar:
                bar.close()
            if log_file:
                log_file.close()
            if writer:
                writer.close()
        self._save(self.out_dir / LAST)
        summary = {
            "method": cfg.method["name"],
            "steps": self.step,
            "seconds": round(self._elapsed(), 2),
            "clips_per_second": round(self.step * t.batch_size * self.dist.world_size / max(1e-9, self._elapsed()), 2),
            "bad_files": sum(self.bad_files.values()),
            "checkpoint": str(self.out_dir / LAST),
        }
        if main:
            self._report_bad_files()
        cleanup_distributed()
        return summary

    def _probe(self) -> dict:
        embedder = self.method.embedder
        embedder.eval()  # frozen features: BatchNorm must not adapt to the probe clips

        def embed(wave):
            return embedder(wave.to(self.device))

        try:
            result = self.online_probe.run(embed)
        finally:
            embedder.train()
        self._last_probe = result
        return result

    def _report_bad_files(self):
        if not self.bad_files:
            return
        path = self.out_dir / "bad_files.txt"
        path.write_text("".join(f"{n}\t{err}\n" for err, n in sorted(self.bad_files.items())))
        print(f"skipped {sum(self.bad_files.values())} unusable clip reads from {len(self.bad_files)} files; "
              f"list in {path}")


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _tensorboard(path: Path):
    """A TensorBoard writer that never imports TensorFlow (writing event files needs only
    tensorboard's stub; importing a real TensorFlow, when installed, costs ~10-30 s)."""
    import sys
    import types

    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # tensorboard not installed: CSV logs still work
        return None
    return SummaryWriter(str(path))


def _to_yaml(tree: dict) -> str:
    import yaml

    return yaml.safe_dump(tree, sort_keys=False)
