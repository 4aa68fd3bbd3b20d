"""Whole runs that compose training and evaluation: the demo and the ablations."""
