// A small JSON reader and writer for safetensors headers and checkpoint configs. Numbers keep their
// source text so 64-bit shapes and offsets are read exactly, never through a double.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace quantstudio::json {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Thrown by Value::Double for NaN and infinities, which JSON has no spelling for. */
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Value() = default;
  static Value Bool(bool b);
  static Value Number(std::string text);
  static Value Int(int64_t n) { return Number(std::to_string(n)); }
  static Value Double(double d);  // ValueError when d is not finite
  static Value String(std::string s);
  static Value Array(std::vector<Value> items = {});
  static Value Object(std::vector<std::pair<std::string, Value>> members = {});

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isNumber() const { return kind_ == Kind::Number; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  bool asBool() const { return bool_; }
  const std::string& asString() const { return text_; }  // the string, or a number's source text
  /** False when the number is not an integer that fits int64. */
  bool toInt64(int64_t* out) const;
  double asDouble() const;
  const std::vector<Value>& items() const { return items_; }
  /** Members in source order (duplicates are rejected by the parser). */
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }
  /** nullptr when absent or not an object. */
  const Value* Get(const std::string& key) const;

  /** Appends an array item / object member (keeps insertion order when writing). */
  Value& Push(Value v);
  Value& Set(const std::string& key, Value v);
  /** Appends a member without looking for an existing one (the caller knows the key is new). */
  Value& AppendMember(std::string key, Value v);

  /** indent < 0: one line with ", " and ": " separators, as Python's json.dumps writes by default;
   *  indent ≥ 0: one member per line, indented. Members keep insertion order. */
  std::string Dump(int indent = -1) const;

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
  void DumpTo(std::string& out, int indent, int depth) const;
};

/** Parses one JSON document; ParseError names the byte offset and what was expected. */
Value Parse(const char* data, size_t size);
inline Value Parse(const std::string& s) { return Parse(s.data(), s.size()); }

/** Escapes a string as a JSON string literal (with quotes). */
std::string Quote(const std::string& s);

}  // namespace quantstudio::json
