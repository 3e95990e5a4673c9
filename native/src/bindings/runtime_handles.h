// Arguments shared by the runtime bindings (runtime_binding.cc, runtime_batch_binding.cc): the model handle
// runtimeOpen returns, token id arrays and the cancel flags of runtimeCancelFlag.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/model.h"

namespace quantstudio::bindings {

using ModelPtr = std::shared_ptr<const runtime::Model>;
using CancelFlag = std::shared_ptr<std::atomic<bool>>;

/** Throws a JS TypeError unless v is a handle from runtimeOpen. */
ModelPtr ModelFrom(const Napi::Value& v);
/** Throws a JS TypeError unless v is an Int32Array. */
std::vector<int32_t> IdsFrom(const Napi::Value& v);
/** The flag v holds, or a fresh one that nobody raises when v is not a flag. */
CancelFlag CancelFrom(const Napi::Value& v);

}  // namespace quantstudio::bindings
