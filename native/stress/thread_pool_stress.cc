// Stress of core/thread_pool under ThreadSanitizer (test/native/threadPool.test.ts builds and runs it): regions of
// random sizes back to back and with pauses long enough for the workers to fall asleep, each index run exactly
// once, a chunk's exception rethrown to the caller after the region, a region inside a region run inline, and
// regions started from two threads at once. Prints "ok <regions>" and exits 0, or names the first violation.
//   thread_pool_stress <threads> <regions>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/thread_pool.h"

using quantstudio::ThreadPool;

namespace {

bool OneRegion(ThreadPool& pool, std::vector<int>& hits, size_t n) {
  std::fill(hits.begin(), hits.begin() + static_cast<long>(n), 0);
  pool.ParallelFor(n, 16, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) ++hits[i];
  });
  for (size_t i = 0; i < n; ++i) {
    if (hits[i] != 1) {
      std::printf("index %zu of %zu ran %d times\n", i, n, hits[i]);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::printf("usage: thread_pool_stress <threads> <regions>\n");
    return 2;
  }
  const size_t threads = std::strtoul(argv[1], nullptr, 10);
  const int regions = std::atoi(argv[2]);
  ThreadPool pool(threads);
  std::vector<int> hits(5000);
  unsigned seed = 1;
  for (int r = 0; r < regions; ++r) {
    seed = seed * 1103515245u + 12345u;
    if (!OneRegion(pool, hits, 1 + (seed >> 8) % hits.size())) return 1;
    if (r % 200 == 7) {
      bool rethrown = false;
      try {
        pool.ParallelFor(1000, 1, [](size_t b, size_t) {
          if (b == 0) throw std::runtime_error("chunk 0");
        });
      } catch (const std::runtime_error&) {
        rethrown = true;
      }
      if (!rethrown) {
        std::printf("region %d: a chunk's exception was not rethrown\n", r);
        return 1;
      }
    }
    if (r % 200 == 11) {
      size_t inner = 0;
      pool.ParallelFor(64, 1, [&](size_t b, size_t e) {
        pool.ParallelFor(100, 1, [&](size_t ib, size_t ie) {
          if (ib != 0 || ie != 100) throw std::logic_error("a nested region was split");
        });
        if (b == 0) inner = e;
      });
      if (inner == 0) return 1;
    }
    // Longer than the workers watch for the next region: they sleep, and the next region must wake them.
    if (r % 100 == 3) std::this_thread::sleep_for(std::chrono::microseconds(400));
  }
  // Two callers at once: their regions are serialised, each still runs every index once.
  std::vector<int> other(5000);
  bool okA = true, okB = true;
  std::thread a([&] {
    for (int r = 0; r < regions / 10; ++r) okA = okA && OneRegion(pool, hits, 4000);
  });
  std::thread b([&] {
    for (int r = 0; r < regions / 10; ++r) okB = okB && OneRegion(pool, other, 3000);
  });
  a.join();
  b.join();
  if (!okA || !okB) return 1;
  std::printf("ok %d\n", regions);
  return 0;
}
