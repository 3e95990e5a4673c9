#include "pipeline/checkpoint_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace quantstudio::pipeline {
namespace fs = std::filesystem;
namespace {

const char* const kCopiedFiles[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",       "vocab.json",
    "merges.txt",     "added_tokens.json",     "chat_template.jinja",     "generation_config.json"};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw io::IoError(path + ": could not be written; check free space and permissions");
}

std::string ShardName(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

}  // namespace

void WriteWeights(const io::OutputFolder& folder, const io::ModelWeights& source, const TensorEdits& edits,
                  const WeightsWriteOptions& options) {
  std::vector<io::TensorSpec> specs;
  for (const io::TensorView* t : source.All()) {
    if (edits.removed.count(t->name) || edits.added.count(t->name)) continue;
    specs.push_back({t->name, t->dtype, t->shape, t->data, t->nbytes});
  }
  for (const auto& entry : edits.added) specs.push_back(entry.second.Spec());
  std::sort(specs.begin(), specs.end(),
            [](const io::TensorSpec& a, const io::TensorSpec& b) { return a.name < b.name; });

  // Greedy shards in name order, each up to maxShardBytes (a larger single tensor gets its own).
  std::vector<std::vector<io::TensorSpec>> shards(1);
  int64_t inShard = 0, total = 0;
  for (const io::TensorSpec& s : specs) {
    const int64_t size = static_cast<int64_t>(s.nbytes);
    if (options.maxShardBytes > 0 && inShard > 0 && inShard + size > options.maxShardBytes) {
      shards.emplace_back();
      inShard = 0;
    }
    shards.back().push_back(s);
    inShard += size;
    total += size;
  }
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  int64_t done = 0;
  const int64_t count = static_cast<int64_t>(specs.size());
  const auto after = [&](size_t, size_t) {
    ++done;
    if (options.afterTensor) options.afterTensor(done, count);
  };
  if (shards.size() == 1) {
    io::WriteSafetensors(folder.PathOf("model.safetensors"), shards[0], metadata, after);
    return;
  }
  json::Value weightMap = json::Value::Object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = ShardName(i, shards.size());
    io::WriteSafetensors(folder.PathOf(name), shards[i], metadata, after);
    for (const io::TensorSpec& s : shards[i]) weightMap.AppendMember(s.name, json::Value::String(name));
  }
  json::Value index = json::Value::Object();
  json::Value meta = json::Value::Object();
  meta.Set("total_size", json::Value::Int(total));
  index.Set("metadata", std::move(meta));
  index.Set("weight_map", std::move(weightMap));
  WriteText(folder.PathOf("model.safetensors.index.json"), index.Dump(2) + "\n");
}

void WriteConfigs(const io::OutputFolder& folder, const std::string& sourceConfigJson,
                  const json::Value& quantizationConfig, const std::string& sideFileName, const json::Value* sideFile) {
  json::Value config = json::Parse(sourceConfigJson);
  if (!config.isObject()) throw std::runtime_error("config.json: expected a JSON object");
  config.Set("quantization_config", quantizationConfig);
  WriteText(folder.PathOf("config.json"), config.Dump(2) + "\n");
  if (sideFile) WriteText(folder.PathOf(sideFileName), sideFile->Dump(2) + "\n");
}

void CopyModelFiles(const io::OutputFolder& folder, const std::string& source) {
  for (const char* name : kCopiedFiles) {
    const fs::path from = fs::path(source) / name;
    std::error_code ec;
    if (!fs::is_regular_file(from, ec)) continue;
    fs::copy_file(from, folder.PathOf(name), fs::copy_options::overwrite_existing, ec);
    if (ec) throw io::IoError(from.string() + ": could not be copied to the output (" + ec.message() + ")");
  }
}

int64_t FolderBytes(const std::string& path) {
  int64_t bytes = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(path))
    if (e.is_regular_file()) bytes += static_cast<int64_t>(e.file_size());
  return bytes;
}

}  // namespace quantstudio::pipeline
