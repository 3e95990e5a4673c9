// The one cancel signal of every long job: a word shared with JS (cancel[0] of an Int32Array, raised by
// native/lib's cancel helpers when an AbortSignal fires), read atomically by worker threads. Null: never raised.
#pragma once

#include <cstdint>

namespace quantstudio {

inline bool CancelRaised(const int32_t* word) {
  return word != nullptr && __atomic_load_n(word, __ATOMIC_RELAXED) != 0;
}

}  // namespace quantstudio
