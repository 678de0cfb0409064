#pragma once
// The one shape of mlopt's extension points. ONNX converters, evaluator
// kernels, pipeline step types, prune channel rules, script layers and script
// builtins are each a table from a name to an entry, filled by a static
// registrar at the bottom of the file that implements the entry:
//
//   REGISTER_CONVERTER({"aten::relu", "aten::relu_"}, convert_relu);
//   REGISTER_ONNX_OP({"Relu"}, relu);
//   MLOPT_CHANNEL_RULE({"aten::relu"}, passthrough_rule);
//
// Every registration macro takes the names first and the implementation last,
// and expands to MLOPT_STATIC_REGISTRAR below. Registrars run during static
// initialization in no particular order across files, so each table is built
// on first use (Registry::instance()).
#include <map>
#include <string>
#include <vector>

namespace mlopt {

// A table of `Entry` by name. `Tag` keeps two tables of the same entry type
// apart (e.g. two tables of std::function<void(Context&)>).
template <typename Entry, typename Tag = Entry>
class Registry {
 public:
  static Registry& instance() {
    static Registry table;
    return table;
  }

  // A name registered twice keeps its last entry and is listed by
  // duplicates(), which a test asserts empty (two files claiming one op is a
  // bug, but not one to abort start-up over).
  void add(const std::string& name, Entry entry) {
    auto [it, inserted] = entries_.insert_or_assign(name, std::move(entry));
    if (!inserted) duplicates_.push_back(name);
  }
  template <typename Names>
  void add_all(const Names& names, const Entry& entry) {
    for (const auto& name : names) add(name, entry);
  }

  const Entry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> all;
    all.reserve(entries_.size());
    for (const auto& entry : entries_) all.push_back(entry.first);
    return all;
  }
  const std::map<std::string, Entry>& entries() const { return entries_; }
  std::map<std::string, Entry>& entries() { return entries_; }
  size_t size() const { return entries_.size(); }
  const std::vector<std::string>& duplicates() const { return duplicates_; }

 private:
  Registry() = default;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> duplicates_;
};

}  // namespace mlopt

#define MLOPT_CONCAT_IMPL(a, b) a##b
#define MLOPT_CONCAT(a, b) MLOPT_CONCAT_IMPL(a, b)
// A uniquely named static object of registrar type TYPE, constructed from the
// remaining arguments (what each registration macro expands to).
#define MLOPT_STATIC_REGISTRAR(TYPE, ...) static TYPE MLOPT_CONCAT(mlopt_registrar_, __COUNTER__)(__VA_ARGS__)
