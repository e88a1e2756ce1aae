"""Offline corpus assembly from Debian packages.

Each source is a Debian package fetched with `apt-get download` into a temporary
directory and unpacked with `dpkg-deb -x` (nothing is installed). Text is extracted,
capped per source, and written to <out>/<source>.txt. Alongside, structured "facts"
(command -> NAME line, word -> definition, word -> translation, python function ->
docstring) go to <out>/facts.jsonl for instruct.py, and <out>/manifest.json records
every package, its version, its license (read from its debian copyright file),
byte counts and sha256 of each output.

Usage: python3 -m bonsai_train.corpus --out training/corpus [--scale 1.0]
"""
import argparse
import ast
import glob
import gzip
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import tempfile

# Commands whose section-1/8 man pages we want (package -> why). Kept modest: each is a
# small download, and the NAME lines feed the "what does this command do" instructions.
MAN_PACKAGES = [
    "manpages", "manpages-dev", "coreutils", "grep", "sed", "findutils", "tar", "gzip",
    "bzip2", "xz-utils", "util-linux", "procps", "openssh-client", "bash", "curl",
    "wget", "rsync", "diffutils", "less", "file", "make", "gawk", "psmisc",
    "iproute2", "iputils-ping", "net-tools", "zip", "unzip", "git-man", "vim-common",
    "nano", "cron", "sudo", "man-db", "dpkg", "apt", "patch", "bc", "time", "tree",
    "lsof", "strace", "htop", "tmux", "screen", "jq", "sqlite3", "binutils",
]
DICT_PACKAGES = {  # package -> (source name, dict basename glob)
    "dict-gcide": ("gcide", "gcide"),
    "dict-wn": ("wordnet", "wn"),
    "dict-foldoc": ("foldoc", "foldoc"),
}
FREEDICT = ["dict-freedict-deu-eng", "dict-freedict-fra-eng", "dict-freedict-spa-eng",
            "dict-freedict-ita-eng", "dict-freedict-nld-eng"]
PY_DOC = "python3.11-doc"
PY_STDLIB = "libpython3.11-stdlib"

# Per-source caps in bytes at scale 1.0 (total about 40 MB of text).
CAPS = {"man": 9e6, "pydoc": 9e6, "pycode": 7e6, "gcide": 7e6, "wordnet": 4e6,
        "foldoc": 3e6, "freedict": 2e6}


def log(*a):
    print("[corpus]", *a, file=sys.stderr, flush=True)


def fetch(pkg, tmp):
    """Download and unpack one package; returns (root dir, version, license) or None."""
    d = os.path.join(tmp, "deb-" + pkg)
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(["apt-get", "download", pkg], cwd=d, capture_output=True, text=True)
    debs = glob.glob(os.path.join(d, "*.deb"))
    if r.returncode != 0 or not debs:
        log("skip", pkg, "(download failed)", r.stderr.strip()[-200:])
        return None
    root = os.path.join(d, "root")
    subprocess.run(["dpkg-deb", "-x", debs[0], root], check=True)
    ver = subprocess.run(["dpkg-deb", "-f", debs[0], "Version"], capture_output=True,
                         text=True).stdout.strip()
    return root, ver, read_license(root, pkg)


def read_license(root, pkg):
    """Short license summary: the distinct `License:` lines of debian/copyright."""
    for p in glob.glob(os.path.join(root, "usr/share/doc/*/copyright")):
        try:
            txt = open(p, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        lic = []
        for m in re.finditer(r"^License:\s*(\S.*)$", txt, re.M):
            v = m.group(1).strip()
            if v not in lic:
                lic.append(v)
        if lic:
            return "; ".join(lic[:6])
        return "see copyright: " + txt[:200].replace("\n", " ")
    return "unknown (no copyright file; depends on package " + pkg + ")"


# ---------------------------------------------------------------- man pages
def render_man(path):
    """roff -> plain text via groff if present, else a crude macro stripper."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        src = f.read()
    if src.startswith(b".so "):
        return None  # alias page
    try:
        r = subprocess.run(["groff", "-t", "-man", "-Tutf8", "-P-c", "-P-b", "-P-u",
                            "-rLL=80n"], input=src, capture_output=True, timeout=30)
        txt = r.stdout.decode("utf-8", "replace")
        if r.returncode == 0 and txt.strip():
            txt = re.sub(r".\x08", "", txt)
            return re.sub(r"\n{3,}", "\n\n", txt)
    except (OSError, subprocess.TimeoutExpired):
        pass
    out = []
    for line in src.decode("utf-8", "replace").splitlines():
        if line.startswith((".\\\"", "'\\\"")):
            continue
        if line.startswith("."):
            parts = line.split(None, 1)
            if len(parts) > 1 and parts[0] in (".SH", ".SS", ".B", ".I", ".BR", ".IR", ".TP", ".IP"):
                out.append(parts[1].replace('"', ""))
            continue
        out.append(re.sub(r"\\f[BIRP]|\\-|\\\(..|\\&", lambda m: "-" if m.group() == "\\-" else "", line))
    return "\n".join(out)


def man_name_line(txt):
    """Return (name, description) from the NAME section of rendered text."""
    m = re.search(r"^NAME\s*\n(.+?)\n\s*\n", txt, re.M | re.S)
    if not m:
        return None
    line = " ".join(m.group(1).split())
    if " - " not in line:
        return None
    names, desc = line.split(" - ", 1)
    return names.split(",")[0].strip(), desc.strip()


# ---------------------------------------------------------------- dict files
def read_dict_entries(root, base):
    """Yield (headword, body) from a dictd .index/.dict(.dz) pair."""
    idx = glob.glob(os.path.join(root, "usr/share/dictd", base + "*.index"))
    for ip in idx:
        dp = ip[:-6] + ".dict.dz"
        if not os.path.exists(dp):
            dp = ip[:-6] + ".dict"
        if not os.path.exists(dp):
            continue
        data = (gzip.open(dp, "rb") if dp.endswith(".dz") else open(dp, "rb")).read()
        for line in open(ip, encoding="utf-8", errors="replace"):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
                continue
            off, ln = b64num(parts[1]), b64num(parts[2])
            if off is None or ln is None or ln > 200000:
                continue
            yield parts[0], data[off:off + ln].decode("utf-8", "replace")


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64num(s):
    """dictd index numbers are base64 digits, most significant first."""
    v = 0
    for ch in s:
        i = B64.find(ch)
        if i < 0:
            return None
        v = v * 64 + i
    return v


def clean_def(body, head):
    body = body.strip()
    if body.lower().startswith(head.lower()):
        body = body[len(head):]
    return re.sub(r"[ \t]+", " ", body).strip()


# ---------------------------------------------------------------- python
def html_to_text(s):
    s = re.sub(r"(?is)<(script|style).*?</\1>", "", s)
    s = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>|</pre>|</dt>|</dd>", "\n", s)
    s = re.sub(r"<[^>]+>", "", s)
    s = html.unescape(s)
    s = re.sub(r"[ \t]+\n", "\n", s)
    return re.sub(r"\n{3,}", "\n\n", s)


def py_functions(src, modname):
    """(qualified name, first docstring paragraph) of top-level public functions."""
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node)
            if doc:
                first = doc.strip().split("\n\n")[0]
                first = " ".join(first.split())
                if 20 < len(first) < 400:
                    yield modname + "." + node.name, first


# ---------------------------------------------------------------- driver
class Writer:
    """Appends text to one output file, stopping at a byte cap."""

    def __init__(self, out, name, cap):
        self.path = os.path.join(out, name + ".txt")
        self.f = open(self.path, "w", encoding="utf-8")
        self.n, self.cap = 0, cap

    def full(self):
        return self.n >= self.cap

    def add(self, text):
        if self.full() or not text.strip():
            return
        b = text.strip() + "\n\n"
        self.f.write(b)
        self.n += len(b.encode("utf-8"))

    def close(self):
        self.f.close()


def build(out, scale=1.0):
    os.makedirs(out, exist_ok=True)
    manifest = {"sources": [], "outputs": {}}
    facts = open(os.path.join(out, "facts.jsonl"), "w", encoding="utf-8")
    writers = {k: Writer(out, k, v * scale) for k, v in CAPS.items()}

    def note(pkg, used_for, res):
        manifest["sources"].append({"package": pkg, "version": res[1], "license": res[2],
                                    "used_for": used_for})

    with tempfile.TemporaryDirectory() as tmp:
        seen = set()
        # Command packages first, the big section 2/3 collections last; facts are
        # collected from every page even after the text cap is reached.
        for pkg in MAN_PACKAGES[2:] + MAN_PACKAGES[:2]:
            res = fetch(pkg, tmp)
            if not res:
                continue
            note(pkg, "man", res)
            for p in sorted(glob.glob(os.path.join(res[0], "usr/share/man/man[1-8]/*"))):
                key = os.path.basename(p)
                if key in seen:
                    continue
                seen.add(key)
                sec = p.split("/man")[-1][0]
                if writers["man"].full() and sec not in "18":
                    continue
                txt = render_man(p)
                if not txt:
                    continue
                writers["man"].add(txt)
                nl = man_name_line(txt)
                if nl:
                    facts.write(json.dumps({"kind": "command" if sec in "18" else "manpage",
                                            "name": nl[0], "section": sec, "text": nl[1]}) + "\n")
        for pkg, (name, base) in DICT_PACKAGES.items():
            res = fetch(pkg, tmp)
            if not res:
                continue
            note(pkg, name, res)
            for head, body in read_dict_entries(res[0], base):
                if writers[name].full():
                    break
                writers[name].add(body)
                d = clean_def(body, head)
                if 10 < len(d) < 600 and head.isalpha():
                    facts.write(json.dumps({"kind": "define", "source": name, "name": head,
                                            "text": d}) + "\n")
        for pkg in FREEDICT:
            res = fetch(pkg, tmp)
            if not res:
                continue
            note(pkg, "freedict", res)
            lang = pkg.split("-")[2]
            stop = writers["freedict"].n + writers["freedict"].cap / len(FREEDICT)
            for head, body in read_dict_entries(res[0], ""):
                if writers["freedict"].n >= stop:
                    break
                writers["freedict"].add(body)
                lines = [ln.strip() for ln in body.strip().splitlines()[1:] if ln.strip()]
                if lines and len(head) < 40:
                    tr = lines[0].lstrip("0123456789. ")
                    if 0 < len(tr) < 80:
                        facts.write(json.dumps({"kind": "translate", "lang": lang, "name": head,
                                                "text": tr}) + "\n")
        res = fetch(PY_DOC, tmp)
        if res:
            note(PY_DOC, "pydoc", res)
            for p in sorted(glob.glob(os.path.join(res[0], "usr/share/doc/python3.11/html/**/*.html"),
                                      recursive=True)):
                if writers["pydoc"].full():
                    break
                if "/_static/" in p or "genindex" in p:
                    continue
                writers["pydoc"].add(html_to_text(open(p, encoding="utf-8", errors="replace").read()))
        res = fetch(PY_STDLIB, tmp)
        if res:
            note(PY_STDLIB, "pycode", res)
            for p in sorted(glob.glob(os.path.join(res[0], "usr/lib/python3.11/**/*.py"), recursive=True)):
                if "/test" in p or "/idlelib/" in p or "/lib2to3/" in p:
                    continue
                if not os.path.isfile(p):
                    continue  # dangling symlink (sysconfigdata lives in another package)
                src = open(p, encoding="utf-8", errors="replace").read()
                mod = os.path.relpath(p, os.path.join(res[0], "usr/lib/python3.11"))[:-3]
                mod = mod.replace("/", ".").replace(".__init__", "")
                for qn, doc in py_functions(src, mod):
                    facts.write(json.dumps({"kind": "pyfunc", "name": qn, "text": doc}) + "\n")
                if not writers["pycode"].full():
                    writers["pycode"].add("# file: " + mod + ".py\n" + src)
    facts.close()
    for k, w in writers.items():
        w.close()
        manifest["outputs"][k + ".txt"] = {"bytes": w.n, "sha256": sha256(w.path)}
    manifest["outputs"]["facts.jsonl"] = {"sha256": sha256(os.path.join(out, "facts.jsonl"))}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log("done", {k: w.n for k, w in writers.items()})
    return manifest


def sha256(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="training/corpus")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every per-source cap")
    a = ap.parse_args(argv)
    build(a.out, a.scale)


if __name__ == "__main__":
    main()
