#include "mlopt/registry/publish_run.h"

#include "mlopt/pipeline/reports.h"

using nlohmann::json;

namespace mlopt::registry {

void check_publish_config(const pipeline::PipelineConfig& config) {
  const json as_json = pipeline::yaml_to_json(config.root);
  baseline_data_set(as_json, publish_section(as_json, config.source.file));
}

PublishResult publish_run(const pipeline::PipelineConfig& config, const std::string& out_dir, const std::string& repo) {
  const json as_json = pipeline::yaml_to_json(config.root);
  const PublishSection section = publish_section(as_json, config.source.file);
  PublishRequest request;
  request.release = out_dir;
  request.repo = repo;
  request.model = section.model;
  request.artifact = section.artifact;
  request.monitor = section.monitor;
  const std::string set = baseline_data_set(as_json, section);
  if (!set.empty()) {
    const auto& data = config.datasets.at(set);
    request.data_options = data_options_of(pipeline::yaml_to_json(data.options), "data." + set);
    request.data = data.path;  // resolved against the pipeline file's folder
  }
  return publish_release(request);
}

}  // namespace mlopt::registry
