#include "mlopt/script/functional_calls.h"

namespace mlopt::script {

using namespace torch::jit;

namespace {

// None, a number, a tuple or a list of numbers -> None or a list of `element`.
Value* as_list(Graph& g, Value* v, const c10::TypePtr& element, const SourceRange& loc) {
  if (!v || v->type()->kind() == c10::TypeKind::NoneType) return g.insertConstant(c10::IValue(), loc);
  std::vector<Value*> items;
  if (auto list = v->type()->cast<c10::ListType>()) {
    if (*list->getElementType() == *element) return v;
    throw ErrorReport(loc) << "F.interpolate: expected a list of " << element->repr_str() << ", got " << v->type()->repr_str();
  }
  if (v->type()->cast<c10::TupleType>()) {
    for (Value* item : g.insertNode(g.createTupleUnpack(v))->outputs()) items.push_back(item);
  } else {
    items.push_back(v);
  }
  for (auto& item : items) {
    if (element->kind() == c10::TypeKind::FloatType && item->type()->kind() == c10::TypeKind::IntType)
      item = g.insert(c10::Symbol::aten("Float"), {item}, {}, loc);
    if (*item->type() != *element)
      throw ErrorReport(loc) << "F.interpolate: expected " << element->repr_str() << " values, got " << item->type()->repr_str();
  }
  return g.insertNode(g.createList(element, items))->output();
}

struct InterpolateValue : public SugaredValue {
  explicit InterpolateValue(Function* impl) : impl_(impl) {}
  std::string kind() const override { return "F.interpolate"; }

  std::shared_ptr<SugaredValue> call(const SourceRange& loc, GraphFunction& m, at::ArrayRef<NamedValue> args,
                                     at::ArrayRef<NamedValue> kwargs, size_t n_binders) override {
    static const std::vector<std::string> names = {"input", "size", "scale_factor", "mode", "align_corners",
                                                   "recompute_scale_factor", "antialias"};
    auto& g = *m.graph();
    std::vector<Value*> bound(names.size(), nullptr);
    if (args.size() > names.size()) throw ErrorReport(loc) << "F.interpolate takes at most 7 arguments";
    for (size_t k = 0; k < args.size(); ++k) bound[k] = args[k].value(g);
    for (const auto& kw : kwargs) {
      auto it = std::find(names.begin(), names.end(), kw.name());
      if (it == names.end()) throw ErrorReport(loc) << "F.interpolate() got an unexpected keyword argument '" << kw.name() << "'";
      bound[it - names.begin()] = kw.value(g);
    }
    if (!bound[0]) throw ErrorReport(loc) << "F.interpolate() missing its input";
    std::vector<NamedValue> call_args = {
        bound[0],
        as_list(g, bound[1], c10::IntType::get(), loc),
        as_list(g, bound[2], c10::FloatType::get(), loc),
        bound[3] ? bound[3] : g.insertConstant(std::string("nearest"), loc),
        bound[4] ? bound[4] : g.insertConstant(c10::IValue(), loc),
        bound[5] ? bound[5] : g.insertConstant(c10::IValue(), loc),
        bound[6] ? bound[6] : g.insertConstant(false, loc)};
    return std::make_shared<FunctionValue>(impl_)->call(loc, m, call_args, {}, n_binders);
  }

  Function* impl_;
};

}  // namespace

std::shared_ptr<SugaredValue> interpolate_call(Function* prelude_interpolate) {
  return std::make_shared<InterpolateValue>(prelude_interpolate);
}

}  // namespace mlopt::script
