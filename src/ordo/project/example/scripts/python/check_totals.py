"""A python step: its own process and its own connection; a non-zero exit fails the run."""

import argparse
import json
import os

from sqlalchemy import create_engine, text

parser = argparse.ArgumentParser()
parser.add_argument("--min-rows", type=int, default=1)
args = parser.parse_args()

print(f"run {os.environ['ORDO_RUN_ID'][:8]}, step {os.environ['ORDO_STEP']!r}")
print(f"params: {json.loads(os.environ['ORDO_PARAMS'])}")
engine = create_engine(os.environ["DATABASE_URL"])
with engine.connect() as conn:
    count = conn.execute(text("SELECT COUNT(*) FROM ST_SALES")).scalar_one()
print(f"ST_SALES holds {count} rows")
if count < args.min_rows:
    raise SystemExit(f"expected at least {args.min_rows} rows")
