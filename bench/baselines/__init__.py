"""The clients hubassoc is measured against, each run as ``python -m bench.baselines.NAME``."""
