// The sharded index reader: the input is model.safetensors.index.json, beside two real shards. Whatever
// ModelWeights accepts must resolve every listed tensor to a view of its shard.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "io/safetensors.h"

using namespace quantstudio;

namespace {

std::string folderMade;

void RemoveFolder() {
  for (const char* f :
       {"/model-00001-of-00002.safetensors", "/model-00002-of-00002.safetensors", "/model.safetensors.index.json"}) {
    ::unlink((folderMade + f).c_str());
  }
  ::rmdir(folderMade.c_str());
}

std::string MakeFolder() {
  char tmpl[] = "/tmp/fuzz-index-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  const std::string folder = tmpl;
  const float a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, c[3] = {7, 8, 9};
  io::WriteSafetensors(folder + "/model-00001-of-00002.safetensors",
                       {{"a.weight", DType::F32, {2, 2}, a, sizeof a}, {"b.weight", DType::F32, {2}, b, sizeof b}}, {});
  io::WriteSafetensors(folder + "/model-00002-of-00002.safetensors", {{"c.weight", DType::F32, {3}, c, sizeof c}},
                       {{"format", "pt"}});
  folderMade = folder;
  std::atexit(RemoveFolder);
  return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string folder = MakeFolder();
  {
    std::ofstream out(folder + "/model.safetensors.index.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::unique_ptr<io::ModelWeights> weights;
  try {
    weights = io::ModelWeights::Open(folder);
  } catch (const io::IoError&) {
    return 0;
  }
  for (const io::TensorView* t : weights->All()) {
    if (weights->Find(t->name) != t || &weights->Get(t->name) != t) {
      std::fprintf(stderr, "index resolves %s to another view\n", t->name.c_str());
      std::abort();
    }
  }
  return 0;
}
