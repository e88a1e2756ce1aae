// oneDNN prefill GEMM over expanded 1-bit / ternary panels; see onednn_gemm.h for numerics and threading.
#include "backend/cpu/onednn_gemm.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <type_traits>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/r16l_layout.h"
#include "backend/cpu/repack.h"
#include "bonsai/error.h"
#include "bonsai/tensor_type.h"

namespace bonsai::cpu::onednn {
namespace {

// Activation block layouts written by Activations::prepare (matmul.cpp): Q8_0 = {f32 d; int8 q[32]},
// Q8_K = {f32 d; int8 q[256]; int16 bsums[16]}; value = d·q.
constexpr size_t kQ8_0Bytes = 36, kQ8_KBytes = 292;

inline uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// f32 -> bf16 bits, round to nearest even (NaN stays NaN); inline because it runs per weight block.
inline uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

template <class T>
inline T cvt(float f);
template <>
inline float cvt<float>(float f) {
    return f;
}
template <>
inline uint16_t cvt<uint16_t>(float f) {
    return to_bf16(f);
}

// Q1_0 sign masks for bf16 output: a code bit 0 means -d, i.e. d's bits XOR 0x8000.
//   k8[b]: the 8 elements of byte b (bit k -> element k), as two 64-bit words of 4 lanes;
//   k4[n]: 4 elements from a nibble (bit p -> element p), one 64-bit word.
struct SignMasks {
    uint64_t k8[256][2];
    uint64_t k4[16];
    SignMasks() {
        for (int n = 0; n < 16; ++n) {
            k4[n] = 0;
            for (int p = 0; p < 4; ++p)
                if (!((n >> p) & 1)) k4[n] |= 0x8000ull << (16 * p);
        }
        for (int b = 0; b < 256; ++b) {
            k8[b][0] = k4[b & 15];
            k8[b][1] = k4[b >> 4];
        }
    }
};
const SignMasks kSign;

inline uint64_t bcast4(uint16_t h) { return 0x0001000100010001ull * h; }

// The values (q-1)·d for codes q = 0..3 (Q2_0, TQ2_0; TQ1_0 uses 0..2), and ∓d for Q1_0 bits.
template <class T>
struct Vals {
    T v[4];
    explicit Vals(float d) : v{cvt<T>(-d), cvt<T>(0.0f), cvt<T>(d), cvt<T>(2.0f * d)} {}
};

inline int trit(uint8_t b, int n) {
    static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
    const uint8_t q = static_cast<uint8_t>(b * pow3[n]);
    return (static_cast<uint16_t>(q) * 3) >> 8;
}

// Writes the n_in values of weight row `o` to dst.
template <class T>
void expand_row(const Weight& w, int64_t o, T* dst) {
    const int64_t n = w.n_in;
    if (w.layout == Layout::R16M) {  // Q1_0 only: bit 4i+p of the u64 at byte 8s = element 32i+4s+p
        const int64_t nc = n / 512;
        const uint8_t* codes = w.data + static_cast<size_t>(o * nc * 64);
        const uint8_t* scales = w.data + static_cast<size_t>(w.n_out * nc * 64) + static_cast<size_t>(o * nc * 4) * 2;
        for (int64_t c = 0; c < nc; ++c, codes += 64, scales += 8, dst += 512) {
            uint64_t m[8];
            std::memcpy(m, codes, 64);
            for (int i = 0; i < 16; ++i) {
                const float d = fp16_to_fp32(rd16(scales + 2 * (i / 4)));
                if constexpr (std::is_same_v<T, uint16_t>) {
                    const uint64_t d4 = bcast4(to_bf16(d));
                    for (int s = 0; s < 8; ++s) {
                        const uint64_t v = d4 ^ kSign.k4[(m[s] >> (4 * i)) & 15];
                        std::memcpy(dst + 32 * i + 4 * s, &v, 8);
                    }
                } else {
                    const Vals<T> v(d);
                    for (int s = 0; s < 8; ++s)
                        for (int p = 0; p < 4; ++p) dst[32 * i + 4 * s + p] = v.v[((m[s] >> (4 * i + p)) & 1) << 1];
                }
            }
        }
        return;
    }
    if (w.layout == Layout::R16L) {  // Q1_0 only (repack.h): byte 4r + j of vector (rb, b), nibbles j and j + 4
        const int64_t nb = n / 32;
        const R16LView<const uint8_t> view{w.data, nb, w.n_out / 16};
        const int64_t rb = o / 16;
        const int r = static_cast<int>(o % 16);
        for (int64_t b = 0; b < nb; ++b, dst += 32) {
            const uint8_t* v = view.codes(rb, b) + 4 * r;
            const float d = fp16_to_fp32(view.scales(rb, b / 4 * 4)[r]);
            if constexpr (std::is_same_v<T, uint16_t>) {
                const uint64_t d4 = bcast4(to_bf16(d));
                for (int j = 0; j < 4; ++j) {
                    const uint64_t lo = d4 ^ kSign.k4[v[j] & 15], hi = d4 ^ kSign.k4[v[j] >> 4];
                    std::memcpy(dst + 4 * j, &lo, 8);
                    std::memcpy(dst + 16 + 4 * j, &hi, 8);
                }
            } else {
                const Vals<T> vals(d);
                for (int j = 0; j < 4; ++j)
                    for (int p = 0; p < 4; ++p) {
                        dst[4 * j + p] = vals.v[((v[j] >> p) & 1) << 1];
                        dst[16 + 4 * j + p] = vals.v[((v[j] >> (4 + p)) & 1) << 1];
                    }
            }
        }
        return;
    }
    if (w.layout == Layout::R16) {
        const bool q1 = w.type == TensorType::Q1_0;
        const int64_t nc = n / 512;
        const int CB = r16_code_bytes(w.type), NS = r16_scales(w.type);
        const uint8_t* codes = w.data + static_cast<size_t>(o * nc * CB);
        const uint8_t* scales = w.data + static_cast<size_t>(w.n_out * nc * CB) + static_cast<size_t>(o * nc * NS) * 2;
        for (int64_t c = 0; c < nc; ++c, codes += CB, scales += 2 * NS, dst += 512) {
            if constexpr (std::is_same_v<T, uint16_t>) {
                if (q1) {  // 4 bytes 4i..4i+3 hold, at bit s, elements 32i+4s+0..3: gather them to a nibble
                    for (int i = 0; i < 16; ++i) {
                        const uint64_t d4 = bcast4(to_bf16(fp16_to_fp32(rd16(scales + 2 * (i / 4)))));
                        uint32_t x;
                        std::memcpy(&x, codes + 4 * i, 4);
                        for (int s = 0; s < 8; ++s) {
                            uint32_t b = (x >> s) & 0x01010101u;
                            b = (b | (b >> 7) | (b >> 14) | (b >> 21)) & 0xFu;
                            const uint64_t v = d4 ^ kSign.k4[b];
                            std::memcpy(dst + 32 * i + 4 * s, &v, 8);
                        }
                    }
                    continue;
                }
            }
            // Element 32i + 4s + p of the chunk: Q1_0 bit s of byte 4i+p; Q2_0 bits 2(s%4) of byte 64(s/4)+4i+p.
            for (int i = 0; i < 16; ++i) {
                const Vals<T> v(fp16_to_fp32(rd16(scales + 2 * (q1 ? i / 4 : i / 2))));
                T* d = dst + 32 * i;
                for (int s = 0; s < 8; ++s)
                    for (int p = 0; p < 4; ++p) {
                        if (q1) {
                            d[4 * s + p] = v.v[((codes[4 * i + p] >> s) & 1) << 1];
                        } else {
                            d[4 * s + p] = v.v[(codes[64 * (s / 4) + 4 * i + p] >> (2 * (s % 4))) & 3];
                        }
                    }
            }
        }
        return;
    }
    const uint8_t* row = w.data + row_nbytes(w.type, n) * static_cast<size_t>(o);
    switch (w.type) {
        case TensorType::Q1_0:  // 18-byte blocks of 128: fp16 d, 16 bytes of bits (1 -> +d, 0 -> -d)
            for (int64_t b = 0; b < n / 128; ++b, row += 18, dst += 128) {
                if constexpr (std::is_same_v<T, uint16_t>) {
                    const uint64_t d4 = bcast4(to_bf16(fp16_to_fp32(rd16(row))));
                    for (int j = 0; j < 16; ++j) {
                        const uint64_t v[2] = {d4 ^ kSign.k8[row[2 + j]][0], d4 ^ kSign.k8[row[2 + j]][1]};
                        std::memcpy(dst + 8 * j, v, 16);
                    }
                    continue;
                }
                const Vals<T> v(fp16_to_fp32(rd16(row)));
                for (int j = 0; j < 16; ++j)
                    for (int k = 0; k < 8; ++k) dst[8 * j + k] = v.v[((row[2 + j] >> k) & 1) << 1];
            }
            return;
        case TensorType::Q2_0:  // 18-byte blocks of 64: fp16 d, 16 bytes of 2-bit codes
            for (int64_t b = 0; b < n / 64; ++b, row += 18, dst += 64) {
                const Vals<T> v(fp16_to_fp32(rd16(row)));
                for (int j = 0; j < 16; ++j)
                    for (int k = 0; k < 4; ++k) dst[4 * j + k] = v.v[(row[2 + j] >> (2 * k)) & 3];
            }
            return;
        case TensorType::TQ2_0:  // 66-byte blocks of 256: qs[64], fp16 d; element 128c+32l+m = bits 2l of qs[32c+m]
            for (int64_t b = 0; b < n / 256; ++b, row += 66, dst += 256) {
                const Vals<T> v(fp16_to_fp32(rd16(row + 64)));
                for (int c = 0; c < 2; ++c)
                    for (int l = 0; l < 4; ++l)
                        for (int m = 0; m < 32; ++m) dst[128 * c + 32 * l + m] = v.v[(row[32 * c + m] >> (2 * l)) & 3];
            }
            return;
        case TensorType::TQ1_0:  // 54-byte blocks of 256: qs[48] (5 trits/byte), qh[4] (4 trits/byte), fp16 d
            for (int64_t b = 0; b < n / 256; ++b, row += 54, dst += 256) {
                const Vals<T> v(fp16_to_fp32(rd16(row + 52)));
                const uint8_t* qs = row;
                const uint8_t* qh = row + 48;
                for (int k = 0; k < 5; ++k)
                    for (int m = 0; m < 32; ++m) dst[32 * k + m] = v.v[trit(qs[m], k)];
                for (int k = 0; k < 5; ++k)
                    for (int m = 0; m < 16; ++m) dst[160 + 16 * k + m] = v.v[trit(qs[32 + m], k)];
                for (int k = 0; k < 4; ++k)
                    for (int m = 0; m < 4; ++m) dst[240 + 4 * k + m] = v.v[trit(qh[m], k)];
            }
            return;
        default: break;
    }
    throw Error("onednn: unsupported weight type");
}

template <class T>
void dequant_acts(const Activations& a, int64_t t, T* dst) {
    const uint8_t* r = a.row(t);
    const bool k = a.format() == ActFormat::Q8_K;
    const int blk = k ? 256 : 32;
    const size_t bytes = k ? kQ8_KBytes : kQ8_0Bytes;
    for (int64_t b = 0; b < a.n_in() / blk; ++b, r += bytes, dst += blk) {
        float d;
        std::memcpy(&d, r, 4);
        const int8_t* q = reinterpret_cast<const int8_t*>(r + 4);
        for (int i = 0; i < blk; ++i) dst[i] = cvt<T>(d * static_cast<float>(q[i]));  // exact in f32
    }
}

// ---- process-wide oneDNN state ----

using OmpSetNumThreads = void (*)(int);

struct Global {
    dnnl::engine eng;
    OmpSetNumThreads omp_set = nullptr;  // from the OpenMP runtime libdnnl loaded (nullptr if none)
    std::mutex mutex;                    // guards prims
    struct Prim {
        dnnl::matmul prim;
        size_t scratch_bytes = 0;
        dnnl::memory::desc src, wei, dst;
        // Weights in oneDNN's own blocked layout "BA{a1}a{b1}b{a2}a" (what brgemm wants; writing it
        // directly saves oneDNN's copy of B): element (k, n) at (k/(a1·a2))·sa + (n/b1)·sb +
        // ((k/a2)%a1)·b1·a2 + (n%b1)·a2 + k%a2. blocked = false: plain, row n of the panel at n·k.
        bool blocked = false;
        int64_t a1 = 1, b1 = 1, a2 = 1, sa = 0, sb = 0;
        size_t wei_bytes = 0;
    };
    std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int>, std::shared_ptr<Prim>> prims;
};

Global& global() {
    static Global* g = [] {
        // Cap oneDNN below AMX unless this process was granted tile data: oneDNN must never emit a tile
        // instruction the kernel would fault. Has to happen before oneDNN first queries the ISA.
        if (!amx_granted()) {
            try {
                dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_bf16);
            } catch (const dnnl::error&) {
                // Already initialized by someone else: it then decided with DNNL_MAX_CPU_ISA / its own checks.
            }
        }
        auto* s = new Global;
        s->eng = dnnl::engine(dnnl::engine::kind::cpu, 0);
        s->omp_set = reinterpret_cast<OmpSetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
        return s;
    }();
    return *g;
}

std::shared_ptr<Global::Prim> get_prim(int64_t m, int64_t k, int64_t n, int64_t ldc, Precision p) {
    Global& g = global();
    std::lock_guard lock(g.mutex);
    auto& slot = g.prims[{m, k, n, ldc, static_cast<int>(p)}];
    if (!slot) {
        using dt = dnnl::memory::data_type;
        const dt t = p == Precision::BF16 ? dt::bf16 : dt::f32;
        auto pr = std::make_shared<Global::Prim>();
        pr->src = dnnl::memory::desc({m, k}, t, dnnl::memory::dims{k, 1});
        pr->dst = dnnl::memory::desc({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
        dnnl::primitive_attr attr;
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-thread scratchpads: concurrent execution
        // First let oneDNN pick the weight layout; keep it if it is the one blocked form handled here.
        const dnnl::memory::desc any({k, n}, t, dnnl::memory::format_tag::any);
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(pr->src, any, pr->dst), attr, g.eng);
        const dnnl::memory::desc wd = pd.weights_desc();
        const dnnl_memory_desc_t& c = wd.data;
        const auto& bl = c.format_desc.blocking;
        if (c.format_kind == dnnl_blocked && c.extra.flags == 0 && c.padded_dims[0] == k && c.offset0 == 0 &&
            bl.inner_nblks == 3 && bl.inner_idxs[0] == 0 && bl.inner_idxs[1] == 1 && bl.inner_idxs[2] == 0 &&
            k % (bl.inner_blks[0] * bl.inner_blks[2]) == 0) {
            pr->blocked = true;
            pr->a1 = bl.inner_blks[0];
            pr->b1 = bl.inner_blks[1];
            pr->a2 = bl.inner_blks[2];
            pr->sa = bl.strides[0];
            pr->sb = bl.strides[1];
            pr->wei = wd;
        } else {
            pr->wei = dnnl::memory::desc({k, n}, t, dnnl::memory::dims{1, k});  // panel rows = columns of B
            pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(pr->src, pr->wei, pr->dst), attr, g.eng);
        }
        pr->wei_bytes = pr->wei.get_size();
        pr->scratch_bytes = pd.scratchpad_desc().get_size();
        pr->prim = dnnl::matmul(pd);
        slot = std::move(pr);
    }
    return slot;
}

// Per-thread buffers; pool threads and callers are long-lived, so these are allocated once.
struct ThreadScratch {
    std::vector<float> panel_f32;
    std::vector<uint16_t> panel_bf16;
    std::vector<float> row_f32;  // one expanded row before it is scattered into a blocked panel
    std::vector<uint16_t> row_bf16;
    std::vector<uint8_t> scratchpad;
    std::unique_ptr<dnnl::stream> stream;
    bool omp_single = false;
};
thread_local ThreadScratch t_scratch;
thread_local std::vector<float> t_acts_f32;
thread_local std::vector<uint16_t> t_acts_bf16;

Policy initial_policy() {
    const char* e = std::getenv("BONSAI_ONEDNN");
    if (e && std::strcmp(e, "1") == 0) return Policy::Always;
    if (e && std::strcmp(e, "0") == 0) return Policy::Never;
    return Policy::Auto;
}
std::atomic<Policy> g_policy{initial_policy()};
// BONSAI_ONEDNN_F32=1: the hook multiplies in f32 instead of bf16 (exact weight values; slower).
const Precision g_hook_precision = [] {
    const char* e = std::getenv("BONSAI_ONEDNN_F32");
    return e && std::strcmp(e, "1") == 0 ? Precision::F32 : Precision::BF16;
}();
std::atomic<bool> g_failed{false};

template <class T>
void gemm_t(const Weight& w, const Activations& acts, float* y, ThreadPool& pool, Precision p,
            std::vector<T>& abuf) {
    const int64_t m = acts.n_rows(), k = w.n_in, n_out = w.n_out;
    abuf.resize(static_cast<size_t>(m * k));
    T* a = abuf.data();
    pool.parallel_for(m, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) dequant_acts(acts, t, a + t * k);
    });
    // Panels of up to 256 rows (a 256×2048 bf16 panel is 1 MiB, about one core's L2), smaller when
    // that would leave threads idle; multiples of 16 rows.
    const int64_t threads = pool.size();
    int64_t rows = 256;
    if ((n_out + rows - 1) / rows < 2 * threads) rows = std::max<int64_t>(32, ((n_out + 2 * threads - 1) / (2 * threads) + 15) / 16 * 16);
    rows = std::min(rows, n_out);
    const int64_t n_panels = (n_out + rows - 1) / rows;
    const int64_t tail = n_out - (n_panels - 1) * rows;
    const auto main_prim = get_prim(m, k, rows, n_out, p);
    const auto tail_prim = tail == rows ? main_prim : get_prim(m, k, tail, n_out, p);
    Global& g = global();
    pool.parallel_for(n_panels, [&](int64_t p0, int64_t p1) {
        ThreadScratch& ts = t_scratch;
        if (!ts.omp_single && g.omp_set) g.omp_set(1);  // this thread's own OpenMP ICV
        ts.omp_single = true;
        if (!ts.stream) ts.stream = std::make_unique<dnnl::stream>(g.eng);
        std::vector<T>& panel = [&]() -> std::vector<T>& {
            if constexpr (std::is_same_v<T, float>) return ts.panel_f32;
            else return ts.panel_bf16;
        }();
        std::vector<T>& tmp = [&]() -> std::vector<T>& {
            if constexpr (std::is_same_v<T, float>) return ts.row_f32;
            else return ts.row_bf16;
        }();
        tmp.resize(static_cast<size_t>(k));
        for (int64_t pi = p0; pi < p1; ++pi) {
            const int64_t o0 = pi * rows, nr = std::min(rows, n_out - o0);
            const Global::Prim& pr = nr == rows ? *main_prim : *tail_prim;
            const size_t need = std::max(pr.wei_bytes / sizeof(T), static_cast<size_t>(rows * k));
            if (panel.size() < need) panel.resize(need);  // padded columns only feed outputs never stored
            if (!pr.blocked) {
                for (int64_t r = 0; r < nr; ++r) expand_row(w, o0 + r, panel.data() + r * k);
            } else {
                const int64_t kb = pr.a1 * pr.a2, step = pr.b1 * pr.a2;
                const size_t run = static_cast<size_t>(pr.a2) * sizeof(T);
                for (int64_t r = 0; r < nr; ++r) {
                    expand_row(w, o0 + r, tmp.data());
                    T* col = panel.data() + (r / pr.b1) * pr.sb + (r % pr.b1) * pr.a2;
                    for (int64_t k0 = 0; k0 < k; k0 += kb) {
                        T* dst = col + (k0 / kb) * pr.sa;
                        const T* src = tmp.data() + k0;
                        for (int64_t j = 0; j < pr.a1; ++j) std::memcpy(dst + j * step, src + j * pr.a2, run);
                    }
                }
            }
            if (ts.scratchpad.size() < pr.scratch_bytes) ts.scratchpad.resize(pr.scratch_bytes);
            dnnl::memory ms(pr.src, g.eng, a);
            dnnl::memory mw(pr.wei, g.eng, panel.data());
            dnnl::memory md(pr.dst, g.eng, y + o0);
            dnnl::memory msp(dnnl::memory::desc({static_cast<int64_t>(pr.scratch_bytes)}, dnnl::memory::data_type::u8,
                                                dnnl::memory::dims{1}),
                             g.eng, ts.scratchpad.data());
            pr.prim.execute(*ts.stream, {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md},
                                         {DNNL_ARG_SCRATCHPAD, msp}});
            ts.stream->wait();
        }
    });
}

const char* isa_str(dnnl::cpu_isa i) {
    switch (i) {
        case dnnl::cpu_isa::all: return "all";
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
        case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    }
    return "?";
}

}  // namespace

bool supports(const Weight& w) {
    if (w.n_in <= 0 || w.n_out <= 0) return false;
    switch (w.type) {
        case TensorType::Q1_0:
            if (w.layout == Layout::R16M) return r16_eligible(w.type, w.n_in);
            if (w.layout == Layout::R16L) return r16l_eligible(w.type, w.n_in, w.n_out);
            [[fallthrough]];
        case TensorType::Q2_0:
            return w.layout == Layout::Native || (w.layout == Layout::R16 && r16_eligible(w.type, w.n_in));
        case TensorType::TQ1_0:
        case TensorType::TQ2_0: return w.layout == Layout::Native;
        default: return false;
    }
}

void gemm(const Weight& w, const Activations& acts, float* y, ThreadPool& pool, Precision p) {
    if (!supports(w)) throw Error("onednn: unsupported weight type or layout");
    if (acts.format() != act_format(w.type) || acts.n_in() != w.n_in) throw Error("onednn: activations do not match the weight");
    if (acts.n_rows() <= 0) return;
    if (!available(p))
        throw Error(p == Precision::BF16 ? "onednn: this CPU has no bf16 matmul in oneDNN (it needs AVX-512)"
                                         : "onednn: no f32 matmul in oneDNN on this CPU");
    try {
        if (p == Precision::BF16) gemm_t<uint16_t>(w, acts, y, pool, p, t_acts_bf16);
        else gemm_t<float>(w, acts, y, pool, p, t_acts_f32);
    } catch (const dnnl::error& e) {
        throw Error(std::string("onednn: ") + e.what());
    }
}

bool preferred(const Weight& w, int64_t n_tok) {
    // Measured with bonsai-bench-prefill (best of 3, GFLOP/s own -> oneDNN bf16; full table in the
    // report of the oneDNN/AMX work item, to be copied into docs/performance.md):
    //  - Xeon (Sapphire Rapids, KVM, 16 threads) with AMX granted, oneDNN "brg:avx512_core_amx_bf16":
    //    own wins every shape at n_tok 64 (e.g. Q1_0 2048x6144 2402 vs 1556); at 256-512 oneDNN wins
    //    most shapes (Q1_0 LM head 2048x151936 @512: 1977 -> 3240, TQ2_0 2048x6144 @256: 1482 -> 1872,
    //    TQ1_0 6144x2048 @512: 786 -> 1383), except Q2_0, where own wins up to 256 tokens unless the
    //    rows are long (6144x2048 @128: 985 -> 989, @256: 1020 -> 1322).
    //  - AMD Zen 4 without AMX (oneDNN "brg:avx512_core_bf16", 2 threads, machine shared with other
    //    builds, two runs): own int8 VNNI kernels win or tie almost everywhere (vpdpbusd does twice the
    //    MACs of vdpbf16ps); oneDNN won consistently only for TQ1_0 @512 (2048x6144 51 -> 60 and
    //    134.8 -> 139.4, 6144x2048 90 -> 107 and 94 -> 122) and the TQ2_0 LM head @512 (216 -> 239,
    //    184 -> 355). Other ISAs (AVX2 only) have no fast bf16 in oneDNN: off.
    //  - Since session 3, TQ2_0 weights with rows of a multiple of 2048 are R16T on AVX-512 (repack.h),
    //    which supports() refuses, so the TQ2_0 entries below only apply to other row lengths: the R16T
    //    kernel measured faster than oneDNN here (LM head @512 included; it is ~1.8x the native kernel);
    //    on the AMX Xeon it was not measured against oneDNN again.
    //  - Since stop 32, Q1_0 is R16L on every CPU with VBMI, AMX ones included (repack.h), and oneDNN
    //    reads that form too. On the GPU machine's Xeon (AMX, 16 threads) the own R16L kernels then won
    //    7 of 8 shapes at 256 and 512 tokens (2048x2048 @256: 2589 vs 1970; the LM head @512: 3146 vs
    //    2927; lost 6144x2048 @512: 2102 vs 2199), and the 1.7B model's pp512 measured 584-632 own
    //    against 548-618 with oneDNN (three alternations): R16L stays on the own kernels.
    //  - Stop 32, the same Xeon, 16 threads, two runs, at 128 / 256 / 512 tokens on 2048x2048, 2048x6144,
    //    6144x2048, the LM head and 1536x4096: Q2_0 (R16) own wins every cell (6144x2048 @128: 2861-3177
    //    vs 1069-1291; @512: 2266-2467 vs 2107-2143), so it no longer goes to oneDNN; TQ1_0 oneDNN wins
    //    every cell from 128 (2048x2048 @128: 1256-1474 vs 998-1049), so it goes there from 128; native
    //    TQ2_0 (1536x4096) own at 128, oneDNN at 256 and 512, as before.
    //  - Stop 33: where AMX is granted the own kernels run AMX int8 tiles themselves for Q1_0 R16L, Q2_0 R16
    //    and TQ2_0 R16T prompts (kernels_amx.cpp); on that Xeon, 2 threads, 512 tokens, they beat oneDNN's
    //    bf16 AMX path in every shape measured (Q1_0 637-1324 against 365-571 GFLOP/s, Q2_0 708-814 against
    //    320-577), so nothing changes here.
    static const dnnl::cpu_isa isa = [] {
        try {
            global();  // applies the ISA cap first
            return dnnl::get_effective_cpu_isa();
        } catch (const dnnl::error&) {
            return dnnl::cpu_isa::all;
        }
    }();
    if (isa == dnnl::cpu_isa::avx512_core_amx) {
        switch (w.type) {
            case TensorType::Q1_0: return n_tok >= 256 && w.layout != Layout::R16L;
            case TensorType::TQ1_0: return n_tok >= 128;
            case TensorType::TQ2_0: return n_tok >= 256;
            default: return false;  // Q2_0 included
        }
    }
    if (isa == dnnl::cpu_isa::avx512_core_bf16) {
        if (w.type == TensorType::TQ1_0) return n_tok >= 512;
        if (w.type == TensorType::TQ2_0) return n_tok >= 512 && w.n_out >= 32768;
    }
    return false;
}

bool try_gemm(const Weight& w, const Activations& acts, float* y, ThreadPool& pool) {
    const Policy p = g_policy.load(std::memory_order_relaxed);
    if (p == Policy::Never || g_failed.load(std::memory_order_relaxed)) return false;
    if (acts.n_rows() < kMinTokens || !supports(w)) return false;
    if (p == Policy::Auto && !preferred(w, acts.n_rows())) return false;
    try {
        gemm(w, acts, y, pool, g_hook_precision);
        return true;
    } catch (const Error&) {
        g_failed.store(true);  // e.g. no usable ISA in this oneDNN: the own kernels take over for good
        return false;
    }
}

void set_policy(Policy p) { g_policy.store(p); }
Policy policy() { return g_policy.load(); }

std::string describe() {
    global();
    const dnnl_version_t* v = dnnl_version();
    std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                    std::to_string(v->patch) +
                    (v->cpu_runtime == DNNL_RUNTIME_OMP    ? " (OpenMP)"
                     : v->cpu_runtime == DNNL_RUNTIME_TBB  ? " (TBB)"
                     : v->cpu_runtime == DNNL_RUNTIME_SEQ  ? " (sequential)"
                                                           : " (other runtime)");
    s += ", ISA " + std::string(isa_str(dnnl::get_effective_cpu_isa()));
    s += ", AMX " + std::string(amx_reason());
    return s;
}

std::string impl_name(int64_t n_tok, int64_t n_in, int64_t n_rows, Precision p) {
    using dt = dnnl::memory::data_type;
    const dt t = p == Precision::BF16 ? dt::bf16 : dt::f32;
    Global& g = global();
    dnnl::memory::desc src({n_tok, n_in}, t, dnnl::memory::dims{n_in, 1});
    dnnl::memory::desc wei({n_in, n_rows}, t, dnnl::memory::dims{1, n_in});
    dnnl::memory::desc dst({n_tok, n_rows}, dt::f32, dnnl::memory::dims{n_rows, 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), g.eng);
    return pd.impl_info_str();
}

bool available(Precision p) {
    const auto probe = [](Precision q) {
        try {
            impl_name(16, 64, 16, q);
            return true;
        } catch (const std::exception&) {  // dnnl::error: no implementation for this ISA
            return false;
        }
    };
    static const bool bf16 = probe(Precision::BF16), f32 = probe(Precision::F32);
    return p == Precision::BF16 ? bf16 : f32;
}

}  // namespace bonsai::cpu::onednn
