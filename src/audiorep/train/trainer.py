"""The training loop every method shares, self-supervised or separator.

AdamW with warm-up + cosine or constant rate (over steps, or over the wall-clock budget when
that binds first), mixed precision on GPU, DDP under torchrun, progress over the budget
(`RunProgress`), CSV + TensorBoard logs (`MetricsLog`), an optional online linear probe,
atomic checkpoints kept at fractions of the run (`Checkpointing`) and exact resume (of the
run's own config: `train/resume.py` says what a resume may change): the data position (to within the
shuffle buffer for streamed shards), every rank's augmentation generator and global random
states, the optimiser and the fp16 grad scaler are all in the checkpoint, so a killed run
continues as if it had never stopped.
Under DDP every decision that reads the clock (the rate, stopping, checkpoints) uses rank 0's
clock, so the ranks agree. Bad files are skipped, counted and listed.

The loop moves each batch (a mapping of named fields) to the device, asks the method for
its loss, steps the optimiser and calls `method.after_step`; everything else is a part it
calls.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import yaml

from audiorep.builders import (build_method, build_online_probe, build_optimizer, build_schedule, build_source,
                               build_training_batches, method_config, resolve)
from audiorep.config import Config
from audiorep.errors import ConfigError, NonFiniteLossError
from audiorep.io.checkpoint import load_method_state
from audiorep.train.checkpointing import Checkpointing
from audiorep.train.distributed import any_rank, broadcast_from_main, finish_together, gather_objects, init_distributed
from audiorep.train.metrics_log import MetricsLog
from audiorep.train.progress import RunProgress
from audiorep.train.rng_state import capture_rng, restore_rng
from audiorep.train.stop_signal import StopOnSignal

UNREADABLE_BATCHES = 50
"""Consecutive batches without one readable clip after which a run stops instead of spinning."""


class Trainer:
    def __init__(self, cfg: Config, out_dir: str | os.PathLike | None = None, resume: bool = False,
                 online_probe=None, progress: bool = True, source=None):
        self.cfg = resolve(cfg)
        self.out_dir = Path(out_dir or cfg.train.out_dir)
        self.resume = resume
        self.online_probe = online_probe
        self.progress = progress
        self.source = source
        self.bad_files: dict[str, int] = {}

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
        progress = self.progress and self.dist.is_main

        def data_for_parts():  # a part fitted on the data (a tokenizer) reads the training source
            if self.source is None:
                self.source = build_source(cfg, method_config(cfg)[0].batch_fields, progress=progress)
            return self.source

        self.method = build_method(cfg, source=data_for_parts, device=self.device, progress=progress).to(self.device)
        self.embedder = getattr(self.method, "embedder", None)
        self.optimizer = build_optimizer(cfg, self.method)
        self.schedule = build_schedule(cfg)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self._uses_grad_scaler())
        self.generator = torch.Generator().manual_seed(cfg.seed * 7919 + self.dist.rank)
        if self.source is None:
            self.source = build_source(cfg, self.method.batch_fields, progress=progress)
        if len(self.source) < cfg.train.batch_size * self.dist.world_size:
            raise ConfigError(f"the data source has {len(self.source)} clips, fewer than one batch "
                              f"(train.batch_size={cfg.train.batch_size} x {self.dist.world_size} processes)")
        if self.online_probe is None and self.dist.is_main and self.embedder is not None:
            self.online_probe = build_online_probe(cfg, progress=self.progress)
        self.batches = build_training_batches(cfg, self.source, self.method.batch_fields, self.dist.rank,
                                              self.dist.world_size, pin_memory=self.device.type == "cuda")
        self.checkpoints = Checkpointing(self.out_dir, cfg.train.checkpoint_every, cfg.train.keep_checkpoints,
                                         enabled=self.dist.is_main)
        self.step, self.elapsed_before = 0, 0.0
        self.nonfinite_in_a_row = self.skipped_steps = 0
        if self.resume:
            self._load()
        self.model = self.method
        if self.dist.enabled:
            self.model = torch.nn.parallel.DistributedDataParallel(
                self.method, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        if cfg.train.compile:
            self.model = torch.compile(self.model)

    def _load(self):
        state = self.checkpoints.load_last()
        # a checkpoint of another model is one CheckpointError naming the config keys that differ
        load_method_state(self.method, state, self.checkpoints.last, self.cfg.to_dict(), optimizer=self.optimizer)
        self._restore_random_streams(state)
        was = state.get("config", {}).get("data", {}).get("num_workers")
        if self.cfg.data.source == "shards" and was is not None and was != self.cfg.data.num_workers:
            print(f"rank {self.dist.rank}: the run stopped with data.num_workers={was}, now {self.cfg.data.num_workers}: "
                  "each worker's shard stream starts where that many workers would be, not where it stopped")
        if "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        self.elapsed_before = float(state["elapsed_s"])
        self.bad_files = dict(state.get("bad_files", {}))
        self.checkpoints.skip_reached(self._progress_fraction(self.elapsed_before))
        if self.dist.is_main:
            print(f"resumed from {self.checkpoints.last} at step {self.step}")

    def _restore_random_streams(self, state: dict) -> None:
        streams = state.get("rng")
        if streams and len(streams) == self.dist.world_size:
            restore_rng(streams[self.dist.rank], self.generator)
        elif streams:
            print(f"rank {self.dist.rank}: the checkpoint has the random streams of {len(streams)} processes, this run "
                  f"{self.dist.world_size}: augmentations continue from fresh per-rank seeds, not as they would have")
        else:  # format 1 kept rank 0's augmentation generator only
            self.generator.set_state(state["generator"])

    def _state(self) -> dict:
        """The whole training state; every rank calls it (its random streams are gathered)."""
        state = {
            "format": "audiorep-checkpoint/2",  # 2: each encoder its own config section; every rank's random streams
            "config": self.cfg.to_dict(),
            "method": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": gather_objects(capture_rng(self.generator), self.dist),
            "generator": self.generator.get_state(),
            "step": self.step,
            "elapsed_s": self._elapsed(),
            "bad_files": self.bad_files,
        }
        if self.embedder is not None:
            state["embedder"] = self.embedder.state_dict()
        return state

    # ---- the loop -----------------------------------------------------------------------
    def _elapsed(self) -> float:
        return self.elapsed_before + (time.time() - self.t_start)

    def _progress_fraction(self, elapsed: float) -> float:
        """Steps done over train.steps, or the wall-clock budget used when that is further."""
        t = self.cfg.train
        frac = self.step / t.steps
        if t.minutes:
            frac = max(frac, elapsed / (60 * t.minutes))
        return min(frac, 1.0)

    def _shared_clock(self, stop: StopOnSignal) -> tuple[float, bool]:
        """(elapsed seconds, stop asked) as rank 0 sees them, on every rank."""
        elapsed, stop_now = broadcast_from_main([self._elapsed(), float(stop.requested)], self.dist, self.device)
        return elapsed, bool(stop_now)

    def _finished(self, elapsed: float, stop_now: bool) -> bool:
        t = self.cfg.train
        return self.step >= t.steps or stop_now or bool(t.minutes and elapsed >= 60 * t.minutes)

    def _optimise(self, batch: dict, elapsed: float) -> tuple[dict, float]:
        """One optimiser step on one batch: (the method's outputs, the learning rate used)."""
        lr = self.schedule(self.step, self._progress_fraction(elapsed))
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self._amp_context():
            out = self.model(batch, self.generator)
        loss = out["loss"]
        here = not bool(torch.isfinite(loss.detach()))
        if any_rank(here, self.dist, self.device):  # every rank skips together, or DDP would hang
            self._nonfinite(batch, loss if here else None)
            return None, lr
        self.nonfinite_in_a_row = 0
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg.train.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.method.parameters(), self.cfg.train.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        self.method.after_step(self.step, self._progress_fraction(elapsed))
        return out, lr

    def _nonfinite(self, batch: dict, loss: torch.Tensor | None) -> None:
        """A batch whose loss is NaN/inf (on this rank, or another: `loss` None) is skipped and
        named; `train.max_nonfinite_steps` of them in a row stop the run, naming the clips."""
        self.nonfinite_in_a_row += 1
        self.skipped_steps += 1
        limit = self.cfg.train.max_nonfinite_steps
        where = "another rank's batch" if loss is None else "the batch of " + ", ".join(self._clip_names(batch))
        what = f"loss became {loss.item() if loss is not None else 'non-finite'} at step {self.step} on {where}"
        if self.nonfinite_in_a_row > limit:
            raise NonFiniteLossError(f"{what}: {self.nonfinite_in_a_row} batches in a row (train.max_nonfinite_steps="
                                     f"{limit}); lower train.lr or check these clips")
        if loss is not None or self.dist.is_main:
            print(f"rank {self.dist.rank}: {what}; step skipped ({self.nonfinite_in_a_row} in a row, "
                  f"train.max_nonfinite_steps={limit})")

    def _clip_names(self, batch: dict, most: int = 8) -> list[str]:
        """The files (or shard keys) of a batch's clips, for messages."""
        records = getattr(self.source, "records", None)
        names = [records[i].path if records is not None and 0 <= i < len(records) else f"sample {i}"
                 for i in batch["index"].tolist()]
        return names[:most] + ([f"... {len(names) - most} more"] if len(names) > most else [])

    def _on_device(self, batch: dict) -> dict:
        return {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    def fit(self) -> dict:
        """Train until `train.steps` or the `train.minutes` budget; return a summary."""
        self._setup()
        cfg, t = self.cfg, self.cfg.train
        self.out_dir.mkdir(parents=True, exist_ok=True)
        main = self.dist.is_main
        log = bar = None
        if main:
            (self.out_dir / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
            log = MetricsLog(self.out_dir, self.resume, self.online_probe.columns if self.online_probe else [],
                             resume_step=self.step)
            bar = RunProgress(f"pretrain {cfg.method['name']}", t.steps, t.minutes, self.step,
                              self._progress_fraction(self.elapsed_before), enabled=self.progress)
        self.method.train()
        self.t_start = time.time()
        clips_seen, t_window, unreadable = 0, time.time(), 0
        try:
            with StopOnSignal(enabled=main) as stop:
                for batch in self.batches.from_step(self.step):
                    elapsed, stop_now = self._shared_clock(stop)
                    if self._finished(elapsed, stop_now):
                        break
                    for err in batch["errors"]:
                        self.bad_files[err] = self.bad_files.get(err, 0) + 1
                    unreadable = unreadable + 1 if batch["errors"] and not len(batch["audio"]) else 0
                    if unreadable >= UNREADABLE_BATCHES:
                        raise ConfigError(f"no readable clip in the last {unreadable} batches ({len(self.bad_files)} "
                                          f"bad files or shards, e.g. {next(iter(self.bad_files))}): check the data")
                    if batch["audio"].shape[0] < 2 and not self.dist.enabled:
                        continue  # (under DDP every rank must step together; the gather handles small batches)
                    out, lr = self._optimise(self._on_device(batch), elapsed)
                    if out is None:  # a non-finite loss: the step was skipped
                        continue
                    clips_seen += batch["audio"].shape[0] * self.dist.world_size
                    if main:
                        log.add(out)
                        if self.step % t.log_every == 0 or self.step == t.steps:
                            row = log.write(self.step, lr=lr, clips_per_s=clips_seen / max(1e-9, time.time() - t_window),
                                            elapsed_s=self._elapsed(), bad_files=sum(self.bad_files.values()),
                                            **self._maybe_probe())
                            clips_seen, t_window, unreadable = 0, time.time(), 0
                            bar.set_postfix(self._postfix(row))
                        bar.update(self.step, self._progress_fraction(self._elapsed()))
                    self.checkpoints.after_step(self.step, self._progress_fraction(elapsed), self._state)
        finally:
            if main:
                bar.close(self._progress_fraction(self._elapsed()))
                log.close()
        self.checkpoints.finish(self._progress_fraction(elapsed), self._state)  # rank 0's clock at the stop
        finish_together(self.dist)
        summary = {
            "method": cfg.method["name"],
            "steps": self.step,
            "seconds": round(self._elapsed(), 2),
            "clips_per_second": round(self.step * t.batch_size * self.dist.world_size / max(1e-9, self._elapsed()), 2),
            "bad_files": sum(self.bad_files.values()),
            "skipped_steps": self.skipped_steps,
            "checkpoint": str(self.checkpoints.last),
        }
        if main:
            self._report_bad_files()
        return summary

    def _maybe_probe(self) -> dict:
        if self.online_probe is None or self.step % self.cfg.train.online_probe.every_steps:
            return {}
        self.embedder.eval()  # frozen features: BatchNorm must not adapt to the probe clips
        try:
            self._last_probe = self.online_probe.run(lambda wave: self.embedder(wave.to(self.device)))
        finally:
            self.embedder.train()
        return self._last_probe

    def _postfix(self, row: dict) -> dict:
        postfix = {k: f"{row[k]:.3g}" for k in ("loss", "lr", "clips_per_s") if k in row}
        if getattr(self, "_last_probe", None):
            postfix["probe"] = f"{next(iter(self._last_probe.values())):.3f}"
        if self.cfg.train.minutes:  # the budget, not the step count, usually ends the run
            postfix["budget_left"] = f"{max(0.0, 60 * self.cfg.train.minutes - self._elapsed()) / 60:.1f}min"
        return postfix

    def _report_bad_files(self):
        if not self.bad_files:
            return
        path = self.out_dir / "bad_files.txt"
        path.write_text("".join(f"{n}\t{err}\n" for err, n in sorted(self.bad_files.items())))
        print(f"skipped {sum(self.bad_files.values())} unusable clip reads from {len(self.bad_files)} files; "
              f"list in {path}")
