"""K-means tokenizer: each standardised patch becomes the index of its nearest centroid.

Fitted with k-means++ seeding on a subsample, then mini-batch k-means (Sculley 2010): each
step assigns a random batch and moves each centroid towards the mean of its batch points with
rate batch_count / cumulative_count, so a centroid converges to the mean of everything it
was ever assigned. Centroids that have drawn almost nothing are moved onto random batch
points (as scikit-learn's `MiniBatchKMeans` does), since a dead centroid wastes a token.
All the work runs on the device of the data, in chunks so that no distance matrix exceeds
about 2**24 entries; random choices come from a seeded CPU generator, so a fit is
reproducible on any device.
"""

from __future__ import annotations

import torch

from audiorep.tokenizers.base import Tokenizer

CHUNK_ENTRIES = 1 << 24  # distance-matrix entries per chunk (64 MB in float32)


def nearest_centre(x: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x [N, D], centres [K, D] -> (index [N] of the nearest centre, its squared distance [N])."""
    rows = max(1, CHUNK_ENTRIES // max(1, centres.shape[0]))
    c2 = centres.square().sum(1)
    index, dist = [], []
    for chunk in x.split(rows):
        d = (chunk.square().sum(1, keepdim=True) - 2 * chunk @ centres.T + c2).clamp(min=0)
        best = d.min(dim=1)
        dist.append(best.values)
        index.append(best.indices)
    if not index:
        return x.new_zeros(0, dtype=torch.long), x.new_zeros(0)
    return torch.cat(index), torch.cat(dist)


def kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k centres [k, D] drawn from x [N, D]: the first uniformly, each next one with probability
    proportional to its squared distance from the nearest centre chosen so far."""
    uniforms = torch.rand(k, generator=generator, dtype=torch.float64).to(x.device)
    first = torch.randint(x.shape[0], (1,), generator=generator).to(x.device)
    centres = x.new_empty(k, x.shape[1])
    centres[0] = x[first[0]]
    closest = (x - centres[0]).square().sum(1)
    for j in range(1, k):
        cumulative = closest.double().cumsum(0)
        pick = torch.searchsorted(cumulative, uniforms[j : j + 1] * cumulative[-1], right=True)
        centres[j] = x[pick.clamp(max=x.shape[0] - 1)[0]]
        closest = torch.minimum(closest, (x - centres[j]).square().sum(1))
    return centres


class KMeansTokenizer(Tokenizer):
    name = "kmeans"

    def __init__(self, n_features: int, codebook_size: int, patch_frames: int = 1):
        super().__init__(n_features, codebook_size, patch_frames)
        # unfitted, the codebook is random (distinct codes), not one constant code
        self.register_buffer("centroids", torch.randn(codebook_size, self.dim))

    def _assign(self, z: torch.Tensor) -> torch.Tensor:
        return nearest_centre(z, self.centroids)[0]

    def _fit(self, z: torch.Tensor, iterations: int = 200, batch_size: int = 4096, init_samples: int = 20000,
             seed: int = 0, eval_samples: int = 20000, reassign_below: float = 0.01) -> dict:
        """k-means++ on up to `init_samples` points, then `iterations` mini-batch steps of
        `batch_size` points; a centroid whose cumulative count is below `reassign_below` times the
        mean count is moved to a random batch point, checked every 10 * K points seen. History:
        `inertia` (mean squared distance to the nearest centroid on a fixed subset of up to
        `eval_samples` points) at `inertia_steps` (0 = after k-means++), `reassigned` (total)."""
        n, k, device = z.shape[0], self.codebook_size, z.device
        if n < k:
            raise ValueError(f"k-means with {k} centroids needs at least {k} patches, got {n}")
        g = torch.Generator().manual_seed(seed)
        sample = torch.randperm(n, generator=g)[: min(n, max(init_samples, k))].to(device)
        held = z[torch.randperm(n, generator=g)[: min(n, eval_samples)].to(device)]
        centres = kmeans_plus_plus(z[sample], k, g)
        counts = torch.zeros(k, device=device, dtype=z.dtype)
        every = max(1, -(-iterations // 20))  # at most 21 measurements
        history = {"inertia_steps": [0], "inertia": [nearest_centre(held, centres)[1].mean().item()], "reassigned": 0}
        seen = 0
        for step in range(1, iterations + 1):
            batch = z[torch.randint(n, (batch_size,), generator=g).to(device)]
            index = nearest_centre(batch, centres)[0]
            batch_counts = torch.bincount(index, minlength=k).to(z.dtype)
            sums = torch.zeros_like(centres).index_add_(0, index, batch)
            counts += batch_counts
            rate = batch_counts / counts.clamp(min=1)  # 0 for a centroid the batch did not touch
            centres += rate[:, None] * (sums / batch_counts.clamp(min=1)[:, None] - centres)
            seen += batch_size
            if seen >= 10 * k:
                seen = 0
                history["reassigned"] += self._reassign(centres, counts, batch, reassign_below, g)
            if step % every == 0 or step == iterations:
                history["inertia_steps"].append(step)
                history["inertia"].append(nearest_centre(held, centres)[1].mean().item())
        self.centroids.copy_(centres)
        history["iterations"] = iterations
        return history

    @staticmethod
    def _reassign(centres: torch.Tensor, counts: torch.Tensor, batch: torch.Tensor, below: float,
                  generator: torch.Generator) -> int:
        """Move centroids with count < below * mean count onto distinct random batch points (at
        most half the batch, the emptiest first); their count becomes the smallest kept count,
        so they are not reassigned again at once. Returns how many moved."""
        dead = counts < below * counts.mean()
        n_dead = min(int(dead.sum()), batch.shape[0] // 2)
        if n_dead == 0 or bool(dead.all()):
            return 0
        which = torch.argsort(counts)[:n_dead]  # the n_dead emptiest are all dead
        points = torch.randperm(batch.shape[0], generator=generator)[:n_dead].to(batch.device)
        floor = counts[~dead].min()
        centres[which] = batch[points]
        counts[which] = floor
        return n_dead
