// SIMD kernels that give TensorFlow.js's wasm backend fast training paths.
//
// This module imports the wasm backend's own linear memory, so every pointer below is a tensor's
// memoryOffset on that heap and no data is copied in or out. It keeps no static data (the module has no
// data segment that could overwrite the backend's heap); its shadow stack is a block that the JS side
// allocates with the backend's malloc and installs through the exported __stack_pointer.
//
// Layouts are tfjs's: row-major, convolutions channels-last (NHWC), conv filters [KH, KW, Cin, Cout],
// depthwise filters [KH, KW, C, M].
//
// Build: scripts/build-kernels.sh (clang >= 16, wasm32, -msimd128), which regenerates
// lib/backend/wasm_kernels_binary.ts.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef __SIZE_TYPE__ size_t;

// acc + a * b. Built with -mrelaxed-simd (the second binary), one fused multiply-add where the CPU has it;
// otherwise a multiply and an add.
#ifdef __wasm_relaxed_simd__
typedef float f32x4_t __attribute__((__vector_size__(16), __aligned__(16)));
#define FMA(acc, a, b) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((f32x4_t)(a), (f32x4_t)(b), (f32x4_t)(acc)))
#else
#define FMA(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

static inline int min_i(int a, int b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------
// GEMM: C[M, N] = A'[M, K] @ B'[K, N] (+ C when accumulate), where A' = A or A^T, B' = B or B^T.
//   A'(i, k) = transA ? A[k * lda + i] : A[i * lda + k]
//   B'(k, j) = transB ? B[j * ldb + k] : B[k * ldb + j]
// A 4x8 register micro-kernel reads A in place (any layout: a row pointer and a k stride per row) and B
// from 8-column rows: in place when B is not transposed and few row blocks reuse it, else from panels
// packed once per K block. Small batched products (attention) thus pay no packing; tall ones take their
// rows in blocks of MC that stay in cache while they sweep all panels. `scratch` must hold
// KC * roundUp(N, 8) floats.
// ---------------------------------------------------------------------------------------------

#define MR 4
#define NR 8
#define KC 256

static void pack_b(const float* B, int ldb, int transB, int k0, int kc, int j0, int nr, float* dst) {
  if (!transB && nr == NR) {
    for (int k = 0; k < kc; k++) {
      const float* src = B + (size_t)(k0 + k) * ldb + j0;
      wasm_v128_store(dst, wasm_v128_load(src));
      wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
      dst += NR;
    }
  } else if (!transB) {
    for (int k = 0; k < kc; k++) {
      const float* src = B + (size_t)(k0 + k) * ldb + j0;
      int j = 0;
      for (; j < nr; j++) dst[j] = src[j];
      for (; j < NR; j++) dst[j] = 0.f;
      dst += NR;
    }
  } else {
    // Transposed B: 4x4 blocks go through registers (two rounds of shuffles) instead of scalar gathers.
    int k = 0;
    if (nr == NR) {
      for (; k + 4 <= kc; k += 4) {
        for (int jb = 0; jb < NR; jb += 4) {
          const float* s0 = B + (size_t)(j0 + jb) * ldb + k0 + k;
          const v128_t r0 = wasm_v128_load(s0), r1 = wasm_v128_load(s0 + ldb);
          const v128_t r2 = wasm_v128_load(s0 + 2 * (size_t)ldb), r3 = wasm_v128_load(s0 + 3 * (size_t)ldb);
          const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
          const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
          wasm_v128_store(dst + (k + 0) * NR + jb, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
          wasm_v128_store(dst + (k + 1) * NR + jb, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
          wasm_v128_store(dst + (k + 2) * NR + jb, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
          wasm_v128_store(dst + (k + 3) * NR + jb, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
        }
      }
    }
    for (int j = 0; j < nr; j++) {
      const float* src = B + (size_t)(j0 + j) * ldb + k0;
      for (int kk = k; kk < kc; kk++) dst[kk * NR + j] = src[kk];
    }
    for (int j = nr; j < NR; j++) {
      for (int kk = 0; kk < kc; kk++) dst[kk * NR + j] = 0.f;
    }
  }
}

// Stores (or, accumulate, adds) a 4x8 register tile into rows r0..r3; rows past mr and columns past nr
// are left alone.
static inline __attribute__((always_inline)) void store_tile(v128_t c00, v128_t c01, v128_t c10, v128_t c11,
    v128_t c20, v128_t c21, v128_t c30, v128_t c31, float* r0, float* r1, float* r2, float* r3, int mr, int nr,
    int accumulate) {
  if (nr == NR) {
    if (accumulate) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(r0)); c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
      if (mr > 1) { c10 = wasm_f32x4_add(c10, wasm_v128_load(r1)); c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4)); }
      if (mr > 2) { c20 = wasm_f32x4_add(c20, wasm_v128_load(r2)); c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4)); }
      if (mr > 3) { c30 = wasm_f32x4_add(c30, wasm_v128_load(r3)); c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4)); }
    }
    wasm_v128_store(r0, c00); wasm_v128_store(r0 + 4, c01);
    if (mr > 1) { wasm_v128_store(r1, c10); wasm_v128_store(r1 + 4, c11); }
    if (mr > 2) { wasm_v128_store(r2, c20); wasm_v128_store(r2 + 4, c21); }
    if (mr > 3) { wasm_v128_store(r3, c30); wasm_v128_store(r3 + 4, c31); }
    return;
  }
  float tmp[MR * NR] __attribute__((aligned(16)));
  wasm_v128_store(tmp + 0, c00); wasm_v128_store(tmp + 4, c01);
  wasm_v128_store(tmp + 8, c10); wasm_v128_store(tmp + 12, c11);
  wasm_v128_store(tmp + 16, c20); wasm_v128_store(tmp + 20, c21);
  wasm_v128_store(tmp + 24, c30); wasm_v128_store(tmp + 28, c31);
  float* rows[MR] = {r0, r1, r2, r3};
  for (int r = 0; r < mr; r++) {
    for (int j = 0; j < nr; j++) rows[r][j] = accumulate ? rows[r][j] + tmp[r * NR + j] : tmp[r * NR + j];
  }
}

// C tile [mr x nr] (+)= sum over kc of A rows (a[r] + k * ka) times B rows (b + k * kb, 8 floats).
static void micro_4x8(int kc, const float* a0, const float* a1, const float* a2, const float* a3, size_t ka,
                      const float* b, size_t kb, float* C, int ldc, int mr, int nr, int accumulate) {
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; k++) {
    const v128_t b0 = wasm_v128_load(b);
    const v128_t b1 = wasm_v128_load(b + 4);
    v128_t a = wasm_v128_load32_splat(a0);
    c00 = FMA(c00, a, b0);
    c01 = FMA(c01, a, b1);
    a = wasm_v128_load32_splat(a1);
    c10 = FMA(c10, a, b0);
    c11 = FMA(c11, a, b1);
    a = wasm_v128_load32_splat(a2);
    c20 = FMA(c20, a, b0);
    c21 = FMA(c21, a, b1);
    a = wasm_v128_load32_splat(a3);
    c30 = FMA(c30, a, b0);
    c31 = FMA(c31, a, b1);
    a0 += ka; a1 += ka; a2 += ka; a3 += ka;
    b += kb;
  }
  store_tile(c00, c01, c10, c11, c20, c21, c30, c31, C, C + ldc, C + 2 * (size_t)ldc, C + 3 * (size_t)ldc, mr, nr,
             accumulate);
}

#define MC 96

static void gemm(int M, int N, int K, const float* A, int lda, int transA, const float* B, int ldb,
                 int transB, float* C, int ldc, int accumulate, float* scratch) {
  if (K == 0) {
    if (!accumulate) {
      for (int i = 0; i < M; i++) __builtin_memset(C + (size_t)i * ldc, 0, sizeof(float) * N);
    }
    return;
  }
  // Row i of A' starts at A + i * rs and advances by ka per k.
  const size_t rs = transA ? 1 : (size_t)lda;
  const size_t ka = transA ? (size_t)lda : 1;
  const int nPanels = (N + NR - 1) / NR;
  // In-place B rows avoid packing when few row blocks would reuse a packed panel.
  const int direct = !transB && M <= 4 * MR;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = min_i(KC, K - k0);
    const int acc = accumulate || k0 > 0;
    // Every panel of this K block is packed once (or, direct, only the ragged last one), then row blocks
    // of MC rows (in cache) sweep all panels.
    for (int p = 0; p < nPanels; p++) {
      const int j0 = p * NR;
      const int nr = min_i(NR, N - j0);
      if (!direct || nr < NR) pack_b(B, ldb, transB, k0, kc, j0, nr, scratch + (size_t)p * kc * NR);
    }
    for (int ib = 0; ib < M; ib += MC) {
      const int ie = min_i(M, ib + MC);
      for (int p = 0; p < nPanels; p++) {
        const int j0 = p * NR;
        const int nr = min_i(NR, N - j0);
        const int inPlace = direct && nr == NR;
        const float* bp = inPlace ? B + (size_t)k0 * ldb + j0 : scratch + (size_t)p * kc * NR;
        const size_t kb = inPlace ? (size_t)ldb : NR;
        for (int i0 = ib; i0 < ie; i0 += MR) {
          const int mr = min_i(MR, ie - i0);
          const float* a0 = A + (size_t)i0 * rs + (size_t)k0 * ka;
          // Rows past the block repeat row i0 (valid memory); their results are not stored.
          const float* a1 = mr > 1 ? a0 + rs : a0;
          const float* a2 = mr > 2 ? a0 + 2 * rs : a0;
          const float* a3 = mr > 3 ? a0 + 3 * rs : a0;
          micro_4x8(kc, a0, a1, a2, a3, ka, bp, kb, C + (size_t)i0 * ldc + j0, ldc, mr, nr, acc);
        }
      }
    }
  }
}

// Batched GEMM over `batch` matrices; a stride of 0 broadcasts that operand across the batch.
EXPORT(batch_matmul)
void batch_matmul(int batch, int M, int N, int K, const float* A, int strideA, int transA,
                  const float* B, int strideB, int transB, float* C, int accumulate, float* scratch) {
  const int lda = transA ? M : K;
  const int ldb = transB ? K : N;
  for (int b = 0; b < batch; b++) {
    gemm(M, N, K, A + (size_t)b * strideA, lda, transA, B + (size_t)b * strideB, ldb, transB,
         C + (size_t)b * M * N, N, accumulate, scratch);
  }
}

EXPORT(gemm_scratch_floats)
int gemm_scratch_floats(int N) { return KC * ((N + NR - 1) / NR) * NR; }

static inline void add_into(float* dst, const float* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
  }
  for (; i < n; i++) dst[i] += src[i];
}

// ---------------------------------------------------------------------------------------------
// Implicit-GEMM convolutions: no im2col matrix. A row of the virtual patch matrix is read straight
// from the (zero-padded) input as a few contiguous chunks at fixed offsets from the row's base (one per
// filter row when the taps of a row are adjacent), so the micro-kernel walks the input itself and the
// only copies are a padded input and small tables. Gradients of strided convolutions are split into
// stride phases, each an ordinary convolution with a subset of the taps, so no zero is multiplied.
// ---------------------------------------------------------------------------------------------

// micro_4x8 over chunked A rows (chunk c: chLen[c] floats at a_r + chOff[c]) with C rows as pointers.
static void micro_4x8_ind(int nch, const int* chOff, const int* chLen, const float* a0, const float* a1,
                          const float* a2, const float* a3, const float* b, float* c0, float* c1, float* c2,
                          float* c3, int mr, int nr, int accumulate) {
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int ch = 0; ch < nch; ch++) {
    const int o = chOff[ch], n = chLen[ch];
    const float* p0 = a0 + o;
    const float* p1 = a1 + o;
    const float* p2 = a2 + o;
    const float* p3 = a3 + o;
    for (int k = 0; k < n; k++) {
      const v128_t b0 = wasm_v128_load(b);
      const v128_t b1 = wasm_v128_load(b + 4);
      v128_t a = wasm_v128_load32_splat(p0 + k);
      c00 = FMA(c00, a, b0);
      c01 = FMA(c01, a, b1);
      a = wasm_v128_load32_splat(p1 + k);
      c10 = FMA(c10, a, b0);
      c11 = FMA(c11, a, b1);
      a = wasm_v128_load32_splat(p2 + k);
      c20 = FMA(c20, a, b0);
      c21 = FMA(c21, a, b1);
      a = wasm_v128_load32_splat(p3 + k);
      c30 = FMA(c30, a, b0);
      c31 = FMA(c31, a, b1);
      b += NR;
    }
  }
  store_tile(c00, c01, c10, c11, c20, c21, c30, c31, c0, c1, c2, c3, mr, nr, accumulate);
}

// C'[M, N] (+)= A'[M, K] @ B[K, N] where A'(i, k) walks chunks from A + aRow[i] and B is row-major (ldb).
// Row i of C' is C + cRow[i] (or C + i * ldc when cRow is 0). Chunks must be at most KC long and their
// lengths sum to K. scratch: KC * roundUp(N, 8) floats.
static void gemm_ind(int M, int N, const float* A, const int* aRow, const int* chOff, const int* chLen, int nch,
                     const float* B, int ldb, float* C, const int* cRow, int ldc, int accumulate, float* scratch) {
  const int nPanels = (N + NR - 1) / NR;
  int k0 = 0;
  for (int cb = 0; cb < nch;) {
    int ce = cb, kc = 0;
    while (ce < nch && (ce == cb || kc + chLen[ce] <= KC)) kc += chLen[ce++];
    const int acc = accumulate || k0 > 0;
    for (int p = 0; p < nPanels; p++) {
      const int j0 = p * NR;
      pack_b(B, ldb, 0, k0, kc, j0, min_i(NR, N - j0), scratch + (size_t)p * kc * NR);
    }
    for (int ib = 0; ib < M; ib += MC) {
      const int ie = min_i(M, ib + MC);
      for (int p = 0; p < nPanels; p++) {
        const int j0 = p * NR;
        const int nr = min_i(NR, N - j0);
        const float* bp = scratch + (size_t)p * kc * NR;
        for (int i0 = ib; i0 < ie; i0 += MR) {
          const int mr = min_i(MR, ie - i0);
          const float* a[MR];
          float* c[MR];
          for (int r = 0; r < MR; r++) {
            const int i = i0 + (r < mr ? r : 0);
            a[r] = A + aRow[i];
            c[r] = (cRow ? C + cRow[i] : C + (size_t)i * ldc) + j0;
          }
          micro_4x8_ind(ce - cb, chOff + cb, chLen + cb, a[0], a[1], a[2], a[3], bp, c[0], c[1], c[2], c[3], mr, nr, acc);
        }
      }
    }
    k0 += kc;
    cb = ce;
  }
}

// Work-block allocation, planned before any work: with no block (base 0) it only counts, so each kernel can
// report the floats it needs from the same code that lays them out. Pieces are 16-byte aligned.
typedef struct { float* base; size_t used; } Arena;
static float* take(Arena* w, size_t floats) {
  float* p = w->base ? w->base + w->used : 0;
  w->used += (floats + 3) & ~(size_t)3;
  return p;
}
static int* take_i(Arena* w, size_t n) { return (int*)take(w, n); }

// Appends chunk (off, len) split into pieces of at most KC; returns the new count.
static int add_chunk(int* off, int* len, int n, int o, int l) {
  for (int s = 0; s < l; s += KC) {
    off[n] = o + s;
    len[n] = min_i(KC, l - s);
    n++;
  }
  return n;
}

static inline int max_i(int a, int b) { return a > b ? a : b; }

// x [B, H, W, C] copied into a zeroed [B, HP, WP, C] at row pt, column pl.
static void pad_copy(const float* x, float* xp, int B, int H, int W, int C, int HP, int WP, int pt, int pl) {
  __builtin_memset(xp, 0, sizeof(float) * (size_t)B * HP * WP * C);
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      __builtin_memcpy(xp + (((size_t)b * HP + h + pt) * WP + pl) * C, x + ((size_t)b * H + h) * W * C,
                       sizeof(float) * (size_t)W * C);
    }
  }
}

// Padded extent a forward convolution reads: the input plus the taps that fall past its end.
static int padded_extent(int In, int Out, int K, int s, int d, int p) {
  return max_i(In + p, (Out - 1) * s + (K - 1) * d + 1);
}

// Chunk table of a forward convolution's patch rows over a padded input of width WP.
static int conv_chunks(int* off, int* len, int KH, int KW, int C, int WP, int dh, int dw) {
  int n = 0;
  for (int kh = 0; kh < KH; kh++) {
    if (dw == 1) {
      n = add_chunk(off, len, n, kh * dh * WP * C, KW * C);
    } else {
      for (int kw = 0; kw < KW; kw++) n = add_chunk(off, len, n, (kh * dh * WP + kw * dw) * C, C);
    }
  }
  return n;
}

// Activations of the fused epilogues: act 0 none, 1 relu, 2 relu6, 3 leaky relu (slope alpha). pmax / pmin are one
// instruction each (min / max cost V8 about six for their NaN and signed-zero rules); with v first a NaN stays NaN.
static inline v128_t activate_v(v128_t v, int act, v128_t alpha) {
  if (act == 1) v = wasm_f32x4_pmax(v, wasm_f32x4_splat(0.f));
  else if (act == 2) v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, wasm_f32x4_splat(0.f)), wasm_f32x4_splat(6.f));
  else if (act == 3) v = wasm_v128_bitselect(v, wasm_f32x4_mul(v, alpha), wasm_f32x4_gt(v, wasm_f32x4_splat(0.f)));
  return v;
}

// act(v + bias) on one vector of channels.
static inline v128_t epilogue_v(v128_t v, v128_t bias, int act, v128_t alpha) {
  return activate_v(wasm_f32x4_add(v, bias), act, alpha);
}

// act(v + bias[c..c+4)), bias may be null.
static inline v128_t epilogue(v128_t v, const float* bias, int c, int act, v128_t alpha) {
  return activate_v(bias ? wasm_f32x4_add(v, wasm_v128_load(bias + c)) : v, act, alpha);
}

static inline float epilogue_f(float v, const float* bias, int c, int act, float alpha) {
  if (bias) v += bias[c];
  if (act == 1) v = v > 0.f ? v : 0.f;
  else if (act == 2) v = v > 0.f ? (v < 6.f ? v : 6.f) : 0.f;
  else if (act == 3) v = v > 0.f ? v : v * alpha;
  return v;
}

// y = act(y + bias) over rows of C (act as activate_v).
EXPORT(bias_act)
void bias_act(float* y, const float* bias, int R, int C, int act, float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  for (int r = 0; r < R; r++) {
    float* row = y + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) wasm_v128_store(row + c, epilogue(wasm_v128_load(row + c), bias, c, act, va));
    for (; c < C; c++) row[c] = epilogue_f(row[c], bias, c, act, alpha);
  }
}

// y[r, c] = x[r, c] + bias[c].
EXPORT(bias_add)
void bias_add(const float* x, const float* bias, float* y, int R, int C) {
  for (int r = 0; r < R; r++) {
    const float* xr = x + (size_t)r * C;
    float* yr = y + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) wasm_v128_store(yr + c, wasm_f32x4_add(wasm_v128_load(xr + c), wasm_v128_load(bias + c)));
    for (; c < C; c++) yr[c] = xr[c] + bias[c];
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4, 3) along the frame axis (Lavin & Gray 2016): a 3-tap, stride-1 correlation over frames with
// matrix-valued taps (each tap a [K, N] slice of the filter applied to the chunked rows of a frame) takes 6
// products per 4 output frames instead of 12. Transforms, with d/g/m/dy the 6 input frames, 3 taps,
// 6 products and 4 output gradients of one tile:
//   V = B^T d:  4d0-5d2+d4, -4d1-4d2+d3+d4, 4d1-4d2-d3+d4, -2d1-d2+2d3+d4, 2d1-d2-2d3+d4, 4d1-5d3+d5
//   U = G g:    g0/4, -(g0+g1+g2)/6, -(g0-g1+g2)/6, g0/24+g1/12+g2/6, g0/24-g1/12+g2/6, g2
//   y = A^T m:  m0+m1+m2+m3+m4, m1-m2+2m3-2m4, m1+m2+4m3+4m4, m1-m2+8m3-8m4+m5
// and for the filter gradient (transposition): Z = A dy, dU_i = sum V_i^T Z_i, dg = G^T dU.
// No tables: the module has no data segment, so the constants live in the code.
// ---------------------------------------------------------------------------------------------

#define SPL(v) wasm_f32x4_splat(v)
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul

// V[i][t] (6 planes of nT frames per batch item) from frames 4t..4t+5 of `in` (frameFloats each, a multiple
// of 4 is not required).
static void wino_input(const float* in, size_t batchFloats, int frameFloats, int B, int nT, float* V) {
  const size_t plane = (size_t)B * nT * frameFloats;
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < nT; t++) {
      const float* d = in + b * batchFloats + (size_t)4 * t * frameFloats;
      float* v = V + ((size_t)b * nT + t) * frameFloats;
      const size_t F = frameFloats;
      int p = 0;
      for (; p + 4 <= frameFloats; p += 4) {
        const v128_t d0 = wasm_v128_load(d + p), d1 = wasm_v128_load(d + F + p), d2 = wasm_v128_load(d + 2 * F + p);
        const v128_t d3 = wasm_v128_load(d + 3 * F + p), d4 = wasm_v128_load(d + 4 * F + p), d5 = wasm_v128_load(d + 5 * F + p);
        const v128_t four = SPL(4.f), five = SPL(5.f), two = SPL(2.f);
        const v128_t t1 = SUB(d4, MUL(four, d2)), t2 = SUB(d3, MUL(four, d1));
        const v128_t t3 = SUB(d4, d2), t4 = MUL(two, SUB(d3, d1));
        wasm_v128_store(v + p, ADD(SUB(MUL(four, d0), MUL(five, d2)), d4));
        wasm_v128_store(v + plane + p, ADD(t1, t2));
        wasm_v128_store(v + 2 * plane + p, SUB(t1, t2));
        wasm_v128_store(v + 3 * plane + p, ADD(t3, t4));
        wasm_v128_store(v + 4 * plane + p, SUB(t3, t4));
        wasm_v128_store(v + 5 * plane + p, ADD(SUB(MUL(four, d1), MUL(five, d3)), d5));
      }
      for (; p < frameFloats; p++) {
        const float d0 = d[p], d1 = d[F + p], d2 = d[2 * F + p], d3 = d[3 * F + p], d4 = d[4 * F + p], d5 = d[5 * F + p];
        v[p] = 4 * d0 - 5 * d2 + d4;
        v[plane + p] = (d4 - 4 * d2) + (d3 - 4 * d1);
        v[2 * plane + p] = (d4 - 4 * d2) - (d3 - 4 * d1);
        v[3 * plane + p] = (d4 - d2) + 2 * (d3 - d1);
        v[4 * plane + p] = (d4 - d2) - 2 * (d3 - d1);
        v[5 * plane + p] = 4 * d1 - 5 * d3 + d5;
      }
    }
  }
}

// U[i] = (G g)_i for taps g0, g1, g2 of n floats each (at g + j * gStride).
static void wino_filter(const float* g, size_t gStride, int n, float* U) {
  for (int p = 0; p < n; p++) {
    const float g0 = g[p], g1 = g[gStride + p], g2 = g[2 * gStride + p];
    U[p] = g0 * 0.25f;
    U[n + p] = -(g0 + g1 + g2) / 6.f;
    U[2 * (size_t)n + p] = -(g0 - g1 + g2) / 6.f;
    U[3 * (size_t)n + p] = g0 / 24.f + g1 / 12.f + g2 / 6.f;
    U[4 * (size_t)n + p] = g0 / 24.f - g1 / 12.f + g2 / 6.f;
    U[5 * (size_t)n + p] = g2;
  }
}

// A correlation over frames of a padded input: out(b, f, r) = sum_j sum_k in[b, f + j, rowOff[r] + k-th chunk
// element] * g_j[k, :], for f < nF, written at out + b * outBatch + f * outFrame + cCol[r] (N floats).
// `in` must hold 4 * nT + 2 frames per batch item (zeros past the data).
typedef struct {
  const float* in; size_t batchFloats; int frameFloats; int B; int nF; int R; const int* rowOff;
  const int* chOff; const int* chLen; int nch; int K; int N;
  float* out; size_t outBatch; int outFrame; const int* cCol;
} FrameConv;

typedef struct { float *U, *V, *M, *pack; int* aRow; } WinoBufs;

static void wino_plan(Arena* w, const FrameConv* c, WinoBufs* wb) {
  const int nT = (c->nF + 3) / 4;
  wb->U = take(w, (size_t)6 * c->K * c->N);
  wb->V = take(w, (size_t)6 * c->B * nT * c->frameFloats);
  wb->aRow = take_i(w, (size_t)c->B * nT * c->R);
  wb->M = take(w, (size_t)6 * c->B * nT * c->R * c->N);
  wb->pack = take(w, (size_t)KC * ((c->N + NR - 1) / NR) * NR);
}

// g: the 3 taps as [K, N] matrices gStride floats apart.
static void wino_conv(const FrameConv* c, const float* g, size_t gStride, const WinoBufs* wb) {
  float *U = wb->U, *V = wb->V, *M = wb->M, *pack = wb->pack;
  int* aRow = wb->aRow;
  const int nT = (c->nF + 3) / 4, N = c->N, rows = c->B * nT * c->R;
  wino_filter(g, gStride, c->K * N, U);
  wino_input(c->in, c->batchFloats, c->frameFloats, c->B, nT, V);
  for (int b = 0, i = 0; b < c->B; b++)
    for (int t = 0; t < nT; t++)
      for (int r = 0; r < c->R; r++) aRow[i++] = ((b * nT + t) * c->frameFloats) + c->rowOff[r];
  const size_t plane = (size_t)c->B * nT * c->frameFloats, mPlane = (size_t)rows * N;
  for (int i = 0; i < 6; i++) {
    gemm_ind(rows, N, V + i * plane, aRow, c->chOff, c->chLen, c->nch, U + (size_t)i * c->K * N, N, M + i * mPlane, 0, N, 0, pack);
  }
  for (int b = 0, row = 0; b < c->B; b++) {
    for (int t = 0; t < nT; t++) {
      for (int r = 0; r < c->R; r++, row++) {
        const float* m = M + (size_t)row * N;
        float* dst = c->out + b * c->outBatch + (size_t)4 * t * c->outFrame + c->cCol[r];
        const int frames = min_i(4, c->nF - 4 * t);
        int n = 0;
        for (; n + 4 <= N; n += 4) {
          const v128_t m0 = wasm_v128_load(m + n), m1 = wasm_v128_load(m + mPlane + n), m2 = wasm_v128_load(m + 2 * mPlane + n);
          const v128_t m3 = wasm_v128_load(m + 3 * mPlane + n), m4 = wasm_v128_load(m + 4 * mPlane + n);
          const v128_t s12 = ADD(m1, m2), d12 = SUB(m1, m2), s34 = ADD(m3, m4), d34 = SUB(m3, m4);
          wasm_v128_store(dst + n, ADD(ADD(m0, s12), s34));
          if (frames > 1) wasm_v128_store(dst + c->outFrame + n, ADD(d12, MUL(SPL(2.f), d34)));
          if (frames > 2) wasm_v128_store(dst + 2 * c->outFrame + n, ADD(s12, MUL(SPL(4.f), s34)));
          if (frames > 3) wasm_v128_store(dst + 3 * c->outFrame + n, ADD(ADD(d12, MUL(SPL(8.f), d34)), wasm_v128_load(m + 5 * mPlane + n)));
        }
        for (; n < N; n++) {
          const float m0 = m[n], m1 = m[mPlane + n], m2 = m[2 * mPlane + n], m3 = m[3 * mPlane + n], m4 = m[4 * mPlane + n];
          dst[n] = m0 + m1 + m2 + m3 + m4;
          if (frames > 1) dst[c->outFrame + n] = (m1 - m2) + 2 * (m3 - m4);
          if (frames > 2) dst[2 * c->outFrame + n] = (m1 + m2) + 4 * (m3 + m4);
          if (frames > 3) dst[3 * c->outFrame + n] = (m1 - m2) + 8 * (m3 - m4) + m[5 * mPlane + n];
        }
      }
    }
  }
}

// ct[N, K] (+)= A[M, N]^T @ P[M, K], where row m of P is src + bRow[m] read at kmap[0..K) (panels packed on
// the fly; `contiguous[p]` marks panels whose 8 offsets are consecutive). panel: KC * 8 floats.
static void gemm_wgrad(int M, int N, int K, const float* A, const float* src, const int* bRow, const int* kmap,
                       const int* contiguous, float* ct, float* panel) {
  const int nPanels = (K + NR - 1) / NR;
  for (int m0 = 0; m0 < M; m0 += KC) {
    const int kc = min_i(KC, M - m0);
    for (int p = 0; p < nPanels; p++) {
      const int j0 = p * NR, nr = min_i(NR, K - j0);
      float* dst = panel;
      if (contiguous[p]) {
        const int o = kmap[j0];
        for (int k = 0; k < kc; k++, dst += NR) {
          const float* s = src + bRow[m0 + k] + o;
          wasm_v128_store(dst, wasm_v128_load(s));
          wasm_v128_store(dst + 4, wasm_v128_load(s + 4));
        }
      } else {
        for (int k = 0; k < kc; k++, dst += NR) {
          const float* s = src + bRow[m0 + k];
          int j = 0;
          for (; j < nr; j++) dst[j] = s[kmap[j0 + j]];
          for (; j < NR; j++) dst[j] = 0.f;
        }
      }
      for (int i0 = 0; i0 < N; i0 += MR) {
        const int mr = min_i(MR, N - i0);
        const float* a0 = A + (size_t)m0 * N + i0;
        micro_4x8(kc, a0, mr > 1 ? a0 + 1 : a0, mr > 2 ? a0 + 2 : a0, mr > 3 ? a0 + 3 : a0, N, panel, NR,
                  ct + (size_t)i0 * K + j0, K, mr, nr, m0 > 0);
      }
    }
  }
}

static void mark_contiguous(const int* kmap, int K, int* contiguous) {
  for (int p = 0, j0 = 0; j0 < K; p++, j0 += NR) {
    int ok = j0 + NR <= K;
    for (int j = 1; ok && j < NR; j++) ok = kmap[j0 + j] == kmap[j0] + j;
    contiguous[p] = ok;
  }
}

// Phase geometry of an input gradient along one axis: for phase ph (input index = ph + s * i), tap k is
// used when (ph + p - k * d) is a multiple of s, reading output index i + (ph + p - k * d) / s.
static int tap_used(int ph, int p, int k, int d, int s) { return ((ph + p - k * d) % s + s) % s == 0; }
static int tap_shift(int ph, int p, int k, int d, int s) { return (ph + p - k * d - ((ph + p - k * d) % s + s) % s) / s; }

// The frame axis goes through Winograd for 3-tap, stride-1, undilated filters.
static int use_wino(int KH, int sh, int dh, int n) { return KH == 3 && sh == 1 && dh == 1 && n >= 2; }

// y [B, OH, OW, N] = conv(x [B, H, W, C], filter [KH, KW, C, N]) (+ bias, activation as bias_act).
// With work 0, returns the work floats it needs and computes nothing.
EXPORT(conv2d_forward)
int conv2d_forward(const float* x, const float* filter, const float* bias, float* y, int B, int H, int W, int C,
                   int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl, int N, int act,
                   float alpha, float* work) {
  const int wino = use_wino(KH, sh, dh, OH);
  const int nT = (OH + 3) / 4;
  const int HP = max_i(padded_extent(H, OH, KH, sh, dh, pt), wino ? 4 * nT + 2 : 0);
  const int WP = padded_extent(W, OW, KW, sw, dw, pl);
  const int padded = HP != H || WP != W || pt || pl;
  Arena w = {work, 0};
  float* xp = padded ? take(&w, (size_t)B * HP * WP * C) : 0;
  const int maxCh = KH * KW * (C / KC + 2) + 8;
  int* chOff = take_i(&w, maxCh);
  int* chLen = take_i(&w, maxCh);
  int* rowOff = take_i(&w, (size_t)(wino ? 2 * OW : B * OH * OW));
  FrameConv fc = {0, (size_t)HP * WP * C, WP * C, B, OH, OW, rowOff, chOff, chLen, 0, KW * C, N, y, (size_t)OH * OW * N,
                  OW * N, rowOff + OW};
  WinoBufs wb;
  float* pack = 0;
  if (wino) wino_plan(&w, &fc, &wb);
  else pack = take(&w, (size_t)KC * ((N + NR - 1) / NR) * NR);
  if (!work) return (int)w.used;
  if (padded) pad_copy(x, xp, B, H, W, C, HP, WP, pt, pl);
  const float* in = padded ? xp : x;
  if (wino) {
    // Chunks of one frame row only; the frame taps are Winograd's.
    fc.in = in;
    fc.nch = conv_chunks(chOff, chLen, 1, KW, C, WP, 1, dw);
    for (int ow = 0; ow < OW; ow++) { rowOff[ow] = ow * sw * C; rowOff[OW + ow] = ow * N; }
    wino_conv(&fc, filter, (size_t)KW * C * N, &wb);
  } else {
    const int M0 = B * OH * OW;
    for (int b = 0, i = 0; b < B; b++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) rowOff[i++] = ((b * HP + oh * sh) * WP + ow * sw) * C;
    const int nch = conv_chunks(chOff, chLen, KH, KW, C, WP, dh, dw);
    gemm_ind(M0, N, in, rowOff, chOff, chLen, nch, filter, N, y, 0, N, 0, pack);
  }
  if (bias || act) bias_act(y, bias, B * OH * OW, N, act, alpha);
  return 0;
}
// Axis geometry of an input gradient: bounds of the output indices the phases read (for dy's padding), and
// whether some phase has no tap at all (its inputs get no gradient).
static void phase_bounds(int In, int Out, int K, int s, int d, int p, int* padLo, int* padHi, int* empty) {
  int lo = 0, hi = 0, first = 1;
  for (int ph = 0; ph < s && ph < In; ph++) {
    int any = 0;
    for (int k = 0; k < K; k++) {
      if (!tap_used(ph, p, k, d, s)) continue;
      const int q = tap_shift(ph, p, k, d, s), last = q + (In - ph + s - 1) / s - 1;
      lo = first ? q : min_i(lo, q);
      hi = first ? last : max_i(hi, last);
      first = 0;
      any = 1;
    }
    if (!any) *empty = 1;
  }
  *padLo = max_i(0, -lo);
  *padHi = max_i(0, hi - (Out - 1));
}

// The same for few input channels C (a transposed convolution to 1 or 2 channels: a decoder back to audio): the
// phases' products would fill C of the micro-kernel's 8 columns, so all taps go in one product instead,
// cols [B OH OW, KH KW C] = dy [B OH OW, N] @ filter^T, whose rows are then added into dx at their taps (col2im).
static int backprop_input_col2im(const float* dy, const float* filter, float* dx, int B, int H, int W, int C, int KH,
                                 int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl, int N,
                                 float* work) {
  const int J = KH * KW * C, rows = B * OH * OW;
  Arena w = {work, 0};
  float* cols = take(&w, (size_t)rows * J);
  float* pack = take(&w, (size_t)KC * ((J + NR - 1) / NR) * NR);
  if (!work) return (int)w.used;
  gemm(rows, J, N, dy, N, 0, filter, N, 1, cols, J, 0, pack);
  __builtin_memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const float* col = cols + ((size_t)(b * OH + oh) * OW + ow) * J;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * sw - pl + kw * dw;
            if (iw < 0 || iw >= W) continue;
            float* dst = dx + (((size_t)b * H + ih) * W + iw) * C;
            const float* src = col + (kh * KW + kw) * C;
            for (int c = 0; c < C; c++) dst[c] += src[c];
          }
        }
      }
  return 0;
}

// dx [B, H, W, C] of y = conv(x, filter [KH, KW, C, N]) from dy [B, OH, OW, N], one stride phase at a time
// (each an ordinary correlation of dy with that phase's taps). With work 0, returns the work floats needed.
EXPORT(conv2d_backprop_input)
int conv2d_backprop_input(const float* dy, const float* filter, float* dx, int B, int H, int W, int C, int KH,
                          int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl, int N,
                          float* work) {
  if (C < 4 && KH * KW * C >= NR) {
    return backprop_input_col2im(dy, filter, dx, B, H, W, C, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, N, work);
  }
  int padT, padB, padL, padR, empty = 0;
  phase_bounds(H, OH, KH, sh, dh, pt, &padT, &padB, &empty);
  phase_bounds(W, OW, KW, sw, dw, pl, &padL, &padR, &empty);
  const int wino = use_wino(KH, sh, dh, H);
  const int nT = (H + 3) / 4;
  // Winograd reads frames base .. base + 4 nT + 1 for outputs 0 .. 4 nT - 1 (taps kh = 2, 1, 0 in frame order).
  const int base = padT + pt - 2;
  const int OHP = max_i(OH + padT + padB, wino ? base + 4 * nT + 2 : 0), OWP = OW + padL + padR;
  const int padded = OHP != OH || OWP != OW;
  const int maxJ = (W + sw - 1) / sw;
  Arena w = {work, 0};
  float* dyp = padded ? take(&w, (size_t)B * OHP * OWP * N) : 0;
  float* bt = take(&w, (size_t)KH * KW * N * C);
  const int maxCh = KH * KW * (N / KC + 2) + 8;
  int* chOff = take_i(&w, maxCh);
  int* chLen = take_i(&w, maxCh);
  const size_t maxRows = wino ? (size_t)maxJ : (size_t)B * ((H + sh - 1) / sh) * maxJ;
  int* aRow = take_i(&w, maxRows);
  int* cRow = take_i(&w, maxRows);
  FrameConv fc = {0, (size_t)OHP * OWP * N, OWP * N, B, H, maxJ, aRow, chOff, chLen, 0, KW * N, C, dx,
                  (size_t)H * W * C, W * C, cRow};
  WinoBufs wb;
  float* pack = 0;
  if (wino) wino_plan(&w, &fc, &wb);
  else pack = take(&w, (size_t)KC * ((C + NR - 1) / NR) * NR);
  if (!work) return (int)w.used;
  if (empty) __builtin_memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  if (padded) pad_copy(dy, dyp, B, OH, OW, N, OHP, OWP, padT, padL);
  const float* in = padded ? dyp : dy;
  for (int ph = 0; ph < sh && ph < H; ph++) {
    for (int pw = 0; pw < sw && pw < W; pw++) {
      // Taps of this phase: their transposed filter slices [N, C] stacked (frame taps outermost; in frame
      // order for Winograd), and one chunk of N per tap of a row (per tap for the direct path).
      int taps = 0, nch = 0, rowTaps = 0;
      for (int t = 0; t < KH; t++) {
        const int kh = wino ? KH - 1 - t : t;
        if (!tap_used(ph, pt, kh, dh, sh)) continue;
        const int qh = tap_shift(ph, pt, kh, dh, sh);
        rowTaps = 0;
        for (int kw = 0; kw < KW; kw++) {
          if (!tap_used(pw, pl, kw, dw, sw)) continue;
          const int qw = tap_shift(pw, pl, kw, dw, sw);
          const float* f = filter + ((size_t)kh * KW + kw) * C * N;
          float* dst = bt + (size_t)taps * N * C;
          for (int c = 0; c < C; c++)
            for (int n = 0; n < N; n++) dst[(size_t)n * C + c] = f[(size_t)c * N + n];
          if (!wino) nch = add_chunk(chOff, chLen, nch, (qh * OWP + qw) * N, N);
          else if (t == 0) nch = add_chunk(chOff, chLen, nch, qw * N, N);
          taps++;
          rowTaps++;
        }
      }
      if (!taps || !rowTaps) continue;
      const int nI = (H - ph + sh - 1) / sh, nJ = (W - pw + sw - 1) / sw;
      if (wino) {
        fc.in = in + (size_t)base * OWP * N;
        fc.R = nJ;
        fc.nch = nch;
        fc.K = rowTaps * N;
        for (int jj = 0; jj < nJ; jj++) {
          aRow[jj] = (jj + padL) * N;
          cRow[jj] = (pw + sw * jj) * C;
        }
        wino_conv(&fc, bt, (size_t)rowTaps * N * C, &wb);
        continue;
      }
      int i = 0;
      for (int b = 0; b < B; b++)
        for (int ii = 0; ii < nI; ii++)
          for (int jj = 0; jj < nJ; jj++, i++) {
            aRow[i] = ((b * OHP + ii + padT) * OWP + jj + padL) * N;
            cRow[i] = ((b * H + ph + sh * ii) * W + pw + sw * jj) * C;
          }
      gemm_ind(i, C, in, aRow, chOff, chLen, nch, bt, C, dx, cRow, 0, 0, pack);
    }
  }
  return 0;
}

// dW [KH, KW, C, N] of y = conv(x [B, H, W, C], filter) from dy [B, OH, OW, N]: dW^T = dy^T @ patches with
// patch panels packed straight from the padded input; 3-tap frame axes through Winograd (dU_i = V_i^T Z_i).
// With work 0, returns the work floats needed.
EXPORT(conv2d_backprop_filter)
int conv2d_backprop_filter(const float* x, const float* dy, float* dW, int B, int H, int W, int C, int KH,
                           int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl, int N,
                           float* work) {
  const int wino = use_wino(KH, sh, dh, OH);
  const int nT = (OH + 3) / 4;
  const int HP = max_i(padded_extent(H, OH, KH, sh, dh, pt), wino ? 4 * nT + 2 : 0);
  const int WP = padded_extent(W, OW, KW, sw, dw, pl);
  const int padded = HP != H || WP != W || pt || pl;
  const int K = (wino ? 1 : KH) * KW * C;                 // patch length of one GEMM
  const int rows = wino ? B * nT * OW : B * OH * OW;
  Arena w = {work, 0};
  float* xp = padded ? take(&w, (size_t)B * HP * WP * C) : 0;
  int* bRow = take_i(&w, rows);
  int* kmap = take_i(&w, K);
  int* contiguous = take_i(&w, (K + NR - 1) / NR);
  float* ct = take(&w, (size_t)(wino ? 6 : 1) * N * K);
  float* panel = take(&w, (size_t)KC * NR);
  float* V = wino ? take(&w, (size_t)6 * B * nT * WP * C) : 0;
  float* Z = wino ? take(&w, (size_t)6 * rows * N) : 0;
  if (!work) return (int)w.used;
  if (padded) pad_copy(x, xp, B, H, W, C, HP, WP, pt, pl);
  const float* in = padded ? xp : x;
  for (int kh = 0, j = 0; kh < (wino ? 1 : KH); kh++)
    for (int kw = 0; kw < KW; kw++)
      for (int c = 0; c < C; c++) kmap[j++] = (kh * dh * WP + kw * dw) * C + c;
  mark_contiguous(kmap, K, contiguous);
  if (!wino) {
    for (int b = 0, i = 0; b < B; b++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) bRow[i++] = ((b * HP + oh * sh) * WP + ow * sw) * C;
    gemm_wgrad(rows, N, K, dy, in, bRow, kmap, contiguous, ct, panel);
    for (int j = 0; j < K; j++)
      for (int n = 0; n < N; n++) dW[(size_t)j * N + n] = ct[(size_t)n * K + j];
    return 0;
  }
  wino_input(in, (size_t)HP * WP * C, WP * C, B, nT, V);
  // Z = A dy per tile (frames past OH are zero).
  const size_t zPlane = (size_t)rows * N, rowF = (size_t)OW * N;
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < nT; t++) {
      const float* g = dy + ((size_t)b * OH + 4 * t) * rowF;
      float* z = Z + ((size_t)b * nT + t) * rowF;
      const int frames = min_i(4, OH - 4 * t);
      for (size_t p = 0; p < rowF; p++) {
        const float g0 = g[p], g1 = frames > 1 ? g[rowF + p] : 0.f, g2 = frames > 2 ? g[2 * rowF + p] : 0.f;
        const float g3 = frames > 3 ? g[3 * rowF + p] : 0.f;
        z[p] = g0;
        z[zPlane + p] = g0 + g1 + g2 + g3;
        z[2 * zPlane + p] = g0 - g1 + g2 - g3;
        z[3 * zPlane + p] = g0 + 2 * g1 + 4 * g2 + 8 * g3;
        z[4 * zPlane + p] = g0 - 2 * g1 + 4 * g2 - 8 * g3;
        z[5 * zPlane + p] = g3;
      }
    }
  }
  for (int b = 0, i = 0; b < B; b++)
    for (int t = 0; t < nT; t++)
      for (int ow = 0; ow < OW; ow++) bRow[i++] = (b * nT + t) * WP * C + ow * sw * C;
  const size_t vPlane = (size_t)B * nT * WP * C, cPlane = (size_t)N * K;
  for (int i = 0; i < 6; i++) gemm_wgrad(rows, N, K, Z + i * zPlane, V + i * vPlane, bRow, kmap, contiguous, ct + i * cPlane, panel);
  // dg = G^T dU, transposed back to [K, N] per frame tap.
  for (int j = 0; j < K; j++) {
    for (int n = 0; n < N; n++) {
      const size_t o = (size_t)n * K + j;
      const float u0 = ct[o], u1 = ct[cPlane + o], u2 = ct[2 * cPlane + o], u3 = ct[3 * cPlane + o];
      const float u4 = ct[4 * cPlane + o], u5 = ct[5 * cPlane + o];
      dW[(size_t)j * N + n] = u0 * 0.25f - (u1 + u2) / 6.f + (u3 + u4) / 24.f;
      dW[((size_t)K + j) * N + n] = (u2 - u1) / 6.f + (u3 - u4) / 12.f;
      dW[((size_t)2 * K + j) * N + n] = (u3 + u4 - u1 - u2) / 6.f + u5;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Depthwise convolution gradients, NHWC, filter [KH, KW, C, M], output channel c * M + m.
// ---------------------------------------------------------------------------------------------

static inline void fma_into(float* dst, const float* a, const float* b, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i),
                                            wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i))));
  }
  for (; i < n; i++) dst[i] += a[i] * b[i];
}

// dW[kh, kw, c, m] = sum_{b, oh, ow} x[b, ih, iw, c] * dy[b, oh, ow, c * M + m]
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const float* x, const float* dy, float* dw_out, int B, int H, int W, int C,
                               int M, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw,
                               int pt, int pl) {
  const int CM = C * M;
  __builtin_memset(dw_out, 0, sizeof(float) * (size_t)KH * KW * CM);
  if (M == 1 && C % 4 == 0 && KW <= 64) {
    // Per output row and 4 channels, each tap's sum over the row stays in a register; the valid output
    // columns of each tap are worked out once.
    int owLo[64], owHi[64];
    for (int kw = 0; kw < KW; kw++) {
      const int off = kw * dw - pl;                        // iw = ow * sw + off
      int lo = 0;
      while (lo < OW && lo * sw + off < 0) lo++;
      int hi = OW;
      while (hi > lo && (hi - 1) * sw + off >= W) hi--;
      owLo[kw] = lo;
      owHi[kw] = hi;
    }
    for (int b = 0; b < B; b++) {
      for (int oh = 0; oh < OH; oh++) {
        const float* g = dy + ((size_t)b * OH + oh) * OW * C;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          const float* xr = x + ((size_t)b * H + ih) * W * C;
          for (int kw = 0; kw < KW; kw++) {
            float* acc = dw_out + ((size_t)kh * KW + kw) * C;
            const int off = kw * dw - pl;
            for (int c = 0; c < C; c += 4) {
              v128_t s = wasm_f32x4_splat(0.f);
              for (int ow = owLo[kw]; ow < owHi[kw]; ow++) {
                s = FMA(s, wasm_v128_load(xr + (size_t)(ow * sw + off) * C + c), wasm_v128_load(g + (size_t)ow * C + c));
              }
              wasm_v128_store(acc + c, wasm_f32x4_add(wasm_v128_load(acc + c), s));
            }
          }
        }
      }
    }
    return;
  }
  for (int b = 0; b < B; b++) {
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const float* g = dy + ((size_t)(b * OH + oh) * OW + ow) * CM;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * sw - pl + kw * dw;
            if (iw < 0 || iw >= W) continue;
            const float* xv = x + (((size_t)b * H + ih) * W + iw) * C;
            float* acc = dw_out + ((size_t)kh * KW + kw) * CM;
            if (M == 1) {
              fma_into(acc, xv, g, C);
            } else {
              for (int c = 0; c < C; c++) {
                const float xc = xv[c];
                for (int m = 0; m < M; m++) acc[c * M + m] += xc * g[c * M + m];
              }
            }
          }
        }
      }
    }
  }
}

// Accumulators of `nc` channel vectors (1, 2 or 4) by `ncol` output columns (1 or 4) at x + (column j, vector v)
// offsets j * colStep + 4 v, over the taps of rows [khLo, khHi) and columns [kwLo, kwHi): independent chains, so the
// multiply-adds overlap instead of waiting on each other.
#define DW_TAPS(NC, NCOL)                                                                                        \
  for (int kh = khLo; kh < khHi; kh++) {                                                                         \
    const float* xr = xb + (size_t)(ih0 + kh * dh) * rowC + (size_t)iw0 * C + c;                                \
    const float* fr = filter + (size_t)kh * KW * C + c;                                                          \
    for (int kw = kwLo; kw < kwHi; kw++) {                                                                       \
      const float* xp = xr + (size_t)kw * dw * C;                                                                \
      for (int v = 0; v < NC; v++) {                                                                             \
        const v128_t f = wasm_v128_load(fr + (size_t)kw * C + 4 * v);                                            \
        for (int j = 0; j < NCOL; j++) acc[v][j] = FMA(acc[v][j], wasm_v128_load(xp + (size_t)j * colStep + 4 * v), f); \
      }                                                                                                          \
    }                                                                                                            \
  }

// One output column of the depthwise kernel below, taps bounds-checked, four channel vectors at a time.
static void dw_column(const float* xb, const float* filter, const float* bias, float* yr, int ow, int ih0, int khLo,
                      int khHi, int H, int W, int C, int KW, int sw, int dh, int dw, int pl, int act, float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  const size_t rowC = (size_t)W * C, colStep = 0;
  const int C4 = C & ~3, iw0 = ow * sw - pl;
  int kwLo = 0, kwHi = KW;
  while (kwLo < KW && iw0 + kwLo * dw < 0) kwLo++;
  while (kwHi > kwLo && iw0 + (kwHi - 1) * dw >= W) kwHi--;
  float* o = yr + (size_t)ow * C;
  int c = 0;
  for (; c + 16 <= C4; c += 16) {
    v128_t acc[4][1];
    for (int v = 0; v < 4; v++) acc[v][0] = wasm_f32x4_splat(0.f);
    DW_TAPS(4, 1)
    for (int v = 0; v < 4; v++) wasm_v128_store(o + c + 4 * v, epilogue(acc[v][0], bias, c + 4 * v, act, va));
  }
  for (; c < C4; c += 4) {
    v128_t acc[1][1] = {{wasm_f32x4_splat(0.f)}};
    DW_TAPS(1, 1)
    wasm_v128_store(o + c, epilogue(acc[0][0], bias, c, act, va));
  }
  for (; c < C; c++) {
    float s = 0.f;
    for (int kh = khLo; kh < khHi; kh++)
      for (int kw = kwLo; kw < kwHi; kw++)
        s += xb[(size_t)(ih0 + kh * dh) * rowC + (size_t)(iw0 + kw * dw) * C + c] * filter[((size_t)kh * KW + kw) * C + c];
    o[c] = epilogue_f(s, bias, c, act, alpha);
  }
  (void)H; (void)colStep;
}

// Four interior output columns ow + j ostep (their inputs j istep columns apart), every tap inside the row, two channel
// vectors at a time.
static void dw_block4(const float* xb, const float* filter, const float* bias, float* yr, int ow, int ih0, int khLo,
                      int khHi, int W, int C, int KW, int sw, int dh, int dw, int pl, int istep, int ostep, int act,
                      float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  const size_t rowC = (size_t)W * C, colStep = (size_t)istep * C, outStep = (size_t)ostep * C;
  const int C4 = C & ~3, iw0 = ow * sw - pl, kwLo = 0, kwHi = KW;
  float* o = yr + (size_t)ow * C;
  int c = 0;
  for (; c + 8 <= C4; c += 8) {
    v128_t acc[2][4];
    for (int v = 0; v < 2; v++) for (int j = 0; j < 4; j++) acc[v][j] = wasm_f32x4_splat(0.f);
    DW_TAPS(2, 4)
    for (int v = 0; v < 2; v++)
      for (int j = 0; j < 4; j++) wasm_v128_store(o + (size_t)j * outStep + c + 4 * v, epilogue(acc[v][j], bias, c + 4 * v, act, va));
  }
  for (; c < C4; c += 4) {
    v128_t acc[1][4];
    for (int j = 0; j < 4; j++) acc[0][j] = wasm_f32x4_splat(0.f);
    DW_TAPS(1, 4)
    for (int j = 0; j < 4; j++) wasm_v128_store(o + (size_t)j * outStep + c, epilogue(acc[0][j], bias, c, act, va));
  }
  for (; c < C; c++) {
    for (int j = 0; j < 4; j++) {
      float s = 0.f;
      for (int kh = khLo; kh < khHi; kh++)
        for (int kw = 0; kw < KW; kw++)
          s += xb[(size_t)(ih0 + kh * dh) * rowC + (size_t)(iw0 + j * istep + kw * dw) * C + c] * filter[((size_t)kh * KW + kw) * C + c];
      o[(size_t)j * outStep + c] = epilogue_f(s, bias, c, act, alpha);
    }
  }
}

// y [B, OH, OW, C] = act(depthwise conv of x [B, H, W, C] with filter [KH, KW, C] (channel multiplier 1) + bias).
// Per output row, only the taps whose rows lie inside the input. Columns whose taps all lie inside the row go eight at
// a time for three-tap rows at stride 1 (each input vector loaded once for its taps), else four at a time with two
// channel vectors (dw_block4); the others one at a time with four channel vectors and bounds-checked taps
// (dw_column). The last C % 4 channels are scalar.
EXPORT(depthwise_forward)
void depthwise_forward(const float* x, const float* filter, const float* bias, float* y, int B, int H, int W, int C,
                       int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl, int act,
                       float alpha) {
  const v128_t va = wasm_f32x4_splat(alpha);
  const int C4 = C & ~3;
  const size_t rowC = (size_t)W * C;
  // Output columns whose every tap is inside the row: [owLo, owHi).
  int owLo = 0, owHi = OW;
  while (owLo < OW && owLo * sw - pl < 0) owLo++;
  while (owHi > owLo && (owHi - 1) * sw - pl + (KW - 1) * dw >= W) owHi--;
  const int slide = sw == 1 && KW == 3 && owHi > owLo;
  for (int b = 0; b < B; b++) {
    const float* xb = x + (size_t)b * H * rowC;
    for (int oh = 0; oh < OH; oh++) {
      const int ih0 = oh * sh - pt;
      int khLo = 0, khHi = KH;
      while (khLo < KH && ih0 + khLo * dh < 0) khLo++;
      while (khHi > khLo && ih0 + (khHi - 1) * dh >= H) khHi--;
      float* yr = y + ((size_t)b * OH + oh) * OW * C;
      int ow = 0;
      if (slide) {
        // Three-tap rows, stride 1: eight interior columns start + k dw at a time, each input vector loaded once and
        // used by the (up to) three outputs that read it. The columns of each group of 8 dw go residue by residue.
        const size_t step = (size_t)dw * C;
        for (int base = owLo; base < owHi; base += 8 * dw) {
          for (int r = 0; r < dw && base + r < owHi; r++) {
            const int start = base + r;
            if (start + 7 * dw >= owHi) {
              int col = start;
              for (; col + 3 * dw < owHi; col += 4 * dw) dw_block4(xb, filter, bias, yr, col, ih0, khLo, khHi, W, C, KW, 1, dh, dw, pl, dw, dw, act, alpha);
              for (; col < owHi; col += dw) dw_column(xb, filter, bias, yr, col, ih0, khLo, khHi, H, W, C, KW, sw, dh, dw, pl, act, alpha);
              continue;
            }
            float* o = yr + (size_t)start * C;
            for (int c = 0; c < C4; c += 4) {
              v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
              for (int kh = khLo; kh < khHi; kh++) {
                const float* xp = xb + (size_t)(ih0 + kh * dh) * rowC + (size_t)(start - pl) * C + c;
                const float* fr = filter + (size_t)kh * 3 * C + c;
                const v128_t f0 = wasm_v128_load(fr), f1 = wasm_v128_load(fr + C), f2 = wasm_v128_load(fr + 2 * C);
                v128_t v = wasm_v128_load(xp);
                a0 = FMA(a0, v, f0);
                v = wasm_v128_load(xp += step);
                a0 = FMA(a0, v, f1); a1 = FMA(a1, v, f0);
                v = wasm_v128_load(xp += step);
                a0 = FMA(a0, v, f2); a1 = FMA(a1, v, f1); a2 = FMA(a2, v, f0);
                v = wasm_v128_load(xp += step);
                a1 = FMA(a1, v, f2); a2 = FMA(a2, v, f1); a3 = FMA(a3, v, f0);
                v = wasm_v128_load(xp += step);
                a2 = FMA(a2, v, f2); a3 = FMA(a3, v, f1); a4 = FMA(a4, v, f0);
                v = wasm_v128_load(xp += step);
                a3 = FMA(a3, v, f2); a4 = FMA(a4, v, f1); a5 = FMA(a5, v, f0);
                v = wasm_v128_load(xp += step);
                a4 = FMA(a4, v, f2); a5 = FMA(a5, v, f1); a6 = FMA(a6, v, f0);
                v = wasm_v128_load(xp += step);
                a5 = FMA(a5, v, f2); a6 = FMA(a6, v, f1); a7 = FMA(a7, v, f0);
                v = wasm_v128_load(xp += step);
                a6 = FMA(a6, v, f2); a7 = FMA(a7, v, f1);
                v = wasm_v128_load(xp += step);
                a7 = FMA(a7, v, f2);
              }
              const v128_t bv = bias ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.f);
              float* oc = o + c;
              wasm_v128_store(oc, epilogue_v(a0, bv, act, va)); wasm_v128_store(oc += step, epilogue_v(a1, bv, act, va));
              wasm_v128_store(oc += step, epilogue_v(a2, bv, act, va)); wasm_v128_store(oc += step, epilogue_v(a3, bv, act, va));
              wasm_v128_store(oc += step, epilogue_v(a4, bv, act, va)); wasm_v128_store(oc += step, epilogue_v(a5, bv, act, va));
              wasm_v128_store(oc += step, epilogue_v(a6, bv, act, va)); wasm_v128_store(oc += step, epilogue_v(a7, bv, act, va));
            }
            for (int c = C4; c < C; c++) {
              for (int k = 0; k < 8; k++) {
                float acc = 0.f;
                for (int kh = khLo; kh < khHi; kh++)
                  for (int kw = 0; kw < 3; kw++)
                    acc += xb[(size_t)(ih0 + kh * dh) * rowC + (size_t)(start + k * dw - pl + kw * dw) * C + c] * filter[((size_t)kh * 3 + kw) * C + c];
                o[(size_t)k * step + c] = epilogue_f(acc, bias, c, act, alpha);
              }
            }
          }
        }
        for (; ow < OW; ow++) {
          if (ow == owLo) ow = owHi;
          if (ow >= OW) break;
          dw_column(xb, filter, bias, yr, ow, ih0, khLo, khHi, H, W, C, KW, sw, dh, dw, pl, act, alpha);
        }
        continue;
      }
      // Other filters and strides: four interior columns at a time, the rest one at a time.
      while (ow < OW) {
        if (ow >= owLo && ow + 4 <= owHi) {
          dw_block4(xb, filter, bias, yr, ow, ih0, khLo, khHi, W, C, KW, sw, dh, dw, pl, sw, 1, act, alpha);
          ow += 4;
        } else {
          dw_column(xb, filter, bias, yr, ow, ih0, khLo, khHi, H, W, C, KW, sw, dh, dw, pl, act, alpha);
          ow++;
        }
      }
    }
  }
}
#undef DW_TAPS

// dx[b, ih, iw, c] = sum over taps of sum_m filter[kh, kw, c, m] * dy[b, oh, ow, c * M + m]
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const float* dy, const float* filter, float* dx, int B, int H, int W, int C,
                              int M, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw,
                              int pt, int pl) {
  const int CM = C * M;
  if (M == 1 && C % 4 == 0 && KH * KW <= 256) {
    // Gather form: each input position sums its taps in registers and is written once.
    int fo[256], go[256];
    for (int b = 0; b < B; b++) {
      for (int ih = 0; ih < H; ih++) {
        for (int iw = 0; iw < W; iw++) {
          int n = 0;
          for (int kh = 0; kh < KH; kh++) {
            const int th = ih + pt - kh * dh;
            if (th < 0 || th % sh || th / sh >= OH) continue;
            for (int kw = 0; kw < KW; kw++) {
              const int tw = iw + pl - kw * dw;
              if (tw < 0 || tw % sw || tw / sw >= OW) continue;
              fo[n] = (kh * KW + kw) * C;
              go[n] = ((b * OH + th / sh) * OW + tw / sw) * C;
              n++;
            }
          }
          float* o = dx + (((size_t)b * H + ih) * W + iw) * C;
          for (int c = 0; c < C; c += 4) {
            v128_t s = wasm_f32x4_splat(0.f);
            for (int t = 0; t < n; t++) s = FMA(s, wasm_v128_load(filter + fo[t] + c), wasm_v128_load(dy + go[t] + c));
            wasm_v128_store(o + c, s);
          }
        }
      }
    }
    return;
  }
  __builtin_memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++) {
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const float* g = dy + ((size_t)(b * OH + oh) * OW + ow) * CM;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * sw - pl + kw * dw;
            if (iw < 0 || iw >= W) continue;
            float* xv = dx + (((size_t)b * H + ih) * W + iw) * C;
            const float* f = filter + ((size_t)kh * KW + kw) * CM;
            if (M == 1) {
              fma_into(xv, f, g, C);
            } else {
              for (int c = 0; c < C; c++) {
                float s = 0.f;
                for (int m = 0; m < M; m++) s += f[c * M + m] * g[c * M + m];
                xv[c] += s;
              }
            }
          }
        }
      }
    }
  }
}

// out[segment_ids[i], :] += data[i, :] for i in [0, n); out has numSegments rows of `inner` floats.
// Rows whose id is outside [0, numSegments) are dropped, as TensorFlow does.
EXPORT(unsorted_segment_sum)
void unsorted_segment_sum(const float* data, const int* ids, float* out, int n, int inner, int numSegments) {
  __builtin_memset(out, 0, sizeof(float) * (size_t)numSegments * inner);
  for (int i = 0; i < n; i++) {
    const int s = ids[i];
    if (s >= 0 && s < numSegments) add_into(out + (size_t)s * inner, data + (size_t)i * inner, inner);
  }
}

// ---------------------------------------------------------------------------------------------
// Pooling gradients, NHWC. Windows start at oh * sh - pt; positions outside the input are skipped.
// ---------------------------------------------------------------------------------------------

// Max pooling: each window's gradient goes to the first position holding its maximum (row-major scan),
// as PyTorch and TensorFlow do.
EXPORT(max_pool_backprop)
void max_pool_backprop(const float* x, const float* dy, float* dx, int B, int H, int W, int C, int KH, int KW,
                       int OH, int OW, int sh, int sw, int dh, int dw, int pt, int pl) {
  __builtin_memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++) {
    const float* xb = x + (size_t)b * H * W * C;
    float* db = dx + (size_t)b * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const float* g = dy + ((size_t)(b * OH + oh) * OW + ow) * C;
        for (int c = 0; c < C; c++) {
          int best = -1;
          float bestVal = 0.f;
          for (int kh = 0; kh < KH; kh++) {
            const int ih = oh * sh - pt + kh * dh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
              const int iw = ow * sw - pl + kw * dw;
              if (iw < 0 || iw >= W) continue;
              const int idx = (ih * W + iw) * C + c;
              const float v = xb[idx];
              if (best < 0 || v > bestVal || (v != v && bestVal == bestVal)) { best = idx; bestVal = v; }
            }
          }
          if (best >= 0) db[best] += g[c];
        }
      }
    }
  }
}

// Average pooling: the divisor counts only the window positions inside the input (TensorFlow's SAME
// semantics; PyTorch's count_include_pad=False).
EXPORT(avg_pool_backprop)
void avg_pool_backprop(const float* dy, float* dx, int B, int H, int W, int C, int KH, int KW, int OH, int OW,
                       int sh, int sw, int pt, int pl) {
  __builtin_memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++) {
    float* db = dx + (size_t)b * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      const int h0 = oh * sh - pt;
      const int hs = h0 < 0 ? 0 : h0, he = min_i(h0 + KH, H);
      for (int ow = 0; ow < OW; ow++) {
        const int w0 = ow * sw - pl;
        const int ws = w0 < 0 ? 0 : w0, we = min_i(w0 + KW, W);
        const int count = (he - hs) * (we - ws);
        if (count <= 0) continue;
        const float* g = dy + ((size_t)(b * OH + oh) * OW + ow) * C;
        const v128_t inv = wasm_f32x4_splat(1.f / (float)count);
        for (int ih = hs; ih < he; ih++) {
          for (int iw = ws; iw < we; iw++) {
            float* d = db + ((size_t)ih * W + iw) * C;
            int c = 0;
            for (; c + 4 <= C; c += 4) {
              wasm_v128_store(d + c, wasm_f32x4_add(wasm_v128_load(d + c), wasm_f32x4_mul(inv, wasm_v128_load(g + c))));
            }
            for (; c < C; c++) d[c] += g[c] / (float)count;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation. Group form (layer norm, Conv-TasNet's gLN): x is [G, M, C]; each group g's M*C values
// share one mean and biased variance; gamma and beta are per channel c.
// Channel form (batch norm): x is [R, C]; each channel is normalised over its R rows.
// Forward writes y and the per-group (or per-channel) mean and 1/sqrt(var + eps); backward takes them.
// ---------------------------------------------------------------------------------------------

static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

static float sum_f(const float* x, size_t n) {
  v128_t a = wasm_f32x4_splat(0.f), b = a;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a = wasm_f32x4_add(a, wasm_v128_load(x + i));
    b = wasm_f32x4_add(b, wasm_v128_load(x + i + 4));
  }
  float s = hsum(wasm_f32x4_add(a, b));
  for (; i < n; i++) s += x[i];
  return s;
}

static float sum_sq_dev(const float* x, size_t n, float mean) {
  const v128_t m = wasm_f32x4_splat(mean);
  v128_t a = wasm_f32x4_splat(0.f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t d = wasm_f32x4_sub(wasm_v128_load(x + i), m);
    a = wasm_f32x4_add(a, wasm_f32x4_mul(d, d));
  }
  float s = hsum(a);
  for (; i < n; i++) { const float d = x[i] - mean; s += d * d; }
  return s;
}

EXPORT(group_norm_forward)
void group_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean_out,
                        float* invstd_out, int G, int M, int C, float eps) {
  const size_t n = (size_t)M * C;
  for (int g = 0; g < G; g++) {
    const float* xg = x + (size_t)g * n;
    float* yg = y + (size_t)g * n;
    const float mean = sum_f(xg, n) / (float)n;
    const float var = sum_sq_dev(xg, n, mean) / (float)n;
    const float inv = 1.f / __builtin_sqrtf(var + eps);
    mean_out[g] = mean;
    invstd_out[g] = inv;
    const v128_t vm = wasm_f32x4_splat(mean), vi = wasm_f32x4_splat(inv);
    for (int m = 0; m < M; m++) {
      const float* xr = xg + (size_t)m * C;
      float* yr = yg + (size_t)m * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vi);
        wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(xh, wasm_v128_load(gamma + c)), wasm_v128_load(beta + c)));
      }
      for (; c < C; c++) yr[c] = (xr[c] - mean) * inv * gamma[c] + beta[c];
    }
  }
}

// dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) per group, dxhat = dy * gamma;
// dgamma = sum dy * xhat, dbeta = sum dy over all groups and rows.
EXPORT(group_norm_backward)
void group_norm_backward(const float* dy, const float* x, const float* mean_in, const float* invstd_in,
                         const float* gamma, float* dx, float* dgamma, float* dbeta, int G, int M, int C) {
  const size_t n = (size_t)M * C;
  __builtin_memset(dgamma, 0, sizeof(float) * C);
  __builtin_memset(dbeta, 0, sizeof(float) * C);
  for (int g = 0; g < G; g++) {
    const float* xg = x + (size_t)g * n;
    const float* dyg = dy + (size_t)g * n;
    float* dxg = dx + (size_t)g * n;
    const float mean = mean_in[g], inv = invstd_in[g];
    const v128_t vm = wasm_f32x4_splat(mean), vi = wasm_f32x4_splat(inv);
    v128_t s1v = wasm_f32x4_splat(0.f), s2v = s1v;
    float s1 = 0.f, s2 = 0.f;
    for (int m = 0; m < M; m++) {
      const float* xr = xg + (size_t)m * C;
      const float* dr = dyg + (size_t)m * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vi);
        const v128_t d = wasm_v128_load(dr + c);
        const v128_t dxh = wasm_f32x4_mul(d, wasm_v128_load(gamma + c));
        s1v = wasm_f32x4_add(s1v, dxh);
        s2v = wasm_f32x4_add(s2v, wasm_f32x4_mul(dxh, xh));
        wasm_v128_store(dgamma + c, wasm_f32x4_add(wasm_v128_load(dgamma + c), wasm_f32x4_mul(d, xh)));
        wasm_v128_store(dbeta + c, wasm_f32x4_add(wasm_v128_load(dbeta + c), d));
      }
      for (; c < C; c++) {
        const float xh = (xr[c] - mean) * inv;
        const float dxh = dr[c] * gamma[c];
        s1 += dxh;
        s2 += dxh * xh;
        dgamma[c] += dr[c] * xh;
        dbeta[c] += dr[c];
      }
    }
    s1 += hsum(s1v);
    s2 += hsum(s2v);
    const float k1 = s1 / (float)n, k2 = s2 / (float)n;
    const v128_t vk1 = wasm_f32x4_splat(k1), vk2 = wasm_f32x4_splat(k2);
    for (int m = 0; m < M; m++) {
      const float* xr = xg + (size_t)m * C;
      const float* dr = dyg + (size_t)m * C;
      float* o = dxg + (size_t)m * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        const v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vi);
        const v128_t dxh = wasm_f32x4_mul(wasm_v128_load(dr + c), wasm_v128_load(gamma + c));
        wasm_v128_store(o + c, wasm_f32x4_mul(vi, wasm_f32x4_sub(wasm_f32x4_sub(dxh, vk1), wasm_f32x4_mul(xh, vk2))));
      }
      for (; c < C; c++) {
        const float xh = (xr[c] - mean) * inv;
        o[c] = inv * (dr[c] * gamma[c] - k1 - xh * k2);
      }
    }
  }
}

// Batch norm forward over rows: mean_out and invstd_out are per channel; var_out gets the biased
// variance (for the running statistics).
EXPORT(batch_norm_forward)
void batch_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean_out,
                        float* invstd_out, float* var_out, int R, int C, float eps) {
  __builtin_memset(mean_out, 0, sizeof(float) * C);
  __builtin_memset(var_out, 0, sizeof(float) * C);
  for (int r = 0; r < R; r++) add_into(mean_out, x + (size_t)r * C, C);
  for (int c = 0; c < C; c++) mean_out[c] /= (float)R;
  for (int r = 0; r < R; r++) {
    const float* xr = x + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean_out + c));
      wasm_v128_store(var_out + c, wasm_f32x4_add(wasm_v128_load(var_out + c), wasm_f32x4_mul(d, d)));
    }
    for (; c < C; c++) { const float d = xr[c] - mean_out[c]; var_out[c] += d * d; }
  }
  for (int c = 0; c < C; c++) {
    var_out[c] /= (float)R;
    invstd_out[c] = 1.f / __builtin_sqrtf(var_out[c] + eps);
  }
  for (int r = 0; r < R; r++) {
    const float* xr = x + (size_t)r * C;
    float* yr = y + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean_out + c)), wasm_v128_load(invstd_out + c));
      wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(xh, wasm_v128_load(gamma + c)), wasm_v128_load(beta + c)));
    }
    for (; c < C; c++) yr[c] = (xr[c] - mean_out[c]) * invstd_out[c] * gamma[c] + beta[c];
  }
}

// dx = gamma * invstd / R * (R * dy - dbeta - xhat * dgamma), dbeta = sum dy, dgamma = sum dy * xhat.
// One row-major pass accumulates sum dy * (x - mean) and sum dy (the activations are streamed once); dx
// is then the per-channel affine map dx = a * dy + b * x + k, with a = gamma * invstd,
// b = -a * invstd * dgamma / R and k = -a * (dbeta - invstd * dgamma * mean) / R.
EXPORT(batch_norm_backward)
void batch_norm_backward(const float* dy, const float* x, const float* mean, const float* invstd,
                         const float* gamma, float* dx, float* dgamma, float* dbeta, int R, int C) {
  __builtin_memset(dgamma, 0, sizeof(float) * C);
  __builtin_memset(dbeta, 0, sizeof(float) * C);
  for (int r = 0; r < R; r++) {
    const float* xr = x + (size_t)r * C;
    const float* dr = dy + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t d = wasm_v128_load(dr + c);
      wasm_v128_store(dgamma + c, FMA(wasm_v128_load(dgamma + c), d, wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c))));
      wasm_v128_store(dbeta + c, wasm_f32x4_add(wasm_v128_load(dbeta + c), d));
    }
    for (; c < C; c++) {
      dgamma[c] += dr[c] * (xr[c] - mean[c]);
      dbeta[c] += dr[c];
    }
  }
  for (int c = 0; c < C; c++) dgamma[c] *= invstd[c];
  // Per-channel coefficients on the stack, 64 channels at a time (any C).
  const float invR = 1.f / (float)R;
  for (int cb = 0; cb < C; cb += 64) {
    const int cn = min_i(64, C - cb);
    float A[64] __attribute__((aligned(16))), Bc[64] __attribute__((aligned(16))), K[64] __attribute__((aligned(16)));
    for (int j = 0; j < cn; j++) {
      const int c = cb + j;
      const float a = gamma[c] * invstd[c];
      A[j] = a;
      Bc[j] = -a * invstd[c] * dgamma[c] * invR;
      K[j] = -a * (dbeta[c] - invstd[c] * dgamma[c] * mean[c]) * invR;
    }
    for (int r = 0; r < R; r++) {
      const float* xr = x + (size_t)r * C + cb;
      const float* dr = dy + (size_t)r * C + cb;
      float* o = dx + (size_t)r * C + cb;
      int j = 0;
      for (; j + 4 <= cn; j += 4) {
        v128_t v = FMA(wasm_v128_load(K + j), wasm_v128_load(A + j), wasm_v128_load(dr + j));
        wasm_v128_store(o + j, FMA(v, wasm_v128_load(Bc + j), wasm_v128_load(xr + j)));
      }
      for (; j < cn; j++) o[j] = A[j] * dr[j] + Bc[j] * xr[j] + K[j];
    }
  }
}

// ReLU backward in one pass: dx = x > 0 ? dy : 0 (tfjs computes dy * step(cast(x))).
EXPORT(relu_backward)
void relu_backward(const float* x, const float* dy, float* dx, int n) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dx + i, wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(wasm_v128_load(x + i), zero)));
  }
  for (; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0.f;
}

// PReLU backward with alpha shared (A == 1) or per channel (A == C): dx = dy * (x > 0 ? 1 : alpha),
// dalpha = sum over x <= 0 of dy * x.
EXPORT(prelu_backward)
void prelu_backward(const float* x, const float* dy, const float* alpha, float* dx, float* dalpha, int R, int C,
                    int A) {
  __builtin_memset(dalpha, 0, sizeof(float) * A);
  const v128_t zero = wasm_f32x4_splat(0.f);
  if (A == 1) {
    const float a = alpha[0];
    const v128_t va = wasm_f32x4_splat(a);
    v128_t acc = zero;
    const size_t n = (size_t)R * C;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const v128_t xv = wasm_v128_load(x + i), d = wasm_v128_load(dy + i);
      const v128_t pos = wasm_f32x4_gt(xv, zero);
      wasm_v128_store(dx + i, wasm_v128_bitselect(d, wasm_f32x4_mul(d, va), pos));
      acc = wasm_f32x4_add(acc, wasm_v128_andnot(wasm_f32x4_mul(d, xv), pos));
    }
    float s = hsum(acc);
    for (; i < n; i++) {
      if (x[i] > 0) dx[i] = dy[i];
      else { dx[i] = dy[i] * a; s += dy[i] * x[i]; }
    }
    dalpha[0] = s;
    return;
  }
  for (int r = 0; r < R; r++) {
    const float* xr = x + (size_t)r * C;
    const float* dr = dy + (size_t)r * C;
    float* o = dx + (size_t)r * C;
    for (int c = 0; c < C; c++) {
      if (xr[c] > 0) o[c] = dr[c];
      else { o[c] = dr[c] * alpha[c]; dalpha[c] += dr[c] * xr[c]; }
    }
  }
}

// One Adam/AdamW step of one parameter tensor, out of place (tensors are immutable):
// g' = g + l2 * p; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2;
// p' = p * (1 - decay) - step * m' / (sqrt(v') * rbc2 + eps), with step = lr / (1 - b1^t),
// rbc2 = 1 / sqrt(1 - b2^t), decay = lr * wd for AdamW (else 0), l2 = wd for Adam (else 0).
EXPORT(adam_step)
void adam_step(const float* p, const float* g, const float* m, const float* v, float* p_out, float* m_out,
               float* v_out, int n, float b1, float b2, float step, float rbc2, float eps, float l2, float decay) {
  const v128_t vb1 = wasm_f32x4_splat(b1), vb1c = wasm_f32x4_splat(1.f - b1);
  const v128_t vb2 = wasm_f32x4_splat(b2), vb2c = wasm_f32x4_splat(1.f - b2);
  const v128_t vstep = wasm_f32x4_splat(step), vr = wasm_f32x4_splat(rbc2), veps = wasm_f32x4_splat(eps);
  const v128_t vl2 = wasm_f32x4_splat(l2), vkeep = wasm_f32x4_splat(1.f - decay);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t pv = wasm_v128_load(p + i);
    const v128_t gv = wasm_f32x4_add(wasm_v128_load(g + i), wasm_f32x4_mul(vl2, pv));
    const v128_t mv = wasm_f32x4_add(wasm_f32x4_mul(vb1, wasm_v128_load(m + i)), wasm_f32x4_mul(vb1c, gv));
    const v128_t vv = wasm_f32x4_add(wasm_f32x4_mul(vb2, wasm_v128_load(v + i)), wasm_f32x4_mul(vb2c, wasm_f32x4_mul(gv, gv)));
    const v128_t den = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vv), vr), veps);
    wasm_v128_store(m_out + i, mv);
    wasm_v128_store(v_out + i, vv);
    wasm_v128_store(p_out + i, wasm_f32x4_sub(wasm_f32x4_mul(pv, vkeep), wasm_f32x4_div(wasm_f32x4_mul(vstep, mv), den)));
  }
  for (; i < n; i++) {
    const float gi = g[i] + l2 * p[i];
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m_out[i] = mi;
    v_out[i] = vi;
    p_out[i] = p[i] * (1.f - decay) - step * mi / (__builtin_sqrtf(vi) * rbc2 + eps);
  }
}

// ---------------------------------------------------------------------------------------------
// LSTM over a whole sequence (PyTorch's gate order i, f, g, o), zero initial state. The input projection
// xw = x @ W_ih + b_ih + b_hh is computed outside (one matmul over all steps); these kernels do the
// recurrence. Layouts: xw, gates [B, T, 4H]; hs, cs [B, T, H]; whh [H, 4H].
// ---------------------------------------------------------------------------------------------

// exp(x) for float: x = k ln2 + r, |r| <= ln2/2, exp(r) by a degree-7 Taylor polynomial (error < 2e-9),
// scaled by 2^k through the exponent bits. Saturates outside [-87, 88].
static inline float exp_f(float x) {
  if (x > 88.f) x = 88.f;
  if (x < -87.f) x = -87.f;
  const float k = __builtin_floorf(x * 1.44269504f + 0.5f);
  const float r = x - k * 0.693145752f - k * 1.42860677e-6f;
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  union { float f; int i; } s;
  s.i = ((int)k + 127) << 23;
  return p * s.f;
}

static inline float sigmoid_f(float x) { return 1.f / (1.f + exp_f(-x)); }

static inline float tanh_f(float x) {
  const float a = x < 0 ? -x : x;
  // Near zero, 1 - 2/(e^2a + 1) cancels: use the odd series there.
  if (a < 0.0625f) {
    const float x2 = x * x;
    return x * (1.f + x2 * (-1.f / 3.f + x2 * (2.f / 15.f + x2 * (-17.f / 315.f))));
  }
  const float t = 1.f - 2.f / (exp_f(2.f * a) + 1.f);
  return x < 0 ? -t : t;
}

static inline v128_t exp_v(v128_t x);

// Four-lane sigmoid_f and tanh_f (the same formulas on exp_v).
static inline v128_t sigmoid_v(v128_t x) {
  return wasm_f32x4_div(wasm_f32x4_splat(1.f), wasm_f32x4_add(wasm_f32x4_splat(1.f), exp_v(wasm_f32x4_neg(x))));
}

static inline v128_t tanh_v(v128_t x) {
  const v128_t a = wasm_f32x4_abs(x);
  const v128_t big = wasm_f32x4_sub(wasm_f32x4_splat(1.f),
                                    wasm_f32x4_div(wasm_f32x4_splat(2.f), wasm_f32x4_add(exp_v(wasm_f32x4_add(a, a)), wasm_f32x4_splat(1.f))));
  const v128_t signed_big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000)));
  const v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t s = FMA(wasm_f32x4_splat(2.f / 15.f), x2, wasm_f32x4_splat(-17.f / 315.f));
  s = FMA(wasm_f32x4_splat(-1.f / 3.f), x2, s);
  s = FMA(wasm_f32x4_splat(1.f), x2, s);
  const v128_t small = wasm_f32x4_mul(x, s);
  return wasm_v128_bitselect(small, signed_big, wasm_f32x4_lt(a, wasm_f32x4_splat(0.0625f)));
}

EXPORT(lstm_forward)
void lstm_forward(const float* xw, const float* whh, float* hs, float* gates, float* cs, int B, int T, int H,
                  float* pre, float* gemm_scratch) {
  const int G = 4 * H;
  for (int t = 0; t < T; t++) {
    if (t > 0) gemm(B, G, H, hs + (size_t)(t - 1) * H, T * H, 0, whh, G, 0, pre, G, 0, gemm_scratch);
    for (int b = 0; b < B; b++) {
      const float* x = xw + ((size_t)b * T + t) * G;
      const float* p = pre + (size_t)b * G;
      float* gt = gates + ((size_t)b * T + t) * G;
      float* c = cs + ((size_t)b * T + t) * H;
      float* h = hs + ((size_t)b * T + t) * H;
      const float* cprev = t > 0 ? c - H : 0;
      int j = 0;
      for (; j + 4 <= H; j += 4) {
        v128_t zi = wasm_v128_load(x + j), zf = wasm_v128_load(x + H + j), zg = wasm_v128_load(x + 2 * H + j),
               zo = wasm_v128_load(x + 3 * H + j);
        if (t > 0) {
          zi = wasm_f32x4_add(zi, wasm_v128_load(p + j));
          zf = wasm_f32x4_add(zf, wasm_v128_load(p + H + j));
          zg = wasm_f32x4_add(zg, wasm_v128_load(p + 2 * H + j));
          zo = wasm_f32x4_add(zo, wasm_v128_load(p + 3 * H + j));
        }
        const v128_t i = sigmoid_v(zi), f = sigmoid_v(zf), g = tanh_v(zg), o = sigmoid_v(zo);
        v128_t cv = wasm_f32x4_mul(i, g);
        if (cprev) cv = FMA(cv, f, wasm_v128_load(cprev + j));
        wasm_v128_store(gt + j, i);
        wasm_v128_store(gt + H + j, f);
        wasm_v128_store(gt + 2 * H + j, g);
        wasm_v128_store(gt + 3 * H + j, o);
        wasm_v128_store(c + j, cv);
        wasm_v128_store(h + j, wasm_f32x4_mul(o, tanh_v(cv)));
      }
      for (; j < H; j++) {
        const float zi = x[j] + (t > 0 ? p[j] : 0.f);
        const float zf = x[H + j] + (t > 0 ? p[H + j] : 0.f);
        const float zg = x[2 * H + j] + (t > 0 ? p[2 * H + j] : 0.f);
        const float zo = x[3 * H + j] + (t > 0 ? p[3 * H + j] : 0.f);
        const float i = sigmoid_f(zi), f = sigmoid_f(zf), g = tanh_f(zg), o = sigmoid_f(zo);
        const float cv = (cprev ? f * cprev[j] : 0.f) + i * g;
        gt[j] = i; gt[H + j] = f; gt[2 * H + j] = g; gt[3 * H + j] = o;
        c[j] = cv;
        h[j] = o * tanh_f(cv);
      }
    }
  }
}

// Backpropagation through time. dhs [B, T, H] is the gradient of the outputs and dcs [B, T, H] (or 0) that
// of the cell states; writes dxw (the gradient of the pre-activations, which is also the gradient of xw)
// and dwhh. work holds 2 * B * H floats.
EXPORT(lstm_backward)
void lstm_backward(const float* dhs, const float* dcs, const float* gates, const float* cs, const float* hs,
                   const float* whh, float* dxw, float* dwhh, int B, int T, int H, float* work, float* gemm_scratch) {
  const int G = 4 * H;
  float* dh_next = work;
  float* dc_next = work + (size_t)B * H;
  __builtin_memset(work, 0, sizeof(float) * 2 * (size_t)B * H);
  for (int t = T - 1; t >= 0; t--) {
    for (int b = 0; b < B; b++) {
      const size_t bt = (size_t)b * T + t;
      const float* gt = gates + bt * G;
      const float* c = cs + bt * H;
      const float* cprev = t > 0 ? c - H : 0;
      const float* dhv = dhs + bt * H;
      float* d = dxw + bt * G;
      float* dhn = dh_next + (size_t)b * H;
      float* dcn = dc_next + (size_t)b * H;
      const v128_t one = wasm_f32x4_splat(1.f);
      int j = 0;
      for (; j + 4 <= H; j += 4) {
        const v128_t i = wasm_v128_load(gt + j), f = wasm_v128_load(gt + H + j), g = wasm_v128_load(gt + 2 * H + j),
                     o = wasm_v128_load(gt + 3 * H + j);
        const v128_t tc = tanh_v(wasm_v128_load(c + j));
        const v128_t dh = wasm_f32x4_add(wasm_v128_load(dhv + j), wasm_v128_load(dhn + j));
        v128_t dc = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(dh, o), wasm_f32x4_sub(one, wasm_f32x4_mul(tc, tc))), wasm_v128_load(dcn + j));
        if (dcs) dc = wasm_f32x4_add(dc, wasm_v128_load(dcs + bt * H + j));
        wasm_v128_store(d + j, wasm_f32x4_mul(wasm_f32x4_mul(dc, g), wasm_f32x4_mul(i, wasm_f32x4_sub(one, i))));
        wasm_v128_store(d + H + j, cprev ? wasm_f32x4_mul(wasm_f32x4_mul(dc, wasm_v128_load(cprev + j)), wasm_f32x4_mul(f, wasm_f32x4_sub(one, f)))
                                         : wasm_f32x4_splat(0.f));
        wasm_v128_store(d + 2 * H + j, wasm_f32x4_mul(wasm_f32x4_mul(dc, i), wasm_f32x4_sub(one, wasm_f32x4_mul(g, g))));
        wasm_v128_store(d + 3 * H + j, wasm_f32x4_mul(wasm_f32x4_mul(dh, tc), wasm_f32x4_mul(o, wasm_f32x4_sub(one, o))));
        wasm_v128_store(dcn + j, wasm_f32x4_mul(dc, f));
      }
      for (; j < H; j++) {
        const float i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
        const float tc = tanh_f(c[j]);
        const float dh = dhv[j] + dhn[j];
        const float dc = dh * o * (1.f - tc * tc) + dcn[j] + (dcs ? dcs[bt * H + j] : 0.f);
        d[j] = dc * g * i * (1.f - i);
        d[H + j] = cprev ? dc * cprev[j] * f * (1.f - f) : 0.f;
        d[2 * H + j] = dc * i * (1.f - g * g);
        d[3 * H + j] = dh * tc * o * (1.f - o);
        dcn[j] = dc * f;
      }
    }
    if (t > 0) gemm(B, H, G, dxw + (size_t)t * G, T * G, 0, whh, G, 1, dh_next, H, 0, gemm_scratch);
  }
  // dW_hh = sum over b and t >= 1 of h[b, t-1]^T dgates[b, t].
  if (T > 1) {
    for (int b = 0; b < B; b++) {
      gemm(H, G, T - 1, hs + (size_t)b * T * H, H, 1, dxw + ((size_t)b * T + 1) * G, G, 0, dwhh, G, b > 0, gemm_scratch);
    }
  } else {
    __builtin_memset(dwhh, 0, sizeof(float) * (size_t)H * G);
  }
}

// PReLU forward: y = x > 0 ? x : alpha * x, alpha shared (A == 1) or per channel (A == C).
EXPORT(prelu_forward)
void prelu_forward(const float* x, const float* alpha, float* y, int R, int C, int A) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  if (A == 1) {
    const v128_t va = wasm_f32x4_splat(alpha[0]);
    const size_t n = (size_t)R * C;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const v128_t xv = wasm_v128_load(x + i);
      wasm_v128_store(y + i, wasm_v128_bitselect(xv, wasm_f32x4_mul(xv, va), wasm_f32x4_gt(xv, zero)));
    }
    for (; i < n; i++) y[i] = x[i] > 0 ? x[i] : alpha[0] * x[i];
    return;
  }
  for (int r = 0; r < R; r++) {
    const float* xr = x + (size_t)r * C;
    float* yr = y + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const v128_t xv = wasm_v128_load(xr + c);
      wasm_v128_store(yr + c, wasm_v128_bitselect(xv, wasm_f32x4_mul(xv, wasm_v128_load(alpha + c)), wasm_f32x4_gt(xv, zero)));
    }
    for (; c < C; c++) yr[c] = xr[c] > 0 ? xr[c] : alpha[c] * xr[c];
  }
}

// y = prelu(y + bias) in place over rows of C (bias may be null; alpha has A = 1 or C slopes): a convolution's
// bias and PReLU in one pass.
EXPORT(bias_prelu)
void bias_prelu(float* y, const float* bias, const float* alpha, int R, int C, int A) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = 0; r < R; r++) {
    float* yr = y + (size_t)r * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_v128_load(yr + c);
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c));
      const v128_t a = A == 1 ? wasm_f32x4_splat(alpha[0]) : wasm_v128_load(alpha + c);
      wasm_v128_store(yr + c, wasm_v128_bitselect(v, wasm_f32x4_mul(v, a), wasm_f32x4_gt(v, zero)));
    }
    for (; c < C; c++) {
      const float v = yr[c] + (bias ? bias[c] : 0.f);
      yr[c] = v > 0 ? v : (A == 1 ? alpha[0] : alpha[c]) * v;
    }
  }
}

// out[c] = sum over rows r of x[r, c]: a reduction over leading axes (bias gradients) without a transpose.
EXPORT(sum_rows)
void sum_rows(const float* x, float* out, int R, int C) {
  __builtin_memset(out, 0, sizeof(float) * C);
  for (int r = 0; r < R; r++) add_into(out, x + (size_t)r * C, C);
}

// out[o, i] = scale * sum over r of x[o, r, i]: a reduction over a run of axes that ends before the last
// (pooling over time and frequency, means) without a transpose.
EXPORT(sum_middle)
void sum_middle(const float* x, float* out, int O, int R, int I, float scale) {
  for (int o = 0; o < O; o++) {
    float* dst = out + (size_t)o * I;
    sum_rows(x + (size_t)o * R * I, dst, R, I);
    if (scale != 1.f) for (int i = 0; i < I; i++) dst[i] *= scale;
  }
}

// Concatenation and split along the last axis, row by row: out [R, sum(w)] from parts [R, w_p] (or back).
// ptrs and widths are arrays of n ints on the heap (part pointers and their widths).
EXPORT(concat_last)
void concat_last(const int* ptrs, const int* widths, int n, float* out, int R) {
  int total = 0;
  for (int p = 0; p < n; p++) total += widths[p];
  for (int r = 0; r < R; r++) {
    float* dst = out + (size_t)r * total;
    for (int p = 0; p < n; p++) {
      const int w = widths[p];
      __builtin_memcpy(dst, (const float*)(size_t)ptrs[p] + (size_t)r * w, sizeof(float) * w);
      dst += w;
    }
  }
}

EXPORT(split_last)
void split_last(const float* x, int R, const int* ptrs, const int* widths, int n) {
  int total = 0;
  for (int p = 0; p < n; p++) total += widths[p];
  for (int r = 0; r < R; r++) {
    const float* src = x + (size_t)r * total;
    for (int p = 0; p < n; p++) {
      const int w = widths[p];
      __builtin_memcpy((float*)(size_t)ptrs[p] + (size_t)r * w, src, sizeof(float) * w);
      src += w;
    }
  }
}

// erf(x) by Abramowitz & Stegun 7.1.26: 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + p |x|), odd in x;
// absolute error below 1.5e-7.
static inline float erf_f(float x) {
  const float a = x < 0 ? -x : x;
  const float t = 1.f / (1.f + 0.3275911f * a);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float y = 1.f - poly * exp_f(-a * a);
  return x < 0 ? -y : y;
}

// Four-lane exp_f and erf_f (same approximations).
static inline v128_t exp_v(v128_t x) {
  // pmin / pmax (one x86 instruction each; the operand order keeps a NaN x) rather than min / max, whose NaN and
  // signed-zero rules cost V8 about six instructions each; k = round(x log2 e) by the 1.5 * 2^23 shifter, whose low
  // mantissa bits then hold k, so 2^k needs no float-to-int conversion. Same result as exp_f within 1 ulp.
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.f)), wasm_f32x4_splat(88.f));
  const v128_t shifter = wasm_f32x4_splat(12582912.f);
  const v128_t v = FMA(shifter, x, wasm_f32x4_splat(1.44269504f));
  const v128_t k = wasm_f32x4_sub(v, shifter);
  const v128_t r = FMA(FMA(x, k, wasm_f32x4_splat(-0.693145752f)), k, wasm_f32x4_splat(-1.42860677e-6f));
  v128_t p = wasm_f32x4_splat(1.f / 5040.f);
  p = FMA(wasm_f32x4_splat(1.f / 720.f), p, r);
  p = FMA(wasm_f32x4_splat(1.f / 120.f), p, r);
  p = FMA(wasm_f32x4_splat(1.f / 24.f), p, r);
  p = FMA(wasm_f32x4_splat(1.f / 6.f), p, r);
  p = FMA(wasm_f32x4_splat(0.5f), p, r);
  p = FMA(wasm_f32x4_splat(1.f), p, r);
  p = FMA(wasm_f32x4_splat(1.f), p, r);
  // 2^k: k + 127 in the exponent field (v's bits are 0x4B400000 + k).
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_sub(v, wasm_i32x4_splat(0x4B400000 - 127)), 23);
  return wasm_f32x4_mul(p, scale);
}

static inline v128_t erf_v(v128_t x) {
  const v128_t a = wasm_f32x4_abs(x);
  const v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.f), FMA(wasm_f32x4_splat(1.f), wasm_f32x4_splat(0.3275911f), a));
  v128_t poly = wasm_f32x4_splat(1.061405429f);
  poly = FMA(wasm_f32x4_splat(-1.453152027f), poly, t);
  poly = FMA(wasm_f32x4_splat(1.421413741f), poly, t);
  poly = FMA(wasm_f32x4_splat(-0.284496736f), poly, t);
  poly = FMA(wasm_f32x4_splat(0.254829592f), poly, t);
  poly = wasm_f32x4_mul(poly, t);
  const v128_t y = wasm_f32x4_sub(wasm_f32x4_splat(1.f), wasm_f32x4_mul(poly, exp_v(wasm_f32x4_neg(wasm_f32x4_mul(a, a)))));
  // Sign of x onto y (y >= 0).
  return wasm_v128_or(y, wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000)));
}

// GELU (exact form): y = 0.5 x (1 + erf(x / sqrt 2)).
EXPORT(gelu_forward)
void gelu_forward(const float* x, float* y, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    const v128_t e = erf_v(wasm_f32x4_mul(v, wasm_f32x4_splat(0.70710678f)));
    wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(0.5f), v), wasm_f32x4_add(wasm_f32x4_splat(1.f), e)));
  }
  for (; i < n; i++) y[i] = 0.5f * x[i] * (1.f + erf_f(x[i] * 0.70710678f));
}

// y = tanh(x) (fn 0) or sigmoid(x) (fn 1) element-wise, four lanes at a time (tanh_v, sigmoid_v; the scalar forms on
// the tail).
EXPORT(unary_forward)
void unary_forward(const float* x, float* y, int n, int fn) {
  int i = 0;
  if (fn == 0) {
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, tanh_v(wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] = tanh_f(x[i]);
  } else {
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, sigmoid_v(wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] = sigmoid_f(x[i]);
  }
}

// dx = dy * (0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)).
EXPORT(gelu_backward)
void gelu_backward(const float* x, const float* dy, float* dx, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    const v128_t cdf = wasm_f32x4_mul(wasm_f32x4_splat(0.5f),
                                      wasm_f32x4_add(wasm_f32x4_splat(1.f), erf_v(wasm_f32x4_mul(v, wasm_f32x4_splat(0.70710678f)))));
    const v128_t pdf = wasm_f32x4_mul(exp_v(wasm_f32x4_mul(wasm_f32x4_splat(-0.5f), wasm_f32x4_mul(v, v))), wasm_f32x4_splat(0.39894228f));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), FMA(cdf, v, pdf)));
  }
  for (; i < n; i++) {
    const float v = x[i];
    dx[i] = dy[i] * (0.5f * (1.f + erf_f(v * 0.70710678f)) + v * exp_f(-0.5f * v * v) * 0.39894228f);
  }
}

// Softmax backward over rows of length C: dx = y * (dy - sum(dy * y)).
EXPORT(softmax_backward)
void softmax_backward(const float* y, const float* dy, float* dx, int R, int C) {
  for (int r = 0; r < R; r++) {
    const float* yr = y + (size_t)r * C;
    const float* dr = dy + (size_t)r * C;
    float* o = dx + (size_t)r * C;
    v128_t acc = wasm_f32x4_splat(0.f);
    int c = 0;
    for (; c + 4 <= C; c += 4) acc = FMA(acc, wasm_v128_load(yr + c), wasm_v128_load(dr + c));
    float s = hsum(acc);
    for (; c < C; c++) s += yr[c] * dr[c];
    const v128_t vs = wasm_f32x4_splat(s);
    c = 0;
    for (; c + 4 <= C; c += 4) wasm_v128_store(o + c, wasm_f32x4_mul(wasm_v128_load(yr + c), wasm_f32x4_sub(wasm_v128_load(dr + c), vs)));
    for (; c < C; c++) o[c] = yr[c] * (dr[c] - s);
  }
}

// ---------------------------------------------------------------------------------------------
// atan2(y, x) elementwise (tfjs's Atan2 of same-shape float32 tensors). The angle of t = min(|y|, |x|) / max(|y|, |x|)
// in [0, 1] by Cephes' atanf (above tan(pi/8) reduced by pi/4, then an odd degree-9 polynomial; a few ulp), then
// placed in its octant: pi/2 - a when |y| > |x|, pi - a when x is negative (or -0), the sign of y (signed zeros as
// atan2). atan2(0, 0) = 0; both infinite gives NaN (std::atan2: a multiple of pi/4).
// ---------------------------------------------------------------------------------------------

static inline float atan01_f(float t) {
  const int big = t > 0.41421356f;
  const float r = big ? (t - 1.f) / (t + 1.f) : t;
  const float z = r * r;
  const float p = (((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z - 3.33329491539e-1f) * z;
  return (big ? 0.78539816f : 0.f) + (p * r + r);
}

static inline v128_t atan01_v(v128_t t) {
  const v128_t one = wasm_f32x4_splat(1.f);
  const v128_t big = wasm_f32x4_gt(t, wasm_f32x4_splat(0.41421356f));
  const v128_t r = wasm_v128_bitselect(wasm_f32x4_div(wasm_f32x4_sub(t, one), wasm_f32x4_add(t, one)), t, big);
  const v128_t z = wasm_f32x4_mul(r, r);
  v128_t p = wasm_f32x4_splat(8.05374449538e-2f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-1.38776856032e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(1.99777106478e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-3.33329491539e-1f));
  p = wasm_f32x4_mul(p, z);
  return wasm_f32x4_add(wasm_v128_and(big, wasm_f32x4_splat(0.78539816f)), wasm_f32x4_add(wasm_f32x4_mul(p, r), r));
}

EXPORT(atan2_forward)
void atan2_forward(const float* y, const float* x, float* out, int n) {
  const v128_t sign = wasm_i32x4_splat((int)0x80000000);
  const v128_t halfPi = wasm_f32x4_splat(1.57079633f), pi = wasm_f32x4_splat(3.14159265f), zero = wasm_f32x4_splat(0.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t vy = wasm_v128_load(y + i), vx = wasm_v128_load(x + i);
    const v128_t ay = wasm_f32x4_abs(vy), ax = wasm_f32x4_abs(vx);
    const v128_t mx = wasm_f32x4_max(ay, ax), mn = wasm_f32x4_min(ay, ax);
    const v128_t t = wasm_v128_bitselect(zero, wasm_f32x4_div(mn, mx), wasm_f32x4_eq(mx, zero));
    v128_t a = atan01_v(t);
    a = wasm_v128_bitselect(wasm_f32x4_sub(halfPi, a), a, wasm_f32x4_gt(ay, ax));
    const v128_t xNeg = wasm_i32x4_lt(vx, wasm_i32x4_splat(0));  // sign bit of x, -0 included
    a = wasm_v128_bitselect(wasm_f32x4_sub(pi, a), a, xNeg);
    wasm_v128_store(out + i, wasm_v128_or(a, wasm_v128_and(vy, sign)));
  }
  for (; i < n; i++) {
    const float ay = y[i] < 0 ? -y[i] : y[i], ax = x[i] < 0 ? -x[i] : x[i];
    const float mx = ay > ax ? ay : ax, mn = ay > ax ? ax : ay;
    float a = atan01_f(mx == 0.f ? 0.f : mn / mx);
    if (ay > ax) a = 1.57079633f - a;
    if (__builtin_signbit(x[i])) a = 3.14159265f - a;
    out[i] = __builtin_signbit(y[i]) ? -a : a;
  }
}

// ---------------------------------------------------------------------------------------------
// Multi-head attention, forward (inference): q [B, T, H*d], k and v [B, S, H*d] (heads side by side in the last
// axis, as the projections give them) -> out [B, T, H*d]. Per item and head: P = softmax(scale * Q_h K_h^T) over S,
// out_h = P V_h. The heads are read and written in place through the GEMM's row strides (no transposes); the rows of
// P are normalised after the product (d values per row instead of S). P [T * S + T] is scratch, `scratch` the GEMM's
// (KC * roundUp(max(S, d), 8) floats).
// ---------------------------------------------------------------------------------------------

// x[0..n) = exp(scale * x - max(scale * x)) in place (scale > 0); returns 1 / their sum (the softmax's normaliser).
static float softmax_unnormalised(float* x, int n, float scale) {
  v128_t vm = wasm_f32x4_splat(x[0]);
  int i = 0;
  // (pmax may skip a NaN here; exp of that NaN then makes the row NaN, as it should.)
  for (; i + 4 <= n; i += 4) vm = wasm_f32x4_pmax(vm, wasm_v128_load(x + i));
  vm = wasm_f32x4_pmax(vm, wasm_i32x4_shuffle(vm, vm, 2, 3, 0, 1));
  vm = wasm_f32x4_pmax(vm, wasm_i32x4_shuffle(vm, vm, 1, 0, 3, 2));
  float m = wasm_f32x4_extract_lane(vm, 0);
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  const float shift = m * scale;
  const v128_t vs = wasm_f32x4_splat(scale), vsh = wasm_f32x4_splat(shift);
  v128_t vsum = wasm_f32x4_splat(0.f);
  for (i = 0; i + 4 <= n; i += 4) {
    const v128_t e = exp_v(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(x + i), vs), vsh));
    wasm_v128_store(x + i, e);
    vsum = wasm_f32x4_add(vsum, e);
  }
  float sum = hsum(vsum);
  for (; i < n; i++) {
    x[i] = exp_f(x[i] * scale - shift);
    sum += x[i];
  }
  return 1.f / sum;
}

EXPORT(attention_forward)
void attention_forward(const float* q, const float* k, const float* v, float* out, int B, int T, int S, int H, int d,
                       float scale, float* P, float* scratch) {
  const int E = H * d;
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const float* qh = q + (size_t)b * T * E + h * d;
      const float* kh = k + (size_t)b * S * E + h * d;
      const float* vh = v + (size_t)b * S * E + h * d;
      gemm(T, S, d, qh, E, 0, kh, E, 1, P, S, 0, scratch);
      float* inv = P + (size_t)T * S;
      for (int t = 0; t < T; t++) inv[t] = softmax_unnormalised(P + (size_t)t * S, S, scale);
      float* oh = out + (size_t)b * T * E + h * d;
      gemm(T, d, S, P, S, 0, vh, E, 0, oh, E, 0, scratch);
      for (int t = 0; t < T; t++) {
        float* row = oh + (size_t)t * E;
        const v128_t vi = wasm_f32x4_splat(inv[t]);
        int j = 0;
        for (; j + 4 <= d; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(wasm_v128_load(row + j), vi));
        for (; j < d; j++) row[j] *= inv[t];
      }
    }
  }
}
