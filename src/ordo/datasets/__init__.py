"""Datasets: Excel reports collected into Parquet, and versioned Parquet files under a shared
folder (``newest/``, ``historical_db/``, ``path_annotations.json``).

The ``collect`` and ``publish`` step kinds and ``ordo datasets`` are thin layers over this
package. It needs the data extra (pyarrow, python-calamine, xxhash, jsonschema), imported only
when a collect or publish step runs.
"""
