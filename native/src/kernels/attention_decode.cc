#include "kernels/attention_decode.h"

#include <algorithm>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/cpu.h"
#include "kernels/elementwise.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define QS_X86 1
#define QS_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace quantstudio::kernels {
namespace {

// Query rows that read the same kv head are processed together in tiles of this many (query heads of one
// GQA group × token rows), so each K and V row loaded serves the whole tile. Four rows × two 8-float
// registers keep the PV accumulators in registers.
constexpr int64_t kTileRows = 4;

// Below this many multiply-adds per chunk, waking the thread pool costs more than the work.
constexpr int64_t kMinMacsPerChunk = int64_t{1} << 18;

// One tile: `rows` query vectors (pre-scaled) and where their scores and outputs go.
struct Tile {
  int64_t rows = 0;
  const float* q[kTileRows];
  float* scores[kTileRows];  // room for every visible position; the first `until` are used
  float* out[kTileRows];
  int64_t from[kTileRows];  // row r sees positions from[r] .. seen[r]-1 (from > 0 under a sliding window)
  int64_t seen[kTileRows];
  int64_t until = 0;  // the largest seen: scores and values are swept up to here
};

// A cached element as fp32: the cache holds floats or IEEE halves (uint16_t bits).
inline float Widen(float x) { return x; }
inline float Widen(uint16_t h) { return F16ToF32(h); }

// scores[r][t] = q[r] · k[t] for t < until (positions past seen[r] are zeroed later by the softmax step).
template <typename T>
void ScoresPortable(const Tile& tile, const T* k, int64_t d) {
  for (int64_t t = 0; t < tile.until; ++t) {
    const T* kt = k + t * d;
    for (int64_t r = 0; r < tile.rows; ++r) {
      float dot = 0.0f;
      for (int64_t j = 0; j < d; ++j) dot += tile.q[r][j] * Widen(kt[j]);
      tile.scores[r][t] = dot;
    }
  }
}

// out[r] = Σ_t p[r][t] · v[t] over the positions row r sees.
template <typename T>
void WeightedValuesPortable(const Tile& tile, const T* v, int64_t d) {
  for (int64_t r = 0; r < tile.rows; ++r) {
    float* o = tile.out[r];
    std::fill(o, o + d, 0.0f);
    for (int64_t t = tile.from[r]; t < tile.seen[r]; ++t) {
      const float p = tile.scores[r][t];
      const T* vt = v + t * d;
      for (int64_t j = 0; j < d; ++j) o[j] += p * Widen(vt[j]);
    }
  }
}

#ifdef QS_X86
// Lane j of the result = the horizontal sum of a[j].
QS_AVX2 inline __m256 SumEachOf8(const __m256 a[8]) {
  const __m256 s0123 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 s4567 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20), _mm256_permute2f128_ps(s0123, s4567, 0x31));
}

QS_AVX2 inline float SumOf(__m256 a) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// Eight cached elements as fp32 (F16C widens halves exactly).
QS_AVX2 inline __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
QS_AVX2 inline __m256 Load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// d % 8 == 0. Eight keys at a time: the block of K rows stays in L1 while every row of the tile sweeps it.
template <typename T>
QS_AVX2 void ScoresAvx2(const Tile& tile, const T* k, int64_t d) {
  int64_t t = 0;
  for (; t + 8 <= tile.until; t += 8) {
    const T* kb = k + t * d;
    for (int64_t r = 0; r < tile.rows; ++r) {
      __m256 acc[8];
      for (auto& a : acc) a = _mm256_setzero_ps();
      for (int64_t j = 0; j < d; j += 8) {
        const __m256 qv = _mm256_loadu_ps(tile.q[r] + j);
        for (int u = 0; u < 8; ++u) acc[u] = _mm256_fmadd_ps(qv, Load8(kb + u * d + j), acc[u]);
      }
      _mm256_storeu_ps(tile.scores[r] + t, SumEachOf8(acc));
    }
  }
  for (; t < tile.until; ++t) {
    for (int64_t r = 0; r < tile.rows; ++r) {
      __m256 acc = _mm256_setzero_ps();
      for (int64_t j = 0; j < d; j += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(tile.q[r] + j), Load8(k + t * d + j), acc);
      tile.scores[r][t] = SumOf(acc);
    }
  }
}

// Columns [col, col + 8·REGS) of every row's output, accumulated in registers over the V rows: each V chunk
// loaded once feeds all ROWS rows. Scores past a row's seen count are zero, so every row runs to the longest.
template <int ROWS, int REGS, typename T>
QS_AVX2 void WeightedValuesColumnsAvx2(const Tile& tile, const T* v, int64_t d, int64_t col) {
  __m256 acc[ROWS][REGS];
  for (auto& row : acc)
    for (auto& a : row) a = _mm256_setzero_ps();
  for (int64_t t = 0; t < tile.until; ++t) {
    __m256 vt[REGS];
    for (int c = 0; c < REGS; ++c) vt[c] = Load8(v + t * d + col + 8 * c);
    for (int r = 0; r < ROWS; ++r) {
      const __m256 p = _mm256_broadcast_ss(tile.scores[r] + t);
      for (int c = 0; c < REGS; ++c) acc[r][c] = _mm256_fmadd_ps(p, vt[c], acc[r][c]);
    }
  }
  for (int r = 0; r < ROWS; ++r)
    for (int c = 0; c < REGS; ++c) _mm256_storeu_ps(tile.out[r] + col + 8 * c, acc[r][c]);
}

template <int ROWS, typename T>
QS_AVX2 void WeightedValuesRowsAvx2(const Tile& tile, const T* v, int64_t d) {
  int64_t col = 0;
  for (; col + 16 <= d; col += 16) WeightedValuesColumnsAvx2<ROWS, 2>(tile, v, d, col);
  if (col < d) WeightedValuesColumnsAvx2<ROWS, 1>(tile, v, d, col);
}

// d % 8 == 0.
template <typename T>
void WeightedValuesAvx2(const Tile& tile, const T* v, int64_t d) {
  static_assert(kTileRows == 4, "one instantiation per tile height");
  switch (tile.rows) {
    case 1: return WeightedValuesRowsAvx2<1>(tile, v, d);
    case 2: return WeightedValuesRowsAvx2<2>(tile, v, d);
    case 3: return WeightedValuesRowsAvx2<3>(tile, v, d);
    default: return WeightedValuesRowsAvx2<4>(tile, v, d);
  }
}
#endif  // QS_X86

// Softmax over the positions each row sees (soft-capped first where the model caps); the rest (up to the
// tile's sweep) get zero weight.
void NormaliseScores(const Tile& tile, float softcap) {
  for (int64_t r = 0; r < tile.rows; ++r) {
    if (softcap > 0.0f) Softcap(tile.scores[r] + tile.from[r], tile.seen[r] - tile.from[r], softcap);
    Softmax(tile.scores[r] + tile.from[r], tile.seen[r] - tile.from[r]);
    std::fill(tile.scores[r], tile.scores[r] + tile.from[r], 0.0f);
    std::fill(tile.scores[r] + tile.seen[r], tile.scores[r] + tile.until, 0.0f);
  }
}

template <typename T>
void AttendTile(const Tile& tile, const T* k, const T* v, int64_t d, float softcap) {
#ifdef QS_X86
  if (UseAvx2() && d % 8 == 0) {
    ScoresAvx2(tile, k, d);
    NormaliseScores(tile, softcap);
    WeightedValuesAvx2(tile, v, d);
    return;
  }
#endif
  ScoresPortable(tile, k, d);
  NormaliseScores(tile, softcap);
  WeightedValuesPortable(tile, v, d);
}

}  // namespace

void AttentionDecode(const float* q, int64_t m, int64_t pos0, const KvRows& kv, const AttentionShape& s, float scale,
                     float* out) {
  const int64_t group = s.heads / s.kvHeads, d = s.headDim, width = s.heads * d, visible = pos0 + m;
  // The rows of one kv head, numbered r = token row · group + query head within the group and cut into
  // tiles: a tile holds every query head of the group for consecutive tokens, so they share K/V rows.
  const int64_t rowsPerKvHead = group * m;
  const int64_t tilesPerKvHead = (rowsPerKvHead + kTileRows - 1) / kTileRows;
  const int64_t macsPerTile = 2 * kTileRows * visible * d;
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kMinMacsPerChunk / macsPerTile));
  DefaultThreadPool().ParallelFor(static_cast<size_t>(s.kvHeads * tilesPerKvHead), grain,
                                  [&](size_t begin, size_t end) {
                                    std::vector<float> scaledQ(static_cast<size_t>(kTileRows * d)),
                                        scores(static_cast<size_t>(kTileRows * visible));
                                    for (size_t unit = begin; unit < end; ++unit) {
                                      const int64_t g = static_cast<int64_t>(unit) / tilesPerKvHead;
                                      const int64_t first = (static_cast<int64_t>(unit) % tilesPerKvHead) * kTileRows;
                                      Tile tile{};
                                      tile.rows = std::min(kTileRows, rowsPerKvHead - first);
                                      for (int64_t r = 0; r < tile.rows; ++r) {
                                        const int64_t h = g * group + (first + r) % group, i = (first + r) / group;
                                        const float* qr = q + i * width + h * d;
                                        float* qs = scaledQ.data() + r * d;
                                        for (int64_t j = 0; j < d; ++j) qs[j] = qr[j] * scale;
                                        tile.q[r] = qs;
                                        tile.scores[r] = scores.data() + r * visible;
                                        tile.out[r] = out + i * width + h * d;
                                        tile.seen[r] = pos0 + i + 1;
                                        tile.from[r] = FirstVisible(pos0 + i, s.window);
                                        tile.until = std::max(tile.until, tile.seen[r]);
                                      }
                                      // The sweep starts at the earliest position any row sees: positions are counted
                                      // from there.
                                      int64_t start = tile.from[0];
                                      for (int64_t r = 1; r < tile.rows; ++r) start = std::min(start, tile.from[r]);
                                      for (int64_t r = 0; r < tile.rows; ++r) {
                                        tile.from[r] -= start;
                                        tile.seen[r] -= start;
                                      }
                                      tile.until -= start;
                                      const size_t base = static_cast<size_t>((g * s.capacity + start) * d);
                                      if (kv.dtype == DType::F16) {
                                        AttendTile(tile, static_cast<const uint16_t*>(kv.keys) + base,
                                                   static_cast<const uint16_t*>(kv.values) + base, d, s.softcap);
                                      } else {
                                        AttendTile(tile, static_cast<const float*>(kv.keys) + base,
                                                   static_cast<const float*>(kv.values) + base, d, s.softcap);
                                      }
                                    }
                                  });
}

}  // namespace quantstudio::kernels
