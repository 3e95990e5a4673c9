// The runtime's model shape from the plain object native/model/runtimeConfig.ts builds (shared by the
// runtime and pipeline bindings).
#pragma once

#include <napi.h>

#include "runtime/model_config.h"

namespace quantstudio::bindings {

int64_t RequireInt(const Napi::Object& o, const char* key);
double OptionalNumber(const Napi::Object& o, const char* key, double fallback);
bool OptionalBool(const Napi::Object& o, const char* key, bool fallback);

/** Throws a JS TypeError naming the field when one is missing or mistyped. */
runtime::ModelConfig ReadModelConfig(const Napi::Object& o);

}  // namespace quantstudio::bindings
