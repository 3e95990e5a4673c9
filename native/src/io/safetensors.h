// safetensors I/O. Reading maps the file (zero copy): a TensorView points into the mapping and stays
// valid while its file is open. Writing streams: the header is computed from the tensor specs first,
// then tensors are appended in order, then the file is fsynced.
//
// Format: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[b,e]},
// "__metadata__": {str: str}}, then the data buffer; offsets are relative to the buffer's start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace quantstudio::io {

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data;  // into the mapping; not necessarily aligned
  size_t nbytes;

  int64_t numel() const;
};

/** Thrown by the readers and writers; the message names the file and the tensor or header field. */
struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** One mapped .safetensors file. Validates the header on open: size cap (100 MB), offsets inside the
 *  buffer, no overlaps, shape × dtype size = byte length, known dtypes only. */
class SafetensorsFile {
 public:
  static std::unique_ptr<SafetensorsFile> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /** nullptr when absent. */
  const TensorView* Find(const std::string& name) const;
  /** Drops the pages that lie wholly inside [data, data + nbytes) from the process's resident set: for a tensor
   *  read once into another form. Reading it again faults them back in from the file. No-op outside this file. */
  void ReleasePages(const uint8_t* data, size_t nbytes) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* mapping_ = nullptr;
  size_t mappingSize_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

/** All weights of a model folder: model.safetensors, or the shards named by model.safetensors.index.json. */
class ModelWeights {
 public:
  static std::unique_ptr<ModelWeights> Open(const std::string& folder);
  /** nullptr when absent. */
  const TensorView* Find(const std::string& name) const;
  /** Throws IoError naming the tensor and the folder when absent. */
  const TensorView& Get(const std::string& name) const;
  std::vector<const TensorView*> All() const;
  /** SafetensorsFile::ReleasePages on the file holding `name` (a loader that keeps its own copy of the tensor). */
  void ReleasePages(const std::string& name) const;
  /** The same for bytes known by address (a matrix a caller replaced by another form). */
  void ReleasePages(const uint8_t* data, size_t nbytes) const;

 private:
  std::string source_;  // the folder or file opened, for messages
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

/** A tensor to write: the bytes are copied out at Write time, so the source may be a mapping or a buffer. */
struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};

/** Writes one safetensors file (tensors sorted by name, as the reference writer does), fsynced. */
void WriteSafetensors(const std::string& path, const std::vector<TensorSpec>& tensors,
                      const std::map<std::string, std::string>& metadata);

/** As above, calling afterTensor(written, total) after each tensor; whatever it throws (e.g. on
 *  cancellation) removes the partial file and propagates. */
void WriteSafetensors(const std::string& path, const std::vector<TensorSpec>& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::function<void(size_t written, size_t total)>& afterTensor);

/** The padded JSON header WriteSafetensors writes for tensors already sorted by name (exposed for tests). */
std::string SafetensorsHeader(const std::vector<TensorSpec>& sortedTensors,
                              const std::map<std::string, std::string>& metadata);

}  // namespace quantstudio::io
