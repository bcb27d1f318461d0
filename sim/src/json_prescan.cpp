// JSON pre-scan: a SAX pass (nlohmann's SAX parser keeps its own stack, so it never recurses)
// that tracks the JSON path of the value being read.
#include "json_prescan.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace parallax::sim {

namespace {

using Json = nlohmann::json;

class PreScan : public nlohmann::json_sax<Json> {
 public:
  const std::string& error() const { return error_; }

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }

  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    Frame& f = stack_.back();
    f.key = k;
    if (!f.keys.insert(k).second) {
      error_ = path() + ": duplicate key (each key may appear once in an object)";
      return false;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    if (ex.id == 406) {  // out_of_range.406: a number beyond double range, such as 1e309
      begin_value();
      error_ = path() + ": expected a number within float32 range, found " + printable(last_token);
      return false;
    }
    std::string what = ex.what();
    auto p = what.find("parse error");
    error_ = "malformed JSON: " + (p == std::string::npos ? what : what.substr(p));
    return false;
  }

 private:
  struct Frame {
    bool object = false;
    std::set<std::string> keys;  // object: keys seen so far
    std::string key;             // object: key of the member being read
    std::size_t count = 0;       // array: elements begun so far
  };

  // Every value begins here; in an array it is the next element.
  void begin_value() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().count;
  }
  bool value() {
    begin_value();
    return true;
  }
  bool open(bool object) {
    begin_value();
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      error_ = path() + ": nested deeper than " + std::to_string(kMaxJsonDepth) +
               " levels of arrays and objects";
      return false;
    }
    stack_.push_back(Frame{object, {}, {}, 0});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  // "bodies[2].mass" for the value being read; "(top level)" outside every container.
  std::string path() const {
    std::string p;
    for (const Frame& f : stack_) {
      if (f.object) {
        if (f.key.empty() && f.keys.empty()) break;  // no member begun yet
        if (!p.empty()) p += '.';
        p += printable(f.key);
      } else {
        if (f.count == 0) break;
        p += '[';
        p += std::to_string(f.count - 1);
        p += ']';
      }
      if (p.size() > 200) return p.substr(0, 197) + "...";
    }
    return p.empty() ? "(top level)" : p;
  }

  std::vector<Frame> stack_;
  std::string error_;
};

}  // namespace

std::string printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
  return s;
}

std::string prescan_json(const std::string& text) {
  PreScan scan;
  Json::sax_parse(text, &scan);
  return scan.error();
}

}  // namespace parallax::sim
