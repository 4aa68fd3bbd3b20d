"""Optimisation pieces the trainer uses and `audiorep.builders` builds from config."""
