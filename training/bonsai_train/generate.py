"""Greedy sampling with the PyTorch model (no KV cache: re-runs the prefix each token;
fine for short answers), used for the sample answers in docs/tws.md."""
import torch

from .instruct import chatml

PROMPTS = [
    "What does the `ls` command do?",
    "What is grep used for?",
    "Explain the chmod command in one sentence.",
    'What does the word "ephemeral" mean?',
    "Define photosynthesis.",
    "What is a compiler?",
    'Translate the German word "Haus" into English.',
    'How do you say the French word "chien" in English?',
    "What does the Python function os.path.join do?",
    "Write a haiku about autumn.",
]


@torch.no_grad()
def answer(model, tok, prompt, device="cpu", max_new=60):
    model.eval()
    text = chatml([{"role": "user", "content": prompt}]) + "<|im_start|>assistant\n"
    ids = tok.encode(text, parse_special=True)
    stop = {tok.special["<|im_end|>"], tok.special["<|endoftext|>"]}
    out = []
    for _ in range(max_new):
        x = torch.tensor([ids + out], device=device)[:, -model.c.context_length:]
        nxt = int(model(x)[0, -1].float().argmax())
        if nxt in stop:
            break
        out.append(nxt)
    return tok.decode(out)
