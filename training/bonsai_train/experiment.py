"""The TWS experiment: float baseline vs PTQ of it vs TWS ternary, same tokens, plus an
equal-memory float model; then sample answers and export the TWS model to GGUF.

  python3 -m bonsai_train.experiment --data D --tokenizer T --out DIR --budget 150

All trained runs see identical batches (same seed, same step count: the TWS run fixes
the step count from its time budget, the float runs reuse it)."""
import argparse
import json
import os
import time

import torch

from . import data as data_mod
from . import export_gguf, ptq, tokenizer_train, train
from .generate import PROMPTS, answer

BIG = {"vocab_size": 16384, "n_embd": 512, "n_layer": 8, "n_head": 8, "n_head_kv": 4, "head_dim": 64,
       "n_ff": 1536, "context_length": 512}
SMALL = {"vocab_size": 16384, "n_embd": 256, "n_layer": 9, "n_head": 4, "n_head_kv": 2, "head_dim": 64,
         "n_ff": 768, "context_length": 512}


def model_bytes(model, ternary_bpw=None):
    """Bytes as exported: embeddings F16, norms F32, linears F16 or ternary at bpw."""
    lin = model.n_params(linear_only=True)
    emb = model.c.vocab_size * model.c.n_embd
    norms = sum(p.numel() for p in model.parameters() if p.dim() == 1)
    lin_bytes = lin * (ternary_bpw / 8 if ternary_bpw else 2)
    return int(emb * 2 + norms * 4 + lin_bytes)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=150)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--train", default="{}", help="JSON overrides of the train section")
    ap.add_argument("--only-tws", action="store_true", help="train/export the TWS model only (default-model run)")
    a = ap.parse_args(argv)
    dev = a.device
    torch.backends.cuda.matmul.allow_tf32 = True
    tok = tokenizer_train.load(a.tokenizer)
    tr = data_mod.load_tokens(os.path.join(a.data, "train.bin"))
    va = data_mod.load_tokens(os.path.join(a.data, "val.bin"))
    tcfg = json.loads(a.train)
    results = {}
    t0 = time.time()
    # 1. TWS ternary from scratch, step count fixed by the time budget
    m_tws, r = train.train({"model": BIG, "train": tcfg}, None, os.path.join(a.out, "tws"), "tws", dev,
                           a.max_steps, a.budget, train_tokens=tr, val_tokens=va)
    r["bytes"] = model_bytes(m_tws, 2.0625)
    results["tws"] = r
    steps = r["steps"]
    print("tws", json.dumps({k: r[k] for k in ("steps", "val_ppl", "train_seconds")}), flush=True)
    if a.only_tws:
        return finish(a, tok, results, t0, [("tws", m_tws)], m_tws, dev, do_plot=False)
    # 2. float baseline, same batches and steps
    m_fp, r = train.train({"model": BIG, "train": tcfg}, None, os.path.join(a.out, "fp"), "fp", dev, steps,
                          train_tokens=tr, val_tokens=va)
    r["bytes"] = model_bytes(m_fp)
    results["fp16"] = r
    print("fp", json.dumps({k: r[k] for k in ("steps", "val_ppl", "train_seconds")}), flush=True)
    # 3. PTQ of the float baseline
    tc = dict(train.TRAIN_DEFAULTS, **tcfg)
    for method in ("absmean", "lsq"):
        pm = ptq.ptq(m_fp, 256, method)
        vl, ppl = train.evaluate(pm, va, tc["seq"], 32, tc["eval_tokens"], dev)
        results["ptq_" + method] = {"val_loss": vl, "val_ppl": ppl, "bytes": model_bytes(pm, 2.0625),
                                    "steps": steps}
        print("ptq", method, ppl, flush=True)
    # 4. equal-memory float model, same batches and steps
    m_sm, r = train.train({"model": SMALL, "train": tcfg}, None, os.path.join(a.out, "fp_small"), "fp", dev,
                          steps, train_tokens=tr, val_tokens=va)
    r["bytes"] = model_bytes(m_sm)
    results["fp16_equal_memory"] = r
    print("small", json.dumps({k: r[k] for k in ("steps", "val_ppl", "train_seconds")}), flush=True)
    finish(a, tok, results, t0, [("tws", m_tws), ("fp16", m_fp)], m_tws, dev)


def finish(a, tok, results, t0, sample_models, m_tws, dev, do_plot=True):
    """Sample answers, export the TWS model, write results (and plots)."""
    samples = {}
    for name, m in sample_models:
        samples[name] = [{"prompt": p, "answer": answer(m, tok, p, dev)} for p in PROMPTS]
    json.dump(samples, open(os.path.join(a.out, "samples.json"), "w"), indent=1, ensure_ascii=False)
    export_gguf.export(m_tws.cpu(), tok, os.path.join(a.out, "bonsai-default.gguf"), name="bonsai-default-tws")
    results["wall_seconds"] = time.time() - t0
    json.dump(results, open(os.path.join(a.out, "results.json"), "w"), indent=1)
    if not do_plot:
        return
    try:
        plot(a.out, results)
    except ImportError as e:
        print("no plot:", e)


def plot(out, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, lab in (("tws", "TWS ternary (2.06 bpw)"), ("fp", "FP16 baseline"), ("fp_small", "FP16 equal memory")):
        recs = [json.loads(x) for x in open(os.path.join(out, name, "log.jsonl"))]
        ax.plot([r["step"] for r in recs], [r["loss"] for r in recs], label=lab, lw=1)
    ax.set_xlabel("step (identical batches in every run)")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_ylim(top=8)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "tws_loss.png"), dpi=110)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    keys = [k for k in ("fp16", "ptq_absmean", "ptq_lsq", "tws", "fp16_equal_memory") if k in results]
    ppl = [results[k]["val_ppl"] for k in keys]
    mb = [results[k]["bytes"] / 1e6 for k in keys]
    bars = ax.bar(range(len(keys)), ppl, color=["#777", "#c55", "#e88", "#2a7", "#57c"][:len(keys)])
    for b, p, m in zip(bars, ppl, mb):
        ax.text(b.get_x() + b.get_width() / 2, min(p, ax.get_ylim()[1]), "%.1f\n%.1f MB" % (p, m),
                ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("held-out perplexity (log scale)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "tws_ppl.png"), dpi=110)


if __name__ == "__main__":
    main()
