// Shared by the decoding attention shaders (attention.comp, attention_d128.comp). Include after the
// includer's `shared float q_sh[]` (the query, f16-rounded or not).

float f16_round(float x) { return unpackHalf2x16(packHalf2x16(vec2(x, 0.0))).x; }

// q . (8 keys of one 16-byte load) for dims d .. d + 7, summed in dimension order.
float dot8(uvec4 w, uint d) {
    vec2 a = unpackHalf2x16(w.x), b = unpackHalf2x16(w.y), c = unpackHalf2x16(w.z), e = unpackHalf2x16(w.w);
    return q_sh[d] * a.x + q_sh[d + 1u] * a.y + q_sh[d + 2u] * b.x + q_sh[d + 3u] * b.y + q_sh[d + 4u] * c.x +
           q_sh[d + 5u] * c.y + q_sh[d + 6u] * e.x + q_sh[d + 7u] * e.y;
}
