// Writing a checkpoint folder safely: everything goes into `<out>.tmp-<pid>` and is renamed to `<out>`
// only on Commit, so a failed or cancelled job leaves nothing half-written behind and never touches
// the source model.
#pragma once

#include <string>

namespace quantstudio::io {

class OutputFolder {
 public:
  /** Creates the temp folder. Throws IoError when `out` is the source model folder (or inside it, or
   *  holds it), or when `out` exists and is not empty and overwrite is false. */
  OutputFolder(const std::string& out, const std::string& sourceModel, bool overwrite);
  /** Removes the temp folder unless Commit succeeded. */
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::string& tempPath() const { return temp_; }
  const std::string& finalPath() const { return out_; }
  /** Path of a file inside the temp folder. */
  std::string PathOf(const std::string& fileName) const { return temp_ + "/" + fileName; }
  /** Replaces `out` (when overwriting) by the temp folder. */
  void Commit();
  /** Removes the temp folder now (also done by the destructor). */
  void Abandon();

 private:
  std::string out_;
  std::string temp_;
  bool overwrite_;
  bool done_ = false;
};

}  // namespace quantstudio::io
