// x [T, K] @ [qkvz; ba].T straight into mixed_qkv, z, b, a for decode batches (runtime/projections/stream_mma.py).
// One persistent CTA per SM streams its share of the row-major weight, in units of 8 rows (32 KB at K=2048): unit
// cta + i * gridDim.x for i = 0, 1, ... Each of the W warps owns K columns [warp * K / W, (warp + 1) * K / W) of every
// unit: its x slice sits in registers for the whole kernel (mma.sync A fragments, tokens on M), each unit's weight
// slice arrives as 16-byte loads straight into B fragments (no shared memory), D units in flight, the first D
// requested before the PDL wait. A thread's 16 bytes of a 32-column chunk feed two m16n8k16 steps, x taking the same
// columns (K is permuted inside each chunk, so every load is 16 bytes wide). Each warp writes its fp32 partial of a
// unit to shared memory; after the last unit the CTA sums the W partials of each output in warp order and stores
// them where the split puts them.
// Constants come as -D defines: K, W (warps), MINB (CTAs an SM), PACKED (1: the weight in pack_weight's unit-major
// layout), D (units in flight), PRE (of which requested before the PDL wait, the rest right after x), UMAX (units of the busiest CTA), MT (16-token MMA
// tiles: 1 or 2), NACC (accumulators a tile: 1, 2 or 4), ROWS8 (1: at most 8 tokens, the tile's rows 8..15 are zeros and not loaded), NK, NV, DK, DV,
// INTERLEAVED, FP16, USE_PDL, CL (CTAs a cluster), PIN (1: the loads issue in the source's order), NORM (below), TH and
// TG (token groups: CTA TH c + h takes tokens [TG h, TG (h + 1)) of the units CTA c of gridDim.x / TH deals, so a
// 32-token batch runs as two 16-token halves, each CTA holding one half of x and the pair reading each unit, the second
// read from L2; TH = 1: every CTA takes all T tokens). CL > 1: x reaches the registers through shared memory, each row
// copied once a cluster by a bulk copy multicast to every CTA of it (cp.async.bulk ... .multicast::cluster, sm_90a),
// so L2 serves x once a cluster instead of once a CTA; the region is reused for the partials after a CTA barrier.
// NORM (1): the layer's input norm folded in (sgl_kernel's gemma_fused_add_rmsnorm): x and res are the norm's inputs;
// each CTA forms s = x + res in fp32 from the rows it loads anyway, rounds it to the 16-bit dtype (what CTA 0 stores to
// res_out, the new residual, out of place: every CTA reads res), sums the squares of the fp32 s over the CTA's warps,
// and multiplies by the projection x = s * rsqrt(mean(s^2) + eps) * (1 + nw), 16-bit, computed from the rounded s; the
// norm weight nw is staged in shared memory before the PDL wait. The normalised x is not stored.

#define CW (K / 32 / W)  // 32-column chunks per warp
#define R_ (NV / NK)
#define QK (NK * DK)
#define VD (NV * DV)
#define QKV_W (2 * QK + VD)
#define QKVZ_W (QKV_W + VD)
#define NROWS (QKVZ_W + 2 * NV)
#define GW (2 * DK + 2 * R_ * DV)
#define XROW (2 * K + 64)  // bytes of one staged x row: 64 bytes of padding, so 8 rows of a warp's load hit 4 wavefronts

#if FP16
#define MMA "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
#define CVT "cvt.rn.f16.f32"
#else
#define MMA "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
#define CVT "cvt.rn.bf16.f32"
#endif

typedef unsigned short u16;

__device__ __forceinline__ void mma(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0,
                                    unsigned b1) {
  asm volatile(MMA " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint4 load_weight(const uint4* p) {  // read once, never written by a kernel
  uint4 v;
#if PIN  // a coherent load: ptxas keeps it on its side of a store that may alias it (pin below)
  asm volatile("ld.global.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
#else
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
#endif
  return v;
}

// PIN: a store no thread makes (T is never negative) that ptxas cannot move loads across, as they may alias it.
// Without it ptxas 13.0 (nvcc and NVRTC) issues griddepcontrol.wait before every weight load and x before the rest,
// so nothing is requested before the wait (SASS: ACQBULK first); with it the order is the source's.
__device__ __forceinline__ void pin(u16* p, int T) {
#if PIN
  if (T < 0) asm volatile("st.global.u16 [%0], %1;" :: "l"(p), "h"((unsigned short)0) : "memory");
#endif
}

__device__ __forceinline__ uint4 load_x(const uint4* p) {  // written by the previous kernel: after the wait only
  uint4 v;
  asm volatile("ld.global.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p) : "memory");
  return v;
}

#if CL > 1
__device__ __forceinline__ unsigned smem_addr(const void* p) { return (unsigned)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}
#endif

__device__ __forceinline__ u16 to_h(float v) {
  u16 h;
  asm(CVT " %0, %1;" : "=h"(h) : "f"(v));
  return h;
}

__device__ __forceinline__ void store(u16* base, long long i, float v) { base[i] = to_h(v); }

#if NORM
__device__ __forceinline__ float to_f(unsigned h) {  // the low 16 bits of h
  float f;
#if FP16
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"((unsigned short)h));
#else
  asm("mov.b32 %0, %1;" : "=f"(f) : "r"(h << 16));
#endif
  return f;
}

__device__ __forceinline__ unsigned pack2(float lo, float hi) { return (unsigned)to_h(lo) | ((unsigned)to_h(hi) << 16); }

__device__ __forceinline__ float warp_sum4(float v) {  // over the 4 lanes of one row g (lanes 4 g .. 4 g + 3)
  float o;
  asm volatile("shfl.sync.bfly.b32 %0, %1, 1, 31, 0xffffffff;" : "=f"(o) : "f"(v));
  v += o;
  asm volatile("shfl.sync.bfly.b32 %0, %1, 2, 31, 0xffffffff;" : "=f"(o) : "f"(v));
  return v + o;
}
#endif

// Where the split puts GEMM column n (a weight row) of token t.
__device__ __forceinline__ void scatter(u16* qkv, u16* z, u16* b, u16* a, int t, int n, float v) {
  if (n < QKVZ_W) {
#if INTERLEAVED
    int g = n / GW, o = n % GW;
    if (o < 2 * DK + R_ * DV) {
      int dst = o < DK ? g * DK + o : (o < 2 * DK ? QK + g * DK + o - DK : 2 * QK + g * R_ * DV + o - 2 * DK);
      store(qkv, (long long)t * QKV_W + dst, v);
    } else {
      store(z, (long long)t * VD + g * R_ * DV + o - 2 * DK - R_ * DV, v);
    }
#else
    if (n < QKV_W) store(qkv, (long long)t * QKV_W + n, v);
    else store(z, (long long)t * VD + n - QKV_W, v);
#endif
  } else if (n < NROWS) {
    int c = n - QKVZ_W;
#if INTERLEAVED
    int ob = c % (2 * R_), dst = (c / (2 * R_)) * R_ + (ob < R_ ? ob : ob - R_);
    store(ob < R_ ? b : a, (long long)t * NV + dst, v);
#else
    if (c < NV) store(b, (long long)t * NV + c, v);
    else store(a, (long long)t * NV + c - NV, v);
#endif
  }
}

__device__ __forceinline__ unsigned word(const uint4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// A fragments of T rows of row_bytes each from base (the warp's first column of row 0): rows g and g + 8 of each
// 16-token tile, zeros past T (and for rows 8..15 where ROWS8). STAGED: x staged in shared memory (CL > 1), else rows
// the previous kernel wrote to global memory (x, the residual), read after the wait.
template <bool STAGED>
__device__ __forceinline__ void load_rows(uint4 (&dst)[MT][2][CW], const char* base, long long row_bytes, int T,
                                          int g) {
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      int t = 16 * mt + 8 * h + g;
      bool ok = t < T && !(ROWS8 && h == 1);
      const uint4* p = reinterpret_cast<const uint4*>(base + (ok ? t : 0) * row_bytes);
#pragma unroll
      for (int c = 0; c < CW; ++c) {
        dst[mt][h][c] = !ok ? make_uint4(0, 0, 0, 0) : STAGED ? p[4 * c] : load_x(p + 4 * c);
      }
    }
  }
}

extern "C" __global__ void __launch_bounds__(W * 32, MINB)
stream_mma_kernel(const u16* x, const u16* w, u16* qkv, u16* z, u16* b, u16* a, int T,
                  int xs, int units, const u16* res, const u16* nw, u16* res_out, float eps) {
  extern __shared__ float4 red[];  // [UMAX][W][MT][32 lanes] partials, four fp32 each (CL > 1: first x's rows)
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
#if TH > 1  // this CTA's token group: its rows of x, the residuals and the outputs from here on, T its token count
  const int cta = blockIdx.x / TH, G = gridDim.x / TH, h0 = (blockIdx.x % TH) * TG;
  x += (long long)h0 * xs;
  qkv += (long long)h0 * QKV_W;
  z += (long long)h0 * VD;
  b += (long long)h0 * NV;
  a += (long long)h0 * NV;
#if NORM
  res += (long long)h0 * K;
  res_out += (long long)h0 * K;
#endif
  T = max(0, min(T - h0, TG));
#else
  const int cta = blockIdx.x, G = gridDim.x;
#endif
#if USE_PDL
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
#if CL > 1
  __shared__ alignas(8) unsigned long long xbar;  // completes when every staged x row has landed here
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;\n\tfence.mbarrier_init.release.cluster;"
                 :: "r"(smem_addr(&xbar)) : "memory");
  }
  cluster_sync();  // every CTA's barrier is initialised before any copy may complete on it (before the PDL wait)
#endif
  // lane's 16 bytes of chunk c of a unit: row g of the unit, columns col0 + 32 c + 8 q
  const int col0 = warp * CW * 32 + 8 * q;
#if PACKED  // [units][K / 32 chunks][8 rows][32 columns]: a warp's load is 512 contiguous bytes
  const uint4* wlane = reinterpret_cast<const uint4*>(w) + (warp * CW) * 32 + lane;
#define WADDR(u, c) (wlane + ((long long)(u) * (K / 32) + (c)) * 32)
#else
  const uint4* wlane = reinterpret_cast<const uint4*>(w + (long long)g * K + col0);
#define WADDR(u, c) (wlane + ((long long)(u) * 8 * K + 32 * (c)) / 8)
#endif
  uint4 wb[D][CW];
#pragma unroll
  for (int i = 0; i < PRE; ++i) {
    int u = cta + i * G;
    if (u < units) {
#pragma unroll
      for (int c = 0; c < CW; ++c) wb[i][c] = load_weight(WADDR(u, c));
    }
  }
#if NORM
  __shared__ uint4 nsm[K / 8];  // the norm weight, staged before the wait (no kernel writes it)
  __shared__ float ssq[MT * 16][W];  // each warp's sum of squares of each row
  for (int i = threadIdx.x; i < K / 8; i += W * 32) nsm[i] = load_weight(reinterpret_cast<const uint4*>(nw) + i);
#endif
  pin(qkv + threadIdx.x, T);  // the first PRE units before the wait
#if USE_PDL
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
#if CL > 1
  unsigned rank;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
  char* xsm = reinterpret_cast<char*>(red);
  if (threadIdx.x == 0) {  // this CTA's rows of x, to the same place in every CTA of the cluster
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;"
                 :: "r"(smem_addr(&xbar)), "r"(T * 2 * K) : "memory");
    for (int t = rank; t < T; t += CL) {
      asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
                   " [%0], [%1], %2, [%3], %4;"
                   :: "r"(smem_addr(xsm + t * XROW)), "l"(x + (long long)t * xs), "r"(2 * K),
                      "r"(smem_addr(&xbar)), "h"((unsigned short)((1 << CL) - 1)) : "memory");
    }
  }
  asm volatile("{\n\t.reg .pred p;\n\tWAIT_%=:\n\t"
               "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], 0;\n\t@!p bra WAIT_%=;\n\t}"
               :: "r"(smem_addr(&xbar)) : "memory");
#endif
  // x's A fragments: rows g and g + 8 of each 16-token tile, the warp's columns (zeros past T)
  uint4 xa[MT][2][CW];
#if CL > 1
  load_rows<true>(xa, xsm + 2 * col0, XROW, T, g);
#else
  load_rows<false>(xa, reinterpret_cast<const char*>(x + col0), 2LL * xs, T, g);
#endif
#if CL > 1
  __syncthreads();  // every warp holds its x before any partial overwrites the rows
  asm volatile("barrier.cluster.arrive.relaxed.aligned;" ::: "memory");  // x landed here: copies into us are done
#endif
#if NORM
  uint4 ra[MT][2][CW];  // the residual's rows, beside x's
  load_rows<false>(ra, reinterpret_cast<const char*>(res + col0), 2LL * K, T, g);
#endif
  pin(qkv + threadIdx.x, T);  // x (and the residual) before the rest
#pragma unroll
  for (int i = PRE; i < D; ++i) {  // the rest of the first D units, behind x
    int u = cta + i * G;
    if (u < units) {
#pragma unroll
      for (int c = 0; c < CW; ++c) wb[i][c] = load_weight(WADDR(u, c));
    }
  }
#if NORM
  {  // s = x + res; res_out = s (CTA 0); x = s * rsqrt(mean(s^2) + eps) * (1 + nw)
    float rs[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        int t = 16 * mt + 8 * h + g;
        bool ok = t < T && !(ROWS8 && h == 1);
        float acc = 0.f;
#pragma unroll
        for (int c = 0; c < CW; ++c) {
          const uint4 rv = ra[mt][h][c];
          unsigned sw[4];
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            unsigned xw = word(xa[mt][h][c], e), rw = word(rv, e);
            float s0 = to_f(xw & 0xffff) + to_f(rw & 0xffff), s1 = to_f(xw >> 16) + to_f(rw >> 16);
            acc += s0 * s0 + s1 * s1;
            sw[e] = pack2(s0, s1);
          }
          xa[mt][h][c] = make_uint4(sw[0], sw[1], sw[2], sw[3]);
          if (cta == 0 && ok) reinterpret_cast<uint4*>(res_out + (long long)t * K + col0)[4 * c] = xa[mt][h][c];
        }
        acc = warp_sum4(acc);
        if (q == 0) ssq[16 * mt + 8 * h + g][warp] = acc;
      }
    }
    __syncthreads();  // every warp's sums and the staged norm weight
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float acc = 0.f;
#pragma unroll
        for (int ww = 0; ww < W; ++ww) acc += ssq[16 * mt + 8 * h + g][ww];
        rs[mt][h] = rsqrtf(acc / K + eps);
      }
    }
#pragma unroll
    for (int c = 0; c < CW; ++c) {
      uint4 gv = nsm[(col0 + 32 * c) / 8];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          if (ROWS8 && h == 1) continue;
          unsigned sw[4];
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            unsigned xw = word(xa[mt][h][c], e), gw = word(gv, e);
            sw[e] = pack2(to_f(xw & 0xffff) * rs[mt][h] * (1.f + to_f(gw & 0xffff)),
                          to_f(xw >> 16) * rs[mt][h] * (1.f + to_f(gw >> 16)));
          }
          xa[mt][h][c] = make_uint4(sw[0], sw[1], sw[2], sw[3]);
        }
      }
    }
  }
#endif
#pragma unroll
  for (int i = 0; i < UMAX; ++i) {
    const int s = i % D;
    if (cta + i * G < units) {
      float c4[MT][NACC][4];  // NACC accumulators a tile (by chunk parity and step): short dependent MMA chains
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int p = 0; p < NACC; ++p) c4[mt][p][0] = c4[mt][p][1] = c4[mt][p][2] = c4[mt][p][3] = 0.f;
#pragma unroll
      for (int c = 0; c < CW; ++c) {
#pragma unroll
        for (int st = 0; st < 2; ++st) {
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma(c4[mt][((c & 1) * 2 + st) % NACC], word(xa[mt][0][c], 2 * st), word(xa[mt][1][c], 2 * st),
                word(xa[mt][0][c], 2 * st + 1), word(xa[mt][1][c], 2 * st + 1), word(wb[s][c], 2 * st),
                word(wb[s][c], 2 * st + 1));
          }
        }
      }
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        float v[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          v[e] = c4[mt][0][e];
#pragma unroll
          for (int p = 1; p < NACC; ++p) v[e] += c4[mt][p][e];
        }
        red[((i * W + warp) * MT + mt) * 32 + lane] = make_float4(v[0], v[1], v[2], v[3]);
      }
      int u = cta + (i + D) * G;
      if (i + D < UMAX && u < units) {
#pragma unroll
        for (int c = 0; c < CW; ++c) wb[s][c] = load_weight(WADDR(u, c));
      }
    }
  }
  __syncthreads();
  const int mine = (units - cta + G - 1) / G;  // units this CTA multiplied
  const float* rf = reinterpret_cast<const float*>(red);
  for (int idx = threadIdx.x; idx < mine * MT * 128; idx += W * 32) {
    int i = idx / (MT * 128), rem = idx % (MT * 128), mt = rem / 128, l = (rem / 4) % 32, j = rem % 4;
    int t = 16 * mt + l / 4 + 8 * (j >> 1);
    if (t >= T) continue;
    float v = 0.f;
#pragma unroll
    for (int ww = 0; ww < W; ++ww) v += rf[(((i * W + ww) * MT + mt) * 32 + l) * 4 + j];
    scatter(qkv, z, b, a, t, (cta + i * G) * 8 + 2 * (l % 4) + (j & 1), v);
  }
#if CL > 1
  asm volatile("barrier.cluster.wait.aligned;" ::: "memory");  // no CTA leaves while its copies may still land
#endif
}
