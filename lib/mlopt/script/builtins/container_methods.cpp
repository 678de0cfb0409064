// Methods of lists, dicts and strs in __init__: list.append, dict.get, str.format ...
#include <algorithm>
#include <cmath>

#include "mlopt/core/error.h"
#include "mlopt/script/builtin_registry.h"
#include "mlopt/script/checked_int.h"

namespace mlopt::script {
namespace {

using Kind = PyValue::Kind;

PyValue container_method(const BuiltinCall& c) {
  const std::string& name = c.name;
  const PyValue& callee = c.callee;
  const PyList& args = c.args;
  const KwArgs& kwargs = c.kwargs;
  const torch::jit::SourceRange& range = c.range;
  (void)kwargs;
  if (name == "list.append") {
    c.need(1, 1);
    c.check_elements(callee.bound->items->size() + 1, "list.append()");
    c.check_insert(*callee.bound, args[0]);
    callee.bound->items->push_back(args[0]);
    return PyValue::none();
  }
  if (name == "list.extend") {
    c.need(1, 1);
    PyList more = c.iterate(args[0]);
    c.check_elements(callee.bound->items->size() + more.size(), "list.extend()");
    for (auto& v : more) c.check_insert(*callee.bound, v);
    for (auto& v : more) callee.bound->items->push_back(v);
    return PyValue::none();
  }
  if (name == "list.insert") {
    c.need(2, 2);
    c.check_elements(callee.bound->items->size() + 1, "list.insert()");
    c.check_insert(*callee.bound, args[1]);
    auto& items = *callee.bound->items;
    int64_t k = std::clamp<int64_t>(c.need_int(args[0]) < 0 ? c.need_int(args[0]) + items.size() : c.need_int(args[0]), 0, items.size());
    items.insert(items.begin() + k, args[1]);
    return PyValue::none();
  }
  if (name == "list.pop") {
    auto& items = *callee.bound->items;
    if (items.empty()) fail_at(range, "pop from empty list");
    int64_t k = args.empty() ? items.size() - 1 : c.need_int(args[0]);
    if (k < 0) k += items.size();
    PyValue v = items.at(k);
    items.erase(items.begin() + k);
    return v;
  }
  if (name == "list.index") {
    c.need(1, 1);
    auto& items = *callee.bound->items;
    for (size_t k = 0; k < items.size(); ++k)
      if (values_equal(items[k], args[0])) return PyValue::integer(k);
    fail_at(range, args[0].repr() + " is not in list");
  }
  if (name == "dict.items" || name == "dict.keys" || name == "dict.values") {
    auto& d = *callee.bound;
    if (name == "dict.keys") return PyValue::list(*d.items);
    if (name == "dict.values") return PyValue::list(*d.values);
    PyList items;
    for (size_t k = 0; k < d.items->size(); ++k) items.push_back(PyValue::tuple({(*d.items)[k], (*d.values)[k]}));
    return PyValue::list(items);
  }
  if (name == "dict.get") {
    c.need(1, 2);
    auto& d = *callee.bound;
    for (size_t k = 0; k < d.items->size(); ++k)
      if (values_equal((*d.items)[k], args[0])) return (*d.values)[k];
    return args.size() > 1 ? args[1] : PyValue::none();
  }
  if (name == "str.format") {
    std::string out, text = callee.bound->s;
    size_t next = 0;
    for (size_t k = 0; k < text.size(); ++k) {
      if (text[k] == '{' && k + 1 < text.size() && text[k + 1] == '}') {
        if (next >= args.size()) fail_at(range, "str.format(): not enough arguments");
        out += args[next].kind == Kind::Str ? args[next].s : args[next].repr();
        ++next;
        ++k;
      } else {
        out += text[k];
      }
    }
    return PyValue::str(out);
  }
  fail_at(range, "call to '" + name + "' is not supported in __init__");
}

}  // namespace

MLOPT_REGISTER_BUILTINS("containers", {"list.append", "list.extend", "list.insert", "list.pop", "list.index", "dict.items", "dict.keys", "dict.values", "dict.get", "str.format"}, container_method);

}  // namespace mlopt::script
