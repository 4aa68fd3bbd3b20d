"""`audiorep separate`: split audio files into the separator's M channels, one file per channel.

Each input is read, separated and written one chunk at a time (`--chunk-seconds`, overlapping
by `--overlap-seconds` and cross-faded; each chunk's channels are permuted to match the
previous chunk's, since a MixIT separator's channel order is arbitrary: see
`audiorep.separation.chunked`), so memory stays bounded however long the file. Outputs are
mono 32-bit float WAV at the separator's rate (an 8 kHz separator writes 8 kHz channels for
a 16 kHz input), written under a temporary name and renamed when complete.

Inputs are audio files, folders and manifest CSVs in any mix (`audiorep.data.input_files`). An
output keeps the input's layout: a folder's files go under OUT/<folder name>/ at their place in
it, a manifest's rows at their place under the manifest's folder, a named file to OUT/. A path
that does not exist or a folder without audio is refused (exit 2) before anything is separated.
An audio file that cannot be used (empty, corrupt, NaN, a separator output that is not
finite...) is skipped, its partial outputs removed, and it is listed with its cause in the
summary; the command fails (exit 1, one line on stderr) only when no input could be separated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audiorep.commands._arguments import positive_float

NAME = "separate"
HELP = "separate audio files into M channel files with a trained separator checkpoint"
DESCRIPTION = """Split each input into the separator's M channels, one mono WAV per channel
(<stem>_ch<m>.wav at the separator's rate), chunk by chunk so memory does not grow with the file.
Inputs are audio files, folders (searched recursively) and manifest CSVs (a 'path' column), in any
mix; a folder's layout is kept under OUT/<folder name>/. Unusable files are skipped and listed.
Example:
  audiorep separate --checkpoint runs/sep/late.pt --out separated recordings/ extra.wav"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="separator checkpoint (e.g. runs/sep/late.pt)")
    parser.add_argument("--out", required=True,
                        help="output folder; writes <stem>_ch<m>.wav per input (a folder input's layout is kept)")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="audio files, folders (recursive) and manifest CSVs with a 'path' column, in any mix")
    parser.add_argument("--device", default="cpu", help="where to separate: cpu, cuda, cuda:1, mps, auto")
    parser.add_argument("--chunk-seconds", type=positive_float, default=10.0,
                        help="separate in chunks of this length (memory does not grow with the file)")
    parser.add_argument("--overlap-seconds", type=float, default=None,
                        help="overlap of consecutive chunks, cross-faded (default: 2 s or a fifth of the chunk)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (there is none when stderr is not a terminal)")


def _expand(inputs: list[str]) -> list[tuple[str, Path]]:
    """(path, output stem relative to --out) per input file: a folder's files keep their place
    under the folder's name, a manifest's rows their place under its folder, a file its stem."""
    from audiorep.data.input_files import FOLDER, audio_inputs

    items = []
    for rec in audio_inputs(inputs):
        rel = rec.relative().with_suffix("")
        items.append((rec.path, Path(Path(rec.origin).name) / rel if rec.kind == FOLDER else rel))
    return items


def run(args) -> int:
    from audiorep.builders import load_separator
    from audiorep.errors import AudiorepError, AudioFileError, ConfigError
    from audiorep.separation.chunked import chunk_samples, separate_file

    model = load_separator(args.checkpoint, args.device)
    items = _expand(args.inputs)  # a missing input or a folder without audio: refused before any work
    rate, m = int(model.sample_rate), int(model.num_channels)
    try:
        chunk_samples(rate, args.chunk_seconds, args.overlap_seconds)
    except ValueError as err:
        raise ConfigError(f"--chunk-seconds/--overlap-seconds: {err}") from err
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done, failed = [], []
    claimed: dict[Path, str] = {}
    progress = not args.quiet and sys.stderr.isatty()
    for path, rel in items:
        if rel in claimed:
            cause = f"its outputs {rel}_ch*.wav would overwrite those of {claimed[rel]} (same name); rename one"
        else:
            claimed[rel] = path
            outputs = [out / rel.parent / f"{rel.name}_ch{k}.wav" for k in range(m)]
            try:
                outputs[0].parent.mkdir(parents=True, exist_ok=True)
                result = separate_file(model, path, outputs, args.chunk_seconds, args.overlap_seconds,
                                       args.device, progress=progress)
            except AudioFileError as err:
                cause = err.cause
            except (AudiorepError, OSError, RuntimeError, ValueError, MemoryError) as err:
                cause = f"{type(err).__name__}: {err}"
            else:
                done.append(result)
                print(f"{path}: {result.seconds:.1f} s at {result.input_rate} Hz -> {m} channels at {rate} Hz, "
                      f"{out / rel.parent}/{rel.name}_ch*.wav ({result.report.chunks} chunks)")
                continue
        failed.append((path, cause))
        print(f"skipped {path}: {cause}")

    total = len(done) + len(failed)
    resampled = sorted({r.input_rate for r in done} - {rate})
    note = f"; inputs at {', '.join(map(str, resampled))} Hz were resampled to it" if resampled else ""
    print(f"\nseparated {len(done)} of {total} inputs into {m} channels each: mono 32-bit float WAV at "
          f"{rate} Hz (the separator's rate{note}) in {out}/")
    if failed:
        print(f"skipped {len(failed)} unusable input{'s' if len(failed) > 1 else ''}:")
        for path, cause in failed:
            print(f"  {path}: {cause}")
    if not done:  # one line on stderr and exit 1, like `embed` (exit 2 stays for bad arguments)
        print(f"audiorep separate: error: no usable input: all {total} input{'s' if total != 1 else ''} failed "
              "(listed above); nothing was written", file=sys.stderr)
        return 1
    return 0
