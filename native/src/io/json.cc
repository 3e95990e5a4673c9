#include "io/json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace quantstudio::json {

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.bool_ = b;
  return v;
}

Value Value::Number(std::string text) {
  Value v;
  v.kind_ = Kind::Number;
  v.text_ = std::move(text);
  return v;
}

Value Value::Double(double d) {
  // printf would write "nan" or "inf", which no JSON reader (this one included) accepts.
  if (!std::isfinite(d)) {
    throw ValueError(std::string("JSON numbers are finite; cannot write ") + (std::isnan(d) ? "NaN"
                                                                              : d > 0       ? "Infinity"
                                                                                            : "-Infinity"));
  }
  // Shortest text that reads back to the same double, like Python's repr.
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string text(buf);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return Number(text);
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::String;
  v.text_ = std::move(s);
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::Array;
  v.items_ = std::move(items);
  return v;
}

Value Value::Object(std::vector<std::pair<std::string, Value>> members) {
  Value v;
  v.kind_ = Kind::Object;
  v.members_ = std::move(members);
  return v;
}

bool Value::toInt64(int64_t* out) const {
  if (kind_ != Kind::Number || text_.empty()) return false;
  if (text_.find_first_of(".eE") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(text_.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = n;
  return true;
}

double Value::asDouble() const { return kind_ == Kind::Number ? std::strtod(text_.c_str(), nullptr) : 0.0; }

const Value* Value::Get(const std::string& key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value& Value::Push(Value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

Value& Value::Set(const std::string& key, Value v) {
  for (auto& [k, existing] : members_) {
    if (k == key) return existing = std::move(v);
  }
  members_.emplace_back(key, std::move(v));
  return members_.back().second;
}

Value& Value::AppendMember(std::string key, Value v) {
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void Value::DumpTo(std::string& out, int indent, int depth) const {
  const bool pretty = indent >= 0;
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  switch (kind_) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += bool_ ? "true" : "false"; break;
    case Kind::Number: out += text_; break;
    case Kind::String: out += Quote(text_); break;
    case Kind::Array:
      out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out += pretty ? "," : ", ";
        if (pretty) newline(depth + 1);
        items_[i].DumpTo(out, indent, depth + 1);
      }
      if (pretty && !items_.empty()) newline(depth);
      out += ']';
      break;
    case Kind::Object:
      out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out += pretty ? "," : ", ";
        if (pretty) newline(depth + 1);
        out += Quote(members_[i].first);
        out += ": ";
        members_[i].second.DumpTo(out, indent, depth + 1);
      }
      if (pretty && !members_.empty()) newline(depth);
      out += '}';
      break;
  }
}

std::string Value::Dump(int indent) const {
  std::string out;
  DumpTo(out, indent, 0);
  return out;
}

namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(const char* data, size_t size) : p_(data), begin_(data), end_(data + size) {}

  Value Document() {
    Value v = ParseValue(0);
    SkipSpace();
    if (p_ != end_) Fail("end of input");
    return v;
  }

 private:
  const char* p_;
  const char* begin_;
  const char* end_;

  [[noreturn]] void Fail(const char* expected) const {
    throw ParseError("invalid JSON at byte " + std::to_string(p_ - begin_) + ": expected " + expected);
  }

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool Literal(const char* word) {
    const char* q = p_;
    for (; *word; ++word, ++q) {
      if (q >= end_ || *q != *word) return false;
    }
    p_ = q;
    return true;
  }

  Value ParseValue(int depth) {
    if (depth > kMaxDepth) Fail("less nesting");
    SkipSpace();
    if (p_ >= end_) Fail("a value");
    switch (*p_) {
      case '{': return ParseObject(depth);
      case '[': return ParseArray(depth);
      case '"': return Value::String(ParseString());
      case 't':
        if (Literal("true")) return Value::Bool(true);
        break;
      case 'f':
        if (Literal("false")) return Value::Bool(false);
        break;
      case 'n':
        if (Literal("null")) return Value();
        break;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return ParseNumber();
    }
    Fail("a value");
  }

  Value ParseNumber() {
    const char* start = p_;
    auto digits = [&]() {
      const char* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) Fail("a digit");
    };
    if (*p_ == '-') ++p_;
    digits();
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      digits();
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      digits();
    }
    return Value::Number(std::string(start, p_));
  }

  unsigned Hex4() {
    unsigned code = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (p_ >= end_) Fail("4 hex digits");
      const char c = *p_;
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= c - '0';
      else if (c >= 'a' && c <= 'f')
        code |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        code |= c - 'A' + 10;
      else
        Fail("4 hex digits");
    }
    return code;
  }

  static void AppendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::string ParseString() {
    ++p_;  // opening quote
    std::string out;
    while (true) {
      if (p_ >= end_) Fail("a closing quote");
      const unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') return out;
      if (c < 0x20) Fail("no control characters in strings");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (p_ >= end_) Fail("an escape");
      const char e = *p_++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = Hex4();
          if (cp >= 0xd800 && cp < 0xdc00 && p_ + 1 < end_ && p_[0] == '\\' && p_[1] == 'u') {
            p_ += 2;
            const unsigned low = Hex4();
            if (low < 0xdc00 || low >= 0xe000) Fail("a low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default: Fail("a valid escape");
      }
    }
  }

  Value ParseArray(int depth) {
    ++p_;
    Value array = Value::Array();
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return array;
    }
    while (true) {
      array.Push(ParseValue(depth + 1));
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == ']') {
        ++p_;
        return array;
      }
      Fail("',' or ']'");
    }
  }

  Value ParseObject(int depth) {
    ++p_;
    Value object = Value::Object();
    std::set<std::string> seen;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return object;
    }
    while (true) {
      SkipSpace();
      if (p_ >= end_ || *p_ != '"') Fail("a member name");
      std::string key = ParseString();
      if (!seen.insert(key).second) throw ParseError("invalid JSON: duplicate key " + Quote(key));
      SkipSpace();
      if (p_ >= end_ || *p_ != ':') Fail("':'");
      ++p_;
      object.AppendMember(std::move(key), ParseValue(depth + 1));
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        return object;
      }
      Fail("',' or '}'");
    }
  }
};

}  // namespace

Value Parse(const char* data, size_t size) { return Parser(data, size).Document(); }

}  // namespace quantstudio::json
