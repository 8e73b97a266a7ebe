"""Data that steps move: column types, tables to create and fill, CSV files, the catalog.

Shared by the seed, clear and load kinds; sits between the kinds and the database layer, so a
kind never spells a dialect's type names or catalog queries itself.
"""
