#pragma once
// A quantize back end: what the driver (driver.h) needs from one artifact
// format. The driver owns layer selection (--skip, groups), calibration order,
// measurement, the accuracy-budget search and the report; a back end provides
// the layers, builds an artifact with some layers kept in float, runs it, and
// writes it. TorchScript (torchscript_backend.cpp) and ONNX (onnx_backend.cpp)
// are the two. Quantization-aware training (qat.h) is static int8 of a model
// trained first: a back end given a QatModel quantizes the trained one.
#include <torch/script.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mlopt/core/input_spec.h"
#include "mlopt/quantize/quantize.h"
#include "mlopt/quantize/quantize_support.h"

namespace mlopt::quant {

// A quantized model a back end built; only that back end looks inside.
struct Artifact {
  virtual ~Artifact() = default;
};
using ArtifactPtr = std::shared_ptr<Artifact>;

// One quantizable layer as the back end found it.
struct BackendLayer {
  std::string key;      // what --skip matches and build() takes (module path, node name)
  QuantizedLayer row;   // report row: name, kind, weight error; float_reason when the back end keeps it float
  bool pinned = false;  // kept float like a --skip (its group mates too), e.g. inside a fused kernel
  std::string group;    // layers of one group quantize alike and are measured together ("": its own)
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Words of the report: "layer" / "node", and why a group mate stays float.
  virtual std::string unit() const = 0;
  virtual std::string group_reason() const { return ""; }
  virtual std::vector<InputSpec> input_specs() const = 0;
  // The layers, in model order.
  virtual std::vector<BackendLayer> layers() = 0;
  // After selection: fails with one line when there is nothing the mode can
  // quantize; adds the back end's warnings about the model as a whole.
  virtual void check_selection(const std::vector<BackendLayer>& layers, size_t candidates,
                               std::vector<std::string>& warnings) = 0;
  // Adapts the data sets to the model (fixed batch sizes, a first calibration run).
  virtual void prepare_data(quant_support::QuantizeData& data, std::vector<std::string>& warnings) = 0;
  // Every output of the float model on `batches` (quant_support::Outputs: by output, then batch).
  virtual quant_support::Outputs run_float(const std::vector<quant_support::Batch>& batches,
                                           const std::string& what) = 0;
  // The outputs' names, in order, when the format keeps them (ONNX); empty otherwise.
  virtual std::vector<std::string> output_names() const { return {}; }
  // Static int8: observes activations on the calibration data (`user_float`
  // layers stay float in every build).
  virtual void calibrate(const quant_support::QuantizeData& data, const std::set<std::string>& user_float) = 0;
  // The artifact with `float_layers` (keys) kept in float.
  virtual ArtifactPtr build(const std::set<std::string>& float_layers) = 0;
  // The artifact with only `group` quantized (`float_layers`: every other
  // key), run once for the per-layer sensitivity after the full build. A back
  // end may make it a cheaper way than build() when the numerics are the same.
  virtual ArtifactPtr build_alone(const std::vector<std::string>& group, const std::set<std::string>& float_layers) {
    (void)group;
    return build(float_layers);
  }
  // Every output of `artifact` on `batches`, as float32 (by output, then batch).
  virtual quant_support::Outputs run(const Artifact& artifact, const std::vector<quant_support::Batch>& batches,
                                     const std::string& what) = 0;
  // Runs `artifact` on `reference`, then on another batch size, with at least
  // two threads (a server batches requests as they come): no error when both
  // run (or when the float model does not run at the other batch size either),
  // else the engine's error and, when one layer's int8 kernel is what failed,
  // that layer's key. Default: a format whose runtime is not ours to check.
  struct BatchChangeFailure {
    std::string error;
    std::string layer;
    bool at_reference_batch = false;  // it failed before the batch changed
  };
  virtual BatchChangeFailure batch_change_failure(const Artifact& artifact, const quant_support::Batch& reference) {
    (void)artifact, (void)reference;
    return {};
  }
  // Quantized kernels (or what says the compute type) -> count, for the report.
  virtual std::vector<std::pair<std::string, int64_t>> op_counts(const Artifact& artifact) = 0;
  // Latency float vs quantized: median ms of `iters` timed runs on `inputs`
  // after `warmup` untimed ones (artifact nullptr: the float model).
  virtual bool times_latency() const { return false; }
  virtual double latency_ms(const Artifact* artifact, const quant_support::Batch& inputs, int iters, int warmup) {
    (void)artifact, (void)inputs, (void)iters, (void)warmup;
    return 0;
  }
  // Writes `artifact` to `path` and fills the result's output, format and sizes.
  virtual void write(const Artifact& artifact, const std::string& path, const quant_support::QuantizeData& data,
                     const std::vector<std::string>& float_layers, QuantizeResult& result) = 0;
};

struct QatModel;

// The two back ends; each sets the result's engine (and format when known).
// `qat` (static mode): the model trained with fake quantization; the float
// model stays the reference the artifact is measured against.
std::unique_ptr<Backend> torchscript_backend(const QuantizeOptions& options, const GlobalOptions& globals,
                                             QuantizeResult& result, const QatModel* qat = nullptr);
std::unique_ptr<Backend> onnx_backend(const QuantizeOptions& options, const GlobalOptions& globals,
                                      QuantizeResult& result, const QatModel* qat = nullptr);

}  // namespace mlopt::quant
