#include "mlopt/script/value_expr.h"

#include <fmt/format.h>

#include <cmath>

namespace mlopt::script {

using namespace torch::jit;
using Kind = PyValue::Kind;

std::optional<Expr> value_expr(const PyValue& value, const SourceRange& range) {
  switch (value.kind) {
    case Kind::Int:
      if (value.i < 0) return Expr(Compound::create(TK_UNARY_MINUS, range, {Const::create(range, std::to_string(-value.i))}));
      return Expr(Const::create(range, std::to_string(value.i)));
    case Kind::Float: {
      if (!std::isfinite(value.f)) return std::nullopt;
      std::string text = fmt::format("{:.17g}", std::fabs(value.f));
      if (text.find_first_of(".e") == std::string::npos) text += ".0";
      Expr magnitude(Const::create(range, text));
      if (std::signbit(value.f)) return Expr(Compound::create(TK_UNARY_MINUS, range, {magnitude}));
      return magnitude;
    }
    case Kind::Bool: return Expr(Compound::create(value.b ? TK_TRUE : TK_FALSE, range, {}));
    case Kind::None: return Expr(Compound::create(TK_NONE, range, {}));
    case Kind::Str: return Expr(StringLiteral::create(range, value.s));
    case Kind::Tuple:
    case Kind::List: {
      std::vector<Expr> items;
      for (auto& item : *value.items) {
        auto e = value_expr(item, range);
        if (!e) return std::nullopt;
        items.push_back(*e);
      }
      auto list = List<Expr>::create(range, items);
      if (value.kind == Kind::Tuple) return Expr(TupleLiteral::create(range, list));
      return Expr(ListLiteral::create(range, list));
    }
    default: return std::nullopt;
  }
}

std::optional<Expr> torch_function_expr(const std::string& dotted, const SourceRange& range) {
  if (dotted.rfind("torch.", 0) != 0) return std::nullopt;
  // torch.nn layer classes are made in __init__ only
  if (dotted.rfind("torch.nn.", 0) == 0 && dotted.rfind("torch.nn.functional.", 0) != 0) return std::nullopt;
  Expr expr = Var::create(range, Ident::create(range, "torch"));
  for (size_t start = 6; start <= dotted.size();) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    expr = Select::create(range, expr, Ident::create(range, part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return expr;
}

}  // namespace mlopt::script
