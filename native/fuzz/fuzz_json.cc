// The JSON reader every header, index and quant state goes through: whatever it parses must dump to text
// that parses back to the same dump (compact and indented).
#include <cstdio>
#include <cstdlib>

#include "io/json.h"

using namespace quantstudio;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json::Value v;
  try {
    v = json::Parse(reinterpret_cast<const char*>(data), size);
  } catch (const json::ParseError&) {
    return 0;
  }
  const std::string compact = v.Dump();
  try {
    if (json::Parse(compact).Dump() != compact || json::Parse(v.Dump(2)).Dump() != compact) {
      std::fprintf(stderr, "dump does not round-trip: %s\n", compact.c_str());
      std::abort();
    }
  } catch (const json::ParseError& e) {
    std::fprintf(stderr, "dump does not parse back (%s): %s\n", e.what(), compact.c_str());
    std::abort();
  }
  return 0;
}
