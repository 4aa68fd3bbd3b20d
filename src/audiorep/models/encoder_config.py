"""The keys every encoder's `encoder:` section shares; each encoder's own dataclass adds its
name and its particular keys (`CNNConfig.convs_per_stage`)."""

from __future__ import annotations

from dataclasses import dataclass

from audiorep.config import check


@dataclass
class EncoderConfig:
    name: str = ""
    width: int = 32  # channels of the first layers; deeper layers are multiples of it
    embedding_dim: int = 512
    dropout: float = 0.0

    def validate(self, key):
        check(self.width >= 4, f"{key}.width", self.width, "an integer >= 4")
        check(self.embedding_dim >= 8, f"{key}.embedding_dim", self.embedding_dim, "an integer >= 8")
        check(0 <= self.dropout < 1, f"{key}.dropout", self.dropout, "a probability in [0, 1)")
