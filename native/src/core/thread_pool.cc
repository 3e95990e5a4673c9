#include "core/thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace quantstudio {
namespace {

thread_local bool tInsideRegion = false;
constexpr size_t kChunksPerThread = 4;  // enough slack to rebalance around a descheduled thread

}  // namespace

ThreadPool::ThreadPool(size_t threads) {
  size_t extra = threads > 1 ? threads - 1 : 0;
  for (size_t i = 0; i < extra; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::RecordError(std::exception_ptr error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error_) error_ = error;
}

// Takes chunks until none are left; called by the region's caller and by every woken worker.
void ThreadPool::RunChunks() {
  size_t finished = 0;
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
    ++finished;
  }
  if (finished > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    chunksDone_ += finished;
  }
}

void ThreadPool::ParallelFor(size_t n, size_t grain, const RangeFn& fn) {
  if (n == 0) return;
  const size_t chunks = std::min(size() * kChunksPerThread, std::max<size_t>(1, n / std::max<size_t>(1, grain)));
  if (chunks <= 1 || size() == 1 || tInsideRegion) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> region(regionMutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    jobSize_ = n;
    chunks_ = chunks;
    nextChunk_ = 0;
    chunksDone_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  tInsideRegion = true;
  RunChunks();
  tInsideRegion = false;
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // Every chunk done and no worker still holding this region's job (fn must outlive them).
    done_.wait(lock, [this] { return chunksDone_ == chunks_ && activeWorkers_ == 0; });
    job_ = nullptr;
    std::swap(error, error_);
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  tInsideRegion = true;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (job_ == nullptr) continue;  // woke after the region ended
      ++activeWorkers_;
    }
    RunChunks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --activeWorkers_;
    }
    done_.notify_all();
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
