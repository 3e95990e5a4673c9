#include "io/output_folder.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "io/safetensors.h"

namespace quantstudio::io {
namespace fs = std::filesystem;

namespace {

fs::path Resolved(const std::string& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::path(p).lexically_normal() : r;
}

/** True when `inner` is `outer` or lies below it. */
bool Within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

OutputFolder::OutputFolder(const std::string& out, const std::string& sourceModel, bool overwrite)
    : out_(out), overwrite_(overwrite) {
  const fs::path outPath = Resolved(out);
  if (!sourceModel.empty()) {
    const fs::path source = Resolved(sourceModel);
    if (Within(outPath, source)) {
      throw IoError(out + ": is inside the source model folder " + sourceModel +
                    "; choose an output folder elsewhere so the source stays untouched");
    }
    if (Within(source, outPath)) {
      throw IoError(out + ": holds the source model folder " + sourceModel + "; choose another output folder");
    }
  }
  std::error_code ec;
  if (fs::exists(outPath, ec)) {
    if (!fs::is_directory(outPath, ec)) throw IoError(out + ": exists and is not a folder; choose another output path");
    if (!fs::is_empty(outPath, ec) && !overwrite) {
      throw IoError(out + ": exists and is not empty; choose an empty folder or allow overwriting");
    }
  }
  temp_ = out + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(temp_, ec);  // a leftover of an earlier crashed run of this same process id
  if (!fs::create_directories(temp_, ec) || ec) {
    throw IoError(temp_ + ": cannot create the output folder: " + ec.message());
  }
}

OutputFolder::~OutputFolder() { Abandon(); }

void OutputFolder::Abandon() {
  if (done_) return;
  done_ = true;
  std::error_code ec;
  fs::remove_all(temp_, ec);
}

void OutputFolder::Commit() {
  if (done_) throw IoError(out_ + ": output folder already committed or abandoned");
  std::error_code ec;
  if (fs::exists(out_, ec)) {
    if (!overwrite_ && !fs::is_empty(out_, ec)) {
      Abandon();
      throw IoError(out_ + ": was filled by someone else while writing; nothing was replaced");
    }
    fs::remove_all(out_, ec);
    if (ec) {
      Abandon();
      throw IoError(out_ + ": cannot replace the existing folder: " + ec.message());
    }
  }
  fs::rename(temp_, out_, ec);
  if (ec) {
    Abandon();
    throw IoError(out_ + ": cannot move the finished output into place: " + ec.message());
  }
  done_ = true;
}

}  // namespace quantstudio::io
