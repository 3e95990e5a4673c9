#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "io/json.h"

namespace quantstudio::io {
namespace {

// The reference implementation's limit: a larger header is treated as a corrupt or hostile file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string RangeText(uint64_t b, uint64_t e) { return "[" + std::to_string(b) + ", " + std::to_string(e) + "]"; }

[[noreturn]] void Fail(const std::string& path, const std::string& what) { throw IoError(path + ": " + what); }

/** Why a stat'ed path is not a regular file ("is a directory", ...), or empty when it is one. */
std::string NotRegular(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return "";
  if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
  if (S_ISFIFO(st.st_mode)) return "is a FIFO (named pipe), not a regular file";
  return "is not a regular file";
}

/** Fails when something other than a regular file has the name; a missing path passes. */
void CheckNotOther(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;
  if (const std::string other = NotRegular(st); !other.empty()) Fail(path, other);
}

[[noreturn]] void FailTensor(const std::string& path, const std::string& name, const std::string& what) {
  Fail(path, "tensor " + json::Quote(name) + ": " + what);
}

/** Element count, or -1 when a dimension is negative or the product overflows. */
int64_t ShapeProduct(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > INT64_MAX / d) return -1;
    n *= d;
  }
  return n;
}

struct Entry {
  TensorView view;
  uint64_t begin, end;
};

Entry ParseEntry(const std::string& path, const std::string& name, const json::Value& v) {
  if (!v.isObject()) FailTensor(path, name, "header entry is not an object");
  const json::Value* dtype = v.Get("dtype");
  const json::Value* shape = v.Get("shape");
  const json::Value* offsets = v.Get("data_offsets");
  if (!dtype || !dtype->isString()) FailTensor(path, name, "header entry has no \"dtype\" string");
  if (!shape || !shape->isArray()) FailTensor(path, name, "header entry has no \"shape\" array");
  if (!offsets || !offsets->isArray() || offsets->items().size() != 2) {
    FailTensor(path, name, "header entry has no \"data_offsets\" pair");
  }
  Entry e{};
  e.view.name = name;
  if (!ParseDType(dtype->asString(), &e.view.dtype)) {
    FailTensor(path, name,
               "unsupported dtype " + json::Quote(dtype->asString()) +
                   " (the engine reads F32, F16, BF16, I8, U8, I32, I64); convert the checkpoint first");
  }
  for (const json::Value& d : shape->items()) {
    int64_t n;
    if (!d.toInt64(&n) || n < 0) FailTensor(path, name, "shape holds " + d.asString() + ", not a dimension");
    e.view.shape.push_back(n);
  }
  int64_t b, en;
  if (!offsets->items()[0].toInt64(&b) || !offsets->items()[1].toInt64(&en) || b < 0 || en < b) {
    FailTensor(path, name, "data_offsets are not an ordered pair of byte offsets");
  }
  e.begin = static_cast<uint64_t>(b);
  e.end = static_cast<uint64_t>(en);
  const int64_t numel = ShapeProduct(e.view.shape);
  const uint64_t expected = numel < 0 ? UINT64_MAX : static_cast<uint64_t>(numel) * DTypeSize(e.view.dtype);
  if (numel < 0 || expected != e.end - e.begin) {
    FailTensor(path, name,
               "shape " + ShapeText(e.view.shape) + " of " + DTypeName(e.view.dtype) + " needs " +
                   std::to_string(expected) + " bytes but data_offsets " + RangeText(e.begin, e.end) + " hold " +
                   std::to_string(e.end - e.begin));
  }
  e.view.nbytes = static_cast<size_t>(e.end - e.begin);
  return e;
}

}  // namespace

int64_t TensorView::numel() const { return ShapeProduct(shape); }

std::unique_ptr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  CheckNotOther(path);
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer; the type is checked after the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) Fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    Fail(path, std::string("cannot stat: ") + std::strerror(err));
  }
  if (const std::string other = NotRegular(st); !other.empty()) {
    ::close(fd);
    Fail(path, other);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    Fail(path, "not a safetensors file: " + std::to_string(size) + " bytes is shorter than the 8-byte header length");
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int mapErr = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (mapping == MAP_FAILED) Fail(path, std::string("cannot map: ") + std::strerror(mapErr));
  file->mapping_ = mapping;
  file->mappingSize_ = size;

  const auto* bytes = static_cast<const uint8_t*>(mapping);
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > kMaxHeaderBytes) {
    Fail(path, "header length " + std::to_string(headerLen) +
                   " exceeds the 100 MB limit; the file is corrupt or not a safetensors file");
  }
  if (8 + headerLen > size) {
    Fail(path, "header length " + std::to_string(headerLen) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes); the file is truncated");
  }
  if (headerLen == 0 || bytes[8] != '{') Fail(path, "header does not start with '{'; not a safetensors file");
  json::Value header;
  try {
    header = json::Parse(reinterpret_cast<const char*>(bytes + 8), headerLen);
  } catch (const json::ParseError& e) {
    Fail(path, std::string("header: ") + e.what());
  }
  if (!header.isObject()) Fail(path, "header is not a JSON object");

  const uint8_t* buffer = bytes + 8 + headerLen;
  const uint64_t bufferSize = size - 8 - headerLen;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.members()) {
    if (name == "__metadata__") {
      if (!value.isObject()) Fail(path, "__metadata__ is not an object of strings");
      for (const auto& [k, v] : value.members()) {
        if (!v.isString()) Fail(path, "__metadata__ value of " + json::Quote(k) + " is not a string");
        file->metadata_[k] = v.asString();
      }
      continue;
    }
    Entry e = ParseEntry(path, name, value);
    if (e.end > bufferSize) {
      FailTensor(path, name,
                 "data_offsets " + RangeText(e.begin, e.end) + " lie outside the data buffer (" +
                     std::to_string(bufferSize) + " bytes); the file is truncated or corrupt");
    }
    e.view.data = buffer + e.begin;
    entries.push_back(std::move(e));
  }
  // The tensors must tile the buffer exactly: sorted by offset, no overlap, no gap, nothing after.
  std::vector<const Entry*> byOffset;
  for (const Entry& e : entries) byOffset.push_back(&e);
  std::stable_sort(byOffset.begin(), byOffset.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : byOffset) {
    if (e->begin < cursor) {
      Fail(path, "tensors " + json::Quote(previous->view.name) + " and " + json::Quote(e->view.name) +
                     " overlap (data_offsets " + RangeText(previous->begin, previous->end) + " and " +
                     RangeText(e->begin, e->end) + ")");
    }
    if (e->begin > cursor) {
      FailTensor(path, e->view.name,
                 "data starts at byte " + std::to_string(e->begin) + " but the previous tensor ends at byte " +
                     std::to_string(cursor) + " (a gap in the data buffer)");
    }
    cursor = e->end;
    previous = e;
  }
  if (cursor != bufferSize) {
    Fail(path, "tensors cover " + std::to_string(cursor) + " bytes but the data buffer holds " +
                   std::to_string(bufferSize) + " bytes");
  }
  for (Entry& e : entries) {
    file->index_[e.view.name] = file->tensors_.size();
    file->tensors_.push_back(std::move(e.view));
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, mappingSize_);
}

void SafetensorsFile::ReleasePages(const uint8_t* data, size_t nbytes) const {
  const auto* base = static_cast<const uint8_t*>(mapping_);
  if (mapping_ == nullptr || data < base || data + nbytes > base + mappingSize_) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + nbytes) / page * page;
  // Only pages no other tensor shares; the mapping is read-only, so nothing written is lost.
  if (end > first) ::madvise(reinterpret_cast<void*>(first), end - first, MADV_DONTNEED);
}

const TensorView* SafetensorsFile::Find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

// ---- ModelWeights ----

namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(path, std::string("cannot read: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<ModelWeights> ModelWeights::Open(const std::string& folder) {
  std::unique_ptr<ModelWeights> weights(new ModelWeights());
  weights->source_ = folder;
  auto addFile = [&](const std::string& path) -> SafetensorsFile& {
    weights->files_.push_back(SafetensorsFile::Open(path));
    return *weights->files_.back();
  };
  if (IsFile(folder)) {  // a single .safetensors file given directly
    for (const TensorView& t : addFile(folder).tensors()) weights->index_[t.name] = &t;
    return weights;
  }
  const std::string indexPath = folder + "/model.safetensors.index.json";
  const std::string singlePath = folder + "/model.safetensors";
  CheckNotOther(indexPath);
  if (IsFile(indexPath)) {
    json::Value index;
    try {
      index = json::Parse(ReadText(indexPath));
    } catch (const json::ParseError& e) {
      Fail(indexPath, e.what());
    }
    const json::Value* map = index.Get("weight_map");
    if (!map || !map->isObject()) Fail(indexPath, "has no \"weight_map\" object");
    std::map<std::string, SafetensorsFile*> shards;
    for (const auto& [tensor, shardName] : map->members()) {
      if (!shardName.isString()) Fail(indexPath, "weight_map entry " + json::Quote(tensor) + " is not a file name");
      const std::string& shard = shardName.asString();
      if (shard.find('/') != std::string::npos || shard == "..") {
        Fail(indexPath, "weight_map entry " + json::Quote(tensor) + " names " + json::Quote(shard) +
                            ", which is not a file in the model folder");
      }
      auto it = shards.find(shard);
      if (it == shards.end()) {
        const std::string shardPath = folder + "/" + shard;
        CheckNotOther(shardPath);
        if (!IsFile(shardPath)) {
          Fail(indexPath, "shard " + json::Quote(shard) + " (holding tensor " + json::Quote(tensor) +
                              ") is missing from the model folder; download it again");
        }
        it = shards.emplace(shard, &addFile(shardPath)).first;
      }
      const TensorView* view = it->second->Find(tensor);
      if (view == nullptr) {
        Fail(indexPath, "tensor " + json::Quote(tensor) + " is listed in shard " + json::Quote(shard) +
                            " but that shard does not hold it");
      }
      weights->index_[tensor] = view;
    }
    return weights;
  }
  CheckNotOther(singlePath);
  if (IsFile(singlePath)) {
    for (const TensorView& t : addFile(singlePath).tensors()) weights->index_[t.name] = &t;
    return weights;
  }
  Fail(folder, "no model.safetensors or model.safetensors.index.json; point to a folder with safetensors weights");
}

const TensorView* ModelWeights::Find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

void ModelWeights::ReleasePages(const std::string& name) const {
  const TensorView* view = Find(name);
  if (view != nullptr) ReleasePages(view->data, view->nbytes);
}

void ModelWeights::ReleasePages(const uint8_t* data, size_t nbytes) const {
  for (const auto& file : files_) file->ReleasePages(data, nbytes);
}

const TensorView& ModelWeights::Get(const std::string& name) const {
  const TensorView* view = Find(name);
  if (view == nullptr) {
    throw IoError(source_ + ": tensor " + json::Quote(name) +
                  " not found in the weights; the model does not match its config");
  }
  return *view;
}

std::vector<const TensorView*> ModelWeights::All() const {
  std::vector<const TensorView*> all;
  for (const auto& [name, view] : index_) all.push_back(view);
  return all;
}

// ---- writing ----

namespace {

void WriteAll(int fd, const std::string& path, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0) {
      if (errno == EINTR) continue;
      Fail(path, std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

std::string SafetensorsHeader(const std::vector<TensorSpec>& sorted,
                              const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [k, v] : metadata) {
      if (!first) header += ',';
      header += json::Quote(k) + ":" + json::Quote(v);
      first = false;
    }
    header += "}";
    first = false;
  }
  uint64_t offset = 0;
  for (const TensorSpec& t : sorted) {
    if (!first) header += ',';
    first = false;
    header += json::Quote(t.name) + ":{\"dtype\":\"" + DTypeName(t.dtype) + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.nbytes) + "]}";
    offset += t.nbytes;
  }
  header += "}";
  // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

void WriteSafetensors(const std::string& path, const std::vector<TensorSpec>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  WriteSafetensors(path, tensors, metadata, nullptr);
}

void WriteSafetensors(const std::string& path, const std::vector<TensorSpec>& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::function<void(size_t written, size_t total)>& afterTensor) {
  std::vector<TensorSpec> sorted = tensors;
  std::sort(sorted.begin(), sorted.end(), [](const TensorSpec& a, const TensorSpec& b) { return a.name < b.name; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const TensorSpec& t = sorted[i];
    if (t.name == "__metadata__") FailTensor(path, t.name, "is a reserved name");
    if (i > 0 && sorted[i - 1].name == t.name) FailTensor(path, t.name, "is given twice");
    const int64_t numel = ShapeProduct(t.shape);
    if (numel < 0 || static_cast<uint64_t>(numel) * DTypeSize(t.dtype) != t.nbytes) {
      FailTensor(path, t.name,
                 "shape " + ShapeText(t.shape) + " of " + DTypeName(t.dtype) + " does not match its " +
                     std::to_string(t.nbytes) + " bytes of data");
    }
  }
  const std::string header = SafetensorsHeader(sorted, metadata);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Fail(path, std::string("cannot create: ") + std::strerror(errno));
  try {
    uint8_t length[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i, n >>= 8) length[i] = static_cast<uint8_t>(n & 0xff);
    WriteAll(fd, path, length, 8);
    WriteAll(fd, path, header.data(), header.size());
    for (size_t i = 0; i < sorted.size(); ++i) {
      WriteAll(fd, path, sorted[i].data, sorted[i].nbytes);
      if (afterTensor) afterTensor(i + 1, sorted.size());
    }
    if (::fsync(fd) != 0) Fail(path, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(path.c_str());
    Fail(path, std::string("close failed: ") + std::strerror(errno));
  }
}

}  // namespace quantstudio::io
