// One pool of worker threads for every kernel, sized from the machine. A parallel region cuts an index
// range into chunks that the calling thread and the workers take from a shared counter, so a worker the
// OS has descheduled (a busy machine) delays nobody: the others take its share.
// Decode hands the pool about a hundred small regions a token, tens of microseconds apart, so a worker that
// has finished one keeps watching for the next for a short while (kSpinTime) before it sleeps, and the caller
// waits for the region's last chunk by watching before it sleeps: a futex wake-up and a contended mutex per
// region cost about what a 16-thread share of a 4-bit linear does.
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
  /** Waits for a generation other than `seen` (or stopping): watches for a while, then sleeps. */
  uint64_t AwaitGeneration(uint64_t seen);
  void RunChunks();
  void RecordError(std::exception_ptr error);
  /** The caller's wait for `ready` (its workers leaving the region): watches, then sleeps on done_. */
  template <typename Ready>
  void AwaitCompletion(const Ready& ready);
  /** Wakes a caller asleep in AwaitCompletion (a worker calls it after leaving a region). */
  void WakeCaller();

  std::vector<std::thread> workers_;
  std::mutex regionMutex_;  // one region at a time
  // The current region's fields, written by its caller before generation_ is raised and read by a worker only
  // after it has registered in activeWorkers_ and seen regionOpen_ with generation_ unchanged.
  const RangeFn* job_ = nullptr;
  size_t jobSize_ = 0;
  size_t chunks_ = 0;
  std::atomic<size_t> nextChunk_{0};
  std::atomic<size_t> activeWorkers_{0};  // workers inside RunChunks
  std::atomic<bool> regionOpen_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  // Sleeping workers: a caller that raises generation_ while any sleep wakes them under sleepMutex_.
  std::atomic<size_t> sleepers_{0};
  std::mutex sleepMutex_;
  std::condition_variable wake_;
  // A caller asleep in AwaitCompletion: a worker that leaves a region wakes it under doneMutex_.
  std::atomic<bool> callerSleeping_{false};
  std::mutex doneMutex_;
  std::condition_variable done_;
  std::mutex errorMutex_;
  std::exception_ptr error_;  // first exception of the current region
};

/** The process-wide pool: QUANTSTUDIO_THREADS when set, else one thread per hardware thread. */
ThreadPool& DefaultThreadPool();

}  // namespace quantstudio
