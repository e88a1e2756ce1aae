// Shared by every shader: extensions and workgroup reductions.
// Include after `#define WG <local size x>`; the reductions must be called in uniform control flow.
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(local_size_x = WG, local_size_y = 1, local_size_z = 1) in;

// PQ2_0 (bonsai-formats.md 3.1, the Ternary Bonsai files) is Q2_0's codec with 128 weights per fp16
// scale: d, then 32 bytes of codes (34-byte blocks) instead of 64 weights in 18 bytes. The Q2_0 code
// of every shader serves both, with the block shape from Q2_BLK / Q2_BLK_BYTES.
#if defined(TYPE_PQ2_0)
#define TYPE_Q2_0 1
#define Q2_BLK 128u
#define Q2_BLK_BYTES 34u
#elif defined(TYPE_Q2_0)
#define Q2_BLK 64u
#define Q2_BLK_BYTES 18u
#endif

// One slot per subgroup; WG slots covers even a subgroup size of 1.
shared float red_sh[WG];

// Sum of v over the workgroup: subgroup reduction first, then one value per subgroup through shared memory.
float wg_sum(float v) {
    v = subgroupAdd(v);
    if (subgroupElect()) red_sh[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; ++i) s += red_sh[i];
    barrier();
    return s;
}

float wg_max(float v) {
    v = subgroupMax(v);
    if (subgroupElect()) red_sh[gl_SubgroupID] = v;
    barrier();
    float m = red_sh[0];
    for (uint i = 1u; i < gl_NumSubgroups; ++i) m = max(m, red_sh[i]);
    barrier();
    return m;
}

// RoPE angle of rotated pair i at position p (rope.comp, qkv_post.comp, attention.comp):
// p * base^(-2i/n_rot), times the linear-scaling factor, divided by the pair's rope_freqs factor ff
// (Llama 3; 1 without), in the order the CPU backend applies them.
float rope_theta(float p, uint i, uint n_rot, float log2_base, float freq_scale, float ff) {
    return freq_scale * (p * exp2(-2.0 * float(i) / float(n_rot) * log2_base) / ff);
}

// Index of this workgroup when the dispatch was split over x and y (more than 65535 groups).
uint flat_group_id() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }
