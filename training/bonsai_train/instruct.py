"""Synthetic instruction pairs in the ChatML / Qwen3 chat format, built from the
structured facts corpus.py extracted (facts.jsonl):
  command  -> "What does the `ls` command do?"   (man NAME line)
  define   -> "What does the word X mean?"         (WordNet / FOLDOC first sense)
  translate-> "Translate the German word X into English."  (FreeDict)
  pyfunc   -> "What does the Python function m.f do?"       (stdlib docstring)
Each sample renders as
  [<|im_start|>system\\n...<|im_end|>\\n]<|im_start|>user\\nQ<|im_end|>\\n<|im_start|>assistant\\nA<|im_end|>\\n
which is what the exported ChatML template produces for the same messages.
"""
import json
import random
import re

LANG = {"deu": "German", "fra": "French", "spa": "Spanish", "ita": "Italian", "nld": "Dutch"}
REPEAT = {"command": 4, "pyfunc": 3, "manpage": 2}
SYSTEM = "You are Bonsai, a small helpful assistant that runs on this computer."


def chatml(messages):
    return "".join("<|im_start|>%s\n%s<|im_end|>\n" % (m["role"], m["content"]) for m in messages)


def _lower_first(s):
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


def clean_wordnet(t):
    """'n 1: malicious burning ...; "example" [syn: ...]' -> 'malicious burning ...'"""
    t = " ".join(t.split())
    m = re.match(r"^(n|v|adj|adv)\s+(1:\s*)?(.*)$", t)
    if not m:
        return None
    body = re.split(r"\s+2:|\[syn:|\[ant:|\[also:", m.group(3))[0]
    body = body.split('; "')[0].strip(" ;")
    return body if 3 < len(body) < 300 else None


def clean_foldoc(t):
    paras = [" ".join(p.split()) for p in t.split("\n\n")]
    for p in paras:
        p = re.sub(r"^<[^>]*>\s*", "", p)
        if len(p) > 30 and not p.startswith("("):
            p = p.replace("{", "").replace("}", "")
            return p[:400]
    return None


def make_pair(f, rng):
    k, name, text = f["kind"], f["name"], " ".join(f["text"].split())
    if k == "command":
        q = rng.choice(["What does the `%s` command do?", "What is %s used for?",
                        "Explain the %s command in one sentence.", "what does %s do"]) % name
        a = rng.choice(["`%s` is used to %s.", "The %s command is used to %s."]) % (name, _lower_first(text).rstrip("."))
    elif k == "manpage":
        q = "What is the manual page %s(%s) about?" % (name, f.get("section", "?"))
        a = "%s(%s) describes: %s." % (name, f.get("section", "?"), text.rstrip("."))
    elif k == "define":
        d = clean_wordnet(f["text"]) if f.get("source") == "wordnet" else (
            clean_foldoc(f["text"]) if f.get("source") == "foldoc" else None)
        if not d:
            return None
        q = rng.choice(['What does the word "%s" mean?', "Define %s.", "What is %s?",
                        "Give me a short definition of %s."]) % name
        a = rng.choice(["%s: %s.", '"%s" means %s.']) % (name.capitalize() if rng.random() < 0.5 else name, d.rstrip("."))
    elif k == "translate":
        lang = LANG.get(f.get("lang"), None)
        if not lang or len(text) > 60:
            return None
        q = rng.choice(['Translate the %s word "%s" into English.', 'What is "%s" (%s) in English?',
                        'How do you say the %s word "%s" in English?'])
        q = q % ((name, lang) if q.startswith("What") else (lang, name))
        a = rng.choice(['"%s" means "%s" in English.', 'In English, "%s" is "%s".']) % (name, text)
    elif k == "pyfunc":
        if ">>>" in text:
            return None
        q = rng.choice(["What does the Python function %s do?", "Explain %s() from the Python standard library."]) % name
        a = "`%s`: %s" % (name, text)
    else:
        return None
    msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    if rng.random() < 0.3:
        msgs.insert(0, {"role": "system", "content": SYSTEM})
    return msgs


def build(facts_path, seed=0, limit=None):
    """List of ChatML strings, shuffled deterministically."""
    rng = random.Random(seed)
    out = []
    with open(facts_path, encoding="utf-8") as f:
        for line in f:
            fact = json.loads(line)
            for _ in range(REPEAT.get(fact["kind"], 1)):  # rarer kinds get more phrasings
                m = make_pair(fact, rng)
                if m:
                    out.append(chatml(m))
    rng.shuffle(out)
    return out[:limit] if limit else out


if __name__ == "__main__":
    import sys
    for s in build(sys.argv[1], limit=int(sys.argv[2]) if len(sys.argv) > 2 else 10):
        print(s)
