// Arguments shared by the runtime bindings (runtime_binding.cc, runtime_batch_binding.cc): the model handle
// runtimeOpen returns and token id arrays.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/model.h"

namespace quantstudio::bindings {

using ModelPtr = std::shared_ptr<const runtime::Model>;

/** Throws a JS TypeError unless v is a handle from runtimeOpen. */
ModelPtr ModelFrom(const Napi::Value& v);
/** Throws a JS TypeError unless v is an Int32Array. */
std::vector<int32_t> IdsFrom(const Napi::Value& v);

}  // namespace quantstudio::bindings
