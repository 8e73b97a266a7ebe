"""A plugin package for ordo: one extractor, ``fibonacci``."""
