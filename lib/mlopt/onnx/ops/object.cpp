// TorchScript class objects made inside forward (torchvision's ImageList:
// prim::CreateObject, then prim::SetAttr in its inlined __init__, prim::GetAttr
// where it is read): an object is a dict of its attributes, by name, known at
// export time; the attribute values may be dynamic.
#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

std::string attr_name(Context& ctx) { return ctx.node()->s(c10::attr::name); }

// The object as a dict Val that can hold dynamic attributes (a constant object,
// folded at export time, is turned into one in place: every use sees it).
ValPtr object_of(Context& ctx) {
  auto obj = ctx.in(0);
  if (obj->is_constant() && obj->constant.isObject()) {
    auto o = obj->constant.toObject();
    std::vector<c10::IValue> keys;
    std::vector<ValPtr> items;
    auto type = o->type();
    for (size_t i = 0; i < type->numAttributes(); ++i) {
      keys.emplace_back(type->getAttributeName(i));
      items.push_back(Val::of_constant(o->getSlot(i)));
    }
    obj->kind = Val::Kind::kList;
    obj->dict = true;
    obj->keys = std::move(keys);
    obj->items = std::move(items);
  }
  if (!obj->is_list() || !obj->dict) ctx.fail_op("expects an object made in the exported graph");
  return obj;
}

void convert_create_object(Context& ctx) {
  auto obj = Val::of_dict({}, {});
  ctx.set(0, obj);
}

void convert_set_attr(Context& ctx) {
  auto obj = object_of(ctx);
  std::string name = attr_name(ctx);
  for (size_t k = 0; k < obj->keys.size(); ++k)
    if (obj->keys[k].isString() && obj->keys[k].toStringRef() == name) {
      obj->items[k] = ctx.in(1);
      return;
    }
  obj->keys.emplace_back(name);
  obj->items.push_back(ctx.in(1));
}

void convert_get_attr(Context& ctx) {
  auto obj = object_of(ctx);
  std::string name = attr_name(ctx);
  for (size_t k = 0; k < obj->keys.size(); ++k)
    if (obj->keys[k].isString() && obj->keys[k].toStringRef() == name) {
      ctx.set(0, obj->items[k]);
      return;
    }
  ctx.fail_op("reads attribute '" + name + "' before it is set");
}

}  // namespace

REGISTER_CONVERTER({"prim::CreateObject"}, convert_create_object);
REGISTER_CONVERTER({"prim::SetAttr"}, convert_set_attr);
REGISTER_CONVERTER({"prim::GetAttr"}, convert_get_attr);

}  // namespace mlopt::onnx_export
