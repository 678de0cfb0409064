#include "mlopt/pipeline/yaml_guard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <sstream>
#include <vector>
#include <fmt/format.h>

#include "mlopt/core/error.h"

namespace mlopt::pipeline {
namespace {

// Walks the parser's events keeping, per open collection, its expanded size
// and (for a mapping) the keys seen so far.
class Guard : public YAML::EventHandler {
 public:
  Guard(std::string file, const YamlLimits& limits) : file_(std::move(file)), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1)
      fail_at_mark(mark, "a pipeline file holds one YAML document; found a second one (after '---')");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, "", false); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    leaf(mark, anchor, value, true);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (open_anchors_.count(anchor))
      fail_at_mark(mark, "an alias refers to the node that contains it (a cycle); YAML aliases must name a finished node");
    auto it = finished_.find(anchor);
    if (it == finished_.end()) fail_at_mark(mark, "an alias names an unknown anchor");
    const int depth = static_cast<int>(stack_.size()) + it->second.height;
    if (depth > limits_.max_depth)
      fail_at_mark(mark, fmt::format("this alias nests the document deeper than {} levels", limits_.max_depth));
    key_or_value(mark, nullptr);
    add(mark, it->second.nodes);
    grow_parent(it->second.height);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    bool is_map = false;
    YAML::anchor_t anchor = 0;
    uint64_t nodes = 1;
    int height = 1;
    bool next_is_key = true;
    std::map<std::string, YAML::Mark> keys;
  };
  struct Finished {
    uint64_t nodes = 1;
    int height = 1;
  };

  [[noreturn]] void fail_at_mark(const YAML::Mark& mark, const std::string& message) const {
    throw Error(fmt::format("{}:{}:{}: {}", file_, mark.line + 1, mark.column + 1, message));
  }

  // In a mapping, events alternate key, value: a scalar key must be new.
  void key_or_value(const YAML::Mark& mark, const std::string* scalar_key) {
    if (stack_.empty() || !stack_.back().is_map) return;
    Frame& map = stack_.back();
    const bool is_key = map.next_is_key;
    map.next_is_key = !map.next_is_key;
    if (!is_key || !scalar_key) return;
    auto [it, inserted] = map.keys.emplace(*scalar_key, mark);
    if (!inserted)
      fail_at_mark(mark, fmt::format("duplicate key '{}' (first at line {}); YAML would keep only one of them",
                                     *scalar_key, it->second.line + 1));
  }

  void add(const YAML::Mark& mark, uint64_t nodes) {
    total_ += nodes;
    if (total_ > limits_.max_nodes)
      fail_at_mark(mark, fmt::format("the document expands to more than {} nodes (through aliases); refusing it",
                                     limits_.max_nodes));
    if (!stack_.empty()) stack_.back().nodes += nodes;
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string& value, bool is_scalar) {
    key_or_value(mark, is_scalar ? &value : nullptr);
    add(mark, 1);
    grow_parent(1);
    if (anchor) finished_[anchor] = {1, 1};
  }

  void grow_parent(int child_height) {
    if (!stack_.empty()) stack_.back().height = std::max(stack_.back().height, child_height + 1);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    key_or_value(mark, nullptr);
    if (static_cast<int>(stack_.size()) + 1 > limits_.max_depth)
      fail_at_mark(mark, fmt::format("the document nests deeper than {} levels", limits_.max_depth));
    add(mark, 1);
    Frame frame;
    frame.is_map = is_map;
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
    if (anchor) open_anchors_.insert(anchor);
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    // The child counts were added to the running total as they came; the
    // parent gets this subtree's size (its own 1 was added at open).
    if (!stack_.empty()) {
      stack_.back().nodes += frame.nodes - 1;
      grow_parent(frame.height);
    }
    if (frame.anchor) {
      open_anchors_.erase(frame.anchor);
      finished_[frame.anchor] = {frame.nodes, frame.height};
    }
  }

  std::string file_;
  YamlLimits limits_;
  int documents_ = 0;
  uint64_t total_ = 0;
  std::vector<Frame> stack_;
  std::set<YAML::anchor_t> open_anchors_;
  std::map<YAML::anchor_t, Finished> finished_;
};

}  // namespace

void check_yaml_text(const std::string& text, const std::string& file, const YamlLimits& limits) {
  std::istringstream stream(text);
  Guard guard(file, limits);
  try {
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const YAML::ParserException& e) {
    throw Error(fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace mlopt::pipeline
