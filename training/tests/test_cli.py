"""Cross-check with the C++ engine: when BONSAI_CLI points at a built bonsai-cli, export a
tiny TWS model, run `bonsai-cli run -m tiny.gguf --tokens "..." -n 0 --logits-out F` and
compare its logits with PyTorch's. Skipped otherwise.

Assumed CLI contract (the run command is written by another helper): --tokens takes
space-separated ids; F receives little-endian float32 logits, either one row per prompt
token (n_tokens x vocab, like the fixtures' *.logits.f32) or only the last row."""
import os
import subprocess

import numpy as np
import pytest
import torch

from bonsai_train import export_gguf
from test_export import tiny_model, tiny_tokenizer

CLI = os.environ.get("BONSAI_CLI")


@pytest.mark.skipif(not CLI, reason="BONSAI_CLI not set")
@pytest.mark.parametrize("block", [256, 64])
def test_cli_logits_match_pytorch(tmp_path, block):
    m = tiny_model(block)
    with torch.no_grad():
        m.token_embd.weight.copy_(m.token_embd.weight.half().float())  # the file holds F16
    path = str(tmp_path / "tiny.gguf")
    export_gguf.export(m, tiny_tokenizer(272), path)
    ids = [5, 17, 99, 3, 250, 42, 7, 7, 128, 64]
    out = str(tmp_path / "logits.f32")
    r = subprocess.run([CLI, "run", "-m", path, "--tokens", " ".join(map(str, ids)), "-n", "0",
                        "--logits-out", out], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = np.fromfile(out, dtype="<f4")
    with torch.no_grad():
        ref = m.double()(torch.tensor([ids])).numpy()[0]
    if got.size == ref.size:
        got = got.reshape(ref.shape)
    else:
        assert got.size == ref.shape[1], "unexpected logits size %d" % got.size
        got, ref = got.reshape(1, -1), ref[-1:]
    # the engine may quantize activations for ternary dot products: allow a small error
    assert np.abs(got - ref).max() < 0.05 * max(1.0, np.abs(ref).max())
    assert (got.argmax(-1) == ref.argmax(-1)).mean() >= 0.9
