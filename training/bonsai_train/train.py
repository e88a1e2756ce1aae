"""Training entry point (float baseline or TWS ternary).

  python3 -m bonsai_train.train --config cfg.json --data training/out/data \
      --out training/out/run --mode tws --device cuda --steps 2000 [--time-budget 150]

cfg.json: {"model": {Config fields}, "train": {lr, min_lr, batch, seq, warmup, wd,
grad_clip, block, reproject_every, reproject_until, eval_tokens, seed}}; every key
optional. Writes <out>/ckpt.pt, <out>/log.jsonl (step, loss, lr, elapsed) and
<out>/result.json (held-out loss/perplexity, steps, tokens seen)."""
import argparse
import json
import math
import os
import time

import numpy as np
import torch

from . import data as data_mod
from . import tws
from .model import Config, Qwen3

TRAIN_DEFAULTS = {"lr": 1.5e-3, "min_lr": 1.5e-4, "batch": 64, "seq": 512, "warmup": 100,
                  "wd": 0.05, "grad_clip": 1.0, "block": 256, "reproject_every": 250,
                  "reproject_until": None, "eval_tokens": 1_000_000, "seed": 0}


def build_model(cfg_model, mode, block=256):
    c = Config(**cfg_model)
    if mode == "tws":
        return Qwen3(c, tws.ternary_factory(block))
    return Qwen3(c)


def save_checkpoint(path, model, mode, block):
    torch.save({"config": model.c.to_dict(), "mode": mode, "block": block,
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, path)


def load_checkpoint(path, device="cpu"):
    ck = torch.load(path, map_location="cpu")
    m = build_model(ck["config"], ck["mode"], ck.get("block", 256))
    m.load_state_dict(ck["state_dict"])
    return m.to(device)


def batches(tokens, batch, seq, gen):
    """Random windows (inputs, targets) from a flat token tensor (on any device). The
    window starts come from the CPU generator, so equal seeds give equal batches."""
    n = len(tokens) - seq - 1
    ar = torch.arange(seq + 1, device=tokens.device)
    while True:
        ix = torch.randint(0, n, (batch,), generator=gen).to(tokens.device)
        x = tokens[ix[:, None] + ar[None, :]]
        yield x[:, :-1], x[:, 1:]


@torch.no_grad()
def evaluate(model, tokens, seq=512, batch=32, max_tokens=1_000_000, device="cpu"):
    """Mean next-token NLL over consecutive non-overlapping windows -> (loss, ppl)."""
    model.eval()
    n = min(len(tokens) - 1, max_tokens)
    nwin = max(1, n // seq)
    tot, cnt = 0.0, 0
    for b0 in range(0, nwin, batch):
        idx = [i * seq for i in range(b0, min(nwin, b0 + batch))]
        x = np.stack([tokens[i:i + seq + 1] for i in idx if i + seq + 1 <= len(tokens)]).astype(np.int64)
        if len(x) == 0:
            break
        x = torch.from_numpy(x).to(device)
        with autocast(device):
            _, loss = model(x[:, :-1], x[:, 1:])
        tot += loss.item() * x[:, 1:].numel()
        cnt += x[:, 1:].numel()
    model.train()
    lo = tot / max(cnt, 1)
    return lo, math.exp(lo)


def autocast(device):
    if str(device).startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def lr_at(step, total, t):
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    p = min(1.0, (step - t["warmup"]) / max(1, total - t["warmup"]))
    return t["min_lr"] + 0.5 * (t["lr"] - t["min_lr"]) * (1 + math.cos(math.pi * p))


def train(cfg, data_dir, out_dir, mode="fp", device="cpu", steps=1000, time_budget=None,
          init=None, log_every=20, model=None, train_tokens=None, val_tokens=None):
    t = dict(TRAIN_DEFAULTS)
    t.update(cfg.get("train", {}))
    torch.manual_seed(t["seed"])
    if model is None:
        model = build_model(cfg.get("model", {}), mode, t["block"])
        if init:
            src = load_checkpoint(init, "cpu")
            model.load_state_dict(src.state_dict(), strict=False)
            for m in tws.ternary_layers(model):
                m.init_scales()
    model = model.to(device)
    if train_tokens is None:
        train_tokens = data_mod.load_tokens(os.path.join(data_dir, "train.bin"))
        val_tokens = data_mod.load_tokens(os.path.join(data_dir, "val.bin"))
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "log_scale" not in n]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "log_scale" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t["wd"]},
                             {"params": other, "weight_decay": 0.0}], lr=t["lr"], betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(t["seed"])
    tt = torch.from_numpy(train_tokens.astype(np.int64)).to(device)
    it = batches(tt, t["batch"], t["seq"], gen)
    os.makedirs(out_dir, exist_ok=True)
    logf = open(os.path.join(out_dir, "log.jsonl"), "w")
    t0 = time.time()
    step, probe, t10 = 0, None, None
    while step < steps:
        if time_budget and step in (10, 40) and probe is None:
            # fix the schedule length from the measured step time (cosine ends on time)
            if str(device).startswith("cuda"):
                torch.cuda.synchronize()
            if step == 10:
                t10 = time.time()
            else:
                probe = (time.time() - t10) / 30
                steps = min(steps, max(41, int((time_budget - (t10 - t0)) / probe)))
        lr = lr_at(step, steps, t)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = next(it)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast(device):
            _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
        opt.step()
        if mode == "tws" and tws.reprojection_due(step, t["reproject_every"], t["reproject_until"]):
            tws.reproject_all(model)
        if step % log_every == 0:
            rec = {"step": step, "loss": loss.item(), "lr": lr, "elapsed": time.time() - t0}
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
        step += 1
    steps_done = step
    vl, ppl = evaluate(model, val_tokens, t["seq"], 32, t["eval_tokens"], device)
    res = {"mode": mode, "steps": steps_done, "tokens_seen": steps_done * t["batch"] * t["seq"],
           "train_seconds": time.time() - t0, "val_loss": vl, "val_ppl": ppl,
           "params_total": model.n_params(), "params_linear": model.n_params(linear_only=True),
           "config": model.c.to_dict(), "train": t}
    json.dump(res, open(os.path.join(out_dir, "result.json"), "w"), indent=1)
    save_checkpoint(os.path.join(out_dir, "ckpt.pt"), model, mode, t["block"])
    return model, res


def main(argv=None):
    ap = argparse.ArgumentParser(description="train a qwen3 model (float or TWS ternary)")
    ap.add_argument("--config", help="JSON file with model/train sections")
    ap.add_argument("--data", default="training/out/data")
    ap.add_argument("--out", default="training/out/run")
    ap.add_argument("--mode", default="tws", choices=["fp", "tws"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--init", help="checkpoint to initialise latent weights from")
    a = ap.parse_args(argv)
    cfg = json.load(open(a.config)) if a.config else {}
    _, res = train(cfg, a.data, a.out, a.mode, a.device, a.steps, a.time_budget, a.init)
    print(json.dumps({k: v for k, v in res.items() if k not in ("config", "train")}))


if __name__ == "__main__":
    main()
