// One pool of worker threads for every kernel, sized from the machine. A parallel region cuts an index
// range into chunks that the calling thread and the workers take from a shared counter, so a worker the
// OS has descheduled (a busy machine) delays nobody: the others take its share.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quantstudio {

class ThreadPool {
 public:
  using RangeFn = std::function<void(size_t begin, size_t end)>;

  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }

  /** Runs fn over [0, n) in chunks of at least `grain` items; returns when all are done. Regions from
   *  different threads are serialised; a region started inside a region runs inline. An exception thrown
   *  by a chunk is rethrown here once every chunk has finished. */
  void ParallelFor(size_t n, size_t grain, const RangeFn& fn);

 private:
  void WorkerLoop();
  void RunChunks();
  void RecordError(std::exception_ptr error);

  std::vector<std::thread> workers_;
  std::mutex regionMutex_;  // one region at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // The current region; written under mutex_ while no worker holds it.
  const RangeFn* job_ = nullptr;
  size_t jobSize_ = 0;
  size_t chunks_ = 0;
  std::atomic<size_t> nextChunk_{0};
  size_t chunksDone_ = 0;     // under mutex_
  size_t activeWorkers_ = 0;  // workers inside RunChunks, under mutex_
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;  // first exception of the current region
};

/** The process-wide pool: QUANTSTUDIO_THREADS when set, else one thread per hardware thread. */
ThreadPool& DefaultThreadPool();

}  // namespace quantstudio
