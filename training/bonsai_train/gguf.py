"""Minimal GGUF v3 writer and reader (own code, written from the format fact sheet).

Writer: key/values of the scalar, string and array types, tensors stored back to back,
each padded to the alignment (32 unless `general.alignment` is set), offsets relative to
the data section. Reader: parses the same subset into plain Python values and numpy
byte views, for tests and for loading the shared fixture models and vocabularies.
"""
import struct

import numpy as np

# Value type ids (GGUF spec).
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
_SCALAR = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
           FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}

# Tensor type ids -> (block size in elements, bytes per block).
F32, F16, Q8_0, TQ2_0, BF16, Q2_0 = 0, 1, 8, 35, 30, 42
TYPE_INFO = {F32: (1, 4), F16: (1, 2), Q8_0: (32, 34), TQ2_0: (256, 66), BF16: (1, 2), Q2_0: (64, 18),
             34: (256, 54), 41: (128, 18), 2: (32, 18), 12: (256, 144), 14: (256, 210)}
ALIGN = 32


class Val:
    """A metadata value with an explicit GGUF type (vtype) and, for arrays, element type."""

    def __init__(self, vtype, value, etype=None):
        self.vtype, self.value, self.etype = vtype, value, etype


def _pack_str(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def _pack_val(vtype, v, etype=None):
    if vtype == STRING:
        return _pack_str(v)
    if vtype == ARRAY:
        out = [struct.pack("<IQ", etype, len(v))]
        if etype == STRING:
            out.extend(_pack_str(x) for x in v)
        else:
            out.append(np.asarray(v, dtype=np.dtype(_SCALAR[etype])).tobytes())
        return b"".join(out)
    return struct.pack(_SCALAR[vtype], v)


class GGUFWriter:
    """Collects metadata and tensors, then writes one file with write(path)."""

    def __init__(self):
        self.kv = []        # list of (key, Val)
        self.tensors = []   # list of (name, ne list, type id, raw bytes)

    def add(self, key, vtype, value, etype=None):
        if any(k == key for k, _ in self.kv):
            raise ValueError("duplicate key " + key)
        self.kv.append((key, Val(vtype, value, etype)))

    def add_tensor(self, name, ne, ttype, raw):
        """ne: dims fastest-varying first (GGUF order); raw: the encoded bytes."""
        blk, bsz = TYPE_INFO[ttype]
        n = int(np.prod(ne))
        if ne[0] % blk or len(raw) != n // blk * bsz:
            raise ValueError("tensor %s: %d bytes do not match ne=%s type %d" % (name, len(raw), ne, ttype))
        if len(name.encode()) >= 64:
            raise ValueError("tensor name too long: " + name)
        self.tensors.append((name, list(ne), ttype, bytes(raw)))

    def write(self, path):
        head = [b"GGUF", struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))]
        for k, v in self.kv:
            head.append(_pack_str(k) + struct.pack("<I", v.vtype) + _pack_val(v.vtype, v.value, v.etype))
        off = 0
        for name, ne, tt, raw in self.tensors:
            head.append(_pack_str(name) + struct.pack("<I", len(ne)) +
                        b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", tt, off))
            off += (len(raw) + ALIGN - 1) // ALIGN * ALIGN
        h = b"".join(head)
        with open(path, "wb") as f:
            f.write(h)
            f.write(b"\0" * ((-len(h)) % ALIGN))
            for _, _, _, raw in self.tensors:
                f.write(raw)
                f.write(b"\0" * ((-len(raw)) % ALIGN))


class GGUFFile:
    """Parsed GGUF: .kv (key -> python value), .types (key -> vtype),
    .tensors (name -> dict(ne, type, data: numpy uint8 view))."""

    def __init__(self, path):
        self.buf = memoryview(open(path, "rb").read())
        self.pos = 0
        if bytes(self.buf[:4]) != b"GGUF":
            raise ValueError("not a GGUF file")
        self.pos = 4
        ver, nt, nkv = self._unpack("<IQQ")
        if ver not in (2, 3):
            raise ValueError("unsupported GGUF version %d" % ver)
        self.kv, self.types = {}, {}
        for _ in range(nkv):
            k = self._str()
            (vt,) = self._unpack("<I")
            self.kv[k] = self._val(vt)
            self.types[k] = vt
        infos = []
        for _ in range(nt):
            name = self._str()
            (nd,) = self._unpack("<I")
            ne = list(self._unpack("<" + "Q" * nd))
            tt, off = self._unpack("<IQ")
            infos.append((name, ne, tt, off))
        align = self.kv.get("general.alignment", ALIGN)
        start = (self.pos + align - 1) // align * align
        arr = np.frombuffer(self.buf, dtype=np.uint8)
        self.tensors = {}
        for name, ne, tt, off in infos:
            blk, bsz = TYPE_INFO[tt]
            nb = int(np.prod(ne)) // blk * bsz
            self.tensors[name] = {"ne": ne, "type": tt, "data": arr[start + off:start + off + nb]}
            if start + off + nb > len(arr):
                raise ValueError("tensor %s past end of file" % name)

    def _unpack(self, fmt):
        n = struct.calcsize(fmt)
        if self.pos + n > len(self.buf):
            raise ValueError("truncated GGUF")
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return v

    def _str(self):
        (n,) = self._unpack("<Q")
        if self.pos + n > len(self.buf):
            raise ValueError("truncated string")
        s = bytes(self.buf[self.pos:self.pos + n]).decode("utf-8", "replace")
        self.pos += n
        return s

    def _val(self, vt):
        if vt == STRING:
            return self._str()
        if vt == ARRAY:
            et, n = self._unpack("<IQ")
            if et == STRING:
                return [self._str() for _ in range(n)]
            dt = np.dtype(_SCALAR[et])
            if self.pos + n * dt.itemsize > len(self.buf):
                raise ValueError("truncated array")
            a = np.frombuffer(self.buf, dtype=dt, count=n, offset=self.pos).copy()
            self.pos += n * dt.itemsize
            return a.tolist()
        if vt not in _SCALAR:
            raise ValueError("bad value type %d" % vt)
        return self._unpack(_SCALAR[vt])[0]

    def tensor_f32(self, name):
        """Dequantized tensor as float32 numpy array of shape reversed(ne) (PyTorch order)."""
        from . import quants
        t = self.tensors[name]
        return quants.dequantize(t["data"], t["type"], t["ne"])
