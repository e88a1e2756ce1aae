// Weight access for one tensor type, selected by a TYPE_<name> define (one SPIR-V module per type).
// Binding 0 is the weight buffer. Row offsets `ro` are in elements for F32/F16/BF16, in bytes otherwise.
//   void deq_init()                           call first in main(): per-dispatch state (I2_S's scale)
//   float deq(uint ro, uint k)                element k of the row starting at ro
//   float dot_chunk(uint ro, uint c, uint xo) (block types but K-quants and I2_S, CHUNKED) dot of elements
//                                             32c..32c+31 of the row with xv[xo + 32c ..]; xv must be
//                                             declared first.
// Block types are read byte-wise through an 8-bit storage buffer because their block sizes
// (18, 34, 54, 66, 144, 210 bytes) are not multiples of 4. Layouts: specs/formats.md section 2.3.

#if defined(TYPE_F32)
layout(std430, binding = 0) readonly buffer Wbuf { float wf[]; };
float deq(uint ro, uint k) { return wf[ro + k]; }

#elif defined(TYPE_F16)
layout(std430, binding = 0) readonly buffer Wbuf { uint16_t wh[]; };
float deq(uint ro, uint k) { return unpackHalf2x16(uint(wh[ro + k])).x; }

#elif defined(TYPE_BF16)
// bfloat16: the high 16 bits of an IEEE float.
layout(std430, binding = 0) readonly buffer Wbuf { uint16_t wh[]; };
float deq(uint ro, uint k) { return uintBitsToFloat(uint(wh[ro + k]) << 16); }

#else
#define CHUNKED 1
layout(std430, binding = 0) readonly buffer Wbuf { uint8_t wb[]; };
uint ldb(uint o) { return uint(wb[o]); }
float ld_half(uint o) { return unpackHalf2x16(ldb(o) | (ldb(o + 1u) << 8)).x; }
#if defined(TYPE_TQ1_0) || defined(TYPE_PTQ1_0)
// Base-3 digit n (0..4, 0 the most significant) of a packed byte value v: (((v * 3^n) mod 256) * 3) >> 8.
uint tq1_digit(uint v, uint n) {
    uint p = n == 0u ? 1u : n == 1u ? 3u : n == 2u ? 9u : n == 3u ? 27u : 81u;
    return (((v * p) & 255u) * 3u) >> 8;
}
#endif

#if defined(TYPE_Q8_0)
// 32 elements, 34 bytes: fp16 d, int8 q[32].
#define BLK 32u
#define BLK_BYTES 34u
float deq(uint ro, uint k) {
    uint b = ro + (k / BLK) * BLK_BYTES;
    return ld_half(b) * float(bitfieldExtract(int(ldb(b + 2u + k % BLK)), 0, 8));
}
float dot_chunk(uint ro, uint c, uint xo) {
    uint b = ro + c * BLK_BYTES;
    uint x0 = xo + c * 32u;
    float s = 0.0;
    for (uint j = 0u; j < 32u; ++j) s += float(bitfieldExtract(int(ldb(b + 2u + j)), 0, 8)) * xv[x0 + j];
    return ld_half(b) * s;
}

#elif defined(TYPE_Q4_0)
// 32 elements, 18 bytes: fp16 d, 16 bytes; element j = low nibble of byte j, j+16 = high nibble.
#define BLK 32u
#define BLK_BYTES 18u
float deq(uint ro, uint k) {
    uint b = ro + (k / BLK) * BLK_BYTES;
    uint j = k % BLK;
    uint v = ldb(b + 2u + (j & 15u));
    uint q = j < 16u ? (v & 15u) : (v >> 4);
    return ld_half(b) * (float(q) - 8.0);
}
float dot_chunk(uint ro, uint c, uint xo) {
    uint b = ro + c * BLK_BYTES;
    uint x0 = xo + c * 32u;
    float s = 0.0;
    for (uint j = 0u; j < 16u; ++j) {
        uint v = ldb(b + 2u + j);
        s += (float(v & 15u) - 8.0) * xv[x0 + j] + (float(v >> 4) - 8.0) * xv[x0 + j + 16u];
    }
    return ld_half(b) * s;
}

#elif defined(TYPE_Q4_K)
// 256 elements, 144 bytes: fp16 d, fp16 dmin, 12 bytes of packed 6-bit sub-block scales and mins, 128
// bytes of nibbles (formats.md 2.3.4). Sub-block j = element / 32 (8 of them); element 64c + l
// (l < 32) is the low nibble of qs[32c + l], 64c + 32 + l its high nibble; x = d sc_j q - dmin m_j.
// (Llama.cpp's quantizer puts token_embd / output of TQ1_0 / TQ2_0 models in K-quants.)
float deq(uint ro, uint k) {
    uint b = ro + (k / 256u) * 144u;
    uint j = k % 256u, sub = j / 32u, s = b + 4u;
    uint sc, m;
    if (sub < 4u) {
        sc = ldb(s + sub) & 63u;
        m = ldb(s + sub + 4u) & 63u;
    } else {
        sc = (ldb(s + sub + 4u) & 15u) | ((ldb(s + sub - 4u) >> 6) << 4);
        m = (ldb(s + sub + 4u) >> 4) | ((ldb(s + sub) >> 6) << 4);
    }
    uint v = ldb(b + 16u + 32u * (j / 64u) + j % 32u);
    uint q = (sub & 1u) != 0u ? v >> 4 : v & 15u;
    return ld_half(b) * float(sc) * float(q) - ld_half(b + 2u) * float(m);
}

#elif defined(TYPE_Q6_K)
// 256 elements, 210 bytes: ql[128] (low nibbles), qh[64] (2 high bits each), int8 scales[16], fp16 d
// (formats.md 2.3.5). Half h = element / 128, quarter t = (element % 128) / 32, l = element % 32:
// low bits from ql[64h + l + 32 (t % 2)] (nibble t / 2), high bits 2t of qh[32h + l], scale
// scales[8h + l / 16 + 2t]; x = d scale (q - 32).
float deq(uint ro, uint k) {
    uint b = ro + (k / 256u) * 210u;
    uint j = k % 256u, h = j / 128u, t = (j % 128u) / 32u, l = j % 32u;
    uint lo = (ldb(b + 64u * h + l + 32u * (t % 2u)) >> (4u * (t / 2u))) & 15u;
    uint hi = (ldb(b + 128u + 32u * h + l) >> (2u * t)) & 3u;
    int sc = bitfieldExtract(int(ldb(b + 192u + 8u * h + l / 16u + 2u * t)), 0, 8);
    return ld_half(b + 208u) * float(sc) * float(int(lo | (hi << 4)) - 32);
}

#elif defined(TYPE_I2_S)
// BitNet b1.58's I2_S (formats.md 2.3.10): 2-bit codes of the whole tensor, row r at byte r ne0 / 4, in
// blocks of 128 elements = 32 bytes (element j of a block: byte j % 32, bits 6 - 2 (j / 32)); x =
// (code - 1) scale with ONE float32 scale right after the tensor's codes, which the shader reads at
// w_base + rows row_stride (once, deq_init): a dispatch covers the whole tensor.
float i2s_d = 1.0;
void deq_init() {
    uint o = pc.w_base + pc.rows * pc.row_stride;
    i2s_d = uintBitsToFloat(ldb(o) | (ldb(o + 1u) << 8) | (ldb(o + 2u) << 16) | (ldb(o + 3u) << 24));
}
float deq(uint ro, uint k) {
    uint v = ldb(ro + (k / 128u) * 32u + k % 32u);
    return (float((v >> (6u - 2u * ((k % 128u) / 32u))) & 3u) - 1.0) * i2s_d;
}

#elif defined(TYPE_Q1_0)
// 128 elements, 18 bytes: fp16 d, 16 bytes of sign bits (LSB first); bit 1 -> +d, 0 -> -d.
#define BLK 128u
#define BLK_BYTES 18u
float deq(uint ro, uint k) {
    uint b = ro + (k / BLK) * BLK_BYTES;
    uint j = k % BLK;
    uint bit = (ldb(b + 2u + j / 8u) >> (j % 8u)) & 1u;
    return bit != 0u ? ld_half(b) : -ld_half(b);
}
float dot_chunk(uint ro, uint c, uint xo) {
    uint b = ro + (c / 4u) * BLK_BYTES;
    uint q0 = b + 2u + (c % 4u) * 4u;   // 4 bytes = 32 sign bits of this chunk
    uint x0 = xo + c * 32u;
    float s = 0.0;
    for (uint i = 0u; i < 4u; ++i) {
        uint v = ldb(q0 + i);
        for (uint j = 0u; j < 8u; ++j) {
            float x = xv[x0 + 8u * i + j];
            s += ((v >> j) & 1u) != 0u ? x : -x;
        }
    }
    return ld_half(b) * s;
}

#elif defined(TYPE_Q2_0)
// 64 elements (PQ2_0: 128), 18 (34) bytes: fp16 d, then the codes; element j = bits 2(j%4).. of byte
// j/4; x = (q - 1) d.
#define BLK Q2_BLK
#define BLK_BYTES Q2_BLK_BYTES
float deq(uint ro, uint k) {
    uint b = ro + (k / BLK) * BLK_BYTES;
    uint j = k % BLK;
    uint q = (ldb(b + 2u + j / 4u) >> (2u * (j % 4u))) & 3u;
    return ld_half(b) * (float(q) - 1.0);
}
float dot_chunk(uint ro, uint c, uint xo) {
    uint b = ro + (c / (BLK / 32u)) * BLK_BYTES;
    uint q0 = b + 2u + (c % (BLK / 32u)) * 8u;   // 8 bytes = 32 codes
    uint x0 = xo + c * 32u;
    float s = 0.0;
    for (uint i = 0u; i < 8u; ++i) {
        uint v = ldb(q0 + i);
        for (uint j = 0u; j < 4u; ++j) s += (float((v >> (2u * j)) & 3u) - 1.0) * xv[x0 + 4u * i + j];
    }
    return ld_half(b) * s;
}

#elif defined(TYPE_TQ2_0)
// 256 elements, 66 bytes: qs[64], fp16 d at 64. Element 128h + 32l + m = (qs[32h + m] >> 2l) & 3.
#define BLK 256u
#define BLK_BYTES 66u
float deq(uint ro, uint k) {
    uint b = ro + (k / BLK) * BLK_BYTES;
    uint j = k % BLK;
    uint h = j / 128u, l = (j % 128u) / 32u, m = j % 32u;
    uint q = (ldb(b + 32u * h + m) >> (2u * l)) & 3u;
    return ld_half(b + 64u) * (float(q) - 1.0);
}
float dot_chunk(uint ro, uint c, uint xo) {
    uint b = ro + (c / 8u) * BLK_BYTES;
    uint sub = c % 8u;
    uint qs = b + 32u * (sub / 4u);
    uint sh = 2u * (sub % 4u);
    uint x0 = xo + c * 32u;
    float s = 0.0;
    for (uint m = 0u; m < 32u; ++m) s += (float((ldb(qs + m) >> sh) & 3u) - 1.0) * xv[x0 + m];
    return ld_half(b + 64u) * s;
}

#elif defined(TYPE_TQ1_0) || defined(TYPE_PTQ1_0)
// TQ1_0 (formats.md 2.3.8): 256 elements, 54 bytes; PrismML's PTQ1_0 (bonsai-formats.md 3.2): 128
// elements, 28 bytes: the same layout at half the size. The first BLK/8 bytes hold 5 base-3 digits each
// (tq1_digit), elements 0 .. 5 BLK/8 - 1: digit j / (BLK/8) of byte j % (BLK/8); the next BLK/16 bytes
// 5 digits each for the next 5 BLK/16 elements; the last BLK/64 code bytes (qh) 4 digits each for the
// last BLK/16 elements; then the fp16 d.
#if defined(TYPE_TQ1_0)
#define BLK 256u
#define BLK_BYTES 54u
#else
#define BLK 128u
#define BLK_BYTES 28u
#endif
uint tq1_trit(uint b, uint j) {
    const uint g1 = BLK / 8u, g2 = BLK / 16u, g3 = BLK / 64u, e2 = 5u * g1, e3 = e2 + 5u * g2;
    uint byte_index, n;
    if (j < e2) { byte_index = j % g1; n = j / g1; }
    else if (j < e3) { byte_index = g1 + (j - e2) % g2; n = (j - e2) / g2; }
    else { byte_index = g1 + g2 + (j - e3) % g3; n = (j - e3) / g3; }
    return tq1_digit(ldb(b + byte_index), n);
}
float deq(uint ro, uint k) {
    uint b = ro + (k / BLK) * BLK_BYTES;
    return ld_half(b + BLK_BYTES - 2u) * (float(tq1_trit(b, k % BLK)) - 1.0);
}
float dot_chunk(uint ro, uint c, uint xo) {
    uint b = ro + (c / (BLK / 32u)) * BLK_BYTES;
    uint j0 = (c % (BLK / 32u)) * 32u;
    uint x0 = xo + c * 32u;
    float s = 0.0;
    for (uint i = 0u; i < 32u; ++i) s += (float(tq1_trit(b, j0 + i)) - 1.0) * xv[x0 + i];
    return ld_half(b + BLK_BYTES - 2u) * s;
}

#else
#error "define one TYPE_<name>"
#endif
#endif
#if !defined(TYPE_I2_S)
void deq_init() {}
#endif
