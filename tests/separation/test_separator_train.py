import torch

from audiorep.separation.clip_batches import TensorClipPool
from audiorep.separation.metrics import evaluate_separator
from audiorep.separation.mixture_of_mixtures import mixture_of_mixtures
from audiorep.separation.tdcn import TDCNSeparator
from audiorep.separation.train import SeparatorTrainConfig, load_separator, train_separator


TINY = dict(num_filters=32, kernel_size=16, bottleneck=16, hidden=32, blocks_per_repeat=3, repeats=1)


def test_mixture_of_mixtures_pairs_clips_and_can_silence_the_second():
    clips = torch.randn(8, 50)
    mom, refs = mixture_of_mixtures(clips, torch.Generator().manual_seed(0), single_mixture_prob=0.0)
    torch.testing.assert_close(refs[1, 0], clips[2])
    torch.testing.assert_close(mom, clips[0::2] + clips[1::2])
    mom, refs = mixture_of_mixtures(clips, torch.Generator().manual_seed(0), single_mixture_prob=0.999)
    assert refs[:, 1].abs().sum() == 0 and torch.equal(mom, clips[0::2])


def test_pool_crops_audio_and_sources_at_the_same_place(toy_scenes):
    mix, src = toy_scenes(4, 2, length=1000)
    pool = TensorClipPool(mix, 300, src)
    batch = pool.sample(6, torch.Generator().manual_seed(0))
    assert batch["audio"].shape == (6, 300) and batch["sources"].shape == (6, 2, 300)
    torch.testing.assert_close(batch["sources"].sum(1), batch["audio"])


def test_tiny_mixit_model_loss_falls_and_checkpoints_reload(tmp_path, toy_scenes):
    torch.manual_seed(0)
    mix, _ = toy_scenes(64, 2, length=2000, seed=1)
    model = TDCNSeparator(num_channels=4, sample_rate=8000, **TINY)
    cfg = SeparatorTrainConfig(batch_size=4, clip_seconds=0.2, max_steps=60, learning_rate=3e-3, log_every=10)
    history = train_separator(model, TensorClipPool(mix, 1600), cfg, tmp_path, log=lambda s: None)
    assert history[-1]["loss"] < history[0]["loss"] - 1.0  # dB
    assert {p.name for p in tmp_path.glob("*.pt")} == {"early.pt", "middle.pt", "late.pt"}
    early = torch.load(tmp_path / "early.pt", weights_only=True)
    assert early["step"] < 60 and early["stage"] == "early"
    reloaded = load_separator(tmp_path / "late.pt")
    x = mix[:2, :800]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), model(x))
    assert (tmp_path / "log.csv").read_text().startswith("step,minutes,loss")


def test_pit_training_on_known_sources_improves_si_snr(tmp_path, toy_scenes):
    torch.manual_seed(0)
    mix, src = toy_scenes(64, 2, length=2000, seed=2)
    model = TDCNSeparator(num_channels=4, sample_rate=8000, **TINY)
    test_mix, test_src = toy_scenes(16, 2, length=1600, seed=99)
    before = evaluate_separator(model.eval(), test_mix, test_src)
    cfg = SeparatorTrainConfig(objective="pit", batch_size=4, clip_seconds=0.2, max_steps=200, learning_rate=3e-3)
    train_separator(model, TensorClipPool(mix, 1600, src), cfg, tmp_path, log=lambda s: None)
    after = evaluate_separator(model, test_mix, test_src)
    assert after["multi"]["msi"] > before["multi"]["msi"] + 1.0
