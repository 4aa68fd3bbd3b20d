import torch

from audiorep.objectives.si_snr import si_snr_db, si_snr_matrix, snr_db, thresholded_negative_snr


def test_si_snr_ignores_gain_but_snr_does_not():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(3, 1000, generator=g)
    est = ref + 0.1 * torch.randn(3, 1000, generator=g)
    torch.testing.assert_close(si_snr_db(3.0 * est, ref), si_snr_db(est, ref), atol=1e-3, rtol=0)
    assert (snr_db(3.0 * est, ref) < snr_db(est, ref) - 5).all()
    # 10% noise amplitude -> about 20 dB
    assert ((si_snr_db(est, ref) - 20).abs() < 1.0).all()


def test_si_snr_matrix_matches_pairwise_si_snr():
    g = torch.Generator().manual_seed(1)
    est, ref = torch.randn(2, 4, 500, generator=g), torch.randn(2, 3, 500, generator=g)
    mat = si_snr_matrix(est, ref)
    assert mat.shape == (2, 3, 4)
    for k in range(3):
        for m in range(4):
            torch.testing.assert_close(mat[:, k, m], si_snr_db(est[:, m], ref[:, k]), atol=1e-3, rtol=1e-4)


def test_soft_threshold_caps_snr_and_silent_reference_uses_given_power():
    ref = torch.randn(2, 800, generator=torch.Generator().manual_seed(2))
    perfect = thresholded_negative_snr(ref, ref, max_snr_db=30.0)
    torch.testing.assert_close(perfect, torch.full((2,), -30.0), atol=1e-3, rtol=0)
    silent, mix_power = torch.zeros(2, 800), ref.pow(2).sum(-1)
    quiet = thresholded_negative_snr(torch.zeros(2, 800), silent, 30.0, reference_power=mix_power)
    loud = thresholded_negative_snr(ref, silent, 30.0, reference_power=mix_power)
    assert torch.isfinite(quiet).all() and (quiet < loud - 25).all()


def test_a_silent_estimate_recovers_nothing():
    ref = torch.randn(2, 3, 800)
    silent = torch.zeros(2, 2, 800)
    assert (si_snr_matrix(silent, ref) < -60).all() and (si_snr_db(silent[:, :1].expand(-1, 3, -1), ref) < -60).all()
