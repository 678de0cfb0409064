#include "mlopt/script/layer_registry.h"

#include <sstream>

#include "mlopt/core/error.h"

namespace mlopt::script {

namespace {
using LayerRegistry = Registry<LayerSpec>;
LayerRegistry& registry() { return LayerRegistry::instance(); }

struct SignatureParam {
  std::string name;
  std::optional<PyValue> default_value;
};

// "a, b=1, c=None" -> parameters (defaults parsed as Python literals).
std::vector<SignatureParam> parse_signature(const std::string& signature) {
  std::vector<SignatureParam> params;
  std::string part;
  int depth = 0;
  auto flush = [&] {
    auto eq = part.find('=');
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    SignatureParam p{trim(part.substr(0, eq)), std::nullopt};
    if (eq != std::string::npos) p.default_value = parse_python_literal(trim(part.substr(eq + 1)));
    if (!p.name.empty()) params.push_back(p);
    part.clear();
  };
  for (char c : signature) {
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (c == ',' && depth == 0) flush();
    else part += c;
  }
  flush();
  return params;
}
}  // namespace

LayerRegistrar::LayerRegistrar(LayerSpec spec) {
  std::string name = spec.name;
  registry().add(name, std::move(spec));
}

const LayerSpec* find_layer(const std::string& name) { return registry().find(name); }
std::vector<std::string> layer_names() { return registry().names(); }

LayerArgs bind_layer_args(const LayerSpec& spec, const PyList& args,
                          const std::vector<std::pair<std::string, PyValue>>& kwargs) {
  auto params = parse_signature(spec.signature);
  std::map<std::string, PyValue> values;
  if (args.size() > params.size())
    fail("nn.{}() takes {} arguments but {} were given", spec.name, params.size(), args.size());
  for (size_t k = 0; k < args.size(); ++k) values[params[k].name] = args[k];
  for (auto& [name, value] : kwargs) {
    bool known = false;
    for (auto& p : params) known = known || p.name == name;
    if (!known) fail("nn.{}() got an unexpected keyword argument '{}'", spec.name, name);
    if (values.count(name)) fail("nn.{}() got multiple values for argument '{}'", spec.name, name);
    values[name] = value;
  }
  for (auto& p : params) {
    if (values.count(p.name)) continue;
    if (!p.default_value) fail("nn.{}() missing required argument '{}'", spec.name, p.name);
    values[p.name] = *p.default_value;
  }
  return LayerArgs(spec.name, std::move(values));
}

const PyValue& LayerArgs::operator[](const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) fail("nn.{}: internal: no argument '{}'", layer_, name);
  return it->second;
}

void LayerArgs::bad(const std::string& name, const std::string& expected) const {
  fail("nn.{}: argument '{}' must be {}, got {} ({})", layer_, name, expected, (*this)[name].type_name(),
       (*this)[name].repr());
}

int64_t LayerArgs::integer(const std::string& name) const {
  const auto& v = (*this)[name];
  if (v.kind != PyValue::Kind::Int) bad(name, "an int");
  return v.i;
}

double LayerArgs::real(const std::string& name) const {
  const auto& v = (*this)[name];
  if (!v.is_number()) bad(name, "a number");
  return v.as_double();
}

bool LayerArgs::boolean(const std::string& name) const {
  const auto& v = (*this)[name];
  if (v.kind == PyValue::Kind::Bool) return v.b;
  if (v.kind == PyValue::Kind::Int) return v.i != 0;
  bad(name, "a bool");
}

std::string LayerArgs::text(const std::string& name) const {
  const auto& v = (*this)[name];
  if (v.kind != PyValue::Kind::Str) bad(name, "a str");
  return v.s;
}

std::vector<int64_t> LayerArgs::int_list(const std::string& name) const {
  const auto& v = (*this)[name];
  if (v.kind == PyValue::Kind::Int) return {v.i};
  if (!v.is_sequence()) bad(name, "an int or a tuple of ints");
  std::vector<int64_t> out;
  for (auto& item : *v.items) {
    if (item.kind != PyValue::Kind::Int) bad(name, "an int or a tuple of ints");
    out.push_back(item.i);
  }
  return out;
}

std::vector<int64_t> LayerArgs::ints(const std::string& name, size_t n) const {
  auto values = int_list(name);
  if (values.size() == 1 && n > 1 && (*this)[name].kind == PyValue::Kind::Int) values.assign(n, values[0]);
  if (values.size() != n) bad(name, fmt::format("an int or a tuple of {} ints", n));
  return values;
}

torch::jit::Module new_module(LayerContext& ctx, const std::string& python_class) {
  torch::jit::Module module("__torch__." + python_class, ctx.cu, /*shouldMangle=*/true);
  module.register_attribute("training", c10::BoolType::get(), true);
  return module;
}

namespace {
// What makes two layer modules interchangeable for TorchScript: the class name
// without its mangling, every attribute's name, kind and type, and the source
// of their methods (constants such as kernel sizes are baked into it).
std::string type_key(const torch::jit::Module& module, const std::string& source) {
  const auto& type = module.type();
  std::string key = type->name()->qualifiedName();
  auto mangle = key.find("___torch_mangle_");
  if (mangle != std::string::npos) key.erase(mangle, key.find('.', mangle) + 1 - mangle);
  for (size_t k = 0; k < type->numAttributes(); ++k)
    key += fmt::format("\n{}:{}:{}:{}", type->getAttributeName(k), type->is_parameter(k), type->is_buffer(k),
                       type->getAttribute(k)->annotation_str());
  return key + "\n" + source;
}
}  // namespace

void define_methods(LayerContext& ctx, torch::jit::Module& module, const std::string& source, const std::string& layer) {
  std::string key = type_key(module, source);
  if (auto it = ctx.shared_types.find(key); it != ctx.shared_types.end()) {
    // The same slots in the same order: the values move over to an object of the shared type.
    const auto& type = it->second;
    auto object = c10::ivalue::Object::create(c10::StrongTypePtr(ctx.cu, type), type->numAttributes());
    for (size_t k = 0; k < type->numAttributes(); ++k) object->setSlot(k, module._ivalue()->getSlot(k));
    module = torch::jit::Module(object);
    return;
  }
  try {
    module.define(source);
  } catch (const std::exception& e) {
    fail("nn.{}: internal error compiling its forward: {}", layer, e.what());
  }
  ctx.shared_types.emplace(std::move(key), module.type());
}

int64_t padding_row(const LayerArgs& a, int64_t rows) {
  if (a.is_none("padding_idx")) return -1;
  int64_t row = a.integer("padding_idx");
  if (row < 0) row += rows;
  if (row < 0 || row >= rows) fail("nn.{}: padding_idx must be within num_embeddings", a.layer());
  return row;
}

at::Tensor uniform_tensor(LayerContext& ctx, at::IntArrayRef shape, double bound) {
  ctx.budget.reserve(shape, at::kFloat, ctx.layer);
  return at::empty(shape).uniform_(-bound, bound, ctx.gen);
}

at::Tensor normal_tensor(LayerContext& ctx, at::IntArrayRef shape, double stddev) {
  ctx.budget.reserve(shape, at::kFloat, ctx.layer);
  return at::empty(shape).normal_(0.0, stddev, ctx.gen);
}

at::Tensor zeros_tensor(LayerContext& ctx, at::IntArrayRef shape, at::ScalarType dtype) {
  ctx.budget.reserve(shape, dtype, ctx.layer);
  return at::zeros(shape, dtype);
}

at::Tensor ones_tensor(LayerContext& ctx, at::IntArrayRef shape) {
  ctx.budget.reserve(shape, at::kFloat, ctx.layer);
  return at::ones(shape);
}

std::string int_list_literal(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t k = 0; k < values.size(); ++k) out += (k ? ", " : "") + std::to_string(values[k]);
  return out + "]";
}

}  // namespace mlopt::script
