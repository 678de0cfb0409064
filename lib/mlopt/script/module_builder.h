#pragma once
// Turns the evaluated module tree into TorchScript modules: members become
// submodules, parameters, buffers and typed attributes (in assignment order,
// like PyTorch), and each user class's methods are compiled.
#include <torch/script.h>

#include "mlopt/script/init_evaluator.h"
#include "mlopt/script/layer_registry.h"

namespace mlopt::script {

class ModuleBuilder {
 public:
  ModuleBuilder(const ParsedFile& file, const InitEvaluator& evaluator, LayerContext& ctx);
  torch::jit::Module build(const std::shared_ptr<ModuleObject>& object);

 private:
  torch::jit::Module build_user(const std::shared_ptr<ModuleObject>& object);
  void compile_methods(torch::jit::Module& module, const std::shared_ptr<ModuleObject>& object);

  const ParsedFile& file_;
  const InitEvaluator& evaluator_;
  LayerContext& ctx_;
  std::shared_ptr<torch::jit::Resolver> resolver_;
};

}  // namespace mlopt::script
