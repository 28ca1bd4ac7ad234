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

static inline int min_i(int a, int b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------
// GEMM: C[M, N] = A'[M, K] @ B'[K, N] (+ C when accumulate), where A' = A or A^T, B' = B or B^T.
//   A'(i, k) = transA ? A[k * lda + i] : A[i * lda + k]
//   B'(k, j) = transB ? B[j * ldb + k] : B[k * ldb + j]
// Blocked over K (KC) with B packed into 8-column panels and A into 4-row panels; a 4x8 register
// micro-kernel does the work. `scratch` must hold KC * roundUp(N, 8) + KC * 4 floats.
// ---------------------------------------------------------------------------------------------

#define MR 4
#define NR 8
#define KC 256

static void pack_b(const float* B, int ldb, int transB, int k0, int kc, int N, float* Bp) {
  for (int j0 = 0; j0 < N; j0 += NR) {
    const int nr = min_i(NR, N - j0);
    float* dst = Bp + (size_t)(j0 / NR) * kc * NR;
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
      for (int k = 0; k < kc; k++) {
        int j = 0;
        for (; j < nr; j++) dst[j] = B[(size_t)(j0 + j) * ldb + k0 + k];
        for (; j < NR; j++) dst[j] = 0.f;
        dst += NR;
      }
    }
  }
}

static void pack_a(const float* A, int lda, int transA, int i0, int mr, int k0, int kc, float* Ap) {
  if (transA) {
    for (int k = 0; k < kc; k++) {
      const float* src = A + (size_t)(k0 + k) * lda + i0;
      int r = 0;
      for (; r < mr; r++) Ap[r] = src[r];
      for (; r < MR; r++) Ap[r] = 0.f;
      Ap += MR;
    }
  } else {
    for (int k = 0; k < kc; k++) {
      int r = 0;
      for (; r < mr; r++) Ap[r] = A[(size_t)(i0 + r) * lda + k0 + k];
      for (; r < MR; r++) Ap[r] = 0.f;
      Ap += MR;
    }
  }
}

static void micro_4x8(int kc, const float* Ap, const float* Bp, float* C, int ldc, int mr, int nr,
                      int accumulate) {
  v128_t c00 = wasm_f32x4_splat(0.f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; k++) {
    const v128_t b0 = wasm_v128_load(Bp);
    const v128_t b1 = wasm_v128_load(Bp + 4);
    v128_t a = wasm_f32x4_splat(Ap[0]);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, b1));
    a = wasm_f32x4_splat(Ap[1]);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, b1));
    a = wasm_f32x4_splat(Ap[2]);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, b1));
    a = wasm_f32x4_splat(Ap[3]);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, b1));
    Ap += MR;
    Bp += NR;
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

static void gemm(int M, int N, int K, const float* A, int lda, int transA, const float* B, int ldb,
                 int transB, float* C, int ldc, int accumulate, float* scratch) {
  if (K == 0) {
    if (!accumulate) {
      for (int i = 0; i < M; i++) __builtin_memset(C + (size_t)i * ldc, 0, sizeof(float) * N);
    }
    return;
  }
  const int nPanels = (N + NR - 1) / NR;
  float* Bp = scratch;
  float* Ap = scratch + (size_t)KC * nPanels * NR;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = min_i(KC, K - k0);
    const int acc = accumulate || k0 > 0;
    pack_b(B, ldb, transB, k0, kc, N, Bp);
    for (int i0 = 0; i0 < M; i0 += MR) {
      const int mr = min_i(MR, M - i0);
      pack_a(A, lda, transA, i0, mr, k0, kc, Ap);
      for (int p = 0; p < nPanels; p++) {
        const int j0 = p * NR;
        micro_4x8(kc, Ap, Bp + (size_t)p * kc * NR, C + (size_t)i0 * ldc + j0, ldc, mr,
                  min_i(NR, N - j0), acc);
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
int gemm_scratch_floats(int N) { return KC * ((N + NR - 1) / NR) * NR + KC * MR; }

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
