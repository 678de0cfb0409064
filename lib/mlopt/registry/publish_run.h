#pragma once
// `mlopt run PIPELINE --publish REPO`: the finished release folder becomes the
// repository's next version, with the pipeline's `publish:` section (model
// name, served artifact, baseline data set, drift thresholds).
#include <string>

#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/registry/publish.h"

namespace mlopt::registry {

// Checks the `publish:` section (before the run, so a typo costs nothing).
void check_publish_config(const pipeline::PipelineConfig& config);

PublishResult publish_run(const pipeline::PipelineConfig& config, const std::string& out_dir, const std::string& repo);

}  // namespace mlopt::registry
