// x [T, K] @ [qkvz; ba].T straight into mixed_qkv, z, b, a, for decode batches (runtime/projections/cluster_mma.py).
// One cluster of KSPLIT CTAs per 64 weight rows; CTA r of a cluster owns K columns [r*KC, (r+1)*KC). Each of its
// 4 warps holds 16 rows x KC of bf16/fp16 weight in registers as mma.sync A fragments, all requested before the PDL
// wait. After the wait the CTA stages its x slice in shared memory (cp.async), multiplies TB tokens at a time
// (m16n8k16), writes its fp32 partial to shared memory, and CTA r sums rows [16r, 16r+16) over the cluster's KSPLIT
// partials through distributed shared memory (in rank order) and stores them where the split puts them.
// Constants come as -D defines: K, KSPLIT, STAGE (tokens of x staged at once), TB (tokens per MMA pass: 8, 16, 32;
// divides STAGE), TMAX (tokens the partials hold), NK, NV, DK, DV, INTERLEAVED, FP16, USE_PDL, DIAG (sweep only:
// 1 no MMA, 2 no cluster reduction, 4 no x staging; the outputs are then wrong).

#define KC (K / KSPLIT)          // columns per CTA
#define CHUNKS (KC / 32)         // 32-column chunks: two m16n8k16 steps each
#define NT (TB / 8)              // 8-token MMA tiles per pass
#define XS (KC + 32)             // x row stride in shared memory (bf16): rows g and g+1 on opposite bank halves
#define R_ (NV / NK)
#define QK (NK * DK)
#define VD (NV * DV)
#define QKV_W (2 * QK + VD)
#define QKVZ_W (QKV_W + VD)
#define NROWS (QKVZ_W + 2 * NV)
#define GW (2 * DK + 2 * R_ * DV)

#if FP16
#define MMA "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
#define CVT "cvt.rn.f16.f32"
#else
#define MMA "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
#define CVT "cvt.rn.bf16.f32"
#endif

typedef unsigned short u16;

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }

__device__ __forceinline__ unsigned smem_addr(const void* p) {
  unsigned long long s;
  asm("cvta.to.shared.u64 %0, %1;" : "=l"(s) : "l"(p));
  return (unsigned)s;
}

__device__ __forceinline__ void mma(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0,
                                    unsigned b1) {
  asm volatile(MMA " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void store(u16* base, long long i, float v) {
  u16 h;
  asm(CVT " %0, %1;" : "=h"(h) : "f"(v));
  base[i] = h;
}

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

extern "C" __global__ void __launch_bounds__(128, 3)
cluster_mma_kernel(const u16* __restrict__ x, const u16* __restrict__ w, u16* qkv, u16* z, u16* b, u16* a, int T,
                   int x_stride) {
  extern __shared__ __align__(16) unsigned char smem[];
  u16* xs = (u16*)smem;                               // [STAGE][XS]
  float* part = (float*)(smem + STAGE * XS * 2);      // [TMAX][64]
#if USE_PDL
  asm volatile("griddepcontrol.launch_dependents;");
#endif
  unsigned rank;
  asm("mov.u32 %0, %%cluster_ctarank;" : "=r"(rank));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tig = lane % 4;
  const int row0 = (blockIdx.x / KSPLIT) * 64;
  const int k0 = rank * KC;
  // Weight: rows row0 + 16 warp + g (+8), for each 32-column chunk the 8 columns 8 tig .. 8 tig + 7 (16 bytes).
  // In chunk j, step 2j takes columns {0,1 | 2,3} of those 8 as the fragment's k {2tig, 2tig+1 | 2tig+8, 2tig+9},
  // step 2j+1 columns {4,5 | 6,7}; x's fragments use the same columns, so each step is a permutation of K.
  uint4 wr[CHUNKS][2];
  {
    int r_lo = imin(row0 + 16 * warp + g, NROWS - 1), r_hi = imin(row0 + 16 * warp + g + 8, NROWS - 1);
    const uint4* p_lo = (const uint4*)(w + (long long)r_lo * K + k0 + 8 * tig);
    const uint4* p_hi = (const uint4*)(w + (long long)r_hi * K + k0 + 8 * tig);
#pragma unroll
    for (int j = 0; j < CHUNKS; ++j) {
      asm volatile("ld.global.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                   : "=r"(wr[j][0].x), "=r"(wr[j][0].y), "=r"(wr[j][0].z), "=r"(wr[j][0].w) : "l"(p_lo + 4 * j));
      asm volatile("ld.global.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                   : "=r"(wr[j][1].x), "=r"(wr[j][1].y), "=r"(wr[j][1].z), "=r"(wr[j][1].w) : "l"(p_hi + 4 * j));
    }
  }
#if USE_PDL
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
  const int passes = (T + STAGE - 1) / STAGE;
  for (int p = 0; p < passes; ++p) {
#if !(DIAG & 4)
    // Stage x[p*STAGE .. +STAGE, k0 .. k0+KC) (tokens past T read row T-1: computed, never stored).
    for (int i = threadIdx.x; i < STAGE * (KC / 8); i += 128) {
      int t = i / (KC / 8), c = (i % (KC / 8)) * 8;
      const u16* src = x + (long long)imin(p * STAGE + t, T - 1) * x_stride + k0 + c;
      unsigned dst = smem_addr(xs + t * XS + c);
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src));
    }
    asm volatile("cp.async.wait_all;" ::: "memory");
#endif
    __syncthreads();
    for (int q = 0; q < STAGE / TB; ++q) {
      if (p * STAGE + q * TB >= T) break;
      float acc[NT][4];
#pragma unroll
      for (int n = 0; n < NT; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
#pragma unroll
      for (int j = 0; j < CHUNKS; ++j) {
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          uint4 xb = *(const uint4*)(xs + (q * TB + 8 * n + g) * XS + 32 * j + 8 * tig);
#if DIAG & 1
          unsigned bits = xb.x ^ xb.y ^ xb.z ^ xb.w ^ wr[j][0].x ^ wr[j][0].y ^ wr[j][0].z ^ wr[j][0].w ^ wr[j][1].x
                          ^ wr[j][1].y ^ wr[j][1].z ^ wr[j][1].w;  // every weight register stays live
          acc[n][0] += __uint_as_float(bits & 0x3f000000u);
#else
          mma(acc[n], wr[j][0].x, wr[j][1].x, wr[j][0].y, wr[j][1].y, xb.x, xb.y);
          mma(acc[n], wr[j][0].z, wr[j][1].z, wr[j][0].w, wr[j][1].w, xb.z, xb.w);
#endif
        }
      }
      // acc[n]: rows 16 warp + g (+8), tokens 8n + 2tig (+1) of this sub-pass
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        int t = p * STAGE + q * TB + 8 * n + 2 * tig, r = 16 * warp + g;
        part[t * 64 + r] = acc[n][0];
        part[(t + 1) * 64 + r] = acc[n][1];
        part[t * 64 + r + 8] = acc[n][2];
        part[(t + 1) * 64 + r + 8] = acc[n][3];
      }
    }
    __syncthreads();  // x's buffer is reused by the next pass
  }
#if !(DIAG & 2)
  // Every CTA's partials are written (release) before any CTA reads them (acquire).
  asm volatile("barrier.cluster.arrive.release.aligned; barrier.cluster.wait.acquire.aligned;" ::: "memory");
#endif
  // CTA `rank` sums rows 16 rank + (tid % 16) over the cluster, tokens tid / 16 + 8 i.
  {
    const int r = 16 * rank + threadIdx.x % 16;
    const int n = row0 + r;
    unsigned local = smem_addr(part);
    unsigned peer[KSPLIT];
#pragma unroll
    for (int c = 0; c < KSPLIT; ++c) asm("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(peer[c]) : "r"(local), "r"(c));
    for (int t = threadIdx.x / 16; t < passes * STAGE; t += 8) {
      float s = 0.f;
#if DIAG & 2
      s = part[t * 64 + r];
#else
#pragma unroll
      for (int c = 0; c < KSPLIT; ++c) {
        float v;
        asm volatile("ld.shared::cluster.f32 %0, [%1];" : "=f"(v) : "r"(peer[c] + (unsigned)(t * 64 + r) * 4));
        s += v;
      }
#endif
      if (t < T) scatter(qkv, z, b, a, t, n, s);
    }
  }
#if !(DIAG & 2)
  // No CTA leaves (freeing its shared memory) while another may still read it.
  asm volatile("barrier.cluster.arrive.release.aligned; barrier.cluster.wait.acquire.aligned;" ::: "memory");
#endif
}
