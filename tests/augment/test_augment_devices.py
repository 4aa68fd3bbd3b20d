"""Every op: reproducible by seed, and the same on CUDA as on CPU (where a GPU is present)."""

import pytest
import torch

from audiorep.augment import OPS, build_chain

from augment_signals import SR, gen, speech_like_batch

LOG_MEL_OPS = {"time_mask", "freq_mask", "resized_crop", "log_mixup_exp"}
#: ops whose bulk noise comes from a generator on the batch's device (same statistics, other samples)
DEVICE_NOISE_OPS = {"noise"}
#: phase-vocoder ops: a float rounding can move a phase wrap or a spectral-peak tie in a few
#: low-level cells. On the CPU, perturbing the input by 1e-6 (relative) changed the pitch
#: shift's output by 1.1e-3 in relative L2 (2.3e-3 of full scale at worst), so these are
#: compared by relative L2 with a 10x margin; a real difference (other parameters, a
#: misplaced example) is of order 1
VOCODER_OPS = {"pitch_shift", "time_stretch"}
VOCODER_TOLERANCE = 1e-2


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


REQUIRED = {"random_crop": {"seconds": 0.5}}


def make_op(name):
    op = build_chain([{"name": name, **REQUIRED.get(name, {})}], sample_rate=SR)[0]
    if name == "background":
        op.set_bank(torch.randn(3, SR // 2, generator=gen(9)))
    return op


def make_input(name):
    if name in LOG_MEL_OPS:
        return torch.randn(4, 64, 101, generator=gen(5))
    return speech_like_batch()


@pytest.mark.parametrize("name", sorted(OPS))
def test_same_seed_same_batch(name):
    x = make_input(name)
    a = make_op(name)(x, gen(3))
    b = make_op(name)(x, gen(3))
    assert torch.equal(a, b)
    if name != "polarity":  # polarity has no parameter beyond its coin flip
        c = make_op(name)(x, gen(4))
        assert not torch.equal(a, c)


def test_global_generator_is_used_when_none_given():
    x = speech_like_batch()
    torch.manual_seed(0)
    a = make_op("pitch_shift")(x)
    torch.manual_seed(0)
    assert torch.equal(a, make_op("pitch_shift")(x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", sorted(OPS))
def test_cuda_gives_the_cpu_result(name):
    x = make_input(name)
    op = make_op(name)
    cpu = op(x, gen(3))
    cuda = op.to("cuda")(x.cuda(), gen(3)).cpu()
    assert cuda.shape == cpu.shape
    if name in DEVICE_NOISE_OPS:
        snr = lambda y: 10 * torch.log10(x.square().mean(1) / (y - x).square().mean(1))  # noqa: E731
        assert torch.allclose(snr(cuda), snr(cpu), atol=1e-3)
    elif name in VOCODER_OPS:
        assert relative_error(cuda, cpu) <= VOCODER_TOLERANCE, f"{name}: CUDA differs from CPU"
    else:
        scale = cpu.abs().max()
        assert (cuda - cpu).abs().max() <= 2e-3 * scale, f"{name}: CUDA differs from CPU"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_full_chain_runs_on_cuda_with_same_parameters():
    spec = [{"name": n} for n in ("gain", "pitch_shift", "time_stretch", "eq", "reverb")]
    x = speech_like_batch()
    chain = build_chain(spec, sample_rate=SR)
    cpu, cuda = chain(x, gen(1)), chain.to("cuda")(x.cuda(), gen(1)).cpu()
    assert relative_error(cuda, cpu) <= VOCODER_TOLERANCE  # pitch shift and time stretch run fused
