"""Shared test setup: single-threaded torch, flush denormals, import path, fixture dir."""
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_flush_denormal(True)

FIXTURES = os.environ.get("BONSAI_FIXTURES_DIR", "/work/shared/fixtures")
if not os.path.isdir(FIXTURES):
    FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures")
