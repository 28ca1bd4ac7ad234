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
  if (mr == MR && nr == NR) {
    float* r0 = C;
    float* r1 = C + ldc;
    float* r2 = C + 2 * (size_t)ldc;
    float* r3 = C + 3 * (size_t)ldc;
    if (accumulate) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(r0)); c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
      c10 = wasm_f32x4_add(c10, wasm_v128_load(r1)); c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4));
      c20 = wasm_f32x4_add(c20, wasm_v128_load(r2)); c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4));
      c30 = wasm_f32x4_add(c30, wasm_v128_load(r3)); c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4));
    }
    wasm_v128_store(r0, c00); wasm_v128_store(r0 + 4, c01);
    wasm_v128_store(r1, c10); wasm_v128_store(r1 + 4, c11);
    wasm_v128_store(r2, c20); wasm_v128_store(r2 + 4, c21);
    wasm_v128_store(r3, c30); wasm_v128_store(r3 + 4, c31);
    return;
  }
  float tmp[MR * NR] __attribute__((aligned(16)));
  wasm_v128_store(tmp + 0, c00); wasm_v128_store(tmp + 4, c01);
  wasm_v128_store(tmp + 8, c10); wasm_v128_store(tmp + 12, c11);
  wasm_v128_store(tmp + 16, c20); wasm_v128_store(tmp + 20, c21);
  wasm_v128_store(tmp + 24, c30); wasm_v128_store(tmp + 28, c31);
  for (int r = 0; r < mr; r++) {
    float* row = C + (size_t)r * ldc;
    for (int j = 0; j < nr; j++) row[j] = accumulate ? row[j] + tmp[r * NR + j] : tmp[r * NR + j];
  }
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

// ---------------------------------------------------------------------------------------------
// im2col / col2im for NHWC convolutions with stride, dilation and explicit padding.
// cols[((b * OH + oh) * OW + ow), (kh * KW + kw) * C + c] = x[b, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c]
// (0 outside the input).
// ---------------------------------------------------------------------------------------------

EXPORT(im2col)
void im2col(const float* x, float* cols, int B, int H, int W, int C, int KH, int KW, int OH, int OW,
            int sh, int sw, int dh, int dw, int pt, int pl) {
  const size_t rowLen = (size_t)KH * KW * C;
  for (int b = 0; b < B; b++) {
    const float* xb = x + (size_t)b * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        float* dst = cols + ((size_t)(b * OH + oh) * OW + ow) * rowLen;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * sw - pl + kw * dw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              __builtin_memset(dst, 0, sizeof(float) * C);
            } else {
              __builtin_memcpy(dst, xb + ((size_t)ih * W + iw) * C, sizeof(float) * C);
            }
            dst += C;
          }
        }
      }
    }
  }
}

static inline void add_into(float* dst, const float* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
  }
  for (; i < n; i++) dst[i] += src[i];
}

// dx = 0; dx[b, ih, iw, c] += cols[...] for every patch element that maps inside the input.
EXPORT(col2im)
void col2im(const float* cols, float* dx, int B, int H, int W, int C, int KH, int KW, int OH, int OW,
            int sh, int sw, int dh, int dw, int pt, int pl) {
  __builtin_memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  const size_t rowLen = (size_t)KH * KW * C;
  for (int b = 0; b < B; b++) {
    float* xb = dx + (size_t)b * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        const float* src = cols + ((size_t)(b * OH + oh) * OW + ow) * rowLen;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * sh - pt + kh * dh;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * sw - pl + kw * dw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) add_into(xb + ((size_t)ih * W + iw) * C, src, C);
            src += C;
          }
        }
      }
    }
  }
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

// dx[b, ih, iw, c] = sum over taps of sum_m filter[kh, kw, c, m] * dy[b, oh, ow, c * M + m]
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const float* dy, const float* filter, float* dx, int B, int H, int W, int C,
                              int M, int KH, int KW, int OH, int OW, int sh, int sw, int dh, int dw,
                              int pt, int pl) {
  const int CM = C * M;
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
      for (int j = 0; j < H; j++) {
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
      for (int j = 0; j < H; j++) {
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

// out[c] = sum over rows r of x[r, c]: a reduction over leading axes (bias gradients) without a transpose.
EXPORT(sum_rows)
void sum_rows(const float* x, float* out, int R, int C) {
  __builtin_memset(out, 0, sizeof(float) * C);
  for (int r = 0; r < R; r++) add_into(out, x + (size_t)r * C, C);
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

// GELU (exact form): y = 0.5 x (1 + erf(x / sqrt 2)).
EXPORT(gelu_forward)
void gelu_forward(const float* x, float* y, int n) {
  for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.f + erf_f(x[i] * 0.70710678f));
}

// dx = dy * (0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)).
EXPORT(gelu_backward)
void gelu_backward(const float* x, const float* dy, float* dx, int n) {
  for (int i = 0; i < n; i++) {
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
