"""Block encoders/decoders (numpy) for the tensor types the exporter writes:
F32, F16, BF16 (decode only), Q8_0, TQ2_0 (256 values, qs[64] then f16 d) and
Q2_0 (64 values, f16 d then qs[16]). Layouts follow the shared format fact sheet.

Ternary encoders take the integer codes t in {-1,0,+1} and one scale per block, so the
file holds exactly the weights the trainer used (d rounded to f16)."""
import numpy as np

from . import gguf


def _blocks(codes, scales, blk):
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] % blk:
        raise ValueError("row length must be a multiple of %d" % blk)
    if codes.min(initial=0) < -1 or codes.max(initial=0) > 1:
        raise ValueError("codes must be ternary")
    q = (codes.astype(np.int16) + 1).astype(np.uint8).reshape(-1, blk)
    d = np.asarray(scales, dtype=np.float32).reshape(-1).astype("<f2")
    if d.shape[0] != q.shape[0]:
        raise ValueError("one scale per block expected")
    return q, d


def pack_tq2_0(codes, scales):
    """codes (rows, n) int, scales (rows, n/256) -> bytes. Element 128c+32l+m sits in
    bits 2l of qs[32c+m]; d (f16) is the last two bytes of each 66-byte block."""
    q, d = _blocks(codes, scales, 256)
    q = q.reshape(-1, 2, 4, 32)
    qs = (q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)).reshape(-1, 64)
    out = np.concatenate([qs, d.view(np.uint8).reshape(-1, 2)], axis=1)
    return out.tobytes()


def pack_q2_0(codes, scales):
    """codes (rows, n) int, scales (rows, n/64) -> bytes. d (f16) first, then element j in
    bits 2(j%4) of qs[j/4]."""
    q, d = _blocks(codes, scales, 64)
    q = q.reshape(-1, 16, 4)
    qs = q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)
    out = np.concatenate([d.view(np.uint8).reshape(-1, 2), qs], axis=1)
    return out.tobytes()


def pack_q8_0(x):
    """float (rows, n) -> Q8_0 bytes (d = max|x|/127 as f16, q = round(x/d))."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(x).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
    q = np.clip(np.rint(x * inv[:, None]), -127, 127).astype(np.int8)
    out = np.concatenate([d.astype("<f2").view(np.uint8).reshape(-1, 2), q.view(np.uint8)], axis=1)
    return out.tobytes()


def dequantize(data, ttype, ne):
    """Raw tensor bytes -> float32 array shaped reversed(ne) (rows, ..., ne0)."""
    data = np.asarray(data, dtype=np.uint8)
    shape = tuple(reversed([int(x) for x in ne]))
    if ttype == gguf.F32:
        v = data.view("<f4")
    elif ttype == gguf.F16:
        v = data.view("<f2").astype(np.float32)
    elif ttype == gguf.BF16:
        v = (data.view("<u2").astype(np.uint32) << 16).view(np.float32)
    elif ttype == gguf.Q8_0:
        b = data.reshape(-1, 34)
        d = b[:, :2].copy().view("<f2").astype(np.float32)
        v = (b[:, 2:].view(np.int8).astype(np.float32) * d).reshape(-1)
    elif ttype == gguf.TQ2_0:
        b = data.reshape(-1, 66)
        qs = b[:, :64].reshape(-1, 2, 1, 32)
        q = (qs >> (2 * np.arange(4, dtype=np.uint8)).reshape(1, 1, 4, 1)) & 3
        d = b[:, 64:].copy().view("<f2").astype(np.float32)
        v = ((q.reshape(-1, 256).astype(np.float32) - 1) * d).reshape(-1)
    elif ttype == gguf.Q2_0:
        b = data.reshape(-1, 18)
        d = b[:, :2].copy().view("<f2").astype(np.float32)
        qs = b[:, 2:].reshape(-1, 16, 1)
        q = (qs >> (2 * np.arange(4, dtype=np.uint8)).reshape(1, 1, 4)) & 3
        v = ((q.reshape(-1, 64).astype(np.float32) - 1) * d).reshape(-1)
    else:
        raise ValueError("cannot decode tensor type %d" % ttype)
    return v.reshape(shape)
