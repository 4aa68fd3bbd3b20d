"""Clips per second the data path delivers to the training loop, from individual files and from
local tar shards, beside the clips per second of the training step it feeds.

    OMP_NUM_THREADS=1 python benchmarks/loader.py --json benchmarks/results/loader_cpu.json
    OMP_NUM_THREADS=1 python benchmarks/loader.py --quick          # smoke run, under a minute

Data (written once to a temporary folder, or kept in `--work DIR` and reused): the synthetic
world (`write_world`) as `--audio-clips` 4-s FLAC files and, separately, `--video-clips` 4-s MP4
files (H.264 32 px 8 fps + AAC); each set is then packed into tar shards with `write_shards`
(one process, `num_workers=0`; `--audio-shard-size` / `--video-shard-size` samples per shard),
whose time, sizes and bytes per second of audio and frames are reported.

Loader rows: batches pulled from `from_step(0)` of the trainer's own batch classes, 2-s random
crops at 16 kHz, with 0, 1 and 2 DataLoader workers:
- audio, batch 64: `IndexedBatches` over a `ManifestSource` of the FLAC files ("files") and
  `StreamedBatches` over a `ShardSource` of the audio shards, shuffle buffer 1000 ("shards");
- audio+frames (32 px, 8 fps), batch 32: `IndexedBatches` over a `VideoSource` of the MP4 files
  with fields audio+video ("files"), and `StreamedBatches` over the audio-visual shards.
The files' manifest lists each file `--repeats` times (a different random crop each time), so
an epoch is as long as that of a set `--repeats` times larger: `IndexedBatches` restarts its
DataLoader workers at every epoch (persistent_workers=False), which on a few-batch epoch costs
the rows with workers a large share of their rate (shards stream on without restarts). `epoch_restart_check` times
the files with 2 workers once more with each file listed once, to show that cost.
`--warmup-batches` batches are pulled first (worker start-up, not timed); then batches are pulled
until `--seconds` have passed and clips/s = clips in those batches (`batch["audio"].shape[0]`,
bad clips excluded) / wall time. `clips_per_cpu_s` divides every clip pulled by the CPU time of
this process and its workers over the whole row (start-up and prefetched batches included), and
`cores_used` is that CPU time over the row's wall time (how many cores the loader really got).

Step rows: `throughput.pretrain_throughput` (the real trainer on in-memory clips) with the same
batch size, clip length and frame size, `simclr_demo` for audio and `audiovisual_demo` for
audio+frames, on `--device` with one torch thread (per-core figures on a CPU).
`ratio` = loader clips/s / step clips/s: above 1, the loader alone outruns the step it feeds.

With `--device cuda` the step runs on the GPU and the loaders pin memory and copy each batch to
the device. Figures are warm page cache (the files were just written or read; nothing is
dropped), local disk.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported; workers inherit it

import argparse  # noqa: E402
import csv  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from throughput import pretrain_throughput  # noqa: E402  (benchmarks/ is on the path when run as a script)

from audiorep.data.shard_source import ShardSource  # noqa: E402
from audiorep.data.shard_writer import write_shards  # noqa: E402
from audiorep.data.sources import ManifestSource  # noqa: E402
from audiorep.data.synthetic import write_world  # noqa: E402
from audiorep.data.training_batches import IndexedBatches, StreamedBatches  # noqa: E402
from audiorep.data.video_source import VideoSource  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RATE, WORLD_SECONDS, CLIP_SECONDS, SIZE, FPS = 16000, 4.0, 2.0, 32, 8.0


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO)
    except ValueError:
        pass
    env = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if "OMP_NUM_THREADS" in os.environ else ""
    return env + shlex.join(["python", str(script), *sys.argv[1:]])


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {platform.platform()}"


def _cpu_s() -> float:
    """CPU seconds of this process and of its reaped children (DataLoader workers once shut down)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _bytes(paths) -> int:
    return sum(p.stat().st_size for p in paths)


def _world(folder: Path, n: int, seed: int, video: bool) -> dict:
    """The synthetic world in `folder` (reused when its manifest already lists `n` clips)."""
    manifest = folder / "manifest.csv"
    if manifest.is_file():
        with open(manifest, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if len(rows) == n and ("audio_path" in rows[0]) == video:
            return {"reused": True, "clips": n}
    start = time.perf_counter()
    write_world(folder, n, seed, sample_rate=RATE, clip_seconds=WORLD_SECONDS, video=video, video_size=SIZE,
                video_fps=FPS)
    seconds = time.perf_counter() - start
    return {"reused": False, "clips": n, "seconds": round(seconds, 2), "clips_per_s": round(n / seconds, 1)}


def _repeated(manifest: Path, repeats: int) -> Path:
    """A manifest beside `manifest` listing each of its rows `repeats` times (paths stay relative)."""
    if repeats == 1:
        return manifest
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns, rows = reader.fieldnames, list(reader)
    out = manifest.with_name(f"manifest_x{repeats}.csv")
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows * repeats)
    return out


def _shards(source, out: Path, max_samples: int, video) -> dict:
    """Pack `source` into shards (always rewritten, so the writing is timed) and report it."""
    cpu = time.process_time()
    s = write_shards(source, out, sample_rate=RATE, video=video, max_samples=max_samples, restart=True,
                     progress=False)
    cpu = time.process_time() - cpu
    row = {"status": s["status"], "shards": s["shards"], "samples": s["samples"], "skipped": s["skipped"],
           "samples_per_shard": max_samples, "num_workers": 0, "seconds": round(s["seconds_taken"], 2),
           "clips_per_s": round(s["samples"] / s["seconds_taken"], 1),
           "clips_per_cpu_s": round(s["samples"] / cpu, 1),
           "audio_seconds_per_s": round(s["seconds"] / s["seconds_taken"], 1),
           "bytes": s["bytes"], "bytes_per_clip": round(s["bytes"] / max(1, s["samples"])),
           "audio_bytes_per_audio_second": round(s["audio_bytes_per_second"]),
           "audio_kbit_per_s": round(8 * s["audio_bytes_per_second"] / 1000, 1)}
    if "frame_bytes_per_second" in s:
        row["frame_bytes_per_audio_second"] = round(s["frame_bytes_per_second"])
        row["frame_kbit_per_s"] = round(8 * s["frame_bytes_per_second"] / 1000, 1)
        raw = 3 * SIZE * SIZE * FPS
        row["frames_compression"] = round(raw / s["frame_bytes_per_second"], 2)  # vs raw uint8 frames
    return row


def prepare(work: Path, args) -> dict:
    """Files and shards of both kinds of data in `work`; returns what was written and how fast."""
    audio_world, video_world = work / "world_audio", work / "world_video"
    out = {"world_audio": _world(audio_world, args.audio_clips, 0, video=False)}
    print(f"audio world: {out['world_audio']}", flush=True)
    out["world_video"] = _world(video_world, args.video_clips, 1, video=True)
    print(f"video world: {out['world_video']}", flush=True)
    flac = sorted((audio_world / "audio").glob("*.flac"))
    mp4 = sorted((video_world / "video").glob("*.mp4"))
    out["files"] = {"flac": {"n": len(flac), "bytes": _bytes(flac), "bytes_per_clip": round(_bytes(flac) / len(flac))},
                    "mp4": {"n": len(mp4), "bytes": _bytes(mp4), "bytes_per_clip": round(_bytes(mp4) / len(mp4)),
                            "codec": f"H.264 {SIZE} px {FPS:g} fps + AAC (write_world)"}}
    out["shards_audio"] = _shards(ManifestSource(audio_world / "manifest.csv", sample_rate=RATE),
                                  work / "shards_audio", args.audio_shard_size, None)
    print(f"audio shards: {out['shards_audio']}", flush=True)
    out["shards_video"] = _shards(VideoSource(video_world / "manifest.csv", sample_rate=RATE, video_size=SIZE,
                                              video_fps=FPS),
                                  work / "shards_video", args.video_shard_size, (SIZE, FPS))
    print(f"audio+frames shards: {out['shards_video']}", flush=True)
    for world in (audio_world, video_world):
        _repeated(world / "manifest.csv", args.repeats)
    return out


def loader(data: str, kind: str, work: Path, workers: int, pin: bool, repeats: int = 1):
    fields = ("audio", "video") if data == "audio+frames" else ("audio",)
    batch = 32 if data == "audio+frames" else 64
    common = dict(batch_size=batch, num_workers=workers, pin_memory=pin, seed=0)
    if kind == "shards":
        folder = work / ("shards_video" if data == "audio+frames" else "shards_audio")
        video = {"video_size": SIZE, "video_fps": FPS} if data == "audio+frames" else {}
        source = ShardSource(str(folder), sample_rate=RATE, fields=fields, **video)
        return StreamedBatches(source, CLIP_SECONDS, shuffle_buffer=1000, **common), batch
    name = "manifest.csv" if repeats == 1 else f"manifest_x{repeats}.csv"
    if data == "audio+frames":
        source = VideoSource(work / "world_video" / name, sample_rate=RATE, video_size=SIZE, video_fps=FPS)
    else:
        source = ManifestSource(work / "world_audio" / name, sample_rate=RATE)
    return IndexedBatches(source, RATE, CLIP_SECONDS, fields=fields, **common), batch


def time_loader(batches, device: str, seconds: float, warmup: int, min_batches: int) -> dict:
    """Clips/s of `batches.from_step(0)` after `warmup` batches, over at least `seconds` of pulling."""
    cuda = device.startswith("cuda")
    load = os.getloadavg()[0]
    cpu0, t0 = _cpu_s(), time.perf_counter()
    it = batches.from_step(0)
    pulled, bad, n, clips = 0, 0, 0, 0

    def pull():
        nonlocal pulled, bad
        b = next(it)
        if cuda:
            b = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in b.items()}
        pulled += b["audio"].shape[0]
        bad += len(b["errors"])
        return b

    for _ in range(warmup):
        pull()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    startup = start - t0
    while n < min_batches or time.perf_counter() - start < seconds:
        clips += pull()["audio"].shape[0]
        n += 1
    if cuda:
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    it.close()  # shuts the DataLoader's workers down, so their CPU time is counted below
    del it
    gc.collect()
    cpu, total = _cpu_s() - cpu0, time.perf_counter() - t0
    return {"clips_per_s": round(clips / wall, 1), "batches_timed": n, "clips_timed": clips,
            "seconds_timed": round(wall, 2), "startup_s": round(startup, 2), "bad_clips": bad,
            "clips_per_cpu_s": round(pulled / cpu, 1), "cores_used": round(cpu / total, 2),
            "load_average_before": round(load, 2)}


def step_rates(device: str, steps: int, warmup: int) -> dict:
    """Training-step clips/s for each kind of data, through throughput.py's own code path."""
    common = [f"data.clip_seconds={CLIP_SECONDS}"]
    runs = {"audio": ("simclr_demo", common + ["train.batch_size=64"]),
            "audio+frames": ("audiovisual_demo", common + ["train.batch_size=32", f"data.video.size={SIZE}",
                                                           f"data.video.fps={FPS:g}"])}
    out = {}
    for data, (recipe, overrides) in runs.items():
        out[data] = pretrain_throughput(recipe, steps, warmup, device, overrides)
        print(f"step {data}: {out[data]}", flush=True)
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["| data | kind | workers | batch | clip s | loader clips/s | step clips/s | loader/step | "
             "loader CPU ms/clip | loader cores |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        flag = "" if r["ratio"] >= 1 else " (slower)"
        lines.append(f"| {r['data']} | {r['kind']} | {r['workers']} | {r['batch']} | {r['clip_seconds']:g} | "
                     f"{r['clips_per_s']} | {r['step_clips_per_s']} | {r['ratio']}{flag} | "
                     f"{round(1000 / r['clips_per_cpu_s'], 2)} | {r['cores_used']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", metavar="PATH", help="write the figures to PATH")
    p.add_argument("--work", metavar="DIR", help="keep the files and shards here (reused on a re-run)")
    p.add_argument("--device", default="cpu", help="where the step runs (cuda: loaders pin memory too)")
    p.add_argument("--quick", action="store_true", help="smoke run: few clips, ~1.5 s per row, 3 timed steps")
    p.add_argument("--audio-clips", type=int, default=1024)
    p.add_argument("--video-clips", type=int, default=384)
    p.add_argument("--audio-shard-size", type=int, default=64, help="samples per audio shard")
    p.add_argument("--video-shard-size", type=int, default=24, help="samples per audio-visual shard")
    p.add_argument("--repeats", type=int, default=8, help="times the files' manifest lists each file")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per loader row (at least)")
    p.add_argument("--warmup-batches", type=int, default=3)
    p.add_argument("--steps", type=int, default=12, help="timed training steps")
    p.add_argument("--step-warmup", type=int, default=3)
    args = p.parse_args()
    if args.quick:
        args.audio_clips, args.video_clips, args.audio_shard_size, args.video_shard_size = 128, 64, 32, 16
        args.seconds, args.warmup_batches, args.steps, args.step_warmup, args.repeats = 1.5, 1, 3, 1, 4
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error("--device cuda but CUDA is not available")
    torch.set_num_threads(1)
    began = time.perf_counter()
    pin = args.device.startswith("cuda")
    result = {"command": command_line(), "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": machine(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
              "torch_threads": torch.get_num_threads(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "device": args.device, "gpu": torch.cuda.get_device_name() if pin else None,
              "load_average_at_start": round(os.getloadavg()[0], 2),
              "settings": {"sample_rate": RATE, "file_seconds": WORLD_SECONDS, "clip_seconds": CLIP_SECONDS,
                           "video_size": SIZE, "video_fps": FPS, "shuffle_buffer": 1000, "pin_memory": pin,
                           "files_manifest_repeats": args.repeats, "seconds_per_row": args.seconds, "warmup_batches": args.warmup_batches,
                           "step_steps": args.steps, "step_warmup": args.step_warmup, "quick": args.quick}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result["data"] = prepare(work, args)
        rows, restarts = [], []
        for data in ("audio", "audio+frames"):
            for kind in ("files", "shards"):
                for workers in args.workers:
                    batches, batch = loader(data, kind, work, workers, pin, args.repeats if kind == "files" else 1)
                    row = {"data": data, "kind": kind, "workers": workers, "batch": batch,
                           "clip_seconds": CLIP_SECONDS, "epoch_batches": batches.steps_per_epoch,
                           **time_loader(batches, args.device, args.seconds, args.warmup_batches,
                                         min_batches=3)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
            if args.repeats > 1 and max(args.workers) > 0:  # the same files, each listed once: short epochs
                batches, batch = loader(data, "files", work, max(args.workers), pin, 1)
                row = {"data": data, "kind": "files", "workers": max(args.workers), "batch": batch,
                       "clip_seconds": CLIP_SECONDS, "epoch_batches": batches.steps_per_epoch,
                       **time_loader(batches, args.device, args.seconds, args.warmup_batches, min_batches=3)}
                restarts.append(row)
                print("epoch restart check:", json.dumps(row), flush=True)
    steps = step_rates(args.device, args.steps, args.step_warmup)
    for row in rows:
        row["step_clips_per_s"] = steps[row["data"]]["clips_per_second"]
        row["ratio"] = round(row["clips_per_s"] / row["step_clips_per_s"], 2)
    for row in restarts:
        row["step_clips_per_s"] = steps[row["data"]]["clips_per_second"]
        row["ratio"] = round(row["clips_per_s"] / row["step_clips_per_s"], 2)
        long = next(r for r in rows if (r["data"], r["kind"], r["workers"]) == (row["data"], "files", row["workers"]))
        row["vs_long_epochs"] = round(row["clips_per_s"] / long["clips_per_s"], 2)
    result["rows"] = rows
    result["epoch_restart_check"] = restarts
    result["step"] = steps
    slower = [f"{r['data']} {r['kind']} w{r['workers']}" for r in rows if r["ratio"] < 1]
    result["loader_slower_than_step"] = slower
    cores = len(os.sched_getaffinity(0))
    result["note"] = (
        f"Warm page cache, local disk: the files and shards were just written and are re-read many times per row "
        f"(nothing is dropped; dropping the machine-wide cache would disturb other work on the machine). "
        f"Loader rows run alone: nothing trains while they are timed, so a row with workers uses cores the step "
        f"would need in training. DataLoader workers are separate processes; with {cores} cores and the main "
        f"process pulling batches, 2 workers cannot use more than ~{cores} cores, and in training they would "
        f"share them with the step. IndexedBatches restarts its workers at every epoch (persistent_workers=False); "
        f"the files' manifest lists each file {args.repeats} times, so a files epoch is "
        f"{args.audio_clips * args.repeats // 64} audio / {args.video_clips * args.repeats // 32} audio+frames "
        f"batches and the restarts inside the timed window are rare; epoch_restart_check times the files with "
        f"{max(args.workers)} workers and each file listed once ({args.audio_clips // 64} / "
        f"{args.video_clips // 32}-batch epochs): vs_long_epochs is its clips/s over the row's. StreamedBatches "
        f"never restarts (an endless stream). Step "
        f"clips/s: throughput.pretrain_throughput (real trainer, in-memory clips), one torch thread, "
        f"device {args.device}. ratio = loader clips/s / step clips/s.")
    result["total_seconds"] = round(time.perf_counter() - began, 1)
    table = markdown(rows + [{**r, "kind": f"files, each listed once ({r['epoch_batches']}-batch epochs)"}
                             for r in restarts])
    print(table, end="")
    print(f"loader slower than the step: {', '.join(slower) or 'none'}; total {result['total_seconds']} s")
    result["table"] = table
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
