// Dicts (torchvision's segmentation models build and return one): keys are
// known at export time, values may be dynamic. A dict is a list Val with its
// keys alongside, in insertion order, so that model outputs flatten in the
// order Python sees them.
#include <sstream>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

bool same_key(const c10::IValue& a, const c10::IValue& b) {
  if (a.isString() && b.isString()) return a.toStringRef() == b.toStringRef();
  if (a.isInt() && b.isInt()) return a.toInt() == b.toInt();
  if (a.isBool() && b.isBool()) return a.toBool() == b.toBool();
  if (a.isDouble() && b.isDouble()) return a.toDouble() == b.toDouble();
  return false;
}

c10::IValue key_arg(Context& ctx, size_t i) {
  if (!ctx.is_constant(i)) ctx.fail_op("dict keys must be known at export time");
  auto key = ctx.constant(i);
  if (!key.isString() && !key.isInt() && !key.isBool() && !key.isDouble())
    ctx.fail_op(fmt::format("dict keys of type {} are not supported (expected str, int, float or bool)", key.tagKind()));
  return key;
}

// The dict of input i as a Val that can hold dynamic values: a constant dict
// (an empty `{}` folded at export time) is turned into one in place, so that
// every later use of the value sees the items set into it.
ValPtr dict_arg(Context& ctx, size_t i) {
  auto d = ctx.in(i);
  if (d->is_constant() && d->constant.isGenericDict()) {
    std::vector<c10::IValue> keys;
    std::vector<ValPtr> items;
    for (const auto& kv : d->constant.toGenericDict()) {
      keys.push_back(kv.key());
      items.push_back(Val::of_constant(kv.value()));
    }
    d->kind = Val::Kind::kList;
    d->dict = true;
    d->keys = std::move(keys);
    d->items = std::move(items);
    d->constant = c10::IValue();
  }
  if (!d->is_list() || !d->dict) ctx.fail_op("expected a dict");
  return d;
}

int64_t find_key(const Val& d, const c10::IValue& key) {
  for (size_t k = 0; k < d.keys.size(); ++k)
    if (same_key(d.keys[k], key)) return static_cast<int64_t>(k);
  return -1;
}

std::string key_text(const c10::IValue& key) {
  std::ostringstream s;
  s << key;
  return s.str();
}

// {k0: v0, k1: v1, ...}: inputs alternate keys and values; a repeated key
// keeps its first position and takes the last value, as in Python.
void convert_dict_construct(Context& ctx) {
  auto d = Val::of_dict({}, {});
  for (size_t i = 0; i + 1 < ctx.num_inputs(); i += 2) {
    auto key = key_arg(ctx, i);
    int64_t at = find_key(*d, key);
    if (at >= 0) {
      d->items[at] = ctx.in(i + 1);
    } else {
      d->keys.push_back(key);
      d->items.push_back(ctx.in(i + 1));
    }
  }
  ctx.set(0, d);
}

// The (key, value) pair of a list item: a tuple Val or a constant tuple.
std::pair<c10::IValue, ValPtr> key_value_pair(Context& ctx, const ValPtr& item) {
  if (item->is_list() && item->tuple && item->items.size() == 2 && item->items[0]->is_constant())
    return {item->items[0]->constant, item->items[1]};
  if (item->is_constant() && item->constant.isTuple() && item->constant.toTupleRef().elements().size() == 2) {
    const auto& e = item->constant.toTupleRef().elements();
    return {e[0], Val::of_constant(e[1])};
  }
  ctx.fail_op("dict(pairs) needs (key, value) pairs whose keys are known at export time");
}

// dict() (empty) and dict(pairs): torchvision's SSDlite builds
// OrderedDict([(str(i), v) for i, v in enumerate(output)]).
void convert_dict(Context& ctx) {
  auto d = Val::of_dict({}, {});
  if (ctx.num_inputs() == 1) {
    auto pairs = mutable_list(ctx, 0);
    for (const auto& item : pairs->items) {
      auto [key, value] = key_value_pair(ctx, item);
      int64_t at = find_key(*d, key);
      if (at >= 0) {
        d->items[at] = value;
      } else {
        d->keys.push_back(key);
        d->items.push_back(value);
      }
    }
  } else if (ctx.num_inputs() != 0) {
    ctx.fail_op("dict(...) from a dict or keyword arguments is not supported");
  }
  ctx.set(0, d);
}

// l[i] = value (torchvision's batch_images: max_size[1] = ...); the index is
// known at export time.
void set_list_item(Context& ctx) {
  auto list = mutable_list(ctx, 0);
  int64_t size = static_cast<int64_t>(list->items.size());
  int64_t at = ctx.to_int(1);
  if (at < -size || at >= size) ctx.fail_op(fmt::format("index {} is out of range for a list of {}", at, size));
  list->items[at < 0 ? at + size : at] = ctx.in(2);
  ctx.set(0, list);
}

// d[key] = value (and l[i] = value)
void convert_set_item(Context& ctx) {
  if (ctx.node()->input(0)->type()->kind() == c10::TypeKind::ListType) return set_list_item(ctx);
  auto d = dict_arg(ctx, 0);
  auto key = key_arg(ctx, 1);
  int64_t at = find_key(*d, key);
  if (at >= 0) {
    d->items[at] = ctx.in(2);
  } else {
    d->keys.push_back(key);
    d->items.push_back(ctx.in(2));
  }
}

ValPtr lookup(Context& ctx, const ValPtr& d, const c10::IValue& key) {
  int64_t at = find_key(*d, key);
  if (at < 0) ctx.fail_op(fmt::format("key {} is not in the dict", key_text(key)));
  return d->items[at];
}

// d.get(key, default=None)
void convert_dict_get(Context& ctx) {
  auto d = dict_arg(ctx, 0);
  auto key = key_arg(ctx, 1);
  int64_t at = find_key(*d, key);
  if (at >= 0) ctx.set(0, d->items[at]);
  else ctx.set(0, ctx.num_inputs() > 2 ? ctx.in(2) : Val::of_constant(c10::IValue()));
}

// `key in d`
void convert_contains(Context& ctx) {
  auto v = ctx.in(0);
  if (v->is_list() && v->dict) {
    ctx.set(0, Val::of_constant(find_key(*v, key_arg(ctx, 1)) >= 0));
    return;
  }
  ctx.fail_op("`in` is supported on dicts (with a key known at export time) only");
}

void convert_values(Context& ctx) {
  auto d = dict_arg(ctx, 0);
  ctx.set(0, Val::of_list(d->items, false));
}

void convert_keys(Context& ctx) {
  auto d = dict_arg(ctx, 0);
  c10::impl::GenericList keys(ctx.node()->output()->type()->containedType(0));
  for (auto& k : d->keys) keys.push_back(k);
  ctx.set(0, Val::of_constant(keys));
}

// d.items(): a list of (key, value) tuples.
void convert_items(Context& ctx) {
  auto d = dict_arg(ctx, 0);
  std::vector<ValPtr> pairs;
  for (size_t k = 0; k < d->keys.size(); ++k) pairs.push_back(Val::of_list({Val::of_constant(d->keys[k]), d->items[k]}, true));
  ctx.set(0, Val::of_list(pairs, false));
}

}  // namespace

bool is_dict(const ValPtr& v) { return (v->is_list() && v->dict) || (v->is_constant() && v->constant.isGenericDict()); }

void convert_dict_getitem(Context& ctx) {
  auto d = dict_arg(ctx, 0);
  ctx.set(0, lookup(ctx, d, key_arg(ctx, 1)));
}

REGISTER_CONVERTER({"prim::DictConstruct"}, convert_dict_construct);
REGISTER_CONVERTER({"aten::dict"}, convert_dict);
REGISTER_CONVERTER({"aten::_set_item"}, convert_set_item);
REGISTER_CONVERTER({"aten::get"}, convert_dict_get);
REGISTER_CONVERTER({"aten::__contains__"}, convert_contains);
REGISTER_CONVERTER({"aten::values"}, convert_values);
REGISTER_CONVERTER({"aten::keys"}, convert_keys);
REGISTER_CONVERTER({"aten::items"}, convert_items);

}  // namespace mlopt::onnx_export
