#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace quantstudio {
namespace {

thread_local bool tInsideRegion = false;
constexpr size_t kChunksPerThread = 4;  // enough slack to rebalance around a descheduled thread
// How long a thread watches for the next region (a worker) or for the last chunk (the caller) before it sleeps:
// longer than the serial work between a decode step's regions, short enough that an idle pool costs nothing.
constexpr auto kSpinTime = std::chrono::microseconds(100);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/** Watches `ready` for kSpinTime; true once it holds. */
template <typename Ready>
bool SpinUntil(const Ready& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    CpuRelax();
    if ((i & 63) == 0 && std::chrono::steady_clock::now() > deadline) return ready();
  }
}

}  // namespace

ThreadPool::ThreadPool(size_t threads) {
  size_t extra = threads > 1 ? threads - 1 : 0;
  for (size_t i = 0; i < extra; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  stopping_ = true;
  { std::lock_guard<std::mutex> lock(sleepMutex_); }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::RecordError(std::exception_ptr error) {
  std::lock_guard<std::mutex> lock(errorMutex_);
  if (!error_) error_ = error;
}

// Takes chunks until none are left; called by the region's caller and by every worker that joined it.
void ThreadPool::RunChunks() {
  for (;;) {
    const size_t chunk = nextChunk_.fetch_add(1);
    if (chunk >= chunks_) break;
    const size_t begin = jobSize_ * chunk / chunks_;
    const size_t end = jobSize_ * (chunk + 1) / chunks_;
    try {
      (*job_)(begin, end);
    } catch (...) {
      RecordError(std::current_exception());
    }
  }
}

void ThreadPool::WakeCaller() {
  if (!callerSleeping_.load()) return;
  std::lock_guard<std::mutex> lock(doneMutex_);
  done_.notify_all();
}

template <typename Ready>
void ThreadPool::AwaitCompletion(const Ready& ready) {
  if (SpinUntil(ready)) return;
  std::unique_lock<std::mutex> lock(doneMutex_);
  callerSleeping_ = true;
  done_.wait(lock, ready);
  callerSleeping_ = false;
}

void ThreadPool::ParallelFor(size_t n, size_t grain, const RangeFn& fn) {
  if (n == 0) return;
  const size_t chunks = std::min(size() * kChunksPerThread, std::max<size_t>(1, n / std::max<size_t>(1, grain)));
  if (chunks <= 1 || size() == 1 || tInsideRegion) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> region(regionMutex_);
  // No worker is inside RunChunks here (the last region waited for them), so the fields can be written.
  job_ = &fn;
  jobSize_ = n;
  chunks_ = chunks;
  nextChunk_ = 0;
  regionOpen_ = true;  // before the generation: a worker that sees the new generation finds the region open
  ++generation_;
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(sleepMutex_);  // a worker between its check and its wait is now waiting
    wake_.notify_all();
  }
  tInsideRegion = true;
  RunChunks();
  tInsideRegion = false;
  // Every chunk is taken; close the region and wait for each worker that joined it to leave RunChunks, which
  // finishes the chunks they hold (and fn must outlive them).
  regionOpen_ = false;
  AwaitCompletion([this] { return activeWorkers_.load() == 0; });
  job_ = nullptr;
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(errorMutex_);
    std::swap(error, error_);
  }
  if (error) std::rethrow_exception(error);
}

uint64_t ThreadPool::AwaitGeneration(uint64_t seen) {
  const auto changed = [&] { return stopping_.load() || generation_.load() != seen; };
  if (!SpinUntil(changed)) {
    std::unique_lock<std::mutex> lock(sleepMutex_);
    ++sleepers_;
    wake_.wait(lock, changed);
    --sleepers_;
  }
  return generation_.load();
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  tInsideRegion = true;
  for (;;) {
    seen = AwaitGeneration(seen);
    if (stopping_) return;
    // Registered before looking: a caller that closes the region after this sees the worker and waits for it; one
    // that closed it before is seen here as a closed region or a newer generation, and the worker stays out.
    ++activeWorkers_;
    if (regionOpen_.load() && generation_.load() == seen) RunChunks();
    --activeWorkers_;
    WakeCaller();
  }
}

ThreadPool& DefaultThreadPool() {
  static ThreadPool pool([] {
    const char* env = std::getenv("QUANTSTUDIO_THREADS");
    long requested = env ? std::strtol(env, nullptr, 10) : 0;
    if (requested > 0) return static_cast<size_t>(requested);
    return std::max<size_t>(1, std::thread::hardware_concurrency());
  }());
  return pool;
}

}  // namespace quantstudio
