// The safetensors reader on whole files: the input is the file (length prefix, JSON header, data), held in
// a memfd so the reader's stat/open/mmap path runs unchanged. Whatever it accepts must tile the data
// buffer exactly, with each tensor's bytes matching its shape and dtype.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "formats/tensor_set.h"
#include "io/safetensors.h"

using namespace quantstudio;

namespace {

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "accepted safetensors file breaks an invariant: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz.safetensors", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  std::unique_ptr<io::SafetensorsFile> file;
  try {
    file = io::SafetensorsFile::Open(path);
  } catch (const io::IoError&) {
    return 0;
  }
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | data[i];
  std::vector<std::pair<const uint8_t*, size_t>> ranges;
  for (const io::TensorView& t : file->tensors()) {
    if (t.numel() < 0 || static_cast<uint64_t>(t.numel()) * DTypeSize(t.dtype) != t.nbytes)
      Broken("bytes != shape x dtype");
    if (file->Find(t.name) != &t) Broken("Find does not return the tensor");
    ranges.emplace_back(t.data, t.nbytes);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < t.nbytes; ++i) sink = sink ^ t.data[i];
    if (t.dtype == DType::F32 || t.dtype == DType::F16 || t.dtype == DType::BF16) {
      if (formats::ReadFloats(t).size() != static_cast<size_t>(t.numel())) Broken("ReadFloats size");
    }
  }
  std::sort(ranges.begin(), ranges.end());
  size_t covered = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0 && ranges[i - 1].first + ranges[i - 1].second != ranges[i].first)
      Broken("tensors do not tile the buffer");
    covered += ranges[i].second;
  }
  if (covered != size - 8 - headerLen) Broken("tensors do not cover the data buffer");
  return 0;
}
