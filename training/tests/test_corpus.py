"""Corpus/instruction helpers on hand-made inputs (no network, no packages needed)."""
import gzip

from bonsai_train import corpus, instruct


def test_dictd_base64_numbers():
    assert corpus.b64num("A") == 0 and corpus.b64num("B") == 1 and corpus.b64num("BA") == 64
    assert corpus.b64num("/") == 63 and corpus.b64num("a!") is None


def test_read_dict_entries(tmp_path):
    root = tmp_path / "usr/share/dictd"
    root.mkdir(parents=True)
    body = b"haus\n  house\n\nkatze\n  cat\n"
    with gzip.open(root / "deu-eng.dict.dz", "wb") as f:
        f.write(body)
    # offsets/lengths in dictd base64: entry 1 at 0 (len 13), entry 2 at 13 (len 13)
    (root / "deu-eng.index").write_text("00-database-info\tA\tA\nhaus\tA\tN\nkatze\tN\tN\n")
    got = list(corpus.read_dict_entries(str(tmp_path), "deu"))
    assert got == [("haus", "haus\n  house\n"), ("katze", "\nkatze\n  cat\n")]


def test_man_name_line():
    txt = "LS(1)   User Commands   LS(1)\n\nNAME\n       ls - list directory\n       contents\n\nSYNOPSIS\n"
    assert corpus.man_name_line(txt) == ("ls", "list directory contents")


def test_wordnet_cleaning_and_chatml():
    d = instruct.clean_wordnet('n 1: malicious burning to destroy property; "the British term" [syn: {arson}]')
    assert d == "malicious burning to destroy property"
    s = instruct.chatml([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    assert s == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n"


def test_chatml_matches_exported_template():
    import jinja2
    from bonsai_train.export_gguf import CHATML
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    out = env.from_string(CHATML).render(messages=msgs, add_generation_prompt=True)
    assert out == instruct.chatml(msgs) + "<|im_start|>assistant\n"
