"""Bonsai training toolkit: corpus builder, BPE tokenizer, qwen3 model, Ternary Weight
Splitting (TWS) trainer, post-training ternarization and a GGUF v3 exporter.

Everything here is plain Python 3 + PyTorch + numpy; nothing is downloaded at run time
except Debian packages fetched by corpus.py with `apt-get download`.
"""
